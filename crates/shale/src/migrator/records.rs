//! History rows written without running a migration: a baseline, a repair, another tool's
//! history accepted as it is.

use shale_core::plan::{self, AppliedRecord, RecordKind, RecordStatus, Step};
use shale_core::Version;
use shale_pg::history::NewRecord;
use shale_pg::{Client, HeldLock};

use super::{written_version, Migrator, OnEvent, RepairDecision, RepairReport, RunReport};
use crate::error::RepairRefusal;
use crate::Error;

impl Migrator {
    /// Mark an existing database as being at `version` without running anything.
    pub async fn baseline(
        &self,
        version: &Version,
        reason: Option<&str>,
        on_event: OnEvent<'_>,
    ) -> Result<RunReport, Error> {
        self.under_lock(None, on_event, async |session, _| {
            self.baseline_locked(&session.client, &session.lock, version, reason).await
        })
        .await
    }

    pub(super) async fn baseline_locked(
        &self,
        client: &Client,
        lock: &HeldLock,
        version: &Version,
        reason: Option<&str>,
    ) -> Result<RunReport, Error> {
        let (history, _) = self.history(client, false, true).await?;
        if let Some(current) = history.current_version() {
            return Err(Error::Invalid(format!(
                "the database already has migration history (at version {current}); baseline is for a database that has none yet"
            )));
        }
        let set = self.set();
        let name = set.find(version).map(|m| m.name.clone()).unwrap_or_else(|| "baseline".into());
        // Its file's checksum: a change to it afterwards shows here as on a database it built.
        let record = NewRecord {
            version: version.canonical(),
            name: &name,
            kind: RecordKind::Baseline,
            checksum: set.find(version).map(|m| m.checksum.as_str()),
            up_sql: None,
            down_sql: None,
            status: RecordStatus::Succeeded,
            reason,
            statements_done: None,
            path: set.find(version).map(|m| m.file.as_str()),
        };
        // The files it covers: one added under it later never ran here (`plan::covered`).
        // Those shale cannot run (goose's Go files) and the old tool's code migrations too: ported
        // to SQL later, as shale asks, such a file ran here as code (review).
        let sql = set.migrations.iter().filter_map(|m| m.version.as_ref());
        let code = set.unrunnable.iter().map(|u| &u.version).chain(set.code_migrations.iter().map(|c| &c.version));
        let covered = sql.chain(code).filter(|v| *v <= version);
        let reason = shale_core::plan::covered::covered_reason(version, covered);
        let covered_row = crate::adopt::succeeded(
            RecordKind::Audit,
            String::new(),
            shale_core::plan::covered::COVERED_ROW_NAME,
            &reason,
        );
        // Another tool's history left as it was (Alembic's, Django's, node-pg-migrate's of
        // JavaScript modules: a history shale took over would have refused the baseline): what it
        // holds now, so that `status` sees it change if that tool still migrates here.
        let mut left = self.other_histories(client).await?;
        left.retain(|t| self.left_at_baseline(t));
        let mut left_rows = Vec::new();
        for table in &left {
            let Some(fingerprint) = shale_pg::foreign::fingerprint(client, table, false).await? else { continue };
            let name = table.display();
            let reason = shale_core::adopt::left_at_baseline_reason(table.tool, &name, &fingerprint);
            left_rows.push((name, reason));
        }
        // Named by the table: one row kept per history left (the history keeps one per name).
        let left_audits = left_rows
            .iter()
            .map(|(name, reason)| crate::adopt::succeeded(RecordKind::Audit, String::new(), name, reason));
        // All in one transaction: a baseline without its covered list would take a file added
        // under it later for one that ran here.
        let rows: Vec<NewRecord> = [record, covered_row].into_iter().chain(left_audits).collect();
        self.write_all(client, &rows, lock).await?;
        Ok(RunReport::default())
    }

    /// Record the histories of tools whose migrations are code (Django's, Alembic's, Rails', ...)
    /// that changed since the baseline, or appeared in a database shale built, as they are now:
    /// their changes are accounted for (recorded without running, as Django's `migrate --fake`
    /// does; or written as migrations with `drift --fix --direction adopt`), and the warning
    /// returns only when they change again (Django trial: the docs' `migrate --fake` made it fire
    /// on every deploy, with dropping Django's table the only way to end it). Returns the
    /// histories recorded; none where none had changed. A tool whose migrations are SQL files,
    /// which ran them here a second time, is not accepted (left, and still warned about): its
    /// table is to be dropped. The schema is not compared: `drift` shows what the tool changed.
    pub async fn accept_other_history(
        &self,
        reason: &str,
        on_event: OnEvent<'_>,
    ) -> Result<crate::adopt::AcceptedHistories, Error> {
        if reason.trim().is_empty() {
            return Err(Error::Repair(RepairRefusal::NoReason));
        }
        self.holding_lock(None, on_event, async |session, _| {
            let client = &session.client;
            let (history, _) = self.history(client, true, true).await?;
            let (left, changed): (Vec<_>, Vec<_>) = self
                .changed_since_baseline(client, &history, false)
                .await?
                .into_iter()
                .partition(|c| c.baseline_at.is_none() && c.tool.migrations_are_sql());
            for c in &changed {
                let (schema, name) = c.table.split_once('.').unwrap_or(("public", c.table.as_str()));
                let table = shale_pg::foreign::ForeignTable {
                    tool: c.tool,
                    schema: schema.into(),
                    table: name.into(),
                    in_search_path: true,
                };
                let Some(fingerprint) = shale_pg::foreign::fingerprint(client, &table, false).await? else { continue };
                let reason = shale_core::adopt::accepted_reason(c.tool, &c.table, &fingerprint, reason);
                let audit = crate::adopt::succeeded(RecordKind::Audit, String::new(), &c.table, &reason);
                self.write(client, &audit, &session.lock).await?;
            }
            Ok(crate::adopt::AcceptedHistories { accepted: changed, left })
        })
        .await
    }

    /// Record a human decision about a failed, modified or missing migration, as an audit row.
    ///
    /// Recording a decision that contradicts a healthy history (an applied migration whose file
    /// is unchanged marked rolled back, which makes the next `up` run it again) needs `force`.
    /// `Applied` for a migration whose file is gone records it as applied with no file (removed
    /// on purpose); for one applied with its file unchanged there is nothing to record.
    pub async fn repair(
        &self,
        version: &Version,
        decision: RepairDecision,
        reason: &str,
        force: bool,
        on_event: OnEvent<'_>,
    ) -> Result<RepairReport, Error> {
        if reason.trim().is_empty() {
            return Err(Error::Repair(RepairRefusal::NoReason));
        }
        if plan::is_file_removed_reason(reason) {
            return Err(Error::Invalid(
                "the reason ends with the words shale writes for a file removed on purpose; say it in other words"
                    .into(),
            ));
        }
        self.holding_lock(None, on_event, async |session, _| {
            self.repair_locked(&session.client, &session.lock, version, decision, reason, force).await
        })
        .await
    }

    pub(super) async fn repair_locked(
        &self,
        client: &Client,
        lock: &HeldLock,
        version: &Version,
        decision: RepairDecision,
        reason: &str,
        force: bool,
    ) -> Result<RepairReport, Error> {
        let (history, _) = self.history(client, true, true).await?;
        let set = self.set();
        let file = set.find(version);
        // Taken over by `adopt` counts as applied here as much as run by shale: the same refusal
        // guards it, and its row is found when its file is gone.
        let record: Option<&AppliedRecord> = history.records.iter().find(|r| {
            matches!(r.kind, RecordKind::Versioned | RecordKind::Repair | RecordKind::Adopted)
                && Version::parse(&r.version).as_ref() == Some(version)
        });
        let unrunnable = set.find_unrunnable(version);
        // As its file writes it (`0002`), as status shows it.
        let shown = written_version(&set, version.clone());
        let in_code = set.code_migrations.iter().any(|c| &c.version == version);
        if file.is_none() && record.is_none() && unrunnable.is_none() && !in_code {
            return Err(Error::Invalid(format!("no migration has version {shown}, in the files or in the history")));
        }
        let go_pending = unrunnable.filter(|_| !record.is_some_and(|r| r.status == RecordStatus::Succeeded));
        if let (Some(go), RepairDecision::Applied, false) = (go_pending, decision, force) {
            let pending = plan::plan_pending(&set, &history);
            let earlier: Vec<&Step> =
                pending.steps.iter().filter(|s| s.version.as_ref().is_some_and(|v| v < &go.version)).collect();
            if let Some(last) = earlier.last() {
                return Err(Error::Repair(RepairRefusal::EarlierPending {
                    version: shown,
                    pending: earlier.len(),
                    before: last.version_text.clone(),
                }));
            }
        }
        let healthy = record.is_some_and(|r| {
            r.status == RecordStatus::Succeeded
                && file.is_some_and(|f| r.checksum.as_deref().is_none_or(|c| c == f.checksum.as_str()))
        });
        if decision == RepairDecision::RolledBack && healthy && !force {
            return Err(Error::Repair(RepairRefusal::Healthy { version: shown.clone() }));
        }
        let mut report = RepairReport { version: shown.clone(), decision, recorded: false, without_file: false };
        // Applied already, as the decision says: its file unchanged, or none and none expected;
        // and no down of it stopped part-way (a repair row is what ends that).
        let applied = record.is_some_and(|r| {
            r.status == RecordStatus::Succeeded
                && file.is_none()
                && (unrunnable.is_some() || plan::applied_without_file(r))
        });
        let down_stopped = record.is_some_and(|r| plan::down_stopped_part_way(&history, r));
        if decision == RepairDecision::Applied && (healthy || applied) && !down_stopped {
            // Unless the tool whose history shale took over says it ran it too, or reverted it
            // since: recorded, the team's word on it (checked, and still applied) ends the warning
            // that it ran twice (Hasura and golang-migrate trials: checked, and nothing could end
            // it), or that it was reverted (Sqitch trial: a revert script that did nothing).
            let since = self.applied_by_the_adopted_tool(client, &history).await?;
            let said = since.is_some_and(|s| {
                (s.versions.contains(version) && !s.recorded_by_hand(version)) || s.reverted.contains(version)
            });
            if !said {
                return Ok(report);
            }
        }
        // Applied with no file: its file was removed on purpose, so it no longer counts as missing.
        report.without_file = decision == RepairDecision::Applied && file.is_none() && unrunnable.is_none();
        let reason = match report.without_file {
            true => shale_core::plan::file_removed_reason(reason),
            false => reason.to_string(),
        };
        if let RepairDecision::ResumeAt(at) = decision {
            let Some(m) = file.filter(|m| m.up.no_transaction.is_some()) else {
                return Err(Error::Repair(RepairRefusal::NotPartWay {
                    version: shown.clone(),
                    has_file: file.is_some(),
                }));
            };
            if !record.is_some_and(|r| matches!(r.status, RecordStatus::Failed | RecordStatus::Running)) {
                return Err(Error::Invalid(format!(
                    "migration {shown} did not stop part-way (its last attempt did not fail): nothing to resume"
                )));
            }
            let total = m.up.statements.len();
            if at == 0 || at > total + 1 {
                return Err(Error::Repair(RepairRefusal::ResumeOutOfRange { version: shown.clone(), at, total }));
            }
        }
        let name = file
            .map(|m| m.name.clone())
            .or_else(|| unrunnable.map(|u| u.name.clone()))
            .or_else(|| record.map(|r| r.name.clone()))
            .unwrap_or_default();
        let up =
            file.map(|m| m.up.own_text_shared()).or_else(|| record.and_then(|r| r.up_sql.as_deref().map(Into::into)));
        let down = file
            .and_then(|m| m.down.as_ref().map(|d| d.own_text_shared()))
            .or_else(|| record.and_then(|r| r.down_sql.as_deref().map(Into::into)));
        let checksum = file.map(|m| m.checksum.0.clone()).or_else(|| record.and_then(|r| r.checksum.clone()));
        let entry = NewRecord {
            version: version.canonical(),
            name: &name,
            kind: RecordKind::Repair,
            checksum: checksum.as_deref(),
            up_sql: up.as_deref(),
            down_sql: down.as_deref(),
            status: match decision {
                RepairDecision::Applied => RecordStatus::Succeeded,
                RepairDecision::RolledBack => RecordStatus::RolledBack,
                // A failed attempt that got this far: `up` resumes after it, with nothing in doubt.
                RepairDecision::ResumeAt(_) => RecordStatus::Failed,
            },
            reason: Some(&reason),
            statements_done: match decision {
                RepairDecision::ResumeAt(at) => Some(at as i32 - 1),
                _ => None,
            },
            path: file
                .map(|m| m.file.as_str())
                .or_else(|| unrunnable.map(|u| u.file.as_str()))
                .or_else(|| record.and_then(|r| r.path.as_deref())),
        };
        self.write(client, &entry, lock).await?;
        report.recorded = true;
        Ok(report)
    }

    /// Writes a history row behind the lock's fence: nothing is recorded unless the lock is held.
    pub(super) async fn write(&self, client: &Client, record: &NewRecord<'_>, lock: &HeldLock) -> Result<(), Error> {
        self.write_all(client, std::slice::from_ref(record), lock).await
    }

    /// Writes history rows in one transaction behind the lock's fence: all of them or none.
    pub(crate) async fn write_all(
        &self,
        client: &Client,
        records: &[NewRecord<'_>],
        lock: &HeldLock,
    ) -> Result<(), Error> {
        let inserts: Vec<String> = records.iter().map(|r| self.config.history.insert_sql(r, None, false)).collect();
        let sql = format!("BEGIN;\n{};\n{};\nCOMMIT", lock.commit_fence(), inserts.join(";\n"));
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            if e.code().is_some_and(|c| c.code() == shale_pg::lease::FENCE_SQLSTATE) {
                return Err(Error::LockLost { applied: Vec::new(), stopped: None, outside_transaction: false });
            }
            return Err(shale_pg::PgError::query("writing the history", e).into());
        }
        Ok(())
    }
}
