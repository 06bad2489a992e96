//! The safety linter: what each migration statement will lock, rewrite or destroy, judged from the
//! real PostgreSQL grammar (libpg_query), before anything runs.
//!
//! Context standalone linters lack: tables created earlier in the same run (the same file or an
//! earlier pending one) are new and empty, so lock and rewrite rules do not fire on them.

mod effect;
mod rules;

use std::collections::HashSet;
use std::path::PathBuf;

use shale_core::layout::Script;
use shale_core::position::LineIndex;
use shale_core::split::TransactionControl;
use shale_core::Directives;

pub use effect::{effect, Effect};
pub use rules::{Rule, ALL as RULES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule's verdict on one statement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// What the statement does.
    pub message: String,
    /// Why it matters.
    pub why: &'static str,
    /// The safe way to do it.
    pub fix: &'static str,
    /// Set when the file allows this rule (`-- shale:allow RULE -- reason`): listed, not counted.
    pub allowed: bool,
    pub statement: String,
}

/// `path:line:col: error[rule]: what the statement does`
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.path.display(),
            self.line,
            self.column,
            self.severity.as_str(),
            self.rule,
            self.message
        )?;
        if self.allowed {
            f.write_str(" (allowed in the file)")?;
        }
        Ok(())
    }
}

/// A statement the PostgreSQL grammar refuses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyntaxError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// `path:line:col: syntax error: message`
impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: syntax error: {}", self.path.display(), self.line, self.column, self.message)
    }
}

/// What the linter remembers across the statements and files of one run.
#[derive(Debug, Default)]
pub struct Context {
    /// Tables created in this run (lower-case, unqualified and qualified names).
    new_tables: HashSet<String>,
    /// The target server's major version, when known; rules that changed between versions use it.
    pg_major: Option<u32>,
    /// Whether the statements being checked run inside a transaction.
    in_transaction: bool,
    /// Whether a lock_timeout is in force for the statements being checked.
    lock_timeout_off: bool,
}

/// What the linter knows about the target.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Major version of the target PostgreSQL (e.g. 15); None assumes a current server.
    pub pg_major: Option<u32>,
    /// The session's lock_timeout shale will run with ("0" is off); None when not known.
    pub lock_timeout: Option<String>,
}

impl Context {
    fn is_new(&self, relation: &str) -> bool {
        self.new_tables.contains(&relation.to_ascii_lowercase())
    }

    fn created(&mut self, relation: &str) {
        let name = relation.to_ascii_lowercase();
        if let Some((_, bare)) = name.rsplit_once('.') {
            self.new_tables.insert(bare.to_string());
        }
        self.new_tables.insert(name);
    }
}

/// The result of linting scripts in order.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub syntax_errors: Vec<SyntaxError>,
    /// The lock each statement takes, per file: (path, line, effect).
    pub effects: Vec<(PathBuf, usize, Effect)>,
}

impl Report {
    /// Errors that are not allowed: these make `lint` exit 1 and `up` refuse.
    pub fn blocking(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error && !f.allowed)
    }
}

/// Lint scripts in the order they would run, sharing one context.
pub fn lint<'a>(scripts: impl IntoIterator<Item = &'a Script>) -> Report {
    lint_with(scripts, LintOptions::default())
}

/// [`lint`] for a known target server.
pub fn lint_with<'a>(scripts: impl IntoIterator<Item = &'a Script>, options: LintOptions) -> Report {
    let mut context = Context { pg_major: options.pg_major, ..Context::default() };
    let session_off = options.lock_timeout.as_deref().is_some_and(is_off);
    let mut report = Report::default();
    for script in scripts {
        // A file's own `-- shale:lock-timeout=...` wins over the session's.
        context.lock_timeout_off = match &script.directives.lock_timeout {
            Some(t) => is_off(t),
            None => session_off,
        };
        lint_script(script, &mut context, &mut report);
    }
    report
}

/// Rules allowed by `-- shale:allow RULE -- reason` lines in a stretch of text between statements.
fn allows_in(gap: &str) -> Vec<String> {
    Directives::parse(gap).map(|d| d.allow).unwrap_or_default()
}

fn lint_script(script: &Script, context: &mut Context, report: &mut Report) {
    context.in_transaction = script.no_transaction.is_none();
    let index = LineIndex::new(&script.text);
    // Allows in the file's header (before its first statement) cover the whole file; those just
    // before a statement cover that statement.
    let header = allows_in(&script.text[..script.statements.first().map_or(0, |s| s.span.start)]);
    let mut gap_start = 0;
    // An explicit BEGIN ... COMMIT inside a file shale runs outside a transaction.
    let mut in_block = false;
    for (i, statement) in script.statements.iter().enumerate() {
        match shale_core::split::transaction_control(statement) {
            Some(TransactionControl::Begin) => in_block = true,
            Some(TransactionControl::Commit | TransactionControl::Rollback) => in_block = false,
            _ => {}
        }
        let refused_in_block = in_block.then(|| shale_core::split::no_transaction_reason(statement)).flatten();
        let here = allows_in(&script.text[gap_start..statement.span.start]);
        gap_start = statement.span.end;
        let text = script.statement_text(i);
        let (line, column) = index.line_col(&script.text, statement.span.start);
        let parsed = match pg_query::parse(text) {
            Ok(p) => p,
            Err(e) => {
                let message = e.to_string().trim_start_matches("Invalid statement: ").to_string();
                let at = near_token(text, &message).map(|o| statement.span.start + o).unwrap_or(statement.span.start);
                let (line, column) = index.line_col(&script.text, at);
                report.syntax_errors.push(SyntaxError { path: script.path.clone(), line, column, message });
                continue;
            }
        };
        for raw in &parsed.protobuf.stmts {
            let Some(node) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else { continue };
            let effect = effect(node);
            let mut hits = rules::check(node, context);
            if let Some(what) = refused_in_block {
                hits.push(rules::Hit {
                    rule: &rules::NON_TRANSACTIONAL_IN_BLOCK,
                    message: format!("{what} inside BEGIN ... COMMIT"),
                });
            }
            if let Some(e) = &effect {
                if e.lock == "ACCESS EXCLUSIVE"
                    && context.lock_timeout_off
                    && !e.table.is_empty()
                    && !context.is_new(&e.table)
                {
                    hits.push(rules::Hit {
                        rule: &rules::NO_LOCK_TIMEOUT,
                        message: format!("takes ACCESS EXCLUSIVE on {} with lock_timeout off", e.table),
                    });
                }
            }
            if let Some(e) = effect {
                report.effects.push((script.path.clone(), line, e));
            }
            for hit in hits {
                let allowed = header.iter().chain(&here).any(|a| a == hit.rule.id);
                report.findings.push(Finding {
                    rule: hit.rule.id,
                    severity: hit.rule.severity,
                    path: script.path.clone(),
                    line,
                    column,
                    message: hit.message,
                    why: hit.rule.why,
                    fix: hit.rule.fix,
                    allowed,
                    statement: text.to_string(),
                });
            }
            rules::remember(node, context);
        }
    }
}

/// `0` (with any unit) turns a PostgreSQL timeout off.
fn is_off(timeout: &str) -> bool {
    timeout.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim() == "0"
}

/// The byte offset of the token a syntax error names (`... at or near "foo"`).
fn near_token(text: &str, message: &str) -> Option<usize> {
    let token = message.split("at or near \"").nth(1)?.split('"').next()?;
    if token.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    lower.find(&token.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
