//! varchar(n).

use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-text",
    Info,
    Always,
    "varchar(n) gains nothing over text in PostgreSQL, and raising n later needs an ALTER",
    "text, with a CHECK (length(col) <= n) if the limit matters"
);

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for col in defined_columns(node) {
        if type_name(col) == "varchar" && col.type_name.as_ref().is_some_and(|t| !t.typmods.is_empty()) {
            hits.push(hit(&RULE, format!("column {} is varchar(n)", col.colname)))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn varchar_with_a_limit() {
        assert_eq!(rules("CREATE TABLE t (name varchar(50));"), ["prefer-text"]);
        assert!(rules("CREATE TABLE t (name varchar, body text);").is_empty());
    }
}
