//! Runners serialize on an advisory lock held by a transaction that a connection of its own keeps
//! open; or, where no transaction can stay open (a statement-mode pooler) or when asked, on a
//! table lease (see [`crate::lease`]). [`acquire`] takes
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

impl LockHolder {
    /// How to free the lock when its holder is gone or hangs (SQL, no flags).
    pub fn if_gone(&self) -> String {
        match &self.lease {
            Some(lease) => format!(
                "if that runner is gone, its lease is taken over when it expires, or delete it now with DELETE FROM {}",
                lease.table
            ),
            None => format!(
                "if pid {} is a runner that hangs, end it with SELECT pg_terminate_backend({})",
                self.pid, self.pid
            ),
        }
    }
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
        let application = if self.application_name.is_empty() { "no application_name" } else { &self.application_name };
        // A session of another role, whose client and times this role may not see (no
        // pg_read_all_stats): said so, not a local socket made up and an empty time.
        if self.since.is_empty() {
            return write!(
                f,
                "pid {} ({application}, user {}; its client and times are hidden from this role, which \
                 pg_read_all_stats would let see them)",
                self.pid, self.user
            );
        }
        write!(
            f,
            "pid {} ({application}, user {}, from {}) since {}",
            self.pid,
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
    /// A transaction-level advisory lock in a transaction that a connection of its own keeps
    /// open: released by the server when that transaction or connection ends, also on a crash.
    /// Works directly and through session- and transaction-mode poolers, not statement-mode ones.
    Advisory,
    /// A lease row in `<history table>_lock`, renewed by a heartbeat, taken over after expiry.
    /// Works through any pooler.
    Table,
    /// The advisory lock, unless the connection refuses the open transaction that holds it (a
    /// statement-mode pooler): then the table lease.
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
    /// `auto` found a connection that refuses an open transaction (a statement-mode pooler) and
    /// uses the table lease instead; the text says why.
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

    /// SQL that every history write and every migration's transaction runs just before COMMIT
    /// (in the same round trip), so that nothing is recorded or committed unless this runner
    /// still holds the lock: the advisory lock's transaction must still hold it, the lease must
    /// still be this runner's and unexpired. It fails with [`crate::lease::FENCE_SQLSTATE`].
    pub fn commit_fence(&self) -> String {
        match self {
            HeldLock::Advisory(lock) => lock.fence(),
            HeldLock::Lease(lease) => lease.fence(),
        }
    }

    pub async fn release(self) -> Result<(), PgError> {
        match self {
            HeldLock::Advisory(lock) => lock.release().await,
            HeldLock::Lease(lease) => lease.release().await,
        }
    }
}

/// Take the migration lock of `table` as `options` say.
pub async fn acquire(
    settings: &ConnectionSettings,
    session: &SessionSettings,
    table: &HistoryTable,
    options: &LockOptions,
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
            let taken =
                MigrationLock::acquire(settings, session, table, remaining(), &mut |h| on_event(LockEvent::Waiting(h)))
                    .await;
            let lock = match taken {
                Ok(lock) => lock,
                Err(PgError::StatementPooler(evidence)) if options.kind == LockKind::Auto => {
                    on_event(LockEvent::PoolerDetected(&evidence));
                    break;
                }
                Err(PgError::StatementPooler(evidence)) => return Err(PgError::AdvisoryThroughPooler(evidence)),
                Err(e) => return Err(whole_wait(e)),
            };
            let lease = match lock.lease_table {
                true => crate::lease::live_lease(&lock.client, table).await?,
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

/// The held advisory lock: a transaction-level advisory lock inside a transaction that the lock's
/// own connection keeps open for the whole run.
///
/// Held by a transaction, not by the session, so that it works behind a transaction-mode pooler
/// too: the pooler keeps the server session with this client while the transaction is open, and
/// no other client's statement can land on it and "take" the lock again. The lock ends with the
/// transaction: on `release`, when the connection closes, or when the server ends the session (a
/// crash, `pg_terminate_backend`). A statement-mode pooler refuses the open transaction, which
/// [`MigrationLock::acquire`] reports as [`PgError::StatementPooler`].
pub struct MigrationLock {
    client: Client,
    key: i64,
    /// The server session holding the lock.
    backend_pid: i32,
    /// The virtual transaction id of the transaction holding the lock: the commit fence checks
    /// that this very transaction still holds it (a pid alone could be reused).
    vxid: String,
    /// The lease table existed when the lock was taken: a runner on the table lease may hold it.
    lease_table: bool,
}

/// Longest pause between two attempts to take a held advisory lock. Waiters poll rather than
/// block in the server: a blocked waiter would keep a pooled server session to itself, and enough
/// of them would leave none for the holder's migrations.
const ADVISORY_POLL: Duration = Duration::from_millis(250);

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
        // The transaction sits idle while the migrations run: keep the server's idle and
        // transaction timeouts from ending it, which would release the lock under a running
        // migration (the commit fence would then stop the run, but for nothing).
        let attempt = format!(
            "BEGIN;
             SET LOCAL idle_in_transaction_session_timeout = 0;
             SELECT set_config('transaction_timeout', '0', true) WHERE current_setting('server_version_num')::int >= 170000;
             SELECT pg_try_advisory_xact_lock({key_sql}), {key_sql}, pg_backend_pid(),
                    (SELECT virtualtransaction FROM pg_catalog.pg_locks WHERE locktype = 'virtualxid' AND pid = pg_backend_pid()),
                    to_regclass({}) IS NOT NULL",
            quote_literal(&crate::lease::lease_table_name(table))
        );
        let started = Instant::now();
        let mut last_holder: Option<i32> = None;
        let mut pause = Duration::from_millis(25);
        loop {
            let rows = match simple_rows(&client, &attempt, "taking the migration lock").await {
                Ok(rows) => rows,
                Err(e) => return Err(statement_pooler(&client, e)),
            };
            if client.is_closed() {
                return Err(PgError::StatementPooler("the connection was closed while a transaction was open".into()));
            }
            let row = match rows.last().map(Vec::as_slice) {
                Some(row @ [_, _, _, _, _]) => row.to_vec(),
                _ => return Err(PgError::Corrupt("the lock query returned no row".into())),
            };
            if row[0] == "t" {
                return Ok(MigrationLock {
                    client,
                    key: row[1].parse().unwrap_or(0),
                    backend_pid: row[2].parse().unwrap_or(0),
                    vxid: row[3].clone(),
                    lease_table: row[4] == "t",
                });
            }
            let key = row[1].parse().unwrap_or(0);
            let holder = simple_rows(
                &client,
                &format!("ROLLBACK;\n{}", holder_sql(key)),
                "looking up the holder of the migration lock",
            )
            .await?
            .first()
            .map(|r| holder_from_row(r));
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
            // Jittered, so that many waiters do not all ask at the same moment.
            let jitter = Duration::from_millis(fastrand::u64(0..=pause.as_millis() as u64 / 2));
            tokio::time::sleep((pause + jitter).min(remaining)).await;
            pause = (pause * 2).min(ADVISORY_POLL);
        }
    }

    /// SQL for a migration's transaction, run just before its COMMIT: fails (rolling the
    /// migration back) unless this lock's transaction still holds the lock.
    pub fn fence(&self) -> String {
        let bits = self.key as u64;
        format!(
            "DO $shale_fence$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted
  AND classid = {} AND objid = {} AND objsubid = 1 AND pid = {} AND virtualtransaction = {}) THEN
  RAISE EXCEPTION 'the migration lock is no longer held by this shale (the session holding it ended)' USING ERRCODE = '{}';
END IF; END $shale_fence$",
            bits >> 32,
            bits & 0xffff_ffff,
            self.backend_pid,
            quote_literal(&self.vxid),
            crate::lease::FENCE_SQLSTATE,
        )
    }

    /// An error when the lock's session has ended (and with it the lock).
    pub fn ensure_held(&self) -> Result<(), PgError> {
        if self.client.is_closed() {
            return Err(PgError::LockLost);
        }
        Ok(())
    }

    /// Ends the lock's transaction, and with it the lock.
    pub async fn release(self) -> Result<(), PgError> {
        if self.client.is_closed() {
            // The server ended the session, and the lock with it.
            return Ok(());
        }
        simple_rows(&self.client, "ROLLBACK", "releasing the migration lock").await?;
        Ok(())
    }
}

/// A failure to open the lock's transaction, as [`PgError::StatementPooler`] when a pooler
/// refused the transaction (PgBouncer in statement mode ends the connection with
/// "transaction blocks not allowed in statement pooling mode").
fn statement_pooler(client: &Client, error: PgError) -> PgError {
    let text = error.to_string();
    if text.contains("transaction blocks not allowed") || text.contains("pooling mode") {
        return PgError::StatementPooler(text);
    }
    if client.is_closed() && !matches!(&error, PgError::Query { sqlstate: Some(_), .. }) {
        return PgError::StatementPooler(format!("the connection was closed when a transaction was opened ({text})"));
    }
    error
}

/// The session holding the advisory lock `key` in this database: pid, application_name, user,
/// client address, since.
pub(crate) fn holder_sql(key: i64) -> String {
    holder_sql_of(&key.to_string())
}

/// [`holder_sql`] for a key given as SQL (a number, or [`key_sql`]'s expression).
fn holder_sql_of(key: &str) -> String {
    format!(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(host(a.client_addr), ''),
                to_char(a.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.classid::bigint = ((({key})::bigint >> 32) & 4294967295)
           AND l.objid::bigint = (({key})::bigint & 4294967295)
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
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

/// The runner holding the migration lock of `table` now, on either kind (the advisory lock or
/// the table lease), if one does: two statements, for `status` and `validate`, which tell a
/// migration being applied from one whose runner died.
pub async fn current_holder(client: &Client, table: &HistoryTable) -> Result<Option<LockHolder>, PgError> {
    let sql = holder_sql_of(&key_sql(table));
    if let Some(row) = simple_rows(client, &sql, "looking for the runner holding the migration lock").await?.first() {
        return Ok(Some(holder_from_row(row)));
    }
    let lease = crate::lease::lease_table_name(table);
    let exists = format!("SELECT to_regclass({}) IS NOT NULL", quote_literal(&lease));
    let rows = simple_rows(client, &exists, "looking for the lease table").await?;
    if rows.first().and_then(|r| r.first()).is_none_or(|v| v != "t") {
        return Ok(None);
    }
    Ok(crate::lease::live_lease(client, table).await?.map(|(holder, _)| holder))
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
