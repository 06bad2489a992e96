//! Errors of the PostgreSQL layer. A migration failure carries everything the CLI needs to point
//! at the file, line and column; no error text ever holds a password.
//!
//! An error's text says what happened, in words an application embedding shale can show its own
//! users: it names no command-line flag and no configuration file. What to do about it is
//! [`PgError::hint`]; the CLI words its own hints from the variant's fields.

use std::path::PathBuf;
use std::time::Duration;

use crate::connect::ConnectError;
use crate::lock::LockHolder;

/// Where in a migration file a failure happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLocation {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The text of that line, for a snippet with a caret.
    pub line_text: String,
}

/// What the server said about a failed statement, mapped back into the file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DbFailure {
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The server's context line (inside which function, which line of it).
    pub context: Option<String>,
    /// The failing statement, when known.
    pub statement: Option<String>,
    pub location: Option<SourceLocation>,
    /// What to do about it, when shale knows, in words for any application (no command names):
    /// [`remedy`] for the failure's SQLSTATE, then, for a migration that runs outside a
    /// transaction, what of it stays and how to go on ([`PartWay::advice`]).
    pub remedy: Option<String>,
    /// True when the migration ran in a transaction that was rolled back: nothing of it stayed.
    pub rolled_back: bool,
    /// The migration's down failed (it was being reverted): it stays recorded as applied.
    pub reverting: bool,
    /// Of a `--single-transaction` batch, the other migrations rolled back with the failing one
    /// (their labels, in order; all of them where the failure could not be placed in one, as at
    /// COMMIT): they are pending again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rolled_back_with: Vec<String>,
    /// Where a migration that runs outside a transaction stopped (`None` for one that ran in a
    /// transaction): the fields its advice is written from.
    #[serde(skip)]
    pub part_way: Option<PartWay>,
}

impl DbFailure {
    /// A failure known by its SQLSTATE and message alone (no statement, place or advice): what a
    /// wait that ran out records, and the base other failures are made from.
    pub fn new(sqlstate: impl Into<String>, message: impl Into<String>) -> DbFailure {
        DbFailure {
            sqlstate: sqlstate.into(),
            message: message.into(),
            detail: None,
            hint: None,
            context: None,
            statement: None,
            location: None,
            remedy: None,
            rolled_back: false,
            reverting: false,
            rolled_back_with: Vec::new(),
            part_way: None,
        }
    }
}

/// Where a migration that runs outside a transaction (statement by statement, each recorded)
/// stopped when one of its statements failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartWay {
    /// The statements before the failing one: they ran and are recorded (0: none).
    pub done: usize,
    /// The failing statement is a batched backfill: the batches that committed are kept.
    pub backfill: bool,
    /// The migration's version, as a repair names it.
    pub version: String,
    /// The failing statement validated a constraint an earlier statement of the file added NOT
    /// VALID: what became of that constraint.
    pub not_valid: Option<NotValidLeft>,
    /// The failing statement built an index CONCURRENTLY and left it INVALID (its name).
    pub invalid_index: Option<String>,
}

/// A constraint a file added NOT VALID (new rows held to it at once) whose VALIDATE failed or was
/// stopped: dropped again, so that the application's writes are not refused while the rows are
/// fixed; still there where dropping it failed; or left, in force, where the run was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotValidLeft {
    pub table: String,
    pub constraint: String,
    /// The statement that added it (1-based).
    pub statement: usize,
    pub state: NotValidState,
}

/// What became of a [`NotValidLeft`] constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotValidState {
    Dropped,
    /// Dropping it failed, for this reason: the file starts again at its ADD all the same.
    DropFailed(String),
    /// The run stopped (Ctrl-C, or another statement failed) before its VALIDATE finished: it is
    /// in force, and the file goes on where it stopped.
    Stopped,
}

impl NotValidLeft {
    /// What became of it, in words for any application.
    pub fn words(&self) -> String {
        let NotValidLeft { table, constraint, statement, state } = self;
        // A plain DROP waits behind the sessions holding the table, and every query on it behind
        // the DROP (the second live re-check: 26 s of stalled application): a short wait, tried
        // until it goes.
        let drop =
            format!("`SET lock_timeout = '1s'; ALTER TABLE {table} DROP CONSTRAINT {constraint}`, tried until it goes");
        match state {
            NotValidState::Dropped => format!(
                "the constraint {constraint} that statement {statement} added NOT VALID was dropped again, so that \
                 the application's writes (new rows, and updates of rows that break it) are not held to it until \
                 the file runs again, from its ADD"
            ),
            NotValidState::DropFailed(why) => format!(
                "the constraint {constraint} that statement {statement} added NOT VALID still holds the \
                 application's new rows to it (dropping it failed: {why}): drop it with a short wait, {drop} (a \
                 plain DROP waits behind the sessions holding the table, and every query on it waits behind the \
                 DROP); migrating again starts at its ADD"
            ),
            NotValidState::Stopped => format!(
                "the constraint {constraint} that statement {statement} added NOT VALID holds the application's new \
                 rows to it from now on, before its VALIDATE has run: where the application writes rows that break it, \
                 fix those writes, or drop it, {drop}, and add it again (NOT VALID) before migrating again, which goes \
                 on where the file stopped"
            ),
        }
    }
}

impl PartWay {
    /// What of the migration stays and how to go on, in words for any application; `reverting`:
    /// it was its down that stopped ([`DbFailure::reverting`]).
    pub fn advice(&self, reverting: bool) -> String {
        let done = self.done;
        let text = match (reverting, done) {
            (true, 0) => "nothing of the down ran (it runs outside a transaction, statement by statement), and the \
                 migration stays applied: fix the statement and revert it again"
                .to_string(),
            (true, _) => format!(
                "the down runs outside a transaction: statements 1 to {done} of it ran, and the migration stays \
                 recorded as applied; fix the failing statement and revert again to go on at statement {}, or revert \
                 the rest by hand and record that with a repair (rolled back, forced, with a reason)",
                done + 1
            ),
            (false, _) if self.backfill => format!(
                "statement {} is a batched backfill: the batches that committed are kept, and migrating again resumes \
                 at the next one",
                done + 1
            ),
            (false, 0) => "nothing of this file was applied (it runs outside a transaction, statement by statement): \
                 fix the statement and migrate again"
                .to_string(),
            (false, _) => format!(
                "statements 1 to {done} of this file are applied and recorded: fix the failing statement and migrate \
                 again to resume at statement {}",
                done + 1
            ),
        };
        self.with_what_is_left(text)
    }

    /// `text` after what the failing statement left, where it left something.
    pub fn with_what_is_left(&self, text: String) -> String {
        let mut out = text;
        if let Some(index) = &self.invalid_index {
            out = format!(
                "the failed build left the index {index} INVALID (never used, and, once its build got that far, kept up to date on every write): \
                 migrating again drops it before building it again; where the migration is removed instead, drop it: \
                 `DROP INDEX CONCURRENTLY {index}`; {out}"
            );
        }
        match &self.not_valid {
            Some(left) => format!("{}; {out}", left.words()),
            None => out,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A query of shale's own (history, lock) failed.
    #[error("{context}: {message}")]
    Query { context: &'static str, message: String, sqlstate: Option<String> },
    #[error("{}{label} failed{}: {}", what_failed(failure, label), location_text(failure), failure.message)]
    Migration { label: String, failure: Box<DbFailure> },
    #[error(
        "could not get the migration lock within {}s{}; another shale is migrating this database",
        waited.as_secs(),
        holder_text(holder)
    )]
    /// The holder is boxed to keep every `Result<_, PgError>` small.
    LockTimeout { waited: Duration, holder: Option<Box<LockHolder>> },
    #[error("the migration lock is gone (the session holding the advisory lock ended, or the table lease was not renewed in time or was taken over), so this runner stopped: another runner may be migrating now")]
    LockLost,
    /// The connection went away (a server crash, a network failure) while a migration ran.
    #[error("the connection was lost while migration {label} ran ({reason}): {outcome}")]
    ConnectionLost { label: String, reason: String, outcome: LostOutcome },
    /// A statement of a migration that runs outside a transaction may or may not have run (the
    /// run that sent it stopped without its result), and shale cannot tell which. `statement` is
    /// 1-based, `label` starts with the migration's version (as a repair names it), `reverting`
    /// says it was its down, and `running` is the pid of the session still running the statement,
    /// when one is (left by the run that stopped). What to do is [`PgError::hint`].
    #[error("{}: statement {statement} of migration {label} may or may not have run: {reason}", path.display())]
    InDoubt { label: String, path: PathBuf, statement: usize, reason: String, reverting: bool, running: Option<String> },
    /// A statement that would stall the application could not take its lock within the wait:
    /// these sessions held the table.
    #[error("migration {label}: its tables were held for the {:.1}s shale waits, so the statement that needs them was not run{}", waited.as_secs_f64(), held_by(blockers))]
    LockBlocked { label: String, waited: Duration, blockers: Vec<crate::lockwait::Blocker> },
    /// A stop was requested while the run waited: where that left the migration.
    #[error("{0}")]
    Interrupted(InterruptedWait),
    /// The connection cannot keep a transaction open (a statement-mode pooler): the advisory
    /// lock, which lives in an open transaction, cannot be held through it.
    #[error("the connection refuses an open transaction: {0}")]
    StatementPooler(String),
    /// The server's catalog answered something shale cannot read (a server version it does not know).
    #[error("{0}")]
    Catalog(String),
    #[error("the migration history is not what this shale expects: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Refused(String),
    /// A migration that must run outside a transaction (`reason`: why) was in a batch asked to
    /// run as one transaction.
    #[error(
        "{}: migration {label} must run outside a transaction ({reason}), so it cannot be part of a batch run as one transaction",
        path.display()
    )]
    OutsideOneTransaction { label: String, path: PathBuf, reason: String },
    /// The advisory migration lock was asked for, and the connection cannot keep open the
    /// transaction that holds it (a statement-mode pooler; `0` says how that showed).
    #[error("the advisory migration lock is held in an open transaction, which this connection refuses ({0})")]
    AdvisoryThroughPooler(String),
}

/// Where a stop requested while a migration waited left it ([`PgError::Interrupted`]); its
/// `Display` says it in words for any application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterruptedWait {
    /// Migration `label` had not started: it was waiting for `blockers` session(s) holding its
    /// tables.
    BeforeStart { label: String, blockers: usize },
    /// The batched backfill of migration `label` stopped between batches: `batches` of them,
    /// updating `updated` rows, committed in this run and are kept; migrating again resumes at the
    /// next batch.
    BetweenBatches { label: String, batches: u64, updated: u64 },
}

impl std::fmt::Display for InterruptedWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterruptedWait::BeforeStart { label, blockers } => write!(
                f,
                "migration {label} had not started: it was waiting for {blockers} session(s) holding its tables"
            ),
            InterruptedWait::BetweenBatches { label, updated, .. } => write!(
                f,
                "the backfill of {label} stopped between batches ({updated} row(s) updated by this run, each batch \
                 committed): migrating again resumes at the next batch"
            ),
        }
    }
}

/// What is known of a migration whose connection went away while it ran
/// ([`PgError::ConnectionLost`]); its `Display` says it in words for any application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostOutcome {
    /// The migration ran in a transaction whose COMMIT was sent: whether it committed is unknown.
    CommitUnknown,
    /// A migration that runs outside a transaction: statements 1 to `ran` ran, and the last of
    /// them may not be recorded yet. `reverting`: it was the migration's down.
    Unrecorded { ran: usize, reverting: bool },
    /// A migration that runs outside a transaction: the statements before `statement` (1-based)
    /// ran and are recorded, and whether `statement` ran is unknown. `reverting`: it was the
    /// migration's down.
    StatementUnknown { statement: usize, reverting: bool },
}

impl std::fmt::Display for LostOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let next = |reverting: bool| if reverting { "the next revert" } else { "the next run of the migrations" };
        match self {
            LostOutcome::CommitUnknown => f.write_str(
                "whether its transaction committed is unknown (it did if the migration status shows it applied; \
                 otherwise it was rolled back whole)",
            ),
            LostOutcome::Unrecorded { ran, reverting } => write!(
                f,
                "statements 1 to {ran} ran; statement {ran} may not be recorded yet: {} checks before running \
                 anything again",
                next(*reverting)
            ),
            LostOutcome::StatementUnknown { statement, reverting } => write!(
                f,
                "{}whether statement {statement} ran is unknown: {} checks before running it again",
                ran_before(*statement),
                next(*reverting)
            ),
        }
    }
}

/// "statements 1 to N ran and are recorded; " for the statements before `statement` (1-based),
/// empty for none.
pub fn ran_before(statement: usize) -> String {
    match statement {
        0 | 1 => String::new(),
        _ => format!("statements 1 to {} ran and are recorded; ", statement - 1),
    }
}

/// What comes before a failed migration's label: "migration ", "the down of migration ", or
/// nothing for a batch that failed as a whole, whose label says so ("the batch 001 a to 003 c").
pub fn what_failed(failure: &DbFailure, label: &str) -> &'static str {
    // A batch's label, and a Flyway callback's, say what they are.
    let says_what = label.starts_with("the batch ") || label.starts_with("the Flyway callback ");
    match (failure.reverting, says_what) {
        (_, true) => "",
        (true, false) => "the down of migration ",
        (false, false) => "migration ",
    }
}

fn location_text(failure: &DbFailure) -> String {
    failure.location.as_ref().map(|l| format!(" at {}:{}:{}", l.path.display(), l.line, l.column)).unwrap_or_default()
}

/// The sessions that held the tables, one a line after "; held by:" (empty for none).
pub fn held_by(blockers: &[crate::lockwait::Blocker]) -> String {
    let mut text = String::new();
    if !blockers.is_empty() {
        text.push_str("; held by:");
    }
    for b in blockers {
        text.push_str(&format!("\n  {b}"));
    }
    text
}

fn holder_text(holder: &Option<Box<LockHolder>>) -> String {
    holder.as_ref().map(|h| format!("; it is held by {h}")).unwrap_or_default()
}

impl PgError {
    /// What to do about the error, where shale knows, in words for any application (no flags,
    /// no configuration file names), e.g. "wait for it, or allow a longer wait for the migration
    /// lock". A failed migration's advice is in its [`DbFailure::remedy`].
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            PgError::Query { sqlstate, context, .. } => match sqlstate.as_deref() {
                Some("42501") if context.contains(crate::foreign::OTHER_TOOLS_HISTORY) => {
                    "the user needs SELECT on the other tool's history table, which shale reads to tell what that \
                     tool applied"
                        .into()
                }
                Some("42501") => {
                    "the user needs USAGE and CREATE on the history schema; or keep the history in a schema it owns"
                        .into()
                }
                Some("3F000") => "create the schema, or keep the history in a schema that exists".into(),
                _ => return None,
            },
            PgError::LockTimeout { holder, .. } => format!(
                "wait for it, or allow a longer wait for the migration lock{}",
                holder.as_deref().map(|h| format!("; {}", h.if_gone())).unwrap_or_default()
            ),
            PgError::LockLost => "check the server log, then read the migration status and migrate again".into(),
            PgError::LockBlocked { .. } => "run it again when they are done, or have shale end them: it can cancel \
                 their queries after a wait, and also end sessions idle in a transaction"
                .into(),
            PgError::OutsideOneTransaction { .. } => {
                "run the batch without one transaction around it (each migration then runs its own way)".into()
            }
            PgError::AdvisoryThroughPooler(_) => "use the table lock through a statement-mode pooler".into(),
            PgError::InDoubt { reverting, running: Some(pid), .. } => format!(
                "wait for it to end (or cancel it with SELECT pg_cancel_backend({pid})), then {} again",
                if *reverting { "revert" } else { "migrate" }
            ),
            PgError::InDoubt { statement, reverting: true, .. } => format!(
                "look whether its effect is there, then revert by hand what is left of the down (from statement {} \
                 if it ran, from statement {statement} if it did not) and record that with a repair (rolled back, \
                 forced, with a reason)",
                statement + 1
            ),
            PgError::InDoubt { statement, .. } => format!(
                "look whether its effect is there, then record what you found with a repair that resumes at \
                 statement {} if it ran, or at statement {statement} if it did not (with a reason); migrating then \
                 continues from there",
                statement + 1
            ),
            _ => return None,
        })
    }

    pub fn query(context: &'static str, error: tokio_postgres::Error) -> PgError {
        let (message, sqlstate) = match error.as_db_error() {
            Some(db) => (db.message().to_string(), Some(db.code().code().to_string())),
            None => (error.to_string(), None),
        };
        PgError::Query { context, message, sqlstate }
    }
}

/// A short remedy for the failures people hit most when migrating, in words for any application
/// (the CLI words its own for the SQLSTATEs whose way out is one of its flags or commands).
pub fn remedy(sqlstate: &str, message: &str) -> Option<String> {
    Some(match sqlstate {
        "2D000" => "a procedure (or DO block) commits or rolls back itself, which it cannot do inside the transaction shale runs the migration in: add `-- shale:no-transaction` to the file".into(),
        "25001" => "this statement cannot run inside a transaction: add `-- shale:no-transaction` to the file (shale then runs it statement by statement); in a file that already runs outside one, it stands in a block sent as one query (goose's StatementBegin ... StatementEnd), which runs as one transaction: move it out of the block".into(),
        "55P03" => "another session holds a conflicting lock (on the table, or on rows it updated in a transaction still open); retry when it is quieter, or raise the wait with `-- shale:lock-timeout=30s`".into(),
        "57014" if message.contains("user request") => "another session cancelled the statement (pg_cancel_backend); run the migration again when that is wanted".into(),
        "57014" if message.contains("statement timeout") => "the statement ran past statement_timeout; raise it with `-- shale:statement-timeout=...` in the file, or allow a longer statement timeout".into(),
        "42P07" | "42701" | "42710" | "42P06" | "42723" => "the object already exists: the database was changed outside shale; if that is this migration's whole work (another tool ran it), record it as applied with a repair; otherwise use IF NOT EXISTS or remove the object first; if another migration tool built the database, take over that tool's history".into(),
        "42P01" | "42703" | "42883" => "the object does not exist (yet): check the migration order and names".into(),
        "2BP01" => "other objects depend on what the statement drops (the detail names them): drop or change them first, in this migration (CASCADE would drop them too, without naming them); a view or function a repeatable migration builds is made again only when its file changes, so change that file with it".into(),
        "42501" => "the user lacks a privilege: GRANT it, or run as the owner of the objects".into(),
        "42704" if message.starts_with("role ") => "roles belong to the server, not to one database's migrations: create the role there first (CREATE ROLE), or create it in an earlier migration (DO block that checks pg_roles)".into(),
        // A new partition (or one attached) whose rows sit in the default partition now.
        "23514" if message.contains("for default partition") => "rows the new partition's bound takes are in the default partition: move them out first (create the partition as a table of its own, INSERT the rows taken from the default partition into it and DELETE them there, then ATTACH PARTITION it), in one migration".into(),
        "23502" | "23505" | "23503" | "23514" => "existing rows violate the new rule: fix the data first in this or an earlier migration".into(),
        "0A000" if message.contains("ALTER TYPE") => "run ALTER TYPE ... ADD VALUE in its own migration with `-- shale:no-transaction`".into(),
        // (Supabase trial: its migrations on plain PostgreSQL stopped at `pg_net` with no pointer.)
        "0A000" if message.starts_with("extension ") && message.ends_with("is not available") => {
            let supabase = ["pg_net", "pgsodium", "pg_graphql", "supabase_vault", "pg_jsonschema", "wrappers", "pgjwt", "pg_tle"]
                .iter()
                .any(|x| message.contains(&format!("\"{x}\"")));
            match supabase {
                true => "this extension comes with Supabase's own PostgreSQL (its `supabase/postgres` image, which `supabase start` runs): run these migrations there, or on a server with the extension installed".into(),
                false => "the extension is not installed on this server: install its package where PostgreSQL runs (on Debian, `postgresql-NN-NAME`), or migrate a server that offers it (a managed service lists the extensions it has)".into(),
            }
        }
        _ => return None,
    })
}
