//! Blank-padded char(n) (and the one-byte `"char"`), and varchar(n).

use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-text",
    Warning,
    Always,
    "char(n) pads values with spaces (which comparisons then ignore or not, depending on the operator), \"char\" keeps one byte and drops the rest silently, and varchar(n) gains nothing over text while raising n later needs an ALTER",
    "text, with a CHECK (char_length(col) <= n) if the limit matters",
    formerly: ["no-char"]
);

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for col in defined_columns(node) {
        let Some(t) = &col.type_name else { continue };
        let what = match type_name(col).as_str() {
            "bpchar" => "char(n)",
            // Only the quoted spelling reaches the parser as `char`: bare char is bpchar.
            "char" => "\"char\"",
            "varchar" if !t.typmods.is_empty() => "varchar(n)",
            _ => continue,
        };
        hits.push(hit(&RULE, format!("column {} is {what}", col.colname)));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn must_flag() {
        for sql in [
            "CREATE TABLE t (code char(2));",
            "CREATE TABLE t (code character(2));",
            "CREATE TABLE t (code char);",
            "CREATE TABLE t (code bpchar);",
            "CREATE TABLE t (code nchar(3));",
            "CREATE TABLE t (flag \"char\");",
            "CREATE TABLE t (name varchar(50));",
            "CREATE TABLE t (name character varying(50));",
            "ALTER TABLE users ADD COLUMN country char(2);",
        ] {
            assert_eq!(rules(sql), ["prefer-text"], "{sql}");
        }
    }

    #[test]
    fn must_pass() {
        for sql in ["CREATE TABLE t (code text);", "CREATE TABLE t (name varchar, body text, c citext);"] {
            assert!(rules(sql).is_empty(), "{sql}: {:?}", rules(sql));
        }
    }
}
