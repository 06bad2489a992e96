//! timestamp without time zone.

use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-timestamptz",
    Warning,
    Always,
    "timestamp without time zone loses the offset: the same instant reads differently across servers and clients",
    "timestamptz"
);

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for col in defined_columns(node) {
        if type_name(col) == "timestamp" {
            hits.push(hit(&RULE, format!("column {} is timestamp without time zone", col.colname)).at(col.location));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn timestamp_without_time_zone() {
        assert_eq!(rules("CREATE TABLE t (at timestamp);"), ["prefer-timestamptz"]);
        assert_eq!(rules("ALTER TABLE users ADD COLUMN seen timestamp without time zone;"), ["prefer-timestamptz"]);
        assert!(rules("CREATE TABLE t (at timestamptz, b timestamp with time zone);").is_empty());
    }

    /// Shown where the column is written, not at the start of its CREATE TABLE.
    #[test]
    fn the_finding_is_where_the_column_is() {
        let s = crate::tests::script("001.sql", "CREATE TABLE t (\n  id int,\n  at timestamp\n);");
        let found: Vec<_> = crate::lint([&s]).findings.iter().map(|f| (f.rule, f.line, f.column)).collect();
        assert_eq!(found, [("prefer-timestamptz", 3, 3)]);
    }
}
