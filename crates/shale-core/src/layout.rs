//! Migration files in every layout our users have, read into one [`MigrationSet`].
//!
//! Recognised names (mixed freely in one directory):
//! - `0003_name.sql`, optionally with dbmate sections `-- migrate:up` / `-- migrate:down`;
//! - `0003_name.up.sql` + `0003_name.down.sql` (golang-migrate, sqlx);
//! - a folder `2017-09-23-182408_name/` holding `up.sql`, `down.sql`, `metadata.toml` (diesel);
//! - a folder `20230404095503_name/` holding `migration.sql` (Prisma Migrate);
//! - Flyway `V3__name.sql`, undo `U3__name.sql`, repeatable `R__name.sql`;
//! - goose `00003_name.sql` with `-- +goose Up` / `-- +goose Down` sections;
//! - sql-migrate `1_name.sql` with `-- +migrate Up` / `-- +migrate Down` sections;
//! - tern `001_name.sql`, its up above `---- create above / drop below ----` and its down below.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::backfill::Backfill;
use crate::checksum::{self, Checksum};
use crate::directives::Directives;
pub use crate::placeholders::Placeholders;
use crate::position::LineIndex;
use crate::split::{self, Statement, TransactionControl};
use crate::version::Version;

/// A file handed to the loader: a path relative to the migrations directory and its bytes.
/// The CLI reads these from disk; embedded migrations carry them in the binary.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub relative: PathBuf,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `0003_name.sql`
    SingleFile,
    /// `0003_name.sql` with `-- migrate:up` / `-- migrate:down`
    DbmateSections,
    /// `0003_name.up.sql` + `.down.sql`
    UpDownPair,
    /// `2017-09-23-182408_name/up.sql`
    DieselFolder,
    /// `20230404095503_name/migration.sql` (Prisma Migrate; a `down.sql` beside it is its down)
    PrismaFolder,
    /// `V3__name.sql` (+ `U3__name.sql`)
    Flyway,
    /// `00003_name.sql` with goose's `-- +goose Up` / `-- +goose Down` sections
    Goose,
    /// `1_name.sql` with sql-migrate's `-- +migrate Up` / `-- +migrate Down` sections
    SqlMigrate,
    /// `001_name.sql`, the up above tern's `---- create above / drop below ----`, the down below
    Tern,
    /// `1700000000000_name.sql` with node-pg-migrate's `-- Up Migration` / `-- Down Migration`
    NodePgMigrate,
    /// A Sqitch project: `deploy/NAME.sql` and `revert/NAME.sql`, numbered by `sqitch.plan`
    Sqitch,
    /// Liquibase's formatted SQL changelogs: `--changeset AUTHOR:ID` sections with their
    /// `--rollback` lines, numbered by their place in the files taken in name order
    Liquibase,
    /// Postgrator's `001.do.name.sql` + `001.undo.name.sql` (the name may be left out)
    Postgrator,
    /// db-migrate's SQL files, `20250101000001-name-up.sql` + `-down.sql` (its `sqls` folder)
    DbMigrate,
    /// umzug's timestamped names, `2024.02.11T13.01.48.name.sql`, each down a file of the same
    /// name in `down/` (as @slonik/migrator keeps them)
    Umzug,
    /// yoyo's files in a directory of them (their `-- depends:` headers say so): `yoyo new`'s
    /// `20250807_01_name.sql`, numbered within the day (version `20250807.1`), or `0001.name.sql`;
    /// each down `X.rollback.sql`
    Yoyo,
}

/// What separates the up from the down in a tern migration.
pub const TERN_SEPARATOR: &str = "---- create above / drop below ----";

impl Layout {
    /// Whether the tool of this layout knows a migration by its whole file or folder name, so
    /// that two may share a number ([`number_twins`]).
    pub fn knows_migrations_by_name(self) -> bool {
        matches!(self, Layout::PrismaFolder | Layout::SqlMigrate)
    }

    /// Where a migration of this layout keeps its down when that is a file of its own, which can be
    /// added after the up was applied (a down in the up's own file would change what the
    /// databases recorded).
    pub fn separate_down(self) -> Option<&'static str> {
        match self {
            Layout::UpDownPair => Some("its .down.sql file"),
            Layout::Postgrator => Some("its .undo. file"),
            Layout::DbMigrate => Some("its -down.sql file"),
            Layout::Umzug => Some("its file of the same name in down/"),
            Layout::Yoyo => Some("its .rollback.sql file"),
            Layout::Flyway => Some("its U file"),
            Layout::DieselFolder | Layout::PrismaFolder => Some("a down.sql in its folder"),
            Layout::Sqitch => Some("its script in revert/"),
            // Left out of a changeset's checksum, as Liquibase leaves them out of its own.
            Layout::Liquibase => Some("`--rollback` lines under its `--changeset` line"),
            _ => None,
        }
    }

    /// Whether a migration's number is its place in an order the project keeps (Sqitch's plan,
    /// Liquibase's changelogs), not written in its file's name: a change added before applied
    /// ones moves theirs, which the history's names show.
    pub fn numbered_by_place(self) -> bool {
        matches!(self, Layout::Sqitch | Layout::Liquibase)
    }

    /// The marker lines opening the up and the down section, for a layout that keeps both
    /// directions in one file in sections.
    pub fn section_markers(self) -> Option<(&'static str, &'static str)> {
        match self {
            Layout::DbmateSections => Some(("-- migrate:up", "-- migrate:down")),
            Layout::Goose => Some(("-- +goose Up", "-- +goose Down")),
            Layout::SqlMigrate => Some(("-- +migrate Up", "-- +migrate Down")),
            Layout::NodePgMigrate => Some(("-- Up Migration", "-- Down Migration")),
            _ => None,
        }
    }
}

/// How versions are written in a directory, so `shale new` can follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Naming {
    /// Zero-padded counters such as `0005` (the width is kept).
    Sequential { width: usize },
    /// `20261123093000` timestamps.
    Timestamp,
    /// A date and a number within the day, `2023-01-20.0` (sql-migrate projects').
    Dated,
    /// Milliseconds since 1970, `1700000000000` (node-pg-migrate's and Hasura's).
    UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    Versioned,
    /// Flyway `R__` files: re-applied whenever their checksum changes, after the versioned ones.
    Repeatable,
    /// Sample data from the seeds directory: run after the migrations, again only when changed.
    Seed,
}

/// SQL to run in one direction, with its statements and what the file asks of the runner.
#[derive(Debug, Clone)]
pub struct Script {
    /// The path shown to users (directory joined with the file name).
    pub path: PathBuf,
    /// The whole file, BOM dropped and CRLF normalized (line numbers are those of the file).
    /// Shared: plans and steps hold the script without copying a large file again.
    pub text: std::sync::Arc<str>,
    /// Statements of this direction, spans into `text`, without a BEGIN/COMMIT wrapper.
    pub statements: std::sync::Arc<[Statement]>,
    /// What the file asks through comment lines (see [`Script::directives`]); none, for most files.
    directives: Option<Box<Directives>>,
    /// Why this script must run outside a transaction, if it must.
    pub no_transaction: Option<String>,
    /// Statements (by index) that run as batched backfills (`-- shale:backfill`).
    pub backfills: Vec<(usize, Backfill)>,
    /// Set while the statements are not split yet (see [`MigrationSet::read_dir_unsplit`]):
    /// `statements`, `no_transaction` and `backfills` are then empty until [`Script::split`].
    split_later: Option<SplitLater>,
    /// The part of `text` that is this script's (a section of a file holding several: dbmate's
    /// up and down, a Liquibase changelog's changesets): what the history keeps of it.
    section: Range<usize>,
    /// Its statements go to the server one by one, never as one text: what stands between them
    /// is not all SQL to send (a Liquibase changeset's `endDelimiter` lines, its `BEGIN` and
    /// `COMMIT` left out).
    one_by_one: bool,
}

/// What splitting a script later needs: the part of the text that is this direction, and why the
/// runner must run it outside a transaction, when something other than the text says so.
#[derive(Debug, Clone)]
struct SplitLater {
    section: Range<usize>,
    force_no_transaction: Option<String>,
    /// See [`Reading::end_delimiter`].
    end_delimiter: Option<String>,
    /// See [`Reading::in_own_transaction`].
    in_own_transaction: bool,
}

/// Whether loading splits the statements of every file now, or leaves that to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Splitting {
    Now,
    Later,
}

impl Script {
    /// The temporary tables this script creates, each name lowercased unless quoted.
    /// The tables it creates, temporary or not (bare names, lowercased unless quoted).
    pub fn tables_created(&self) -> Vec<String> {
        crate::tokens::created_table_names(self.own_text()).into_iter().map(|(_, name)| name).collect()
    }

    pub fn temporary_tables_created(&self) -> Vec<String> {
        let text = self.own_text();
        // Most scripts make none: not tokenized for nothing (the linter asks of every one).
        if !text.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"temp")) {
            return Vec::new();
        }
        crate::tokens::temporary_tables_created(text)
    }

    /// Parse the part `section` of `text` (the whole text or a dbmate section).
    pub fn parse(
        path: PathBuf,
        text: String,
        section: Range<usize>,
        force_no_transaction: Option<&str>,
    ) -> Result<Script, LoadError> {
        Script::unsplit(path, text.into(), section, force_no_transaction)?.split()
    }

    /// The script with its directives read and its statements left for [`Script::split`].
    fn unsplit(
        path: PathBuf,
        text: std::sync::Arc<str>,
        section: Range<usize>,
        force_no_transaction: Option<&str>,
    ) -> Result<Script, LoadError> {
        Script::unsplit_reading(path, text, section, force_no_transaction, &Reading::default())
    }

    /// [`Script::unsplit`], reading the directives of the whole text or of `section` alone.
    fn unsplit_reading(
        path: PathBuf,
        text: std::sync::Arc<str>,
        section: Range<usize>,
        force_no_transaction: Option<&str>,
        reading: &Reading,
    ) -> Result<Script, LoadError> {
        let read = match reading.section_directives {
            false => Directives::parse(&text),
            true => Directives::parse_section(&text, section.clone()),
        };
        let directives = read.map_err(|e| LoadError::at(&path, &text, e.offset, e.message, None))?;
        // Boxed only when the file asks something: a script is kept per migration, by the thousand.
        let directives = (directives != crate::directives::NONE).then(|| Box::new(directives));
        Ok(Script {
            path,
            text,
            statements: std::sync::Arc::new([]),
            directives,
            no_transaction: None,
            backfills: Vec::new(),
            split_later: Some(SplitLater {
                section: section.clone(),
                force_no_transaction: force_no_transaction.map(str::to_string),
                end_delimiter: reading.end_delimiter.clone(),
                in_own_transaction: reading.in_own_transaction,
            }),
            section,
            one_by_one: false,
        })
    }

    /// Whether the byte `offset` of its text is in its own part (the up section of a dbmate file,
    /// not its down).
    pub fn holds(&self, offset: usize) -> bool {
        self.section.contains(&offset)
    }

    /// The script's own part of its text (a whole file, or its section of one).
    pub fn own_text(&self) -> &str {
        self.text.get(self.section.clone()).unwrap_or(&self.text)
    }

    /// It holds no statement, only comments or nothing (dbmate's `-- migrate:down` left empty,
    /// diesel's and Hasura's placeholder comments): as a down, the migration has none to check,
    /// and `--generate` computes one. Read from its text, split or not.
    pub fn runs_nothing(&self) -> bool {
        // (A `BEGIN;` and `COMMIT;` around nothing are nothing: breadth trial, a Sqitch revert.)
        self.statements.is_empty()
            && crate::split::split(self.own_text())
                .is_ok_and(|s| s.iter().all(|s| crate::split::transaction_control(s).is_some()))
    }

    /// [`Script::own_text`], shared: the file's own text when it is the whole of it (no copy).
    pub fn own_text_shared(&self) -> std::sync::Arc<str> {
        match self.section == (0..self.text.len()) {
            true => self.text.clone(),
            false => self.own_text().into(),
        }
    }

    /// What the file asks of the runner through comment lines.
    pub fn directives(&self) -> &Directives {
        self.directives.as_deref().unwrap_or(&crate::directives::NONE)
    }

    /// Whether it runs outside a transaction, split first where it is not yet (see
    /// [`Script::is_split`]): a file that cannot be split says no.
    pub fn runs_outside_a_transaction(&self) -> bool {
        match self.is_split() {
            true => self.no_transaction.is_some(),
            false => Script::clone(self).split().is_ok_and(|s| s.no_transaction.is_some()),
        }
    }

    /// Whether the statements are split (always, except in a set read with
    /// [`MigrationSet::read_dir_unsplit`] until the script is split).
    pub fn is_split(&self) -> bool {
        self.split_later.is_none()
    }

    /// [`Script::split`] where the script is, shared between a migration and the steps planned
    /// from it: the split script replaces this holder's copy (one clone, shared or not).
    pub fn split_shared(script: &mut std::sync::Arc<Script>) -> Result<(), LoadError> {
        if !script.is_split() {
            *script = std::sync::Arc::new(Script::clone(script).split()?);
        }
        Ok(())
    }

    /// The script with its statements split, and what follows from them (whether it runs in a
    /// transaction, its backfills); a script already split comes back as it is.
    pub fn split(mut self) -> Result<Script, LoadError> {
        let Some(SplitLater { section, force_no_transaction, end_delimiter, in_own_transaction }) =
            self.split_later.take()
        else {
            return Ok(self);
        };
        let Script { path, text, directives: asked, .. } = self;
        let directives = asked.as_deref().unwrap_or(&crate::directives::NONE);
        let at =
            |offset: usize, message: String, hint: Option<String>| LoadError::at(&path, &text, offset, message, hint);
        let force_no_transaction = force_no_transaction.as_deref();
        let mut statements = Vec::new();
        let mut one_by_one = end_delimiter.is_some();
        let (mut chunks, blocks) = marked_statement_chunks(&text, section.clone());
        if let Some(delimiter) = &end_delimiter {
            chunks = cut_at_delimiter_lines(&text, chunks, delimiter);
        }
        // Atlas's `-- atlas:delimiter X`: statements end at X, not at `;`.
        if let Some(delimiter) = &directives.atlas_delimiter {
            one_by_one = true;
            let mut cut = Vec::new();
            for chunk in chunks {
                cut.extend(split::cut_at_delimiter(&text, chunk, delimiter).map_err(|e| {
                    let message = e.to_string();
                    at(e.offset(), message, None)
                })?);
            }
            chunks = cut;
        }
        for chunk in chunks {
            let mut found = split::split(&text[chunk.clone()]).map_err(|e| {
                let message = e.to_string();
                at(chunk.start + e.offset(), message, None)
            })?;
            for s in &mut found {
                s.span = s.span.start + chunk.start..s.span.end + chunk.start;
                if let Some(data) = &mut s.copy_data {
                    *data = data.start + chunk.start..data.end + chunk.start;
                }
            }
            statements.extend(join_blocks(found, &blocks));
        }
        let no_transaction = force_no_transaction
            .map(str::to_string)
            .or_else(|| {
                // The file's own words: `-- shale:no-transaction`, `-- +goose NO TRANSACTION`, ...
                directives.no_transaction_line(&text, &section).map(|at| match at {
                    Some(offset) => {
                        let line = LineIndex::new(&text).line_col(&text, offset).0;
                        format!("`{}` (line {line})", first_line(&text[offset..]).trim_end())
                    }
                    None => "`-- shale:no-transaction`".to_string(),
                })
            })
            .or_else(|| {
                statements
                    .iter()
                    .find_map(split::no_transaction_reason)
                    .map(|r| format!("{r} cannot run inside a transaction"))
            });
        let mut no_transaction = no_transaction;
        let backfill_lines: Vec<(usize, Backfill)> =
            directives.backfills.iter().copied().filter(|(offset, _)| section.contains(offset)).collect();
        if no_transaction.is_none() {
            if in_own_transaction {
                let count = statements.len();
                statements.retain(|s| {
                    !matches!(
                        split::transaction_control(s),
                        Some(TransactionControl::Begin | TransactionControl::Commit)
                    )
                });
                one_by_one |= statements.len() != count;
            }
            strip_transaction_wrapper(&mut statements);
            // A COMMIT (or BEGIN) of its own in the middle: the file manages its transactions, as
            // psql runs it. So does shale: statement by statement, its own control included.
            if let Some(s) = statements.iter().find(|s| split::transaction_control(s).is_some()) {
                let line = LineIndex::new(&text).line_col(&text, s.span.start).0;
                no_transaction = Some(format!(
                    "it has `{}` of its own (line {line}), so it runs as psql would, statement by statement",
                    first_line(&text[s.span.clone()]).trim_end_matches(';')
                ));
            }
        }
        if let (None, Some((offset, _))) = (&no_transaction, backfill_lines.first()) {
            let line = LineIndex::new(&text).line_col(&text, *offset).0;
            no_transaction = Some(format!(
                "`-- shale:backfill` (line {line}) runs its UPDATE in batches, each batch its own transaction"
            ));
        }
        let mut backfills = Vec::new();
        for (offset, backfill) in backfill_lines {
            // A block goes to the server as one query: its UPDATE cannot run in batches.
            if blocks.iter().any(|b| b.contains(&offset)) {
                return Err(at(
                    offset,
                    "`-- shale:backfill` inside a StatementBegin ... StatementEnd block, which is sent as one query: \
                     its UPDATE cannot run in batches"
                        .into(),
                    Some("move the UPDATE, with the line before it, out of the block".into()),
                ));
            }
            let next = statements.iter().position(|s| s.span.start > offset);
            let shape = next
                .ok_or_else(|| "no statement follows it".to_string())
                .and_then(|i| crate::backfill::update_shape(&text[statements[i].span.clone()]).map(|_| i));
            // Its batches commit one by one: inside the file's own transaction block they would
            // commit the block with the first of them.
            let in_block = |index: usize| {
                let last = statements[..index].iter().rev().filter_map(split::transaction_control).find(|c| {
                    matches!(c, TransactionControl::Begin | TransactionControl::Commit | TransactionControl::Rollback)
                });
                last == Some(TransactionControl::Begin)
            };
            match shape {
                Ok(index) if in_block(index) => {
                    return Err(at(
                        offset,
                        "`-- shale:backfill` inside the file's own transaction block (BEGIN ... COMMIT): its batches \
                         commit one by one, which would commit the block with the first of them"
                            .into(),
                        Some("move the UPDATE out of the block (after its COMMIT)".into()),
                    ))
                }
                Ok(index) if backfills.iter().all(|(i, _)| *i != index) => backfills.push((index, backfill)),
                Ok(_) => return Err(at(offset, "two `-- shale:backfill` lines before one UPDATE".into(), None)),
                Err(why) => {
                    return Err(at(
                        offset,
                        format!("`-- shale:backfill` cannot run the statement after it in batches: {why}"),
                        Some("put `-- shale:backfill batch=5000` on the line before a plain `UPDATE table SET ... WHERE ...`".into()),
                    ))
                }
            }
        }
        Ok(Script {
            path,
            text,
            statements: statements.into(),
            directives: asked,
            no_transaction,
            backfills,
            split_later: None,
            section,
            one_by_one,
        })
    }

    /// How statement `index` runs as a batched backfill, if it does.
    pub fn backfill(&self, index: usize) -> Option<Backfill> {
        self.backfills.iter().find(|(i, _)| *i == index).map(|(_, b)| *b)
    }

    /// The text of one statement.
    pub fn statement_text(&self, index: usize) -> &str {
        &self.text[self.statements[index].span.clone()]
    }

    /// The contiguous SQL from the first to the last statement, and its offset in `text`:
    /// sent as one simple query so the server's error positions map straight back to the file.
    pub fn body(&self) -> (&str, usize) {
        match (self.statements.first(), self.statements.last()) {
            (Some(first), Some(last)) => (&self.text[first.span.start..last.span.end], first.span.start),
            _ => ("", 0),
        }
    }

    pub fn has_copy_data(&self) -> bool {
        self.statements.iter().any(|s| s.copy_data.is_some())
    }

    /// Whether the statements can go to the server as one text, [`Script::body`]: no COPY data to
    /// stream, each ended by its `;` (not by goose's `StatementEnd` line), nothing left out between
    /// them (a Liquibase changeset's delimiter lines, its `BEGIN` and `COMMIT`), and nothing between
    /// them that the splitter passed over and the server would refuse (pg_dump's `\restrict`
    /// lines, in a dump with SQL after it).
    pub fn sends_as_one(&self) -> bool {
        let gaps = self.statements.windows(2).map(|w| &self.text[w[0].span.end..w[1].span.start]);
        !self.one_by_one
            && !self.has_copy_data()
            && gaps.into_iter().all(|gap| gap.contains(';') && !gap.contains('\\'))
    }
}

/// `section`, cut after each `-- +goose StatementEnd` (or sql-migrate's `-- +migrate
/// StatementEnd`) line, with the blocks those lines close: goose and sql-migrate send what stands
/// between `StatementBegin` and `StatementEnd` as one statement (one query, however many
/// statements it holds: PostgreSQL runs them as one implicit transaction), with or without a final
/// `;`, so the end marker ends a statement. Files without it are one chunk and no block.
fn marked_statement_chunks(text: &str, section: Range<usize>) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    // Most files have no such annotation at all: one search instead of a walk over every line.
    if !crate::directives::has_tool_comments(&text[section.clone()]) {
        return (vec![section], Vec::new());
    }
    let (mut chunks, mut blocks) = (Vec::new(), Vec::new());
    let mut start = section.start;
    let mut offset = section.start;
    let mut block_start = None;
    for line in text[section.clone()].split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let marker = line
            .trim()
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("+goose").or_else(|| r.strip_prefix("+migrate")))
            .map(str::trim);
        if marker.is_some_and(|m| m.eq_ignore_ascii_case("statementbegin")) {
            block_start = Some(offset);
        } else if marker.is_some_and(|m| m.eq_ignore_ascii_case("statementend")) {
            blocks.extend(block_start.take().map(|from| from..line_start));
            chunks.push(start..offset);
            start = offset;
        }
    }
    if start < section.end || chunks.is_empty() {
        chunks.push(start..section.end);
    }
    (chunks, blocks)
}

/// `statements` with those standing in one of `blocks` (goose's StatementBegin ... StatementEnd)
/// joined into one, sent as the tool sends the block.
fn join_blocks(statements: Vec<Statement>, blocks: &[Range<usize>]) -> Vec<Statement> {
    if blocks.is_empty() {
        return statements;
    }
    let block_of = |s: &Statement| blocks.iter().position(|b| b.contains(&s.span.start));
    let mut joined: Vec<Statement> = Vec::with_capacity(statements.len());
    let mut last_block = None;
    for statement in statements {
        let block = block_of(&statement);
        match joined.last_mut() {
            Some(previous)
                if block.is_some()
                    && block == last_block
                    && previous.copy_data.is_none()
                    && statement.copy_data.is_none() =>
            {
                previous.span.end = statement.span.end;
            }
            _ => joined.push(statement),
        }
        last_block = block;
    }
    joined
}

/// `chunks` cut at each line that is `delimiter` alone (Liquibase's `endDelimiter`, in any
/// case): what stands before it is a statement, with or without a final `;`, and the line itself
/// is not sent.
fn cut_at_delimiter_lines(text: &str, chunks: Vec<Range<usize>>, delimiter: &str) -> Vec<Range<usize>> {
    let mut cut = Vec::new();
    for chunk in chunks {
        let mut start = chunk.start;
        let mut offset = chunk.start;
        for line in text[chunk.clone()].split_inclusive('\n') {
            let line_start = offset;
            offset += line.len();
            if line.trim().eq_ignore_ascii_case(delimiter) {
                cut.push(start..line_start);
                start = offset;
            }
        }
        cut.push(start..chunk.end);
    }
    cut
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// Files written for psql often say `BEGIN; ... COMMIT;` themselves: that is exactly what shale does,
/// so an outer wrapper is dropped rather than refused. So is a lone `COMMIT;` at the end with no
/// `BEGIN` anywhere (psql runs it as a no-op with a warning): the file means to be committed.
fn strip_transaction_wrapper(statements: &mut Vec<Statement>) {
    let control = |s: Option<&Statement>| s.and_then(split::transaction_control);
    let controls = statements.iter().filter(|s| split::transaction_control(s).is_some()).count();
    // Only a pair around the whole file: `BEGIN; ...; COMMIT; ...; BEGIN; ...; COMMIT;` is blocks
    // of the file's own, which run as psql runs them.
    if statements.len() >= 2
        && controls == 2
        && control(statements.first()) == Some(TransactionControl::Begin)
        && control(statements.last()) == Some(TransactionControl::Commit)
    {
        statements.pop();
        statements.remove(0);
    } else if control(statements.last()) == Some(TransactionControl::Commit) && controls == 1 {
        statements.pop();
    }
}

/// One migration: a version (or a repeatable name), its up script and maybe a down script.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: Option<Version>,
    pub name: String,
    pub kind: MigrationKind,
    pub layout: Layout,
    pub up: std::sync::Arc<Script>,
    pub down: Option<std::sync::Arc<Script>>,
    /// Checksum of the up SQL as written (normalized).
    pub checksum: Checksum,
    /// The version exactly as written in the file name (`0003`), for display and for `shale new`.
    pub version_text: String,
    /// The up file relative to the migrations directory, as written (`0003_users.sql`,
    /// `2020-01-01-000000_users/up.sql`): kept in the history, named in messages.
    pub file: String,
    /// The up file as written, where `up`'s text differs: Flyway placeholders replaced in it, or
    /// a byte order mark dropped and CRLF read as LF (what other tools' checksums are of).
    pub raw_up: Option<std::sync::Arc<str>>,
    /// A Liquibase changeset's file as Liquibase records it, where that is not `file`: the
    /// changelog holding a changeset that runs an `sqlFile`, or the `logicalFilePath` it is given.
    pub changelog_file: Option<String>,
    /// When it runs again, in its place, once applied (Liquibase's `runOnChange`, `runAlways`): a
    /// change to one that runs again when changed is not a modification to refuse.
    pub rerun: Rerun,
    /// The checksum Liquibase records for this changeset (its version 9, `9:...`), where shale
    /// computes it: a formatted SQL changeset's, an SQL file's Liquibase runs whole
    /// ([`liquibase::v9_checksum`]); `adopt` compares it with Liquibase's `MD5SUM`.
    pub liquibase_checksum: Option<String>,
}

/// When an applied migration runs again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Rerun {
    /// Never: changed, it is a modification to refuse.
    #[default]
    Never,
    /// Whenever its checksum changes (Liquibase's `runOnChange`).
    WhenChanged,
    /// At every `up` (Liquibase's `runAlways`).
    Always,
}

impl Migration {
    /// The up file as written: before its placeholders were replaced (what Flyway's checksum is of).
    pub fn raw_text(&self) -> &str {
        self.raw_up.as_deref().unwrap_or(&self.up.text)
    }

    /// For a file `shale squash` wrote: the versions it replaces, from the first to its own.
    pub fn squashed(&self) -> Option<(Version, Version)> {
        let (first, last) = self.up.directives().squashed.as_ref()?;
        Some((Version::parse(first)?, Version::parse(last)?))
    }

    /// Identity in messages: `0003_create_users` or `R__views`.
    pub fn label(&self) -> String {
        match self.kind {
            MigrationKind::Versioned => versioned_label(&self.version_text, &self.name),
            MigrationKind::Repeatable => format!("R__{}", self.name),
            MigrationKind::Seed => format!("seed {}", self.name),
        }
    }
}

/// A versioned migration's identity in messages, `0003 create_users`: its version alone where it
/// has no name (graphile-migrate's `000001.sql`).
pub fn versioned_label(version: &str, name: &str) -> String {
    match name.is_empty() {
        true => version.to_string(),
        false => format!("{version} {name}"),
    }
}

/// A problem with one file. Loading collects all of them before anything runs. `message` says
/// what is wrong and `hint` what to do, in words for any application (no command names, no
/// command-line flags, no configuration file); `kind` names the problems whose way out a front
/// end words itself (the CLI: its commands and flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem is inside the file.
    pub position: Option<(usize, usize)>,
    pub message: String,
    pub hint: Option<String>,
    pub kind: LoadProblem,
}

/// What a [`LoadError`] is, for the problems a front end gives its own advice for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoadProblem {
    /// Any other: its `hint` says it all.
    #[default]
    Other,
    /// Two files have one version.
    DuplicateVersion,
    /// The migrations directory, or a file in it, cannot be read.
    Unreadable,
    /// A symbolic link leads outside the migrations directory.
    LinkOutside,
    /// A Flyway placeholder has no value; `name` as Flyway spells it ([`placeholder_key`] writes
    /// it as a key of a placeholders table).
    UnknownPlaceholder { name: String },
    /// A Liquibase changelog parameter (`${name}`) has no value: not among the placeholders, nor a
    /// property its changelogs define. (A `Box<str>`: with two `String` variants the enum, and every
    /// load error returned by value, would grow by a word.)
    UnknownParameter { name: Box<str> },
}

impl LoadError {
    fn file(path: &Path, message: impl Into<String>, hint: Option<String>) -> LoadError {
        LoadError { path: path.to_path_buf(), position: None, message: message.into(), hint, kind: LoadProblem::Other }
    }

    fn at(path: &Path, text: &str, offset: usize, message: String, hint: Option<String>) -> LoadError {
        let position = Some(LineIndex::new(text).line_col(text, offset));
        LoadError { path: path.to_path_buf(), position, message, hint, kind: LoadProblem::Other }
    }

    fn of(mut self, kind: LoadProblem) -> LoadError {
        self.kind = kind;
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

const CONVENTIONS: &str = "expected NNN_name.sql, NNN_name.up.sql/.down.sql, V3__name.sql, U3__name.sql, R__name.sql, a folder NNN_name/ holding up.sql or migration.sql; or the names of another tool shale reads (Postgrator's, umzug's, yoyo's: docs/migrations.md)";

/// Every migration of a directory, checked and ordered: versioned by version, then repeatables by name.
#[derive(Debug, Clone, Default)]
pub struct MigrationSet {
    pub migrations: Vec<Migration>,
    /// Files in the directory that are not migrations and were left alone, and why (shown by
    /// `validate` and `status`).
    pub ignored: Vec<Ignored>,
    /// Migrations in the history of the directory that shale cannot run: goose's Go migrations.
    /// Applied ones count as applied; a pending one stops `up` with what to do.
    pub unrunnable: Vec<Unrunnable>,
    /// The migrations written in code (node-pg-migrate's JavaScript, Knex's, TypeORM's) whose
    /// names tell when they were written: also among `ignored`. One written after shale took the
    /// database over is a migration no tool will run, which stops `up`.
    pub code_migrations: Vec<CodeMigration>,
    /// In a Sqitch project, the project its plan names (`%project=`): of the changes a Sqitch
    /// registry holds (one may hold several projects'), this project's.
    pub sqitch_project: Option<String>,
    /// In a Sqitch project, the changes of other projects its changes require.
    pub sqitch_requires_elsewhere: Vec<SqitchRequiredElsewhere>,
    /// In a folder of Liquibase changelogs, the master changelog that includes them, if any.
    pub liquibase_master: Option<PathBuf>,
    /// The numbers of the Liquibase changesets the contexts or the label filter leave out: not
    /// run, and, applied, counted as applied (as Liquibase leaves them be).
    pub left_out: Vec<Version>,
    /// Those of them that read, as migrations: `adopt` takes over the rows Liquibase wrote for
    /// them (a database it migrated with another selection), and nothing else looks at them.
    pub left_out_changesets: Vec<Migration>,
    /// Some Liquibase changeset has a context or labels: Liquibase may have been given contexts
    /// or a label filter where it ran.
    pub liquibase_selectors_used: bool,
    /// The context names the Liquibase changesets' expressions use, sorted: a context given that
    /// none uses is likely misspelt.
    pub liquibase_context_names: Vec<String>,
    /// The numbers of the Liquibase changesets with a context or labels (their own or their
    /// includes'): one not run among applied ones was likelier left out by another selection than
    /// added since ([`crate::plan::numbering`]).
    pub liquibase_selected: Vec<Version>,
    /// Flyway's callbacks shale runs, by event, each event's in the order of their file names.
    pub callbacks: Vec<Callback>,
    /// The Liquibase parameters (`${name}`) the changesets that run use, with the values they were
    /// filled with: a changeset changed only by one's value is said so.
    pub liquibase_parameters: Vec<(String, String)>,
}

/// What the files are read with that is given from outside them: the values of their
/// placeholders, and which Liquibase changesets run.
#[derive(Debug, Clone, Default)]
pub struct ReadSettings {
    pub placeholders: Placeholders,
    pub liquibase: LiquibaseSelection,
}

/// A migration of the directory that shale cannot run (a goose migration written in Go).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unrunnable {
    #[serde(skip)]
    pub version: Version,
    pub version_text: String,
    pub name: String,
    /// Relative to the migrations directory, as written.
    pub file: String,
    pub path: PathBuf,
}

/// A migration written in code, named with the time it was written (`1751331728000_users.js`,
/// `20240101120000_users.js`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMigration {
    pub version: Version,
    pub version_text: String,
    pub name: String,
    pub path: PathBuf,
    /// When it was written, in seconds since 1970, as its name tells.
    pub written_at: u64,
    /// The name tells the time in UTC (milliseconds since 1970, or a date and time the tool writes
    /// in UTC), not a date and time in a zone unknown (Knex's `20240101120000`).
    pub zone_known: bool,
}

impl CodeMigration {
    /// The migration written in code that `file` (its name in the directory) is, if its name
    /// starts with the time it was written: milliseconds since 1970 (13 digits), or a date and
    /// time (14 digits, or 17 with milliseconds; Laravel's `2024_01_01_120000_`).
    fn of(file: &str, path: PathBuf) -> Option<CodeMigration> {
        let name_only = Path::new(file).file_name()?.to_string_lossy().into_owned();
        let stem = name_only.rsplit_once('.')?.0;
        // Laravel's date and time, its parts apart (Ecto re-check: one written after the switch
        // went unseen), read as the 14 digits it is.
        // A date and time in ISO 8601's forms (Kysely projects': `20261207T235900000Z-x`,
        // `2026-12-07T23-59-00_x`), read as its digits (Kysely trial: passed over, and read as
        // version 2026).
        let iso = iso_time(stem);
        let laravel = laravel_time(stem).or_else(|| iso.as_ref().map(|(digits, rest, _)| (digits.clone(), *rest)));
        let stated_utc = iso.is_some_and(|(_, _, utc)| utc);
        let (stem, laravel_name) = match &laravel {
            Some((digits, rest)) => (digits.as_str(), Some(*rest)),
            None => (stem, None),
        };
        let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
        let version_text = &stem[..digits];
        let name = laravel_name.unwrap_or(&stem[digits..]).trim_start_matches(['_', '-']).to_string();
        let (written_at, zone_known) = match digits {
            13 => (version_text.parse::<u64>().ok()? / 1000, true),
            // node-pg-migrate writes its `utc` names (17 digits) in UTC, as Ecto, Active Record and
            // Entity Framework Core write theirs (14 digits); another 14-digit date and time may be
            // local (Knex's, Sequelize's).
            14 | 17 => {
                let utc = digits == 17
                    || stated_utc
                    || matches!(code_language_of(&name_only), Some("Elixir" | "Ruby" | "C#"));
                let d = &version_text[..14];
                let text =
                    format!("{}-{}-{}T{}:{}:{}Z", &d[..4], &d[4..6], &d[6..8], &d[8..10], &d[10..12], &d[12..14]);
                let at = humantime::parse_rfc3339(&text).ok()?;
                (at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs(), utc)
            }
            _ => return None,
        };
        let version = Version::parse(version_text)?;
        Some(CodeMigration { version, version_text: version_text.to_string(), name, path, written_at, zone_known })
    }
}

/// A name starting with a date and time in one of ISO 8601's forms, as its digits (14, or 17 with
/// milliseconds), the rest, and whether it says UTC (`Z`): `20261207T235900000Z-add-pronouns`
/// (Kysely's Ozone), `2026-12-07T23-59-00_add_pronouns`.
fn iso_time(stem: &str) -> Option<(String, &str, bool)> {
    let bytes = stem.as_bytes();
    let digits_at = |from: usize, n: usize| bytes.get(from..from + n).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    // Basic: YYYYMMDD T HHMMSS [mmm] [Z]
    if digits_at(0, 8) && bytes.get(8) == Some(&b'T') && digits_at(9, 6) {
        let mut end = 15;
        let mut digits = format!("{}{}", &stem[..8], &stem[9..15]);
        if digits_at(15, 3) {
            digits.push_str(&stem[15..18]);
            end = 18;
        }
        let utc = bytes.get(end) == Some(&b'Z');
        return Some((digits, &stem[end + usize::from(utc)..], utc));
    }
    // Extended, with `-` for `:` (file names take no colon): YYYY-MM-DDTHH-MM-SS [Z]
    let shape = b"dddd-dd-ddTdd-dd-dd";
    if bytes.len() >= shape.len()
        && shape.iter().zip(bytes).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b })
    {
        let digits: String = stem[..shape.len()].chars().filter(char::is_ascii_digit).collect();
        let utc = bytes.get(shape.len()) == Some(&b'Z');
        return Some((digits, &stem[shape.len() + usize::from(utc)..], utc));
    }
    None
}

/// `2024_01_01_120000_create_users_table` as `20240101120000` and `_create_users_table`.
fn laravel_time(stem: &str) -> Option<(String, &str)> {
    let parts: Vec<&str> = stem.splitn(5, '_').collect();
    let widths = [4, 2, 2, 6];
    if parts.len() < 4 || !parts.iter().zip(widths).all(|(p, w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let digits = parts[..4].concat();
    let rest = &stem[stem.len() - parts.get(4).map_or(0, |r| r.len())..];
    Some((digits, rest))
}

/// The language a migration shale does not run is written in, by its file's extension: `Go` for
/// goose's.
pub fn written_in(path: &Path) -> &'static str {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    code_language_of(&name).unwrap_or("Go")
}

/// Whether a down's text is still the header alone that `shale new` writes atop an empty one
/// (`-- down: NAME`), in a file of its own or in a down section: never written.
pub fn unwritten_down(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("-- down:") && !text.contains('\n')
}

/// A file of the migrations directory that shale leaves alone, as the tool that wrote the
/// directory does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    pub path: PathBuf,
    pub reason: String,
}

impl Ignored {
    /// Whether it is a migration of the tool before shale written in code (Knex's JavaScript,
    /// goose's Go, Alembic's Python): left in the folder for good after a switch, not a mistake.
    pub fn is_code_migration(&self) -> bool {
        let name = self.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        code_language_of(&name).is_some() || name.to_ascii_lowercase().ends_with(".go")
    }

    /// Whether it stays in the folder for good, as part of the project (a code migration, a
    /// Sqitch verify script, a Sqitch script of no change, which Sqitch passes over too), not a
    /// file that may be a mistake: said where the files are looked at (`status`, `validate`), not
    /// in every deploy's log (breadth trial: chef-server's `purge_sequel.sql` at every `up`).
    pub fn is_kept_for_good(&self) -> bool {
        self.is_code_migration() || self.reason == sqitch::VERIFY_SCRIPT || self.reason == sqitch::NO_CHANGE_SCRIPT
    }
}

impl MigrationSet {
    /// The callbacks an `up` runs, in the order it runs them: those before its migrations, then
    /// those after ([`CallbackEvent::after_an_up`]).
    pub fn callbacks_of_an_up(&self, applies_any: bool) -> Vec<&Callback> {
        let of = |event: CallbackEvent| self.callbacks.iter().filter(move |c| c.event == event);
        let after = CallbackEvent::after_an_up(applies_any).iter().flat_map(|e| of(*e));
        of(CallbackEvent::BeforeMigrate).chain(after).collect()
    }

    /// Read `dir` (one level of folders, for diesel) and load it. A missing directory is an error.
    pub fn read_dir(dir: &Path) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::read_dir_splitting(dir, Splitting::Now, &ReadSettings::default())
    }

    /// [`MigrationSet::read_dir`] with these settings: the Flyway placeholders (`${name}`) of
    /// Flyway's files and the parameters of Liquibase's replaced by their values (see
    /// [`Placeholders`]), and the Liquibase changesets the contexts and label filter select.
    pub fn read_dir_with(dir: &Path, settings: &ReadSettings) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::read_dir_splitting(dir, Splitting::Now, settings)
    }

    /// [`MigrationSet::read_dir_unsplit`] with these settings.
    pub fn read_dir_unsplit_with(dir: &Path, settings: &ReadSettings) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::read_dir_splitting(dir, Splitting::Later, settings)
    }

    /// [`MigrationSet::read_dir`], leaving every script's statements unsplit: what `up` does,
    /// which splits only the migrations that may run ([`MigrationSet::split_where`]) once it
    /// has read the history. Every other check of loading is made here as in `read_dir`.
    pub fn read_dir_unsplit(dir: &Path) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::read_dir_splitting(dir, Splitting::Later, &ReadSettings::default())
    }

    /// Split the up and down scripts of the migrations `need` picks, all problems together.
    pub fn split_where(&mut self, need: impl Fn(&Migration) -> bool) -> Result<(), Vec<LoadError>> {
        let errors = split_migrations(self.migrations.iter_mut().filter(|m| need(m)));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn read_dir_splitting(
        dir: &Path,
        splitting: Splitting,
        settings: &ReadSettings,
    ) -> Result<MigrationSet, Vec<LoadError>> {
        // A Sqitch project: its plan says which files are changes, and in what order.
        let plan_text = std::fs::read_to_string(dir.join(sqitch::PLAN_FILE)).ok();
        let (files, others) = read_source_files(dir, plan_text.is_some()).map_err(|e| vec![e])?;
        // Liquibase: what its master changelog runs, in its order, if one is here.
        let master = match plan_text.is_none() {
            true => {
                let sql: Vec<&Path> = files.iter().map(|f| f.relative.as_path()).collect();
                liquibase::Master::find(dir, &others, &sql, &settings.liquibase)?
            }
            false => None,
        };
        let mut errors = Vec::new();
        let mut unrunnable = Vec::new();
        let mut code = Vec::new();
        let mut code_migrations = Vec::new();
        let mut numbered_code = Vec::new();
        // yoyo's Python steps are migrations in its sequence, numbered as its SQL files are.
        let yoyo = is_yoyo_directory(&files);
        for name in others {
            let path = dir.join(&name);
            let file = name.to_string_lossy().into_owned();
            match classify_other(&file) {
                Other::Mistake(message) => errors.push(LoadError::file(&path, message, Some(CONVENTIONS.into()))),
                // Written as SQL beside it already: the SQL is the migration.
                Other::Fizz { sql } if fizz_written_as_sql(&sql).any(|w| files.iter().any(|f| f.relative == Path::new(&w))) => {}
                Other::Fizz { sql } => errors.push(LoadError::file(
                    &path,
                    format!("is a fizz migration (pop's own language), which shale does not run: write it as SQL in `{sql}`"),
                    Some(FIZZ.into()),
                )),
                Other::NumberedCode { version_text, name } => match Version::parse(&version_text) {
                    Some(version) => unrunnable.push(Unrunnable { version, version_text, name, file, path }),
                    None => errors.push(LoadError::file(&path, "its version is not a number", None)),
                },
                // umzug's and Postgrator's names say a migration in their sequence, run by that
                // tool (review: their rows named a file shale said was not there).
                Other::Code(_) if numbered_as_sql_tools_name_code(&file).is_some() => {
                    let (version, version_text, id_name) =
                        numbered_as_sql_tools_name_code(&file).expect("matched above");
                    unrunnable.push(Unrunnable { version, version_text, name: id_name, file: file.clone(), path });
                }
                Other::Code(language) if yoyo && name.components().count() == 1 => {
                    match yoyo_id(without_extension(&file)).and_then(|(v, n)| Some((Version::parse(v)?, v, n))) {
                        Some((version, version_text, id_name)) => unrunnable.push(Unrunnable {
                            version,
                            version_text: version_text.to_string(),
                            name: id_name.to_string(),
                            file: file.clone(),
                            path: path.clone(),
                        }),
                        None => errors.push(LoadError::file(
                            &path,
                            format!("yoyo's step `{file}` ({language}) starts with no number, by which shale orders migrations"),
                            None,
                        )),
                    }
                }
                Other::Code(language) => {
                    let timed = CodeMigration::of(&file, path.clone());
                    // Numbered as the SQL files may be (`0002_backfill.py`): see below.
                    if timed.is_none() {
                        numbered_code.extend(numbered_code_file(&file).map(|(version, version_text, name)| {
                            Unrunnable { version, version_text, name, file: file.clone(), path: path.clone() }
                        }));
                    }
                    code_migrations.extend(timed);
                    code.push(Ignored {
                        path,
                        reason: format!("a migration written in {language}, which shale does not run: only SQL files"),
                    })
                }
                Other::Silent => {}
            }
        }
        let mut outside_journal = Vec::new();
        let files = match std::fs::read_to_string(dir.join("meta").join("_journal.json")) {
            Ok(journal) => match crate::adopt::drizzle_journal(&journal) {
                Ok(entries) => {
                    errors.extend(journal_tags_without_files(dir, &journal, &entries, &files));
                    in_drizzle_journal(dir, files, &entries, &mut outside_journal)
                }
                Err(e) => {
                    errors.push(LoadError {
                        path: dir.join("meta").join("_journal.json"),
                        position: Some((e.line, e.column.max(1))),
                        message: e.message,
                        hint: Some(
                            "drizzle's journal says which migrations drizzle ran, and in what order: resolve it (after \
                             a merge, both branches' entries, each `idx` once, in the order of `when`), as drizzle-kit \
                             needs it too"
                                .into(),
                        ),
                        kind: LoadProblem::Other,
                    });
                    files
                }
            },
            Err(_) => files,
        };
        let plan = match plan_text {
            Some(text) => Some(
                sqitch::Plan::read(dir, &text, &files)
                    .map_err(|e| e.into_iter().chain(errors.clone()).collect::<Vec<_>>())?,
            ),
            None => None,
        };
        // Modules named as node-pg-migrate names them (its default is JavaScript) count towards
        // making the directory its (round-3 re-check: a dated SQL file beside them ran its down).
        let named_modules = code_migrations.iter().filter(|c| named_as_node_pg_migrate(&c.version_text)).count();
        match MigrationSet::load_placing(
            dir,
            files,
            splitting,
            settings,
            (plan.as_ref(), master.as_ref()),
            named_modules,
        ) {
            Ok(mut set) if errors.is_empty() => {
                if let Some(plan) = plan {
                    set.sqitch_project = plan.project;
                    set.sqitch_requires_elsewhere = plan.requires_elsewhere;
                }
                set.liquibase_master = master.map(|m| m.path);
                set.ignored.extend(outside_journal);
                code.sort_by(|a: &Ignored, b: &Ignored| a.path.cmp(&b.path));
                set.ignored.extend(code);
                code_migrations.sort_by(|a: &CodeMigration, b: &CodeMigration| a.version.cmp(&b.version));
                // One migration in several files (TypeScript's `x.js` beside `x.d.ts`, EF Core's
                // `x.cs` beside `x.Designer.cs`): one.
                code_migrations.dedup_by(|a, b| a.version == b.version);
                set.code_migrations = code_migrations;
                // A migration in code numbered after a SQL file of its form (digits, as many:
                // yoyo's `0002_backfill.py` between `0001` and `0003`, or one written after the
                // switch, after them all) is in the sequence they run in: shale cannot run it, and
                // skipping it silently left its work undone while the later files ran (yoyo
                // trial), or left it undone for good (review). As goose's Go files: applied or
                // under the baseline, it counts; pending, it stops `up`. One numbered before every
                // SQL file is the old tool's (its files, then shale's numbered after them by
                // `shale new` or a baseline), and one numbered otherwise (`2023-01-05_users.ts`)
                // too. One migration in several files (`x.js` beside `x.d.ts`) is one.
                numbered_code.sort_by(|a: &Unrunnable, b: &Unrunnable| a.version.cmp(&b.version));
                numbered_code.dedup_by(|a, b| a.version == b.version);
                let in_sequence: Vec<Unrunnable> = numbered_code
                    .into_iter()
                    .filter(|u| {
                        let form =
                            |text: &str| text.len() == u.version_text.len() && text.bytes().all(|b| b.is_ascii_digit());
                        let sql: Vec<&Version> = set
                            .versioned()
                            .filter(|m| form(&m.version_text))
                            .filter_map(|m| m.version.as_ref())
                            .collect();
                        form(&u.version_text) && sql.iter().any(|v| **v < u.version)
                    })
                    .collect();
                set.ignored.retain(|i| !in_sequence.iter().any(|u| u.path == i.path));
                unrunnable.extend(in_sequence);
                unrunnable.sort_by(|a, b| a.version.cmp(&b.version));
                // One ported to SQL beside it: the SQL one is the migration.
                for u in unrunnable {
                    match set.find(&u.version).map(|m| m.file.clone()) {
                        Some(sql) => set.ignored.push(Ignored {
                            reason: format!(
                                "a migration written in {}, ported to SQL in {sql}, which runs in its place",
                                written_in(&u.path)
                            ),
                            path: u.path,
                        }),
                        None => set.unrunnable.push(u),
                    }
                }
                Ok(set)
            }
            // All problems together: those of splitting too, as a read that splits reports them.
            Ok(mut set) => Err(split_migrations(set.migrations.iter_mut()).into_iter().chain(errors).collect()),
            Err(load) => Err(load.into_iter().chain(errors).collect()),
        }
    }

    /// Load migrations from files whose paths are relative to `dir`. All problems are returned together.
    pub fn load(dir: &Path, files: Vec<SourceFile>) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::load_splitting(dir, files, Splitting::Now)
    }

    /// Load migrations from files, with these placeholders (see [`Placeholders`]).
    pub fn load_with_placeholders(
        dir: &Path,
        files: Vec<SourceFile>,
        placeholders: &Placeholders,
    ) -> Result<MigrationSet, Vec<LoadError>> {
        let settings = ReadSettings { placeholders: placeholders.clone(), ..Default::default() };
        MigrationSet::load_placing(dir, files, Splitting::Now, &settings, (None, None), 0)
    }

    pub(crate) fn load_splitting(
        dir: &Path,
        files: Vec<SourceFile>,
        splitting: Splitting,
    ) -> Result<MigrationSet, Vec<LoadError>> {
        MigrationSet::load_placing(dir, files, splitting, &ReadSettings::default(), (None, None), 0)
    }

    /// `named_modules`: the directory's code migrations named as node-pg-migrate names them
    /// (see [`build_groups`]).
    fn load_placing(
        dir: &Path,
        mut files: Vec<SourceFile>,
        splitting: Splitting,
        settings: &ReadSettings,
        (plan, master): (Option<&sqitch::Plan>, Option<&liquibase::Master>),
        named_modules: usize,
    ) -> Result<MigrationSet, Vec<LoadError>> {
        files.sort_by(|a, b| a.relative.as_os_str().cmp(b.relative.as_os_str()));
        let mut errors = Vec::new();
        let mut ignored = Vec::new();
        let mut callbacks = Vec::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        // A folder of Liquibase changelogs: its changelogs and SQL files, run in its own order.
        let liquibase = plan.is_none() && (master.is_some() || files.iter().any(|f| liquibase::is_changelog(&f.bytes)));
        let mut liquibase_files = Vec::new();
        // graphile-migrate's committed files (their first line its `--! Previous:`): its
        // placeholders are filled in every plain file beside them, those written since too.
        let graphile = files.iter().any(|f| f.bytes.starts_with(GRAPHILE_HEADER.as_bytes()));
        // yoyo's files (`yoyo new` heads each with `-- depends:`): named by its ids, not a version.
        let yoyo = plan.is_none() && !liquibase && is_yoyo_directory(&files);
        for file in files {
            let path = dir.join(&file.relative);
            // The text as written, where shale normalizes it (a byte order mark, CRLF): other
            // tools' checksums (sqlx's, Prisma's) are of the bytes, mixed line endings and all.
            let mut as_written = None;
            let text = match String::from_utf8(file.bytes) {
                Ok(text) => match checksum::normalize(&text) {
                    std::borrow::Cow::Borrowed(same) if same.len() == text.len() => text,
                    normalized => {
                        let normalized = normalized.into_owned();
                        as_written = Some(text);
                        normalized
                    }
                },
                Err(e) => {
                    let offset = e.utf8_error().valid_up_to();
                    errors.push(LoadError::file(
                        &path,
                        format!("is not UTF-8 (invalid byte at offset {offset})"),
                        Some("save the file as UTF-8; PostgreSQL migrations must be UTF-8 text".into()),
                    ));
                    continue;
                }
            };
            let classified = match plan {
                Some(plan) => plan.classify(&file.relative),
                None if yoyo => classify_yoyo(&file.relative),
                None => classify(&file.relative),
            };
            if let (Some(offset), false) = (text.find('\0'), matches!(classified, Classified::Ignore)) {
                errors.push(LoadError::at(
                    &path,
                    &text,
                    offset,
                    "holds a NUL byte (\\0), which PostgreSQL cannot receive in SQL text".into(),
                    Some("remove it; a file full of them was probably saved as UTF-16: save it as UTF-8".into()),
                ));
                continue;
            }
            if liquibase && sql_stem(&file.relative.to_string_lossy()).is_some() {
                liquibase_files.push(liquibase::ReadFile { relative: file.relative, path, text });
                continue;
            }
            match classified {
                Classified::Ignore => {}
                Classified::Skipped(reason) => ignored.push(Ignored { path, reason }),
                Classified::Bad(message) => errors.push(LoadError::file(&path, message, Some(CONVENTIONS.into()))),
                Classified::Callback(event) => match flyway_callback_of(event, path, file.relative, text, settings) {
                    Ok(callback) => callbacks.push(callback),
                    Err(e) => errors.extend(e),
                },
                Classified::Part { key, version_text, name, role, layout, marks } => {
                    // Flyway's placeholders, in Flyway's files: the checksum stays the file's own.
                    let filling = Filling { layout, graphile: graphile && layout == Layout::SingleFile };
                    let (text, raw) = match fill_placeholders_as(&path, text, filling, &settings.placeholders) {
                        Ok((text, raw)) => (text, raw.or(as_written)),
                        Err(unknown) => {
                            errors.extend(unknown);
                            continue;
                        }
                    };
                    // sql-migrate knows a migration by its file name: two files may share a number.
                    let key = match role == Role::Single && is_sql_migrate(&text) {
                        true => format!("{key}:{name}"),
                        false => key,
                    };
                    let group = groups.entry(key).or_insert_with(|| Group {
                        version_text: version_text.clone(),
                        name: name.clone(),
                        layout,
                        parts: Vec::new(),
                        node_pg_migrate_dir: false,
                        bun_dir: false,
                    });
                    if matches!(role, Role::Up | Role::Single) && layout != group.layout {
                        group.layout = layout;
                    }
                    let relative = relative_text(&file.relative);
                    group.parts.push(Part { role, marks, path, text, raw, relative });
                }
            }
        }
        // An umzug down whose up is gone: @slonik/migrator passes over it, and so does shale, saying
        // so (re-check: a real project's leftover stopped every command).
        groups.retain(|_, g| {
            let orphan = g.layout == Layout::Umzug && g.parts.iter().all(|p| p.role == Role::Down);
            if orphan {
                ignored.extend(g.parts.iter().map(|p| Ignored {
                    path: p.path.clone(),
                    reason: "a down with no up beside it: @slonik/migrator passes over it, and so does shale".into(),
                }));
            }
            !orphan
        });
        let mut migrations = build_groups(groups, splitting, named_modules, &mut errors);
        let (mut left_out, mut left_out_changesets) = (Vec::new(), Vec::new());
        let mut gathering = liquibase::Gathering {
            splitting,
            selection: &settings.liquibase,
            ignored: &mut ignored,
            left_out: &mut left_out,
            left_out_changesets: &mut left_out_changesets,
            selectors_used: false,
            context_names: Default::default(),
            selected: Vec::new(),
            parameters: Vec::new(),
        };
        migrations.extend(liquibase::folder_migrations(
            master,
            liquibase_files,
            &settings.placeholders,
            &mut gathering,
            &mut errors,
        ));
        let liquibase_selectors_used = gathering.selectors_used;
        let liquibase_context_names = Vec::from_iter(gathering.context_names);
        let liquibase_selected = gathering.selected;
        let liquibase_parameters = gathering.parameters;
        // (The files were read in the order of their paths: that order holds within an event.)
        callbacks.sort_by_key(|c: &Callback| c.event);
        place_prisma_folders_by_name(&mut migrations);
        number_twins(&mut migrations);
        check_duplicates(&migrations, &mut errors);
        if !errors.is_empty() {
            // All problems together: those of splitting too, as a read that splits reports them.
            errors.extend(split_migrations(migrations.iter_mut()));
            return Err(errors);
        }
        migrations.sort_by(|a, b| match (&a.version, &b.version) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        Ok(MigrationSet {
            migrations,
            ignored,
            unrunnable: Vec::new(),
            code_migrations: Vec::new(),
            sqitch_project: None,
            sqitch_requires_elsewhere: Vec::new(),
            liquibase_master: None,
            left_out,
            left_out_changesets,
            liquibase_selectors_used,
            liquibase_context_names,
            liquibase_selected,
            callbacks,
            liquibase_parameters,
        })
    }

    /// Every `.sql` file of a seeds directory, in name order (numbers compared as numbers), or the
    /// one seed file `path` names (the Supabase CLI's `supabase/seed.sql`).
    pub fn read_seeds(path: &Path) -> Result<MigrationSet, Vec<LoadError>> {
        let mut ignored = Vec::new();
        let (dir, files) = match path.is_file() {
            true => {
                let bytes = std::fs::read(path).map_err(|e| {
                    vec![LoadError::file(path, format!("cannot be read: {e}"), None).of(LoadProblem::Unreadable)]
                })?;
                let relative = PathBuf::from(path.file_name().unwrap_or_default());
                (path.parent().unwrap_or(Path::new(".")), vec![SourceFile { relative, bytes }])
            }
            false => {
                let (files, others) = read_source_files(path, false).map_err(|e| vec![e])?;
                // A seed in code (Knex's `seeds/01_users.js`, its default folder too) is not run:
                // said, not passed over in silence (Knex trial).
                for other in others.iter().filter(|o| o.components().count() == 1) {
                    let Some(language) = other.file_name().and_then(|n| code_language_of(&n.to_string_lossy())) else {
                        continue;
                    };
                    ignored.push(Ignored {
                        reason: format!("a seed written in {language}, which shale does not run: port it to SQL"),
                        path: path.join(other),
                    });
                }
                (path, files)
            }
        };
        let mut migrations = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            let path = dir.join(&file.relative);
            let name = file.relative.to_string_lossy().into_owned();
            let Some(stem) = sql_stem(&name).filter(|_| file.relative.components().count() == 1) else {
                continue;
            };
            let text = match String::from_utf8(file.bytes) {
                Ok(t) => checksum::normalized(t),
                Err(e) => {
                    errors.push(LoadError::file(
                        &path,
                        format!("is not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()),
                        None,
                    ));
                    continue;
                }
            };
            let len = text.len();
            match Script::parse(path, text, 0..len, None) {
                Ok(up) => migrations.push(Migration {
                    version: None,
                    name: stem.to_string(),
                    kind: MigrationKind::Seed,
                    layout: Layout::SingleFile,
                    checksum: Checksum::of(&up.text),
                    up: up.into(),
                    down: None,
                    version_text: String::new(),
                    file: name.clone(),
                    raw_up: None,
                    changelog_file: None,
                    rerun: Rerun::Never,
                    liquibase_checksum: None,
                }),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let key = |m: &Migration| (split_version(&m.name, false).and_then(|(v, _)| Version::parse(&v)), m.name.clone());
        migrations.sort_by_key(key);
        Ok(MigrationSet {
            migrations,
            ignored,
            unrunnable: Vec::new(),
            code_migrations: Vec::new(),
            sqitch_project: None,
            sqitch_requires_elsewhere: Vec::new(),
            liquibase_master: None,
            left_out: Vec::new(),
            left_out_changesets: Vec::new(),
            liquibase_selectors_used: false,
            liquibase_context_names: Vec::new(),
            liquibase_selected: Vec::new(),
            callbacks: Vec::new(),
            liquibase_parameters: Vec::new(),
        })
    }

    /// The migrations sharing `m`'s number in a layout whose tool knows migrations by name
    /// ([`number_twins`]), `m` among them, in the order they run; just `m` when it has no twin.
    pub fn twins_of<'a>(&'a self, m: &'a Migration) -> Vec<&'a Migration> {
        if !m.layout.knows_migrations_by_name() {
            return vec![m];
        }
        let number = number_in_name(&m.file);
        self.versioned().filter(|t| t.layout == m.layout && number_in_name(&t.file) == number).collect()
    }

    pub fn versioned(&self) -> impl Iterator<Item = &Migration> {
        self.migrations.iter().filter(|m| m.kind == MigrationKind::Versioned)
    }

    /// Versioned migrations by version, for looking many up at once.
    pub fn by_version(&self) -> rustc_hash::FxHashMap<&Version, &Migration> {
        self.versioned().filter_map(|m| m.version.as_ref().map(|v| (v, m))).collect()
    }

    pub fn find(&self, version: &Version) -> Option<&Migration> {
        self.versioned().find(|m| m.version.as_ref() == Some(version))
    }

    /// The migrations in code left alone in the directory that are numbered as SQL files may be
    /// (`004_add_posts.rb`), with their versions: what a tool that records only the number it
    /// reached (Sequel's IntegerMigrator) has run or not.
    pub fn numbered_code_migrations(&self) -> impl Iterator<Item = (Version, &Path)> {
        self.ignored
            .iter()
            .filter(|i| i.is_code_migration())
            .filter_map(|i| Some((numbered_code_file(i.path.file_name()?.to_str()?)?.0, i.path.as_path())))
    }

    /// The newest version of any file of the directory: its migrations, and those in code it
    /// leaves alone (goose's Go files, an old tool's `0040_x.py`): the next migration is numbered
    /// after them all (review: `shale new` wrote `0001_x.sql` beside `0001_initial.py` to
    /// `0040_y.py`, and `0002_b.sql` beside `0002_b.py`, which then read as its port).
    ///
    /// Of those in code, only those numbered as the SQL files are, where there are SQL files:
    /// Knex's `20240101120000_users.js` beside `0001_baseline.sql` and `0002_b.sql` is the old
    /// tool's, and the next is `0003` (review: `20240101120001_third.sql`).
    pub fn newest_version_of_any_file(&self) -> Option<Version> {
        let newest_sql = self.versioned().filter(|m| m.version.is_some()).max_by(|a, b| a.version.cmp(&b.version));
        let numbered_as_sql = |text: &str| {
            newest_sql.is_none_or(|m| {
                let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
                text.len() == m.version_text.len() && digits(text) == digits(&m.version_text)
            })
        };
        let code = self
            .ignored
            .iter()
            .filter(|i| i.is_code_migration())
            .filter_map(|i| numbered_code_file(i.path.file_name()?.to_str()?))
            .filter(|(_, text, _)| numbered_as_sql(text))
            .map(|(version, _, _)| version);
        let versions = self.versioned().filter_map(|m| m.version.clone());
        versions.chain(self.unrunnable.iter().map(|u| u.version.clone())).chain(code).max()
    }

    /// Whether a migration creates the table `schema.name`: such a table is the application's,
    /// though it has a tool's name (Harbor's first migration makes an `alembic_version`), not that
    /// tool's history. One that names another schema does
    /// not (round 4: a baseline's `CREATE TABLE b.django_migrations` made `a.django_migrations`,
    /// the history on the search path, count as the application's, and it went unwatched); one
    /// that names none may be it.
    pub fn creates_table_in(&self, schema: &str, name: &str) -> bool {
        self.migrations.iter().any(|m| {
            crate::tokens::created_table_names(&m.up.text)
                .iter()
                .any(|(s, t)| t == name && s.as_deref().is_none_or(|s| s == schema))
        })
    }

    /// The tables its migrations create for good without naming a schema, lowercased unless
    /// quoted: they land where the search_path of the run that made them said (a TEMP table goes
    /// to the session's own schema: re-check, convoy's was taken for one).
    pub fn tables_created_unqualified(&self) -> Vec<String> {
        let created = self.migrations.iter().flat_map(|m| crate::tokens::permanent_tables_created(&m.up.text));
        created.filter(|(schema, _)| schema.is_none()).map(|(_, name)| name).collect()
    }

    /// The names of the directory's files of every kind: its migrations', those it cannot run
    /// and those in code it leaves alone (the last part of each path).
    pub fn file_names(&self) -> impl Iterator<Item = String> + '_ {
        let name = |path: &Path| path.file_name().map(|n| n.to_string_lossy().into_owned());
        let last = |file: &str| file.rsplit('/').next().unwrap_or(file).to_string();
        self.migrations
            .iter()
            .map(move |m| last(&m.file))
            .chain(self.unrunnable.iter().map(move |u| last(&u.file)))
            .chain(self.code_migrations.iter().filter_map(move |c| name(&c.path)))
            .chain(self.ignored.iter().filter_map(move |i| name(&i.path)))
    }

    /// The migration shale cannot run that has this version, if any.
    pub fn find_unrunnable(&self, version: &Version) -> Option<&Unrunnable> {
        self.unrunnable.iter().find(|u| &u.version == version)
    }

    /// The convention of the newest versioned migration, for `shale new` (None for an empty directory).
    /// With none in SQL, that of the migrations written in code: a first SQL file beside
    /// node-pg-migrate's `1751331728000_users.js` is numbered as they are, not `0001`, which its
    /// tool, were the team to go back, would refuse before them.
    pub fn convention(&self) -> Option<(Layout, Naming)> {
        let Some(last) = self.versioned().last() else {
            let code = self.code_migrations.last()?;
            let naming = match code.version_text.len() {
                13 => Naming::UnixMillis,
                14 | 17 => Naming::Timestamp,
                _ => return None,
            };
            return Some((Layout::SingleFile, naming));
        };
        let digits = last.version_text.chars().filter(char::is_ascii_digit).count();
        let dated = dated_version(&last.version_text).is_some_and(|(v, _)| v.len() != 17);
        let naming = if dated {
            Naming::Dated
        } else if digits == 13 && last.version_text.len() == 13 && last.layout != Layout::Flyway {
            Naming::UnixMillis
        } else if digits >= 12 && last.layout != Layout::Flyway {
            Naming::Timestamp
        } else if last.layout == Layout::Flyway {
            Naming::Sequential { width: last.version_text.len() }
        } else {
            // A twin's `.1` is not part of the number the directory counts with.
            Naming::Sequential { width: last.version_text.split('.').next().unwrap_or_default().len() }
        };
        Some((last.layout, naming))
    }
}

/// Prisma runs its folders in the order of their names, where a shorter number than the others'
/// (`20250625_add_chart/` among `20250604085536_x/` and `20250704170658_y/`) comes after every
/// longer one it begins, not first as its smaller number would put it (breadth trial: langfuse's
/// history failed on a fresh database, that migration run before the type it uses was made). Such a
/// folder's version is its number filled out to the others' length with the digit that keeps the
/// names' order: `9`s where a character after `9` follows its digits (`_`), `0`s otherwise. Folders
/// of one length are left as they are. Prisma's rows name folders, not versions: taking its history
/// over is the same.
fn place_prisma_folders_by_name(migrations: &mut [Migration]) {
    let digits = |m: &Migration| m.version_text.bytes().all(|b| b.is_ascii_digit());
    let prisma = |m: &Migration| m.layout == Layout::PrismaFolder && m.version.is_some() && digits(m);
    let Some(longest) = migrations.iter().filter(|m| prisma(m)).map(|m| m.version_text.len()).max() else {
        return;
    };
    for m in migrations.iter_mut().filter(|m| prisma(m) && m.version_text.len() < longest) {
        let after_digits = m.file.as_bytes().get(m.version_text.len()).copied().unwrap_or(b'/');
        let fill = if after_digits > b'9' { '9' } else { '0' };
        let filled: String =
            m.version_text.chars().chain(std::iter::repeat_n(fill, longest - m.version_text.len())).collect();
        m.version = Version::parse(&filled);
        m.version_text = filled;
    }
}

/// Prisma folders that share a timestamp (`20260630120000_a/`, `20260630120000_b/`), or
/// sql-migrate files that share a number (`8_add_aggregators.sql`, `8_create_stats.sql`): both
/// tools know a migration by its whole folder or file name and run those of one number in the
/// order of their names, so they are not duplicates. The first keeps its version; each next one,
/// in that order, gets the number with `.1`, `.2`, ... after it, which sorts before the next one.
fn number_twins(migrations: &mut [Migration]) {
    let mut named: Vec<&mut Migration> =
        migrations.iter_mut().filter(|m| m.layout.knows_migrations_by_name() && m.version.is_some()).collect();
    named.sort_by(|a, b| (&a.version, a.file.split('/').next()).cmp(&(&b.version, b.file.split('/').next())));
    let mut twin = 0;
    for i in 1..named.len() {
        let (before, rest) = named.split_at_mut(i);
        let (first_of_them, m) = (&before[i - 1 - twin], &mut rest[0]);
        if m.version != first_of_them.version {
            twin = 0;
            continue;
        }
        twin += 1;
        m.version_text = format!("{}.{twin}", first_of_them.version_text);
        m.version = Version::parse(&m.version_text);
    }
}

/// The number a migration's file or folder name starts with, as written before [`number_twins`]
/// told twins apart (`8` for `8_add.sql` and `8_create.sql`, a Prisma folder's timestamp).
fn number_in_name(file: &str) -> Option<Version> {
    let first = file.split('/').next()?;
    let stem = first.strip_suffix(".sql").unwrap_or(first);
    split_version(stem, false).and_then(|(version, _)| Version::parse(&version))
}

fn check_duplicates(migrations: &[Migration], errors: &mut Vec<LoadError>) {
    // Versions compare as versions: `V1` and `V1.0` are one version written twice.
    let mut versions: BTreeMap<&Version, &Migration> = BTreeMap::new();
    let mut repeatables: BTreeMap<&str, &Migration> = BTreeMap::new();
    for m in migrations {
        let first = match &m.version {
            Some(v) => versions.get(v),
            None => repeatables.get(m.name.as_str()),
        };
        if let Some(first) = first {
            errors.push(
                LoadError::file(
                    &m.up.path,
                    format!("duplicate version {}: {} has it too", m.version_text, first.up.path.display()),
                    Some("give one of them the next free version".into()),
                )
                .of(LoadProblem::DuplicateVersion),
            );
        } else {
            match &m.version {
                Some(v) => versions.insert(v, m),
                None => repeatables.insert(&m.name, m),
            };
        }
    }
}

/// The largest migration file shale reads. Running one takes about nine times its size in memory
/// (the statements, the batch sent, the copy kept in the history): bulk data belongs in COPY
/// from a file or in batches, not in one huge script.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A migration file's text as it runs: in a Flyway file (`V1__a.sql`, `U1__a.sql`, `R__a.sql`, by
/// its name), its placeholders (`${name}`) replaced by their values (see [`Placeholders`]); the
/// other tools' files have none. With it, the file as written when that changed the text (a
/// versioned migration's checksum is of that). A placeholder with no value is an error at its
/// place, each such name once. Loading a directory fills them the same way; this is for a file read
/// alone (`text` normalized as loading normalizes it).
pub fn fill_placeholders(
    path: &Path,
    text: String,
    placeholders: &Placeholders,
) -> Result<(String, Option<String>), Vec<LoadError>> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let layout = match classify_file(&name) {
        Classified::Part { layout, .. } => layout,
        _ => Layout::SingleFile,
    };
    // graphile-migrate's committed file, or one beside them, as loading fills them (graphile
    // trial: `shale lint FILE` of one failed on `:DATABASE_VISITOR`).
    let graphile = layout == Layout::SingleFile && (text.starts_with(GRAPHILE_HEADER) || beside_graphile_files(path));
    fill_placeholders_as(path, text, Filling { layout, graphile }, placeholders)
}

/// Whether a `.sql` file in `path`'s folder begins as graphile-migrate's committed files do.
fn beside_graphile_files(path: &Path) -> bool {
    use std::io::Read;
    let Some(Ok(entries)) =
        path.parent().map(|d| std::fs::read_dir(if d.as_os_str().is_empty() { Path::new(".") } else { d }))
    else {
        return false;
    };
    entries.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".sql")).any(|e| {
        let mut head = [0u8; GRAPHILE_HEADER.len()];
        std::fs::File::open(e.path()).and_then(|mut f| f.read_exact(&mut head)).is_ok()
            && head == GRAPHILE_HEADER.as_bytes()
    })
}

/// The first line of graphile-migrate's committed files.
const GRAPHILE_HEADER: &str = "--! Previous:";

/// Whose placeholders a file's text holds: Flyway's (by its layout), or graphile-migrate's (a file
/// beside its committed ones, or one itself).
#[derive(Clone, Copy)]
struct Filling {
    layout: Layout,
    graphile: bool,
}

/// [`fill_placeholders`] for a file whose layout is known.
fn fill_placeholders_as(
    path: &Path,
    text: String,
    Filling { layout, graphile }: Filling,
    placeholders: &Placeholders,
) -> Result<(String, Option<String>), Vec<LoadError>> {
    // goose's `-- +goose ENVSUB ON`: the environment's variables, put in as goose puts them.
    if memchr::memmem::find(text.as_bytes(), b"+goose").is_some() {
        match crate::envsub::expand_file(&text, placeholders.environment()) {
            Ok(Some(expanded)) if expanded != text => return Ok((expanded, Some(text))),
            Ok(_) => {}
            Err(e) => {
                let message = format!("goose's `ENVSUB ON` cannot put the environment into this line: {}", e.message);
                let hint = "write it as goose reads it (`$$` or `\\$` for a `$`), or set the variable where shale runs";
                return Err(vec![LoadError::at(path, &text, e.offset, message, Some(hint.into()))]);
            }
        }
    }
    // graphile-migrate's committed files (their first line is its `--! Previous:`), `:NAME`.
    if graphile || text.starts_with(GRAPHILE_HEADER) {
        return match placeholders.replace_graphile(&text) {
            Ok(Some(replaced)) => Ok((replaced, Some(text))),
            Ok(None) => Ok((text, None)),
            Err(unknown) => Err(unknown.iter().map(|u| unknown_placeholder(path, &text, u)).collect()),
        };
    }
    // Most files have no placeholder: nothing to fill, no values copied for the file's name.
    if layout != Layout::Flyway || !text.contains("${") {
        return Ok((text, None));
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    match placeholders.for_file(&file_name).replace(&text) {
        Ok(Some(replaced)) => Ok((replaced, Some(text))),
        Ok(None) => Ok((text, None)),
        Err(unknown) => Err(unknown.iter().map(|u| unknown_placeholder(path, &text, u)).collect()),
    }
}

/// The error for a placeholder with no value, at its place in the file.
/// A placeholder's name as a TOML table's key writes it: bare where it can be, quoted otherwise.
pub fn placeholder_key(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        name.to_string()
    } else {
        format!("\"{name}\"")
    }
}

fn unknown_placeholder(path: &Path, text: &str, unknown: &crate::placeholders::Unknown) -> LoadError {
    let name = &unknown.name;
    if let Some(bare) = name.strip_prefix(':') {
        return LoadError::at(
            path,
            text,
            unknown.offset,
            format!("graphile-migrate placeholder {name} has no value"),
            Some(format!(
                "give it a value among the placeholders the migrations are read with, as `{bare}`: the value the \
                 project's .gmrc gives graphile-migrate (`!ENV` there: the environment variable of that name; \
                 :DATABASE_NAME and :DATABASE_OWNER it fills itself, the database's name and its owner)"
            )),
        )
        .of(LoadProblem::UnknownPlaceholder { name: name.clone() });
    }
    LoadError::at(
        path,
        text,
        unknown.offset,
        format!("Flyway placeholder ${{{name}}} has no value"),
        Some(match crate::placeholders::flyway_fills(name) {
            Some(what) => format!(
                "give it a value among the placeholders the migrations are read with: Flyway fills it in \
                 itself ({what}), shale does not"
            ),
            None => format!(
                "give it a value among the placeholders the migrations are read with: the value Flyway had as \
                 flyway.placeholders.{name}; where Flyway ran with placeholder replacement off \
                 (placeholderReplacement=false) and the text is data, its own text: `{name} = \"${{{name}}}\"`"
            ),
        }),
    )
    .of(LoadProblem::UnknownPlaceholder { name: name.clone() })
}

/// How many folders deep migrations are read (Flyway's locations are read to any depth; a
/// symbolic link to a folder above would loop).
const MAX_FOLDER_DEPTH: usize = 16;

/// The files of a drizzle-kit directory (`journal`: its `meta/_journal.json`'s entries) that
/// drizzle runs: a top-level file its journal does not name, older than the journal's newest
/// entry, is one drizzle-kit never ran (a leftover of a regenerated migration) and is passed over,
/// in `passed_over`. Newer files are migrations written since, as `shale new` writes them.
fn in_drizzle_journal(
    dir: &Path,
    files: Vec<SourceFile>,
    journal: &[(String, String)],
    passed_over: &mut Vec<Ignored>,
) -> Vec<SourceFile> {
    let version = |stem: &str| split_version(stem, false).and_then(|(v, _)| Version::parse(&v));
    let Some(newest) = journal.iter().filter_map(|(_, tag)| version(tag)).max() else { return files };
    let (kept, left): (Vec<SourceFile>, Vec<SourceFile>) = files.into_iter().partition(|f| {
        let name = f.relative.to_string_lossy();
        let Some(stem) = sql_stem(&name).filter(|_| f.relative.components().count() == 1) else { return true };
        journal.iter().any(|(_, tag)| tag == stem) || version(stem).is_none_or(|v| v > newest)
    });
    passed_over.extend(left.into_iter().map(|f| Ignored {
        path: dir.join(&f.relative),
        reason: "not in drizzle's journal (meta/_journal.json), though older than its newest entry: drizzle-kit never ran it".into(),
    }));
    kept
}

/// The entries of drizzle's journal whose file is not in the directory, each an error at its tag
/// in the journal: drizzle refuses to run without it ("No file ... found"), so a database built
/// without it would lack what it does.
fn journal_tags_without_files(
    dir: &Path,
    journal_text: &str,
    entries: &[(String, String)],
    files: &[SourceFile],
) -> Vec<LoadError> {
    let journal = dir.join("meta").join("_journal.json");
    let present = |tag: &str| {
        files
            .iter()
            .any(|f| f.relative.components().count() == 1 && sql_stem(&f.relative.to_string_lossy()) == Some(tag))
    };
    entries
        .iter()
        .filter(|(_, tag)| !present(tag))
        .map(|(_, tag)| {
            let at = journal_text.find(&format!("\"{tag}\"")).unwrap_or(0);
            LoadError::at(
                &journal,
                journal_text,
                at,
                format!("drizzle's journal names migration {tag}, and there is no {tag}.sql beside it"),
                Some(format!(
                    "drizzle runs each entry's file and refuses to run without it: restore {tag}.sql (or, renamed, give \
                     it its name back), or remove the entry from the journal if the migration is meant to go"
                )),
            )
        })
        .collect()
}

/// `name` without its `.sql` extension, whatever its case (`001_a.SQL` too).
fn sql_stem(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(4)?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".sql")).then(|| &name[..cut])
}

/// The SQL files of `dir` (and `metadata.toml` in folders), read; and the names of its other
/// top-level files, not read.
/// In a Sqitch project (`sqitch`), only its script folders are read: the rest of the project
/// (its tests, templates, a repository's other folders where the plan is at the root) is not its.
fn read_source_files(dir: &Path, sqitch: bool) -> Result<(Vec<SourceFile>, Vec<PathBuf>), LoadError> {
    let io = |path: &Path, e: std::io::Error| {
        LoadError::file(path, format!("cannot be read: {e}"), Some("check the path of the migrations directory".into()))
            .of(LoadProblem::Unreadable)
    };
    let canonical_dir = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
    // A symlink is followed only when it stays inside the directory: one leading elsewhere (say,
    // to a file of secrets) is refused before anything of it is read or shown.
    let outside = |path: &Path| -> Option<LoadError> {
        let target = std::fs::canonicalize(path).ok()?;
        (!target.starts_with(&canonical_dir)).then(|| {
            LoadError::file(
                path,
                "is a symbolic link to a path outside the migrations directory; shale does not follow it",
                Some("copy the file into the directory, or read the migrations from the directory it lives in".into()),
            )
            .of(LoadProblem::LinkOutside)
        })
    };
    // The directory entry says whether it is a folder and a symlink (no stat per file).
    let kind = |entry: &std::fs::DirEntry| match entry.file_type() {
        Ok(t) if t.is_symlink() => (entry.path().is_dir(), true),
        Ok(t) => (t.is_dir(), false),
        Err(_) => (false, false),
    };
    let mut wanted: Vec<PathBuf> = Vec::new();
    let mut others: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = PathBuf::from(entry.file_name());
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (is_dir, is_link) = kind(&entry);
        if is_dir && sqitch && !matches!(name.to_str(), Some("deploy" | "revert" | "verify")) {
            continue;
        }
        if is_dir {
            let path = entry.path();
            if let Some(e) = is_link.then(|| outside(&path)).flatten() {
                return Err(e);
            }
            // A diesel folder holds its files; any other folder is read to its depths, as Flyway
            // reads its locations (the files' names say which are migrations).
            let diesel = split_version(&name.to_string_lossy(), true).is_some();
            let mut folders = vec![(path, name, 1)];
            while let Some((path, relative, depth)) = folders.pop() {
                for inner in std::fs::read_dir(&path).map_err(|e| io(&path, e))? {
                    let inner = inner.map_err(|e| io(&path, e))?;
                    let (inner_dir, inner_link) = kind(&inner);
                    let file_name = inner.file_name().to_string_lossy().into_owned();
                    if file_name.starts_with('.') && !diesel {
                        continue;
                    }
                    if inner_dir && !diesel {
                        if let Some(e) = inner_link.then(|| outside(&inner.path())).flatten() {
                            return Err(e);
                        }
                        if depth >= MAX_FOLDER_DEPTH {
                            return Err(LoadError::file(
                                &inner.path(),
                                format!("is more than {MAX_FOLDER_DEPTH} folders deep in the migrations directory"),
                                Some(
                                    "keep migrations fewer folders deep (a symbolic link to a folder above it loops)"
                                        .into(),
                                ),
                            ));
                        }
                        folders.push((inner.path(), relative.join(inner.file_name()), depth + 1));
                        continue;
                    }
                    if inner_dir || (sql_stem(&file_name).is_none() && file_name != "metadata.toml") {
                        continue;
                    }
                    if let Some(e) = inner_link.then(|| outside(&inner.path())).flatten() {
                        return Err(e);
                    }
                    wanted.push(relative.join(inner.file_name()));
                }
            }
        } else if sql_stem(&name.to_string_lossy()).is_some() {
            if let Some(e) = is_link.then(|| outside(&entry.path())).flatten() {
                return Err(e);
            }
            wanted.push(name);
        } else {
            others.push(name);
        }
    }
    // Reading a thousand small files is syscall-bound: spread it over the cores.
    let chunk = wanted.len().div_ceil(reading_threads(wanted.len())).max(1);
    let read = |relative: &PathBuf| {
        let path = dir.join(relative);
        let bytes = read_bounded(&path).map_err(|e| io(&path, e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(LoadError::file(
                &path,
                format!("is larger than {} MiB, the most shale reads as one migration", MAX_FILE_BYTES >> 20),
                Some("load bulk data with COPY from a file (psql \\copy) or split it into several migrations".into()),
            ));
        }
        Ok(SourceFile { relative: relative.clone(), bytes })
    };
    if chunk >= wanted.len() {
        let files = wanted.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        return Ok((files, others));
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = wanted
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(read).collect::<Result<Vec<_>, _>>()))
            .collect();
        let mut files = Vec::with_capacity(wanted.len());
        for worker in workers {
            files.extend(worker.join().expect("a file-reading thread does not panic")?);
        }
        Ok((files, others))
    })
}

/// A file's bytes, at most `MAX_FILE_BYTES + 1` of them. Sized from the file's length: a file
/// that gives exactly that many bytes in one read is whole (one read per file, not a second one
/// to see the end: a thousand files make that a thousand system calls of every start-up); one
/// that gives fewer or more (a network file system, a file being written) is read on to its end.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata().map_or(0, |m| m.len().min(MAX_FILE_BYTES + 1)) as usize;
    let mut bytes = vec![0; size + 1];
    let first = loop {
        match file.read(&mut bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    bytes.truncate(first);
    if first != size {
        file.take((MAX_FILE_BYTES + 1).saturating_sub(first as u64)).read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Single,
    Up,
    Down,
    DieselMetadata,
}

enum Classified {
    Ignore,
    /// A Flyway callback shale runs (see [`Callback`]).
    Callback(CallbackEvent),
    /// Not a migration, and left alone with a note saying why.
    Skipped(String),
    Bad(String),
    Part {
        key: String,
        version_text: String,
        name: String,
        role: Role,
        layout: Layout,
        marks: NameMarks,
    },
}

/// What an up/down file's name says beyond the version and name: pop's (or Ory's popx's)
/// `{version}_{name}[.{database}][.autocommit].{up|down}.sql`, bun's `{version}_{name}.tx.up.sql`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct NameMarks {
    /// Written for PostgreSQL (`.postgres.`, `.postgresql.`, `.pg.`): it takes the place of the
    /// file of the same version written for every database.
    postgres: bool,
    /// `.autocommit.`: pop runs it outside a transaction.
    autocommit: bool,
    /// `.tx.`: bun runs it in a transaction, and a file of its directory named without it outside
    /// one, statement by statement.
    bun_tx: bool,
}

/// A pop file's name, by what follows its name.
enum PopFile<'a> {
    /// `stem` without the marks, and the marks.
    Marked(&'a str, NameMarks),
    /// Written for another database (`.mysql.`, `.sqlite3.`, `.cockroach.`, ...): not PostgreSQL's.
    OtherDatabase,
}

/// The marks of pop's per-database files at the end of `stem` (the name without `.up.sql` or
/// `.down.sql`). Database names as pop reads them, aliases included, case aside.
fn pop_file(stem: &str) -> PopFile<'_> {
    let (rest, autocommit) = match stem.len().checked_sub(".autocommit".len()) {
        Some(cut) if stem.is_char_boundary(cut) && stem[cut..].eq_ignore_ascii_case(".autocommit") => {
            (&stem[..cut], true)
        }
        _ => (stem, false),
    };
    let Some((before, database)) = rest.rsplit_once('.') else {
        return PopFile::Marked(rest, NameMarks { postgres: false, autocommit, bun_tx: false });
    };
    match database.to_ascii_lowercase().as_str() {
        name if POP_POSTGRES.contains(&name) => {
            PopFile::Marked(before, NameMarks { postgres: true, autocommit, bun_tx: false })
        }
        "cockroach" | "cockroachdb" | "crdb" | "mysql" | "mariadb" | "sqlite3" | "sqlite" | "yugabyte"
        | "yugabytedb" => PopFile::OtherDatabase,
        _ => PopFile::Marked(rest, NameMarks { postgres: false, autocommit, bun_tx: false }),
    }
}

/// Whether `file_name` is pop's file written for PostgreSQL alone (`x.postgres.up.sql`): one left
/// empty says pop (popx) does nothing there on PostgreSQL, on purpose.
pub fn written_for_postgres_alone(file_name: &str) -> bool {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    let stem = stem.strip_suffix(".up").or_else(|| stem.strip_suffix(".down")).unwrap_or(stem);
    matches!(pop_file(stem), PopFile::Marked(_, NameMarks { postgres: true, .. }))
}

/// Whether `file_name` is named as pop names its files for one database (`x.postgres.up.sql`,
/// `x.mysql.up.sql`) or to run outside a transaction (`x.autocommit.up.sql`).
pub fn named_as_pop_names_files(file_name: &str) -> bool {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    let stem = stem.strip_suffix(".up").or_else(|| stem.strip_suffix(".down")).unwrap_or(stem);
    match pop_file(stem) {
        PopFile::Marked(_, marks) => marks.postgres || marks.autocommit,
        PopFile::OtherDatabase => true,
    }
}

/// Whether a name (a folder's, or a word of it) is a database's other than PostgreSQL (`mysql`,
/// `sqlite`): the one list of them, for the folders `init` passes over and those a directory
/// leaves alone.
pub fn named_for_another_database(folder: &str) -> bool {
    // (The JVM's embedded ones too: docspell keeps Flyway files for H2 beside PostgreSQL's, and
    // init chose H2's, breadth trial.)
    const OTHERS: [&str; 15] = [
        "mysql",
        "mariadb",
        "sqlite",
        "sqlite3",
        "mssql",
        "sqlserver",
        "clickhouse",
        "cockroach",
        "cockroachdb",
        "duckdb",
        "oracle",
        "h2",
        "hsqldb",
        "derby",
        "db2",
    ];
    OTHERS.contains(&folder.to_ascii_lowercase().as_str())
}

/// PostgreSQL's names in pop's file names (`x.postgres.up.sql`), aliases included.
const POP_POSTGRES: [&str; 4] = ["postgres", "postgresql", "pg", "pgx"];

/// What to do about a directory of fizz migrations.
const FIZZ: &str = "a history written in fizz can also start from the live schema pop built: move the fizz \
                    files out of the directory, record that schema as the first migration (a baseline from \
                    the database), then write new migrations in SQL";

/// Why a pgmigrate `__NONTRANSACTIONAL` file runs outside a transaction.
const PGMIGRATE_NONTRANSACTIONAL: &str =
    "its file name says `NONTRANSACTIONAL` (pgmigrate runs such a file outside a transaction)";

/// Why a file of bun's directory named without `.tx.` runs outside a transaction.
const BUN_NO_TX: &str =
    "it is bun's and its name lacks `.tx.` (bun runs such a file outside a transaction, statement by statement)";

/// Why a pop `.autocommit.` file runs outside a transaction.
const POP_AUTOCOMMIT: &str = "its file name says `.autocommit` (pop runs such a file outside a transaction)";

struct Part {
    role: Role,
    /// The marks of the file's name, pop's and bun's (none for another tool's file).
    marks: NameMarks,
    path: PathBuf,
    text: String,
    /// The file as written, when placeholders were replaced in `text`.
    raw: Option<String>,
    /// The path relative to the migrations directory, `/`-separated.
    relative: String,
}

struct Group {
    version_text: String,
    name: String,
    layout: Layout,
    parts: Vec<Part>,
    /// The directory is node-pg-migrate's (a file of it is named as node-pg-migrate names
    /// them): it reads the section markers of every SQL file alike, whatever its name.
    node_pg_migrate_dir: bool,
    /// The directory is bun's (a file of it is named `.tx.`, or holds bun's `--bun:split`): bun
    /// runs its files named without `.tx.` outside a transaction, statement by statement.
    bun_dir: bool,
}

/// What a path is, by its name alone.
fn classify(relative: &Path) -> Classified {
    let components: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    // A folder named as a migration (diesel's, Prisma's), its version read once.
    let migration_folder = match components.as_slice() {
        [folder, file] => split_version(folder, true).map(|split| (split, file)),
        _ => None,
    };
    match components.as_slice() {
        [file] => classify_file(file),
        [_, _] if migration_folder.is_some() => {
            let ((version_text, name), file) = migration_folder.expect("matched above");
            let (role, layout) = match file.to_ascii_lowercase().as_str() {
                "up.sql" => (Role::Up, Layout::DieselFolder),
                "migration.sql" => (Role::Up, Layout::PrismaFolder),
                "down.sql" => (Role::Down, Layout::DieselFolder),
                "metadata.toml" => (Role::DieselMetadata, Layout::DieselFolder),
                f if sql_stem(f).is_some() => {
                    return Classified::Bad(
                        "a migration folder holds only up.sql (or Prisma's migration.sql), down.sql and metadata.toml"
                            .into(),
                    )
                }
                // A project's own runner's migrations in code, beside Prisma's (formbricks keeps
                // data migrations as `migration.ts`): said, not run.
                f if code_language_of(f).is_some() => {
                    return Classified::Skipped(format!(
                        "a migration written in {}, which shale does not run: only its SQL files",
                        code_language_of(f).unwrap_or_default()
                    ))
                }
                _ => return Classified::Ignore,
            };
            Classified::Part {
                key: format!("v:{version_text}:{name}"),
                version_text,
                name,
                role,
                layout,
                marks: NameMarks::default(),
            }
        }
        // umzug's downs (@slonik/migrator's): `down/` holds a file of the up's name.
        [folder, file] if folder == "down" && umzug_down(file).is_some() => umzug_down(file).unwrap_or(Classified::Ignore),
        // db-migrate's SQL files, in the `sqls` folder of its migrations directory, which its
        // modules (`VERSION-name.js`, beside them) read (db-migrate trial: refused, and pointing
        // the directory at `sqls` made each `-down.sql` a second migration of its version).
        [folder, file] if folder == "sqls" && sql_stem(file).and_then(db_migrate_file).is_some() => {
            sql_stem(file).and_then(db_migrate_file).unwrap_or(Classified::Ignore)
        }
        // Any other folder, at any depth: Flyway's files are read there, as Flyway reads the
        // folders of its locations; the file's name gives the version, wherever it is.
        [folders @ .., file] => match classify_file(file) {
            part @ Classified::Part { layout: Layout::Flyway, .. } => part,
            Classified::Ignore => Classified::Ignore,
            callback @ Classified::Callback(_) => callback,
            callback @ Classified::Skipped(_) if sql_stem(file).and_then(flyway_callback).is_some() => callback,
            // Old migrations kept aside in the directory (`archive/`), which the tools that read
            // the top only (node-pg-migrate, golang-migrate, dbmate, sqlx) never run: left alone,
            // whatever their names (slonik trial: another tool's files moved there were errors).
            _ if folders.iter().any(|f| kept_aside(f)) => Classified::Skipped(format!(
                "in folder `{}`, kept aside: the tools that read migrations at the top of the directory never run it",
                folders.join("/")
            )),
            // Migrations one folder down (graphile-migrate's `committed/000001.sql`, Hasura's
            // `default/1700000000000_x/up.sql`): the directory given is their parent's.
            Classified::Part { .. } => Classified::Bad(format!(
                "is a migration in folder `{}`, where only Flyway's V, U and R files are read: point the migrations \
                 directory at that folder (graphile-migrate's `committed`, say), or keep the file at the top",
                folders.join("/")
            )),
            // A folder per database (diesel's `migrations/mysql/...` beside `postgresql/`): another
            // database's are left alone, and the errors all point at PostgreSQL's (breadth trial:
            // vaultwarden's 314 errors pointed at mysql, postgresql and sqlite by turns).
            _ if folders.len() > 1 && named_for_another_database(&folders[0]) => Classified::Skipped(format!(
                "in folder `{}`, another database's migrations",
                folders[0]
            )),
            _ if folders.last().is_some_and(|f| split_version(f, true).is_some()) && folders.len() > 1 => {
                let parent = folders[..folders.len() - 1].join("/");
                Classified::Bad(format!(
                    "is in migration folder `{}`, inside folder `{parent}`: point the migrations directory at `{parent}`",
                    folders.join("/")
                ))
            }
            // A script with no version in a folder (tern's `data/sample.sql`, which its templates
            // include): the tools that read the top of the directory never run it (breadth trial:
            // it stopped every command).
            Classified::Skipped(_) if !looks_versioned(file) => Classified::Skipped(format!(
                "in folder `{}`, named with no version: the tools that read migrations at the top of the directory \
                 never run it",
                folders.join("/")
            )),
            _ => Classified::Bad(format!(
                "folder `{}` fits no migration convention (in a folder that is not a diesel migration's, only Flyway's V, U and R files are read)",
                folders.join("/")
            )),
        },
        [] => Classified::Ignore,
    }
}

/// A folder whose name says its files are kept aside, not run (`archive`, `old`, `legacy`, ...).
fn kept_aside(folder: &str) -> bool {
    const NAMES: [&str; 13] = [
        "archive",
        "archived",
        "archives",
        "old",
        "legacy",
        "deprecated",
        "backup",
        "backups",
        "unused",
        "disabled",
        "obsolete",
        "attic",
        "trash",
    ];
    NAMES.contains(&folder.to_ascii_lowercase().as_str())
}

/// When a Flyway callback shale runs is run, around `up`, as Flyway runs it around `migrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum CallbackEvent {
    /// `beforeMigrate`: before the migrations, at every `up`, under the migration lock.
    BeforeMigrate,
    /// `afterMigrateApplied`: after them, where at least one was applied.
    AfterMigrateApplied,
    /// `afterMigrate`: after them, at every `up` (one that applies nothing too).
    AfterMigrate,
}

impl CallbackEvent {
    fn of(event: &str) -> Option<CallbackEvent> {
        Some(match event {
            "beforeMigrate" => CallbackEvent::BeforeMigrate,
            "afterMigrateApplied" => CallbackEvent::AfterMigrateApplied,
            "afterMigrate" => CallbackEvent::AfterMigrate,
            _ => return None,
        })
    }

    /// Flyway's name for it.
    pub fn name(self) -> &'static str {
        match self {
            CallbackEvent::BeforeMigrate => "beforeMigrate",
            CallbackEvent::AfterMigrateApplied => "afterMigrateApplied",
            CallbackEvent::AfterMigrate => "afterMigrate",
        }
    }

    /// Whether it runs at an `up` that applies nothing.
    pub fn runs_when_nothing_is_applied(self) -> bool {
        self != CallbackEvent::AfterMigrateApplied
    }

    /// The events an `up` runs after its migrations, in the order it runs them, as Flyway's
    /// migrate does: `afterMigrateApplied` only where one was applied.
    pub fn after_an_up(applied_any: bool) -> &'static [CallbackEvent] {
        match applied_any {
            true => &[CallbackEvent::AfterMigrateApplied, CallbackEvent::AfterMigrate],
            false => &[CallbackEvent::AfterMigrate],
        }
    }
}

/// A Flyway SQL callback shale runs (`afterMigrate.sql`, `afterMigrateApplied__views.sql`): SQL
/// Flyway runs around `migrate`, in a transaction of its own, recorded in no history (the breadth
/// sweep's alf.io makes its views again in them: left alone, a migration that dropped a view
/// left it gone). Those of one event run in the order of their file names.
#[derive(Debug, Clone)]
pub struct Callback {
    pub event: CallbackEvent,
    /// Relative to the migrations directory, `/`-separated.
    pub file: String,
    pub script: std::sync::Arc<Script>,
}

/// The callback of the file at `path` (`relative` to the directory), its placeholders filled as
/// Flyway fills a callback's, its statements split (a callback is small, and runs at every `up`
/// it has an event in). Flyway runs one in a transaction: one that cannot run in one is refused.
fn flyway_callback_of(
    event: CallbackEvent,
    path: PathBuf,
    relative: PathBuf,
    text: String,
    settings: &ReadSettings,
) -> Result<Callback, Vec<LoadError>> {
    let filling = Filling { layout: Layout::Flyway, graphile: false };
    let (text, _) = fill_placeholders_as(&path, text, filling, &settings.placeholders)?;
    let whole = 0..text.len();
    let script = script(path.clone(), text, whole, None, Splitting::Now).map_err(|e| vec![e])?;
    if let Some(reason) = &script.no_transaction {
        let message = format!("a Flyway callback ({}) that cannot run in a transaction: {reason}", event.name());
        let hint =
            "shale runs a callback in a transaction of its own: make it a migration, or leave that statement out";
        // At the statement that asks for it, where one does (not a directive).
        let error = match script.statements.iter().find(|s| crate::split::no_transaction_reason(s).is_some()) {
            Some(statement) => LoadError::at(&path, &script.text, statement.span.start, message, Some(hint.into())),
            None => LoadError::file(&path, message, Some(hint.into())),
        };
        return Err(vec![error]);
    }
    Ok(Callback { event, file: relative_text(&relative), script: std::sync::Arc::new(script) })
}

/// The Flyway event a file's stem names (`afterMigrate`, `beforeEachMigrate__grants`): Flyway runs
/// such a file around its commands, not as a migration.
fn flyway_callback(stem: &str) -> Option<&str> {
    let event = stem.split("__").next().unwrap_or(stem);
    let known = ["before", "after"].iter().any(|p| event.starts_with(p))
        && ["Migrate", "Validate", "Clean", "Info", "Repair", "Baseline", "Undo", "Connect"]
            .iter()
            .any(|c| event.contains(c));
    known.then_some(event)
}

fn classify_file(file: &str) -> Classified {
    let Some(stem) = sql_stem(file) else {
        return Classified::Ignore;
    };
    // Flyway: V3__name, U3__name, R__name
    if let Some(name) = stem.strip_prefix("R__") {
        return Classified::Part {
            key: format!("r:{name}"),
            version_text: String::new(),
            name: name.to_string(),
            role: Role::Single,
            layout: Layout::Flyway,
            marks: NameMarks::default(),
        };
    }
    for (prefix, role) in [("V", Role::Single), ("U", Role::Down)] {
        if let Some(rest) = stem.strip_prefix(prefix) {
            if let Some((version_text, name)) = rest.split_once("__") {
                if Version::parse(version_text).is_some() {
                    let key = format!("v:{}", Version::parse(version_text).unwrap().canonical());
                    return Classified::Part {
                        key,
                        version_text: version_text.to_string(),
                        name: name.to_string(),
                        role,
                        layout: Layout::Flyway,
                        marks: NameMarks::default(),
                    };
                }
            }
        }
    }
    if let Some(part) = postgrator_file(stem) {
        return part;
    }
    if let Some(part) = umzug_file(stem, Role::Up) {
        return part;
    }
    let (stem, role, layout) = if let Some(s) = stem.strip_suffix(".up") {
        (s, Role::Up, Layout::UpDownPair)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, Role::Down, Layout::UpDownPair)
    } else {
        (stem, Role::Single, Layout::SingleFile)
    };
    // pop keeps a file per database for a version: PostgreSQL's are read, the others left alone.
    let (stem, marks) = match layout {
        Layout::UpDownPair => match pop_file(stem) {
            PopFile::Marked(stem, marks) => (stem, marks),
            PopFile::OtherDatabase => return Classified::Ignore,
        },
        _ => (stem, NameMarks::default()),
    };
    // bun's `.tx.up.sql` says it runs in a transaction: the name is the one before it
    // (`20220926100949_init.tx.up.sql` pairs with `..._init.down.sql`).
    let (stem, marks) = match (layout, stem.strip_suffix(".tx")) {
        (Layout::UpDownPair, Some(stem)) => (stem, NameMarks { bun_tx: true, ..marks }),
        _ => (stem, marks),
    };
    match split_version(stem, false) {
        Some((version_text, name)) => {
            let key = format!("v:{}", Version::parse(&version_text).unwrap().canonical());
            Classified::Part { key, version_text, name, role, layout, marks }
        }
        None if looks_versioned(file) => Classified::Bad(format!("`{file}` fits no migration naming convention")),
        None => match flyway_callback(stem) {
            Some(event) => match CallbackEvent::of(event) {
                Some(event) => Classified::Callback(event),
                None => Classified::Skipped(format!(
                    "a Flyway callback ({event}), which shale does not run (of Flyway's callbacks, shale runs \
                     beforeMigrate, afterMigrate and afterMigrateApplied): SQL to run again after migrations is a \
                     repeatable migration (`R__name.sql`, run whenever it changes), or an afterMigrate callback"
                )),
            },
            // A script kept beside the migrations (data, a schema dump): diesel, golang-migrate,
            // dbmate, goose and Flyway all pass over a file whose name starts with no version.
            None => Classified::Skipped(UNVERSIONED.into()),
        },
    }
}

/// Postgrator's `001.do.name.sql` and `001.undo.name.sql` (`stem` without `.sql`), the name
/// perhaps left out (`001.do.sql`).
fn postgrator_file(stem: &str) -> Option<Classified> {
    let (version_text, rest) = stem.split_once('.')?;
    if version_text.is_empty() || !version_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (action, name) = rest.split_once('.').unwrap_or((rest, ""));
    let role = match action {
        "do" => Role::Up,
        "undo" => Role::Down,
        _ => return None,
    };
    named_part(version_text, name, role, Layout::Postgrator)
}

/// umzug's `2024.02.11T13.01.48.name.sql` (`stem` without `.sql`: its `create` names files by the
/// time, its punctuation made dots): version `20240211130148`, its name after the time.
fn umzug_file(stem: &str, role: Role) -> Option<Classified> {
    let (time, name) = (stem.get(..19)?, stem.get(20..)?);
    let shape = time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 | 13 | 16 => b == b'.',
        10 => b == b'T',
        _ => b.is_ascii_digit(),
    });
    if !shape || stem.as_bytes()[19] != b'.' || name.is_empty() {
        return None;
    }
    let digits: String = time.chars().filter(char::is_ascii_digit).collect();
    named_part(&digits, name, role, Layout::Umzug)
}

/// The ids a file's yoyo header depends on (`-- depends: 0001_a 0002_b` among its leading
/// comment lines; none listed is an empty list), where it has one.
fn yoyo_depends(bytes: &[u8]) -> Option<Vec<String>> {
    let text = String::from_utf8_lossy(bytes.get(..bytes.len().min(4096)).unwrap_or(bytes));
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .find_map(|l| l.strip_prefix("--")?.trim_start().strip_prefix("depends:"))
        .map(|ids| ids.split_whitespace().map(str::to_string).collect())
}

/// Whether the directory is yoyo's: a file at its top heads itself with `-- depends:` naming
/// only files there (or none), and no file there is of another tool's layout (named as a pair,
/// Flyway's, Postgrator's or umzug's, or holding dbmate's, goose's, sql-migrate's, tern's or
/// node-pg-migrate's markers). Review: a comment `-- depends: table a` turned a dbmate directory
/// into yoyo's, its down sections run as part of its ups.
fn is_yoyo_directory(files: &[SourceFile]) -> bool {
    let top: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|f| f.relative.components().count() == 1)
        .filter_map(|f| Some((sql_stem(f.relative.to_str()?)?, f.bytes.as_slice())))
        .collect();
    let ids: std::collections::HashSet<&str> =
        top.iter().map(|(stem, _)| stem.strip_suffix(".rollback").unwrap_or(stem)).collect();
    // An id of its files, or one of its Python steps' (they start with a number, as `yoyo new`
    // writes them): not words (review: `-- depends: table a`; and one naming only a step).
    let an_id = |id: &str| ids.contains(id) || id.bytes().next().is_some_and(|b| b.is_ascii_digit());
    let headed =
        top.iter().any(|(_, bytes)| yoyo_depends(bytes).is_some_and(|depends| depends.iter().all(|id| an_id(id))));
    headed
        && top.iter().all(|(stem, bytes)| {
            let other_layout = matches!(
                classify_file(&format!("{stem}.sql")),
                Classified::Part { layout, .. } if layout != Layout::SingleFile
            );
            let text = String::from_utf8_lossy(bytes);
            let marked = text.lines().any(|l| {
                section_marker(l).is_some() || l.trim() == TERN_SEPARATOR || node_pg_migrate_marker(l).is_some()
            });
            !other_layout && !marked
        })
}

/// A file of a directory of yoyo's: `X.sql` (its rollback `X.rollback.sql`) at the top, its id
/// `X` numbered as `yoyo new` numbers it, by the date and a number within it (`20250807_01_name`,
/// version `20250807.1`), or by a number alone (`0001.name`, `0001_name`). Anything else is
/// classified as in any directory (its Python steps are code shale does not run).
fn classify_yoyo(relative: &Path) -> Classified {
    let file = relative.to_string_lossy();
    let Some(stem) = sql_stem(&file).filter(|_| relative.components().count() == 1) else {
        return classify(relative);
    };
    let (id, role) = match stem.strip_suffix(".rollback") {
        Some(id) => (id, Role::Down),
        None => (stem, Role::Up),
    };
    // yoyo runs these after every apply: not a migration to run once.
    if id.starts_with("post-apply") {
        return Classified::Skipped(
            "yoyo's post-apply script, which yoyo runs after every apply: shale does not run it; make what it \
             does a migration, or run it after `shale up`"
                .into(),
        );
    }
    let Some((version_text, name)) = yoyo_id(id) else {
        return Classified::Bad(format!(
            "`{file}`: yoyo's migration `{id}` starts with no number, by which shale orders migrations: give it \
             one as `yoyo new` does (`YYYYMMDD_01_{id}.sql`, its date and its number within the day)"
        ));
    };
    named_part(version_text, name, role, Layout::Yoyo).unwrap_or_else(|| classify(relative))
}

/// A yoyo id's version, as written, and its name: the date and the number within it
/// (`20250807_01_name`: `20250807_01`), or the number it starts with (`0001.name`: `0001`).
fn yoyo_id(id: &str) -> Option<(&str, &str)> {
    let number = |text: &str| text.bytes().take_while(u8::is_ascii_digit).count();
    let first = number(id);
    if first == 0 {
        return None;
    }
    // The number within the day, after the date (`_01`), where one follows.
    let rest = &id[first..];
    let within = rest.strip_prefix('_').map(number).filter(|n| *n > 0 && first == 8);
    let (version_text, name) = match within {
        Some(n) => (&id[..first + 1 + n], &id[first + 1 + n..]),
        None => (&id[..first], rest),
    };
    Some((version_text, name.trim_start_matches(['_', '.', '-'])))
}

/// A migration in code named as umzug or Postgrator names its migrations in its sequence
/// (`2024.02.11T13.01.48.seed.js`, `003.do.seed.js`): its version, as written, and its name.
fn numbered_as_sql_tools_name_code(file: &str) -> Option<(Version, String, String)> {
    let stem = without_extension(file);
    match umzug_file(stem, Role::Up).or_else(|| postgrator_file(stem)) {
        Some(Classified::Part { version_text, name, role: Role::Up, .. }) => {
            Some((Version::parse(&version_text)?, version_text, name))
        }
        _ => None,
    }
}

/// An umzug down in `down/`, named as its up (`file` with `.sql`).
fn umzug_down(file: &str) -> Option<Classified> {
    umzug_file(sql_stem(file)?, Role::Down)
}

/// A 14-digit version (`20240211130148`) written as umzug writes the time in a file's name
/// (`2024.02.11T13.01.48`); another version as it is.
pub fn umzug_time(version: &str) -> String {
    match version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()) {
        true => format!(
            "{}.{}.{}T{}.{}.{}",
            &version[..4],
            &version[4..6],
            &version[6..8],
            &version[8..10],
            &version[10..12],
            &version[12..]
        ),
        false => version.to_string(),
    }
}

/// A file of a pair of `layout`, its version written `version_text`.
fn named_part(version_text: &str, name: &str, role: Role, layout: Layout) -> Option<Classified> {
    let version = Version::parse(version_text)?;
    Some(Classified::Part {
        key: format!("v:{}", version.canonical()),
        version_text: version_text.to_string(),
        name: name.to_string(),
        role,
        layout,
        marks: NameMarks::default(),
    })
}

/// db-migrate's SQL files, `20250101000001-create-users-up.sql` and `-down.sql` (`stem` without
/// `.sql`): a version of 14 digits, its name after a dash, as `db-migrate create --sql-file`
/// writes them (a name of another form ending in `-up`, `0003_speed-up`, is not one). Read only in
/// the `sqls` folder its modules read them from: at the top, sql-migrate names its files so
/// (`20240102120000-clean-up.sql`, review: its down section ran as part of the up).
fn db_migrate_file(stem: &str) -> Option<Classified> {
    let (rest, role) = match (stem.strip_suffix("-up"), stem.strip_suffix("-down")) {
        (Some(rest), _) => (rest, Role::Up),
        (_, Some(rest)) => (rest, Role::Down),
        _ => return None,
    };
    let (version_text, name) = rest.split_once('-')?;
    if version_text.len() != 14 || !version_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    named_part(version_text, name, role, Layout::DbMigrate)
}

/// Why a SQL file whose name starts with no version is left alone ([`Ignored::reason`]).
pub const UNVERSIONED: &str = "not a migration: its name starts with no version";

/// The name starts the way a migration's does: digits, Flyway's `V1`/`U1`/`R__`.
fn looks_versioned(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('V' | 'U') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        Some('R') => name.starts_with("R__"),
        _ => false,
    }
}

/// What a file that is not read as SQL is.
enum Other {
    /// Named like a migration, with an extension that is almost `.sql`: surely a typo.
    Mistake(String),
    /// pop's `20190101000000_users.up.fizz`, in pop's own language: what it does must be SQL.
    Fizz {
        sql: String,
    },
    /// goose's `00012_name.go` (bun's too), Flyway's `V12__name.java`: a migration of the history
    /// that shale cannot run.
    NumberedCode {
        version_text: String,
        name: String,
    },
    /// Another tool's migration in code (Knex's `20230105101500_users.js`, Ecto's `.exs`): named,
    /// so a directory shared during a switch says which files shale leaves to that tool.
    Code(&'static str),
    Silent,
}

/// The names of the SQL file that holds what the fizz file `sql` names (`x.up.sql`) does: that
/// one, or one for PostgreSQL alone (`x.postgres.up.sql`).
fn fizz_written_as_sql(sql: &str) -> impl Iterator<Item = String> + '_ {
    let direction = [".up.sql", ".down.sql"].into_iter().find(|d| sql.ends_with(d));
    let marked = direction.into_iter().flat_map(move |d| {
        let base = &sql[..sql.len() - d.len()];
        POP_POSTGRES.into_iter().map(move |db| format!("{base}.{db}{d}"))
    });
    std::iter::once(sql.to_string()).chain(marked)
}

/// The language of a migration file written in code, by its extension (Go's are goose's, read
/// apart as [`Other::NumberedCode`]).
fn code_language(extension: &str) -> Option<&'static str> {
    match extension {
        "js" | "mjs" | "cjs" => Some("JavaScript"),
        "ts" | "mts" | "cts" => Some("TypeScript"),
        "exs" | "ex" => Some("Elixir"),
        "py" => Some("Python"),
        "rb" => Some("Ruby"),
        "php" => Some("PHP"),
        "cs" => Some("C#"),
        "java" => Some("Java"),
        "kt" => Some("Kotlin"),
        _ => None,
    }
}

/// [`code_language`] of a file name's extension, in any case.
fn code_language_of(name: &str) -> Option<&'static str> {
    code_language(&name.rsplit_once('.')?.1.to_ascii_lowercase())
}

fn classify_other(name: &str) -> Other {
    let Some((stem, written)) = name.rsplit_once('.') else { return Other::Silent };
    let extension = written.to_ascii_lowercase();
    if extension == "go" && !stem.ends_with("_test") {
        if let Some((version_text, name)) =
            stem.split_once('_').filter(|(v, _)| v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty())
        {
            return Other::NumberedCode { version_text: version_text.to_string(), name: name.to_string() };
        }
    }
    // Flyway's Java (or Kotlin) migrations, where a project keeps them beside its SQL (breadth trial:
    // DSpace's were passed over without a word, and `up` failed later on what they do).
    if matches!(extension.as_str(), "java" | "kt") {
        if let Some((version_text, name)) = stem.strip_prefix('V').and_then(|rest| rest.split_once("__")) {
            if Version::parse(version_text).is_some() {
                return Other::NumberedCode { version_text: version_text.to_string(), name: name.to_string() };
            }
        }
    }
    if looks_versioned(name) {
        if let Some(language) = code_language(&extension) {
            return Other::Code(language);
        }
    }
    // pop's own language: skipped, the schema a new database gets would lack what it does.
    if extension == "fizz" && looks_versioned(name) {
        return Other::Fizz { sql: format!("{stem}.sql") };
    }
    let sql_like = extension.starts_with("sq") || matches!(extension.as_str(), "psql" | "pgsql" | "up" | "down");
    if looks_versioned(name) && sql_like {
        // `001_a.up` lacks the extension; `001_a.sq` and `001_a.psql` have another one.
        let renamed = match extension.as_str() {
            "up" | "down" => format!("{name}.sql"),
            _ => format!("{stem}.sql"),
        };
        return Other::Mistake(format!(
            "looks like a migration but ends in .{written}, not .sql: rename it to `{renamed}`, or move it out of the directory"
        ));
    }
    Other::Silent
}

/// A migration in code named with a version (`0002_backfill.py`, and `0002_b.d.ts` beside
/// `0002_b.js`, the same one): its version, as written, and its name.
fn numbered_code_file(file: &str) -> Option<(Version, String, String)> {
    let stem = without_extension(file);
    // An ISO 8601 time is its digits (review: `2024-01-02T12-00-00_users.ts` read as version 2024,
    // and `shale new` beside `0001_baseline.sql` wrote `2025_...`).
    if let Some((digits, rest, _)) = iso_time(stem) {
        return Some((Version::parse(&digits)?, digits, rest.trim_start_matches(['_', '-']).to_string()));
    }
    let (version_text, name) = split_version(stem, false)?;
    Some((Version::parse(&version_text)?, version_text, name))
}

/// A file's name without its extension, as the tools that name a migration by its file record it:
/// the last one (`1700000000000_add-v1.2-col` of `.js`: review), or TypeScript's declarations'
/// two (`.d.ts`, `.d.mts`, `.d.cts`), whose file is the same migration as its module.
pub(crate) fn without_extension(file: &str) -> &str {
    for declarations in [".d.ts", ".d.mts", ".d.cts"] {
        if let Some(stem) = file.strip_suffix(declarations) {
            return stem;
        }
    }
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// `0003_create users` -> ("0003", "create users"); diesel folders allow dashes in the version.
pub(crate) fn split_version(stem: &str, dashes: bool) -> Option<(String, String)> {
    if let Some(dated) = (!dashes).then(|| dated_version(stem)).flatten() {
        return Some(dated);
    }
    // Laravel's date and time in parts, `2026_12_07_103000_create_webhooks`: the 14 digits it is
    // (Ecto/Laravel re-check: a SQL file so named, as the advice for a PHP migration's port says,
    // was version 2026, below the baseline, and never ran).
    if let Some((digits, rest)) = (!dashes).then(|| laravel_time(stem)).flatten() {
        return Some((digits, rest.trim_start_matches('_').to_string()));
    }
    if dashes {
        // diesel: the version is the folder name up to its first `_` (2.3 adds a hexadecimal suffix).
        let (version, name) = stem.split_once('_').unwrap_or((stem, ""));
        if version.contains('-') {
            return Version::parse(version).map(|_| (version.to_string(), name.to_string()));
        }
    }
    let end = stem.find(|c: char| !(c.is_ascii_digit() || (dashes && c == '-'))).unwrap_or(stem.len());
    let version_text = stem[..end].trim_end_matches('-');
    if version_text.is_empty() || Version::parse(version_text).is_none() {
        return None;
    }
    let rest = &stem[version_text.len()..];
    let name = if rest.is_empty() { "" } else { rest.strip_prefix('_').or_else(|| rest.strip_prefix('-'))? };
    Some((version_text.to_string(), name.to_string()))
}

/// A name starting with a date, `2024-11-05-wallets`, or a date and its number within the day,
/// `2023-01-20.0-initial` (as sql-migrate projects write them): the version is the date with its
/// number, `2023-01-20.0`; a time after the date (`2017-09-23-182408_users`, diesel's) is part of it.
fn dated_version(stem: &str) -> Option<(String, String)> {
    let b = stem.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10)) {
        return None;
    }
    let separator = |at: usize| matches!(b.get(at), None | Some(b'-' | b'_' | b'.'));
    let version_len = match b.get(10) {
        Some(b'-') if digits(11..17) && separator(17) => 17,
        Some(b'.') if b.get(11).is_some_and(u8::is_ascii_digit) => {
            11 + stem[11..].find(|c: char| !c.is_ascii_digit()).unwrap_or(stem.len() - 11)
        }
        _ => 10,
    };
    if !separator(version_len) {
        return None;
    }
    let name = stem.get(version_len + 1..).unwrap_or_default();
    Some((stem[..version_len].to_string(), name.to_string()))
}

/// Split and checksum every migration, in the order of `groups`, spread over the cores when
/// there are several to spare; problems go to `errors`. One thread builds straight into the
/// result: a migration is several hundred bytes, and a history of 10,000 should not be copied
/// through intermediate lists.
fn build_groups(
    mut groups: BTreeMap<String, Group>,
    splitting: Splitting,
    named_modules: usize,
    errors: &mut Vec<LoadError>,
) -> Vec<Migration> {
    // pop: a down for PostgreSQL whose up is written for other databases only has nothing of
    // PostgreSQL's to undo, and popx passes over it.
    groups.retain(|_, g| g.parts.iter().any(|p| p.role != Role::Down || !p.marks.postgres));
    // A directory of node-pg-migrate's: at least half its plain files named as it names them, or
    // one written with its template's markers. The files beside them named otherwise
    // (`20251120_x.sql`, a date) are read as it reads them too (node-pg-migrate re-check: their
    // down ran as part of the up). One file so named among another tool's is not enough (review:
    // a note starting `-- Down migration` then moved a dbmate file's index into its down).
    let plain = groups.values().filter(|g| g.layout == Layout::SingleFile);
    let (named, count) = plain.fold((named_modules, named_modules), |(n, c), g| {
        (n + usize::from(named_as_node_pg_migrate(&g.version_text)), c + 1)
    });
    if named > 0 && (2 * named >= count || groups.values().any(Group::has_node_pg_migrate_template)) {
        groups.values_mut().for_each(|g| g.node_pg_migrate_dir = true);
    }
    // bun's directory (bun trial: csghub's `.up.sql` using an enum value it adds failed in one
    // transaction, where bun runs its statements one by one).
    let bun_part = |p: &Part| p.marks.bun_tx || p.text.starts_with("--bun:") || p.text.contains("\n--bun:");
    if groups.values().any(|g| g.layout == Layout::UpDownPair && g.parts.iter().any(bun_part)) {
        groups.values_mut().for_each(|g| g.bun_dir = true);
    }
    let count = groups.len();
    let threads = reading_threads(count);
    let mut migrations = Vec::with_capacity(count);
    let mut keep = |built: Result<Migration, Vec<LoadError>>| match built {
        Ok(m) => migrations.push(m),
        Err(e) => errors.extend(e),
    };
    if threads == 1 {
        groups.into_values().map(|g| g.build(splitting)).for_each(&mut keep);
        return migrations;
    }
    let chunk = count.div_ceil(threads);
    let mut groups = groups.into_values();
    let chunks: Vec<Vec<Group>> = (0..threads).map(|_| groups.by_ref().take(chunk).collect()).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(|g| g.build(splitting)).collect::<Vec<_>>()))
            .collect();
        for worker in workers {
            worker.join().expect("a migration-building thread does not panic").into_iter().for_each(&mut keep);
        }
    });
    migrations
}

/// Threads worth starting for `items` files: one per core but one (at most 4), each with at least
/// 64 files. The core left over serves the connection that `up` opens meanwhile (and, often, a
/// server on the same machine): on two cores a second loading thread costs more CPU time in
/// thread start-up and heap growth than it saves.
fn reading_threads(items: usize) -> usize {
    // Asked once: on Linux the answer reads the cgroup's CPU quota from /proc and /sys.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(5));
    (cores - 1).min(items.div_ceil(64)).max(1)
}

impl Group {
    /// Whether its plain file has a section marker written as node-pg-migrate's template writes
    /// it (`-- Up Migration` alone on its line).
    fn has_node_pg_migrate_template(&self) -> bool {
        self.layout == Layout::SingleFile
            && self.parts.iter().any(|p| {
                crate::directives::has_tool_comments(&p.text)
                    && p.text.lines().any(|line| node_pg_migrate_marker(line).is_some_and(|(_, template)| template))
            })
    }

    fn build(self, splitting: Splitting) -> Result<Migration, Vec<LoadError>> {
        let Group { version_text, name, layout, parts, node_pg_migrate_dir, bun_dir } = self;
        let mut up = None;
        let mut down = None;
        let mut metadata = None;
        let mut errors = Vec::new();
        for part in parts {
            let slot = match part.role {
                Role::Single | Role::Up => &mut up,
                Role::Down => &mut down,
                Role::DieselMetadata => &mut metadata,
            };
            if let Some(first) = slot.as_ref().map(|p: &Part| (p.path.clone(), p.marks.postgres, p.role)) {
                // pop: the file for PostgreSQL runs instead of the one for every database (both
                // pop's `.up.sql` files: a single-file migration of that version is a duplicate).
                let (first, first_for_postgres, first_role) = first;
                let both_pop = first_role != Role::Single && part.role != Role::Single;
                if both_pop && first_for_postgres != part.marks.postgres {
                    if part.marks.postgres {
                        *slot = Some(part);
                    }
                    continue;
                }
                errors.push(match version_text.as_str() {
                    "" => LoadError::file(
                        &part.path,
                        format!("duplicate repeatable migration R__{name}: {} has it too", first.display()),
                        Some("rename one of them".into()),
                    ),
                    _ => LoadError::file(
                        &part.path,
                        format!("duplicate version {version_text}: {} has it too", first.display()),
                        Some("give one of them the next free version".into()),
                    )
                    .of(LoadProblem::DuplicateVersion),
                });
                continue;
            }
            *slot = Some(part);
        }
        let Some(mut up) = up else {
            let orphan = down.or(metadata).expect("a group has at least one part");
            return Err(vec![LoadError::file(
                &orphan.path,
                "has no matching up migration",
                Some(match layout {
                    Layout::Flyway => {
                        format!("add V{version_text}__{name}.sql, or remove this undo file")
                    }
                    Layout::DieselFolder => "add up.sql to the folder".into(),
                    // As each names its up (re-check: a yoyo rollback was told to add a `.up.sql`;
                    // umzug's orphans are passed over before this, as @slonik/migrator passes them).
                    Layout::Yoyo => format!(
                        "add its migration, `{}`, or remove this rollback",
                        orphan.relative.replace(".rollback.sql", ".sql")
                    ),
                    Layout::Postgrator => format!("add {version_text}.do.{name}.sql, or remove this undo file"),
                    Layout::DbMigrate => format!("add {version_text}-{name}-up.sql, or remove this down"),
                    _ => format!("add {version_text}_{name}.up.sql"),
                }),
            )]);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let file = up.relative.clone();
        let raw: Option<std::sync::Arc<str>> = up.raw.take().map(Into::into);
        let force_no_tx = match &metadata {
            Some(meta) => diesel_no_transaction(meta)?,
            // pgmigrate's `V0003__NONTRANSACTIONAL_add_index.sql` (pgmigrate trial: run in a
            // transaction, where its `ALTER TYPE ... ADD VALUE` and the UPDATE using it failed).
            None if file
                .rsplit('/')
                .next()
                // (Anywhere in its description, as pgmigrate looks for it: review.)
                .is_some_and(|name| {
                    name.starts_with('V')
                        && name.split_once("__").is_some_and(|(_, about)| about.contains("NONTRANSACTIONAL"))
                }) =>
            {
                Some(PGMIGRATE_NONTRANSACTIONAL)
            }
            None => None,
        };
        let kind = if version_text.is_empty() { MigrationKind::Repeatable } else { MigrationKind::Versioned };
        let version = Version::parse(&version_text);
        let (up_script, down_script, layout) = match (layout, down) {
            (Layout::SingleFile, None) => {
                let node_pg = node_pg_migrate_dir || named_as_node_pg_migrate(&version_text);
                single_file(up, force_no_tx, splitting, node_pg)?
            }
            (_, down) => {
                let up_range = 0..up.text.len();
                let no_tx = |part: &Part| match part.marks {
                    NameMarks { autocommit: true, .. } => Some(POP_AUTOCOMMIT),
                    NameMarks { bun_tx: false, .. } if bun_dir && layout == Layout::UpDownPair => Some(BUN_NO_TX),
                    _ => force_no_tx,
                };
                let up_no_tx = no_tx(&up);
                let up_script = script(up.path, up.text, up_range, up_no_tx, splitting).map_err(|e| vec![e])?;
                let down_script = match down {
                    Some(d) => {
                        let r = 0..d.text.len();
                        let d_no_tx = no_tx(&d);
                        Some(script(d.path, d.text, r, d_no_tx, splitting).map_err(|e| vec![e])?)
                    }
                    None => None,
                };
                (up_script, down_script, layout)
            }
        };
        // As Flyway's: a versioned migration's is of the file as written (a placeholder's value
        // may differ from one database to another); a repeatable's of the text that runs, so that a
        // changed value runs it again.
        let checksum = match kind {
            MigrationKind::Repeatable => Checksum::of(&up_script.text),
            _ => Checksum::of(raw.as_deref().unwrap_or(&up_script.text)),
        };
        Ok(Migration {
            version,
            name,
            kind,
            layout,
            up: up_script.into(),
            down: down_script.map(Into::into),
            checksum,
            version_text,
            file,
            raw_up: raw,
            changelog_file: None,
            rerun: Rerun::Never,
            liquibase_checksum: None,
        })
    }
}

/// Where tern's separator line starts in `text`, when it has one (the whole line) and no section
/// marker of dbmate's, goose's or sql-migrate's.
fn tern_separator(text: &str) -> Option<usize> {
    let mut offset = 0;
    let mut found = None;
    for line in text.split_inclusive('\n') {
        if section_marker(line).is_some() {
            return None;
        }
        if found.is_none() && line.trim() == TERN_SEPARATOR {
            found = Some(offset);
        }
        offset += line.len();
    }
    found
}

/// Whether `text` is a sql-migrate migration: it has its `-- +migrate Up` line.
fn is_sql_migrate(text: &str) -> bool {
    crate::directives::has_tool_comments(text)
        && text.lines().any(|line| section_marker(line) == Some((true, Layout::SqlMigrate)))
}

/// The section a marker line opens: dbmate's `-- migrate:up` / `-- migrate:down`, goose's
/// `-- +goose Up` / `-- +goose Down`, sql-migrate's `-- +migrate Up` / `-- +migrate Down` (with
/// its options after the word, as `notransaction`). node-pg-migrate's are read apart
/// ([`node_pg_migrate_marker`]): they are words a plain comment may start with.
fn section_marker(line: &str) -> Option<(bool, Layout)> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    // dbmate reads its markers at the start of a line alone: an indented one is a comment to it
    // (dbmate trial: one in a function body was taken for a second down marker).
    let dbmate = line.starts_with("--");
    if dbmate && rest.starts_with("migrate:up") {
        Some((true, Layout::DbmateSections))
    } else if dbmate && rest.starts_with("migrate:down") {
        Some((false, Layout::DbmateSections))
    } else if let Some(goose) = rest.strip_prefix("+goose") {
        match goose.trim().to_ascii_lowercase().as_str() {
            "up" => Some((true, Layout::Goose)),
            "down" => Some((false, Layout::Goose)),
            _ => None,
        }
    } else if let Some(marker) = rest.strip_prefix("+migrate") {
        // sql-migrate reads its commands as written: `Up`, not `up`.
        match marker.split_whitespace().next() {
            Some("Up") => Some((true, Layout::SqlMigrate)),
            Some("Down") => Some((false, Layout::SqlMigrate)),
            _ => None,
        }
    } else {
        None
    }
}

/// The tool whose section markers `text` has (`dbmate`, `goose`, `sql-migrate`), if any: such a
/// file says in its own words what runs outside a transaction.
pub fn section_tool(text: &str) -> Option<&'static str> {
    text.lines().find_map(section_marker).map(|(_, layout)| match layout {
        Layout::Goose => "goose",
        Layout::SqlMigrate => "sql-migrate",
        _ => "dbmate",
    })
}

/// Split the scripts of `migrations` not split yet; what cannot be split, all of it.
fn split_migrations<'m>(migrations: impl Iterator<Item = &'m mut Migration>) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for m in migrations {
        errors.extend(Script::split_shared(&mut m.up).err());
        errors.extend(m.down.as_mut().and_then(|down| Script::split_shared(down).err()));
    }
    errors
}

/// A path relative to the migrations directory as the history keeps it: `/`-separated.
fn relative_text(relative: &Path) -> String {
    relative.to_string_lossy().replace('\\', "/")
}

/// Whether two paths name one file, one of them perhaps with folders above the other's
/// (`db/changelog/changes/001.sql` and `changes/001.sql`): the migrations directory may be
/// given a folder higher or lower, and another tool records paths from its own root.
pub(crate) fn same_file(a: &str, b: &str) -> bool {
    let clean = |p: &str| p.trim_start_matches("classpath*:").trim_start_matches("classpath:").replace('\\', "/");
    let (a, b) = (clean(a), clean(b));
    let (a, b) = (Path::new(a.trim_start_matches('/')), Path::new(b.trim_start_matches('/')));
    a.ends_with(b) || b.ends_with(a)
}

/// How a script is read, beyond its text and its section.
#[derive(Debug, Clone, Default)]
struct Reading {
    /// Its `-- shale:` directives are its section's alone (a Liquibase changeset, one of many in
    /// its file), not its whole file's (a dbmate or goose file's sections share them).
    section_directives: bool,
    /// A line that ends a statement besides `;` (Liquibase's `endDelimiter` on a line of its own),
    /// itself not sent.
    end_delimiter: Option<String>,
    /// The tool ran the script in a transaction of its own whatever `BEGIN` and `COMMIT` it holds
    /// (Liquibase: a changeset's `begin transaction` only warns, its `commit` commits the
    /// changeset's transaction and the rest goes on in the next): they are dropped, and the script
    /// runs whole in one transaction, not statement by statement as psql would run it.
    in_own_transaction: bool,
}

/// A script read now, split now or later.
fn script(
    path: PathBuf,
    text: impl Into<std::sync::Arc<str>>,
    section: Range<usize>,
    force_no_tx: Option<&str>,
    splitting: Splitting,
) -> Result<Script, LoadError> {
    script_reading(path, text, section, force_no_tx, splitting, &Reading::default())
}

/// [`script`], read as `reading` says. `text` may be shared by several scripts (a
/// section each: a Liquibase changelog's changesets).
fn script_reading(
    path: PathBuf,
    text: impl Into<std::sync::Arc<str>>,
    section: Range<usize>,
    force_no_tx: Option<&str>,
    splitting: Splitting,
    reading: &Reading,
) -> Result<Script, LoadError> {
    let script = Script::unsplit_reading(path, text.into(), section, force_no_tx, reading)?;
    match splitting {
        Splitting::Now => script.split(),
        Splitting::Later => Ok(script),
    }
}

/// Whether a file's version is written as node-pg-migrate numbers its files: milliseconds since
/// 1970 (13 digits, its default) or its `utc` format's (17 digits, `yyyyMMddHHmmssSSS`).
fn named_as_node_pg_migrate(version_text: &str) -> bool {
    matches!(version_text.len(), 13 | 17) && version_text.bytes().all(|b| b.is_ascii_digit())
}

/// A single file, possibly holding another tool's up and down sections. `node_pg_named`: its name
/// is written as node-pg-migrate names its files, whose markers are then read as it reads them.
fn single_file(
    part: Part,
    force_no_tx: Option<&str>,
    splitting: Splitting,
    node_pg_named: bool,
) -> Result<(Script, Option<Script>, Layout), Vec<LoadError>> {
    let text_len = part.text.len();
    // Most files have no sections: every marker is a comment some tool gives meaning to.
    let may_have_sections = crate::directives::has_tool_comments(&part.text);
    // tern: the up above its separator line, the down below it; a file with another tool's
    // section markers is that tool's, whatever its comments say.
    if let Some(at) = may_have_sections.then(|| tern_separator(&part.text)).flatten() {
        let line_end = part.text[at..].find('\n').map_or(text_len, |i| at + i + 1);
        let below = line_end..text_len;
        // Nothing below the separator: tern calls the migration irreversible, and so does shale.
        let down = match part.text[below.clone()].trim().is_empty() {
            true => None,
            false => {
                Some(script(part.path.clone(), part.text.clone(), below, force_no_tx, splitting).map_err(|e| vec![e])?)
            }
        };
        let up = script(part.path, part.text, 0..at, force_no_tx, splitting).map_err(|e| vec![e])?;
        return Ok((up, down, Layout::Tern));
    }
    let mut up_marker = None;
    let mut down_marker = None;
    let mut sections = Layout::DbmateSections;
    let (mut node_pg_up, mut node_pg_down, mut node_pg_template) = (None, None, false);
    // sql-migrate's markers, each (up, where its line starts, where it ends): it switches
    // direction at each one, so a file may hold several sections each way.
    let mut sql_migrate_markers = Vec::new();
    let mut offset = 0;
    for line in part.text.split_inclusive('\n').take_while(|_| may_have_sections) {
        let at = (offset, offset + line.len());
        if let Some((up, Layout::SqlMigrate)) = section_marker(line) {
            sql_migrate_markers.push((up, at.0, at.1));
        }
        match section_marker(line) {
            // One section each way: a second marker would move the SQL under it into the other
            // section (an up's CREATE run by the down), which dbmate and goose refuse too.
            Some((up, layout))
                if (if up { up_marker } else { down_marker }).is_some() && layout != Layout::SqlMigrate =>
            {
                let (up_word, down_word) = layout.section_markers().unwrap_or(("-- migrate:up", "-- migrate:down"));
                let word = if up { up_word } else { down_word };
                return Err(vec![LoadError::at(
                    &part.path,
                    &part.text,
                    offset,
                    format!("has a second `{word}` line: a file holds one up section and one down section"),
                    Some(
                        "put each direction's SQL under its one marker, or the second part in a migration of its own"
                            .into(),
                    ),
                )]);
            }
            Some((true, layout)) => {
                up_marker.get_or_insert(at);
                sections = layout;
            }
            Some((false, layout)) => {
                down_marker.get_or_insert(at);
                // (Named in the words of the down's tool where no up marker says which.)
                if up_marker.is_none() {
                    sections = layout;
                }
            }
            None if let Some(up) = dbmate_marker_miswritten(line) => {
                return Err(vec![miswritten_marker(&part, offset, line, up)]);
            }
            None => {
                if let Some((up, as_template)) = node_pg_migrate_marker(line) {
                    node_pg_template |= as_template;
                    if up {
                        node_pg_up.get_or_insert(at)
                    } else {
                        node_pg_down.get_or_insert(at)
                    };
                }
            }
        }
        offset += line.len();
    }
    // node-pg-migrate's markers, in a file with no other tool's: one written as its template
    // writes it (the two words alone), or a file named as node-pg-migrate names its files, is
    // node-pg-migrate's, whose markers are then read as node-pg-migrate reads them (words after
    // them and all: `-- Down Migration (drop users)`); elsewhere a note that merely starts with
    // the words stays a comment. Without an up marker, node-pg-migrate runs the whole file as the
    // up: a single script.
    if up_marker.is_none() && down_marker.is_none() && (node_pg_template || node_pg_named) && node_pg_up.is_some() {
        (up_marker, down_marker, sections) = (node_pg_up, node_pg_down, Layout::NodePgMigrate);
    }
    let (up_word, down_word) = sections.section_markers().unwrap_or(("-- migrate:up", "-- migrate:down"));
    let interleaved = sql_migrate_markers.windows(2).any(|w| w[0].0 == w[1].0 || (!w[0].0 && w[1].0));
    if sections == Layout::SqlMigrate && interleaved && up_marker.is_some() {
        return sql_migrate_sections(part, &sql_migrate_markers, force_no_tx, splitting);
    }
    match (up_marker, down_marker) {
        (None, None) => {
            let s = script(part.path, part.text, 0..text_len, force_no_tx, splitting).map_err(|e| vec![e])?;
            Ok((s, None, Layout::SingleFile))
        }
        (Some((up_line, up_start)), down) => {
            let node_pg_migrate = sections == Layout::NodePgMigrate;
            let (up_end, down_range) = match down {
                Some((down_line, down_start)) if down_line > up_start => (down_line, Some(down_start..text_len)),
                // node-pg-migrate reads its sections in either order: the down then runs to the up.
                Some((_, down_start)) if node_pg_migrate => (text_len, Some(down_start..up_line)),
                Some((down_line, _)) => {
                    return Err(vec![LoadError::at(
                        &part.path,
                        &part.text,
                        down_line,
                        format!("`{down_word}` comes before `{up_word}`"),
                        Some("put the up section first".into()),
                    )])
                }
                None => (text_len, None),
            };
            let first_marker = down.map_or(up_line, |(down_line, _)| down_line.min(up_line));
            if let Some(above) = sql_above_up_marker(&part.text, first_marker) {
                // node-pg-migrate took such a file and left that SQL out without a word: where
                // it applied the file, the SQL never ran.
                let (message, hint) = match node_pg_migrate {
                    true => (
                        "has SQL above its first section marker, which node-pg-migrate leaves out without a word: \
                         where it applied this file, that SQL never ran"
                            .to_string(),
                        format!(
                            "delete it, or comment it out, so that a new database is built as the ones node-pg-migrate \
                             migrated; move it below `{up_word}` only if it must run, in a migration not applied yet"
                        ),
                    ),
                    false => (
                        format!(
                            "has SQL above its `{up_word}` line, which would not run (dbmate and goose refuse such a file)"
                        ),
                        format!("move it below `{up_word}`, into the up section"),
                    ),
                };
                return Err(vec![LoadError::at(&part.path, &part.text, above, message, Some(hint))]);
            }
            // Each section has its own dbmate options (`transaction:false`) on its marker line.
            let up = script(part.path.clone(), part.text.clone(), up_start..up_end, force_no_tx, splitting)
                .map_err(|e| vec![e])?;
            let down = match down_range {
                Some(r) => Some(script(part.path, part.text, r, force_no_tx, splitting).map_err(|e| vec![e])?),
                None => None,
            };
            Ok((up, down, sections))
        }
        (None, Some((down_line, _))) => Err(vec![LoadError::at(
            &part.path,
            &part.text,
            down_line,
            format!("has `{down_word}` but no `{up_word}` section"),
            Some(format!("add a `{up_word}` line above the up SQL")),
        )]),
    }
}

/// A sql-migrate file with more than one section a way, or a down before an up: sql-migrate
/// switches direction at each marker and adds what follows to that direction (convoy's files
/// repeat `-- +migrate Up`), and `notransaction` on any of a direction's markers is that
/// direction's. Each direction is read as the file with the other's sections blanked out, line
/// breaks kept, so that lines and columns stay the file's. `markers`: (up, line start, line end).
fn sql_migrate_sections(
    part: Part,
    markers: &[(bool, usize, usize)],
    force_no_tx: Option<&str>,
    splitting: Splitting,
) -> Result<(Script, Option<Script>, Layout), Vec<LoadError>> {
    if let Some(above) = sql_above_up_marker(&part.text, markers[0].1) {
        let message = "has SQL above its first `-- +migrate` line, which sql-migrate leaves out".to_string();
        let hint = "move it below `-- +migrate Up`, into the up section".to_string();
        return Err(vec![LoadError::at(&part.path, &part.text, above, message, Some(hint))]);
    }
    let direction = |up: bool| -> Result<Option<Script>, Vec<LoadError>> {
        let Some(first) = markers.iter().find(|m| m.0 == up) else { return Ok(None) };
        let mut bytes = part.text.clone().into_bytes();
        for (i, (marker_up, start, _)) in markers.iter().enumerate() {
            if *marker_up != up {
                let end = markers.get(i + 1).map_or(bytes.len(), |next| next.1);
                bytes[*start..end].iter_mut().filter(|b| **b != b'\n').for_each(|b| *b = b' ');
            }
        }
        // (Whole characters were blanked: sections start and end at line breaks.)
        let text = String::from_utf8(bytes).expect("blanked at line breaks");
        let len = text.len();
        script(part.path.clone(), text, first.2..len, force_no_tx, splitting).map(Some).map_err(|e| vec![e])
    };
    let up = direction(true)?.expect("an up marker");
    Ok((up, direction(false)?, Layout::SqlMigrate))
}

/// Where the first statement above a section file's up marker starts (the marker line starting
/// at `up_line`), if there is one: only comments may stand there.
fn sql_above_up_marker(text: &str, up_line: usize) -> Option<usize> {
    let above = split::split(&text[..up_line]).ok()?;
    above.first().map(|s| s.span.start)
}

/// A comment line written almost as dbmate's `-- migrate:up` or `-- migrate:down` (another case,
/// a space around the colon), which dbmate does not read as a marker either: whether it would
/// open the up. As a comment, the down's SQL under it would run as part of the up.
/// An indented line is a comment to dbmate, as to shale: not looked at (the linter's
/// `down-in-up` finds a down's SQL in an up).
fn dbmate_marker_miswritten(line: &str) -> Option<bool> {
    let rest = line.strip_prefix("--")?.trim_end();
    let squeezed: String = rest.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    let up = if squeezed.starts_with("migrate:up") {
        true
    } else if squeezed.starts_with("migrate:down") {
        false
    } else {
        return None;
    };
    section_marker(line).is_none().then_some(up)
}

fn miswritten_marker(part: &Part, offset: usize, line: &str, up: bool) -> LoadError {
    let (marker, effect) = match up {
        true => {
            ("-- migrate:up", "the file would not be read in sections, and a down in it would run as part of the up")
        }
        false => ("-- migrate:down", "the SQL under it would run as part of the up"),
    };
    LoadError::at(
        &part.path,
        &part.text,
        offset,
        format!(
            "`{}` is not dbmate's section marker as dbmate reads it: as written it is a comment, and {effect}",
            line.trim()
        ),
        Some(format!("write it exactly `{marker}` (at the start of its line, lower case, no space around the colon)")),
    )
}

/// node-pg-migrate's section markers as it reads them: a comment starting with `Up Migration` or
/// `Down Migration`, in any case, more dashes before them allowed. Returns whether it opens the
/// up, and whether the words are alone on the line (a colon after them allowed, as files written by
/// hand have it), as node-pg-migrate's template writes them.
fn node_pg_migrate_marker(line: &str) -> Option<(bool, bool)> {
    let rest = line.trim().strip_prefix("--")?.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
    let (first, after) = rest.split_once(char::is_whitespace)?;
    let up = match first {
        word if word.eq_ignore_ascii_case("up") => true,
        word if word.eq_ignore_ascii_case("down") => false,
        _ => return None,
    };
    let after = after.trim_start();
    after.get(..9).filter(|word| word.eq_ignore_ascii_case("migration"))?;
    Some((up, matches!(after[9..].trim(), "" | ":")))
}

/// diesel's `metadata.toml`: `run_in_transaction = false`.
fn diesel_no_transaction(meta: &Part) -> Result<Option<&'static str>, Vec<LoadError>> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        run_in_transaction: Option<bool>,
    }
    let parsed: Metadata = toml::from_str(&meta.text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        vec![LoadError::at(&meta.path, &meta.text, offset, format!("invalid metadata.toml: {}", e.message()), None)]
    })?;
    Ok((parsed.run_in_transaction == Some(false)).then_some("metadata.toml says run_in_transaction = false"))
}

pub(crate) mod liquibase;
mod sqitch;
pub use liquibase::{
    is_liquibase_changelog, new_changelog as liquibase_changelog, next_file_name as liquibase_file_name,
    v9_checksum as liquibase_v9_checksum, with_include as liquibase_with_include, BadExpression, LiquibaseSelection,
};
pub use sqitch::{
    change_name as sqitch_change_name, plan_line as sqitch_plan_line, sqitch_place,
    RequiredElsewhere as SqitchRequiredElsewhere, PLAN_FILE as SQITCH_PLAN,
};

#[cfg(test)]
mod tests;
