//! The PostgreSQL side of shale: connection settings (libpq-compatible), TLS, the migration lock,
//! the history table and the executor. Prints nothing; reports through return values and events.

pub mod connect;
pub mod error;
pub mod exec;
pub mod foreign;
pub mod history;
pub mod inspect;
pub mod interrupt;
pub mod lease;
pub mod lock;
pub mod lockwait;
pub mod notices;
pub mod settings;
pub mod sql;
pub mod tls;

pub use connect::{
    connect, connect_waiting, connect_waiting_reaching, server_role, ConnectError, ConnectWaitNotice, HostFailure,
    ServerRole, SessionSettings,
};
pub use error::{
    DbFailure, InterruptedWait, LostOutcome, NotValidLeft, NotValidState, PartWay, PgError, SourceLocation,
};
pub use exec::{ExecEvent, ExecOptions, Executor, NotCancellable};
pub use history::{HistoryTable, NewRecord};
pub use interrupt::Interrupt;
pub use lease::LeaseLock;
pub use lock::{HeldLock, LeaseInfo, LockEvent, LockHolder, LockKind, LockOptions, MigrationLock};
pub use settings::{ChannelBinding, ConnectionSettings, SettingsError, SslMode, TargetSessionAttrs};
pub use tokio_postgres::{self, Client};
