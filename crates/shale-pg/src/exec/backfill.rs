//! Running a batched backfill (`-- shale:backfill`): the statement's SQL comes from
//! [`shale_core::backfill`]; here the table's key is read and the batches run, each in its own
//! transaction together with the history row's new position and the commit fence, one round trip
//! per batch.

use std::time::{Duration, Instant};

use shale_core::backfill::{key_batch_sql, page_batch_sql, update_shape, Backfill, Cursor, KeyColumn};
use shale_core::ident::ident_always_quoted;
use shale_core::plan::Step;
use shale_core::position::LineIndex;
use tokio_postgres::error::SqlState;
use tokio_postgres::SimpleQueryMessage;

use super::{is_fence, rollback, ExecEvent, Executor, NoTxStop};
use crate::error::{InterruptedWait, PgError};
use crate::sql::quote_literal;

/// How often a batch's wait behind locked rows is told while it lasts.
const TELL_WAITING_EVERY: Duration = Duration::from_secs(5);

/// What the executor learns about the table before the first batch.
struct Table {
    keys: Vec<KeyColumn>,
    /// Pages of the table when the backfill started (ctid mode walks these).
    pages: u64,
    /// The planner's row estimate, for the progress report.
    rows: u64,
    /// A partitioned table has no pages of its own: it needs a primary key to be walked.
    partitioned: bool,
}

impl Executor<'_> {
    /// Runs statement `index` of `step` in batches from `cursor` (the history's `resume_cursor`
    /// when resuming). Each batch commits with its position; a stop leaves the history pointing
    /// at the next batch.
    pub(super) async fn run_backfill(
        &self,
        step: &Step,
        index: usize,
        id: i64,
        backfill: Backfill,
        cursor: Option<&str>,
        on_event: &mut (dyn FnMut(ExecEvent) + Send),
    ) -> Result<(), NoTxStop> {
        let label = step.label();
        let text = step.script.statement_text(index);
        let waited = |error: PgError| NoTxStop::Waited { error };
        let shape = update_shape(text).map_err(|why| waited(PgError::Corrupt(why)))?;
        let mut cursor = Cursor::from_text(cursor).map_err(|why| waited(PgError::Corrupt(why)))?;
        let table = self.backfill_table(&shape.table).await.map_err(NoTxStop::at(index))?;
        // Refusals name the statement as the file has it.
        let script = &step.script;
        let (line, column) = LineIndex::new(&script.text).line_col(&script.text, script.statements[index].span.start);
        let at = format!("{}:{line}:{column}", script.path.display());
        if table.keys.is_empty() && table.partitioned {
            return Err(waited(PgError::Query {
                context: "running a backfill",
                message: format!(
                    "{at}: {} is partitioned and has no primary key: a backfill walks a partitioned table by its key; \
                     give it one, or backfill each partition (its own UPDATE and directive)",
                    shape.table
                ),
                sqlstate: None,
            }));
        }
        if table.keys.is_empty() && shape.condition.is_none() {
            return Err(waited(PgError::Query {
                context: "running a backfill",
                message: format!(
                    "{at}: {} has no primary key, so the backfill walks its pages, and an UPDATE without WHERE would \
                     update rows twice (a row's new version can land on a page still to come): add a WHERE that \
                     leaves out the rows already done (e.g. WHERE new_column IS NULL)",
                    shape.table
                ),
                sqlstate: None,
            }));
        }
        let pages_per_batch = match table.rows {
            0 => backfill.batch.max(1),
            rows => (backfill.batch * table.pages.max(1)).div_ceil(rows).max(1),
        };
        let started = Instant::now();
        let (mut batches, mut updated) = (0u64, 0u64);
        let record = |next: &str| self.history.cursor_sql(id, next);
        // A batch that met a lock held past its lock_timeout (a row the application keeps locked in
        // a long transaction) is tried again as a statement is, where it failed the migration
        // (production trial).
        let (mut attempt, mut since) = (0, Instant::now());
        // When a wait behind locked rows was last told.
        let mut told: Option<Instant> = None;
        loop {
            let sql = match &cursor {
                Cursor::Done => break,
                Cursor::AfterKey(_) | Cursor::Start if !table.keys.is_empty() => {
                    let after: Vec<String> = match &cursor {
                        Cursor::AfterKey(values) => values.iter().map(|v| quote_literal(v)).collect(),
                        _ => Vec::new(),
                    };
                    key_batch_sql(text, &shape, &table.keys, &after, backfill.batch, &record)
                }
                Cursor::AfterKey(_) => {
                    return Err(waited(PgError::Corrupt(format!(
                        "the backfill stopped at a key of {}, which has no primary key now",
                        shape.table
                    ))))
                }
                Cursor::Start | Cursor::BeforePage(_) => {
                    let from = if let Cursor::BeforePage(page) = cursor { page } else { 0 };
                    let to = from + pages_per_batch;
                    page_batch_sql(text, &shape, from, to, to >= table.pages, &record)
                }
            };
            if batches > 0 && !backfill.pause.is_zero() {
                tokio::time::sleep(backfill.pause).await;
            }
            if batches > 0 && self.interrupt.is_some_and(|i| i.requested()) {
                return Err(waited(PgError::Interrupted(InterruptedWait::BetweenBatches {
                    label: label.clone(),
                    batches,
                    updated,
                })));
            }
            // Its settings in its own transaction: a session's would not hold through a
            // transaction-mode pooler.
            let settings = super::block_settings(self.session, self.listed_path().as_deref(), &step.script, None);
            let batch = format!("BEGIN;\n{settings};\n{sql};\n{};\nCOMMIT", self.commit_fence);
            let tried = Instant::now();
            let messages = match self.interruptible(self.client.simple_query(&batch)).await {
                Ok(messages) => messages,
                Err(error) => {
                    rollback(self.client).await;
                    // The fence failed: the lock went, the batch rolled back; stop as a lost lock.
                    if is_fence(&error) {
                        return Err(NoTxStop::Record { index, error });
                    }
                    let lock_timeout = error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE);
                    let polite = self.options.lock_wait.as_ref();
                    if lock_timeout && told.is_none_or(|at| at.elapsed() >= TELL_WAITING_EVERY) {
                        told = Some(Instant::now());
                        let min_age = tried.elapsed().mul_f64(0.9);
                        let holders =
                            crate::lockwait::row_holders(self.client, &shape.table, min_age).await.map_err(&waited)?;
                        on_event(ExecEvent::BackfillWaiting {
                            label: label.clone(),
                            batch: batches + 1,
                            waited: since.elapsed(),
                            holders,
                        });
                    }
                    // (Its own retries told above, not the statement's every tenth try.)
                    if lock_timeout && self.pause_to_retry(polite, since, &mut attempt, &label, &mut |_| {}).await {
                        continue;
                    }
                    return Err(NoTxStop::at(index)(error));
                }
            };
            (attempt, since, told) = (0, Instant::now(), None);
            let Some((count, next)) = messages.iter().find_map(|m| match m {
                SimpleQueryMessage::Row(row) => {
                    Some((row.get(0).unwrap_or("0").parse::<u64>().unwrap_or(0), row.get(1).map(str::to_string)))
                }
                _ => None,
            }) else {
                return Err(waited(PgError::Corrupt("a backfill batch returned no row".into())));
            };
            cursor = Cursor::from_text(next.as_deref()).map_err(|why| waited(PgError::Corrupt(why)))?;
            batches += 1;
            updated += count;
            // How far along, from what the batch reached (the rows updated may be fewer).
            let progress = match &cursor {
                Cursor::Done => Some(1.0),
                Cursor::BeforePage(page) => Some(*page as f64 / table.pages.max(1) as f64),
                _ if table.rows > 0 => Some(((batches * backfill.batch) as f64 / table.rows as f64).min(0.99)),
                _ => None,
            };
            on_event(ExecEvent::BackfillProgress {
                label: label.clone(),
                index,
                batches,
                rows_updated: updated,
                progress,
                elapsed: started.elapsed(),
                done: cursor == Cursor::Done,
            });
        }
        Ok(())
    }

    /// The table's primary key columns (in key order, with their types), its size in pages, its
    /// estimated rows and whether it is partitioned: one round trip.
    async fn backfill_table(&self, table: &str) -> Result<Table, tokio_postgres::Error> {
        let relation = format!("{}::regclass", quote_literal(table));
        let sql = format!(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NULL, NULL, NULL, k.n
               FROM pg_catalog.pg_index i
              CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = {relation} AND i.indisprimary
             UNION ALL
             SELECT NULL, NULL, pg_catalog.pg_relation_size(oid) / current_setting('block_size')::bigint,
                    greatest(reltuples, 0)::bigint, relkind = 'p', NULL
               FROM pg_catalog.pg_class WHERE oid = {relation}
             ORDER BY 6"
        );
        let messages = self.client.simple_query(&sql).await?;
        let mut found = Table { keys: Vec::new(), pages: 0, rows: 0, partitioned: false };
        for message in &messages {
            if let SimpleQueryMessage::Row(row) = message {
                match (row.get(0), row.get(1)) {
                    (Some(name), Some(type_name)) => {
                        found.keys.push(KeyColumn { name: ident_always_quoted(name), type_name: type_name.to_string() })
                    }
                    _ => {
                        found.pages = row.get(2).and_then(|v| v.parse().ok()).unwrap_or(0);
                        found.rows = row.get(3).and_then(|v| v.parse().ok()).unwrap_or(0);
                        found.partitioned = row.get(4) == Some("t");
                    }
                }
            }
        }
        Ok(found)
    }
}
