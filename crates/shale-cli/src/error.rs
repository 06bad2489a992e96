//! The one mapping from errors to what the user sees and to exit codes:
//! 0 success, 1 a migration failed, 2 usage/configuration/validation, 3 connection or lock.

use std::io::Write;

use annotate_snippets::{Level, Renderer, Snippet};
use shale::{Error as ShaleError, ErrorKind};
use shale_pg::{DbFailure, PgError};

pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_UNAVAILABLE: i32 = 3;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

pub fn exit_code(error: &anyhow::Error) -> i32 {
    match error.downcast_ref::<ShaleError>() {
        Some(e) => code(Some(e.kind())),
        None if error.downcast_ref::<shale_testkit::Error>().is_some() => EXIT_UNAVAILABLE,
        None => EXIT_INVALID,
    }
}

/// The exit code for a kind of failure (`None`: none, success). A fleet exits with the code of
/// its worst target ([`shale::fleet::FleetReport::kind`]).
pub fn code(kind: Option<ErrorKind>) -> i32 {
    match kind {
        None => 0,
        Some(ErrorKind::Usage) => EXIT_INVALID,
        Some(ErrorKind::Unavailable) => EXIT_UNAVAILABLE,
        Some(ErrorKind::Interrupted) => EXIT_INTERRUPTED,
        // Failed, and any kind a later shale adds.
        Some(_) => EXIT_FAILED,
    }
}

/// Human rendering on stderr (colors only on a terminal; NO_COLOR honored by anstream).
/// `changes_database`: the command could have changed the database, so a refusal says nothing was.
pub fn render(error: &anyhow::Error, changes_database: bool) {
    let mut out = anstream::stderr();
    let text = match error.downcast_ref::<ShaleError>() {
        Some(ShaleError::Load(errors)) => {
            let mut s = String::new();
            for e in errors {
                s.push_str(&format!("error: {e}\n"));
            }
            match changes_database {
                true => s.push_str(&format!(
                    "nothing was applied: fix the {} problem(s) above and run again\n",
                    errors.len()
                )),
                false => s.push_str(&format!("{} problem(s) in the migration files\n", errors.len())),
            }
            s
        }
        Some(ShaleError::Plan(errors)) => {
            let mut s = String::new();
            for e in errors {
                s.push_str(&format!("error: {e}\n"));
            }
            if changes_database {
                s.push_str("nothing was applied\n");
            }
            s
        }
        Some(ShaleError::Pg(PgError::Connect(e)))
            if e.target.contains(".shale/dev") || e.target.contains("%2F.shale%2Fdev") =>
        {
            format!(
                "error: {error}\nhelp: the development PostgreSQL (.shale/dev) is not running: `shale dev start` starts it, or use --dev, which starts it when needed\n"
            )
        }
        Some(ShaleError::Pg(PgError::Migration { label, failure })) => render_failure(label, failure),
        _ => {
            let mut s = format!("error: {error}");
            for cause in error.chain().skip(1) {
                s.push_str(&format!(": {cause}"));
            }
            s.push('\n');
            s
        }
    };
    let _ = out.write_all(text.as_bytes());
}

fn render_failure(label: &str, f: &DbFailure) -> String {
    let title = format!("migration {label} failed: {}", f.message);
    let sqlstate = format!("SQLSTATE {}", f.sqlstate);
    let mut footers = vec![Level::Note.title(&sqlstate)];
    let detail = f.detail.as_ref().map(|d| format!("detail: {d}"));
    let hint = f.hint.as_ref().map(|h| format!("server hint: {h}"));
    let context = f.context.as_ref().map(|c| format!("context: {}", c.replace('\n', "; ")));
    for extra in [&detail, &hint, &context].into_iter().flatten() {
        footers.push(Level::Note.title(extra));
    }
    if let Some(remedy) = &f.remedy {
        footers.push(Level::Help.title(remedy));
    }
    let renderer = if anstream::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let origin;
    let message = match &f.location {
        Some(loc) => {
            origin = loc.path.display().to_string();
            let col_byte = loc
                .line_text
                .char_indices()
                .nth(loc.column.saturating_sub(1))
                .map(|(i, _)| i)
                .unwrap_or(loc.line_text.len());
            let end = loc.line_text[col_byte..].chars().next().map(|c| col_byte + c.len_utf8()).unwrap_or(col_byte);
            let snippet = Snippet::source(&loc.line_text)
                .line_start(loc.line)
                .origin(&origin)
                .annotation(Level::Error.span(col_byte..end.max(col_byte)).label("here"));
            let rendered = renderer.render(Level::Error.title(&title).snippet(snippet).footers(footers)).to_string();
            return format!("{rendered}\n{}", rolled_back_note(f));
        }
        None => Level::Error.title(&title).footers(footers),
    };
    let mut s = renderer.render(message).to_string();
    if let Some(statement) = &f.statement {
        s.push_str(&format!("\nin statement:\n  {}\n", statement.replace('\n', "\n  ")));
    }
    s.push('\n');
    s.push_str(&rolled_back_note(f));
    s
}

fn rolled_back_note(f: &DbFailure) -> String {
    if f.rolled_back {
        "the migration's transaction was rolled back: nothing of it was applied; later migrations did not run\n".into()
    } else {
        String::new()
    }
}

/// The --json shape of an error.
pub fn to_json(error: &anyhow::Error) -> serde_json::Value {
    let code = exit_code(error);
    let mut value = serde_json::json!({ "ok": false, "exit_code": code, "message": error.to_string() });
    match error.downcast_ref::<ShaleError>() {
        Some(ShaleError::Load(errors)) => {
            value["problems"] = errors
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "path": e.path, "line": e.position.map(|p| p.0), "column": e.position.map(|p| p.1),
                        "message": e.message, "hint": e.hint,
                    })
                })
                .collect();
        }
        Some(ShaleError::Plan(errors)) => {
            value["problems"] = errors.iter().map(|e| serde_json::json!({ "message": e.to_string() })).collect();
        }
        Some(ShaleError::Pg(PgError::Migration { label, failure })) => {
            value["migration"] = serde_json::json!(label);
            value["failure"] = serde_json::to_value(failure).unwrap_or_default();
        }
        Some(ShaleError::Pg(PgError::ConnectionLost { label, outcome, .. })) => {
            value["migration"] = serde_json::json!(label);
            value["outcome"] = serde_json::json!(outcome);
        }
        Some(ShaleError::Pg(PgError::InDoubt { label, path, statement, .. })) => {
            value["migration"] = serde_json::json!(label);
            value["path"] = serde_json::json!(path);
            value["statement"] = serde_json::json!(statement);
        }
        Some(ShaleError::Pg(PgError::LockBlocked { label, blockers, waited })) => {
            value["migration"] = serde_json::json!(label);
            value["blockers"] = serde_json::json!(blockers);
            value["waited_ms"] = serde_json::json!(waited.as_millis() as u64);
        }
        Some(ShaleError::LockLost { applied, stopped, .. } | ShaleError::Interrupted { applied, stopped }) => {
            value["applied"] = serde_json::json!(applied);
            value["stopped"] = serde_json::json!(stopped);
        }
        _ => {}
    }
    value
}
