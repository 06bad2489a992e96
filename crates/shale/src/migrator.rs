use std::time::{Duration, Instant};

use shale_core::layout::CallbackEvent;
use shale_core::plan::{self, AppliedRecord, History, Plan, RecordStatus, UpOptions};
use shale_core::{MigrationSet, Target, Version};
use shale_pg::{
    connect_waiting_reaching, Client, ConnectionSettings, ExecEvent, ExecOptions, Executor, HeldLock, HistoryTable,
    LockEvent, LockHolder, LockKind, LockOptions, SessionSettings,
};

use crate::Error;

mod records;
mod refusals;
mod report;
mod status;

pub(crate) use report::written_version;
use report::{step_report, version_text};
pub use report::{
    BeforeARun, BeforeAdoption, EmptyUp, RanByBoth, RepairDecision, RepairReport, RunReport, StatusReport, StepReport,
};
use status::facts_for;

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
    /// Told while `connect_wait` retries (the CLI prints it).
    pub connect_wait_notice: Option<shale_pg::ConnectWaitNotice>,
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
            connect_wait_notice: None,
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
    /// Before a run applies anything: the other tools still migrating here (as
    /// [`RunReport::changed_since_baseline`]), said first, where a deploy's log shows it before
    /// what may run twice (MikroORM trial: said after the migration had run).
    OtherToolsMigrating(Vec<crate::adopt::ChangedSinceBaseline>),
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

pub(crate) struct LockedSession {
    pub(crate) client: Client,
    pub(crate) lock: HeldLock,
    started: Instant,
}

pub struct Migrator {
    /// The migrations as the files number them. Shared, so a fleet loads the files once for all
    /// its targets.
    files: std::sync::Arc<MigrationSet>,
    /// [`Migrator::set`].
    numbered: std::sync::RwLock<std::sync::Arc<MigrationSet>>,
    pub config: MigratorConfig,
    /// Downs for migrations that have none, computed from the schemas before and after each
    /// (`shale down --generate`); recorded in the history with the row they revert.
    pub generated_downs: shale_core::GeneratedDowns,
    /// Other tools' history tables named by the user (`baseline --table`), each found whatever its
    /// name says, as the tool its columns are: a baseline leaves them out and watches them
    /// (review: a Kysely history under `app_hist`, named with `adopt --table`, was written into the
    /// baseline, which the advice said it would leave out).
    pub named_histories: Vec<String>,
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
        if let Some(numbered) = plan::numbering::numbered_as_recorded(set, &self.history) {
            *set = numbered;
        }
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
        let files = set.into();
        Migrator {
            numbered: std::sync::RwLock::new(std::sync::Arc::clone(&files)),
            files,
            config,
            generated_downs: Default::default(),
            named_histories: Vec::new(),
            history_seen: Default::default(),
            pinned: Default::default(),
        }
    }

    /// The migrations, numbered as the history last read numbers them: as their files do, but
    /// where a Liquibase changeset was added before applied ones since
    /// ([`shale_core::plan::numbering`]).
    pub fn set(&self) -> std::sync::Arc<MigrationSet> {
        self.numbered.read().map_or_else(|_| std::sync::Arc::clone(&self.files), |set| std::sync::Arc::clone(&set))
    }

    /// Run with `set` from now on (`up --archive`'s: the files a squash replaced, read again).
    pub fn replace_set(&mut self, set: impl Into<std::sync::Arc<MigrationSet>>) {
        self.files = set.into();
        self.numbered = std::sync::RwLock::new(std::sync::Arc::clone(&self.files));
    }

    /// Number the migrations as `history` recorded them (see [`Migrator::set`]): every command
    /// reads the history before it plans, so each plans with the numbers of the history it read.
    fn number_as(&self, history: &History) {
        let numbered = shale_core::plan::numbering::numbered_as_recorded(&self.files, history)
            .map_or_else(|| std::sync::Arc::clone(&self.files), std::sync::Arc::new);
        if let Ok(mut set) = self.numbered.write() {
            *set = numbered;
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
        let (client, reached) = connect_waiting_reaching(
            &self.config.connection,
            &self.config.session,
            self.config.connect_wait,
            self.config.connect_wait_notice.as_ref(),
        )
        .await?;
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
                self.number_as(&h);
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
        let set = self.set();
        let sectioned: std::collections::HashMap<&Version, &shale_core::Migration> = set
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
        self.number_as(&history);
        self.fill_changed_sections(&client, &mut history).await?;
        let plan = match plan_up(&self.set(), &history, request) {
            Ok(plan) => plan,
            // On a database another tool migrated, that comes first: what the plan finds wrong
            // (goose's Go migrations to run by hand) follows from not having taken it over.
            Err(e) if history.records.is_empty() => {
                self.refuse_over_foreign_history(&client).await?;
                return Err(e);
            }
            Err(e) => return Err(self.said_in_full(&client, &history, e).await),
        };
        // Flyway's callbacks that run at every `up` (afterMigrate) take the lock, as Flyway's do.
        let set = self.set();
        let callbacks_due = set.callbacks.iter().any(|c| c.event.runs_when_nothing_is_applied());
        if plan.steps.is_empty() {
            let mut report = RunReport::unchanged(&set, &history);
            // A database with no history table of shale's: one more query, for another tool's
            // (the no-op cost stays one round trip once shale has its table).
            if !seen && request.look_for_foreign_history {
                report.foreign = self.foreign_history_without_adoption(&client).await?;
            }
            let (changed, since) = self.other_tools_since(&client, &history).await?;
            report.changed_since_baseline = changed;
            report.reverted_by_the_other_tool = since.reverted;
            report.ran_by_both = since.ran_by_both;
            if callbacks_due {
                let ran = self
                    .holding_lock(Some(client), on_event, async |session, _| {
                        let before = self.run_callbacks(session, &[CallbackEvent::BeforeMigrate], &[]).await?;
                        let after = self.run_callbacks(session, CallbackEvent::after_an_up(false), &[]).await?;
                        Ok([before, after].concat())
                    })
                    .await?;
                report.callbacks = ran;
            }
            return Ok(report);
        }
        plan::check_own_tables(&plan, &self.own_tables()).map_err(Error::Plan)?;
        // The adopted tool's record since, read once: what it applied refuses the run, what it
        // reverted is said after it.
        let adopted_since = self.refuse_what_the_adopted_tool_applied(&client, &history, &plan).await?;
        if history.records.is_empty() {
            self.refuse_over_foreign_history(&client).await?;
            self.refuse_over_existing_tables(&client, request, &plan).await?;
        }
        // A database shale built that another tool's history appeared in is looked at too.
        let changed_since_baseline = self.changed_since_baseline(&client, &history, true).await?;
        if !changed_since_baseline.is_empty() {
            on_event(Event::OtherToolsMigrating(changed_since_baseline.clone()));
        }
        let reverted_by_the_other_tool =
            adopted_since.and_then(|since| since.reverted_of(&plan::status(&self.set(), &history)));
        self.refuse_requirements_elsewhere(&client, &plan).await?;
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
        let seen_up_to = history.records.iter().map(|r| r.id).max().unwrap_or(0);
        // Another runner may have applied them while this one waited: plan again under the lock.
        let mut report = self
            .under_lock(Some(client), on_event, async |session, on_event| {
                self.up_locked(session, request, (&facts, seen_up_to), on_event).await
            })
            .await?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        report.changed_since_baseline = changed_since_baseline;
        report.reverted_by_the_other_tool = reverted_by_the_other_tool;
        report.empty_ups = EmptyUp::of_run(&self.set(), &report.steps);
        Ok(report)
    }

    /// `seen_up_to`: the newest history record read before waiting for the lock.
    async fn up_locked(
        &self,
        session: &LockedSession,
        request: &UpRequest,
        (facts, seen_up_to): (&shale_pg::inspect::DatabaseFacts, i64),
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, false, true).await?;
        let plan = plan_up(&self.set(), &history, request)?;
        if let Some((label, record)) = plan::failed_since(&plan, &history, seen_up_to) {
            let (at, error) = (record.applied_at.clone(), record.error.clone());
            return Err(Error::FailedInAnotherRunner { label, at, error });
        }
        // Vetted again: while this runner waited, the history may have changed the plan.
        if let Some(vet) = &request.vet {
            (vet.0)(&plan, facts).map_err(Error::Unsafe)?;
        }
        let before = self.run_callbacks(session, &[CallbackEvent::BeforeMigrate], &[]).await?;
        let mut report = self.execute(session, &plan, request.single_transaction, on_event).await?;
        let after = CallbackEvent::after_an_up(!report.steps.is_empty());
        let applied: Vec<String> = report.steps.iter().map(|s| s.label()).collect();
        let after = self.run_callbacks(session, after, &applied).await?;
        report.callbacks = [before, after].concat();
        Ok(report)
    }

    /// Run the Flyway callbacks of `events`, in that order (each event's in the order of their
    /// files), each in a transaction of its own, recorded nowhere: their files, as they ran.
    /// `applied`: the migrations this run applied, for a stop's report.
    async fn run_callbacks(
        &self,
        session: &LockedSession,
        events: &[CallbackEvent],
        applied: &[String],
    ) -> Result<Vec<String>, Error> {
        let set = self.set();
        let mut ran = Vec::new();
        for event in events {
            for callback in set.callbacks.iter().filter(|c| c.event == *event) {
                // A stop asked for while this run waited for the lock, or ran what came before.
                if self.interrupted() {
                    return Err(Error::Interrupted { applied: applied.to_vec(), stopped: None });
                }
                session.lock.ensure_held()?;
                let step = plan::Step {
                    direction: shale_core::StepDirection::Up,
                    kind: shale_core::MigrationKind::Repeatable,
                    version: None,
                    version_text: String::new(),
                    name: callback.file.clone(),
                    script: std::sync::Arc::clone(&callback.script),
                    up_sql: "".into(),
                    down_sql: None,
                    checksum: None,
                    resume_from: 0,
                    file: Some(callback.file.clone()),
                    resume_in_doubt: false,
                    resume_cursor: None,
                };
                let label = format!("the Flyway callback {} ({})", callback.file, event.name());
                self.executor(session).run_callback(&step, &label).await?;
                ran.push(callback.file.clone());
            }
        }
        Ok(ran)
    }

    /// The executor of a run holding the migration lock on `session`.
    fn executor<'s>(&'s self, session: &'s LockedSession) -> Executor<'s> {
        Executor {
            client: &session.client,
            history: &self.config.history,
            options: self.config.exec.clone(),
            session: &self.config.session,
            settings: &self.config.connection,
            interrupt: self.config.interrupt.as_ref(),
            commit_fence: session.lock.commit_fence(),
        }
    }

    /// Run the seed files that never ran or changed since (all with `force`), each in its own
    /// transaction with its history row. Refused while migrations are pending.
    pub async fn seed(&self, seeds: &MigrationSet, force: bool, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        // Like `up`: with nothing due (and nothing pending), one query and no lock.
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        let pending = plan_up(&self.set(), &history, &UpRequest::default()).map(|p| p.steps.len()).unwrap_or(1);
        if pending == 0 && plan::plan_seeds(seeds, &history, force).steps.is_empty() {
            return Ok(RunReport::unchanged(&self.set(), &history));
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
        let pending = plan_up(&self.set(), &history, &UpRequest::default())?.steps.len();
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
            plan::plan_down_generated(&self.set(), &history, target, &self.generated_downs).map_err(Error::Plan)?;
        self.execute(session, &plan, false, on_event).await
    }

    /// Revert the newest applied migration and apply it again.
    pub async fn redo(&self, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        self.under_lock(None, on_event, async |session, on_event| self.redo_locked(session, on_event).await).await
    }

    async fn redo_locked(&self, session: &LockedSession, on_event: OnEvent<'_>) -> Result<RunReport, Error> {
        let client = &session.client;
        let (history, _) = self.history(client, true, true).await?;
        let down = plan::plan_down_generated(&self.set(), &history, &Target::Steps(1), &self.generated_downs)
            .map_err(Error::Plan)?;
        let Some(version) = down.steps.first().and_then(|s| s.version.clone()) else {
            return Err(Error::Invalid(match history.baseline() {
                Some(baseline) => format!(
                    "only the baseline (version {}) is applied, and a baseline is not reverted: there is nothing \
                     to redo until a migration after it is applied",
                    written_version(&self.set(), baseline)
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
        if self.set().find(&version).is_none() {
            return Err(Error::Invalid(format!(
                "migration {version} has no file, so it could be reverted but not applied again; restore the file first"
            )));
        }
        let mut report = self.execute(session, &down, false, on_event).await?;
        let (history, _) = self.history(client, false, true).await?;
        let mut up = plan_up(&self.set(), &history, &request)?;
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
            return Ok(RunReport::unchanged(&self.set(), &history));
        }
        let target = Target::Version(version.clone());
        let plan =
            plan::plan_down_generated(&self.set(), &history, &target, &self.generated_downs).map_err(Error::Plan)?;
        self.execute(session, &plan, false, on_event).await
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

    async fn current_version(&self, client: &Client) -> Result<Option<String>, Error> {
        self.config.history.check().map_err(Error::Invalid)?;
        Ok(self.config.history.current_version(client).await?.map(|v| written_version(&self.set(), v)))
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
        let executor = self.executor(session);
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

fn plan_up(set: &MigrationSet, history: &History, request: &UpRequest) -> Result<Plan, Error> {
    let options = UpOptions {
        target: request.target.clone().unwrap_or(Target::All),
        allow_out_of_order: request.allow_out_of_order,
    };
    let mut plan = plan::plan_up(set, history, &options).map_err(Error::Plan)?;
    plan.split_scripts().map_err(Error::Load)?;
    Ok(plan)
}
