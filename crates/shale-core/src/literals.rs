//! Where a string literal stands in a statement: what the linter asks of a label an enum gains.

use crate::tokens::{Token, Tokens};

/// Calls whose arguments are read as the statement's own values (a list, a row, a choice among
/// values), not as a function's parameters.
const NOT_FUNCTIONS: &[&str] =
    &["VALUES", "IN", "ANY", "ALL", "ARRAY", "ROW", "COALESCE", "NULLIF", "GREATEST", "LEAST"];

/// Whether `value` stands in `text` (one statement) as a string literal read as the statement's
/// own value: a column's, a cast's, a list's. One passed to a function (`has_perm('b')`) is read as
/// its parameter's type, which the text does not say, and is not counted, but where it is cast
/// (`f('b'::perm)`) (breadth trial: a Supabase project's 47 warnings for labels passed to a
/// function taking text).
///
/// Nor is one compared with text: listed after `x::text IN` or after `x::text =` (the fourth
/// sweep's lakekeeper checks an enum column's labels as `operation::text IN (...)`).
pub fn used_as_a_value(text: &str, value: &str) -> bool {
    // Each open parenthesis: the token before it, and whether it opens a list compared with text.
    let mut openers: Vec<(Option<Token>, bool)> = Vec::new();
    // The last tokens, the newest last: what a literal or a list is compared with.
    let mut recent: Vec<Token> = Vec::new();
    let mut tokens = Tokens::new(text).peekable();
    while let Some((token, _)) = tokens.next() {
        match &token {
            Token::Punct('(') => {
                let in_list_of_text = matches!(recent.last(), Some(Token::Word(w)) if w == "IN")
                    && cast_to_text(&recent[..recent.len() - 1]);
                openers.push((recent.last().cloned(), in_list_of_text));
            }
            Token::Punct(')') => {
                openers.pop();
            }
            Token::Str(s) if s == value => {
                let cast = matches!(tokens.peek(), Some((Token::Punct(':'), _)));
                let compared_with_text =
                    matches!(recent.last(), Some(Token::Punct('='))) && cast_to_text(&recent[..recent.len() - 1]);
                let (in_call, in_list_of_text) = match openers.last() {
                    Some((Some(Token::Word(w)), listed)) => (!NOT_FUNCTIONS.contains(&w.as_str()), *listed),
                    Some((Some(Token::Quoted(_)), _)) => (true, false),
                    _ => (false, false),
                };
                if cast || !(in_call || in_list_of_text || compared_with_text) {
                    return true;
                }
            }
            _ => {}
        }
        recent.push(token);
        if recent.len() > 4 {
            recent.remove(0);
        }
    }
    false
}

/// Whether `tokens` end with a cast to a text type (`::text`, `::varchar`, `::name`).
fn cast_to_text(tokens: &[Token]) -> bool {
    match tokens {
        [.., Token::Punct(':'), Token::Punct(':'), Token::Word(w)] => {
            matches!(w.as_str(), "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" | "CHAR")
        }
        _ => false,
    }
}

/// Whether `text` creates a function or procedure whose body PostgreSQL does not read when it
/// creates it (PL/pgSQL, any language but SQL): a literal in it is used when the body runs, in a
/// transaction of its own (re-check: a Supabase project's plpgsql bodies were warned about).
pub fn creates_a_routine_read_later(text: &str) -> bool {
    let words: Vec<Token> = Tokens::new(text).take(6).map(|(t, _)| t).collect();
    let word = |i: usize| match words.get(i) {
        Some(Token::Word(w)) => w.as_str(),
        _ => "",
    };
    let at = if word(1) == "OR" && word(2) == "REPLACE" { 3 } else { 1 };
    if word(0) != "CREATE" || !matches!(word(at), "FUNCTION" | "PROCEDURE") {
        return false;
    }
    let mut tokens = Tokens::new(text);
    while let Some((token, _)) = tokens.next() {
        if token == Token::Word("LANGUAGE".into()) {
            return match tokens.next() {
                Some((Token::Word(language) | Token::Str(language), _)) => !language.eq_ignore_ascii_case("sql"),
                _ => false,
            };
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{creates_a_routine_read_later, used_as_a_value};

    #[test]
    fn routines_whose_bodies_are_read_when_they_run() {
        assert!(creates_a_routine_read_later(
            "CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 'b'; END $$"
        ));
        assert!(creates_a_routine_read_later("create function f() returns void as $$ select 1 $$ language 'plpgsql'"));
        assert!(!creates_a_routine_read_later("CREATE FUNCTION f() RETURNS text LANGUAGE sql RETURN 'b'"));
        assert!(!creates_a_routine_read_later("CREATE VIEW v AS SELECT 'b'"));
    }

    #[test]
    fn a_literal_passed_to_a_function_is_its_parameter_s() {
        assert!(!used_as_a_value("CREATE VIEW v AS SELECT 1 WHERE public.has_perm(id, 'b')", "b"));
        assert!(!used_as_a_value("SELECT \"hasPerm\"('b')", "b"));
        // Cast, listed, assigned, compared, a default: the statement's own.
        assert!(used_as_a_value("SELECT f('b'::perm)", "b"));
        assert!(used_as_a_value("INSERT INTO t (p) VALUES ('a'), ('b')", "b"));
        assert!(used_as_a_value("UPDATE t SET p = 'b' WHERE p IN ('a', 'c')", "b"));
        assert!(used_as_a_value("SELECT * FROM t WHERE p IN ('a', 'b')", "b"));
        assert!(used_as_a_value("ALTER TABLE t ALTER COLUMN p SET DEFAULT 'b'", "b"));
        assert!(used_as_a_value("UPDATE t SET ps = ARRAY['b']::perm[]", "b"));
        assert!(used_as_a_value("UPDATE t SET p = coalesce(p, 'b')", "b"));
        assert!(!used_as_a_value("SELECT 'c'", "b"));
        // Compared with text: text, not the enum's.
        assert!(!used_as_a_value("ALTER TABLE t ADD CHECK (p::text IN ('a', 'b'))", "b"));
        assert!(!used_as_a_value("SELECT 1 FROM t WHERE p::varchar = 'b'", "b"));
        assert!(used_as_a_value("ALTER TABLE t ADD CHECK (p IN ('a', 'b'))", "b"));
        assert!(used_as_a_value("SELECT 1 FROM t WHERE p::text = 'a' OR p = 'b'", "b"));
    }
}
