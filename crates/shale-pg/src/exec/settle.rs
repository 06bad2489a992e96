//! What a statement outside a transaction leaves behind. One the last attempt left in doubt (its
//! runner was killed, lost the lock or the connection before its outcome came back) is made sure
//! not to be still running, then settled from the catalog where the catalog tells, or refused for
//! a person to decide with a repair. One that failed is cleaned up after where it would stand in
//! the way: an invalid index a CONCURRENTLY build left, a NOT VALID constraint whose VALIDATE
//! failed, a DETACH CONCURRENTLY left pending.

use super::*;

impl Executor<'_> {
    /// The statement the last attempt may have left half-known: make sure it is not still running
    /// on the server, then find out from the catalog whether it ran. Returns the statement to
    /// start from; refuses when nothing tells (a person must look, then record what they found
    /// with `shale repair`).
    pub(super) async fn settle_in_doubt(
        &self,
        step: &Step,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<usize, PgError> {
        let script = &step.script;
        let index = step.resume_from;
        if index >= script.statements.len() {
            return Ok(index);
        }
        let text = script.statement_text(index);
        let in_doubt = |reason: String, running: Option<String>| PgError::InDoubt {
            label: step.label(),
            path: script.path.clone(),
            statement: index + 1,
            reason,
            reverting: step.direction == StepDirection::Down,
            running,
        };
        // As sent alone, or in a transaction block of its own (`BEGIN; SET LOCAL ...;` before it);
        // the server keeps only the first kilobyte of a query.
        let running = format!(
            "SELECT pid, state, to_char(now() - query_start, 'HH24:MI:SS'), sent <> query FROM pg_catalog.pg_stat_activity,
               LATERAL (SELECT regexp_replace(query, '^BEGIN; SET LOCAL [^\n]*;\n', '') AS sent) s
             WHERE pid <> pg_backend_pid() AND datname = current_database() AND state <> 'idle'
               AND length(query) > 0
               AND (starts_with({text}, sent) OR sent <> query AND starts_with(sent, {text} || ';' || chr(10)))",
            text = quote_literal(text)
        );
        let rows = simple_rows(self.client, &running, "looking for a statement still running").await?;
        // A statement sent in a block of its own committed with its record or not at all: the
        // record says it did not. Its block, still running, cannot commit either (its fence names
        // the lock of the run that sent it, which this run holds now): cancelled, its locks go
        // with it (the live re-check: refused as in doubt, exit 1). Only shale's own block
        // (`BEGIN; SET LOCAL ...; statement`) is such a leftover: an application's session of the
        // same text is neither cancelled nor named (review, and its re-check).
        let leftover = rows.iter().find(|row| row[3] == "t");
        if undone_unless_recorded(script, index) {
            match leftover {
                None => return Ok(index),
                Some(row) if self.cancel_and_wait(&row[0]).await => {
                    on_event(ExecEvent::LeftoverCancelled {
                        label: step.label(),
                        statement: index + 1,
                        pid: row[0].clone(),
                    });
                    return Ok(index);
                }
                Some(_) => {}
            }
        }
        if let Some(row) = leftover.or(rows.first()) {
            return Err(in_doubt(
                format!(
                    "it is still running on the server (pid {}, {} for {}), left by a run that stopped",
                    row[0], row[1], row[2]
                ),
                Some(row[0].clone()),
            ));
        }
        match rerun_check(text) {
            RerunCheck::Idempotent => Ok(index),
            RerunCheck::IndexBuilt { index: name } => {
                let sql = format!(
                    "SELECT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = to_regclass({})",
                    quote_literal(&name)
                );
                let rows = simple_rows(self.client, &sql, "checking an index").await?;
                match rows.first().map(|r| r[0].as_str()) {
                    // Built: the statement ran. An invalid index is dropped before the rerun.
                    Some("t") => {
                        self.record_settled(step, index + 1).await?;
                        on_event(ExecEvent::StatementDone {
                            label: step.label(),
                            index,
                            total: script.statements.len(),
                        });
                        Ok(index + 1)
                    }
                    _ => Ok(index),
                }
            }
            RerunCheck::IndexDropped { index: name } => {
                let sql = format!("SELECT to_regclass({}) IS NULL", quote_literal(&name));
                self.settled_if(step, index, &sql, "checking an index").await
            }
            // Detached, or left pending detach: the rerun finishes it (FINALIZE).
            RerunCheck::PartitionDetached { parent, partition } => {
                let sql = format!(
                    "SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = to_regclass({}) AND inhparent = to_regclass({}))",
                    quote_literal(&partition),
                    quote_literal(&parent)
                );
                self.settled_if(step, index, &sql, "checking a partition").await
            }
            RerunCheck::EnumLabelAdded { type_name, label } => {
                let sql = format!(
                    "SELECT EXISTS (SELECT FROM pg_catalog.pg_enum WHERE enumtypid = to_regtype({}) AND enumlabel = {})",
                    quote_literal(&type_name),
                    quote_literal(&label)
                );
                self.settled_if(step, index, &sql, "checking an enum label").await
            }
            // What to do is the error's hint (the CLI's: which repair to record).
            RerunCheck::Unknown if step.direction == StepDirection::Down => Err(in_doubt(
                "the run that sent it stopped before it could record the result, and nothing in the database tells \
                 whether it ran; the migration stays applied"
                    .into(),
                None,
            )),
            RerunCheck::Unknown => Err(in_doubt(
                "the run that sent it stopped before it could record the result, and nothing in the database tells \
                 whether it ran"
                    .into(),
                None,
            )),
        }
    }

    /// Cancels session `pid`'s statement and waits (up to 10 s) until it no longer runs: whether it
    /// ended. (Not another role's session, which only a superuser may cancel.)
    async fn cancel_and_wait(&self, pid: &str) -> bool {
        // Refused (another role's session) is no cancel; `f` is a session that ended meanwhile
        // (seen, then gone: its block was aborted by its fence and its client gone), which the
        // wait below finds (CI: refused as in doubt, naming a session already gone).
        let cancel = format!("SELECT pg_catalog.pg_cancel_backend({pid})");
        if simple_rows(self.client, &cancel, "cancelling a statement a stopped run left").await.is_err() {
            return false;
        }
        let still = format!("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = {pid} AND state = 'active'");
        for _ in 0..100 {
            match simple_rows(self.client, &still, "waiting for a cancelled statement to end").await {
                Ok(rows) if rows.first().is_some_and(|r| r[0] == "0") => return true,
                Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(_) => return false,
            }
        }
        false
    }

    /// Records, behind the fence, that the statements before `done` of a running attempt are done.
    async fn record_settled(&self, step: &Step, done: usize) -> Result<(), PgError> {
        let row = NewRecord { statements_done: Some(done as i32), ..record(step, RecordStatus::Failed) };
        let sql = self.fenced(&self.history.insert_sql(&row, None, false));
        if let Err(e) = self.client.batch_execute(&sql).await {
            rollback(self.client).await;
            return Err(if is_fence(&e) {
                PgError::LockLost
            } else {
                PgError::query("recording a settled statement", e)
            });
        }
        Ok(())
    }

    /// Statement `index` of `step` ran where `sql` (one boolean) says so: recorded as done, the
    /// statement to start from is the next one; otherwise it is `index` itself.
    async fn settled_if(&self, step: &Step, index: usize, sql: &str, context: &'static str) -> Result<usize, PgError> {
        let rows = simple_rows(self.client, sql, context).await?;
        if rows.first().is_some_and(|r| r[0] == "t") {
            self.record_settled(step, index + 1).await?;
            return Ok(index + 1);
        }
        Ok(index)
    }

    /// Whether `partition` is left pending detach by a `DETACH PARTITION ... CONCURRENTLY` that
    /// did not finish.
    pub(super) async fn pending_detach(&self, partition: &str) -> Result<bool, tokio_postgres::Error> {
        let sql = format!(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = to_regclass({}) AND inhdetachpending)",
            quote_literal(partition)
        );
        let rows = self.client.simple_query(&sql).await?;
        Ok(rows.iter().any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("t"))))
    }

    /// `ALTER TABLE table DROP CONSTRAINT IF EXISTS constraint`, asking for the table's lock as a
    /// migration's statement does (a short lock_timeout, tried again while the lock wait allows),
    /// not queueing the application behind a long report.
    pub(super) async fn drop_constraint_again(
        &self,
        step: &Step,
        table: &str,
        constraint: &str,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), String> {
        let polite = self.options.lock_wait.as_ref();
        let timeout = polite.map(|w| format!("{}ms", w.try_timeout.as_millis().max(1)));
        let drop = format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}");
        // In a transaction block of its own, its settings SET LOCAL: a session's would stay on a
        // pooled server session (production re-check).
        let sql = format!(
            "BEGIN;\n{};\n{drop};\nCOMMIT",
            block_settings(self.session, self.listed_path().as_deref(), &step.script, timeout.as_deref())
        );
        // The table's readers and writers are waited for as a statement waits for them, named,
        // without queueing the application behind the request.
        let targets: Vec<LockTarget> =
            statement_locks(&drop).into_iter().filter(|t| t.mode.stalls_application()).collect();
        let (since, mut attempt) = (Instant::now(), 0);
        let message =
            |e: tokio_postgres::Error| e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string());
        loop {
            if let Some(wait) = polite.filter(|_| attempt > 0 && !targets.is_empty()) {
                self.wait_until_clear(&step.label(), &targets, wait, since, on_event)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let dropped = self.client.batch_execute(&sql).await;
            if dropped.is_err() {
                rollback(self.client).await;
            }
            match dropped {
                Err(e)
                    if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
                        && self.pause_to_retry(polite, since, &mut attempt, &step.label(), on_event).await => {}
                Err(e) => return Err(message(e)),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// The index `name`, where it is INVALID (what a failed or stopped CREATE INDEX CONCURRENTLY
    /// leaves), as PostgreSQL names it.
    pub(super) async fn invalid_index(&self, name: &str) -> Result<Option<String>, tokio_postgres::Error> {
        let sql = format!(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE NOT i.indisvalid AND i.indexrelid = to_regclass({})",
            quote_literal(name)
        );
        let rows = self.client.simple_query(&sql).await?;
        Ok(rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        }))
    }

    /// A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind; drop it so the retry can build it.
    pub(super) async fn drop_invalid_index(&self, name: &str) -> Result<Option<String>, tokio_postgres::Error> {
        let found = self.invalid_index(name).await?;
        if let Some(index) = &found {
            self.client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")).await?;
        }
        Ok(found)
    }
}

/// Where statement `index` of `step` is a VALIDATE CONSTRAINT that failed (not `stopped` by a
/// Ctrl-C) just after the statement of the file that added that constraint NOT VALID: the table and
/// the constraint as the ADD wrote them, and the ADD's index.
pub(super) fn not_valid_behind(step: &Step, index: usize, stopped: bool) -> Option<(String, String, usize)> {
    // Whatever stopped it (rows that break it, a lock it could not get in time, statement_timeout),
    // the constraint would go on refusing the application's writes; not on a stop asked for
    // (Ctrl-C), which ends the run now.
    if step.direction != StepDirection::Up || stopped {
        return None;
    }
    let (table, constraint) = shale_core::rerun::validated_constraint(step.script.statement_text(index))?;
    // The ADD just before it, of that constraint on that table as written (a constraint of the
    // same name on another schema's table is another's: the review dropped a healthy one). With
    // statements between them, which ran, the file could not start again at the ADD.
    let at = index.checked_sub(1)?;
    let (added_table, added) = shale_core::rerun::added_not_valid(step.script.statement_text(at))?;
    (added.eq_ignore_ascii_case(&constraint) && added_table.eq_ignore_ascii_case(&table)).then_some((
        added_table,
        added,
        at,
    ))
}

/// Where a statement before `index` of `step` (which ran) added a constraint NOT VALID that no
/// statement before `index` validated: the table, the constraint and the ADD's index; the one
/// statement `index` validates where it is a VALIDATE, else the latest.
pub(super) fn not_valid_pending(step: &Step, index: usize) -> Option<(String, String, usize)> {
    let text = |at: usize| step.script.statement_text(at);
    let same =
        |a: &(String, String), b: &(String, String)| a.0.eq_ignore_ascii_case(&b.0) && a.1.eq_ignore_ascii_case(&b.1);
    let pending: Vec<((String, String), usize)> = (0..index)
        .filter_map(|at| Some((shale_core::rerun::added_not_valid(text(at))?, at)))
        .filter(|(added, at)| {
            !(at + 1..index)
                .any(|later| shale_core::rerun::validated_constraint(text(later)).is_some_and(|v| same(&v, added)))
        })
        .collect();
    let failing = shale_core::rerun::validated_constraint(text(index));
    let chosen = failing.and_then(|v| pending.iter().find(|(added, _)| same(added, &v))).or(pending.last())?;
    let ((table, constraint), at) = chosen.clone();
    Some((table, constraint, at))
}
