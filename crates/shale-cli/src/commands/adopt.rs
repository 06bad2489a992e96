//! Switching to shale: `shale adopt` (another tool's history), `shale baseline VERSION` (a
//! database already at a version, checked against what the migrations up to it build) and `shale
//! baseline --from-database` (a database built with no history at all).

use anyhow::Result;
use shale::{AdoptRequest, Event, Migrator};
use shale_core::adopt::{AdoptNote, Tool};
use shale_core::Version;

use super::throwaway::Throwaway;
use super::{block_on, migrator, parse_version, print_json};
use crate::args::AdoptArgs;
use crate::output::Progress;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &AdoptArgs) -> Result<i32> {
    let migrator = migrator(settings)?;
    let request = AdoptRequest {
        tool: args.from.as_deref().and_then(Tool::parse),
        table: args.table.clone(),
        dry_run: args.dry_run,
        nothing: args.nothing,
        accept_changed: args.accept_changed,
        accept_missing: args.accept_missing,
    };
    let progress = Progress::for_settings(settings);
    let report = match block_on(migrator.adopt(&request, &mut |e: Event| progress.event(&e))) {
        // An empty directory (`shale init` made one beside the tool's folder): every row of the
        // tool's history is a migration with no file, one line each; what is wrong is the folder.
        Err(shale::Error::Adopt(problems))
            if migrator.set().migrations.is_empty()
                && problems.iter().all(|p| matches!(p, shale::core::adopt::AdoptProblem::NoFile { .. })) =>
        {
            anyhow::bail!(shale::Error::Invalid(format!(
                "{} holds no migration, and the other tool applied {}: point --dir (or `dir` in shale.toml) at \
                 the folder that tool runs (goose's GOOSE_MIGRATION_DIR, dbmate's db/migrations, ...)",
                settings.dir.display(),
                problems.len()
            )))
        }
        // Versions with no file here: where the tool's files are in another folder of the project,
        // named (breadth trial: openlane's goose files beside Atlas's, which `dir` pointed at).
        Err(shale::Error::Adopt(problems)) => {
            let tool = problems.iter().find_map(|p| match p {
                shale::core::adopt::AdoptProblem::NoFile { tool, .. } => Some(tool.to_string()),
                _ => None,
            });
            if let Some(tool) = tool {
                super::init::note_the_tools_other_folders(settings, &tool);
            }
            return Err(shale::Error::Adopt(problems).into());
        }
        other => other?,
    };
    if settings.json {
        let mut value = serde_json::to_value(&report).expect("serializable");
        value["notes"] = report.notes.iter().map(note_text).collect();
        print_json(&value);
        return Ok(0);
    }
    if settings.quiet {
        return Ok(0);
    }
    let verb = if report.dry_run { "would record" } else { "recorded" };
    if let Some(at) = &report.already {
        println!(
            "already taken over from {} ({}) at {at}, up to version {}: nothing to record; {}",
            report.tool,
            report.table,
            report.version.as_deref().unwrap_or("none"),
            match report.pending {
                0 => "the database is up to date".to_string(),
                n => format!("`shale up` runs the {n} pending migration(s)"),
            }
        );
        if !report.applied_by_the_tool_since.is_empty() {
            crate::output::warning(&format!(
                "{} applied {} since shale took its history over: `shale up` refuses to run them again; stop it, \
                 check the database, and record each with `shale repair VERSION --applied --reason ...`",
                report.tool,
                report.applied_by_the_tool_since.join(", ")
            ));
        }
        return Ok(0);
    }
    if args.nothing {
        println!(
            "{}: shale's history starts here and takes nothing over{}; `shale up` runs all {} migration(s)",
            if report.dry_run { "would record" } else { "recorded" },
            if report.table.is_empty() { String::new() } else { format!(" ({} left alone)", report.table) },
            report.pending
        );
        return Ok(0);
    }
    match report.version.as_deref() {
        None if report.adopted.is_empty() => println!(
            "{verb} that {} ({}) had applied no migration: shale's history starts here; nothing ran, and {} is left as it is",
            report.tool, report.table, report.table
        ),
        version => println!(
            "{verb} {} migration(s) as applied, adopted from {} ({}), up to version {}; nothing ran, and {} is left as it is",
            report.adopted.len(),
            report.tool,
            report.table,
            version.unwrap_or("none"),
            report.table
        ),
    }
    // A long history is shown by its ends (`--json` and `shale status` list every one); a
    // migration taken over with no file (a Java class, a file removed) is always shown.
    const ENDS: usize = 5;
    let long = report.adopted.len() > 4 * ENDS;
    let mut passed_over = 0;
    for (i, m) in report.adopted.iter().enumerate() {
        let java = if m.java { "Java: " } else { "" };
        let at_an_end = i < ENDS || i + ENDS >= report.adopted.len();
        let plain = !m.java && m.path.to_ascii_lowercase().ends_with(".sql");
        if long && plain && !at_an_end {
            passed_over += 1;
            continue;
        }
        if passed_over > 0 {
            println!("  ... {passed_over} more (`shale status` lists them all)");
            passed_over = 0;
        }
        println!("  {} ({java}{})", shale_core::layout::versioned_label(&m.version, &m.name), m.path);
    }
    for note in &report.notes {
        println!("note: {}", note_text(note));
    }
    if !report.dry_run && !report.adopted.is_empty() {
        println!("switch {}'s own migrate off wherever it runs: {}", report.tool, report.tool.where_it_runs());
    }
    match (report.dry_run, report.pending) {
        (true, _) => println!("run without --dry-run to record it"),
        (false, 0) => println!("the database is up to date; from now on, run `shale up`"),
        // Changesets Liquibase left out for its contexts are older than those it ran: running them
        // now could load test data into production.
        (false, n) if report.pending_older > 0 && super::liquibase_selection_unsaid(settings, &migrator.set()) => {
            println!(
                "{n} migration(s) are pending, {} of them older than version {}, which liquibase had not applied. \
                 Its changesets have contexts or labels: {}",
                report.pending_older,
                report.version.as_deref().unwrap_or("none"),
                super::LIQUIBASE_SELECTION_HINT
            )
        }
        // The file holding what graphile-migrate's afterReset ran on the databases it built (init
        // advises it): already done here, so recorded, not run (running it stops on what it made).
        (false, n) if report.tool == Tool::GraphileMigrate && after_reset_file(&migrator.set()).is_some() => {
            let zero = after_reset_file(&migrator.set()).unwrap_or_default();
            println!(
                "{n} migration(s) are pending; {zero} holds what .gmrc's afterReset ran on the databases graphile-migrate \
                 built, this one too: record it with `shale repair {zero} --applied --reason \"afterReset ran it\"`, then \
                 run `shale up` (or `shale status` to see them first)"
            )
        }
        (false, n) if report.pending_older > 0 => println!(
            "{n} migration(s) are pending, {} of them older than version {}, which {} had not applied: run \
             `shale up --allow-out-of-order` to apply them in version order (or `shale status` to see them first)",
            report.pending_older,
            report.version.as_deref().unwrap_or("none"),
            report.tool
        ),
        (false, n) => println!("{n} migration(s) are pending: run `shale up` to apply them"),
    }
    Ok(0)
}

/// The version of a migration numbered 0 (`000000.sql`), below every one graphile-migrate
/// commits: what its `afterReset` hook ran, as `shale init` advises to keep it.
fn after_reset_file(set: &shale_core::MigrationSet) -> Option<String> {
    let zero = Version::parse("0")?;
    set.find(&zero).map(|m| m.version_text.clone())
}

/// An adoption's note in the CLI's words: the library's, with `shale up` for migrating.
fn note_text(note: &AdoptNote) -> String {
    let text = note.text("`shale up`");
    match note {
        AdoptNote::Schema { .. } => format!("{text}; --schemas is for one history per tenant schema, not this"),
        AdoptNote::Nothing => "nothing taken over: every migration runs with `shale up`".into(),
        AdoptNote::ChangedAccepted { .. } => {
            format!("{text}: `shale drift` shows any difference (`shale drift --fix NAME` writes a migration that mends it)")
        }
        _ => text,
    }
}

/// Record that the database is at `version`: the migrations up to it count as applied. Unless
/// `force`, the live schema is first compared with what those migrations build, so that a database
/// one step behind (another tool's older revision, a column never added) is not recorded as having
/// it.
pub fn baseline(
    settings: &Settings,
    version: &str,
    reason: Option<&str>,
    force: bool,
    dev_url: Option<&str>,
    tables: &[String],
) -> Result<i32> {
    let mut migrator = migrator(settings)?;
    migrator.named_histories = tables.to_vec();
    let version = parse_version(settings, version)?;
    if !force {
        check_baseline(settings, &migrator, &version, settings.scratch_server(dev_url))?;
    }
    let progress = Progress::for_settings(settings);
    let report = block_on(migrator.baseline(&version, reason, &mut |e: Event| progress.event(&e)))?;
    if settings.json {
        print_json(&report);
    } else if !settings.quiet {
        println!(
            "baselined at version {version}: migrations up to it count as applied; later ones run with `shale up`"
        );
    }
    Ok(0)
}

/// The live schema against what the migrations up to `version` build on a throwaway database
/// (other tools' history tables left out, as `drift` leaves them). Differences refuse the
/// baseline, and so does a check that cannot run (no throwaway server can be made).
fn check_baseline(settings: &Settings, migrator: &Migrator, version: &Version, dev_url: Option<&str>) -> Result<()> {
    let throwaway = match Throwaway::create(settings, dev_url) {
        Ok(t) => t,
        // A server named for it that cannot be used is an error, not a check passed over.
        Err(e) if dev_url.is_some() => return Err(e),
        // Where none can be made, nothing is recorded unchecked unless asked (Rails re-check: a
        // machine without PostgreSQL's binaries recorded a database one migration behind).
        Err(e) => {
            let version = migrator.set().find(version).map_or_else(|| version.to_string(), |m| m.version_text.clone());
            anyhow::bail!(shale::Error::Invalid(format!(
                "cannot compare the schema with what the migrations up to {version} build ({e:#}): give --dev-url URL \
                 (a server where shale may create a scratch database), or --force to record {version} unchecked"
            )));
        }
    };
    let config = &migrator.config;
    let (live, home) = super::throwaway::live_schema(&config.connection, &config.session, &config.history)?;
    let scratch = throwaway.first()?.landing_in(home, migrator.set().migrations.iter().map(|m| &*m.up.text))?;
    let expected =
        super::diff::replay(settings, migrator.set().clone(), &scratch, crate::error::Replay::Diff, Some(version))?;
    // What replay_setup made is the environment's, here as there (Hasura re-check: `--force` was
    // the only way past pgcrypto and plpgsql).
    let actual = super::drift::without_other_tools_histories(settings, scratch.without_its_setup(live), &expected);
    // Those named with `--table` too, which their columns may not tell (review: a history of
    // columns no tool shale knows has, named, was listed as differences refusing the baseline).
    let status = block_on(migrator.status())?;
    let named: Vec<String> =
        status.foreign.iter().filter(|f| migrator.left_at_baseline(f)).map(|f| f.display()).collect();
    let actual = super::drift::without_named_histories(
        settings,
        actual,
        &expected,
        named.iter().map(|t| (t.as_str(), "another tool's history")),
    );
    let differences = shale_schema::compare::differences(&expected, &actual);
    if differences.is_empty() {
        return Ok(());
    }
    // All of them, up to a screenful: `shale drift` compares with every migration, not those up
    // to the version (Knex trial: pointed at, it listed 32 where this said 16).
    const SHOWN: usize = 40;
    let mut lines: Vec<String> = differences
        .iter()
        .take(SHOWN)
        .map(|d| {
            let (expected, actual) = d.shown_sides();
            format!("  {}: the migrations build {expected}; the database has {actual}", d.object)
        })
        .collect();
    if differences.len() > SHOWN {
        lines.push(format!("  ... and {} more", differences.len() - SHOWN));
    }
    // The tool that migrated it, where its table says which: to its own migration (Rails trial:
    // `rails db:migrate VERSION=` followed by shale's baseline version, which Rails has none of).
    let with = match status.foreign.iter().find_map(|f| f.tool.migrate_to_command().map(|c| (f.tool, c))) {
        Some((tool, command)) => format!("with {tool}: `{command}`, to the {tool} migration that {version} stands for"),
        None => "with the tool that migrated it".to_string(),
    };
    anyhow::bail!(shale::Error::Invalid(format!(
        "the database is not what the migrations up to {version} build ({} difference(s)), so recording it at {version} would leave them behind:\n{}\nbring it there first ({with}), or baseline at the version it does match; `--force` records {version} anyway",
        differences.len(),
        lines.join("\n")
    )))
}

/// A database with no history (tables made by an ORM's `create_all()` or by hand): its schema
/// becomes the first migration, recorded as applied here; a fresh database builds the same from it.
pub fn baseline_from_database(settings: &Settings, reason: Option<&str>, tables: &[String]) -> Result<i32> {
    let set = if settings.dir.exists() { super::load_set(settings)? } else { Default::default() };
    if let Some(m) = set.versioned().next() {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} already holds migrations ({} among them): --from-database starts a history from nothing; to say which of them this \
             database already has, run `shale baseline VERSION`; if they were written after the switch, on top of what \
             the database already holds, move them out of the directory, run `shale baseline \
             --from-database`, then bring them back with `shale new NAME` (numbered after the baseline)",
            settings.dir.display(),
            m.file
        )));
    }
    let mut migrator = super::migrator_with(settings, set)?;
    migrator.named_histories = tables.to_vec();
    let status = block_on(migrator.status())?;
    // Alembic's, Django's or Rails' history cannot be taken over (their migrations are code): the
    // live schema is the start, without the tool's own tables.
    let replaced = status.foreign.iter().filter(|f| !f.tool.adoptable_with(&migrator.set()));
    if let Some(foreign) = status.foreign.iter().find(|f| f.tool.adoptable_with(&migrator.set())) {
        anyhow::bail!(shale::Error::Invalid(format!(
            "this database has {}'s history ({}): take it over with `shale adopt` instead",
            foreign.tool,
            foreign.display()
        )));
    }
    if status.current_version.is_some() {
        anyhow::bail!(shale::Error::Invalid(
            "the database already has shale history; --from-database is for a database that has none".into()
        ));
    }
    // Its migrations in code that it has not run here would count as run (Rails re-check: a
    // pending `.rb`, its views never made anywhere).
    for foreign in status.foreign.iter().filter(|f| !f.tool.adoptable_with(&migrator.set())) {
        let not_run = block_on(migrator.code_migrations_not_run_by(foreign))?;
        if !not_run.is_empty() {
            let files: Vec<String> = not_run.iter().map(|p| p.display().to_string()).collect();
            anyhow::bail!(shale::Error::Invalid(format!(
                "{}'s history ({}) does not record {}: {} has not run them here, and a baseline would count them as \
                 run, their work undone for good; run them first ({}), or, if they were written after the switch, \
                 move them out of {}, then port them to SQL after the baseline",
                foreign.tool,
                foreign.display(),
                crate::output::and_listed(&files),
                foreign.tool,
                foreign.tool.migrate_to_command().unwrap_or_else(|| foreign.tool.where_it_runs()),
                settings.dir.display()
            )));
        }
    }
    // On Supabase, what Supabase manages is not the project's first migration: a new project
    // (or a branch) has it already, and would refuse it as existing.
    let live = block_on(migrator.schema())?;
    let in_force = super::drift::platform_default_grants(&live);
    let mut schema = super::drift::without_supabase_managed(settings, live, "the baseline");
    for foreign in replaced {
        schema = shale_schema::confine::without_table(&schema, &foreign.schema, &foreign.table);
        let mut left: Vec<String> = vec![foreign.display()];
        for companion in foreign.tool.companions_of(&foreign.table) {
            if schema.holds_table_or_enum(&foreign.schema, &companion) {
                schema = shale_schema::confine::without_table(&schema, &foreign.schema, &companion);
                left.push(format!("{}.{companion}", foreign.schema));
            }
        }
        let verb = if left.len() == 1 { "is" } else { "are" };
        let left_out = crate::output::and_listed(&left);
        if !settings.quiet {
            crate::output::note(&format!(
                "{left_out} ({}'s history) {verb} left out of the baseline: switch {} off, shale's history starts here",
                foreign.tool, foreign.tool
            ));
        }
    }
    crate::output::note_unread(settings, &schema, "the database", "the baseline");
    // The baseline is recorded as applied here: edited afterwards, it would be a changed migration.
    let unread = !schema.unread.is_empty();
    if unread && !settings.quiet && !settings.json {
        crate::output::note(
            "write them in a migration of their own after the baseline (`shale new NAME`, with the SQL \
             `pg_dump --schema-only` shows), and record it as applied here, where they exist, with `shale repair \
             VERSION --applied --reason ...`; editing the baseline instead would make it a changed migration",
        );
    }
    // The type advice (text over varchar(n), bigint keys, ...) is for tables being designed, not for
    // the schema the database already had: allowed for the file, so that `lint --all` reads clean.
    let advice: String = ["prefer-text", "prefer-bigint-keys", "prefer-identity", "prefer-timestamptz"]
        .iter()
        .map(|rule| format!("-- shale:allow {rule} -- the schema the database had before shale, not designed here\n"))
        .collect();
    let text = format!("{advice}{}", shale_schema::dump_as_migration(&schema, &in_force));
    let files = super::new::create(settings, "baseline", false, Some(super::new::Contents { up: &text, down: None }))?;
    let progress = Progress::for_settings(settings);
    // Err carries whether the file goes: not where the baseline may be recorded.
    let recorded = || -> std::result::Result<(shale::Version, String), (anyhow::Error, bool)> {
        let set = super::load_set(settings).map_err(|e| (e, true))?;
        let first = set.versioned().next().map(|m| (m.version.clone(), m.file.clone()));
        let Some((Some(version), file)) = first else {
            let unread = shale::Error::Invalid("the baseline migration could not be read back".into());
            return Err((unread.into(), true));
        };
        let mut migrator = super::migrator_with(settings, set).map_err(|e| (e, true))?;
        migrator.named_histories = tables.to_vec();
        let reason = reason.unwrap_or("baseline --from-database: the schema the database had before shale");
        if let Err(e) = block_on(migrator.baseline(&version, Some(reason), &mut |e: Event| progress.event(&e))) {
            // An error after its transaction committed (the connection lost as the history was
            // read back) leaves the baseline recorded: its file stays (review: removed, and the
            // schema it held lost). Where that cannot be told, it stays too.
            let recorded = block_on(migrator.status()).map(|s| s.current_version.is_some());
            if !matches!(recorded, Ok(false)) {
                crate::output::note(&format!(
                    "{file} is kept: the baseline {} recorded before the error; `shale status` says where the \
                     database stands (remove the file where it was not)",
                    if recorded.is_ok() { "was" } else { "may have been" }
                ));
                return Err((e.into(), false));
            }
            return Err((e.into(), true));
        }
        Ok((version, file))
    };
    let (version, file) = match recorded() {
        Ok(recorded) => recorded,
        Err((e, false)) => return Err(e),
        Err((e, true)) => {
            // Nothing was recorded (its rows go in one transaction), or the file could not be read
            // back: the file goes too, or the command run again refuses a directory that holds
            // migrations (reviews: another tool's history held locked left the file behind,
            // unrecorded; so did the paths out before the record).
            for file in &files {
                let _ = std::fs::remove_file(file);
            }
            let written = files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            crate::output::note(&format!("nothing was recorded, and {written} was removed: run the command again"));
            return Err(e);
        }
    };
    if settings.json {
        // The baseline is recorded by now: a table this role may not read is no failure of it;
        // null says the list could not be made (round 4: [] read as "nothing to carry over").
        let with_rows = tables_with_rows(settings, &schema).ok();
        print_json(&serde_json::json!({
            "written": files,
            "version": version.canonical(),
            "recorded": true,
            "tables_with_rows": with_rows,
        }));
    } else if !settings.quiet {
        let written = files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        println!(
            "wrote {written} from the live schema and recorded it as applied in this database (version {version})"
        );
        let but = if unread { ", but for the objects named above" } else { "" };
        println!("commit it (git add {written}); a fresh database builds the same schema with `shale up`{but}");
        println!(
            "migration {file} is the history's first step: put later changes in new migrations (`shale new NAME`)"
        );
        note_rows_left_behind(settings, &schema)?;
    }
    Ok(0)
}

/// The tables of the baseline that hold rows, which a database built from it will not have: the
/// rows the old tool's data migrations inserted (Django's content types, a lookup table) are the
/// ones to carry over (NetBox trial: a profile table of 7 rows a data migration made was empty
/// in the database built from the baseline, and nothing said so). At most eight named.
fn note_rows_left_behind(settings: &Settings, schema: &shale_schema::Schema) -> Result<()> {
    // The baseline is recorded by now: a table this role may not read (review: exit 1 after the
    // baseline was recorded), or one locked past lock_timeout, only says the note cannot be made.
    let with_rows = match tables_with_rows(settings, schema) {
        Ok(with_rows) => with_rows,
        Err(e) => {
            crate::output::note(&format!(
                "the tables holding rows, which a database built from the baseline starts without, could not be \
                 listed ({e}): look for reference rows the old tool's migrations inserted"
            ));
            return Ok(());
        }
    };
    if with_rows.is_empty() {
        return Ok(());
    }
    let named = match with_rows.len() {
        n if n <= 8 => with_rows.join(", "),
        n => format!("{}, and {} more", with_rows[..8].join(", "), n - 8),
    };
    crate::output::note(&format!(
        "{} table(s) hold rows, which the baseline (the schema) does not carry: {named}; a database built from it \
         starts without them. Rows the old tool's migrations inserted (reference data, lookup tables) belong in a \
         migration after the baseline (`INSERT ... ON CONFLICT DO NOTHING`) or in seeds/ (`--json` lists them all)",
        with_rows.len()
    ));
    Ok(())
}

/// The baseline's tables (not partitions) that hold rows, as SQL names them. One query.
fn tables_with_rows(settings: &Settings, schema: &shale_schema::Schema) -> Result<Vec<String>> {
    let tables: Vec<(String, String)> =
        schema.tables.iter().filter(|t| t.partition_of.is_none()).map(|t| (t.schema.clone(), t.name.clone())).collect();
    let connection = super::connection(settings)?;
    Ok(block_on(async {
        let client = shale_pg::connect(&connection, &settings.session).await?;
        shale_pg::inspect::tables_with_rows(&client, &tables).await
    })
    .map_err(shale::Error::Pg)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_name_shale_up_where_the_library_says_migrating() {
        let note = AdoptNote::RepeatableChanged { tool: Tool::Flyway, file: "R__views.sql".into() };
        assert_eq!(
            note_text(&note),
            "R__views.sql changed since flyway last ran it (or flyway never ran it): `shale up` runs it, as flyway would"
        );
        assert_eq!(note_text(&AdoptNote::Nothing), "nothing taken over: every migration runs with `shale up`");
        let schema =
            AdoptNote::Schema { tool: Tool::Flyway, schema: "app".into(), now: "public".into(), path: "app".into() };
        assert!(note_text(&schema).contains("and `shale up` would create their tables in public"));
        assert!(note_text(&schema).ends_with(
            "or set PGOPTIONS='-c search_path=app'; --schemas is for one history per tenant schema, not this"
        ));
        let notes = [
            note,
            AdoptNote::Nothing,
            schema,
            AdoptNote::DieselSetup,
            AdoptNote::GoPending { tool: Tool::Goose, file: "3_x.go".into() },
            AdoptNote::NoFileBefore { tool: Tool::Pop, key: "20251105000000000001".into() },
            AdoptNote::Java {
                tool: Tool::Flyway,
                version: "2".into(),
                class: "db.V2__x".into(),
                port_to: "V2__x.sql".into(),
            },
        ];
        for n in &notes {
            let words = n.to_string();
            assert!(!words.contains("shale up") && !words.contains("--schemas"), "{words}");
        }
        assert_eq!(
            serde_json::to_value(&notes[1]).unwrap(),
            serde_json::json!("nothing taken over: migrating runs every migration")
        );
    }
}
