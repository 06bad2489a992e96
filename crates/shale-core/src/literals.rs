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

#[cfg(test)]
mod tests {
    use super::used_as_a_value;

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
