//! From what the files say and what the database remembers to what should happen.
//! Pure: the executor carries a [`Plan`] out; this module never touches a database.

use std::collections::BTreeMap;

// The maps a plan builds by the thousand on every start are keyed by versions and names: FxHash,
// as the compiler hashes its own keys, costs a fraction of the default SipHash, whose resistance
// to crafted keys a migration directory does not need.
use rustc_hash::FxHashMap as HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::layout::{Layout, LoadError, Migration, MigrationKind, MigrationSet, Rerun, Script};
use crate::version::Version;

pub mod covered;
pub mod numbering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Versioned,
    Repeatable,
    Baseline,
    Repair,
    Seed,
    /// Applied by another tool and taken over by `shale adopt`: applied, nothing ran.
    Adopted,
    /// A record of what a command did (`shale adopt`), not a migration.
    Audit,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Versioned => "versioned",
            RecordKind::Repeatable => "repeatable",
            RecordKind::Baseline => "baseline",
            RecordKind::Repair => "repair",
            RecordKind::Seed => "seed",
            RecordKind::Adopted => "adopted",
            RecordKind::Audit => "audit",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        [
            RecordKind::Versioned,
            RecordKind::Repeatable,
            RecordKind::Baseline,
            RecordKind::Repair,
            RecordKind::Seed,
            RecordKind::Adopted,
            RecordKind::Audit,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Still running, or the runner died: treated as failed.
    Running,
    Succeeded,
    Failed,
    RolledBack,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Running => "running",
            RecordStatus::Succeeded => "succeeded",
            RecordStatus::Failed => "failed",
            RecordStatus::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<RecordStatus> {
        [RecordStatus::Running, RecordStatus::Succeeded, RecordStatus::Failed, RecordStatus::RolledBack]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The newest history row of one migration (one row per attempt is kept; the newest decides).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppliedRecord {
    pub id: i64,
    /// Canonical version; empty for repeatables.
    pub version: String,
    pub name: String,
    pub kind: RecordKind,
    pub checksum: Option<String>,
    pub status: RecordStatus,
    pub up_sql: Option<String>,
    pub down_sql: Option<String>,
    /// RFC 3339 text of finished_at (or started_at while running).
    pub applied_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// For no-transaction migrations: how many statements succeeded before the failure.
    pub statements_done: Option<i32>,
    pub error: Option<String>,
    /// The migration's file, relative to the migrations directory, as it was when this row was
    /// written (None in rows of an older shale).
    pub path: Option<String>,
    /// How far the batched backfill at statement `statements_done` got (see [`crate::backfill::Cursor`]).
    pub resume_cursor: Option<String>,
    /// Why the row was written, read for adopted, repeatable and repair rows only (an adopted one
    /// names the tool it came from: [`crate::adopt::adopted_from`]; a repair one may say its file
    /// was removed on purpose: [`file_removed_reason`]).
    pub reason: Option<String>,
}

/// What the database remembers: the newest row per version (and per repeatable name).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub records: Vec<AppliedRecord>,
}

impl History {
    /// The version of the newest baseline recorded, if any: migrations up to it count as applied.
    pub fn baseline(&self) -> Option<Version> {
        self.records
            .iter()
            .filter(|r| r.kind == RecordKind::Baseline && r.status == RecordStatus::Succeeded)
            .filter_map(|r| Version::parse(&r.version))
            .max()
    }

    fn versioned(&self) -> impl Iterator<Item = (Version, &AppliedRecord)> {
        self.records
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Versioned | RecordKind::Repair | RecordKind::Adopted))
            .filter_map(|r| Version::parse(&r.version).map(|v| (v, r)))
    }

    /// The newest applied version, baselines included.
    /// `version` as the file the history recorded for it wrote it (`0005`, where the history keeps
    /// `5`), for a version no file has any more; else as the history keeps it.
    pub fn written_version(&self, version: &Version) -> String {
        self.versioned()
            .filter(|(v, _)| v == version)
            .max_by_key(|(_, r)| r.id)
            .map_or_else(|| version.canonical(), |(v, r)| recorded_version(&v, r))
    }

    pub fn current_version(&self) -> Option<Version> {
        self.versioned()
            .filter(|(_, r)| r.status == RecordStatus::Succeeded)
            .map(|(v, _)| v)
            .chain(self.baseline())
            .max()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Modified,
    /// Applied, but its file is gone.
    Missing,
    /// The last attempt failed (and, for a no-transaction migration, may have left work half done).
    Failed,
    /// Pending, older than the newest applied migration.
    OutOfOrder,
    /// At or below the baseline: counted as applied without running.
    Baseline,
    /// Not applied, and shale cannot run it (a goose migration written in Go).
    Unrunnable,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Failed => "failed",
            State::OutOfOrder => "out-of-order",
            State::Baseline => "baseline",
            State::Unrunnable => "cannot-run",
        }
    }
}

/// One line of `shale status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub version: Option<String>,
    pub name: String,
    pub kind: MigrationKind,
    pub state: State,
    pub path: Option<PathBuf>,
    pub applied_at: Option<String>,
    /// How long the migration ran; `None` for an adopted one, which shale never ran.
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// Taken over from another tool's history by `shale adopt` (nothing ran): `applied_at` is
    /// when it was taken over.
    pub adopted: bool,
    /// The tool it was taken over from, where its history row says.
    pub adopted_from: Option<crate::adopt::Tool>,
    /// Recorded as applied by `repair` (a person's decision, nothing ran): no duration.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repaired: bool,
    /// A down of this applied migration stopped part-way (outside a transaction it failed, or its
    /// runner died): the statement, 1-based, the next `shale down` goes on at.
    pub down_stopped_at: Option<usize>,
    /// A Flyway Java migration `shale adopt` took over: the class that ran. It has no file, and it
    /// counts as applied (not missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_class: Option<String>,
    /// Out of order under the baseline (this version), added after the baseline was recorded:
    /// it never ran on this database ([`covered`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub under_baseline: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepDirection {
    Up,
    Down,
}

impl StepDirection {
    /// The command that runs a step of this direction again: `up` or `down`.
    pub fn command(self) -> &'static str {
        match self {
            StepDirection::Up => "up",
            StepDirection::Down => "down",
        }
    }
}

/// One migration to run in one direction.
#[derive(Debug, Clone)]
pub struct Step {
    pub direction: StepDirection,
    pub kind: MigrationKind,
    pub version: Option<Version>,
    pub version_text: String,
    pub name: String,
    pub script: std::sync::Arc<Script>,
    /// The up and down SQL kept in the history so a later `down` works without the files.
    pub up_sql: std::sync::Arc<str>,
    pub down_sql: Option<std::sync::Arc<str>>,
    pub checksum: Option<String>,
    /// Resume a failed no-transaction migration at this statement (the earlier ones are unchanged).
    pub resume_from: usize,
    /// The file the step comes from, relative to the migrations directory (kept in the history).
    pub file: Option<String>,
    /// The statement at `resume_from` may have run: the last attempt stopped without a result for
    /// it (its runner was killed, lost the lock or the connection), so the executor checks the
    /// database before running it again (see [`crate::rerun`]).
    pub resume_in_doubt: bool,
    /// Where the batched backfill at `resume_from` stopped (its batches up to there committed).
    pub resume_cursor: Option<String>,
}

impl Step {
    /// The tables this step's SQL creates expecting them not to be there (`CREATE TABLE
    /// [schema.]name`, not `IF NOT EXISTS`, which a migration written to run over a schema built
    /// otherwise says), each with its schema where it names one, lowercased unless quoted: of its
    /// own section of the file only (dbmate's down, which may create again what the up drops, is
    /// not the up's).
    pub fn tables_expected_absent(&self) -> Vec<(Option<String>, String)> {
        crate::tokens::created_tables_expected_absent(self.script.own_text())
    }

    pub fn label(&self) -> String {
        match self.kind {
            MigrationKind::Versioned => crate::layout::versioned_label(&self.version_text, &self.name),
            MigrationKind::Repeatable => format!("R__{}", self.name),
            MigrationKind::Seed => format!("seed {}", self.name),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// The schemas the plan's statements may name (whatever qualifies a name), sorted, each once.
    pub fn named_schemas(&self) -> Vec<String> {
        let mut named: Vec<String> = self
            .steps
            .iter()
            .flat_map(|s| {
                (0..s.script.statements.len()).flat_map(|i| crate::tokens::qualifiers(s.script.statement_text(i)))
            })
            .collect();
        named.sort_unstable();
        named.dedup();
        named
    }

    /// Split the scripts of steps planned from a set read unsplit ([`split_for_up`] split the
    /// ones the history of that moment made due; under the migration lock it may say more).
    pub fn split_scripts(&mut self) -> Result<(), Vec<LoadError>> {
        let errors: Vec<LoadError> =
            self.steps.iter_mut().filter_map(|s| Script::split_shared(&mut s.script).err()).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Split the statements of every migration of a set read unsplit that `up` may run against
/// `history`: all but those it shows applied unchanged or under its baseline. A no-op `up` splits
/// nothing; files that will not run are not split, and a problem in one that will is reported
/// before anything runs.
pub fn split_for_up(set: &mut MigrationSet, history: &History) -> Result<(), Vec<LoadError>> {
    let records = Records::new(history);
    set.split_where(|m| {
        let state = migration_state(m, &records);
        !matches!(state, State::Applied | State::Baseline)
    })
}

/// The history's record of each migration, found by version (or, for repeatables, by name), and
/// the versions planning compares with. Each row's version is parsed here once: `up` plans through
/// this on every start, and parsing a thousand versions per question cost more than the answers.
struct Records<'h> {
    by_version: HashMap<Version, &'h AppliedRecord>,
    by_name: HashMap<&'h str, &'h AppliedRecord>,
    /// [`History::baseline`].
    baseline: Option<Version>,
    /// The row of [`History::baseline`].
    baseline_record: Option<&'h AppliedRecord>,
    /// [`History::current_version`].
    newest: Option<Version>,
    /// The versions the baseline covers ([`covered`]), where it listed them.
    covered: Option<rustc_hash::FxHashSet<Version>>,
}

impl<'h> Records<'h> {
    fn new(history: &'h History) -> Records<'h> {
        // Rows of one version written two ways (`1` and `1.0`): the newer row counts.
        let mut by_version: HashMap<Version, &AppliedRecord> = HashMap::default();
        by_version.reserve(history.records.len());
        for (version, record) in history.versioned() {
            let kept = by_version.entry(version).or_insert(record);
            if record.id > kept.id {
                *kept = record;
            }
        }
        let baseline = history.baseline();
        let baseline_record = history
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Baseline && r.status == RecordStatus::Succeeded)
            .filter(|r| baseline.as_ref().is_some_and(|b| Version::parse(&r.version).as_ref() == Some(b)))
            .max_by_key(|r| r.id);
        // An attempt that failed (or whose runner died) before a baseline covering its version
        // was recorded is settled by it: `baseline --force` says those migrations count as applied.
        if let (Some(b), Some(row)) = (&baseline, baseline_record) {
            by_version.retain(|v, r| {
                !(v <= b && r.id < row.id && matches!(r.status, RecordStatus::Failed | RecordStatus::Running))
            });
        }
        let applied = by_version.iter().filter(|(_, r)| r.status == RecordStatus::Succeeded).map(|(v, _)| v);
        let newest = applied.chain(baseline.as_ref()).max().cloned();
        let covered = history
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Audit && r.name == covered::COVERED_ROW_NAME)
            .filter_map(|r| covered::covered_by(r.reason.as_deref()?))
            .find(|(of, _)| Some(of) == baseline.as_ref())
            .map(|(_, versions)| versions);
        Records {
            by_version,
            by_name: history
                .records
                .iter()
                .filter(|r| r.kind == RecordKind::Repeatable)
                .map(|r| (r.name.as_str(), r))
                .collect(),
            baseline,
            baseline_record,
            newest,
            covered,
        }
    }

    /// Whether the baseline covers version `v`: at or under it, and not added under it later.
    fn baseline_covers(&self, v: &Version) -> bool {
        self.baseline.as_ref().is_some_and(|b| v <= b && self.covered.as_ref().is_none_or(|c| c.contains(v)))
    }

    /// The baseline `m` is under though it was added after the baseline was recorded.
    fn under_baseline(&self, m: &Migration) -> Option<&Version> {
        let (v, b, covered) = (m.version.as_ref()?, self.baseline.as_ref()?, self.covered.as_ref()?);
        (v <= b && !covered.contains(v)).then_some(b)
    }

    /// The checksum the baseline's row recorded of its file (none before shale recorded one).
    fn baseline_checksum(&self) -> Option<&'h str> {
        self.baseline_record.and_then(|r| r.checksum.as_deref())
    }

    fn of(&self, m: &Migration) -> Option<&'h AppliedRecord> {
        match &m.version {
            // A failed attempt of another migration of this version (its file deleted since, and
            // this one written in its place) that failed in its transaction left nothing: it is
            // not this one's (FastAPI trial: the new file showed as failed, and validate said to
            // fix a file that never ran).
            Some(v) => self
                .by_version
                .get(v)
                .copied()
                .filter(|r| !(r.status == RecordStatus::Failed && r.statements_done.is_none() && r.name != m.name)),
            None => self.by_name.get(m.name.as_str()).copied(),
        }
    }
}

/// How far `up` or `down` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Everything (`up`), or everything (`down --all`).
    All,
    /// `--to V`: up to and including V, or down to V (V stays applied).
    Version(Version),
    /// `--step N`.
    Steps(usize),
}

/// Why a plan cannot be made. Each names the migration and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    Modified {
        label: String,
        path: PathBuf,
        /// What changed is comments and white space alone: the SQL that ran, kept in the history,
        /// is the file's but for them (set where the history was read for it).
        in_comments_only: bool,
        /// What changed is the value given to this Liquibase parameter (`${name}`) alone: the
        /// file is as it was (set where the history was read for it).
        parameter: Option<String>,
    },
    /// `file`: the file as the history recorded it, when it did; `in_its_file`: that file is
    /// here, holding other migrations (a Liquibase changeset taken out of its changelog).
    Missing {
        version: String,
        name: String,
        file: Option<String>,
        in_its_file: bool,
    },
    OutOfOrder {
        label: String,
        path: PathBuf,
        newest: String,
        /// The baseline it is under, when it was added after the baseline was recorded (see
        /// [`covered`]): it never ran on this database, though older than what did.
        under_baseline: Option<String>,
        /// A Liquibase changeset (one with a context or labels, [`numbering`]): a directive or a
        /// new file would change what Liquibase knows it by, so neither is the way.
        liquibase: bool,
    },
    NoDown {
        label: String,
        /// The layout of its file, when it has one (where a down would be written).
        layout: Option<crate::layout::Layout>,
    },
    ResumeChanged {
        label: String,
        path: PathBuf,
        statement: usize,
        /// It was the migration's down that stopped part-way.
        reverting: bool,
        /// Its statements are as they were, but the file now runs in one transaction (its
        /// CONCURRENTLY taken out): run whole, those that ran would run again.
        now_in_a_transaction: bool,
    },
    UnknownVersion {
        version: String,
    },
    /// A down to a version under the baseline: the migrations it covers were not run by shale
    /// (the database had them already), so nothing reverts them (yoyo trial: `goto 0040` on a
    /// database baselined at 0042 said "already there", exit 0).
    BelowBaseline {
        target: String,
        baseline: String,
    },
    /// A down still the empty template `shale new` wrote: recorded as reverted, it would leave
    /// the change behind, and the next up would fail on it (refused by every way down: `goto`
    /// and a fleet's `down` recorded it, review).
    UnwrittenDown {
        label: String,
        path: PathBuf,
        /// It is an empty file of a tool that refuses to run one (diesel's `down.sql`), not the
        /// template `shale new` wrote.
        empty_file: bool,
    },
    /// A migration newer than one a down would revert stopped part-way outside a transaction,
    /// `statements` of it committed: reverted under it, what they did would stay, and the next up
    /// would go on after them (production re-check: `down --step 1` dropped the table such a
    /// migration had written a row into, and the next up, resuming after that INSERT, lost it).
    PartAppliedAbove {
        label: String,
        path: Option<PathBuf>,
        statements: i32,
        /// Its run was cut off (the row still says running): the statement after those committed
        /// may have committed too, even with none recorded (a DO block first, review).
        cut_off: bool,
    },
    /// A migration shale cannot run (a goose migration written in Go) is not applied yet.
    Unrunnable {
        version: String,
        path: PathBuf,
        /// The newest migration before it that is not applied, as its file writes its version:
        /// an up to there applies what comes before it.
        before: Option<String>,
    },
    /// A migration shale cannot run (a yoyo Python step, a goose Go migration) is to be reverted:
    /// shale cannot revert it either.
    UnrunnableDown {
        version: String,
        label: String,
        path: PathBuf,
    },
    /// The database applied some of the migrations a squash replaces, not all: the squash cannot
    /// run there (it would create what exists), and the rest are only in the archive.
    InsideSquash {
        label: String,
        path: PathBuf,
        applied: String,
        first: String,
    },
    /// Prisma folders sharing a timestamp (sql-migrate files sharing a number), one added since
    /// the others were applied: the version of `label` is recorded for folder (or file) `recorded`.
    TwinMoved {
        label: String,
        path: PathBuf,
        recorded: String,
    },
    /// A Sqitch plan whose change at the place of `label` is not the one the history recorded
    /// there (`recorded`): a change was added or removed before it since it was applied, which
    /// moved the numbers of those after it.
    PlanMoved {
        label: String,
        path: PathBuf,
        recorded: String,
    },
    /// The history's first change (`recorded`) is not this Sqitch plan's first (`label`): the
    /// history is another plan's (two projects deployed to one database), not this one moved.
    OtherPlan {
        label: String,
        path: PathBuf,
        recorded: String,
    },
    /// None of the `recorded` migrations the history holds as applied is in the directory: it is
    /// not the one they were applied from, and a down would revert them from the history's copies.
    NotTheirDirectory {
        recorded: usize,
    },
    /// A statement changes one of shale's own tables (or drops their schema).
    OwnTable {
        path: PathBuf,
        line: usize,
        column: usize,
        table: String,
    },
}

/// What happened, in words for any application: no command-line flags, no command names. What to
/// do about it is [`PlanError::hint`]; the CLI words its own hints from the variant's fields.
impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Modified { label, path, parameter: Some(name), .. } => write!(
                f,
                "{}: migration {label} was changed after it was applied, by the value given to its Liquibase \
                 parameter ${{{name}}} alone: its file is as it was, and the value is not the one it ran with \
                 (Liquibase refuses it too: the SQL it checks has the values in)",
                path.display()
            ),
            PlanError::Modified { label, path, in_comments_only: false, .. } => write!(
                f,
                "{}: migration {label} was changed after it was applied (its checksum differs from the history)",
                path.display()
            ),
            PlanError::Modified { label, path, in_comments_only: true, .. } => write!(
                f,
                "{}: migration {label} was changed after it was applied, in its comments and white space only \
                 (the SQL that ran, which the history kept, is the file's but for them)",
                path.display()
            ),
            PlanError::Missing { version, name, file: Some(file), in_its_file: true } => write!(
                f,
                "{file} no longer holds migration {}, which is applied in the database",
                crate::layout::versioned_label(version, name)
            ),
            PlanError::Missing { version, name, file, .. } => write!(
                f,
                "{} is applied in the database but its file is gone",
                match file {
                    Some(file) => format!("{file} (migration {})", crate::layout::versioned_label(version, name)),
                    None => format!("migration {}", crate::layout::versioned_label(version, name)),
                }
            ),
            PlanError::OutOfOrder { label, path, newest, under_baseline: None, .. } => write!(
                f,
                "{}: pending migration {label} is older than the newest applied version {newest}",
                path.display()
            ),
            PlanError::OutOfOrder { label, path, under_baseline: Some(baseline), .. } => write!(
                f,
                "{}: migration {label} is under the baseline {baseline} but was added after the baseline was recorded: the baseline covers only the files there were then, so this one never ran here",
                path.display()
            ),
            PlanError::NoDown { label, .. } => {
                write!(f, "migration {label} has no down migration, in its files or in the history")
            }
            PlanError::ResumeChanged { label, path, statement, reverting, now_in_a_transaction } => write!(
                f,
                "{}: {} {label} stopped part-way, and {}",
                path.display(),
                if *reverting { "the down of migration" } else { "migration" },
                match (*now_in_a_transaction, *statement) {
                    (true, 1) => "its statement 1 ran outside a transaction, where the file now runs in one: run \
                                  whole, it would run that statement again"
                        .to_string(),
                    (true, n) => format!(
                        "its statements 1 to {n} ran outside a transaction, where the file now runs in one: run whole, \
                         it would run them again"
                    ),
                    (false, n) => format!("statements before statement {} changed since", n + 1),
                }
            ),
            PlanError::UnknownVersion { version } => write!(f, "no migration has version {version}"),
            PlanError::UnwrittenDown { label, path, empty_file: false } => write!(
                f,
                "{}: the down of {label} is still the empty template `shale new` wrote",
                path.display()
            ),
            PlanError::UnwrittenDown { label, path, empty_file: true } => write!(
                f,
                "{}: the down of {label} is an empty file, which diesel refuses to run (\"Attempted to run an empty \
                 migration\"): recorded as reverted, what its up made would stay",
                path.display()
            ),
            PlanError::BelowBaseline { target, baseline } => write!(
                f,
                "version {target} is under the baseline {baseline}: the history starts there, and the migrations up \
                 to it were recorded, not run, so no down reverts them"
            ),
            PlanError::PartAppliedAbove { label, path, statements, cut_off } => write!(
                f,
                "{}migration {label} {}, and it is newer than what this down reverts: reverted under it, what they \
                 did would stay, and the next up would go on after them",
                path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default(),
                if *cut_off {
                    format!(
                        "was cut off outside a transaction in statement {}, which may have committed \
                         ({statements} before it did)",
                        statements + 1
                    )
                } else {
                    format!("stopped part-way outside a transaction, {statements} of its statements committed")
                }
            ),
            PlanError::Unrunnable { version, path, .. } => write!(
                f,
                "{}: migration {version} is written in {}, and shale runs SQL migrations only",
                path.display(),
                crate::layout::written_in(path)
            ),
            PlanError::UnrunnableDown { label, path, .. } => write!(
                f,
                "{}: migration {label} is written in {}, which shale cannot revert",
                path.display(),
                crate::layout::written_in(path)
            ),
            PlanError::InsideSquash { label, path, applied, first } => write!(
                f,
                "{}: migration {label} replaces migrations {first} to its own version, and this database applied them only up to {applied}",
                path.display()
            ),
            PlanError::TwinMoved { label, path, recorded } => write!(
                f,
                "{}: migration {label} has the version the history recorded for {recorded}: a migration sharing its number was added before it since, which moved the versions of those after it",
                path.display()
            ),
            PlanError::PlanMoved { label, path, recorded } => write!(
                f,
                "{}: migration {label} is where the history recorded change `{recorded}`: a change was added or removed before it in the plan since it was applied, which moved the numbers of those after it",
                path.display()
            ),
            PlanError::OtherPlan { label, path, recorded } => write!(
                f,
                "{}: the history here begins with change `{recorded}` and this plan with {label}: it is another project's history (two projects deployed to one database)",
                path.display()
            ),
            PlanError::NotTheirDirectory { recorded } => write!(
                f,
                "none of the {recorded} migration(s) the history records as applied is in the migrations directory: it is not the one they were applied from, and reverting them here would run the downs the history kept of another directory's migrations"
            ),
            PlanError::OwnTable { path, line, column, table } => write!(
                f,
                "{}:{line}:{column}: this statement changes {table}, which is shale's own (its migration history or lock): a migration must not drop, alter or write it",
                path.display()
            ),
        }
    }
}

/// What to do about an applied migration whose file changed ([`PlanError::Modified`]).
pub const MODIFIED_HINT: &str = "restore the file, or put the change in a new migration";

/// What to do about an applied migration whose file changed in comments and white space alone.
pub const MODIFIED_IN_COMMENTS_HINT: &str =
    "nothing of what ran differs: record the file as it is now with a repair (applied, with a reason), or restore it";

impl PlanError {
    /// The file the problem is in, where there is one (a missing migration's as the history
    /// recorded it), and the line and column for a problem in a statement.
    pub fn place(&self) -> (Option<PathBuf>, Option<(usize, usize)>) {
        match self {
            PlanError::Modified { path, .. }
            | PlanError::OutOfOrder { path, .. }
            | PlanError::ResumeChanged { path, .. }
            | PlanError::Unrunnable { path, .. }
            | PlanError::UnrunnableDown { path, .. }
            | PlanError::InsideSquash { path, .. }
            | PlanError::TwinMoved { path, .. }
            | PlanError::PlanMoved { path, .. }
            | PlanError::OtherPlan { path, .. }
            | PlanError::UnwrittenDown { path, .. } => (Some(path.clone()), None),
            PlanError::OwnTable { path, line, column, .. } => (Some(path.clone()), Some((*line, *column))),
            PlanError::Missing { file, .. } => (file.as_ref().map(PathBuf::from), None),
            PlanError::PartAppliedAbove { path, .. } => (path.clone(), None),
            PlanError::NoDown { .. }
            | PlanError::UnknownVersion { .. }
            | PlanError::BelowBaseline { .. }
            | PlanError::NotTheirDirectory { .. } => (None, None),
        }
    }

    /// What to do about the problem, in words for any application (no flags, no command names),
    /// e.g. "allow out-of-order migrations for this run, ...". `None` where the text says it all.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            PlanError::Modified { parameter: Some(_), .. } => {
                "give the parameter the value it ran with; where the new value is meant and the database holds what it makes, record the migration as applied as it is now, with a repair"
            }
            PlanError::Modified { in_comments_only: true, .. } => MODIFIED_IN_COMMENTS_HINT,
            PlanError::Modified { .. } => MODIFIED_HINT,
            PlanError::Missing { in_its_file: true, .. } => {
                "put it back in its file; or, if it was removed on purpose, record it with a repair: applied, with a reason (it then counts as applied with no file); or, if its work was undone, with a repair: rolled back"
            }
            PlanError::Missing { .. } => {
                "restore the file; or, if it was removed on purpose, record it with a repair: applied, with a reason (it then counts as applied with no file); or, if its work was undone, with a repair: rolled back"
            }
            PlanError::OutOfOrder { under_baseline: None, liquibase: true, .. } => {
                "run with the contexts and label filter this database was migrated with, which leave it out; or, where it is to run here, allow out-of-order migrations for this run (a directive in its SQL or a new file would change the changeset Liquibase knows)"
            }
            PlanError::OutOfOrder { under_baseline: None, .. } => {
                "allow out-of-order migrations for this run, or add `-- shale:out-of-order` to the file, or renumber it"
            }
            PlanError::OutOfOrder { under_baseline: Some(_), .. } => {
                "where no database ran it yet, renumber it above the baseline, so that every database runs it after the baseline's schema; where one did (with out-of-order allowed), keep its version and allow out-of-order migrations for this run here too, since a renamed file would run there again"
            }
            PlanError::NoDown { .. } => {
                "generate it from the schemas before and after the migration, or add one where the directory keeps downs in files of their own (a .down.sql file, a U file, a down.sql in its folder), or revert it by hand and record that with a repair: rolled back, with a reason"
            }
            PlanError::ResumeChanged { .. } => "restore them, or decide with a repair what the database holds",
            PlanError::UnknownVersion { .. } => return None,
            PlanError::UnwrittenDown { .. } => {
                "write it first, or generate it from the schemas before and after the migration"
            }
            PlanError::BelowBaseline { .. } => {
                "go down to the baseline at most; below it, restore a backup taken before it, or undo by hand what you need undone"
            }
            PlanError::PartAppliedAbove { .. } => {
                "finish it first (an up applies the rest of it; then revert it with the others), or undo what its committed statements did and record that with a repair: rolled back, with a reason"
            }
            PlanError::Unrunnable { .. } => {
                "port it to SQL (a .sql file of the same version); or apply the migrations before it with an up to the version before it, do its work (with the tool it was written for, or by hand), record it with a repair: applied, with a reason, and run up again for the rest"
            }
            PlanError::UnrunnableDown { .. } => {
                "undo its work with the tool it was written for, or by hand, then record that with a repair: rolled back, with a reason"
            }
            PlanError::InsideSquash { .. } => {
                "apply the rest from the archived files (where the squash moved them), then the squash counts as applied"
            }
            PlanError::OwnTable { .. } => {
                "remove the statement; a repair or a baseline records decisions in the history"
            }
            PlanError::OtherPlan { .. } => "give each plan a history table of its own",
            PlanError::NotTheirDirectory { .. } => {
                "run it with the directory the migrations were applied from; where their files were removed on purpose, restore them first"
            }
            PlanError::PlanMoved { .. } => {
                "put the changes back in the order they were deployed, with new ones at the end: shale knows a Sqitch change by its place in the plan, as Sqitch does (a change is reworked, not edited in place)"
            }
            PlanError::TwinMoved { .. } => {
                "give the migration added since a number of its own (a timestamp a second later than the others), so that each applied one keeps its version"
            }
        })
    }
}

/// The applied migrations whose file changed since (state modified), with the id of the history
/// row that recorded their run: the rows whose SQL says what the change was.
pub fn modified_records(set: &MigrationSet, history: &History) -> Vec<(Version, i64)> {
    let records = Records::new(history);
    set.migrations
        .iter()
        .zip(file_states(set, history, &records))
        .filter(|(_, state)| *state == State::Modified)
        .filter_map(|(m, _)| Some((m.version.clone()?, records.of(m)?.id)))
        .collect()
}

/// The Liquibase parameter whose value alone makes `now` (the SQL with the values given now)
/// differ from `applied` (as it ran): `now` with every occurrence of the parameter's value given
/// the one it ran with is `applied`. Values are compared, never shown: a parameter may hold a
/// password.
pub fn changed_by_parameter<'s>(set: &'s MigrationSet, applied: &str, now: &str) -> Option<&'s str> {
    let first_difference = applied.bytes().zip(now.bytes()).position(|(a, b)| a != b)?;
    set.liquibase_parameters.iter().filter(|(_, value)| !value.is_empty()).find_map(|(name, value)| {
        // The occurrence of the value where the two part.
        let at = now
            .match_indices(value.as_str())
            .map(|(i, _)| i)
            .find(|&i| i <= first_difference && first_difference < i + value.len())?;
        let after = &now[at + value.len()..];
        let probe = &after[..(0..=after.len().min(16)).rev().find(|&i| after.is_char_boundary(i)).unwrap_or(0)];
        // The value it ran with: from there in `applied`, up to where `now` goes on.
        (at..=applied.len().min(at + 4096))
            .filter(|&end| applied.is_char_boundary(end) && applied[end..].starts_with(probe))
            .map(|end| &applied[at..end])
            .find(|was| now.replace(value.as_str(), was) == applied)
            .map(|_| name.as_str())
    })
}

/// Whether `now` differs from `applied` in comments and white space alone (the SQL the two would
/// send is the same): an applied migration's file edited so, which changes its checksum and
/// nothing that ran.
pub fn differs_in_comments_only(applied: &str, now: &str) -> bool {
    let tokens = |text: &str| crate::tokens::tokens(text).into_iter().map(|(t, _)| t).collect::<Vec<_>>();
    // The tokenizer reads a dollar-quoted body as words (upper-cased) and comments: its bytes
    // must be the same besides.
    applied != now && tokens(applied) == tokens(now) && dollar_bodies(applied) == dollar_bodies(now)
}

/// The dollar-quoted strings of `text` (`$$...$$`, `$fn$...$fn$`), in order, as written. Read
/// without regard to comments: a `$` in a comment that changed makes the two lists differ, and the
/// change is then not taken for comments only, which is the safe side.
fn dollar_bodies(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut bodies = Vec::new();
    let mut i = 0;
    while let Some(found) = text[i..].find('$') {
        let start = i + found;
        let mut end = start + 1;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        if b.get(end) != Some(&b'$') || b.get(start + 1).is_some_and(u8::is_ascii_digit) {
            i = start + 1;
            continue;
        }
        let delimiter = &text[start..=end];
        match text[end + 1..].find(delimiter) {
            Some(p) => {
                let close = end + 1 + p + delimiter.len();
                bodies.push(&text[start..close]);
                i = close;
            }
            None => {
                bodies.push(&text[start..]);
                break;
            }
        }
    }
    bodies
}

/// The state of every migration, from the files and the history.
pub fn status(set: &MigrationSet, history: &History) -> Vec<StatusRow> {
    let records = Records::new(history);
    let downs = unfinished_downs(history);
    let mut rows = Vec::with_capacity(set.migrations.len() + set.unrunnable.len());
    for (m, state) in set.migrations.iter().zip(file_states(set, history, &records)) {
        let record = records.of(m);
        rows.push(StatusRow {
            version: m.version.as_ref().map(|_| m.version_text.clone()),
            name: m.name.clone(),
            kind: m.kind,
            state,
            path: Some(m.up.path.clone()),
            applied_at: record
                .filter(|_| state != State::Pending)
                // The baseline's own file: when it was recorded.
                .or(records.baseline_record.filter(|_| state == State::Baseline && m.version == records.baseline))
                .and_then(|r| r.applied_at.clone()),
            duration_ms: record.filter(|_| state != State::Pending).and_then(ran_for),
            error: record.filter(|_| state == State::Failed).and_then(|r| r.error.clone()),
            adopted: record.is_some_and(|r| state != State::Pending && adopted(r)),
            adopted_from: record.filter(|_| state != State::Pending).and_then(adopted_from),
            repaired: record.is_some_and(|r| state == State::Applied && r.kind == RecordKind::Repair),
            down_stopped_at: record
                .filter(|_| matches!(state, State::Applied | State::Modified))
                .and_then(|r| stopped_down(&downs, r))
                .map(|a| a.statements_done.unwrap_or(0).max(0) as usize + 1),
            java_class: None,
            under_baseline: records.under_baseline(m).filter(|_| state == State::OutOfOrder).map(Version::canonical),
        });
    }
    for (v, r) in missing_records(set, &records) {
        let java_class = adopted_java_class(r);
        rows.push(StatusRow {
            version: Some(recorded_version(&v, r)),
            name: r.name.clone(),
            kind: MigrationKind::Versioned,
            state: if applied_without_file(r) { State::Applied } else { State::Missing },
            path: r.path.as_ref().map(PathBuf::from),
            applied_at: r.applied_at.clone(),
            duration_ms: ran_for(r),
            error: None,
            adopted: adopted(r),
            adopted_from: adopted_from(r),
            repaired: r.kind == RecordKind::Repair,
            down_stopped_at: stopped_down(&downs, r).map(|a| a.statements_done.unwrap_or(0).max(0) as usize + 1),
            java_class,
            under_baseline: None,
        });
    }
    for c in written_since_the_switch(set, history, &records) {
        rows.push(StatusRow {
            version: Some(c.version_text.clone()),
            name: c.name.clone(),
            kind: MigrationKind::Versioned,
            state: State::Unrunnable,
            path: Some(c.path.clone()),
            applied_at: None,
            duration_ms: None,
            error: None,
            adopted: false,
            adopted_from: None,
            repaired: false,
            down_stopped_at: None,
            java_class: None,
            under_baseline: None,
        });
    }
    for u in &set.unrunnable {
        let record = records.by_version.get(&u.version).copied().filter(|r| r.status == RecordStatus::Succeeded);
        rows.push(StatusRow {
            version: Some(u.version_text.clone()),
            name: u.name.clone(),
            kind: MigrationKind::Versioned,
            state: match record {
                Some(_) => State::Applied,
                None if records.baseline_covers(&u.version) => State::Baseline,
                None => State::Unrunnable,
            },
            path: Some(u.path.clone()),
            applied_at: record.and_then(|r| r.applied_at.clone()),
            duration_ms: record.and_then(ran_for),
            error: None,
            adopted: record.is_some_and(adopted),
            adopted_from: record.and_then(adopted_from),
            repaired: record.is_some_and(|r| r.kind == RecordKind::Repair),
            down_stopped_at: None,
            java_class: None,
            under_baseline: None,
        });
    }
    // Versioned rows by version, then the others by name. Each version is parsed once (`up` plans
    // through this on every start: a comparison that parsed both sides cost more than the rest).
    rows.sort_by_cached_key(|r| match r.version.as_deref().and_then(Version::parse) {
        Some(version) => (false, Some(version), String::new()),
        None => (true, None, r.name.clone()),
    });
    rows
}

/// The state of each migration of `set`, in the set's order: the rows of [`status`] that have a
/// file, without the rest of a row (`up` plans from these on every start).
fn file_states(set: &MigrationSet, history: &History, records: &Records) -> Vec<State> {
    set.migrations
        .iter()
        .map(|m| {
            let state = migration_state(m, records);
            // A database migrated with the files a squash replaced ran its own version as the last
            // of them: applied, whatever that file's checksum was.
            match state {
                State::Modified if m.squashed().is_some_and(|(first, last)| applied_in(history, &first, &last)) => {
                    State::Applied
                }
                other => other,
            }
        })
        .collect()
}

/// The versions the history shows applied and no file has (nor a Go migration, nor a squash that
/// replaced them), in version order.
fn missing_records<'h>(set: &MigrationSet, records: &Records<'h>) -> Vec<(Version, &'h AppliedRecord)> {
    let files = set.by_version();
    let squashed: Vec<(Version, Version)> = set.versioned().filter_map(|m| m.squashed()).collect();
    let mut missing: Vec<(Version, &AppliedRecord)> = records
        .by_version
        .iter()
        .filter(|(v, r)| {
            r.status == RecordStatus::Succeeded
                && !files.contains_key(v)
                && set.find_unrunnable(v).is_none()
                && !set.left_out.contains(v)
                && !squashed.iter().any(|(first, last)| first <= *v && *v < last)
        })
        .map(|(v, r)| (v.clone(), *r))
        .collect();
    missing.sort_by(|a, b| a.0.cmp(&b.0));
    missing
}

/// Whether `shale adopt` took the row over from another tool (nothing ran): an adopted migration,
/// or a Flyway repeatable whose reason says it was adopted (its kind stays `repeatable`, the
/// row `up` compares checksums with).
fn adopted(r: &AppliedRecord) -> bool {
    match r.kind {
        RecordKind::Adopted => true,
        RecordKind::Repeatable => r.reason.as_deref().and_then(crate::adopt::adopted_from).is_some(),
        _ => false,
    }
}

/// How long the migration of `r` ran: none for an adopted one (the row's duration is that of the
/// transaction that took it over; the other tool ran it).
fn ran_for(r: &AppliedRecord) -> Option<i64> {
    r.duration_ms.filter(|_| !adopted(r) && r.kind != RecordKind::Repair)
}

/// The tool an adopted row was taken over from, where its reason says.
fn adopted_from(r: &AppliedRecord) -> Option<crate::adopt::Tool> {
    r.reason.as_deref().filter(|_| adopted(r)).and_then(crate::adopt::adopted_from)
}

/// The class of a Flyway Java migration an adopted row took over (no file has it), if it is one.
fn adopted_java_class(r: &AppliedRecord) -> Option<String> {
    r.reason
        .as_deref()
        .filter(|_| r.kind == RecordKind::Adopted)
        .and_then(crate::adopt::adopted_code)
        .map(str::to_string)
}

/// What the reason of a repair row ends with when it records as applied a migration whose file
/// was removed on purpose ([`file_removed_reason`]).
const FILE_REMOVED: &str = " [its file was removed on purpose: applied, with no file]";

/// The reason kept for a repair that records as applied a migration whose file is gone (deleted
/// after a squash or a baseline, as teams do with old files): from then on it counts as applied
/// with no file, not as missing. A file of that version that comes back is checked as before.
pub fn file_removed_reason(reason: &str) -> String {
    format!("{reason}{FILE_REMOVED}")
}

/// Whether `reason` reads as one [`file_removed_reason`] wrote.
pub fn is_file_removed_reason(reason: &str) -> bool {
    reason.trim_end().ends_with(FILE_REMOVED.trim())
}

/// Whether `r` counts as applied with no file, so it is not missing: taken over that way (a
/// Flyway Java migration, a pop row no file has), or repaired that way after its file was removed
/// on purpose ([`file_removed_reason`]).
pub fn applied_without_file(r: &AppliedRecord) -> bool {
    let Some(reason) = r.reason.as_deref() else { return false };
    match r.kind {
        RecordKind::Adopted => crate::adopt::adopted_without_file(reason),
        RecordKind::Repair => r.status == RecordStatus::Succeeded && is_file_removed_reason(reason),
        _ => false,
    }
}

/// The folder (or file) the history recorded for `m`'s version, when it is another Prisma folder
/// (or sql-migrate file) of the same number, still in the directory: one sharing the number was
/// added before `m` since, which moved the versions of those after it (`.1`, `.2` go by the order
/// of their names). A recorded one no longer there was renamed or removed: not this.
fn twin_moved<'r>(set: &MigrationSet, m: &Migration, r: &'r AppliedRecord) -> Option<&'r str> {
    fn folder(file: &str) -> &str {
        file.split('/').next().unwrap_or(file)
    }
    // Cheap checks first: this runs for every applied migration on every start, and the history
    // recording the file itself (nearly always) settles it.
    if !m.layout.knows_migrations_by_name() {
        return None;
    }
    let recorded = folder(r.path.as_deref()?);
    if recorded == folder(&m.file) {
        return None;
    }
    set.twins_of(m).into_iter().any(|t| folder(&t.file) == recorded).then_some(recorded)
}

/// Whether the history holds a succeeded migration from `first` up to (not including) `last`.
fn applied_in(history: &History, first: &Version, last: &Version) -> bool {
    history.versioned().any(|(v, r)| r.status == RecordStatus::Succeeded && first <= &v && &v < last)
}

/// The version of a migration with no file, as its file wrote it (`0005`, where the history
/// keeps `5`), when the path the history recorded still says (its name, or its folder's: diesel's,
/// Prisma's), read as the loader reads names; else as the history keeps it.
fn recorded_version(version: &Version, r: &AppliedRecord) -> String {
    let written = r.path.as_deref().into_iter().flat_map(|p| p.split('/')).find_map(|part| {
        let stem = part.strip_suffix(".sql").unwrap_or(part);
        [false, true]
            .into_iter()
            .find_map(|dashes| crate::layout::split_version(stem, dashes))
            .map(|(text, _)| text)
            .filter(|text| Version::parse(text).as_ref() == Some(version))
    });
    written.unwrap_or_else(|| version.canonical())
}

fn migration_state(m: &Migration, records: &Records) -> State {
    let record = records.of(m);
    match record.map(|r| r.status) {
        Some(RecordStatus::Succeeded) => {
            let record = record.unwrap();
            // A file holding its down beside its up (dbmate's, goose's sections) is the same
            // migration while its up section is what ran: a fixed down changes nothing applied.
            let same = record.checksum.as_deref().is_none_or(|c| c == m.checksum.as_str())
                || (m.up.own_text().len() < m.up.text.len() && record.up_sql.as_deref() == Some(m.up.own_text()));
            match (m.kind, same) {
                // Liquibase's `runAlways` and `runOnChange`: due again, in its place.
                (MigrationKind::Versioned, _) if m.rerun == Rerun::Always => State::Pending,
                (_, true) => State::Applied,
                (MigrationKind::Versioned, false) if m.rerun == Rerun::WhenChanged => State::Pending,
                (MigrationKind::Versioned, false) => State::Modified,
                // A changed repeatable (or seed) is simply due again.
                (MigrationKind::Repeatable | MigrationKind::Seed, false) => State::Pending,
            }
        }
        Some(RecordStatus::Failed | RecordStatus::Running) => State::Failed,
        Some(RecordStatus::RolledBack) | None => match (&m.version, records.baseline.as_ref(), records.newest.as_ref())
        {
            // The baseline's own file, changed since it was recorded (`baseline --from-database`
            // wrote it): databases built from it would differ from the ones it was recorded on.
            (Some(v), Some(b), _)
                if v == b && records.baseline_checksum().is_some_and(|c| c != m.checksum.as_str()) =>
            {
                State::Modified
            }
            (Some(v), Some(b), _) if v <= b && records.under_baseline(m).is_none() => State::Baseline,
            (Some(v), _, Some(n)) if v < n => State::OutOfOrder,
            _ => State::Pending,
        },
    }
}

/// The migrations written in code (JavaScript, TypeScript, ...) that were written after shale
/// took the database over, as their names tell: the tool they were written for no longer runs
/// here, and shale runs SQL only, so nothing would ever run them (node-pg-migrate trial: `up`
/// said nothing to apply, and the application started without its change). Those written before
/// are the old tool's, which it ran. One recorded (`repair --applied`), or with a SQL file of its
/// version beside it, is dealt with. A name's time in a zone unknown gets 14 hours either way.
fn written_since_the_switch<'s>(
    set: &'s MigrationSet,
    history: &History,
    records: &Records,
) -> Vec<&'s crate::layout::CodeMigration> {
    let Some(switch) = switch_time(set, history) else { return Vec::new() };
    // Below the baseline and not among the files it listed: it came after (a branch written before
    // the switch, merged since), whatever its name's time says, and the old tool never ran it
    // here (Rails trial: a late `.rb` passed over, `up` and `validate` saying all was well).
    let merged_since = |c: &crate::layout::CodeMigration| {
        records.covered.as_ref().is_some_and(|covered| !covered.contains(&c.version))
            && records.baseline.as_ref().is_some_and(|baseline| &c.version <= baseline)
    };
    set.code_migrations
        .iter()
        .filter(|c| {
            let slack = if c.zone_known { 60 } else { UNKNOWN_ZONE_SLACK };
            (c.written_at > switch + slack || merged_since(c)) && !dealt_with(set, records, c)
        })
        .collect()
}

/// How far a name's time in a zone unknown may be from UTC, either way.
const UNKNOWN_ZONE_SLACK: u64 = 14 * 3600;

/// When shale's history began (its oldest row), in seconds since 1970, where there are
/// migrations in code to compare with it.
fn switch_time(set: &MigrationSet, history: &History) -> Option<u64> {
    if set.code_migrations.is_empty() {
        return None;
    }
    let seconds = |text: &str| {
        let at = humantime::parse_rfc3339_weak(text).ok()?;
        Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
    };
    history.records.iter().filter_map(|r| seconds(r.applied_at.as_deref()?)).min()
}

/// A migration in code recorded as applied (`repair --applied`), covered by the baseline (which
/// lists the old tool's code migrations it found), or with a SQL file of its version beside it:
/// dealt with (review: one the baseline covered was warned about on every run).
fn dealt_with(set: &MigrationSet, records: &Records, c: &crate::layout::CodeMigration) -> bool {
    records.by_version.get(&c.version).is_some_and(|r| r.status == RecordStatus::Succeeded)
        || records.covered.as_ref().is_some_and(|covered| covered.contains(&c.version))
        || set.find(&c.version).is_some()
}

/// The migrations in code whose name's time, in a zone unknown (Knex's `20240101120000`), falls
/// within 14 hours either side of when shale's history began, not dealt with: the name cannot
/// say whether it was written before the switch (the old tool ran it) or after (a new one, which
/// never runs) (Knex trial: a `.js` written on the day of the switch was passed over, unsaid).
pub fn written_about_the_switch<'s>(set: &'s MigrationSet, history: &History) -> Vec<&'s crate::layout::CodeMigration> {
    let Some(switch) = switch_time(set, history) else { return Vec::new() };
    let records = Records::new(history);
    set.code_migrations
        .iter()
        .filter(|c| {
            !c.zone_known
                && c.written_at + UNKNOWN_ZONE_SLACK > switch
                && c.written_at <= switch + UNKNOWN_ZONE_SLACK
                && !dealt_with(set, &records, c)
        })
        .collect()
}

/// Options for planning `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub target: Target,
    pub allow_out_of_order: bool,
}

/// The problem of `record`'s migration (at `version`), which no file has.
fn missing(set: &MigrationSet, version: &Version, record: &AppliedRecord) -> PlanError {
    let in_its_file = record
        .path
        .as_deref()
        .is_some_and(|path| set.migrations.iter().any(|m| m.layout == Layout::Liquibase && m.file == path));
    PlanError::Missing {
        version: recorded_version(version, record),
        name: record.name.clone(),
        file: record.path.clone(),
        in_its_file,
    }
}

/// Of the migrations `plan` would apply, the first whose newest record is a failure written after
/// record `seen_up_to` (the newest this runner saw before it waited for the lock): another runner
/// tried it meanwhile and it failed, and trying it again at once would fail the same way, each
/// replica of an application in turn (the package trial: three workers, three failed attempts of
/// the same migration, each as long as the first).
pub fn failed_since<'h>(plan: &Plan, history: &'h History, seen_up_to: i64) -> Option<(String, &'h AppliedRecord)> {
    let records = Records::new(history);
    plan.steps.iter().filter(|s| s.direction == StepDirection::Up).find_map(|step| {
        let record = records.by_version.get(step.version.as_ref()?)?;
        (record.status == RecordStatus::Failed && record.id > seen_up_to).then(|| (step.label(), *record))
    })
}

/// The migrations `up` should apply, in order, or every reason it must not.
pub fn plan_up(set: &MigrationSet, history: &History, options: &UpOptions) -> Result<Plan, Vec<PlanError>> {
    let records = Records::new(history);
    let states = file_states(set, history, &records);
    // A version the history has and no file does (a Java migration Flyway ran counts as applied),
    // and a migration shale cannot run (goose's Go files) that is not applied, which stops `up`
    // only when the run would reach it: `up --to V` below the first of them builds a database up
    // to there. In version order, the two together.
    let mut absent: Vec<(Version, PlanError)> = missing_records(set, &records)
        .into_iter()
        .filter(|(_, r)| !applied_without_file(r))
        .map(|(v, r)| {
            let error = missing(set, &v, r);
            (v, error)
        })
        .collect();
    // The newest migration before `version` still to run: an up to it applies what comes first.
    let due_before = |version: &Version| {
        set.migrations
            .iter()
            .zip(&states)
            .rfind(|(m, state)| {
                m.version.as_ref().is_some_and(|v| v < version)
                    && matches!(state, State::Pending | State::OutOfOrder | State::Failed)
            })
            .map(|(m, _)| m.version_text.clone())
    };
    let beyond_target = |version: &Version| matches!(&options.target, Target::Version(to) if version > to);
    for u in &set.unrunnable {
        // A Go file under the baseline ran as Go before it (`baseline 3` over goose's 002_b.go
        // stopped `up`, where the baseline says what is under it counts as applied).
        let applied = records.by_version.get(&u.version).is_some_and(|r| r.status == RecordStatus::Succeeded)
            || records.baseline_covers(&u.version);
        if !applied && !beyond_target(&u.version) {
            let before = due_before(&u.version);
            let error = PlanError::Unrunnable { version: u.version_text.clone(), path: u.path.clone(), before };
            absent.push((u.version.clone(), error));
        }
    }
    for c in written_since_the_switch(set, history, &records).into_iter().filter(|c| !beyond_target(&c.version)) {
        let error = PlanError::Unrunnable {
            version: c.version_text.clone(),
            path: c.path.clone(),
            before: due_before(&c.version),
        };
        absent.push((c.version.clone(), error));
    }
    absent.sort_by(|a, b| a.0.cmp(&b.0));
    let mut errors: Vec<PlanError> = absent.into_iter().map(|(_, error)| error).collect();
    // Sized once: with thousands pending, growing by doubling would hold up to twice the steps.
    let due = states.iter().filter(|s| !matches!(s, State::Applied | State::Baseline)).count();
    let mut steps = Vec::with_capacity(due);
    // Said once, not once per change: every number of another plan is "moved".
    let other_plan = another_plans_history(set, &records);
    errors.extend(other_plan.clone());
    for (m, state) in set.migrations.iter().zip(states) {
        if let Some(recorded) =
            m.version.as_ref().and_then(|v| records.by_version.get(v)).and_then(|r| twin_moved(set, m, r))
        {
            errors.push(PlanError::TwinMoved { label: m.label(), path: m.up.path.clone(), recorded: recorded.into() });
            continue;
        }
        // A Sqitch change is its name, a Liquibase changeset its id in its file: the history's at
        // its number must be it.
        let placed_record =
            m.version.as_ref().filter(|_| m.layout.numbered_by_place()).and_then(|v| records.by_version.get(v));
        let moved = |r: &&&AppliedRecord| {
            let other_file = m.layout == Layout::Liquibase
                && r.path.as_deref().is_some_and(|f| !crate::layout::same_file(f, &m.file));
            !r.name.is_empty() && (r.name != m.name || other_file)
        };
        if let Some(record) = placed_record.filter(moved) {
            // A plan's first change is never preceded by one added since: another plan's history,
            // said once, not once per change.
            if other_plan.is_none() {
                let (label, path, recorded) = (m.label(), m.up.path.clone(), record.name.clone());
                errors.push(PlanError::PlanMoved { label, path, recorded });
            }
            continue;
        }
        let mut resume_from = 0;
        let mut resume_in_doubt = false;
        let mut resume_cursor = None;
        match state {
            State::Applied | State::Baseline | State::Unrunnable => continue,
            State::Modified => {
                let (label, path) = (m.label(), m.up.path.clone());
                errors.push(PlanError::Modified { label, path, in_comments_only: false, parameter: None });
                continue;
            }
            State::OutOfOrder if !(options.allow_out_of_order || m.up.directives().out_of_order) => {
                // As its file writes it (`20250306_0000`, not `20250306.0`: breadth trial, the
                // same version was spelled two ways), where the file is here.
                let newest = records
                    .newest
                    .as_ref()
                    .map(|v| set.find(v).map_or_else(|| v.canonical(), |newest| newest.version_text.clone()))
                    .unwrap_or_default();
                let under_baseline = records.under_baseline(m).map(Version::canonical);
                errors.push(PlanError::OutOfOrder {
                    label: m.label(),
                    path: m.up.path.clone(),
                    newest,
                    under_baseline,
                    liquibase: m.layout == Layout::Liquibase,
                });
                continue;
            }
            State::Failed => {
                let record = m.version.as_ref().and_then(|v| records.by_version.get(v).copied());
                if let Some(record) = record {
                    let previous = record.up_sql.as_deref();
                    match resume_point(&m.up, previous, record.statements_done, || m.label(), false) {
                        Ok(at) => {
                            resume_from = at;
                            // A backfill's batches commit with their position: nothing is in doubt.
                            if m.up.backfill(at).is_some() {
                                resume_cursor = record.resume_cursor.clone();
                            } else {
                                resume_in_doubt =
                                    record.status == RecordStatus::Running && m.up.no_transaction.is_some();
                            }
                        }
                        Err(e) => {
                            errors.push(e);
                            continue;
                        }
                    }
                }
            }
            State::Pending | State::OutOfOrder | State::Missing => {}
        }
        if let Some((first, last)) = m.squashed().filter(|(first, last)| applied_in(history, first, last)) {
            let applied = history
                .versioned()
                .filter(|(v, r)| r.status == RecordStatus::Succeeded && &first <= v && v < &last)
                .map(|(v, _)| v)
                .max()
                .map(|v| v.canonical())
                .unwrap_or_default();
            errors.push(PlanError::InsideSquash {
                label: m.label(),
                path: m.up.path.clone(),
                applied,
                first: first.canonical(),
            });
            continue;
        }
        steps.push(Step { resume_in_doubt, resume_cursor, ..up_step(m, resume_from) });
    }
    // A change removed from a plan moves the places after it: the last recorded place has no
    // change now, which is the move, not a file gone (a repair of it would record the wrong thing).
    if errors.iter().any(|e| matches!(e, PlanError::PlanMoved { .. })) {
        errors.retain(|e| !matches!(e, PlanError::Missing { .. }));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match &options.target {
        Target::All => {}
        Target::Version(to) => {
            if set.find(to).is_none() && history.current_version().as_ref() != Some(to) {
                return Err(vec![PlanError::UnknownVersion { version: to.canonical() }]);
            }
            steps.retain(|s| s.version.as_ref().is_some_and(|v| v <= to));
        }
        Target::Steps(n) => {
            steps.retain(|s| s.kind == MigrationKind::Versioned);
            steps.truncate(*n);
        }
    }
    Ok(Plan { steps })
}

/// The migrations not applied yet, in the order `up` takes them, whatever `up` would refuse (a
/// changed file, a Go migration ahead, one out of order): what `shale lint` judges against a
/// database, so that a refusal does not hide the findings in the files behind it.
pub fn plan_pending(set: &MigrationSet, history: &History) -> Plan {
    let records = Records::new(history);
    let states = file_states(set, history, &records);
    let steps = set
        .migrations
        .iter()
        .zip(states)
        .filter(|(_, state)| matches!(state, State::Pending | State::OutOfOrder | State::Failed))
        .map(|(m, _)| up_step(m, 0))
        .collect();
    Plan { steps }
}

/// Whether the down SQL a history row kept is the down to run: it is not blank, and it holds a
/// statement where a generated down is there to take its place.
fn kept_down_serves(sql: &str, generated_instead: bool) -> bool {
    !sql.trim().is_empty() && (!generated_instead || !kept_down_runs_nothing(sql))
}

/// The down SQL a history row kept holds no statement (its section of a file was left empty).
fn kept_down_runs_nothing(sql: &str) -> bool {
    sql.trim().is_empty() || history_down(PathBuf::new(), sql).is_ok_and(|s| s.runs_nothing())
}

/// The down SQL a history row kept, as a script. Rows written before shale kept a script's own
/// section kept a sectioned file whole (dbmate's `-- migrate:up` and `-- migrate:down`, goose's,
/// tern's): of such a text, only its down section is the down.
fn history_down(path: PathBuf, sql: &str) -> Result<std::sync::Arc<Script>, LoadError> {
    let sectioned = crate::directives::has_tool_comments(sql).then(|| {
        let file = crate::layout::SourceFile { relative: "1_history.sql".into(), bytes: sql.as_bytes().to_vec() };
        let set = MigrationSet::load(std::path::Path::new(""), vec![file]).ok()?;
        set.migrations.into_iter().next().and_then(|m| m.down)
    });
    match sectioned.flatten() {
        Some(down) => {
            let mut down = std::sync::Arc::unwrap_or_clone(down);
            down.path = path;
            Ok(down.into())
        }
        None => Script::parse(path, sql.to_string(), 0..sql.len(), None).map(Into::into),
    }
}

/// Where a failed no-transaction script picks up: after the statements that succeeded (`done`),
/// if they are still the text they were (`previous`, the script as that attempt ran it). A
/// transactional failure left nothing behind, so it starts over.
fn resume_point(
    script: &Script,
    previous: Option<&str>,
    done: Option<i32>,
    label: impl Fn() -> String,
    reverting: bool,
) -> Result<usize, PlanError> {
    let done = done.unwrap_or(0).max(0) as usize;
    if done == 0 {
        return Ok(0);
    }
    // Part of it ran outside a transaction, and the file now asks for one: run whole, it would run
    // those statements again.
    if script.no_transaction.is_none() {
        return Err(PlanError::ResumeChanged {
            label: label(),
            path: script.path.clone(),
            statement: done,
            reverting,
            now_in_a_transaction: true,
        });
    }
    let previous = previous.unwrap_or("");
    let old = crate::split::split(previous).unwrap_or_default();
    let unchanged = done <= old.len()
        && done <= script.statements.len()
        && (0..done).all(|i| previous[old[i].span.clone()] == *script.statement_text(i));
    if unchanged {
        Ok(done)
    } else {
        Err(PlanError::ResumeChanged {
            label: label(),
            path: script.path.clone(),
            statement: done,
            reverting,
            now_in_a_transaction: false,
        })
    }
}

/// The attempts at a down that did not finish (audit rows still running or failed), in history
/// order. Collected once: looking one up for each of a thousand applied migrations must not scan
/// the whole history each time (a no-op `up` plans through [`status`]).
fn unfinished_downs(history: &History) -> Vec<&AppliedRecord> {
    history
        .records
        .iter()
        .filter(|r| r.kind == RecordKind::Audit && matches!(r.status, RecordStatus::Running | RecordStatus::Failed))
        .collect()
}

/// The newest attempt at reverting the migration `applied` applied (an audit row of its version,
/// newer than that row), among `downs` ([`unfinished_downs`]).
fn down_attempt<'h>(downs: &[&'h AppliedRecord], applied: &AppliedRecord) -> Option<&'h AppliedRecord> {
    downs.iter().copied().find(|r| r.version == applied.version && r.id > applied.id)
}

/// A down of the migration `applied` applied that stopped with some of it done or in doubt: one that
/// ran outside a transaction and failed after its first statement, or whose runner died (a
/// transactional down that failed left nothing behind).
fn stopped_down<'h>(downs: &[&'h AppliedRecord], applied: &AppliedRecord) -> Option<&'h AppliedRecord> {
    down_attempt(downs, applied).filter(|a| a.status == RecordStatus::Running || a.statements_done.unwrap_or(0) > 0)
}

/// Whether a down of the migration `applied` applied stopped part-way (see [`stopped_down`]): a
/// repair row is what ends that.
pub fn down_stopped_part_way(history: &History, applied: &AppliedRecord) -> bool {
    stopped_down(&unfinished_downs(history), applied).is_some()
}

/// The last attempt at reverting the migration `applied` applied, when it stopped part-way: a down that ran outside a transaction and failed, or whose runner died, is
/// an audit row with the statements it got through. Where the next down picks up, and whether
/// the statement there may have run (the runner died with no answer for it).
fn down_resume_point(
    history: &History,
    applied: &AppliedRecord,
    script: &Script,
    label: &str,
) -> Result<(usize, bool), PlanError> {
    let Some(attempt) = down_attempt(&unfinished_downs(history), applied) else {
        return Ok((0, false));
    };
    let at = resume_point(script, attempt.down_sql.as_deref(), attempt.statements_done, || label.to_string(), true)?;
    let in_doubt = attempt.status == RecordStatus::Running && script.no_transaction.is_some();
    Ok((at, in_doubt))
}

fn up_step(m: &Migration, resume_from: usize) -> Step {
    Step {
        direction: StepDirection::Up,
        kind: m.kind,
        version: m.version.clone(),
        version_text: m.version_text.clone(),
        name: m.name.clone(),
        script: m.up.clone(),
        // Its own part of its file: a section's, not the whole of a file holding several.
        up_sql: m.up.own_text_shared(),
        down_sql: m.down.as_ref().map(|d| d.own_text_shared()),
        checksum: Some(m.checksum.0.clone()),
        resume_from,
        file: Some(m.file.clone()),
        resume_in_doubt: false,
        resume_cursor: None,
    }
}

/// The seed files to run: those never run or changed since (all of them with `force`).
pub fn plan_seeds(seeds: &MigrationSet, history: &History, force: bool) -> Plan {
    let steps = seeds
        .migrations
        .iter()
        .filter(|m| {
            force
                || !history.records.iter().any(|r| {
                    r.kind == RecordKind::Seed
                        && r.name == m.name
                        && r.status == RecordStatus::Succeeded
                        && r.checksum.as_deref() == Some(m.checksum.as_str())
                })
        })
        .map(|m| up_step(m, 0))
        .collect();
    Plan { steps }
}

/// The migrations `down` should revert, newest first. A down script comes from the file when it is
/// there, else from the SQL stored in the history when the migration was applied.
pub fn plan_down(set: &MigrationSet, history: &History, target: &Target) -> Result<Plan, Vec<PlanError>> {
    plan_down_generated(set, history, target, &GeneratedDowns::new())
}

/// Down SQL computed for migrations that have none (from the schemas before and after each, see
/// `shale down --generate`), by version.
pub type GeneratedDowns = BTreeMap<Version, std::sync::Arc<str>>;

/// The applied migrations a down to `target` reverts, newest first.
/// A directory whose Sqitch plan is another project's, or that holds none of the migrations the
/// history records as applied, is not the one they were applied from (`--dir` naming another
/// project's folder, an empty one): a down there reverts them from the history's copies, another
/// project's work, where `up` refuses the directory (Sqitch trial). One missing file is a down's
/// ordinary case (the history keeps its SQL), even where it is the only one; all of several
/// missing is the wrong directory.
fn not_this_directorys_history(set: &MigrationSet, history: &History) -> Option<PlanError> {
    if let Some(error) = another_plans_history(set, &Records::new(history)) {
        return Some(error);
    }
    let applied: Vec<Version> =
        history.versioned().filter(|(_, r)| r.status == RecordStatus::Succeeded).map(|(v, _)| v).collect();
    let here = |v: &Version| set.find(v).is_some() || set.find_unrunnable(v).is_some() || set.left_out.contains(v);
    (applied.len() > 1 && !applied.iter().any(here)).then_some(PlanError::NotTheirDirectory { recorded: applied.len() })
}

/// [`PlanError::OtherPlan`] where the history is another Sqitch plan's (two projects deployed to
/// one database, one history table).
pub fn another_plans(set: &MigrationSet, history: &History) -> Option<PlanError> {
    another_plans_history(set, &Records::new(history))
}

/// The history's first change is not this Sqitch plan's first: the history is another plan's
/// (two projects deployed to one database), not this one moved.
fn another_plans_history(set: &MigrationSet, records: &Records) -> Option<PlanError> {
    let first = set.versioned().find(|m| m.layout == Layout::Sqitch && m.version_text == "1")?;
    let record = records.by_version.get(first.version.as_ref()?)?;
    (!record.name.is_empty() && record.name != first.name).then(|| PlanError::OtherPlan {
        label: first.label(),
        path: first.up.path.clone(),
        recorded: record.name.clone(),
    })
}

fn down_candidates<'h>(
    set: &MigrationSet,
    history: &'h History,
    target: &Target,
) -> Result<Vec<(Version, &'h AppliedRecord)>, Vec<PlanError>> {
    // A Liquibase changeset the selection leaves out is not reverted either, as Liquibase's
    // rollback leaves it be.
    let mut applied: Vec<(Version, &AppliedRecord)> =
        history.versioned().filter(|(v, r)| r.status == RecordStatus::Succeeded && !set.left_out.contains(v)).collect();
    applied.sort_by(|a, b| b.0.cmp(&a.0));
    match target {
        Target::All => {}
        Target::Version(to) => {
            // Version 0 is "before the first migration", as in golang-migrate's `goto 0`.
            let zero = Version::parse("0").expect("0 is a version");
            if to != &zero && set.find(to).is_none() && !applied.iter().any(|(v, _)| v == to) {
                return Err(vec![PlanError::UnknownVersion { version: to.canonical() }]);
            }
            if let Some(baseline) = Records::new(history).baseline.filter(|b| to < b) {
                let written = |v: &Version| set.find(v).map_or_else(|| v.canonical(), |m| m.version_text.clone());
                return Err(vec![PlanError::BelowBaseline { target: written(to), baseline: written(&baseline) }]);
            }
            applied.retain(|(v, _)| v > to)
        }
        Target::Steps(n) => applied.truncate(*n),
    }
    if let Some((oldest, _)) = applied.last() {
        let records = Records::new(history);
        let part_applied = records
            .by_version
            .iter()
            .filter(|(v, r)| {
                *v > oldest
                    && (r.status == RecordStatus::Running
                        || r.status == RecordStatus::Failed && r.statements_done.unwrap_or(0) > 0)
            })
            .min_by_key(|(v, _)| *v);
        if let Some((version, record)) = part_applied {
            let file = set.find(version);
            return Err(vec![PlanError::PartAppliedAbove {
                label: file.map(|m| m.label()).unwrap_or_else(|| {
                    crate::layout::versioned_label(&recorded_version(version, record), &record.name)
                }),
                path: file.map(|m| m.up.path.clone()),
                statements: record.statements_done.unwrap_or(0),
                cut_off: record.status == RecordStatus::Running,
            }]);
        }
    }
    Ok(applied)
}

/// The migrations a down to `target` would revert that have no down: no down file, and none kept
/// in the history. Oldest first.
pub fn missing_downs(set: &MigrationSet, history: &History, target: &Target) -> Result<Vec<Version>, Vec<PlanError>> {
    let files = set.by_version();
    let mut missing: Vec<Version> = down_candidates(set, history, target)?
        .into_iter()
        .filter(|(version, record)| {
            let file = files.get(version);
            let file_down = file.and_then(|m| m.down.as_ref()).is_some_and(|d| !d.runs_nothing());
            // The history's down serves only where the file is gone (a squash): a file here
            // without one was left without it (see [`plan_down_generated`]).
            !file_down && (file.is_some() || record.down_sql.as_deref().is_none_or(kept_down_runs_nothing))
        })
        .map(|(version, _)| version)
        .collect();
    missing.reverse();
    Ok(missing)
}

/// [`plan_down`], using `generated` for the migrations that have no down of their own.
pub fn plan_down_generated(
    set: &MigrationSet,
    history: &History,
    target: &Target,
    generated: &GeneratedDowns,
) -> Result<Plan, Vec<PlanError>> {
    if let Some(error) = not_this_directorys_history(set, history) {
        return Err(vec![error]);
    }
    let applied = down_candidates(set, history, target)?;
    let files = set.by_version();
    let mut steps = Vec::new();
    let mut errors = Vec::new();
    for (version, record) in applied {
        let file = files.get(&version).copied();
        let label = file
            .map(|m| m.label())
            .unwrap_or_else(|| crate::layout::versioned_label(&recorded_version(&version, record), &record.name));
        // A down that runs nothing gives way to a generated one, where one was asked for.
        let own = file.and_then(|m| m.down.clone()).filter(|d| !(d.runs_nothing() && generated.contains_key(&version)));
        // The history's copy of a down serves where the migration's file is gone (squashed, removed
        // on purpose); where the file is here, its down is the file's: one deleted from it (to make
        // the migration irreversible) is not run from the history (golang-migrate trial).
        let kept = record.down_sql.as_ref().filter(|_| file.is_none());
        let script = match (own, kept) {
            (Some(script), _) if crate::layout::unwritten_down(script.own_text()) => {
                errors.push(PlanError::UnwrittenDown { label, path: script.path.clone(), empty_file: false });
                continue;
            }
            // diesel refuses an empty migration file ("Attempted to run an empty migration"):
            // recorded as reverted, what its up made stayed, and the next up failed on it (breadth
            // trial: Lemmy's new column, its `down.sql` left at 0 bytes).
            (Some(script), _)
                if file.is_some_and(|m| m.layout == Layout::DieselFolder) && script.own_text().trim().is_empty() =>
            {
                errors.push(PlanError::UnwrittenDown { label, path: script.path.clone(), empty_file: true });
                continue;
            }
            (Some(script), _) => script,
            // Kept by the history, unless it runs nothing and a generated one was asked for.
            (None, Some(sql)) if kept_down_serves(sql, generated.contains_key(&version)) => {
                let path = PathBuf::from(format!("<history of {label}: down>"));
                match history_down(path, sql) {
                    Ok(script) => script,
                    Err(_) => {
                        errors.push(PlanError::NoDown { label, layout: file.map(|m| m.layout) });
                        continue;
                    }
                }
            }
            (None, _) if generated.contains_key(&version) => {
                let sql = generated[&version].to_string();
                let path = PathBuf::from(format!("<generated down of {label}>"));
                match Script::parse(path, sql.clone(), 0..sql.len(), None) {
                    Ok(script) => script.into(),
                    Err(_) => {
                        errors.push(PlanError::NoDown { label, layout: file.map(|m| m.layout) });
                        continue;
                    }
                }
            }
            // Written in code shale cannot run (re-check: a yoyo Python step was said to be gone).
            _ if file.is_none() && set.find_unrunnable(&version).is_some() => {
                let u = set.find_unrunnable(&version).expect("found above");
                let label = crate::layout::versioned_label(&u.version_text, &u.name);
                errors.push(PlanError::UnrunnableDown { version: u.version_text.clone(), label, path: u.path.clone() });
                continue;
            }
            // Its file gone, and the history keeping no down: what is missing is the file.
            _ if file.is_none() => {
                errors.push(missing(set, &version, record));
                continue;
            }
            _ => {
                errors.push(PlanError::NoDown { label, layout: file.map(|m| m.layout) });
                continue;
            }
        };
        let (resume_from, resume_in_doubt) = match down_resume_point(history, record, &script, &label) {
            Ok(at) => at,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        steps.push(Step {
            direction: StepDirection::Down,
            kind: MigrationKind::Versioned,
            version_text: file.map(|m| m.version_text.clone()).unwrap_or_else(|| version.canonical()),
            version: Some(version),
            name: record.name.clone(),
            up_sql: record.up_sql.clone().unwrap_or_default().into(),
            down_sql: Some(script.own_text_shared()),
            script,
            checksum: record.checksum.clone(),
            resume_from,
            file: file.map(|m| m.file.clone()).or_else(|| record.path.clone()),
            resume_in_doubt,
            resume_cursor: None,
        });
    }
    if errors.is_empty() {
        Ok(Plan { steps })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;

/// shale's own tables, which no migration may change: the history table and its lease table, in
/// their schema.
#[derive(Debug, Clone)]
pub struct OwnTables {
    pub schema: String,
    pub tables: Vec<String>,
}

/// Refuses every statement of the plan that changes shale's own tables: anything but reading
/// them, granting on them or commenting on them, and a DROP SCHEMA of their schema. A migration
/// that dropped the history would make shale forget what it applied (outside a transaction,
/// irrevocably), so this is checked before anything runs.
pub fn check_own_tables(plan: &Plan, own: &OwnTables) -> Result<(), Vec<PlanError>> {
    use crate::tokens::{shape_tokens, Token};
    let matches = |token: &Token, name: &str| match token {
        Token::Word(w) => name == name.to_lowercase() && *w == name.to_uppercase(),
        Token::Quoted(q) => q.len() >= 2 && q[1..q.len() - 1].replace("\"\"", "\"") == name,
        _ => false,
    };
    let mut errors = Vec::new();
    for step in &plan.steps {
        let script = &step.script;
        for (index, statement) in script.statements.iter().enumerate() {
            // (A row of a seed's INSERT cannot change the tables; its target comes before them.)
            let toks = shape_tokens(script.statement_text(index));
            let word = |i: usize| match toks.get(i) {
                Some((Token::Word(w), _)) => w.as_str(),
                _ => "",
            };
            let found = if word(0) == "DROP" && word(1) == "SCHEMA" {
                toks.iter().find(|(t, _)| matches(t, &own.schema)).map(|_| format!("schema {}", own.schema))
            } else {
                let reads = matches!(word(0), "SELECT" | "GRANT" | "REVOKE" | "COMMENT" | "EXPLAIN")
                    || (word(0) == "CREATE" && toks.iter().take(5).any(|(t, _)| *t == Token::Word("VIEW".into())));
                if reads {
                    None
                } else {
                    own.tables
                        .iter()
                        .find(|table| toks.iter().any(|(t, _)| matches(t, table)))
                        .map(|table| format!("{}.{}", own.schema, table))
                }
            };
            if let Some(table) = found {
                let index = crate::position::LineIndex::new(&script.text);
                let (line, column) = index.line_col(&script.text, statement.span.start);
                errors.push(PlanError::OwnTable { path: script.path.clone(), line, column, table });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
