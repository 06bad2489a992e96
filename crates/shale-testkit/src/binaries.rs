use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{tail, Error};
use crate::process::describe;

/// Where Debian/Ubuntu install the server binaries of each major version.
const DEBIAN_LIB_DIR: &str = "/usr/lib/postgresql";

/// Programs that must all be present in a server bindir.
const REQUIRED: [&str; 3] = ["initdb", "postgres", "pg_ctl"];

/// A directory holding the PostgreSQL server binaries (`initdb`, `postgres`, `pg_ctl`, and
/// usually `psql`, `pg_isready`), with the server's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBinaries {
    /// Absolute, symlink-free path of the directory.
    pub bindir: PathBuf,
    /// Version as printed by `postgres --version`, e.g. `"15.18"`.
    pub version: String,
}

impl ServerBinaries {
    /// Find server binaries, in this order:
    ///
    /// 1. `$SHALE_PG_BINDIR` if set and non-empty (an error if it lacks the programs; no fallback),
    /// 2. `pg_config --bindir` (pg_config from PATH), only if it contains `initdb` and `postgres`,
    /// 3. PATH: a directory with `initdb` whose real (symlink-resolved) location has `postgres`
    ///    beside it,
    /// 4. the newest `/usr/lib/postgresql/<version>/bin` (versions compared numerically).
    ///
    /// The error lists every place looked at and why it did not qualify.
    pub fn find() -> Result<Self, Error> {
        let mut searched: Vec<String> = Vec::new();

        if let Some(dir) = std::env::var_os("SHALE_PG_BINDIR").filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(dir);
            return match missing_programs(&dir) {
                None => Self::from_bindir(&dir),
                Some(why) => {
                    Err(Error::BinariesNotFound { searched: format!("  SHALE_PG_BINDIR={}: {why}", dir.display()) })
                }
            };
        }
        searched.push("  SHALE_PG_BINDIR: not set".into());

        match Command::new("pg_config").arg("--bindir").output() {
            Ok(out) if out.status.success() => {
                let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                match missing_programs(&dir) {
                    None => return Self::from_bindir(&dir),
                    Some(why) => searched.push(format!("  `pg_config --bindir` = {}: {why}", dir.display())),
                }
            }
            Ok(out) => searched.push(format!(
                "  `pg_config --bindir`: failed ({}) {}",
                out.status,
                tail(String::from_utf8_lossy(&out.stderr).trim(), 3)
            )),
            Err(e) => searched.push(format!("  `pg_config --bindir`: {e}")),
        }

        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut found_in_path = false;
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                continue;
            }
            found_in_path = true;
            let real_dir = std::fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| dir.clone());
            match missing_programs(&real_dir) {
                None => return Self::from_bindir(&real_dir),
                Some(why) => {
                    searched.push(format!("  PATH: {} (real location {}): {why}", initdb.display(), real_dir.display()))
                }
            }
        }
        if !found_in_path {
            searched.push(format!(
                "  PATH ({}): no initdb",
                std::env::join_paths(std::env::split_paths(&path))
                    .unwrap_or_else(|_| OsString::from("?"))
                    .to_string_lossy()
            ));
        }

        let mut versions: Vec<(Vec<u64>, PathBuf)> = Vec::new();
        match std::fs::read_dir(DEBIAN_LIB_DIR) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if let Some(key) = numeric_version(&name) {
                        versions.push((key, entry.path().join("bin")));
                    }
                }
                if versions.is_empty() {
                    searched.push(format!("  {DEBIAN_LIB_DIR}/*/bin: no version directories"));
                }
            }
            Err(e) => searched.push(format!("  {DEBIAN_LIB_DIR}/*/bin: {e}")),
        }
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        for (_, dir) in versions {
            match missing_programs(&dir) {
                None => return Self::from_bindir(&dir),
                Some(why) => searched.push(format!("  {}: {why}", dir.display())),
            }
        }

        Err(Error::BinariesNotFound { searched: searched.join("\n") })
    }

    /// Use the binaries in `dir` (which must hold `initdb`, `postgres` and `pg_ctl`).
    pub fn from_bindir(dir: &Path) -> Result<Self, Error> {
        if let Some(why) = missing_programs(dir) {
            return Err(Error::BinariesNotFound { searched: format!("  {}: {why}", dir.display()) });
        }
        let bindir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        // `postgres --version` is answered before the server's refuse-to-run-as-root check.
        let mut cmd = Command::new(bindir.join("postgres"));
        cmd.arg("--version");
        let out = cmd.output().map_err(|source| Error::Spawn { command: describe(&cmd, None), source })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(Error::CommandFailed {
                what: "asking the server for its version".into(),
                command: describe(&cmd, None),
                status: out.status.to_string(),
                output: tail(&format!("{text}{}", String::from_utf8_lossy(&out.stderr)), 20),
            });
        }
        let version = parse_version(&text).ok_or_else(|| Error::CommandFailed {
            what: "parsing the server version".into(),
            command: describe(&cmd, None),
            status: "printed no version number".into(),
            output: tail(&text, 5),
        })?;
        Ok(ServerBinaries { bindir, version })
    }

    /// The major version: `15` for `"15.18"`, `9` for `"9.6.24"`.
    pub fn major(&self) -> u32 {
        self.version.split(|c: char| !c.is_ascii_digit()).next().and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// Path of a program in the bindir (whether or not it exists).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    /// `psql` from the bindir, or plain `psql` (looked up in PATH) if the bindir has none.
    pub fn psql(&self) -> PathBuf {
        self.program_or_path("psql")
    }

    pub(crate) fn program_or_path(&self, name: &str) -> PathBuf {
        let p = self.program(name);
        if is_executable(&p) {
            p
        } else {
            PathBuf::from(name)
        }
    }
}

fn missing_programs(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some("not a directory".into());
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|p| !is_executable(&dir.join(p))).collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!("no {}", missing.join(", no ")))
    }
}

pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// `"15"` -> `[15]`, `"9.6"` -> `[9, 6]`; anything else -> None.
fn numeric_version(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|part| part.parse::<u64>().ok()).collect()
}

/// Extract `15.18` from `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
fn parse_version(text: &str) -> Option<String> {
    let line = text.lines().next()?;
    let mut words = line.split_whitespace();
    let candidate = if line.contains("(PostgreSQL)") {
        words.skip_while(|w| *w != "(PostgreSQL)").nth(1)
    } else {
        words.find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
    }?;
    let version = candidate.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    version.starts_with(|c: char| c.is_ascii_digit()).then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(), Some("15.18"));
        assert_eq!(parse_version("postgres (PostgreSQL) 17beta1").as_deref(), Some("17beta1"));
        assert_eq!(parse_version("postgres 9.6.24").as_deref(), Some("9.6.24"));
        assert_eq!(parse_version("nonsense"), None);
    }

    #[test]
    fn orders_version_dirs_numerically() {
        let mut v =
            vec![numeric_version("9.6").unwrap(), numeric_version("15").unwrap(), numeric_version("10").unwrap()];
        v.sort();
        assert_eq!(v, vec![vec![9, 6], vec![10], vec![15]]);
        assert_eq!(numeric_version("main"), None);
    }

    #[test]
    fn major_version() {
        let b = ServerBinaries { bindir: "/x".into(), version: "15.18".into() };
        assert_eq!(b.major(), 15);
        let b = ServerBinaries { bindir: "/x".into(), version: "17beta1".into() };
        assert_eq!(b.major(), 17);
    }
}
