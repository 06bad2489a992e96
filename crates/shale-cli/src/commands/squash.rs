//! `shale squash --to V`: the migrations up to V become one migration of version V, holding the
//! schema (and the rows) they build, replayed and dumped on a throwaway database; their files move
//! to an archive folder. The file says what it replaces (`-- shale:squashed FIRST..V`), so that a
//! database that applied them skips it, a fresh one runs it, and one in between is refused with the
//! way out (`shale up --from-archive DIR`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use shale::{HistoryTable, Migrator, Target, UpRequest, Version};
use shale_core::{Layout, Migration, MigrationKind, MigrationSet};
use shale_pg::lock::simple_rows;
use shale_pg::sql::quote_literal;
use shale_schema::compare::differences;

use super::throwaway::{Scratch, Throwaway};
use super::{block_on, load_set, parse_version};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct SquashArgs {
    /// The last migration to squash: it and every migration before it become one migration of its version
    #[arg(long, value_name = "V")]
    pub to: String,
    /// Where the squashed files go [default: the migrations directory's name with `_archive`, beside it]
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// A server where shale may create (and drop) scratch databases [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Print the squashed migration; write and move nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Where `shale squash` puts the files it replaces unless told: `migrations_archive` beside
/// `migrations`. Beside, not inside: a folder inside is a migration in diesel's layout.
pub fn default_archive(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "migrations".into());
    dir.with_file_name(format!("{name}_archive"))
}

pub fn run(settings: &Settings, args: &SquashArgs) -> Result<i32> {
    let set = load_set(settings)?;
    let to = parse_version(settings, &args.to)?;
    let Some(last) = set.find(&to) else {
        anyhow::bail!(shale::Error::Invalid(format!("no migration {} in {}", args.to, settings.dir.display())));
    };
    refuse_twin(&set, last)?;
    if last.layout == Layout::Sqitch {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} is a Sqitch project, whose plan (sqitch.plan) names each change: a squash would rewrite the plan the \
             databases were deployed from; squash with Sqitch's own tools, or leave the history as it is",
            settings.dir.display()
        )));
    }
    if last.layout == Layout::Liquibase {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} holds Liquibase changelogs, whose changesets are numbered by their place: a squash would renumber \
             every changeset after it; leave the history as it is",
            settings.dir.display()
        )));
    }
    let replaced: Vec<&Migration> = set.versioned().filter(|m| m.version.as_ref().is_some_and(|v| v <= &to)).collect();
    if replaced.len() < 2 {
        anyhow::bail!(shale::Error::Invalid(format!("nothing to squash: {} is the first migration", last.label())));
    }
    // Squashing again takes the earlier squash's range in.
    let first_text = match replaced[0].up.directives().squashed.as_ref() {
        Some((first, _)) => first.clone(),
        None => replaced[0].version_text.clone(),
    };
    let archive = args.archive.clone().unwrap_or_else(|| default_archive(&settings.dir));
    let history = &settings.history;

    let mut throwaway = Throwaway::create(settings, settings.scratch_server(args.dev_url.as_deref()))?;
    let scratch = throwaway.first()?;
    let replay = Migrator::new(set.clone(), scratch.migrator_config(history));
    let request = UpRequest {
        target: Some(Target::Version(to.clone())),
        allow_out_of_order: true,
        // A scratch database: what replay_setup made is no history's.
        allow_over_existing_tables: true,
        ..Default::default()
    };
    block_on(replay.up(&request, &mut |_| {}))?;
    let schema = scratch.read_schema(history)?;
    let rows = data_sql(&scratch, history)?;
    let text = format!(
        "-- shale:squashed {first_text}..{}\n\
         -- Written by `shale squash`: the schema{} that migrations {first_text} to {} built, replayed and dumped.\n\
         -- Their files are in {}. A database that applied them skips this file; a fresh one runs it.\n\n{}{}{}",
        last.version_text,
        if rows.is_empty() { "" } else { " and rows" },
        last.version_text,
        archive.display(),
        shale_schema::dump(&schema),
        rows,
        // After the rows: a view reading them is filled as the migrations left it (review: the
        // squashed file made them empty, where the migrations made them with their data).
        shale_schema::fill_materialized_views(&schema)
    );

    // The file must build the same schema before anything moves.
    let check = throwaway.database()?;
    super::diff::run_script(&check, &text, "the squashed migration")?;
    let left = differences(&schema, &check.read_schema(history)?);
    if !left.is_empty() {
        let objects: Vec<&str> = left.iter().map(|d| d.object.as_str()).collect();
        anyhow::bail!(shale::Error::Invalid(format!(
            "the squashed migration does not build the same schema as migrations {first_text} to {} (it differs in {}); nothing was written or moved",
            last.version_text,
            objects.join(", ")
        )));
    }
    if args.dry_run {
        print!("{text}");
        return Ok(0);
    }

    let files = squash_files(last, &text);
    let (written, moved) = archive_and_write(settings, &replaced, &archive, &files)?;
    if settings.json {
        super::print_json(&serde_json::json!({
            "written": written, "archived": moved, "archive": archive, "replaces": [first_text, last.version_text],
        }));
    } else if !settings.quiet {
        println!(
            "squashed {} migration(s), {first_text} to {}, into {}",
            replaced.len(),
            last.version_text,
            written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ")
        );
        println!("moved their {} file(s) to {}", moved.len(), archive.display());
        println!("databases that applied them skip it; fresh ones run it; `shale check` compares it with the archive");
    }
    Ok(0)
}

/// Prisma folders sharing a timestamp (sql-migrate files sharing a number) run as `T`, `T.1`, ...
/// by name (see the layout); a squash ending at one of them would be one migration of that
/// number alone, numbered anew among those left, so its version would not be the one the
/// databases recorded.
fn refuse_twin(set: &MigrationSet, last: &Migration) -> Result<()> {
    let twins = set.twins_of(last);
    if let [first, .., final_twin] = twins.as_slice() {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} shares its number with {} other migration(s) ({} to {}), which run by name as {} to {}; a \
             squash ending among them would be one migration of that number, whose version the databases did \
             not record: squash up to the migration before {} or to one after {}",
            last.file,
            twins.len() - 1,
            first.file,
            final_twin.file,
            first.version_text,
            final_twin.version_text,
            first.version_text,
            final_twin.version_text
        )));
    }
    Ok(())
}

/// The squash's file(s), relative to the migrations directory, in the directory's layout and
/// with the version of the last migration it replaces.
fn squash_files(last: &Migration, text: &str) -> Vec<(PathBuf, String)> {
    let v = &last.version_text;
    let files: Vec<(String, String)> = match last.layout {
        Layout::UpDownPair => vec![(format!("{v}_squashed.up.sql"), text.to_string())],
        Layout::Postgrator => vec![(format!("{v}.do.squashed.sql"), text.to_string())],
        Layout::DbMigrate => vec![(format!("{v}-squashed-up.sql"), text.to_string())],
        // Headed as yoyo's are, so that the directory still reads as yoyo's (review: without one,
        // the rest were read with other versions).
        Layout::Yoyo => vec![(format!("{v}_squashed.sql"), format!("-- depends:\n{text}"))],
        Layout::Umzug => vec![(format!("{}.squashed.sql", shale::core::layout::umzug_time(v)), text.to_string())],
        Layout::DieselFolder => vec![
            (format!("{v}_squashed/up.sql"), text.to_string()),
            (
                format!("{v}_squashed/down.sql"),
                "-- A squash has no down: revert past it with the archived files.\n".into(),
            ),
        ],
        Layout::PrismaFolder => vec![(format!("{v}_squashed/migration.sql"), text.to_string())],
        Layout::Flyway => vec![(format!("V{v}__squashed.sql"), text.to_string())],
        Layout::Goose | Layout::SqlMigrate | Layout::NodePgMigrate | Layout::DbmateSections => {
            let (up, _) = last.layout.section_markers().unwrap_or_default();
            vec![(format!("{v}_squashed.sql"), format!("{up}\n{text}"))]
        }
        Layout::SingleFile | Layout::Tern | Layout::Sqitch | Layout::Liquibase => {
            vec![(format!("{v}_squashed.sql"), text.to_string())]
        }
    };
    files.into_iter().map(|(p, t)| (PathBuf::from(p), t)).collect()
}

/// Moves each replaced migration's files (a diesel folder whole) into `archive`, keeping their
/// names, then writes the squash; on a failure, what moved goes back. Returns (written, moved).
fn archive_and_write(
    settings: &Settings,
    replaced: &[&Migration],
    archive: &Path,
    files: &[(PathBuf, String)],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut sources: Vec<PathBuf> = Vec::new();
    for m in replaced {
        let up = &m.up.path;
        let paths: Vec<PathBuf> = if matches!(m.layout, Layout::DieselFolder | Layout::PrismaFolder) {
            up.parent().map(Path::to_path_buf).into_iter().collect()
        } else {
            std::iter::once(up.clone()).chain(m.down.as_ref().map(|d| d.path.clone())).collect()
        };
        for path in paths {
            if !sources.contains(&path) {
                sources.push(path);
            }
        }
    }
    let target = |source: &Path| archive.join(source.strip_prefix(&settings.dir).unwrap_or(source));
    if let Some(taken) = sources.iter().map(|s| target(s)).find(|t| t.exists()) {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} exists already: give the squash an archive of its own with --archive DIR",
            taken.display()
        )));
    }
    std::fs::create_dir_all(archive).with_context(|| format!("creating {}", archive.display()))?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let undo = |moved: &[(PathBuf, PathBuf)]| {
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
    };
    for source in &sources {
        let to = target(source);
        if let Err(e) = std::fs::rename(source, &to) {
            undo(&moved);
            return Err(e)
                .with_context(|| format!("moving {} to {} (nothing was changed)", source.display(), to.display()));
        }
        moved.push((source.clone(), to));
    }
    let mut written = Vec::new();
    for (relative, text) in files {
        let path = settings.dir.join(relative);
        let result = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
        if let Err(e) = result {
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            undo(&moved);
            return Err(e).with_context(|| format!("writing {} (nothing was changed)", path.display()));
        }
        written.push(path);
    }
    Ok((written, moved.into_iter().map(|(_, to)| to).collect()))
}

/// INSERTs for the rows the migrations left in their tables (parents before the tables whose
/// foreign keys point at them), and the position of each sequence they moved: a fresh database
/// gets the lookup rows and counters the original migrations gave it.
fn data_sql(scratch: &Scratch, history: &HistoryTable) -> Result<String> {
    let own = scratch.migrator_config(history).history.name();
    // One connection for every query: a runtime of its own drives it between them.
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting a tokio runtime")?;
    let client = runtime
        .block_on(shale_pg::connect(&scratch.connection, &scratch.session()))
        .map_err(|e| shale::Error::Pg(e.into()))?;
    let query = |sql: String| -> Result<Vec<Vec<String>>> {
        Ok(runtime.block_on(simple_rows(&client, &sql, "reading the rows to squash")).map_err(shale::Error::Pg)?)
    };
    let user_tables = format!(
        "c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.oid <> {own}::regclass
           AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
           AND c.relnamespace::regnamespace::text NOT LIKE 'pg\\_%'
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')",
        own = quote_literal(&own)
    );
    // Qualified, as the dump sets `search_path = pg_catalog`; a scratch schema stands for public.
    let scratch_schema = quote_literal(scratch.schema.as_deref().unwrap_or("public"));
    let name = |oid: &str| {
        format!(
            "(SELECT format('%I.%I', CASE WHEN n.nspname = {scratch_schema} THEN 'public' ELSE n.nspname END, r.relname)
                FROM pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = {oid})"
        )
    };
    let tables: BTreeMap<String, String> = query(format!(
        "SELECT {}, c.oid::regclass::text FROM pg_catalog.pg_class c WHERE {user_tables}",
        name("c.oid")
    ))?
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect();
    let edges = query(format!(
        "SELECT {}, {} FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conrelid <> confrelid",
        name("conrelid"),
        name("confrelid")
    ))?;
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables.keys().map(|t| (t.as_str(), BTreeSet::new())).collect();
    for edge in &edges {
        if let (Some(children), true) = (parents.get_mut(edge[0].as_str()), tables.contains_key(&edge[1])) {
            children.insert(edge[1].as_str());
        }
    }
    // Parents first; a cycle of foreign keys (rare in rows a migration inserts) keeps name order.
    let mut order: Vec<&str> = Vec::new();
    while order.len() < tables.len() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(t, ps)| !order.contains(t) && ps.iter().all(|p| order.contains(p)))
            .map(|(t, _)| *t)
            .collect();
        let next = if ready.is_empty() {
            parents.keys().copied().filter(|t| !order.contains(t)).take(1).collect()
        } else {
            ready
        };
        order.extend(next);
    }
    let mut out = String::new();
    for table in order {
        let here = &tables[table];
        let sql = format!(
            "SELECT format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_populate_recordset(NULL::%s, %L);',
                           {t}, cols, cols, {t}, (SELECT json_agg(x) FROM {here} x)::text)
               FROM (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols FROM pg_catalog.pg_attribute
                      WHERE attrelid = {h}::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '') c
              WHERE EXISTS (SELECT FROM {here})",
            t = quote_literal(table),
            h = quote_literal(here),
        );
        for row in query(sql)? {
            out.push_str(&row[0]);
            out.push('\n');
        }
    }
    let sequences = query(format!(
        "SELECT format('%I.%I', CASE WHEN s.schemaname = {scratch_schema} THEN 'public' ELSE s.schemaname END, s.sequencename),
                s.last_value
           FROM pg_catalog.pg_sequences s
          WHERE s.last_value IS NOT NULL
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                             WHERE d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
                               AND d.refobjid = {own}::regclass)
          ORDER BY 1",
        own = quote_literal(&own)
    ))?;
    for row in sequences {
        out.push_str(&format!("SELECT pg_catalog.setval({}, {});\n", quote_literal(&row[0]), row[1]));
    }
    if !out.is_empty() {
        out.insert_str(0, "\n-- Rows and sequence positions the squashed migrations left.\n");
    }
    Ok(out)
}

/// `up --from-archive DIR`: the archived migrations in place of the squash that replaced them, for
/// a database that applied only some of them.
pub fn with_archive(set: MigrationSet, archive: &Path) -> Result<MigrationSet> {
    let archived = MigrationSet::read_dir(archive).map_err(shale::Error::Load)?;
    let versions: BTreeSet<Version> = archived.versioned().filter_map(|m| m.version.clone()).collect();
    let mut merged = set;
    merged
        .migrations
        .retain(|m| !m.squashed().is_some_and(|(first, last)| versions.contains(&first) && versions.contains(&last)));
    merged.migrations.extend(archived.migrations.into_iter().filter(|m| m.kind == MigrationKind::Versioned));
    merged.migrations.sort_by(|a, b| {
        (a.kind != MigrationKind::Versioned, &a.version).cmp(&(b.kind != MigrationKind::Versioned, &b.version))
    });
    Ok(merged)
}
