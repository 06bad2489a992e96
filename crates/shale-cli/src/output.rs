//! Human output helpers: event lines and tables. JSON goes through serde directly.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use shale::pg::{ExecEvent, NotCancellable};
use shale::Event;
use shale_core::StepDirection;

/// Prints what happens as it happens: each finished migration as a line on stdout (flushed at
/// once, so a CI log shows it when it happens), other events on stderr, a progress bar for runs of
/// several migrations on a terminal; with `--log-format json`, one JSON object per event on stderr
/// instead, for deploy pipelines.
pub struct Progress {
    pub quiet: bool,
    pub verbose: bool,
    /// `--log-format json`.
    log_json: bool,
    /// `--json`: the run's document says what the warnings would.
    json: bool,
    /// Finished migrations are printed as they finish (human output only).
    step_lines: bool,
    bar: Mutex<Option<ProgressBar>>,
    /// A backfill's own bar on a terminal when no migration bar is shown; elsewhere, when its last
    /// progress line was printed (one every few seconds, so a CI log shows it moving).
    backfill: Mutex<(Option<ProgressBar>, Option<std::time::Instant>)>,
}

impl Progress {
    /// What the settings ask for: quiet with `-q` or `--json` (the result is a document then),
    /// JSON lines with `--log-format json`.
    pub fn for_settings(settings: &crate::settings::Settings) -> Progress {
        Progress {
            quiet: settings.quiet || settings.json,
            verbose: settings.verbose,
            log_json: settings.log_json,
            json: settings.json,
            step_lines: !(settings.quiet || settings.json),
            bar: Mutex::new(None),
            backfill: Mutex::new((None, None)),
        }
    }

    /// A backfill batch committed: the migration bar's message, a bar of its own on a terminal,
    /// or a line every few seconds (and at the end) elsewhere.
    fn backfill(&self, bar: Option<&ProgressBar>, event: &ExecEvent) {
        let ExecEvent::BackfillProgress { label, rows_updated, batches, progress, elapsed, done, .. } = event else {
            return;
        };
        let percent = progress.map(|p| format!("{:.0}%, ", p * 100.0)).unwrap_or_default();
        let what =
            format!("{percent}{rows_updated} row(s) updated in {batches} batch(es), {:.1}s", elapsed.as_secs_f64());
        if let Some(b) = bar {
            b.set_message(format!("{label}: backfill {what}"));
            return;
        }
        let mut state = self.backfill.lock().unwrap_or_else(|e| e.into_inner());
        if std::io::stderr().is_terminal() {
            let own = state.0.get_or_insert_with(|| {
                let b = ProgressBar::new(1000);
                b.set_style(
                    ProgressStyle::with_template("{bar:30} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b
            });
            own.set_position(progress.map_or(0, |p| (p * 1000.0) as u64));
            own.set_message(format!("{label}: backfill {what}"));
            if *done {
                own.finish_and_clear();
                state.0 = None;
            }
            return;
        }
        let due = state.1.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(5));
        if due || *done {
            state.1 = (!*done).then(std::time::Instant::now);
            let _ = writeln!(anstream::stderr(), "{label}: backfill {}{what}", if *done { "done: " } else { "" });
        }
    }

    pub fn event(&self, event: &Event) {
        // Warnings, said as `up` says them after a run (a `warning` event with --log-format json).
        if let Event::OtherToolsMigrating(changed) = event {
            if !self.json {
                crate::commands::status::warn_changed_since_baseline(changed);
            }
            return;
        }
        if self.log_json {
            log_json(event);
            return;
        }
        // The server's warning is the migration author's word: said with -q and --json too (on
        // stderr), as other warnings are.
        if let (true, Event::Exec(ExecEvent::ServerWarning { label, message })) = (self.quiet, event) {
            warning(&format!("{label}: the server says: {message}"));
            return;
        }
        if self.quiet {
            return;
        }
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Planned { steps } if *steps > 1 && std::io::stderr().is_terminal() => {
                let b = ProgressBar::new(*steps as u64);
                b.set_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *bar = Some(b);
            }
            Event::Exec(ExecEvent::StepStarted { label, .. }) => {
                if let Some(b) = bar.as_ref() {
                    b.set_message(label.clone());
                }
            }
            Event::Exec(e @ ExecEvent::BackfillProgress { .. }) => self.backfill(bar.as_ref(), e),
            Event::Exec(ExecEvent::StepFinished { label, direction, duration }) => {
                if self.step_lines {
                    let arrow = match direction {
                        StepDirection::Up => "up  ",
                        StepDirection::Down => "down",
                    };
                    let line = match duration {
                        Some(duration) => format!("{arrow} {label}  {} ms", duration.as_millis()),
                        None => format!("{arrow} {label}  (in the batch)"),
                    };
                    match bar.as_ref() {
                        Some(b) => b.suspend(|| print_flushed(&line)),
                        None => print_flushed(&line),
                    }
                }
                if let Some(b) = bar.as_ref() {
                    b.inc(1);
                    if b.position() >= b.length().unwrap_or(0) {
                        b.finish_and_clear();
                    }
                }
            }
            _ => {}
        }
        let line = match event {
            Event::Planned { .. } | Event::OtherToolsMigrating(_) => None,
            Event::LockWaiting(holder) => Some(format!("waiting for the migration lock, held by {holder}")),
            Event::LockAcquired { waited } if waited.as_millis() > 500 => {
                Some(format!("got the migration lock after {:.1}s", waited.as_secs_f64()))
            }
            Event::LockAcquired { .. } => None,
            Event::PoolerDetected { evidence } => Some(format!(
                "the connection cannot keep a transaction open, so the advisory lock cannot be held through it (a statement-mode pooler: {evidence}); using the table lease lock instead (set lock = \"table\" in shale.toml to go straight to it)"
            )),
            Event::LeaseTakenOver(holder) => {
                Some(format!("took over an expired migration lock ({holder}): that runner stopped renewing it"))
            }
            Event::Exec(ExecEvent::StepStarted { label, direction, transactional, resume_from }) => {
                let verb = match direction {
                    StepDirection::Up => "applying",
                    StepDirection::Down => "reverting",
                };
                let how = if *transactional { "" } else { " (outside a transaction)" };
                let resume = if *resume_from > 0 {
                    format!(", resuming at statement {}", resume_from + 1)
                } else {
                    String::new()
                };
                self.verbose.then(|| format!("{verb} {label}{how}{resume}"))
            }
            Event::Exec(ExecEvent::StatementDone { label, index, total }) => {
                self.verbose.then(|| format!("  {label}: statement {}/{total} done", index + 1))
            }
            Event::Exec(ExecEvent::LockRetry { label, attempt, wait }) => {
                Some(format!("{label}: lock_timeout hit; retrying in {} ms (attempt {attempt})", wait.as_millis()))
            }
            Event::Exec(ExecEvent::BackfillWaiting { label, batch, waited, holders }) => {
                let mut text = format!(
                    "{label}: backfill batch {batch} waits for rows another transaction holds ({:.1}s so far); \
                     trying again",
                    waited.as_secs_f64()
                );
                match holders.is_empty() {
                    true => text.push_str(" (the sessions that held them have ended)"),
                    false => text.push_str(", sessions that wrote to or locked its rows:"),
                }
                for h in holders {
                    text.push_str(&format!("\n  {h}"));
                }
                Some(text)
            }
            Event::Exec(ExecEvent::InvalidIndexDropped { label, index }) => {
                Some(format!("{label}: dropped INVALID index {index} left by an earlier failed attempt"))
            }
            Event::Exec(ExecEvent::LeftoverCancelled { label, statement, pid }) => Some(format!(
                "{label}: statement {statement}, sent by a run that stopped, was still running (pid {pid}); it could \
                 not commit, so it was cancelled and runs again"
            )),
            Event::Exec(ExecEvent::SessionNotPinned { label }) => {
                Some(format!("warning: {}", session_not_pinned_text(label)))
            }
            Event::Exec(ExecEvent::LockBlocked { label, blockers, waited }) => {
                let mut text = format!(
                    "{label}: waiting without queueing for the lock ({:.1}s so far): {} session(s) hold the table",
                    waited.as_secs_f64(),
                    blockers.len()
                );
                for b in blockers {
                    text.push_str(&format!("\n  {b}"));
                }
                Some(text)
            }
            Event::Exec(ExecEvent::OlderTransactions { label, sessions }) => {
                let mut text = format!(
                    "{label}: the CONCURRENTLY statement waits for {} transaction(s) older than it to end (up to \
                     --lock-wait-max), holding no lock the application waits on:",
                    sessions.len()
                );
                for s in sessions {
                    text.push_str(&format!("\n  {}", s.session()));
                    if let Some(query) = s.visible_query() {
                        text.push_str(&format!(": {query}"));
                    }
                }
                Some(text)
            }
            Event::Exec(ExecEvent::BlockerCancelled { label, blocker, terminated }) => Some(format!(
                "{label}: {} pid {} ({}), which held {}{}",
                if *terminated { "ended the session of" } else { "cancelled the query of" },
                blocker.pid,
                if blocker.application_name.is_empty() { "no application_name" } else { &blocker.application_name },
                blocker.relation,
                blocker.transaction_ms.map(|ms| format!(" for {:.1}s", ms as f64 / 1000.0)).unwrap_or_default()
            )),
            Event::Exec(ExecEvent::BlockerNotCancellable { label, blocker, why }) => Some(match why {
                NotCancellable::OtherRole => format!(
                    "{label}: may not cancel {}: ending another role's query needs the pg_signal_backend role (or \
                     membership in that role); waiting for it instead (up to --lock-wait-max)",
                    blocker.session()
                ),
                NotCancellable::IdleInTransaction => format!(
                    "{label}: not cancelling {}: idle in its transaction, it runs no query a cancel reaches; \
                     waiting for it instead (up to --lock-wait-max); `--terminate` ends such sessions",
                    blocker.session()
                ),
            }),
            Event::Exec(ExecEvent::ServerWarning { label, message }) => {
                Some(format!("warning: {label}: the server says: {message}"))
            }
            Event::Exec(ExecEvent::StepFinished { .. } | ExecEvent::BackfillProgress { .. }) => None,
        };
        if let Some(line) = line {
            match bar.as_ref() {
                Some(b) => b.println(line),
                None => {
                    let _ = writeln!(anstream::stderr(), "{line}");
                }
            }
        }
    }
}

fn print_flushed(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Whether stderr carries JSON lines (`--log-format json`): set once, by `main`, before any
/// command runs, so that every warning and note, and the error that ends the process, is a JSON
/// object like the events, and a log pipeline parsing them meets no line of plain text.
static LOG_JSON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

pub fn set_log_json(on: bool) {
    let _ = LOG_JSON.set(on);
}

fn log_json_on() -> bool {
    LOG_JSON.get().copied().unwrap_or(false)
}

/// A fleet target's server warning: `warning: NAME: MIGRATION: the server says: ...` on stderr (through
/// `line` where progress bars are drawn), or a `server_warning` event with its target, as one
/// database's is (review: a `warning` event of another shape).
pub fn target_server_warning(target: &str, label: &str, message: &str, line: impl FnOnce(String)) {
    if log_json_on() {
        write_json_line(
            serde_json::json!({ "event": "server_warning", "target": target, "migration": label, "message": message }),
        );
    } else {
        line(format!("warning: {target}: {label}: the server says: {message}"));
    }
}

/// Something the user should act on, on stderr: `warning: ...`, or a `warning` event.
pub fn warning(message: &str) {
    emit("warning", "warning: ", message);
}

/// Items as a sentence lists them: `a`, `a and b`, `a, b and c`.
pub fn and_listed(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// Something the user should know, on stderr: `note: ...`, or a `note` event.
pub fn note(message: &str) {
    emit("note", "note: ", message);
}

/// A line that says what the run is doing (`stopping: ...`, `refreshed FILE`), on stderr as it is,
/// or, with `--log-format json`, a JSON event of that name with it as its message.
pub fn plain(event: &str, message: &str) {
    emit(event, "", message);
}

/// One of the problems a check found (`validate`'s), on stderr: `error: ...`, or a `problem`
/// event; the command's exit code says whether it failed.
pub fn problem(message: &str) {
    emit("problem", "error: ", message);
}

/// `message` on stderr after `prefix`, or with `--log-format json` as the message of an `event`.
fn emit(event: &str, prefix: &str, message: &str) {
    plain_with(event, &format!("{prefix}{message}"), serde_json::json!({ "message": message }));
}

/// [`plain`], the JSON event carrying `fields` (an object) beside its message, for a log reader to
/// take them without parsing the text (the re-check: `backup_written` named its file in words only).
pub fn plain_with(event: &str, message: &str, mut fields: serde_json::Value) {
    if log_json_on() {
        fields["event"] = serde_json::Value::String(event.to_string());
        if fields.get("message").is_none() {
            fields["message"] = serde_json::Value::String(message.to_string());
        }
        write_json_line(fields);
    } else {
        eprintln!("{message}");
    }
}

/// The error that ends the process as an `error` event (with `--log-format json`): the fields of
/// `--json`'s error document (`exit_code`, `message`, `problems`). Returns false without it, for
/// the caller to render the error as text.
pub fn log_error(error: &anyhow::Error) -> bool {
    if !log_json_on() {
        return false;
    }
    let mut value = crate::error::to_json(error);
    if let Some(fields) = value.as_object_mut() {
        fields.remove("ok");
    }
    value["event"] = serde_json::Value::String("error".to_string());
    write_json_line(value);
    true
}

/// A migration outside a transaction whose session settings did not reach the server: said in
/// text and in the JSON log alike (operator trial: the JSON said only the event's name, and the
/// text blamed a transaction-mode pooler where PgBouncer ran in session mode).
fn session_not_pinned_text(label: &str) -> String {
    format!(
        "{label}: runs outside a transaction through a pooler that drops the settings shale sends when it connects \
         (PgBouncer, in session or transaction mode): its CONCURRENTLY statements (and CALL, DO) run with the role's \
         and the database's own lock_timeout and statement_timeout (a role's statement_timeout can cut an index build \
         short), not shale's, --statement-timeout's nor the file's directives, as shale sets none there (through a \
         transaction-mode pooler a SET would stay on a server session the application gets next), and \
         --lock-wait-max does not bound their wait; run such migrations over a direct connection to the server (its \
         own port, past the pooler), or clear the statement_timeout of the role that migrates"
    )
}

/// One JSON object per line on stderr, stamped with the time.
fn write_json_line(mut value: serde_json::Value) {
    value["time"] = serde_json::Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{value}");
}

/// One JSON object per event, on stderr: `{"event": "migration_finished", "migration": ..., ...}`.
fn log_json(event: &Event) {
    let value = match event {
        Event::Planned { steps } => serde_json::json!({ "event": "planned", "migrations": steps }),
        Event::OtherToolsMigrating(changed) => {
            serde_json::json!({ "event": "other_tools_migrating", "histories": changed })
        }
        Event::LockWaiting(holder) => serde_json::json!({ "event": "lock_waiting", "holder": holder }),
        Event::LockAcquired { waited } => {
            serde_json::json!({ "event": "lock_acquired", "waited_ms": waited.as_millis() as u64 })
        }
        Event::PoolerDetected { evidence } => serde_json::json!({ "event": "lease_lock_used", "evidence": evidence }),
        Event::LeaseTakenOver(holder) => serde_json::json!({ "event": "lease_taken_over", "previous": holder }),
        Event::Exec(ExecEvent::StepStarted { label, direction, transactional, resume_from }) => serde_json::json!({
            "event": "migration_started", "migration": label, "direction": direction,
            "transactional": transactional, "resume_from_statement": resume_from + 1,
        }),
        Event::Exec(ExecEvent::StatementDone { label, index, total }) => serde_json::json!({
            "event": "statement_done", "migration": label, "statement": index + 1, "statements": total,
        }),
        Event::Exec(ExecEvent::LockRetry { label, attempt, wait }) => serde_json::json!({
            "event": "lock_timeout_retry", "migration": label, "attempt": attempt, "wait_ms": wait.as_millis() as u64,
        }),
        Event::Exec(ExecEvent::BackfillWaiting { label, batch, waited, holders }) => serde_json::json!({
            "event": "backfill_waiting", "migration": label, "batch": batch, "waited_ms": waited.as_millis() as u64,
            "holders": holders,
        }),
        Event::Exec(ExecEvent::InvalidIndexDropped { label, index }) => {
            serde_json::json!({ "event": "invalid_index_dropped", "migration": label, "index": index })
        }
        Event::Exec(ExecEvent::LeftoverCancelled { label, statement, pid }) => serde_json::json!({
            "event": "leftover_cancelled", "migration": label, "statement": statement, "pid": pid,
        }),
        Event::Exec(ExecEvent::ServerWarning { label, message }) => serde_json::json!({
            "event": "server_warning", "migration": label, "level": "warning", "message": message,
        }),
        Event::Exec(ExecEvent::SessionNotPinned { label }) => serde_json::json!({
            "event": "session_not_pinned", "migration": label, "level": "warning", "message": session_not_pinned_text(label),
        }),
        Event::Exec(ExecEvent::LockBlocked { label, blockers, waited }) => serde_json::json!({
            "event": "lock_blocked", "migration": label, "blockers": blockers, "waited_ms": waited.as_millis() as u64,
        }),
        Event::Exec(ExecEvent::OlderTransactions { label, sessions }) => serde_json::json!({
            "event": "older_transactions", "migration": label, "sessions": sessions,
        }),
        Event::Exec(ExecEvent::BlockerCancelled { label, blocker, terminated }) => serde_json::json!({
            "event": if *terminated { "blocker_terminated" } else { "blocker_cancelled" }, "migration": label, "blocker": blocker,
        }),
        Event::Exec(ExecEvent::BlockerNotCancellable { label, blocker, why }) => serde_json::json!({
            "event": "blocker_not_cancellable", "migration": label, "blocker": blocker, "why": why,
        }),
        Event::Exec(ExecEvent::BackfillProgress { label, index, batches, rows_updated, progress, elapsed, done }) => {
            serde_json::json!({
                "event": "backfill_progress", "migration": label, "statement": index + 1, "batches": batches,
                "rows_updated": rows_updated, "progress": progress, "elapsed_ms": elapsed.as_millis() as u64, "done": done,
            })
        }
        Event::Exec(ExecEvent::StepFinished { label, direction, duration }) => serde_json::json!({
            "event": "migration_finished", "migration": label, "direction": direction,
            "duration_ms": duration.map(|d| d.as_millis() as u64),
        }),
    };
    write_json_line(value);
}

pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(header.iter().map(|h| comfy_table::Cell::new(h.to_uppercase())));
    t
}

pub fn ms(duration_ms: Option<i64>) -> String {
    duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()
}

/// Versions as written (`0003`, `20240101120000`, `1.2`), in any order, compactly: in version
/// order, runs of consecutive whole numbers as ranges (`0001-0012, 0015, 0017-0040`).
pub fn version_ranges(versions: &[&str]) -> String {
    let mut sorted: Vec<(Option<shale::Version>, &str)> =
        versions.iter().map(|v| (shale::Version::parse(v), *v)).collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    let number = |text: &str| text.parse::<u128>().ok();
    let mut runs: Vec<(&str, &str)> = Vec::new();
    for (_, text) in sorted {
        match runs.last_mut() {
            Some((_, last)) if number(last).zip(number(text)).is_some_and(|(a, b)| a.checked_add(1) == Some(b)) => {
                *last = text
            }
            _ => runs.push((text, text)),
        }
    }
    runs.iter()
        .map(|(first, last)| if first == last { first.to_string() } else { format!("{first}-{last}") })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A note per file of the directory that shale leaves alone; many left alone for one reason (a
/// directory shared with another tool's code migrations) make one note naming the first two.
/// First, a note when no Liquibase changeset names any of the contexts given: they then only
/// leave out changesets, which is meant (`prod` against changesets of `test`) or a misspelling.
/// Versions of different lengths (`20240130` beside `20240108234540`) run in the order of their
/// numbers; the Supabase CLI and dbmate run plain files in the order of their names, where the
/// shorter may come later. Where the two orders disagree, said once, with a name that keeps both.
fn note_name_order(set: &shale_core::MigrationSet) {
    use shale_core::Layout;
    let plain: Vec<&shale_core::Migration> = set
        .versioned()
        .filter(|m| matches!(m.layout, Layout::SingleFile | Layout::DbmateSections))
        // Dates and timestamps: `9_` and `10_` are numbers by intent.
        .filter(|m| m.version_text.len() >= 8 && m.version_text.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    // Milliseconds since 1970 (`1763100000000_`) are node-pg-migrate's, which orders by number as
    // shale does (node-pg-migrate trial: the note on every command was noise).
    if plain.iter().any(|m| m.version_text.len() == 13) {
        return;
    }
    let Some(pair) =
        plain.windows(2).find(|w| w[0].version_text.len() != w[1].version_text.len() && w[0].file > w[1].file)
    else {
        return;
    };
    let (first, second) = (pair[0], pair[1]);
    let width = second.version_text.len().max(first.version_text.len());
    crate::output::note(&format!(
        "{} runs before {} here (versions compare as numbers), but the Supabase CLI and dbmate run files in \
         the order of their names, where it comes after: if such a tool runs this directory too, give it a version \
         of the same length ({:0<width$})",
        first.file, second.file, first.version_text
    ));
}

/// Plain files (`2_seed.sql`) among `.up.sql` / `.down.sql` pairs: golang-migrate, whose
/// directories these are, passes over them without a word, where shale runs them (breadth trial:
/// mergestat's two leftovers, which no database golang-migrate built holds). Said once, naming the
/// first two.
fn note_plain_files_among_pairs(set: &shale_core::MigrationSet) {
    use shale_core::Layout;
    if !set.versioned().any(|m| m.layout == Layout::UpDownPair) {
        return;
    }
    let plain: Vec<&str> =
        set.versioned().filter(|m| m.layout == Layout::SingleFile).map(|m| m.file.as_str()).collect();
    let Some(first) = plain.first() else { return };
    let named = match plain.as_slice() {
        [_] => (*first).to_string(),
        [_, second] => format!("{first} and {second}"),
        [_, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
        [] => return,
    };
    crate::output::note(&format!(
        "{named}: plain file(s) among .up.sql/.down.sql pairs, which shale runs and golang-migrate passes over: \
         where golang-migrate migrated a database, it never ran them there; rename such a file `.up.sql` if it \
         belongs to the history, or move it out of the directory if it does not"
    ));
}

/// The objects of `schema` of kinds shale does not read (rules, operator classes, ...), as
/// "2 rules (a, b), 1 operator class (c)"; None when it has none.
fn unread_objects(schema: &shale_schema::Schema) -> Option<String> {
    let kinds: Vec<String> = schema
        .unread
        .0
        .iter()
        .map(|u| {
            let kind = match u.count {
                1 => u.kind.clone(),
                _ if u.kind.ends_with("ss") => format!("{}es", u.kind),
                _ if u.kind.ends_with('y') => format!("{}ies", &u.kind[..u.kind.len() - 1]),
                _ => format!("{}s", u.kind),
            };
            let more = if u.count > u.names.len() as i64 { ", ..." } else { "" };
            format!("{} {kind} ({}{more})", u.count, u.names.join(", "))
        })
        .collect();
    (!kinds.is_empty()).then(|| kinds.join(", "))
}

/// Says that `holder` (the database, a schema file) has objects of kinds shale does not read, which
/// `what` (the dump, the comparison) leaves out: rather than leave them out without a word.
pub fn note_unread(settings: &crate::settings::Settings, schema: &shale_schema::Schema, holder: &str, what: &str) {
    if settings.quiet || settings.json {
        return;
    }
    if let Some(objects) = unread_objects(schema) {
        crate::output::warning(&format!(
            "{holder} has {objects}: shale does not read objects of these kinds yet, so {what} leaves them \
             out (docs/schema.md lists what is covered; `pg_dump --schema-only` shows them)"
        ));
    }
}

/// graphile-migrate's committed files edited since its `commit` (it refuses them; the graphile
/// trial: a pending one ran as edited, unsaid), of those still to run: `pending`, their versions
/// as written, or all where there is no history to say (an applied one edited is `modified`, and
/// one taken over with `adopt --accept-changed` is the team's decision).
/// And work left in graphile-migrate's `current.sql` (or `current/`) beside `dir`, its committed
/// folder: no migration until committed (graphile trial: never said).
pub fn warn_graphile_edited(set: &shale_core::MigrationSet, pending: Option<&[String]>, dir: &std::path::Path) {
    note_graphile_current(dir);
    let changed: Vec<String> = shale_core::adopt::graphile_files_changed_since_commit(set)
        .into_iter()
        .filter(|m| pending.is_none_or(|p| p.contains(&m.version_text)))
        .map(|m| m.up.path.display().to_string())
        .collect();
    if !changed.is_empty() {
        warning(&format!(
            "{}: changed since graphile-migrate committed {} (the `--! Hash:` line is no longer the text's hash, and \
             graphile-migrate refuses such a file); check the change is meant: shale runs it as it is now",
            changed.join(", "),
            if changed.len() == 1 { "it" } else { "them" }
        ));
    }
}

/// graphile-migrate's work in progress beside its committed folder `dir`, where it holds SQL.
fn note_graphile_current(dir: &std::path::Path) {
    if dir.file_name().is_none_or(|name| name != "committed") {
        return;
    }
    let Some(parent) = dir.parent() else { return };
    let holds_sql = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .is_ok_and(|text| text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")))
    };
    let current = parent.join("current.sql");
    let mut unfinished: Vec<String> = Vec::new();
    if holds_sql(&current) {
        unfinished.push(current.display().to_string());
    }
    if let Ok(entries) = std::fs::read_dir(parent.join("current")) {
        let mut files: Vec<std::path::PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| holds_sql(p)).collect();
        files.sort();
        unfinished.extend(files.iter().map(|p| p.display().to_string()));
    }
    if !unfinished.is_empty() {
        note(&format!(
            "{} {} graphile-migrate's uncommitted work, which is no migration and runs nowhere: commit it \
             (`graphile-migrate commit`), or write it as a migration with `shale new NAME`, before it is lost; a \
             database `graphile-migrate watch` ran it on has it already",
            and_listed(&unfinished),
            if unfinished.len() == 1 { "holds" } else { "hold" }
        ));
    }
}

/// Notes on the files shale leaves alone. The other tool's migrations written in code, and its own
/// checks (Sqitch's verify scripts), stay in the folder for good after a switch: named by `status`
/// and `validate` (`code_too`), not in the log of every deploy's `up`.
/// What the directory holds that shale leaves alone, by reason; but for the files a status names
/// as migrations nothing will run (`cannot_run`: one file said twice, review).
pub fn note_ignored(
    settings: &crate::settings::Settings,
    set: &shale_core::MigrationSet,
    code_too: bool,
    cannot_run: &[&std::path::Path],
) {
    if settings.quiet || settings.json {
        return;
    }
    let (known, given) = (&set.liquibase_context_names, settings.reading.liquibase.contexts());
    if set.liquibase_selectors_used && !given.is_empty() && !given.iter().any(|c| known.contains(c)) {
        let shown: Vec<&str> = known.iter().take(8).map(String::as_str).collect();
        let more = if known.len() > 8 { ", ..." } else { "" };
        crate::output::note(&format!(
            "no changeset names the context(s) given ({}): they only leave out changesets of other \
             contexts; the changesets name {}{more} (check the spelling if one of these was meant)",
            given.join(", "),
            shown.join(", ")
        ));
    }
    note_name_order(set);
    note_plain_files_among_pairs(set);
    if crate::commands::new::runs_every_file(&settings.dir) {
        let downs: Vec<String> = set
            .migrations
            .iter()
            .filter_map(|m| m.down.as_ref().filter(|d| d.path != m.up.path))
            .map(|d| d.path.display().to_string())
            .collect();
        if !downs.is_empty() {
            let more = match downs.len() {
                n if n > 8 => format!(" and {} more", n - 8),
                _ => String::new(),
            };
            crate::output::warning(&format!(
                "{}{more}: the tool that keeps {} (the Supabase CLI's `supabase db reset` and `start`, drizzle-kit, \
                 Atlas) runs every file of it whole, as a migration: it would run a down as one. Keep downs out of \
                 it: `shale down --generate` computes one from the schemas (with `replay_setup` where the migrations \
                 need the platform's objects)",
                downs[..downs.len().min(8)].join(", "),
                settings.dir.display()
            ));
        }
    }
    if let Some(file) = code_too.then(|| crate::commands::new::stale_atlas_sum(&settings.dir, set)).flatten() {
        crate::output::warning(&format!(
            "{}'s atlas.sum no longer matches its files (from {file} on): Atlas, and ent's `atlas migrate diff`, \
             refuse the directory until `atlas migrate hash` writes it again; where Atlas no longer runs, delete it",
            settings.dir.display()
        ));
    }
    let ignored = &set.ignored;
    let mut reasons: Vec<(&str, Vec<&shale_core::layout::Ignored>)> = Vec::new();
    for i in ignored.iter().filter(|i| (code_too || !i.is_kept_for_good()) && !cannot_run.contains(&i.path.as_path())) {
        match reasons.iter_mut().find(|(reason, _)| *reason == i.reason) {
            Some((_, files)) => files.push(i),
            None => reasons.push((&i.reason, vec![i])),
        }
    }
    for (reason, files) in reasons {
        match files.as_slice() {
            [first, second, _, _, ..] => crate::output::note(&format!(
                "{}, {} and {} more files: ignored: {reason}",
                first.path.display(),
                second.path.display(),
                files.len() - 2
            )),
            _ => files.iter().for_each(|i| crate::output::note(&format!("{}: ignored: {reason}", i.path.display()))),
        }
    }
}

#[cfg(test)]
mod version_range_tests {
    use super::version_ranges;

    #[test]
    fn consecutive_numbers_are_ranges() {
        assert_eq!(
            version_ranges(&["0003", "0001", "0002", "0005", "0007", "0006", "0010"]),
            "0001-0003, 0005-0007, 0010"
        );
        assert_eq!(version_ranges(&["20240102000000", "20240101000000"]), "20240101000000, 20240102000000");
        assert_eq!(version_ranges(&["2", "1.1", "1"]), "1, 1.1, 2");
        assert_eq!(version_ranges(&["7"]), "7");
    }
}
