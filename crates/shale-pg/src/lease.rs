//! The table lease: the migration lock as a row in a table of shale's own, for connections
//! through a transaction-mode pooler, where a session advisory lock does not stay with the client.
//!
//! Every statement is one atomic statement on its own (no session state, no open transaction), so
//! it works whichever server connection the pooler hands out. The row names its holder and
//! expires on the server's clock unless a heartbeat renews it; a crashed holder's row is taken
//! over once it has expired.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shale_core::ident::{ident_always_quoted, qualified_always_quoted};
use tokio_postgres::Client;

use crate::connect::{connect, SessionSettings};
use crate::error::PgError;
use crate::history::HistoryTable;
use crate::lock::{simple_rows, LeaseInfo, LockHolder};
use crate::settings::ConnectionSettings;
use crate::sql::quote_literal;

/// A lease runs out this long after its last renewal unless a new `lease_ttl` is chosen.
/// 30 s: a crashed runner blocks the others for at most half a minute, while the heartbeat
/// (every third of it) may miss a renewal and retry before the lease is at risk.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// Shortest lease accepted: the heartbeat needs room to renew a few times within it.
pub const MIN_LEASE_TTL: Duration = Duration::from_secs(1);

/// Longest pause between two attempts to take a held lease.
const POLL: Duration = Duration::from_millis(500);

/// The lease table of a history table: `<history>_lock`, in the same schema.
pub fn lease_table(history: &HistoryTable) -> (String, String) {
    (history.schema.clone(), format!("{}_lock", history.table))
}

/// The lease table's name, schema-qualified and quoted.
pub fn lease_table_name(history: &HistoryTable) -> String {
    let (schema, table) = lease_table(history);
    qualified_always_quoted(&schema, &table)
}

/// Creates the lease table when missing. Several runners may try at once: the loser's
/// duplicate-object error is swallowed, since the table it wanted now exists.
fn create_sql(history: &HistoryTable) -> String {
    let (schema, table) = lease_table(history);
    let t = qualified_always_quoted(&schema, &table);
    format!(
        "DO $shale$ DECLARE g record; BEGIN
    IF to_regclass({t_literal}) IS NULL THEN
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = {schema_literal}) THEN
                CREATE SCHEMA {schema};
            END IF;
            CREATE TABLE IF NOT EXISTS {t} (
                id boolean PRIMARY KEY DEFAULT true CHECK (id),
                token text NOT NULL,
                pid integer,
                host text,
                application_name text,
                db_user text NOT NULL DEFAULT current_user,
                acquired_at timestamptz NOT NULL,
                heartbeat_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL
            );
            COMMENT ON TABLE {t} IS 'The shale migration lock as a lease (lock = \"table\"): at most one row, its holder''s; expired rows are taken over.';
            {owner_only}
        EXCEPTION WHEN unique_violation OR duplicate_table OR duplicate_schema OR duplicate_object THEN
            NULL;
        END;
    END IF;
END $shale$",
        t_literal = quote_literal(&t),
        owner_only = crate::history::owner_only_sql(&t),
        schema = ident_always_quoted(&schema),
        schema_literal = quote_literal(&schema),
    )
}

/// Who this runner is, as written into the row.
struct Identity {
    token: String,
    pid: u32,
    host: String,
    application_name: String,
}

impl Identity {
    fn new(application_name: &str) -> Identity {
        Identity {
            token: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            pid: std::process::id(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            application_name: application_name.to_string(),
        }
    }
}

fn interval(ttl: Duration) -> String {
    format!("interval '{} milliseconds'", ttl.as_millis())
}

const TIME: &str = "'YYYY-MM-DD HH24:MI:SS.MS \"UTC\"'";

/// Take the row when there is none or it has expired, in one statement. Returns one row:
/// whether it was taken, then the previous (or current) holder, if any, and how long its lease
/// has left in milliseconds.
fn take_sql(history: &HistoryTable, me: &Identity, ttl: Duration) -> String {
    let t = lease_table_name(history);
    format!(
        "WITH previous AS (SELECT token, pid, host, application_name, db_user, acquired_at, expires_at FROM {t}),
taken AS (
    INSERT INTO {t} AS l (id, token, pid, host, application_name, acquired_at, heartbeat_at, expires_at)
    SELECT true, {token}, {pid}, {host}, {app}, now(), now(), now() + {ttl}
    -- While a live lease holds the row, waiting runners only read it: ON CONFLICT would lock the
    -- row on every poll and make the holder's heartbeat (and commit fence) queue behind them.
    WHERE NOT EXISTS (SELECT FROM {t} WHERE expires_at > now())
    ON CONFLICT (id) DO UPDATE SET token = excluded.token, pid = excluded.pid, host = excluded.host,
        application_name = excluded.application_name, db_user = excluded.db_user,
        acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
    WHERE l.expires_at <= now()
    RETURNING 1)
SELECT (SELECT count(*) FROM taken) > 0, p.token, p.pid, p.host, p.application_name, p.db_user,
       to_char(p.acquired_at AT TIME ZONE 'UTC', {TIME}), to_char(p.expires_at AT TIME ZONE 'UTC', {TIME}),
       greatest(0, (extract(epoch FROM p.expires_at - now()) * 1000)::bigint), {key}
FROM (SELECT 1) AS one LEFT JOIN previous p ON true",
        key = crate::lock::key_sql(history),
        token = quote_literal(&me.token),
        pid = me.pid,
        host = quote_literal(&me.host),
        app = quote_literal(&me.application_name),
        ttl = interval(ttl),
    )
}

/// After taking the lease: a runner on the advisory lock (see [`crate::lock::acquire`]) that holds
/// it now. If there is one, the lease is given back in the same statement.
fn advisory_check_sql(table: &str, token: &str, key: i64) -> String {
    format!(
        "WITH advisory AS ({}),
given_back AS (DELETE FROM {table} WHERE token = {} AND EXISTS (SELECT FROM advisory) RETURNING 1)
SELECT * FROM advisory",
        crate::lock::holder_sql(key),
        quote_literal(token)
    )
}

/// A live lease of this history table, with how long it has left; for runners on the advisory
/// lock, which yield to it. The table must exist.
pub(crate) async fn live_lease(
    client: &Client,
    history: &HistoryTable,
) -> Result<Option<(LockHolder, Duration)>, PgError> {
    let table = lease_table_name(history);
    let sql = format!(
        "SELECT token, pid, host, application_name, db_user, to_char(acquired_at AT TIME ZONE 'UTC', {TIME}),
                to_char(expires_at AT TIME ZONE 'UTC', {TIME}), (extract(epoch FROM expires_at - now()) * 1000)::bigint
         FROM {table} WHERE expires_at > now()"
    );
    let rows = simple_rows(client, &sql, "looking for a runner on the table lease").await?;
    Ok(rows.first().map(|r| (holder_from_row(r, &table), Duration::from_millis(r[7].parse::<u64>().unwrap_or(0)))))
}

/// How long to wait before trying again for a lock held by a lease with `left` to run: soon after
/// a release, right when it runs out, never past the caller's `remaining` wait.
pub(crate) fn pause(left: Duration, remaining: Duration) -> Duration {
    POLL.min(left + Duration::from_millis(20)).min(remaining).max(Duration::from_millis(20))
}

fn renew_sql(table: &str, token: &str, ttl: Duration) -> String {
    format!(
        "UPDATE {table} SET heartbeat_at = now(), expires_at = now() + {} WHERE token = {} AND expires_at > now() RETURNING 1",
        interval(ttl),
        quote_literal(token)
    )
}

/// SQLSTATE of the error the commit fence raises (a class of its own, not PostgreSQL's).
pub const FENCE_SQLSTATE: &str = "SH001";

/// A statement that renews the lease from inside a migration's transaction, just before its
/// COMMIT, and fails (rolling the migration back) unless the lease is still this runner's and
/// unexpired by the clock of that moment: a runner that stalled past its lease never commits.
/// `clock_timestamp()`, not `now()`: inside the migration's transaction `now()` is when it began.
fn fence_sql(table: &str, token: &str, ttl: Duration) -> String {
    format!(
        "DO $shale_fence$ BEGIN UPDATE {table} SET heartbeat_at = clock_timestamp(), expires_at = clock_timestamp() + {} WHERE token = {} AND expires_at > clock_timestamp(); IF NOT FOUND THEN RAISE EXCEPTION 'the migration lease is no longer held by this shale (it expired or was taken over)' USING ERRCODE = '{FENCE_SQLSTATE}'; END IF; END $shale_fence$",
        interval(ttl),
        quote_literal(token)
    )
}

fn release_sql(table: &str, token: &str) -> String {
    format!("DELETE FROM {table} WHERE token = {}", quote_literal(token))
}

/// What the heartbeat knows about the lease, shared with the run that checks it.
struct LeaseState {
    lost: AtomicBool,
    /// The lease is valid at least until then: a renewal's server `now()` is later than when it
    /// was sent, so sending time + ttl is a safe lower bound of the row's `expires_at`.
    valid_until: Mutex<Instant>,
}

impl LeaseState {
    fn held(&self) -> bool {
        !self.lost.load(Ordering::SeqCst)
            && Instant::now() < *self.valid_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The held lease. Renewed in the background until `release` (or drop, which stops renewing and
/// lets it expire).
pub struct LeaseLock {
    connection: Arc<LeaseConnection>,
    table: String,
    token: String,
    state: Arc<LeaseState>,
    ttl: Duration,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    /// The expired lease this one replaced, when a runner had crashed or stalled holding it.
    pub took_over: Option<LockHolder>,
}

impl LeaseLock {
    /// Take the lease of this history table, waiting up to `timeout` for a live holder's lease
    /// to be released or to expire. `on_wait` is told who holds it, once per new holder.
    pub async fn acquire(
        settings: &ConnectionSettings,
        session: &SessionSettings,
        history: &HistoryTable,
        ttl: Duration,
        timeout: Duration,
        on_wait: &mut (dyn FnMut(&LockHolder) + Send),
    ) -> Result<LeaseLock, PgError> {
        let ttl = ttl.max(MIN_LEASE_TTL);
        let session = SessionSettings {
            application_name: format!("{} (migration lock)", session.application_name),
            ..session.clone()
        };
        let client = connect(settings, &session).await?;
        let me = Identity::new(&session.application_name);
        let table = lease_table_name(history);
        let started = Instant::now();
        let mut last_holder: Option<(i32, String)> = None;
        let mut first = true;
        loop {
            // The table is made on the first attempt, in the same round trip as the take.
            let take = take_sql(history, &me, ttl);
            let sql = if first { format!("{};\n{take}", create_sql(history)) } else { take };
            first = false;
            let sent = Instant::now();
            let rows = simple_rows(&client, &sql, "taking the migration lease").await?;
            let Some(row) = rows.last() else {
                return Err(PgError::Corrupt("the lease query returned no row".into()));
            };
            let mut holder = (!row[1].is_empty()).then(|| holder_from_row(&row[1..], &table));
            let mut left = Duration::from_millis(row[8].parse::<u64>().unwrap_or(0));
            if row[0] == "t" {
                let key = row[9].parse::<i64>().unwrap_or(0);
                let check = advisory_check_sql(&table, &me.token, key);
                let advisory = simple_rows(&client, &check, "looking for a runner on the advisory lock").await?;
                if let Some(row) = advisory.first() {
                    holder = Some(crate::lock::holder_from_row(row));
                    left = POLL;
                }
            }
            if row[0] == "t" && holder.as_ref().is_none_or(|h| h.lease.is_some()) {
                let state = Arc::new(LeaseState { lost: AtomicBool::new(false), valid_until: Mutex::new(sent + ttl) });
                let connection = Arc::new(LeaseConnection {
                    client: tokio::sync::Mutex::new(client),
                    settings: settings.clone(),
                    session,
                });
                let heartbeat =
                    tokio::spawn(heartbeat(connection.clone(), renew_sql(&table, &me.token, ttl), ttl, state.clone()));
                return Ok(LeaseLock {
                    connection,
                    table,
                    token: me.token,
                    state,
                    ttl,
                    heartbeat: Some(heartbeat),
                    // Only an expired row is ever replaced, so any previous holder was taken over.
                    took_over: holder,
                });
            }
            if let Some(h) = &holder {
                // Not `since`: a pooled session's changes with every use.
                let who = (h.pid, h.client.clone());
                if last_holder.as_ref() != Some(&who) {
                    on_wait(h);
                    last_holder = Some(who);
                }
            }
            let remaining = timeout.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(PgError::LockTimeout { waited: timeout, holder: holder.map(Box::new) });
            }
            tokio::time::sleep(pause(left, remaining)).await;
        }
    }

    /// SQL to run inside each migration's transaction just before COMMIT: see [`fence_sql`].
    pub fn fence(&self) -> String {
        fence_sql(&self.table, &self.token, self.ttl)
    }

    /// An error once the lease may have run out: a renewal failed for too long, or found the row
    /// gone or taken over.
    pub fn ensure_held(&self) -> Result<(), PgError> {
        if self.state.held() {
            Ok(())
        } else {
            Err(PgError::LockLost)
        }
    }

    /// Stop renewing and delete the row (only this runner's own row). A server that does not
    /// answer within the lease's lifetime is given up on: the lease then runs out by itself.
    pub async fn release(mut self) -> Result<(), PgError> {
        // Aborted, not asked to stop: a renewal stuck on a dead connection must not hold this up.
        if let Some(task) = self.heartbeat.take() {
            task.abort();
            let _ = task.await;
        }
        let context = "releasing the migration lease";
        let delete = release_sql(&self.table, &self.token);
        match tokio::time::timeout(self.ttl, self.connection.query(&delete, context)).await {
            Ok(result) => result.map(|_| ()),
            Err(_) => Err(PgError::Query {
                context,
                message: format!("no answer within {} s; the lease runs out by itself", self.ttl.as_secs_f64()),
                sqlstate: None,
            }),
        }
    }
}

impl Drop for LeaseLock {
    fn drop(&mut self) {
        if let Some(task) = self.heartbeat.take() {
            task.abort();
        }
    }
}

/// Renew every third of the lease. A failed renewal is retried (on a new connection when the old
/// one closed) until the lease would run out; a renewal that finds the row gone or another
/// token's marks the lease lost at once.
async fn heartbeat(connection: Arc<LeaseConnection>, renew: String, ttl: Duration, state: Arc<LeaseState>) {
    let every = ttl / 3;
    let mut next = Instant::now() + every;
    loop {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        let outcome = connection.query(&renew, "renewing the migration lease").await;
        match outcome {
            Ok(rows) if !rows.is_empty() => {
                *state.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = sent + ttl;
                next = sent + every;
            }
            Ok(_) => {
                state.lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(_) => {
                let valid_until = *state.valid_until.lock().unwrap_or_else(|e| e.into_inner());
                if Instant::now() >= valid_until {
                    state.lost.store(true, Ordering::SeqCst);
                    return;
                }
                next = Instant::now() + (every / 4).max(Duration::from_millis(100));
            }
        }
    }
}

/// The lease's own connection, shared by the heartbeat and the release.
struct LeaseConnection {
    client: tokio::sync::Mutex<Client>,
    settings: ConnectionSettings,
    session: SessionSettings,
}

impl LeaseConnection {
    /// Run `sql`, first opening the connection again when it was closed (a server restart, a
    /// pooler or an idle timeout that dropped it): the lease lives in the table, not in the
    /// session. A failed reconnect leaves the closed client, so the query fails and is retried.
    async fn query(&self, sql: &str, context: &'static str) -> Result<Vec<Vec<String>>, PgError> {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            if let Ok(fresh) = connect(&self.settings, &self.session).await {
                *client = fresh;
            }
        }
        simple_rows(&client, sql, context).await
    }
}

/// token, pid, host, application_name, db_user, acquired_at, expires_at.
fn holder_from_row(row: &[String], table: &str) -> LockHolder {
    LockHolder {
        pid: row[1].parse().unwrap_or(0),
        application_name: row[3].clone(),
        user: row[4].clone(),
        client: row[2].clone(),
        since: row[5].clone(),
        lease: Some(LeaseInfo { expires_at: row[6].clone(), table: table.to_string() }),
    }
}
