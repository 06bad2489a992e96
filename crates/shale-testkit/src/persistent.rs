//! Persistent clusters for `shale dev`: a project-local data directory, its recorded port, start,
//! stop and status.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cluster::{check_pg_ctl_path, Profile, MAX_SOCKET_PATH, SOCKET_NAME_LEN};
use crate::error::io_err;
use crate::process::{chown, require_traversable, server_user, set_mode, RunAs};
use crate::server::{running, stop_server};
use crate::temporary::temp_parent;
use crate::{Cluster, ClusterOptions, Error, ServerBinaries};

/// File in a persistent cluster's directory recording its port, so its URL stays stable.
pub const PORT_FILE: &str = "shale-dev.port";

/// Server log of a persistent cluster, inside its directory.
pub const PERSISTENT_LOG_FILE: &str = "shale-dev.log";

impl Cluster {
    /// Start the persistent cluster whose data directory is `dir` (for `shale dev`).
    ///
    /// * initdb if `dir` has no `PG_VERSION` (`dir` is created if missing; an existing non-empty
    ///   directory without `PG_VERSION` is an error),
    /// * if the server is already running (postmaster.pid + `pg_ctl status`), just return it:
    ///   `opts` are then ignored, except that a `port` different from the running one is an error,
    /// * otherwise start it on `opts.port`, else the port recorded in `dir/shale-dev.port`, else a
    ///   free port, and record the port used. If the recorded port is now taken by something
    ///   else, a new free port is used (and recorded); an explicit `opts.port` is never changed.
    ///
    /// The unix socket lives in `dir` itself, unless that path is too long for a socket (then in
    /// `shale-dev-<hash of dir>` in the system temp dir). The server log is `dir/shale-dev.log`. Unlike temporary
    /// clusters this one keeps `fsync` on; it is NOT stopped on drop.
    pub fn start_persistent(dir: &Path, opts: ClusterOptions) -> Result<Cluster, Error> {
        let bins = ServerBinaries::find()?;
        let run_as = server_user()?;
        fs::create_dir_all(dir).map_err(io_err("creating directory", dir))?;
        let data_dir = fs::canonicalize(dir).map_err(io_err("resolving", dir))?;
        check_pg_ctl_path(&data_dir)?;
        let fresh = !data_dir.join("PG_VERSION").exists();
        if fresh {
            let mut entries = fs::read_dir(&data_dir).map_err(io_err("reading directory", &data_dir))?;
            if entries.next().is_some() {
                return Err(Error::Invalid(format!(
                    "{} exists, is not empty, and is not a PostgreSQL data directory (it has no PG_VERSION); \
                     refusing to initialize a server in it. Remove it or choose another directory.",
                    data_dir.display()
                )));
            }
            chown(&data_dir, run_as.as_ref())?;
            set_mode(&data_dir, 0o700)?;
        } else {
            check_data_version(&data_dir, &bins)?;
        }
        require_traversable(&data_dir, run_as.as_ref())?;
        let socket_dir = persistent_socket_dir(&data_dir, run_as.as_ref())?;
        let mut cluster = Cluster {
            bins,
            base_dir: data_dir.clone(),
            log_file: data_dir.join(PERSISTENT_LOG_FILE),
            data_dir,
            socket_dir,
            port: 0,
            run_as,
            temporary: None,
        };
        if fresh {
            cluster.initdb(Profile::Persistent, opts.tls.is_some())?;
        }
        if let Some(info) = running(&cluster.bins, cluster.run_as.as_ref(), &cluster.data_dir)? {
            if let Some(wanted) = opts.port.filter(|p| *p != info.port) {
                return Err(Error::Invalid(format!(
                    "the server in {} is already running on port {}; stop it first to move it to port {wanted}",
                    cluster.data_dir.display(),
                    info.port
                )));
            }
            cluster.port = info.port;
            if let Some(sock) = info.socket_dir {
                cluster.socket_dir = sock;
            }
            return Ok(cluster);
        }
        if let Some(tls) = &opts.tls {
            cluster.install_tls(tls, opts.client_ca.as_deref())?;
        }
        let first_port = opts.port.or_else(|| read_port_file(&cluster.data_dir));
        cluster.start_server(&opts, first_port, opts.port.is_none())?;
        let port_file = cluster.data_dir.join(PORT_FILE);
        fs::write(&port_file, format!("{}\n", cluster.port)).map_err(io_err("writing", &port_file))?;
        chown(&port_file, cluster.run_as.as_ref())?;
        Ok(cluster)
    }

    /// Stop the persistent cluster in `dir` (fast shutdown; immediate if that fails).
    /// `Ok(false)` if it was not running (or `dir` is not a data directory).
    pub fn stop_persistent(dir: &Path) -> Result<bool, Error> {
        let Some((bins, run_as, data_dir)) = existing_data_dir(dir)? else {
            return Ok(false);
        };
        if running(&bins, run_as.as_ref(), &data_dir)?.is_none() {
            return Ok(false);
        }
        stop_server(&bins, run_as.as_ref(), &data_dir)?;
        Ok(true)
    }

    /// `Some(port)` if the persistent cluster in `dir` is running, `None` if it is not (or `dir`
    /// is not a data directory).
    pub fn status_persistent(dir: &Path) -> Result<Option<u16>, Error> {
        let Some((bins, run_as, data_dir)) = existing_data_dir(dir)? else {
            return Ok(None);
        };
        Ok(running(&bins, run_as.as_ref(), &data_dir)?.map(|info| info.port))
    }
}

/// For stop and status: `None` if `dir` is not a data directory (no `PG_VERSION`), else the server
/// binaries, the user the server runs as, and `dir` resolved (and checked to be reachable by that user).
fn existing_data_dir(dir: &Path) -> Result<Option<(ServerBinaries, Option<RunAs>, PathBuf)>, Error> {
    if !dir.join("PG_VERSION").exists() {
        return Ok(None);
    }
    let bins = ServerBinaries::find()?;
    let run_as = server_user()?;
    let data_dir = fs::canonicalize(dir).map_err(io_err("resolving", dir))?;
    require_traversable(&data_dir, run_as.as_ref())?;
    Ok(Some((bins, run_as, data_dir)))
}

fn read_port_file(data_dir: &Path) -> Option<u16> {
    fs::read_to_string(data_dir.join(PORT_FILE)).ok()?.trim().parse().ok().filter(|p| *p != 0)
}

fn check_data_version(data_dir: &Path, bins: &ServerBinaries) -> Result<(), Error> {
    let file = data_dir.join("PG_VERSION");
    let data_version = fs::read_to_string(&file).map_err(io_err("reading", &file))?.trim().to_string();
    let matches = data_version == bins.major().to_string() || bins.version.starts_with(&format!("{data_version}."));
    if matches {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} was initialized by PostgreSQL {data_version}, but the server binaries found ({}) are version {}. \
             Point SHALE_PG_BINDIR at PostgreSQL {data_version}'s bin directory, or remove {} to start over.",
            data_dir.display(),
            bins.bindir.display(),
            bins.version,
            data_dir.display()
        )))
    }
}

/// The data dir itself if a socket path in it fits, else `shale-dev-<hash>` in the temp dir.
fn persistent_socket_dir(data_dir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf, Error> {
    let s = data_dir.to_string_lossy();
    if s.len() + SOCKET_NAME_LEN <= MAX_SOCKET_PATH && !s.contains(',') {
        return Ok(data_dir.to_path_buf());
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let dir = temp_parent(run_as)?.join(format!("shale-dev-{hash:016x}"));
    fs::create_dir_all(&dir).map_err(io_err("creating socket directory", &dir))?;
    chown(&dir, run_as)?;
    set_mode(&dir, 0o700)?;
    Ok(dir)
}
