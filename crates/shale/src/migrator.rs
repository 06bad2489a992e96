use std::time::{Duration, Instant};

use shale_core::plan::{self, AppliedRecord, History, Plan, RecordKind, RecordStatus, StatusRow, Step, UpOptions};
use shale_core::{MigrationSet, PlanError, Target, Version};
use shale_pg::history::NewRecord;
use shale_pg::{
    connect_waiting_reaching, Client, ConnectionSettings, ExecEvent, ExecOptions, Executor, HeldLock, HistoryTable,
    LockEvent, LockHolder, LockKind, LockOptions, SessionSettings,
};

use crate::error::RepairRefusal;
use crate::Error;

/// How to reach the database and how to behave there.
#[derive(Debug, Clone)]
pub struct MigratorConfig {
    pub connection: ConnectionSettings,
    pub history: HistoryTable,
    pub session: SessionSettings,
    /// How long to wait for another runner's migration lock.
    pub lock_wait: Duration,
    /// Retry connecting this long while the server starts (`--wait`).
    pub connect_wait: Option<Duration>,
    pub exec: ExecOptions,
    /// Which lock serializes runners: the advisory lock, the table lease, or `Auto` (the advisory
    /// lock unless the connection refuses an open transaction, then the lease).
    pub lock: LockKind,
    /// How long a table lease lasts without renewal; a crashed runner's lease is taken over after it.
    pub lease_ttl: Duration,
    /// A stop request (Ctrl-C, SIGTERM in the CLI): the statement in flight is cancelled on the
    /// server, what ran is recorded, and no further migration starts.
    pub interrupt: Option<shale_pg::Interrupt>,
    /// Each schema of the database may keep a history of its own (a fleet's targets: tenant
    /// schemas, beside the database's own): a history in another schema is another target's, not
    /// one this run should have found.
    pub history_per_schema: bool,
}

impl MigratorConfig {
    /// A connection string's Prisma `schema` is the sessions' search_path.
    pub fn new(connection: ConnectionSettings) -> MigratorConfig {
        let session = SessionSettings { search_path: connection.schema.clone(), ..SessionSettings::default() };
        MigratorConfig {
            connection,
            history: HistoryTable::default(),
            session,
            lock_wait: Duration::from_secs(600),
            connect_wait: None,
            exec: ExecOptions::default(),
            lock: LockKind::default(),
            lease_ttl: shale_pg::lease::DEFAULT_LEASE_TTL,
            interrupt: None,
            history_per_schema: false,
        }
    }
}

/// What happens while a run goes on, for progress displays and logs.
#[derive(Debug, Clone)]
pub enum Event {
    /// The plan is made: this many migrations will run.
    Planned {
        steps: usize,
    },
    /// Another runner holds the migration lock; this one waits.
    LockWaiting(LockHolder),
    LockAcquired {
        waited: Duration,
    },
    /// `lock = auto` found a connection that refuses an open transaction (a statement-mode
    /// pooler), where the advisory lock cannot be held, so the table lease is used instead;
    /// `evidence` says what gave it away.
    PoolerDetected {
        evidence: String,
    },
    /// The table lease of a runner that stopped renewing it (crashed or stalled) expired and was
    /// taken over.
    LeaseTakenOver(LockHolder),
    Exec(ExecEvent),
}

/// A check of the plan before anything runs, against the database it will run on (its version,
/// its tables' sizes); `Err` says why the run is refused.
pub type VetFn = dyn Fn(&Plan, &shale_pg::inspect::DatabaseFacts) -> Result<(), Refusal> + Send + Sync;

/// Why a check refused a plan before anything ran: each statement it refused, where it is, and a
/// closing line saying what to do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub problems: Vec<RefusedStatement>,
    pub closing: String,
}

/// A statement a check refused (a syntax error, an unsafe change), in its file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedStatement {
    pub path: std::path::PathBuf,
    pub line: usize,
    pub column: usize,
    /// What is wrong, without the place (`syntax error at or near ","`, `error[rule]: ...`).
    pub message: String,
}

/// One line per statement (`path:line:col: message`), then the closing line.
impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.problems {
            writeln!(f, "{}:{}:{}: {}", p.path.display(), p.line, p.column, p.message)?;
        }
        f.write_str(&self.closing)
    }
}

#[derive(Clone)]
pub struct VetPlan(pub std::sync::Arc<VetFn>);

impl std::fmt::Debug for VetPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VetPlan")
    }
}

/// What the tool whose history shale took over has done since: see [`StatusReport`]'s fields.
#[derive(Debug, Default)]
struct AgainstTheAdoptedTool {
    ran_by_both: Option<RanByBoth>,
    applied: Option<RanByBoth>,
    reverted: Option<RanByBoth>,
    failed: Option<RanByBoth>,
}

#[derive(Debug, Clone, Default)]
pub struct UpRequest {
    pub target: Option<Target>,
    pub allow_out_of_order: bool,
    pub single_transaction: bool,
    /// Checks the plan before anything runs (the CLI's linter); an `Err` refuses the whole run.
    pub vet: Option<VetPlan>,
    /// With nothing to apply where shale's history table does not exist yet, look for another
    /// tool's history table ([`RunReport::foreign`]): one more query, on that path only.
    pub look_for_foreign_history: bool,
    /// Run even where shale has no history yet but tables the migrations create (without `IF NOT
    /// EXISTS`) are there already, which is refused by default ([`Error::TablesWithoutHistory`]):
    /// the database was built by a tool whose history shale does not recognize (a table renamed),
    /// or by an ORM or by hand, and running the migrations would run again, before the first of
    /// those fails, every one that still can (its tables dropped since). The check costs one
    /// query, on that path only. Set for a database made for the run (a replay on a throwaway
    /// server), whose setup may hold such tables.
    pub allow_over_existing_tables: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepReport {
    pub version: Option<String>,
    pub name: String,
    pub kind: shale_core::MigrationKind,
    pub direction: shale_core::StepDirection,
    pub path: std::path::PathBuf,
    pub transactional: bool,
    /// None for steps of a --single-transaction batch, which has one duration for all of them.
    pub duration_ms: Option<u64>,
}

/// The outcome of `up`, `down`, `redo`, `goto`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunReport {
    pub steps: Vec<StepReport>,
    /// The newest applied version after the run.
    pub current_version: Option<String>,
    pub duration_ms: u64,
    /// `up` with nothing to do where shale's history table does not exist yet, asked for with
    /// [`UpRequest::look_for_foreign_history`]: another tool's history table, when there is one
    /// (`shale baseline --from-database` or `shale adopt` next); more than one when several tools'
    /// histories are there (the one that migrated the database must then be named).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign: Vec<shale_pg::foreign::ForeignTable>,
    /// A run that applied something: the histories of tools whose migrations are code that changed
    /// since the baseline (as [`StatusReport::changed_since_baseline`]), said where a deploy looks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_since_baseline: Vec<crate::adopt::ChangedSinceBaseline>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    pub current_version: Option<String>,
    /// False when the history table does not exist yet.
    pub history_exists: bool,
    pub migrations: Vec<StatusRow>,
    /// Another tool's history table, when shale has none of its own here: `shale adopt` takes it over.
    pub foreign: Vec<shale_pg::foreign::ForeignTable>,
    /// Where shale took another tool's history over: migrations shale applied that the tool has
    /// applied too since (its migrate still runs somewhere), which may have run twice.
    pub ran_by_both: Option<RanByBoth>,
    /// Where shale took another tool's history over: migrations not applied by shale that the
    /// tool has applied since (its migrate still runs somewhere), which `up` refuses to run again.
    pub applied_by_the_other_tool: Option<RanByBoth>,
    /// Where shale took another tool's history over: migrations taken over, and applied as shale
    /// sees them, that the tool's table no longer has (its `down` still runs somewhere).
    pub reverted_by_the_other_tool: Option<RanByBoth>,
    /// Where shale took another tool's history over: migrations (as the tool names them) the
    /// tool's table records a failed attempt at since (its migrate still runs somewhere).
    pub failed_by_the_other_tool: Option<RanByBoth>,
    /// The other tool's history table shale took over (`schema.name`), which the migrations never
    /// built: `drift` leaves it out, whatever it is named.
    pub taken_over_from: Option<String>,
    /// The histories of tools whose migrations are code (Alembic, Django, ...) that the baseline
    /// left as they were and that have changed since: that tool still migrates here.
    pub changed_since_baseline: Vec<crate::adopt::ChangedSinceBaseline>,
    /// Of the migrations changed since they were applied, those changed in comments and white
    /// space alone (versions as written): the SQL that ran is the file's but for them.
    pub changed_in_comments_only: Vec<String>,
    /// Where shale has no history and the one other tool's history here can be taken over: what
    /// that tool applied, which `shale adopt` takes over (pending to shale until then).
    pub applied_before_adoption: Option<BeforeAdoption>,
    /// Where a migration's last run stopped part-way with no error (its row says running): the
    /// runner holding the migration lock now, if one does. That migration is being applied, not
    /// failed (production trial: `status` said failed, `version` dirty and `validate` exited 1
    /// during a live backfill).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_now: Option<shale_pg::LockHolder>,
    /// The server is a standby (in recovery), asked only where migrations are pending: `up`
    /// cannot run there (operator trial: `status` and the dry run did not say so).
    pub standby: bool,
}

/// What the other tool's history says, on a database shale has not taken over yet.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BeforeAdoption {
    pub tool: shale_core::adopt::Tool,
    /// The tool's table, `schema.name`.
    pub table: String,
    /// The migrations it applied, each as `VERSION name`.
    pub migrations: Vec<String>,
    /// Those it tried and failed on (a dirty version, a failed row), each as `VERSION name` (or
    /// as the tool names it, with no file here): not applied, and in doubt.
    pub failed: Vec<String>,
    /// Why `shale adopt` would refuse as things are (a file changed since, a version with no
    /// file, a failure), each said as `adopt` says it: empty when it would take the history over.
    pub refusals: Vec<String>,
}

/// Migrations both shale and the tool whose history it took over applied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RanByBoth {
    pub tool: shale_core::adopt::Tool,
    /// The tool's table, `schema.name`.
    pub table: String,
    /// Each as `VERSION name`.
    pub migrations: Vec<String>,
}

/// What a dry run says before the run ([`Migrator::before_a_run`]).
#[derive(Debug, Clone, Default)]
pub struct BeforeARun {
    pub changed_since_baseline: Vec<crate::adopt::ChangedSinceBaseline>,
    pub standby: bool,
}

/// What `repair` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepairReport {
    pub version: String,
    pub decision: RepairDecision,
    /// False when there was nothing to record: the migration is applied and its file unchanged,
    /// as an `Applied` decision says.
    pub recorded: bool,
    /// Recorded as applied with no file (its file was removed on purpose): from then on it is
    /// not missing.
    pub without_file: bool,
}

/// What `repair` records about a migration whose state needs a human decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairDecision {
    /// Its effects are in the database (completed by hand, or the edited file is what ran).
    Applied,
    /// Its effects are not in the database (undone by hand): `up` will run it again.
    RolledBack,
    /// A migration that runs outside a transaction and stopped part-way: the statements before
    /// this one (1-based) are in the database, the rest are not; `up` continues from it.
    ResumeAt(usize),
}

pub(crate) struct LockedSession {
    pub(crate) client: Client,
    pub(crate) lock: HeldLock,
    started: Instant,
}

pub struct Migrator {
    /// Shared, so a fleet loads the files once for all its targets.
    pub set: std::sync::Arc<MigrationSet>,
    pub config: MigratorConfig,
    /// Downs for migrations that have none, computed from the schemas before and after each
    /// (`shale down --generate`); recorded in the history with the row they revert.
    pub generated_downs: shale_core::GeneratedDowns,
    /// The history table is known to exist (it was read or created by this migrator).
    history_seen: std::sync::atomic::AtomicBool,
    /// Of several hosts, the server the first connection reached: the others (the migration
    /// lock's) go there too ([`ConnectionSettings::pinned_to`]). Kept with the settings it was
    /// made from: once `config.connection` changes (an embedding application's), it no longer
    /// holds (review).
    pinned: std::sync::Mutex<Option<(ConnectionSettings, ConnectionSettings)>>,
}

type OnEvent<'a> = &'a mut (dyn FnMut(Event) + Send);

/// A session to the database with the history already read, begun before the migration files
/// are loaded (see [`Migrator::up_from`]): connecting and reading the directory overlap.
pub struct Opened {
    client: Client,
    history: History,
    /// The history table exists (no need to look for it again under the lock).
    seen: bool,
    started: Instant,
    /// The server reached, of several hosts (see `Migrator::pinned`).
    pinned: Option<(ConnectionSettings, ConnectionSettings)>,
}

impl Opened {
    /// Split the statements of the migrations of `set` (read with
    /// [`MigrationSet::read_dir_unsplit`]) that may run against the history just read: a no-op
    /// start splits none; a file that will run and cannot be split is reported here, before
    /// anything runs.
    pub fn split_for_up(&self, set: &mut MigrationSet) -> Result<(), Error> {
        plan::split_for_up(set, &self.history).map_err(Error::Load)
    }

    /// Connect as `config` says and read the history (one round trip after connecting). Nothing
    /// is written: a database without a history table reads as an empty history.
    pub async fn open(config: &MigratorConfig) -> Result<Opened, Error> {
        let started = Instant::now();
        let reader = Migrator::new(MigrationSet::default(), config.clone());
        let client = reader.connect().await?;
        let (history, seen) = reader.history(&client, false, false).await?;
        let pinned = reader.pinned.lock().map_or(None, |p| p.clone());
        Ok(Opened { client, history, seen, started, pinned })
    }
}

impl Migrator {
    /// Takes a `MigrationSet` or an `Arc<MigrationSet>` shared with other migrators.
    pub fn new(set: impl Into<std::sync::Arc<MigrationSet>>, config: MigratorConfig) -> Migrator {
        Migrator {
            set: set.into(),
            config,
            generated_downs: Default::default(),
            history_seen: Default::default(),
            pinned: Default::default(),
        }
    }

    /// A migrator for migrations embedded in the binary, with default settings for `connection`.
    pub fn embedded(migrations: &crate::EmbeddedMigrations, connection: ConnectionSettings) -> Result<Migrator, Error> {
        Ok(Migrator::new(migrations.load()?, MigratorConfig::new(connection)))
    }

    pub(crate) async fn connect(&self) -> Result<Client, Error> {
        // Where the first connection reached one of several hosts, the server it reached; where
        // that one no longer answers (a failover since), the whole list again.
        if let Some(pinned) = self.pinned_connection() {
            if let Ok(client) = shale_pg::connect(&pinned, &self.config.session).await {
                return Ok(client);
            }
        }
        let (client, reached) =
            connect_waiting_reaching(&self.config.connection, &self.config.session, self.config.connect_wait).await?;
        if self.config.connection.targets().is_ok_and(|targets| targets.len() > 1) {
            if let Ok(mut pinned) = self.pinned.lock() {
                *pinned = Some((self.config.connection.clone(), self.config.connection.pinned_to(&reached)));
            }
        }
        Ok(client)
    }

    /// The settings a connection of this run uses: those of the server reached first, where
    /// several hosts are given.
    fn pinned_connection(&self) -> Option<ConnectionSettings> {
        let pinned = self.pinned.lock().ok()?;
        let (from, to) = pinned.as_ref()?;
        (*from == self.config.connection).then(|| to.clone())
    }

    /// Take the migration lock.
    async fn lock(&self, on_event: OnEvent<'_>) -> Result<HeldLock, Error> {
        let started = Instant::now();
        let options =
            LockOptions { kind: self.config.lock, lease_ttl: self.config.lease_ttl, wait: self.config.lock_wait };
        let connection = self.pinned_connection().unwrap_or_else(|| self.config.connection.clone());
        let lock =
            shale_pg::lock::acquire(&connection, &self.config.session, &self.config.history, &options, &mut |event| {
                on_event(match event {
                    LockEvent::Waiting(holder) => Event::LockWaiting(holder.clone()),
                    LockEvent::PoolerDetected(evidence) => Event::PoolerDetected { evidence: evidence.to_string() },
                    LockEvent::TookOver(holder) => Event::LeaseTakenOver(holder.clone()),
                })
            })
            .await?;
        on_event(Event::LockAcquired { waited: started.elapsed() });
        Ok(lock)
    }

    /// The history, creating the table when `create` and it does not exist.
    pub(crate) async fn history(
        &self,
        client: &Client,
        with_down: bool,
        create: bool,
    ) -> Result<(History, bool), Error> {
        self.config.history.check().map_err(Error::Invalid)?;
        // Under the lock (create = true), look before reading so a new database's log shows no
        // error; once the table has been seen, reading is enough.
        let seen = self.history_seen.load(std::sync::atomic::Ordering::Relaxed);
        if create && !seen && !self.config.history.exists(client).await? {
            // Not beside one of its own in another schema (every command that writes passes here:
            // `repair` and `down` started a second history, the re-check found).
            self.refuse_history_elsewhere(client).await?;
            // Created under the lock: no other runner's transaction can be writing it.
            self.config.history.create(client, self.config.connection.schema.as_deref()).await?;
            self.history_seen.store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok((History::default(), true));
        }
        let loaded = match create {
            true => self.config.history.load_after_writers(client, with_down, self.config.lock_wait).await?,
            false => self.config.history.load(client, with_down).await?,
        };
        match loaded {
            Some(mut h) => {
                self.history_seen.store(true, std::sync::atomic::Ordering::Relaxed);
                self.fill_changed_sections(client, &mut h).await?;
                Ok((h, true))
            }
            None if create => {
                self.refuse_history_elsewhere(client).await?;
                self.config.history.create(client, self.config.connection.schema.as_deref()).await?;
                Ok((History::default(), true))
            }
            None => Ok((History::default(), false)),
        }
    }

    /// The up SQL of applied migrations whose file holds its down beside its up (dbmate's,
    /// goose's sections) and changed since: the plan compares their up sections, so that a fixed
    /// down is not a changed migration. One more round trip, only where such a file changed.
    async fn fill_changed_sections(&self, client: &Client, history: &mut History) -> Result<(), Error> {
        let sectioned: std::collections::HashMap<&Version, &shale_core::Migration> = self
            .set
            .versioned()
            .filter(|m| m.up.own_text().len() < m.up.text.len())
            .filter_map(|m| Some((m.version.as_ref()?, m)))
            .collect();
        if sectioned.is_empty() {
            return Ok(());
        }
        let changed = |r: &AppliedRecord| {
            let file = Version::parse(&r.version).and_then(|v| sectioned.get(&v).copied());
            let Some(m) = file else { return false };
            r.status == RecordStatus::Succeeded
                && r.up_sql.is_none()
                && r.checksum.as_deref().is_some_and(|c| c != m.checksum.as_str())
        };
        let ids: Vec<i64> = history.records.iter().filter(|r| changed(r)).map(|r| r.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        for (id, up_sql) in self.config.history.up_sql_of(client, &ids).await? {
            if let Some(r) = history.records.iter_mut().find(|r| r.id == id) {
                r.up_sql = Some(up_sql);
            }
        }
        Ok(())
    }

    /// State of every migration. One round trip after connecting.
    pub async fn status(&self) -> Result<StatusReport, Error> {
        let client = self.connect().await?;
        let (history, exists) = self.history(&client, false, false).await?;
        // Only where shale has nothing yet: one more query, for a database another tool migrated.
        if history.records.is_empty() {
            self.refuse_history_elsewhere(&client).await?;
        }
        let foreign = match history.records.is_empty() {
            true => self.foreign_history_without_adoption(&client).await?,
            false => Vec::new(),
        };
        let applied_before_adoption = self.applied_before_adoption(&client, &foreign).await?;
        let taken_over_from = crate::adopt::taken_over(&history).map(|(_, table, _)| table.to_string());
        let migrations = plan::status(&self.set, &history);
        let stopped = migrations.iter().any(|m| m.state == plan::State::Failed && m.error.is_none());
        let running_now = match stopped {
            true => shale_pg::lock::current_holder(&client, &self.config.history).await?,
            false => None,
        };
        let against = match taken_over_from {
            Some(_) => self.against_the_adopted_tool(&client, &history, &migrations).await?,
            None => AgainstTheAdoptedTool::default(),
        };
        let changed_since_baseline = self.changed_since_baseline(&client, &history).await?;
        let pending = migrations.iter().any(|m| matches!(m.state, plan::State::Pending | plan::State::OutOfOrder));
        let standby = match pending {
            true => in_recovery(&client).await?,
            false => false,
        };
        let changed_in_comments_only = self
            .changed_in_comments_only(&client, &history)
            .await?
            .into_iter()
            .map(|v| written_version(&self.set, v))
            .collect();
        Ok(StatusReport {
            current_version: version_text(&self.set, &history),
            history_exists: exists,
            migrations,
            foreign,
            ran_by_both: against.ran_by_both,
            applied_by_the_other_tool: against.applied,
            reverted_by_the_other_tool: against.reverted,
            failed_by_the_other_tool: against.failed,
            taken_over_from,
            changed_since_baseline,
            changed_in_comments_only,
            applied_before_adoption,
            running_now,
            standby,
        })
    }

    /// What the tool whose history shale took over has done since, against the states of `rows`:
    /// the migrations shale applied that it applied too; those not applied that it applied (which
    /// `up` refuses); those applied that it reverted. Three queries.
    async fn against_the_adopted_tool(
        &self,
        client: &Client,
        history: &History,
        rows: &[StatusRow],
    ) -> Result<AgainstTheAdoptedTool, Error> {
        let Some(since) = self.applied_by_the_adopted_tool(client, history).await? else {
            return Ok(AgainstTheAdoptedTool::default());
        };
        let reverted: Vec<String> = rows
            .iter()
            .filter(|r| r.state == plan::State::Applied)
            .filter_map(|r| Some((Version::parse(r.version.as_deref()?)?, r)))
            .filter(|(version, _)| since.reverted.contains(version))
            .map(|(_, r)| shale_core::layout::versioned_label(r.version.as_deref().unwrap_or_default(), &r.name))
            .collect();

        let pending: Vec<String> = rows
            .iter()
            .filter(|r| matches!(r.state, plan::State::Pending | plan::State::OutOfOrder | plan::State::Failed))
            .filter_map(|r| Some((Version::parse(r.version.as_deref()?)?, &r.name)))
            .filter(|(version, _)| since.not_shale_s(version, history))
            .map(|(version, name)| shale_core::layout::versioned_label(&written_version(&self.set, version), name))
            .collect();

        // One the tool failed on is said as failed, not as run by both (golang-migrate counts the
        // version it stopped at as reached).
        let failed: Vec<Version> = since.failed.iter().filter_map(|key| Version::parse(key)).collect();
        // One the team recorded as the tool's run (`repair --applied`) is explained by that record,
        // whatever shale did with it since (reverted it, ran it again), unless the tool's row says
        // it ran it after (the Hasura trial: warned for good after a revert and an `up`).
        // (A migration taken over counts too: the tool reverted and applied it again since.)
        let mut migrations: Vec<String> = history
            .records
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Versioned | RecordKind::Adopted))
            .filter(|r| r.status == RecordStatus::Succeeded)
            .filter_map(|r| Some((Version::parse(&r.version).filter(|v| since.versions.contains(v))?, &r.name)))
            .filter(|(version, _)| !failed.contains(version) && !since.recorded_by_hand(version))
            .map(|(version, name)| shale_core::layout::versioned_label(&written_version(&self.set, version), name))
            .collect();
        let mut seen = std::collections::HashSet::new();
        migrations.retain(|label| seen.insert(label.clone()));
        Ok(AgainstTheAdoptedTool {
            ran_by_both: since.listing(migrations),
            applied: since.listing(pending),
            reverted: since.listing(reverted),
            failed: since.listing(since.failed.clone()),
        })
    }

    /// The user tables (the history table left out), with row estimates and sizes. One query.
    pub async fn inspect_tables(&self) -> Result<Vec<shale_pg::inspect::TableSummary>, Error> {
        let client = self.connect().await?;
        Ok(shale_pg::inspect::tables(&client, &self.config.history).await?)
    }

    /// One table's columns, constraints, indexes, triggers and foreign keys both ways. One query.
    pub async fn inspect_table(&self, name: &str) -> Result<Option<shale_pg::inspect::TableDetail>, Error> {
        let client = self.connect().await?;
        Ok(shale_pg::inspect::table(&client, name).await?)
    }

    /// The database's schema (system objects, extension-owned objects and this migrator's
    /// history table left out), read in one catalog query. See [`shale_schema::introspect()`].
    pub async fn schema(&self) -> Result<shale_schema::Schema, Error> {
        let client = self.connect().await?;
        let history = &self.config.history;
        Ok(shale_schema::introspect(&client, (&history.schema, &history.table)).await?)
    }

    /// The database as `plan` is judged against, exactly as `up` reads it: server version, the
    /// sizes of the tables the plan can reach, indexes. One query.
    pub async fn database_facts(&self, plan: &Plan) -> Result<shale_pg::inspect::DatabaseFacts, Error> {
        facts_for(&self.connect().await?, plan).await
    }

    /// The server's version as `server_version_num` (e.g. 150018).
    pub async fn server_version(&self) -> Result<u32, Error> {
        server_version(&self.connect().await?).await
    }

    /// What `up` would do, without taking the lock or changing anything.
    pub async fn plan_up(&self, request: &UpRequest) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        let plan = match plan_up(&self.set, &history, request) {
            Ok(plan) => plan,
            Err(e) => return Err(self.said_in_full(&client, &history, e).await),
        };
        if history.records.is_empty() && !plan.steps.is_empty() {
            self.refuse_over_foreign_history(&client).await?;
            self.refuse_over_existing_tables(&client, request, &plan).await?;
        }
        plan::check_own_tables(&plan, &self.own_tables()).map_err(Error::Plan)?;
        // What `up` would refuse, a dry run (and `validate`) refuses too.
        self.refuse_what_the_adopted_tool_applied(&client, &history, &plan).await?;
        Ok(plan)
    }

    /// What a dry run with something to apply says before the run, on one connection: the
    /// histories of tools whose migrations are code that changed since the baseline, as `up`
    /// reports them after a run (Django trial: a data migration it ran after the switch, whose
    /// SQL twin was pending, and the dry run said nothing); and whether the server is a standby,
    /// where `up` cannot run (operator trial).
    pub async fn before_a_run(&self) -> Result<BeforeARun, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        Ok(BeforeARun {
            changed_since_baseline: self.changed_since_baseline(&client, &history).await?,
            standby: in_recovery(&client).await?,
        })
    }

    /// The migrations not applied yet, whatever `up` would refuse (see [`plan::plan_pending`]):
    /// what a linter judges against this database. Reads the history only.
    pub async fn plan_pending(&self) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        Ok(plan::plan_pending(&self.set, &history))
    }

    /// A database another tool migrated, where shale has no history yet: running the migrations
    /// would run again what that tool applied.
    async fn refuse_over_foreign_history(&self, client: &Client) -> Result<(), Error> {
        let found = self.foreign_history_without_adoption(client).await?;
        if !found.is_empty() {
            // shale's own, elsewhere, is said first: then `adopt` is not the way (re-check).
            self.refuse_history_elsewhere(client).await?;
        }
        match found.as_slice() {
            [] => Ok(()),
            [table] => Err(Error::ForeignHistory {
                tool: table.tool,
                table: table.display(),
                adoptable: table.tool.adoptable_with(&self.set),
            }),
            several => Err(crate::adopt::foreign_histories(several)),
        }
    }

    /// The applied migrations whose file changed since in comments and white space alone (the SQL
    /// their run kept in the history is the file's but for them), by version. One query, made only
    /// where a file changed.
    async fn changed_in_comments_only(&self, client: &Client, history: &History) -> Result<Vec<Version>, Error> {
        let modified = plan::modified_records(&self.set, history);
        if modified.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = modified.iter().map(|(_, id)| *id).collect();
        let ran = self.config.history.up_sql_of(client, &ids).await?;
        Ok(modified
            .into_iter()
            .filter(|(version, id)| {
                let Some((_, sql)) = ran.iter().find(|(r, _)| r == id) else { return false };
                self.set.find(version).is_some_and(|m| plan::differs_in_comments_only(sql, m.up.own_text()))
            })
            .map(|(version, _)| version)
            .collect())
    }

    /// `error` with what the history says of it: a changed file's change, when it is in
    /// comments and white space only. Reading that failing, the error stays as it was.
    async fn said_in_full(&self, client: &Client, history: &History, error: Error) -> Error {
        let Error::Plan(mut problems) = error else { return error };
        if problems.iter().any(|p| matches!(p, PlanError::Modified { .. })) {
            let only = self.changed_in_comments_only(client, history).await.unwrap_or_default();
            for p in &mut problems {
                if let PlanError::Modified { label, in_comments_only, .. } = p {
                    let version = label.split(' ').next().and_then(Version::parse);
                    *in_comments_only = version.is_some_and(|v| only.contains(&v));
                }
            }
        }
        Error::Plan(problems)
    }

    /// See [`UpRequest::allow_over_existing_tables`]. The history was read empty before the lock:
    /// tables found, it is read again, since another runner may have applied the migrations that
    /// made them meanwhile (each commits its tables with its history row), and then nothing is
    /// wrong: `up` plans again under the lock.
    async fn refuse_over_existing_tables(
        &self,
        client: &Client,
        request: &UpRequest,
        plan: &Plan,
    ) -> Result<(), Error> {
        if request.allow_over_existing_tables {
            return Ok(());
        }
        let Some(refusal) = tables_without_history(client, plan).await? else { return Ok(()) };
        match self.config.history.load(client, false).await? {
            Some(history) if !history.records.is_empty() => Ok(()),
            // shale's own history in another schema built them, likelier than anything else.
            _ => {
                self.refuse_history_elsewhere(client).await?;
                Err(refusal)
            }
        }
    }

    /// The history table and its lease table: no migration may change them.
    fn own_tables(&self) -> plan::OwnTables {
        let history = &self.config.history;
        let (_, lease) = shale_pg::lease::lease_table(history);
        plan::OwnTables { schema: history.schema.clone(), tables: vec![history.table.clone(), lease] }
    }

    /// What `down` would do, without changing anything.
    pub async fn plan_down(&self, target: &Target) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, true, false).await?;
        plan::plan_down_generated(&self.set, &history, target, &self.generated_downs).map_err(Error::Plan)
    }

    /// The migrations a down to `target` would revert that have no down (no file, none in the
    /// history), oldest first.
    pub async fn missing_downs(&self, target: &Target) -> Result<Vec<shale_core::Version>, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, true, false).await?;
        plan::missing_downs(&self.set, &history, target).map_err(Error::Plan)
    }

    /// Apply pending migrations. With nothing to do this costs one round trip and takes no lock.
    pub async fn up(&self, request: &UpRequest, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        let started = Instant::now();
        let client = self.connect().await?;
        let (history, seen) = self.history(&client, false, false).await?;
        self.up_from(Opened { client, history, seen, started, pinned: None }, request, on_event).await
    }

    /// [`Migrator::up`] on a session that [`Opened::open`] began before the migration files
    /// were loaded: start-up then costs the longer of the two, not their sum. The history it
    /// read is only a first look: under the lock it is read again, as `up` always does.
    pub async fn up_from(
        &self,
        opened: Opened,
        request: &UpRequest,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let Opened { client, mut history, seen, started, pinned } = opened;
        if let (Some(pinned), Ok(mut mine)) = (pinned, self.pinned.lock()) {
            *mine = Some(pinned);
        }
        if seen {
            self.history_seen.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        // Read before the directory was (to overlap the two): what only the files tell is read now.
        self.fill_changed_sections(&client, &mut history).await?;
        let plan = match plan_up(&self.set, &history, request) {
            Ok(plan) => plan,
            // On a database another tool migrated, that comes first: what the plan finds wrong
            // (goose's Go migrations to run by hand) follows from not having taken it over.
            Err(e) if history.records.is_empty() => {
                self.refuse_over_foreign_history(&client).await?;
                return Err(e);
            }
            Err(e) => return Err(self.said_in_full(&client, &history, e).await),
        };
        if plan.steps.is_empty() {
            let mut report = RunReport::unchanged(&self.set, &history);
            // A database with no history table of shale's: one more query, for another tool's
            // (the no-op cost stays one round trip once shale has its table).
            if !seen && request.look_for_foreign_history {
                report.foreign = self.foreign_history_without_adoption(&client).await?;
            }
            return Ok(report);
        }
        plan::check_own_tables(&plan, &self.own_tables()).map_err(Error::Plan)?;
        self.refuse_what_the_adopted_tool_applied(&client, &history, &plan).await?;
        if history.records.is_empty() {
            self.refuse_over_foreign_history(&client).await?;
            self.refuse_over_existing_tables(&client, request, &plan).await?;
        }
        // Only on a run with something to apply (the no-op start stays one round trip).
        let changed_since_baseline = self.changed_since_baseline(&client, &history).await?;
        // Checked against the database it will run on: one query, only when there is something to run.
        let facts = match &request.vet {
            Some(vet) => {
                let facts = facts_for(&client, &plan).await?;
                (vet.0)(&plan, &facts).map_err(Error::Unsafe)?;
                facts
            }
            None => Default::default(),
        };
        // Planned again under the lock: this first look need not be held meanwhile (with 10,000
        // pending migrations it is megabytes).
        drop(plan);
        // Another runner may have applied them while this one waited: plan again under the lock.
        let mut report = self
            .under_lock(Some(client), on_event, async |session, on_event| {
                self.up_locked(session, request, &facts, on_event).await
            })
            .await?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        report.changed_since_baseline = changed_since_baseline;
        Ok(report)
    }

    async fn up_locked(
        &self,
        session: &LockedSession,
        request: &UpRequest,
        facts: &shale_pg::inspect::DatabaseFacts,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, false, true).await?;
        let plan = plan_up(&self.set, &history, request)?;
        // Vetted again: while this runner waited, the history may have changed the plan.
        if let Some(vet) = &request.vet {
            (vet.0)(&plan, facts).map_err(Error::Unsafe)?;
        }
        self.execute(session, &plan, request.single_transaction, on_event).await
    }

    /// Run the seed files that never ran or changed since (all with `force`), each in its own
    /// transaction with its history row. Refused while migrations are pending.
    pub async fn seed(&self, seeds: &MigrationSet, force: bool, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        // Like `up`: with nothing due (and nothing pending), one query and no lock.
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        let pending = plan_up(&self.set, &history, &UpRequest::default()).map(|p| p.steps.len()).unwrap_or(1);
        if pending == 0 && plan::plan_seeds(seeds, &history, force).steps.is_empty() {
            return Ok(RunReport::unchanged(&self.set, &history));
        }
        self.under_lock(Some(client), on_event, async |session, on_event| {
            self.seed_locked(session, seeds, force, on_event).await
        })
        .await
    }

    async fn seed_locked(
        &self,
        session: &LockedSession,
        seeds: &MigrationSet,
        force: bool,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, false, true).await?;
        let pending = plan_up(&self.set, &history, &UpRequest::default())?.steps.len();
        if pending > 0 {
            return Err(Error::SeedsBeforeMigrations { pending });
        }
        let plan = plan::plan_seeds(seeds, &history, force);
        self.execute(session, &plan, false, on_event).await
    }

    /// Revert applied migrations, newest first.
    pub async fn down(&self, target: &Target, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        self.under_lock(None, on_event, async |session, on_event| self.down_locked(session, target, on_event).await)
            .await
    }

    async fn down_locked(
        &self,
        session: &LockedSession,
        target: &Target,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, true, true).await?;
        let plan =
            plan::plan_down_generated(&self.set, &history, target, &self.generated_downs).map_err(Error::Plan)?;
        self.execute(session, &plan, false, on_event).await
    }

    /// Revert the newest applied migration and apply it again.
    pub async fn redo(&self, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        self.under_lock(None, on_event, async |session, on_event| self.redo_locked(session, on_event).await).await
    }

    async fn redo_locked(&self, session: &LockedSession, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, true, true).await?;
        let down = plan::plan_down_generated(&self.set, &history, &Target::Steps(1), &self.generated_downs)
            .map_err(Error::Plan)?;
        let Some(version) = down.steps.first().and_then(|s| s.version.clone()) else {
            return Err(Error::Invalid(match history.baseline() {
                Some(baseline) => format!(
                    "only the baseline (version {}) is applied, and a baseline is not reverted: there is nothing \
                     to redo until a migration after it is applied",
                    written_version(&self.set, baseline)
                ),
                None => "nothing is applied, so there is nothing to redo".into(),
            }));
        };
        let request = UpRequest {
            target: Some(Target::Version(version.clone())),
            allow_out_of_order: true,
            ..Default::default()
        };
        // Refuse before anything changes when the migration could not be applied again.
        if let Some(step) = down.steps.first().filter(|s| s.script.runs_nothing()) {
            return Err(Error::Invalid(format!(
                "the down of migration {} holds no statement: a redo would revert nothing and apply it again \
                 over its own changes; give it a down first (written, or generated from the schemas)",
                step.label()
            )));
        }
        if self.set.find(&version).is_none() {
            return Err(Error::Invalid(format!(
                "migration {version} has no file, so it could be reverted but not applied again; restore the file first"
            )));
        }
        let mut report = self.execute(session, &down, false, on_event).await?;
        let (history, _) = self.history(client, false, true).await?;
        let mut up = plan_up(&self.set, &history, &request)?;
        up.steps.retain(|s| s.version.as_ref() == Some(&version));
        report.steps.extend(self.execute(session, &up, false, on_event).await?.steps);
        Ok(report)
    }

    /// Move to exactly `version`: forward, it is `up` to it, with every check `up` makes (`request`: its
    /// vet, the refusals over another tool's history or tables already there); back, a `down` to
    /// it.
    pub async fn goto(
        &self,
        version: &Version,
        request: &UpRequest,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let started = Instant::now();
        let client = self.connect().await?;
        let (history, seen) = self.history(&client, false, false).await?;
        if history.current_version().is_none_or(|c| &c <= version) {
            // On the session and the history just read, as `up` goes on from them.
            let to = UpRequest { target: Some(Target::Version(version.clone())), ..request.clone() };
            return self.up_from(Opened { client, history, seen, started, pinned: None }, &to, on_event).await;
        }
        self.under_lock(Some(client), on_event, async |session, on_event| {
            self.goto_locked(session, version, on_event).await
        })
        .await
    }

    /// Down to `version`, read again under the lock: another runner may have moved the database
    /// meanwhile (below it, nothing is left to do).
    async fn goto_locked(
        &self,
        session: &LockedSession,
        version: &Version,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, true, true).await?;
        if history.current_version().is_none_or(|c| &c <= version) {
            return Ok(RunReport::unchanged(&self.set, &history));
        }
        let target = Target::Version(version.clone());
        let plan =
            plan::plan_down_generated(&self.set, &history, &target, &self.generated_downs).map_err(Error::Plan)?;
        self.execute(session, &plan, false, on_event).await
    }

    /// Mark an existing database as being at `version` without running anything.
    pub async fn baseline(
        &self,
        version: &Version,
        reason: Option<&str>,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        self.under_lock(None, on_event, async |session, _| {
            self.baseline_locked(&session.client, &session.lock, version, reason).await
        })
        .await
    }

    async fn baseline_locked(
        &self,
        client: &Client,
        lock: &HeldLock,
        version: &Version,
        reason: Option<&str>,
    ) -> Result<RunReport, Error> {
        let (history, _) = self.history(client, false, true).await?;
        if let Some(current) = history.current_version() {
            return Err(Error::Invalid(format!(
                "the database already has migration history (at version {current}); baseline is for a database that has none yet"
            )));
        }
        let name = self.set.find(version).map(|m| m.name.clone()).unwrap_or_else(|| "baseline".into());
        // Its file's checksum: a change to it afterwards shows here as on a database it built.
        let record = NewRecord {
            version: version.canonical(),
            name: &name,
            kind: RecordKind::Baseline,
            checksum: self.set.find(version).map(|m| m.checksum.as_str()),
            up_sql: None,
            down_sql: None,
            status: RecordStatus::Succeeded,
            reason,
            statements_done: None,
            path: self.set.find(version).map(|m| m.file.as_str()),
        };
        // The files it covers: one added under it later never ran here (`plan::covered`).
        // Those shale cannot run (goose's Go files) and the old tool's code migrations too: ported
        // to SQL later, as shale asks, such a file ran here as code (review).
        let sql = self.set.migrations.iter().filter_map(|m| m.version.as_ref());
        let code =
            self.set.unrunnable.iter().map(|u| &u.version).chain(self.set.code_migrations.iter().map(|c| &c.version));
        let covered = sql.chain(code).filter(|v| *v <= version);
        let reason = shale_core::plan::covered::covered_reason(version, covered);
        let covered_row = crate::adopt::succeeded(
            RecordKind::Audit,
            String::new(),
            shale_core::plan::covered::COVERED_ROW_NAME,
            &reason,
        );
        // Another tool's history left as it was (Alembic's, Django's, node-pg-migrate's of
        // JavaScript modules: a history shale took over would have refused the baseline): what it
        // holds now, so that `status` sees it change if that tool still migrates here.
        let mut left = shale_pg::foreign::detect(client, None).await?;
        left.retain(|t| t.in_search_path && !self.own_table(t));
        let mut left_rows = Vec::new();
        for table in &left {
            let Some(fingerprint) = shale_pg::foreign::fingerprint(client, table).await? else { continue };
            let name = table.display();
            let reason = shale_core::adopt::left_at_baseline_reason(table.tool, &name, &fingerprint);
            left_rows.push((name, reason));
        }
        // Named by the table: one row kept per history left (the history keeps one per name).
        let left_audits = left_rows
            .iter()
            .map(|(name, reason)| crate::adopt::succeeded(RecordKind::Audit, String::new(), name, reason));
        // All in one transaction: a baseline without its covered list would take a file added
        // under it later for one that ran here.
        let rows: Vec<NewRecord> = [record, covered_row].into_iter().chain(left_audits).collect();
        self.write_all(client, &rows, lock).await?;
        Ok(RunReport::default())
    }

    /// Record the histories of tools whose migrations are code (Django's, Alembic's, Rails', ...)
    /// that changed since the baseline, or appeared in a database shale built, as they are now:
    /// their changes are accounted for (recorded without running, as Django's `migrate --fake`
    /// does; or written as migrations with `drift --fix --direction adopt`), and the warning
    /// returns only when they change again (Django trial: the docs' `migrate --fake` made it fire
    /// on every deploy, with dropping Django's table the only way to end it). Returns the
    /// histories recorded; none where none had changed. A tool whose migrations are SQL files,
    /// which ran them here a second time, is not accepted (left, and still warned about): its
    /// table is to be dropped. The schema is not compared: `drift` shows what the tool changed.
    pub async fn accept_other_history(
        &self,
        reason: &str,
        on_event: OnEvent<'_>,
    ) -> Result<crate::adopt::AcceptedHistories, Error> {
        if reason.trim().is_empty() {
            return Err(Error::Repair(RepairRefusal::NoReason));
        }
        self.holding_lock(None, on_event, async |session, _| {
            let client = &session.client;
            let (history, _) = self.history(client, true, true).await?;
            let (left, changed): (Vec<_>, Vec<_>) = self
                .changed_since_baseline(client, &history)
                .await?
                .into_iter()
                .partition(|c| c.baseline_at.is_none() && c.tool.migrations_are_sql());
            for c in &changed {
                let (schema, name) = c.table.split_once('.').unwrap_or(("public", c.table.as_str()));
                let table = shale_pg::foreign::ForeignTable {
                    tool: c.tool,
                    schema: schema.into(),
                    table: name.into(),
                    in_search_path: true,
                };
                let Some(fingerprint) = shale_pg::foreign::fingerprint(client, &table).await? else { continue };
                let reason = shale_core::adopt::accepted_reason(c.tool, &c.table, &fingerprint, reason);
                let audit = crate::adopt::succeeded(RecordKind::Audit, String::new(), &c.table, &reason);
                self.write(client, &audit, &session.lock).await?;
            }
            Ok(crate::adopt::AcceptedHistories { accepted: changed, left })
        })
        .await
    }

    /// Record a human decision about a failed, modified or missing migration, as an audit row.
    ///
    /// Recording a decision that contradicts a healthy history (an applied migration whose file
    /// is unchanged marked rolled back, which makes the next `up` run it again) needs `force`.
    /// `Applied` for a migration whose file is gone records it as applied with no file (removed
    /// on purpose); for one applied with its file unchanged there is nothing to record.
    pub async fn repair(
        &self,
        version: &Version,
        decision: RepairDecision,
        reason: &str,
        force: bool,
        on_event: OnEvent<'_>,
    ) -> Result<RepairReport, Error> {
        if reason.trim().is_empty() {
            return Err(Error::Repair(RepairRefusal::NoReason));
        }
        if plan::is_file_removed_reason(reason) {
            return Err(Error::Invalid(
                "the reason ends with the words shale writes for a file removed on purpose; say it in other words"
                    .into(),
            ));
        }
        self.holding_lock(None, on_event, async |session, _| {
            self.repair_locked(&session.client, &session.lock, version, decision, reason, force).await
        })
        .await
    }

    async fn repair_locked(
        &self,
        client: &Client,
        lock: &HeldLock,
        version: &Version,
        decision: RepairDecision,
        reason: &str,
        force: bool,
    ) -> Result<RepairReport, Error> {
        let (history, _) = self.history(client, true, true).await?;
        let file = self.set.find(version);
        // Taken over by `adopt` counts as applied here as much as run by shale: the same refusal
        // guards it, and its row is found when its file is gone.
        let record: Option<&AppliedRecord> = history.records.iter().find(|r| {
            matches!(r.kind, RecordKind::Versioned | RecordKind::Repair | RecordKind::Adopted)
                && Version::parse(&r.version).as_ref() == Some(version)
        });
        let unrunnable = self.set.find_unrunnable(version);
        // As its file writes it (`0002`), as status shows it.
        let shown = written_version(&self.set, version.clone());
        let in_code = self.set.code_migrations.iter().any(|c| &c.version == version);
        if file.is_none() && record.is_none() && unrunnable.is_none() && !in_code {
            return Err(Error::Invalid(format!("no migration has version {shown}, in the files or in the history")));
        }
        let go_pending = unrunnable.filter(|_| !record.is_some_and(|r| r.status == RecordStatus::Succeeded));
        if let (Some(go), RepairDecision::Applied, false) = (go_pending, decision, force) {
            let pending = plan::plan_pending(&self.set, &history);
            let earlier: Vec<&Step> =
                pending.steps.iter().filter(|s| s.version.as_ref().is_some_and(|v| v < &go.version)).collect();
            if let Some(last) = earlier.last() {
                return Err(Error::Repair(RepairRefusal::EarlierPending {
                    version: shown,
                    pending: earlier.len(),
                    before: last.version_text.clone(),
                }));
            }
        }
        let healthy = record.is_some_and(|r| {
            r.status == RecordStatus::Succeeded
                && file.is_some_and(|f| r.checksum.as_deref().is_none_or(|c| c == f.checksum.as_str()))
        });
        if decision == RepairDecision::RolledBack && healthy && !force {
            return Err(Error::Repair(RepairRefusal::Healthy { version: shown.clone() }));
        }
        let mut report = RepairReport { version: shown.clone(), decision, recorded: false, without_file: false };
        // Applied already, as the decision says: its file unchanged, or none and none expected;
        // and no down of it stopped part-way (a repair row is what ends that).
        let applied = record.is_some_and(|r| {
            r.status == RecordStatus::Succeeded
                && file.is_none()
                && (unrunnable.is_some() || plan::applied_without_file(r))
        });
        let down_stopped = record.is_some_and(|r| plan::down_stopped_part_way(&history, r));
        if decision == RepairDecision::Applied && (healthy || applied) && !down_stopped {
            // Unless the tool whose history shale took over says it ran it too: recorded, the
            // team's word on it ends the warning that it ran twice (Hasura and golang-migrate
            // trials: checked, and nothing could end it).
            let since = self.applied_by_the_adopted_tool(client, &history).await?;
            if !since.is_some_and(|s| s.versions.contains(version) && !s.recorded_by_hand(version)) {
                return Ok(report);
            }
        }
        // Applied with no file: its file was removed on purpose, so it no longer counts as missing.
        report.without_file = decision == RepairDecision::Applied && file.is_none() && unrunnable.is_none();
        let reason = match report.without_file {
            true => shale_core::plan::file_removed_reason(reason),
            false => reason.to_string(),
        };
        if let RepairDecision::ResumeAt(at) = decision {
            let Some(m) = file.filter(|m| m.up.no_transaction.is_some()) else {
                return Err(Error::Repair(RepairRefusal::NotPartWay {
                    version: shown.clone(),
                    has_file: file.is_some(),
                }));
            };
            if !record.is_some_and(|r| matches!(r.status, RecordStatus::Failed | RecordStatus::Running)) {
                return Err(Error::Invalid(format!(
                    "migration {shown} did not stop part-way (its last attempt did not fail): nothing to resume"
                )));
            }
            let total = m.up.statements.len();
            if at == 0 || at > total + 1 {
                return Err(Error::Repair(RepairRefusal::ResumeOutOfRange { version: shown.clone(), at, total }));
            }
        }
        let name = file
            .map(|m| m.name.clone())
            .or_else(|| unrunnable.map(|u| u.name.clone()))
            .or_else(|| record.map(|r| r.name.clone()))
            .unwrap_or_default();
        let up =
            file.map(|m| m.up.own_text_shared()).or_else(|| record.and_then(|r| r.up_sql.as_deref().map(Into::into)));
        let down = file
            .and_then(|m| m.down.as_ref().map(|d| d.own_text_shared()))
            .or_else(|| record.and_then(|r| r.down_sql.as_deref().map(Into::into)));
        let checksum = file.map(|m| m.checksum.0.clone()).or_else(|| record.and_then(|r| r.checksum.clone()));
        let entry = NewRecord {
            version: version.canonical(),
            name: &name,
            kind: RecordKind::Repair,
            checksum: checksum.as_deref(),
            up_sql: up.as_deref(),
            down_sql: down.as_deref(),
            status: match decision {
                RepairDecision::Applied => RecordStatus::Succeeded,
                RepairDecision::RolledBack => RecordStatus::RolledBack,
                // A failed attempt that got this far: `up` resumes after it, with nothing in doubt.
                RepairDecision::ResumeAt(_) => RecordStatus::Failed,
            },
            reason: Some(&reason),
            statements_done: match decision {
                RepairDecision::ResumeAt(at) => Some(at as i32 - 1),
                _ => None,
            },
            path: file
                .map(|m| m.file.as_str())
                .or_else(|| unrunnable.map(|u| u.file.as_str()))
                .or_else(|| record.and_then(|r| r.path.as_deref())),
        };
        self.write(client, &entry, lock).await?;
        report.recorded = true;
        Ok(report)
    }

    /// Writes a history row behind the lock's fence: nothing is recorded unless the lock is held.
    async fn write(&self, client: &Client, record: &NewRecord<'_>, lock: &HeldLock) -> Result<(), Error> {
        self.write_all(client, std::slice::from_ref(record), lock).await
    }

    /// Writes history rows in one transaction behind the lock's fence: all of them or none.
    pub(crate) async fn write_all(
        &self,
        client: &Client,
        records: &[NewRecord<'_>],
        lock: &HeldLock,
    ) -> Result<(), Error> {
        let inserts: Vec<String> = records.iter().map(|r| self.config.history.insert_sql(r, None, false)).collect();
        let sql = format!("BEGIN;\n{};\n{};\nCOMMIT", lock.commit_fence(), inserts.join(";\n"));
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            if e.code().is_some_and(|c| c.code() == shale_pg::lease::FENCE_SQLSTATE) {
                return Err(Error::LockLost { applied: Vec::new(), stopped: None, outside_transaction: false });
            }
            return Err(shale_pg::PgError::query("writing the history", e).into());
        }
        Ok(())
    }

    /// Connect (unless `client` is given), take the migration lock, run `work` under it, then
    /// release it whatever happened: the one place a command holds the lock.
    pub(crate) async fn holding_lock<T>(
        &self,
        client: Option<Client>,
        on_event: OnEvent<'_>,
        work: impl AsyncFnOnce(&LockedSession, OnEvent<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let client = match client {
            Some(c) => c,
            None => self.connect().await?,
        };
        let lock = self.lock(on_event).await?;
        let session = LockedSession { client, lock, started };
        let result = work(&session, on_event).await;
        let released = session.lock.release().await;
        let value = result?;
        released?;
        Ok(value)
    }

    /// [`Migrator::holding_lock`] for the commands that run migrations or write the history: the
    /// report says where the database stands after `work`.
    async fn under_lock(
        &self,
        client: Option<Client>,
        on_event: OnEvent<'_>,
        work: impl AsyncFnOnce(&LockedSession, OnEvent<'_>) -> Result<RunReport, Error>,
    ) -> Result<RunReport, Error> {
        self.holding_lock(client, on_event, async |session, on_event| {
            let mut report = work(session, on_event).await?;
            // Read while the lock is held, so it is this run's result, not another runner's.
            report.current_version = self.current_version(&session.client).await?;
            report.duration_ms = session.started.elapsed().as_millis() as u64;
            Ok(report)
        })
        .await
    }

    fn interrupted(&self) -> bool {
        self.config.interrupt.as_ref().is_some_and(|i| i.requested())
    }

    /// A tenant schema target sets its search_path inside each migration's transaction, which
    /// holds through any pooler. A migration that runs outside a transaction cannot carry it that
    /// way: its statements rely on the session's search_path, which only the connection's startup
    /// packet sets for every server session serving it. If that setting did not arrive (a pooler
    /// dropped the `options` parameter, as PgBouncer does with `ignore_startup_parameters`), a
    /// statement could run in another server session, in another schema: refused before anything
    /// runs.
    async fn check_schema_is_pinned(&self, client: &Client, plan: &Plan) -> Result<(), Error> {
        let Some(schema) = &self.config.session.search_path else {
            return Ok(());
        };
        let Some(step) = plan.steps.iter().find(|s| s.script.no_transaction.is_some()) else {
            return Ok(());
        };
        let rows = shale_pg::lock::simple_rows(client, "SHOW search_path", "reading the search_path").await?;
        let current = rows.first().and_then(|r| r.first()).cloned().unwrap_or_default();
        if current.trim_matches('"').replace("\"\"", "\"") == *schema {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "{}: migration {} runs outside a transaction, so its statements rely on the session's search_path, \
             but this connection did not keep the one shale sets at connection time (search_path is {current:?}, not schema {schema:?}): \
             a transaction-mode pooler that drops the `options` startup parameter is in the way, and a statement could run in another \
             server session, in another schema. Nothing was run for this target. Run it over a direct connection to the server, \
             or schema-qualify the names in that file",
            step.script.path.display(),
            step.label()
        )))
    }

    async fn current_version(&self, client: &Client) -> Result<Option<String>, Error> {
        self.config.history.check().map_err(Error::Invalid)?;
        Ok(self.config.history.current_version(client).await?.map(|v| written_version(&self.set, v)))
    }

    async fn execute(
        &self,
        session: &LockedSession,
        plan: &Plan,
        single_transaction: bool,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        plan::check_own_tables(plan, &self.own_tables()).map_err(Error::Plan)?;
        self.check_schema_is_pinned(client, plan).await?;
        let executor = Executor {
            client,
            history: &self.config.history,
            options: self.config.exec.clone(),
            session: &self.config.session,
            settings: &self.config.connection,
            interrupt: self.config.interrupt.as_ref(),
            commit_fence: session.lock.commit_fence(),
        };
        on_event(Event::Planned { steps: plan.steps.len() });
        let mut forward = |e: ExecEvent| on_event(Event::Exec(e));
        let mut report = RunReport::default();
        if single_transaction && !plan.steps.is_empty() {
            session.lock.ensure_held()?;
            executor.run_in_transaction(&plan.steps, &mut forward).await.map_err(|e| match e {
                shale_pg::PgError::LockLost => Error::LockLost {
                    applied: Vec::new(),
                    stopped: Some("the batch run as one transaction".into()),
                    outside_transaction: false,
                },
                other => other.into(),
            })?;
            report.steps = plan.steps.iter().map(|s| step_report(s, None)).collect();
            return Ok(report);
        }
        for step in &plan.steps {
            // Never run a step unguarded: if the lock's session died, another runner may be going.
            // (The commit fence is what guarantees it; this only saves starting a doomed step.)
            let started = Instant::now();
            let applied = || report.steps.iter().map(|s| s.label()).collect::<Vec<_>>();
            if self.interrupted() {
                return Err(Error::Interrupted { applied: applied(), stopped: None });
            }
            let ran = match session.lock.ensure_held() {
                Ok(()) => executor.run_step(step, &mut forward).await,
                Err(e) => Err(e),
            };
            match ran {
                Ok(()) => report.steps.push(step_report(step, Some(started.elapsed().as_millis() as u64))),
                Err(shale_pg::PgError::Migration { label, failure })
                    if self.interrupted() && failure.sqlstate == "57014" =>
                {
                    return Err(Error::Interrupted {
                        applied: applied(),
                        stopped: Some(crate::Stopped::Cancelled { label, failure }),
                    })
                }
                Err(shale_pg::PgError::Interrupted(wait)) => {
                    return Err(Error::Interrupted { applied: applied(), stopped: Some(crate::Stopped::Waiting(wait)) })
                }
                Err(shale_pg::PgError::LockLost) => {
                    return Err(Error::LockLost {
                        applied: report.steps.iter().map(|s| s.label()).collect(),
                        stopped: Some(step.label()),
                        outside_transaction: step.script.no_transaction.is_some(),
                    })
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }
}

/// Whether the server is a standby (in recovery).
async fn in_recovery(client: &Client) -> Result<bool, Error> {
    let role = shale_pg::server_role(client)
        .await
        .map_err(|e| shale_pg::PgError::query("reading whether the server is a standby", e))?;
    Ok(role.is_some_and(|r| r.in_recovery))
}

/// `server_version_num`, e.g. 150018.
async fn server_version(client: &Client) -> Result<u32, Error> {
    let rows = client
        .simple_query("SHOW server_version_num")
        .await
        .map_err(|e| shale_pg::PgError::query("reading the server version", e))?;
    Ok(rows
        .iter()
        .find_map(|m| match m {
            shale_pg::tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .unwrap_or(0))
}

fn plan_up(set: &MigrationSet, history: &History, request: &UpRequest) -> Result<Plan, Error> {
    let options = UpOptions {
        target: request.target.clone().unwrap_or(Target::All),
        allow_out_of_order: request.allow_out_of_order,
    };
    let mut plan = plan::plan_up(set, history, &options).map_err(Error::Plan)?;
    plan.split_scripts().map_err(Error::Load)?;
    Ok(plan)
}

/// A database shale has no history in (and no other tool's history was found in) that holds
/// tables the plan's migrations create: see [`UpRequest::allow_over_existing_tables`].
async fn tables_without_history(client: &Client, plan: &Plan) -> Result<Option<Error>, Error> {
    let created: Vec<((Option<String>, String), String)> =
        plan.steps.iter().flat_map(|s| s.tables_expected_absent().into_iter().map(|t| (t, s.label()))).collect();
    let mut names: Vec<(Option<String>, String)> = created.iter().map(|(t, _)| t.clone()).collect();
    names.sort();
    names.dedup();
    let existing = shale_pg::foreign::existing_tables(client, &names).await?;
    if existing.is_empty() {
        return Ok(None);
    }
    let tables: Vec<(String, String)> = existing
        .into_iter()
        .map(|table| {
            let name = table.rsplit_once('.').map_or(table.as_str(), |(_, n)| n);
            let by = created.iter().find(|((_, t), _)| t == name).map(|(_, label)| label.clone()).unwrap_or_default();
            (table.clone(), by)
        })
        .collect();
    Ok(Some(Error::TablesWithoutHistory { tables }))
}

/// The facts `plan` is judged against: the schemas on the session's search path and those its
/// statements name, not every schema of the database.
async fn facts_for(client: &Client, plan: &Plan) -> Result<shale_pg::inspect::DatabaseFacts, Error> {
    Ok(shale_pg::inspect::facts(client, &plan.named_schemas()).await?)
}

/// The newest applied version as shown to users.
/// `version` as its migration's file writes it (`0005`), as steps and status rows show it; the
/// canonical form (`5`) for a version with no file.
pub(crate) fn written_version(set: &MigrationSet, version: Version) -> String {
    match (set.find(&version), set.find_unrunnable(&version)) {
        (Some(m), _) => m.version_text.clone(),
        // A goose migration written in Go, applied by goose: its file writes it too.
        (None, Some(go)) => go.version_text.clone(),
        (None, None) => version.canonical(),
    }
}

fn version_text(set: &MigrationSet, history: &History) -> Option<String> {
    history.current_version().map(|v| match set.find(&v).is_none() && set.find_unrunnable(&v).is_none() {
        // Its file gone: as the file the history recorded wrote it.
        true => history.written_version(&v),
        false => written_version(set, v),
    })
}

impl RunReport {
    /// Nothing ran: the database stays where the history says.
    fn unchanged(set: &MigrationSet, history: &History) -> RunReport {
        RunReport { current_version: version_text(set, history), ..Default::default() }
    }
}

impl StepReport {
    /// `VERSION NAME`, or the name alone for a repeatable or seed.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => shale_core::layout::versioned_label(v, &self.name),
            None => self.name.clone(),
        }
    }
}

fn step_report(step: &Step, duration_ms: Option<u64>) -> StepReport {
    StepReport {
        version: step.version.as_ref().map(|_| step.version_text.clone()),
        name: step.name.clone(),
        kind: step.kind,
        direction: step.direction,
        path: step.script.path.clone(),
        transactional: step.script.no_transaction.is_none(),
        duration_ms,
    }
}
