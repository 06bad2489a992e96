//! `shale inspect`: tables and one table's details from pg_catalog, each in one query
//! (JSON built by the server), whatever the number of tables, columns or indexes.
//!
//! These types are not the schema model's (`shale_schema::model`), on purpose. The model is the
//! declarative schema that dump, diff and drift compare for equality: names schema-qualified
//! (deparsed with `search_path = pg_catalog`), no sizes, no state. Inspect is what an operator
//! looks at, as `psql`'s `\d` shows it: names as the session's search path shows them, sizes,
//! row estimates, whether an index is valid or a trigger enabled, the keys pointing at the table,
//! and the indexes behind its keys. Its `--json` shape is pinned by snapshot tests. Built from the
//! model, it would change that output or carry run-time facts into a model compared for equality.

use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::PgError;
use crate::sql::quote_literal;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableSummary {
    pub schema: String,
    pub name: String,
    /// "table", "partitioned table" or "partition"
    pub kind: String,
    /// The planner's estimate; None before the first ANALYZE.
    pub row_estimate: Option<i64>,
    /// Total size with indexes and TOAST, in bytes.
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    /// "always" or "by default" for identity columns.
    pub identity: Option<String>,
    /// The expression of a generated column.
    pub generated: Option<String>,
    pub collation: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    /// primary key, unique, check, exclusion, foreign key
    pub kind: String,
    pub definition: String,
    pub validated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub method: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    /// Key columns or expressions, in order.
    pub keys: Vec<String>,
    /// INCLUDE columns.
    pub include: Vec<String>,
    /// WHERE of a partial index.
    pub predicate: Option<String>,
    pub definition: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    pub enabled: bool,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    /// The referencing table.
    pub table: String,
    /// The referenced table.
    pub references: String,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDetail {
    pub summary: TableSummary,
    pub partition_key: Option<String>,
    pub partition_of: Option<String>,
    pub partitions: Vec<String>,
    pub comment: Option<String>,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub triggers: Vec<Trigger>,
    pub foreign_keys: Vec<ForeignKey>,
    pub referenced_by: Vec<ForeignKey>,
}

/// Tables shale does not show: system schemas, and its own history and lease tables.
const USER_TABLES: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND n.nspname NOT LIKE 'pg_temp%'";

const SUMMARY: &str = "json_build_object(
    'schema', n.nspname, 'name', c.relname,
    'kind', CASE WHEN c.relkind = 'p' THEN 'partitioned table' WHEN c.relispartition THEN 'partition' ELSE 'table' END,
    'row_estimate', CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END,
    'size_bytes', pg_total_relation_size(c.oid))";

/// Which of `tables` (`(schema, name)`) hold a row, each looked at for one (estimates say
/// nothing of a table never analyzed), as SQL names them (`public."Shop Kind"`), in name order. One
/// query.
pub async fn tables_with_rows(client: &Client, tables: &[(String, String)]) -> Result<Vec<String>, PgError> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> =
        tables.iter().map(|(s, t)| format!("({}, {})", quote_literal(s), quote_literal(t))).collect();
    // query_to_xml runs a query made for each table within this one: a round trip in all.
    let sql = format!(
        "SELECT format('%I.%I', s, t) FROM (VALUES {}) AS v(s, t)
         WHERE query_to_xml(format('SELECT 1 FROM %I.%I LIMIT 1', s, t), false, true, '')::text <> ''
         ORDER BY 1",
        values.join(", ")
    );
    let rows = crate::lock::simple_rows(client, &sql, "looking for tables that hold rows").await?;
    Ok(rows.into_iter().filter_map(|r| r.into_iter().next()).collect())
}

/// Every user table with its row estimate and size.
pub async fn tables(client: &Client, history: &crate::HistoryTable) -> Result<Vec<TableSummary>, PgError> {
    let sql = format!(
        "SELECT coalesce(json_agg({SUMMARY} ORDER BY n.nspname, c.relname), '[]')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND {USER_TABLES} AND c.oid IS DISTINCT FROM to_regclass({})
           AND c.oid IS DISTINCT FROM to_regclass({})",
        quote_literal(&history.name()),
        quote_literal(&crate::lease::lease_table_name(history))
    );
    json_value(client, &sql, "listing tables").await
}

/// What a plan is judged against before it runs: the server's version, each table's size and
/// each index's table. One query.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DatabaseFacts {
    /// `server_version_num`, e.g. 150018.
    pub server_version: u32,
    /// The session's search path (`current_schemas(false)`), in order: where an unqualified
    /// name resolves.
    #[serde(default)]
    pub search_path: Vec<String>,
    pub tables: Vec<TableFact>,
    pub indexes: Vec<IndexFact>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableFact {
    pub schema: String,
    pub name: String,
    /// The larger of the planner's estimate (`reltuples`) and the statistics' live row count
    /// (`n_live_tup`, which counts rows inserted since the last ANALYZE too); from the size when
    /// both are zero (100 rows per 8 kB page, erring on the large side). A partitioned table
    /// counts its partitions, wherever they are. A table the statistics know nothing of (never
    /// vacuumed or analyzed, no live row counted: rows written and deleted do not tell, as the
    /// counters behind them restart after a crash, a database copied or restored or
    /// `pg_stat_reset`) is looked at: 0 when it has no row, -1 when it has some (how many is not
    /// known) or when looking was not possible (no SELECT privilege, row-level security, a lock
    /// held on it).
    pub rows: i64,
    /// Heap size in bytes as of the last VACUUM or ANALYZE (`relpages`; of all partitions for a
    /// partitioned table).
    pub bytes: i64,
    /// A partitioned table (its index cannot be built CONCURRENTLY).
    #[serde(default)]
    pub partitioned: bool,
    /// For a table the statistics know nothing of: whether the connection may look at all its rows
    /// (SELECT privilege, and no row-level security, or one its role is not under: a superuser, a
    /// role with BYPASSRLS, or the table's owner where the table does not force it, as on
    /// Supabase, which enables row-level security on every table).
    #[serde(default, skip_serializing)]
    pub readable: bool,
    /// Each column's type as `format_type` writes it (`character varying(255)`), for a table
    /// with rows: whether a type change rewrites it depends on the type it has.
    #[serde(default)]
    pub columns: std::collections::HashMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexFact {
    pub schema: String,
    pub name: String,
    /// The index's table, `schema.table`.
    pub table: String,
}

/// Reads only catalogs and statistics: it takes no lock on any table, so it never waits behind a
/// migration or a long transaction holding one (`pg_relation_size` would), and costs the same
/// with ten thousand tables.
///
/// It reads the tables of the session's search path and of the schemas `named` (the ones a plan's
/// statements qualify names with), so that each tenant of a database holding a thousand tenant
/// schemas reads its own tables, not all of them.
pub async fn facts(client: &Client, named: &[String]) -> Result<DatabaseFacts, PgError> {
    let scope = format!(
        "(n.nspname = ANY (current_schemas(false)) OR n.nspname = ANY (ARRAY[{}]::text[]))",
        named.iter().map(|s| quote_literal(s)).collect::<Vec<_>>().join(", ")
    );
    let sql = format!(
        "WITH RECURSIVE tables AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND {USER_TABLES} AND {scope}),
tree AS (
  SELECT oid AS root, oid AS member FROM tables WHERE relkind = 'p'
  UNION ALL
  SELECT tree.root, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.member),
counted AS (
  SELECT c.oid, c.relkind,
         greatest(c.reltuples, coalesce(s.n_live_tup, 0), 0) AS tuples, c.relpages::bigint * 8192 AS bytes,
         (c.reltuples > 0 OR c.relpages > 0 OR coalesce(s.n_live_tup, 0) > 0
          OR coalesce(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze) IS NOT NULL
          -- a materialized view made WITH NO DATA holds none, and cannot be looked at (which would
          -- fail the look at every other table)
          OR (c.relkind = 'm' AND NOT c.relispopulated)) AS known
  FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
  WHERE c.oid IN (SELECT oid FROM tables UNION SELECT member FROM tree)),
sizes AS (
  SELECT t.oid, t.nspname, t.relname, t.relkind,
         CASE WHEN t.relkind = 'p' THEN (SELECT coalesce(sum(m.tuples), 0) FROM tree JOIN counted m ON m.oid = tree.member WHERE tree.root = t.oid) ELSE own.tuples END AS tuples,
         CASE WHEN t.relkind = 'p' THEN (SELECT coalesce(sum(m.bytes), 0) FROM tree JOIN counted m ON m.oid = tree.member WHERE tree.root = t.oid) ELSE own.bytes END AS bytes,
         CASE WHEN t.relkind = 'p' THEN (SELECT coalesce(bool_and(m.known), true) FROM tree JOIN counted m ON m.oid = tree.member WHERE tree.root = t.oid AND m.relkind <> 'p') ELSE own.known END AS known
  FROM tables t JOIN counted own ON own.oid = t.oid)
SELECT json_build_object(
  'server_version', current_setting('server_version_num')::int,
  'search_path', to_json(current_schemas(false)),
  'tables', coalesce((SELECT json_agg(json_build_object('schema', nspname, 'name', relname,
        'rows', (CASE WHEN tuples > 0 THEN tuples WHEN bytes > 0 THEN greatest(bytes / 8192 * 100, 1) WHEN known THEN 0 ELSE -1 END)::bigint,
        'bytes', bytes::bigint,
        'partitioned', relkind = 'p',
        'readable', NOT known AND has_table_privilege(sizes.oid, 'SELECT') AND (SELECT NOT c.relrowsecurity OR (pg_has_role(c.relowner, 'USAGE') AND NOT c.relforcerowsecurity) OR (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user) FROM pg_class c WHERE c.oid = sizes.oid),
        'columns', coalesce(CASE WHEN tuples > 0 OR bytes > 0 THEN (SELECT json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod))
            FROM pg_attribute a WHERE a.attrelid = sizes.oid AND a.attnum > 0 AND NOT a.attisdropped) END, '{{}}'::json))) FROM sizes), '[]'),
  'indexes', coalesce((SELECT json_agg(json_build_object('schema', n.nspname, 'name', i.relname, 'table', tn.nspname || '.' || t.relname))
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
        JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE {USER_TABLES} AND {scope}), '[]'))"
    );
    let mut facts: DatabaseFacts = json_value(client, &sql, "reading table sizes").await?;
    look_at_uncounted(client, &mut facts.tables).await;
    Ok(facts)
}

/// Whether the tables the statistics know nothing of have any row, in one round trip: a table
/// created by an earlier run and never written (most of them, on a development database) is then
/// empty, not "maybe holding data". Each look takes the lightest lock a read takes, waiting at
/// most 100 ms for it (behind a migration holding the table, the table stays uncounted), and
/// reads at most one row of it (or, of a table of dead rows, for at most a second).
async fn look_at_uncounted(client: &Client, tables: &mut [TableFact]) {
    let uncounted: Vec<usize> = (0..tables.len()).filter(|&i| tables[i].rows < 0 && tables[i].readable).collect();
    if uncounted.is_empty() {
        return;
    }
    // One implicit transaction: the settings end with it.
    let mut sql = String::from(
        "SELECT set_config('lock_timeout', '100ms', true), set_config('statement_timeout', '1s', true);\n",
    );
    for &i in &uncounted {
        let table = shale_core::ident::qualified_always_quoted(&tables[i].schema, &tables[i].name);
        sql.push_str(&format!("SELECT EXISTS (SELECT FROM {table});\n"));
    }
    // A lock held or a slow scan: the tables stay uncounted, as if not looked at.
    let Ok(messages) = client.simple_query(&sql).await else { return };
    let answers: Vec<bool> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) if row.len() == 1 => Some(row.get(0) == Some("t")),
            _ => None,
        })
        .collect();
    if answers.len() != uncounted.len() {
        return;
    }
    for (i, has_rows) in uncounted.into_iter().zip(answers) {
        if !has_rows {
            tables[i].rows = 0;
        }
    }
}

/// One table in detail; `None` when there is no such table. `name` may be schema-qualified.
pub async fn table(client: &Client, name: &str) -> Result<Option<TableDetail>, PgError> {
    let sql = format!(
        "WITH t AS (SELECT c.oid FROM pg_class c WHERE c.oid = to_regclass({name}) AND c.relkind IN ('r', 'p'))
SELECT (SELECT json_build_object(
  'summary', {SUMMARY},
  'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  'partition_of', (SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = c.oid AND c.relispartition),
  'partitions', coalesce((SELECT json_agg(inhrelid::regclass::text ORDER BY inhrelid::regclass::text) FROM pg_inherits WHERE inhparent = c.oid), '[]'),
  'comment', obj_description(c.oid, 'pg_class'),
  'columns', coalesce((SELECT json_agg(json_build_object(
        'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'nullable', NOT a.attnotnull,
        'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
        'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
        'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
        'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
                          THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END,
        'comment', col_description(c.oid, a.attnum)) ORDER BY a.attnum)
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
  'constraints', coalesce((SELECT json_agg(json_build_object(
        'name', k.conname,
        'kind', CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' ELSE k.contype::text END,
        'definition', pg_get_constraintdef(k.oid), 'validated', k.convalidated) ORDER BY k.conname)
      FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'f'), '[]'),
  'indexes', coalesce((SELECT json_agg(json_build_object(
        'name', ic.relname, 'method', am.amname, 'unique', i.indisunique, 'primary', i.indisprimary, 'valid', i.indisvalid,
        'keys', (SELECT coalesce(json_agg(pg_get_indexdef(i.indexrelid, k, true)
                   || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END ORDER BY k), '[]')
                 FROM generate_series(1, i.indnkeyatts) k),
        'include', (SELECT coalesce(json_agg(pg_get_indexdef(i.indexrelid, k, true) ORDER BY k), '[]') FROM generate_series(i.indnkeyatts + 1, i.indnatts) k),
        'predicate', pg_get_expr(i.indpred, i.indrelid, true),
        'definition', pg_get_indexdef(i.indexrelid), 'size_bytes', pg_relation_size(i.indexrelid)) ORDER BY ic.relname)
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = c.oid), '[]'),
  'triggers', coalesce((SELECT json_agg(json_build_object('name', g.tgname, 'enabled', g.tgenabled <> 'D',
        'definition', pg_get_triggerdef(g.oid, true)) ORDER BY g.tgname)
      FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal), '[]'),
  'foreign_keys', coalesce((SELECT json_agg(json_build_object('name', k.conname, 'table', k.conrelid::regclass::text,
        'references', k.confrelid::regclass::text, 'definition', pg_get_constraintdef(k.oid)) ORDER BY k.conname)
      FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid = c.oid AND k.conparentid = 0), '[]'),
  'referenced_by', coalesce((SELECT json_agg(json_build_object('name', k.conname, 'table', k.conrelid::regclass::text,
        'references', k.confrelid::regclass::text, 'definition', pg_get_constraintdef(k.oid)) ORDER BY k.conrelid::regclass::text, k.conname)
      FROM pg_constraint k WHERE k.contype = 'f' AND k.confrelid = c.oid AND k.conparentid = 0), '[]'))
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN t ON t.oid = c.oid)",
        name = quote_literal(name)
    );
    json_value(client, &sql, "inspecting the table").await
}

/// Run a query returning one JSON value (or NULL) and decode it.
async fn json_value<T: serde::de::DeserializeOwned>(
    client: &Client,
    sql: &str,
    context: &'static str,
) -> Result<T, PgError> {
    let messages = client.simple_query(sql).await.map_err(|e| PgError::query(context, e))?;
    let text = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("null").to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "null".into());
    serde_json::from_str(&text).map_err(|e| PgError::Catalog(format!("unexpected catalog answer while {context}: {e}")))
}
