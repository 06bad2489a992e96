//! Runners serialize on a session advisory lock, held on a connection of its own; or, through a
//! transaction-mode connection pooler, on a table lease (see [`crate::lease`]). [`acquire`] takes
//! either kind, or picks one (`auto`), and [`HeldLock`] is used the same way whichever it is.

use std::fmt;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::connect::{connect, SessionSettings};
use crate::error::PgError;
use crate::history::HistoryTable;
use crate::lease::LeaseLock;
use crate::settings::ConnectionSettings;
use crate::sql::quote_literal;

/// Who holds the migration lock: from pg_stat_activity for the advisory lock, from the lease row
/// for the table lease.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LockHolder {
    /// The server backend holding the advisory lock; for a lease, the holder's process id on its host.
    pub pid: i32,
    pub application_name: String,
    pub user: String,
    /// The client address of the advisory lock's session; for a lease, the holder's host name.
    pub client: String,
    /// When the holder's session went idle holding the lock (about when it took it); for a lease,
    /// when it was taken.
    pub since: String,
    /// Set when the lock is a table lease.
    pub lease: Option<LeaseInfo>,
}

/// What a lease holder adds: when its lease runs out, and where the row is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeaseInfo {
    /// The server's `expires_at`, UTC.
    pub expires_at: String,
    /// The lease table, schema-qualified and quoted.
    pub table: String,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(lease) = &self.lease {
            return write!(
                f,
                "a lease of shale pid {} on host {} ({}, user {}) since {}, expiring at {} unless renewed",
                self.pid,
                self.client,
                if self.application_name.is_empty() { "no application_name" } else { &self.application_name },
                self.user,
                self.since,
                lease.expires_at
            );
        }
        write!(
            f,
            "pid {} ({}, user {}, from {}) since {}",
            self.pid,
            if self.application_name.is_empty() { "no application_name" } else { &self.application_name },
            self.user,
            if self.client.is_empty() { "local socket" } else { &self.client },
            self.since
        )
    }
}

/// Which lock serializes runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockKind {
    /// A session advisory lock on a connection of its own: released by the server when that
    /// connection ends, also on a crash. Needs a real session: no transaction-mode pooler.
    Advisory,
    /// A lease row in `<history table>_lock`, renewed by a heartbeat, taken over after expiry.
    /// Works through any pooler.
    Table,
    /// The advisory lock, unless a check right after taking it finds a transaction-mode pooler
    /// in between: then the table lease.
    #[default]
    Auto,
}

impl LockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockKind::Advisory => "advisory",
            LockKind::Table => "table",
            LockKind::Auto => "auto",
        }
    }
}

impl fmt::Display for LockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LockKind {
    type Err = String;
    fn from_str(text: &str) -> Result<LockKind, String> {
        match text {
            "advisory" => Ok(LockKind::Advisory),
            "table" => Ok(LockKind::Table),
            "auto" => Ok(LockKind::Auto),
            other => Err(format!("unknown lock kind `{other}`: expected advisory, table or auto")),
        }
    }
}

/// How to take the migration lock.
#[derive(Debug, Clone)]
pub struct LockOptions {
    pub kind: LockKind,
    /// How long a table lease lasts without renewal (the heartbeat renews it every third of it).
    pub lease_ttl: Duration,
    /// How long to wait for another runner's lock.
    pub wait: Duration,
}

/// What happens while the lock is being taken.
#[derive(Debug)]
pub enum LockEvent<'a> {
    /// Another runner holds it; told once per new holder.
    Waiting(&'a LockHolder),
    /// `auto` found a transaction-mode pooler and uses the table lease instead; the text says why.
    PoolerDetected(&'a str),
    /// The lease was taken over from a holder whose lease had expired (it crashed or stalled).
    TookOver(&'a LockHolder),
}

/// A held migration lock of either kind.
pub enum HeldLock {
    Advisory(MigrationLock),
    Lease(LeaseLock),
}

impl HeldLock {
    pub fn kind(&self) -> LockKind {
        match self {
            HeldLock::Advisory(_) => LockKind::Advisory,
            HeldLock::Lease(_) => LockKind::Table,
        }
    }

    /// An error when the lock may be gone: its session ended, or its lease was not renewed in time.
    pub fn ensure_held(&self) -> Result<(), PgError> {
        match self {
            HeldLock::Advisory(lock) => lock.ensure_held(),
            HeldLock::Lease(lease) => lease.ensure_held(),
        }
    }

    /// SQL a migration's transaction runs just before COMMIT so that it commits only while the
    /// lock is held. Only a lease can run out while its holder is alive; the advisory lock is
    /// checked before each migration ([`HeldLock::ensure_held`]).
    pub fn commit_fence(&self) -> Option<String> {
        match self {
            HeldLock::Advisory(_) => None,
            HeldLock::Lease(lease) => Some(lease.fence()),
        }
    }

    pub async fn release(self) -> Result<(), PgError> {
        match self {
            HeldLock::Advisory(lock) => lock.release().await,
            HeldLock::Lease(lease) => lease.release().await,
        }
    }
}

/// Take the migration lock of `table` as `options` say. `other` is another open connection of
/// this runner to the same database: `auto` uses it to check for a pooler.
pub async fn acquire(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    table: &HistoryTable,
    options: &LockOptions,
    other: &Client,
    on_event: &mut (dyn FnMut(LockEvent<'_>) + Send),
) -> Result<HeldLock, PgError> {
    let started = Instant::now();
    let remaining = || options.wait.saturating_sub(started.elapsed());
    // A timeout in a later step still reports the whole wait.
    let whole_wait = |e: PgError| match e {
        PgError::LockTimeout { holder, .. } => PgError::LockTimeout { waited: options.wait, holder },
        other => other,
    };
    if options.kind != LockKind::Table {
        // Runners on the lease and runners on the advisory lock exclude each other too: each
        // takes its own lock first, then looks for the other kind and gives its own back when it
        // finds one. Whichever looks second sees the first, so at most one goes on.
        let mut last_lease: Option<(i32, String)> = None;
        loop {
            let lock =
                MigrationLock::acquire(settings, session, table, remaining(), &mut |h| on_event(LockEvent::Waiting(h)))
                    .await
                    .map_err(whole_wait)?;
            let auto = options.kind == LockKind::Auto;
            let check = lock.check(auto.then_some(other), table).await?;
            if let Some(evidence) = check.pooler {
                on_event(LockEvent::PoolerDetected(&evidence));
                break;
            }
            let lease = match check.lease_table {
                true => crate::lease::live_lease(if auto { other } else { &lock.client }, table).await?,
                false => None,
            };
            let Some((holder, left)) = lease else {
                return Ok(HeldLock::Advisory(lock));
            };
            lock.release().await?;
            // Not `since`: a pooled session's changes with every use.
            let who = (holder.pid, holder.client.clone());
            if last_lease.as_ref() != Some(&who) {
                on_event(LockEvent::Waiting(&holder));
                last_lease = Some(who);
            }
            if remaining().is_zero() {
                return Err(PgError::LockTimeout { waited: options.wait, holder: Some(Box::new(holder)) });
            }
            tokio::time::sleep(crate::lease::pause(left, remaining())).await;
        }
    }
    let wait = remaining();
    let lease =
        LeaseLock::acquire(settings, session, table, options.lease_ttl, wait, &mut |h| on_event(LockEvent::Waiting(h)))
            .await
            .map_err(whole_wait)?;
    if let Some(previous) = &lease.took_over {
        on_event(LockEvent::TookOver(previous));
    }
    Ok(HeldLock::Lease(lease))
}

/// What [`MigrationLock::check`] found.
struct LockCheck {
    /// Why a transaction-mode pooler is in the way, when one is.
    pooler: Option<String>,
    /// The lease table exists: a runner on the table lease may hold it.
    lease_table: bool,
}

/// The held lock. Released by `release`, or by the server when the connection closes (also on a crash).
pub struct MigrationLock {
    client: Client,
    key: i64,
    /// The server session that took the lock, as it said right then.
    backend_pid: i32,
}

impl MigrationLock {
    /// Take the lock for this history table, waiting up to `timeout` for another runner to finish.
    /// `on_wait` is told who holds it, once per new holder.
    pub async fn acquire(
        settings: &ConnectionSettings,
        session: &SessionSettings,
        table: &HistoryTable,
        timeout: Duration,
        on_wait: &mut (dyn FnMut(&LockHolder) + Send),
    ) -> Result<MigrationLock, PgError> {
        let session = SessionSettings {
            application_name: format!("{} (migration lock)", session.application_name),
            ..session.clone()
        };
        let client = connect(settings, &session).await?;
        let key_sql = key_sql(table);
        // The lock session sits idle while the migrations run: keep idle_session_timeout (PG 14+)
        // from ending it, which would release the lock under a running migration.
        let sql = format!(
            "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000;
             SELECT pg_try_advisory_lock({key_sql}), {key_sql}, pg_backend_pid()"
        );
        let rows = simple_rows(&client, &sql, "taking the migration lock").await?;
        let (locked, key, backend_pid) = match rows.last().map(Vec::as_slice) {
            Some([locked, key, pid]) => (locked == "t", key.parse::<i64>().unwrap_or(0), pid.parse().unwrap_or(0)),
            _ => return Err(PgError::Corrupt("the lock query returned no row".into())),
        };
        if locked {
            return Ok(MigrationLock { client, key, backend_pid });
        }
        let started = Instant::now();
        let mut last_holder: Option<i32> = None;
        loop {
            let holder = holder(&client, key).await?;
            if let Some(h) = &holder {
                if last_holder != Some(h.pid) {
                    on_wait(h);
                    last_holder = Some(h.pid);
                }
            }
            let remaining = timeout.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(PgError::LockTimeout { waited: timeout, holder: holder.map(Box::new) });
            }
            // Block in the server until the lock is free, a slice at a time, so a new holder is reported.
            let slice = remaining.min(Duration::from_secs(5)).as_millis().max(1);
            let sql = format!(
                "SET lock_timeout = {slice}; SELECT pg_advisory_lock({key}), pg_backend_pid(); SET lock_timeout = 0"
            );
            match simple_rows(&client, &sql, "waiting for the migration lock").await {
                Ok(rows) => {
                    let backend_pid = rows.last().and_then(|r| r.get(1)).and_then(|p| p.parse().ok()).unwrap_or(0);
                    return Ok(MigrationLock { client, key, backend_pid });
                }
                Err(PgError::Query { sqlstate: Some(code), .. }) if code == "55P03" => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Looks, after the lock was taken, for a lease table and, given `other` (another connection
    /// of this runner, for `auto`), for a transaction-mode pooler: one statement, on `other` when
    /// given, else on the lock's own connection.
    ///
    /// The pooler: `client` asks which server session serves it. Without a transaction-mode
    /// pooler another connection is never the session holding the lock. With one, the session
    /// that took the lock went back to the pool after that statement, and a pooler that reuses
    /// the most recently freed session (PgBouncer's default) hands it to `client`, which then
    /// releases the lock in the same statement, so no lock is left behind in the pool.
    async fn check(&self, other: Option<&Client>, table: &HistoryTable) -> Result<LockCheck, PgError> {
        let pid = self.backend_pid;
        let client = other.unwrap_or(&self.client);
        // Only another connection releases the lock here, when it turns out to share its session.
        let unlock = match other {
            Some(_) => format!("CASE WHEN pg_backend_pid() = {pid} THEN pg_advisory_unlock({}) END", self.key),
            None => "NULL".to_string(),
        };
        let sql = format!(
            "SELECT pg_backend_pid(), {unlock}, to_regclass({}) IS NOT NULL",
            quote_literal(&crate::lease::lease_table_name(table))
        );
        let rows = simple_rows(client, &sql, "checking for a connection pooler").await?;
        let row = rows.first().cloned().unwrap_or_default();
        let shared = other.is_some() && row.first().is_some_and(|p| p.parse::<i32>().ok() == Some(pid));
        Ok(LockCheck {
            pooler: shared.then(|| {
                format!(
                    "two connections of this runner were served by the same server session (backend pid {pid}), \
                     so session state such as an advisory lock does not stay with a connection"
                )
            }),
            lease_table: row.get(2).is_some_and(|v| v == "t"),
        })
    }

    /// An error when the lock's session has ended (and with it the lock).
    pub fn ensure_held(&self) -> Result<(), PgError> {
        if self.client.is_closed() {
            return Err(PgError::LockLost);
        }
        Ok(())
    }

    pub async fn release(self) -> Result<(), PgError> {
        simple_rows(&self.client, &format!("SELECT pg_advisory_unlock({})", self.key), "releasing the migration lock")
            .await?;
        Ok(())
    }
}

async fn holder(client: &Client, key: i64) -> Result<Option<LockHolder>, PgError> {
    let rows = simple_rows(client, &holder_sql(key), "looking up the holder of the migration lock").await?;
    Ok(rows.first().map(|r| holder_from_row(r)))
}

/// The session holding the advisory lock `key` in this database: pid, application_name, user,
/// client address, since.
pub(crate) fn holder_sql(key: i64) -> String {
    let bits = key as u64;
    format!(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(host(a.client_addr), ''),
                to_char(a.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        bits >> 32,
        bits & 0xffff_ffff
    )
}

/// A row of [`holder_sql`].
pub(crate) fn holder_from_row(r: &[String]) -> LockHolder {
    LockHolder {
        pid: r[0].parse().unwrap_or(0),
        application_name: r[1].clone(),
        user: r[2].clone(),
        client: r[3].clone(),
        since: r[4].clone(),
        lease: None,
    }
}

/// The advisory lock's key for `table` in the current database, as SQL.
pub(crate) fn key_sql(table: &HistoryTable) -> String {
    format!("hashtextextended('shale ' || current_database() || ' ' || {}, 0)", quote_literal(&table.lock_key()))
}

/// Rows of a simple query as text (NULL as empty).
pub async fn simple_rows(client: &Client, sql: &str, context: &'static str) -> Result<Vec<Vec<String>>, PgError> {
    let messages = client.simple_query(sql).await.map_err(|e| PgError::query(context, e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).unwrap_or("").to_string()).collect())
            }
            _ => None,
        })
        .collect())
}
