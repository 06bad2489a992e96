//! `DROP INDEX` without `CONCURRENTLY`.

use pg_query::protobuf::{DropBehavior, ObjectType};
use pg_query::NodeEnum;

use super::{object_names, on, Hit, Rule};
use crate::fix::{Refusal, Rewrite, Target};
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "drop-index-non-concurrently",
    Warning,
    Lock,
    "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: even reads wait behind it",
    "DROP INDEX CONCURRENTLY",
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::DropStmt(s) = node else { return };
    if ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) != ObjectType::ObjectIndex || s.concurrent {
        return;
    }
    for (n, index) in object_names(&s.objects).iter().enumerate() {
        let table = context.index_table(index).unwrap_or_default();
        let state = if table.is_empty() { TableState::Existing } else { context.table_state(&table) };
        let on_table = if table.is_empty() { String::new() } else { format!(" on {table}") };
        hits.push(on(&RULE, &table, state, format!("DROP INDEX {index}{on_table} without CONCURRENTLY")).command(n));
    }
}

/// `DROP INDEX` -> `DROP INDEX CONCURRENTLY`, the file outside a transaction.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    let NodeEnum::DropStmt(s) = t.node else { return Err("not a DROP INDEX".into()) };
    if s.objects.len() > 1 {
        return Err(Refusal::until_changed(
            "DROP INDEX CONCURRENTLY drops one index: give each index a DROP INDEX of its own",
        ));
    }
    if DropBehavior::try_from(s.behavior).unwrap_or(DropBehavior::Undefined) == DropBehavior::DropCascade {
        return Err("DROP INDEX CONCURRENTLY cannot CASCADE: drop what depends on the index first".into());
    }
    let index = (0..t.tokens.len()).find(|&i| t.is(i, "INDEX")).ok_or("no INDEX keyword")?;
    let word = t.cased(t.tokens[index].range.clone(), " CONCURRENTLY");
    Ok(Rewrite {
        edits: vec![t.insert_after(index, &word)],
        description: "drops the index CONCURRENTLY: reads and writes go on while it waits for them".into(),
        outside_transaction: true,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::rules;

    const RULE: &str = "drop-index-non-concurrently";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(RULE, "DROP INDEX IF EXISTS app.users_email RESTRICT;\n").unwrap(),
            "-- shale:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS app.users_email RESTRICT;\n"
        );
        // The file already runs outside a transaction (for CREATE INDEX CONCURRENTLY): no directive.
        assert_eq!(
            fixed(RULE, "drop index users_email; -- replaced\ncreate index concurrently users_email2 on users (lower(email));\n")
                .unwrap(),
            "drop index concurrently users_email; -- replaced\ncreate index concurrently users_email2 on users (lower(email));\n"
        );
    }

    #[test]
    fn must_not_fix() {
        assert!(refused(RULE, "DROP INDEX a, b;").contains("drops one index"));
        assert!(refused(RULE, "DROP INDEX a CASCADE;").contains("cannot CASCADE"));
        assert!(refused(RULE, "DROP INDEX a;\nDROP TABLE legacy;").contains("it drops something"));
    }

    #[test]
    fn without_concurrently() {
        assert_eq!(rules("DROP INDEX i;"), ["drop-index-non-concurrently"]);
        assert!(rules("DROP INDEX CONCURRENTLY i;").is_empty());
        // An index made in this run on a new table.
        assert!(rules("CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\nDROP INDEX i;").is_empty());
    }
}
