//! The questions that change nothing: status, plans, what the database holds.

use shale_core::plan::{self, History, Plan, RecordKind, RecordStatus, StatusRow};
use shale_core::{Target, Version};
use shale_pg::Client;

use super::{plan_up, version_text, written_version, BeforeARun, Migrator, RanByBoth, StatusReport, UpRequest};
use crate::Error;

impl Migrator {
    /// State of every migration. One round trip after connecting.
    pub async fn status(&self) -> Result<StatusReport, Error> {
        let client = self.connect().await?;
        let (history, exists) = self.history(&client, false, false).await?;
        // Only where shale has nothing yet: one more query, for a database another tool migrated.
        if history.records.is_empty() {
            self.refuse_history_elsewhere(&client).await?;
        }
        let foreign = match history.records.is_empty() {
            true => self.foreign_history_without_adoption(&client).await?,
            false => Vec::new(),
        };
        let applied_before_adoption = self.applied_before_adoption(&client, &foreign).await?;
        let tables_without_history = match (history.records.is_empty() && !exists, foreign.is_empty()) {
            (true, true) => match shale_pg::foreign::tables_in_search_path(
                &client,
                3,
                self.config.connection.search_path_sql().as_deref(),
            )
            .await?
            {
                (0, _) => None,
                (count, first) => Some(super::report::TablesWithoutHistory { count, first }),
            },
            _ => None,
        };
        let taken_over_from = crate::adopt::taken_over(&history).map(|(_, table, _)| table.to_string());
        let migrations = plan::status(&self.set(), &history);
        let stopped = migrations.iter().any(|m| m.state == plan::State::Failed && m.error.is_none());
        let running_now = match stopped {
            true => shale_pg::lock::current_holder(&client, &self.config.history).await?,
            false => None,
        };
        let against = match taken_over_from {
            Some(_) => self.against_the_adopted_tool(&client, &history, &migrations).await?,
            None => AgainstTheAdoptedTool::default(),
        };
        let changed_since_baseline = self.changed_since_baseline(&client, &history, true).await?;
        // (A migration that failed or stopped part-way too: `up` would run it again, where a
        // standby cannot (review).)
        let pending = migrations
            .iter()
            .any(|m| matches!(m.state, plan::State::Pending | plan::State::OutOfOrder | plan::State::Failed));
        let standby = match pending {
            true => Some(in_recovery(&client).await?),
            false => None,
        };
        let changed_in_comments_only = self
            .changed_in_comments_only(&client, &history)
            .await?
            .into_iter()
            .map(|v| written_version(&self.set(), v))
            .collect();
        Ok(StatusReport {
            current_version: version_text(&self.set(), &history),
            history_exists: exists,
            migrations,
            foreign,
            ran_by_both: against.ran_by_both,
            applied_by_the_other_tool: against.applied,
            reverted_by_the_other_tool: against.reverted,
            failed_by_the_other_tool: against.failed,
            taken_over_from,
            changed_since_baseline,
            changed_in_comments_only,
            applied_before_adoption,
            running_now,
            standby,
            tables_without_history,
            left_at_baseline: history
                .records
                .iter()
                .filter(|r| r.kind == RecordKind::Audit)
                .filter_map(|r| shale_core::adopt::left_at_baseline(r.reason.as_deref()?))
                .map(|(_, table, _)| table.to_string())
                .collect(),
            written_about_the_switch: plan::written_about_the_switch(&self.set(), &history)
                .into_iter()
                .map(|c| {
                    c.path
                        .file_name()
                        .map_or_else(|| c.path.display().to_string(), |n| n.to_string_lossy().into_owned())
                })
                .collect(),
        })
    }

    /// What the tool whose history shale took over has done since, against the states of `rows`:
    /// the migrations shale applied that it applied too; those not applied that it applied (which
    /// `up` refuses); those applied that it reverted. Three queries.
    pub(super) async fn against_the_adopted_tool(
        &self,
        client: &Client,
        history: &History,
        rows: &[StatusRow],
    ) -> Result<AgainstTheAdoptedTool, Error> {
        let Some(since) = self.applied_by_the_adopted_tool(client, history).await? else {
            return Ok(AgainstTheAdoptedTool::default());
        };
        let pending: Vec<String> = rows
            .iter()
            .filter(|r| {
                matches!(
                    r.state,
                    plan::State::Pending | plan::State::OutOfOrder | plan::State::Failed | plan::State::Unrunnable
                )
            })
            .filter_map(|r| Some((Version::parse(r.version.as_deref()?)?, &r.name)))
            .filter(|(version, _)| since.not_shale_s(version, history))
            .map(|(version, name)| shale_core::layout::versioned_label(&written_version(&self.set(), version), name))
            .collect();

        // One the tool failed on is said as failed, not as run by both (golang-migrate counts the
        // version it stopped at as reached).
        let failed: Vec<Version> = since.failed.iter().filter_map(|key| Version::parse(key)).collect();
        // One the team recorded as the tool's run (`repair --applied`) is explained by that record,
        // whatever shale did with it since (reverted it, ran it again), unless the tool's row says
        // it ran it after (the Hasura trial: warned for good after a revert and an `up`).
        // (A migration taken over counts too: the tool reverted and applied it again since.)
        let mut migrations: Vec<String> = history
            .records
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Versioned | RecordKind::Adopted))
            .filter(|r| r.status == RecordStatus::Succeeded)
            .filter_map(|r| Some((Version::parse(&r.version).filter(|v| since.versions.contains(v))?, &r.name)))
            .filter(|(version, _)| !failed.contains(version) && !since.recorded_by_hand(version))
            .map(|(version, name)| shale_core::layout::versioned_label(&written_version(&self.set(), version), name))
            .collect();
        let mut seen = std::collections::HashSet::new();
        migrations.retain(|label| seen.insert(label.clone()));
        // A baseline row the tool wrote since marks without running: none of those ran twice, and
        // those pending are said apart from those it ran, as `up` says them (re-check: `status`
        // advised recording marked ones as applied, skipping them for good).
        migrations.retain(|label| !since.only_marked(label));
        let (marked_pending, ran_pending): (Vec<String>, Vec<String>) =
            pending.into_iter().partition(|label| since.only_marked(label));
        let applied = match ran_pending.is_empty() {
            true => since.listing(marked_pending),
            false => since.listing(ran_pending),
        };
        Ok(AgainstTheAdoptedTool {
            ran_by_both: since.listing(migrations),
            applied,
            reverted: since.reverted_of(rows),
            failed: since.listing(since.failed.clone()),
        })
    }

    /// What `up` says of the other tools still migrating here, on every run, with something to
    /// apply or not (Sqitch and Rails trials: "up to date" after the tool reverted a migration
    /// shale counts as applied, which only `status` said): a history a baseline left that changed
    /// since, and the migrations the tool whose history shale took over reverted since. Queries
    /// only where a baseline left a history or shale took one over: elsewhere the no-op start
    /// stays one round trip.
    pub(super) async fn other_tools_since(
        &self,
        client: &Client,
        history: &History,
    ) -> Result<(Vec<crate::adopt::ChangedSinceBaseline>, AgainstTheAdoptedTool), Error> {
        let left_one = history.records.iter().any(|r| {
            r.kind == RecordKind::Audit
                && r.reason.as_deref().is_some_and(|why| shale_core::adopt::left_at_baseline(why).is_some())
        });
        // Said for a warning only: a table this role may not read (a deploy role without SELECT on
        // the old tool's history) has nothing to say (review: a no-op `up` failed on it).
        let changed = match left_one {
            true => quietly(self.changed_since_baseline(client, history, true).await)?,
            false => Vec::new(),
        };
        let since = quietly(self.the_adopted_tool_since(client, history).await)?;
        Ok((changed, since))
    }

    /// Where shale took another tool's history over: what the tool did since (reverted migrations
    /// shale counts as applied, ran some shale had applied). No query elsewhere.
    async fn the_adopted_tool_since(&self, client: &Client, history: &History) -> Result<AgainstTheAdoptedTool, Error> {
        match crate::adopt::taken_over(history) {
            Some(_) => {
                let rows = plan::status(&self.set(), history);
                self.against_the_adopted_tool(client, history, &rows).await
            }
            None => Ok(AgainstTheAdoptedTool::default()),
        }
    }

    /// The user tables (the history table left out), with row estimates and sizes. One query.
    pub async fn inspect_tables(&self) -> Result<Vec<shale_pg::inspect::TableSummary>, Error> {
        let client = self.connect().await?;
        Ok(shale_pg::inspect::tables(&client, &self.config.history).await?)
    }

    /// One table's columns, constraints, indexes, triggers and foreign keys both ways. One query.
    pub async fn inspect_table(&self, name: &str) -> Result<Option<shale_pg::inspect::TableDetail>, Error> {
        let client = self.connect().await?;
        Ok(shale_pg::inspect::table(&client, name).await?)
    }

    /// The database's schema (system objects, extension-owned objects and this migrator's
    /// history table left out), read in one catalog query. See [`shale_schema::introspect()`].
    pub async fn schema(&self) -> Result<shale_schema::Schema, Error> {
        let client = self.connect().await?;
        let history = &self.config.history;
        Ok(shale_schema::introspect(&client, (&history.schema, &history.table)).await?)
    }

    /// The database as `plan` is judged against, exactly as `up` reads it: server version, the
    /// sizes of the tables the plan can reach, indexes. One query.
    pub async fn database_facts(&self, plan: &Plan) -> Result<shale_pg::inspect::DatabaseFacts, Error> {
        facts_for(&self.connect().await?, plan).await
    }

    /// The server's version as `server_version_num` (e.g. 150018).
    pub async fn server_version(&self) -> Result<u32, Error> {
        server_version(&self.connect().await?).await
    }

    /// What `up` would do, without taking the lock or changing anything.
    pub async fn plan_up(&self, request: &UpRequest) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        let plan = match plan_up(&self.set(), &history, request) {
            Ok(plan) => plan,
            Err(e) => return Err(self.said_in_full(&client, &history, e).await),
        };
        if history.records.is_empty() && !plan.steps.is_empty() {
            self.refuse_over_foreign_history(&client).await?;
            self.refuse_over_existing_tables(&client, request, &plan).await?;
        }
        plan::check_own_tables(&plan, &self.own_tables()).map_err(Error::Plan)?;
        // What `up` would refuse, a dry run (and `validate`) refuses too: behind a pooler in the
        // way of a file outside a transaction too (operator trial: the dry run planned it).
        self.refuse_what_the_adopted_tool_applied(&client, &history, &plan).await?;
        self.check_schema_is_pinned(&client, &plan).await?;
        // (The re-check: the dry run planned what `up` refused.)
        self.refuse_requirements_elsewhere(&client, &plan).await?;
        Ok(plan)
    }

    /// What a dry run says before the run, on one connection. With something to apply
    /// (`pending`): the histories of tools whose migrations are code that changed since the
    /// baseline, as `up` reports them after a run (Django trial: a data migration it ran after the
    /// switch, whose SQL twin was pending, and the dry run said nothing); and whether the server
    /// is a standby, where `up` cannot run (operator trial). Where shale has no history: other
    /// tools' histories, as `up` notes them with nothing to apply (TypeORM and Knex trials: the
    /// dry run said nothing).
    pub async fn before_a_run(&self, pending: bool) -> Result<BeforeARun, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        let foreign = match history.records.is_empty() {
            true => self.foreign_history_without_adoption(&client).await?,
            false => Vec::new(),
        };
        // Said with nothing to apply too, as `up` says it then (slonik trial: the dry run was silent).
        if !pending {
            let changed_since_baseline = self.changed_since_baseline(&client, &history, true).await?;
            return Ok(BeforeARun { foreign, changed_since_baseline, ..Default::default() });
        }
        Ok(BeforeARun {
            changed_since_baseline: self.changed_since_baseline(&client, &history, true).await?,
            standby: in_recovery(&client).await?,
            foreign,
        })
    }

    /// The migrations not applied yet, whatever `up` would refuse (see [`plan::plan_pending`]):
    /// what a linter judges against this database. Reads the history only.
    pub async fn plan_pending(&self) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, false, false).await?;
        Ok(plan::plan_pending(&self.set(), &history))
    }

    /// What `down` would do, without changing anything.
    pub async fn plan_down(&self, target: &Target) -> Result<Plan, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, true, false).await?;
        plan::plan_down_generated(&self.set(), &history, target, &self.generated_downs).map_err(Error::Plan)
    }

    /// The migrations a down to `target` would revert that have no down (no file, none in the
    /// history), oldest first.
    pub async fn missing_downs(&self, target: &Target) -> Result<Vec<shale_core::Version>, Error> {
        let client = self.connect().await?;
        let (history, _) = self.history(&client, true, false).await?;
        plan::missing_downs(&self.set(), &history, target).map_err(Error::Plan)
    }
}

/// What the tool whose history shale took over has done since: see [`StatusReport`]'s fields.
#[derive(Debug, Default)]
pub(super) struct AgainstTheAdoptedTool {
    pub(super) ran_by_both: Option<RanByBoth>,
    applied: Option<RanByBoth>,
    pub(super) reverted: Option<RanByBoth>,
    failed: Option<RanByBoth>,
}

/// A read made for a warning alone: a query the server refused (a table this role may not read)
/// gives nothing to say, not a failure.
pub(super) fn quietly<T: Default>(read: Result<T, Error>) -> Result<T, Error> {
    match read {
        Err(Error::Pg(shale_pg::PgError::Query { .. })) => Ok(T::default()),
        other => other,
    }
}

/// Whether the server is a standby (in recovery).
pub(super) async fn in_recovery(client: &Client) -> Result<bool, Error> {
    let role = shale_pg::server_role(client)
        .await
        .map_err(|e| shale_pg::PgError::query("reading whether the server is a standby", e))?;
    Ok(role.is_some_and(|r| r.in_recovery))
}

/// `server_version_num`, e.g. 150018.
pub(super) async fn server_version(client: &Client) -> Result<u32, Error> {
    let rows = client
        .simple_query("SHOW server_version_num")
        .await
        .map_err(|e| shale_pg::PgError::query("reading the server version", e))?;
    Ok(rows
        .iter()
        .find_map(|m| match m {
            shale_pg::tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .unwrap_or(0))
}

/// The facts `plan` is judged against: the schemas on the session's search path and those its
/// statements name, not every schema of the database.
pub(super) async fn facts_for(client: &Client, plan: &Plan) -> Result<shale_pg::inspect::DatabaseFacts, Error> {
    Ok(shale_pg::inspect::facts(client, &plan.named_schemas()).await?)
}
