//! Taking a strong lock without stalling the application: while another session holds a
//! conflicting lock on the table, shale waits without asking for it (a request in the queue would
//! make every later query on the table wait behind it); when none does, it asks with a short
//! `lock_timeout`, and backs off and waits again if that runs out.

use std::time::Duration;

use shale_core::locks::{LockMode, LockTarget, Reach};
use tokio_postgres::Client;

use crate::error::PgError;
use crate::lock::simple_rows;
use crate::sql::quote_literal;

/// How strong locks are taken.
#[derive(Debug, Clone)]
pub struct LockWaitOptions {
    /// The `lock_timeout` of each attempt: how long the application may wait behind shale's
    /// request, at most. 50 ms by default.
    pub try_timeout: Duration,
    /// How long shale waits in all for the table to be free, before the migration fails naming
    /// what held it. 5 minutes by default.
    pub max_wait: Duration,
    /// Cancel (pg_cancel_backend) the queries of sessions that still block after this long.
    pub cancel_after: Option<Duration>,
    /// With `cancel_after`: end (pg_terminate_backend) sessions idle in a transaction that still
    /// block, which a cancel does not reach.
    pub terminate_idle: bool,
}

impl Default for LockWaitOptions {
    fn default() -> Self {
        LockWaitOptions {
            try_timeout: Duration::from_millis(50),
            max_wait: Duration::from_secs(300),
            cancel_after: None,
            terminate_idle: false,
        }
    }
}

/// A session holding a lock that a migration's statement needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// How long its transaction (or query) has run, in milliseconds; `None` for a session of
    /// another role whose times this role may not see (no `pg_read_all_stats`).
    pub transaction_ms: Option<i64>,
    /// The first line of its current or last query.
    pub query: String,
    /// The table it holds, and how.
    pub relation: String,
    pub mode: String,
    /// The role it runs as, which every role may see.
    pub role: String,
}

impl Blocker {
    /// A session of another role whose state, times and query this role may not see (no
    /// `pg_read_all_stats`).
    pub fn hidden(&self) -> bool {
        self.transaction_ms.is_none()
    }

    /// Idle in a transaction, as far as this role can see: no query a cancel reaches.
    pub fn idle_in_transaction(&self) -> bool {
        self.state.starts_with("idle in transaction")
    }

    /// The session in a few words: `pid 4242 (report, active, its transaction 12.0s old)`, or,
    /// where this role may not see them, that its state, times and query are hidden.
    pub fn session(&self) -> String {
        let application = match self.application_name.is_empty() {
            true => "no application_name",
            false => &self.application_name,
        };
        match self.transaction_ms {
            Some(ms) => format!(
                "pid {} ({application}, {}, its transaction {:.1}s old)",
                self.pid,
                self.state,
                ms as f64 / 1000.0
            ),
            None => format!(
                "pid {} ({application}, a session of {}: its state, times and query are hidden from this role, which \
                 pg_read_all_stats would let see them)",
                self.pid,
                match self.role.is_empty() {
                    true => "another role".to_string(),
                    false => format!("the role {}", self.role),
                }
            ),
        }
    }

    /// Its query, where this role may see it.
    pub fn visible_query(&self) -> Option<&str> {
        (!self.hidden() && !self.query.is_empty()).then_some(self.query.as_str())
    }
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} holds {} on {}", self.session(), self.mode, self.relation)?;
        match self.visible_query() {
            Some(query) => write!(f, ": {query}"),
            None => Ok(()),
        }
    }
}

/// Sessions (other than this one) holding, for longer than `min_age`, a lock that conflicts with
/// one of `targets` (a session of another role, whose times and query a role without
/// `pg_read_all_stats` cannot see, counts whatever its age: it holds the lock all the same). An
/// index named in a target stands for its table; a target across foreign keys for the tables they
/// link it to. Autovacuum, which gives way
/// by itself once a conflicting lock is requested, is not a blocker (unless it runs to prevent
/// wraparound, which does not give way). One query.
pub async fn blockers(client: &Client, targets: &[LockTarget], min_age: Duration) -> Result<Vec<Blocker>, PgError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = targets
        .iter()
        .map(|t| {
            let modes: Vec<String> = t.mode.conflicting().iter().map(|m| quote_literal(m.pg_name())).collect();
            let text = |value: Option<&String>| value.map_or("NULL::text".to_string(), |v| quote_literal(v));
            let reach = match t.reach {
                Reach::Itself => "itself",
                Reach::WithPartitions => "partitions",
                Reach::DefaultPartition => "default",
            };
            format!(
                "({}, ARRAY[{}]::text[], {}, {}, {}, '{reach}')",
                quote_literal(&t.relation),
                modes.join(", "),
                t.across.is_some(),
                text(t.across.as_ref().and_then(|k| k.constraint.as_ref())),
                text(t.across.as_ref().and_then(|k| k.column.as_ref())),
            )
        })
        .collect();
    // A target `across` foreign keys stands for the table at the other end of each of them; one
    // with its partitions for the table and every partition below it; one of the default
    // partition for that partition alone.
    let sql = format!(
        "WITH RECURSIVE target(name, modes, across, conname, colname, reach) AS (VALUES {}),
named AS (SELECT coalesce((SELECT indrelid FROM pg_catalog.pg_index WHERE indexrelid = to_regclass(name)), to_regclass(name)) AS oid,
                 modes, across, conname, colname, reach
          FROM target),
tree AS (SELECT oid, modes FROM (
             SELECT oid, modes FROM named WHERE NOT across AND reach = 'partitions'
             UNION ALL
             SELECT p.partdefid, n.modes FROM named n JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = n.oid
             WHERE n.reach = 'default' AND p.partdefid <> 0) start
         UNION ALL
         SELECT i.inhrelid, t.modes FROM tree t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.oid),
rel AS (SELECT oid, modes FROM named WHERE NOT across AND reach = 'itself'
        UNION ALL
        SELECT oid, modes FROM tree
        UNION ALL
        SELECT CASE WHEN c.conrelid = n.oid THEN c.confrelid ELSE c.conrelid END, n.modes
        FROM named n JOIN pg_catalog.pg_constraint c ON c.contype = 'f' AND n.oid IN (c.conrelid, c.confrelid)
        WHERE n.across AND (n.conname IS NULL OR c.conname = n.conname)
          AND (n.colname IS NULL OR EXISTS (
                SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = n.oid AND a.attname = n.colname
                  AND a.attnum = ANY (CASE WHEN c.conrelid = n.oid THEN c.conkey ELSE c.confkey END))))
SELECT DISTINCT ON (a.pid) a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
       (extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start, a.backend_start)) * 1000)::bigint,
       left(split_part(btrim(coalesce(a.query, '')), E'\\n', 1), 160), l.relation::regclass::text, l.mode,
       coalesce(a.usename::text, '')
FROM rel JOIN pg_catalog.pg_locks l ON l.locktype = 'relation' AND l.relation = rel.oid AND l.granted AND l.mode = ANY(rel.modes)
JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.pid <> pg_backend_pid()
  AND coalesce(a.xact_start, a.query_start, a.backend_start, '-infinity') < clock_timestamp() - {}::interval
  AND NOT (coalesce(a.backend_type, '') = 'autovacuum worker' AND coalesce(a.query, '') NOT LIKE '%to prevent wraparound%')
  -- Hidden from a role without pg_read_all_stats, a process of no user is the server's own
  -- (autovacuum, on some partition nearly always), which gives way by itself.
  AND NOT (a.backend_type IS NULL AND a.usesysid IS NULL)
ORDER BY a.pid",
        values.join(", "),
        quote_literal(&format!("{} milliseconds", min_age.as_millis()))
    );
    let rows = simple_rows(client, &sql, "looking for sessions that hold the tables").await?;
    // The oldest first: a long report, not the application's sessions of a moment.
    let mut found: Vec<Blocker> = rows.iter().map(|r| blocker(r)).collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.transaction_ms.unwrap_or(i64::MAX)));
    Ok(found)
}

/// A session as the queries here list it: pid, application, state, transaction age (ms), query,
/// the relation it holds and how (empty where the query is not about a relation), and its role.
fn blocker(r: &[String]) -> Blocker {
    let column = |i: usize| r.get(i).cloned().unwrap_or_default();
    Blocker {
        pid: r[0].parse().unwrap_or(0),
        application_name: column(1),
        state: column(2),
        transaction_ms: column(3).parse().ok(),
        query: column(4),
        relation: column(5),
        mode: column(6),
        role: column(7),
    }
}

/// Sessions whose transactions, open longer than `min_age`, wrote to or locked rows of `table` or
/// of its partitions (they hold a lock at least as strong as `FOR UPDATE`'s): whom a backfill
/// batch that ran out of its lock_timeout waited for, as far as a query after the wait tells (a
/// row's holder is known on the server only while the wait lasts). One query.
pub async fn row_holders(client: &Client, table: &str, min_age: Duration) -> Result<Vec<Blocker>, PgError> {
    // Every mode but ACCESS SHARE conflicts with EXCLUSIVE: the sessions that write or lock rows.
    let target = LockTarget {
        relation: table.to_string(),
        mode: LockMode::Exclusive,
        across: None,
        reach: Reach::WithPartitions,
    };
    blockers(client, &[target], min_age).await
}

/// The sessions of this database whose transactions, open for a second or more, a CONCURRENTLY
/// statement sent now waits for (those holding a snapshot or a transaction id), oldest first, at
/// most five; relation and mode are left empty.
pub async fn older_transactions(client: &Client) -> Result<Vec<Blocker>, PgError> {
    let sql = "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
       (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint,
       left(split_part(btrim(coalesce(a.query, '')), E'\\n', 1), 160), '', '', coalesce(a.usename::text, '')
FROM pg_catalog.pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
  AND (a.backend_type = 'client backend' AND a.xact_start < clock_timestamp() - interval '1 second'
       OR a.backend_type IS NULL AND a.usesysid IS NOT NULL AND a.query = '<insufficient privilege>')
ORDER BY a.xact_start NULLS LAST
LIMIT 5";
    let rows = simple_rows(client, sql, "looking for transactions older than a CONCURRENTLY statement").await?;
    Ok(rows.iter().map(|r| blocker(r)).collect())
}

/// What [`cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    Yes,
    /// Nothing: idle in a transaction without leave to end it, or gone already.
    No,
    /// This role may not signal that session (another role's, without `pg_signal_backend`).
    NotPermitted,
}

/// Ends a blocker's session (`end_session`), or cancels its query; one idle in a transaction
/// has no query a cancel reaches, and is left alone unless ended.
pub async fn cancel(client: &Client, blocker: &Blocker, end_session: bool) -> Result<Cancelled, PgError> {
    let function = match (end_session, blocker.idle_in_transaction()) {
        (true, _) => "pg_terminate_backend",
        (false, true) => return Ok(Cancelled::No),
        (false, false) => "pg_cancel_backend",
    };
    match simple_rows(client, &format!("SELECT {function}({})", blocker.pid), "cancelling a blocking session").await {
        Ok(rows) if rows.first().is_some_and(|r| r[0] == "t") => Ok(Cancelled::Yes),
        Ok(_) => Ok(Cancelled::No),
        Err(PgError::Query { sqlstate: Some(code), .. }) if code == "42501" => Ok(Cancelled::NotPermitted),
        Err(e) => Err(e),
    }
}
