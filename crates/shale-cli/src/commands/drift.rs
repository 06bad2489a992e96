//! `shale drift`: replay the migrations into a throwaway database and compare its schema with the
//! live one, object by object. Exit 1 when they differ. Never offers to reset anything.
//! `--against SRC` compares with another source instead (a schema file, `exec:COMMAND` printing
//! the application's models as SQL, another database or migrations directory).

use super::throwaway::Throwaway;
use anyhow::{Context, Result};
use comfy_table::Cell;
use shale_schema::compare::differences;
use shale_schema::diff::diff;

use super::diff::{read, read_beside, replay, Source};
use super::throwaway::live_schema;
use super::{block_on, migrator, print_json};
use crate::error::Replay;
use crate::output::table;
use crate::settings::Settings;
use shale::core::plan::{State, StatusRow};
use shale::core::{Migration, MigrationSet};
use shale::StatusReport;

#[derive(clap::Args, Debug)]
pub struct DriftArgs {
    /// A server where shale may create (and drop) a scratch database [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Write the SQL that removes the drift (see --direction): the next migration NAME (adopt) or the script file NAME (restore)
    #[arg(long, value_name = "NAME")]
    pub fix: Option<String>,
    /// adopt: a migration that turns what the migrations build into the live schema; restore: a one-off script that turns the live database back into what the migrations build
    #[arg(long, value_name = "DIRECTION", value_parser = ["adopt", "restore"], requires = "fix")]
    pub direction: Option<String>,
    /// With --fix: include statements that lose data instead of writing them as comments
    #[arg(long, requires = "fix")]
    pub allow_destructive: bool,
    /// What the database should be instead of what the migrations build: a schema SQL file, exec:COMMAND (its output is the schema as SQL), a database URL or a migrations directory
    #[arg(long, value_name = "SRC")]
    pub against: Option<String>,
    /// Exit 1 on drift: what drift always does, accepted as `diff --exit-code` spells it, so that a
    /// CI line written for either works
    #[arg(long)]
    pub exit_code: bool,
    /// Leave out of the comparison, on both sides: defaults (columns' defaults, which an ORM may
    /// keep in its code), comments. Repeat or separate with commas
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = ["defaults", "comments"])]
    pub ignore: Vec<String>,
    /// Leave a schema out of the comparison, on both sides (its exact name): one a library keeps
    /// for itself (graphile-worker's `graphile_worker`). Repeat or separate with commas
    #[arg(long, value_name = "SCHEMA", value_delimiter = ',')]
    pub exclude_schema: Vec<String>,
    /// Leave a table out of the comparison, on both sides, with its partitions, indexes,
    /// constraints and triggers: `table` (any schema) or `schema.table`, `*` and `?` as wildcards
    /// (one the models do not declare: a partitioned log the migrations make). Repeat or separate
    /// with commas
    #[arg(long, value_name = "TABLE")]
    pub exclude_table: Vec<String>,
}

pub fn run(settings: &Settings, args: &DriftArgs) -> Result<i32> {
    if args.fix.is_some() && args.direction.is_none() {
        anyhow::bail!(shale::Error::Invalid(
            "--fix needs --direction: `adopt` writes a migration that makes the live schema the expected one; `restore` writes a script that puts the live database back to what the migrations build".into()
        ));
    }
    // Scratch databases go when `throwaway` is dropped (also on error and on Ctrl-C).
    let mut throwaway: Option<Throwaway> = None;
    let mut not_applied = Vec::new();
    let (expected, actual, what, column) = match &args.against {
        None => {
            let live = migrator(settings)?;
            let (mut actual, home) = live_schema(&live.config.connection, &live.config.session, &live.config.history)?;
            // Compared with what the migrations applied there build: one not applied yet is not drift.
            let status = block_on(live.status())?;
            let (applied, pending) = applied_only(&live.set(), &status);
            // A fix comes after the migrations not applied yet: made against what only the applied
            // ones build, it could repeat their work (a column a pending one adds) and fail.
            if args.fix.is_some() && !pending.is_empty() {
                anyhow::bail!(shale::Error::Invalid(format!(
                    "--fix is written to run after every migration, and {} migration(s) are not applied to this \
                     database ({}): apply them first (`shale up`), then run `shale drift --fix` again",
                    pending.len(),
                    pending.join(", ")
                )));
            }
            note_pending(settings, &pending);
            warn_modified(settings, &status);
            not_applied = pending;
            throwaway = Some(Throwaway::create(settings, settings.scratch_server(args.dev_url.as_deref()))?);
            let first = throwaway
                .as_ref()
                .expect("made above")
                .first()?
                .landing_in(home, applied.migrations.iter().map(|m| &*m.up.text))?;
            let count = applied.migrations.len();
            let expected = replay(settings, applied, &first, Replay::Drift, None)?;
            actual = without_other_tools_histories(settings, first.without_its_setup(actual), &expected);
            // The table taken over, under whatever name the tool was configured with, and those a
            // baseline left as they were (one found by its rows alone, which `recognize` above
            // does not know: review).
            let taken_over = status.taken_over_from.iter().map(|t| (t, "the history shale took over"));
            let named = taken_over.chain(status.left_at_baseline.iter().map(|t| (t, "another tool's history")));
            actual = without_named_histories(settings, actual, &expected, named.map(|(t, what)| (t.as_str(), what)));
            let what = match not_applied.len() {
                0 => format!("what the {count} migration(s) build"),
                _ => format!("what the {count} migration(s) applied there build"),
            };
            (expected, actual, what, "expected (migrations)".to_string())
        }
        Some(text) => {
            let source = Source::parse(text)?;
            // Adopting the live schema means a migration on top of what the migrations build; made
            // against another reference (the application's models), it held the difference from
            // that, and broke every fresh database (FastAPI trial).
            if args.direction.as_deref() == Some("adopt") && !matches!(source, Source::Migrations(_)) {
                anyhow::bail!(shale::Error::Invalid(format!(
                    "--fix --direction adopt writes a migration on top of what the migrations build, and --against \
                     compares with {}: for the migration that turns what the migrations build into it, run `shale \
                     diff --from {} --to {text} --write NAME`; to adopt what the live database has, run `shale drift \
                     --fix NAME --direction adopt` without --against",
                    source.label(),
                    settings.dir.display()
                )));
            }
            let live = Source::Database(Box::new(super::connection(settings)?));
            let live = read(settings, &live, &mut throwaway, None)?;
            let expected = read_beside(
                settings,
                &source,
                &mut throwaway,
                settings.scratch_server(args.dev_url.as_deref()),
                Some(&live),
            )?
            .schema;
            // Another tool's history that one side has and the other not (the live database's,
            // taken over; a reference database shale built has none) is no difference, as for
            // `diff`; one both have is compared.
            let (expected, actual) = without_other_tools_histories_on_either(settings, expected, live.schema);
            let expected = match &source {
                Source::Exec(_) => super::diff::models_keeping(settings, &source, &expected, &actual),
                _ => expected,
            };
            let column = match &source {
                Source::Exec(_) => "expected (command output)",
                Source::File(_) => "expected (file)",
                Source::Migrations(_) => "expected (migrations)",
                Source::Database(_) => "expected (database)",
            };
            (expected, actual, source.label(), column.to_string())
        }
    };
    // What the comparison is told to pass over goes from both sides: the fix leaves it alone too.
    let (mut expected, mut actual) = (expected, actual);
    for what in &args.ignore {
        let ignoring = match what.as_str() {
            "defaults" => shale_schema::confine::ignoring_column_defaults,
            _ => shale_schema::confine::ignoring_comments,
        };
        (expected, actual) = ignoring(&expected, &actual);
    }
    // (graphile trial: graphile-worker's schema, made by the database's setup, was 59 differences
    // for good, and a CI drift step could never pass.)
    if !args.exclude_schema.is_empty() {
        let excluded: Vec<&str> = args.exclude_schema.iter().map(String::as_str).collect();
        expected = shale_schema::confine::without_schemas(&expected, &excluded);
        actual = shale_schema::confine::without_schemas(&actual, &excluded);
    }
    if !args.exclude_table.is_empty() {
        let excluded = shale_schema::confine::Selection::parse(&args.exclude_table.join(","))
            .map_err(|e| shale::Error::Invalid(format!("--exclude-table: {e}")))?;
        expected = shale_schema::confine::without_tables(&expected, &excluded);
        actual = shale_schema::confine::without_tables(&actual, &excluded);
    }
    let drift = differences(&expected, &actual);
    crate::output::note_unread(settings, &actual, "the database", "the comparison");
    crate::output::note_unread(settings, &expected, &what, "the comparison");
    if settings.json {
        print_json(&serde_json::json!({
            "drifted": !drift.is_empty(),
            "differences": drift,
            "not_applied": not_applied,
            // What neither side was compared on (rules, operator classes, ...): a gate on `drifted` alone
            // would pass them without a word.
            "unread": { "database": actual.unread, "expected": expected.unread },
        }));
    } else if drift.is_empty() {
        println!("no drift: the database matches {what}");
    } else {
        // Two databases: which is which, named (passwords redacted), since both columns say database.
        if column == "expected (database)" {
            println!("expected: {what}\nactual:   {}", super::connection(settings)?.redacted());
        }
        let mut t = table(&["object", column.as_str(), "actual (database)"]);
        for d in &drift {
            let (expected, actual) = d.shown_sides();
            t.add_row(vec![Cell::new(&d.object), Cell::new(expected), Cell::new(actual)]);
        }
        println!("{t}\n\n{} difference(s) between {what} and the database", drift.len());
    }
    if let (Some(name), Some(direction)) = (&args.fix, &args.direction) {
        if drift.is_empty() {
            return Ok(0);
        }
        write_fix(settings, name, direction, (&expected, &what), &actual, args.allow_destructive)?;
    }
    Ok(if drift.is_empty() { 0 } else { 1 })
}

/// The migrations of `set` the database's history shows applied (or at most adopted, baselined,
/// changed or gone), and the labels of those it does not: pending, out of order, or failed (a
/// failed one left nothing, or an unknown part, behind). A database without shale's history
/// table is compared with every migration, as one built by hand or by another tool is.
fn applied_only(
    set: &std::sync::Arc<MigrationSet>,
    status: &StatusReport,
) -> (std::sync::Arc<MigrationSet>, Vec<String>) {
    let not_applied: Vec<&StatusRow> = status
        .migrations
        .iter()
        .filter(|row| matches!(row.state, State::Pending | State::OutOfOrder | State::Failed))
        .collect();
    if !status.history_exists || not_applied.is_empty() {
        return (set.clone(), Vec::new());
    }
    let left_out = |m: &Migration| {
        not_applied.iter().any(|row| {
            row.kind == m.kind
                && row.name == m.name
                && row.version.as_deref() == m.version.as_ref().map(|_| &*m.version_text)
        })
    };
    let mut applied = MigrationSet::clone(set);
    applied.migrations.retain(|m| !left_out(m));
    let labels = set.migrations.iter().filter(|m| left_out(m)).map(Migration::label).collect();
    (std::sync::Arc::new(applied), labels)
}

/// Says which migrations the comparison leaves out, because the database has not applied them.
/// Applied migrations whose files changed since: the replay builds what the files say now, not
/// what ran, so a difference the change hides does not show.
fn warn_modified(settings: &Settings, status: &shale::StatusReport) {
    let changed: Vec<String> = status
        .migrations
        .iter()
        .filter(|r| r.state == shale_core::plan::State::Modified)
        .map(|r| format!("{} {}", r.version.as_deref().unwrap_or("R"), r.name))
        .collect();
    if changed.is_empty() || settings.quiet || settings.json {
        return;
    }
    crate::output::warning(&format!(
        "{} changed after it was applied: the migrations are replayed as their files are now, not as they ran \
         here, so what the change hides from this comparison does not show (`shale validate` names the files)",
        changed.join(", ")
    ));
}

fn note_pending(settings: &Settings, labels: &[String]) {
    if labels.is_empty() || settings.quiet || settings.json {
        return;
    }
    // A database far behind has many: the first few, then how many more.
    const NAMED: usize = 5;
    let mut named = labels.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
    if labels.len() > NAMED {
        named.push_str(&format!(" and {} more", labels.len() - NAMED));
    }
    crate::output::note(&format!(
        "{} migration(s) not applied to this database are left out of what it is compared with: {named} (`shale status` shows them, `shale up` applies them)",
        labels.len(),
    ));
}

/// A Supabase database: the schemas Supabase manages (auth, storage, realtime, ...) are not the
/// migrations' to build, and their services' histories go with them.
pub(super) fn is_supabase(live: &shale_schema::Schema) -> bool {
    live.tables.iter().any(|t| t.schema == "auth" && t.name == "users") && live.schemas.iter().any(|s| s == "storage")
}

/// The default privileges a database like `live` gives new tables and sequences in force before
/// anything of a dump loads there: on Supabase, those the platform makes in every project
/// (`anon`, `authenticated` and `service_role` hold every privilege on what `postgres` creates in
/// `public`), which a project may have revoked since, and its tables from them; elsewhere none.
pub(super) fn platform_default_grants(live: &shale_schema::Schema) -> Vec<shale_schema::model::DefaultPrivileges> {
    use shale_schema::model::{DefaultPrivilegeKind, DefaultPrivileges, Grant};
    if !is_supabase(live) {
        return Vec::new();
    }
    let grants = |privileges: &[&str]| -> Vec<Grant> {
        ["anon", "authenticated", "service_role"]
            .iter()
            .flat_map(|role| {
                privileges.iter().map(move |p| Grant {
                    grantee: role.to_string(),
                    privilege: p.to_string(),
                    grantable: false,
                })
            })
            .collect()
    };
    let tables = ["DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"];
    [(DefaultPrivilegeKind::Tables, &tables[..]), (DefaultPrivilegeKind::Sequences, &["SELECT", "UPDATE", "USAGE"][..])]
        .into_iter()
        .map(|(kind, privileges)| DefaultPrivileges {
            role: None,
            schema: Some("public".into()),
            kind,
            granted: grants(privileges),
            revoked: Vec::new(),
        })
        .collect()
}

/// `schema` without what Supabase manages, on a Supabase database (else as it is): every Supabase
/// project has those schemas, and its platform upgrades change them. `what` (the baseline, the
/// dump) is named in the note that says so.
pub(super) fn without_supabase_managed(
    settings: &Settings,
    schema: shale_schema::Schema,
    what: &str,
) -> shale_schema::Schema {
    if !is_supabase(&schema) {
        return schema;
    }
    let managed: Vec<&str> = shale::core::adopt::SUPABASE_MANAGED_SCHEMAS
        .iter()
        .copied()
        .filter(|s| schema.schemas.iter().any(|have| have == s))
        .collect();
    let (out, kept) = without_supabase_schemas(&schema, &managed);
    if !settings.quiet && !settings.json {
        let kept = match kept {
            0 => String::new(),
            n => format!("; the project's own triggers, policies and extensions in them ({n}) are kept"),
        };
        crate::output::note(&format!(
            "the schemas Supabase manages ({}) are left out of {what}: every Supabase project has them{kept}",
            managed.join(", ")
        ));
    }
    out
}

/// `schema` without the schemas Supabase manages (`managed`), but for what the project adds to
/// them in its own migrations, which a new project needs as much as its tables: a trigger on one
/// of their tables calling a function of another schema (the profile made at sign-up, on
/// `auth.users`), the row level security policies on their tables (who reads which files of
/// `storage.objects`: Supabase makes none), and the extensions the project installed in them
/// (`pg_trgm` in `extensions`; not those Supabase installs in every project).
/// Returns the model and how many of those were kept.
fn without_supabase_schemas(schema: &shale_schema::Schema, managed: &[&str]) -> (shale_schema::Schema, usize) {
    let in_managed = |s: &str| managed.contains(&s);
    let triggers: Vec<_> = schema
        .triggers
        .iter()
        .filter(|t| in_managed(&t.schema))
        .filter(|t| t.function_schema().is_some_and(|f| !in_managed(&f)))
        .cloned()
        .collect();
    let policies: Vec<_> = schema.policies.iter().filter(|p| in_managed(&p.schema)).cloned().collect();
    let extensions: Vec<_> = schema
        .extensions
        .iter()
        .filter(|x| in_managed(&x.schema))
        .filter(|x| !shale::core::adopt::SUPABASE_DEFAULT_EXTENSIONS.contains(&x.name.as_str()))
        .cloned()
        .collect();
    let kept = triggers.len() + policies.len() + extensions.len();
    let mut out = shale_schema::confine::without_schemas(schema, managed);
    out.triggers.extend(triggers);
    out.policies.extend(policies);
    out.extensions.extend(extensions);
    out.normalize();
    (out, kept)
}

/// Both schemas without another tool's history (and Supabase's schemas) where only one of them
/// has it: see [`without_other_tools_histories`].
pub(super) fn without_other_tools_histories_on_either(
    settings: &Settings,
    one: shale_schema::Schema,
    other: shale_schema::Schema,
) -> (shale_schema::Schema, shale_schema::Schema) {
    let one = without_other_tools_histories(settings, one, &other);
    let other = without_other_tools_histories(settings, other, &one);
    (one, other)
}

/// `actual` without the other tools' history tables `named` (`schema.table`, each with what it is
/// for the note) that `expected` does not build: those shale knows of from its own history (the
/// one taken over, those a baseline left) or was told of (`baseline --table`), which `recognize`
/// may not know by their columns. A schema made for one alone (sqlx's `meta.app_migrations`)
/// goes with it.
pub(super) fn without_named_histories<'a>(
    settings: &Settings,
    mut actual: shale_schema::Schema,
    expected: &shale_schema::Schema,
    named: impl Iterator<Item = (&'a str, &'a str)>,
) -> shale_schema::Schema {
    for ((schema, table), what) in named.filter_map(|(t, what)| Some((t.split_once('.')?, what))) {
        let there = actual.tables.iter().any(|t| t.schema == schema && t.name == table);
        let built = expected.tables.iter().any(|t| t.schema == schema && t.name == table);
        if there && !built {
            actual = shale_schema::confine::without_table(&actual, schema, table);
            let alone = !actual.tables.iter().any(|t| t.schema == schema);
            if alone && !expected.schemas.iter().any(|s| s == schema) {
                actual = shale_schema::confine::without_schemas(&actual, &[schema]);
            }
            if !settings.quiet && !settings.json {
                crate::output::note(&format!("{schema}.{table} ({what}) is left out"));
            }
        }
    }
    actual
}

/// `live` without another tool's history table, which `adopt` leaves in place and `built` (what
/// the migrations build) does not have: it is not a difference, the migrations never built it.
/// Recognized by name and columns, as adopt does; a note names each one left out.
pub(super) fn without_other_tools_histories(
    settings: &Settings,
    live: shale_schema::Schema,
    built: &shale_schema::Schema,
) -> shale_schema::Schema {
    without_histories(live, built, !settings.quiet && !settings.json)
}

/// Two live databases without the histories of other tools either has, which are bookkeeping,
/// not schema: left out of both (`shale diff` between two databases compared goose's history
/// table, as `dump` leaves it out); said once.
pub(super) fn without_other_tools_histories_on_both(
    settings: &Settings,
    one: shale_schema::Schema,
    other: shale_schema::Schema,
) -> (shale_schema::Schema, shale_schema::Schema) {
    let none = shale_schema::Schema::default();
    let say = !settings.quiet && !settings.json;
    let tables = one.tables.len();
    let one = without_histories(one, &none, say);
    // Said by the first side that has one (the same history on both is one note).
    let said = one.tables.len() != tables;
    (one, without_histories(other, &none, say && !said))
}

fn without_histories(mut live: shale_schema::Schema, built: &shale_schema::Schema, say: bool) -> shale_schema::Schema {
    let supabase = is_supabase(&live);
    let supabase_s = |schema: &str| supabase && shale::core::adopt::SUPABASE_MANAGED_SCHEMAS.contains(&schema);
    let others: Vec<_> = live
        .tables
        .iter()
        .filter(|t| !built.tables.iter().any(|e| e.schema == t.schema && e.name == t.name))
        .filter(|t| !supabase_s(&t.schema))
        .filter_map(|t| {
            let columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            let beside = |name: &str| live.tables.iter().any(|b| b.schema == t.schema && b.name == name);
            let tool = shale::core::adopt::Tool::recognize(&t.name, &columns)?.told_apart(&t.schema, beside);
            Some((t.schema.clone(), t.name.clone(), tool))
        })
        .collect();
    // Hasura's catalog where its metadata is kept in another database (Hasura Cloud,
    // HASURA_GRAPHQL_METADATA_DATABASE_URL): its event log, and no history, which is elsewhere.
    let hasura = shale::core::adopt::Tool::Hasura;
    let hasura_source = hasura.own_schema().filter(|catalog| {
        !built.schemas.iter().any(|b| b == catalog)
            && !others.iter().any(|(schema, _, tool)| *tool == hasura && schema == catalog)
            && live.tables.iter().any(|t| t.schema == *catalog && t.name == "hdb_source_catalog_version")
    });
    if let Some(catalog) = hasura_source {
        live = without_tool_schema(&live, catalog, hasura, "event log", say);
    }
    let mut gone: Vec<String> = hasura_source.map(str::to_string).into_iter().collect();
    for (schema, table, tool) in others {
        // A tool's own schema (Hasura's hdb_catalog, with its metadata and event tables and
        // functions) goes whole, once (Hasura's two histories there are one schema).
        // (Under the name the tool was configured with too: Sqitch's `registry`.)
        if tool.own_schema().is_some() && schema != "public" && !built.schemas.contains(&schema) {
            if !gone.contains(&schema) {
                live = without_tool_schema(&live, &schema, tool, "history", say);
                gone.push(schema);
            }
            continue;
        }
        live = shale_schema::confine::without_table(&live, &schema, &table);
        let companions: Vec<String> = tool
            .companions_of(&table)
            .into_iter()
            .filter(|c| live.holds_table_or_enum(&schema, c) && !built.holds_table_or_enum(&schema, c))
            .collect();
        for companion in &companions {
            live = shale_schema::confine::without_table(&live, &schema, companion);
        }
        if !built.schemas.contains(&schema) {
            live = shale_schema::confine::without_empty_schema(&live, &schema);
        }
        if say {
            let left: Vec<String> = std::iter::once(format!("{schema}.{table}"))
                .chain(companions.iter().map(|c| format!("{schema}.{c}")))
                .collect();
            let verb = if companions.is_empty() { "is" } else { "are" };
            crate::output::note(&format!("{} ({tool}'s history) {verb} left out", crate::output::and_listed(&left)));
        }
    }
    let managed: Vec<&str> = shale::core::adopt::SUPABASE_MANAGED_SCHEMAS
        .iter()
        .copied()
        .filter(|s| supabase_s(s) && live.schemas.iter().any(|l| l == s) && !built.schemas.iter().any(|b| b == s))
        .collect();
    if !managed.is_empty() {
        live = without_supabase_schemas(&live, &managed).0;
        if say {
            crate::output::note(&format!("Supabase's own schemas ({}) are left out", managed.join(", ")));
        }
    }
    live
}

/// `live` without a tool's own schema (`what` it holds named in the note), and without the
/// triggers on other schemas' tables that call its functions: the tool made them (Hasura's event
/// triggers, from its metadata), and they are not the migrations' to drop (`drift --fix` would,
/// stopping every event) nor to dump (they cannot be made without the schema).
fn without_tool_schema(
    live: &shale_schema::Schema,
    schema: &str,
    tool: shale::core::adopt::Tool,
    what: &str,
    say: bool,
) -> shale_schema::Schema {
    let mut out = shale_schema::confine::without_schemas(live, &[schema]);
    let before = out.triggers.len();
    out.triggers.retain(|t| t.function_schema().as_deref() != Some(schema));
    let triggers = before - out.triggers.len();
    if say {
        let with = match triggers {
            0 => " is".to_string(),
            n => format!(", and {n} trigger(s) on other schemas' tables calling its functions, are"),
        };
        crate::output::note(&format!(
            "schema {schema} ({tool}'s {what} and what {tool} keeps beside it){with} left out"
        ));
    }
    out
}

fn write_fix(
    settings: &Settings,
    name: &str,
    direction: &str,
    (expected, what): (&shale_schema::Schema, &str),
    actual: &shale_schema::Schema,
    allow_destructive: bool,
) -> Result<()> {
    let connection = super::connection(settings)?;
    let database = connection.redacted();
    if direction == "adopt" {
        let database = connection.named_in_files();
        let header = format!(
            "-- Generated by `shale drift --fix --direction adopt`: what {database} has and the migrations did not build.\n-- Review it before committing.\n\n"
        );
        let written = super::diff::write_migrations(settings, name, &header, expected, actual, allow_destructive)?;
        let files: Vec<String> = written.iter().flat_map(|(_, f)| f).map(|p| p.display().to_string()).collect();
        let repairs: Vec<String> = written
            .iter()
            .map(|(version, _)| format!("  shale repair {version} --applied --reason \"adopted schema drift\""))
            .collect();
        eprintln!(
            "created {}\nThe live database already has these changes: after review, record them there without running them:\n{}",
            files.join(", "),
            repairs.join("\n")
        );
        // Drift compares schemas: rows another tool's migration inserted (reference data) are in
        // no file (TypeORM and Knex trials: a new database lacked them, unsaid).
        if !settings.quiet {
            crate::output::note(
                "rows are not compared: where the change came with rows a new database needs (reference data an \
                 old tool's migration inserted), add their INSERTs to the migration",
            );
        }
    } else {
        let path = if name.ends_with(".sql") { std::path::PathBuf::from(name) } else { format!("{name}.sql").into() };
        // Its own BEGIN and COMMIT (two, when new enum labels must be committed first).
        let body = super::diff::script(
            &diff(actual, expected),
            allow_destructive.then_some(super::diff::ALLOWED_BY_FLAG),
            true,
        );
        // The database as psql takes it: the application's URL may be one psql refuses
        // (`postgresql+asyncpg://...?ssl=require`), or be in .env alone (FastAPI trial).
        let psql =
            format!("psql \"{}\" -v ON_ERROR_STOP=1 -f {}", super::connection(settings)?.for_psql(), path.display());
        let text = format!(
            "-- Generated by `shale drift --fix --direction restore`: puts {database} back to {what}.\n-- A one-off repair for that database, not a migration (a fresh database needs none of it). Review it, then:\n--   {psql}\n\n{body}"
        );
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote {p}: review it, apply it with `{psql}` (psql asks for the password, or reads PGPASSWORD or ~/.pgpass; the file has its own BEGIN and COMMIT), then `shale drift` reports no drift",
            p = path.display()
        );
    }
    Ok(())
}
