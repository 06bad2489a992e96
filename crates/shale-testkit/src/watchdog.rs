//! The process that cleans up after a temporary cluster whose owner died without dropping it.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::Error;

/// Watchdog for a temporary cluster: waits (polling every 0.2 s) until this process is gone or
/// the directory was removed; in the former case sends SIGQUIT (immediate shutdown) to the
/// postmaster, waits up to 5 s for it to exit or remove postmaster.pid (then SIGKILL), and
/// deletes the directory. Runs as the
/// current user (root can signal the server user's processes), in its own process group with
/// no stdio, so test harnesses neither wait for it nor signal it with the test process.
pub(crate) fn spawn_watchdog(base_dir: &Path, data_dir: &Path) -> Result<Child, Error> {
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
