//! One spelling for expressions PostgreSQL deparses two ways.
//!
//! `CHECK (col IN ('a', 'b'))` on a varchar column is stored as
//! `(col)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])`, but
//! loading that text back stores `... ANY (ARRAY[('a'::character varying)::text, ...])`: same
//! meaning, different text, so a dump would not round-trip and a diff would never come out empty.
//! The second form is stable, so the first is rewritten into it.

/// Rewrite every definition of `schema` that may carry such an expression.
pub fn apply(schema: &mut crate::model::Schema) {
    let fix = |text: &mut String| {
        if text.contains("(ARRAY[") {
            *text = canonical_expression(text);
        }
    };
    schema.constraints.iter_mut().for_each(|c| fix(&mut c.definition));
    schema.indexes.iter_mut().for_each(|i| fix(&mut i.definition));
    schema.views.iter_mut().for_each(|v| fix(&mut v.definition));
    for c in schema.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
        c.default.iter_mut().chain(c.generated.iter_mut()).for_each(fix);
    }
    schema.domains.iter_mut().flat_map(|d| d.checks.iter_mut()).for_each(|c| fix(&mut c.definition));
    for p in &mut schema.policies {
        p.using.iter_mut().chain(p.with_check.iter_mut()).for_each(fix);
    }
}

/// `(ARRAY[e1, e2])::T[]` → `ARRAY[(e1)::T, (e2)::T]` wherever every element is a cast literal.
pub fn canonical_expression(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(ARRAY[") {
        out.push_str(&rest[..at]);
        match rewrite_array_cast(&rest[at..]) {
            Some((rewritten, used)) => {
                out.push_str(&rewritten);
                rest = &rest[at + used..];
            }
            None => {
                out.push_str("(ARRAY[");
                rest = &rest[at + "(ARRAY[".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// At `(ARRAY[...])::T[]`: the rewritten text and how many bytes it replaces.
fn rewrite_array_cast(text: &str) -> Option<(String, usize)> {
    let inner_start = "(ARRAY[".len();
    let elements = split_top_level(&text[inner_start..])?;
    let close = inner_start + elements.iter().map(|e| e.len()).sum::<usize>() + elements.len().saturating_sub(1);
    let after = text[close..].strip_prefix("])::")?;
    let type_end = after.find("[]")?;
    let element_type = &after[..type_end];
    if element_type.is_empty() || element_type.contains(['\'', ',', '[', ']']) {
        return None;
    }
    let is_cast_literal = |e: &str| {
        let e = e.trim();
        e.starts_with('\'') && e.rsplit_once("'::").is_some_and(|(_, t)| !t.contains('\''))
    };
    if elements.is_empty() || !elements.iter().all(|e| is_cast_literal(e)) {
        return None;
    }
    let parts: Vec<String> = elements.iter().map(|e| format!("({})::{element_type}", e.trim())).collect();
    let used = close + "])::".len() + type_end + "[]".len();
    Some((format!("ARRAY[{}]", parts.join(", ")), used))
}

/// The comma-separated items before the `]` that closes the array, each as written (leading
/// spaces included), or None when the brackets do not close.
fn split_top_level(text: &str) -> Option<Vec<&str>> {
    let mut items = Vec::new();
    let (mut depth, mut start, mut in_quote) = (0usize, 0usize, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            _ if in_quote => {}
            '(' | '[' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ']' if depth == 0 => {
                items.push(&text[start..i]);
                return Some(items);
            }
            ']' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// A column default as it is compared: `now()` and `transaction_timestamp()` are
/// `CURRENT_TIMESTAMP`, the same function under three names, which PostgreSQL keeps as written
/// (FastAPI trial: SQLAlchemy models' `func.now()` against Alembic's `text("CURRENT_TIMESTAMP")`
/// made 72 of 106 differences, and `diff` a `SET DEFAULT` each, with their locks). Outside string
/// literals and not part of a longer name.
pub fn comparable_default(text: &str) -> std::borrow::Cow<'_, str> {
    // `timezone('utc'::text, now())` is `(now() AT TIME ZONE 'utc'::text)`, which PostgreSQL keeps
    // as written too (FastAPI re-check: SQLAlchemy's `func.timezone('utc', func.now())` against a
    // migration's `now() AT TIME ZONE 'utc'`).
    if let Some(at_zone) = timezone_call(text) {
        return std::borrow::Cow::Owned(comparable_default(&at_zone).into_owned());
    }
    if !text.contains("now()") && !text.contains("transaction_timestamp()") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_literal = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            in_literal = !in_literal;
        }
        let word_before = out.chars().last().is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.' || p == '"');
        if !in_literal && !word_before {
            if let Some(name) = ["now()", "transaction_timestamp()"].into_iter().find(|n| rest.starts_with(n)) {
                out.push_str("CURRENT_TIMESTAMP");
                rest = &rest[name.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// A default that is the whole call `timezone(ZONE, TIME)`, as `(TIME AT TIME ZONE ZONE)`.
fn timezone_call(text: &str) -> Option<String> {
    let inner = text.strip_prefix("timezone(")?.strip_suffix(')')?;
    let (mut depth, mut in_quote, mut comma) = (0i32, false, None);
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            _ if in_quote => {}
            '(' => depth += 1,
            ')' if depth == 0 => return None,
            ')' => depth -= 1,
            ',' if depth == 0 && comma.is_none() => comma = Some(i),
            ',' if depth == 0 => return None,
            _ => {}
        }
    }
    let at = comma?;
    (depth == 0 && !in_quote).then(|| format!("({} AT TIME ZONE {})", inner[at + 1..].trim(), inner[..at].trim()))
}

/// Whether two column defaults mean the same ([`comparable_default`]).
pub fn same_default(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => comparable_default(a) == comparable_default(b),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_time_under_its_three_names_is_one_default() {
        assert!(same_default(Some("now()"), Some("CURRENT_TIMESTAMP")));
        assert!(same_default(Some("timezone('utc'::text, now())"), Some("timezone('utc'::text, CURRENT_TIMESTAMP)")));
        assert!(same_default(Some("transaction_timestamp()"), Some("now()")));
        assert!(!same_default(Some("'now()'::text"), Some("'CURRENT_TIMESTAMP'::text")), "a literal is itself");
        assert!(!same_default(Some("my_now()"), Some("my_CURRENT_TIMESTAMP")));
        assert!(!same_default(Some("statement_timestamp()"), Some("now()")), "another time");
        assert!(!same_default(Some("now()"), None));
        assert!(same_default(Some("timezone('utc'::text, now())"), Some("(now() AT TIME ZONE 'utc'::text)")));
        assert!(same_default(
            Some("timezone('utc'::text, CURRENT_TIMESTAMP)"),
            Some("(transaction_timestamp() AT TIME ZONE 'utc'::text)")
        ));
        assert!(!same_default(Some("timezone('utc'::text, now())"), Some("(now() AT TIME ZONE 'UTC'::text)")));
        assert!(!same_default(
            Some("timezone(a, b) + timezone(c, d)"),
            Some("(b AT TIME ZONE a) + (d AT TIME ZONE c)")
        ));
    }

    #[test]
    fn a_varchar_in_list_takes_the_stable_spelling() {
        let stored =
            "CHECK (((level)::text = ANY ((ARRAY['a'::character varying, 'b, c'::character varying])::text[])))";
        let stable =
            "CHECK (((level)::text = ANY (ARRAY[('a'::character varying)::text, ('b, c'::character varying)::text])))";
        assert_eq!(canonical_expression(stored), stable);
        assert_eq!(canonical_expression(stable), stable);
        let quoted = "(ARRAY['it''s]'::character varying])::text[]";
        assert_eq!(canonical_expression(quoted), "ARRAY[('it''s]'::character varying)::text]");
    }

    #[test]
    fn other_arrays_are_left_alone() {
        for text in ["CHECK ((n = ANY (ARRAY[1, 2])))", "CHECK ((x = ANY ((ARRAY[a, b])::text[])))", "(ARRAY['x'"] {
            assert_eq!(canonical_expression(text), text);
        }
    }
}
