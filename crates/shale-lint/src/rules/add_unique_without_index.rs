//! `ADD UNIQUE` / `ADD PRIMARY KEY` without `USING INDEX`: the index is built under ACCESS
//! EXCLUSIVE.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_constraints, on, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-unique-without-index",
    Error,
    Lock,
    "adding a UNIQUE or PRIMARY KEY constraint builds its index under ACCESS EXCLUSIVE",
    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let keys = |t| matches!(t, ConstrType::ConstrUnique | ConstrType::ConstrPrimary);
    let Some((table, added)) = added_constraints(node, keys) else { return };
    for _ in added.into_iter().filter(|k| k.indexname.is_empty()) {
        let message = format!("adds a UNIQUE/PRIMARY KEY constraint to {table} without USING INDEX");
        hits.push(on(&RULE, &table, context.table_state(&table), message));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn unique_without_an_index_built_first() {
        assert_eq!(rules("ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);"), ["add-unique-without-index"]);
        assert!(rules("ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_email;").is_empty());
    }
}
