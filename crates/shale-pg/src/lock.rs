//! Runners serialize on a session advisory lock, held on a connection of its own.

use std::fmt;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::connect::{connect, SessionSettings};
use crate::error::PgError;
use crate::history::HistoryTable;
use crate::settings::ConnectionSettings;
use crate::sql::quote_literal;

/// Who holds the migration lock, from pg_stat_activity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockHolder {
    pub pid: i32,
    pub application_name: String,
    pub user: String,
    pub client: String,
    /// When the holder's session went idle holding the lock (about when it took it).
    pub since: String,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// The held lock. Released by `release`, or by the server when the connection closes (also on a crash).
pub struct MigrationLock {
    client: Client,
    key: i64,
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
        let key_sql = format!(
            "hashtextextended('shale ' || current_database() || ' ' || {}, 0)",
            quote_literal(&table.lock_key())
        );
        // The lock session sits idle while the migrations run: keep idle_session_timeout (PG 14+)
        // from ending it, which would release the lock under a running migration.
        let sql = format!(
            "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000;
             SELECT pg_try_advisory_lock({key_sql}), {key_sql}"
        );
        let rows = simple_rows(&client, &sql, "taking the migration lock").await?;
        let (locked, key) = match rows.last().map(Vec::as_slice) {
            Some([locked, key]) => (locked == "t", key.parse::<i64>().unwrap_or(0)),
            _ => return Err(PgError::Corrupt("the lock query returned no row".into())),
        };
        if locked {
            return Ok(MigrationLock { client, key });
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
                return Err(PgError::LockTimeout { waited: timeout, holder });
            }
            // Block in the server until the lock is free, a slice at a time, so a new holder is reported.
            let slice = remaining.min(Duration::from_secs(5)).as_millis().max(1);
            let sql = format!("SET lock_timeout = {slice}; SELECT pg_advisory_lock({key}); SET lock_timeout = 0");
            match client.simple_query(&sql).await {
                Ok(_) => return Ok(MigrationLock { client, key }),
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => continue,
                Err(e) => return Err(PgError::query("waiting for the migration lock", e)),
            }
        }
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
    let bits = key as u64;
    let sql = format!(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), coalesce(host(a.client_addr), ''),
                to_char(a.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        bits >> 32,
        bits & 0xffff_ffff
    );
    let rows = simple_rows(client, &sql, "looking up the holder of the migration lock").await?;
    Ok(rows.first().map(|r| LockHolder {
        pid: r[0].parse().unwrap_or(0),
        application_name: r[1].clone(),
        user: r[2].clone(),
        client: r[3].clone(),
        since: r[4].clone(),
    }))
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
