//! Column type changes: whether one rewrites the table, how a value converts, and what a reviewer
//! should know about an added column.

use crate::model::Column;

/// Changes PostgreSQL makes without rewriting the table: a longer or unbounded varchar, varchar
/// to text, a wider or unbounded numeric precision with the same scale.
pub(super) fn type_change_rewrites(old: &str, new: &str) -> bool {
    let args = |t: &str, base: &str| -> Option<Vec<u32>> {
        let rest = t.strip_prefix(base)?;
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    for base in ["character varying", "varbit", "bit varying"] {
        if let (Some(a), Some(b)) = (args(old, base), args(new, base)) {
            return !(b.is_empty() || (!a.is_empty() && b[0] >= a[0]));
        }
    }
    if args(old, "character varying").is_some() && new == "text" {
        return false;
    }
    if let (Some(a), Some(b)) = (args(old, "numeric"), args(new, "numeric")) {
        return !(b.is_empty() || (a.len() == 2 && b.len() == 2 && b[1] == a[1] && b[0] >= a[0]));
    }
    old != new
}

/// The families whose members cast to one another directly; between families (or to and from
/// anything unknown) the value goes through its text form, which every type reads and writes.
fn type_family(t: &str) -> Option<&'static str> {
    let base = t.split('(').next().unwrap_or(t).trim();
    Some(match base {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => "number",
        "text" | "character varying" | "character" | "name" | "citext" => "string",
        "timestamp without time zone" | "timestamp with time zone" | "date" => "time",
        "json" | "jsonb" => "json",
        "bit" | "bit varying" => "bits",
        "inet" | "cidr" => "network",
        _ => return None,
    })
}

pub(super) fn conversion_through_text(old: &str, new: &str) -> bool {
    let string = |t: &str| type_family(t) == Some("string");
    !(string(old) || string(new) || old.ends_with("[]") || new.ends_with("[]"))
        && (type_family(old).is_none() || type_family(old) != type_family(new))
}

/// The USING expression that converts column `col` from `old` to `new`; None where the column
/// is converted as an assignment converts it, without one: from a string to a string of limited
/// length (or bits to bits), where an explicit cast cuts a longer value short in silence and an
/// assignment fails on it (FastAPI trial: `USING m::character varying(20)` cut the rows to 20
/// characters, and nothing said so).
pub(super) fn conversion(col: &str, old: &str, new: &str) -> Option<String> {
    if shortens_in_silence(old, new) {
        return None;
    }
    Some(if conversion_through_text(old, new) { format!("{col}::text::{new}") } else { format!("{col}::{new}") })
}

/// `new` has a length (`character varying(20)`, `character(2)`, `bit(8)`, their arrays), and
/// `old` is of its family: an explicit cast would cut longer values to it.
pub(super) fn shortens_in_silence(old: &str, new: &str) -> bool {
    let (old_base, new_base) = (old.trim_end_matches("[]"), new.trim_end_matches("[]"));
    let limited = new_base.contains('(') && matches!(type_family(new_base), Some("string" | "bits"));
    limited && type_family(old_base) == type_family(new_base) && old.ends_with("[]") == new.ends_with("[]")
}

pub(super) fn add_column_note(c: &Column) -> Option<String> {
    let volatile = ["nextval(", "random(", "gen_random_uuid(", "uuid_generate", "clock_timestamp("];
    if c.generated.is_some() {
        return Some(format!("{}: a stored generated column rewrites the table", c.name));
    }
    if let Some(d) = &c.default {
        if volatile.iter().any(|v| d.contains(v)) {
            return Some(format!("{}: a volatile default rewrites the table", c.name));
        }
    }
    if c.not_null && c.default.is_none() && c.identity.is_none() {
        return Some(format!("{}: NOT NULL without a default fails if the table has rows", c.name));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_shortened_is_converted_as_an_assignment_which_fails_on_longer_values() {
        assert_eq!(conversion("m", "text", "character varying(20)"), None);
        assert_eq!(conversion("m", "character varying(100)", "character(2)"), None);
        assert_eq!(conversion("m", "text[]", "character varying(20)[]"), None);
        assert_eq!(conversion("b", "bit varying", "bit(8)"), None);
        assert_eq!(conversion("m", "character varying(20)", "text").as_deref(), Some("m::text"));
        assert_eq!(conversion("n", "integer", "character varying(5)").as_deref(), Some("n::character varying(5)"));
    }

    #[test]
    fn widening_a_varchar_or_numeric_does_not_rewrite() {
        assert!(!type_change_rewrites("character varying(10)", "character varying(20)"));
        assert!(!type_change_rewrites("character varying(10)", "character varying"));
        assert!(!type_change_rewrites("character varying(10)", "text"));
        assert!(!type_change_rewrites("numeric(10,2)", "numeric(12,2)"));
        assert!(!type_change_rewrites("numeric(10,2)", "numeric"));
        assert!(type_change_rewrites("character varying(20)", "character varying(10)"));
        assert!(type_change_rewrites("numeric(10,2)", "numeric(12,3)"));
        assert!(type_change_rewrites("integer", "bigint"));
        assert!(type_change_rewrites("text", "jsonb"));
    }
}
