//! `shale lint --fix`: the safe form of a finding, written into its file. Pure: a file's text and
//! its findings in; the edits, what each does, and why the others were left alone out.
//!
//! Each rule with a mechanical safe form has a fixer beside it (`rules/<rule>.rs`) that turns its
//! finding's statement into edits. This module runs them over one file, keeps their edits from
//! overlapping, makes the file run outside a transaction when a fix needs that (and refuses when
//! another statement of the file must stay in the file's transaction), and checks that the result
//! still parses. Statements no fix touches keep their bytes, comments and formatting.

use std::ops::Range;
use std::path::PathBuf;

use pg_query::protobuf::{AlterTableType, ColumnDef, ObjectType, RangeVar, Token};
use pg_query::NodeEnum;
use shale_core::ident::ident;
use shale_core::layout::Script;
use shale_core::split::TransactionControl;

use crate::effect::alter_type;
use crate::Finding;

/// Replace `range` of the file's text with `text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// A finding fixed: where it was and what the fix did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fixed {
    pub rule: &'static str,
    pub line: usize,
    pub column: usize,
    pub description: String,
}

/// A finding with a fix that was not applied, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refused {
    pub rule: &'static str,
    pub line: usize,
    pub column: usize,
    /// Why, and what to change by hand, in words for any application.
    pub reason: String,
    /// When fixing again helps (`None`: it does not): a front end says how in its own words, so
    /// `reason` does not; [`Refused::text`] says it in words for any application.
    #[serde(skip)]
    pub again: Option<Again>,
}

/// When running the fixer again fixes a finding it refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// Once the file is changed as the reason says.
    AfterChange,
    /// On the file as this run's fixes leave it: another fix rewrote the same part of the statement.
    AfterThisRun,
    /// On the migration of its own that the reason says to move the statement to.
    InItsOwnMigration,
}

impl Refused {
    /// The reason, then when fixing again helps, in words for any application.
    pub fn text(&self) -> String {
        let again = match self.again {
            None => "",
            Some(Again::AfterChange) => ", then fix it again",
            Some(Again::AfterThisRun) => ": fix the file again after this run",
            Some(Again::InItsOwnMigration) => ", then fix that one",
        };
        format!("{}{again}", self.reason)
    }
}

/// Why a fixer did not rewrite a finding's statement ([`Refused`] without the finding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub reason: String,
    pub again: Option<Again>,
}

impl Refusal {
    /// Refused until the file is changed as `reason` says.
    pub fn until_changed(reason: impl Into<String>) -> Refusal {
        Refusal { reason: reason.into(), again: Some(Again::AfterChange) }
    }
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal { reason, again: None }
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        reason.to_string().into()
    }
}

/// What `--fix` does to one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileFix {
    pub path: PathBuf,
    /// The file's text after the edits (its normalized text: no BOM, LF line ends).
    #[serde(skip)]
    pub text: String,
    /// Against the normalized text, in file order.
    pub edits: Vec<Edit>,
    pub fixed: Vec<Fixed>,
    pub refused: Vec<Refused>,
    /// The fixes made the file run outside a transaction (`-- shale:no-transaction` added).
    pub no_transaction_added: bool,
}

impl FileFix {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// What the fixer knows about the target.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Major version of the target PostgreSQL; None assumes a current server.
    pub pg_major: Option<u32>,
    /// Whether the file runs in a transaction is said outside it (diesel's `metadata.toml`): a
    /// fix that needs it outside one sets [`FileFix::no_transaction_added`] and adds no
    /// `-- shale:no-transaction` line, for the caller to say it there.
    pub transaction_set_outside: bool,
}

/// Which part of its statement a finding is about, when the statement has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A node's location (byte offset in the statement): a column or a constraint.
    At(usize),
    /// The n-th command of an ALTER TABLE (or the n-th object of a DROP).
    Command(usize),
}

/// One finding's statement, as a fixer sees it.
pub(crate) struct Target<'a> {
    /// The whole file.
    pub text: &'a str,
    /// The statement's bytes in the file (without its `;`).
    pub span: Range<usize>,
    pub part: Option<Part>,
    pub node: &'a NodeEnum,
    /// The statement's tokens, comments left out, with ranges in the file.
    pub tokens: Vec<Tok>,
    pub options: &'a FixOptions,
}

/// What a fixer does to a finding's statement.
pub(crate) struct Rewrite {
    pub edits: Vec<Edit>,
    pub description: String,
    /// The fix helps only when its statements commit one by one: a NOT VALID constraint must be
    /// committed (its strong lock let go) before VALIDATE scans; CONCURRENTLY cannot run in a
    /// transaction at all.
    pub outside_transaction: bool,
}

pub(crate) type Fixer = fn(&Target) -> Result<Rewrite, Refusal>;

/// A token of the statement: its kind and its bytes in the file.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub kind: Token,
    pub range: Range<usize>,
}

impl Target<'_> {
    /// A node location of the statement as an offset in the file.
    pub fn file_offset(&self, location: i32) -> usize {
        self.span.start + usize::try_from(location).unwrap_or(0)
    }

    /// The text of token `i`.
    pub fn tok(&self, i: usize) -> &str {
        self.tokens.get(i).map_or("", |t| &self.text[t.range.clone()])
    }

    /// Token `i` is this keyword (any case; a quoted identifier never is).
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.tok(i).eq_ignore_ascii_case(word)
    }

    /// The index of the first token at or after byte `offset` of the file.
    pub fn token_at(&self, offset: usize) -> Option<usize> {
        self.tokens.iter().position(|t| t.range.start >= offset)
    }

    /// Insert `text` just after token `i`.
    pub fn insert_after(&self, i: usize, text: &str) -> Edit {
        let at = self.tokens[i].range.end;
        Edit { range: at..at, text: text.to_string() }
    }

    /// The end (in the file) of the list item that starts at token `from`: the last token before a
    /// `,` or an unmatched `)` at its own depth, or the statement's last token.
    pub fn item_end(&self, from: usize) -> usize {
        let mut depth = 0i32;
        let mut end = self.tokens.get(from).map_or(self.span.end, |t| t.range.end);
        for t in &self.tokens[from..] {
            match t.kind {
                Token::Ascii40 | Token::Ascii91 => depth += 1,
                Token::Ascii41 | Token::Ascii93 if depth == 0 => break,
                Token::Ascii41 | Token::Ascii93 => depth -= 1,
                Token::Ascii44 | Token::Ascii59 if depth == 0 => break,
                _ => {}
            }
            end = t.range.end;
        }
        end
    }

    /// Where a statement added after this one goes, and the text that puts `sql` there: after the
    /// `;` (and after a comment closing that line), or, when the file's last statement has no `;`,
    /// right after it with one.
    pub fn then(&self, sql: &str) -> Edit {
        let rest = &self.text[self.span.end..];
        let gap = rest.len() - rest.trim_start().len();
        if !rest[gap..].starts_with(';') {
            return Edit { range: self.span.end..self.span.end, text: format!(";\n{sql}") };
        }
        let after = self.span.end + gap + 1;
        let line_end = self.text[after..].find('\n').map_or(self.text.len(), |n| after + n);
        let tail = self.text[after..line_end].trim();
        let at = if tail.is_empty() || tail.starts_with("--") { line_end } else { after };
        Edit { range: at..at, text: format!("\n{sql};") }
    }

    /// `ALTER TABLE [IF EXISTS] [ONLY] name` for statements on the same table as this ALTER TABLE.
    pub fn alter_table_prefix(&self) -> Result<String, String> {
        let NodeEnum::AlterTableStmt(s) = self.node else { return Err("not an ALTER TABLE".into()) };
        let r = s.relation.as_ref().ok_or("an ALTER TABLE without a table")?;
        let words = if s.missing_ok { "ALTER TABLE IF EXISTS" } else { "ALTER TABLE" };
        Ok(format!("{} {}", self.kw(words), relation(r, &self.kw("ONLY "))))
    }

    /// The ALTER TABLE command this finding is about.
    pub fn command(&self) -> Option<(AlterTableType, &pg_query::protobuf::AlterTableCmd)> {
        let NodeEnum::AlterTableStmt(s) = self.node else { return None };
        let commands: Vec<_> = s
            .cmds
            .iter()
            .filter_map(|c| match c.node.as_ref() {
                Some(NodeEnum::AlterTableCmd(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect();
        let found = match self.part? {
            Part::Command(n) => commands.get(n).copied(),
            Part::At(at) => commands.into_iter().find(|c| match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::Constraint(k)) => usize::try_from(k.location).ok() == Some(at),
                Some(NodeEnum::ColumnDef(col)) => usize::try_from(col.location).ok() == Some(at),
                _ => false,
            }),
        }?;
        Some((alter_type(found.subtype), found))
    }

    /// The number of commands of this ALTER TABLE.
    pub fn command_count(&self) -> usize {
        match self.node {
            NodeEnum::AlterTableStmt(s) => s.cmds.len(),
            _ => 0,
        }
    }

    /// The column definition this finding is about (in CREATE TABLE or ADD COLUMN).
    pub fn column(&self) -> Option<&ColumnDef> {
        let Some(Part::At(at)) = self.part else { return None };
        let here = |c: &&ColumnDef| usize::try_from(c.location).ok() == Some(at);
        match self.node {
            NodeEnum::CreateStmt(s) => s.table_elts.iter().find_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => Some(c.as_ref()).filter(here),
                _ => None,
            }),
            _ => {
                let (_, c) = self.command()?;
                match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::ColumnDef(col)) => Some(col.as_ref()).filter(here),
                    _ => None,
                }
            }
        }
    }

    /// Keywords (written upper-case) in the case of the statement's first word.
    pub fn kw(&self, sql: &str) -> String {
        match self.tokens.first() {
            Some(first) => self.cased(first.range.clone(), sql),
            None => sql.to_string(),
        }
    }

    /// `sql` (written upper-case) in the case of the text at `like`: lower-case when that is.
    pub fn cased(&self, like: Range<usize>, sql: &str) -> String {
        let written = &self.text[like];
        if written.bytes().any(|b| b.is_ascii_lowercase()) && !written.bytes().any(|b| b.is_ascii_uppercase()) {
            sql.to_ascii_lowercase()
        } else {
            sql.to_string()
        }
    }

    /// The bytes (in the file) of a column's type as written: from its location through its
    /// name words, a parenthesized modifier and array brackets.
    pub fn type_range(&self, col: &ColumnDef) -> Option<Range<usize>> {
        let t = col.type_name.as_ref()?;
        let first = self.token_at(self.file_offset(t.location))?;
        let mut i = first;
        let mut end = self.tokens[first].range.end;
        // Name words (`character varying`, `pg_catalog.int4`, `"char"`).
        while let Some(tok) = self.tokens.get(i) {
            let word = matches!(tok.kind, Token::Ident) || self.is_word(i);
            if (word && !STOP.iter().any(|w| self.is(i, w))) || tok.kind == Token::Ascii46 {
                end = tok.range.end;
                i += 1;
            } else {
                break;
            }
        }
        // `(n)` and `[]`s.
        while matches!(self.tokens.get(i).map(|t| t.kind), Some(Token::Ascii40 | Token::Ascii91)) {
            let close = if self.tokens[i].kind == Token::Ascii40 { Token::Ascii41 } else { Token::Ascii93 };
            let j = (i..self.tokens.len()).find(|&j| self.tokens[j].kind == close)?;
            end = self.tokens[j].range.end;
            i = j + 1;
        }
        Some(self.tokens[first].range.start..end)
    }

    /// Token `i` is a bare word (a keyword or an unquoted name).
    fn is_word(&self, i: usize) -> bool {
        let t = self.tok(i);
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !t.as_bytes()[0].is_ascii_digit()
    }
}

/// Words that end a column's type: what may follow it in a column definition.
const STOP: &[&str] = &[
    "CONSTRAINT",
    "NOT",
    "NULL",
    "DEFAULT",
    "CHECK",
    "UNIQUE",
    "PRIMARY",
    "REFERENCES",
    "GENERATED",
    "COLLATE",
    "STORAGE",
    "COMPRESSION",
    "OPTIONS",
    "DEFERRABLE",
    "INITIALLY",
];

/// `[ONLY] [schema.]name`, quoted where needed.
pub(crate) fn relation(r: &RangeVar, only: &str) -> String {
    let only = if r.inh { "" } else { only };
    let schema = if r.schemaname.is_empty() { String::new() } else { format!("{}.", ident(&r.schemaname)) };
    format!("{only}{schema}{}", ident(&r.relname))
}

/// The statement's tokens with ranges in the file, comments left out.
fn tokens(text: &str, span: &Range<usize>) -> Result<Vec<Tok>, String> {
    let scanned = pg_query::scan(&text[span.clone()]).map_err(|e| e.to_string())?;
    Ok(scanned
        .tokens
        .iter()
        .filter_map(|t| {
            let kind = Token::try_from(t.token).unwrap_or(Token::Nul);
            let range = span.start + usize::try_from(t.start).ok()?..span.start + usize::try_from(t.end).ok()?;
            (!matches!(kind, Token::SqlComment | Token::CComment)).then_some(Tok { kind, range })
        })
        .collect())
}

/// Why `node`, another statement of a file the fixes would take out of its transaction, must
/// stay in it; None when it may run by itself. A statement that only adds (a table, an index, a
/// column, a constraint, a comment) leaves nothing half done when a later one fails: `shale up`
/// resumes the file at the failed statement. One that changes data, drops, renames or runs code
/// would stay applied without the rest.
fn must_stay_in_transaction(node: &NodeEnum) -> Option<&'static str> {
    match node {
        NodeEnum::IndexStmt(_)
        | NodeEnum::CreateStmt(_)
        | NodeEnum::CreateSeqStmt(_)
        | NodeEnum::CreateEnumStmt(_)
        | NodeEnum::CompositeTypeStmt(_)
        | NodeEnum::CreateDomainStmt(_)
        | NodeEnum::CreateExtensionStmt(_)
        | NodeEnum::CreateSchemaStmt(_)
        | NodeEnum::CommentStmt(_)
        | NodeEnum::VariableSetStmt(_) => None,
        NodeEnum::DropStmt(s)
            if ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) == ObjectType::ObjectIndex =>
        {
            None
        }
        NodeEnum::AlterTableStmt(s) => {
            let adds_only = s.cmds.iter().all(|c| match c.node.as_ref() {
                Some(NodeEnum::AlterTableCmd(c)) => matches!(
                    alter_type(c.subtype),
                    AlterTableType::AtAddColumn
                        | AlterTableType::AtAddConstraint
                        | AlterTableType::AtValidateConstraint
                        | AlterTableType::AtColumnDefault
                        | AlterTableType::AtSetNotNull
                ),
                _ => false,
            });
            (!adds_only).then_some("it changes the table in a way that is more than an addition")
        }
        NodeEnum::InsertStmt(_) | NodeEnum::UpdateStmt(_) | NodeEnum::DeleteStmt(_) | NodeEnum::MergeStmt(_) => {
            Some("it changes data")
        }
        NodeEnum::CopyStmt(_) => Some("it loads data"),
        NodeEnum::DropStmt(_) | NodeEnum::TruncateStmt(_) => Some("it drops something"),
        NodeEnum::RenameStmt(_) => Some("it renames something"),
        NodeEnum::DoStmt(_) | NodeEnum::SelectStmt(_) | NodeEnum::CallStmt(_) => Some("it runs code"),
        _ => Some("it is not a plain addition"),
    }
}

/// The file declares its sections for another tool (dbmate, goose, Liquibase's changesets): a
/// `-- shale:` line would cover more than the fixed part, so the fixer does not add one.
fn sectioned(text: &str) -> Option<&'static str> {
    if shale_core::layout::is_liquibase_changelog(text) {
        return Some("Liquibase");
    }
    shale_core::layout::section_tool(text)
}

/// The fixes of one file's findings. `findings` may hold other files' too: only this script's are
/// fixed, allowed ones never.
pub fn fix(script: &Script, findings: &[Finding], options: &FixOptions) -> FileFix {
    let text: &str = &script.text;
    let mut out = FileFix {
        path: script.path.clone(),
        text: text.to_string(),
        edits: Vec::new(),
        fixed: Vec::new(),
        refused: Vec::new(),
        no_transaction_added: false,
    };
    // (finding, its rewrite, its statement's span)
    let mut accepted: Vec<(&Finding, Rewrite)> = Vec::new();
    let refuse = |out: &mut FileFix, f: &Finding, refusal: Refusal| {
        let Refusal { reason, again } = refusal;
        out.refused.push(Refused { rule: f.rule, line: f.line, column: f.column, reason, again })
    };
    // (Another section of the same file, a dbmate down, is another script, whose transaction is its own.)
    for f in findings.iter().filter(|f| f.path == script.path && script.holds(f.span.start) && !f.allowed) {
        let Some(fixer) = crate::rule(f.rule).and_then(|r| r.fixer) else {
            // A blocking finding left is said, so that the count of those not fixed adds up
            // (partitioned tables trial: "0 not fixed", then "1 blocking finding left").
            if f.severity == crate::Severity::Error {
                refuse(
                    &mut out,
                    f,
                    Refusal::from("this rule has no automatic fix: the way is in its advice (`shale lint`)"),
                );
            }
            continue;
        };
        if f.advised_here {
            let why = "PostgreSQL refuses the rule's usual safe form on this table (a partitioned one): write the \
                       way the finding gives by hand";
            refuse(&mut out, f, Refusal::from(why));
            continue;
        }
        if f.in_do_block {
            let why = "the statement is one a DO block runs, inside the block's transaction whatever the file \
                       says: rewrite it by hand (a CONCURRENTLY form belongs outside the block, in a file of its own)";
            refuse(&mut out, f, Refusal::until_changed(why));
            continue;
        }
        let rewrite = parse(text, f.span.clone()).map_err(Refusal::from).and_then(|(node, tokens)| {
            fixer(&Target { text, span: f.span.clone(), part: f.part, node: &node, tokens, options })
        });
        match rewrite {
            Err(reason) => refuse(&mut out, f, reason),
            Ok(r) if accepted.iter().any(|(_, a)| overlap(&a.edits, &r.edits)) => refuse(
                &mut out,
                f,
                Refusal {
                    reason: "another fix rewrites the same part of this statement".into(),
                    again: Some(Again::AfterThisRun),
                },
            ),
            Ok(r) => accepted.push((f, r)),
        }
    }

    // Fixes that need the file outside a transaction.
    let needs = |r: &Rewrite| r.outside_transaction;
    if accepted.iter().any(|(_, r)| needs(r)) {
        let blocks = explicit_blocks(script);
        let why_not = if script.no_transaction.is_some() {
            None
        } else if let Some(tool) = sectioned(text) {
            let how = match tool {
                "Liquibase" => "per changeset: add `runInTransaction:false` to its `--changeset` line",
                // dbmate sends a section as one query, which PostgreSQL runs as one transaction.
                // dbmate sends a section as one query, which PostgreSQL runs in one transaction.
                "dbmate" => "with `-- migrate:up transaction:false` as its up marker, alone in it",
                "goose" => "with `-- +goose NO TRANSACTION` at the top of the file",
                "sql-migrate" => "with `-- +migrate Up notransaction` as its up marker",
                _ => "in its own words",
            };
            Some(Refusal::until_changed(format!(
                "the fix needs the statement to run outside a transaction, which a {tool} file asks for {how}: put \
                 the statement in a migration of its own and ask for it there (asked for in this file, its other \
                 statements would no longer run in one transaction), then run --fix again"
            )))
        } else {
            let owned: Vec<Range<usize>> =
                accepted.iter().filter(|(_, r)| needs(r)).map(|(f, _)| f.span.clone()).collect();
            stays_in_transaction(script, &owned)
        };
        let mut kept = Vec::new();
        for (f, r) in accepted {
            if !needs(&r) {
                kept.push((f, r));
            } else if let Some(reason) = &why_not {
                refuse(&mut out, f, reason.clone());
            } else if blocks.iter().any(|b| b.contains(&f.span.start)) {
                refuse(
                    &mut out,
                    f,
                    Refusal::until_changed(
                        "the statement stands inside the file's own BEGIN ... COMMIT, where the fix cannot help: \
                         remove them (shale runs this file statement by statement)",
                    ),
                );
            } else {
                kept.push((f, r));
            }
        }
        accepted = kept;
        if script.no_transaction.is_none() && accepted.iter().any(|(_, r)| needs(r)) {
            out.no_transaction_added = true;
        }
    }

    let mut edits: Vec<Edit> = Vec::new();
    if out.no_transaction_added && !options.transaction_set_outside {
        edits.push(Edit { range: 0..0, text: "-- shale:no-transaction\n".into() });
    }
    for (f, r) in &accepted {
        edits.extend(r.edits.iter().cloned());
        out.fixed.push(Fixed { rule: f.rule, line: f.line, column: f.column, description: r.description.clone() });
    }
    // Stable: edits at the same place keep the order they were made in.
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let new_text = apply(text, &edits);
    // The fixers never produce SQL the parser refuses; if one did, nothing is written.
    if let Err(problem) = parses(script, &new_text) {
        let reason = format!("the rewritten file would not parse ({problem}): this is a bug in shale's fixer");
        for f in std::mem::take(&mut out.fixed) {
            let reason = reason.clone();
            out.refused.push(Refused { rule: f.rule, line: f.line, column: f.column, reason, again: None });
        }
        out.no_transaction_added = false;
        return out;
    }
    out.text = new_text;
    out.edits = edits;
    out
}

/// The statement at `span` of `text`, parsed, with its tokens.
fn parse(text: &str, span: Range<usize>) -> Result<(NodeEnum, Vec<Tok>), String> {
    let parsed = pg_query::parse(&text[span.clone()], pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
    let node = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|n| n.node.clone())
        .ok_or_else(|| "an empty statement".to_string())?;
    Ok((node, tokens(text, &span)?))
}

/// Byte ranges of the file covered by its own BEGIN ... COMMIT blocks.
fn explicit_blocks(script: &Script) -> Vec<Range<usize>> {
    let mut blocks = Vec::new();
    let mut open = None;
    for s in script.statements.iter() {
        match shale_core::split::transaction_control(s) {
            Some(TransactionControl::Begin) => open = Some(s.span.start),
            Some(TransactionControl::Commit | TransactionControl::Rollback) => {
                if let Some(start) = open.take() {
                    blocks.push(start..s.span.end);
                }
            }
            _ => {}
        }
    }
    blocks
}

/// Why the file cannot leave its transaction: the first statement not in `owned` (the fixed
/// ones) that must stay in one.
fn stays_in_transaction(script: &Script, owned: &[Range<usize>]) -> Option<Refusal> {
    let index = shale_core::LineIndex::new(&script.text);
    if let Some(refusal) = index_built_again(script, &index) {
        return Some(refusal);
    }
    for (i, s) in script.statements.iter().enumerate() {
        if owned.contains(&s.span) {
            continue;
        }
        let text = script.statement_text(i);
        let why = match pg_query::parse(text, pg_query::ParserOptions::DEFAULT) {
            Ok(p) => p
                .protobuf
                .stmts
                .iter()
                .filter_map(|s| s.stmt.as_ref().and_then(|n| n.node.as_ref()))
                .find_map(must_stay_in_transaction),
            Err(_) => Some("it could not be read"),
        };
        if let Some(why) = why {
            let line = index.line_col(&script.text, s.span.start).0;
            let first = text.lines().next().unwrap_or("").trim();
            return Some(Refusal {
                reason: format!(
                    "the fix needs the file to run outside a transaction, and line {line} (`{first}`) must stay in \
                     one: {why}, and would stay applied if a later statement failed. Move the statement the fix is \
                     for into a migration of its own"
                ),
                again: Some(Again::InItsOwnMigration),
            });
        }
    }
    None
}

/// An index the file drops and then builds again under its name: in a transaction the swap is
/// whole, but outside one (CONCURRENTLY) the table is without it until the new one is built, and a
/// unique one lets duplicates in meanwhile (production trial: five got in, and the build failed).
fn index_built_again(script: &Script, index: &shale_core::LineIndex) -> Option<Refusal> {
    let nodes: Vec<(usize, NodeEnum)> = (0..script.statements.len())
        .filter_map(|i| {
            let parsed = pg_query::parse(script.statement_text(i), pg_query::ParserOptions::DEFAULT).ok()?;
            let node = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.clone()?;
            Some((i, node))
        })
        .collect();
    let dropped = |node: &NodeEnum| -> Vec<String> {
        let NodeEnum::DropStmt(s) = node else { return Vec::new() };
        if ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) != ObjectType::ObjectIndex {
            return Vec::new();
        }
        s.objects
            .iter()
            .filter_map(|o| match o.node.as_ref()? {
                NodeEnum::List(l) => match l.items.last()?.node.as_ref()? {
                    NodeEnum::String(name) => Some(name.sval.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    for (i, node) in &nodes {
        for name in dropped(node) {
            // Built again under its name, or replaced by a unique one under another (the
            // re-check: `DROP INDEX old; CREATE UNIQUE INDEX new ...` let duplicates in too).
            let again = nodes
                .iter()
                .any(|(j, n)| j > i && matches!(n, NodeEnum::IndexStmt(s) if s.idxname == name || s.unique));
            if again {
                let line = index.line_col(&script.text, script.statements[*i].span.start).0;
                return Some(Refusal {
                    reason: format!(
                        "line {line} drops index {name}, which the file builds again (or replaces with a unique one): outside a transaction \
                         (CONCURRENTLY) the table would be without it until the new one is built, and a unique one \
                         would let duplicates in meanwhile. Build the new one first under another name \
                         (CREATE INDEX CONCURRENTLY {name}_new ...), then DROP INDEX CONCURRENTLY {name} and ALTER \
                         INDEX {name}_new RENAME TO {name}, as `shale diff --write` does"
                    ),
                    again: Some(Again::AfterChange),
                });
            }
        }
    }
    None
}

/// The edits overlap: a replaced range meets another edit (insertions at one point do not).
fn overlap(a: &[Edit], b: &[Edit]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            let (x, y) = (&x.range, &y.range);
            if x.is_empty() && y.is_empty() {
                return false;
            }
            x.start < y.end.max(y.start + 1) && y.start < x.end.max(x.start + 1)
        })
    })
}

/// `text` with `edits` (sorted, not overlapping) made.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.range.start]);
        out.push_str(&e.text);
        at = e.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Edits made against a file's normalized text ([`shale_core::checksum::normalize`]: no BOM, LF),
/// made on its bytes as they are: a BOM stays, and a file with CRLF line ends keeps them.
pub fn apply_to_original(original: &str, edits: &[Edit]) -> String {
    let bom = if original.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let body = &original[bom..];
    if !body.contains("\r\n") {
        let moved: Vec<Edit> = edits
            .iter()
            .map(|e| Edit { range: e.range.start + bom..e.range.end + bom, text: e.text.clone() })
            .collect();
        return apply(original, &moved);
    }
    // Offset n of the normalized text is n plus the CRs dropped before it.
    let crs: Vec<usize> = body.match_indices("\r\n").map(|(i, _)| i).collect();
    let raw = |n: usize| {
        let mut shift = 0;
        for &cr in &crs {
            if cr - shift < n {
                shift += 1;
            } else {
                break;
            }
        }
        bom + n + shift
    };
    let moved: Vec<Edit> = edits
        .iter()
        .map(|e| Edit { range: raw(e.range.start)..raw(e.range.end), text: e.text.replace('\n', "\r\n") })
        .collect();
    apply(original, &moved)
}

/// The new text loads as a migration and each of its statements parses.
fn parses(script: &Script, text: &str) -> Result<(), String> {
    let len = text.len();
    let rewritten = Script::parse(script.path.clone(), text.to_string(), 0..len, None).map_err(|e| e.to_string())?;
    for i in 0..rewritten.statements.len() {
        pg_query::parse(rewritten.statement_text(i), pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Must-fix and must-not-fix helpers for the rules' tests.

    use super::*;
    use crate::tests::script;
    use crate::{lint, lint_with, LintOptions};

    /// The file `sql` after `--fix` for `rule`'s findings (linted as a lone file: every table
    /// it does not create exists and holds data), or the reasons its fixes were refused.
    pub fn fixed(rule: &str, sql: &str) -> Result<String, Vec<String>> {
        fixed_with(rule, sql, &FixOptions::default())
    }

    pub fn fixed_with(rule: &str, sql: &str, options: &FixOptions) -> Result<String, Vec<String>> {
        let s = script("001_fix.sql", sql);
        let report = lint_with([&s], LintOptions { pg_major: options.pg_major, ..Default::default() });
        assert!(report.syntax_errors.is_empty(), "{:?}", report.syntax_errors);
        let findings: Vec<Finding> = report.findings.into_iter().filter(|f| f.rule == rule).collect();
        assert!(!findings.is_empty(), "no {rule} finding in {sql}");
        let result = fix(&s, &findings, options);
        if !result.refused.is_empty() {
            return Err(result.refused.iter().map(Refused::text).collect());
        }
        // What a fix writes is clean for its own rule (and parses, or fix would have refused).
        let again = script("001_fix.sql", &result.text);
        let left: Vec<_> = lint([&again]).findings.into_iter().filter(|f| f.rule == rule).collect();
        assert!(left.is_empty(), "{rule} still fires after the fix:\n{}\n{left:?}", result.text);
        Ok(result.text)
    }

    /// The reason a fix for `rule` on `sql` is refused (exactly one refusal expected).
    pub fn refused(rule: &str, sql: &str) -> String {
        match fixed(rule, sql) {
            Ok(text) => panic!("expected a refusal, got:\n{text}"),
            Err(reasons) => reasons.join("\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dbmate file's down is a script of its own, with its own transaction: fixing the up (whose
    /// marker says `transaction:false`) leaves the down's statements alone (re-check trial: its
    /// DROP INDEX was made CONCURRENTLY in a down dbmate runs in a transaction).
    #[test]
    fn fixing_a_section_leaves_the_other_section_of_the_file_alone() {
        let text = "-- migrate:up transaction:false\nCREATE INDEX orders_user ON orders (user_id);\n-- migrate:down\nDROP INDEX orders_user;\n";
        let file =
            shale_core::layout::SourceFile { relative: "20240101000000_i.sql".into(), bytes: text.as_bytes().to_vec() };
        let set = shale_core::MigrationSet::load(std::path::Path::new("m"), vec![file]).unwrap();
        let (up, down) = (&set.migrations[0].up, set.migrations[0].down.as_ref().unwrap());
        let report = crate::lint([&**up, &**down]);
        assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
        let result = fix(up, &report.findings, &FixOptions::default());
        assert!(result.text.contains("CREATE INDEX CONCURRENTLY orders_user"), "{}", result.text);
        assert!(result.text.contains("\nDROP INDEX orders_user;"), "{}", result.text);
    }

    #[test]
    fn edits_land_on_the_original_bytes() {
        let edits = [Edit { range: 9..9, text: "X\n".into() }];
        assert_eq!(apply_to_original("select 1;\nselect 2;\n", &edits), "select 1;X\n\nselect 2;\n");
        assert_eq!(apply_to_original("select 1;\r\nselect 2;\r\n", &edits), "select 1;X\r\n\r\nselect 2;\r\n");
        let edits = [Edit { range: 10..10, text: "-- a\n".into() }];
        assert_eq!(
            apply_to_original("\u{feff}select 1;\r\nselect 2;\r\n", &edits),
            "\u{feff}select 1;\r\n-- a\r\nselect 2;\r\n"
        );
    }

    #[test]
    fn an_index_dropped_and_built_again_is_not_taken_out_of_its_transaction() {
        // Production trial: DROP INDEX CONCURRENTLY then CREATE UNIQUE INDEX CONCURRENTLY let
        // duplicates in between, and the build failed on them.
        let why = testing::refused(
            "create-index-non-concurrently",
            "DROP INDEX orders_code;\nCREATE UNIQUE INDEX orders_code ON orders (code, region);\n",
        );
        assert!(why.contains("line 1 drops index orders_code, which the file builds again"), "{why}");
        let why = testing::refused(
            "create-index-non-concurrently",
            "DROP INDEX a, orders_code;\nCREATE UNIQUE INDEX orders_code_region ON orders (code, region);\n",
        );
        assert!(why.contains("line 1 drops index a, which the file builds again (or replaces"), "{why}");
    }

    #[test]
    fn a_file_with_other_statements_keeps_its_transaction() {
        use testing::{fixed, refused};
        // Additions may run one by one.
        let text = fixed(
            "create-index-non-concurrently",
            "-- orders by user\nCREATE TABLE audit (id bigint);\nCREATE INDEX orders_user ON orders (user_id);\n",
        )
        .unwrap();
        assert_eq!(
            text,
            "-- shale:no-transaction\n-- orders by user\nCREATE TABLE audit (id bigint);\nCREATE INDEX CONCURRENTLY orders_user ON orders (user_id);\n"
        );
        // Data changes may not.
        let why = refused(
            "create-index-non-concurrently",
            "CREATE INDEX orders_user ON orders (user_id);\nUPDATE orders SET state = 'new' WHERE state IS NULL;\n",
        );
        assert!(
            why.contains(
                "line 2 (`UPDATE orders SET state = 'new' WHERE state IS NULL`) must stay in one: it changes data"
            ),
            "{why}"
        );
        // Already outside a transaction: nothing to decide.
        let text = fixed(
            "create-index-non-concurrently",
            "-- shale:no-transaction\nUPDATE orders SET state = 'new';\nCREATE INDEX orders_user ON orders (user_id);\n",
        )
        .unwrap();
        assert!(text.starts_with("-- shale:no-transaction\nUPDATE"), "{text}");
        // A dbmate file marks it in its own section line.
        let why =
            refused("create-index-non-concurrently", "-- migrate:up\nCREATE INDEX orders_user ON orders (user_id);\n");
        assert!(why.contains("a dbmate file asks for"), "{why}");
        // With the words to write (dbmate trial), and why alone.
        assert!(why.contains("`-- migrate:up transaction:false`") && why.contains("a migration of its own"), "{why}");
        let why = refused(
            "create-index-non-concurrently",
            "-- +goose Up\nCREATE INDEX orders_user ON orders (user_id);\n-- +goose Down\nDROP INDEX orders_user;\n",
        );
        assert!(why.contains("`-- +goose NO TRANSACTION`"), "{why}");
    }
}
