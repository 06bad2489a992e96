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
pub fn used_as_a_value(text: &str, value: &str) -> bool {
    let mut openers: Vec<Option<Token>> = Vec::new();
    let mut previous: Option<Token> = None;
    let mut tokens = Tokens::new(text).peekable();
    while let Some((token, _)) = tokens.next() {
        match &token {
            Token::Punct('(') => openers.push(previous.take()),
            Token::Punct(')') => {
                openers.pop();
            }
            Token::Str(s) if s == value => {
                let cast = matches!(tokens.peek(), Some((Token::Punct(':'), _)));
                let in_call = match openers.last() {
                    Some(Some(Token::Word(w))) => !NOT_FUNCTIONS.contains(&w.as_str()),
                    Some(Some(Token::Quoted(_))) => true,
                    _ => false,
                };
                if cast || !in_call {
                    return true;
                }
            }
            _ => {}
        }
        previous = Some(token);
    }
    false
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
    }
}
