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
mod error;
mod pgbouncer;
mod process;

pub use pgbouncer::Pgbouncer;

use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use binaries::ServerBinaries;
pub use error::Error;

use error::{io_err, tail};
use process::{
    chown, command, describe, output, output_tail, require_traversable, run, server_user, set_mode, shell_quote, RunAs,
};

/// The superuser every cluster is initialized with.
pub const SUPERUSER: &str = "postgres";

/// File in a persistent cluster's directory recording its port, so its URL stays stable.
pub const PORT_FILE: &str = "shale-dev.port";

/// Server log of a persistent cluster, inside its directory.
pub const PERSISTENT_LOG_FILE: &str = "shale-dev.log";

/// Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;
/// Length of `/.s.PGSQL.65535`.
const SOCKET_NAME_LEN: usize = 15;
/// Start attempts when the chosen free port turns out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// Lines of server log kept in error messages.
const LOG_TAIL_LINES: usize = 30;

/// Options for starting a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// TCP port on 127.0.0.1 (the unix socket uses the same number). `None`: a free port.
    pub port: Option<u16>,
    /// Enable `ssl=on` with this certificate and key (copied into the data directory).
    pub tls: Option<TlsFiles>,
    /// With `tls`: the CA whose client certificates the server trusts (copied into the data
    /// directory as `root.crt`, `ssl_ca_file`), for `cert` authentication in `pg_hba.conf`.
    pub client_ca: Option<PathBuf>,
    /// Extra server settings, passed as `-c name=value` at every start.
    pub extra_conf: Vec<(String, String)>,
    /// Listen on the unix socket only, not on 127.0.0.1. The socket lives in a 0700 directory,
    /// so only the user the server runs as (and root) can reach it, while every local user can
    /// reach 127.0.0.1, where `trust` would make them the superuser (able to run programs as the
    /// server's OS user with `COPY ... TO PROGRAM`). `shale dev` uses this.
    pub socket_only: bool,
}

/// PEM certificate and private key for the server.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A running PostgreSQL server.
///
/// A temporary cluster (from [`Cluster::start_temporary`]) is stopped and its directory deleted
/// when dropped, and also by a watchdog process if the owning process dies without dropping
/// it (killed, or the value lives in a static). A persistent cluster (from
/// [`Cluster::start_persistent`]) keeps running after drop.
pub struct Cluster {
    bins: ServerBinaries,
    /// Temporary: the temp dir holding `data/`, the socket and `server.log`. Persistent: the data dir.
    base_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
    temporary: Option<Temporary>,
}

struct Temporary {
    dir: Option<tempfile::TempDir>,
    watchdog: Option<Child>,
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
enum Profile {
    Temporary,
    Persistent,
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
        if !dir.join("PG_VERSION").exists() {
            return Ok(false);
        }
        let bins = ServerBinaries::find()?;
        let run_as = server_user()?;
        let data_dir = fs::canonicalize(dir).map_err(io_err("resolving", dir))?;
        require_traversable(&data_dir, run_as.as_ref())?;
        if running(&bins, run_as.as_ref(), &data_dir)?.is_none() {
            return Ok(false);
        }
        stop_server(&bins, run_as.as_ref(), &data_dir)?;
        Ok(true)
    }

    /// `Some(port)` if the persistent cluster in `dir` is running, `None` if it is not (or `dir`
    /// is not a data directory).
    pub fn status_persistent(dir: &Path) -> Result<Option<u16>, Error> {
        if !dir.join("PG_VERSION").exists() {
            return Ok(None);
        }
        let bins = ServerBinaries::find()?;
        let run_as = server_user()?;
        let data_dir = fs::canonicalize(dir).map_err(io_err("resolving", dir))?;
        require_traversable(&data_dir, run_as.as_ref())?;
        Ok(running(&bins, run_as.as_ref(), &data_dir)?.map(|info| info.port))
    }

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

    /// URL for database `db` over the unix socket, in libpq syntax:
    /// `postgresql://postgres@localhost:PORT/DB?host=%2Fpath%2Fto%2Fsocketdir`.
    ///
    /// libpq (psql) lets the `host` query parameter override `localhost`, so it connects over
    /// the socket. tokio-postgres instead treats it as a *second* host: it tries TCP to
    /// localhost:PORT first (which also works), then the socket. Use [`Cluster::socket_url`] for
    /// a URL that means the socket to both.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{}@localhost:{}/{}?host={}",
            SUPERUSER,
            self.port,
            percent_encode(db.as_bytes()),
            percent_encode(self.socket_dir.as_os_str().as_encoded_bytes())
        )
    }

    /// URL for database `db` over the unix socket with the percent-encoded socket directory as
    /// the host: `postgresql://postgres@%2Fpath%2Fto%2Fsocketdir:PORT/DB`. Both libpq and
    /// tokio-postgres take it as the socket and nothing else.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "postgresql://{}@{}:{}/{}",
            SUPERUSER,
            percent_encode(self.socket_dir.as_os_str().as_encoded_bytes()),
            self.port,
            percent_encode(db.as_bytes())
        )
    }

    /// URL for database `db` over TCP: `postgresql://postgres@127.0.0.1:PORT/DB`.
    pub fn tcp_url(&self, db: &str) -> String {
        format!("postgresql://{}@127.0.0.1:{}/{}", SUPERUSER, self.port, percent_encode(db.as_bytes()))
    }

    /// libpq keyword/value connection string for `db` over the unix socket
    /// (`host='/sock/dir' port=N user='postgres' dbname='db'`).
    pub fn conninfo(&self, db: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            conninfo_quote(&self.socket_dir.to_string_lossy()),
            self.port,
            conninfo_quote(SUPERUSER),
            conninfo_quote(db)
        )
    }

    /// `CREATE DATABASE "name" TEMPLATE template0` (name quoted as an identifier, so it is
    /// used exactly as given, case included).
    pub fn create_database(&self, name: &str) -> Result<(), Error> {
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(name));
        let mut cmd = self.psql_command(&self.conninfo("postgres"));
        cmd.arg("-c").arg(&sql);
        run(&mut cmd, None, &format!("creating database {name:?}"), None).map(drop)
    }

    /// `DROP DATABASE IF EXISTS "name" WITH (FORCE)` (disconnects its sessions).
    pub fn drop_database(&self, name: &str) -> Result<(), Error> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
        let mut cmd = self.psql_command(&self.conninfo("postgres"));
        cmd.arg("-c").arg(&sql);
        run(&mut cmd, None, &format!("dropping database {name:?}"), None).map(drop)
    }

    /// A new, uniquely named, empty database (see [`fresh_database`] for the naming).
    pub fn fresh_database(&self, prefix: &str) -> Result<TestDb, Error> {
        let name = unique_db_name(prefix);
        self.create_database(&name)?;
        Ok(TestDb { url: self.url(&name), name })
    }

    /// Run `sql` (any number of statements, also psql meta-commands) with psql against database
    /// `db` over the unix socket, stopping at the first error. Returns stdout in unaligned,
    /// tuples-only form (`-A -t`: one row per line, columns separated by `|`, no command tags)
    /// without the trailing newline; e.g. `"1"` for `select 1`.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, Error> {
        self.psql_conn(&self.conninfo(db), sql)
    }

    /// Like [`Cluster::psql`] but with any libpq connection string or URL, e.g.
    /// `"sslmode=require host=127.0.0.1 port=N user=postgres dbname=postgres"`.
    pub fn psql_conn(&self, conninfo: &str, sql: &str) -> Result<String, Error> {
        let mut cmd = self.psql_command(conninfo);
        cmd.arg("-f").arg("-");
        let out = run(&mut cmd, None, "running SQL with psql", Some(sql))?;
        Ok(out.trim_end_matches('\n').to_string())
    }

    /// `psql -X -q -A -t -v ON_ERROR_STOP=1 -d <conninfo>`, run as the current user.
    fn psql_command(&self, conninfo: &str) -> Command {
        let mut cmd = command(self.bins.psql(), None);
        cmd.env("PGCONNECT_TIMEOUT", "10").env("PGAPPNAME", "shale-testkit");
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"]).arg(conninfo);
        cmd
    }

    fn initdb(&self, profile: Profile, tls: bool) -> Result<(), Error> {
        let run_as = self.run_as.as_ref();
        let mut cmd = command(self.bins.program("initdb"), run_as);
        cmd.arg("-D").arg(&self.data_dir).args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"]);
        if profile == Profile::Temporary {
            cmd.arg("--no-sync");
        }
        run(&mut cmd, run_as, "initializing the data directory (initdb)", None)?;

        let mut hba = String::from(
            "# Written by shale-testkit: trust on the unix socket and on 127.0.0.1 only.\n\
             local   all          all                  trust\n\
             local   replication  all                  trust\n",
        );
        if tls {
            hba.push_str("hostssl all          all   127.0.0.1/32   trust\n");
        }
        hba.push_str(
            "host    all          all   127.0.0.1/32   trust\n\
             host    replication  all   127.0.0.1/32   trust\n",
        );
        let hba_file = self.data_dir.join("pg_hba.conf");
        fs::write(&hba_file, hba).map_err(io_err("writing", &hba_file))?;

        let mut conf = String::from("\n# Added by shale-testkit.\nmax_connections = 200\n");
        if profile == Profile::Temporary {
            conf.push_str("fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n");
        }
        let conf_file = self.data_dir.join("postgresql.conf");
        let mut existing = fs::read_to_string(&conf_file).map_err(io_err("reading", &conf_file))?;
        existing.push_str(&conf);
        fs::write(&conf_file, existing).map_err(io_err("writing", &conf_file))?;
        Ok(())
    }

    /// Copy the certificate and key into the data directory as `server.crt`/`server.key`
    /// (key 0600), and the client CA as `root.crt`, owned by the server user.
    fn install_tls(&self, tls: &TlsFiles, client_ca: Option<&Path>) -> Result<(), Error> {
        let mut files = vec![(tls.cert.as_path(), "server.crt", 0o644), (tls.key.as_path(), "server.key", 0o600)];
        files.extend(client_ca.map(|ca| (ca, "root.crt", 0o644)));
        for (src, name, mode) in files {
            let dst = self.data_dir.join(name);
            let bytes = fs::read(src).map_err(io_err("reading TLS file", src))?;
            let _ = fs::remove_file(&dst);
            fs::write(&dst, bytes).map_err(io_err("writing", &dst))?;
            set_mode(&dst, mode)?;
            chown(&dst, self.run_as.as_ref())?;
        }
        Ok(())
    }

    /// The `-o` argument of `pg_ctl start`: shell words for the postgres command line.
    fn server_options(&self, port: u16, opts: &ClusterOptions) -> Result<String, Error> {
        let mut words: Vec<String> = vec![
            "-k".into(),
            self.socket_dir.to_string_lossy().into_owned(),
            "-p".into(),
            port.to_string(),
            "-c".into(),
            if opts.socket_only { "listen_addresses=".into() } else { "listen_addresses=127.0.0.1".into() },
        ];
        if opts.tls.is_some() {
            for setting in ["ssl=on", "ssl_cert_file=server.crt", "ssl_key_file=server.key"] {
                words.push("-c".into());
                words.push(setting.into());
            }
            if opts.client_ca.is_some() {
                words.push("-c".into());
                words.push("ssl_ca_file=root.crt".into());
            }
        }
        for (name, value) in &opts.extra_conf {
            let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !valid {
                return Err(Error::Invalid(format!("invalid server setting name {name:?} in extra_conf")));
            }
            words.push("-c".into());
            words.push(format!("{name}={value}"));
        }
        Ok(words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" "))
    }

    fn start_server(
        &mut self,
        opts: &ClusterOptions,
        first_port: Option<u16>,
        retry_if_busy: bool,
    ) -> Result<(), Error> {
        let timeout = start_timeout();
        let run_as = self.run_as.as_ref();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match first_port {
                Some(p) if attempt == 1 => p,
                _ => free_port()?,
            };
            let log_offset = fs::metadata(&self.log_file).map(|m| m.len()).unwrap_or(0);
            let mut cmd = command(self.bins.program("pg_ctl"), run_as);
            cmd.args(["start", "-w", "-t", &timeout.as_secs().max(1).to_string(), "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&self.log_file)
                .arg("-o")
                .arg(self.server_options(port, opts)?);
            let started = Instant::now();
            let out = output(&mut cmd, run_as, None)?;
            if out.status.success() {
                self.port = port;
                let deadline = started + timeout;
                return self.wait_ready(deadline, &describe(&cmd, run_as), log_offset);
            }
            let log_tail = read_log_from(&self.log_file, log_offset);
            let busy = port_in_use(&log_tail);
            let err = Error::StartFailed {
                data_dir: self.data_dir.clone(),
                command: describe(&cmd, run_as),
                reason: if busy && retry_if_busy {
                    format!(
                        "port {port} is already in use (attempt {attempt} of {PORT_ATTEMPTS}, each on a new free port)"
                    )
                } else if busy {
                    format!("port {port} is already in use (it was asked for explicitly, so no other port is tried)")
                } else {
                    format!("pg_ctl {}", out.status)
                },
                output: output_tail(&out),
                log_tail,
            };
            if !(busy && retry_if_busy && attempt < PORT_ATTEMPTS) {
                return Err(err);
            }
        }
    }

    /// After `pg_ctl -w start` succeeded: poll `pg_isready` on the socket until the deadline.
    fn wait_ready(&self, deadline: Instant, start_command: &str, log_offset: u64) -> Result<(), Error> {
        let pg_isready = self.bins.program_or_path("pg_isready");
        loop {
            let mut cmd = command(&pg_isready, None);
            cmd.arg("-q")
                .arg("-h")
                .arg(&self.socket_dir)
                .arg("-p")
                .arg(self.port.to_string())
                .args(["-U", SUPERUSER, "-d", "postgres", "-t", "5"]);
            let out = output(&mut cmd, None, None)?;
            if out.status.success() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::StartFailed {
                    data_dir: self.data_dir.clone(),
                    command: start_command.to_string(),
                    reason: format!(
                        "the server did not accept connections on {} port {} in time (`{}` {})",
                        self.socket_dir.display(),
                        self.port,
                        describe(&cmd, None),
                        out.status
                    ),
                    output: String::new(),
                    log_tail: read_log_from(&self.log_file, log_offset),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
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

/// A database made by [`fresh_database`] / [`Cluster::fresh_database`].
///
/// Derefs to (and displays as) its URL, so it can be passed wherever a `&str` URL is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDb {
    /// Database name, e.g. `mytest_12345_0`.
    pub name: String,
    /// Its unix-socket URL ([`Cluster::url`]).
    pub url: String,
}

impl TestDb {
    pub fn as_str(&self) -> &str {
        &self.url
    }
}

impl Deref for TestDb {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

impl AsRef<str> for TestDb {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl From<TestDb> for String {
    fn from(db: TestDb) -> String {
        db.url
    }
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// One temporary server shared by every test in this test binary, started on first use.
///
/// It is never dropped (statics are not), so a watchdog process, detached into its own process
/// group, stops it (immediate shutdown) and deletes its directory within ~0.2 s of this process
/// exiting, however it exits. Panics if the server cannot be started (every later call panics
/// with the same message without retrying).
pub fn shared_cluster() -> &'static Cluster {
    match try_shared_cluster() {
        Ok(cluster) => cluster,
        Err(e) => panic!("shale-testkit: could not start the shared PostgreSQL test server:\n{e}"),
    }
}

/// [`shared_cluster`] without the panic.
pub fn try_shared_cluster() -> Result<&'static Cluster, &'static str> {
    SHARED
        .get_or_init(|| Cluster::start_temporary(ClusterOptions::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(String::as_str)
}

/// A fresh, empty database on [`shared_cluster`], named `<prefix>_<pid>_<counter>` (prefix
/// lowercased, characters other than `[a-z0-9_]` replaced by `_`, shortened so the name fits in
/// 63 bytes). Returns its name and unix-socket URL; the [`TestDb`] derefs to the URL.
/// Panics on failure.
pub fn fresh_database(prefix: &str) -> TestDb {
    match shared_cluster().fresh_database(prefix) {
        Ok(db) => db,
        Err(e) => panic!("shale-testkit: could not create a test database: {e}"),
    }
}

fn unique_db_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!("_{}_{n}", std::process::id());
    let mut name: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        name.insert_str(0, "db_");
    }
    name.truncate(63 - suffix.len());
    name.push_str(&suffix);
    name
}

/// Stop the server in `data_dir`: fast, then immediate, then SIGKILL to the postmaster.
fn stop_server(bins: &ServerBinaries, run_as: Option<&RunAs>, data_dir: &Path) -> Result<(), Error> {
    let attempt = |mode: &str, secs: &str| {
        let mut cmd = command(bins.program("pg_ctl"), run_as);
        cmd.args(["stop", "-m", mode, "-w", "-t", secs, "-D"]).arg(data_dir);
        run(&mut cmd, run_as, &format!("stopping the server ({mode} shutdown)"), None)
    };
    let Err(first) = attempt("fast", "30") else {
        return Ok(());
    };
    if attempt("immediate", "10").is_ok() {
        return Ok(());
    }
    if let Some(pid) = read_pid_file(data_dir).map(|info| info.pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    Err(first)
}

struct PidInfo {
    pid: i32,
    port: u16,
    socket_dir: Option<PathBuf>,
}

/// postmaster.pid: line 1 pid, 2 data dir, 3 start time, 4 port, 5 first socket dir, ...
fn read_pid_file(data_dir: &Path) -> Option<PidInfo> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first()?.trim().parse().ok()?;
    let port = lines.get(3)?.trim().parse().ok()?;
    let socket_dir = lines.get(4).map(|s| s.trim()).filter(|s| !s.is_empty()).map(PathBuf::from);
    Some(PidInfo { pid, port, socket_dir })
}

/// Running server in `data_dir` per postmaster.pid and `pg_ctl status`.
fn running(bins: &ServerBinaries, run_as: Option<&RunAs>, data_dir: &Path) -> Result<Option<PidInfo>, Error> {
    if !data_dir.join("postmaster.pid").exists() {
        return Ok(None);
    }
    let mut cmd = command(bins.program("pg_ctl"), run_as);
    cmd.arg("status").arg("-D").arg(data_dir);
    let out = output(&mut cmd, run_as, None)?;
    match out.status.code() {
        Some(0) => match read_pid_file(data_dir) {
            Some(info) => Ok(Some(info)),
            None => Err(Error::Invalid(format!(
                "the server in {} is running but its postmaster.pid has no port yet; try again",
                data_dir.display()
            ))),
        },
        Some(3) => Ok(None),
        _ => Err(Error::CommandFailed {
            what: "checking whether the server is running".into(),
            command: describe(&cmd, run_as),
            status: out.status.to_string(),
            output: output_tail(&out),
        }),
    }
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

/// pg_ctl splices the data dir and log file into a `/bin/sh -c` line inside double quotes.
fn check_pg_ctl_path(path: &Path) -> Result<(), Error> {
    let s = path.to_string_lossy();
    if s.contains(['"', '\\', '$', '`', '\n']) {
        return Err(Error::Invalid(format!(
            "the directory {s:?} contains a character pg_ctl cannot handle (one of \" \\ $ ` or a newline)"
        )));
    }
    Ok(())
}

/// Where a temporary cluster's directory goes: the system temp dir, else /tmp; it must be
/// short enough for a socket path and, when root, reachable by the server user.
fn temp_parent(run_as: Option<&RunAs>) -> Result<PathBuf, Error> {
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

/// A command for another server program a test runs beside the clusters (a connection pooler,
/// which like PostgreSQL refuses to run as root): as the user the servers run as (the `postgres`
/// system user when we are root), without `PG*` variables. `dir`, where the program keeps its
/// files, is given to that user.
pub fn server_command(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Result<Command, Error> {
    let run_as = server_user()?;
    chown(dir, run_as.as_ref())?;
    Ok(command(program, run_as.as_ref()))
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(io_err("binding a free port on", "127.0.0.1:0"))?;
    let port = listener.local_addr().map_err(io_err("reading the address of", "127.0.0.1:0"))?.port();
    Ok(port)
}

fn port_in_use(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("could not create any TCP/IP sockets")
}

fn start_timeout() -> Duration {
    let secs = std::env::var("SHALE_PG_START_TIMEOUT").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(30);
    Duration::from_secs(secs.max(1))
}

fn read_log_from(path: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.seek(SeekFrom::Start(offset));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    tail(&text, LOG_TAIL_LINES)
}

/// Watchdog for a temporary cluster: waits (polling every 0.2 s) until this process is gone or
/// the directory was removed; in the former case sends SIGQUIT (immediate shutdown) to the
/// postmaster, waits up to 5 s for it to exit or remove postmaster.pid (then SIGKILL), and
/// deletes the directory. Runs as the
/// current user (root can signal the server user's processes), in its own process group with
/// no stdio, so test harnesses neither wait for it nor signal it with the test process.
fn spawn_watchdog(base_dir: &Path, data_dir: &Path) -> Result<Child, Error> {
    const SCRIPT: &str = r#"trap '' HUP INT
pid=$1 base=$2 data=$3
while kill -0 "$pid" 2>/dev/null && [ -d "$base" ]; do sleep 0.2; done
[ -d "$base" ] || exit 0
if [ -f "$data/postmaster.pid" ]; then
  pm=$(head -n 1 "$data/postmaster.pid")
  if [ -n "$pm" ] && kill -QUIT "$pm" 2>/dev/null; then
    i=0
    while kill -0 "$pm" 2>/dev/null && [ -f "$data/postmaster.pid" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$pm" 2>/dev/null
  fi
fi
rm -rf "$base"
"#;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("shale-testkit-watchdog")
        .arg(std::process::id().to_string())
        .arg(base_dir)
        .arg(data_dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    cmd.spawn().map_err(|source| Error::Spawn { command: "/bin/sh -c <shale-testkit watchdog>".into(), source })
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Quote a libpq conninfo value: `'...'` with `\` and `'` backslash-escaped.
fn conninfo_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// Quote an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_urls() {
        assert_eq!(percent_encode(b"/var/shale-pg-ab_C.1~"), "%2Fvar%2Fshale-pg-ab_C.1~");
        assert_eq!(percent_encode("a b/é".as_bytes()), "a%20b%2F%C3%A9");
    }

    #[test]
    fn quotes() {
        assert_eq!(quote_ident(r#"we"ird"#), r#""we""ird""#);
        assert_eq!(conninfo_quote(r"it's\x"), r"'it\'s\\x'");
        assert_eq!(shell_quote("plain/path-1"), "plain/path-1");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }

    #[test]
    fn db_names() {
        let a = unique_db_name("My-Test");
        let b = unique_db_name("My-Test");
        assert_ne!(a, b);
        assert!(a.starts_with("my_test_"), "{a}");
        assert!(unique_db_name("9lives").starts_with("db_9lives_"));
        let long = unique_db_name(&"x".repeat(100));
        assert!(long.len() <= 63, "{long}");
        assert!(unique_db_name("").starts_with("db__"));
    }

    #[test]
    fn port_conflicts_detected() {
        assert!(port_in_use(
            "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\nFATAL:  could not create any TCP/IP sockets"
        ));
        assert!(!port_in_use("FATAL:  data directory has wrong ownership"));
    }

    /// When root, server programs must run as `postgres` with no supplementary groups.
    #[test]
    fn server_commands_drop_privileges() {
        let run_as = server_user().expect("server user");
        let mut cmd = command("id", run_as.as_ref());
        let uid = run(cmd.arg("-u"), run_as.as_ref(), "id -u", None).unwrap();
        let mut cmd = command("id", run_as.as_ref());
        let groups = run(cmd.arg("-G"), run_as.as_ref(), "id -G", None).unwrap();
        match run_as {
            Some(u) => {
                assert_eq!(uid.trim(), u.uid.to_string());
                assert_eq!(groups.trim(), u.gid.to_string(), "supplementary groups must be cleared");
            }
            None => assert_eq!(uid.trim(), nix::unistd::geteuid().to_string()),
        }
    }

    #[test]
    fn pg_env_is_scrubbed() {
        std::env::set_var("PGPORT_SHALE_TESTKIT_PROBE", "1");
        let mut cmd = command("env", None);
        let out = run(&mut cmd, None, "env", None).unwrap();
        assert!(!out.contains("PGPORT_SHALE_TESTKIT_PROBE"));
    }
}
