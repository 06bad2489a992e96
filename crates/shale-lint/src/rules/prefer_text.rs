//! Blank-padded char(n) (and the one-byte `"char"`), and varchar(n).

use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::fix::{Edit, Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-text",
    Warning,
    Always,
    "char(n) pads values with spaces (which comparisons then ignore or not, depending on the operator), \"char\" keeps one byte and drops the rest silently, and varchar(n) gains nothing over text while raising n later needs an ALTER",
    "text, with a CHECK (char_length(col) <= n) if the limit matters",
    formerly: ["no-char"],
    fixer: fix
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
        hits.push(hit(&RULE, format!("column {} is {what}", col.colname)).at(col.location));
    }
}

/// `char(n)`, `"char"`, `varchar(n)` -> `text CHECK (char_length(col) <= n)` (the limit kept); `bpchar`
/// with no limit -> `text`. In CREATE TABLE only: on a table that exists, the new CHECK would be
/// checked against every row.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    if !matches!(t.node, NodeEnum::CreateStmt(_)) {
        return Err("in ADD COLUMN the CHECK that keeps the length limit would be checked against every row of the \
                    table: change the type by hand"
            .into());
    }
    let col = t.column().ok_or("the column is not in the statement")?;
    let ty = col.type_name.as_ref().ok_or("the column has no type")?;
    if !ty.array_bounds.is_empty() {
        return Err("an array: a CHECK on each element's length needs writing by hand".into());
    }
    let limit = match type_name(col).as_str() {
        "char" => Some(1),
        _ => ty.typmods.first().and_then(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match c.val.as_ref() {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival),
                _ => None,
            },
            _ => None,
        }),
    };
    let range = t.type_range(col).ok_or("the column's type is not in the statement")?;
    let column = shale_core::ident::ident(&col.colname);
    let mut text = t.cased(range.clone(), "TEXT");
    let mut description = format!("{} becomes text", col.colname);
    if let Some(n) = limit {
        text.push_str(&format!(" {} (char_length({column}) <= {n})", t.cased(range.clone(), "CHECK")));
        description.push_str(&format!(", its limit kept by CHECK (char_length({column}) <= {n})"));
    }
    if type_name(col) == "bpchar" {
        description.push_str("; values are no longer padded with spaces");
    }
    Ok(Rewrite { edits: vec![Edit { range, text }], description, outside_transaction: false })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::rules;

    const RULE: &str = "prefer-text";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(
                RULE,
                "create table t (\n  country char(2) not null, -- ISO\n  flag \"char\",\n  name character varying(50) collate \"C\",\n  code bpchar,\n  \"Note\" national character(10)\n);"
            )
            .unwrap(),
            "create table t (\n  country text check (char_length(country) <= 2) not null, -- ISO\n  flag text check (char_length(flag) <= 1),\n  name text check (char_length(name) <= 50) collate \"C\",\n  code text,\n  \"Note\" text check (char_length(\"Note\") <= 10)\n);"
        );
    }

    #[test]
    fn must_not_fix() {
        assert!(refused(RULE, "ALTER TABLE users ADD COLUMN country char(2);").contains("every row"));
        assert!(refused(RULE, "CREATE TABLE t (codes char(2)[]);").contains("array"));
    }

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
