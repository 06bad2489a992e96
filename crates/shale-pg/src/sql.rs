//! The one place that quotes literals for SQL that shale sends itself (identifiers: in
//! `shale_core::ident`, always quoted there for this SQL).
//! Everything goes through the simple-query protocol (one round trip, no prepare), so values are
//! inlined as literals; these helpers make that safe whatever `standard_conforming_strings` says.

/// An escape-string literal: valid whether or not backslashes are escapes by default.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    out.push_str("E'");
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub fn literal_or_null(value: Option<&str>) -> String {
    value.map(quote_literal).unwrap_or_else(|| "NULL".into())
}

/// `read` run with the search_path `listed` (SQL, as `SET search_path` takes it) where given, in a
/// transaction of its own so that the setting stays there: the search_path each migration sets,
/// which a pooler dropping startup options would not give the session.
pub fn read_with_search_path(listed: Option<&str>, read: &str) -> String {
    match listed {
        Some(path) => format!("BEGIN; SET LOCAL search_path = {path}; {read}; COMMIT"),
        None => read.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_literal("it's a \\ test"), "E'it''s a \\\\ test'");
        assert_eq!(literal_or_null(None), "NULL");
    }
}
