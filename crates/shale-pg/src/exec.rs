//! Carrying out plan steps: each migration in its own transaction together with its history row
//! (sent as one round trip), or statement by statement outside a transaction when it must be,
//! with per-statement progress so a failed run resumes where it stopped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::SinkExt;
use shale_core::layout::Script;
use shale_core::plan::{RecordKind, RecordStatus, Step, StepDirection};
use shale_core::position::{char_position_to_byte, LineIndex};
use shale_core::MigrationKind;
use tokio_postgres::error::{DbError, ErrorPosition, SqlState};
use tokio_postgres::Client;

use crate::error::{remedy, DbFailure, PgError, SourceLocation};
use crate::history::{HistoryTable, NewRecord};
use crate::lock::simple_rows;
use crate::sql::quote_literal;

/// Progress reported while steps run.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// A step begins. `transactional` is false for statement-by-statement migrations.
    StepStarted {
        label: String,
        direction: StepDirection,
        transactional: bool,
        resume_from: usize,
    },
    /// A statement of a no-transaction migration finished.
    StatementDone {
        label: String,
        index: usize,
        total: usize,
    },
    /// A lock timeout: the transaction is run again after `wait`.
    LockRetry {
        label: String,
        attempt: u32,
        wait: Duration,
    },
    /// An INVALID index left by an earlier failed CREATE INDEX CONCURRENTLY was dropped before retrying.
    InvalidIndexDropped {
        label: String,
        index: String,
    },
    StepFinished {
        label: String,
        direction: StepDirection,
        duration: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// How many times a lock timeout (55P03) is retried.
    pub lock_retries: u32,
    /// First backoff; doubled each attempt, with jitter.
    pub retry_base: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions { lock_retries: 5, retry_base: Duration::from_millis(200) }
    }
}

pub struct Executor<'a> {
    pub client: &'a Client,
    pub history: &'a HistoryTable,
    pub options: ExecOptions,
    /// Runs in each migration's transaction just before COMMIT and fails if the migration lock
    /// is gone (see `HeldLock::commit_fence`): the migration then rolls back.
    pub commit_fence: Option<String>,
}

/// A piece of SQL to send, and where it came from.
/// A send that failed, and the pieces of the batch that failed.
struct Failed {
    error: tokio_postgres::Error,
    batch: std::ops::Range<usize>,
}

/// Separator between pieces sent in one simple query.
const JOINER: &str = ";\n";

struct Piece<'s> {
    text: String,
    /// (step index, byte offset of `text` in that step's script text)
    origin: Option<(usize, usize)>,
    copy_data: Option<&'s str>,
    /// The last piece of a migration: a joined batch stops after it.
    ends_batch: bool,
}

impl<'a> Executor<'a> {
    /// Run one step with the right transaction handling, retrying lock timeouts.
    pub async fn run_step(&self, step: &Step, on_event: &mut (dyn FnMut(ExecEvent) + Send)) -> Result<(), PgError> {
        if step.script.no_transaction.is_some() {
            self.run_without_transaction(step, on_event).await
        } else {
            self.run_in_transaction(std::slice::from_ref(step), on_event).await
        }
    }

    /// Run transactional steps in one transaction (one step normally; the whole batch with
    /// `--single-transaction`), retrying the whole transaction after a lock timeout.
    pub async fn run_in_transaction(
        &self,
        steps: &[Step],
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), PgError> {
        if let Some(s) = steps.iter().find(|s| s.script.no_transaction.is_some()) {
            return Err(PgError::Refused(format!(
                "{}: migration {} must run outside a transaction ({}), so it cannot be part of --single-transaction",
                s.script.path.display(),
                s.label(),
                s.script.no_transaction.as_deref().unwrap_or("")
            )));
        }
        let started = Instant::now();
        for s in steps {
            on_event(ExecEvent::StepStarted {
                label: s.label(),
                direction: s.direction,
                transactional: true,
                resume_from: 0,
            });
        }
        let pieces = self.transaction_pieces(steps);
        let mut attempt = 0;
        loop {
            match self.send(&pieces, true).await {
                Ok(()) => break,
                Err(failed) => {
                    rollback(self.client).await;
                    if is_fence(&failed.error) {
                        return Err(PgError::LockLost);
                    }
                    let lock_timeout =
                        failed.error.as_db_error().is_some_and(|e| e.code() == &SqlState::LOCK_NOT_AVAILABLE);
                    if lock_timeout && attempt < self.options.lock_retries {
                        attempt += 1;
                        let wait = backoff(self.options.retry_base, attempt);
                        on_event(ExecEvent::LockRetry { label: steps[0].label(), attempt, wait });
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(self.transaction_failure(steps, &pieces, failed).await);
                }
            }
        }
        for s in steps {
            on_event(ExecEvent::StepFinished { label: s.label(), direction: s.direction, duration: started.elapsed() });
        }
        Ok(())
    }

    /// `sql` (a history update of a migration running outside a transaction) in a transaction of
    /// its own behind the commit fence, so that progress is recorded only while the lock is held.
    fn fenced(&self, sql: &str) -> String {
        match &self.commit_fence {
            Some(fence) => format!("BEGIN;\n{fence};\n{sql};\nCOMMIT"),
            None => sql.to_string(),
        }
    }

    fn transaction_pieces<'s>(&self, steps: &'s [Step]) -> Vec<Piece<'s>> {
        let mut pieces = vec![Piece { text: "BEGIN".into(), origin: None, copy_data: None, ends_batch: false }];
        let any_directive = steps
            .iter()
            .any(|s| s.script.directives.lock_timeout.is_some() || s.script.directives.statement_timeout.is_some());
        for (i, step) in steps.iter().enumerate() {
            if any_directive {
                pieces.push(Piece {
                    text: timeouts_sql(&step.script, true),
                    origin: None,
                    copy_data: None,
                    ends_batch: false,
                });
            }
            let script = &step.script;
            if script.has_copy_data() {
                for s in &script.statements {
                    let data = s.copy_data.clone().map(|r| &script.text[r]);
                    pieces.push(Piece {
                        text: script.text[s.span.clone()].to_string(),
                        origin: Some((i, s.span.start)),
                        copy_data: data,
                        ends_batch: false,
                    });
                }
            } else {
                let (body, offset) = script.body();
                if !body.is_empty() {
                    pieces.push(Piece {
                        text: body.to_string(),
                        origin: Some((i, offset)),
                        copy_data: None,
                        ends_batch: false,
                    });
                }
            }
            // Each migration's batch ends with its history row: one round trip per migration, also in
            // --single-transaction, so the server never parses the whole batch as one huge query.
            pieces.push(Piece {
                text: self.record_sql(step, None),
                origin: None,
                copy_data: None,
                ends_batch: i + 1 < steps.len(),
            });
        }
        if let Some(fence) = &self.commit_fence {
            pieces.push(Piece { text: fence.clone(), origin: None, copy_data: None, ends_batch: false });
        }
        pieces.push(Piece { text: "COMMIT".into(), origin: None, copy_data: None, ends_batch: false });
        pieces
    }

    /// The history row a finished step writes, in the same transaction as its SQL.
    fn record_sql(&self, step: &Step, failure: Option<&DbFailure>) -> String {
        let status = match (failure, step.direction) {
            (Some(_), _) => RecordStatus::Failed,
            (None, StepDirection::Up) => RecordStatus::Succeeded,
            (None, StepDirection::Down) => RecordStatus::RolledBack,
        };
        self.history.insert_sql(&record(step, status), failure, false)
    }

    /// Send pieces: consecutive plain SQL joined into one simple query (one round trip) when `join`,
    /// COPY on its own. On failure, says which pieces made up the batch that failed.
    async fn send(&self, pieces: &[Piece<'_>], join: bool) -> Result<(), Failed> {
        let mut start = 0;
        while start < pieces.len() {
            let piece = &pieces[start];
            if let Some(data) = piece.copy_data {
                self.copy_in(&piece.text, data).await.map_err(|error| Failed { error, batch: start..start + 1 })?;
                start += 1;
                continue;
            }
            let mut end = start + 1;
            while join && end < pieces.len() && pieces[end].copy_data.is_none() && !pieces[end - 1].ends_batch {
                end += 1;
            }
            let sql = pieces[start..end].iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(JOINER);
            self.client.batch_execute(&sql).await.map_err(|error| Failed { error, batch: start..end })?;
            start = end;
        }
        Ok(())
    }

    async fn copy_in(&self, statement: &str, data: &str) -> Result<(), tokio_postgres::Error> {
        let sink = self.client.copy_in::<_, Bytes>(statement).await?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::copy_from_slice(data.as_bytes())).await?;
        sink.finish().await?;
        Ok(())
    }

    /// Turn a failed transaction into a report that points into the file, and record the attempt.
    async fn transaction_failure(&self, steps: &[Step], pieces: &[Piece<'_>], failed: Failed) -> PgError {
        let Some(db) = failed.error.as_db_error() else {
            return PgError::query("running a migration", failed.error);
        };
        let mut located = locate(steps, &pieces[failed.batch.clone()], db);
        if located.is_none() {
            // No position from the server: replay statement by statement, then roll back, to find the culprit.
            let mut replay = vec![Piece { text: "BEGIN".into(), origin: None, copy_data: None, ends_batch: false }];
            for (i, step) in steps.iter().enumerate() {
                let script = &step.script;
                replay.extend(script.statements.iter().map(|s| Piece {
                    text: script.text[s.span.clone()].to_string(),
                    origin: Some((i, s.span.start)),
                    copy_data: s.copy_data.clone().map(|r| &script.text[r]),
                    ends_batch: false,
                }));
            }
            if let Err(again) = self.send(&replay, false).await {
                if let Some(db_again) = again.error.as_db_error().filter(|d| d.code() == db.code()) {
                    let piece = &replay[again.batch.start];
                    located = locate(steps, std::slice::from_ref(piece), db_again).or(piece.origin);
                }
            }
            rollback(self.client).await;
        }
        let step = &steps[located.map(|(i, _)| i).unwrap_or(0)];
        let failure = failure_from(db, &step.script, located.map(|(_, o)| o));
        // The attempt is recorded outside the rolled-back transaction; a failure to record is secondary.
        let _ = self.client.batch_execute(&self.record_sql(step, Some(&failure))).await;
        PgError::Migration { label: step.label(), failure: Box::new(failure) }
    }

    /// Statement by statement, outside a transaction, recording progress after each one.
    async fn run_without_transaction(
        &self,
        step: &Step,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), PgError> {
        let started = Instant::now();
        let label = step.label();
        let script = &step.script;
        on_event(ExecEvent::StepStarted {
            label: label.clone(),
            direction: step.direction,
            transactional: false,
            resume_from: step.resume_from,
        });
        let new = NewRecord { statements_done: Some(step.resume_from as i32), ..record(step, RecordStatus::Running) };
        let rows =
            simple_rows(self.client, &self.history.insert_sql(&new, None, true), "recording the migration start")
                .await?;
        let id: i64 = rows
            .first()
            .and_then(|r| r[0].parse().ok())
            .ok_or_else(|| PgError::Corrupt("no id came back for the history row of a running migration".into()))?;
        let timeouts = timeouts_sql(script, false);
        if !timeouts.is_empty() {
            self.client.batch_execute(&timeouts).await.map_err(|e| PgError::query("setting the file's timeouts", e))?;
        }
        let result = self.statements_one_by_one(step, id, on_event).await;
        if !timeouts.is_empty() {
            let _ = self.client.batch_execute("RESET lock_timeout; RESET statement_timeout").await;
        }
        match result {
            Ok(()) => {
                let status = if step.direction == StepDirection::Up {
                    RecordStatus::Succeeded
                } else {
                    RecordStatus::RolledBack
                };
                if let Err(e) =
                    self.client.batch_execute(&self.fenced(&self.history.finish_sql(id, status, None))).await
                {
                    rollback(self.client).await;
                    return Err(if is_fence(&e) {
                        PgError::LockLost
                    } else {
                        PgError::query("recording the migration", e)
                    });
                }
                on_event(ExecEvent::StepFinished { label, direction: step.direction, duration: started.elapsed() });
                Ok(())
            }
            Err((_, error)) if is_fence(&error) => {
                // The lock went while this migration ran outside a transaction: stop before its
                // next statement (another runner may be running it now).
                rollback(self.client).await;
                Err(PgError::LockLost)
            }
            Err((index, error)) => {
                let Some(db) = error.as_db_error() else {
                    return Err(PgError::query("running a migration", error));
                };
                let offset = script.statements[index].span.start;
                let within = match db.position() {
                    Some(ErrorPosition::Original(pos)) => {
                        char_position_to_byte(script.statement_text(index), *pos as usize)
                    }
                    _ => 0,
                };
                let mut failure = failure_from(db, script, Some(offset + within));
                failure.statement = Some(script.statement_text(index).to_string());
                let _ =
                    self.client.batch_execute(&self.history.finish_sql(id, RecordStatus::Failed, Some(&failure))).await;
                let resume = if index == 0 {
                    "nothing of this file was applied (it runs outside a transaction, statement by statement): fix the statement and run `shale up` again".to_string()
                } else {
                    format!(
                        "statements 1 to {index} of this file are applied and recorded: fix the failing statement and run `shale up` again to resume at statement {}",
                        index + 1
                    )
                };
                failure.remedy = Some(match failure.remedy.take() {
                    Some(r) => format!("{r}; {resume}"),
                    None => resume,
                });
                Err(PgError::Migration { label, failure: Box::new(failure) })
            }
        }
    }

    async fn statements_one_by_one(
        &self,
        step: &Step,
        id: i64,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), (usize, tokio_postgres::Error)> {
        let script = &step.script;
        let total = script.statements.len();
        for index in step.resume_from..total {
            let statement = &script.statements[index];
            let text = script.statement_text(index);
            if let Some(name) = concurrent_index_name(text) {
                if let Some(dropped) = self.drop_invalid_index(&name).await.map_err(|e| (index, e))? {
                    on_event(ExecEvent::InvalidIndexDropped { label: step.label(), index: dropped });
                }
            }
            let piece = Piece {
                text: text.to_string(),
                origin: Some((0, statement.span.start)),
                copy_data: statement.copy_data.clone().map(|r| &script.text[r]),
                ends_batch: false,
            };
            let mut attempt = 0;
            loop {
                match self.send(std::slice::from_ref(&piece), false).await {
                    Ok(()) => break,
                    Err(Failed { error, .. })
                        if error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
                            && attempt < self.options.lock_retries =>
                    {
                        attempt += 1;
                        let wait = backoff(self.options.retry_base, attempt);
                        on_event(ExecEvent::LockRetry { label: step.label(), attempt, wait });
                        tokio::time::sleep(wait).await;
                    }
                    Err(Failed { error, .. }) => return Err((index, error)),
                }
            }
            self.client
                .batch_execute(&self.fenced(&self.history.progress_sql(id, index as i32 + 1)))
                .await
                .map_err(|e| (index, e))?;
            on_event(ExecEvent::StatementDone { label: step.label(), index, total });
        }
        Ok(())
    }

    /// A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind; drop it so the retry can build it.
    async fn drop_invalid_index(&self, name: &str) -> Result<Option<String>, tokio_postgres::Error> {
        let sql = format!(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE NOT i.indisvalid AND i.indexrelid = to_regclass({})",
            quote_literal(name)
        );
        let rows = self.client.simple_query(&sql).await?;
        let found = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        if let Some(index) = &found {
            self.client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")).await?;
        }
        Ok(found)
    }
}

fn record(step: &Step, status: RecordStatus) -> NewRecord<'_> {
    NewRecord {
        version: step.version.as_ref().map(|v| v.canonical()).unwrap_or_default(),
        name: &step.name,
        kind: match step.kind {
            MigrationKind::Versioned => RecordKind::Versioned,
            MigrationKind::Repeatable => RecordKind::Repeatable,
            MigrationKind::Seed => RecordKind::Seed,
        },
        checksum: step.checksum.as_deref(),
        up_sql: Some(&step.up_sql),
        down_sql: step.down_sql.as_deref(),
        status,
        reason: None,
        statements_done: None,
    }
}

/// `SET [LOCAL] lock_timeout/statement_timeout` for a file's directives ("" when it has none).
fn timeouts_sql(script: &Script, local: bool) -> String {
    let scope = if local { "SET LOCAL" } else { "SET" };
    let mut parts = Vec::new();
    if let Some(t) = &script.directives.lock_timeout {
        parts.push(format!("{scope} lock_timeout = {}", quote_literal(t)));
    } else if local {
        parts.push("SET LOCAL lock_timeout = DEFAULT".to_string());
    }
    if let Some(t) = &script.directives.statement_timeout {
        parts.push(format!("{scope} statement_timeout = {}", quote_literal(t)));
    } else if local {
        parts.push("SET LOCAL statement_timeout = DEFAULT".to_string());
    }
    parts.join("; ")
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base * 2u32.saturating_pow(attempt - 1);
    let jitter = fastrand::u64(0..=exp.as_millis() as u64 / 2);
    exp + Duration::from_millis(jitter)
}

async fn rollback(client: &Client) {
    let _ = client.batch_execute("ROLLBACK").await;
}

/// Map the server's error position to (step, byte offset in its script), given the pieces of the
/// batch that failed (joined with JOINER; positions count characters from 1).
fn locate(steps: &[Step], batch: &[Piece<'_>], db: &DbError) -> Option<(usize, usize)> {
    match db.position()? {
        ErrorPosition::Original(pos) => {
            let pos = *pos as usize;
            let mut start = 1;
            for piece in batch {
                let len = piece.text.chars().count();
                if (start..start + len).contains(&pos) {
                    let (i, offset) = piece.origin?;
                    return Some((i, offset + char_position_to_byte(&piece.text, pos - start + 1)));
                }
                start += len + JOINER.len();
            }
            None
        }
        ErrorPosition::Internal { position, query } => {
            // Inside a function body: the body is text of the file.
            steps.iter().enumerate().find_map(|(i, step)| {
                let at = step.script.text.find(query.as_str())?;
                Some((i, at + char_position_to_byte(query, *position as usize)))
            })
        }
    }
}

fn failure_from(db: &DbError, script: &Script, offset: Option<usize>) -> DbFailure {
    let location = offset.map(|offset| {
        let index = LineIndex::new(&script.text);
        let (line, column) = index.line_col(&script.text, offset);
        SourceLocation {
            path: script.path.clone(),
            line,
            column,
            line_text: script.text[index.line_span(&script.text, line)].to_string(),
        }
    });
    let statement = offset.and_then(|o| {
        script
            .statements
            .iter()
            .find(|s| s.span.start <= o && o <= s.span.end)
            .map(|s| script.text[s.span.clone()].to_string())
    });
    let code = db.code().code();
    DbFailure {
        sqlstate: code.to_string(),
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        hint: db.hint().map(str::to_string),
        context: db.where_().map(str::to_string),
        statement,
        location,
        remedy: remedy(code, db.message()),
        rolled_back: script.no_transaction.is_none(),
    }
}

/// The index name of `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON ...`, as written.
fn concurrent_index_name(statement: &str) -> Option<String> {
    let mut tokens = statement.split_whitespace();
    let mut seen_concurrently = false;
    let mut leading = Vec::new();
    for token in tokens.by_ref() {
        let upper = token.to_ascii_uppercase();
        if upper == "CONCURRENTLY" {
            seen_concurrently = true;
            break;
        }
        leading.push(upper);
    }
    if !seen_concurrently
        || leading.first().map(String::as_str) != Some("CREATE")
        || !leading.iter().any(|t| t == "INDEX")
    {
        return None;
    }
    let mut name = tokens.next()?;
    if name.eq_ignore_ascii_case("IF") {
        tokens.next();
        tokens.next();
        name = tokens.next()?;
    }
    (!name.eq_ignore_ascii_case("ON")).then(|| name.to_string())
}

/// The error the commit fence raises when the lock is gone.
fn is_fence(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_some_and(|e| e.code().code() == crate::lease::FENCE_SQLSTATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_of_concurrent_builds() {
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY idx_a ON t (a)").as_deref(), Some("idx_a"));
        assert_eq!(
            concurrent_index_name("create unique index concurrently if not exists \"Idx\" on t (a)").as_deref(),
            Some("\"Idx\"")
        );
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(concurrent_index_name("CREATE INDEX idx ON t (a)"), None);
        assert_eq!(concurrent_index_name("DROP INDEX CONCURRENTLY idx"), None);
    }
}
