//! Many databases at once (`--targets FILE`, `--targets-query SQL`, `--schemas PATTERN`): `up`,
//! `down`, `status`, `validate` and `drift` on every target, a few at a time, then one summary.
//! Exit 0 when every target is fine, 1 when any failed, 3 when any could not be reached or locked.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use comfy_table::Cell;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use shale::fleet::{self, Fleet, FleetEvent, FleetOptions, FleetReport, Operation, Outcome, Target, TargetReport};
use shale::pg::ExecEvent;
use shale::Event;

use super::throwaway::Throwaway;
use super::{block_on, down_target, load_set, print_json};
use crate::args::Command;
use crate::output::table;
use crate::settings::{FleetTargets, Settings};

/// Errors listed under the summary before the rest is left to --json.
const ERRORS_SHOWN: usize = 20;

/// An operation, or drift, which first needs the expected schema.
enum Planned {
    Ready(Operation),
    Drift { dev_url: Option<String> },
}

pub fn run(command: Command, settings: &Settings) -> Result<i32> {
    let planned = match command {
        Command::Up(args) => {
            if args.dry_run || args.backup.is_some() || args.seed {
                return Err(invalid("--dry-run, --backup and --seed work on one database, not with a fleet"));
            }
            Planned::Ready(Operation::Up(super::migrate::up_request(settings, &args)?))
        }
        Command::Down(args) => {
            if args.dry_run {
                return Err(invalid("--dry-run works on one database, not with a fleet"));
            }
            Planned::Ready(Operation::Down(down_target(settings, &args.target)?))
        }
        Command::Status => Planned::Ready(Operation::Status),
        Command::Validate => Planned::Ready(Operation::Validate),
        Command::Drift(args) => {
            if args.fix.is_some() {
                return Err(invalid("drift --fix works on one database, not with a fleet"));
            }
            Planned::Drift { dev_url: args.dev_url.or_else(|| settings.dev_url.clone()) }
        }
        // The linter reads files only: once is enough, whatever the fleet.
        Command::Lint(args) => return super::lint::run(settings, &args),
        _ => {
            return Err(invalid(
                "--targets, --targets-query and --schemas work with up, down, status, validate, drift and lint",
            ))
        }
    };
    let set = Arc::new(load_set(settings)?);
    let targets = block_on(targets(settings))?;
    if targets.is_empty() {
        return Err(invalid(&format!("no targets: {}", source_text(settings))));
    }
    // A slice may be empty (few targets, many machines): that machine has nothing to do, which
    // is a success, not an error.
    let sliced = settings.fleet.shard.map(|shard| Sliced { shard, fleet_size: targets.len() });
    let mut targets = match settings.fleet.shard {
        Some(shard) => shard.select(targets),
        None => targets,
    };
    // shale.toml's search_path, where a target's URL gives none and it is no tenant schema (review:
    // the targets of a file or a query migrated into `public`).
    for target in targets.iter_mut().filter(|t| t.schema.is_none()) {
        if target.connection.listed_search_path().is_none() && target.connection.schema.is_none() {
            target.connection.search_path = settings.search_path.clone();
        }
    }
    let operation = match planned {
        Planned::Ready(operation) => operation,
        Planned::Drift { dev_url } => Operation::Drift(Arc::new(expected_schemas(settings, &set, &targets, dev_url)?)),
    };
    let template = super::migrator_config(settings, shale::ConnectionSettings::default());
    let fleet = Fleet::new(set, template);
    let options = FleetOptions { concurrency: settings.fleet.concurrency, fail_fast: settings.fleet.fail_fast };
    let progress = FleetProgress::new(settings, &targets, operation.name());
    let mut report = block_on(fleet.run(&targets, &operation, &options, &|e| progress.event(e)));
    progress.finish();
    for target in &mut report.targets {
        target.error = crate::error::target_error(target);
    }
    let code = crate::error::code(report.kind());
    if settings.json {
        print_json(&json(&report, code, sliced));
    } else if !settings.quiet || code != 0 {
        print_summary(&report, sliced);
    }
    Ok(code)
}

/// What the migrations build, replayed once per search_path the targets' connections set (most
/// fleets: one), each landing where unqualified names land on those targets (operator trial: a
/// target whose URL set `search_path=app` drifted by every object, built in `public`); the
/// scratch databases go right after.
fn expected_schemas(
    settings: &Settings,
    set: &Arc<shale::core::MigrationSet>,
    targets: &[Target],
    dev_url: Option<String>,
) -> Result<fleet::ExpectedSchemas> {
    // Each search_path with its targets (the first: connections that set none).
    let mut lists: Vec<(Option<String>, Vec<&Target>)> = vec![(None, Vec::new())];
    for target in targets.iter().filter(|t| t.schema.is_none()) {
        let list = target.connection.search_path_sql();
        match lists.iter_mut().find(|(l, _)| *l == list) {
            Some((_, of_it)) => of_it.push(target),
            None => lists.push((list, vec![target])),
        }
    }
    // No replay for connections that set none where no target is of them.
    if lists.len() > 1 && targets.iter().all(|t| t.schema.is_none() && t.connection.search_path_sql().is_some()) {
        lists.remove(0);
    }
    let mut throwaway = Throwaway::create(settings, dev_url.as_deref())?;
    let mut expected = fleet::ExpectedSchemas::default();
    for (list, of_it) in lists {
        // Where names land, read on the first of its targets that answers (review: one target
        // down failed the whole fleet's drift); where none does, they are all unavailable, and
        // their own runs say so.
        let home = match list {
            None => None,
            Some(_) => {
                match of_it.iter().find_map(|t| super::throwaway::home_of(&t.connection, &settings.session).ok()) {
                    Some(home) => home,
                    None => continue,
                }
            }
        };
        let scratch = match expected.by_search_path.is_empty() {
            true => throwaway.first()?,
            false => throwaway.database()?,
        };
        let scratch = scratch.landing_in(home, set.migrations.iter().map(|m| &*m.up.text))?;
        expected.setup_made = scratch.setup_made.clone();
        let built = super::diff::replay(settings, set.clone(), &scratch, crate::error::Replay::Drift, None)?;
        expected.by_search_path.push((list, Arc::new(built)));
    }
    Ok(expected)
}

/// `--shard K/N`: which slice ran, out of how many targets in the whole fleet.
#[derive(Clone, Copy)]
struct Sliced {
    shard: fleet::Shard,
    fleet_size: usize,
}

fn invalid(message: &str) -> anyhow::Error {
    shale::Error::Invalid(message.to_string()).into()
}

fn source_text(settings: &Settings) -> String {
    match &settings.fleet.targets {
        Some(FleetTargets::File(file)) => format!("{} lists none", file.display()),
        Some(FleetTargets::Query(_)) => "the --targets-query returned no rows".into(),
        Some(FleetTargets::Schemas(p)) => format!("no schema of the database matches --schemas '{p}'"),
        None => String::new(),
    }
}

async fn targets(settings: &Settings) -> Result<Vec<Target>> {
    let env = |k: &str| settings.env_var(k);
    Ok(match &settings.fleet.targets {
        Some(FleetTargets::File(file)) => fleet::read_targets_file(file, &env)?,
        Some(FleetTargets::Query(sql)) => {
            fleet::targets_from_query(&super::connection(settings)?, &settings.session, sql, &env).await?
        }
        Some(FleetTargets::Schemas(pattern)) => {
            fleet::schema_targets(&super::connection(settings)?, &settings.session, pattern).await?
        }
        None => Vec::new(),
    })
}

/// 3 when any target could not be reached or locked, else 1 when any failed, else 0.
fn is_status(report: &FleetReport) -> bool {
    matches!(report.operation, "status" | "validate" | "drift")
}

fn json(report: &FleetReport, code: i32, sliced: Option<Sliced>) -> serde_json::Value {
    let mut value = serde_json::json!({
        "operation": report.operation,
        "ok": code == 0,
        "exit_code": code,
        "concurrency": report.concurrency,
        "duration_ms": report.duration_ms,
        "counts": {
            "ok": report.count(Outcome::Ok),
            "failed": report.count(Outcome::Failed),
            "unavailable": report.count(Outcome::Unavailable),
            "skipped": report.count(Outcome::Skipped),
        },
        "servers": report.servers,
        "targets": report.targets,
    });
    if let Some(sliced) = sliced {
        value["shard"] = serde_json::json!({ "slice": sliced.shard.to_string(), "fleet_targets": sliced.fleet_size });
    }
    if is_status(report) {
        value["groups"] = serde_json::to_value(fleet::group_status(&report.targets)).unwrap_or_default();
    }
    value
}

fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
        Outcome::Unavailable => "unavailable",
        Outcome::Skipped => "skipped",
    }
}

fn version(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".into())
}

/// What happened to one target, in a few words.
fn result_text(operation: &str, r: &TargetReport) -> String {
    match (r.outcome, operation) {
        (Outcome::Ok, "up" | "down") if r.steps == 0 => "ok, nothing to do".into(),
        (Outcome::Ok, "up") => format!("ok, {} applied", r.steps),
        (Outcome::Ok, "down") => format!("ok, {} reverted", r.steps),
        (Outcome::Ok, "drift") => "no drift".into(),
        (Outcome::Failed, "drift") if r.drift.is_some() => {
            format!("drifted ({} difference(s))", r.drift.as_ref().map_or(0, Vec::len))
        }
        (Outcome::Ok | Outcome::Failed, _) if r.status.is_some() && matches!(operation, "status" | "validate") => r
            .status
            .as_ref()
            .map(|s| match s.standing.as_str() {
                same if same == s.summary => s.summary.clone(),
                standing => format!("{standing}: {}", s.summary),
            })
            .unwrap_or_default(),
        (outcome, _) => outcome_text(outcome).into(),
    }
}

fn print_summary(report: &FleetReport, sliced: Option<Sliced>) {
    if is_status(report) {
        let mut t = table(&["state", "version", "targets", "summary", "examples"]);
        for g in fleet::group_status(&report.targets) {
            let more = if g.count > g.examples.len() { ", …" } else { "" };
            t.add_row(vec![
                Cell::new(&g.state),
                Cell::new(version(&g.version)),
                Cell::new(g.count),
                Cell::new(&g.summary),
                Cell::new(format!("{}{more}", g.examples.join(", "))),
            ]);
        }
        println!("{t}");
    } else {
        let mut t = table(&["target", "from", "to", "result", "duration"]);
        for r in &report.targets {
            t.add_row(vec![
                Cell::new(&r.name),
                Cell::new(version(&r.from_version)),
                Cell::new(version(&r.to_version)),
                Cell::new(result_text(report.operation, r)),
                Cell::new(format!("{} ms", r.duration_ms)),
            ]);
        }
        println!("{t}");
    }
    let errors: Vec<_> =
        report.targets.iter().filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Unavailable)).collect();
    if !errors.is_empty() {
        println!();
        for r in errors.iter().take(ERRORS_SHOWN) {
            println!("{} ({}): {}", r.name, outcome_text(r.outcome), r.error.as_deref().unwrap_or(""));
        }
        if errors.len() > ERRORS_SHOWN {
            println!("... and {} more (all of them with --json)", errors.len() - ERRORS_SHOWN);
        }
    }
    let skipped = report.count(Outcome::Skipped);
    let slice = match sliced {
        Some(s) => format!("shard {} of a fleet of {}: ", s.shard, s.fleet_size),
        None => String::new(),
    };
    println!(
        "\n{slice}{} target(s): {} ok, {} failed, {} unavailable{}; {} at a time, {:.1} s",
        report.targets.len(),
        report.count(Outcome::Ok),
        report.count(Outcome::Failed),
        report.count(Outcome::Unavailable),
        if skipped > 0 { format!(", {skipped} skipped (--fail-fast)") } else { String::new() },
        report.concurrency,
        report.duration_ms as f64 / 1000.0,
    );
}

/// Progress on stderr: bars per running target and an overall count on a terminal, one line per
/// finished target otherwise, nothing with -q or --json.
struct FleetProgress<'a> {
    mode: Mode,
    targets: &'a [Target],
    operation: &'static str,
    done: AtomicUsize,
}

enum Mode {
    Quiet,
    Lines,
    Bars { multi: MultiProgress, overall: ProgressBar, running: Mutex<Vec<Option<ProgressBar>>> },
}

impl<'a> FleetProgress<'a> {
    fn new(settings: &Settings, targets: &'a [Target], operation: &'static str) -> FleetProgress<'a> {
        let mode = if settings.quiet || settings.json {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let multi = MultiProgress::new();
            let overall = multi.add(ProgressBar::new(targets.len() as u64));
            overall.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} targets {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Mode::Bars { multi, overall, running: Mutex::new(vec![None; targets.len()]) }
        } else {
            Mode::Lines
        };
        FleetProgress { mode, targets, operation, done: AtomicUsize::new(0) }
    }

    fn line(&self, text: String) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => {
                let _ = writeln!(anstream::stderr(), "{text}");
            }
            Mode::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
        }
    }

    fn event(&self, event: FleetEvent<'_>) {
        // The server's warning is the migration author's word: said with -q and --json too, as a
        // single database's `up` says it.
        if let FleetEvent::Migrator { index, event: Event::Exec(ExecEvent::ServerWarning { label, message }) } = &event
        {
            crate::output::target_server_warning(&self.targets[*index].name, label, message, |text| match self.mode {
                Mode::Bars { .. } => self.line(text),
                _ => eprintln!("{text}"),
            });
            return;
        }
        if matches!(self.mode, Mode::Quiet) {
            return;
        }
        match event {
            FleetEvent::Scheduled { targets, concurrency, limits } => {
                let capped = limits
                    .iter()
                    .filter_map(|l| l.max_targets.filter(|m| *m < l.targets).map(|m| (l, m)))
                    .map(|(l, m)| format!("; {} has connections for {m} at once", l.server))
                    .collect::<String>();
                let text = format!("{targets} target(s), {concurrency} at a time{capped}");
                match &self.mode {
                    Mode::Bars { overall, .. } => overall.set_message(text),
                    _ => self.line(text),
                }
            }
            FleetEvent::Started { index, target } => {
                if let Mode::Bars { multi, overall, running } = &self.mode {
                    let bar = multi.insert_before(overall, ProgressBar::new(0));
                    bar.set_style(
                        ProgressStyle::with_template("  {prefix:24} {bar:20} {pos}/{len} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_prefix(target.name.clone());
                    lock(running)[index] = Some(bar);
                }
            }
            FleetEvent::Migrator { index, event } => {
                let name = &self.targets[index].name;
                if let Event::LockWaiting(holder) = &event {
                    self.line(format!("{name}: waiting for the migration lock, held by {holder}"));
                }
                if let Mode::Bars { running, .. } = &self.mode {
                    let running = lock(running);
                    let Some(bar) = running[index].as_ref() else { return };
                    match event {
                        Event::Planned { steps } => bar.set_length(steps as u64),
                        Event::Exec(ExecEvent::StepStarted { label, .. }) => bar.set_message(label),
                        Event::Exec(ExecEvent::StepFinished { .. }) => bar.inc(1),
                        _ => {}
                    }
                }
            }
            FleetEvent::Finished { index, report } => {
                let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                let mut what = format!(
                    "{} ({} -> {})",
                    result_text(self.operation, report),
                    version(&report.from_version),
                    version(&report.to_version)
                );
                if let (Outcome::Failed | Outcome::Unavailable, Some(error)) =
                    (report.outcome, crate::error::target_error(report))
                {
                    what.push_str(&format!(": {error}"));
                }
                let text =
                    format!("[{done}/{}] {}: {what} ({} ms)", self.targets.len(), report.name, report.duration_ms);
                match &self.mode {
                    Mode::Bars { multi, overall, running } => {
                        if let Some(bar) = lock(running)[index].take() {
                            bar.finish_and_clear();
                            multi.remove(&bar);
                        }
                        overall.inc(1);
                        if report.outcome != Outcome::Ok {
                            let _ = multi.println(text);
                        }
                    }
                    _ => self.line(text),
                }
            }
        }
    }

    fn finish(&self) {
        if let Mode::Bars { overall, .. } = &self.mode {
            overall.finish_and_clear();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
