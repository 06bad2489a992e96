//! Databases on a cluster: their URLs and connection strings, creating and dropping them, running
//! SQL with psql, and [`TestDb`], a uniquely named database for one test.

use std::fmt;
use std::ops::Deref;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use shale_core::ident::ident_always_quoted;

use crate::process::{command, run};
use crate::{Cluster, Error, SUPERUSER};

impl Cluster {
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
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", ident_always_quoted(name));
        let mut cmd = self.psql_command(&self.conninfo("postgres"));
        cmd.arg("-c").arg(&sql);
        run(&mut cmd, None, &format!("creating database {name:?}"), None).map(drop)
    }

    /// `DROP DATABASE IF EXISTS "name" WITH (FORCE)` (disconnects its sessions).
    pub fn drop_database(&self, name: &str) -> Result<(), Error> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident_always_quoted(name));
        let mut cmd = self.psql_command(&self.conninfo("postgres"));
        cmd.arg("-c").arg(&sql);
        run(&mut cmd, None, &format!("dropping database {name:?}"), None).map(drop)
    }

    /// A new, uniquely named, empty database (see [`fresh_database`](crate::fresh_database) for the naming).
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
}

/// A database made by [`fresh_database`](crate::fresh_database) / [`Cluster::fresh_database`].
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
        assert_eq!(conninfo_quote(r"it's\x"), r"'it\'s\\x'");
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
}
