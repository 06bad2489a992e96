//! Reading a database's schema from pg_catalog in ONE round trip, whatever the number of objects:
//! the server builds one JSON document (one `json_agg` per object kind, like `shale inspect`),
//! inside a read-only repeatable-read transaction with `search_path = pg_catalog`, so that every
//! user object in the deparsed definitions is schema-qualified.

use std::cell::Cell;

use shale_pg::sql::quote_literal;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::model::Schema;
use crate::Error;

thread_local! {
    static ROUND_TRIPS: Cell<usize> = const { Cell::new(0) };
}

/// How many round trips [`introspect`] has sent to the server from this thread (for tests that
/// check the number does not grow with the schema).
pub fn round_trips_on_this_thread() -> usize {
    ROUND_TRIPS.with(Cell::get)
}

/// Read the schema of the database `client` is connected to, leaving out the table `exclude`
/// (`(schema, table)`: the migration history). Objects owned by extensions and the system
/// schemas are left out too. Sends one query (plus a ROLLBACK if it fails). Must not be called
/// while `client` is inside a transaction of its own.
pub async fn introspect(client: &Client, exclude: (&str, &str)) -> Result<Schema, Error> {
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSET LOCAL search_path = pg_catalog;\n{};\nCOMMIT",
        catalog_query(exclude)
    );
    ROUND_TRIPS.with(|n| n.set(n.get() + 1));
    let messages = match client.simple_query(&sql).await {
        Ok(m) => m,
        Err(e) => {
            // The transaction may be left aborted: end it so the connection stays usable.
            let _ = client.simple_query("ROLLBACK").await;
            return Err(Error::query("reading the schema from pg_catalog", e));
        }
    };
    let text = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .ok_or_else(|| Error::Catalog("reading the schema: the catalog query returned no row".into()))?;
    let mut schema: Schema = serde_json::from_str(&text)
        .map_err(|e| Error::Catalog(format!("unexpected catalog answer while reading the schema: {e}")))?;
    schema.normalize();
    crate::canonical::apply(&mut schema);
    Ok(schema)
}

/// The one catalog query.
fn catalog_query((history_schema, history_table): (&str, &str)) -> String {
    let hs = quote_literal(history_schema);
    let ht = quote_literal(history_table);
    let seq_options = "json_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
        'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle)";
    format!(
        r#"WITH ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
nsp AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
    AND n.nspname NOT LIKE 'pg\_temp%'
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = n.oid)),
rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition, c.relpartbound, n.nspname
  FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND NOT (n.nspname = {hs} AND c.relname = {ht})
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid))
SELECT json_build_object(
'schemas', (SELECT coalesce(json_agg(nspname ORDER BY nspname), '[]') FROM nsp),
'extensions', (SELECT coalesce(json_agg(json_build_object('name', x.extname, 'schema', n.nspname) ORDER BY x.extname), '[]')
  FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace),
'enums', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
    'values', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]') FROM pg_enum e WHERE e.enumtypid = t.oid))
    ORDER BY n.nspname, t.typname), '[]')
  FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace
  WHERE t.typtype = 'e' AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)),
'sequences', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname, 'options', {seq_options},
    'owned_by', (SELECT json_build_object('schema', o.nspname, 'table', oc.relname, 'column', a.attname)
       -- pg_class by its oid index, not the rel CTE: a CTE scan per sequence is quadratic.
       -- (The owner is in rel anyway: sequences of left-out tables are filtered below.)
       FROM pg_depend d JOIN pg_class oc ON oc.oid = d.refobjid JOIN pg_namespace o ON o.oid = oc.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
         AND d.deptype = 'a' AND d.refobjsubid > 0))
    ORDER BY c.nspname, c.relname), '[]')
  FROM rel c JOIN pg_sequence s ON s.seqrelid = c.oid
  WHERE c.relkind = 'S'
    -- identity sequences belong to their column; sequences owned by a left-out table are left out
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_class'::regclass
                      AND (d.deptype = 'i' OR (d.deptype = 'a' AND d.refobjid NOT IN (SELECT oid FROM rel))))),
'tables', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname,
    'unlogged', c.relpersistence = 'u',
    'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
    'partition_of', (SELECT json_build_object('schema', pn.nspname, 'name', pc.relname)
       FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
       WHERE i.inhrelid = c.oid AND c.relispartition),
    'partition_bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
    'comment', obj_description(c.oid, 'pg_class'),
    'columns', (SELECT coalesce(json_agg(json_build_object('name', a.attname,
        'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
        'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
            (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
             JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
        'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
        'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
        'identity', CASE WHEN a.attidentity <> '' THEN json_build_object('always', a.attidentity = 'a',
            'sequence', (SELECT json_build_object('schema', sn.nspname, 'name', sc.relname, 'options', {seq_options})
               FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid JOIN pg_namespace sn ON sn.oid = sc.relnamespace
               JOIN pg_sequence s ON s.seqrelid = sc.oid
               WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                 AND d.refobjsubid = a.attnum AND d.deptype = 'i' LIMIT 1)) END,
        'comment', col_description(c.oid, a.attnum)) ORDER BY a.attnum), '[]')
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
    ORDER BY c.nspname, c.relname), '[]')
  FROM rel c WHERE c.relkind IN ('r', 'p')),
'constraints', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', k.conname,
    'kind', CASE k.contype WHEN 'c' THEN 'check' WHEN 'p' THEN 'primary_key' WHEN 'u' THEN 'unique'
                           WHEN 'x' THEN 'exclusion' ELSE 'foreign_key' END,
    'definition', pg_get_constraintdef(k.oid), 'validated', k.convalidated,
    'deferrable', k.condeferrable, 'deferred', k.condeferred)
    ORDER BY c.nspname, c.relname, k.conname), '[]')
  FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
  WHERE k.contype IN ('c', 'p', 'u', 'x', 'f') AND k.conparentid = 0 AND k.conislocal),
'indexes', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', ic.relname,
    'definition', CASE WHEN c.relkind = 'p' THEN regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
                       ELSE pg_get_indexdef(i.indexrelid) END,
    'on_materialized_view', c.relkind = 'm')
    ORDER BY c.nspname, ic.relname), '[]')
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN rel c ON c.oid = i.indrelid
  WHERE NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                      AND k.contype IN ('p', 'u', 'x'))
    AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)),
'views', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname,
    'materialized', c.relkind = 'm', 'definition', pg_get_viewdef(c.oid), 'comment', obj_description(c.oid, 'pg_class'),
    'depends_on', (SELECT coalesce(json_agg(json_build_object('schema', x.nspname, 'name', x.relname)
                                            ORDER BY x.nspname, x.relname), '[]')
       FROM (SELECT DISTINCT vn.nspname, v.relname FROM pg_rewrite r
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
             -- pg_class by its oid index, not the rel CTE (quadratic in the number of views).
             JOIN pg_class v ON v.oid = d.refobjid JOIN nsp vn ON vn.oid = v.relnamespace
             WHERE r.ev_class = c.oid AND v.oid <> c.oid AND v.relkind IN ('v', 'm')
               AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = v.oid)) x))
    ORDER BY c.nspname, c.relname), '[]')
  FROM rel c WHERE c.relkind IN ('v', 'm')),
'functions', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', p.proname,
    'arguments', pg_get_function_identity_arguments(p.oid),
    'kind', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window' ELSE 'function' END,
    'definition', pg_get_functiondef(p.oid),
    -- a row type in the signature, or a SQL-standard body (BEGIN ATOMIC / RETURN) that reads a table
    'needs_tables', EXISTS (SELECT FROM pg_depend d LEFT JOIN pg_type t ON d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
          AND (t.typrelid <> 0 OR d.refclassid = 'pg_class'::regclass)))
    ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '[]')
  FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
  WHERE p.prokind IN ('f', 'p', 'w')
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)),
'triggers', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', g.tgname,
    'definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled)
    ORDER BY c.nspname, c.relname, g.tgname), '[]')
  FROM pg_trigger g JOIN rel c ON c.oid = g.tgrelid
  WHERE NOT g.tgisinternal AND g.tgparentid = 0)
)"#
    )
}
