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
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
}

impl From<shale_pg::ConnectError> for Error {
    fn from(e: shale_pg::ConnectError) -> Self {
        Error::Pg(PgError::Connect(e))
    }
}
