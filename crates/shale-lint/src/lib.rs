//! The safety linter: what each migration statement will lock, rewrite or destroy, judged from the
//! real PostgreSQL grammar (libpg_query), before anything runs.
//!
//! Context standalone linters lack: tables created earlier in the same run (the same file or an
//! earlier pending one) are new and empty, so lock and rewrite rules do not fire on them.

mod config;
mod declared;
mod do_block;
mod effect;
pub mod fix;
mod rules;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use pg_query::NodeEnum;
use shale_core::layout::Script;
use shale_core::position::LineIndex;
use shale_core::split::FirstRowsOnly;
use shale_core::Directives;

pub use config::{ConfigError, LintConfig, RuleConfig, DEFAULT_LARGE_TABLE_ROWS};
pub use effect::{effects, Effect};
pub use fix::{fix, Again, FileFix, FixOptions, Refused};
pub use rules::{by_id as rule, Precaution, Rule, ALL as RULES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The size of a table in the database before the run: its row estimate (`reltuples`, or from its
/// size when never analyzed) and its size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableSize {
    pub rows: i64,
    pub bytes: i64,
}

/// The database a plan will run on, as it is before the run: its tables and indexes, so that a
/// statement is judged by the table it acts on (a rewrite of an empty table is nothing; of a
/// large one, an outage).
#[derive(Debug, Clone, Default)]
pub struct LiveDatabase {
    /// By lower-case `schema.table`, and by bare `table` for tables in `public`.
    pub tables: HashMap<String, TableSize>,
    /// Index name (lower-case, qualified and bare for `public`) to its table, qualified.
    pub indexes: HashMap<String, String>,
    /// A column's type (`format_type`: `character varying(255)`) by lower-case `table.column`,
    /// the table keyed as in `tables`; known for tables with rows.
    pub column_types: HashMap<String, String>,
    /// Partitioned tables, keyed as in `tables`.
    pub partitioned: HashSet<String>,
    /// A table with more rows than this (estimated) is large: statements that lock, scan or
    /// rewrite it are errors. Smaller tables are locked for a few milliseconds at most.
    pub large_rows: i64,
}

/// What a statement's table is, as far as the danger of the statement goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TableState {
    /// Created earlier in this run (possibly under another name): new and empty.
    Created,
    /// Not in the database before this run, and not seen created by a statement shale parses
    /// (a DO block or a function made it): new and empty all the same.
    Absent,
    /// In the database, with no rows.
    Empty,
    /// In the database, with about this many rows: at most `large_rows`.
    Small { rows: i64 },
    /// In the database, with more than `large_rows` rows.
    Large { rows: i64, bytes: i64 },
    /// Not created by the files being checked; the database was not asked (`shale lint` with no
    /// database): assumed to hold data.
    Existing,
    /// In the database, but never analyzed or vacuumed and with no live row counted: whether it
    /// has rows is not known (see `TableFact::rows`), so it is taken to hold data, as `Existing`.
    Uncounted,
}

impl TableState {
    /// It may hold rows that a statement could destroy or trip over.
    pub fn holds_data(self) -> bool {
        matches!(
            self,
            TableState::Small { .. } | TableState::Large { .. } | TableState::Existing | TableState::Uncounted
        )
    }

    /// Locking, scanning or rewriting it takes long enough to stall the application.
    pub fn large(self) -> bool {
        matches!(self, TableState::Large { .. } | TableState::Existing | TableState::Uncounted)
    }

    /// It existed before the run: the running application uses it by its name.
    pub fn existed(self) -> bool {
        !matches!(self, TableState::Created | TableState::Absent)
    }

    /// `users (about 1,200 rows)`-style words for a verdict.
    pub fn describe(self, table: &str) -> String {
        match self {
            TableState::Created => format!("{table} is created earlier in this run"),
            TableState::Absent => format!("{table} is not in the database before this run"),
            TableState::Empty => format!("{table} is empty"),
            TableState::Small { rows: 1 } => format!("{table} has about 1 row"),
            TableState::Small { rows } => format!("{table} has about {rows} rows"),
            TableState::Large { rows, bytes } => {
                format!("{table} has about {rows} rows ({} MB)", bytes / 1_000_000)
            }
            TableState::Existing => format!("{table} exists before this run"),
            TableState::Uncounted => format!(
                "nothing tells whether {table} has rows: it was never analyzed (`ANALYZE {table}` lets shale see)"
            ),
        }
    }
}

/// A rule that would fire on a busy table, and why it does not here.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cleared {
    pub rule: &'static str,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// Why it is fine here, e.g. `users is created earlier in this run`.
    pub reason: String,
    /// The tables the rule is about, e.g. `tables with data`.
    pub applies_to: &'static str,
}

/// One rule's verdict on one statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// What the statement does.
    pub message: String,
    /// Why it matters.
    pub why: &'static str,
    /// The safe way to do it: its rule's `fix`, in words for any application (a front end may
    /// put its own in their place, e.g. the command that takes a [`Precaution`] the rule asks for).
    pub fix: std::borrow::Cow<'static, str>,
    /// Set when the file allows this rule (`-- shale:allow RULE -- reason`): listed, not counted.
    pub allowed: bool,
    pub statement: String,
    /// The statement is one a DO block runs (its PL/pgSQL body read): `--fix` leaves it, since
    /// the block runs it in one transaction whatever the file says.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_do_block: bool,
    /// The statement's bytes in its file (without its `;`), for `--fix`.
    #[serde(skip)]
    pub span: std::ops::Range<usize>,
    /// The part of the statement the finding is about, when it has several.
    #[serde(skip)]
    pub part: Option<fix::Part>,
    /// Its `fix` is the way for this statement, not its rule's (a partitioned table's): `--fix`,
    /// which writes the rule's, leaves it.
    #[serde(skip)]
    pub advised_here: bool,
}

/// `path:line:col: error[rule]: what the statement does`
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.path.display(),
            self.line,
            self.column,
            self.severity.as_str(),
            self.rule,
            self.message
        )?;
        if self.allowed {
            f.write_str(" (allowed in the file)")?;
        }
        Ok(())
    }
}

/// A statement the PostgreSQL grammar refuses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyntaxError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SyntaxError {
    /// What is wrong, said once as a syntax error: the parser's own `syntax error at or near ...`
    /// as it is, another of its messages (`unterminated quoted string ...`) after `syntax error: `.
    pub fn what(&self) -> String {
        match self.message.starts_with("syntax error") {
            true => self.message.clone(),
            false => format!("syntax error: {}", self.message),
        }
    }
}

/// `path:line:col: syntax error at or near ...`
impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.column, self.what())
    }
}

/// The PostgreSQL major version whose grammar reads the statements (pg_query's). A server of a
/// later version may accept what it refuses.
pub fn grammar_major() -> u32 {
    static MAJOR: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MAJOR.get_or_init(|| {
        pg_query::parse("SELECT", pg_query::ParserOptions::DEFAULT).map_or(0, |p| p.protobuf.version as u32 / 10000)
    })
}

/// What the linter remembers across the statements and files of one run.
#[derive(Debug, Default)]
pub struct Context {
    /// See [`LintOptions::verdict_only`].
    verdict_only: bool,
    /// Tables created in this run (lower-case, unqualified and qualified names), followed
    /// through renames and schema moves.
    new_tables: HashSet<String>,
    /// Columns added in this run to tables that existed (`table.column`, lower-case), followed
    /// through renames.
    new_columns: HashSet<String>,
    /// Indexes created in this run (lower-case name, qualified and bare) and their tables.
    new_indexes: HashMap<String, String>,
    /// The database before the run, when known.
    live: Option<LiveDatabase>,
    /// The target server's major version, when known; rules that changed between versions use it.
    pg_major: Option<u32>,
    /// Whether the statements being checked run inside a transaction.
    in_transaction: bool,
    /// Whether the statement being checked is a batched backfill (`-- shale:backfill`).
    in_backfill: bool,
    /// Whether a `-- down` line came before it in a file with no sections (see `down-in-up`).
    after_down_header: bool,
    /// Whether a lock_timeout is in force for the statements being checked.
    lock_timeout_off: bool,
    /// Rules disabled and severities changed.
    rules: RuleConfig,
    /// `CHECK (col IS NOT NULL)` constraints added in this run, not validated yet: constraint name
    /// (lower-case) to `table.column`.
    not_null_checks: HashMap<String, String>,
    /// `table.column` proven not null by a validated CHECK added in this run: SET NOT NULL on it
    /// does not scan (PostgreSQL 12+).
    proven_not_null: HashSet<String>,
    /// Column types as the statements seen (and the earlier files, see [`lint_after`]) declare them.
    declared: declared::DeclaredTypes,
    /// Tables created `PARTITION BY` by the statements seen (and the earlier files), keyed as
    /// [`key`] does.
    partitioned: HashSet<String>,
    /// Enum labels added in the transaction of the script being checked (type, label): not
    /// usable before it commits.
    enum_labels_added: Vec<(String, String)>,
    /// The temporary tables the script being checked makes (names as the parser gives them): a
    /// `DROP TABLE IF EXISTS` of one, before it, clears what a session left, not a table of the schema.
    temp_tables_of_script: HashSet<String>,
    /// The tables the script being checked creates, where it drops one `IF EXISTS` (else none).
    tables_of_script: HashSet<String>,
    /// The tables the statements seen (and the earlier files) create for good (bare names, as the
    /// parser gives them): a DROP of such a name is of that table, whatever TEMP table a file makes.
    permanent_tables: HashSet<String>,
    /// The locks the application waits on that earlier statements of the script being checked
    /// took in its transaction, held until it commits.
    locks_held: Vec<rules::lock_held_through_long_statement::HeldLock>,
}

/// What the linter knows about the target.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Major version of the target PostgreSQL (e.g. 15); None assumes a current server.
    pub pg_major: Option<u32>,
    /// The session's lock_timeout shale will run with ("0" is off); None when not known.
    pub lock_timeout: Option<String>,
    /// The database the statements will run on; None judges every table not created by the
    /// statements themselves as existing and holding data.
    pub live: Option<LiveDatabase>,
    /// Rules disabled and severities changed (from a [`LintConfig`]); the default keeps every
    /// rule on at its own severity.
    pub rules: RuleConfig,
    /// Keep only what decides whether the scripts may run (see [`Report::blocking`]): errors no
    /// `-- shale:allow` covers and syntax errors. Warnings, allowed errors, the lock of every
    /// statement and the findings a table's state cleared are left out of the report: a safety
    /// check before `up` of 10,000 migrations does not hold 10,000 of each.
    pub verdict_only: bool,
}

/// A relation name as the linter keys it: lower-case, and `public.` dropped (migrations name
/// the tables of the default schema both ways).
fn key(relation: &str) -> String {
    let name = relation.to_ascii_lowercase();
    match name.strip_prefix("public.") {
        Some(bare) => bare.to_string(),
        None => name,
    }
}

impl Context {
    /// Whether `relation` is a partitioned table (declared so, or so in the database).
    pub fn is_partitioned(&self, relation: &str) -> bool {
        let table = key(relation);
        self.partitioned.contains(&table) || self.live.as_ref().is_some_and(|l| l.partitioned.contains(&table))
    }

    fn is_new(&self, relation: &str) -> bool {
        self.new_tables.contains(&key(relation))
    }

    fn created(&mut self, relation: &str) {
        let name = key(relation);
        if let Some((_, bare)) = name.rsplit_once('.') {
            self.new_tables.insert(bare.to_string());
        }
        self.new_tables.insert(name);
    }

    /// What `relation` is before the statement at hand runs.
    pub fn table_state(&self, relation: &str) -> TableState {
        if relation.is_empty() {
            return TableState::Existing;
        }
        if self.is_new(relation) {
            return TableState::Created;
        }
        let Some(live) = &self.live else { return TableState::Existing };
        match live.tables.get(&key(relation)) {
            None => TableState::Absent,
            // Nothing tells whether it has rows (see `TableFact::rows`): as if not asked.
            Some(size) if size.rows < 0 => TableState::Uncounted,
            Some(size) if size.rows <= 0 && size.bytes <= 0 => TableState::Empty,
            Some(size) if size.rows > live.large_rows => TableState::Large { rows: size.rows, bytes: size.bytes },
            Some(size) => TableState::Small { rows: size.rows.max(1) },
        }
    }

    /// The type `column` of `relation` has before the statement at hand: as the statements seen
    /// declared it last (this run's, or an earlier file's), else as the database has it, when the
    /// table existed before this run and its columns are known; None when it is not known.
    pub fn column_type(&self, relation: &str, column: &str) -> Option<&str> {
        if let Some(declared) = self.declared.get(relation, column) {
            return Some(declared);
        }
        let table = key(relation);
        let column = column.to_ascii_lowercase();
        // Columns added in this run are kept by their table's bare name (see `rules::remember`).
        let bare = table.rsplit('.').next().unwrap_or(&table);
        if self.is_new(relation) || self.new_columns.contains(&format!("{bare}.{column}")) {
            return None;
        }
        self.live.as_ref()?.column_types.get(&format!("{table}.{column}")).map(String::as_str)
    }

    /// The table an index belongs to, when known (created in this run, or in the database).
    fn index_table(&self, index: &str) -> Option<String> {
        let index = key(index);
        self.new_indexes
            .get(&index)
            .cloned()
            .or_else(|| self.live.as_ref().and_then(|l| l.indexes.get(&index).cloned()))
    }

    /// The state of the tables of a schema taken together: the fullest one.
    fn schema_state(&self, schema: &str) -> TableState {
        let Some(live) = &self.live else { return TableState::Existing };
        let prefix = format!("{}.", schema.to_ascii_lowercase());
        live.tables
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .map(|k| self.table_state(k))
            .max_by_key(|s| match s {
                TableState::Large { .. } => 3,
                TableState::Small { .. } => 2,
                TableState::Empty => 1,
                _ => 0,
            })
            .unwrap_or(TableState::Absent)
    }

    /// `from` was renamed (or moved) to `to`: a new table stays new under its new name.
    fn renamed_table(&mut self, from: &str, to: &str) {
        if self.is_new(from) {
            self.created(to);
        }
        let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
        let bare = |n: &str| n.rsplit_once('.').map_or(n.to_string(), |(_, b)| b.to_string());
        let moved: Vec<String> =
            self.new_columns.iter().filter(|c| c.starts_with(&format!("{}.", bare(&from)))).cloned().collect();
        for column in moved {
            let rest = &column[bare(&from).len()..];
            self.new_columns.insert(format!("{}{rest}", bare(&to)));
        }
        for table in self.new_indexes.values_mut() {
            if *table == from || bare(table) == bare(&from) {
                *table = to.clone();
            }
        }
    }
}

/// The result of linting scripts in order.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Rules that would fire on a table with data, and why they do not here.
    pub cleared: Vec<Cleared>,
    pub syntax_errors: Vec<SyntaxError>,
    /// Statements the grammar of [`grammar_major`] refuses, for a server of a later version,
    /// which may accept them: they are not errors, and not linted.
    pub unread: Vec<SyntaxError>,
    /// The lock each statement takes, per file and table: (path, line, effect); a statement on
    /// several tables has one entry for each, in the order it names them.
    pub effects: Vec<(PathBuf, usize, Effect)>,
}

impl Report {
    /// Errors that are not allowed: these make `lint` exit 1 and `up` refuse.
    pub fn blocking(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error && !f.allowed)
    }
}

/// Lint scripts in the order they would run, sharing one context.
pub fn lint<'a>(scripts: impl IntoIterator<Item = &'a Script>) -> Report {
    lint_with(scripts, LintOptions::default())
}

/// [`lint`] for a known target server.
pub fn lint_with<'a>(scripts: impl IntoIterator<Item = &'a Script>, options: LintOptions) -> Report {
    lint_after(std::iter::empty(), scripts, options)
}

/// [`lint_with`] for scripts that run after `earlier` ones (applied already, not linted): what
/// those declare is known (a column's type, so that widening a `varchar` an earlier file made is
/// seen to keep the rows), and their tables count as existing, with data.
pub fn lint_after<'a, 'e>(
    earlier: impl IntoIterator<Item = &'e Script>,
    scripts: impl IntoIterator<Item = &'a Script>,
    options: LintOptions,
) -> Report {
    let session_timeout = options.lock_timeout;
    let mut context = Context {
        pg_major: options.pg_major,
        live: options.live,
        rules: options.rules,
        verdict_only: options.verdict_only,
        ..Context::default()
    };
    for script in earlier {
        for i in 0..script.statements.len() {
            // One that does not parse declares nothing known; it is not this run's to report.
            let Ok(parsed) = pg_query::parse(script.statement_text(i), pg_query::ParserOptions::DEFAULT) else {
                continue;
            };
            for node in parsed.protobuf.stmts.iter().filter_map(|raw| raw.stmt.as_ref()?.node.as_ref()) {
                context.declared.learn(node);
                rules::remember_table_kind(node, &mut context);
            }
        }
    }
    let mut report = Report::default();
    for script in scripts {
        context.lock_timeout_off = rules::access_exclusive_without_lock_timeout::timeout_off(
            session_timeout.as_deref(),
            script.directives().lock_timeout.as_deref(),
        );
        lint_script(script, &mut context, &mut report);
    }
    // After a statement that does not parse, shale cannot know what the run creates: findings
    // that depend on it would be guesses (a table created by the broken statement would look
    // like an existing one). The syntax errors alone are reported, then.
    if !report.syntax_errors.is_empty() {
        report.findings.clear();
        report.cleared.clear();
    }
    report
}

/// The allow a `-- safety-assured:start` ... `-- safety-assured:end` block gives its statements
/// (diesel-guard's way of saying a reviewer judged them safe): every rule, as that linter's does.
const SAFETY_ASSURED: &str = "safety-assured";

/// The byte ranges of `text` between diesel-guard's `-- safety-assured:start` and
/// `-- safety-assured:end` lines (an unclosed block runs to the end).
fn safety_assured_blocks(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut blocks = Vec::new();
    let mut start = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let marker = line.trim().to_ascii_lowercase().replace(' ', "");
        match marker.as_str() {
            "--safety-assured:start" => start = Some(at + line.len()),
            "--safety-assured:end" => {
                if let Some(s) = start.take() {
                    blocks.push(s..at);
                }
            }
            _ => {}
        }
        at += line.len();
    }
    if let Some(s) = start {
        blocks.push(s..text.len());
    }
    blocks
}

/// A statement parsed by its first rows (see [`FirstRowsOnly`]: a seed's long INSERT), or whole
/// where only the cut fails to parse (review: `values` as an alias cut into a false syntax error).
/// An error the statement has whole is shown where the shortened text has it.
fn parse_first_rows(sql: &str) -> (FirstRowsOnly<'_>, Result<pg_query::ParseResult, pg_query::Error>) {
    let first_rows = FirstRowsOnly::of(sql);
    let parsed = pg_query::parse(&first_rows.text, pg_query::ParserOptions::DEFAULT);
    if parsed.is_err() && first_rows.is_shortened() {
        if let Ok(whole) = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT) {
            return (FirstRowsOnly::whole(sql), Ok(whole));
        }
    }
    (first_rows, parsed)
}

/// Rules allowed by `-- shale:allow RULE -- reason` lines in a stretch of text between statements.
fn allows_in(gap: &str) -> Vec<String> {
    Directives::parse(gap).map(|d| d.allow).unwrap_or_default()
}

/// Atlas's `-- atlas:nolint [CHECKS]` line in a stretch of text between statements: shale does
/// not read it (its checks are not shale's rules), but a finding it was meant to silence says so.
fn atlas_nolint_in(gap: &str) -> Option<&str> {
    gap.lines()
        .map(str::trim)
        .find(|l| l.strip_prefix("--").is_some_and(|c| c.trim_start().starts_with("atlas:nolint")))
}

fn lint_script(script: &Script, context: &mut Context, report: &mut Report) {
    context.in_transaction = script.no_transaction.is_none();
    // Each script commits on its own: what an earlier one added, or locked, is committed.
    context.enum_labels_added.clear();
    context.locks_held.clear();
    context.temp_tables_of_script = script.temporary_tables_created().into_iter().collect();
    context.tables_of_script = match script.own_text().to_ascii_lowercase().contains("if exists") {
        true => script.tables_created().into_iter().collect(),
        false => HashSet::new(),
    };
    let index = LineIndex::new(&script.text);
    // Allows in the file's header (before its first statement) cover the whole file; those just
    // before a statement cover that statement.
    let head = &script.text[..script.statements.first().map_or(0, |s| s.span.start)];
    let header = allows_in(head);
    let header_nolint = atlas_nolint_in(head);
    let mut gap_start = 0;
    let refused_in_block = rules::concurrently_in_transaction::refused_in_block(script);
    let assured = safety_assured_blocks(&script.text);
    // A file with sections has its down apart: only a plain file's `-- down` line is a mistake.
    context.after_down_header = false;
    let plain = script.text.len() == script.own_text().len();
    for (i, statement) in script.statements.iter().enumerate() {
        context.in_backfill = script.backfill(i).is_some();
        let gap = &script.text[gap_start..statement.span.start];
        let here = allows_in(gap);
        // (Not a down file's own `-- down: NAME` header, above its first statement, as `shale new`
        // writes it (aerich re-check); above an up's first statement it is one: re-check.)
        let down_file = i == 0 && {
            let path = script.path.to_string_lossy();
            path.ends_with(".down.sql") || path.ends_with("-down.sql") || path.contains(".undo.")
        };
        context.after_down_header |= plain && !down_file && rules::has_down_header(gap, i == 0);
        gap_start = statement.span.end;
        let (first_rows, parsed) = parse_first_rows(script.statement_text(i));
        let text: &str = &first_rows.text;
        let in_file = |offset: usize| statement.span.start + first_rows.offset_in_statement(offset);
        let (line, column) = index.line_col(&script.text, statement.span.start);
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                let mut message = e.to_string().trim_start_matches("Invalid statement: ").to_string();
                let at = near_token(text, &message).map_or(statement.span.start, in_file);
                if text.contains("{{") {
                    // pop (and Ory's popx) render their SQL files as Go templates before running them,
                    // and so does tern, with its config's `[data]` (breadth trial: Artifact Hub's).
                    message.push_str(
                        "; `{{ ... }}` is a Go template, which pop or tern fills in before running the file and \
                         shale does not: write the SQL it gives",
                    );
                }
                let (line, column) = index.line_col(&script.text, at);
                let error = SyntaxError { path: script.path.clone(), line, column, message };
                match context.pg_major {
                    Some(server) if server > grammar_major() => report.unread.push(error),
                    _ => report.syntax_errors.push(error),
                }
                continue;
            }
        };
        let mut allows: Vec<String> = header.iter().chain(&here).cloned().collect();
        if assured.iter().any(|r| r.contains(&statement.span.start)) {
            allows.push(SAFETY_ASSURED.to_string());
        }
        let nolint = atlas_nolint_in(gap).or(header_nolint);
        let findings_before = report.findings.len();
        let whole = Site {
            text,
            start: statement.span.start,
            end: in_file(text.len()),
            line,
            column,
            in_do_block: false,
            parsed_len: text.len(),
            in_file: &in_file,
        };
        let many = parsed.protobuf.stmts.len() > 1;
        for raw in &parsed.protobuf.stmts {
            let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else { continue };
            // A statement sent as one query with others (goose's StatementBegin block) is judged
            // where it is written, not at the block's first line.
            let part;
            let site = match many.then(|| part_of(text, raw.stmt_location, raw.stmt_len)).flatten() {
                Some((offset, part_text)) => {
                    let start = in_file(offset);
                    let (line, column) = index.line_col(&script.text, start);
                    // (Its findings' offsets are the block's, which the parser read.)
                    let end = in_file(offset + part_text.len());
                    part = Site { text: part_text, start, end, line, column, in_file: &in_file, ..whole };
                    &part
                }
                None => &whole,
            };
            // The statements a DO block runs are judged as the file's own, where they are written:
            // a guarded `CREATE INDEX` in a block locks the table as one outside it does.
            if let NodeEnum::DoStmt(block) = node {
                for (inner_text, offset) in do_block::statements(text, block) {
                    let Ok(inner) = pg_query::parse(&inner_text, pg_query::ParserOptions::DEFAULT) else { continue };
                    let start = in_file(offset);
                    let (line, column) = index.line_col(&script.text, start);
                    let site = Site {
                        text: &inner_text,
                        start,
                        end: start + inner_text.len(),
                        line,
                        column,
                        in_do_block: true,
                        parsed_len: inner_text.len(),
                        in_file: &|o| start + o,
                    };
                    for node in inner.protobuf.stmts.iter().filter_map(|raw| raw.stmt.as_ref()?.node.as_ref()) {
                        judge(node, &site, None, &allows, script, &index, context, report);
                    }
                }
            }
            judge(node, site, refused_in_block[i], &allows, script, &index, context, report);
        }
        if let Some(line) = nolint {
            for f in report.findings[findings_before..].iter_mut().filter(|f| !f.allowed) {
                f.fix = format!(
                    "{}; the file's `{line}` is Atlas's, which shale does not read: `-- shale:allow {} -- reason` \
                     allows it here",
                    f.fix, f.rule
                )
                .into();
            }
        }
    }
}

/// One of several statements in `text` as the parser placed it (`location`, `len`: 0 for the rest),
/// from its first word: its offset in `text` and its text.
fn part_of(text: &str, location: i32, len: i32) -> Option<(usize, &str)> {
    let from = usize::try_from(location).ok()?;
    let to = match usize::try_from(len).ok()? {
        0 => text.len(),
        n => from.checked_add(n)?.min(text.len()),
    };
    let part = text.get(from..to)?;
    // Past the white space and comment lines the parser counts as the statement's.
    let mut skip = 0;
    for line in part.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            skip += line.len();
        } else {
            skip += line.len() - trimmed.len();
            break;
        }
    }
    let part = part.get(skip..)?.trim_end();
    (!part.is_empty()).then_some((from + skip, part))
}

/// Where a statement being judged is written: its text, its first byte in the file, and its line
/// and column there.
struct Site<'t> {
    text: &'t str,
    start: usize,
    line: usize,
    column: usize,
    /// Where it ends in the file.
    end: usize,
    /// One a DO block runs, read out of the block's body.
    in_do_block: bool,
    /// The length of the text the parser read, whose offsets its findings' parts are: the whole
    /// statement (a block of several, rows of a long INSERT left out), or the DO block's one.
    parsed_len: usize,
    /// Where an offset in the text the parser read is in the file.
    in_file: &'t dyn Fn(usize) -> usize,
}

/// Judge one parsed statement: its locks, and the rules' findings (or why they are cleared), into
/// `report`; then learn what it declares. `refused_in_block`: it cannot run inside the file's own
/// transaction block. `allows`: the rules the file allows here.
#[allow(clippy::too_many_arguments)]
fn judge(
    node: &NodeEnum,
    site: &Site<'_>,
    refused_in_block: Option<&'static str>,
    allows: &[String],
    script: &Script,
    index: &LineIndex,
    context: &mut Context,
    report: &mut Report,
) {
    let (line, column) = (site.line, site.column);
    let mut effects = effects(node);
    // A dropped index's table is not in the statement: the run or the database knows it.
    if let NodeEnum::DropStmt(d) = node {
        let index = pg_query::protobuf::ObjectType::ObjectIndex as i32;
        let tables: Vec<String> =
            rules::object_names(&d.objects).iter().filter_map(|i| context.index_table(i)).collect();
        if let (true, false, Some(unnamed)) =
            (d.remove_type == index, tables.is_empty(), effects.iter().find(|e| e.table.is_empty()).cloned())
        {
            effects.retain(|e| !e.table.is_empty());
            effects.extend(tables.into_iter().map(|table| Effect { table, ..unnamed.clone() }));
        }
    }
    // A type change that keeps the rows (a longer varchar) rewrites nothing.
    for e in effects.iter_mut().filter(|e| e.rewrites) {
        e.rewrites = rules::alter_column_type::rewrites(node, context);
    }
    // A table created earlier in this run has no one waiting on its locks: only the locks
    // on tables there before are worth a line (judged before this statement creates any).
    let on_tables_before: Vec<Effect> = match context.verdict_only {
        true => Vec::new(),
        false => effects.iter().filter(|e| !context.is_new(&e.table)).cloned().collect(),
    };
    let mut hits = rules::check(node, context);
    if let Some(what) = refused_in_block {
        hits.push(rules::concurrently_in_transaction::check(what));
    }
    // A DO block's text holds the statements judged one by one inside it, the ADD VALUE too.
    if !matches!(node, NodeEnum::DoStmt(_)) {
        hits.extend(rules::enum_value_used_in_its_transaction::check(site.text, context));
    }
    // Each table the statement locks is judged on its own (DROP TABLE a, b).
    hits.extend(effects.iter().filter_map(|e| rules::access_exclusive_without_lock_timeout::check(e, context)));
    hits.extend(rules::lock_held_through_long_statement::check(node, &effects, context));
    // A rule about danger to a table fires only where the table makes it dangerous.
    hits.retain(|hit| match hit.state {
        Some(state) if !hit.rule.danger.applies(state) => {
            if context.verdict_only {
                return false;
            }
            report.cleared.push(Cleared {
                rule: hit.rule.id,
                path: script.path.clone(),
                line,
                column,
                message: hit.message.clone(),
                reason: hit.cleared_because.clone().unwrap_or_else(|| state.describe(&hit.table)),
                applies_to: hit.rule.danger.tables(),
            });
            false
        }
        _ => true,
    });
    report.effects.extend(on_tables_before.into_iter().map(|e| (script.path.clone(), line, e)));
    for hit in hits.into_iter().filter(|hit| context.rules.enabled(hit.rule)) {
        let allowed = allows.iter().any(|a| a == SAFETY_ASSURED || hit.rule.answers_to(a));
        let severity = context.rules.severity(hit.rule);
        if context.verdict_only && (allowed || severity != Severity::Error) {
            continue;
        }
        // A finding about one column or constraint is shown where that is written.
        let (line, column) = match hit.part {
            Some(fix::Part::At(offset)) if offset < site.parsed_len => {
                index.line_col(&script.text, (site.in_file)(offset))
            }
            _ => (line, column),
        };
        let message = match site.in_do_block {
            true => format!("{} (in a DO block)", hit.message),
            false => hit.message,
        };
        report.findings.push(Finding {
            rule: hit.rule.id,
            severity,
            path: script.path.clone(),
            line,
            column,
            message,
            why: hit.rule.why,
            // A block runs its statements in one transaction, whatever the file says.
            fix: match (site.in_do_block, &hit.advice) {
                (true, advice) => format!(
                    "out of the DO block (it runs its statements in one transaction), {}",
                    advice.as_deref().unwrap_or(hit.rule.fix)
                )
                .into(),
                (false, Some(advice)) => advice.clone().into(),
                (false, None) => hit.rule.fix.into(),
            },
            advised_here: hit.advice.is_some(),
            allowed,
            statement: site.text.to_string(),
            in_do_block: site.in_do_block,
            span: site.start..site.end,
            part: hit.part,
        });
    }
    rules::remember(node, context);
    rules::lock_held_through_long_statement::remember(&effects, line, context);
    context.declared.learn(node);
}

/// The byte offset of the token a syntax error names (`... at or near "foo"`), or the end of the
/// statement for one that ends too soon (`at end of input`). The token may appear earlier in the
/// statement where the grammar took it (`CREATE TABLE x (id int)` then a second `CREATE` with no
/// `;` between): the one meant is the first occurrence at which the statement, cut just after it,
/// fails with the same message (pg_query does not give the parser's position).
fn near_token(text: &str, message: &str) -> Option<usize> {
    if message.ends_with("at end of input") {
        return Some(text.trim_end().len());
    }
    let token = message.split("at or near \"").nth(1)?.split('"').next()?;
    if token.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let wanted = token.to_ascii_lowercase();
    let occurrences: Vec<usize> = lower.match_indices(&wanted).map(|(at, _)| at).collect();
    let fails_here = |at: usize| {
        let cut = &text[..at + wanted.len()];
        matches!(pg_query::parse(cut, pg_query::ParserOptions::DEFAULT), Err(e) if e.to_string().ends_with(message))
    };
    match occurrences.as_slice() {
        [] => None,
        [only] => Some(*only),
        several => several.iter().copied().find(|at| fails_here(*at)).or(several.first().copied()),
    }
}

#[cfg(test)]
mod tests;
