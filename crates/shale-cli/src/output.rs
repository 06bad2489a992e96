//! Human output helpers: event lines and tables. JSON goes through serde directly.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use shale::pg::ExecEvent;
use shale::Event;
use shale_core::StepDirection;

/// Prints progress on stderr (stdout stays for results): a progress bar for runs of several
/// migrations on a terminal, and event lines.
pub struct Progress {
    pub quiet: bool,
    pub verbose: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    pub fn new(quiet: bool, verbose: bool) -> Progress {
        Progress { quiet, verbose, bar: Mutex::new(None) }
    }

    pub fn event(&self, event: &Event) {
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
            Event::Exec(ExecEvent::StepFinished { .. }) => {
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
            Event::Planned { .. } => None,
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
            Event::Exec(ExecEvent::InvalidIndexDropped { label, index }) => {
                Some(format!("{label}: dropped INVALID index {index} left by an earlier failed attempt"))
            }
            Event::Exec(ExecEvent::StepFinished { .. }) => None,
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

pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(header.iter().map(|h| comfy_table::Cell::new(h.to_uppercase())));
    t
}

pub fn ms(duration_ms: Option<i64>) -> String {
    duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()
}
