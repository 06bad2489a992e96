//! Splitting a migration file into top-level SQL statements, the way psql does.
//!
//! The splitter is a single pass over the bytes of the file that knows just enough of PostgreSQL's
//! lexical structure (with `standard_conforming_strings = on`) to find the semicolons that end
//! statements: comments (`--`, nested `/* */`), string literals (`'...'`, `E'...'`, `U&'...'`,
//! `B'...'`, `X'...'`, `N'...'`), quoted identifiers (`"..."`, `U&"..."`), dollar quotes
//! (`$tag$...$tag$`), parentheses, SQL-standard function bodies (`BEGIN ATOMIC ... END`) and the
//! inline data of `COPY ... FROM STDIN`. Every statement carries its exact byte span in the input
//! so that server error positions can be mapped back to the file.

use std::ops::Range;

/// One top-level SQL statement found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte range of the statement text in the input: from its first token (leading whitespace and
    /// comments excluded) to the end of its last token, excluding the terminating `;`.
    pub span: Range<usize>,
    /// For `COPY ... FROM STDIN` statements: byte range of the inline data that follows the
    /// statement (starting after the newline that ends the statement's line, ending before the `\.`
    /// terminator line).
    pub copy_data: Option<Range<usize>>,
    /// What its leading words say, decided once when it is split: the words themselves are not
    /// kept (ten thousand pending migrations would keep ten thousand strings of them).
    no_transaction: Option<&'static str>,
    control: Option<TransactionControl>,
    /// The leading words (see [`Words`]), for the splitter's own tests.
    #[cfg(test)]
    words: String,
}

impl Statement {
    /// `words`: the statement's leading words as the splitter collects them (see [`Words`]).
    fn new(span: Range<usize>, words: String, copy_data: Option<Range<usize>>) -> Statement {
        let leading = Words::of(&words);
        Statement {
            span,
            copy_data,
            no_transaction: no_transaction_of(&leading),
            control: control_of(&leading),
            #[cfg(test)]
            words,
        }
    }

    #[cfg(test)]
    fn words(&self) -> Words<'_> {
        Words::of(&self.words)
    }
}

/// Up to the first 24 bare words of a statement outside quotes, comments and strings,
/// ASCII-uppercased (e.g. `create unique index concurrently "Idx" on t` -> `CREATE UNIQUE INDEX
/// CONCURRENTLY ON T`; quoted identifiers are NOT words; words inside parentheses ARE included,
/// in order). On the stack: statements are classified by the thousand.
struct Words<'a> {
    items: [&'a str; MAX_WORDS],
    len: usize,
}

impl<'a> Words<'a> {
    /// The words of `joined`, as the splitter joins them (by single spaces).
    fn of(joined: &'a str) -> Words<'a> {
        let mut words = Words { items: [""; MAX_WORDS], len: 0 };
        for word in joined.split(' ').filter(|w| !w.is_empty()).take(MAX_WORDS) {
            words.items[words.len] = word;
            words.len += 1;
        }
        words
    }

    fn as_slice(&self) -> &[&'a str] {
        &self.items[..self.len]
    }

    /// The first word ("" when the statement has none).
    fn first(&self) -> &'a str {
        self.as_slice().first().copied().unwrap_or("")
    }
}

impl<'a> std::ops::Deref for Words<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        self.as_slice()
    }
}

/// Why a file could not be split into statements. Every variant carries the byte offset in the
/// input where the problem starts (see [`SplitError::offset`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A `'...'` literal (of any kind: plain, `E`, `U&`, `B`, `X`, `N`) has no closing quote. The
    /// offset is the start of the literal, prefix included.
    #[error("unterminated quoted string (started here)")]
    UnterminatedString { offset: usize },
    /// A `"..."` (or `U&"..."`) identifier has no closing quote.
    #[error("unterminated quoted identifier (started here)")]
    UnterminatedIdentifier { offset: usize },
    /// A dollar-quoted string has no closing delimiter. `tag` is the whole opening delimiter,
    /// e.g. `$body$` or `$$`.
    #[error("unterminated dollar-quoted string {tag} (started here)")]
    UnterminatedDollarQuote { offset: usize, tag: String },
    /// A `/*` comment (counting nested ones) is never closed. The offset is the outermost `/*`.
    #[error("unterminated /* comment (started here)")]
    UnterminatedComment { offset: usize },
    /// The data of a `COPY ... FROM STDIN` runs to the end of the file without a `\.` line (the
    /// offset is the start of the COPY statement), or the line of the COPY statement holds
    /// something other than whitespace or a `--` comment after its `;` (the offset is that text).
    #[error("COPY data is not terminated by a line holding only \\.")]
    UnterminatedCopyData { offset: usize },
    /// A backslash outside quotes and comments: psql would run it as a meta-command (`\i`,
    /// `\connect`, `\set`, `\gexec`, ...), the server would reject it.
    #[error(
        "psql meta-command {command} is not SQL; shale sends SQL to the server, so remove it or replace it with SQL"
    )]
    PsqlMetaCommand { offset: usize, command: String },
}

impl SplitError {
    /// Byte offset in the input where the problem starts.
    pub fn offset(&self) -> usize {
        match self {
            SplitError::UnterminatedString { offset }
            | SplitError::UnterminatedIdentifier { offset }
            | SplitError::UnterminatedDollarQuote { offset, .. }
            | SplitError::UnterminatedComment { offset }
            | SplitError::UnterminatedCopyData { offset }
            | SplitError::PsqlMetaCommand { offset, .. } => *offset,
        }
    }
}

/// How many leading words a [`Statement`] keeps.
const MAX_WORDS: usize = 24;

/// PostgreSQL's whitespace: space, tab, newline, carriage return, form feed, vertical tab.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// First byte of an identifier (and of a dollar-quote tag): ASCII letter, `_`, or any byte of a
/// non-ASCII character.
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Later bytes of an identifier.
fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Later bytes of a dollar-quote tag (like an identifier, but no `$`).
fn is_tag_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

/// The statement being scanned.
struct Pending {
    /// Offset of its first token.
    start: Option<usize>,
    /// End of its last token so far.
    end: usize,
    /// The leading words so far, upper-cased and joined by spaces (built in place: no string per word).
    words: String,
    word_count: usize,
    paren_depth: u32,
    /// Starts with CREATE [OR REPLACE] FUNCTION|PROCEDURE, so it may have a BEGIN ATOMIC body.
    routine: bool,
    /// Inside a BEGIN ATOMIC body: 1 + the number of open CASE expressions.
    begin_depth: u32,
    /// The previous token was the word BEGIN (in a routine, at depth 0, outside a body).
    after_begin: bool,
    /// The previous token was the word FROM at parenthesis depth 0.
    after_from: bool,
    /// COPY ... FROM STDIN: inline data follows the statement.
    copy_in: bool,
}

impl Pending {
    fn new() -> Self {
        Pending {
            start: None,
            end: 0,
            words: String::new(),
            word_count: 0,
            paren_depth: 0,
            routine: false,
            begin_depth: 0,
            after_begin: false,
            after_from: false,
            copy_in: false,
        }
    }

    /// Record a token at `start..end`.
    fn token(&mut self, start: usize, end: usize) {
        if self.start.is_none() {
            self.start = Some(start);
        }
        self.end = end;
    }

    /// A token that is not a bare word.
    fn other(&mut self) {
        self.after_begin = false;
        self.after_from = false;
    }

    /// A bare word, as written.
    fn word(&mut self, word: &str) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
        if self.word_count < MAX_WORDS {
            if self.word_count > 0 {
                self.words.push(' ');
            }
            self.words.extend(word.chars().map(|c| c.to_ascii_uppercase()));
            self.word_count += 1;
            if self.word_count <= 4 {
                self.routine = is_routine_header(&self.words);
            }
        }
        // psql's heuristic for SQL-standard function bodies, at parenthesis depth 0 only.
        let top = self.routine && self.paren_depth == 0;
        if top {
            if self.begin_depth == 0 {
                if self.after_begin && is("ATOMIC") {
                    self.begin_depth = 1;
                }
            } else if is("CASE") {
                self.begin_depth += 1;
            } else if is("END") {
                self.begin_depth -= 1;
            }
        }
        self.after_begin = top && self.begin_depth == 0 && is("BEGIN");
        if self.after_from && is("STDIN") && self.words.split(' ').next() == Some("COPY") {
            self.copy_in = true;
        }
        self.after_from = self.paren_depth == 0 && is("FROM");
    }
}

/// CREATE [OR REPLACE] FUNCTION|PROCEDURE (`words` joined as the splitter joins them).
fn is_routine_header(words: &str) -> bool {
    let routine = |w: Option<&str>| matches!(w, Some("FUNCTION" | "PROCEDURE"));
    let mut w = words.split(' ');
    match (w.next(), w.next(), w.next(), w.next()) {
        (Some("CREATE"), kind, _, _) if routine(kind) => true,
        (Some("CREATE"), Some("OR"), Some("REPLACE"), kind) => routine(kind),
        _ => false,
    }
}

/// Split `sql` into statements. Empty statements (only whitespace/comments, or stray `;`) are
/// skipped.
pub fn split(sql: &str) -> Result<Vec<Statement>, SplitError> {
    let b = sql.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut cur = Pending::new();
    let mut i = 0;
    while i < n {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if is_space(c) {
            i += 1;
            continue;
        }
        if c == b'-' && next == Some(b'-') {
            let end = line_end(b, i);
            // drizzle-kit's breakpoint: drizzle splits a file there and runs each part, so a
            // statement before one ends there, `;` or not (a hand-written migration may omit it).
            let breakpoint = sql[i..end].trim_end() == "--> statement-breakpoint";
            if breakpoint && !cur.copy_in && cur.paren_depth == 0 && cur.begin_depth == 0 {
                if let Some(start) = cur.start {
                    let done = std::mem::replace(&mut cur, Pending::new());
                    out.push(Statement::new(start..done.end, done.words, None));
                }
            }
            i = end;
            continue;
        }
        if c == b'/' && next == Some(b'*') {
            i = skip_block_comment(b, i)?;
            continue;
        }
        // pg_dump's `\restrict KEY` and `\unrestrict KEY` (since 17.6, 16.10, 15.14, ...) only
        // tell psql to refuse other meta-commands in between: nothing for the server, so a
        // schema dump used as a first migration runs as it is.
        if c == b'\\' && is_dump_restriction(b, i) {
            i = line_end(b, i);
            continue;
        }
        if c == b';' && cur.paren_depth == 0 && cur.begin_depth == 0 {
            let done = std::mem::replace(&mut cur, Pending::new());
            i = finish(b, done, i, &mut out)?;
            continue;
        }
        let start = i;
        let mut is_word = false;
        match c {
            b'\\' => return Err(meta_command(sql, i)),
            b'(' => {
                cur.paren_depth += 1;
                i += 1;
            }
            b')' => {
                cur.paren_depth = cur.paren_depth.saturating_sub(1);
                i += 1;
            }
            _ => (i, is_word) = token_end(sql, i)?,
        }
        cur.token(start, i);
        if is_word {
            cur.word(&sql[start..i]);
        } else {
            cur.other();
        }
    }
    if let Some(start) = cur.start {
        if cur.copy_in {
            return Err(SplitError::UnterminatedCopyData { offset: start });
        }
        out.push(Statement::new(start..cur.end, cur.words, None));
    }
    Ok(out)
}

/// The end of the token starting at `i` (not a space or a comment), and whether it is a bare word.
fn token_end(sql: &str, i: usize) -> Result<(usize, bool), SplitError> {
    let b = sql.as_bytes();
    let n = b.len();
    let c = b[i];
    let next = b.get(i + 1).copied();
    let end = match c {
        b'\'' => string_end(b, i, i + 1, false)?,
        b'"' => identifier_end(b, i, i + 1)?,
        b'E' | b'e' if next == Some(b'\'') => string_end(b, i, i + 2, true)?,
        b'B' | b'b' | b'X' | b'x' | b'N' | b'n' if next == Some(b'\'') => string_end(b, i, i + 2, false)?,
        b'U' | b'u' if next == Some(b'&') && b.get(i + 2) == Some(&b'\'') => string_end(b, i, i + 3, false)?,
        b'U' | b'u' if next == Some(b'&') && b.get(i + 2) == Some(&b'"') => identifier_end(b, i, i + 3)?,
        // A parameter, `$1`.
        b'$' if next.is_some_and(|d| d.is_ascii_digit()) => {
            i + 1 + b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count()
        }
        b'$' => dollar_end(sql, i)?,
        _ if is_ident_start(c) => {
            return Ok((i + 1 + b[i + 1..].iter().take_while(|d| is_ident_cont(**d)).count(), true));
        }
        // A number (and any junk glued to it, such as an exponent): never a word.
        _ if c.is_ascii_digit() || (c == b'.' && next.is_some_and(|d| d.is_ascii_digit())) => {
            i + 1 + b[i + 1..].iter().take_while(|d| d.is_ascii_alphanumeric() || **d == b'_' || **d == b'.').count()
        }
        // Operators and other punctuation, one ASCII byte at a time.
        _ => i + 1,
    };
    debug_assert!(end <= n);
    Ok((end, false))
}

/// The next token of `sql` at or after `i`, past spaces and comments: its span and whether it
/// is a bare word. None at the end, or where the text does not lex (an unterminated string).
fn next_token(sql: &str, mut i: usize) -> Option<(Range<usize>, bool)> {
    let b = sql.as_bytes();
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (c, _) if is_space(c) => i += 1,
            (b'-', Some(b'-')) => i = line_end(b, i),
            (b'/', Some(b'*')) => i = skip_block_comment(b, i).ok()?,
            _ => {
                let (end, word) = token_end(sql, i).ok()?;
                return Some((i..end, word));
            }
        }
    }
    None
}

/// Whether `offset` of `sql` is in a comment (as the statement splitter reads it: not in a token,
/// not white space).
pub fn in_comment(sql: &str, offset: usize) -> bool {
    let mut at = 0;
    while let Some((token, _)) = next_token(sql, at) {
        if token.contains(&offset) {
            return false;
        }
        if token.start > offset {
            break;
        }
        at = token.end;
    }
    sql.as_bytes().get(offset).is_some_and(|b| !is_space(*b))
}

/// `sql` as the JDBC driver sends it, where that differs: it reads `??` as an escaped `?` (a
/// JDBC placeholder), so a file written for Liquibase spells the jsonb operators `??`, `??|`
/// and `??&` (the breadth sweep's pay-ledger: `details ?? 'key'`, which shale sent as written,
/// and PostgreSQL has no `??`). Outside string literals, quoted names, comments and dollar
/// quotes, as the driver reads them; each `??` becomes ` ?`, so offsets stay the file's.
pub fn as_jdbc_sends(sql: &str) -> Option<String> {
    if !sql.contains("??") {
        return None;
    }
    let mut bytes = sql.as_bytes().to_vec();
    let mut at = 0;
    let mut changed = false;
    while let Some((token, _)) = next_token(sql, at) {
        at = token.end;
        if &sql[token.clone()] == "?" && sql.as_bytes().get(token.end) == Some(&b'?') {
            bytes[token.start] = b' ';
            changed = true;
            // The second `?` is the operator's: not the start of another pair.
            at = token.end + 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII: the text is as valid UTF-8 as it was.
    changed.then(|| String::from_utf8(bytes).expect("ASCII replaced by ASCII"))
}

/// Statements longer than this have the rows after the first of their `VALUES` lists left out
/// where shale reads what they do (the linter, the lock and table checks): a seed's INSERT of a
/// million rows is read as one row, and the rows go to the server as written.
pub const LONG_STATEMENT: usize = 64 * 1024;

/// In `sql` (one statement), the rows after the first of each `VALUES` list: the text from the
/// end of the first row to the end of the last, `, (2, 'b'), (3, 'c')`. Nothing where the text
/// does not lex (the server says what is wrong with it).
pub fn later_rows(sql: &str) -> Vec<Range<usize>> {
    let b = sql.as_bytes();
    let opens_at = |i: usize, c: u8| next_token(sql, i).filter(|(t, _)| b[t.start] == c);
    // The end of the row whose `(` is at `open`.
    let row_end = |open: usize| {
        let (mut depth, mut i) = (0u32, open);
        while let Some((t, _)) = next_token(sql, i) {
            i = t.end;
            match b[t.start] {
                b'(' => depth += 1,
                b')' if depth == 1 => return Some(i),
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        None
    };
    let mut out = Vec::new();
    let (mut i, mut after_values) = (0, false);
    while let Some((t, word)) = next_token(sql, i) {
        i = t.end;
        if after_values && b[t.start] == b'(' {
            let Some(first) = row_end(t.start) else { return Vec::new() };
            let mut last = first;
            while let Some((comma, _)) = opens_at(last, b',') {
                let Some((open, _)) = opens_at(comma.end, b'(') else { break };
                // A subquery is no row (`FROM src AS values (a, b), (SELECT ...) AS y`: there
                // `values` is an alias, which the review found cut into a false syntax error).
                if next_token(sql, open.end).is_some_and(|(t, word)| word && is_query_start(&sql[t])) {
                    break;
                }
                let Some(end) = row_end(open.start) else { return Vec::new() };
                last = end;
            }
            if last > first {
                out.push(first..last);
            }
            i = last;
        }
        after_values = word && sql[t].eq_ignore_ascii_case("values");
    }
    out
}

/// A word that starts a query: no row of a `VALUES` list starts with one.
fn is_query_start(word: &str) -> bool {
    ["SELECT", "WITH", "VALUES", "TABLE"].iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// A long statement (see [`LONG_STATEMENT`]) with the rows after the first of its `VALUES` lists
/// left out, and where they were: what the linter parses (PostgreSQL's parse tree of every row
/// of a 2 MB INSERT took 80 bytes per byte of text).
pub struct FirstRowsOnly<'a> {
    pub text: std::borrow::Cow<'a, str>,
    /// Each cut: where it is in `text`, and how many bytes were left out there.
    cuts: Vec<(usize, usize)>,
}

impl<'a> FirstRowsOnly<'a> {
    pub fn of(sql: &'a str) -> FirstRowsOnly<'a> {
        let rows = if sql.len() > LONG_STATEMENT { later_rows(sql) } else { Vec::new() };
        if rows.is_empty() {
            return FirstRowsOnly::whole(sql);
        }
        let (mut text, mut cuts, mut from) = (String::new(), Vec::new(), 0);
        for row in rows {
            text.push_str(&sql[from..row.start]);
            cuts.push((text.len(), row.len()));
            from = row.end;
        }
        text.push_str(&sql[from..]);
        FirstRowsOnly { text: text.into(), cuts }
    }

    /// The statement whole, nothing left out.
    pub fn whole(sql: &'a str) -> FirstRowsOnly<'a> {
        FirstRowsOnly { text: sql.into(), cuts: Vec::new() }
    }

    /// Whether rows were left out.
    pub fn is_shortened(&self) -> bool {
        !self.cuts.is_empty()
    }

    /// Where `at`, an offset in `text`, is in the whole statement.
    pub fn offset_in_statement(&self, at: usize) -> usize {
        at + self.cuts.iter().take_while(|(cut, _)| *cut <= at).map(|(_, len)| len).sum::<usize>()
    }
}

/// The part `range` of `sql` cut at each `delimiter` outside quotes, comments and parentheses, as
/// Atlas's `-- atlas:delimiter` cuts a file: the parts between, the delimiters left out. A
/// delimiter of letters (`GO`) cuts only where it is a word of its own.
pub fn cut_at_delimiter(sql: &str, range: Range<usize>, delimiter: &str) -> Result<Vec<Range<usize>>, SplitError> {
    let b = sql.as_bytes();
    let end = range.end;
    let word_like = delimiter.bytes().next().is_some_and(is_ident_cont);
    let stands_alone = |at: usize| {
        !word_like
            || (at.checked_sub(1).is_none_or(|p| !is_ident_cont(b[p]))
                && b.get(at + delimiter.len()).is_none_or(|c| !is_ident_cont(*c)))
    };
    let mut parts = Vec::new();
    let (mut start, mut i, mut depth) = (range.start, range.start, 0u32);
    while i < end {
        // (Bytes: `i` steps through the text a byte at a time, inside characters too.)
        if depth == 0 && b[i..end].starts_with(delimiter.as_bytes()) && stands_alone(i) {
            parts.push(start..i);
            i += delimiter.len();
            start = i;
            continue;
        }
        let next = b.get(i + 1).copied();
        i = match b[i] {
            b'-' if next == Some(b'-') => line_end(b, i),
            b'/' if next == Some(b'*') => skip_block_comment(b, i)?,
            b'\'' => string_end(b, i, i + 1, false)?,
            b'E' | b'e' if next == Some(b'\'') && (i == 0 || !is_ident_cont(b[i - 1])) => {
                string_end(b, i, i + 2, true)?
            }
            b'"' => identifier_end(b, i, i + 1)?,
            b'$' if next.is_some_and(|d| d.is_ascii_digit()) => i + 1,
            b'$' => dollar_end(sql, i)?,
            b'(' => {
                depth += 1;
                i + 1
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i + 1
            }
            _ => i + 1,
        };
    }
    parts.push(start..end.max(start));
    Ok(parts)
}

/// Close the statement ended by the `;` at `semi`; return where scanning resumes.
fn finish(b: &[u8], stmt: Pending, semi: usize, out: &mut Vec<Statement>) -> Result<usize, SplitError> {
    let Some(start) = stmt.start else {
        return Ok(semi + 1);
    };
    let (copy_data, resume) = if stmt.copy_in {
        let (data, resume) = copy_data(b, start, semi + 1)?;
        (Some(data), resume)
    } else {
        (None, semi + 1)
    };
    out.push(Statement::new(start..stmt.end, stmt.words, copy_data));
    Ok(resume)
}

/// The inline data of the COPY statement starting at `stmt_start`, whose `;` ends just before
/// `from`: its range, and where scanning resumes (after the `\.` line).
fn copy_data(b: &[u8], stmt_start: usize, from: usize) -> Result<(Range<usize>, usize), SplitError> {
    let n = b.len();
    let unterminated = SplitError::UnterminatedCopyData { offset: stmt_start };
    // The rest of the statement's line.
    let mut i = from;
    loop {
        match b.get(i) {
            None => return Err(unterminated),
            Some(b'\n') => break,
            Some(&c) if is_space(c) => i += 1,
            Some(b'-') if b.get(i + 1) == Some(&b'-') => i = line_end(b, i),
            Some(_) => return Err(SplitError::UnterminatedCopyData { offset: i }),
        }
    }
    let data_start = i + 1;
    let mut line = data_start;
    while line < n {
        let eol = line_end(b, line);
        let text = &b[line..eol];
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == b"\\." {
            return Ok((data_start..line, (eol + 1).min(n)));
        }
        line = eol + 1;
    }
    Err(unterminated)
}

/// Offset of the `\n` ending the line that holds `i`, or the end of the input.
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p)
}

/// End of the (nested) block comment starting at `start` with `/*`.
fn skip_block_comment(b: &[u8], start: usize) -> Result<usize, SplitError> {
    let mut depth = 1u32;
    let mut i = start + 2;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Err(SplitError::UnterminatedComment { offset: start })
}

/// End (after the closing quote) of the `q`-quoted text whose content starts at `from`. `''`
/// (or `""`) is an escaped quote; with `backslash`, `\` escapes the next byte.
fn quoted_end(b: &[u8], from: usize, q: u8, backslash: bool) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// End of the string literal starting at `start`, whose content starts at `from`.
fn string_end(b: &[u8], start: usize, from: usize, backslash: bool) -> Result<usize, SplitError> {
    quoted_end(b, from, b'\'', backslash).ok_or(SplitError::UnterminatedString { offset: start })
}

/// End of the quoted identifier starting at `start`, whose content starts at `from`.
fn identifier_end(b: &[u8], start: usize, from: usize) -> Result<usize, SplitError> {
    quoted_end(b, from, b'"', false).ok_or(SplitError::UnterminatedIdentifier { offset: start })
}

/// End of the token starting with the `$` at `start` (not followed by a digit): a whole
/// dollar-quoted string if a `$tag$` delimiter starts there, else just the `$`.
fn dollar_end(sql: &str, start: usize) -> Result<usize, SplitError> {
    let b = sql.as_bytes();
    let mut i = start + 1;
    if i < b.len() && is_ident_start(b[i]) {
        i += 1;
        while i < b.len() && is_tag_cont(b[i]) {
            i += 1;
        }
    }
    if b.get(i) != Some(&b'$') {
        return Ok(start + 1);
    }
    let body = i + 1;
    let delimiter = &b[start..body];
    match b[body..].windows(delimiter.len()).position(|w| w == delimiter) {
        Some(p) => Ok(body + p + delimiter.len()),
        None => Err(SplitError::UnterminatedDollarQuote { offset: start, tag: sql[start..body].to_string() }),
    }
}

/// Whether the backslash at `start` begins pg_dump's `\restrict` or `\unrestrict` line.
fn is_dump_restriction(b: &[u8], start: usize) -> bool {
    let at_line_start = b[..start].iter().rev().take_while(|c| **c != b'\n').all(|c| is_space(*c));
    let word = |w: &[u8]| b[start + 1..].starts_with(w) && b.get(start + 1 + w.len()).is_none_or(|c| is_space(*c));
    at_line_start && (word(b"restrict") || word(b"unrestrict"))
}

/// `sql` with pg_dump's `\restrict KEY` and `\unrestrict KEY` lines blanked (spaces in their
/// place, so positions stay): for a schema dump sent to the server whole, as the splitter passes
/// them over in a migration.
pub fn without_dump_restrictions(sql: &str) -> std::borrow::Cow<'_, str> {
    let b = sql.as_bytes();
    let lines: Vec<std::ops::Range<usize>> = sql
        .match_indices('\\')
        .map(|(at, _)| at)
        .filter(|at| is_dump_restriction(b, *at))
        .map(|at| at..line_end(b, at))
        .collect();
    if lines.is_empty() {
        return sql.into();
    }
    let mut out = sql.to_string();
    for line in lines {
        out.replace_range(line.clone(), &" ".repeat(line.len()));
    }
    out.into()
}

/// The meta-command error for the backslash at `start`.
fn meta_command(sql: &str, start: usize) -> SplitError {
    let b = sql.as_bytes();
    let mut end = start + 1;
    while end < b.len() && !is_space(b[end]) && b[end] != b'\\' {
        end += 1;
    }
    if end == start + 1 && b.get(end) == Some(&b'\\') {
        end += 1;
    }
    SplitError::PsqlMetaCommand { offset: start, command: sql[start..end].to_string() }
}

/// Why PostgreSQL refuses to run this statement inside a transaction block, if it does.
/// Returns a short description such as "CREATE INDEX CONCURRENTLY".
///
/// Judged from the statement's leading words alone, so it errs on the side of `Some` where
/// quoted identifiers hide information (`CLUSTER "T"` reads like a bare `CLUSTER`).
pub fn no_transaction_reason(stmt: &Statement) -> Option<&'static str> {
    stmt.no_transaction
}

/// Whether `stmt` (whose text is `text`), in a migration that runs outside a transaction, does
/// the same in a transaction block of its own (`BEGIN; SET LOCAL ...; it; COMMIT`), which holds
/// its settings on one server session through a transaction-mode pooler: not one PostgreSQL
/// refuses in a block, not transaction control, not one whose effect is the session's (SET,
/// RESET, DISCARD, LISTEN), nor one that may end transactions itself (CALL, DO: a procedure's
/// COMMIT), nor COPY.
pub fn runs_the_same_in_a_block(stmt: &Statement, text: &str) -> bool {
    let first = text.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default().to_ascii_uppercase();
    stmt.no_transaction.is_none()
        && stmt.control.is_none()
        && !matches!(
            first.as_str(),
            "CALL"
                | "DO"
                | "SET"
                | "RESET"
                | "DISCARD"
                | "LISTEN"
                | "UNLISTEN"
                | "COPY"
                | "VACUUM"
                | "CHECKPOINT"
                | "LOAD"
        )
}

fn no_transaction_of(words: &Words<'_>) -> Option<&'static str> {
    // Decided by the first word for most statements: no need to take all of them apart.
    if !matches!(
        words.first(),
        "CREATE" | "DROP" | "REINDEX" | "VACUUM" | "ALTER" | "CLUSTER" | "DISCARD" | "COMMIT" | "ROLLBACK"
    ) {
        return None;
    }
    match words.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", ..] | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => {
            Some("CREATE INDEX CONCURRENTLY")
        }
        ["CREATE", "DATABASE", ..] => Some("CREATE DATABASE"),
        ["CREATE", "TABLESPACE", ..] => Some("CREATE TABLESPACE"),
        ["CREATE", "SUBSCRIPTION", ..] => Some("CREATE SUBSCRIPTION"),
        ["DROP", "INDEX", "CONCURRENTLY", ..] => Some("DROP INDEX CONCURRENTLY"),
        ["DROP", "DATABASE", ..] => Some("DROP DATABASE"),
        ["DROP", "TABLESPACE", ..] => Some("DROP TABLESPACE"),
        ["DROP", "SUBSCRIPTION", ..] => Some("DROP SUBSCRIPTION"),
        ["REINDEX", rest @ ..] => reindex_reason(rest),
        ["VACUUM", ..] => Some("VACUUM"),
        ["ALTER", "SYSTEM", ..] => Some("ALTER SYSTEM"),
        ["ALTER", "DATABASE", rest @ ..] if find_seq(rest, &["SET", "TABLESPACE"]).is_some() => {
            Some("ALTER DATABASE SET TABLESPACE")
        }
        ["ALTER", "TABLE", rest @ ..]
            if find_seq(rest, &["DETACH", "PARTITION"]).is_some_and(|k| rest[k + 2..].contains(&"CONCURRENTLY")) =>
        {
            Some("ALTER TABLE DETACH PARTITION CONCURRENTLY")
        }
        ["ALTER", "SUBSCRIPTION", rest @ ..] => subscription_reason(rest),
        ["CLUSTER"] | ["CLUSTER", "VERBOSE"] => Some("CLUSTER without a table name"),
        ["DISCARD", "ALL", ..] => Some("DISCARD ALL"),
        ["COMMIT", "PREPARED", ..] => Some("COMMIT PREPARED"),
        ["ROLLBACK", "PREPARED", ..] => Some("ROLLBACK PREPARED"),
        _ => None,
    }
}

/// `REINDEX [(options)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name`, words after
/// REINDEX.
fn reindex_reason(rest: &[&str]) -> Option<&'static str> {
    let kind = rest.iter().position(|w| matches!(*w, "INDEX" | "TABLE" | "SCHEMA" | "DATABASE" | "SYSTEM"));
    let (options, after) = match kind {
        Some(k) => (&rest[..k], &rest[k + 1..]),
        None => (rest, &[][..]),
    };
    // `CONCURRENTLY` after the kind, or as an option: `(CONCURRENTLY)`, `(CONCURRENTLY true)`.
    let option = options
        .iter()
        .enumerate()
        .any(|(k, w)| *w == "CONCURRENTLY" && !matches!(options.get(k + 1), Some(&"FALSE" | &"OFF")));
    if option || after.first() == Some(&"CONCURRENTLY") {
        return Some("REINDEX CONCURRENTLY");
    }
    match kind.map(|k| rest[k]) {
        Some("SCHEMA") => Some("REINDEX SCHEMA"),
        Some("DATABASE") => Some("REINDEX DATABASE"),
        Some("SYSTEM") => Some("REINDEX SYSTEM"),
        _ => None,
    }
}

/// ALTER SUBSCRIPTION, words after SUBSCRIPTION.
fn subscription_reason(rest: &[&str]) -> Option<&'static str> {
    // `WITH (refresh = false)` is the way to change publications inside a transaction.
    let refresh_off = rest.windows(2).any(|w| w[0] == "REFRESH" && matches!(w[1], "FALSE" | "OFF"));
    if refresh_off {
        return None;
    }
    if rest.contains(&"REFRESH") {
        return Some("ALTER SUBSCRIPTION ... REFRESH PUBLICATION");
    }
    // SET/ADD/DROP PUBLICATION refresh by default.
    let publications = rest.windows(2).any(|w| matches!(w[0], "SET" | "ADD" | "DROP") && w[1] == "PUBLICATION");
    publications.then_some("ALTER SUBSCRIPTION with refresh")
}

/// Index of the first occurrence of `seq` in `words`.
fn find_seq(words: &[&str], seq: &[&str]) -> Option<usize> {
    words.windows(seq.len()).position(|w| w == seq)
}

/// The kind of a transaction-control statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    /// BEGIN, START TRANSACTION.
    Begin,
    /// COMMIT, END.
    Commit,
    /// ROLLBACK, ABORT.
    Rollback,
    /// SAVEPOINT, RELEASE [SAVEPOINT], ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT].
    Savepoint,
    /// PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED.
    Other,
}

/// If the statement is transaction control (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
/// SAVEPOINT, RELEASE, PREPARE TRANSACTION, COMMIT PREPARED...), which kind. `BEGIN ATOMIC` is
/// never one (it is only inside function bodies anyway), and neither is `END IF` etc. since those
/// are inside bodies.
pub fn transaction_control(stmt: &Statement) -> Option<TransactionControl> {
    stmt.control
}

fn control_of(words: &Words<'_>) -> Option<TransactionControl> {
    use TransactionControl::*;
    if !matches!(
        words.first(),
        "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "END" | "ABORT" | "SAVEPOINT" | "RELEASE" | "PREPARE"
    ) {
        return None;
    }
    match words.as_slice() {
        ["BEGIN", "ATOMIC", ..] => None,
        ["BEGIN", ..] => Some(Begin),
        ["START", "TRANSACTION", ..] => Some(Begin),
        ["COMMIT" | "ROLLBACK", "PREPARED", ..] => Some(Other),
        ["COMMIT", ..] => Some(Commit),
        ["END"] | ["END", "WORK" | "TRANSACTION" | "AND", ..] => Some(Commit),
        ["ROLLBACK", "TO", ..] | ["ROLLBACK", "WORK" | "TRANSACTION", "TO", ..] => Some(Savepoint),
        ["ROLLBACK" | "ABORT", ..] => Some(Rollback),
        ["SAVEPOINT" | "RELEASE", ..] => Some(Savepoint),
        ["PREPARE", "TRANSACTION", ..] => Some(Other),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_after_the_first_of_each_values_list() {
        fn rows(sql: &str) -> Vec<&str> {
            later_rows(sql).into_iter().map(|r| &sql[r]).collect()
        }
        // Parentheses, quotes and comments inside the rows are the rows' own.
        let sql =
            "INSERT INTO t (a, b) VALUES (1, 'x)'), (2, f('(y')) /* ) */, -- (\n (3, $$)$$) ON CONFLICT DO NOTHING";
        assert_eq!(rows(sql), [", (2, f('(y')) /* ) */, -- (\n (3, $$)$$)"]);
        // Each list of the statement; a list of one row has nothing after it.
        let sql = "WITH v (a) AS (VALUES (1), (2)) SELECT a FROM v UNION ALL VALUES (3) UNION ALL values (4), (5)";
        assert_eq!(rows(sql), [", (2)", ", (5)"]);
        // A column named values is no list, nor an alias followed by a subquery; a text that does
        // not lex leaves nothing out.
        assert!(rows("INSERT INTO t (values) VALUES (1)").is_empty());
        assert!(rows("INSERT INTO d SELECT values.a FROM s AS values (a, b), (SELECT 1 AS c) AS y").is_empty());
        assert!(rows("INSERT INTO t VALUES (1), ('unterminated)").is_empty());
    }

    #[test]
    fn a_long_insert_is_read_by_its_first_row() {
        let rows: Vec<String> = (0..LONG_STATEMENT / 8).map(|i| format!("({i}, 'r')")).collect();
        let sql = format!("INSERT INTO t (a, b) VALUES {} ON CONFLICT (a) DO NOTHIN", rows.join(",\n"));
        let first = FirstRowsOnly::of(&sql);
        assert!(first.is_shortened());
        assert_eq!(first.text, "INSERT INTO t (a, b) VALUES (0, 'r') ON CONFLICT (a) DO NOTHIN");
        // An offset past the cut is where it is in the statement; one before it stays.
        let nothin = first.text.find("NOTHIN").unwrap();
        assert_eq!(&sql[first.offset_in_statement(nothin)..], "NOTHIN");
        assert_eq!(first.offset_in_statement(7), 7);
        // A short statement is read whole.
        let short = "INSERT INTO t (a) VALUES (1), (2)";
        assert!(!FirstRowsOnly::of(short).is_shortened());
        assert_eq!(FirstRowsOnly::of(short).text, short);
    }

    #[test]
    fn what_runs_the_same_in_a_block_of_its_own() {
        let same = |sql: &str| {
            let statements = split(sql).unwrap();
            runs_the_same_in_a_block(&statements[0], &sql[statements[0].span.clone()])
        };
        assert!(same("ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0) NOT VALID"));
        assert!(same("alter table t validate constraint c"));
        assert!(same("UPDATE t SET n = 0"));
        for alone in [
            "CREATE INDEX CONCURRENTLY i ON t (n)",
            "DROP INDEX CONCURRENTLY i",
            "CALL backfill()",
            "DO $$ BEGIN COMMIT; END $$",
            "SET statement_timeout = 0",
            "COMMIT",
            "VACUUM t",
            "COPY t TO STDOUT",
        ] {
            assert!(!same(alone), "{alone}");
        }
    }

    /// The statement texts of `sql`.
    #[test]
    fn drizzle_s_breakpoint_ends_a_statement_without_its_semicolon() {
        let sql = "INSERT INTO users VALUES ('admin', 'Admin')--> statement-breakpoint\nUPDATE users SET age = 1;\n--> statement-breakpoint\nSELECT 1";
        assert_eq!(texts(sql), ["INSERT INTO users VALUES ('admin', 'Admin')", "UPDATE users SET age = 1", "SELECT 1"]);
        // Inside a function body it is a comment of the body.
        let body = "CREATE FUNCTION f() RETURNS int AS $$\nSELECT 1 --> statement-breakpoint\n$$ LANGUAGE sql;";
        assert_eq!(texts(body).len(), 1);
    }

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .unwrap_or_else(|e| panic!("split failed: {e:?} for {sql:?}"))
            .into_iter()
            .map(|s| &sql[s.span])
            .collect()
    }

    fn one(sql: &str) -> Statement {
        let mut all = split(sql).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.pop().unwrap()
    }

    fn err(sql: &str) -> SplitError {
        match split(sql) {
            Ok(s) => panic!("expected an error for {sql:?}, got {s:?}"),
            Err(e) => e,
        }
    }

    fn words(sql: &str) -> Vec<String> {
        one(sql).words().iter().map(|w| w.to_string()).collect()
    }

    fn reason(sql: &str) -> Option<&'static str> {
        no_transaction_reason(&one(sql))
    }

    fn control(sql: &str) -> Option<TransactionControl> {
        transaction_control(&one(sql))
    }

    #[test]
    fn basic_split_with_exact_spans() {
        let sql = "SELECT 1;\nSELECT 2;\n  INSERT INTO t VALUES (3) ;\n";
        let all = split(sql).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].span, 0..8);
        assert_eq!(all[1].span, 10..18);
        assert_eq!(all[2].span, 22..46);
        assert_eq!(&sql[all[2].span.clone()], "INSERT INTO t VALUES (3)");
        assert!(all.iter().all(|s| s.copy_data.is_none()));
    }

    #[test]
    fn comments_before_after_and_between() {
        let sql = "-- header; not a statement\n/* c; */ SELECT /* mid; */ 1 -- tail;\n; -- after\n\
                   /* x */ SELECT\n  -- inner;\n  2 /* t */;\n-- trailing comment";
        assert_eq!(texts(sql), ["SELECT /* mid; */ 1", "SELECT\n  -- inner;\n  2"]);
    }

    #[test]
    fn nested_block_comments() {
        let sql = "/* a /* b; */ c; */ SELECT 1; /* x /* y */ */ SELECT 2";
        assert_eq!(texts(sql), ["SELECT 1", "SELECT 2"]);
        let sql = "SELECT 1 /* outer /* inner */ still; comment */ + 1; SELECT /**/ 3 /***/;";
        assert_eq!(texts(sql), ["SELECT 1 /* outer /* inner */ still; comment */ + 1", "SELECT /**/ 3"]);
        // A line comment inside a block comment is just text, and vice versa.
        assert_eq!(texts("/* -- */ SELECT 1; -- /*\nSELECT 2"), ["SELECT 1", "SELECT 2"]);
        // An operator followed by a comment.
        assert_eq!(texts("SELECT 1+-- c;\n2; SELECT 3"), ["SELECT 1+-- c;\n2", "SELECT 3"]);
    }

    #[test]
    fn comment_markers_inside_strings() {
        let sql = "SELECT '--not a comment; really', '/* nor; this', \"--id;\"; SELECT 3";
        assert_eq!(texts(sql), ["SELECT '--not a comment; really', '/* nor; this', \"--id;\"", "SELECT 3"]);
    }

    #[test]
    fn semicolons_inside_quotes_and_parentheses() {
        let sql = "SELECT 'a;b', \"c;d\" FROM t;\nSELECT $$x;y$$;\n\
                   CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n\
                   SELECT 'it''s; ok', \"we\"\"ird;\";\nSELECT 4";
        assert_eq!(
            texts(sql),
            [
                "SELECT 'a;b', \"c;d\" FROM t",
                "SELECT $$x;y$$",
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
                "SELECT 'it''s; ok', \"we\"\"ird;\"",
                "SELECT 4",
            ]
        );
        // A stray `)` does not make the depth negative.
        assert_eq!(texts("SELECT 1); SELECT (2;3); SELECT 4"), ["SELECT 1)", "SELECT (2;3)", "SELECT 4"]);
    }

    #[test]
    fn escape_strings() {
        let sql = r"SELECT E'it\'s; fine', e'\\'; SELECT E'a''b;\\\'c'; SELECT 2";
        assert_eq!(texts(sql), [r"SELECT E'it\'s; fine', e'\\'", r"SELECT E'a''b;\\\'c'", "SELECT 2"]);
        // The E of an identifier does not make an escape string: `typE` then a plain literal.
        let sql = r"SELECT typE'a\'; SELECT 2";
        assert_eq!(texts(sql), [r"SELECT typE'a\'", "SELECT 2"]);
        // Nor does an E glued to a number.
        assert_eq!(texts(r"SELECT 1E'\'; SELECT 2"), [r"SELECT 1E'\'", "SELECT 2"]);
    }

    #[test]
    fn plain_strings_ignore_backslashes() {
        assert_eq!(texts(r"SELECT 'C:\'; SELECT 2"), [r"SELECT 'C:\'", "SELECT 2"]);
        assert_eq!(
            texts(r"INSERT INTO p VALUES ('C:\dir\', 'x\''; y'); SELECT 2"),
            [r"INSERT INTO p VALUES ('C:\dir\', 'x\''; y')", "SELECT 2"]
        );
        // Prefixed literals other than E are plain too.
        let sql = r"SELECT U&'d\0061t\+000061;\', B'101', X'1F;', N'x;\', b'1', U&'\'; SELECT 2";
        assert_eq!(texts(sql), [r"SELECT U&'d\0061t\+000061;\', B'101', X'1F;', N'x;\', b'1', U&'\'", "SELECT 2"]);
        assert_eq!(words(r"SELECT U&'a', B'1', X'1', N'x', E'\''"), ["SELECT"]);
    }

    #[test]
    fn quoted_identifiers() {
        let sql = "SELECT \"a;b\", U&\"d\\0061;t\" UESCAPE '!', u&\"x\"\"y;\" FROM \"T\"; SELECT 2";
        assert_eq!(texts(sql), ["SELECT \"a;b\", U&\"d\\0061;t\" UESCAPE '!', u&\"x\"\"y;\" FROM \"T\"", "SELECT 2"]);
        assert_eq!(words(sql.split_once("; SELECT 2").unwrap().0), ["SELECT", "UESCAPE", "FROM"]);
        // `u` followed by `&` and something else is an identifier and an operator.
        assert_eq!(words("SELECT u&1"), ["SELECT", "U"]);
    }

    #[test]
    fn dollar_quotes_with_tags() {
        let sql = "SELECT $a$ x $b$ ; $b$ ; $$ ; $ab$ ; $a$; SELECT $tag_1$;$tag_1$; SELECT 3";
        assert_eq!(texts(sql), ["SELECT $a$ x $b$ ; $b$ ; $$ ; $ab$ ; $a$", "SELECT $tag_1$;$tag_1$", "SELECT 3"]);
        // The closing delimiter may follow content glued to it, and the tag is case-sensitive.
        let sql = "SELECT $q$x;$Q$;y$q$; SELECT 2";
        assert_eq!(texts(sql), ["SELECT $q$x;$Q$;y$q$", "SELECT 2"]);
        // Empty dollar quote.
        assert_eq!(texts("SELECT $$$$; SELECT 2"), ["SELECT $$$$", "SELECT 2"]);
    }

    #[test]
    fn parameters_and_dollars_in_identifiers() {
        let sql = "PREPARE q(int, int) AS SELECT $1 + $2; SELECT 1";
        assert_eq!(texts(sql), ["PREPARE q(int, int) AS SELECT $1 + $2", "SELECT 1"]);
        // `a$b$` is one identifier, not the start of a dollar quote.
        let sql = "SELECT a$b$c, x$$, $1; SELECT 2";
        assert_eq!(texts(sql), ["SELECT a$b$c, x$$, $1", "SELECT 2"]);
        assert_eq!(words("SELECT a$b$c, x$$, $1"), ["SELECT", "A$B$C", "X$$"]);
        // `$abc` without a closing `$` is a `$` and a word.
        assert_eq!(words("SELECT $abc"), ["SELECT", "ABC"]);
    }

    #[test]
    fn plpgsql_functions() {
        let f1 =
            "CREATE FUNCTION inc(i integer) RETURNS integer AS $$\nBEGIN\n    RETURN i + 1;\nEND;\n$$ LANGUAGE plpgsql";
        let f2 = "CREATE OR REPLACE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $body$\n\
                  DECLARE\n  s text := $$it's;$$;\nBEGIN\n  IF TG_OP = 'DELETE' THEN\n    RETURN OLD;\n  END IF;\n  RETURN NEW;\nEND;\n$body$";
        let sql = format!("{f1};\n\n{f2};\nSELECT inc(1);");
        assert_eq!(texts(&sql), [f1, f2, "SELECT inc(1)"]);
    }

    #[test]
    fn do_block() {
        let body = "DO $do$\nBEGIN\n  PERFORM 1;\n  RAISE NOTICE 'done; %', 'x';\nEND\n$do$";
        let sql = format!("{body};\nDO LANGUAGE plpgsql $$ BEGIN NULL; END $$;\nSELECT 1");
        assert_eq!(texts(&sql), [body, "DO LANGUAGE plpgsql $$ BEGIN NULL; END $$", "SELECT 1"]);
    }

    #[test]
    fn begin_atomic_bodies() {
        let f = "CREATE OR REPLACE FUNCTION f(x int) RETURNS text\nLANGUAGE sql\nBEGIN ATOMIC\n  \
                 SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END;\n  \
                 SELECT CASE x WHEN 1 THEN 'one' ELSE (CASE WHEN true THEN 'end;' END) END;\nEND";
        let p = "create procedure p() language sql begin atomic insert into t values (1); /* end; */ insert into t values (2); end";
        let sql = format!("{f};\n{p};\nSELECT 2;");
        assert_eq!(texts(&sql), [f, p, "SELECT 2"]);
        // Without BEGIN ATOMIC, a routine ends at its first `;`.
        let sql = "CREATE FUNCTION g() RETURNS int LANGUAGE sql RETURN 1; SELECT 2";
        assert_eq!(texts(sql), ["CREATE FUNCTION g() RETURNS int LANGUAGE sql RETURN 1", "SELECT 2"]);
        // BEGIN outside a routine is transaction control.
        assert_eq!(texts("BEGIN; SELECT 1; COMMIT;"), ["BEGIN", "SELECT 1", "COMMIT"]);
        // A column named begin, or BEGIN not followed by ATOMIC, opens nothing.
        assert_eq!(
            texts("CREATE TABLE t (begin int, atomic int); SELECT begin, atomic FROM t; SELECT 3"),
            ["CREATE TABLE t (begin int, atomic int)", "SELECT begin, atomic FROM t", "SELECT 3"]
        );
        // BEGIN ATOMIC in a statement that is not a routine opens nothing.
        assert_eq!(texts("SELECT begin atomic; SELECT 2"), ["SELECT begin atomic", "SELECT 2"]);
        // A comment between BEGIN and ATOMIC does not matter.
        let f = "CREATE FUNCTION h() RETURNS int BEGIN /* c */ ATOMIC SELECT 1; END";
        assert_eq!(texts(&format!("{f}; SELECT 2")), [f, "SELECT 2"]);
    }

    #[test]
    fn copy_from_stdin() {
        let data = "1\t'quoted; text'\n2\t\"x\";$$\n3\t-- not a comment\n";
        let sql =
            format!("CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM stdin;\n{data}\\.\nSELECT count(*) FROM t;\n");
        let all = split(&sql).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(&sql[all[1].span.clone()], "COPY t (a, b) FROM stdin");
        assert_eq!(&sql[all[1].copy_data.clone().unwrap()], data);
        assert_eq!(&sql[all[2].span.clone()], "SELECT count(*) FROM t");
        assert_eq!(all[0].copy_data, None);
        assert_eq!(all[2].copy_data, None);

        // Options after STDIN, a comment after the `;`, an empty data block, terminator at EOF.
        let sql = "copy public.t from STDIN with (format csv); -- data\n\\.";
        let s = one(sql);
        assert_eq!(&sql[s.span.clone()], "copy public.t from STDIN with (format csv)");
        assert_eq!(s.copy_data, Some(52..52));

        // `\.` only counts on a line of its own.
        let sql = "COPY t FROM stdin;\na\\.\n \\.\n\\.\nSELECT 1";
        let all = split(sql).unwrap();
        assert_eq!(&sql[all[0].copy_data.clone().unwrap()], "a\\.\n \\.\n");
        assert_eq!(&sql[all[1].span.clone()], "SELECT 1");

        // COPY TO STDOUT and COPY FROM a file have no inline data.
        let sql = "COPY t TO STDOUT; COPY t FROM 'data/stdin.csv'; COPY (SELECT * FROM stdin) TO STDOUT; SELECT 1";
        let all = split(sql).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|s| s.copy_data.is_none()));
    }

    #[test]
    fn copy_from_stdin_crlf() {
        let sql = "COPY t FROM stdin;\r\n1\t2\r\n3\t4\r\n\\.\r\nSELECT 1;\r\n";
        let all = split(sql).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(&sql[all[0].copy_data.clone().unwrap()], "1\t2\r\n3\t4\r\n");
        assert_eq!(&sql[all[1].span.clone()], "SELECT 1");
    }

    #[test]
    fn unterminated_string() {
        let sql = "SELECT 1;\nSELECT 'abc;\nSELECT 2;";
        assert_eq!(err(sql), SplitError::UnterminatedString { offset: 17 });
        assert_eq!(err(r"SELECT E'abc\'"), SplitError::UnterminatedString { offset: 7 });
        assert_eq!(err(r"SELECT E'abc\"), SplitError::UnterminatedString { offset: 7 });
        assert_eq!(err("SELECT 'it''"), SplitError::UnterminatedString { offset: 7 });
        assert_eq!(err("SELECT x, U&'abc"), SplitError::UnterminatedString { offset: 10 });
        assert_eq!(err("SELECT B'01"), SplitError::UnterminatedString { offset: 7 });
    }

    #[test]
    fn unterminated_identifier() {
        assert_eq!(err("SELECT 1; SELECT \"abc;"), SplitError::UnterminatedIdentifier { offset: 17 });
        assert_eq!(err("SELECT U&\"a\"\""), SplitError::UnterminatedIdentifier { offset: 7 });
    }

    #[test]
    fn unterminated_dollar_quote() {
        let sql = "SELECT 1;\nDO $body$ BEGIN NULL; END $bod$;\n";
        let e = err(sql);
        assert_eq!(e, SplitError::UnterminatedDollarQuote { offset: 13, tag: "$body$".into() });
        assert_eq!(e.to_string(), "unterminated dollar-quoted string $body$ (started here)");
        assert_eq!(err("SELECT $$ x $ $"), SplitError::UnterminatedDollarQuote { offset: 7, tag: "$$".into() });
    }

    #[test]
    fn unterminated_comment() {
        assert_eq!(err("SELECT 1; /* a /* b */ c"), SplitError::UnterminatedComment { offset: 10 });
        assert_eq!(err("/*/"), SplitError::UnterminatedComment { offset: 0 });
        assert_eq!(err("SELECT 1 /*"), SplitError::UnterminatedComment { offset: 9 });
    }

    #[test]
    fn unterminated_copy_data() {
        let e = err("SELECT 1;\nCOPY t FROM stdin;\n1\n2\n");
        assert_eq!(e, SplitError::UnterminatedCopyData { offset: 10 });
        assert_eq!(e.offset(), 10);
        assert_eq!(err("COPY t FROM stdin;"), SplitError::UnterminatedCopyData { offset: 0 });
        assert_eq!(err("COPY t FROM stdin;\n1\n\\.x"), SplitError::UnterminatedCopyData { offset: 0 });
        // The final statement may lack a `;`, but then there is no data.
        assert_eq!(err("  COPY t FROM stdin"), SplitError::UnterminatedCopyData { offset: 2 });
        // Something other than whitespace or a comment after the `;` on the COPY line.
        assert_eq!(err("COPY t FROM stdin; SELECT 1;\n\\.\n"), SplitError::UnterminatedCopyData { offset: 19 });
    }

    #[test]
    fn psql_meta_commands() {
        let e = err("\\i other.sql\nSELECT 1;");
        assert_eq!(e, SplitError::PsqlMetaCommand { offset: 0, command: "\\i".into() });
        assert!(e.to_string().contains("\\i is not SQL"));
        assert_eq!(
            err("SELECT 1;\n-- switch\n  \\connect other\nSELECT 2;"),
            SplitError::PsqlMetaCommand { offset: 22, command: "\\connect".into() }
        );
        assert_eq!(err("\\set ON_ERROR_STOP on"), SplitError::PsqlMetaCommand { offset: 0, command: "\\set".into() });
        // psql also runs a backslash in the middle of a statement.
        assert_eq!(
            err("SELECT 'x' AS a \\gset\n"),
            SplitError::PsqlMetaCommand { offset: 16, command: "\\gset".into() }
        );
        assert_eq!(err("\\\\"), SplitError::PsqlMetaCommand { offset: 0, command: "\\\\".into() });
        assert_eq!(err("\\"), SplitError::PsqlMetaCommand { offset: 0, command: "\\".into() });
        // pg_dump's own restriction lines are passed over; another backslash line is still refused.
        let dump = "\\restrict AbC123\nSET x = 1;\n\\unrestrict AbC123\n";
        assert_eq!(texts(dump), ["SET x = 1"]);
        assert_eq!(err("\\restricted\n"), SplitError::PsqlMetaCommand { offset: 0, command: "\\restricted".into() });
        // Backslashes in strings, comments and dollar quotes are not meta-commands.
        assert_eq!(texts(r"SELECT '\i', E'\\', $$\x$$ /* \c */ -- \q"), [r"SELECT '\i', E'\\', $$\x$$"]);
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(split(""), Ok(vec![]));
        assert_eq!(split("  \n\t\r\n"), Ok(vec![]));
        assert_eq!(split("-- only a comment\n/* and /* another */ */\n-- end"), Ok(vec![]));
        assert_eq!(split(";;\n ; -- x\n;"), Ok(vec![]));
        assert_eq!(texts(";;SELECT 1;;\n;SELECT 2;;"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn no_trailing_semicolon() {
        assert_eq!(texts("SELECT 1"), ["SELECT 1"]);
        assert_eq!(texts("SELECT 1; SELECT 2 -- done\n"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(texts("SELECT 1; SELECT 2 /* done */"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn crlf() {
        let sql = "SELECT 1;\r\nSELECT 'a\r\nb';\r\n-- c\r\nSELECT\r\n  3\r\n";
        assert_eq!(texts(sql), ["SELECT 1", "SELECT 'a\r\nb'", "SELECT\r\n  3"]);
    }

    #[test]
    fn non_ascii() {
        let sql =
            "SELECT 'héllo; wörld' AS «x»;\nINSERT INTO naïve VALUES ('日本語;'), (\"ÿ;\");\nSELECT café→1 FROM über";
        let all = split(sql).unwrap();
        let got: Vec<&str> = all.iter().map(|s| &sql[s.span.clone()]).collect();
        assert_eq!(
            got,
            [
                "SELECT 'héllo; wörld' AS «x»",
                "INSERT INTO naïve VALUES ('日本語;'), (\"ÿ;\")",
                "SELECT café→1 FROM über",
            ]
        );
        for s in &all {
            assert!(sql.is_char_boundary(s.span.start) && sql.is_char_boundary(s.span.end));
        }
        assert_eq!(all[0].words().as_slice(), ["SELECT", "AS", "«X»"]);
        assert_eq!(all[1].words().as_slice(), ["INSERT", "INTO", "NAïVE", "VALUES"]);
        assert_eq!(all[2].words().as_slice(), ["SELECT", "CAFé→1", "FROM", "üBER"]);
        // Non-ASCII dollar-quote tags.
        assert_eq!(texts("SELECT $é$;$é$; SELECT 2"), ["SELECT $é$;$é$", "SELECT 2"]);
    }

    #[test]
    fn words_contents() {
        assert_eq!(
            words("create unique index concurrently \"Idx\" on t (lower(name))"),
            ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", "ON", "T", "LOWER", "NAME"]
        );
        assert_eq!(
            words("INSERT INTO s.t(a, _b) VALUES (1, 'x y', E'z', $$w v$$, 2.5e3, .5, 1_000, 0x1F, $1) -- c d\n"),
            ["INSERT", "INTO", "S", "T", "A", "_B", "VALUES"]
        );
        assert_eq!(words("SELECT 1 /* a b */ , x::int"), ["SELECT", "X", "INT"]);
        let long = format!("SELECT {}", (0..40).map(|k| format!("c{k}")).collect::<Vec<_>>().join(", "));
        let w = words(&long);
        assert_eq!(w.len(), 24);
        assert_eq!(w[0], "SELECT");
        assert_eq!(w[23], "C22");
    }

    #[test]
    fn no_transaction_reasons() {
        let yes = [
            ("CREATE INDEX CONCURRENTLY i ON t (c)", "CREATE INDEX CONCURRENTLY"),
            ("create unique index concurrently if not exists i on t(c)", "CREATE INDEX CONCURRENTLY"),
            ("CREATE INDEX CONCURRENTLY ON t (c)", "CREATE INDEX CONCURRENTLY"),
            ("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"),
            ("REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"),
            ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
            ("REINDEX (CONCURRENTLY) TABLE t", "REINDEX CONCURRENTLY"),
            ("REINDEX SCHEMA public", "REINDEX SCHEMA"),
            ("REINDEX DATABASE db", "REINDEX DATABASE"),
            ("REINDEX SYSTEM", "REINDEX SYSTEM"),
            ("VACUUM", "VACUUM"),
            ("VACUUM (ANALYZE, VERBOSE) t", "VACUUM"),
            ("vacuum full t", "VACUUM"),
            ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
            ("CREATE DATABASE d", "CREATE DATABASE"),
            ("DROP DATABASE IF EXISTS d WITH (FORCE)", "DROP DATABASE"),
            ("ALTER DATABASE d SET TABLESPACE fast", "ALTER DATABASE SET TABLESPACE"),
            ("ALTER DATABASE \"D\" SET TABLESPACE fast", "ALTER DATABASE SET TABLESPACE"),
            ("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE"),
            ("DROP TABLESPACE fast", "DROP TABLESPACE"),
            ("CLUSTER", "CLUSTER without a table name"),
            ("CLUSTER VERBOSE", "CLUSTER without a table name"),
            ("CLUSTER (VERBOSE)", "CLUSTER without a table name"),
            ("ALTER TABLE ONLY m DETACH PARTITION m_2020 CONCURRENTLY", "ALTER TABLE DETACH PARTITION CONCURRENTLY"),
            ("CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", "CREATE SUBSCRIPTION"),
            ("DROP SUBSCRIPTION IF EXISTS s", "DROP SUBSCRIPTION"),
            ("ALTER SUBSCRIPTION s REFRESH PUBLICATION", "ALTER SUBSCRIPTION ... REFRESH PUBLICATION"),
            (
                "ALTER SUBSCRIPTION s REFRESH PUBLICATION WITH (copy_data = false)",
                "ALTER SUBSCRIPTION ... REFRESH PUBLICATION",
            ),
            ("ALTER SUBSCRIPTION s SET PUBLICATION p", "ALTER SUBSCRIPTION with refresh"),
            ("ALTER SUBSCRIPTION s ADD PUBLICATION p2", "ALTER SUBSCRIPTION with refresh"),
            ("DISCARD ALL", "DISCARD ALL"),
            ("COMMIT PREPARED 'tx1'", "COMMIT PREPARED"),
            ("ROLLBACK PREPARED 'tx1'", "ROLLBACK PREPARED"),
        ];
        for (sql, label) in yes {
            assert_eq!(reason(sql), Some(label), "{sql}");
        }
        let no = [
            "CREATE INDEX i ON t(c)",
            "CREATE UNIQUE INDEX i ON t (c) WHERE concurrently",
            "CREATE TABLE concurrently_t (a int)",
            "DROP INDEX i",
            "DROP TABLE t",
            "REINDEX INDEX i",
            "REINDEX TABLE t",
            "REINDEX (CONCURRENTLY false) TABLE t",
            "REINDEX TABLE CONCURRENTLY_x",
            "ANALYZE t",
            "ALTER TABLE t ADD COLUMN c int",
            "ALTER TABLE m DETACH PARTITION m_2020",
            "ALTER DATABASE d SET work_mem = '1MB'",
            "ALTER DATABASE d RENAME TO e",
            "ALTER SUBSCRIPTION s DISABLE",
            "ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)",
            "CLUSTER t",
            "CLUSTER VERBOSE t USING i",
            "DISCARD TEMP",
            "COMMIT",
            "SELECT 'VACUUM'",
            "CREATE TABLE database (a int)",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        ];
        for sql in no {
            assert_eq!(reason(sql), None, "{sql}");
        }
    }

    #[test]
    fn transaction_controls() {
        use TransactionControl::*;
        let cases = [
            ("BEGIN", Some(Begin)),
            ("begin work", Some(Begin)),
            ("BEGIN ISOLATION LEVEL SERIALIZABLE", Some(Begin)),
            ("START TRANSACTION READ ONLY", Some(Begin)),
            ("COMMIT", Some(Commit)),
            ("COMMIT AND CHAIN", Some(Commit)),
            ("END", Some(Commit)),
            ("end transaction", Some(Commit)),
            ("ROLLBACK", Some(Rollback)),
            ("ROLLBACK WORK", Some(Rollback)),
            ("ABORT", Some(Rollback)),
            ("SAVEPOINT s", Some(Savepoint)),
            ("RELEASE SAVEPOINT s", Some(Savepoint)),
            ("RELEASE s", Some(Savepoint)),
            ("ROLLBACK TO SAVEPOINT s", Some(Savepoint)),
            ("ROLLBACK WORK TO s", Some(Savepoint)),
            ("PREPARE TRANSACTION 'tx'", Some(Other)),
            ("COMMIT PREPARED 'tx'", Some(Other)),
            ("ROLLBACK PREPARED 'tx'", Some(Other)),
            ("BEGIN ATOMIC", None),
            ("END IF", None),
            ("END LOOP", None),
            ("START foo", None),
            ("PREPARE q AS SELECT 1", None),
            ("SELECT 1", None),
            ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", None),
            ("CREATE TABLE begin (a int)", None),
        ];
        for (sql, expected) in cases {
            assert_eq!(control(sql), expected, "{sql}");
        }
    }

    #[test]
    fn error_offsets_and_messages() {
        let cases = [
            (SplitError::UnterminatedString { offset: 1 }, "unterminated quoted string (started here)"),
            (SplitError::UnterminatedIdentifier { offset: 2 }, "unterminated quoted identifier (started here)"),
            (SplitError::UnterminatedComment { offset: 3 }, "unterminated /* comment (started here)"),
            (SplitError::UnterminatedCopyData { offset: 4 }, "COPY data is not terminated by a line holding only \\."),
        ];
        for (k, (e, message)) in cases.into_iter().enumerate() {
            assert_eq!(e.offset(), k + 1);
            assert_eq!(e.to_string(), message);
        }
        let e = SplitError::PsqlMetaCommand { offset: 5, command: "\\i".into() };
        assert_eq!(e.offset(), 5);
        let e = SplitError::UnterminatedDollarQuote { offset: 6, tag: "$$".into() };
        assert_eq!(e.offset(), 6);
    }

    /// Tiny deterministic generator (xorshift64*), so the property test needs no extra crate.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        }
    }

    #[test]
    fn random_concatenations_split_back_exactly() {
        const SNIPPETS: &[&str] = &[
            "SELECT 1",
            "select 'a;b' || E'c\\';d' || 'C:\\'",
            "SELECT \"we\"\"ird;\" FROM \"t;\"",
            "SELECT $$x;y$$, $t$ $$ ; $t$, $1",
            "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql",
            "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; INSERT INTO t VALUES (1); END",
            "DO $$ BEGIN PERFORM 1; END $$",
            "INSERT INTO t (a, b) VALUES (1, ';'), (2, $$;$$)",
            "SELECT 1 /* in; /* nested; */ comment */ + 2",
            "SELECT 1 -- trailing; comment\n + 2",
            "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b)",
            "SELECT 'héllo; wörld', \"naïve;\", ünïcode",
            "BEGIN",
            "COMMIT",
            "SELECT a$b$c FROM t WHERE x = $2",
            "SELECT U&'\\0041;', B'01', X'FF', N'x;'",
            "UPDATE t SET a = 'it''s;'\r\n WHERE b",
        ];
        const SEPARATORS: &[&str] = &[";\n", ";", " ;\n\n", ";\r\n", "; -- c;\n", ";/* c; */", ";\n;\n"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let count = 1 + rng.below(8);
            let mut sql = String::new();
            let mut expected = Vec::new();
            for k in 0..count {
                if k == 0 && rng.below(3) == 0 {
                    sql.push_str(["-- lead;\n", "  ", "/* lead; */\n", ";"][rng.below(4)]);
                }
                let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
                expected.push((sql.len()..sql.len() + snippet.len(), snippet));
                sql.push_str(snippet);
                // The last statement sometimes has no `;`.
                if k + 1 < count || rng.below(2) == 0 {
                    sql.push_str(SEPARATORS[rng.below(SEPARATORS.len())]);
                }
            }
            let got = split(&sql).unwrap_or_else(|e| panic!("{e:?} for {sql:?}"));
            assert_eq!(got.len(), expected.len(), "{sql:?}");
            for (s, (span, text)) in got.iter().zip(&expected) {
                assert_eq!(&s.span, span, "{sql:?}");
                assert_eq!(&sql[s.span.clone()], *text);
                assert_eq!(s.copy_data, None);
            }
        }
    }

    #[test]
    fn an_offset_in_a_comment() {
        let sql = "SELECT '${a}' -- ${b}\n/* ${c} */ FROM t;";
        assert!(!in_comment(sql, sql.find("${a}").unwrap()), "in a string literal");
        assert!(in_comment(sql, sql.find("${b}").unwrap()));
        assert!(in_comment(sql, sql.find("${c}").unwrap()));
        assert!(!in_comment(sql, sql.find("FROM").unwrap()));
    }

    #[test]
    fn jdbc_question_marks_are_sent_as_the_driver_sends_them() {
        let sql = "CREATE INDEX i ON t (id) WHERE d ?? 'k' AND d ??| array['a'] AND d??&array['b'];";
        let sent = as_jdbc_sends(sql).unwrap();
        assert_eq!(sent, "CREATE INDEX i ON t (id) WHERE d  ? 'k' AND d  ?| array['a'] AND d ?&array['b'];");
        assert_eq!(sent.len(), sql.len());
        // Literals, names, comments and dollar quotes keep theirs; a text without `??` is as it is.
        let kept = "SELECT '??', \"a??\" -- ??\n/* ?? */ FROM f($$ SELECT d ?? 'k' $$);";
        assert_eq!(as_jdbc_sends(kept), None);
        assert_eq!(as_jdbc_sends("SELECT d ? 'k'"), None);
    }
}
