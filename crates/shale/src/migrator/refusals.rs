//! What a run is refused for before anything runs: another tool's history, tables already
//! there, a changed file, the migrator's own tables, a schema a pooler does not keep.

use shale_core::plan::{self, History, Plan};
use shale_core::{PlanError, Version};
use shale_pg::Client;

use super::{Migrator, UpRequest};
use crate::Error;

/// How an applied migration's file changed, as the SQL its run kept tells.
#[derive(Debug, PartialEq, Eq)]
enum Changed {
    InCommentsOnly,
    /// By the value given to this Liquibase parameter alone.
    Parameter(String),
}

impl Migrator {
    /// Sqitch changes about to run whose plan requires changes of other projects
    /// (`[oss_chef:roles]`) that the database has not deployed: refused before anything runs, as
    /// `sqitch deploy` refuses them (breadth trial: chef-server's enterprise project on a new
    /// database ran 5 changes and failed at the 6th, on a table of the other project). Two queries,
    /// only where a change about to run requires one.
    pub(super) async fn refuse_requirements_elsewhere(&self, client: &Client, plan: &Plan) -> Result<(), Error> {
        let set = self.set();
        if set.sqitch_requires_elsewhere.is_empty() {
            return Ok(());
        }
        let up = plan.steps.iter().filter(|s| s.direction == shale_core::StepDirection::Up);
        let wanted: Vec<(String, &shale_core::layout::SqitchRequiredElsewhere)> = up
            .flat_map(|step| {
                let of_step = |r: &&shale_core::layout::SqitchRequiredElsewhere| {
                    step.version.as_ref() == Version::parse(&r.number.to_string()).as_ref()
                };
                set.sqitch_requires_elsewhere.iter().filter(of_step).map(move |r| (step.label(), r))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let required: Vec<(String, String)> =
            wanted.iter().map(|(_, r)| (r.project.clone(), r.required.clone())).collect();
        let missing = shale_pg::foreign::sqitch_changes_missing(client, &self.config.history, &required).await?;
        let missing: Vec<(String, String, String)> = wanted
            .into_iter()
            .filter(|(_, r)| missing.iter().any(|(p, c)| *p == r.project && *c == r.required))
            .map(|(label, r)| (label, r.project.clone(), r.required.clone()))
            .collect();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(Error::RequiredElsewhere { missing }),
        }
    }

    /// A database another tool migrated, where shale has no history yet: running the migrations
    /// would run again what that tool applied.
    pub(super) async fn refuse_over_foreign_history(&self, client: &Client) -> Result<(), Error> {
        let found = self.foreign_history_without_adoption(client).await?;
        if !found.is_empty() {
            // shale's own, elsewhere, is said first: then `adopt` is not the way (re-check).
            self.refuse_history_elsewhere(client).await?;
        }
        match found.as_slice() {
            [] => Ok(()),
            [table] => Err(Error::ForeignHistory {
                tool: table.tool,
                table: table.display(),
                adoptable: table.tool.adoptable_with(&self.set()),
            }),
            several => Err(crate::adopt::foreign_histories(several)),
        }
    }

    /// The applied migrations whose file changed since in comments and white space alone (the SQL
    /// their run kept in the history is the file's but for them), by version. One query, made only
    /// where a file changed.
    pub(super) async fn changed_in_comments_only(
        &self,
        client: &Client,
        history: &History,
    ) -> Result<Vec<Version>, Error> {
        let changes = self.how_changed(client, history).await?;
        Ok(changes.into_iter().filter(|(_, how)| *how == Changed::InCommentsOnly).map(|(v, _)| v).collect())
    }

    /// Of the applied migrations whose file changed since, those whose change the SQL their run
    /// kept tells: in comments and white space alone, or by a Liquibase parameter's value alone
    /// (the second re-check: refused as "the file changed", where the file was as it was). One
    /// query, made only where a file changed.
    async fn how_changed(&self, client: &Client, history: &History) -> Result<Vec<(Version, Changed)>, Error> {
        let set = self.set();
        let modified = plan::modified_records(&set, history);
        if modified.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = modified.iter().map(|(_, id)| *id).collect();
        let ran = self.config.history.up_sql_of(client, &ids).await?;
        Ok(modified
            .into_iter()
            .filter_map(|(version, id)| {
                let (_, sql) = ran.iter().find(|(r, _)| *r == id)?;
                let now = set.find(&version)?.up.own_text();
                let how = match plan::differs_in_comments_only(sql, now) {
                    true => Changed::InCommentsOnly,
                    false => Changed::Parameter(plan::changed_by_parameter(&set, sql, now)?.to_string()),
                };
                Some((version, how))
            })
            .collect())
    }

    /// `error` with what the history says of it: a changed file's change, when it is in
    /// comments and white space only. Reading that failing, the error stays as it was.
    pub(super) async fn said_in_full(&self, client: &Client, history: &History, error: Error) -> Error {
        let Error::Plan(mut problems) = error else { return error };
        // One shale cannot run that the tool whose history it took over ran since: said so, as
        // such a SQL file is (re-check: a yoyo Python step was said to be done by hand, again).
        if problems.iter().any(|p| matches!(p, PlanError::Unrunnable { .. })) {
            if let Ok(Some(since)) = self.applied_by_the_adopted_tool(client, history).await {
                let set = self.set();
                let ran: Vec<&shale_core::layout::Unrunnable> = problems
                    .iter()
                    .filter_map(|p| match p {
                        PlanError::Unrunnable { version, .. } => Version::parse(version),
                        _ => None,
                    })
                    .filter(|v| since.not_shale_s(v, history))
                    .filter_map(|v| set.find_unrunnable(&v))
                    .collect();
                if !ran.is_empty() {
                    let marked = ran.iter().all(|u| since.marked.contains(&u.version));
                    return Error::AppliedByTheOtherTool {
                        tool: since.tool,
                        table: since.table,
                        migrations: ran
                            .iter()
                            .map(|u| shale_core::layout::versioned_label(&u.version_text, &u.name))
                            .collect(),
                        marked_by_baseline: since.marked_by_baseline.filter(|_| marked),
                    };
                }
            }
        }
        if problems.iter().any(|p| matches!(p, PlanError::Modified { .. })) {
            let changes = self.how_changed(client, history).await.unwrap_or_default();
            for p in &mut problems {
                if let PlanError::Modified { label, in_comments_only, parameter, .. } = p {
                    let version = label.split(' ').next().and_then(Version::parse);
                    let how = changes.iter().find(|(v, _)| Some(v) == version.as_ref()).map(|(_, how)| how);
                    *in_comments_only = how == Some(&Changed::InCommentsOnly);
                    if let Some(Changed::Parameter(name)) = how {
                        *parameter = Some(name.clone());
                    }
                }
            }
        }
        Error::Plan(problems)
    }

    /// See [`UpRequest::allow_over_existing_tables`]. The history was read empty before the lock:
    /// tables found, it is read again, since another runner may have applied the migrations that
    /// made them meanwhile (each commits its tables with its history row), and then nothing is
    /// wrong: `up` plans again under the lock.
    pub(super) async fn refuse_over_existing_tables(
        &self,
        client: &Client,
        request: &UpRequest,
        plan: &Plan,
    ) -> Result<(), Error> {
        if request.allow_over_existing_tables {
            return Ok(());
        }
        let Some(refusal) = tables_without_history(client, plan).await? else { return Ok(()) };
        match self.config.history.load(client, false).await? {
            Some(history) if !history.records.is_empty() => Ok(()),
            // shale's own history in another schema built them, likelier than anything else.
            _ => {
                self.refuse_history_elsewhere(client).await?;
                Err(refusal)
            }
        }
    }

    /// The history table and its lease table: no migration may change them.
    pub(super) fn own_tables(&self) -> plan::OwnTables {
        let history = &self.config.history;
        let (_, lease) = shale_pg::lease::lease_table(history);
        plan::OwnTables { schema: history.schema.clone(), tables: vec![history.table.clone(), lease] }
    }

    /// A migration that runs outside a transaction and changes the session's settings itself
    /// (`SET search_path`, `SET ROLE`, `set_config(.., false)`) needs one server session for all
    /// its statements: where the connection's startup settings did not reach the server session (a
    /// transaction-mode pooler), its settings would go to the application's sessions and its
    /// statements run without them (operator re-check: pgbench clients failed, and the tables went
    /// to `public`). Refused before anything runs.
    async fn check_session_changes_are_pinned(&self, client: &Client, plan: &Plan) -> Result<(), Error> {
        let found = plan
            .steps
            .iter()
            .filter(|s| s.script.no_transaction.is_some())
            .find_map(|s| shale_pg::exec::first_session_change(&s.script).map(|i| (s, i)));
        let Some((step, index)) = found else { return Ok(()) };
        let sql = format!("SELECT current_setting('{}', true)", shale_pg::exec::PINNED_SETTING);
        let rows = shale_pg::lock::simple_rows(client, &sql, "reading whether the session's settings hold").await?;
        if rows.first().and_then(|r| r.first()).is_some_and(|v| v == "on") {
            return Ok(());
        }
        let script = &step.script;
        let line = script.text[..script.statements[index].span.start].matches('\n').count() + 1;
        Err(Error::Invalid(format!(
            "{}:{line}: migration {} runs outside a transaction and changes the session's settings itself (`{}`), but \
             this connection's startup settings did not reach the server session: a pooler that hands each \
             statement to whichever server session is free is in the way, and its settings would go to the \
             application's sessions while its statements ran without them (PgBouncer, in any mode, drops the \
             settings shale checks this by). Nothing was run. Run it over a direct connection to the server",
            script.path.display(),
            step.label(),
            script.statement_text(index).trim()
        )))
    }

    /// A tenant schema target (and a search_path list of the connection's, shale.toml's) sets its
    /// search_path inside each migration's transaction, which holds through any pooler. A migration that runs outside a transaction cannot carry it that
    /// way: its statements rely on the session's search_path, which only the connection's startup
    /// packet sets for every server session serving it. If that setting did not arrive (a pooler
    /// dropped the `options` parameter, as PgBouncer does with `ignore_startup_parameters`), a
    /// statement could run in another server session, in another schema: refused before anything
    /// runs.
    pub(super) async fn check_schema_is_pinned(&self, client: &Client, plan: &Plan) -> Result<(), Error> {
        self.check_session_changes_are_pinned(client, plan).await?;
        let connection = &self.config.connection;
        let (expected, wanted) = match (&self.config.session.search_path, connection.search_path_sql()) {
            (Some(schema), _) => (format!("schema {schema:?}"), Some(shale_core::ident::ident_always_quoted(schema))),
            (None, Some(list)) => (connection.listed_search_path().unwrap_or_default(), Some(list)),
            _ => return Ok(()),
        };
        let Some(step) = plan.steps.iter().find(|s| s.script.no_transaction.is_some()) else {
            return Ok(());
        };
        let rows = shale_pg::lock::simple_rows(client, "SHOW search_path", "reading the search_path").await?;
        let current = rows.first().and_then(|r| r.first()).cloned().unwrap_or_default();
        if shale_core::ident::search_path_sql(&current) == wanted {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "{}: migration {} runs outside a transaction, so its statements rely on the session's search_path, \
             but this connection did not keep the one shale sets at connection time (search_path is {current:?}, not {expected}): \
             a pooler that drops the `options` startup parameter is in the way (PgBouncer, in any mode), and a statement could \
             run in another server session, in another schema. Nothing was run for this target. Run it over a direct connection \
             to the server",
            step.script.path.display(),
            step.label()
        )))
    }
}

/// A database shale has no history in (and no other tool's history was found in) that holds
/// tables the plan's migrations create: see [`UpRequest::allow_over_existing_tables`].
pub(super) async fn tables_without_history(client: &Client, plan: &Plan) -> Result<Option<Error>, Error> {
    let created: Vec<((Option<String>, String), String)> =
        plan.steps.iter().flat_map(|s| s.tables_expected_absent().into_iter().map(|t| (t, s.label()))).collect();
    let mut names: Vec<(Option<String>, String)> = created.iter().map(|(t, _)| t.clone()).collect();
    names.sort();
    names.dedup();
    let existing = shale_pg::foreign::existing_tables(client, &names).await?;
    if existing.is_empty() {
        return Ok(None);
    }
    let tables: Vec<(String, String)> = existing
        .into_iter()
        .map(|table| {
            let name = table.rsplit_once('.').map_or(table.as_str(), |(_, n)| n);
            let by = created.iter().find(|((_, t), _)| t == name).map(|(_, label)| label.clone()).unwrap_or_default();
            (table.clone(), by)
        })
        .collect();
    Ok(Some(Error::TablesWithoutHistory { tables }))
}
