//! `DROP INDEX` without `CONCURRENTLY`.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{object_names, on, Hit, Rule};
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "drop-index-non-concurrently",
    Warning,
    Lock,
    "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: even reads wait behind it",
    "DROP INDEX CONCURRENTLY"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::DropStmt(s) = node else { return };
    if ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) != ObjectType::ObjectIndex || s.concurrent {
        return;
    }
    for index in &object_names(&s.objects) {
        let table = context.index_table(index).unwrap_or_default();
        let state = if table.is_empty() { TableState::Existing } else { context.table_state(&table) };
        let on_table = if table.is_empty() { String::new() } else { format!(" on {table}") };
        hits.push(on(&RULE, &table, state, format!("DROP INDEX {index}{on_table} without CONCURRENTLY")));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn without_concurrently() {
        assert_eq!(rules("DROP INDEX i;"), ["drop-index-non-concurrently"]);
        assert!(rules("DROP INDEX CONCURRENTLY i;").is_empty());
        // An index made in this run on a new table.
        assert!(rules("CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\nDROP INDEX i;").is_empty());
    }
}
