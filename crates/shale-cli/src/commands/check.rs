//! `shale check`: for CI, on a throwaway server. Apply every migration from empty; for each one with
//! a down, check that up, down, up works and that down restores the schema exactly; optionally
//! compare the result with a live database (`--against URL`).

use super::throwaway::{live_schema, Throwaway};
use anyhow::Result;
use shale::{ConnectionSettings, Migrator, Target, UpRequest};
use shale_core::MigrationKind;
use shale_schema::compare::{differences, Difference};

use super::{block_on, load_set, print_json};
use crate::error::{Replay, ReplayFailed};
use crate::settings::Settings;

#[derive(Debug, serde::Serialize)]
struct MigrationCheck {
    version: Option<String>,
    name: String,
    /// None when the migration has no down.
    down_restores_schema: Option<bool>,
    /// What down left different from the schema before up.
    differences: Vec<Difference>,
    /// The down was generated from the schemas before and after (`--generate-downs`).
    down_generated: bool,
    /// The down failed on the throwaway database: the server's message, at its file and line.
    #[serde(skip_serializing_if = "Option::is_none")]
    down_failed: Option<String>,
    /// It failed reverting a database the repeatable migrations had run on (their views), where it
    /// had passed reverting the migration alone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    down_failed_after_repeatables: bool,
    /// It changes no schema object (it only writes rows): its generated down does nothing, and
    /// is not run (applying the migration again would only write its rows twice).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    changes_no_schema: bool,
    /// Its down restored the schema, but applying it again then failed: the server's message (a
    /// down that leaves the rows the migration wrote, and the migration inserting them again).
    #[serde(skip_serializing_if = "Option::is_none")]
    reapply_failed: Option<String>,
}

/// Runs `print` (a line saying what passed) unless `-q` asked for errors only.
fn quiet_or(settings: &Settings, print: impl FnOnce()) {
    if !settings.quiet {
        print();
    }
}

/// The squash against the files it replaced (`shale squash`), each history replayed whole.
#[derive(Debug, serde::Serialize)]
struct SquashCheck {
    label: String,
    archive: std::path::PathBuf,
    differences: Vec<Difference>,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Also compare the result with this live database (as `shale drift`)
    #[arg(long, value_name = "URL")]
    pub against: Option<String>,
    /// A server where shale may create (and drop) a scratch database [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Check migrations without a down with the down `shale down --generate` would compute
    #[arg(long)]
    pub generate_downs: bool,
    /// Go on past a down that fails or does not restore the schema (its migration applied again),
    /// to list every such down in one run; stops where that migration cannot be applied again
    #[arg(long)]
    pub keep_going: bool,
    /// Where `shale squash` moved the files a squash replaced [default: the migrations directory's name with `_archive`, beside it]
    #[arg(long, value_name = "DIR")]
    pub archive: Option<std::path::PathBuf>,
}

pub fn run(settings: &Settings, args: &CheckArgs) -> Result<i32> {
    let set = load_set(settings)?;
    let history = &settings.history;
    // The live database of `--against` is read first (as `drift` reads it: PG* variables fill in
    // the URL, the configured history table left out), so that the replay builds where
    // unqualified names land there.
    let (live, home) = match &args.against {
        Some(url) => {
            let mut connection = ConnectionSettings::parse(url)?;
            connection.fill_from_env(&|k| std::env::var(k).ok())?;
            let (live, home) = live_schema(&connection, &Default::default(), history)?;
            (Some(live), home)
        }
        None => (None, None),
    };
    let mut throwaway = Throwaway::create(settings, settings.scratch_server(args.dev_url.as_deref()))?;
    let scratch = throwaway.first()?.landing_in(home, set.migrations.iter().map(|m| &*m.up.text))?;
    let mut replay =
        Migrator::new(super::diff::replayable(settings, set.clone().into()), scratch.migrator_config(history));
    let schema = || scratch.read_schema(history);
    // Read as it is where two reads are compared: what replay_setup made and the migration
    // changed stays in both (see `Scratch::before_and_after`).
    let as_is = || scratch.read_as_is(history);
    // A scratch database: what replay_setup made is no history's.
    let one = UpRequest {
        target: Some(Target::Steps(1)),
        allow_out_of_order: true,
        allow_over_existing_tables: true,
        ..Default::default()
    };
    let mut checks = Vec::new();
    // After a down that leaves something behind, the next `up` would trip over it: stop there.
    let mut stopped = false;
    // Why applying a migration again over what its down left failed, where that stopped the check.
    let mut reapply_failure: Option<String> = None;
    for m in set.versioned() {
        // The schema before is read only where a down will be checked against it: a catalog
        // read per migration is most of the time of a check of a history without downs.
        // A down that holds no statement (dbmate's empty `-- migrate:down`) is none to check.
        let down = m.down.as_ref().filter(|d| !d.runs_nothing());
        let checked = down.is_some() || (args.generate_downs && m.version.is_some());
        let before = if checked { Some(as_is()?) } else { None };
        ReplayFailed::of(block_on(replay.up(&one, &mut |_| {})), Replay::Check)?;
        let mut check = MigrationCheck {
            version: Some(m.version_text.clone()),
            name: m.name.clone(),
            down_restores_schema: None,
            differences: Vec::new(),
            down_generated: false,
            down_failed: None,
            down_failed_after_repeatables: false,
            changes_no_schema: false,
            reapply_failed: None,
        };
        if let (None, true, Some(before)) = (down, args.generate_downs, &before) {
            if let Some(version) = &m.version {
                let (before, after) = scratch.before_and_after(before.clone(), as_is()?)?;
                check.down_generated = true;
                if differences(&before, &after).is_empty() {
                    check.changes_no_schema = true;
                    check.down_restores_schema = Some(true);
                    checks.push(check);
                    continue;
                }
                let (sql, _) =
                    super::generated_down::between(&m.label(), &before, &after, m.up.runs_outside_a_transaction());
                replay.generated_downs.insert(version.clone(), sql.into());
            }
        }
        if let Some(before) = before.as_ref().filter(|_| down.is_some() || check.down_generated) {
            // A down that fails is this migration's failure, not the replay's: said on its line.
            if let Some(why) = migration_failed(block_on(replay.down(&Target::Steps(1), &mut |_| {})))? {
                check.down_failed = Some(why);
                check.down_restores_schema = Some(false);
                checks.push(check);
                // The down's transaction was rolled back: the migration is still applied, and the
                // next one can be checked (a down outside a transaction may have left part of it).
                if args.keep_going && down.is_some_and(|d| d.no_transaction.is_none()) {
                    continue;
                }
                stopped = true;
                break;
            }
            let (before, after) = scratch.before_and_after(before.clone(), as_is()?)?;
            check.differences = differences(&before, &after);
            check.down_restores_schema = Some(check.differences.is_empty());
            if !check.differences.is_empty() {
                checks.push(check);
                // Applied again over what the down left, the migration lets the next be checked;
                // where that fails, why is said (golang-migrate trial: it was not).
                if args.keep_going {
                    match migration_failed(block_on(replay.up(&one, &mut |_| {})))? {
                        None => continue,
                        Some(why) => reapply_failure = Some(why),
                    }
                }
                stopped = true;
                break;
            }
            // Applying it again fails where the down left what its up wrote (rows in a table
            // that stays): this migration's failure, said on its line.
            if let Some(why) = migration_failed(block_on(replay.up(&one, &mut |_| {})))? {
                check.reapply_failed = Some(why);
                check.down_restores_schema = Some(false);
                checks.push(check);
                stopped = true;
                break;
            }
        }
        checks.push(check);
    }
    if !stopped {
        // Repeatables run after the versioned ones, as in a real `up`.
        ReplayFailed::of(block_on(replay.up(&UpRequest::default(), &mut |_| {})), Replay::Check)?;
    }
    // A squash must build what the files it replaced built: the whole history both ways.
    let squash = match set.versioned().find(|m| m.squashed().is_some()) {
        Some(m) if !stopped => {
            let archive = args.archive.clone().unwrap_or_else(|| super::squash::default_archive(&settings.dir));
            if archive.is_dir() {
                let unsquashed = super::squash::with_archive(set.clone(), &archive)?;
                let other = throwaway
                    .database()?
                    .landing_in(scratch.home.clone(), unsquashed.migrations.iter().map(|m| &*m.up.text))?;
                let migrator = Migrator::new(unsquashed, other.migrator_config(history));
                ReplayFailed::of(
                    block_on(migrator.up(
                        &UpRequest { allow_out_of_order: true, allow_over_existing_tables: true, ..Default::default() },
                        &mut |_| {},
                    )),
                    Replay::Check,
                )?;
                Some(SquashCheck {
                    label: m.label(),
                    archive: archive.clone(),
                    differences: differences(&other.read_schema(history)?, &schema()?),
                })
            } else {
                None
            }
        }
        _ => None,
    };
    let drift = match live {
        Some(live) if !stopped => {
            let built = schema()?;
            // Another tool's history, which `adopt` leaves in place, is no difference.
            let live = super::drift::without_other_tools_histories(settings, live, &built);
            Some(differences(&built, &live))
        }
        _ => None,
    };
    // A database `up` built has the repeatables' objects (views, functions) when a down runs there,
    // which the reverts above, each before the repeatables ran, did not: revert from the newest
    // again with them in place, so that a down a repeatable's view depends on fails here as there.
    if !stopped && set.migrations.iter().any(|m| m.kind == MigrationKind::Repeatable) {
        // (Down to the first with no down run: none of its own, or one that writes rows only.)
        let reverted = |c: &&mut MigrationCheck| c.down_restores_schema.is_some() && !c.changes_no_schema;
        for check in checks.iter_mut().rev().take_while(reverted) {
            if let Some(why) = migration_failed(block_on(replay.down(&Target::Steps(1), &mut |_| {})))? {
                check.down_failed = Some(why);
                check.down_failed_after_repeatables = true;
                check.down_restores_schema = Some(false);
                break;
            }
        }
    }
    let failed = checks.iter().any(|c| c.down_restores_schema == Some(false))
        || drift.as_ref().is_some_and(|d| !d.is_empty())
        || squash.as_ref().is_some_and(|s| !s.differences.is_empty());
    if settings.json {
        print_json(
            &serde_json::json!({ "ok": !failed, "stopped": stopped, "migrations": checks, "squash": squash, "drift": drift }),
        );
    } else {
        // Neighbours with no down to check are one line: a directory with no downs at all is one
        // line, not one per migration; which they are and what to do is said once, at the end.
        let label = |c: &MigrationCheck| format!("{} {}", c.version.as_deref().unwrap_or(""), c.name);
        let mut i = 0;
        while i < checks.len() {
            let run = checks[i..].iter().take_while(|c| c.down_restores_schema.is_none()).count();
            if run > 1 {
                let (first, last) = (&checks[i], &checks[i + run - 1]);
                quiet_or(settings, || {
                    println!("ok    {} to {} ({run} migrations): apply (no down to check)", label(first), label(last))
                });
                i += run;
                continue;
            }
            let c = &checks[i];
            i += 1;
            let label = label(c);
            match c.down_restores_schema {
                None => quiet_or(settings, || println!("ok    {label}: applies (no down to check)")),
                Some(true) if c.changes_no_schema => quiet_or(settings, || {
                    println!(
                    "ok    {label}: applies; changes no schema object, so its generated down does nothing (not run)"
                )
                }),
                Some(true) if c.down_generated => quiet_or(settings, || {
                    println!("ok    {label}: applies; its generated down restores the schema; applies again")
                }),
                Some(true) => {
                    quiet_or(settings, || println!("ok    {label}: applies; down restores the schema; applies again"))
                }
                Some(false) => {
                    let which = if c.down_generated { "its generated down" } else { "down" };
                    if let Some(why) = &c.reapply_failed {
                        println!(
                            "FAIL  {label}: {which} restores the schema, but applying it again fails (the down leaves \
                             rows it wrote?): {why}"
                        );
                        continue;
                    }
                    if let Some(why) = &c.down_failed {
                        let when =
                            if c.down_failed_after_repeatables { " once the repeatable migrations ran" } else { "" };
                        println!("FAIL  {label}: {which} fails{when}: {why}");
                        continue;
                    }
                    println!("FAIL  {label}: {which} does not restore the schema:");
                    for d in &c.differences {
                        let (before, after) = d.shown_sides();
                        println!("        {}: before up {before}, after down {after}", d.object);
                    }
                }
            }
        }
        if stopped {
            let why = match (&reapply_failure, args.keep_going) {
                (Some(failure), _) => {
                    format!(
                        ": applying the migration again over what its down left fails ({failure}); fix this down first"
                    )
                }
                (None, true) => ": fix this down first".to_string(),
                (None, false) => ": fix this down first (`--keep-going` checks past it)".to_string(),
            };
            println!("      later migrations were not checked{why}");
        }
        let no_down: Vec<&str> =
            checks.iter().filter(|c| c.down_restores_schema.is_none()).filter_map(|c| c.version.as_deref()).collect();
        if !no_down.is_empty() && !args.generate_downs {
            // Which ones, where some have a down; a few, where they are not worth a line each
            // (a Prisma project's 163 timestamps have none at all).
            const SHOWN: usize = 8;
            let which = match no_down.len() == checks.len() {
                true => "none of them has one".to_string(),
                false => {
                    let ranges = crate::output::version_ranges(&no_down);
                    let ranges: Vec<&str> = ranges.split(", ").collect();
                    match ranges.len() > SHOWN {
                        true => format!("{}, and {} more", ranges[..SHOWN].join(", "), ranges.len() - SHOWN),
                        false => ranges.join(", "),
                    }
                }
            };
            quiet_or(settings, || {
                println!(
                    "note  no down to check for {} migration(s): {which}; add downs, or run with --generate-downs to check the ones `shale down --generate` would compute",
                    no_down.len(),
                )
            });
        }
        if let Some(squash) = &squash {
            if squash.differences.is_empty() {
                quiet_or(settings, || {
                    println!(
                        "ok    {} builds the same schema as the files in {}",
                        squash.label,
                        squash.archive.display()
                    )
                });
            } else {
                println!(
                    "FAIL  {} and the files in {} build different schemas:",
                    squash.label,
                    squash.archive.display()
                );
                for d in &squash.differences {
                    let (archived, squashed) = d.shown_sides();
                    println!("        {}: with the archived files {archived}, with the squash {squashed}", d.object);
                }
            }
        }
        if let Some(drift) = &drift {
            if drift.is_empty() {
                quiet_or(settings, || println!("ok    the live database matches the migrations"));
            } else {
                println!(
                    "FAIL  the live database differs in {} object(s); run `shale drift` against it for the table",
                    drift.len()
                );
            }
        }
        println!("{}", if failed { "check failed" } else { "check passed" });
    }
    Ok(if failed { 1 } else { 0 })
}

/// A step of the replay that ran a migration's up or down: the migration's own failure on the
/// throwaway database (the server's message at its file and line, and its detail: what depends on
/// the object it drops), which is that migration's to report; any other failure is the replay's.
fn migration_failed<T>(result: Result<T, shale::Error>) -> Result<Option<String>> {
    match result {
        Err(shale::Error::Pg(shale_pg::PgError::Migration { failure, .. })) => {
            let at =
                failure.location.as_ref().map(|l| format!(" ({}:{})", l.path.display(), l.line)).unwrap_or_default();
            let detail = failure.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default();
            Ok(Some(format!("{}{at}{detail}", failure.message)))
        }
        other => ReplayFailed::of(other, Replay::Check).map(|_| None),
    }
}
