//! Read-only commands: status, validate, version.

use anyhow::Result;
use comfy_table::Cell;
use shale_core::{plan::State, MigrationKind, PlanError};

use super::{block_on, load_set, migrator, print_json};
use crate::output::{ms, table};
use crate::settings::Settings;

pub fn status(settings: &Settings) -> Result<i32> {
    let migrator = super::migrator_with(settings, super::require_migrations(settings, load_set(settings)?)?)?;
    let report = block_on(migrator.status())?;
    if settings.json {
        let mut value = serde_json::to_value(&report)?;
        value["ignored"] = serde_json::to_value(&migrator.set().ignored)?;
        value["changed_since_baseline"] = changed_since_baseline_json(&report.changed_since_baseline);
        print_json(&value);
        return Ok(0);
    }
    if settings.quiet {
        return Ok(0);
    }
    crate::output::note_ignored(settings, &migrator.set(), true, &cannot_run(&report));
    crate::output::warn_graphile_edited(&migrator.set(), Some(&still_to_run(&report.migrations)), &settings.dir);
    // Flyway's Java migrations taken over by adopt: applied, with no file; one note for all.
    let java: Vec<&str> =
        report.migrations.iter().filter(|r| r.java_class.is_some()).filter_map(|r| r.version.as_deref()).collect();
    match java.as_slice() {
        [] => {}
        [one] => crate::output::note(&format!(
            "migration {one} is a Java migration Flyway ran: it has no file and shale cannot run it, so it counts as applied here; a new database gets nothing of it (port it to SQL where one needs its work)"
        )),
        many => crate::output::note(&format!(
            "migrations {} are Java migrations Flyway ran: they have no file and shale cannot run them, so they count as applied here; a new database gets nothing of them (port one to SQL where a database needs its work)",
            many.join(", ")
        )),
    }
    let mut t = table(&["version", "name", "state", "applied at", "duration"]);
    for row in &report.migrations {
        let version = match row.kind {
            MigrationKind::Repeatable => "R".to_string(),
            MigrationKind::Seed => "seed".to_string(),
            MigrationKind::Versioned => row.version.clone().unwrap_or_default(),
        };
        // Applied by the tool whose history shale took over, which `up` refuses to run again.
        let listed_in = |labels: &[String]| {
            row.version.as_deref().is_some_and(|v| labels.iter().any(|m| m.split(' ').next() == Some(v)))
        };
        let applied_by = report.applied_by_the_other_tool.as_ref().filter(|by| listed_in(&by.migrations));
        let state = match report.applied_before_adoption.as_ref() {
            Some(by) if listed_in(&by.failed) => {
                plain_cell(format!("pending, {} failed on it (not adopted)", by.tool), comfy_table::Color::Red)
            }
            Some(by) if listed_in(&by.migrations) && row.state == State::Unrunnable => {
                plain_cell(format!("cannot-run, applied by {} (not adopted)", by.tool), comfy_table::Color::Yellow)
            }
            Some(by) if listed_in(&by.migrations) => {
                plain_cell(format!("pending, applied by {} (not adopted)", by.tool), comfy_table::Color::Yellow)
            }
            _ if being_applied(&report, row) => {
                plain_cell("running (being applied now)".into(), comfy_table::Color::Yellow)
            }
            // Its run stopped with no error from the server (cut off by a kill, a failover or
            // Ctrl-C, or a repair's resume point): not failed (operator trial: shown as failed,
            // with no error to show).
            _ if row.state == State::Failed && row.error.is_none() => {
                plain_cell("stopped part-way".into(), comfy_table::Color::Red)
            }
            _ => state_cell(row, applied_by.map(|since| since.tool)),
        };
        t.add_row(vec![
            Cell::new(version),
            Cell::new(&row.name),
            state,
            Cell::new(row.applied_at.as_deref().unwrap_or("")),
            Cell::new(ms(row.duration_ms)),
        ]);
    }
    println!("{t}");
    let count = |states: &[State]| {
        report.migrations.iter().filter(|r| states.contains(&r.state) && !being_applied(&report, r)).count()
    };
    // Of the applied, those another tool ran and `shale adopt` took over.
    let adopted: Vec<_> = report.migrations.iter().filter(|r| r.adopted && r.state == State::Applied).collect();
    let adopted = match adopted.first() {
        None => String::new(),
        Some(first) => {
            let from = match first.adopted_from {
                Some(tool) if adopted.iter().all(|r| r.adopted_from == Some(tool)) => format!(" from {tool}"),
                _ => String::new(),
            };
            format!(" ({} of them adopted{from})", adopted.len())
        }
    };
    let mut summary = format!(
        "\nversion {}; {} applied{adopted}, {} pending",
        report.current_version.as_deref().unwrap_or("none"),
        count(&[State::Applied, State::Baseline]),
        count(&[State::Pending, State::OutOfOrder]),
    );
    // The languages of those shale cannot run: goose's Go, a module written since the switch.
    let mut languages: Vec<&str> = report
        .migrations
        .iter()
        .filter(|r| r.state == State::Unrunnable)
        .map(|r| r.path.as_deref().map_or("Go", shale::core::layout::written_in))
        .collect();
    languages.sort_unstable();
    languages.dedup();
    let unrunnable = format!("written in {}, which shale cannot run", languages.join(" or "));
    let cut_off = report
        .migrations
        .iter()
        .filter(|r| r.state == State::Failed && r.error.is_none() && !being_applied(&report, r))
        .count();
    let failed = count(&[State::Failed]) - cut_off;
    let failed_words = match (failed, cut_off) {
        (0, 0) => String::new(),
        (f, 0) => format!(", {f} failed (see `shale validate`)"),
        (0, c) => format!(", {c} stopped part-way (see `shale validate`)"),
        (f, c) => format!(", {f} failed and {c} stopped part-way (see `shale validate`)"),
    };
    summary.push_str(&failed_words);
    for (state, words) in [
        (State::Modified, "changed since applied"),
        (State::Missing, "missing their file"),
        (State::Unrunnable, unrunnable.as_str()),
    ] {
        match count(&[state]) {
            0 => {}
            n => summary.push_str(&format!(", {n} {words}")),
        }
    }
    if let Some(holder) =
        report.running_now.as_ref().filter(|_| report.migrations.iter().any(|r| being_applied(&report, r)))
    {
        summary.push_str(&format!(", 1 being applied now by the runner holding the migration lock ({holder})"));
    }
    match report.migrations.iter().filter(|r| r.down_stopped_at.is_some()).count() {
        0 => {}
        n => summary
            .push_str(&format!(", {n} with a down that stopped part-way (`shale down` goes on where it stopped)")),
    }
    if let Some(by) = report.applied_before_adoption.as_ref().filter(|by| !by.migrations.is_empty()) {
        summary.push_str(&format!(
            " ({} of them applied by {}, which `shale adopt` takes over)",
            by.migrations.len(),
            by.tool
        ));
    }
    println!("{summary}");
    if report.standby == Some(true) {
        crate::output::note(STANDBY_NOTE);
    }
    // What `adopt` will refuse, said before it is run (sqlx and golang-migrate trials: a dirty
    // version read as applied, an edited file as one to take over).
    if let Some(by) = report.applied_before_adoption.as_ref().filter(|by| !by.refusals.is_empty()) {
        let more = match by.refusals.len() {
            n if n > 3 => format!("; and {} more", n - 3),
            _ => String::new(),
        };
        crate::output::warning(&format!(
            "`shale adopt` will refuse this history as it is: {}{more} (`shale adopt --dry-run` says what to do)",
            by.refusals[..by.refusals.len().min(3)].join("; ")
        ));
    }
    // After the table, where a long one leaves the eye: what to do before anything here is run.
    note_foreign(&report.foreign, &migrator.set());
    for text in crate::error::moved_texts(&moved_in_the_plan(&migrator, &report)) {
        crate::output::warning(&text);
    }
    warn_about_the_adopted_tool(&report, false);
    warn_changed_since_baseline(&report.changed_since_baseline);
    warn_written_about_the_switch(&report.written_about_the_switch);
    note_tables_without_history(&report);
    Ok(0)
}

/// A database with tables and no history shale knows (its own, another tool's): built by a tool
/// shale does not know, an ORM or a person, whose history starts with a baseline of it (peewee
/// and SeaORM trials: `init` promised `status` would say how, and it said nothing).
fn note_tables_without_history(report: &shale::StatusReport) {
    let Some(tables) = &report.tables_without_history else { return };
    let more = if tables.count > tables.first.len() {
        format!(", and {} more", tables.count - tables.first.len())
    } else {
        String::new()
    };
    // With migrations in the directory, they may be what built them, run by a tool shale does not
    // know (slonik trial: pointed at `--from-database`, which refuses a directory of migrations).
    let way = match report.migrations.is_empty() {
        true => {
            "where another tool, an ORM or a person built them, start shale's history from this schema with \
                 `shale baseline --from-database` before applying migrations (one applied on top of them leaves a \
                 new database that the migrations alone cannot build)"
        }
        false => {
            "where these migrations built them (run by a tool shale does not know), record how far with \
                  `shale baseline VERSION` (it checks the schema against what they build first; `--table NAME` \
                  names that tool's history, to leave it out and watch it); where an ORM or a person built them, \
                  start from this schema with `shale baseline --from-database` in a directory of its own"
        }
    };
    crate::output::note(&format!(
        "this database holds {} table(s) ({}{more}) and no migration history shale knows, its own or another \
         tool's: {way}; where they are another application's, go on",
        tables.count,
        tables.first.join(", ")
    ));
}

/// The migrations in code written about when shale's history began, which the name's time
/// cannot place before or after it (see `shale::StatusReport::written_about_the_switch`).
fn warn_written_about_the_switch(files: &[String]) {
    if files.is_empty() {
        return;
    }
    let (was, its, it, it_is, it_will, each) = match files.len() {
        1 => ("was", "its", "it", "it is", "it will", "it"),
        _ => ("were", "their", "them", "they are", "they will", "each"),
    };
    crate::output::warning(&format!(
        "{} {was} written about when shale's history began (the time in {its} name is in a zone shale does not \
         know), so shale cannot tell whether the old tool ran {it} before the switch: if {it_is} new, {it_will} never \
         run: write it as a SQL migration (`shale new`); if the old tool ran {it}, record {each} with `shale repair \
         VERSION --applied --reason ...`",
        crate::output::and_listed(files),
    ));
}

/// Said where migrations are pending on a standby (operator trial: `status` and the dry run
/// said nothing, and `up` failed on a raw "cannot execute LOCK TABLE during recovery").
pub(super) const STANDBY_NOTE: &str = "this server is a standby (in recovery): its history is the primary's, \
     replicated, and `shale up` cannot run here: point shale at the primary (of several hosts, \
     `target_session_attrs=read-write` picks it)";

/// The files of the migrations in code that nothing will run (written after the switch).
fn cannot_run(report: &shale::StatusReport) -> Vec<&std::path::Path> {
    report.migrations.iter().filter(|r| r.state == State::Unrunnable).filter_map(|r| r.path.as_deref()).collect()
}

/// What the tool whose history shale took over has done since, said by `status` and `validate`:
/// applied what shale had too, applied what shale has not yet, reverted or failed one.
fn warn_about_the_adopted_tool(report: &shale::StatusReport, as_problems: bool) {
    if let Some(both) = &report.ran_by_both {
        warn_ran_by_both(both);
    }
    if let Some(since) = &report.applied_by_the_other_tool {
        // As `up` will say it, refusing them.
        let refusal = shale::Error::AppliedByTheOtherTool {
            tool: since.tool,
            table: since.table.clone(),
            migrations: since.migrations.clone(),
            marked_by_baseline: since.marked_by_baseline.clone(),
        };
        crate::output::warning(&crate::error::message(&refusal.into()));
    }
    if let Some(reverted) = &report.reverted_by_the_other_tool {
        // A problem where it fails the command (`validate`), said as one.
        warn_reverted_by_the_other_tool(reverted, as_problems);
    }
    if let Some(failed) = &report.failed_by_the_other_tool {
        crate::output::warning(&format!(
            "{} failed on {} since shale took its history over ({} records the attempt): its migrate still \
             runs somewhere ({}); stop it, check the database (`shale drift`), then {}",
            failed.tool,
            failed.migrations.join(", "),
            failed.table,
            failed.tool.where_it_runs(),
            failed.tool.clear_failure(&failed.table, &failed.migrations[0])
        ));
    }
}

/// Migrations shale applied that the tool whose history it took over applied too since: said by
/// `status`, `validate` and a no-op `up`.
pub(super) fn warn_ran_by_both(both: &shale::RanByBoth) {
    crate::output::warning(&format!(
        "{} applied {} too, after shale had ({} records it): its migrate still runs somewhere ({}); stop it, \
         and check what ran twice (`shale repair VERSION --applied --reason ...` then records that it was \
         checked, and this warning ends)",
        both.tool,
        both.migrations.join(", "),
        both.table,
        both.tool.where_it_runs()
    ));
}

/// Migrations the tool whose history shale took over reverted since, which shale counts as
/// applied: said by `status` and `up`, and as a problem by `validate`.
pub(super) fn warn_reverted_by_the_other_tool(reverted: &shale::RanByBoth, as_problem: bool) {
    let say = if as_problem { crate::output::problem } else { crate::output::warning };
    // The versions themselves, as `repair` takes them (several at once).
    let versions: Vec<&str> = reverted.migrations.iter().filter_map(|m| m.split(' ').next()).collect();
    let versions = versions.join(" ");
    say(&format!(
        "{} reverted {} since shale took its history over ({} no longer has it), which shale counts \
         as applied: its down still runs somewhere; stop it, check the database (`shale drift`), and record \
         what is true: `shale repair {versions} --rolled-back --force --reason ...` where it was undone (then \
         `shale up --allow-out-of-order` applies it again, in its place before the migrations applied after \
         it), or `shale repair {versions} --applied --reason ...` where the database still holds what it made \
         (a down that did nothing)",
        reverted.tool,
        reverted.migrations.join(", "),
        reverted.table
    ));
}

/// A tool whose migrations are code (Alembic, Django, ...) still migrating after the baseline.
pub(crate) fn warn_changed_since_baseline(changed: &[shale::ChangedSinceBaseline]) {
    for c in changed {
        crate::output::warning(&changed_since_baseline_warning(c));
    }
}

/// `changed_since_baseline` of a JSON document, each with the warning the command line says
/// (`warning`), which the Python and Node packages say as it is (graphile trial: the packages'
/// own words advised `--direction adopt` where the tool had run every migration a second time).
pub(crate) fn changed_since_baseline_json(changed: &[shale::ChangedSinceBaseline]) -> serde_json::Value {
    changed
        .iter()
        .map(|c| {
            let mut value = serde_json::to_value(c).unwrap_or_default();
            value["warning"] = serde_json::json!(changed_since_baseline_warning(c));
            value
        })
        .collect()
}

/// What the command line says of another tool's history that changed since the baseline.
fn changed_since_baseline_warning(c: &shale::ChangedSinceBaseline) -> String {
    let (schema, name) = c.table.split_once('.').unwrap_or(("public", &c.table));
    // A tool whose migrations are SQL files, whose history appeared on a database shale built: it
    // ran its migrations there too, these same files, a second time (the graphile re-check: its
    // first file drops the schema, and every row went; `--direction adopt` would have made that
    // the schema).
    if c.baseline_at.is_none() && c.tool.migrations_are_sql() {
        let drop = match c.tool.own_schema().filter(|s| *s == schema) {
            Some(own) => format!("DROP SCHEMA {own} CASCADE"),
            None => format!("DROP TABLE {}", shale_core::ident::qualified(schema, name)),
        };
        return format!(
            "{}'s history ({}) is in this database, which shale built from its migrations: {} ran its \
             migrations here too, the files shale had applied, a second time (one that drops and makes tables \
             again lost their rows); switch it off ({}), check what is left (`shale drift`; restore lost rows \
             from a backup), `shale drift --fix NAME --direction restore` writes what brings the schema back to \
             the migrations', then `{drop}` ends this warning",
            c.tool,
            c.table,
            c.tool,
            c.tool.where_it_runs()
        );
    }
    let what = match &c.baseline_at {
        Some(at) if c.accepted => format!("has changed since it was accepted as it was ({at})"),
        Some(at) => format!("has changed since the baseline ({at})"),
        None => "is in this database, which shale built from its migrations".to_string(),
    };
    // As SQL writes them (`public."SequelizeMeta"`), to paste into psql: the history and the
    // tables the tool keeps beside it (Rails' ar_internal_metadata), which drift would count once
    // the history that tells them apart is gone.
    let tables: Vec<String> = std::iter::once(name.to_string())
        .chain(c.tool.companions_of(name))
        .map(|t| shale_core::ident::qualified(schema, &t))
        .collect();
    format!(
        "{}'s history ({}) {what}: {} still migrates this database somewhere (a deploy step, the \
         application's start-up), and what it ran is in no history of shale's; switch it off, then `shale drift \
         --fix NAME --direction adopt` writes what it changed as a migration (record it as applied here with the \
         `shale repair` it names; where it reverted migrations, as a rollback does, `--direction restore` \
         writes the SQL that puts them back), then drop {} to end this warning; or, where it only recorded what shale's \
         migrations made (Django's `migrate --fake`) or what is accounted for so, `shale repair \
         --accept-other-history --reason ...` records its table as it is now, and the warning comes back only \
         when it changes again",
        c.tool,
        c.table,
        c.tool,
        crate::output::and_listed(&tables)
    )
}

/// A state cell of this text, in this color where colors are on.
fn plain_cell(text: String, color: comfy_table::Color) -> Cell {
    colored(Cell::new(text), color)
}

/// A migration whose run stopped part-way with no error while a runner holds the migration lock:
/// it is being applied now, not failed (production trial: a live backfill shown as failed).
fn being_applied(report: &shale::StatusReport, row: &shale_core::plan::StatusRow) -> bool {
    report.running_now.is_some() && row.state == State::Failed && row.error.is_none()
}

/// `cell` in `color`, where colors are on.
fn colored(cell: Cell, color: comfy_table::Color) -> Cell {
    if color_enabled() {
        cell.fg(color)
    } else {
        cell
    }
}

/// The state, or for a migration `shale adopt` took over (applied by another tool, nothing ran),
/// where it came from.
fn state_cell(row: &shale_core::plan::StatusRow, applied_by: Option<shale_core::adopt::Tool>) -> Cell {
    let state = row.state;
    let cell = match (row.adopted, row.adopted_from, state) {
        _ if let Some(tool) = applied_by => Cell::new(format!("{}, applied by {tool}", state.as_str())),
        (true, Some(tool), State::Applied) => Cell::new(format!("adopted from {tool}")),
        (true, None, State::Applied) => Cell::new("adopted"),
        _ if row.repaired => Cell::new("applied (repair)"),
        _ => Cell::new(state.as_str()),
    };
    let cell = match row.down_stopped_at {
        Some(at) => Cell::new(format!("{}, down stopped at statement {at}", state.as_str())),
        None => cell,
    };
    let color = match state {
        _ if applied_by.is_some() => comfy_table::Color::Red,
        _ if row.down_stopped_at.is_some() => comfy_table::Color::Yellow,
        State::Applied | State::Baseline => comfy_table::Color::Green,
        State::Pending => comfy_table::Color::Yellow,
        _ => comfy_table::Color::Red,
    };
    colored(cell, color)
}

fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Files first (no database needed); with a database, also the history: modified, missing,
/// failed and refused out-of-order migrations are problems (exit 1).
pub fn validate(settings: &Settings) -> Result<i32> {
    let set = super::require_migrations(settings, load_set(settings)?)?;
    if !settings.json && settings.database.is_none() {
        crate::output::note_ignored(settings, &set, true, &[]);
    }
    let ignored = serde_json::to_value(&set.ignored)?;
    if settings.database.is_none() {
        if !settings.json && !settings.quiet {
            crate::output::warn_graphile_edited(&set, None, &settings.dir);
        }
        // Without the history every migration would run on a new database: each is read as `up`
        // reads what it will run.
        let callbacks = set.callbacks.iter().map(|c| &*c.script);
        let syntax_errors = syntax_errors(set.migrations.iter().map(|m| &*m.up).chain(callbacks));
        // Without the history, whether goose applied them is unknown: said, not an error.
        let written_in_go = serde_json::to_value(&set.unrunnable)?;
        let ok = syntax_errors.is_empty();
        if settings.json {
            print_json(&serde_json::json!({
                "ok": ok, "migrations": set.migrations.len(), "in_code": set.unrunnable.len(), "database": false, "ignored": ignored,
                "written_in_go": written_in_go, "syntax_errors": syntax_errors,
            }));
        } else if !ok {
            print_syntax_errors(&syntax_errors);
        } else if !settings.quiet {
            for go in &set.unrunnable {
                crate::output::note(&format!(
                    "{}: migration {} is written in {}, and shale runs SQL migrations only: fine where the tool it was written for applied it; elsewhere `up` stops before it (port it to SQL)",
                    go.path.display(),
                    go.version_text,
                    shale::core::layout::written_in(&go.path)
                ));
            }
            note_callbacks(&set);
            note_required_elsewhere(&set);
            println!(
                "{} are valid (no database configured, so the history was not checked)",
                valid_count(set.migrations.len(), set.unrunnable.len())
            );
        }
        return Ok(if ok { 0 } else { 1 });
    }
    let (sql_count, code_count) = (set.migrations.len(), set.unrunnable.len());
    let count = valid_count(sql_count, code_count);
    let migrator = super::migrator_with(settings, set)?;
    let report = block_on(migrator.status())?;
    if !settings.json {
        crate::output::note_ignored(settings, &migrator.set(), true, &cannot_run(&report));
    }
    // Out of order is no problem where `up` runs it all the same: shale.toml allows it, or the
    // file does (`-- shale:out-of-order`).
    let set = migrator.set();
    let runs_out_of_order = |r: &&shale::core::StatusRow| {
        settings.allow_out_of_order
            || r.version
                .as_deref()
                .and_then(shale::Version::parse)
                .and_then(|v| set.find(&v))
                .is_some_and(|m| m.up.directives().out_of_order)
    };
    let moved = moved_in_the_plan(&migrator, &report);
    let problems: Vec<_> = report
        .migrations
        .iter()
        .filter(|r| match r.state {
            State::OutOfOrder => !runs_out_of_order(r),
            _ if being_applied(&report, r) => false,
            state => matches!(state, State::Modified | State::Missing | State::Failed | State::Unrunnable),
        })
        .collect();
    // Another tool's history and none of shale's: `up` refuses to run here until it is taken over.
    let foreign = if report.history_exists { &[][..] } else { &report.foreign[..] };
    // What `up` would run is read as `up` reads it (the applied ones ran already).
    let syntax_errors = if problems.is_empty() && foreign.is_empty() {
        let request = shale::UpRequest { allow_out_of_order: true, ..Default::default() };
        let plan = block_on(migrator.plan_up(&request))?;
        let set = migrator.set();
        syntax_errors(plan.steps.iter().map(|s| &*s.script).chain(set.callbacks.iter().map(|c| &*c.script)))
    } else {
        Vec::new()
    };
    // A migration the history counts as applied whose work the other tool undid since (its down
    // still runs somewhere): the database is not what the history says (goose trial: exit 0).
    let reverted = report.reverted_by_the_other_tool.is_some();
    let ok = problems.is_empty() && foreign.is_empty() && syntax_errors.is_empty() && !reverted;
    let moved_texts = crate::error::moved_texts(&moved);
    if settings.json {
        print_json(
            &serde_json::json!({ "ok": ok, "migrations": sql_count, "in_code": code_count, "database": true, "problems": problems, "moved": moved_texts, "ignored": ignored, "foreign": foreign, "syntax_errors": syntax_errors, "changed_since_baseline": changed_since_baseline_json(&report.changed_since_baseline), "ran_by_both": report.ran_by_both, "reverted_by_the_other_tool": report.reverted_by_the_other_tool, "failed_by_the_other_tool": report.failed_by_the_other_tool }),
        );
    } else {
        crate::output::warn_graphile_edited(&migrator.set(), Some(&still_to_run(&report.migrations)), &settings.dir);
        warn_about_the_adopted_tool(&report, true);
        warn_changed_since_baseline(&report.changed_since_baseline);
        warn_written_about_the_switch(&report.written_about_the_switch);
        print_syntax_errors(&syntax_errors);
        for text in &moved_texts {
            crate::output::problem(text);
        }
        // (A place past the plan's end, once a change was removed, is the move too.)
        for p in problems.iter().filter(|p| !moved_here(&moved, p) && (p.state != State::Missing || moved.is_empty())) {
            let version = p.version.as_deref().unwrap_or("VERSION");
            let advice = match p.state {
                State::Modified if report.changed_in_comments_only.iter().any(|v| v == version) => format!(
                    "changed after it was applied, in its comments and white space only: {}",
                    crate::error::modified_in_comments_advice(version)
                ),
                State::Modified => {
                    format!("changed after it was applied: {}", crate::error::modified_advice(version))
                }
                State::Missing => format!(
                    "applied, but its file is gone: restore it; or, removed on purpose, `shale repair {version} --applied --reason ...`; or, its work undone, `shale repair {version} --rolled-back --reason ...`"
                ),
                // No error recorded: its runner was stopped or died mid-way (a killed backfill).
                State::Failed if p.error.is_none() => {
                    "its last run stopped part-way (its runner was stopped or died): `shale up` goes on from what it recorded"
                        .to_string()
                }
                State::Failed => "its last attempt failed: fix it and run `shale up`".to_string(),
                State::Unrunnable => format!(
                    "written in {}, and shale runs SQL migrations only: port it to SQL, or, where its work is done, `shale repair {version} --applied --reason ...`",
                    p.path.as_deref().map_or("Go", shale::core::layout::written_in)
                ),
                _ => match &p.under_baseline {
                    Some(baseline) => format!(
                        "under the baseline {baseline} but added after it was recorded, so it never ran here: give it a version above the baseline (the one `shale new` gives) where no database ran it yet, or else `shale up --allow-out-of-order` (a renamed file would run again where it ran)"
                    ),
                    None => "older than the newest applied version: `shale up --allow-out-of-order`, or renumber it"
                        .to_string(),
                },
            };
            let path = p.path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default();
            crate::output::problem(&format!(
                "{path}migration {} {}: {advice}",
                p.version.as_deref().unwrap_or("R"),
                p.name
            ));
        }
        if !foreign.is_empty() {
            note_foreign(foreign, &migrator.set());
            crate::output::problem("`shale up` refuses to run on this database until that history is taken over");
        } else if ok && !settings.quiet {
            note_callbacks(&migrator.set());
            note_required_elsewhere(&migrator.set());
            if report.history_exists {
                println!("{count} are valid and agree with the database history");
            } else {
                println!("{count} are valid; the database has no shale history yet");
            }
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// "3 migration(s)", with the migrations in code beside them that shale cannot run (goose's and
/// bun's in Go, yoyo's Python steps), which are part of the history too (bun trial: csghub's 392
/// were counted 254).
fn valid_count(sql: usize, code: usize) -> String {
    match code {
        0 => format!("{sql} migration(s)"),
        _ => format!("{sql} migration(s), and {code} in code that shale does not run,"),
    }
}

/// Where a change was added or removed before applied ones (a Sqitch plan's, a Liquibase
/// changelog's, Prisma's folders sharing a timestamp): the migrations at the applied places are
/// not the ones that ran there, which `status` shows as modified and `up` names as moved. Said
/// as `up` says it, not with the advice for an edited file (the Sqitch trial: `repair --applied`
/// recorded the inserted change, which never ran, as applied, and the moved one ran again).
fn moved_in_the_plan(migrator: &shale::Migrator, report: &shale::StatusReport) -> Vec<PlanError> {
    if !report.migrations.iter().any(|r| r.state == State::Modified) {
        return Vec::new();
    }
    let request = shale::UpRequest { allow_out_of_order: true, ..Default::default() };
    match block_on(migrator.plan_up(&request)) {
        Err(shale::Error::Plan(errors)) => errors
            .into_iter()
            .filter(|e| {
                matches!(e, PlanError::PlanMoved { .. } | PlanError::TwinMoved { .. } | PlanError::OtherPlan { .. })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The versions (as written) of the migrations still to run.
fn still_to_run(rows: &[shale::core::StatusRow]) -> Vec<String> {
    rows.iter()
        .filter(|r| matches!(r.state, State::Pending | State::OutOfOrder | State::Failed))
        .filter_map(|r| r.version.clone())
        .collect()
}

/// Whether `row` is one of the places `moved` names (its advice is theirs).
fn moved_here(moved: &[PlanError], row: &shale::core::StatusRow) -> bool {
    moved.iter().any(|e| match e {
        PlanError::PlanMoved { label, .. } | PlanError::TwinMoved { label, .. } => {
            label.split(' ').next() == row.version.as_deref()
        }
        // The history is another project's (two Sqitch plans deployed to one database): none of
        // its rows is this plan's change changed, whose `repair --applied` would record changes
        // that never ran (breadth trial: chef-server's second plan, 18 such errors).
        PlanError::OtherPlan { .. } => true,
        _ => false,
    })
}

/// The statements of `scripts` PostgreSQL's grammar refuses: `up` refuses to run them.
/// What a Sqitch plan's changes require of other projects, which `up` checks the database has
/// deployed (breadth trial: `validate` said 45 valid of a plan whose 6th change needs another's).
fn note_required_elsewhere(set: &shale_core::MigrationSet) {
    let mut each: Vec<String> =
        set.sqitch_requires_elsewhere.iter().map(|r| format!("{}:{}", r.project, r.required)).collect();
    // (Each once, however many changes require it: the re-check counted 15 of 10.)
    each.sort();
    each.dedup();
    if each.is_empty() {
        return;
    }
    let more = if each.len() > 8 { format!(" and {} more", each.len() - 8) } else { String::new() };
    crate::output::note(&format!(
        "this Sqitch plan's changes require changes of other projects: {}{more}; `up` refuses to run them until the \
         database has deployed those (from the other project's own folder)",
        each[..each.len().min(8)].join(", ")
    ));
}

/// The Flyway callbacks `up` runs, and when.
fn note_callbacks(set: &shale_core::MigrationSet) {
    if set.callbacks.is_empty() {
        return;
    }
    let each: Vec<String> = set.callbacks.iter().map(|c| format!("{} ({})", c.file, c.event.name())).collect();
    crate::output::note(&format!(
        "Flyway callbacks `up` runs, each in a transaction of its own: {} (beforeMigrate and afterMigrate at every \
         `up`, afterMigrateApplied where a migration was applied)",
        each.join(", ")
    ));
}

pub(crate) fn syntax_errors<'a>(
    scripts: impl IntoIterator<Item = &'a shale_core::layout::Script>,
) -> Vec<shale_lint::SyntaxError> {
    let options = shale_lint::LintOptions { verdict_only: true, ..Default::default() };
    shale_lint::lint_with(scripts, options).syntax_errors
}

fn print_syntax_errors(errors: &[shale_lint::SyntaxError]) {
    for e in errors {
        crate::output::problem(&e.to_string());
    }
    if !errors.is_empty() {
        crate::output::problem("`shale up` refuses to run a migration that does not parse: fix the statement(s) above");
    }
}

/// golang-migrate's `version`: the current version alone.
pub fn version(settings: &Settings) -> Result<i32> {
    let migrator = migrator(settings)?;
    let report = block_on(migrator.status())?;
    let failed = report.migrations.iter().any(|r| r.state == State::Failed && !being_applied(&report, r));
    if settings.json {
        print_json(&serde_json::json!({ "version": report.current_version, "dirty": failed }));
    } else {
        let v = report.current_version.as_deref().unwrap_or("none");
        println!("{v}{}", if failed { " (dirty: a migration failed; see `shale status`)" } else { "" });
        // `none` on a database another tool migrated is shale's history, not the schema's: said
        // where a script reading the version on stdout does not see it.
        if !settings.quiet {
            note_foreign(&report.foreign, &migrator.set());
        }
    }
    Ok(0)
}

/// Other tools' history tables where shale has none (`status`, and `up` with nothing to apply):
/// what to run next.
pub(crate) fn note_foreign(found: &[shale_pg::foreign::ForeignTable], set: &shale::MigrationSet) {
    let foreign = match found {
        [] => return,
        [one] => one,
        several => {
            let tables: Vec<String> = several.iter().map(|t| format!("{} ({})", t.tool, t.display())).collect();
            // One tool's several (Sequel trial: a second history for another role's migrations).
            let of = match several.iter().all(|t| t.tool == several[0].tool) {
                true => format!("{} histories of {}", several.len(), several[0].tool),
                false => "the histories of more than one tool".to_string(),
            };
            crate::output::note(&format!(
                "this database holds {of}, {}, and shale has none here yet: {}",
                tables.join(", "),
                crate::error::take_over(several)
            ));
            return;
        }
    };
    if !foreign.tool.adoptable_with(set) {
        // With migrations written already (the baseline another database was recorded with), say
        // which of them this one has, as `up` says.
        let start = match set.versioned().next() {
            None => "`shale baseline --from-database` starts shale's history from the live schema".to_string(),
            Some(_) => {
                "record which of the migrations it has with `shale baseline VERSION` (its schema is checked first)"
                    .to_string()
            }
        };
        crate::output::note(&format!(
            "this database was migrated by {} ({} is its history) and shale has none here yet: {start} (`shale adopt --nothing` if that table belongs to another application)",
            foreign.tool,
            foreign.display()
        ));
    } else {
        crate::output::note(&format!(
            "this database was migrated by {} ({} is its history) and shale has none here yet: `shale adopt` takes that history over, so that `shale up` runs only what {} did not",
            foreign.tool,
            foreign.display(),
            foreign.tool
        ));
    }
}
