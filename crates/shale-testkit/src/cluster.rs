//! A running server: the [`Cluster`] value, where its files are, and the limits on its paths.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::tail;
use crate::process::RunAs;
use crate::temporary::Temporary;
use crate::{Error, ServerBinaries};

/// The superuser every cluster is initialized with.
pub const SUPERUSER: &str = "postgres";

/// Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
pub(crate) const MAX_SOCKET_PATH: usize = 107;
/// Length of `/.s.PGSQL.65535`.
pub(crate) const SOCKET_NAME_LEN: usize = 15;

/// A running PostgreSQL server.
///
/// A temporary cluster (from [`Cluster::start_temporary`]) is stopped and its directory deleted
/// when dropped, and also by a watchdog process if the owning process dies without dropping
/// it (killed, or the value lives in a static). A persistent cluster (from
/// [`Cluster::start_persistent`]) keeps running after drop.
pub struct Cluster {
    pub(crate) bins: ServerBinaries,
    /// Temporary: the temp dir holding `data/`, the socket and `server.log`. Persistent: the data dir.
    pub(crate) base_dir: PathBuf,
    pub(crate) data_dir: PathBuf,
    pub(crate) socket_dir: PathBuf,
    pub(crate) log_file: PathBuf,
    pub(crate) port: u16,
    pub(crate) run_as: Option<RunAs>,
    pub(crate) temporary: Option<Temporary>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("version", &self.bins.version)
            .field("data_dir", &self.data_dir)
            .field("socket_dir", &self.socket_dir)
            .field("port", &self.port)
            .field("temporary", &self.temporary.is_some())
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Temporary,
    Persistent,
}

impl Cluster {
    /// TCP port on 127.0.0.1; also the number in the unix socket's name (`.s.PGSQL.<port>`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Directory holding the unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The data directory (PGDATA).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Temporary cluster: the temp directory that holds everything (removed on drop).
    /// Persistent cluster: the data directory.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// The server log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The last `lines` lines of the server log (empty if unreadable).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&fs::read_to_string(&self.log_file).unwrap_or_default(), lines)
    }

    /// Superuser name: always `postgres`.
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// Directory of the server binaries used.
    pub fn bindir(&self) -> &Path {
        &self.bins.bindir
    }

    /// The server binaries used (with the version).
    pub fn binaries(&self) -> &ServerBinaries {
        &self.bins
    }

    /// Whether this cluster is stopped and deleted on drop.
    pub fn is_temporary(&self) -> bool {
        self.temporary.is_some()
    }
}

/// pg_ctl splices the data dir and log file into a `/bin/sh -c` line inside double quotes.
pub(crate) fn check_pg_ctl_path(path: &Path) -> Result<(), Error> {
    let s = path.to_string_lossy();
    if s.contains(['"', '\\', '$', '`', '\n']) {
        return Err(Error::Invalid(format!(
            "the directory {s:?} contains a character pg_ctl cannot handle (one of \" \\ $ ` or a newline)"
        )));
    }
    Ok(())
}
