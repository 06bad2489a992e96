//! `ADD COLUMN ... NOT NULL` without a default: fails on a table with rows.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::add_column_volatile_default::{default_of, is_serial};
use super::{added_columns, on, Hit, Rule};
use crate::effect::{constraint_type, relation_name};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-column-not-null-without-default",
    Error,
    Data,
    "adding a NOT NULL column without a default fails as soon as the table has a row",
    "add it nullable (or with a constant default), backfill, then add a NOT VALID check, validate it, and set NOT NULL"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, columns)) = added_columns(node) else { return };
    let table = relation_name(r);
    let state = context.table_state(&table);
    for col in columns {
        let not_null = col.is_not_null
            || col.constraints.iter().any(|n| {
                matches!(n.node.as_ref(), Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrNotnull)
            });
        // A serial column has its sequence's values for a default.
        if not_null && default_of(col).is_none() && !is_serial(col) {
            hits.push(on(
                &RULE,
                &table,
                state,
                format!("adds NOT NULL column {} to {table} without a default", col.colname),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn not_null_without_default() {
        assert_eq!(rules("ALTER TABLE users ADD COLUMN n int NOT NULL;"), ["add-column-not-null-without-default"]);
        assert!(rules("ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0;").is_empty());
        assert!(rules("ALTER TABLE users ADD COLUMN n int;").is_empty());
        assert!(rules("CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN n int NOT NULL;").is_empty());
    }
}
