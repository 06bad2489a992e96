use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while finding, starting, stopping or querying a server.
///
/// Messages say what failed, which command ran (with the user it ran as when that is not
/// the current one), and the tail of its output and/or of the server log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No directory with `initdb`, `postgres` and `pg_ctl` was found.
    #[error(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found.\nLooked in:\n{searched}\n\
         Install them (Debian/Ubuntu: `apt-get install postgresql`), or set SHALE_PG_BINDIR to the \
         directory that holds initdb and postgres."
    )]
    BinariesNotFound {
        /// One line per place looked at, with why it did not qualify.
        searched: String,
    },

    /// A program could not be started at all.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },

    /// A program ran but failed.
    #[error("{what} failed: `{command}` {status}{}", section("output", .output))]
    CommandFailed {
        what: String,
        command: String,
        status: String,
        /// The last lines of its stdout and stderr.
        output: String,
    },

    /// `pg_ctl start` failed or the server never became ready.
    #[error(
        "PostgreSQL server in {} did not start: {reason}\ncommand: `{command}`{}{}",
        .data_dir.display(),
        section("pg_ctl output", .output),
        section("server log", .log_tail)
    )]
    StartFailed {
        data_dir: PathBuf,
        command: String,
        reason: String,
        output: String,
        /// The last lines of the server log written during this start attempt.
        log_tail: String,
    },

    /// A filesystem operation failed.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Running as root, but the unprivileged server user is missing or cannot reach a directory.
    #[error("running as root, so the server must run as the `postgres` system user, but {0}")]
    ServerUser(String),

    /// Invalid input or a state the request cannot be carried out in (e.g. a non-empty directory
    /// that is not a data directory, or a port conflict with an already running dev server).
    #[error("{0}")]
    Invalid(String),
}

fn section(label: &str, text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!("\n--- {label} (last lines) ---\n{}", text.trim_end())
    }
}

pub(crate) fn io_err(what: impl Into<String>, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    let path = path.into();
    move |source| Error::Io { what, path, source }
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}
