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
/// (`(schema, table)`: the migration history) and its lease-lock table. Objects owned by extensions and the system
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
    // The history's own schema (`history_schema = "shale"`), when it holds nothing else: shale's,
    // not the migrations' (it counted as drift wherever the history was not made yet, and dumps
    // wrote it empty).
    if exclude.0 != "public" && schema.schemas.iter().any(|s| s == exclude.0) {
        schema = crate::confine::without_empty_schema(&schema, exclude.0);
    }
    Ok(schema)
}

/// The one catalog query (introspect.sql), its `{name}` placeholders filled in: the history and
/// lease tables left out, and the SQL fragments below that it uses more than once.
const CATALOG_QUERY: &str = include_str!("introspect.sql");

/// The one catalog query.
fn catalog_query((history_schema, history_table): (&str, &str)) -> String {
    let hs = quote_literal(history_schema);
    let ht = quote_literal(history_table);
    let history = shale_pg::HistoryTable { schema: history_schema.into(), table: history_table.into() };
    let lease = quote_literal(&shale_pg::lease::lease_table(&history).1);
    let seq_options = "json_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
        'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle)";
    // The user types (other than enums) a type is built on; an array stands for its element type.
    let depends_on =
        "(SELECT coalesce(json_agg(DISTINCT jsonb_build_object('schema', un.nspname, 'name', u.typname)), '[]')
       FROM pg_depend dp JOIN pg_type r ON r.oid = dp.refobjid
       JOIN pg_type u ON u.oid = CASE WHEN r.typelem <> 0 AND r.typlen = -1 THEN r.typelem ELSE r.oid END
       JOIN pg_namespace un ON un.oid = u.typnamespace
       WHERE dp.refclassid = 'pg_type'::regclass AND u.typtype IN ('d', 'c', 'r') AND u.oid <> t.oid
         AND ((dp.classid = 'pg_type'::regclass AND dp.objid = t.oid)
              OR (dp.classid = 'pg_class'::regclass AND dp.objid = t.typrelid AND t.typrelid <> 0)))";
    // What `o.acl` grants beyond `o.base` and takes from it, `o.owner`'s own left out: for the
    // privileges of objects and for default privileges alike.
    let acl_difference = r#"  -- each (grantee, privilege, grant option) in the acl or the defaults but not both; an aggregate,
  -- so that the planner computes it once per object
  LATERAL (SELECT
      coalesce(json_agg(json_build_object('grantee', x.grantee, 'privilege', x.privilege, 'grantable', x.grantable))
               FILTER (WHERE x.granted), '[]') AS granted,
      coalesce(json_agg(json_build_object('grantee', x.grantee, 'privilege', x.privilege, 'grantable', x.grantable))
               FILTER (WHERE NOT x.granted), '[]') AS revoked,
      count(*) AS n
    FROM (SELECT CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(e.grantee)::text END AS grantee,
            e.privilege_type AS privilege, e.is_grantable AS grantable, bool_or(e.actual) AS granted
          FROM (SELECT a.grantee, a.privilege_type, a.is_grantable, true AS actual FROM aclexplode(o.acl) a
                UNION ALL
                SELECT b.grantee, b.privilege_type, b.is_grantable, false FROM aclexplode(o.base) b) e
          WHERE e.grantee <> o.owner
          GROUP BY e.grantee, e.privilege_type, e.is_grantable
          HAVING bool_or(e.actual) <> bool_or(NOT e.actual)) x) g
"#;
    fill(
        CATALOG_QUERY,
        &[
            ("hs", &hs),
            ("ht", &ht),
            ("lease", &lease),
            ("seq_options", seq_options),
            ("depends_on", depends_on),
            ("acl_difference", acl_difference),
        ],
    )
}

/// `template` (its final newline left out) with each `{name}` of `values` replaced by its value, in
/// one pass: a value is never searched for placeholders itself, and other braces (`'{}'`) stay.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let template = template.strip_suffix('\n').unwrap_or(template);
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            values.iter().find(|(name, _)| *name == &after[..close]).map(|(_, value)| (close, *value))
        });
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_named_placeholders_once() {
        let filled = fill("a {x} b '{}' {y} {unknown}\n", &[("x", "{y}"), ("y", "2")]);
        assert_eq!(filled, "a {y} b '{}' 2 {unknown}");
    }

    #[test]
    fn the_catalog_query_has_no_placeholder_left() {
        let sql = catalog_query(("public", "shale_migrations"));
        for name in ["hs", "ht", "lease", "seq_options", "depends_on", "acl_difference"] {
            assert!(!sql.contains(&format!("{{{name}}}")), "{{{name}}} left in the catalog query");
        }
        assert!(sql.contains("'shale_migrations'") && sql.ends_with(')'), "{}", &sql[sql.len() - 40..]);
    }
}
