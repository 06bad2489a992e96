//! Running the server programs, as the `postgres` system user when we are root.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::unistd::{Gid, Uid, User};

use crate::error::{io_err, tail, Error};

/// Name of the system user the server runs as when we are root.
pub(crate) const SERVER_USER: &str = "postgres";

/// How many output lines an error message keeps.
const TAIL_LINES: usize = 30;

/// The unprivileged user to run initdb/pg_ctl/postgres as.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    pub home: PathBuf,
}

/// `Some(postgres user)` when running as root, `None` otherwise (run as ourselves).
pub(crate) fn server_user() -> Result<Option<RunAs>, Error> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name(SERVER_USER) {
        Ok(Some(u)) => Ok(Some(RunAs { name: u.name, uid: u.uid, gid: u.gid, home: u.dir })),
        Ok(None) => Err(Error::ServerUser(format!(
            "no such user exists (create it, e.g. `apt-get install postgresql` does, or `useradd --system {SERVER_USER}`), \
             or run as a non-root user"
        ))),
        Err(e) => Err(Error::ServerUser(format!("looking it up failed: {e}"))),
    }
}

/// A command for a server program: runs as `run_as` (gid, then uid; std clears the
/// supplementary groups when a root process sets a uid without explicit groups), with every
/// `PG*` environment variable removed so nothing like PGPORT/PGDATA/PGSSLMODE leaks in, stdin
/// from /dev/null, and `/` as working directory (all paths we pass are absolute).
pub(crate) fn command(program: impl AsRef<OsStr>, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    if let Some(user) = run_as {
        cmd.gid(user.gid.as_raw());
        cmd.uid(user.uid.as_raw());
        cmd.env("HOME", &user.home).env("USER", &user.name).env("LOGNAME", &user.name);
    }
    cmd.current_dir("/").stdin(Stdio::null());
    cmd
}

/// Human-readable command line, prefixed with the user when switching users.
pub(crate) fn describe(cmd: &Command, run_as: Option<&RunAs>) -> String {
    let mut s = String::new();
    if let Some(u) = run_as {
        s.push_str(&format!("(as {}) ", u.name));
    }
    s.push_str(&shell_quote(&cmd.get_program().to_string_lossy()));
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&shell_quote(&arg.to_string_lossy()));
    }
    s
}

/// Quote a word for a POSIX shell (only when needed).
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Combined stdout+stderr tail of a finished command.
pub(crate) fn output_tail(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    tail(&text, TAIL_LINES)
}

/// Run to completion, capturing output (and feeding `stdin` if given).
pub(crate) fn output(cmd: &mut Command, run_as: Option<&RunAs>, stdin: Option<&str>) -> Result<Output, Error> {
    let command = describe(cmd, run_as);
    let spawn_err = |source| Error::Spawn { command: command.clone(), source };
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        None => cmd.output().map_err(spawn_err),
        Some(input) => {
            cmd.stdin(Stdio::piped());
            let mut child = cmd.spawn().map_err(spawn_err)?;
            let mut pipe = child.stdin.take().expect("stdin is piped");
            let input = input.to_owned();
            // A writer thread, so a large input cannot deadlock against a large output.
            let writer = std::thread::spawn(move || {
                let _ = pipe.write_all(input.as_bytes());
            });
            let out = child.wait_with_output().map_err(spawn_err);
            let _ = writer.join();
            out
        }
    }
}

/// Run and require success; returns stdout.
pub(crate) fn run(cmd: &mut Command, run_as: Option<&RunAs>, what: &str, stdin: Option<&str>) -> Result<String, Error> {
    let out = output(cmd, run_as, stdin)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::CommandFailed {
            what: what.to_string(),
            command: describe(cmd, run_as),
            status: out.status.to_string(),
            output: output_tail(&out),
        })
    }
}

/// Give `path` to the server user (no-op when not root).
pub(crate) fn chown(path: &Path, run_as: Option<&RunAs>) -> Result<(), Error> {
    if let Some(u) = run_as {
        std::os::unix::fs::chown(path, Some(u.uid.as_raw()), Some(u.gid.as_raw()))
            .map_err(io_err(format!("giving to user {}", u.name), path))?;
    }
    Ok(())
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("setting mode {mode:o} on"), path))
}

/// Whether `user` (with only its primary group) may traverse `dir`.
fn may_traverse(dir: &Path, user: &RunAs) -> Result<bool, Error> {
    let meta = std::fs::metadata(dir).map_err(io_err("inspecting", dir))?;
    let mode = meta.mode();
    Ok(if meta.uid() == user.uid.as_raw() {
        mode & 0o100 != 0
    } else if meta.gid() == user.gid.as_raw() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    })
}

/// The first directory in `path` and its ancestors that `user` cannot traverse, if any.
pub(crate) fn untraversable(path: &Path, user: &RunAs) -> Result<Option<PathBuf>, Error> {
    let mut chain: Vec<&Path> = path.ancestors().collect();
    chain.reverse();
    for dir in chain {
        if !may_traverse(dir, user)? {
            return Ok(Some(dir.to_path_buf()));
        }
    }
    Ok(None)
}

/// Error unless `user` can reach `path` (all of its ancestors and itself must be traversable).
pub(crate) fn require_traversable(path: &Path, run_as: Option<&RunAs>) -> Result<(), Error> {
    let Some(user) = run_as else { return Ok(()) };
    if let Some(blocked) = untraversable(path, user)? {
        return Err(Error::ServerUser(format!(
            "that user cannot reach {} because it may not enter {} (no search permission). \
             Use a directory it can reach (e.g. under /tmp or /srv), grant it access \
             (e.g. `chmod o+x {}`), or run as a non-root user.",
            path.display(),
            blocked.display(),
            shell_quote(&blocked.to_string_lossy())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quotes() {
        assert_eq!(shell_quote("plain/path-1"), "plain/path-1");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
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
