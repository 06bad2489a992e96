//! `.env` files read as python-dotenv reads them, the reader FastAPI and Django applications
//! load their settings with (Node's dotenv agrees but for `${NAME}`, which it leaves as written):
//!
//! - `KEY=value`, `export KEY=value`; blank lines and `# comments` are passed over;
//! - an unquoted value runs to the end of its line, a `#` after white space starting a comment; it
//!   is taken as written (no escapes: `a\$b` is `a\$b`);
//! - `'single'` and `"double"` quoted values may span lines; in single quotes `\\` and `\'` are
//!   escapes, in double quotes also `\"`, `\n`, `\t`, `\r`, `\a`, `\b`, `\f` and `\v`; any other
//!   backslash is kept;
//! - `${NAME}` and `${NAME:-default}` take the value of `NAME` (from the environment, else an earlier
//!   line of the file; empty, or the default, where neither has it), in any value; a `$` that opens
//!   no `${` is a `$`.
//!
//! Written here rather than taken from a crate: dotenvy, read before, expanded `$NAME` (a generated
//! password `Ab#Cd$Ef!x` lost `$Ef`, and the login was refused as a wrong password), knew no
//! `${NAME:-default}`, and refused `"tab\there"`, which the application itself reads.
//!
//! What does not read: a line that is no assignment (a `.env` holding YAML), or a quoted value with
//! more than a comment after it, is passed over, its number kept for a warning, as python-dotenv
//! passes it over; a quote left open stops the reading at its line (it may be the database's URL).
//! No line's text is ever kept in a message: it may hold a password.

/// What a `.env` file holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dotenv {
    /// The assignments, in the file's order, their values expanded.
    pub entries: Vec<(String, String)>,
    /// The numbers (1-based) of the lines passed over as no assignment.
    pub passed_over: Vec<usize>,
}

/// The number (1-based) of the line where a quoted value opens and is never closed.
#[derive(Debug, PartialEq, Eq)]
pub struct Unclosed(pub usize);

/// Read `text`; `environment` gives a variable's value from the process's environment, which wins
/// over the file's in `${NAME}` (as `load_dotenv` has it, where the environment's value is the
/// one the application then sees).
pub fn parse(text: &str, environment: impl Fn(&str) -> Option<String>) -> Result<Dotenv, Unclosed> {
    // Read as text, lines ending in CRLF as in LF (python-dotenv's universal newlines).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    let text = text.as_str();
    let mut read = Dotenv::default();
    let mut at = 0;
    while at < text.len() {
        let line_number = text[..at].matches('\n').count() + 1;
        let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
        let line = &text[at..line_end];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            at = line_end + 1;
            continue;
        }
        let Some((key, value_at)) = assignment_start(text, at, line_end) else {
            read.passed_over.push(line_number);
            at = line_end + 1;
            continue;
        };
        // (A statement ends where its value does: a quoted one may span lines.)
        let (raw, end) = value(text, value_at, line_number)?;
        match raw {
            Some(raw) => {
                let value = expand(&raw, &read.entries, &environment);
                read.entries.push((key, value));
            }
            None => read.passed_over.push(line_number),
        }
        at = end + 1;
    }
    Ok(read)
}

/// The key of the assignment starting at `at` and where its value starts, or None where the line
/// is no `KEY=...` (python-dotenv's key: anything but `=`, `#`, quotes and white space).
fn assignment_start(text: &str, at: usize, line_end: usize) -> Option<(String, usize)> {
    let line = &text[at..line_end];
    let start = line.len() - line.trim_start().len();
    let mut rest = &line[start..];
    if let Some(after) = rest.strip_prefix("export").filter(|a| a.starts_with([' ', '\t'])) {
        rest = after.trim_start();
    }
    let key_len = rest.find(|c: char| c == '=' || c == '#' || c.is_whitespace() || c == '\'' || c == '"')?;
    let key = &rest[..key_len];
    let after_key = rest[key_len..].trim_start_matches([' ', '\t']);
    let value = after_key.strip_prefix('=')?;
    if key.is_empty() {
        return None;
    }
    let value = value.trim_start_matches([' ', '\t']);
    Some((key.to_string(), line_end - value.len()))
}

/// The value starting at `at` (on line `line_number`), unexpanded (None where a quoted value has
/// more than a comment after it), and where its statement ends (the end of its last line).
fn value(text: &str, at: usize, line_number: usize) -> Result<(Option<String>, usize), Unclosed> {
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |n| from + n);
    let quote = match text[at..].chars().next() {
        Some(q @ ('\'' | '"')) => q,
        _ => {
            // Unquoted: to the end of the line, a comment after white space cut off.
            let end = line_end(at);
            let raw = text[at..end].trim_end_matches('\r');
            // (As python-dotenv has it, a `#` right after the `=` is the value's; after a space, a
            // comment's.)
            let spaced = text[..at].ends_with([' ', '\t']);
            let comment = |i: usize| if i == 0 { spaced } else { raw[..i].ends_with([' ', '\t']) };
            let raw = match raw.char_indices().find(|&(i, c)| c == '#' && comment(i)) {
                Some((i, _)) => &raw[..i],
                None => raw,
            };
            return Ok((Some(raw.trim_end().to_string()), end));
        }
    };
    // Quoted: to the first quote of its kind that is not escaped (a backslash escapes the character
    // after it, a backslash too: `"a\\"` is closed by its last quote, as python-dotenv reads it).
    let body_at = at + 1;
    let mut close = None;
    let mut escaped = false;
    for (i, c) in text[body_at..].char_indices() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, c) if c == quote => {
                close = Some(body_at + i);
                break;
            }
            _ => escaped = false,
        }
    }
    let Some(close) = close else { return Err(Unclosed(line_number)) };
    let end = line_end(close);
    let after = text[close + 1..end].trim_end_matches('\r').trim_start_matches([' ', '\t']);
    if !after.is_empty() && !after.starts_with('#') {
        return Ok((None, end));
    }
    Ok((Some(unescape(&text[body_at..close], quote)), end))
}

/// A quoted value's escapes decoded, as python-dotenv decodes them.
fn unescape(body: &str, quote: char) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        let Some(&next) = chars.peek().filter(|_| c == '\\') else {
            out.push(c);
            continue;
        };
        let decoded = match (quote, next) {
            (_, '\\') => Some('\\'),
            (_, '\'') => Some('\''),
            ('"', '"') => Some('"'),
            ('"', 'n') => Some('\n'),
            ('"', 't') => Some('\t'),
            ('"', 'r') => Some('\r'),
            ('"', 'a') => Some('\u{7}'),
            ('"', 'b') => Some('\u{8}'),
            ('"', 'f') => Some('\u{c}'),
            ('"', 'v') => Some('\u{b}'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                out.push(d);
                chars.next();
            }
            None => out.push(c),
        }
    }
    out
}

/// `raw` with each `${NAME}` and `${NAME:-default}` replaced by the value of `NAME`: the
/// environment's, else the file's so far, else the default (or nothing).
fn expand(raw: &str, so_far: &[(String, String)], environment: &impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find("${") {
        let Some(close) = rest[open..].find('}').map(|n| open + n) else { break };
        let inner = &rest[open + 2..close];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner, None),
        };
        // (python-dotenv's name: anything but `}` and `:`; a `:` without `-` is no expansion.)
        if name.contains(':') {
            out.push_str(&rest[..open + 2]);
            rest = &rest[open + 2..];
            continue;
        }
        let value = environment(name)
            .or_else(|| so_far.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .or_else(|| default.map(str::to_string))
            .unwrap_or_default();
        out.push_str(&rest[..open]);
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Dotenv {
        let environment = |name: &str| match name {
            "FROM_ENV" => Some("env".to_string()),
            _ => None,
        };
        parse(text, environment).unwrap()
    }

    fn value_of(text: &str) -> String {
        let read = read(text);
        assert_eq!(read.entries.len(), 1, "{text:?}: {read:?}");
        read.entries[0].1.clone()
    }

    /// Each as python-dotenv 1.2 reads it (the re-check compared 62 lines with it).
    #[test]
    fn values_read_as_python_dotenv_reads_them() {
        let cases: &[(&str, &str)] = &[
            ("K=Ab#Cd$Ef!x", "Ab#Cd$Ef!x"),
            ("K=\"Ab#Cd$Ef!x\"", "Ab#Cd$Ef!x"),
            ("K='x$y'", "x$y"),
            ("K=two words here # a comment", "two words here"),
            ("K=v#not-a-comment", "v#not-a-comment"),
            ("K=", ""),
            ("K= # only a comment", ""),
            ("K=#startshash", "#startshash"),
            ("export K=exported", "exported"),
            ("K = spaced", "spaced"),
            ("K=a\\$b", "a\\$b"),
            ("K=\"a\\$b\"", "a\\$b"),
            ("K=back\\\\slash", "back\\\\slash"),
            ("K=\"back\\\\slash\"", "back\\slash"),
            ("K=\"tab\\there\"", "tab\there"),
            ("K='it\\'s'", "it's"),
            ("K=\"say \\\"hi\\\"\"", "say \"hi\""),
            ("K=\"\\u00e9\"", "\\u00e9"),
            ("K=\"quoted\" # comment", "quoted"),
            ("K=${FROM_ENV}", "env"),
            ("K=${UNSET:-dflt}", "dflt"),
            ("K=\"${UNSET:-dflt}\"", "dflt"),
            ("K=${FROM_ENV:-no}", "env"),
            ("K=${UNSET}", ""),
            ("K=${UNSET:-${FROM_ENV}}", "${FROM_ENV}"),
            ("K=$", "$"),
            ("K=$$", "$$"),
            ("K=${", "${"),
            ("K='${FROM_ENV}'", "env"),
            ("K=unquoted \"partial\" quote", "unquoted \"partial\" quote"),
            ("K=value\r", "value"),
        ];
        for (line, expected) in cases {
            assert_eq!(value_of(line), *expected, "{line}");
        }
    }

    #[test]
    fn earlier_lines_expand_and_quotes_span_lines() {
        let read = read("A=\"Ab#Cd$Ef!x\"\nB=${A}/z\nCERT=\"-----BEGIN\nNOT_A_KEY=inside\n-----END\"\nC=after\n");
        let values: Vec<(&str, &str)> = read.entries.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            values,
            [
                ("A", "Ab#Cd$Ef!x"),
                ("B", "Ab#Cd$Ef!x/z"),
                ("CERT", "-----BEGIN\nNOT_A_KEY=inside\n-----END"),
                ("C", "after")
            ]
        );
    }

    /// The review's cases: a value ending in an escaped backslash is closed; a quoted value spanning
    /// lines with more after it is passed over whole, its inner lines not read as assignments.
    #[test]
    fn escaped_backslashes_close_and_a_statement_ends_where_its_value_does() {
        let closed = read("P='pa\\\\'\nA=\"x\\\\\"\nDATABASE_URL=postgres://h/db\n");
        let values: Vec<(&str, &str)> = closed.entries.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(values, [("P", "pa\\"), ("A", "x\\"), ("DATABASE_URL", "postgres://h/db")]);
        let spanning = read("CERT=\"-----BEGIN\nDATABASE_URL=postgres://evil\n-----END\" junk\nGOOD=1\n");
        assert_eq!(spanning.entries, [("GOOD".to_string(), "1".to_string())]);
        assert_eq!(spanning.passed_over, [1]);
    }

    #[test]
    fn what_is_no_assignment_is_passed_over_and_an_open_quote_stops() {
        let read = read("spring:\n  datasource: x\n\"trailing\"garbage\nK=\"ok\"junk\n=nokey\nGOOD=1\n");
        assert_eq!(read.passed_over, [1, 2, 3, 4, 5]);
        assert_eq!(read.entries, [("GOOD".to_string(), "1".to_string())]);
        assert_eq!(parse("A=1\nURL=\"postgres://x\nB=2\n", |_| None), Err(Unclosed(2)));
        assert_eq!(value_of("\u{feff}K=bom"), "bom");
    }
}
