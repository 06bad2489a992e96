//! char(n).

use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!("no-char", Warning, Always, "char(n) pads with spaces and compares surprisingly", "text");

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for col in defined_columns(node) {
        if type_name(col) == "bpchar" {
            hits.push(hit(&RULE, format!("column {} is char(n)", col.colname)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn blank_padded_char() {
        assert_eq!(rules("CREATE TABLE t (code char(2));"), ["no-char"]);
        assert!(rules("CREATE TABLE t (code text);").is_empty());
    }
}
