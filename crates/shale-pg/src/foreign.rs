//! Other tools' history tables in the database: found by name and columns, read into the
//! normalized [`ForeignHistory`] that `shale adopt` plans with. Nothing here writes to them.

use shale_core::adopt::{
    ForeignEntry, ForeignHistory, ForeignState, Tool, NAMED_AS_CONFIGURED, SUPABASE_SERVICE_SCHEMAS,
};
use shale_core::ident::qualified_always_quoted;
use tokio_postgres::Client;

use crate::error::PgError;
use crate::lock::simple_rows;
use crate::sql::quote_literal;

/// Another tool's history table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForeignTable {
    pub tool: Tool,
    pub schema: String,
    pub table: String,
    /// Its schema is on the connection's search_path: the history of what ran on this connection
    /// (another schema's may be another application's, as Supabase's `auth.schema_migrations`).
    pub in_search_path: bool,
}

impl ForeignTable {
    /// `schema.table`, quoted.
    pub fn name(&self) -> String {
        qualified_always_quoted(&self.schema, &self.table)
    }

    /// `schema.table` for messages.
    pub fn display(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The context of an error reading another tool's history table (its hint asks for SELECT on it).
pub const OTHER_TOOLS_HISTORY: &str = "reading the other tool's history table";

/// Settings for a read of another tool's table made as an aside, sent in the same message as it:
/// a table held locked (its tool migrating now) fails it at once, not after the session's wait.
const ASIDE: &str = "SET LOCAL lock_timeout = '200ms'; SET LOCAL statement_timeout = '2s';";

/// What `table` holds, in a few bytes: its row count and an md5 of its rows in order; where its
/// ids come from sequences (a `serial`, an identity), the last each gave out (where the role may
/// read it); and the rows written to it as the server's statistics count them. A tool that still
/// migrates the database after the switch changes it; a run of it reverted since moves the ids
/// and the writes (see [`shale_core::adopt::same_fingerprint`]). None when the table is gone. One
/// query.
///
/// Read `aside` (a check on the way, as `status` makes), a table held locked is not read this
/// time, as if gone; otherwise (what a baseline or an acceptance records) the read waits as the
/// session's queries do, and fails rather than record nothing (re-check: a baseline taken while
/// it was locked left that tool unwatched for good).
pub async fn fingerprint(client: &Client, table: &ForeignTable, aside: bool) -> Result<Option<String>, PgError> {
    let sql = format!(
        "{} SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')
                || coalesce((SELECT ', ids to ' || string_agg(
                                    CASE WHEN pg_catalog.has_sequence_privilege(s.oid, 'SELECT')
                                         THEN coalesce(pg_catalog.pg_sequence_last_value(s.oid)::text, '0') ELSE '?' END,
                                    ',' ORDER BY s.oid)
                             FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid
                             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
                               AND d.refobjid = {lit}::regclass AND d.deptype IN ('a', 'i') AND s.relkind = 'S'), '')
                || ', writes ' || (pg_catalog.pg_stat_get_tuples_inserted({lit}::regclass) + pg_catalog.pg_stat_get_tuples_updated({lit}::regclass)
                                   + pg_catalog.pg_stat_get_tuples_deleted({lit}::regclass))
         FROM {name} t",
        if aside { ASIDE } else { "" },
        name = table.name(),
        lit = quote_literal(&table.name()),
    );
    match client.simple_query(&sql).await {
        Ok(messages) => Ok(messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
        // Held locked (its tool migrating now, say): not read this time, as if gone, rather than
        // fail the command after the session's wait (review: `status` failed after 5 s).
        Err(e)
            if aside
                && e.code().is_some_and(|c| {
                    *c == tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE
                        || *c == tokio_postgres::error::SqlState::QUERY_CANCELED
                }) =>
        {
            Ok(None)
        }
        Err(e) => Err(PgError::query("reading another tool's history table", e)),
    }
}

/// Which of `names` (as a migration creates them: its schema where it names one, else the schema
/// unqualified names go to, the first of the search path) are tables already, but for those of an
/// extension (PostGIS's `spatial_ref_sys`): each as `schema.name`, in name order. One query.
pub async fn existing_tables(client: &Client, names: &[(Option<String>, String)]) -> Result<Vec<String>, PgError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = names
        .iter()
        .map(|(schema, name)| {
            let schema = schema.as_deref().map_or("current_schema()".to_string(), quote_literal);
            format!("({schema}, {})", quote_literal(name))
        })
        .collect();
    let sql = format!(
        "SELECT format('%s.%s', n.nspname, c.relname)
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND (n.nspname::text, c.relname::text) IN ({})
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY 1",
        names.join(", ")
    );
    let rows = simple_rows(client, &sql, "looking for the tables the migrations create").await?;
    Ok(rows.into_iter().map(|mut r| r.swap_remove(0)).collect())
}

/// The tables in the session's search path (not an extension's, not a partition), as `schema.name`:
/// how many, and the first `shown` by name. `listed`: the search_path each migration sets (SQL),
/// set for the query too: behind a pooler the session's is the role's (review).
pub async fn tables_in_search_path(
    client: &Client,
    shown: usize,
    listed: Option<&str>,
) -> Result<(usize, Vec<String>), PgError> {
    let read = format!(
        "SELECT count(*) OVER (), format('%s.%s', n.nspname, c.relname)
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY (current_schemas(false))
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY 2 LIMIT {shown}"
    );
    let sql = crate::sql::read_with_search_path(listed, &read);
    let rows = simple_rows(client, &sql, "looking for tables").await?;
    let count = rows.first().and_then(|r| r[0].parse().ok()).unwrap_or(0);
    Ok((count, rows.into_iter().map(|mut r| r.swap_remove(1)).collect()))
}

/// The history tables of the tools shale knows, wherever they are, or `table` (`name` or
/// `schema.name`) alone, those in the session's search path first (the one the connection's
/// migrations went to: Supabase's `auth.schema_migrations` belongs to its auth server, not to the
/// application's dbmate). One catalog query.
pub async fn detect(client: &Client, table: Option<&str>) -> Result<Vec<ForeignTable>, PgError> {
    Ok(scan(client, table).await?.0)
}

/// [`detect`]'s histories, and those under a name that does not say it holds migrations whose
/// columns are a tool's whose columns alone say too little (dbmate's, sql-migrate's,
/// node-pg-migrate's: [`Tool::by_columns_and_rows`]): of the tools `wants` (those the directory
/// holds files of), where `rows_name_files` says their rows (the column naming each migration, up
/// to 1,000 rows) name the directory's files. One query more per such table.
pub async fn detect_confirming(
    client: &Client,
    wants: impl Fn(Tool) -> bool,
    rows_name_files: impl Fn(Tool, &[String]) -> bool,
) -> Result<Vec<ForeignTable>, PgError> {
    let (mut found, unconfirmed) = scan(client, None).await?;
    for (table, key) in unconfirmed.into_iter().filter(|(t, _)| wants(t.tool)) {
        // Read as an aside: a table its application holds locked, or one this role may not read
        // after all, is not a history, and no reason for the command to fail (review). One
        // message, an implicit transaction the SET LOCALs last for: nothing is left open after a
        // failure, through a statement-mode pooler too (review: an explicit BEGIN there closed
        // the connection).
        let sql = format!(
            "{ASIDE} SELECT {}::text FROM {} LIMIT 1000",
            shale_core::ident::ident_always_quoted(key),
            table.name()
        );
        let Ok(rows) = simple_rows(client, &sql, "reading a table that may be a history").await else { continue };
        let keys: Vec<String> = rows.into_iter().map(|mut r| r.swap_remove(0)).collect();
        if rows_name_files(table.tool, &keys) {
            found.push(db_migrate_told_apart(client, table).await);
        }
    }
    // Those on the search path first, as `detect` lists them.
    found.sort_by_key(|t| !t.in_search_path);
    Ok(found)
}

/// The histories `detect` finds, and the tables [`Tool::by_columns_and_rows`] leaves to their
/// rows (with the column naming each row's migration), where no table was named.
async fn scan(
    client: &Client,
    table: Option<&str>,
) -> Result<(Vec<ForeignTable>, Vec<(ForeignTable, &'static str)>), PgError> {
    let names: Vec<String> =
        Tool::ALL.iter().map(|t| t.default_table()).chain(["schema_version"]).map(quote_literal).collect();
    let filter = match table {
        Some(t) => format!("c.oid = to_regclass({})", quote_literal(t)),
        // The histories a tool's configuration may name as it likes (NAMED_AS_CONFIGURED), by
        // their columns alone (`recognize` decides).
        None => format!(
            "(c.relname IN ({}) OR (SELECT string_agg(d.attname, ',' ORDER BY d.attname) FROM pg_catalog.pg_attribute d
                                     WHERE d.attrelid = c.oid AND d.attnum > 0 AND NOT d.attisdropped) IN ({}))
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'",
            names.join(", "),
            NAMED_AS_CONFIGURED
                .iter()
                .map(|(_, columns)| quote_literal(&columns.join(",")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    // The tables some tools keep beside their history, which tell them apart (Rails from dbmate).
    let companions: Vec<String> =
        Tool::ALL.iter().flat_map(|t| t.companions().iter().copied()).map(quote_literal).collect();
    let sql = format!(
        "SELECT n.nspname, c.relname, string_agg(a.attname, ',' ORDER BY a.attnum),
                (SELECT string_agg(b.relname, ',') FROM pg_catalog.pg_class b
                 WHERE b.relnamespace = n.oid AND b.relname IN ({})),
                n.nspname = ANY (current_schemas(false)),
                EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'supabase_admin')
                  OR (EXISTS (SELECT FROM pg_catalog.pg_class u JOIN pg_catalog.pg_namespace un ON un.oid = u.relnamespace
                              WHERE un.nspname = 'auth' AND u.relname = 'users')
                      AND EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'storage')),
                pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT'),
                EXISTS (SELECT FROM pg_catalog.pg_class u WHERE u.relnamespace = n.oid AND u.relname = 'users')
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND {filter}
         GROUP BY n.oid, n.nspname, c.oid, c.relname
         ORDER BY n.nspname = ANY (current_schemas(false)) DESC, n.nspname, c.relname",
        companions.join(", ")
    );
    let rows = simple_rows(client, &sql, "looking for other tools' history tables").await?;
    let mut found: Vec<ForeignTable> = Vec::new();
    let mut unconfirmed = Vec::new();
    for r in rows {
        // Supabase's services keep their own histories: not the application's.
        if table.is_none() && r[5] == "t" && SUPABASE_SERVICE_SCHEMAS.contains(&r[0].as_str()) {
            continue;
        }
        // So does GoTrue (Supabase's auth server) run on its own, in schema `auth` beside its
        // `auth.users` (breadth trial: AppFlowy's `auth.schema_migrations` was taken for dbmate's).
        if table.is_none() && r[0] == "auth" && r[7] == "t" {
            continue;
        }
        let columns: Vec<String> = r[2].split(',').map(str::to_string).collect();
        let at =
            |tool: Tool| ForeignTable { tool, schema: r[0].clone(), table: r[1].clone(), in_search_path: r[4] == "t" };
        // A table named on the command line is taken for what its columns say, whatever its name.
        let named = || {
            Tool::by_columns_exactly(&columns)
                .or_else(|| Tool::ALL.into_iter().find_map(|t| Tool::recognize(t.default_table(), &columns)))
        };
        let tool = Tool::recognize(&r[1], &columns).or_else(|| table.and_then(|_| named()));
        match tool {
            Some(tool) => found.push(at(tool.told_apart(&r[0], |companion| r[3].split(',').any(|b| b == companion)))),
            // (Only one this role may read: another's table is no reason for `status` to fail.)
            None if r[6] == "t" => {
                if let Some((tool, key)) = Tool::by_columns_and_rows(&columns) {
                    unconfirmed.push((at(tool), key));
                }
            }
            None => {}
        }
    }
    // The Hasura server makes hdb_version in every database it keeps its metadata in; it is a
    // history only where Hasura's CLI recorded migrations in it (a project may use Hasura for its
    // API and shale for its migrations).
    let mut histories = Vec::with_capacity(found.len());
    for t in found {
        if t.tool == Tool::Hasura && t.table == Tool::Hasura.default_table() {
            let sql = format!(
                "SELECT EXISTS (SELECT FROM {} WHERE jsonb_typeof(d.value) = 'object' AND d.value <> '{{}}')",
                hasura_databases(&t.name())
            );
            let rows = simple_rows(client, &sql, "reading Hasura's migration state").await?;
            if rows.first().is_none_or(|r| r[0] != "t") {
                continue;
            }
        }
        histories.push(db_migrate_told_apart(client, t).await);
    }
    // Hasura's CLI since its config v3 reads hdb_version's state alone: `hasura scripts
    // update-project-v3` copied the older table's versions into it and left that table as it was,
    // no longer moving (taken over, it would make the migrations applied since pending).
    let hasura_v3 = |t: &ForeignTable| t.tool == Tool::Hasura && t.table == Tool::Hasura.default_table();
    let v3_schemas: Vec<String> = histories.iter().filter(|t| hasura_v3(t)).map(|t| t.schema.clone()).collect();
    if table.is_none() {
        histories.retain(|t| t.tool != Tool::Hasura || hasura_v3(t) || !v3_schemas.contains(&t.schema));
    }
    Ok((histories, unconfirmed))
}

/// Whether each of `tables` holds a row, read as an aside (one that cannot be read, or a read
/// that fails, counts as holding some). One query.
pub async fn holding_rows(client: &Client, tables: &[ForeignTable]) -> Vec<bool> {
    let columns: Vec<String> = tables.iter().map(|t| format!("EXISTS (SELECT FROM {})::text", t.name())).collect();
    let sql = format!("{ASIDE} SELECT {}", columns.join(", "));
    let rows = simple_rows(client, &sql, "reading whether other tools' histories hold rows").await.unwrap_or_default();
    rows.first().map_or_else(|| vec![true; tables.len()], |r| r.iter().map(|v| v != "false").collect())
}

/// A table with node-pg-migrate's columns, told apart as db-migrate's where its rows' names start
/// with the `/` db-migrate writes (db-migrate trial: called node-pg-migrate's, its commands
/// advised, its rows read as naming no file). Read as an aside: a table that cannot be read stays
/// node-pg-migrate's. One query, only for such a table.
async fn db_migrate_told_apart(client: &Client, table: ForeignTable) -> ForeignTable {
    if table.tool != Tool::NodePgMigrate {
        return table;
    }
    let sql = format!("{ASIDE} SELECT EXISTS (SELECT FROM {} WHERE name LIKE '/%')", table.name());
    match simple_rows(client, &sql, "reading a history's names").await {
        Ok(rows) if rows.first().is_some_and(|r| r[0] == "t") => ForeignTable { tool: Tool::DbMigrate, ..table },
        _ => table,
    }
}

/// `table` (Hasura's `hdb_version`) joined to each database of its CLI state, as `d` (key: the
/// database, value: its versions and whether each is dirty: `{"migrations": {"default":
/// {"1640781158604": false}}}`); a state of another shape holds none.
fn hasura_databases(table: &str) -> String {
    format!(
        "{table}, jsonb_each(CASE jsonb_typeof(cli_state->'migrations') WHEN 'object' THEN cli_state->'migrations' ELSE '{{}}' END) d"
    )
}

/// SQL rendering `column` (a timestamp) in UTC, as shale's history renders its times, or '' where
/// it is NULL: the two compare as text. A timestamp without time zone (goose's `tstamp`, Flyway's
/// `installed_on`) is in the zone of whoever wrote it, which shale cannot know: it is taken as the
/// latest it can be (14 hours on), marked so with a trailing `~`: a row that may be newer than a
/// revert counts as newer (the review: read in shale's zone, goose's re-run looked 5 hours older,
/// and ran twice), and a bound is no time to say it is older than anything.
fn utc_text(column: &str) -> String {
    format!(
        "coalesce(CASE WHEN pg_typeof({column}) = 'timestamp without time zone'::regtype
                       THEN to_char(({column}::timestamptz + interval '14 hours') AT TIME ZONE 'UTC', {f}) || '~'
                       ELSE to_char({column}::timestamptz AT TIME ZONE 'UTC', {f}) END, '')",
        f = crate::history::TIME_TEXT
    )
}

/// What Sqitch's `events` log (beside `changes`) says it did to the plan's `project` after `since`
/// (shale's time text, UTC, to the second: the adoption's second counts as after it), of the
/// changes it has not deployed again since: those it failed to deploy (a `fail` leaves no row in
/// `changes`), and those it reverted, with the revert's time (a revert of a change shale applied
/// leaves no row to compare). Seen nowhere else (the Sqitch trial and its re-check). Nothing where
/// the registry has no events table. Two queries.
#[derive(Debug, Default)]
pub struct SqitchEvents {
    pub failed: Vec<String>,
    pub reverted: Vec<(String, String)>,
}

/// The [`SqitchEvents`] of the registry `changes` is in.
pub async fn sqitch_events_since(
    client: &Client,
    changes: &ForeignTable,
    project: Option<&str>,
    since: &str,
) -> Result<SqitchEvents, PgError> {
    let events = qualified_always_quoted(&changes.schema, "events");
    let exists = format!("SELECT to_regclass({}) IS NOT NULL", quote_literal(&events));
    let there = simple_rows(client, &exists, "looking for Sqitch's events").await?;
    if there.first().map(|r| r[0].as_str()) != Some("t") {
        return Ok(SqitchEvents::default());
    }
    // Each change's latest fail or revert since, where no deploy of it came after.
    let sql = format!(
        "SELECT DISTINCT ON (e.change) e.event, e.change, to_char(e.committed_at AT TIME ZONE 'UTC', {t}) FROM {events} e
         WHERE e.event IN ('fail', 'revert') AND to_char(e.committed_at AT TIME ZONE 'UTC', {t}) >= {since} {of_project}
           AND NOT EXISTS (SELECT 1 FROM {events} d WHERE d.change = e.change AND d.project = e.project
                             AND d.event = 'deploy' AND d.committed_at > e.committed_at)
         ORDER BY e.change, e.committed_at DESC",
        t = crate::history::TIME_TEXT,
        since = quote_literal(since),
        of_project = project.map(|p| format!("AND e.project = {}", quote_literal(p))).unwrap_or_default()
    );
    let mut found = SqitchEvents::default();
    for r in simple_rows(client, &sql, "reading Sqitch's events").await? {
        match r[0].as_str() {
            "fail" => found.failed.push(r[1].clone()),
            _ => found.reverted.push((r[1].clone(), r[2].clone())),
        }
    }
    Ok(found)
}

/// Of `required` (each a Sqitch project and one of its changes), those this database has not
/// deployed: in no Sqitch registry (a `changes` table with Sqitch's columns, in any schema: it
/// keeps only what is deployed), nor applied, by that change's name and deploy script, in a shale
/// history other than `own` (the other project migrated by shale since, from its own directory
/// and history table). Two queries; none where nothing is required.
pub async fn sqitch_changes_missing(
    client: &Client,
    own: &crate::HistoryTable,
    required: &[(String, String)],
) -> Result<Vec<(String, String)>, PgError> {
    const CONTEXT: &str = "looking for the changes of other Sqitch projects";
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let has = |column: &str| {
        format!("EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = '{column}')")
    };
    let candidates = format!(
        "SELECT CASE WHEN c.relname = 'changes' AND {} AND {} THEN 'sqitch' ELSE 'shale' END,
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND c.oid <> coalesce(to_regclass({}), 0)
           AND (c.relname = 'changes' AND {} AND {} OR {} AND {})
           AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
         ORDER BY 2",
        has("change_id"),
        has("project"),
        quote_literal(&own.name()),
        has("change_id"),
        has("project"),
        has("checksum_algorithm"),
        has("resume_cursor"),
    );
    let tables = simple_rows(client, &candidates, CONTEXT).await?;
    let pairs: Vec<String> =
        required.iter().map(|(p, c)| format!("({}, {})", quote_literal(p), quote_literal(c))).collect();
    let names: Vec<String> = required.iter().map(|(_, c)| quote_literal(c)).collect();
    // What each table holds of them: a registry's by project and change; a shale history's by
    // the change's name and script, its newest row applied.
    let parts: Vec<String> = tables
        .iter()
        .map(|t| match t[0].as_str() {
            "sqitch" => {
                format!("SELECT project, change FROM {} WHERE (project, change) IN ({})", t[1], pairs.join(", "))
            }
            _ => format!(
                "SELECT NULL::text, name FROM (SELECT DISTINCT ON (name) name, status FROM {} WHERE name IN ({})
                   AND path = 'deploy/' || name || '.sql' ORDER BY name, id DESC) newest WHERE status = 'succeeded'",
                t[1],
                names.join(", ")
            ),
        })
        .collect();
    let deployed = match parts.is_empty() {
        true => Vec::new(),
        false => simple_rows(client, &parts.join("\nUNION ALL\n"), CONTEXT).await?,
    };
    let found = |(project, change): &(String, String)| {
        deployed.iter().any(|r| r[1] == *change && (r[0].is_empty() || r[0] == *project))
    };
    Ok(required.iter().filter(|r| !found(r)).cloned().collect())
}

/// Whether the Sqitch registry whose `changes` table is `changes` holds a change of `project`
/// (one registry may hold several projects'). One query.
pub async fn sqitch_holds_project(client: &Client, changes: &ForeignTable, project: &str) -> Result<bool, PgError> {
    let sql = format!("SELECT EXISTS (SELECT FROM {} WHERE project = {})", changes.name(), quote_literal(project));
    let rows = simple_rows(client, &sql, "reading which projects Sqitch deployed").await?;
    Ok(rows.first().is_some_and(|r| r[0] == "t"))
}

/// A time `utc_text` rendered, None where there was none.
fn time(text: &str) -> Option<String> {
    Some(text.to_string()).filter(|t| !t.is_empty())
}

/// Each row's first column as an entry with nothing more to say: the tools whose rows are only
/// the names or versions of what ran.
/// Whether `table`'s columns are those `tool`'s history has (under its own name, as the tool
/// keeps it): a table named with `--table` and `--from` together is read as that tool's, whose
/// reader would otherwise find no row of its shape and take the history for empty (Postgrator
/// trial: `--from tern --table schemaversion` recorded that tern had applied nothing, and `up`
/// ran every migration again). With the table's columns, in order, to say so. One query.
pub async fn fits(client: &Client, table: &ForeignTable, tool: Tool) -> Result<(bool, Vec<String>), PgError> {
    let sql = format!(
        "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = {}::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        quote_literal(&table.name())
    );
    let rows = simple_rows(client, &sql, "reading a history table's columns").await?;
    let columns: Vec<String> = rows.into_iter().map(|mut r| r.swap_remove(0)).collect();
    Ok((tool.keeps_history_in(&table.schema, &table.table, &columns), columns))
}

async fn keys(client: &Client, sql: &str, context: &'static str) -> Result<ForeignState, PgError> {
    let rows = simple_rows(client, sql, context).await?;
    Ok(ForeignState::Entries(rows.iter().map(|r| ForeignEntry { key: r[0].clone(), ..Default::default() }).collect()))
}

/// One entry per row of `sql`'s key, checksum (empty: none) and time applied, in its order.
async fn checksummed(client: &Client, sql: &str, context: &'static str) -> Result<ForeignState, PgError> {
    let rows = simple_rows(client, sql, context).await?;
    Ok(ForeignState::Entries(
        rows.iter()
            .map(|r| ForeignEntry {
                key: r[0].clone(),
                checksum: Some(r[1].clone()).filter(|c| !c.is_empty()),
                applied_at: time(&r[2]),
                ..Default::default()
            })
            .collect(),
    ))
}

/// The lock table of `tool` beside its history `table`, where it has a row: bun's
/// `bun_migration_locks`, which its `Lock` fills while it migrates (bun trial: a history taken
/// over while bun was mid-run, its rows written before the migrations ran), under the name its
/// `WithLocksTableName` gives too, found by its columns (`id`, `table_name`) in the history's
/// schema (re-check: `app_locks` was not looked at). For bun alone: one query, and one per lock
/// table found.
pub async fn lock_held(client: &Client, table: &ForeignTable, tool: Tool) -> Result<Option<String>, PgError> {
    let Some(lock) = tool.companions().first().filter(|_| tool == Tool::Bun) else {
        return Ok(None);
    };
    let candidates = format!(
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = {} AND c.relkind IN ('r', 'p') AND (c.relname = {} OR
           (SELECT string_agg(a.attname, ',' ORDER BY a.attname) FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) = 'id,table_name')
         ORDER BY c.relname = {} DESC, c.relname",
        quote_literal(&table.schema),
        quote_literal(lock),
        quote_literal(lock)
    );
    for row in simple_rows(client, &candidates, OTHER_TOOLS_HISTORY).await? {
        let held = format!("SELECT count(*) > 0 FROM {}", qualified_always_quoted(&table.schema, &row[0]));
        if simple_rows(client, &held, OTHER_TOOLS_HISTORY).await?.first().is_some_and(|r| r[0] == "t") {
            return Ok(Some(format!("{}.{}", table.schema, row[0])));
        }
    }
    Ok(None)
}

/// What `table` says, as `tool` (which may differ from the guess, when the user says so).
pub async fn read(client: &Client, table: &ForeignTable, tool: Tool) -> Result<ForeignHistory, PgError> {
    let t = table.name();
    let context = OTHER_TOOLS_HISTORY;
    let entry = |key: &str| ForeignEntry { key: key.to_string(), ..Default::default() };
    let state = match tool {
        Tool::Tern => {
            // One row, the version reached: every migration up to it ran.
            let rows = simple_rows(client, &format!("SELECT version FROM {t}"), context).await?;
            let version = rows.first().and_then(|r| r[0].parse::<i64>().ok()).filter(|v| *v >= 0);
            ForeignState::Current { version, dirty: false }
        }
        Tool::Hasura if table.table == Tool::Hasura.default_table() => {
            // Per database Hasura serves, each applied version and whether it is dirty.
            let sql = format!(
                "SELECT d.key, m.key, m.value::text FROM {},
                   jsonb_each(CASE jsonb_typeof(d.value) WHEN 'object' THEN d.value ELSE '{{}}' END) m
                 ORDER BY d.key, m.key",
                hasura_databases(&t)
            );
            let rows = simple_rows(client, &sql, context).await?;
            // Each database's versions, with the database as the description: adoption takes those
            // of the one the files are for.
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry { failed: r[2] == "true", description: r[0].clone(), ..entry(&r[1]) })
                    .collect(),
            )
        }
        Tool::GolangMigrate | Tool::Hasura => {
            let rows =
                simple_rows(client, &format!("SELECT version, dirty FROM {t} ORDER BY version"), context).await?;
            match rows.as_slice() {
                [] => ForeignState::Current { version: None, dirty: false },
                // golang-migrate keeps one row, the version reached.
                [r] if tool == Tool::GolangMigrate => {
                    let version = r[0].parse::<i64>().ok().filter(|v| *v >= 0);
                    ForeignState::Current { version, dirty: r[1] == "t" }
                }
                // A row per version (Hasura's before its config v3, or its table under another
                // schema): each one applied, a dirty one in doubt. Read as golang-migrate's single
                // row, the first of them made everything up to it count as applied.
                rows => ForeignState::Entries(
                    rows.iter().map(|r| ForeignEntry { failed: r[1] == "t", ..entry(&r[0]) }).collect(),
                ),
            }
        }
        Tool::Sqitch => {
            // The project goes along: one registry may hold several projects' changes. The deploy
            // script's hash, where the registry keeps one (read by name: older ones have no column).
            let sql = format!(
                "SELECT change, project, coalesce(to_jsonb(c) ->> 'script_hash', ''), {} FROM {t} c ORDER BY committed_at, change",
                utc_text("committed_at")
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry {
                        description: r[1].clone(),
                        checksum: (!r[2].is_empty()).then(|| r[2].clone()),
                        applied_at: time(&r[3]),
                        ..entry(&r[0])
                    })
                    .collect(),
            )
        }
        Tool::GraphileMigrate => {
            // Each file's hash as graphile-migrate computed it when it ran the file.
            let rows = simple_rows(client, &format!("SELECT filename, hash FROM {t} ORDER BY date, filename"), context)
                .await?;
            ForeignState::Entries(
                rows.iter().map(|r| ForeignEntry { checksum: Some(r[1].clone()), ..entry(&r[0]) }).collect(),
            )
        }
        Tool::Goose => {
            // The newest row per version decides (goose before 2.4.4 added is_applied = false rows).
            let sql = format!(
                "SELECT DISTINCT ON (version_id) version_id, is_applied, {} FROM {t} ORDER BY version_id, id DESC",
                utc_text("tstamp")
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .filter(|r| r[1] == "t")
                    .map(|r| ForeignEntry { applied_at: time(&r[2]), ..entry(&r[0]) })
                    .collect(),
            )
        }
        Tool::Sqlx => {
            let sql = format!(
                "SELECT version, success, coalesce(encode(checksum, 'hex'), ''), {} FROM {t} ORDER BY version",
                utc_text("installed_on")
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry {
                        failed: r[1] != "t",
                        checksum: (!r[2].is_empty()).then(|| r[2].clone()),
                        applied_at: time(&r[3]),
                        ..entry(&r[0])
                    })
                    .collect(),
            )
        }
        Tool::Flyway => {
            // An append-only log, read in its order: undo and delete rows take back what came before.
            let sql = format!(
                "SELECT coalesce(version, ''), type, success, coalesce(checksum::text, ''), script, description, {} FROM {t} ORDER BY installed_rank",
                utc_text("installed_on")
            );
            let rows = simple_rows(client, &sql, context).await?;
            let mut entries: Vec<ForeignEntry> = Vec::new();
            for r in &rows {
                let (version, kind, success) = (&r[0], r[1].to_ascii_uppercase(), r[2] == "t");
                let checksum = (!r[3].is_empty()).then(|| r[3].clone());
                if kind == "SCHEMA" {
                    continue; // the schema-creation marker
                }
                if version.is_empty() {
                    // A repeatable: each run is a row of its own, the last one counts.
                    let script = &r[4];
                    entries.retain(|e| !(e.repeatable && &e.key == script));
                    if !(kind.starts_with("UNDO") || kind == "DELETE") {
                        entries.push(ForeignEntry {
                            key: script.clone(),
                            failed: !success,
                            checksum,
                            repeatable: true,
                            ..Default::default()
                        });
                    }
                    continue;
                }
                entries.retain(|e| e.repeatable || &e.key != version);
                if kind.starts_with("UNDO") || kind == "DELETE" {
                    continue;
                }
                let baseline = kind.contains("BASELINE") || kind == "INIT";
                // A Java migration: its script is the class that ran, and no file has it.
                let code = matches!(kind.as_str(), "JDBC" | "SPRING_JDBC").then(|| r[4].clone());
                entries.push(ForeignEntry {
                    key: version.clone(),
                    failed: !success,
                    baseline,
                    checksum,
                    code,
                    description: r[5].clone(),
                    applied_at: time(&r[6]),
                    ..Default::default()
                });
            }
            ForeignState::Entries(entries)
        }
        Tool::Prisma => {
            // A row per attempt: one rolled back (`migrate resolve --rolled-back`) counts for
            // nothing, one finished makes the migration applied, one neither is a failure that
            // stops Prisma until it is resolved.
            let sql = format!(
                "SELECT migration_name, checksum, finished_at IS NOT NULL, {} FROM {t} WHERE rolled_back_at IS NULL ORDER BY migration_name, started_at",
                utc_text("finished_at")
            );
            let rows = simple_rows(client, &sql, context).await?;
            let mut entries: Vec<ForeignEntry> = Vec::new();
            for r in &rows {
                let (finished, checksum) = (r[2] == "t", Some(r[1].clone()));
                match entries.last_mut().filter(|e| e.key == r[0]) {
                    Some(e) if finished => *e = ForeignEntry { checksum, applied_at: time(&r[3]), ..entry(&r[0]) },
                    Some(_) => {}
                    None => entries.push(ForeignEntry {
                        failed: !finished,
                        checksum,
                        applied_at: time(&r[3]),
                        ..entry(&r[0])
                    }),
                }
            }
            ForeignState::Entries(entries)
        }
        Tool::Atlas => {
            // `type` is a bit set: 1 a baseline (the versions up to it count as applied), 2 run
            // by Atlas, 4 resolved by hand (`atlas migrate set`). A run with an error, or fewer
            // statements applied than the file has, stopped part-way. A version starting with a
            // dot is Atlas's own bookkeeping (`.atlas_cloud_identifier`). `hash` is atlas.sum's
            // of the file (empty on a baseline).
            let sql = format!(
                "SELECT version, type & 1 = 1, type & 4 = 0 AND (coalesce(error, '') <> '' OR applied < total), coalesce(hash, ''), {},
                        format('stopped at statement %s of %s%s', applied + 1, total, ': ' || nullif(error, ''))
                 FROM {t} WHERE version NOT LIKE '.%' ORDER BY version",
                utc_text("executed_at")
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry {
                        baseline: r[1] == "t",
                        failed: r[2] == "t",
                        checksum: Some(r[3].clone()).filter(|h| !h.is_empty()),
                        applied_at: time(&r[4]),
                        failure: (r[2] == "t").then(|| r[5].clone()),
                        ..entry(&r[0])
                    })
                    .collect(),
            )
        }
        Tool::Drizzle => {
            // Named by the journal later (`name_drizzle_entries`); the hash finds the others.
            // drizzle-kit 1.0 records each migration's folder name too, by which it knows it
            // (drizzle re-check: a folder edited since was "no file has version <its hash>").
            let sql = format!(
                "SELECT hash, coalesce(created_at::text, ''), coalesce(to_jsonb(h)->>'name', '') FROM {t} h \
                 ORDER BY created_at, id"
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry {
                        checksum: Some(r[0].clone()),
                        description: r[1].clone(),
                        ..entry(if r[2].is_empty() { &r[0] } else { &r[2] })
                    })
                    .collect(),
            )
        }
        Tool::Alembic => {
            // Revision ids (one per branch head), not versions: nothing a file is matched to.
            keys(client, &format!("SELECT version_num FROM {t} ORDER BY 1"), context).await?
        }
        Tool::Django => {
            // Python migrations by app and name: nothing a file is matched to.
            keys(client, &format!("SELECT app || '.' || name FROM {t} ORDER BY id"), context).await?
        }
        Tool::SqlMigrate => keys(client, &format!("SELECT id FROM {t} ORDER BY applied_at, id"), context).await?,
        Tool::Knex | Tool::TypeOrm | Tool::MikroOrm => {
            // Code migrations by name, in the order they ran: nothing a file is matched to.
            keys(client, &format!("SELECT name FROM {t} ORDER BY id"), context).await?
        }
        Tool::Laravel => keys(client, &format!("SELECT migration FROM {t} ORDER BY id"), context).await?,
        // Python modules by app and name: nothing a file is matched to.
        Tool::Aerich => keys(client, &format!("SELECT app || '.' || version FROM {t} ORDER BY id"), context).await?,
        Tool::Piccolo => keys(client, &format!("SELECT app_name || '.' || name FROM {t} ORDER BY id"), context).await?,
        Tool::PeeweeMigrate => keys(client, &format!("SELECT name FROM {t} ORDER BY id"), context).await?,
        // Rust modules by name: nothing a file is matched to.
        Tool::SeaOrm => keys(client, &format!("SELECT version FROM {t} ORDER BY applied_at, version"), context).await?,
        Tool::EfCore => keys(client, &format!("SELECT \"MigrationId\" FROM {t} ORDER BY 1"), context).await?,
        Tool::Sequelize | Tool::Kysely => keys(client, &format!("SELECT name FROM {t} ORDER BY name"), context).await?,
        Tool::Liquibase => {
            // A changeset is its id, author and changelog file together. A SKIPPED one did not
            // run; a FAILED one ran with `failOnError:false` and failed. With its checksum.
            let sql = format!(
                "SELECT filename || '::' || id || '::' || author, exectype, coalesce(md5sum, '') FROM {t}
                 WHERE exectype IS DISTINCT FROM 'SKIPPED' ORDER BY orderexecuted"
            );
            let rows = simple_rows(client, &sql, context).await?;
            let checksum = |r: &Vec<String>| Some(r[2].clone()).filter(|c| !c.is_empty());
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry { failed: r[1] == "FAILED", checksum: checksum(r), ..entry(&r[0]) })
                    .collect(),
            )
        }
        Tool::NodePgMigrate => keys(client, &format!("SELECT name FROM {t} ORDER BY run_on, id"), context).await?,
        // `/` and the module's name, the `/` left out (as it names the SQL files).
        Tool::DbMigrate => {
            keys(client, &format!("SELECT ltrim(name, '/') FROM {t} ORDER BY run_on, id"), context).await?
        }
        // Version 0 is the row Postgrator makes with its table, before any migration.
        // With the MD5 of each file it compares (none for its JavaScript migrations).
        Tool::Postgrator => {
            // (Postgrator 8 writes `undefined` for them.)
            let sql = format!(
                "SELECT version::text, coalesce(nullif(md5, 'undefined'), ''), {} FROM {t} WHERE version > 0 \
                 ORDER BY version",
                utc_text("run_at")
            );
            checksummed(client, &sql, context).await?
        }
        Tool::Pyway => {
            let sql =
                format!("SELECT version, checksum, {} FROM {t} ORDER BY installed_rank", utc_text("apply_timestamp"));
            checksummed(client, &sql, context).await?
        }
        // JavaScript modules by file name: nothing a file is matched to.
        Tool::Ley => keys(client, &format!("SELECT name FROM {t} ORDER BY id"), context).await?,
        // The version its IntegerMigrator reached (every file numbered up to it ran), or the files
        // its TimestampMigrator ran, by name.
        Tool::Sequel => {
            let sql =
                format!("SELECT coalesce(to_jsonb(h)->>'filename', to_jsonb(h)->>'version') FROM {t} h ORDER BY 1");
            keys(client, &sql, context).await?
        }
        // Migrations by their file's number, as written (`20220926100949`), in the order they ran.
        Tool::Bun => {
            let sql = format!("SELECT name, '', {} FROM {t} ORDER BY id", utc_text("migrated_at"));
            checksummed(client, &sql, context).await?
        }
        // Files by name, with the MD5 of each one's text as it compares them.
        Tool::SlonikMigrator => {
            let sql = format!("SELECT name, hash, {} FROM {t} ORDER BY date, name", utc_text("date"));
            checksummed(client, &sql, context).await?
        }
        // A `manual` row is its baseline: every version up to it applied.
        Tool::Pgmigrate => {
            let sql = format!(
                "SELECT version::text, type::text = 'manual', {} FROM {t} ORDER BY version",
                utc_text("installed_on")
            );
            let rows = simple_rows(client, &sql, context).await?;
            ForeignState::Entries(
                rows.iter()
                    .map(|r| ForeignEntry { baseline: r[1] == "t", applied_at: time(&r[2]), ..entry(&r[0]) })
                    .collect(),
            )
        }
        // Row 0 is the one it makes with its table.
        Tool::PostgresMigrations => {
            let sql = format!("SELECT id::text, hash, {} FROM {t} WHERE id > 0 ORDER BY id", utc_text("executed_at"));
            checksummed(client, &sql, context).await?
        }
        // Python steps and SQL files by id: nothing a file is matched to.
        Tool::Yoyo => {
            keys(client, &format!("SELECT migration_id FROM {t} ORDER BY applied_at_utc, migration_id"), context)
                .await?
        }
        // Versions: of SQL files, or of code migrations (Rails, Ecto, Doctrine, Phinx) no file is
        // matched to.
        Tool::Dbmate
        | Tool::Diesel
        | Tool::Refinery
        | Tool::Pop
        | Tool::Supabase
        | Tool::Rails
        | Tool::Ecto
        | Tool::Doctrine
        | Tool::Phinx
        | Tool::Morph => keys(client, &format!("SELECT version::text FROM {t} ORDER BY 1"), context).await?,
    };
    Ok(ForeignHistory { tool, table: table.display(), state })
}
