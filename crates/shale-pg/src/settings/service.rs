//! The connection service file (`pg_service.conf`), read the way libpq reads it: `[name]`
//! sections of `keyword=value` lines, `#` comments. The service is looked for in the user's file
//! (`servicefile`, else PGSERVICEFILE, else `~/.pg_service.conf`), then in the system's
//! (`PGSYSCONFDIR/pg_service.conf`, else `/etc/postgresql-common/pg_service.conf`, where
//! Debian's and Ubuntu's libpq look); the first file that has it is used. Messages name the file
//! and line, and never quote a line that is not `keyword=value` (it may be a password).

use std::path::{Path, PathBuf};

use super::SettingsError;

/// Where libpq looks for the system-wide file when PGSYSCONFDIR is not set (Debian's and
/// Ubuntu's packages; other builds use their own `pg_config --sysconfdir`).
pub const DEFAULT_SYSCONFDIR: &str = "/etc/postgresql-common";

/// A `keyword=value` line of a service, with where it is (`service file F, line N`).
pub(super) struct Entry {
    pub key: String,
    pub value: String,
    pub at: String,
}

/// Never shows the value: it may be a password.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.key, self.at)
    }
}

/// The lines of service `name`.
pub(super) fn lookup(
    name: &str,
    servicefile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, SettingsError> {
    let user_file = servicefile
        .map(PathBuf::from)
        .or_else(|| env("PGSERVICEFILE").filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(|| env("HOME").filter(|v| !v.is_empty()).map(|home| Path::new(&home).join(".pg_service.conf")));
    let sysconfdir = env("PGSYSCONFDIR").filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_SYSCONFDIR.into());
    let system_file = Path::new(&sysconfdir).join("pg_service.conf");
    let mut searched = Vec::new();
    for file in user_file.iter().chain(std::iter::once(&system_file)) {
        searched.push(file.display().to_string());
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SettingsError(format!("cannot read the service file {}: {e}", file.display()))),
        };
        if let Some(pairs) = section(&text, name, &file.display().to_string())? {
            return Ok(pairs);
        }
    }
    Err(SettingsError(format!("service `{name}` is not defined in {}", searched.join(" nor in "))))
}

/// The pairs of section `[name]` in a service file's text, if it has that section.
pub(super) fn section(text: &str, name: &str, file: &str) -> Result<Option<Vec<Entry>>, SettingsError> {
    let mut found: Option<Vec<Entry>> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("service file {file}, line {}", index + 1);
        if let Some(header) = line.strip_prefix('[') {
            if found.is_some() {
                break;
            }
            if header.strip_suffix(']') == Some(name) {
                found = Some(Vec::new());
            }
            continue;
        }
        let Some(pairs) = found.as_mut() else { continue };
        let Some((key, value)) = line.split_once('=') else {
            return Err(SettingsError(format!("{}: expected keyword=value", at())));
        };
        let key = key.trim();
        if key == "service" {
            return Err(SettingsError(format!("{}: a service cannot name another service", at())));
        }
        pairs.push(Entry { key: key.to_string(), value: value.trim().to_string(), at: at() });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_like_libpq() {
        let text = "# services\n[other]\nhost=elsewhere\nbroken line\n\n[app]\nhost = db.internal\n  port=6432\npassword=a=b\n# end\n[next]\nhost=x\n";
        let pairs = section(text, "app", "f").unwrap().unwrap();
        let simple: Vec<(&str, &str)> = pairs.iter().map(|e| (e.key.as_str(), e.value.as_str())).collect();
        assert_eq!(simple, [("host", "db.internal"), ("port", "6432"), ("password", "a=b")]);
        assert_eq!(pairs[1].at, "service file f, line 8");
        assert!(section(text, "missing", "f").unwrap().is_none());
        // Only the chosen section is checked; its errors name the line, never the text.
        let e = section(text, "other", "f").unwrap_err().to_string();
        assert!(e.contains("line 4") && !e.contains("broken"), "{e}");
        let nested = section("[a]\nservice=b\n", "a", "f").unwrap_err().to_string();
        assert!(nested.contains("cannot name another service"), "{nested}");
    }
}
