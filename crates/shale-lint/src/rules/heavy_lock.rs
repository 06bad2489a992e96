//! VACUUM FULL, CLUSTER and LOCK TABLE: long-held strong locks.

use pg_query::NodeEnum;

use super::{hit, on, Hit, Rule};
use crate::effect::{is_vacuum_full, locked_table, relation_name};
use crate::Context;

pub static RULE: Rule = rule!(
    "heavy-lock",
    Warning,
    Lock,
    "VACUUM FULL, CLUSTER and LOCK TABLE hold ACCESS EXCLUSIVE (or an explicit lock) for as long as they run",
    "use pg_repack or plain VACUUM; avoid explicit LOCK TABLE in migrations"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    match node {
        NodeEnum::ClusterStmt(s) => {
            let table = s.relation.as_ref().map(relation_name).unwrap_or_default();
            let state = context.table_state(&table);
            hits.push(on(&RULE, &table, state, "CLUSTER rewrites the table under ACCESS EXCLUSIVE".into()))
        }
        NodeEnum::LockStmt(s) => {
            let table = locked_table(s);
            let state = context.table_state(&table);
            hits.push(on(&RULE, &table, state, "LOCK TABLE in a migration".into()))
        }
        NodeEnum::VacuumStmt(s) if is_vacuum_full(s) => {
            hits.push(hit(&RULE, "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE".into()))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn long_held_locks() {
        assert_eq!(rules("VACUUM FULL users;"), ["heavy-lock"]);
        assert!(rules("VACUUM users;").is_empty());
        assert_eq!(rules("CLUSTER users USING users_pkey;"), ["heavy-lock"]);
        assert_eq!(rules("LOCK TABLE users;"), ["heavy-lock"]);
    }
}
