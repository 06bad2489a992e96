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
    // A partitioned table refuses USING INDEX (partitioned tables trial: the advice could not
    // be followed).
    let advice = context.is_partitioned(&table).then(|| ON_A_PARTITIONED_TABLE.to_string());
    for _ in added.into_iter().filter(|k| k.indexname.is_empty()) {
        let message = format!("adds a UNIQUE/PRIMARY KEY constraint to {table} without USING INDEX");
        hits.push(on(&RULE, &table, context.table_state(&table), message).advising(advice.clone()));
    }
}

/// The safe way on a partitioned table: its partitions' constraints (not plain unique indexes)
/// are taken over by the partitioned table's, whose index is then built on none of them.
const ON_A_PARTITIONED_TABLE: &str = "on a partitioned table, which refuses USING INDEX and whose key must include \
     the partition key's columns: on each partition, CREATE UNIQUE INDEX CONCURRENTLY over those columns, then ADD \
     CONSTRAINT ... UNIQUE USING INDEX; then ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) on the partitioned table, \
     which takes the partitions' constraints over instead of building their indexes again; that last ADD needs \
     `-- shale:allow add-unique-without-index -- its partitions hold it` above it, since lint cannot see that they \
     do";

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn unique_without_an_index_built_first() {
        assert_eq!(rules("ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);"), ["add-unique-without-index"]);
        assert!(rules("ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_email;").is_empty());
    }

    /// A partitioned table refuses USING INDEX: the way by its partitions.
    #[test]
    fn partitioned_tables_are_advised_by_their_partitions() {
        let findings = crate::tests::findings_after_applied(
            "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);\n",
            "ALTER TABLE events ADD CONSTRAINT events_id UNIQUE (id, at);\n",
            None,
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].fix.contains("refuses USING INDEX") && findings[0].advised_here);
    }
}
