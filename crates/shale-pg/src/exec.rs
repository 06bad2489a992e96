//! Carrying out plan steps: each migration in its own transaction together with its history row
//! (sent as one round trip), or statement by statement outside a transaction when it must be,
//! with per-statement progress so a failed run resumes where it stopped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::SinkExt;
use shale_core::ident::ident_always_quoted;
use shale_core::layout::Script;
use shale_core::locks::{statement_locks, waits_for_older_transactions, LockTarget};
use shale_core::plan::{RecordKind, RecordStatus, Step, StepDirection};
use shale_core::position::{server_position_offset, LineIndex};
use shale_core::rerun::{concurrent_index_name, rerun_check, RerunCheck};
use shale_core::split::{transaction_control, TransactionControl};
use shale_core::MigrationKind;
use tokio_postgres::error::{DbError, ErrorPosition, SqlState};
use tokio_postgres::Client;

use crate::connect::SessionSettings;
use crate::error::{
    remedy, DbFailure, InterruptedWait, LostOutcome, NotValidLeft, NotValidState, PartWay, PgError, SourceLocation,
};
use crate::history::{HistoryTable, NewRecord};
use crate::interrupt::Interrupt;
use crate::lock::simple_rows;
use crate::lockwait::{Blocker, LockWaitOptions};
use crate::settings::ConnectionSettings;
use crate::sql::quote_literal;

mod backfill;
mod locate;
mod settle;

use locate::{failure_from, locate, locate_by_count};
use settle::{not_valid_behind, not_valid_pending};

/// How long a cancelled query may go on before the cancel request is sent again.
const CANCEL_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Progress reported while steps run.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// A step begins. `transactional` is false for statement-by-statement migrations.
    StepStarted { label: String, direction: StepDirection, transactional: bool, resume_from: usize },
    /// A statement of a no-transaction migration finished.
    StatementDone { label: String, index: usize, total: usize },
    /// A lock timeout: the transaction is run again after `wait`.
    LockRetry { label: String, attempt: u32, wait: Duration },
    /// A statement that would stall the application waits, without asking for its lock, while
    /// these sessions hold a conflicting one; told when the set of blockers changes.
    LockBlocked { label: String, blockers: Vec<Blocker>, waited: Duration },
    /// A blocker was cancelled (or, idle in a transaction, ended) as `--cancel-blockers-after` asks.
    BlockerCancelled { label: String, blocker: Blocker, terminated: bool },
    /// A blocker `--cancel-blockers-after` does not end (see [`NotCancellable`]): waited for
    /// instead; told once per session.
    BlockerNotCancellable { label: String, blocker: Blocker, why: NotCancellable },
    /// A batch of a backfill (`-- shale:backfill`) committed: `batches` and `rows_updated` count
    /// this run's; `progress` is the share of the table walked (estimated), when known.
    BackfillProgress {
        label: String,
        index: usize,
        batches: u64,
        rows_updated: u64,
        progress: Option<f64>,
        elapsed: Duration,
        done: bool,
    },
    /// A batch of a backfill ran out of its lock_timeout behind rows another transaction holds, and
    /// is tried again: told at the first such try and every few seconds while they last (the
    /// live-traffic trial: 29 s of retries unsaid). `holders` are the sessions that, by then, had
    /// written to or locked rows of the table for as long as the try waited.
    BackfillWaiting { label: String, batch: u64, waited: Duration, holders: Vec<Blocker> },
    /// An INVALID index left by an earlier failed CREATE INDEX CONCURRENTLY was dropped before retrying.
    InvalidIndexDropped { label: String, index: String },
    /// Statement `statement` (1-based), sent in a block of its own by a run that stopped, was still
    /// running in session `pid`: it cannot commit (its block's fence names that run's lock), so it
    /// was cancelled, and is run again.
    LeftoverCancelled { label: String, statement: usize, pid: String },
    /// A migration outside a transaction has statements that need the session's settings (a
    /// CONCURRENTLY one, a CALL), and the connection goes through a pooler that does not keep
    /// them on one server session: they run with the server session's own lock_timeout and
    /// statement_timeout, none set (a SET would stay on a session the application gets next).
    SessionNotPinned { label: String },
    /// A CONCURRENTLY statement is sent while these sessions' transactions, older than it, are
    /// open: it waits for them to end (up to --lock-wait-max), holding no lock the application
    /// waits on. Said once, before it is sent (its wait on the server says nothing).
    OlderTransactions { label: String, sessions: Vec<Blocker> },
    StepFinished {
        label: String,
        direction: StepDirection,
        /// None for a step of a `--single-transaction` batch, which has one duration for all.
        duration: Option<Duration>,
    },
    /// The server warned while the step ran (`RAISE WARNING`, a materialized view a baseline left
    /// empty): said as psql says it (a baseline trial: a view left empty, unsaid).
    ServerWarning { label: String, message: String },
}

/// Why a blocker is waited for where `--cancel-blockers-after` asked to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCancellable {
    /// A session of another role, and this one lacks `pg_signal_backend`.
    OtherRole,
    /// Idle in a transaction: it runs no query a cancel reaches, and `--terminate` was not given
    /// (the live-traffic trial: a wait that cancelled nothing said nothing until it failed).
    IdleInTransaction,
}

/// What the server's warnings during `steps` are said of: of a batch, the batch, since which of its
/// steps said each is not known (review: all said under the first, the failing batch's too).
fn batch_label(steps: &[Step]) -> String {
    match steps {
        [one] => one.label(),
        [first, .., last] => format!("the batch {} to {}", first.label(), last.label()),
        [] => String::new(),
    }
}

/// The server's warnings since the last step, as events of `label`.
fn say_server_warnings(label: &str, on_event: &mut (dyn FnMut(ExecEvent) + Send)) {
    for message in crate::notices::take_warnings() {
        on_event(ExecEvent::ServerWarning { label: label.to_string(), message });
    }
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// How many times a lock timeout (55P03) is retried (statements that take no strong lock, or
    /// all of them when `lock_wait` is None).
    pub lock_retries: u32,
    /// First backoff; doubled each attempt, with jitter.
    pub retry_base: Duration,
    /// How a statement that would stall the application takes its lock: waiting until no session
    /// holds a conflicting one, then trying briefly (see [`crate::lockwait`]). None: it queues for
    /// the lock with the session's `lock_timeout`, retried `lock_retries` times.
    pub lock_wait: Option<LockWaitOptions>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            lock_retries: 5,
            retry_base: Duration::from_millis(200),
            lock_wait: Some(LockWaitOptions::default()),
        }
    }
}

pub struct Executor<'a> {
    pub client: &'a Client,
    pub history: &'a HistoryTable,
    pub options: ExecOptions,
    /// Applied at the start of every migration, inside its transaction: see [`session_prelude`].
    pub session: &'a SessionSettings,
    /// Where `client` connects, to send a cancel request when `interrupt` asks to stop.
    pub settings: &'a ConnectionSettings,
    /// A stop request cancels the statement in flight on the server.
    pub interrupt: Option<&'a Interrupt>,
    /// Runs in each migration's transaction just before COMMIT, and before every history write,
    /// and fails if the migration lock is gone (see `HeldLock::commit_fence`): the migration then
    /// rolls back and nothing is recorded.
    pub commit_fence: String,
}

/// A piece of SQL to send, and where it came from.
/// A send that failed, and the pieces of the batch that failed.
struct Failed {
    error: tokio_postgres::Error,
    batch: std::ops::Range<usize>,
    /// How many statements of the batch completed before the failing one: what points at the
    /// culprit when the server gives no position (a cancel, a timeout, a runtime error).
    completed: usize,
}

/// Separator between pieces sent in one simple query.
const JOINER: &str = ";\n";

/// A migration whose text is longer than this is sent apart from its history row.
const SENT_APART: usize = 1 << 20;

#[derive(Clone)]
struct Piece<'s> {
    /// Borrowed from the script where it can be: a large file is not copied once more.
    text: std::borrow::Cow<'s, str>,
    /// (step index, byte offset of `text` in that step's script text)
    origin: Option<(usize, usize)>,
    copy_data: Option<&'s str>,
    /// The last piece of a migration: a joined batch stops after it.
    ends_batch: bool,
}

impl Piece<'_> {
    /// SQL of shale's own around a statement (a BEGIN, a COMMIT).
    fn control(text: String) -> Piece<'static> {
        Piece { text: text.into(), origin: None, copy_data: None, ends_batch: false }
    }
}

impl<'a> Executor<'a> {
    /// Sets the session as the file's statements before `upto` left it ([`session_left_by`]); its
    /// role and session user too where `as_its_role`.
    async fn set_as_the_file_did(
        &self,
        script: &Script,
        upto: usize,
        as_its_role: bool,
    ) -> Result<(), tokio_postgres::Error> {
        let sql = session_left_by(script, upto, as_its_role);
        match sql.is_empty() {
            true => Ok(()),
            false => self.client.batch_execute(&sql).await,
        }
    }

    /// The connection's search_path list (`?search_path=`, one in its `options` or PGOPTIONS,
    /// shale.toml's `search_path`), in SQL, set again in each migration as a tenant's schema is: a
    /// pooler that drops startup options (PgBouncer's `ignore_startup_parameters`) would otherwise
    /// send its tables to `public` (review). A list the server would not read as one stays the
    /// startup option's alone.
    pub(crate) fn listed_path(&self) -> Option<String> {
        self.settings.search_path_sql()
    }

    /// [`session_prelude`] of `script` on this executor's connection.
    fn prelude(&self, script: &Script, local: bool) -> String {
        let name = self.settings.application_name_with(self.session);
        session_prelude(self.session, name, self.listed_path().as_deref(), script, local)
    }

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
            return Err(PgError::OutsideOneTransaction {
                label: s.label(),
                path: s.script.path.clone(),
                reason: s.script.no_transaction.as_deref().unwrap_or("").to_string(),
            });
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
        // The strong locks the transaction takes on tables the application uses.
        let targets: Vec<LockTarget> = steps
            .iter()
            .flat_map(|s| (0..s.script.statements.len()).flat_map(|i| statement_locks(s.script.statement_text(i))))
            .filter(|t| t.mode.stalls_application())
            .collect();
        let polite = self.options.lock_wait.as_ref().filter(|_| !targets.is_empty());
        let pieces = self.transaction_pieces(steps, polite.map(|w| w.try_timeout));
        let label = steps[0].label();
        let mut attempt = 0;
        loop {
            // The first try goes straight in (no extra round trip when the table is free: its short
            // lock_timeout bounds what the application waits); after a timeout, wait until clear.
            if let (Some(wait), true) = (polite, attempt > 0) {
                self.wait_until_clear(&label, &targets, wait, started, on_event).await?;
            }
            let tried = Instant::now();
            match self.send(&pieces, true).await {
                Ok(()) => break,
                Err(failed) => {
                    if failed.error.as_db_error().is_none() {
                        // The batch ends with its COMMIT: whether the server got that far is unknown.
                        return Err(PgError::ConnectionLost {
                            label: steps[steps.len() - 1].label(),
                            reason: failed.error.to_string(),
                            outcome: LostOutcome::CommitUnknown,
                        });
                    }
                    rollback(self.client).await;
                    if is_fence(&failed.error) {
                        return Err(PgError::LockLost);
                    }
                    let lock_timeout = failed.error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE);
                    if lock_timeout && self.pause_to_retry(polite, started, &mut attempt, &label, on_event).await {
                        continue;
                    }
                    if let (true, Some(_)) = (lock_timeout, polite) {
                        let blockers = crate::lockwait::blockers(self.client, &targets, Duration::ZERO).await?;
                        return Err(PgError::LockBlocked { label, waited: started.elapsed(), blockers });
                    }
                    // What the server warned of before it failed often says why (review: kept unsaid).
                    say_server_warnings(&batch_label(steps), on_event);
                    return Err(self.transaction_failure(steps, &pieces, failed, tried.elapsed()).await);
                }
            }
        }
        // One transaction for several steps has one duration (the run's), not one each.
        let duration = (steps.len() == 1).then(|| started.elapsed());
        say_server_warnings(&batch_label(steps), on_event);
        for s in steps {
            on_event(ExecEvent::StepFinished { label: s.label(), direction: s.direction, duration });
        }
        Ok(())
    }

    /// After a lock timeout: pause and say to try again, or say to give up. A lock-aware run
    /// (`polite`) tries again after a short jittered pause until its wait since `since` is over
    /// (short transactions slipped in before it; a long run of them is told every tenth try);
    /// otherwise the lock timeout is retried `lock_retries` times with exponential backoff.
    async fn pause_to_retry(
        &self,
        polite: Option<&LockWaitOptions>,
        since: Instant,
        attempt: &mut u32,
        label: &str,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> bool {
        *attempt += 1;
        let (pause, tell) = match polite {
            Some(options) if since.elapsed() < options.max_wait => {
                (Duration::from_millis(fastrand::u64(20..=120)), attempt.is_multiple_of(10))
            }
            None if *attempt <= self.options.lock_retries => (backoff(self.options.retry_base, *attempt), true),
            _ => return false,
        };
        if tell {
            on_event(ExecEvent::LockRetry { label: label.to_string(), attempt: *attempt, wait: pause });
        }
        tokio::time::sleep(pause).await;
        true
    }

    /// `sql` (a history update of a migration running outside a transaction) in a transaction of
    /// its own behind the commit fence, so that progress is recorded only while the lock is held.
    fn fenced(&self, sql: &str) -> String {
        format!("BEGIN;\n{AS_CONNECTED};\n{};\n{sql};\nCOMMIT", self.commit_fence)
    }

    /// `try_timeout`: the `lock_timeout` of a lock-aware attempt, set around each statement that
    /// takes a strong lock (unless the file sets its own): the other statements keep the usual one,
    /// so a backfill waiting on a row lock is not cut short.
    fn transaction_pieces<'s>(&self, steps: &'s [Step], try_timeout: Option<Duration>) -> Vec<Piece<'s>> {
        self.pieces_recorded(steps, try_timeout, true)
    }

    /// Run a Flyway callback (`afterMigrate.sql`, as `step`, named `label`): in a transaction of
    /// its own, behind the commit fence, recorded in no history, as Flyway runs one; a failure
    /// points into its file.
    pub async fn run_callback(&self, step: &Step, label: &str) -> Result<(), PgError> {
        let steps = std::slice::from_ref(step);
        let pieces = self.pieces_recorded(steps, None, false);
        let Err(failed) = self.send(&pieces, true).await else { return Ok(()) };
        let Some(db) = failed.error.as_db_error() else {
            return Err(PgError::ConnectionLost {
                label: label.to_string(),
                reason: failed.error.to_string(),
                outcome: LostOutcome::CommitUnknown,
            });
        };
        rollback(self.client).await;
        if is_fence(&failed.error) {
            return Err(PgError::LockLost);
        }
        let batch = &pieces[failed.batch.clone()];
        let located = locate(steps, batch, db, failed.completed).or_else(|| locate_by_count(batch, failed.completed));
        let failure = failure_from(db, step, located.map(|(_, offset)| offset));
        Err(PgError::Migration { label: label.to_string(), failure: Box::new(failure) })
    }

    /// [`Self::transaction_pieces`], each step's history row among them where `recorded`.
    fn pieces_recorded<'s>(&self, steps: &'s [Step], try_timeout: Option<Duration>, recorded: bool) -> Vec<Piece<'s>> {
        let mut pieces = vec![Piece { text: "BEGIN".into(), origin: None, copy_data: None, ends_batch: false }];
        for (i, step) in steps.iter().enumerate() {
            pieces.push(Piece {
                text: self.prelude(&step.script, true).into(),
                origin: None,
                copy_data: None,
                ends_batch: false,
            });
            let script = &step.script;
            let own_pieces = pieces.len();
            let try_timeout = try_timeout.filter(|_| script.directives().lock_timeout.is_none());
            let strong = |index: usize| {
                try_timeout.is_some()
                    && statement_locks(script.statement_text(index)).iter().any(|t| t.mode.stalls_application())
            };
            let split = !script.sends_as_one() || (0..script.statements.len()).any(strong);
            if split {
                let usual = format!("SET LOCAL lock_timeout = {}", quote_literal(&self.session.lock_timeout));
                for (index, s) in script.statements.iter().enumerate() {
                    let strong = strong(index);
                    if let (true, Some(t)) = (strong, try_timeout) {
                        pieces.push(Piece {
                            text: format!("SET LOCAL lock_timeout = '{}ms'", t.as_millis().max(1)).into(),
                            origin: None,
                            copy_data: None,
                            ends_batch: false,
                        });
                    }
                    pieces.push(Piece {
                        text: script.text[s.span.clone()].into(),
                        origin: Some((i, s.span.start)),
                        copy_data: s.copy_data.clone().map(|r| &script.text[r]),
                        ends_batch: false,
                    });
                    if strong {
                        pieces.push(Piece {
                            text: usual.clone().into(),
                            origin: None,
                            copy_data: None,
                            ends_batch: false,
                        });
                    }
                }
            } else {
                let (body, offset) = script.body();
                if !body.is_empty() {
                    pieces.push(Piece {
                        text: body.into(),
                        origin: Some((i, offset)),
                        copy_data: None,
                        ends_batch: false,
                    });
                }
            }
            // A large migration's SQL goes in a batch of its own (a body sent as it is, not copied
            // into a batch), its history row (holding its text again) in the next: two round trips
            // more, where one query of a seed of 20 MB held 200 MB of buffers.
            if script.text.len() > SENT_APART && pieces.len() > own_pieces {
                pieces[own_pieces - 1].ends_batch = true;
                pieces.last_mut().expect("the script's own").ends_batch = true;
            }
            // Each migration's batch ends with its history row: one round trip per migration, also in
            // --single-transaction, so the server never parses the whole batch as one huge query.
            if recorded {
                pieces.push(Piece {
                    text: self.record_sql(step).into(),
                    origin: None,
                    copy_data: None,
                    ends_batch: i + 1 < steps.len(),
                });
            }
        }
        pieces.push(Piece { text: self.commit_fence.clone().into(), origin: None, copy_data: None, ends_batch: false });
        pieces.push(Piece { text: "COMMIT".into(), origin: None, copy_data: None, ends_batch: false });
        // A migration's own `SET` (not LOCAL) outlives its COMMIT: through a pooler, on the server
        // session the application gets next (operator trial: its search_path went with it).
        pieces.push(Piece { text: SESSION_RESET.into(), origin: None, copy_data: None, ends_batch: false });
        pieces
    }

    /// The history row a finished step writes, in the same transaction as its SQL.
    fn record_sql(&self, step: &Step) -> String {
        let status = match step.direction {
            StepDirection::Up => RecordStatus::Succeeded,
            StepDirection::Down => RecordStatus::RolledBack,
        };
        // The migration may have switched roles, or its session's user: shale's own row is written
        // as the connecting user (re-check: `SET SESSION AUTHORIZATION` made it unwritable).
        format!("{AS_CONNECTED};\n{}", self.history.insert_sql(&record(step, status), None, false))
    }

    /// The history row of a step whose transaction failed `took` after it began, written in a
    /// transaction of its own after the rollback.
    fn failed_record_sql(&self, step: &Step, failure: &DbFailure, took: Duration) -> String {
        let row = record(step, RecordStatus::Failed);
        format!("{AS_CONNECTED};\n{}", self.history.insert_failed_sql(&row, failure, took))
    }

    /// Send pieces: consecutive plain SQL joined into one simple query (one round trip) when `join`,
    /// COPY on its own. On failure, says which pieces made up the batch that failed.
    async fn send(&self, pieces: &[Piece<'_>], join: bool) -> Result<(), Failed> {
        let mut start = 0;
        while start < pieces.len() {
            let piece = &pieces[start];
            if let Some(data) = piece.copy_data {
                self.copy_in(&piece.text, data).await.map_err(|error| Failed {
                    error,
                    batch: start..start + 1,
                    completed: 0,
                })?;
                start += 1;
                continue;
            }
            let mut end = start + 1;
            while join && end < pieces.len() && pieces[end].copy_data.is_none() && !pieces[end - 1].ends_batch {
                end += 1;
            }
            // (One piece is sent as it is: a large file is not copied once more.)
            let sql = match end - start {
                1 => std::borrow::Cow::Borrowed(piece.text.as_ref()),
                _ => pieces[start..end].iter().map(|p| p.text.as_ref()).collect::<Vec<&str>>().join(JOINER).into(),
            };
            self.interruptible(execute_counting(self.client, &sql)).await.map_err(|(error, completed)| Failed {
                error,
                batch: start..end,
                completed,
            })?;
            start = end;
        }
        Ok(())
    }

    /// Waits, without asking for any lock, until no session holds a lock on `targets` that
    /// conflicts with theirs (for longer than the try timeout: short transactions come and go),
    /// naming the sessions that do; cancels them after `cancel_after` if asked; gives up after
    /// `max_wait` counted from `since`.
    async fn wait_until_clear(
        &self,
        label: &str,
        targets: &[LockTarget],
        options: &LockWaitOptions,
        since: Instant,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), PgError> {
        let mut told: Vec<i32> = Vec::new();
        let mut not_ours: Vec<i32> = Vec::new();
        // Sessions of other roles, whose state this role may not see, cancelled once already.
        let mut hidden_cancelled: Vec<i32> = Vec::new();
        // Sessions idle in a transaction, left alone without --terminate: said once each.
        let mut idle_told: Vec<i32> = Vec::new();
        let mut pause = Duration::from_millis(50);
        loop {
            let blockers = crate::lockwait::blockers(self.client, targets, options.try_timeout).await?;
            if blockers.is_empty() {
                return Ok(());
            }
            let pids: Vec<i32> = blockers.iter().map(|b| b.pid).collect();
            if pids != told {
                on_event(ExecEvent::LockBlocked {
                    label: label.to_string(),
                    blockers: blockers.clone(),
                    waited: since.elapsed(),
                });
                told = pids;
            }
            if options.cancel_after.is_some_and(|after| since.elapsed() >= after) {
                for blocker in &blockers {
                    if not_ours.contains(&blocker.pid) {
                        continue;
                    }
                    // One whose state is hidden (another role's) is cancelled first; still holding
                    // the table after that, it is idle in a transaction, and ended where
                    // --terminate allows (round-3 re-check: "cancelled" nine times, to no effect).
                    let hidden = blocker.hidden();
                    let idle = blocker.idle_in_transaction() || hidden && hidden_cancelled.contains(&blocker.pid);
                    let terminated = options.terminate_idle && idle;
                    if !terminated && idle {
                        if !idle_told.contains(&blocker.pid) {
                            idle_told.push(blocker.pid);
                            on_event(ExecEvent::BlockerNotCancellable {
                                label: label.to_string(),
                                blocker: blocker.clone(),
                                why: NotCancellable::IdleInTransaction,
                            });
                        }
                        continue;
                    }
                    match crate::lockwait::cancel(self.client, blocker, terminated).await? {
                        crate::lockwait::Cancelled::Yes => {
                            if hidden && !terminated {
                                hidden_cancelled.push(blocker.pid);
                            }
                            on_event(ExecEvent::BlockerCancelled {
                                label: label.to_string(),
                                blocker: blocker.clone(),
                                terminated,
                            });
                        }
                        crate::lockwait::Cancelled::No => {}
                        // (Re-check of real servers: the run failed, blaming the history schema.)
                        crate::lockwait::Cancelled::NotPermitted => {
                            not_ours.push(blocker.pid);
                            on_event(ExecEvent::BlockerNotCancellable {
                                label: label.to_string(),
                                blocker: blocker.clone(),
                                why: NotCancellable::OtherRole,
                            });
                        }
                    }
                }
            }
            if since.elapsed() >= options.max_wait {
                return Err(PgError::LockBlocked { label: label.to_string(), waited: since.elapsed(), blockers });
            }
            if self.interrupt.is_some_and(|i| i.requested()) {
                return Err(PgError::Interrupted(InterruptedWait::BeforeStart {
                    label: label.to_string(),
                    blockers: blockers.len(),
                }));
            }
            tokio::time::sleep(pause.min(options.max_wait.saturating_sub(since.elapsed()))).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Runs `query`; a stop request while it runs cancels it on the server, and its own result (the
    /// cancellation error, or its success if it finished first) is what comes back.
    ///
    /// The cancel request is sent again while the query is still pending: PostgreSQL ignores one
    /// that reaches the backend before it starts executing the query (a stop requested just as the
    /// query was sent), and the query would then run to its end.
    async fn interruptible<T>(&self, query: impl std::future::Future<Output = T>) -> T {
        let Some(interrupt) = self.interrupt else {
            return query.await;
        };
        futures_util::pin_mut!(query);
        tokio::select! {
            result = &mut query => return result,
            () = interrupt.wait() => {}
        }
        loop {
            let _ = crate::connect::cancel(self.settings, self.client).await;
            tokio::select! {
                result = &mut query => return result,
                () = tokio::time::sleep(CANCEL_AGAIN_AFTER) => {}
            }
        }
    }

    async fn copy_in(&self, statement: &str, data: &str) -> Result<(), tokio_postgres::Error> {
        let sink = self.client.copy_in::<_, Bytes>(statement).await?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::copy_from_slice(data.as_bytes())).await?;
        sink.finish().await?;
        Ok(())
    }

    /// Turn a failed transaction into a report that points into the file, and record the attempt
    /// (not where a batch failed as a whole, at its COMMIT: no migration of it is the one).
    async fn transaction_failure(
        &self,
        steps: &[Step],
        pieces: &[Piece<'_>],
        failed: Failed,
        took: Duration,
    ) -> PgError {
        let Some(db) = failed.error.as_db_error() else {
            return PgError::query("running a migration", failed.error);
        };
        // No position from the server: the statements that completed before it name the culprit.
        // Nothing is run again to find it: a cancelled or timed-out statement would take its locks
        // and its time once more.
        let batch = &pieces[failed.batch.clone()];
        let located = locate(steps, batch, db, failed.completed).or_else(|| locate_by_count(batch, failed.completed));
        let index = located.map(|(i, _)| i).unwrap_or(0);
        let step = &steps[index];
        let mut failure = failure_from(db, step, located.map(|(_, o)| o));
        // Of a batch, the others went with it: those before it; where the failure is not placed in
        // one (a deferred constraint checked at COMMIT), the batch failed, all of it, and no
        // migration of it is recorded as the one that failed (review: the first was blamed).
        if located.is_none() && steps.len() > 1 {
            failure.rolled_back_with = steps.iter().map(Step::label).collect();
            return PgError::Migration { label: batch_label(steps), failure: Box::new(failure) };
        }
        failure.rolled_back_with = steps[..index].iter().map(Step::label).collect();
        // The attempt is recorded outside the rolled-back transaction, behind the fence: a runner
        // that lost the lock records nothing (its failure may be the new holder's doing). Any
        // other failure to record is secondary to the migration's own.
        if let Err(e) = self.client.batch_execute(&self.fenced(&self.failed_record_sql(step, &failure, took))).await {
            rollback(self.client).await;
            if is_fence(&e) {
                return PgError::LockLost;
            }
        }
        PgError::Migration { label: step.label(), failure: Box::new(failure) }
    }

    /// Statement by statement, outside a transaction, recording progress after each one.
    ///
    /// The attempt's row says `running` while statements are sent: a run that stops without a
    /// result for a statement (killed, lock or connection lost) leaves it so, and the next run
    /// checks whether that statement ran before sending it again (see [`Self::settle_in_doubt`]).
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
        let resume = match step.resume_in_doubt {
            true => {
                // The statement in doubt is looked for as it ran: under the file's own settings
                // (review: a `DROP INDEX CONCURRENTLY` after `SET search_path` was looked for in
                // another schema, counted done, and never run).
                // (Its settings but its role: the check that the statement still runs reads other
                // sessions' queries as the connecting user, whom the file's role may not see: re-check.)
                let _ = self.set_as_the_file_did(&step.script, step.resume_from, false).await;
                self.settle_in_doubt(step, on_event).await?
            }
            false => step.resume_from,
        };
        // The session starts from the same state as a transactional migration's, and the row is
        // written behind the fence: one round trip. Its settings are the session's only where a
        // statement needs them there (CONCURRENTLY, a CALL); the others carry their own.
        let new = NewRecord { statements_done: Some(resume as i32), ..record(step, RecordStatus::Running) };
        let session_wide = needs_the_session(script);
        // Through a pooler that hands each statement to whichever server session is free, a
        // session's SET goes to one the application gets next: none is sent (production trial).
        let pinned = !session_wide || self.session_is_pinned().await?;
        if !pinned {
            on_event(ExecEvent::SessionNotPinned { label: label.clone() });
        }
        let session_wide = session_wide && pinned;
        let prelude = match (session_wide, pinned) {
            (true, _) => format!("{};\n", self.prelude(script, false)),
            (false, true) => format!("{SESSION_RESET};\n"),
            (false, false) => String::new(),
        };
        let sql = format!("{prelude}{}", self.fenced(&self.history.insert_sql(&new, None, true)));
        let rows = match simple_rows(self.client, &sql, "recording the migration start").await {
            Ok(rows) => rows,
            Err(e) => {
                rollback(self.client).await;
                return Err(match e {
                    PgError::Query { sqlstate: Some(code), .. } if code == crate::lease::FENCE_SQLSTATE => {
                        PgError::LockLost
                    }
                    other => other,
                });
            }
        };
        let id: i64 = rows
            .first()
            .and_then(|r| r[0].parse().ok())
            .ok_or_else(|| PgError::Corrupt("no id came back for the history row of a running migration".into()))?;
        let result = self.statements_one_by_one(step, resume, id, pinned, on_event).await;
        // Its role too: a `SET ROLE` of the file would read shale's history next (operator
        // re-check), and a block's `SET` outlives the block.
        let _ = self.client.batch_execute(SESSION_RESET).await;
        let stopped = match result {
            Ok(()) => {
                let status = if step.direction == StepDirection::Up {
                    RecordStatus::Succeeded
                } else {
                    RecordStatus::RolledBack
                };
                let finish = match step.direction {
                    StepDirection::Up => self.history.finish_sql(id, status, None),
                    // The attempt's row is an audit row (see `record`): the revert is a row of its own.
                    StepDirection::Down => format!(
                        "{};\n{}",
                        self.history.finish_sql(id, RecordStatus::Succeeded, None),
                        self.history.insert_sql(&record(step, status), None, false)
                    ),
                };
                match self.client.batch_execute(&self.fenced(&finish)).await {
                    Ok(()) => {
                        say_server_warnings(&label, on_event);
                        on_event(ExecEvent::StepFinished {
                            label,
                            direction: step.direction,
                            duration: Some(started.elapsed()),
                        });
                        return Ok(());
                    }
                    Err(error) => NoTxStop::Record { index: script.statements.len(), error },
                }
            }
            Err(stop) => stop,
        };
        match stopped {
            NoTxStop::Waited { error } => {
                // Nothing of that statement ran: the next run starts at it, with nothing in doubt.
                let said = waited_failure(&error);
                let finish = self.fenced(&self.history.finish_sql(id, RecordStatus::Failed, said.as_ref()));
                if let Err(e) = self.client.batch_execute(&finish).await {
                    rollback(self.client).await;
                    if is_fence(&e) {
                        return Err(PgError::LockLost);
                    }
                }
                Err(error)
            }
            NoTxStop::Record { error, .. } if is_fence(&error) => {
                // The lock went while this migration ran outside a transaction: stop before its
                // next statement (another runner may be running it now).
                rollback(self.client).await;
                Err(PgError::LockLost)
            }
            NoTxStop::Record { index, error } if error.as_db_error().is_some() => {
                rollback(self.client).await;
                Err(PgError::Query {
                    context: "recording a statement of a migration that runs outside a transaction",
                    message: format!(
                        "statement {index} of {label} ran, but recording it failed: {}; shale will check whether it ran before running it again",
                        error.as_db_error().map(|d| d.message()).unwrap_or_default()
                    ),
                    sqlstate: error.code().map(|c| c.code().to_string()),
                })
            }
            NoTxStop::Record { index, error } => Err(PgError::ConnectionLost {
                label,
                reason: error.to_string(),
                outcome: LostOutcome::Unrecorded { ran: index, reverting: step.direction == StepDirection::Down },
            }),
            NoTxStop::Statement { index, error, .. } if error.as_db_error().is_none() => Err(PgError::ConnectionLost {
                label,
                reason: error.to_string(),
                outcome: LostOutcome::StatementUnknown {
                    statement: index + 1,
                    reverting: step.direction == StepDirection::Down,
                },
            }),
            NoTxStop::Statement { index, error, mut done, shift } => {
                let db = error.as_db_error().expect("checked above");
                // A VALIDATE that failed (on the rows there, or waiting for its lock), of a
                // constraint this file added NOT VALID: new rows are held to it from the ADD on, so
                // the application's writes that break it fail until the rows are fixed (the live trial: `lint --fix`'s SET NOT
                // NULL, failing where the plain form fails whole, left every insert of a NULL
                // refused). It is dropped again, and the file resumes at its ADD.
                let mut not_valid = None;
                // (A Ctrl-C's cancel, not statement_timeout's, which shares its SQLSTATE.)
                let stopped = *db.code() == SqlState::QUERY_CANCELED && !db.message().contains("statement timeout");
                if let Some((table, constraint, added_at)) = not_valid_behind(step, index, stopped) {
                    let dropped = self.drop_constraint_again(step, &table, &constraint, on_event).await;
                    // The next run starts at the ADD, the constraint dropped here or by hand (the
                    // re-check: resumed at the VALIDATE of a constraint dropped by hand, for good).
                    let progress = self.fenced(&self.history.progress_sql(id, added_at as i32));
                    if self.client.batch_execute(&progress).await.is_ok() {
                        done = added_at;
                    }
                    let state = dropped.map_or_else(NotValidState::DropFailed, |()| NotValidState::Dropped);
                    not_valid = Some(NotValidLeft { table, constraint, statement: added_at + 1, state });
                } else if let Some((table, constraint, added_at)) =
                    not_valid_pending(step, index).filter(|_| step.direction == StepDirection::Up)
                {
                    // Stopped after the ADD, before its VALIDATE finished (Ctrl-C, or another
                    // statement failing between them): it is in force (the live re-check: unsaid,
                    // and the message said nothing was applied).
                    not_valid = Some(NotValidLeft {
                        table,
                        constraint,
                        statement: added_at + 1,
                        state: NotValidState::Stopped,
                    });
                }
                let offset = script.statements[index].span.start;
                // A backfill's batches wrap the statement: their positions are not the file's.
                let at = match db.position().filter(|_| script.backfill(index).is_none()) {
                    Some(ErrorPosition::Original(pos)) if *pos as usize > shift => {
                        server_position_offset(script.statement_text(index), offset, *pos as usize - shift)
                    }
                    _ => offset,
                };
                let mut failure = failure_from(db, step, Some(at));
                failure.statement = Some(script.statement_text(index).to_string());
                let finish = self.fenced(&self.history.finish_sql(id, RecordStatus::Failed, Some(&failure)));
                if let Err(e) = self.client.batch_execute(&finish).await {
                    rollback(self.client).await;
                    if is_fence(&e) {
                        return Err(PgError::LockLost);
                    }
                }
                // A failed CREATE INDEX CONCURRENTLY (a unique one over duplicates) leaves its index
                // INVALID, kept up to date on every write: said, as a removed migration would leave
                // it there for good (the live trial).
                let invalid_index = match concurrent_index_name(script.statement_text(index)) {
                    Some(name) => self.invalid_index(&name).await.ok().flatten(),
                    None => None,
                };
                let part_way = PartWay {
                    done,
                    invalid_index,
                    backfill: step.direction == StepDirection::Up && script.backfill(index).is_some(),
                    version: step.version.as_ref().map(|_| step.version_text.clone()).unwrap_or_default(),
                    not_valid,
                };
                let resume = part_way.advice(step.direction == StepDirection::Down);
                failure.part_way = Some(part_way);
                failure.remedy = Some(match failure.remedy.take() {
                    Some(r) => format!("{r}; {resume}"),
                    None => resume,
                });
                Err(PgError::Migration { label, failure: Box::new(failure) })
            }
        }
    }

    /// `pinned`: the session's settings stay on one server session ([`Executor::session_is_pinned`]).
    async fn statements_one_by_one(
        &self,
        step: &Step,
        resume: usize,
        id: i64,
        pinned: bool,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), NoTxStop> {
        let script = &step.script;
        // Inside a transaction block the file opens itself (its own BEGIN ... COMMIT, as psql runs
        // it), nothing is recorded until the block ends: the record's own transaction would commit
        // the block statement by statement. The block's COMMIT carries the record of its end
        // (written in the block, just before it), so that the block and the record commit
        // together. A stop inside it rolls the block back, as psql's session going leaves it, and
        // the file resumes at its BEGIN.
        let mut block: Option<usize> = None;
        let total = script.statements.len();
        // Resumed part-way, the session gets again what the file's statements before it set
        // (operator re-check: its `SET search_path` lost, the rest of it went to another schema).
        if resume > 0 && pinned {
            self.set_as_the_file_did(script, resume, true).await.map_err(NoTxStop::at(resume))?;
        }
        for index in resume..total {
            let control = transaction_control(&script.statements[index]);
            if control == Some(TransactionControl::Begin) && block.is_none() {
                block = Some(index);
            }
            // Outside a block, or once a ROLLBACK ended it, a statement is recorded on its own.
            let own_record = block.is_none() || control == Some(TransactionControl::Rollback);
            let ran = async {
                if block.is_some() && control == Some(TransactionControl::Commit) {
                    self.record_in_block(id, index + 1).await?;
                }
                self.one_statement(step, (index, resume), id, (own_record, pinned), on_event).await
            };
            if let Err(stop) = ran.await {
                let Some(start) = block else { return Err(stop) };
                rollback(self.client).await;
                return Err(match stop {
                    NoTxStop::Statement { index, error, shift, .. } => {
                        NoTxStop::Statement { index, error, done: start, shift }
                    }
                    other => other,
                });
            }
            // The file's own block carries shale's settings, SET LOCAL in it: through a pooler a
            // session's never reached it (production re-check: an ALTER TABLE in it queued 7 s).
            if control == Some(TransactionControl::Begin) && block == Some(index) {
                let settings = block_settings(self.session, self.listed_path().as_deref(), script, None);
                if let Err(error) = self.client.batch_execute(&settings).await {
                    rollback(self.client).await;
                    return Err(NoTxStop::Statement { index, error, done: index, shift: 0 });
                }
            }
            if matches!(control, Some(TransactionControl::Commit | TransactionControl::Rollback)) {
                block = None;
            }
        }
        // A block the file leaves open ends with it, committed with the record of its end (as the
        // statements before it are: psql would roll it back at the end of its session).
        if block.is_some() {
            let commit = async {
                self.record_in_block(id, total).await?;
                self.client.batch_execute("COMMIT").await.map_err(|error| NoTxStop::Record { index: total, error })
            };
            if let Err(stop) = commit.await {
                rollback(self.client).await;
                return Err(stop);
            }
        }
        Ok(())
    }

    /// Records, inside the file's own open transaction block, that its first `done` statements
    /// are done: it commits with the block (behind the fence, which fails the block if the lock
    /// went).
    async fn record_in_block(&self, id: i64, done: usize) -> Result<(), NoTxStop> {
        let sql = format!("{AS_CONNECTED};\n{};\n{}", self.commit_fence, self.history.progress_sql(id, done as i32));
        self.client.batch_execute(&sql).await.map_err(|error| NoTxStop::Record { index: done, error })
    }

    /// Statement `index` of a migration that runs outside a transaction (`resume` the first one
    /// this run sends), and, when `record`, its progress in the history (not inside the file's own
    /// transaction block, where the statement does not wait for its tables either).
    async fn one_statement(
        &self,
        step: &Step,
        (index, resume): (usize, usize),
        id: i64,
        (record, pinned): (bool, bool),
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), NoTxStop> {
        let script = &step.script;
        let total = script.statements.len();
        let statement = &script.statements[index];
        let text = script.statement_text(index);
        if let Some(backfill) = script.backfill(index) {
            let cursor = if index == resume { step.resume_cursor.as_deref() } else { None };
            self.run_backfill(step, index, id, backfill, cursor, on_event).await?;
            self.client
                .batch_execute(&self.fenced(&self.history.progress_sql(id, index as i32 + 1)))
                .await
                .map_err(|error| NoTxStop::Record { index: index + 1, error })?;
            on_event(ExecEvent::StatementDone { label: step.label(), index, total });
            return Ok(());
        }
        let mut piece = Piece {
            text: text.into(),
            origin: Some((0, statement.span.start)),
            copy_data: statement.copy_data.clone().map(|r| &script.text[r]),
            ends_batch: false,
        };
        let detach = shale_core::rerun::detach_concurrently(text);
        // A statement that would stall the application waits for its tables to be free and
        // asks with a short lock_timeout, as a migration in a transaction does.
        let targets: Vec<LockTarget> =
            statement_locks(text).into_iter().filter(|t| t.mode.stalls_application()).collect();
        // (Not inside the file's own block, `record` false: a lock timeout there aborts the block,
        // which no retry could go on with.)
        let polite = self.options.lock_wait.as_ref().filter(|_| !targets.is_empty() && record);
        // A CONCURRENTLY statement takes no lock the application waits on, then waits for the
        // transactions older than it (a long report) to end: it waits as long as a busy table is
        // waited for (--lock-wait-max), not the session's lock_timeout, which would leave its first
        // part done (an INVALID index, a partition pending detach) and make a retry start over.
        let patient =
            self.options.lock_wait.as_ref().filter(|_| targets.is_empty() && waits_for_older_transactions(text));
        if patient.is_some() {
            // (What it will wait for, named: the second live re-check waited minutes unsaid.)
            let older =
                crate::lockwait::older_transactions(self.client).await.map_err(|e| NoTxStop::Waited { error: e })?;
            if !older.is_empty() {
                on_event(ExecEvent::OlderTransactions { label: step.label(), sessions: older });
            }
        }
        // Sent in a transaction block of its own, with its settings SET LOCAL there, where that
        // does the same: through a transaction-mode pooler, a session's SET, the statement and the
        // RESET after it each went to whichever server session was free, which kept the 50 ms
        // lock_timeout (the application's queries failed) or had none (an ALTER TABLE queued 7 s
        // behind a report, and the application behind it) (production trial).
        let own_block = record && in_a_block_of_its_own(script, index);
        let since = Instant::now();
        let mut attempt = 0;
        loop {
            if let Some(wait) = patient.filter(|_| pinned) {
                let left = wait.max_wait.saturating_sub(since.elapsed());
                let set = format!("SET lock_timeout = '{}ms'", left.as_millis().max(1));
                self.client.batch_execute(&set).await.map_err(NoTxStop::at(index))?;
            }
            if let (Some(wait), true) = (polite, attempt > 0) {
                self.wait_until_clear(&step.label(), &targets, wait, since, on_event)
                    .await
                    .map_err(|error| NoTxStop::Waited { error })?;
            }
            let try_timeout = polite.map(|wait| format!("{}ms", wait.try_timeout.as_millis().max(1)));
            if let (false, true, Some(timeout)) = (own_block, pinned, &try_timeout) {
                let set = format!("SET lock_timeout = '{timeout}'");
                self.client.batch_execute(&set).await.map_err(NoTxStop::at(index))?;
            }
            // An INVALID index a build of this statement left (stopped, failed, or out of time
            // waiting for older transactions) is dropped before it is built again, waiting as the
            // build waits (the live trial: the drop met the session's lock_timeout behind a
            // report, and the migration failed); a partition left pending detach is detached
            // with FINALIZE (as on a rerun).
            if let Some(name) = concurrent_index_name(text) {
                if let Some(dropped) = self.drop_invalid_index(&name).await.map_err(NoTxStop::at(index))? {
                    on_event(ExecEvent::InvalidIndexDropped { label: step.label(), index: dropped });
                }
            }
            if let Some((parent, partition)) = &detach {
                if self.pending_detach(partition).await.map_err(NoTxStop::at(index))? {
                    piece.text = format!("ALTER TABLE {parent} DETACH PARTITION {partition} FINALIZE").into();
                }
            }
            // In one round trip, as a statement-mode pooler takes a transaction.
            let sent = match own_block {
                true => {
                    let begin = format!(
                        "BEGIN; {}",
                        block_settings(self.session, self.listed_path().as_deref(), script, try_timeout.as_deref())
                    );
                    let shift = begin.chars().count() + JOINER.len();
                    // Its record commits with it, behind the fence: a runner killed while the
                    // block ran leaves both or neither, and the next run knows which (the
                    // production re-check: a VALIDATE that committed as its runner died was
                    // called in doubt, "cannot be checked"). A lock gone rolls both back.
                    let progress = format!(
                        "{AS_CONNECTED};\n{};\n{}",
                        self.commit_fence,
                        self.history.progress_sql(id, index as i32 + 1)
                    );
                    let block = [
                        Piece::control(begin),
                        piece.clone(),
                        Piece::control(progress),
                        Piece::control("COMMIT".into()),
                    ];
                    let sent = self.send(&block, true).await;
                    if sent.is_err() {
                        rollback(self.client).await;
                    }
                    sent.map_err(|failed| (failed, shift))
                }
                false => self.send(std::slice::from_ref(&piece), false).await.map_err(|failed| (failed, 0)),
            };
            // Only the lock_timeout the try set goes back: a whole prelude would reset the file's
            // own SETs, its search_path among them (review: the tables after a CONCURRENTLY
            // statement went to shale's schema).
            if !own_block && pinned && (polite.is_some() || patient.is_some()) {
                let lock = script.directives().lock_timeout.as_deref().unwrap_or(&self.session.lock_timeout);
                let _ = self.client.batch_execute(&format!("SET lock_timeout = {}", quote_literal(lock))).await;
            }
            match sent {
                Ok(()) => break,
                Err((Failed { error, .. }, _)) if is_fence(&error) => {
                    return Err(NoTxStop::Record { index, error });
                }
                Err((Failed { error, .. }, shift)) => {
                    let lock_timeout = error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE);
                    // The wait is --lock-wait-max in all, not each time the statement is sent.
                    let out_of_time = patient.is_some_and(|wait| since.elapsed() >= wait.max_wait);
                    // Inside the file's own block a failed statement aborted the block: no retry
                    // there (the re-check: the retry met 25P02, and the real error was lost).
                    if !(lock_timeout
                        && record
                        && !out_of_time
                        && self.pause_to_retry(polite, since, &mut attempt, &step.label(), on_event).await)
                    {
                        return Err(NoTxStop::Statement { index, error, done: index, shift });
                    }
                }
            }
        }
        if record && !own_block {
            self.client
                .batch_execute(&self.fenced(&self.history.progress_sql(id, index as i32 + 1)))
                .await
                .map_err(|error| NoTxStop::Record { index: index + 1, error })?;
        }
        on_event(ExecEvent::StatementDone { label: step.label(), index, total });
        Ok(())
    }

    /// Whether this connection's session settings stay on one server session: the startup
    /// packet's `shale.pinned` reached it (directly, or through a session-mode pooler that passes
    /// the packet on). Through PgBouncer, which drops or refuses the startup `options`, each
    /// statement outside a transaction may run on another server session.
    async fn session_is_pinned(&self) -> Result<bool, PgError> {
        let sql = format!("SELECT current_setting('{PINNED_SETTING}', true)");
        let rows = simple_rows(self.client, &sql, "reading whether the session's settings hold").await?;
        Ok(rows.first().and_then(|r| r.first()).is_some_and(|v| v == "on"))
    }
}

/// Statement `index`, recorded on its own, is sent in a transaction block of its own, with its
/// settings SET LOCAL and its record (see `Executor::one_statement`): what can run in a block
/// and is neither a backfill (batches of their own) nor a CONCURRENTLY statement.
fn in_a_block_of_its_own(script: &Script, index: usize) -> bool {
    let text = script.statement_text(index);
    script.backfill(index).is_none()
        && !waits_for_older_transactions(text)
        && shale_core::split::runs_the_same_in_a_block(&script.statements[index], text)
}

/// Whether statement `index`, killed before its outcome was known, is known not to have acted:
/// sent in a block of its own that committed with its record, and doing nothing a rollback leaves
/// behind ([`shale_core::rerun::reaches_outside_its_transaction`]).
fn undone_unless_recorded(script: &Script, index: usize) -> bool {
    in_a_block_of_its_own(script, index)
        && !shale_core::rerun::reaches_outside_its_transaction(script.statement_text(index))
}

/// What the history keeps of a wait that failed before its statement was sent: its error, with
/// lock_not_available's SQLSTATE for tables held past the wait (review: with none, `status` took
/// it for a run cut off, "stopped part-way"). A stop asked for while waiting keeps none: it was
/// stopped.
fn waited_failure(error: &PgError) -> Option<DbFailure> {
    let sqlstate = match error {
        PgError::Interrupted(_) => return None,
        PgError::LockBlocked { .. } => "55P03".to_string(),
        PgError::Query { sqlstate: Some(code), .. } => code.clone(),
        _ => "XX000".to_string(),
    };
    Some(DbFailure::new(sqlstate, error.to_string()))
}

/// Why a migration running outside a transaction stopped before its end.
enum NoTxStop {
    /// A statement was not sent: waiting for its tables failed or was stopped.
    Waited { error: PgError },
    /// Statement `index` (0-based) failed, or no answer came for it; the first `done` statements
    /// are applied and recorded (those before the failed one, or before the BEGIN of the file's
    /// own transaction block that held it, which went with it).
    /// `shift`: the characters sent before the statement (its own transaction block's BEGIN),
    /// which the server's error position counts.
    Statement { index: usize, error: tokio_postgres::Error, done: usize, shift: usize },
    /// Statement `index` (1-based: the first `index` statements ran) ran, but writing its
    /// progress failed.
    Record { index: usize, error: tokio_postgres::Error },
}

impl NoTxStop {
    /// Statement `index` failed with the error given, the statements before it done.
    fn at(index: usize) -> impl FnOnce(tokio_postgres::Error) -> NoTxStop {
        move |error| NoTxStop::Statement { index, error, done: index, shift: 0 }
    }
}

fn record(step: &Step, status: RecordStatus) -> NewRecord<'_> {
    // A down that has not finished (running, or failed) leaves the migration applied: its attempt
    // is recorded beside the migration's rows, not as one of them, or the next `up` would take it
    // for a failed up and run the up again (or resume the up at the down's statement count).
    let revert_attempt = step.direction == StepDirection::Down && status != RecordStatus::RolledBack;
    NewRecord {
        version: step.version.as_ref().map(|v| v.canonical()).unwrap_or_default(),
        name: &step.name,
        kind: match step.kind {
            _ if revert_attempt => RecordKind::Audit,
            MigrationKind::Versioned => RecordKind::Versioned,
            MigrationKind::Repeatable => RecordKind::Repeatable,
            MigrationKind::Seed => RecordKind::Seed,
        },
        checksum: step.checksum.as_deref(),
        up_sql: Some(&step.up_sql),
        down_sql: step.down_sql.as_deref(),
        status,
        reason: revert_attempt.then_some("reverting it (its down); it stays applied unless the down finishes"),
        statements_done: None,
        path: step.file.as_deref(),
    }
}

/// What every migration starts from, whatever an earlier migration of the run changed with SET
/// (a search_path, a role, a setting): the connection's own defaults (`RESET ALL`, the user it
/// logged in as), then shale's session settings, the target's schema and the file's directives.
/// Sent with each migration rather than left to the startup packet, which a pooler may drop
/// (PgBouncer's `ignore_startup_parameters = options`) or whose server session may be another's.
/// `local`: SET LOCAL, inside the migration's transaction; else SET, for the session, before a
/// migration that runs outside a transaction.
///
/// The session's application_name is set again after `RESET ALL`: through PgBouncer, whose server
/// session starts without it, the migration showed no name in `pg_stat_activity` (TLS trial).
pub fn session_prelude(
    session: &SessionSettings,
    application_name: &str,
    listed_path: Option<&str>,
    script: &Script,
    local: bool,
) -> String {
    let scope = if local { "SET LOCAL" } else { "SET" };
    format!(
        "{SESSION_RESET}; {scope} application_name = {}; {}",
        quote_literal(application_name),
        settings_sql(session, listed_path, script, scope, None)
    )
}

/// The setting the startup packet carries, read back to tell whether it reached the server session.
pub const PINNED_SETTING: &str = "shale.pinned";

/// shale's own writes (its history, the fence) inside a migration's session, as the user it
/// connected as whatever role the file set: for their transaction only, so that the file's role
/// holds for its next statements (operator re-check: a no-transaction file's `SET ROLE` made its
/// progress unrecordable, for good).
const AS_CONNECTED: &str = "SET LOCAL SESSION AUTHORIZATION DEFAULT; SET LOCAL ROLE NONE";

/// What a statement does to the session's settings, beyond its transaction.
#[derive(Debug, PartialEq)]
enum SessionChange {
    /// `SET x = ...`, `SET ROLE r`, `SET SESSION AUTHORIZATION u`, `SELECT set_config('x', .., false)`.
    Set(String),
    /// `RESET x`.
    Reset(String),
    /// `RESET ALL` (the role and the session authorization stay).
    ResetAll,
}

/// [`SessionChange`] of one statement, if any (`SET LOCAL`, `SET TRANSACTION`, `SET CONSTRAINTS`
/// and `set_config(.., true)` change the transaction only).
fn session_change(text: &str) -> Option<SessionChange> {
    let code = text.lines().filter(|line| !line.trim_start().starts_with("--")).collect::<Vec<_>>().join(" ");
    let lower = code.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().take(3).collect();
    let name = |words: &[&str]| -> String {
        match words {
            [first, second, ..] if *first == "session" && *second == "authorization" => "session authorization".into(),
            [first, ..] => first.split(['=', ' ']).next().unwrap_or_default().to_string(),
            [] => String::new(),
        }
    };
    match words.as_slice() {
        ["set", scope, ..] if matches!(*scope, "local" | "transaction" | "constraints") => None,
        ["set", "session", rest @ ..] if rest.first() != Some(&"authorization") => Some(SessionChange::Set(name(rest))),
        ["set", rest @ ..] => Some(SessionChange::Set(name(rest))),
        ["reset", "all", ..] => Some(SessionChange::ResetAll),
        ["reset", rest @ ..] => Some(SessionChange::Reset(name(rest))),
        // pg_dump's `SELECT pg_catalog.set_config('search_path', '', false)`.
        ["select", ..] => {
            let call = lower.split_once("set_config(")?.1;
            let (args, _) = call.rsplit_once(')')?;
            let setting = args.split(',').next()?.trim().trim_matches('\'').to_string();
            args.trim_end().ends_with("false").then_some(SessionChange::Set(setting))
        }
        _ => None,
    }
}

/// The first statement of a file that changes the session's settings (its index), if any.
pub fn first_session_change(script: &Script) -> Option<usize> {
    (0..script.statements.len()).find(|&i| session_change(script.statement_text(i)).is_some())
}

/// What a file's statements before `upto` left set in the session, as SQL: for each setting the
/// statement that set it last, none where a later `RESET` (or `RESET ALL`, but for the role)
/// undid it (review: a `SET ROLE` to a role the file dropped after its `RESET ROLE` was run
/// again, and failed for good).
fn session_left_by(script: &Script, upto: usize, as_its_role: bool) -> String {
    let mut set: Vec<(String, &str)> = Vec::new();
    for i in 0..upto {
        let text = script.statement_text(i);
        match session_change(text) {
            Some(SessionChange::Set(key)) => {
                set.retain(|(k, _)| *k != key);
                set.push((key, text));
            }
            Some(SessionChange::Reset(key)) => set.retain(|(k, _)| *k != key),
            Some(SessionChange::ResetAll) => set.retain(|(k, _)| k == "role" || k == "session authorization"),
            None => {}
        }
    }
    set.iter()
        .filter(|(key, _)| as_its_role || !matches!(key.as_str(), "role" | "session authorization"))
        .map(|(_, text)| *text)
        .collect::<Vec<_>>()
        .join(";\n")
}

/// The connection's own defaults, whatever an earlier migration of the run changed with SET.
const SESSION_RESET: &str = "RESET ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ROLE";

/// The settings of a statement of a migration that runs outside a transaction, sent in a
/// transaction block of its own: as [`session_prelude`]'s, SET LOCAL, with `lock_timeout` (a
/// polite try's) in place of the session's where given, and no search_path where the file runs
/// partly in the session (set there once, with the file's own SETs after it).
pub(crate) fn block_settings(
    session: &SessionSettings,
    listed_path: Option<&str>,
    script: &Script,
    lock_timeout: Option<&str>,
) -> String {
    // Where the file runs partly in the session, its prelude set the search_path there, and the
    // file's own `SET search_path` holds for all its statements: a block does not set it again
    // (operator trial: the blocks' statements went to shale's schema, a CONCURRENTLY one to the
    // file's).
    match needs_the_session(script) {
        true => settings_sql(
            &SessionSettings { search_path: None, ..session.clone() },
            None,
            script,
            "SET LOCAL",
            lock_timeout,
        ),
        false => settings_sql(session, listed_path, script, "SET LOCAL", lock_timeout),
    }
}

/// Whether a migration run outside a transaction has a statement that runs in the session itself,
/// not in a block of its own (CONCURRENTLY, a CALL): the session's settings are then set for it.
fn needs_the_session(script: &Script) -> bool {
    (0..script.statements.len()).any(|i| {
        script.backfill(i).is_none()
            && !shale_core::split::runs_the_same_in_a_block(&script.statements[i], script.statement_text(i))
    })
}

/// shale's settings for a migration, `scope` `SET` or `SET LOCAL`: the file's directives over
/// the session's, `lock_timeout` (a polite try's) over both where given, the target's schema, else
/// the connection's search_path list (`listed_path`, as SQL: see [`Executor::listed_path`]).
fn settings_sql(
    session: &SessionSettings,
    listed_path: Option<&str>,
    script: &Script,
    scope: &str,
    lock_timeout: Option<&str>,
) -> String {
    let lock = lock_timeout.or(script.directives().lock_timeout.as_deref()).unwrap_or(&session.lock_timeout);
    let statement = script.directives().statement_timeout.as_deref().unwrap_or(&session.statement_timeout);
    let mut sql = format!(
        "{scope} lock_timeout = {}; {scope} statement_timeout = {}",
        quote_literal(lock),
        quote_literal(statement)
    );
    match (&session.search_path, listed_path) {
        (Some(schema), _) => sql.push_str(&format!("; {scope} search_path = {}", ident_always_quoted(schema))),
        (None, Some(list)) => sql.push_str(&format!("; {scope} search_path = {list}")),
        (None, None) => {}
    }
    sql
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base * 2u32.saturating_pow(attempt - 1);
    let jitter = fastrand::u64(0..=exp.as_millis() as u64 / 2);
    exp + Duration::from_millis(jitter)
}

async fn rollback(client: &Client) {
    let _ = client.batch_execute("ROLLBACK").await;
}

/// `batch_execute`, streamed: its rows are dropped as they come, and a failure says how many
/// statements completed before it.
async fn execute_counting(client: &tokio_postgres::Client, sql: &str) -> Result<(), (tokio_postgres::Error, usize)> {
    use futures_util::StreamExt;
    let stream = client.simple_query_raw(sql).await.map_err(|e| (e, 0))?;
    futures_util::pin_mut!(stream);
    let mut completed = 0;
    while let Some(message) = stream.next().await {
        match message {
            Ok(tokio_postgres::SimpleQueryMessage::CommandComplete(_)) => completed += 1,
            Ok(_) => {}
            Err(e) => return Err((e, completed)),
        }
    }
    Ok(())
}

/// The error the commit fence raises when the lock is gone.
fn is_fence(error: &tokio_postgres::Error) -> bool {
    error.as_db_error().is_some_and(|e| e.code().code() == crate::lease::FENCE_SQLSTATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(text: &str) -> Script {
        Script::parse("m.sql".into(), text.to_string(), 0..text.len(), None).unwrap()
    }

    #[test]
    fn a_resumed_file_gets_the_settings_its_statements_left() {
        let file = script(
            "SET search_path = a;\nSET ROLE r;\nCREATE TABLE t (id int);\nRESET ROLE;\nSET search_path TO b;\n\
             SELECT pg_catalog.set_config('work_mem', '8MB', false);\nSET LOCAL lock_timeout = '1s';\nRESET ALL;\n\
             SET SESSION AUTHORIZATION u;\nSELECT 1;\n",
        );
        assert_eq!(session_left_by(&file, 3, true), "SET search_path = a;\nSET ROLE r");
        assert_eq!(session_left_by(&file, 3, false), "SET search_path = a");
        // A later RESET undoes a SET: the role the file dropped is not set again (review).
        assert_eq!(
            session_left_by(&file, 6, true),
            "SET search_path TO b;\nSELECT pg_catalog.set_config('work_mem', '8MB', false)"
        );
        assert_eq!(session_left_by(&file, 8, true), "");
        assert_eq!(session_left_by(&file, 10, true), "SET SESSION AUTHORIZATION u");
        assert_eq!(first_session_change(&file), Some(0));
        assert_eq!(first_session_change(&script("SET LOCAL x = 1;\nSELECT set_config('y', '2', true);\n")), None);
    }
}
