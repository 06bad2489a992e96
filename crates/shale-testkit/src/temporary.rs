//! Temporary clusters (and streaming standbys, which are temporary too): made in a fresh
//! directory under the system temp dir, stopped and deleted on drop or by the watchdog.

use std::fs;
use std::path::PathBuf;
use std::process::Child;

use crate::cluster::{check_pg_ctl_path, Profile, MAX_SOCKET_PATH, SOCKET_NAME_LEN};
use crate::error::io_err;
use crate::process::{self, chown, command, run, server_user, RunAs};
use crate::server::stop_server;
use crate::watchdog::spawn_watchdog;
use crate::{Cluster, ClusterOptions, Error, ServerBinaries, SUPERUSER};

pub(crate) struct Temporary {
    dir: Option<tempfile::TempDir>,
    watchdog: Option<Child>,
}

impl Cluster {
    /// initdb into a fresh directory under the system temp dir (`/tmp` if that one is unusable),
    /// then start the server on a unix socket in that directory and on 127.0.0.1, with trust
    /// auth, `fsync=off`, `full_page_writes=off`, `synchronous_commit=off`,
    /// `max_connections=200`, logging to `server.log` in the directory. If no port was given
    /// and the chosen free port gets taken meanwhile, retries with another (5 attempts).
    pub fn start_temporary(opts: ClusterOptions) -> Result<Cluster, Error> {
        let cluster = Cluster::new_temporary()?;
        // From here on, an error drops `cluster`, which stops whatever started and deletes the dir.
        cluster.initdb(Profile::Temporary, opts.tls.is_some())?;
        cluster.start_temporary_server(opts)
    }

    /// A hot standby of `primary`, streaming from it: `pg_basebackup -R` (as the server user,
    /// over the primary's unix socket) into a new temporary directory, then started like any
    /// temporary cluster, on a port of its own, with `opts` (the primary's `pg_hba.conf` and
    /// `postgresql.conf` come along in the copy). It is read-only (`pg_is_in_recovery()`), and
    /// stopped and deleted on drop like every temporary cluster; drop it before its primary.
    pub fn start_standby(primary: &Cluster, opts: ClusterOptions) -> Result<Cluster, Error> {
        let cluster = Cluster::new_temporary()?;
        let run_as = cluster.run_as.as_ref();
        let mut cmd = command(cluster.bins.program("pg_basebackup"), run_as);
        cmd.arg("-D").arg(&cluster.data_dir).arg("-h").arg(&primary.socket_dir).args([
            "-p",
            &primary.port.to_string(),
            "-U",
            SUPERUSER,
            "-w",
            "-X",
            "stream",
            "-R",
            "-c",
            "fast",
        ]);
        run(&mut cmd, run_as, "copying the primary into a standby (pg_basebackup)", None)?;
        cluster.start_temporary_server(opts)
    }

    /// A temporary cluster's directory (and its watchdog), nothing in it yet.
    fn new_temporary() -> Result<Cluster, Error> {
        let bins = ServerBinaries::find()?;
        let run_as = server_user()?;
        let parent = temp_parent(run_as.as_ref())?;
        let dir = tempfile::Builder::new()
            .prefix("shale-pg-")
            .tempdir_in(&parent)
            .map_err(io_err("creating a temporary directory in", &parent))?;
        let base_dir = dir.path().to_path_buf();
        chown(&base_dir, run_as.as_ref())?;
        let data_dir = base_dir.join("data");
        let watchdog = spawn_watchdog(&base_dir, &data_dir)?;
        Ok(Cluster {
            bins,
            socket_dir: base_dir.clone(),
            log_file: base_dir.join("server.log"),
            base_dir,
            data_dir,
            port: 0,
            run_as,
            temporary: Some(Temporary { dir: Some(dir), watchdog: Some(watchdog) }),
        })
    }

    fn start_temporary_server(mut self, opts: ClusterOptions) -> Result<Cluster, Error> {
        if let Some(tls) = &opts.tls {
            self.install_tls(tls, opts.client_ca.as_deref())?;
        }
        self.start_server(&opts, opts.port, opts.port.is_none())?;
        Ok(self)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(mut temp) = self.temporary.take() else {
            return;
        };
        if let Some(mut watchdog) = temp.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if self.data_dir.join("postmaster.pid").exists() {
            if let Err(e) = stop_server(&self.bins, self.run_as.as_ref(), &self.data_dir) {
                eprintln!("shale-testkit: stopping the temporary server in {}: {e}", self.data_dir.display());
            }
        }
        if let Some(dir) = temp.dir.take() {
            if let Err(e) = dir.close() {
                eprintln!("shale-testkit: removing {}: {e}", self.base_dir.display());
            }
        }
    }
}

/// Where a temporary cluster's directory goes: the system temp dir, else /tmp; it must be
/// short enough for a socket path and, when root, reachable by the server user.
pub(crate) fn temp_parent(run_as: Option<&RunAs>) -> Result<PathBuf, Error> {
    let mut rejected = Vec::new();
    for candidate in [std::env::temp_dir(), PathBuf::from("/tmp")] {
        let Ok(dir) = fs::canonicalize(&candidate) else {
            rejected.push(format!("{}: does not exist", candidate.display()));
            continue;
        };
        // dir + "/shale-pg-XXXXXX" + "/.s.PGSQL.65535"
        if dir.as_os_str().len() + 16 + SOCKET_NAME_LEN > MAX_SOCKET_PATH {
            rejected.push(format!("{}: too long for a unix socket path", dir.display()));
            continue;
        }
        if let Some(user) = run_as {
            if let Some(blocked) = process::untraversable(&dir, user)? {
                rejected.push(format!("{}: user {} may not enter {}", dir.display(), user.name, blocked.display()));
                continue;
            }
        }
        if check_pg_ctl_path(&dir).is_err() || dir.to_string_lossy().contains(',') {
            rejected.push(format!("{}: contains characters pg_ctl/postgres cannot handle", dir.display()));
            continue;
        }
        return Ok(dir);
    }
    Err(Error::Invalid(format!("no usable temporary directory: {}", rejected.join("; "))))
}
