//! A real PgBouncer in front of a test cluster, for the tests of what shale does through a
//! connection pooler (the lock, session settings, tenant schemas).

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, server_command, Cluster, Error};

/// A PgBouncer listening on 127.0.0.1, stopped on drop.
pub struct Pgbouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Pgbouncer {
    /// Starts PgBouncer in `pool_mode` (`session`, `transaction` or `statement`) in front of
    /// `cluster`, configured as shale's README says: `ignore_startup_parameters = options`, so
    /// shale's session settings do not ride on the startup packet.
    pub fn start(cluster: &Cluster, pool_mode: &str) -> Result<Pgbouncer, Error> {
        Pgbouncer::start_ignoring(cluster, pool_mode, "options,extra_float_digits")
    }

    /// [`Pgbouncer::start`] as a pooler is often left configured, or a managed one is: refusing
    /// the `options` startup parameter (`unsupported startup parameter: options`).
    pub fn start_refusing_options(cluster: &Cluster, pool_mode: &str) -> Result<Pgbouncer, Error> {
        Pgbouncer::start_ignoring(cluster, pool_mode, "extra_float_digits")
    }

    /// [`Pgbouncer::start`] handing out its server sessions in turn (`server_round_robin`), as a
    /// busy pool does: a client's consecutive transactions land on different server sessions.
    pub fn start_round_robin(cluster: &Cluster, pool_mode: &str) -> Result<Pgbouncer, Error> {
        Pgbouncer::start_ignoring(cluster, pool_mode, "options,extra_float_digits\nserver_round_robin = 1")
    }

    /// [`Pgbouncer::start`] asking its clients for `password` itself (`auth_type = plain`), as a
    /// managed pooler does: a wrong one is refused by PgBouncer, not by the server.
    pub fn start_with_password(cluster: &Cluster, pool_mode: &str, password: &str) -> Result<Pgbouncer, Error> {
        Pgbouncer::start_with(cluster, pool_mode, "options,extra_float_digits", Some(password))
    }

    fn start_ignoring(cluster: &Cluster, pool_mode: &str, ignored: &str) -> Result<Pgbouncer, Error> {
        Pgbouncer::start_with(cluster, pool_mode, ignored, None)
    }

    fn start_with(
        cluster: &Cluster,
        pool_mode: &str,
        ignored: &str,
        password: Option<&str>,
    ) -> Result<Pgbouncer, Error> {
        let program = find()?;
        let dir = tempfile::tempdir().map_err(|e| Error::Invalid(format!("a temporary directory: {e}")))?;
        let port = free_port()?;
        let users = dir.path().join("users.txt");
        let log = dir.path().join("pgbouncer.log");
        let ini = dir.path().join("pgbouncer.ini");
        let write = |path: &PathBuf, text: String| {
            std::fs::write(path, text).map_err(|e| Error::Invalid(format!("writing {}: {e}", path.display())))
        };
        write(&users, format!("\"{}\" \"{}\"\n", cluster.superuser(), password.unwrap_or_default()))?;
        let auth_type = if password.is_some() { "plain" } else { "trust" };
        write(
            &ini,
            format!(
                "[databases]\n* = host=127.0.0.1 port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = {auth_type}\nauth_file = {}\npool_mode = {pool_mode}\nmax_client_conn = 400\ndefault_pool_size = 20\n\
                 ignore_startup_parameters = {ignored}\nlogfile = {}\n",
                cluster.port(),
                users.display(),
                log.display()
            ),
        )?;
        let mut cmd = server_command(&program, dir.path())?;
        cmd.arg(&ini).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| Error::Invalid(format!("starting {}: {e}", program.display())))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(Error::Invalid(format!("pgbouncer exited ({status}) before listening:\n{log}")));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(Error::Invalid(format!("pgbouncer never listened on port {port}")));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(Pgbouncer { child, port, dir })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL to database `db` through the pooler, as the cluster's superuser.
    pub fn url(&self, cluster: &Cluster, db: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{db}", cluster.superuser(), self.port)
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pgbouncer program: on PATH, else where Debian installs it.
fn find() -> Result<PathBuf, Error> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|d| d.join("pgbouncer")).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([PathBuf::from("/usr/sbin/pgbouncer")]).find(|p| p.is_file()).ok_or_else(|| {
        Error::Invalid("pgbouncer is not installed: `apt-get install pgbouncer` (.ci/run does it)".into())
    })
}
