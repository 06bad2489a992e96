//! Real, throwaway PostgreSQL servers started from the local server binaries.
//!
//! Two uses:
//!
//! * **Tests** of the other crates: [`shared_cluster`] starts one temporary server per test
//!   binary (lazily, on first use) and [`fresh_database`] gives each test its own empty database
//!   on it. Tests that need a server of their own (TLS, restarts, ...) use
//!   [`Cluster::start_temporary`], and [`Cluster::start_standby`] makes a streaming standby of one.
//! * **`shale dev start|stop|status|url`**: [`Cluster::start_persistent`],
//!   [`Cluster::stop_persistent`] and [`Cluster::status_persistent`] manage a project-local
//!   development server whose data directory is e.g. `.shale/dev/`.
//!
//! Servers listen on a unix socket (in a directory of their own) and on `127.0.0.1` only, with
//! `trust` authentication for the superuser `postgres`. No mocks, no network beyond loopback.
//!
//! **Running as root**: initdb and postgres refuse to run as root, so when the effective uid is
//! 0 they run as the `postgres` system user (which must exist) and the directories they use
//! are given to it. Everything else (psql, the caller's own connections) runs as the caller.
//!
//! Environment variables read: `SHALE_PG_BINDIR` (see [`ServerBinaries::find`]),
//! `SHALE_PG_START_TIMEOUT` (seconds to wait for a server to accept connections, default 30).
//! Every `PG*` variable is removed from the environment of the programs this crate runs.

mod binaries;
mod cluster;
mod database;
mod error;
mod options;
mod persistent;
mod pgbouncer;
mod process;
mod server;
mod shared;
mod temporary;
mod tls;
mod watchdog;

pub use binaries::ServerBinaries;
pub use cluster::{Cluster, SUPERUSER};
pub use database::TestDb;
pub use error::Error;
pub use options::ClusterOptions;
pub use persistent::{PERSISTENT_LOG_FILE, PORT_FILE};
pub use pgbouncer::Pgbouncer;
pub use server::{free_port, server_command};
pub use shared::{fresh_database, shared_cluster, try_shared_cluster};
pub use tls::TlsFiles;
