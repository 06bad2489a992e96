//! The history table: one row per attempt, append-only; the newest row of a migration decides its state.

use shale_core::ident::{ident_always_quoted, qualified_always_quoted};
use shale_core::plan::{AppliedRecord, History, RecordKind, RecordStatus};
use shale_core::Version;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::{DbFailure, PgError};
use crate::sql::{literal_or_null, quote_literal};

/// Where the history lives.
#[derive(Debug, Clone)]
pub struct HistoryTable {
    pub schema: String,
    pub table: String,
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable { schema: "public".into(), table: "shale_migrations".into() }
    }
}

/// A row to write when an attempt starts or finishes.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub version: String,
    pub name: &'a str,
    pub kind: RecordKind,
    pub checksum: Option<&'a str>,
    pub up_sql: Option<&'a str>,
    pub down_sql: Option<&'a str>,
    pub status: RecordStatus,
    pub reason: Option<&'a str>,
    pub statements_done: Option<i32>,
    /// The migration's file, relative to the migrations directory, as written (`0001_a.sql`).
    pub path: Option<&'a str>,
}

/// The kinds of history rows this shale writes and reads.
const KINDS: &str = "'versioned', 'repeatable', 'baseline', 'repair', 'seed', 'adopted', 'audit'";

/// PL/pgSQL creating `schema` where it is missing. CREATE SCHEMA IF NOT EXISTS needs CREATE on
/// the database even when the schema exists: only asked for when the schema is really missing,
/// so that least-privilege roles work.
fn create_schema_if_missing(schema: &str) -> String {
    format!(
        "IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = {}) THEN
        CREATE SCHEMA {};
    END IF;
    ",
        quote_literal(schema),
        ident_always_quoted(schema)
    )
}

/// How the history's times are rendered (`to_char`'s pattern, as SQL text: UTC, to the second,
/// `2024-01-01T00:00:00Z`): other tools' times are rendered the same, and the two compare as text.
pub(crate) const TIME_TEXT: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

/// What [`HistoryTable::taken_over_versions`] reads.
#[derive(Debug, Clone, Default)]
pub struct TakenOver {
    /// The versions `shale adopt` took over.
    pub adopted: Vec<String>,
    /// The versions recorded as applied with `repair --applied`, each with its newest such time.
    pub repaired: Vec<(String, String)>,
}

impl HistoryTable {
    pub fn name(&self) -> String {
        qualified_always_quoted(&self.schema, &self.table)
    }

    /// Why these names cannot work, if they cannot: PostgreSQL truncates identifiers longer than
    /// 63 bytes silently, and shale adds `_lock` for the lease table, so a long history table
    /// name would make the lease table's name the history table's own.
    pub fn check(&self) -> Result<(), String> {
        const MAX: usize = 63;
        let suffix = "_lock".len();
        if self.schema.is_empty() || self.table.is_empty() {
            return Err("the history schema and table names must not be empty".into());
        }
        if self.schema.len() > MAX {
            return Err(format!(
                "history_schema {:?} is {} bytes; PostgreSQL names are at most {MAX} bytes (longer ones are cut short)",
                self.schema,
                self.schema.len()
            ));
        }
        if self.table.len() + suffix > MAX {
            return Err(format!(
                "history_table {:?} is {} bytes; it may be at most {} bytes, since shale names its lease table after it with `_lock` \
                 and PostgreSQL names are at most {MAX} bytes (longer ones are cut short, onto the history table itself)",
                self.table,
                self.table.len(),
                MAX - suffix
            ));
        }
        Ok(())
    }

    /// Text that keys the advisory lock: one lock per history table.
    pub fn lock_key(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// The history table, created with its schema where they are missing, and `also_schema` too
    /// (Prisma's `?schema=app`, which its sessions' search_path names: Prisma creates it on a new
    /// database before its first migration, whose unqualified names would otherwise have nowhere
    /// to go).
    pub fn create_sql(&self, also_schema: Option<&str>) -> String {
        let t = self.name();
        let also = also_schema.filter(|s| *s != self.schema).map(create_schema_if_missing).unwrap_or_default();
        format!(
            "DO $shale$ DECLARE g record; BEGIN
    {history_schema}{also}
    IF to_regclass({lit}) IS NULL THEN
        {create};
        {owner_only}
    END IF;
END $shale$;
COMMENT ON TABLE {t} IS 'Migration history written by shale: one row per attempt; the newest row of a version decides its state.'",
            history_schema = create_schema_if_missing(&self.schema),
            lit = quote_literal(&t),
            create = self.create_table_sql(),
            owner_only = owner_only_sql(&t),
        )
    }

    fn create_table_sql(&self) -> String {
        let t = self.name();
        format!(
            "CREATE TABLE {t} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL CONSTRAINT {kind_check} CHECK (kind IN ({KINDS})),
    checksum text,
    checksum_algorithm smallint NOT NULL DEFAULT {algo},
    up_sql text,
    down_sql text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    duration_ms bigint,
    applied_by text NOT NULL DEFAULT current_user,
    host text,
    shale_version text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back')),
    statements_done integer,
    error_sqlstate text,
    error_message text,
    error_statement text,
    reason text,
    path text,
    resume_cursor text
)",
            algo = shale_core::CHECKSUM_ALGORITHM,
            kind_check = self.kind_check(),
        )
    }

    fn kind_check(&self) -> String {
        ident_always_quoted(&format!("{}_kind_check", self.table))
    }

    /// Brings a history table written by an earlier shale to this one's shape: the `path` and
    /// `resume_cursor` columns and the newer kinds. Run under the migration lock; a no-op (one catalog lookup) once done.
    pub fn upgrade_sql(&self) -> String {
        let t = self.name();
        format!(
            "DO $shale$ DECLARE c record; BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = {lit}::regclass AND attname = 'path' AND NOT attisdropped) THEN
        ALTER TABLE {t} ADD COLUMN path text;
        FOR c IN SELECT conname FROM pg_catalog.pg_constraint
                 WHERE conrelid = {lit}::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%kind%' LOOP
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {lit}, c.conname);
        END LOOP;
        ALTER TABLE {t} ADD CONSTRAINT {kind_check} CHECK (kind IN ({KINDS}));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = {lit}::regclass AND attname = 'resume_cursor' AND NOT attisdropped) THEN
        ALTER TABLE {t} ADD COLUMN resume_cursor text;
    END IF;
END $shale$",
            lit = quote_literal(&t),
            kind_check = self.kind_check(),
        )
    }

    /// The newest row per migration. One round trip; a missing table is an empty history.
    /// Large SQL texts are only fetched where a plan may need them (failed attempts, and downs when asked).
    pub fn load_sql(&self, with_down: bool) -> String {
        self.load_sql_for(with_down, false)
    }

    /// `legacy`: for a table an earlier shale made, without the `path` or `resume_cursor` column
    /// (read as NULL until the next run under the lock adds them).
    fn load_sql_for(&self, with_down: bool, legacy: bool) -> String {
        format!(
            // Every row, in no order: the newest per migration is picked on this side
            // (`newest_per_migration`). Sorting 1,000 rows for DISTINCT ON took the server 4 ms
            // of the 6 this query cost, on the path every start-up waits for.
            "SELECT id, version, name, kind, checksum, status,
        CASE WHEN status IN ('failed', 'running') THEN up_sql END,
        {down},
        to_char(coalesce(finished_at, started_at) AT TIME ZONE 'UTC', {TIME_TEXT}),
        duration_ms, statements_done, error_message, {newer},
        CASE WHEN kind IN ('adopted', 'repeatable', 'repair', 'audit') THEN reason END
 FROM {t}",
            t = self.name(),
            down = if with_down { "down_sql" } else { "NULL::text" },
            newer = if legacy { "NULL::text, NULL::text" } else { "path, resume_cursor" },
        )
    }

    /// Read the history; `None` when the table does not exist yet. A table an earlier shale made
    /// (no `path` column until the next run under the lock upgrades it) is read the older way.
    pub async fn load(&self, client: &Client, with_down: bool) -> Result<Option<History>, PgError> {
        let mut legacy = false;
        loop {
            return match read_records(client, &self.load_sql_for(with_down, legacy)).await {
                Ok(records) => Ok(Some(History { records: newest_per_migration(records) })),
                Err(ReadError::Row(e)) => Err(e),
                Err(ReadError::Server(e)) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                    Ok(None)
                }
                Err(ReadError::Server(e))
                    if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) && !legacy =>
                {
                    legacy = true;
                    continue;
                }
                Err(ReadError::Server(e)) => Err(PgError::query("reading the migration history", e)),
            };
        }
    }

    /// The schemas other than this table's holding a table of its name with shale's columns that
    /// records one of `checksums` (these migrations'): shale's history of them, where shale.toml's
    /// `history_schema` said otherwise then, or a run without shale.toml. Another application's
    /// history beside it, of other migrations, is not one; nor a table this role may not read.
    /// One round trip, and one more for each such table found.
    pub async fn elsewhere(&self, client: &Client, checksums: &[&str]) -> Result<Vec<String>, PgError> {
        const CONTEXT: &str = "looking for shale's history";
        if checksums.is_empty() {
            return Ok(Vec::new());
        }
        let candidates = crate::lock::simple_rows(
            client,
            &format!(
                "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relname = {} AND n.nspname <> {} AND c.relkind IN ('r', 'p')
                   AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'checksum_algorithm')
                   AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
                 ORDER BY 1",
                quote_literal(&self.table),
                quote_literal(&self.schema)
            ),
            CONTEXT,
        )
        .await?;
        let listed: Vec<String> = checksums.iter().map(|c| quote_literal(c)).collect();
        let mut found = Vec::new();
        for row in candidates {
            let there = HistoryTable { schema: row[0].clone(), table: self.table.clone() };
            // Two of them at least (one, where the directory has one): a first file shared with
            // another application (a common bootstrap) does not make its history this one (re-check).
            let wanted = checksums.len().min(2);
            let sql = format!(
                "SELECT count(DISTINCT checksum) >= {wanted} FROM {} WHERE checksum IN ({})",
                there.name(),
                listed.join(", ")
            );
            if crate::lock::simple_rows(client, &sql, CONTEXT).await?.first().is_some_and(|r| r[0] == "t") {
                found.push(there.schema);
            }
        }
        Ok(found)
    }

    /// Every version ever taken over from another tool (`shale adopt`), whatever happened to it
    /// since (a migration taken over and then reverted has a newer row); and every version ever
    /// recorded as applied by hand (`repair --applied`: what another tool ran, often), with the
    /// time of its newest such record, as the history renders times. One round trip.
    pub async fn taken_over_versions(&self, client: &Client) -> Result<TakenOver, PgError> {
        let sql = format!(
            "SELECT version, kind = 'adopted', max(to_char(coalesce(finished_at, started_at) AT TIME ZONE 'UTC', {TIME_TEXT}))
             FROM {} WHERE kind = 'adopted' OR (kind = 'repair' AND status = 'succeeded') GROUP BY 1, 2",
            self.name()
        );
        let rows = client.simple_query(&sql).await.map_err(|e| PgError::query("reading the adopted migrations", e))?;
        let mut taken = TakenOver::default();
        for m in rows {
            let SimpleQueryMessage::Row(r) = m else { continue };
            let (Some(version), Some(adopted)) = (r.get(0), r.get(1)) else { continue };
            match adopted == "t" {
                true => taken.adopted.push(version.to_string()),
                false => taken.repaired.push((version.to_string(), r.get(2).unwrap_or_default().to_string())),
            }
        }
        Ok(taken)
    }

    /// The up SQL these rows kept (by id), which [`HistoryTable::load`] leaves out of applied rows:
    /// for the few a plan needs it of. One round trip.
    pub async fn up_sql_of(&self, client: &Client, ids: &[i64]) -> Result<Vec<(i64, String)>, PgError> {
        let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!("SELECT id, up_sql FROM {} WHERE id IN ({})", self.name(), listed.join(", "));
        let rows = client.simple_query(&sql).await.map_err(|e| PgError::query("reading migrations' up SQL", e))?;
        Ok(rows
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some((r.get(0)?.parse().ok()?, r.get(1)?.to_string())),
                _ => None,
            })
            .collect())
    }

    /// The newest applied version, as [`History::current_version`] finds it, without holding the
    /// history: the server keeps the newest row of each version and the rows stream through a
    /// running maximum, so a run's report costs the same memory after 10,000 migrations as after
    /// ten. `None` when nothing is applied or the table does not exist.
    pub async fn current_version(&self, client: &Client) -> Result<Option<Version>, PgError> {
        use futures_util::TryStreamExt;
        // The rows History::current_version counts: versioned, repair and adopted rows share a
        // version's key (the newest of them decides), baselines have keys of their own.
        let sql = format!(
            "SELECT version FROM (
               SELECT DISTINCT ON (kind = 'baseline', version) version, status FROM {t}
                WHERE kind IN ('versioned', 'repair', 'adopted', 'baseline')
                ORDER BY kind = 'baseline', version, id DESC) newest
              WHERE status = 'succeeded'",
            t = self.name()
        );
        let read = async {
            let mut stream = std::pin::pin!(client.simple_query_raw(sql.as_str()).await?);
            let mut newest: Option<Version> = None;
            while let Some(message) = stream.try_next().await? {
                if let SimpleQueryMessage::Row(row) = message {
                    let version = row.get(0).and_then(Version::parse);
                    newest = newest.max(version);
                }
            }
            Ok::<_, tokio_postgres::Error>(newest)
        };
        match read.await {
            Ok(newest) => Ok(newest),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
            Err(e) => Err(PgError::query("reading the migration history", e)),
        }
    }

    /// Read the history under the migration lock, once every transaction that writes it has ended.
    ///
    /// A runner that lost the lock may still have a migration's transaction in flight (it passed
    /// its commit fence just before the lock went). That transaction holds ROW EXCLUSIVE on this
    /// table from its history row to its COMMIT; SHARE conflicts with it, so the new holder reads
    /// only after it has committed or rolled back, and never plans a migration that is being
    /// committed. Plain readers (`status`) take ACCESS SHARE and are not held up. `wait` bounds the
    /// wait; `None` when the table does not exist yet.
    pub async fn load_after_writers(
        &self,
        client: &Client,
        with_down: bool,
        wait: std::time::Duration,
    ) -> Result<Option<History>, PgError> {
        let sql = format!(
            "BEGIN;\nSET LOCAL lock_timeout = {};\nLOCK TABLE {} IN SHARE MODE;\n{};\n{};\nCOMMIT",
            quote_literal(&format!("{}ms", wait.as_millis().max(1))),
            self.name(),
            self.upgrade_sql(),
            self.load_sql(with_down)
        );
        let records = match read_records(client, &sql).await {
            Ok(records) => records,
            Err(ReadError::Row(e)) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e);
            }
            Err(ReadError::Server(e)) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return match e.code() {
                    Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
                    Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => Err(PgError::Query {
                        context: "reading the migration history",
                        message: format!(
                            "a transaction that writes the history (of a runner that lost the migration lock) is still open after {}s; \
                             find it in pg_stat_activity and end it, then run again",
                            wait.as_secs()
                        ),
                        sqlstate: Some("55P03".into()),
                    }),
                    _ => Err(PgError::query("reading the migration history", e)),
                };
            }
        };
        Ok(Some(History { records: newest_per_migration(records) }))
    }

    /// Whether the table exists, asked without an error in the server log.
    pub async fn exists(&self, client: &Client) -> Result<bool, PgError> {
        let sql = format!("SELECT to_regclass({}) IS NOT NULL", quote_literal(&self.name()));
        let rows = client.simple_query(&sql).await.map_err(|e| PgError::query("looking for the history table", e))?;
        Ok(rows.iter().any(|m| matches!(m, SimpleQueryMessage::Row(r) if r.get(0) == Some("t"))))
    }

    /// See [`HistoryTable::create_sql`].
    pub async fn create(&self, client: &Client, also_schema: Option<&str>) -> Result<(), PgError> {
        client
            .batch_execute(&self.create_sql(also_schema))
            .await
            .map_err(|e| PgError::query("creating the history table", e))
    }

    /// INSERT for an attempt: running (then RETURNING id), finished, or failed with its error.
    pub fn insert_sql(&self, r: &NewRecord<'_>, failure: Option<&DbFailure>, returning_id: bool) -> String {
        self.insert_timed_sql(r, failure, returning_id, None)
    }

    /// INSERT for an attempt that failed in a transaction rolled back before this one: it began
    /// `took` ago, not when the transaction writing its row did (the package trial: three workers'
    /// failed attempts of a second each were recorded as lasting 1 ms).
    pub fn insert_failed_sql(&self, r: &NewRecord<'_>, failure: &DbFailure, took: std::time::Duration) -> String {
        self.insert_timed_sql(r, Some(failure), false, Some(took))
    }

    fn insert_timed_sql(
        &self,
        r: &NewRecord<'_>,
        failure: Option<&DbFailure>,
        returning_id: bool,
        took: Option<std::time::Duration>,
    ) -> String {
        let started = match took {
            Some(took) => format!("clock_timestamp() - interval '{} microseconds'", took.as_micros()),
            None => "now()".to_string(),
        };
        let finished = if r.status == RecordStatus::Running { "NULL" } else { "clock_timestamp()" };
        // An adopted repeatable keeps its kind (`up` compares its checksum); its reason says it was adopted.
        let adopted = r.kind == RecordKind::Adopted || r.reason.and_then(shale_core::adopt::adopted_from).is_some();
        let duration = if r.status == RecordStatus::Running || adopted {
            // Running: not yet known. Adopted: another tool ran it, and when or for how long is not known.
            "NULL".to_string()
        } else if let Some(took) = took {
            took.as_millis().to_string()
        } else {
            // The attempt's own transaction started at now(): its length is the migration's duration.
            "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint".to_string()
        };
        format!(
            "INSERT INTO {t} (version, name, kind, checksum, up_sql, down_sql, started_at, finished_at, duration_ms, host, shale_version, status, statements_done, reason, error_sqlstate, error_message, error_statement, path)
 VALUES ({version}, {name}, {kind}, {checksum}, {up}, {down}, {started}, {finished}, {duration}, {host}, {shale}, {status}, {done}, {reason}, {code}, {message}, {statement}, {path}){ret}",
            t = self.name(),
            version = quote_literal(&r.version),
            name = quote_literal(r.name),
            kind = quote_literal(r.kind.as_str()),
            checksum = literal_or_null(r.checksum),
            up = literal_or_null(r.up_sql),
            down = literal_or_null(r.down_sql),
            host = quote_literal(&host()),
            shale = quote_literal(env!("CARGO_PKG_VERSION")),
            status = quote_literal(r.status.as_str()),
            done = r.statements_done.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into()),
            reason = literal_or_null(r.reason),
            code = literal_or_null(failure.map(|f| f.sqlstate.as_str())),
            message = literal_or_null(failure.map(|f| f.message.as_str())),
            statement = literal_or_null(failure.and_then(|f| f.statement.as_deref())),
            path = literal_or_null(r.path),
            ret = if returning_id { " RETURNING id" } else { "" },
        )
    }

    /// Mark a running attempt (no-transaction migrations) as progressed, succeeded or failed.
    pub fn progress_sql(&self, id: i64, statements_done: i32) -> String {
        format!("UPDATE {} SET statements_done = {statements_done}, resume_cursor = NULL WHERE id = {id}", self.name())
    }

    /// Record how far the backfill of a running attempt got: `cursor` is an SQL text expression.
    pub fn cursor_sql(&self, id: i64, cursor: &str) -> String {
        format!("UPDATE {} SET resume_cursor = {cursor} WHERE id = {id}", self.name())
    }

    pub fn finish_sql(&self, id: i64, status: RecordStatus, failure: Option<&DbFailure>) -> String {
        format!(
            "UPDATE {t} SET status = {status}, finished_at = clock_timestamp(),
    duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint,
    error_sqlstate = {code}, error_message = {message}, error_statement = {statement}
 WHERE id = {id}",
            t = self.name(),
            status = quote_literal(status.as_str()),
            code = literal_or_null(failure.map(|f| f.sqlstate.as_str())),
            message = literal_or_null(failure.map(|f| f.message.as_str())),
            statement = literal_or_null(failure.and_then(|f| f.statement.as_deref())),
        )
    }
}

/// PL/pgSQL (inside a block declaring `g record`) that leaves the table `table` (quoted, as SQL
/// text) and its identity sequence to their owner alone, right after it was created: whatever
/// `ALTER DEFAULT PRIVILEGES` grants on new tables (a hosted database may grant every new table in
/// `public` to the roles its web API runs as) is revoked. Anyone who could write the history could
/// make shale run a migration again; anyone who could read it would see every migration's SQL.
/// Access granted on purpose afterwards (`GRANT SELECT ... TO monitoring`) is left alone.
pub(crate) fn owner_only_sql(table: &str) -> String {
    format!(
        "FOR g IN SELECT DISTINCT o.oid, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS role, o.kind
            FROM (SELECT c.oid, c.relowner, c.relacl, 'TABLE' AS kind FROM pg_catalog.pg_class c WHERE c.oid = {lit}::regclass
                  UNION ALL
                  SELECT c.oid, c.relowner, c.relacl, 'SEQUENCE' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_depend d
                      ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.refobjid = {lit}::regclass AND d.deptype IN ('a', 'i')
                  WHERE c.relkind = 'S') o,
                 aclexplode(o.relacl) a
            WHERE a.grantee <> o.relowner LOOP
            EXECUTE format('REVOKE ALL ON %s %s FROM %s', g.kind, g.oid::regclass, g.role);
        END LOOP;",
        lit = quote_literal(table),
    )
}

fn host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// The newest row (highest id) of each versioned migration, and of each repeatable and seed by
/// name, ordered by kind and then by version or name (byte order).
fn newest_per_migration(mut records: Vec<AppliedRecord>) -> Vec<AppliedRecord> {
    // Audit rows record commands, baselines and the rest versions: each is keyed as the
    // history always keyed them.
    fn key(r: &AppliedRecord) -> (u8, &str) {
        let class = match r.kind {
            RecordKind::Repeatable => b'r',
            RecordKind::Seed => b's',
            RecordKind::Baseline => b'b',
            RecordKind::Audit => b'a',
            _ => b'v',
        };
        // An audit row of no version is named by what it is about (`adopt`, or the history of the
        // tool before shale a baseline left, one row per such table): keyed by the version alone,
        // two tables' rows were one, and only the newest was watched (Django re-check).
        let by_name = matches!(r.kind, RecordKind::Repeatable | RecordKind::Seed)
            || (r.kind == RecordKind::Audit && r.version.is_empty());
        let key = if by_name { &r.name } else { &r.version };
        (class, key.as_str())
    }
    records.sort_unstable_by(|a, b| key(a).cmp(&key(b)).then(b.id.cmp(&a.id)));
    records.dedup_by(|later, first| key(later) == key(first));
    records
}

/// Why reading history rows stopped: the server's error, or a row this shale cannot read.
enum ReadError {
    Server(tokio_postgres::Error),
    Row(PgError),
}

/// Run `sql` and turn each row into a record as it arrives: the rows are never held twice (as
/// protocol messages and as records), which for a history of 10,000 migrations was most of a
/// no-op run's memory.
async fn read_records(client: &Client, sql: &str) -> Result<Vec<AppliedRecord>, ReadError> {
    use futures_util::TryStreamExt;
    let mut stream = std::pin::pin!(client.simple_query_raw(sql).await.map_err(ReadError::Server)?);
    let mut records = Vec::new();
    while let Some(message) = stream.try_next().await.map_err(ReadError::Server)? {
        if let SimpleQueryMessage::Row(row) = message {
            records.push(parse_row(&row).map_err(ReadError::Row)?);
        }
    }
    Ok(records)
}

fn parse_row(row: &tokio_postgres::SimpleQueryRow) -> Result<AppliedRecord, PgError> {
    {
        let text = |i: usize| row.get(i).map(str::to_string);
        let number = |i: usize| row.get(i).and_then(|v| v.parse::<i64>().ok());
        let kind = row.get(3).and_then(RecordKind::parse);
        let status = row.get(5).and_then(RecordStatus::parse);
        let (Some(kind), Some(status)) = (kind, status) else {
            return Err(PgError::Corrupt(format!(
                "history row {} has kind {:?} and status {:?}, which this shale does not know",
                row.get(0).unwrap_or("?"),
                row.get(3),
                row.get(5)
            )));
        };
        Ok(AppliedRecord {
            id: number(0).unwrap_or(0),
            version: text(1).unwrap_or_default(),
            name: text(2).unwrap_or_default(),
            kind,
            checksum: text(4),
            status,
            up_sql: text(6),
            down_sql: text(7),
            applied_at: text(8),
            duration_ms: number(9),
            statements_done: number(10).map(|n| n as i32),
            error: text(11),
            path: text(12),
            resume_cursor: text(13),
            reason: text(14),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, kind: RecordKind, version: &str, name: &str, status: RecordStatus) -> AppliedRecord {
        AppliedRecord {
            id,
            version: version.into(),
            name: name.into(),
            kind,
            checksum: None,
            status,
            up_sql: None,
            down_sql: None,
            applied_at: None,
            duration_ms: None,
            statements_done: None,
            error: None,
            path: None,
            resume_cursor: None,
            reason: None,
        }
    }

    #[test]
    fn the_newest_row_of_each_migration_decides() {
        use RecordKind::*;
        use RecordStatus::*;
        let rows = vec![
            record(5, Versioned, "2", "b", Succeeded),
            record(1, Versioned, "1", "a", Failed),
            record(7, Repeatable, "", "views", Succeeded),
            record(3, Versioned, "1", "a", Succeeded),
            record(2, Repeatable, "", "views", Succeeded),
            record(4, Seed, "", "accounts", Succeeded),
            record(6, Audit, "0", "adopt", Succeeded),
            record(8, Baseline, "1", "baseline", Succeeded),
            // What a baseline left of two tools' histories: a row each, kept apart.
            record(9, Audit, "", "public.alembic_version", Succeeded),
            record(10, Audit, "", "public.django_migrations", Succeeded),
            record(11, Audit, "", "public.alembic_version", Succeeded),
        ];
        let kept: Vec<(i64, String)> =
            newest_per_migration(rows).iter().map(|r| (r.id, format!("{}:{}", r.kind.as_str(), r.name))).collect();
        // One per key (the highest id), ordered as DISTINCT ON ordered them: audit, baseline,
        // repeatable, seed, versioned; then by version or name.
        assert_eq!(
            kept,
            [
                (6, "audit:adopt".to_string()),
                (11, "audit:public.alembic_version".to_string()),
                (10, "audit:public.django_migrations".to_string()),
                (8, "baseline:baseline".to_string()),
                (7, "repeatable:views".to_string()),
                (4, "seed:accounts".to_string()),
                (3, "versioned:a".to_string()),
                (5, "versioned:b".to_string()),
            ]
        );
    }
}
