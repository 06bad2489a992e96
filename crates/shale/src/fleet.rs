//! Many databases at once: one operation (up, down, status, validate, drift) over a fleet of targets:
//! databases from a targets file or a control-database query, or every schema matching a pattern
//! in one database (schema per tenant).
//!
//! Each target is migrated exactly as a single database would be, with its own history table and
//! its own migration lock, so a rerun picks up where each target stands and one target's failure
//! never touches another. The migration files are loaded once and shared; a target's clients live
//! only while it runs, so memory does not grow with the number of targets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use shale_core::MigrationSet;
use shale_pg::tokio_postgres::SimpleQueryMessage;
use shale_pg::{connect, ConnectionSettings, ExecEvent, PgError, SessionSettings};
use tokio::sync::Semaphore;

use crate::{Error, ErrorKind, Event, Migrator, MigratorConfig, UpRequest};

mod report;
mod shard;
mod targets;

pub use report::{
    group_status, FleetReport, Outcome, ServerWarning, Standing, StatusGroup, StatusSummary, TargetReport,
    GROUP_EXAMPLES,
};
pub use shard::{Shard, ShardParseError};
pub use targets::{
    expand_env, parse_targets_file, read_targets_file, schema_like_pattern, schema_targets, targets_from_query, Env,
    Target, SCHEMAS_QUERY, TARGETS_QUERY,
};

/// Concurrency when none is asked for (never more than the number of targets).
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Connections one running target holds: the work session and the migration lock's session.
pub const CONNECTIONS_PER_TARGET: usize = 2;

/// What to do on every target.
#[derive(Debug, Clone)]
pub enum Operation {
    Up(UpRequest),
    Down(shale_core::Target),
    Status,
    /// Status, with modified, missing, failed and out-of-order migrations counted as failures.
    Validate,
    /// Compare each target's schema with what the migrations build (see [`ExpectedSchemas`]); a
    /// target that differs fails. A schema target's schema is compared as if it were `public`
    /// (its database read once for all its schemas).
    Drift(Arc<ExpectedSchemas>),
}

/// What a fleet's drift compares each target with: what the migrations build, replayed once per
/// search_path the targets' connections set (their URLs' or shale.toml's: unqualified names land
/// in its first schema there, and in the replay compared with it), and what the replay's setup
/// made (the environment's: an extension the platform installs), which the targets have as such.
#[derive(Debug, Clone, Default)]
pub struct ExpectedSchemas {
    /// By [`ConnectionSettings::search_path_sql`] (None: the connection sets none; and a schema
    /// target's).
    pub by_search_path: Vec<(Option<String>, Arc<shale_schema::Schema>)>,
    /// What shale.toml's `replay_setup` made on the scratch database, left out of each target's
    /// schema where it has the same (operator trial: every target drifted by the setup's objects).
    pub setup_made: Option<Arc<shale_schema::Schema>>,
}

impl ExpectedSchemas {
    /// The schema `target` is compared with: the replay for its search_path (where it sets none,
    /// the first there is). None where none was made for its search_path (its servers did not
    /// answer when the fleet began): comparing it with another's would be a false drift (review).
    fn for_target(&self, target: &Target) -> Option<&shale_schema::Schema> {
        let list = target.schema.is_none().then(|| target.connection.search_path_sql()).flatten();
        let found = self.by_search_path.iter().find(|(l, _)| *l == list);
        let first = || self.by_search_path.first().filter(|_| list.is_none());
        found.or_else(first).map(|(_, s)| &**s)
    }
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
                        // Each target's server warnings are its own, not those of one beside it.
                        shale_pg::notices::kept_apart(self.run_one(index, target, operation, on_event)).await
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
        let mut warnings = Vec::new();
        let mut forward = |event: Event| {
            if let Event::Exec(ExecEvent::ServerWarning { label, message }) = &event {
                warnings.push(ServerWarning { migration: label.clone(), message: message.clone() });
            }
            on_event(FleetEvent::Migrator { index, event })
        };
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
            warnings: Vec::new(),
        };
        let result: Result<(), Error> = async {
            let before = migrator.status().await?;
            report.from_version = before.current_version.clone();
            report.to_version = before.current_version.clone();
            report.status = Some(StatusSummary::of(&migrator.set(), &before));
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
                    let mut live = live.inspect_err(|_| report.status = None)?;
                    if let Some(made) = &expected.setup_made {
                        live = shale_schema::confine::without_same_objects(&live, made);
                    }
                    let Some(expected) = expected.for_target(target) else {
                        return Err(Error::Invalid(
                            "drift: what the migrations build where this target's search_path lands names could \
                             not be replayed (its server did not answer when the fleet began): run drift again"
                                .into(),
                        ));
                    };
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
                        report.status = Some(StatusSummary::of(&migrator.set(), &after));
                    }
                    Err(error)
                }
            }
        }
        .await;
        report.warnings = warnings;
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

/// A skipped target's error: the fleet fails fast, and stopped after a failure.
pub const SKIPPED: &str = "not started: the fleet stopped after a failure (it fails fast)";

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
        error: Some(SKIPPED.into()),
        failure: None,
        status: None,
        drift: None,
        warnings: Vec::new(),
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
