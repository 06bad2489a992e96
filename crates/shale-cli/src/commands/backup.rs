//! `shale up --backup DIR`: pg_dump (custom format) before anything is applied.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use shale::Migrator;

use super::block_on;
use crate::settings::Settings;

/// A backup that could not be made; nothing was applied.
#[derive(Debug)]
pub struct BackupError(pub String);

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "backup failed, so nothing was applied: {}", self.0)
    }
}

impl std::error::Error for BackupError {}

/// pg_dump: `SHALE_PG_DUMP`, else the server binaries shale finds, else PATH.
fn pg_dump() -> PathBuf {
    if let Some(p) = std::env::var_os("SHALE_PG_DUMP") {
        return PathBuf::from(p);
    }
    match shale_testkit::ServerBinaries::find() {
        Ok(bins) if bins.program("pg_dump").exists() => bins.program("pg_dump"),
        _ => PathBuf::from("pg_dump"),
    }
}

/// The major version from `pg_dump (PostgreSQL) 15.18 (Debian ...)`.
fn major_of(version_line: &str) -> Option<u32> {
    version_line.split_whitespace().find_map(|w| w.split('.').next()?.parse::<u32>().ok())
}

pub fn run(settings: &Settings, migrator: &Migrator, dir: &Path) -> Result<PathBuf> {
    let program = pg_dump();
    let version = Command::new(&program).arg("--version").output().map_err(|e| {
        BackupError(format!(
            "cannot run {} ({e}); install the PostgreSQL client tools (e.g. apt-get install postgresql-client) or set SHALE_PG_DUMP",
            program.display()
        ))
    })?;
    let version_text = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let Some(dump_major) = major_of(&version_text) else {
        bail!(BackupError(format!("{} --version said {version_text:?}, not a pg_dump version", program.display())));
    };
    let server = block_on(migrator.server_version())?;
    let server_major = server / 10000;
    if dump_major < server_major {
        bail!(BackupError(format!(
            "{} is version {dump_major}, older than the PostgreSQL {server_major} server; pg_dump must be at least the server's version: install postgresql-client-{server_major} or set SHALE_PG_DUMP",
            program.display()
        )));
    }
    // A dump holds all the data: only its owner may read it. A directory shale creates is 0700,
    // the file 0600 (made before pg_dump writes into it, which keeps its mode).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the backup directory {}", dir.display()))?;
    let connection = &migrator.config.connection;
    let db = connection.dbname.clone().unwrap_or_else(|| "database".into());
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    // A second backup in the same second (a retried deploy) gets a file of its own, not an error.
    let mut file = dir.join(format!("{db}-{stamp}.dump"));
    for n in 2.. {
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&file);
        match created {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                file = dir.join(format!("{db}-{stamp}-{n}.dump"));
            }
            Err(e) => return Err(e).with_context(|| format!("creating the backup file {}", file.display())),
        }
    }
    let mut command = Command::new(&program);
    command.args(["--format=custom", "--no-password", "--file"]).arg(&file);
    // The settings are complete (a service already applied): no libpq variable of ours may
    // reach pg_dump, where a PGSERVICE would override them.
    for (var, _) in shale_pg::settings::ENVIRONMENT {
        command.env_remove(var);
    }
    // The password travels in the environment, never on the command line.
    command.envs(connection.libpq_env());
    let output = command.output().map_err(|e| BackupError(format!("cannot run {}: {e}", program.display())))?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&file);
        bail!(BackupError(format!(
            "{} exited with {}: {}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    if !settings.quiet && !settings.json {
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        // (As JSON events with --log-format json: the package trial's log parser met text.)
        crate::output::plain_with(
            "backup_written",
            &format!("backup written to {} ({} kB) with {version_text}", file.display(), size / 1024),
            serde_json::json!({ "file": file, "bytes": size, "pg_dump": version_text }),
        );
        // No password in it: pg_restore reads PGPASSWORD or the password file, or asks.
        crate::output::plain(
            "backup_restore_command",
            &format!(
                "restore with: pg_restore --clean --if-exists --no-owner --dbname '{}' '{}'",
                connection.for_psql(),
                file.display()
            ),
        );
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pg_dump_versions() {
        assert_eq!(super::major_of("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"), Some(15));
        assert_eq!(super::major_of("pg_dump (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(super::major_of("nonsense"), None);
    }
}
