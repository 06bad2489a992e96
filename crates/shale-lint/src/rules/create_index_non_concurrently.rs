//! `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use pg_query::NodeEnum;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::Context;

pub static RULE: Rule = rule!(
    "create-index-non-concurrently",
    Error,
    Lock,
    "CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits",
    "CREATE INDEX CONCURRENTLY (shale runs such a migration outside a transaction by itself)"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::IndexStmt(s) = node else { return };
    let Some(r) = &s.relation else { return };
    if s.concurrent {
        return;
    }
    let table = relation_name(r);
    let state = context.table_state(&table);
    hits.push(on(&RULE, &table, state, format!("CREATE INDEX on existing table {table} without CONCURRENTLY")));
}

#[cfg(test)]
mod tests {
    use crate::tests::{rules, rules_after};

    #[test]
    fn on_existing_tables_only() {
        assert_eq!(rules("CREATE INDEX i ON users (email);"), ["create-index-non-concurrently"]);
        assert!(rules("CREATE INDEX CONCURRENTLY i ON users (email);").is_empty());
        // A table created in this run (same file or an earlier pending one) is new and empty.
        assert!(rules("CREATE TABLE t (id bigint);\nCREATE INDEX i ON t (id);").is_empty());
        assert!(rules_after("CREATE TABLE app.t (id bigint);", "CREATE INDEX i ON app.t (id);").is_empty());
    }
}
