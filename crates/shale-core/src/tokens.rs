//! A light tokenizer for one statement's text: bare words (uppercased), quoted identifiers,
//! string literals and punctuation, comments skipped. Enough to read names out of the few
//! statement shapes shale needs to understand without the full parser (which lives in
//! shale-lint); dollar-quoted bodies come out as punctuation and words.

/// A token of the statement: a bare word (uppercased), a quoted identifier (as written), a string
/// literal's value, or one punctuation character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Word(String),
    Quoted(String),
    Str(String),
    Punct(char),
}

pub(crate) fn tokens(text: &str) -> Vec<(Token, std::ops::Range<usize>)> {
    Tokens::new(text).collect()
}

/// The tokens of `text` that say its shape: those of a long text (see
/// [`crate::split::LONG_STATEMENT`]) but the rows after the first of its `VALUES` lists. For the
/// readers of what a statement locks, creates or names, which its first row says (a seed's INSERT
/// of a million rows took 12 bytes of tokens per byte of text); never for comparing texts or
/// checking their content (review: a changed row was taken for a change in comments only).
pub(crate) fn shape_tokens(text: &str) -> Vec<(Token, std::ops::Range<usize>)> {
    let mut later_rows = match text.len() > crate::split::LONG_STATEMENT {
        true => crate::split::later_rows(text),
        false => Vec::new(),
    };
    later_rows.reverse();
    Tokens { later_rows, ..Tokens::new(text) }.collect()
}

/// The statement's first token, when it is a bare word (uppercased): what kind of statement it is,
/// told without tokenizing the rest.
pub(crate) fn first_word(text: &str) -> Option<String> {
    match Tokens::new(text).next() {
        Some((Token::Word(w), _)) => Some(w),
        _ => None,
    }
}

/// The tokens of `text` one at a time: a caller that needs the first words only (does this
/// statement lock a table?) does not tokenize a seed's INSERT of a million rows.
pub(crate) struct Tokens<'a> {
    text: &'a str,
    at: usize,
    /// Stretches passed over, the next one last.
    later_rows: Vec<std::ops::Range<usize>>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(text: &'a str) -> Tokens<'a> {
        Tokens { text, at: 0, later_rows: Vec::new() }
    }
}

impl Iterator for Tokens<'_> {
    type Item = (Token, std::ops::Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let b = text.as_bytes();
        while let Some(rows) = self.later_rows.last().filter(|rows| rows.start <= self.at) {
            self.at = self.at.max(rows.end);
            self.later_rows.pop();
        }
        let mut i = self.at;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if text[i..].starts_with("--") {
                i = text[i..].find('\n').map_or(b.len(), |n| i + n);
            } else if text[i..].starts_with("/*") {
                i = text[i..].find("*/").map_or(b.len(), |n| i + n + 2);
            } else {
                break;
            }
        }
        if i >= b.len() {
            self.at = i;
            return None;
        }
        let c = b[i];
        let start = i;
        let token = if c == b'"' {
            i += 1;
            while i < b.len() {
                if b[i] == b'"' && b.get(i + 1) == Some(&b'"') {
                    i += 2;
                } else if b[i] == b'"' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            Token::Quoted(text[start..i].to_string())
        } else if c == b'\'' || ((c == b'E' || c == b'e') && b.get(i + 1) == Some(&b'\'')) {
            let escapes = c != b'\'';
            i += if escapes { 2 } else { 1 };
            let mut value = String::new();
            while i < b.len() {
                let ch = text[i..].chars().next().unwrap_or('\0');
                if ch == '\'' && b.get(i + 1) == Some(&b'\'') {
                    value.push('\'');
                    i += 2;
                } else if ch == '\'' {
                    i += 1;
                    break;
                } else if escapes && ch == '\\' && i + 1 < b.len() {
                    let next = text[i + 1..].chars().next().unwrap_or('\0');
                    value.push(next);
                    i += 1 + next.len_utf8();
                } else {
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
            Token::Str(value)
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            Token::Word(text[start..i].to_ascii_uppercase())
        } else {
            let ch = text[i..].chars().next().unwrap_or('\0');
            i += ch.len_utf8();
            Token::Punct(ch)
        };
        self.at = i;
        Some((token, start..i))
    }
}

/// The names that qualify another in `text` (`billing` in `billing.invoices`): the schemas a
/// statement may name, lowercased unless quoted. Table and column qualifiers come too (a caller
/// looking for schemas finds no schema of that name).
pub(crate) fn qualifiers(text: &str) -> Vec<String> {
    shape_tokens(text)
        .windows(2)
        .filter_map(|pair| match (&pair[0].0, &pair[1].0) {
            (name, Token::Punct('.')) => catalog_form(name),
            _ => None,
        })
        .collect()
}

/// An identifier token as the catalog spells it: a bare word lowercased, a quoted one as written
/// between its quotes.
pub(crate) fn catalog_form(token: &Token) -> Option<String> {
    match token {
        Token::Word(word) => Some(word.to_ascii_lowercase()),
        Token::Quoted(quoted) => Some(quoted[1..quoted.len() - 1].replace("\"\"", "\"")),
        _ => None,
    }
}

/// A possibly qualified name starting at token `at` (`schema.table`, quoted parts as written):
/// its text as written and the index of the token after it.
pub(crate) fn name_at(text: &str, toks: &[(Token, std::ops::Range<usize>)], at: usize) -> Option<(String, usize)> {
    let mut i = at;
    let start = toks.get(i)?.1.start;
    let mut end;
    loop {
        match toks.get(i) {
            Some((Token::Word(_) | Token::Quoted(_), span)) => end = span.end,
            _ => return None,
        }
        i += 1;
        if matches!(toks.get(i), Some((Token::Punct('.'), _))) {
            i += 1;
        } else {
            break;
        }
    }
    Some((text[start..end].to_string(), i))
}

/// The tables `text` creates (`CREATE [UNLOGGED|TEMP] TABLE [IF NOT EXISTS] [schema.]name`), each
/// with its schema where the statement names one, lowercased unless quoted.
pub(crate) fn created_table_names(text: &str) -> Vec<TableName> {
    tables_created(text, true).into_iter().map(|(_, name, _)| name).collect()
}

/// The tables `text` creates for good (not TEMP), each with its schema where the statement names one.
pub(crate) fn permanent_tables_created(text: &str) -> Vec<TableName> {
    tables_created(text, true).into_iter().filter(|(_, _, temporary)| !temporary).map(|(_, name, _)| name).collect()
}

/// The temporary tables `text` creates (`CREATE [LOCAL|GLOBAL] TEMP[ORARY] TABLE ...`): each
/// name lowercased unless quoted.
pub(crate) fn temporary_tables_created(text: &str) -> Vec<String> {
    tables_created(text, true)
        .into_iter()
        .filter(|(_, _, temporary)| *temporary)
        .map(|(_, (_, name), _)| name)
        .collect()
}

/// A table's name as a statement writes it: its schema when it names one, and its own name, each
/// lowercased unless quoted.
pub(crate) type TableName = (Option<String>, String);

/// The tables `text` creates expecting them not to be there: not `IF NOT EXISTS`, not a
/// temporary table (which a permanent one of its name never stands in the way of), not one the
/// text drops before (`DROP TABLE IF EXISTS t; CREATE TABLE t`, the same schema named).
pub(crate) fn created_tables_expected_absent(text: &str) -> Vec<TableName> {
    let dropped = dropped_tables(text);
    tables_created(text, false)
        .into_iter()
        .filter(|(at, name, _)| !dropped.iter().any(|(before, gone)| before < at && gone == name))
        .map(|(_, name, _)| name)
        .collect()
}

/// The name starting at token `at` (`[schema.]name`) and the index of the token after it.
fn table_name_at(text: &str, toks: &[(Token, std::ops::Range<usize>)], at: usize) -> Option<(TableName, usize)> {
    let (_, after) = name_at(text, toks, at)?;
    let name = catalog_form(&toks[after - 1].0)?;
    let schema = (after - at == 3).then(|| catalog_form(&toks[at].0)).flatten();
    Some(((schema, name), after))
}

/// The tables `text` drops (`DROP TABLE [IF EXISTS] a, b`), each with the index of its token.
fn dropped_tables(text: &str) -> Vec<(usize, TableName)> {
    let toks = shape_tokens(text);
    let word = |i: usize, w: &str| matches!(toks.get(i), Some((Token::Word(x), _)) if x == w);
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if !(word(i, "DROP") && word(i + 1, "TABLE")) {
            continue;
        }
        let mut at = i + 2;
        if word(at, "IF") && word(at + 1, "EXISTS") {
            at += 2;
        }
        while let Some((name, after)) = table_name_at(text, &toks, at) {
            out.push((i, name));
            if !matches!(toks.get(after), Some((Token::Punct(','), _))) {
                break;
            }
            at = after + 1;
        }
    }
    out
}

/// The tables `text` creates, each with the index of its `CREATE` token and whether it is
/// temporary.
fn tables_created(text: &str, expected_present_too: bool) -> Vec<(usize, TableName, bool)> {
    let toks = shape_tokens(text);
    let word = |i: usize, w: &str| matches!(toks.get(i), Some((Token::Word(x), _)) if x == w);
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if !word(i, "CREATE") {
            continue;
        }
        let mut at = i + 1;
        let mut temporary = false;
        while ["UNLOGGED", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL"].iter().any(|w| word(at, w)) {
            temporary |= word(at, "TEMP") || word(at, "TEMPORARY");
            at += 1;
        }
        if temporary && !expected_present_too {
            continue;
        }
        if !word(at, "TABLE") {
            continue;
        }
        at += 1;
        if word(at, "IF") && word(at + 1, "NOT") && word(at + 2, "EXISTS") {
            if !expected_present_too {
                continue;
            }
            at += 3;
        }
        if let Some((name, _)) = table_name_at(text, &toks, at) {
            out.push((i, name, temporary));
        }
    }
    out
}

#[cfg(test)]
mod long_statement_tests {
    use super::{shape_tokens, tokens, Token};

    #[test]
    fn a_long_inserts_later_rows_are_not_tokenized() {
        let rows: Vec<String> = (0..crate::split::LONG_STATEMENT / 8).map(|i| format!("({i}, 'r')")).collect();
        let sql = format!("INSERT INTO app.t (a, b) VALUES {} RETURNING a", rows.join(", "));
        let toks = shape_tokens(&sql);
        // (What compares or checks texts reads every row.)
        assert!(tokens(&sql).len() > toks.len() * 100);
        let words: Vec<&str> = toks
            .iter()
            .filter_map(|(t, _)| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(words, ["INSERT", "INTO", "APP", "T", "A", "B", "VALUES", "0", "RETURNING", "A"]);
        // What follows the rows is where it is written.
        let (_, returning) = &toks[toks.len() - 2];
        assert_eq!(&sql[returning.clone()], "RETURNING");
        // A short one is tokenized whole.
        assert!(shape_tokens("INSERT INTO t VALUES (1), (2)").iter().any(|(t, _)| *t == Token::Word("2".into())));
    }
}

#[cfg(test)]
mod created_tables_tests {
    #[test]
    fn the_tables_a_text_creates() {
        let text =
            "CREATE TABLE alembic_version (v text);\ncreate unlogged table if not exists app.\"Jobs\" (id int);\n\
                    CREATE INDEX ON t (a); -- CREATE TABLE commented (id int)\nCREATE TABLE public.x AS SELECT 1;";
        let names =
            |text: &str| -> Vec<String> { super::created_table_names(text).into_iter().map(|(_, n)| n).collect() };
        assert_eq!(names(text), ["alembic_version", "Jobs", "x"]);
        assert_eq!(super::created_table_names(text)[1], (Some("app".to_string()), "Jobs".to_string()));
        assert_eq!(
            super::created_tables_expected_absent(text),
            [(None, "alembic_version".to_string()), (Some("public".to_string()), "x".to_string())]
        );
        // Not a temporary table, nor one the text drops first (re-check trial).
        let text = "CREATE TEMP TABLE s (id int);\nDROP TABLE IF EXISTS a, \"B\";\nCREATE TABLE a (id int);\nCREATE TABLE \"B\" (id int);\nCREATE TABLE c (id int);";
        assert_eq!(super::created_tables_expected_absent(text), [(None, "c".to_string())]);
        assert_eq!(names(text), ["s", "a", "B", "c"]);
        // Its schema, when it names one; a drop of another schema's, or after, is none first.
        let text = "DROP TABLE IF EXISTS other.s;\nCREATE TABLE s (id int);\nCREATE TABLE billing.t (id int);\nDROP TABLE billing.t;";
        assert_eq!(
            super::created_tables_expected_absent(text),
            [(None, "s".to_string()), (Some("billing".to_string()), "t".to_string())]
        );
    }
}
