//! Many databases at once: one operation (up, down, status, validate, drift) over a fleet of targets:
//! databases from a targets file or a control-database query, or every schema matching a pattern
//! in one database (schema per tenant).
//!
//! Each target is migrated exactly as a single database would be, with its own history table and
//! its own migration lock, so a rerun picks up where each target stands and one target's failure
//! never touches another. The migration files are loaded once and shared; a target's clients live
//! only while it runs, so memory does not grow with the number of targets.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use shale_core::plan::State;
use shale_core::{MigrationSet, Version};
use shale_pg::sql::quote_literal;
use shale_pg::tokio_postgres::SimpleQueryMessage;
use shale_pg::{connect, ConnectionSettings, PgError, SessionSettings};
use tokio::sync::Semaphore;

use crate::{Error, ErrorKind, Event, Migrator, MigratorConfig, StatusReport, UpRequest};

mod shard;
pub use shard::{Shard, ShardParseError};

/// Concurrency when none is asked for (never more than the number of targets).
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Connections one running target holds: the work session and the migration lock's session.
pub const CONNECTIONS_PER_TARGET: usize = 2;

/// One database, or one schema in a database, to migrate.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub connection: ConnectionSettings,
    /// Schema per tenant: the history table lives in this schema and migrations run with
    /// `search_path` set to it.
    pub schema: Option<String>,
}

impl Target {
    /// Where the target is, safe to show (the password redacted).
    pub fn location(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{} schema {schema}", self.connection.redacted()),
            None => self.connection.redacted(),
        }
    }

    /// The migrator settings for this target, starting from `template`.
    pub fn config(&self, template: &MigratorConfig) -> MigratorConfig {
        let mut config = template.clone();
        config.connection = self.connection.clone();
        if let Some(schema) = &self.schema {
            config.history.schema = schema.clone();
            config.session.search_path = Some(schema.clone());
        }
        config
    }

    /// Targets on the same server share its connection limit.
    fn server_key(&self) -> (Vec<String>, Vec<u16>) {
        // No port means 5432, so that `host` and `host:5432` count as the same server.
        let ports = if self.connection.ports.is_empty() { vec![5432] } else { self.connection.ports.clone() };
        (self.connection.effective_hosts(), ports)
    }
}

/// Lookup of environment variables (the CLI passes the environment with .env as a fallback).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Read a targets file. See [`parse_targets_file`].
pub fn read_targets_file(path: &Path, env: Env<'_>) -> Result<Vec<Target>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("cannot read the targets file {}: {e}", path.display())))?;
    parse_targets_file(path, &text, env)
}

/// A targets file, in name order:
///
/// ```toml
/// [targets]
/// eu1 = "postgres://app:${EU1_PASSWORD}@db-eu1/app"
/// acme = { url = "postgres://app@db-us1/app", schema = "tenant_acme" }
/// us2 = { url = "postgres://app@db-us2/app", password_env = "US2_PASSWORD" }
/// ```
///
/// `${NAME}` in a URL is replaced by that environment variable; PG* variables and the password
/// file fill in what a URL leaves out, as for a single database. Problems name file:line:col.
pub fn parse_targets_file(path: &Path, text: &str, env: Env<'_>) -> Result<Vec<Target>, Error> {
    let at = |span: Option<std::ops::Range<usize>>| {
        let (line, col) =
            span.map(|s| shale_core::LineIndex::new(text).line_col(text, s.start.min(text.len()))).unwrap_or((1, 1));
        format!("{}:{line}:{col}", path.display())
    };
    let table: BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| Error::Invalid(format!("{}: {}", at(e.span()), e.message().trim())))?;
    let usage = "write `[targets]` with one `NAME = \"postgres://...\"` or `NAME = { url = \"...\", schema = \"...\" }` per target";
    if let Some((key, value)) = table.iter().find(|(k, _)| k.as_str() != "targets") {
        return Err(Error::Invalid(format!("{}: unknown key `{key}`; {usage}", at(Some(value.span())))));
    }
    let Some(targets) = table.get("targets") else {
        return Err(Error::Invalid(format!("{}: no `[targets]` table; {usage}", path.display())));
    };
    let Some(entries) = targets.get_ref().as_table() else {
        return Err(Error::Invalid(format!("{}: `targets` must be a table; {usage}", at(Some(targets.span())))));
    };
    // Spans of the entries: toml::Value keeps none, so read them once more as spanned values.
    #[derive(serde::Deserialize)]
    struct Spans {
        targets: BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let spans: Spans =
        toml::from_str(text).map_err(|e| Error::Invalid(format!("{}: {}", at(e.span()), e.message())))?;
    let mut out = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let where_ = at(spans.targets.get(name).map(|s| s.span()));
        let bad = |what: String| Error::Invalid(format!("{where_}: target `{name}`: {what}"));
        let (url, schema, password_env) = match value {
            toml::Value::String(url) => (url.clone(), None, None),
            toml::Value::Table(t) => {
                if let Some(key) = t.keys().find(|k| !["url", "schema", "password_env"].contains(&k.as_str())) {
                    return Err(bad(format!("unknown key `{key}` (known: url, schema, password_env)")));
                }
                let text = |key: &str| -> Result<Option<String>, Error> {
                    match t.get(key) {
                        None => Ok(None),
                        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => Err(bad(format!("`{key}` must be a string"))),
                    }
                };
                let Some(url) = text("url")? else {
                    return Err(bad("needs `url = \"postgres://...\"`".into()));
                };
                (url, text("schema")?, text("password_env")?)
            }
            _ => return Err(bad(format!("expected a URL string or a table; {usage}"))),
        };
        let url = expand_env(&url, env).map_err(bad)?;
        let mut connection = ConnectionSettings::parse(&url).map_err(|e| bad(e.to_string()))?;
        if let Some(var) = password_env {
            let password = env(&var)
                .ok_or_else(|| bad(format!("password_env names {var}, which is not set in the environment")))?;
            connection.password = Some(password);
        }
        connection.fill_from_env(env).map_err(|e| bad(e.to_string()))?;
        if schema.as_deref() == Some("") {
            return Err(bad("`schema` is empty".into()));
        }
        out.push(Target { name: name.clone(), connection, schema });
    }
    if out.is_empty() {
        return Err(Error::Invalid(format!("{}: `[targets]` is empty; {usage}", path.display())));
    }
    Ok(out)
}

/// What a variable's value is percent-encoded with: everything but RFC 3986's unreserved
/// characters, so that a password holding `@`, `/`, `:` or `%` stays a password (and so stays
/// redacted) instead of spilling into the host or the database name.
const URL_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Replace `${NAME}` with the variable's value (percent-encoded inside the URL's user and
/// password); an unset variable is an error naming it (never the text around it, which may hold
/// a password).
pub fn expand_env(text: &str, env: Env<'_>) -> Result<String, String> {
    // The user-and-password part of the template: after `scheme://`, before its `@`.
    let userinfo = text.find("://").and_then(|at| {
        let from = at + 3;
        text[from..].find('@').map(|end| from..from + end)
    });
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let in_userinfo = userinfo.as_ref().is_some_and(|r| r.contains(&(text.len() - rest.len() + start)));
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` without a closing `}` in the URL".into());
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not a variable name (letters, digits and _)"));
        }
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        if in_userinfo {
            out.extend(percent_encoding::utf8_percent_encode(&value, URL_VALUE));
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The context of a [`PgError::Query`] from the targets query.
pub const TARGETS_QUERY: &str = "running the targets query";
/// The context of a [`PgError::Query`] from listing the schemas for [`schema_targets`].
pub const SCHEMAS_QUERY: &str = "listing the schemas";

/// Targets from a query on a control database: a `url` column, and optionally `name` and
/// `schema`. Without a name, a target is named by its location (password redacted).
pub async fn targets_from_query(
    control: &ConnectionSettings,
    session: &SessionSettings,
    sql: &str,
    env: Env<'_>,
) -> Result<Vec<Target>, Error> {
    let client = connect(control, session).await?;
    let messages = client.simple_query(sql).await.map_err(|e| PgError::query(TARGETS_QUERY, e))?;
    let mut out = Vec::new();
    let mut columns: Option<(usize, Option<usize>, Option<usize>)> = None;
    for message in &messages {
        let row = match message {
            SimpleQueryMessage::Row(row) => row,
            _ => continue,
        };
        let (url_at, name_at, schema_at) = match columns {
            Some(c) => c,
            None => {
                let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                let find = |n: &str| names.iter().position(|c| *c == n);
                let Some(url_at) = find("url") else {
                    return Err(Error::Invalid(format!(
                        "the targets query must return a column named `url` (and optionally `name` and `schema`); it returned: {}",
                        names.join(", ")
                    )));
                };
                *columns.insert((url_at, find("name"), find("schema")))
            }
        };
        let number = out.len() + 1;
        let Some(url) = row.get(url_at) else {
            return Err(Error::Invalid(format!("the targets query's row {number} has a NULL url")));
        };
        let mut connection = ConnectionSettings::parse(url)
            .map_err(|e| Error::Invalid(format!("the targets query's row {number}: {e}")))?;
        connection.fill_from_env(env)?;
        let schema = schema_at.and_then(|i| row.get(i)).filter(|s| !s.is_empty()).map(str::to_string);
        let mut target = Target { name: String::new(), connection, schema };
        target.name = match name_at.and_then(|i| row.get(i)) {
            Some(name) => name.to_string(),
            None => target.location(),
        };
        out.push(target);
    }
    Ok(out)
}

/// The `LIKE` pattern for a schema glob: `*` (or `%`) is any run of characters, `?` one
/// character; everything else, `_` included, stands for itself.
pub fn schema_like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' | '%' => out.push('%'),
            '?' => out.push('_'),
            '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Every schema of one database matching `glob` (see [`schema_like_pattern`]), system schemas
/// left out, in name order. Each is a target named by its schema.
pub async fn schema_targets(
    connection: &ConnectionSettings,
    session: &SessionSettings,
    glob: &str,
) -> Result<Vec<Target>, Error> {
    let client = connect(connection, session).await?;
    let sql = format!(
        "SELECT nspname FROM pg_catalog.pg_namespace
         WHERE nspname LIKE {} ESCAPE {} AND nspname !~ '^pg_' AND nspname <> 'information_schema'
         ORDER BY nspname COLLATE \"C\"",
        quote_literal(&schema_like_pattern(glob)),
        quote_literal("\\")
    );
    let messages = client.simple_query(&sql).await.map_err(|e| PgError::query(SCHEMAS_QUERY, e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .map(|schema| Target { name: schema.clone(), connection: connection.clone(), schema: Some(schema) })
        .collect())
}

/// What to do on every target.
#[derive(Debug, Clone)]
pub enum Operation {
    Up(UpRequest),
    Down(shale_core::Target),
    Status,
    /// Status, with modified, missing, failed and out-of-order migrations counted as failures.
    Validate,
    /// Compare each target's schema with this one (what the migrations build, replayed once into
    /// `public` of a scratch database); a target that differs fails. A schema target's schema is
    /// compared as if it were `public` (its database read once for all its schemas).
    Drift(Arc<shale_schema::Schema>),
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Up(_) => "up",
            Operation::Down(_) => "down",
            Operation::Status => "status",
            Operation::Validate => "validate",
            Operation::Drift(_) => "drift",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// Targets running at once; None: `min(targets, DEFAULT_CONCURRENCY)`. Always capped by the
    /// free connections of each server.
    pub concurrency: Option<usize>,
    /// After a target fails, start no new ones (running ones finish).
    pub fail_fast: bool,
}

/// How a target's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// A migration failed, the plan was refused, or validate found problems.
    Failed,
    /// Could not connect, or could not get the migration lock.
    Unavailable,
    /// Not started: --fail-fast stopped the fleet first.
    Skipped,
}

/// Where a target stands against the migration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    UpToDate,
    /// Migrations are pending.
    Behind,
    /// Modified, missing or out-of-order migrations: the files and the history disagree.
    Diverged,
    /// Its newest applied version is newer than every file (a newer release migrated it).
    Ahead,
    /// The last attempt of a migration failed.
    Failed,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::UpToDate => "up to date",
            Standing::Behind => "behind",
            Standing::Diverged => "diverged",
            Standing::Ahead => "ahead",
            Standing::Failed => "failed",
        }
    }
}

/// A target's history summed up, without its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusSummary {
    pub standing: Standing,
    pub applied: usize,
    pub pending: usize,
    pub failed: usize,
    pub modified: usize,
    pub missing: usize,
    pub out_of_order: usize,
    /// "3 pending", "0004 failed", ...: the same text for targets that stand alike.
    pub summary: String,
}

impl StatusSummary {
    pub fn of(set: &MigrationSet, report: &StatusReport) -> StatusSummary {
        let count = |states: &[State]| report.migrations.iter().filter(|r| states.contains(&r.state)).count();
        let applied = count(&[State::Applied, State::Baseline]);
        let pending = count(&[State::Pending]);
        let failed = count(&[State::Failed]);
        let modified = count(&[State::Modified]);
        let missing = count(&[State::Missing]);
        let out_of_order = count(&[State::OutOfOrder]);
        let newest_file = set.migrations.iter().filter_map(|m| m.version.as_ref()).max();
        let current = report.current_version.as_deref().and_then(Version::parse);
        let ahead = match (&current, newest_file) {
            (Some(c), Some(f)) => c > f,
            (Some(_), None) => true,
            _ => false,
        };
        let standing = if failed > 0 {
            Standing::Failed
        } else if ahead {
            Standing::Ahead
        } else if modified + missing + out_of_order > 0 {
            Standing::Diverged
        } else if pending > 0 {
            Standing::Behind
        } else {
            Standing::UpToDate
        };
        let mut parts = Vec::new();
        for row in report.migrations.iter().filter(|r| r.state == State::Failed) {
            parts.push(format!("{} failed", row.version.as_deref().unwrap_or(&row.name)));
        }
        for (n, what) in
            [(pending, "pending"), (modified, "modified"), (missing, "missing"), (out_of_order, "out of order")]
        {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if ahead {
            parts.push("newer than the files".into());
        }
        if !report.history_exists {
            parts.push("no history table yet".into());
        }
        let summary = if parts.is_empty() { "up to date".to_string() } else { parts.join(", ") };
        StatusSummary { standing, applied, pending, failed, modified, missing, out_of_order, summary }
    }

    /// Problems `validate` reports.
    pub fn problems(&self) -> usize {
        self.failed + self.modified + self.missing + self.out_of_order
    }
}

/// One target's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetReport {
    pub name: String,
    /// The URL (password redacted) and schema.
    pub location: String,
    pub schema: Option<String>,
    pub outcome: Outcome,
    /// The version before the run, and after it (for status and validate, both where it stands).
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    /// Migrations applied or reverted.
    pub steps: usize,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The error that stopped it, for its [`Error::kind`] and [`Error::hint`] (`error` is its text).
    #[serde(skip)]
    pub failure: Option<Arc<Error>>,
    /// Where it stands (status and validate; up and down when it could be read).
    pub status: Option<StatusSummary>,
    /// drift: how the live schema differs from what the migrations build (empty: no drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Vec<shale_schema::compare::Difference>>,
}

/// The whole fleet's result, in target order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FleetReport {
    pub operation: &'static str,
    pub concurrency: usize,
    pub duration_ms: u64,
    /// Each server's free connections, read before the first target started.
    pub servers: Vec<ServerLimit>,
    pub targets: Vec<TargetReport>,
}

impl FleetReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.targets.iter().filter(|t| t.outcome == outcome).count()
    }

    /// The worst of the targets' failures, `None` when every target is fine (or skipped):
    /// [`ErrorKind::Unavailable`] when any could not be reached or locked, else
    /// [`ErrorKind::Failed`] when any failed.
    pub fn kind(&self) -> Option<ErrorKind> {
        if self.count(Outcome::Unavailable) > 0 {
            Some(ErrorKind::Unavailable)
        } else if self.count(Outcome::Failed) > 0 {
            Some(ErrorKind::Failed)
        } else {
            None
        }
    }
}

/// What happens while a fleet runs, for progress displays and logs.
#[derive(Debug)]
pub enum FleetEvent<'a> {
    /// Before the first target: how many run at once, and what capped that.
    Scheduled {
        targets: usize,
        concurrency: usize,
        limits: &'a [ServerLimit],
    },
    Started {
        index: usize,
        target: &'a Target,
    },
    Migrator {
        index: usize,
        event: Event,
    },
    Finished {
        index: usize,
        report: &'a TargetReport,
    },
}

/// A server's free connections, read once before the fleet starts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerLimit {
    /// The first target's URL on that server (password redacted).
    pub server: String,
    pub free_connections: Option<i64>,
    /// Targets that may run on it at once: free connections / [`CONNECTIONS_PER_TARGET`].
    pub max_targets: Option<usize>,
    pub targets: usize,
}

pub struct Fleet {
    pub set: Arc<MigrationSet>,
    /// Settings every target starts from (session, history table name, lock wait, retries); each
    /// target replaces the connection and, for a schema, the history schema and search_path.
    pub template: MigratorConfig,
    /// For drift on schema targets: each database's schema, read once for all its tenant
    /// schemas (kept for the run: one model per database, not per target).
    databases: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<shale_schema::Schema>>>>>,
}

impl Fleet {
    pub fn new(set: impl Into<Arc<MigrationSet>>, template: MigratorConfig) -> Fleet {
        Fleet { set: set.into(), template, databases: Default::default() }
    }

    /// What the migrations built in a schema target's schema, seen as `public` (as the replay
    /// builds it), shale's own tables left out. The database is read once per fleet run.
    async fn tenant_schema(&self, target: &Target, schema: &str) -> Result<shale_schema::Schema, Error> {
        let cell = self.databases.lock().await.entry(target.connection.redacted()).or_default().clone();
        let whole = cell
            .get_or_try_init(|| async {
                let session = SessionSettings { search_path: None, ..self.template.session.clone() };
                let client = connect(&target.connection, &session).await?;
                Ok::<_, Error>(Arc::new(shale_schema::introspect(&client, ("", "")).await?))
            })
            .await?;
        let history = &self.template.history.table;
        let lease =
            shale_pg::lease::lease_table(&shale_pg::HistoryTable { schema: schema.into(), table: history.clone() }).1;
        let mine = shale_schema::confine::confine(whole, schema, "public");
        let mine = shale_schema::confine::without_table(&mine, "public", history);
        Ok(shale_schema::confine::without_table(&mine, "public", &lease))
    }

    /// Run `operation` on every target, at most `concurrency` at once (and never more than the
    /// servers have connections for). Every target gets a report, in the order given.
    pub async fn run(
        &self,
        targets: &[Target],
        operation: &Operation,
        options: &FleetOptions,
        on_event: &(dyn Fn(FleetEvent<'_>) + Sync),
    ) -> FleetReport {
        let started = Instant::now();
        let limits = self.server_limits(targets).await;
        let wanted = options.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
        let server_room: usize = limits.iter().map(|l| l.max_targets.unwrap_or(l.targets).min(l.targets)).sum();
        let concurrency = wanted.min(targets.len()).min(server_room.max(1)).max(1);
        on_event(FleetEvent::Scheduled { targets: targets.len(), concurrency, limits: &limits });
        let gates = server_gates(targets, &limits);
        let stop = AtomicBool::new(false);
        let mut reports: Vec<Option<TargetReport>> = vec![None; targets.len()];
        let mut runs = stream::iter(targets.iter().enumerate())
            .map(|(index, target)| {
                let gate = &gates[&target.server_key()];
                let stop = &stop;
                async move {
                    let _permit = gate.acquire().await.ok();
                    let report = if stop.load(Ordering::Relaxed) {
                        skipped(target)
                    } else {
                        on_event(FleetEvent::Started { index, target });
                        self.run_one(index, target, operation, on_event).await
                    };
                    if options.fail_fast && matches!(report.outcome, Outcome::Failed | Outcome::Unavailable) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    (index, report)
                }
            })
            .buffer_unordered(concurrency);
        while let Some((index, report)) = runs.next().await {
            on_event(FleetEvent::Finished { index, report: &report });
            reports[index] = Some(report);
        }
        drop(runs);
        FleetReport {
            operation: operation.name(),
            concurrency,
            duration_ms: started.elapsed().as_millis() as u64,
            servers: limits,
            targets: reports.into_iter().zip(targets).map(|(r, t)| r.unwrap_or_else(|| skipped(t))).collect(),
        }
    }

    async fn run_one(
        &self,
        index: usize,
        target: &Target,
        operation: &Operation,
        on_event: &(dyn Fn(FleetEvent<'_>) + Sync),
    ) -> TargetReport {
        let started = Instant::now();
        let migrator = Migrator::new(self.set.clone(), target.config(&self.template));
        let mut forward = |event: Event| on_event(FleetEvent::Migrator { index, event });
        let mut report = TargetReport {
            name: target.name.clone(),
            location: target.location(),
            schema: target.schema.clone(),
            outcome: Outcome::Ok,
            from_version: None,
            to_version: None,
            steps: 0,
            duration_ms: 0,
            error: None,
            failure: None,
            status: None,
            drift: None,
        };
        let result: Result<(), Error> = async {
            let before = migrator.status().await?;
            report.from_version = before.current_version.clone();
            report.to_version = before.current_version.clone();
            report.status = Some(StatusSummary::of(&self.set, &before));
            let run = match operation {
                Operation::Status => return Ok(()),
                Operation::Validate => {
                    let problems = report.status.as_ref().map_or(0, StatusSummary::problems);
                    if problems > 0 {
                        report.outcome = Outcome::Failed;
                        report.error = report.status.as_ref().map(|s| format!("{problems} problem(s): {}", s.summary));
                    }
                    return Ok(());
                }
                Operation::Drift(expected) => {
                    let live = match &target.schema {
                        Some(schema) => self.tenant_schema(target, schema).await,
                        None => migrator.schema().await,
                    };
                    // A drift check that could not read the schema is a failure, not a standing.
                    let live = live.inspect_err(|_| report.status = None)?;
                    let differences = shale_schema::compare::differences(expected, &live);
                    if !differences.is_empty() {
                        let objects: Vec<&str> = differences.iter().take(3).map(|d| d.object.as_str()).collect();
                        let more = if differences.len() > objects.len() { ", ..." } else { "" };
                        report.outcome = Outcome::Failed;
                        report.error = Some(format!(
                            "drifted: {} difference(s) from what the migrations build: {}{more}",
                            differences.len(),
                            objects.join(", ")
                        ));
                    }
                    report.drift = Some(differences);
                    return Ok(());
                }
                // Nothing pending and nothing amiss: `up` would only read the history again.
                // Skipping it saves a connection per target on a fleet that is up to date.
                Operation::Up(_) if report.status.as_ref().is_some_and(|s| s.standing == Standing::UpToDate) => {
                    return Ok(())
                }
                Operation::Up(request) => migrator.up(request, &mut forward).await,
                Operation::Down(down) => migrator.down(down, &mut forward).await,
            };
            report.status = None;
            match run {
                Ok(run) => {
                    report.steps = run.steps.len();
                    report.to_version = run.current_version;
                    Ok(())
                }
                Err(error) => {
                    // Where did it stop? One more read, only after a failure.
                    if let Ok(after) = migrator.status().await {
                        report.to_version = after.current_version.clone();
                        report.status = Some(StatusSummary::of(&self.set, &after));
                    }
                    Err(error)
                }
            }
        }
        .await;
        if let Err(error) = result {
            report.outcome = match error.kind() {
                ErrorKind::Unavailable => Outcome::Unavailable,
                _ => Outcome::Failed,
            };
            report.error = Some(error_text(&error));
            report.failure = Some(Arc::new(error));
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        report
    }

    /// Free connections of each server, read once per server (targets on one server share the
    /// answer). A server that cannot be asked gets no limit: its targets report their own error.
    async fn server_limits(&self, targets: &[Target]) -> Vec<ServerLimit> {
        let mut first: Vec<(usize, usize)> = Vec::new(); // (first target index, target count)
        let mut seen: HashMap<(Vec<String>, Vec<u16>), usize> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            match seen.get(&t.server_key()) {
                Some(&slot) => first[slot].1 += 1,
                None => {
                    seen.insert(t.server_key(), first.len());
                    first.push((i, 1));
                }
            }
        }
        let session = SessionSettings { search_path: None, ..self.template.session.clone() };
        let mut limits = Vec::with_capacity(first.len());
        for (i, count) in first {
            let target = &targets[i];
            let free = free_connections(&target.connection, &session).await.ok();
            limits.push(ServerLimit {
                server: target.connection.redacted(),
                free_connections: free,
                max_targets: free.map(|f| (f.max(0) as usize / CONNECTIONS_PER_TARGET).max(1)),
                targets: count,
            });
        }
        limits
    }
}

/// One gate per server, letting through as many targets as it has connections for. `limits` are
/// in the order the servers first appear among the targets.
fn server_gates(targets: &[Target], limits: &[ServerLimit]) -> HashMap<(Vec<String>, Vec<u16>), Semaphore> {
    let mut gates = HashMap::new();
    let mut next = limits.iter();
    for target in targets {
        gates.entry(target.server_key()).or_insert_with(|| {
            let max = next.next().and_then(|l| l.max_targets).unwrap_or(Semaphore::MAX_PERMITS);
            Semaphore::new(max.min(Semaphore::MAX_PERMITS))
        });
    }
    gates
}

/// Connection slots left for ordinary users: max_connections less the reserved ones less the
/// client sessions already open (this one included).
const FREE_CONNECTIONS_SQL: &str = "SELECT current_setting('max_connections')::int
    - current_setting('superuser_reserved_connections')::int
    - coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)
    - (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int";

async fn free_connections(connection: &ConnectionSettings, session: &SessionSettings) -> Result<i64, Error> {
    let client = connect(connection, session).await?;
    let messages = client
        .simple_query(FREE_CONNECTIONS_SQL)
        .await
        .map_err(|e| PgError::query("reading the server's free connections", e))?;
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .ok_or_else(|| Error::Pg(PgError::Catalog("the free-connections query returned no number".into())))
}

fn skipped(target: &Target) -> TargetReport {
    TargetReport {
        name: target.name.clone(),
        location: target.location(),
        schema: target.schema.clone(),
        outcome: Outcome::Skipped,
        from_version: None,
        to_version: None,
        steps: 0,
        duration_ms: 0,
        error: Some("not started: --fail-fast stopped the fleet after a failure".into()),
        failure: None,
        status: None,
        drift: None,
    }
}

/// One line for the summary, with the server's detail where a migration failed.
fn error_text(error: &Error) -> String {
    match error {
        Error::Pg(PgError::Migration { failure, .. }) => {
            let mut text = format!("{error} (SQLSTATE {})", failure.sqlstate);
            if let Some(detail) = &failure.detail {
                text.push_str(&format!("; {detail}"));
            }
            text
        }
        Error::Plan(problems) => problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "),
        _ => error.to_string(),
    }
}

/// Targets that stand alike, for a fleet status that stays short: 2,000 identical tenants are one
/// group. Groups come worst first (unavailable, failed, ahead, diverged, behind, up to date), then
/// by version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusGroup {
    /// `unavailable`, `error`, or the standing (`up to date`, `behind`, ...).
    pub state: String,
    pub version: Option<String>,
    pub summary: String,
    pub count: usize,
    /// The first few target names.
    pub examples: Vec<String>,
}

/// How many names a group shows.
pub const GROUP_EXAMPLES: usize = 3;

/// Worst first (a rank), then version, state and summary.
type GroupKey = (u8, Option<Version>, String, String);

pub fn group_status(reports: &[TargetReport]) -> Vec<StatusGroup> {
    let mut groups: BTreeMap<GroupKey, StatusGroup> = BTreeMap::new();
    for r in reports {
        let (rank, state, summary) = match (&r.status, r.outcome) {
            (_, Outcome::Unavailable) => (0, "unavailable".to_string(), "could not connect or lock".to_string()),
            (_, Outcome::Skipped) => (7, "skipped".to_string(), "not started".to_string()),
            (_, outcome) if r.drift.is_some() => match (r.drift.as_ref().map_or(0, Vec::len), outcome) {
                (0, _) => (6, "no drift".to_string(), "matches the migrations".to_string()),
                (n, _) => (2, "drifted".to_string(), format!("{n} difference(s)")),
            },
            (Some(s), _) => {
                let rank = match s.standing {
                    Standing::Failed => 2,
                    Standing::Ahead => 3,
                    Standing::Diverged => 4,
                    Standing::Behind => 5,
                    Standing::UpToDate => 6,
                };
                (rank, s.standing.as_str().to_string(), s.summary.clone())
            }
            (None, _) => (1, "error".to_string(), r.error.clone().unwrap_or_default()),
        };
        let version = r.to_version.as_deref().and_then(Version::parse);
        let group = groups.entry((rank, version, state.clone(), summary.clone())).or_insert_with(|| StatusGroup {
            state,
            version: r.to_version.clone(),
            summary,
            count: 0,
            examples: Vec::new(),
        });
        group.count += 1;
        if group.examples.len() < GROUP_EXAMPLES {
            group.examples.push(r.name.clone());
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(key: &str) -> Option<String> {
        match key {
            "EU_PASSWORD" => Some("s3cret".into()),
            _ => None,
        }
    }

    fn report(name: &str, outcome: Outcome, version: Option<&str>, standing: Standing, summary: &str) -> TargetReport {
        TargetReport {
            name: name.into(),
            location: String::new(),
            schema: None,
            outcome,
            from_version: version.map(str::to_string),
            to_version: version.map(str::to_string),
            steps: 0,
            duration_ms: 0,
            error: None,
            failure: None,
            status: (outcome != Outcome::Unavailable).then(|| StatusSummary {
                standing,
                applied: 0,
                pending: 0,
                failed: 0,
                modified: 0,
                missing: 0,
                out_of_order: 0,
                summary: summary.into(),
            }),
            drift: None,
        }
    }

    #[test]
    fn a_server_is_the_same_with_or_without_its_default_port() {
        let target =
            |url: &str| Target { name: url.into(), connection: ConnectionSettings::parse(url).unwrap(), schema: None };
        assert_eq!(target("postgres://u@db1/a").server_key(), target("postgres://u@db1:5432/b").server_key());
        assert_ne!(target("postgres://u@db1/a").server_key(), target("postgres://u@db1:5433/a").server_key());
    }

    #[test]
    fn alike_targets_make_one_group_worst_first() {
        let mut reports: Vec<TargetReport> = (1..=2000)
            .map(|i| report(&format!("t{i}"), Outcome::Ok, Some("10"), Standing::UpToDate, "up to date"))
            .collect();
        reports.push(report("late1", Outcome::Ok, Some("9"), Standing::Behind, "1 pending"));
        reports.push(report("late2", Outcome::Ok, Some("9"), Standing::Behind, "1 pending"));
        reports.push(report("later", Outcome::Ok, Some("2"), Standing::Behind, "8 pending"));
        reports.push(report("broken", Outcome::Ok, Some("4"), Standing::Failed, "0005 failed"));
        reports.push(report("gone", Outcome::Unavailable, None, Standing::UpToDate, ""));
        let groups = group_status(&reports);
        let lines: Vec<(&str, Option<&str>, usize)> =
            groups.iter().map(|g| (g.state.as_str(), g.version.as_deref(), g.count)).collect();
        assert_eq!(
            lines,
            [
                ("unavailable", None, 1),
                ("failed", Some("4"), 1),
                ("behind", Some("2"), 1),
                ("behind", Some("9"), 2),
                ("up to date", Some("10"), 2000)
            ]
        );
        assert_eq!(groups[4].examples, ["t1", "t2", "t3"]);
    }

    #[test]
    fn globs_become_like_patterns() {
        assert_eq!(schema_like_pattern("tenant_*"), "tenant\\_%");
        assert_eq!(schema_like_pattern("tenant_%"), "tenant\\_%");
        assert_eq!(schema_like_pattern("t?_a\\b"), "t_\\_a\\\\b");
    }

    #[test]
    fn env_expansion() {
        assert_eq!(expand_env("postgres://u:${EU_PASSWORD}@h/db", &env).unwrap(), "postgres://u:s3cret@h/db");
        assert_eq!(expand_env("no variables $HOME", &env).unwrap(), "no variables $HOME");
        // A password with URL syntax in it stays the password (and so stays redacted).
        let tricky = |name: &str| (name == "PW").then(|| "Xy@zz/SECRET%1".to_string());
        let url = expand_env("postgres://app:${PW}@127.0.0.1:5432/db", &tricky).unwrap();
        assert_eq!(url, "postgres://app:Xy%40zz%2FSECRET%251@127.0.0.1:5432/db");
        let settings = shale_pg::ConnectionSettings::parse(&url).unwrap();
        assert_eq!(settings.password.as_deref(), Some("Xy@zz/SECRET%1"));
        assert!(!settings.redacted().contains("SECRET"), "{}", settings.redacted());
        let unset = expand_env("postgres://u:${NOPE}@h/db", &env).unwrap_err();
        assert!(unset.contains("NOPE") && !unset.contains("postgres://"), "{unset}");
        assert!(expand_env("${EU_PASSWORD", &env).is_err());
        assert!(expand_env("${a b}", &env).is_err());
    }

    #[test]
    fn targets_file_forms_and_errors() {
        let text = "[targets]\n\
                    eu = \"postgres://app:${EU_PASSWORD}@eu.invalid:5433/app\"\n\
                    acme = { url = \"postgres://app@us.invalid/app\", schema = \"tenant_acme\" }\n\
                    us2 = { url = \"postgres://app@us2.invalid/app\", password_env = \"EU_PASSWORD\" }\n";
        let targets = parse_targets_file(Path::new("t.toml"), text, &env).unwrap();
        assert_eq!(targets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["acme", "eu", "us2"]);
        assert_eq!(targets[2].connection.password.as_deref(), Some("s3cret"));
        assert_eq!(targets[0].schema.as_deref(), Some("tenant_acme"));
        assert_eq!(targets[1].connection.password.as_deref(), Some("s3cret"));
        assert_eq!(targets[1].connection.ports, [5433]);
        assert!(!targets[1].location().contains("s3cret"));

        let err = |text: &str| parse_targets_file(Path::new("t.toml"), text, &env).unwrap_err().to_string();
        let e = err("[targets]\nok = \"postgres://a@h/db\"\nbad = { url = \"postgres://a@h/db\", shema = \"x\" }\n");
        assert!(e.starts_with("t.toml:3:") && e.contains("shema"), "{e}");
        let e = err("[targets]\nx = \"postgres://a:${MISSING}@h/db\"\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("MISSING"), "{e}");
        let e = err("[targets]\nx = { url = \"postgres://a@h/db\", password_env = \"NOPE\" }\n");
        assert!(e.starts_with("t.toml:2:") && e.contains("NOPE"), "{e}");
        let e = err("[targets\n");
        assert!(e.starts_with("t.toml:1:"), "{e}");
        assert!(err("[other]\n").contains("unknown key `other`"));
        assert!(err("[targets]\n").contains("empty"));
        assert!(err("[targets]\nx = 3\n").contains("t.toml:2:"));
    }
}
