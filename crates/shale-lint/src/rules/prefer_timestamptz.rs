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
            hits.push(hit(&RULE, format!("column {} is timestamp without time zone", col.colname)));
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
}
