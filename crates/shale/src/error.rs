use shale_core::adopt::{AdoptProblem, Tool};
use shale_core::{LoadError, PlanError};
use shale_pg::PgError;

/// Everything that can stop a migration run, by cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The migration files have problems (all of them are listed).
    #[error("{} problem(s) in the migration files", .0.len())]
    Load(Vec<LoadError>),
    /// The files and the history disagree in a way that needs a decision.
    #[error("{} problem(s) between the migration files and the database history", .0.len())]
    Plan(Vec<PlanError>),
    #[error(transparent)]
    Pg(#[from] PgError),
    /// The connection string or PG* variables could not be read.
    #[error(transparent)]
    Settings(#[from] shale_pg::SettingsError),
    /// The plan was refused before anything ran (e.g. by the safety linter).
    #[error("{0}")]
    Unsafe(String),
    /// The migration lock went while the run was going on (its session ended, or its lease ran
    /// out or was taken over): another runner may be migrating now, so this one stopped. `applied`
    /// were committed (and recorded) under the lock before it went; `stopped` is the migration that
    /// was running then: rolled back whole, or, outside a transaction, stopped at a statement
    /// boundary with what ran recorded in the history.
    #[error("{}", lock_lost_text(applied, stopped.as_deref(), *outside_transaction))]
    LockLost { applied: Vec<String>, stopped: Option<String>, outside_transaction: bool },
    /// A stop was requested (Ctrl-C, SIGTERM): `applied` were committed before it; `stopped` says
    /// what happened to the migration that was running, if one was.
    #[error("interrupted{}{}", applied_before(applied), stopped.as_ref().map(|s| format!("; {s}")).unwrap_or_default())]
    Interrupted { applied: Vec<String>, stopped: Option<String> },
    /// Another tool migrated this database and shale has no history of its own here yet, so
    /// migrating would run again what that tool applied. `table` is the tool's history table
    /// (`schema.name`). Where [`Tool::migrations_are_sql`], [`Migrator::adopt`](crate::Migrator::adopt)
    /// takes that history over; otherwise (Alembic) a baseline records what the database holds.
    /// When the table belongs to something else, adopting nothing ([`AdoptRequest::nothing`](crate::AdoptRequest::nothing))
    /// starts shale's history beside it. [`Error::hint`] says so in words for any application.
    #[error("{}", foreign_history_text(*tool, table))]
    ForeignHistory { tool: Tool, table: String },
    /// The other tool's history cannot be taken over as it is: every problem is listed, one a
    /// line, each with its advice in [`AdoptProblem::hint`].
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Adopt(Vec<AdoptProblem>),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
}

/// What kind of failure an [`Error`] is, for deciding what to do about it: an embedding
/// application retries [`ErrorKind::Unavailable`], reports [`ErrorKind::Failed`], and fixes its
/// request or files on [`ErrorKind::Usage`]. The CLI's exit codes and a fleet's outcomes follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request, the configuration or the migration files are wrong (or the plan was refused):
    /// nothing ran; fix them and ask again.
    Usage,
    /// The database or the migration lock was out of reach (could not connect, the lock was held
    /// or lost, the connection went away): worth trying again, unlike a failed migration.
    Unavailable,
    /// A migration, or a query of shale's own, failed on the server.
    Failed,
    /// A stop was requested (Ctrl-C, SIGTERM) and the run stopped.
    Interrupted,
}

impl Error {
    /// What to do about the error, where shale knows, in words for any application (no
    /// command-line flags, no configuration file names). An error's text says what happened; show
    /// the hint after it. [`Error::Plan`] and [`Error::Load`] carry one per problem
    /// (`PlanError::hint()`, `LoadError::hint`), and so do those of [`Error::Adopt`]
    /// (`AdoptProblem::hint()`).
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Pg(e) => e.hint(),
            Error::ForeignHistory { tool, table } => Some(match tool.migrations_are_sql() {
                true => format!(
                    "adopt that history (nothing runs, and {table} is left as it is), then migrate. If that table \
                     belongs to something else and every migration should run here, adopt nothing: shale's history \
                     then starts beside it"
                ),
                false => format!(
                    "record as a baseline the migration the database already holds (with no migrations yet, write \
                     the live schema as the first one), then migrate. If {table} belongs to something else and every \
                     migration should run here, adopt nothing: shale's history then starts beside it"
                ),
            }),
            Error::LockLost { .. } => {
                Some("read the migration status to see where the database stands, then migrate again".into())
            }
            _ => None,
        }
    }

    /// The kind of failure: see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Interrupted { .. } => ErrorKind::Interrupted,
            Error::Load(_)
            | Error::Plan(_)
            | Error::ForeignHistory { .. }
            | Error::Adopt(_)
            | Error::Invalid(_)
            | Error::Settings(_)
            | Error::Unsafe(_) => ErrorKind::Usage,
            Error::LockLost { .. } => ErrorKind::Unavailable,
            Error::Pg(e) => match e {
                PgError::Connect(_)
                | PgError::LockTimeout { .. }
                | PgError::LockLost
                | PgError::ConnectionLost { .. }
                | PgError::StatementPooler(_) => ErrorKind::Unavailable,
                PgError::Refused(_) => ErrorKind::Usage,
                _ => ErrorKind::Failed,
            },
        }
    }
}

impl From<shale_pg::ConnectError> for Error {
    fn from(e: shale_pg::ConnectError) -> Self {
        Error::Pg(PgError::Connect(e))
    }
}

fn foreign_history_text(tool: Tool, table: &str) -> String {
    let applied = match tool.migrations_are_sql() {
        true => format!("what {tool} applied"),
        // Its migrations are not files shale has: what ran is in the schema, not in the files.
        false => "what the database already holds".to_string(),
    };
    format!(
        "this database was migrated by {tool} ({table} is its history) and shale has no history here yet, so \
         migrating would run again {applied}"
    )
}

fn lock_lost_text(applied: &[String], stopped: Option<&str>, outside_transaction: bool) -> String {
    let mut text = String::from(
        "the migration lock was lost while migrating (the session holding it ended, or its lease ran out or was taken over), so this runner stopped: another runner may be migrating now",
    );
    match applied.len() {
        0 => {}
        n => text.push_str(&format!("; applied and committed before that: {n} migration(s), {}", applied.join(", "))),
    }
    match (stopped, outside_transaction) {
        (Some(label), false) => {
            text.push_str(&format!("; migration {label} was rolled back and did not commit"))
        }
        (Some(label), true) => text.push_str(&format!(
            "; migration {label} runs outside a transaction: it stopped at a statement boundary, and the history records the statements that ran"
        )),
        (None, _) => text.push_str("; nothing was recorded"),
    }
    text
}

fn applied_before(applied: &[String]) -> String {
    match applied.len() {
        0 => "; nothing was applied by this run".to_string(),
        n => format!("; applied and committed before that: {n} migration(s), {}", applied.join(", ")),
    }
}
