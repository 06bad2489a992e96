//! The server in a data directory: initdb, starting it with pg_ctl on a free port (retrying when
//! the port gets taken), waiting until it accepts connections, asking whether it runs, stopping it.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster::Profile;
use crate::error::{io_err, tail};
use crate::process::{chown, command, describe, output, output_tail, run, server_user, shell_quote, RunAs};
use crate::{Cluster, ClusterOptions, Error, ServerBinaries, SUPERUSER};

/// Start attempts when the chosen free port turns out to be taken.
pub(crate) const PORT_ATTEMPTS: usize = 5;
/// Lines of server log kept in error messages.
pub(crate) const LOG_TAIL_LINES: usize = 30;

impl Cluster {
    pub(crate) fn initdb(&self, profile: Profile, tls: bool) -> Result<(), Error> {
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

    pub(crate) fn start_server(
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

/// Stop the server in `data_dir`: fast, then immediate, then SIGKILL to the postmaster.
pub(crate) fn stop_server(bins: &ServerBinaries, run_as: Option<&RunAs>, data_dir: &Path) -> Result<(), Error> {
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

pub(crate) struct PidInfo {
    pub(crate) pid: i32,
    pub(crate) port: u16,
    pub(crate) socket_dir: Option<PathBuf>,
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
pub(crate) fn running(
    bins: &ServerBinaries,
    run_as: Option<&RunAs>,
    data_dir: &Path,
) -> Result<Option<PidInfo>, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_conflicts_detected() {
        assert!(port_in_use(
            "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use\nFATAL:  could not create any TCP/IP sockets"
        ));
        assert!(!port_in_use("FATAL:  data directory has wrong ownership"));
    }
}
