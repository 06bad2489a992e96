//! What a run, `status` and `repair` return: plain values, serialized as the CLI's JSON.

use shale_core::plan::{History, StatusRow, Step};
use shale_core::{MigrationSet, Version};

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
    /// Where shale took another tool's history over: migrations it counts as applied that the
    /// tool's table no longer has (as [`StatusReport::reverted_by_the_other_tool`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverted_by_the_other_tool: Option<RanByBoth>,
    /// A run with nothing to apply, where shale took another tool's history over: migrations shale
    /// applied that the tool applied too since (as [`StatusReport::ran_by_both`]; drizzle trial: a
    /// start-up's `up` said nothing of the `migrate()` still running beside it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ran_by_both: Option<RanByBoth>,
    /// Migrations this run applied whose up holds no statement while their down does: its SQL
    /// went into the down file by mistake, likely (Kysely trial: applied without a word; review:
    /// said by the CLI alone, not in its JSON, which the packages read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub empty_ups: Vec<EmptyUp>,
    /// The Flyway callbacks this run ran (`afterMigrate.sql`), by file, in the order they ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub callbacks: Vec<String>,
}

/// A migration applied with an up that runs nothing beside a down that runs something.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmptyUp {
    /// As its file writes it.
    pub version: String,
    /// `VERSION name`.
    pub label: String,
    /// Its up file.
    pub path: std::path::PathBuf,
    /// Migrations after it were applied in the same run: run again alone, it is out of order.
    pub later_applied: bool,
}

/// Whether `script` creates or alters something (a statement starting `CREATE` or `ALTER`).
fn makes_something(script: &shale_core::Script) -> bool {
    let text = script.own_text();
    shale_core::split::split(text).is_ok_and(|statements| {
        statements.iter().any(|s| {
            let first = text[s.span.clone()].split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
            first.eq_ignore_ascii_case("CREATE") || first.eq_ignore_ascii_case("ALTER")
        })
    })
}

impl EmptyUp {
    /// Those of `steps` (a run's) that are such migrations of `set`.
    pub(crate) fn of_run(set: &MigrationSet, steps: &[StepReport]) -> Vec<EmptyUp> {
        let ups: Vec<&StepReport> =
            steps.iter().filter(|s| s.direction == shale_core::StepDirection::Up && s.version.is_some()).collect();
        let mut empty = Vec::new();
        // (Looked at only where an up is empty: every `up` reports, a no-op one too.)
        let pop_directory = || {
            set.migrations.iter().any(|m| {
                m.up.path
                    .file_name()
                    .is_some_and(|n| shale_core::layout::written_for_postgres_alone(&n.to_string_lossy()))
            })
        };
        for (i, step) in ups.iter().enumerate() {
            let Some(m) = step.version.as_deref().and_then(Version::parse).and_then(|v| set.find(&v)) else {
                continue;
            };
            // A down that makes or changes something (its up's SQL put there by mistake: the Kysely
            // trial's ADD COLUMN), not one that only checks or cleans data (re-check: docs.rs'
            // "we only have a down-migration as validation", whose DELETEs the advice would run).
            let down_has_sql = m.down.as_ref().is_some_and(|d| d.path != m.up.path && makes_something(d));
            // (In pop's directory, an empty up is on purpose: a file for PostgreSQL alone where popx
            // does nothing, or a migration with only a down, run before an older one's; breadth
            // trial and re-check, Ory Kratos: warnings advising to run its downs as ups.)
            if m.up.runs_nothing() && down_has_sql && !pop_directory() {
                empty.push(EmptyUp {
                    version: m.version_text.clone(),
                    label: step.label(),
                    path: m.up.path.clone(),
                    later_applied: i + 1 < ups.len(),
                });
            }
        }
        empty
    }
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
    /// cannot run there (operator trial: `status` and the dry run did not say so). None (and
    /// left out of the JSON) where it was not asked (operator trial: `false` read as an answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby: Option<bool>,
    /// The migrations in code (their files) whose name's time says neither that the old tool
    /// ran them before the switch nor that they were written after it
    /// ([`plan::written_about_the_switch`](shale_core::plan::written_about_the_switch)).
    pub written_about_the_switch: Vec<String>,
    /// The other tools' histories a baseline left as they were (`schema.name`, as found then:
    /// also one found by its rows alone), which the migrations never built: `drift` leaves them
    /// out, whatever they are named (review).
    pub left_at_baseline: Vec<String>,
    /// Where shale has no history here and no other tool's was found: how many tables the
    /// session's search path holds, with the first few (`schema.name`). A database another tool,
    /// an ORM or a person built, whose history starts with a baseline of it (peewee and SeaORM
    /// trials: `status` said nothing, a migration was applied on top, and new databases could no
    /// longer be built).
    pub tables_without_history: Option<TablesWithoutHistory>,
}

/// See [`StatusReport::tables_without_history`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct TablesWithoutHistory {
    pub count: usize,
    pub first: Vec<String>,
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
    /// The key of a baseline row the tool wrote since (pgmigrate's `baseline`), which marks
    /// migrations applied without running them: see [`crate::Error::AppliedByTheOtherTool`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marked_by_baseline: Option<String>,
}

/// What a dry run says before the run ([`Migrator::before_a_run`]).
#[derive(Debug, Clone, Default)]
pub struct BeforeARun {
    pub changed_since_baseline: Vec<crate::adopt::ChangedSinceBaseline>,
    pub standby: bool,
    /// Where shale has no history: other tools' histories here (see [`RunReport::foreign`]).
    pub foreign: Vec<shale_pg::foreign::ForeignTable>,
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

impl RunReport {
    /// Nothing ran: the database stays where the history says.
    pub(super) fn unchanged(set: &MigrationSet, history: &History) -> RunReport {
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

pub(super) fn step_report(step: &Step, duration_ms: Option<u64>) -> StepReport {
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

/// The newest applied version as shown to users.
pub(super) fn version_text(set: &MigrationSet, history: &History) -> Option<String> {
    history.current_version().map(|v| match set.find(&v).is_none() && set.find_unrunnable(&v).is_none() {
        // Its file gone: as the file the history recorded wrote it.
        true => history.written_version(&v),
        false => written_version(set, v),
    })
}
