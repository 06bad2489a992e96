//! Commands that change the database: up, down, redo, goto, baseline, repair.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use shale::{Event, RepairDecision, RunReport, Target, UpRequest};
use shale_core::{Plan, StepDirection};

use super::{block_on, down_target, parse_version, print_json};
use crate::args::{DownArgs, RepairArgs, UpArgs};
use crate::output::Progress;
use crate::settings::Settings;

/// A migrator whose run stops cleanly on Ctrl-C or SIGTERM: the statement in flight is cancelled
/// on the server and what ran is recorded (the run then ends with exit 130). A second signal
/// exits at once.
fn migrator(settings: &Settings) -> Result<shale::Migrator> {
    let mut migrator = super::migrator(settings)?;
    migrator.config.interrupt = Some(interrupt_on_signal());
    Ok(migrator)
}

fn interrupt_on_signal() -> shale_pg::Interrupt {
    let interrupt = shale_pg::Interrupt::new();
    let handler = interrupt.clone();
    let _ = ctrlc::set_handler(move || {
        if handler.requested() {
            std::process::exit(crate::error::EXIT_INTERRUPTED);
        }
        crate::output::plain(
            "stopping",
            "stopping: cancelling the statement in flight (press Ctrl-C again to quit at once)",
        );
        handler.request();
    });
    interrupt
}

fn progress(settings: &Settings) -> Progress {
    Progress::for_settings(settings)
}

/// What `up`'s options and shale.toml ask for (one database or a fleet).
pub fn up_request(settings: &Settings, args: &UpArgs) -> Result<UpRequest> {
    let target = match (&args.to, args.step) {
        (Some(v), _) => Some(Target::Version(parse_version(settings, v)?)),
        (_, Some(n)) => Some(Target::Steps(n)),
        _ => None,
    };
    Ok(UpRequest {
        target,
        single_transaction: args.single_transaction,
        ..checked_up_request(settings, args.allow_out_of_order, args.force_unsafe)
    })
}

/// An `up` with every check shale.toml asks for (the linter's vet, unless `force_unsafe`; the
/// refusals over another tool's history or tables already there, which are the request's
/// default): `up`'s, and `goto`'s going forward.
fn checked_up_request(settings: &Settings, allow_out_of_order: bool, force_unsafe: bool) -> UpRequest {
    UpRequest {
        allow_out_of_order: allow_out_of_order || settings.allow_out_of_order,
        vet: (!force_unsafe).then(|| super::lint::vet(settings.lint.clone(), settings.session.lock_timeout.clone())),
        // For the note on a database another tool migrated; not worth a query when nothing is shown.
        look_for_foreign_history: !settings.quiet,
        ..Default::default()
    }
}

pub fn up(settings: &Settings, args: &UpArgs) -> Result<i32> {
    let result = up_refusing(settings, args);
    if let Err(e) = &result {
        note_liquibase_selection(settings, e);
    }
    result
}

/// Older Liquibase changesets pending where no contexts were given are likely those Liquibase left
/// out for its contexts: said beside the refusal, whose way out (running them out of order) could
/// load test data into production.
fn note_liquibase_selection(settings: &Settings, error: &anyhow::Error) {
    let Some(shale::Error::Plan(problems)) = error.downcast_ref::<shale::Error>() else { return };
    if !problems.iter().any(|p| matches!(p, shale_core::PlanError::OutOfOrder { .. })) || settings.json {
        return;
    }
    if super::load_set(settings).is_ok_and(|set| super::liquibase_selection_unsaid(settings, &set)) {
        crate::output::note(&format!(
            "these Liquibase changesets have contexts or labels: {}",
            super::LIQUIBASE_SELECTION_HINT
        ));
    }
}

fn up_refusing(settings: &Settings, args: &UpArgs) -> Result<i32> {
    if !args.dry_run && args.backup.is_none() && args.from_archive.is_none() {
        return up_overlapped(settings, args);
    }
    let mut migrator = migrator(settings)?;
    if let Some(archive) = &args.from_archive {
        let with_archive = super::squash::with_archive((*migrator.set()).clone(), archive)?;
        migrator.replace_set(with_archive);
    }
    let request = up_request(settings, args)?;
    if args.dry_run {
        let plan = nearest_versions(&migrator, block_on(migrator.plan_up(&request)))?;
        let report = if plan.steps.is_empty() {
            shale_lint::Report::default()
        } else {
            let facts = block_on(migrator.database_facts(&plan))?;
            super::lint::lint_plan(&plan, &facts, &settings.lint, &settings.session.lock_timeout)
        };
        // Exactly as `up` would judge it: the same check, on the same database.
        let refused = if args.force_unsafe { None } else { super::lint::refusal(&report).err().map(|r| r.to_string()) };
        // What `up` says after applying, said before: a pending migration may be the twin of one
        // the other tool ran since.
        let before = block_on(migrator.before_a_run(!plan.steps.is_empty()))?;
        if !settings.json {
            if !settings.quiet {
                super::status::note_foreign(&before.foreign, &migrator.set());
            }
            super::status::warn_changed_since_baseline(&before.changed_since_baseline);
            if before.standby {
                crate::output::note(super::status::STANDBY_NOTE);
            }
        }
        let refusal = refused.as_deref().map(|why| ("up", why));
        let set = migrator.set();
        let callbacks = set.callbacks_of_an_up(!plan.steps.is_empty());
        let context = PlanContext { changed_since_baseline: &before.changed_since_baseline, callbacks: &callbacks };
        print_plan(settings, &plan, args.single_transaction, &report, refusal, context);
        return Ok(if refused.is_some() { crate::error::EXIT_INVALID } else { 0 });
    }
    let mut backup = None;
    if let Some(dir) = &args.backup {
        // Only when something will change: a no-op run needs no backup.
        if !nearest_versions(&migrator, block_on(migrator.plan_up(&request)))?.steps.is_empty() {
            backup = Some(super::backup::run(settings, &migrator, dir)?);
        }
    }
    let seeds = if args.seed { seeds_for_up(settings, args.seeds.as_deref())? } else { None };
    crate::output::note_ignored(settings, &migrator.set(), false, &[]);
    let progress = progress(settings);
    let report = nearest_versions(&migrator, block_on(migrator.up(&request, &mut |e: Event| progress.event(&e))))?;
    after_up(settings, &migrator, Ran { report, backup }, seeds, &progress)
}

/// `up` as an application start-up runs it: the session is opened and the history read while
/// another thread reads the migrations directory, so the start costs the longer of the two, not
/// their sum. A file that does not load wins over a connection error, as when loading came first,
/// and stops the connection attempt (which `--wait` may be retrying).
fn up_overlapped(settings: &Settings, args: &UpArgs) -> Result<i32> {
    let request = up_request(settings, args)?;
    let seeds = if args.seed { seeds_for_up(settings, args.seeds.as_deref())? } else { None };
    let mut config = super::migrator_config(settings, super::connection(settings)?);
    config.interrupt = Some(interrupt_on_signal());
    let progress = progress(settings);
    let (migrator, report) = std::thread::scope(|scope| {
        let (loaded_tx, mut loaded) = tokio::sync::oneshot::channel();
        // (The receiver is gone only when opening failed first: the set is not wanted then.)
        scope.spawn(move || {
            let _ = loaded_tx.send(super::load_set_unsplit(settings));
        });
        block_on(async {
            let opening = shale::Opened::open(&config);
            tokio::pin!(opening);
            // Statements are split only where needed: in the files that may run, once the history
            // is read. When the files are there first and the connection is slow to come (a server
            // that is down, and `--wait`), in all of them meanwhile: a file that cannot be split
            // is then reported at once, not after waiting for the server.
            let (mut set, opened) = tokio::select! {
                set = &mut loaded => {
                    let mut set = set.expect("the loading thread sends its result")?;
                    let opened = tokio::select! {
                        opened = &mut opening => opened,
                        _ = tokio::time::sleep(SLOW_CONNECTION) => {
                            set.split_where(|_| true).map_err(shale::Error::Load)?;
                            opening.await
                        }
                    };
                    (set, opened)
                }
                opened = &mut opening => (loaded.await.expect("the loading thread sends its result")?, opened),
            };
            match &opened {
                Ok(opened) => opened.split_for_up(&mut set)?,
                // A bad file is what is reported, not the connection that failed.
                Err(_) => set.split_where(|_| true).map_err(shale::Error::Load)?,
            }
            let migrator = shale::Migrator::new(set, config.clone());
            crate::output::note_ignored(settings, &migrator.set(), false, &[]);
            // An error is looked at once out of the runtime (`--to` a version no migration has).
            let report = migrator.up_from(opened?, &request, &mut |e: Event| progress.event(&e)).await;
            anyhow::Ok((migrator, report))
        })
    })?;
    let report = nearest_versions(&migrator, report)?;
    let code = after_up(settings, &migrator, Ran { report, backup: None }, seeds, &progress);
    // The process ends right after: freeing a thousand scripts one by one would be wasted work.
    std::mem::forget(migrator);
    code
}

/// What an `up` did: its report, and the backup it took first (`--backup`).
struct Ran {
    report: RunReport,
    backup: Option<std::path::PathBuf>,
}

/// `up`'s report in JSON, with the warnings the command line says of other tools' histories, and
/// the backup's file.
fn up_json(Ran { report, backup }: &Ran) -> Result<serde_json::Value> {
    let mut document = serde_json::to_value(report)?;
    document["changed_since_baseline"] = super::status::changed_since_baseline_json(&report.changed_since_baseline);
    // The file, for the packages' `up({backup})` to return (the package trial: no way to it).
    if let Some(file) = backup {
        document["backup"] = serde_json::json!(file);
    }
    Ok(document)
}

/// Migrations just applied whose up holds no statement while their down does: the SQL most likely
/// went into the down file (Kysely trial: applied unsaid, and the fix, once found, needed a
/// repair).
fn warn_empty_ups(report: &RunReport) {
    for empty in &report.empty_ups {
        // Run again alone, after those applied with it, it is out of order (review).
        let up = match empty.later_applied {
            true => "`shale up --allow-out-of-order`",
            false => "`shale up`",
        };
        crate::output::warning(&format!(
            "{}: migration {} was applied, but its up holds no statement while its down does: if its SQL went \
             into the down file by mistake, move it to the up file, then `shale repair {} --rolled-back --reason \
             ...` and {up} run it",
            empty.path.display(),
            empty.label,
            empty.version
        ));
    }
}

/// How long `up` waits for its connection, with the files read, before it checks every file
/// meanwhile: longer than a healthy connection takes (a no-op start then splits no statement).
const SLOW_CONNECTION: std::time::Duration = std::time::Duration::from_millis(250);

/// What follows a run of `up`: its report, the schema files refreshed, the seeds.
fn after_up(
    settings: &Settings,
    migrator: &shale::Migrator,
    ran: Ran,
    seeds: Option<shale::MigrationSet>,
    progress: &Progress,
) -> Result<i32> {
    let report = &ran.report;
    // With --json, one document, printed last: the run's (the seeds' report under `seeds`), or,
    // where what follows the migrations fails (a seed, the schema file refreshed), the error's
    // with the run's report under `up`, so that a machine reading it learns what was applied
    // (FastAPI re-check: two documents, which no JSON reader takes; review: the report lost).
    if !settings.json {
        print_report(settings, report, "applied", "nothing to apply: the database is up to date");
        if !settings.quiet {
            super::status::note_foreign(&report.foreign, &migrator.set());
        }
        // A run that applied something said it before it began (`Event::OtherToolsMigrating`).
        if report.steps.is_empty() {
            super::status::warn_changed_since_baseline(&report.changed_since_baseline);
        }
        if let Some(reverted) = &report.reverted_by_the_other_tool {
            super::status::warn_reverted_by_the_other_tool(reverted, false);
        }
        if let Some(both) = &report.ran_by_both {
            super::status::warn_ran_by_both(both);
        }
        warn_empty_ups(report);
    }
    // Seeds in code, which do not run: in the seeds' JSON too, for the packages to say (re-check:
    // `up({seed: true})` passed them over unsaid).
    let ignored_seeds = seeds.as_ref().map(|s| s.ignored.clone()).unwrap_or_default();
    let after = || -> Result<Option<RunReport>> {
        if !report.steps.is_empty() {
            super::dump::after_up(settings, migrator)?;
            super::erd::after_up(settings, migrator)?;
        }
        let Some(seeds) = seeds else { return Ok(None) };
        Ok(Some(block_on(migrator.seed(&seeds, false, &mut |e: Event| progress.event(&e)))?))
    };
    match after() {
        Ok(None) if settings.json => print_json(&up_json(&ran)?),
        Ok(Some(seeded)) if settings.json => {
            let mut document = up_json(&ran)?;
            document["seeds"] = serde_json::to_value(&seeded)?;
            if !ignored_seeds.is_empty() {
                document["seeds"]["ignored"] = serde_json::to_value(&ignored_seeds)?;
            }
            print_json(&document);
        }
        Ok(Some(seeded)) => print_report(settings, &seeded, "seeded", "seeds unchanged: nothing to run"),
        Ok(None) => {}
        Err(error) if settings.json => {
            let mut document = crate::error::to_json(&error);
            document["up"] = up_json(&ran)?;
            print_json(&document);
            return Ok(crate::error::exit_code(&error));
        }
        Err(error) => return Err(error),
    }
    Ok(0)
}

/// The seeds `up --seed` runs after the migrations: none, with a note, where the default place
/// holds none yet (FastAPI round 3: `seed=True` in development stopped start-up before any seed
/// was written, "nothing was applied"); a place given that does not exist is an error.
fn seeds_for_up(settings: &Settings, flag: Option<&std::path::Path>) -> Result<Option<shale::MigrationSet>> {
    let dir = settings.seeds_dir(flag);
    if flag.is_none() && !dir.exists() {
        if !settings.quiet && !settings.json {
            crate::output::note(&format!("no seeds to run: {} does not exist yet", dir.display()));
        }
        return Ok(None);
    }
    read_seeds(settings, flag).map(Some)
}

fn read_seeds(settings: &Settings, flag: Option<&std::path::Path>) -> Result<shale::MigrationSet> {
    let dir = settings.seeds_dir(flag);
    let seeds = shale::MigrationSet::read_seeds(&dir).map_err(shale::Error::Load)?;
    if !settings.quiet && !settings.json {
        for i in &seeds.ignored {
            crate::output::note(&format!("{}: ignored: {}", i.path.display(), i.reason));
        }
    }
    Ok(seeds)
}

pub fn seed(settings: &Settings, flag: Option<&std::path::Path>, force: bool) -> Result<i32> {
    let migrator = migrator(settings)?;
    let seeds = read_seeds(settings, flag)?;
    let progress = progress(settings);
    let report = block_on(migrator.seed(&seeds, force, &mut |e: Event| progress.event(&e)))?;
    print_report(settings, &report, "seeded", "seeds unchanged: nothing to run (use --force to run them again)");
    Ok(0)
}

pub fn down(settings: &Settings, args: &DownArgs) -> Result<i32> {
    let mut migrator = migrator(settings)?;
    let target = down_target(settings, &args.target)?;
    let dry_run = args.dry_run;
    let mut refusal = None;
    // Generated downs that lose data, to be judged on the database once the plan is made.
    let mut losing: Vec<LosingDown> = Vec::new();
    if args.generate {
        let missing = nearest_versions(&migrator, block_on(migrator.missing_downs(&target)))?;
        if !missing.is_empty() {
            let home = super::throwaway::home_of(&migrator.config.connection, &migrator.config.session)?;
            let downs = super::generated_down::generate(
                settings,
                &migrator.set(),
                &missing,
                settings.scratch_server(args.dev_url.as_deref()),
                home,
            )?;
            // Without --allow-destructive, a down run because its tables held no row checks again.
            let sql = |d: &super::generated_down::GeneratedDown| match args.allow_destructive {
                true => d.sql.clone(),
                false => d.guarded_sql(),
            };
            if !settings.quiet && !settings.json {
                for d in downs.iter().rev() {
                    println!("-- down of {} (generated):\n{}", d.label, sql(d).trim_end());
                    println!();
                }
            }
            if !args.allow_destructive {
                losing = downs
                    .iter()
                    .filter(|d| !d.destructive.is_empty())
                    .map(|d| (d.label.clone(), d.rows_checked_again()))
                    .collect();
            }
            migrator.generated_downs = downs.iter().map(|d| (d.version.clone(), sql(d).into())).collect();
        }
    }
    // Every down is read before the first runs, as `up` reads its files: one that does not parse
    // would stop a revert of several part-way.
    let plan = nearest_versions(&migrator, block_on(migrator.plan_down(&target)))?;
    // Judged on the database it would run on, as `up --dry-run` judges: an empty table's drop
    // is fine, a dropped index's table is named.
    let facts = match dry_run || !losing.is_empty() {
        true if !plan.steps.is_empty() => Some(block_on(migrator.database_facts(&plan))?),
        _ => None,
    };
    if let Some(why) = generated_downs_lose(&losing, facts.as_ref()) {
        // A dry run shows the refusal the run would meet, with its exit code.
        refusal = Some(why);
    }
    let unparsed = super::status::syntax_errors(plan.steps.iter().map(|s| &*s.script));
    if !unparsed.is_empty() && refusal.is_none() {
        let listed: Vec<String> = unparsed.iter().map(|e| e.to_string()).collect();
        refusal = Some(format!(
            "{}\nnothing was reverted: a down that does not parse would stop the revert part-way; fix it first",
            listed.join("\n")
        ));
    }
    if dry_run {
        let report = match &facts {
            Some(facts) => super::lint::lint_plan(&plan, facts, &settings.lint, &settings.session.lock_timeout),
            None => shale_lint::Report::default(),
        };
        let refusal = refusal.as_deref().map(|why| ("down", why));
        print_plan(
            settings,
            &plan,
            false,
            &report,
            refusal,
            PlanContext { changed_since_baseline: &[], callbacks: &[] },
        );
        return Ok(if refusal.is_some() { crate::error::EXIT_INVALID } else { 0 });
    }
    if let Some(why) = refusal {
        anyhow::bail!(shale::Error::Invalid(why));
    }
    let progress = progress(settings);
    let report = nearest_versions(&migrator, block_on(migrator.down(&target, &mut |e: Event| progress.event(&e))))?;
    print_report(settings, &report, "reverted", "nothing to revert");
    if !settings.quiet && !settings.json {
        note_empty_downs(&migrator, &report);
        if report.steps.is_empty() {
            note_history_starts_at_the_baseline(&migrator)?;
        }
    }
    Ok(0)
}

/// A generated down that loses data: its label, and the tables (schema, name) whose rows are what
/// it loses, where those are all it loses ([`super::generated_down::GeneratedDown::loses_rows_of`]).
type LosingDown = (String, Option<Vec<(String, String)>>);

/// Why generated downs that lose data (`losing`: each one's label and the tables whose rows it
/// loses, where those are all it loses) are refused without `--allow-destructive`: none where
/// every such table holds no row on the database (the breadth trial: a dry run said the drop of
/// an empty table was fine, then that the down would be refused as losing data).
fn generated_downs_lose(losing: &[LosingDown], facts: Option<&shale::pg::inspect::DatabaseFacts>) -> Option<String> {
    let empty = |(schema, name): &(String, String)| {
        facts.is_some_and(|f| f.tables.iter().any(|t| t.schema == *schema && t.name == *name && t.rows == 0))
    };
    let refused: Vec<&str> = losing
        .iter()
        .filter(|(_, tables)| !tables.as_ref().is_some_and(|tables| tables.iter().all(empty)))
        .map(|(label, _)| label.as_str())
        .collect();
    (!refused.is_empty()).then(|| {
        format!(
            "the generated down of {} loses data: it drops what the migration added (tables, columns, ...) from \
             tables that hold rows, or converts a column back to a type that rounds or cuts the values written since \
             (its notes say which); nothing was run: review the SQL above and run again with --allow-destructive",
            refused.join(", ")
        )
    })
}

/// Nothing reverted where the history starts at a baseline: the migrations under it have downs,
/// maybe, but were recorded, not run (yoyo trial: "nothing to revert" with no word why).
fn note_history_starts_at_the_baseline(migrator: &shale::Migrator) -> Result<()> {
    let status = block_on(migrator.status())?;
    let baseline = status.migrations.iter().rev().find(|r| r.state == shale_core::plan::State::Baseline);
    if let Some(version) = baseline.and_then(|r| r.version.as_deref()) {
        crate::output::note(&format!(
            "the history starts at the baseline {version}: the migrations up to it were recorded, not run, so no \
             down reverts them"
        ));
    }
    Ok(())
}

/// The reverted migrations whose down holds no statement (Hasura writes "-- Could not
/// auto-generate a down migration" there, diesel "-- This file should undo anything in `up.sql`"):
/// recorded as reverted as the tools do, and said, since nothing of theirs was undone.
fn note_empty_downs(migrator: &shale::Migrator, report: &shale::RunReport) {
    let set = migrator.set();
    let empty: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.direction == shale_core::StepDirection::Down)
        .filter_map(|s| {
            let version = shale::Version::parse(s.version.as_deref()?)?;
            let m = set.find(&version)?;
            let generated = migrator.generated_downs.contains_key(&version);
            let empty = m.down.as_ref().is_some_and(|d| d.statements.is_empty() && !d.text.trim().is_empty());
            (empty && !generated).then(|| m.label())
        })
        .collect();
    if !empty.is_empty() {
        crate::output::note(&format!(
            "the down of {} holds only comments: nothing of it was undone (its changes stay), though it is \
             recorded as reverted, as the tools that write such downs do; `shale down --generate` computes a down \
             from the schemas instead (`shale new --down-from-diff VERSION` writes one to a file, where downs are \
             files of their own)",
            empty.join(", ")
        ));
    }
}

pub fn redo(settings: &Settings) -> Result<i32> {
    let migrator = migrator(settings)?;
    let progress = progress(settings);
    let report = block_on(migrator.redo(&mut |e: Event| progress.event(&e)))?;
    print_report(settings, &report, "redone", "nothing to redo");
    Ok(0)
}

/// `goto V`; going forward, `allow_out_of_order` and `force_unsafe` are `up`'s.
pub fn goto(settings: &Settings, version: &str, allow_out_of_order: bool, force_unsafe: bool) -> Result<i32> {
    let migrator = migrator(settings)?;
    let version = parse_version(settings, version)?;
    let progress = progress(settings);
    let request = checked_up_request(settings, allow_out_of_order, force_unsafe);
    let report =
        nearest_versions(&migrator, block_on(migrator.goto(&version, &request, &mut |e: Event| progress.event(&e))))?;
    print_report(settings, &report, "moved", "already there");
    Ok(0)
}

/// `goto V --dry-run`: the plan `up --to V --dry-run` shows going forward, or `down --to V
/// --dry-run` going back (golang-migrate trial: a backward goto reverted with no preview).
pub fn goto_dry_run(settings: &Settings, version: &str, allow_out_of_order: bool, force_unsafe: bool) -> Result<i32> {
    let migrator = migrator(settings)?;
    let target = parse_version(settings, version)?;
    let status = block_on(migrator.status())?;
    let current = status.current_version.as_deref().and_then(shale::Version::parse);
    if current.as_ref().is_some_and(|now| now > &target) {
        let args = DownArgs {
            target: crate::args::DownTarget { step: None, to: Some(version.to_string()), all: false },
            dry_run: true,
            generate: false,
            allow_destructive: false,
            dev_url: None,
        };
        return down(settings, &args);
    }
    let args = UpArgs {
        to: Some(version.to_string()),
        step: None,
        dry_run: true,
        allow_out_of_order,
        single_transaction: false,
        backup: None,
        force_unsafe,
        seed: false,
        seeds: None,
        from_archive: None,
    };
    up(settings, &args)
}

/// `result`, unless it says that no migration has the version asked for (`up --to V`, `down --to V`,
/// `goto V`):
/// then the error names the known versions nearest to it, in the files or in the history (see
/// [`nearest`]), as `inspect` does for a table name.
fn nearest_versions<T>(migrator: &shale::Migrator, result: Result<T, shale::Error>) -> Result<T> {
    let wanted = match &result {
        Err(shale::Error::Plan(problems)) => match problems.as_slice() {
            [shale_core::PlanError::UnknownVersion { version }] => version.clone(),
            _ => return Ok(result?),
        },
        _ => return Ok(result?),
    };
    if shale::Version::parse(&wanted).is_some_and(|v| migrator.set().left_out.contains(&v)) {
        anyhow::bail!(shale::Error::Invalid(format!(
            "version {wanted} is a Liquibase changeset the contexts or label filter given leave out: give those \
             that select it (--contexts, --label-filter), or name another version"
        )));
    }
    let Ok(status) = block_on(migrator.status()) else { return Ok(result?) };
    let mut known: Vec<(shale::Version, String)> = status
        .migrations
        .iter()
        .filter_map(|m| {
            let text = m.version.as_deref()?;
            Some((shale::Version::parse(text)?, format!("{text} {}", m.name)))
        })
        .collect();
    known.sort_by(|a, b| a.0.cmp(&b.0));
    known.dedup_by(|a, b| a.0 == b.0);
    let near = nearest(&wanted, &known);
    if near.is_empty() {
        return Ok(result?);
    }
    anyhow::bail!(shale::Error::Invalid(format!(
        "no migration has version {wanted}, in the files or in the history; the nearest known: {} (`shale status` lists them all)",
        near.join(", ")
    )))
}

/// Of `known` (sorted by version), the versions nearest to `wanted`: those spelled like it (a
/// timestamp cut short or too long, one digit wrong, missing or swapped in a long version), the 3
/// closest to it (see [`closeness`]), else the ones just below and just above it. In version order.
fn nearest(wanted: &str, known: &[(shale::Version, String)]) -> Vec<String> {
    let Some(version) = shale::Version::parse(wanted) else { return Vec::new() };
    let wanted = version.canonical();
    let mut spelled: Vec<(usize, Closeness)> = known
        .iter()
        .enumerate()
        .filter_map(|(i, (v, _))| {
            let text = v.canonical();
            let (long, short) = if text.len() >= wanted.len() { (&text, &wanted) } else { (&wanted, &text) };
            // A timestamp cut short (`202401`), not a short number that starts a longer one (`1`
            // and `185`).
            let alike = (short.len() >= 4 && long.len() >= short.len() + 2 && long.starts_with(short.as_str()))
                || (long.len() >= 6 && strsim::osa_distance(&text, &wanted) == 1);
            alike.then(|| (i, closeness(&wanted, &text)))
        })
        .collect();
    if !spelled.is_empty() {
        // The closest first; of equally close ones (every version a cut-short timestamp covers),
        // the newest, which down, goto and up --to most often aim at.
        spelled.sort_by(|(i, a), (j, b)| a.total_cmp(b).then(j.cmp(i)));
        let mut chosen: Vec<usize> = spelled.into_iter().take(3).map(|(i, _)| i).collect();
        chosen.sort_unstable();
        return chosen.into_iter().map(|i| known[i].1.clone()).collect();
    }
    let split = known.partition_point(|(v, _)| v < &version);
    [split.checked_sub(1), (split < known.len()).then_some(split)]
        .into_iter()
        .flatten()
        .map(|i| known[i].1.clone())
        .collect()
}

/// How far a version is from the one asked for; smaller is closer.
#[derive(Debug, Clone, Copy)]
enum Closeness {
    /// Both are numbers: how far apart they are, the shorter read as the range of the versions
    /// it starts (`202401` covers every version of January 2024, at distance 0).
    Numeric(u128),
    /// Otherwise (dotted Flyway versions, numbers too long for u128): 1 - their strsim
    /// Jaro-Winkler similarity. Ranked after every numeric one.
    Spelling(f64),
}

impl Closeness {
    fn total_cmp(&self, other: &Closeness) -> std::cmp::Ordering {
        use Closeness::*;
        match (self, other) {
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (Spelling(a), Spelling(b)) => a.total_cmp(b),
            (Numeric(_), Spelling(_)) => std::cmp::Ordering::Less,
            (Spelling(_), Numeric(_)) => std::cmp::Ordering::Greater,
        }
    }
}

fn closeness(wanted: &str, text: &str) -> Closeness {
    let width = wanted.len().max(text.len());
    // The `width`-digit numbers a number of fewer digits stands for, lowest and highest.
    let range = |digits: &str| -> Option<(u128, u128)> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = 10u128.checked_pow(u32::try_from(width - digits.len()).ok()?)?;
        let low = digits.parse::<u128>().ok()?.checked_mul(scale)?;
        Some((low, low.checked_add(scale - 1)?))
    };
    match (range(wanted), range(text)) {
        (Some((a_low, a_high)), Some((b_low, b_high))) => {
            Closeness::Numeric(b_low.saturating_sub(a_high).max(a_low.saturating_sub(b_high)))
        }
        _ => Closeness::Spelling(1.0 - strsim::jaro_winkler(wanted, text)),
    }
}

pub fn repair(settings: &Settings, args: &RepairArgs) -> Result<i32> {
    let migrator = migrator(settings)?;
    if args.accept_other_history {
        let progress = progress(settings);
        let on_event = &mut |e: Event| progress.event(&e);
        let histories = block_on(migrator.accept_other_history(&args.reason, on_event))?;
        if settings.json {
            print_json(&histories);
        } else if !settings.quiet {
            for a in &histories.accepted {
                println!(
                    "recorded {}'s history ({}) as it is now: `shale status` warns again only when it changes; the \
                     schema was not compared (`shale drift` shows what {} changed that no migration of shale's makes)",
                    a.tool, a.table, a.tool
                );
            }
            if histories.accepted.is_empty() && histories.left.is_empty() {
                println!("nothing to accept: no other tool's history has changed since the baseline");
            }
        }
        for l in &histories.left {
            crate::output::warning(&format!(
                "{}'s history ({}) is not accepted: {} ran these migrations here a second time; check the schema \
                 (`shale drift`), then drop its table, as `shale status` says",
                l.tool, l.table, l.tool
            ));
        }
        return Ok(if histories.left.is_empty() { 0 } else { 1 });
    }
    let decision = match (args.applied, args.resume_at) {
        (true, _) => RepairDecision::Applied,
        (false, Some(at)) => RepairDecision::ResumeAt(at),
        (false, None) => RepairDecision::RolledBack,
    };
    if args.all_missing && decision == RepairDecision::RolledBack && !args.force {
        anyhow::bail!(shale::Error::Invalid(
            "--all-missing --rolled-back makes the next `shale up` run every migration whose file is gone again \
             (all of them, where --dir is not the directory the database was migrated from): repair each with \
             `shale repair VERSION --rolled-back`, or give --force"
                .into()
        ));
    }
    if args.version.len() > 1 && args.resume_at.is_some() {
        anyhow::bail!(shale::Error::Invalid(
            "--resume-at is a statement of one migration: give one VERSION with it".into()
        ));
    }
    // Each version read before any is recorded: a mistyped one records none.
    let versions = match args.version.is_empty() {
        false => args.version.iter().map(|v| parse_version(settings, v)).collect::<Result<Vec<_>>>()?,
        true => missing_versions(&migrator)?,
    };
    let progress = progress(settings);
    let mut reports = Vec::with_capacity(versions.len());
    for version in &versions {
        let on_event = &mut |e: Event| progress.event(&e);
        let report = block_on(migrator.repair(version, decision, &args.reason, args.force, on_event))?;
        if !settings.json {
            print_repair(settings, &report);
        }
        reports.push(report);
    }
    match (settings.json, args.all_missing || args.version.len() > 1) {
        (true, false) => print_json(&reports[0]),
        (true, true) => print_json(&reports),
        (false, true) if reports.is_empty() && !settings.quiet => {
            println!("nothing to repair: no applied migration is missing its file")
        }
        _ => {}
    }
    Ok(0)
}

/// The applied migrations whose file is gone (`repair --all-missing`), in version order.
fn missing_versions(migrator: &shale::Migrator) -> Result<Vec<shale::Version>> {
    let status = block_on(migrator.status())?;
    let missing = status.migrations.iter().filter(|m| m.state == shale_core::plan::State::Missing);
    Ok(missing.filter_map(|m| m.version.as_deref().and_then(shale::Version::parse)).collect())
}

fn print_repair(settings: &Settings, report: &shale::RepairReport) {
    let version = &report.version;
    if !report.recorded {
        eprintln!("nothing to record: migration {version} is applied as it is (the history is unchanged)");
        return;
    }
    if settings.quiet {
        return;
    }
    let what = match report.decision {
        RepairDecision::Applied if report.without_file => {
            "applied, with no file (removed on purpose: no longer counted as missing)".to_string()
        }
        RepairDecision::Applied => "applied".to_string(),
        RepairDecision::RolledBack => "not applied (`shale up` will run it)".to_string(),
        RepairDecision::ResumeAt(at) => {
            format!("applied up to statement {} (`shale up` continues at statement {at})", at - 1)
        }
    };
    println!("recorded: migration {version} is {what}; reason kept in the history");
}

fn print_report(settings: &Settings, report: &RunReport, verb: &str, nothing: &str) {
    if settings.json {
        print_json(report);
        return;
    }
    if settings.quiet {
        return;
    }
    // Written where it can be: a reader gone away (`| head`) does not make it fail.
    let mut out = std::io::stdout().lock();
    for file in &report.callbacks {
        let _ = writeln!(out, "callback {file}");
    }
    if report.steps.is_empty() {
        let _ = writeln!(out, "{nothing} (version {})", report.current_version.as_deref().unwrap_or("none"));
        return;
    }
    // A redo is a down and an up of each migration: each counted once.
    let count = match verb {
        "redone" => report.steps.iter().filter(|s| s.direction == shale_core::StepDirection::Up).count(),
        _ => report.steps.len(),
    };
    // Each migration's line was printed when it finished (see Progress).
    let _ = match verb {
        "seeded" => writeln!(out, "{verb} {count} seed file(s) in {} ms", report.duration_ms),
        _ => writeln!(
            out,
            "{verb} {count} migration(s) in {} ms; now at version {}",
            report.duration_ms,
            report.current_version.as_deref().unwrap_or("none")
        ),
    };
}

/// A lint report's effects, findings and cleared statements, by file.
struct ReportByFile<'r> {
    effects: HashMap<&'r Path, Vec<&'r (PathBuf, usize, shale_lint::Effect)>>,
    findings: HashMap<&'r Path, Vec<&'r shale_lint::Finding>>,
    cleared: HashMap<&'r Path, Vec<&'r shale_lint::Cleared>>,
}

impl<'r> ReportByFile<'r> {
    fn new(report: &'r shale_lint::Report) -> ReportByFile<'r> {
        let mut by = ReportByFile { effects: HashMap::new(), findings: HashMap::new(), cleared: HashMap::new() };
        for e in &report.effects {
            by.effects.entry(e.0.as_path()).or_default().push(e);
        }
        for f in &report.findings {
            by.findings.entry(f.path.as_path()).or_default().push(f);
        }
        for c in &report.cleared {
            by.cleared.entry(c.path.as_path()).or_default().push(c);
        }
        by
    }

    fn effects(&self, path: &Path) -> impl Iterator<Item = &'r (PathBuf, usize, shale_lint::Effect)> + '_ {
        self.effects.get(path).into_iter().flatten().copied()
    }

    fn findings(&self, path: &Path) -> impl Iterator<Item = &'r shale_lint::Finding> + '_ {
        self.findings.get(path).into_iter().flatten().copied()
    }

    fn cleared(&self, path: &Path) -> impl Iterator<Item = &'r shale_lint::Cleared> + '_ {
        self.cleared.get(path).into_iter().flatten().copied()
    }
}

/// `--dry-run`: files, order, statements and transaction handling, what each statement locks and
/// the safety check's verdict on it; `refused` is why `up` would refuse the plan. Nothing runs.
/// What a dry run says beside its plan.
struct PlanContext<'a> {
    changed_since_baseline: &'a [shale::ChangedSinceBaseline],
    /// The Flyway callbacks the run would run, in their order (an `up`'s).
    callbacks: &'a [&'a shale_core::layout::Callback],
}

fn print_plan(
    settings: &Settings,
    plan: &Plan,
    single_transaction: bool,
    report: &shale_lint::Report,
    refused: Option<(&str, &str)>,
    PlanContext { changed_since_baseline, callbacks }: PlanContext,
) {
    let callback_files: Vec<&str> = callbacks.iter().map(|c| c.file.as_str()).collect();
    // The report by file, looked up once per step: a plan of a thousand files has tens of
    // thousands of statements, and scanning the whole report for each was quadratic.
    let by_file = ReportByFile::new(report);
    // A statement's findings, wherever in it each one points (a column's line, say).
    // What the linter says of the statement at `span`, on `lines`: the findings whose statement
    // starts in it (one a DO block runs starts inside the block), and what was cleared there.
    let at = |path: &std::path::Path, lines: &std::ops::RangeInclusive<usize>, span: &std::ops::Range<usize>| {
        let findings: Vec<_> =
            by_file.findings(path).filter(|f| f.span.start == span.start || span.contains(&f.span.start)).collect();
        let cleared: Vec<_> = by_file.cleared(path).filter(|c| lines.contains(&c.line)).collect();
        (findings, cleared)
    };
    if settings.json {
        let steps: Vec<_> = plan
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "version": s.version.as_ref().map(|_| &s.version_text),
                    "name": s.name,
                    "direction": s.direction,
                    "path": s.script.path,
                    "transaction": if s.script.no_transaction.is_some() { "none" } else if single_transaction { "batch" } else { "own" },
                    "no_transaction_reason": s.script.no_transaction,
                    "resume_from_statement": s.resume_from + 1,
                    "statements": (0..s.script.statements.len()).map(|i| s.script.statement_text(i)).collect::<Vec<_>>(),
                    "locks": by_file.effects(&s.script.path).map(|(_, line, e)| serde_json::json!({
                        "line": line, "table": e.table, "default_partition": e.default_partition, "lock": e.lock, "rewrites": e.rewrites, "scans": e.scans,
                    })).collect::<Vec<_>>(),
                    "findings": by_file.findings(&s.script.path).collect::<Vec<_>>(),
                    "cleared": by_file.cleared(&s.script.path).collect::<Vec<_>>(),
                    "syntax_errors": report.syntax_errors.iter().filter(|e| e.path == s.script.path).collect::<Vec<_>>(),
                    "unread": report.unread.iter().filter(|e| e.path == s.script.path).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut document = serde_json::json!({ "dry_run": true, "refused": refused.is_some(), "refusal": refused.map(|(_, why)| why), "steps": steps, "changed_since_baseline": super::status::changed_since_baseline_json(changed_since_baseline) });
        if !callback_files.is_empty() {
            document["callbacks"] = serde_json::json!(callback_files);
        }
        print_json(&document);
        return;
    }
    // (Flyway trial: a dry run did not say which callbacks the run would run.)
    let callbacks_line = || {
        println!("the Flyway callbacks that would run, each in a transaction of its own: {}", callback_files.join(", "))
    };
    if plan.steps.is_empty() {
        println!("dry run: nothing to do");
        if !callback_files.is_empty() {
            callbacks_line();
        }
        return;
    }
    println!("dry run: {} migration(s) would run, in this order (nothing is executed)", plan.steps.len());
    for (n, s) in plan.steps.iter().enumerate() {
        let verb = if s.direction == StepDirection::Up { "apply" } else { "revert" };
        let how = match &s.script.no_transaction {
            Some(reason) => format!("outside a transaction, statement by statement: {reason}"),
            None if single_transaction => "in the batch's single transaction".to_string(),
            None => "in its own transaction".to_string(),
        };
        println!("\n{}. {verb} {} ({})\n   {how}", n + 1, s.label(), s.script.path.display());
        let index = shale_core::LineIndex::new(&s.script.text);
        for (i, st) in s.script.statements.iter().enumerate().skip(s.resume_from) {
            let (line, _) = index.line_col(&s.script.text, st.span.start);
            let text = s.script.statement_text(i);
            let first = text.lines().next().unwrap_or("");
            let more =
                if text.lines().count() > 1 { format!(" … ({} lines)", text.lines().count()) } else { String::new() };
            println!("   [{}] line {line}: {first}{more}", i + 1);
            // The lines it spans: the locks of the statements a DO block runs are on the lines
            // they are written on, inside it.
            let last = index.line_col(&s.script.text, st.span.end.saturating_sub(1).max(st.span.start)).0;
            let lines = line..=last.max(line);
            let here = by_file.effects(&s.script.path).filter(|(_, l, _)| lines.contains(l));
            for text in super::lint::describe(here.map(|(_, _, e)| e)) {
                println!("       {text}");
            }
            let (findings, cleared) = at(&s.script.path, &lines, &st.span);
            for f in findings {
                let verdict = match (f.allowed, f.severity) {
                    (true, _) => "allowed in the file",
                    // The safety check holds back ups only: a down removes what its up added.
                    (false, shale_lint::Severity::Error) if s.direction == StepDirection::Down => {
                        "unsafe, and a down runs it anyway (review it)"
                    }
                    (false, shale_lint::Severity::Error) => "refused",
                    (false, _) => "warning",
                };
                println!("       {verdict}: [{}] {}", f.rule, f.message);
            }
            for c in cleared {
                println!("       fine: {} ([{}] applies to {})", c.reason, c.rule, c.applies_to);
            }
        }
        if s.script.statements.is_empty() {
            let recorded = if s.direction == StepDirection::Down { "reverted" } else { "applied" };
            println!("   (empty: recorded as {recorded}, nothing runs)");
        }
    }
    if !callback_files.is_empty() {
        println!();
        callbacks_line();
    }
    for e in &report.syntax_errors {
        println!("\n{e}");
    }
    for e in &report.unread {
        println!("\n{}", super::lint::unread_note(e));
    }
    if let Some((command, why)) = refused {
        println!("\n`shale {command}` would refuse this plan:\n{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::nearest;

    fn known(versions: &[&str]) -> Vec<(shale::Version, String)> {
        versions.iter().map(|v| (shale::Version::parse(v).unwrap(), v.to_string())).collect()
    }

    #[test]
    fn the_nearest_versions_are_spelled_like_it_or_beside_it() {
        let numbered = known(&["0013", "0024", "0026", "0030", "0032"]);
        assert_eq!(nearest("25", &numbered), ["0024", "0026"]);
        // Short numbers all look alike: only the neighbours, not 0013 for 31.
        assert_eq!(nearest("0031", &numbered), ["0030", "0032"]);
        assert_eq!(nearest("99", &numbered), ["0032"]);
        // 1 starts 185, but is no timestamp cut short of it (harbor's versions).
        let harbor = known(&["0001", "0010", "0181", "0190"]);
        assert_eq!(nearest("185", &harbor), ["0181", "0190"]);
        assert_eq!(nearest("1801", &harbor), ["0190"]);
        let stamps = known(&["20240101120000", "20240115093000", "20240201000000"]);
        assert_eq!(nearest("20240115", &stamps), ["20240115093000"]);
        assert_eq!(nearest("20240115093001", &stamps), ["20240115093000"]);
        assert_eq!(nearest("20240120000000", &stamps), ["20240115093000", "20240201000000"]);
        assert!(nearest("x", &stamps).is_empty());
    }

    #[test]
    fn the_nearest_versions_are_ranked_by_closeness_before_three_are_taken() {
        // One digit wrong: the numerically closest, not the first three in file order.
        let stamps = known(&["20230115093001", "20240115093000", "20240115093002", "20240115093011", "20240115193001"]);
        assert_eq!(nearest("20240115093001", &stamps), ["20240115093000", "20240115093002", "20240115093011"]);
        // A cut-short timestamp covers every version it starts: of those, the newest, not the oldest.
        let january = known(&[
            "20240101120000",
            "20240105120000",
            "20240110120000",
            "20240120120000",
            "20240131120000",
            "20240201000000",
        ]);
        assert_eq!(nearest("202401", &january), ["20240110120000", "20240120120000", "20240131120000"]);
        // Versions that are not one number are ranked by how alike they are spelled.
        let dotted = known(&["0.2.3.6", "1.2.3.4", "1.2.3.5", "1.2.3.4.5.6", "1.2.3.7"]);
        assert_eq!(nearest("1.2.3.6", &dotted), ["1.2.3.4", "1.2.3.5", "1.2.3.7"]);
    }
}
