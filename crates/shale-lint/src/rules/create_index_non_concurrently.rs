//! `CREATE INDEX` without `CONCURRENTLY` on an existing table.

use pg_query::NodeEnum;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::fix::{Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "create-index-non-concurrently",
    Error,
    Lock,
    "CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits",
    "CREATE INDEX CONCURRENTLY (shale runs such a migration outside a transaction by itself)",
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::IndexStmt(s) = node else { return };
    let Some(r) = &s.relation else { return };
    let table = relation_name(r);
    // A partitioned table cannot have its index built CONCURRENTLY: its own rule says what can
    // (and `ON ONLY` it builds nothing).
    if s.concurrent || context.is_partitioned(&table) {
        return;
    }
    let state = context.table_state(&table);
    hits.push(on(&RULE, &table, state, format!("CREATE INDEX on existing table {table} without CONCURRENTLY")));
}

/// `CREATE INDEX` -> `CREATE INDEX CONCURRENTLY`, the file outside a transaction.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    let NodeEnum::IndexStmt(s) = t.node else { return Err("not a CREATE INDEX".into()) };
    if s.relation.as_ref().is_some_and(|r| !r.inh) {
        return Err("CREATE INDEX ON ONLY (the index of a partitioned table itself) cannot be built CONCURRENTLY: \
                    build each partition's index concurrently, then ALTER INDEX ... ATTACH PARTITION them"
            .into());
    }
    let index = (0..t.tokens.len()).find(|&i| t.is(i, "INDEX")).ok_or("no INDEX keyword")?;
    let word = t.cased(t.tokens[index].range.clone(), " CONCURRENTLY");
    Ok(Rewrite {
        edits: vec![t.insert_after(index, &word)],
        description: "builds the index CONCURRENTLY: writes to the table go on during the build".into(),
        outside_transaction: true,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::{rules, rules_after};

    const RULE: &str = "create-index-non-concurrently";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(RULE, "CREATE INDEX users_email ON users (email);\n").unwrap(),
            "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n"
        );
        // The rest of the file keeps its bytes; the keyword follows the statement's case.
        assert_eq!(
            fixed(RULE, "-- Lookups by email.\ncreate unique /* ! */ index if not exists \"Idx\" on app.users using btree (lower(email)) where deleted_at is null; -- hot\n\n").unwrap(),
            "-- shale:no-transaction\n-- Lookups by email.\ncreate unique /* ! */ index concurrently if not exists \"Idx\" on app.users using btree (lower(email)) where deleted_at is null; -- hot\n\n"
        );
        // Two indexes, one file: both, and one directive.
        assert_eq!(
            fixed(RULE, "CREATE INDEX a ON t (a);\nCREATE INDEX b ON t (b)").unwrap(),
            "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (a);\nCREATE INDEX CONCURRENTLY b ON t (b)"
        );
        // Already outside a transaction: no second directive.
        assert_eq!(
            fixed(RULE, "-- shale:no-transaction\nCREATE INDEX a ON t (a);\n").unwrap(),
            "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY a ON t (a);\n"
        );
    }

    #[test]
    fn must_not_fix() {
        assert!(refused(RULE, "CREATE INDEX i ON ONLY measurements (at);").contains("ON ONLY"));
        let why = refused(RULE, "-- shale:no-transaction\nBEGIN;\nCREATE INDEX i ON t (a);\nCOMMIT;\n");
        assert!(why.contains("inside the file's own BEGIN ... COMMIT"), "{why}");
        let why = refused(RULE, "ALTER TABLE t RENAME COLUMN a TO b;\nCREATE INDEX i ON t (b);\n");
        assert!(why.contains("(`ALTER TABLE t RENAME COLUMN a TO b`) must stay in one: it renames something"), "{why}");
        // Allowed in the file: left as it is.
        let s = crate::tests::script(
            "1.sql",
            "-- shale:allow create-index-non-concurrently -- tiny table\nCREATE INDEX i ON t (a);\n",
        );
        let report = crate::lint([&s]);
        let result = crate::fix(&s, &report.findings, &Default::default());
        assert!(!result.changed() && result.refused.is_empty());
    }

    #[test]
    fn on_existing_tables_only() {
        assert_eq!(rules("CREATE INDEX i ON users (email);"), ["create-index-non-concurrently"]);
        assert!(rules("CREATE INDEX CONCURRENTLY i ON users (email);").is_empty());
        // A table created in this run (same file or an earlier pending one) is new and empty.
        assert!(rules("CREATE TABLE t (id bigint);\nCREATE INDEX i ON t (id);").is_empty());
        assert!(rules_after("CREATE TABLE app.t (id bigint);", "CREATE INDEX i ON app.t (id);").is_empty());
    }
}
