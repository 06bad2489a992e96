//! Human output helpers: event lines and tables. JSON goes through serde directly.

use std::io::Write;

use shale::pg::ExecEvent;
use shale::Event;
use shale_core::StepDirection;

/// Prints progress events as lines on stderr (stdout stays for results).
pub struct Progress {
    pub quiet: bool,
    pub verbose: bool,
}

impl Progress {
    pub fn event(&self, event: &Event) {
        if self.quiet {
            return;
        }
        let mut err = anstream::stderr();
        let line = match event {
            Event::LockWaiting(holder) => {
                Some(format!("waiting for the migration lock, held by {holder}"))
            }
            Event::LockAcquired { waited } if waited.as_millis() > 500 => Some(format!(
                "got the migration lock after {:.1}s",
                waited.as_secs_f64()
            )),
            Event::LockAcquired { .. } => None,
            Event::Exec(ExecEvent::StepStarted {
                label,
                direction,
                transactional,
                resume_from,
            }) => {
                let verb = match direction {
                    StepDirection::Up => "applying",
                    StepDirection::Down => "reverting",
                };
                let how = if *transactional {
                    ""
                } else {
                    " (outside a transaction)"
                };
                let resume = if *resume_from > 0 {
                    format!(", resuming at statement {}", resume_from + 1)
                } else {
                    String::new()
                };
                self.verbose.then(|| format!("{verb} {label}{how}{resume}"))
            }
            Event::Exec(ExecEvent::StatementDone {
                label,
                index,
                total,
            }) => self
                .verbose
                .then(|| format!("  {label}: statement {}/{total} done", index + 1)),
            Event::Exec(ExecEvent::LockRetry {
                label,
                attempt,
                wait,
            }) => Some(format!(
                "{label}: lock_timeout hit; retrying in {} ms (attempt {attempt})",
                wait.as_millis()
            )),
            Event::Exec(ExecEvent::InvalidIndexDropped { label, index }) => Some(format!(
                "{label}: dropped INVALID index {index} left by an earlier failed attempt"
            )),
            Event::Exec(ExecEvent::StepFinished { .. }) => None,
        };
        if let Some(line) = line {
            let _ = writeln!(err, "{line}");
        }
    }
}

pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(
        header
            .iter()
            .map(|h| comfy_table::Cell::new(h.to_uppercase())),
    );
    t
}

pub fn ms(duration_ms: Option<i64>) -> String {
    duration_ms.map(|d| format!("{d} ms")).unwrap_or_default()
}
