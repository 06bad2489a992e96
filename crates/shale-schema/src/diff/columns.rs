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
    // One type with other modifiers (`timestamptz` to `timestamp(6) with time zone`, `numeric(10,2)`
    // to `numeric(12,2)`): an assignment converts it, and where nothing changes (a precision kept
    // or grown) PostgreSQL rewrites nothing, where a USING through text rewrote the table
    // (MikroORM trial); bits excepted, which an assignment takes only of the same length.
    let base = |t: &str| without_modifiers(t.trim_end_matches("[]"));
    if base(old) == base(new) && old.ends_with("[]") == new.ends_with("[]") && type_family(&base(new)) != Some("bits") {
        return None;
    }
    Some(if conversion_through_text(old, new) { format!("{col}::text::{new}") } else { format!("{col}::{new}") })
}

/// `new` has a length (`character varying(20)`, `character(2)`, `bit(8)`, their arrays): an
/// explicit cast would cut longer values to it, where an assignment fails on them. Any type is
/// assigned to a string (PostgreSQL's I/O conversion); only bits to bits.
pub(super) fn shortens_in_silence(old: &str, new: &str) -> bool {
    let (old_base, new_base) = (old.trim_end_matches("[]"), new.trim_end_matches("[]"));
    let family = type_family(new_base);
    let limited = new_base.contains('(') && matches!(family, Some("string" | "bits"));
    // Bits only to `bit varying(n)` shortened: a fixed `bit(8)` takes a string of another length
    // only as a cast pads or cuts it (review: `bit(4)` to `bit(8)` without USING failed).
    let bits_shortened =
        new_base.starts_with("bit varying") && type_family(old_base) == family && shorter(old_base, new_base);
    limited && (family == Some("string") || bits_shortened) && old.ends_with("[]") == new.ends_with("[]")
}

/// `new`'s length is below `old`'s (or `old` has none).
fn shorter(old: &str, new: &str) -> bool {
    let length = |t: &str| modifiers(t).and_then(|m| m.first().copied());
    length(new).is_some_and(|n| length(old).is_none_or(|o| n < o))
}

/// A type's modifiers: `numeric(10,2)` has 10 and 2, `timestamp(3) without time zone` 3.
fn modifiers(t: &str) -> Option<Vec<u64>> {
    let inside = t.split_once('(')?.1.split_once(')')?.0;
    inside.split(',').map(|p| p.trim().parse().ok()).collect()
}

/// The type without its modifiers: `timestamp(3) without time zone` is `timestamp without time
/// zone`.
fn without_modifiers(t: &str) -> String {
    match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if open < close => format!("{}{}", &t[..open], &t[close + 1..]).trim().to_string(),
        _ => t.trim().to_string(),
    }
}

/// From `old` to `new`, a value already there may not fit: a string or bits made shorter (a
/// length below the old one, or below none).
pub(super) fn shortens(old: &str, new: &str) -> bool {
    let (old_base, new_base) = (old.trim_end_matches("[]"), new.trim_end_matches("[]"));
    let old_sized = matches!(type_family(old_base), Some("string" | "bits"));
    shortens_in_silence(old, new) && shorter(if old_sized { old_base } else { "text" }, new_base)
}

/// From `old` to `new`, values already there are rounded: a numeric of fewer digits after the
/// point, a time of fewer fractional digits, `double precision` to `real`.
pub(super) fn rounds(old: &str, new: &str) -> bool {
    let (old, new) = (old.trim_end_matches("[]"), new.trim_end_matches("[]"));
    let temporal = |t: &str| {
        let b = without_modifiers(t);
        b.starts_with("timestamp") || b.starts_with("time ") || b == "time" || b == "interval"
    };
    match (without_modifiers(old).as_str(), without_modifiers(new).as_str()) {
        ("double precision", "real") => true,
        // A fixed bit string made shorter: the cast cuts every value (round 4: `bit(8)` to
        // `bit(4)` cut 10101111 to 1010).
        ("bit" | "bit varying", "bit") => new.contains('(') && shorter(old, new),
        ("numeric", "numeric") => match (modifiers(old), modifiers(new)) {
            (None, Some(n)) => n.get(1).copied().unwrap_or(0) < 1000,
            (Some(o), Some(n)) => n.get(1).copied().unwrap_or(0) < o.get(1).copied().unwrap_or(0),
            _ => false,
        },
        (b, n) if b == n && temporal(old) => {
            // timestamp(6) is the most there is; `timestamp(0) with time zone` keeps its
            // precision between the name's words.
            let digits = |t: &str| modifiers(t).and_then(|m| m.first().copied()).unwrap_or(6);
            digits(new) < digits(old)
        }
        _ => false,
    }
}

/// From `old` to another family or kind of number, what the conversion loses of the values
/// already there, where it loses some in silence (none where it fails instead, as `bigint` to
/// `integer` does on a value too big): fractions to a whole number, digits to a floating point
/// number too short for them, the time of day to a date.
pub(super) fn loses(old: &str, new: &str) -> Option<&'static str> {
    let (old_type, new_type) = (old.trim_end_matches("[]"), new.trim_end_matches("[]"));
    let (old, new) = (without_modifiers(old_type), without_modifiers(new_type));
    let whole = |t: &str| matches!(t, "smallint" | "integer" | "bigint");
    let fractional = |t: &str| matches!(t, "numeric" | "real" | "double precision");
    // A numeric's declared digits and digits after the point (review: `numeric(10,0)` has no
    // fractions to lose, and 5 digits fit a real).
    let (digits, scale) = match modifiers(old_type).as_deref() {
        Some([p, s]) => (Some(*p), *s),
        Some([p]) => (Some(*p), 0),
        _ => (None, u64::MAX),
    };
    // real holds 6 significant digits, double precision 15.
    let too_many = |most: u64| old != "numeric" || digits.is_none_or(|p| p > most);
    Some(match (old.as_str(), new.as_str()) {
        ("numeric", n) if whole(n) && scale == 0 => return None,
        (o, n) if fractional(o) && whole(n) => "rounds the values already there to whole numbers",
        ("numeric" | "bigint" | "integer", "real") if too_many(6) => {
            "rounds the values already there to the digits a floating point number holds"
        }
        ("numeric" | "bigint", "double precision") if too_many(15) => {
            "rounds the values already there to the digits a floating point number holds"
        }
        ("timestamp without time zone" | "timestamp with time zone", "date") => {
            "drops the time of day from the values already there"
        }
        _ => return None,
    })
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
        assert_eq!(conversion("b", "bit varying", "bit varying(8)"), None);
        assert_eq!(conversion("m", "character varying(20)", "text").as_deref(), Some("m::text"));
        // Any type is assigned to a string (I/O conversion), which fails on a longer value.
        assert_eq!(conversion("n", "integer", "character varying(5)"), None);
        // A bit string made longer is padded by the cast, which an assignment refuses.
        assert_eq!(conversion("b", "bit(4)", "bit(8)").as_deref(), Some("b::bit(8)"));
        // One type with other modifiers: assigned, where nothing need be rewritten (MikroORM trial:
        // `USING at::text::timestamp(6) with time zone` rewrote the table).
        assert_eq!(conversion("at", "timestamp with time zone", "timestamp(6) with time zone"), None);
        assert_eq!(conversion("n", "numeric(10,2)", "numeric(12,2)"), None);
        assert!(conversion("n", "integer", "bigint").is_some());
    }

    #[test]
    fn what_shortens_and_what_rounds() {
        assert!(shortens("text", "character varying(20)"));
        assert!(shortens("character varying(100)", "character varying(20)"));
        assert!(!shortens("character varying(20)", "character varying(100)"), "a widening cannot fail");
        assert!(!shortens("character(5)", "character(10)"));
        assert!(shortens("integer", "character varying(5)"));
        assert!(rounds("numeric(10,2)", "numeric(10,0)"));
        assert!(rounds("numeric", "numeric(12,2)"));
        assert!(!rounds("numeric(10,2)", "numeric(12,2)"));
        assert!(rounds("double precision", "real"));
        assert!(rounds("timestamp(6) without time zone", "timestamp(0) without time zone"));
        assert!(rounds("timestamp without time zone", "timestamp(3) without time zone"));
        assert!(!rounds("timestamp(0) without time zone", "timestamp without time zone"));
        assert!(!rounds("integer", "bigint"));
        assert!(rounds("bit(8)", "bit(4)") && rounds("bit varying(8)", "bit(4)") && !rounds("bit(4)", "bit(8)"));
        // Across kinds: fractions, digits and the time of day lost; a value too big fails instead.
        assert!(loses("numeric(10,2)", "integer").is_some() && loses("double precision", "bigint").is_some());
        assert!(loses("bigint", "real").is_some() && loses("numeric", "double precision").is_some());
        assert!(loses("timestamp(3) with time zone", "date").is_some() && loses("numeric[]", "integer[]").is_some());
        assert!(loses("bigint", "integer").is_none() && loses("integer", "bigint").is_none());
        assert!(
            loses("integer", "double precision").is_none() && loses("date", "timestamp without time zone").is_none()
        );
        assert!(loses("numeric(10,0)", "bigint").is_none() && loses("numeric(5,0)", "real").is_none());
        assert!(loses("numeric(7,2)", "real").is_some() && loses("numeric(12,2)", "double precision").is_none());
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
