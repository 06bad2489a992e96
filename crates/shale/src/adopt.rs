//! `adopt`: take over the history another tool (golang-migrate, dbmate, goose, sqlx, diesel,
//! Flyway, refinery, node-pg-migrate) kept in this database. Nothing runs, and the other tool's
//! table is left as it is, so a team can go back.

use shale_core::adopt::{plan_adoption_accepting, Accepting, AdoptNote, Tool};
use shale_core::plan::{self, AppliedRecord, RecordKind, RecordStatus};
use shale_pg::foreign::{self, ForeignTable};
use shale_pg::history::NewRecord;
use shale_pg::Client;

use crate::{Error, Migrator};

/// Which table to adopt, when the database says nothing clear by itself.
#[derive(Debug, Clone, Default)]
pub struct AdoptRequest {
    /// `--from TOOL`: read the table as this tool's.
    pub tool: Option<Tool>,
    /// `--table NAME`: the table (`name` or `schema.name`), when renamed or in doubt.
    pub table: Option<String>,
    /// Show what would be recorded; record nothing.
    pub dry_run: bool,
    /// Take nothing over: the other tool's table belongs to something else, and shale starts its
    /// own history here (one audit row), so that `up` runs every migration.
    pub nothing: bool,
    /// Take over files changed since the tool applied them as they are now (each named in a
    /// note) instead of refusing.
    pub accept_changed: bool,
    /// Take over, as applied with no file, migrations the tool applied whose file is gone (see
    /// [`shale_core::adopt::Accepting::missing`]).
    pub accept_missing: bool,
}

/// One migration taken over.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdoptedMigration {
    pub version: String,
    pub name: String,
    /// The file, or for a Java migration (`java`) the class that ran; for a pop row no file has,
    /// the words that say so.
    pub path: String,
    /// A Flyway Java migration: no file has it, and shale cannot run it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub java: bool,
}

/// What `adopt` recorded (or, with `dry_run`, would record).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdoptReport {
    pub tool: Tool,
    pub table: String,
    pub dry_run: bool,
    pub adopted: Vec<AdoptedMigration>,
    /// The newest adopted version.
    pub version: Option<String>,
    /// Migrations the other tool had not applied: `shale up` runs them.
    pub pending: usize,
    /// Of those, the ones older than the newest adopted version (the other tool skipped them, or
    /// pop, which runs any it has not, had not reached them): out of order, they run only when
    /// allowed.
    pub pending_older: usize,
    pub notes: Vec<AdoptNote>,
    /// Taken over already, at this time (`adopt` run again, as a deploy script that adopts before
    /// every `up` does): nothing was recorded, and `tool`, `table` and `version` say what was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already: Option<String>,
    /// Taken over already, of the `pending`, those the tool applied since (its migrate still runs
    /// somewhere), labelled: `shale up` refuses them until they are recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied_by_the_tool_since: Vec<String>,
}

/// What the tool whose history shale took over has applied since, as its table says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppliedSince {
    pub tool: Tool,
    /// Its table, `schema.name`.
    pub table: String,
    /// The versions it applied that shale had not taken over.
    #[serde(skip)]
    pub versions: Vec<shale_core::Version>,
    /// The versions taken over (their files there) that its table no longer has as applied: it
    /// reverted them since (goose's `down` deletes the version's rows).
    #[serde(skip)]
    pub reverted: Vec<shale_core::Version>,
    /// The migrations (as the tool names them) its table records a failed attempt at: the
    /// adoption refused such a row, so the tool tried since (Prisma's `migrate deploy` failing on
    /// what shale had applied).
    #[serde(skip)]
    pub failed: Vec<String>,
    /// When it applied each of `versions`, where its table says (as shale's history writes times).
    #[serde(skip)]
    pub applied_at: Vec<(shale_core::Version, String)>,
    /// The versions shale's history records as applied by hand (`repair --applied`), with the
    /// newest such record's time.
    #[serde(skip)]
    pub repaired: Vec<(shale_core::Version, String)>,
    /// The key of a baseline row the tool wrote since the adoption (pgmigrate's `baseline`, a
    /// `manual` row), where some of `versions` are applied by that row alone: marked, not run.
    #[serde(skip)]
    pub marked_by_baseline: Option<String>,
    /// Of `versions`, those that baseline row alone marks applied (no row of their own).
    #[serde(skip)]
    pub marked: Vec<shale_core::Version>,
}

impl AppliedSince {
    /// Of `rows` (a status), those applied as shale sees them that the tool reverted since.
    pub(crate) fn reverted_of(&self, rows: &[shale_core::plan::StatusRow]) -> Option<crate::RanByBoth> {
        let reverted = rows
            .iter()
            .filter(|r| r.state == shale_core::plan::State::Applied)
            .filter_map(|r| Some((shale_core::Version::parse(r.version.as_deref()?)?, r)))
            .filter(|(version, _)| self.reverted.contains(version))
            .map(|(_, r)| shale_core::layout::versioned_label(r.version.as_deref().unwrap_or_default(), &r.name))
            .collect();
        self.listing(reverted)
    }

    /// Whether the migration labelled `label` (`0005 five`: its version first) is one a baseline
    /// row the tool wrote since only marks applied.
    pub(crate) fn only_marked(&self, label: &str) -> bool {
        shale_core::Version::parse(label.split(' ').next().unwrap_or(label)).is_some_and(|v| self.marked.contains(&v))
    }

    /// `migrations` (labels) as a report on this tool, None when there are none.
    pub(crate) fn listing(&self, migrations: Vec<String>) -> Option<crate::RanByBoth> {
        // Said marked only where every one listed is.
        let marked = migrations.iter().all(|label| self.only_marked(label));
        (!migrations.is_empty()).then(|| crate::RanByBoth {
            tool: self.tool,
            table: self.table.clone(),
            marked_by_baseline: self.marked_by_baseline.clone().filter(|_| marked),
            migrations,
        })
    }

    /// Whether the tool's run of `version` is the one the team recorded with `repair --applied`
    /// (not a run since): its row is not newer than that record's time.
    pub(crate) fn recorded_by_hand(&self, version: &shale_core::Version) -> bool {
        // (A time the tool's zone leaves open, marked `~`, is its latest bound: not one to order by.)
        let tool_at = self
            .applied_at
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, at)| at.as_str())
            .filter(|at| !at.ends_with('~'));
        self.repaired.iter().any(|(v, repair)| v == version && tool_at.is_none_or(|tool| tool <= repair.as_str()))
    }

    /// Whether the tool applied `version` since and it is not shale's to run: a migration shale
    /// reverted since is shale's to apply again where the tool's row for it is older than that
    /// revert (it applied it before, and shale ran it too or was told so with `repair --applied`,
    /// and the revert undid what it built); not where the tool's row says it applied it after the
    /// revert (its migrate still running, the Atlas trial: `up` ran it a second time).
    pub(crate) fn not_shale_s(&self, version: &shale_core::Version, history: &shale_core::History) -> bool {
        let tool_applied_at = self.applied_at.iter().find(|(v, _)| v == version).map(|(_, at)| at.as_str());
        self.versions.contains(version)
            && !history.records.iter().any(|r| {
                let Some(revert) = r.applied_at.as_deref() else { return false };
                // A run the team recorded (`repair --applied`) before this revert is the run it
                // undid, where the tool's time cannot say (a bound, `~`; re-check).
                let recorded_before = self.repaired.iter().any(|(v, at)| v == version && at.as_str() <= revert);
                r.status == RecordStatus::RolledBack
                    && matches!(r.kind, RecordKind::Versioned | RecordKind::Repair | RecordKind::Adopted)
                    && shale_core::Version::parse(&r.version).as_ref() == Some(version)
                    // (Times to the second: one in the revert's second counts as after it.)
                    && tool_applied_at.is_none_or(|tool| tool < revert || (tool.ends_with('~') && recorded_before))
            })
    }
}

/// The adoption a history records: the tool, its table (`schema.name`) and the first row taken
/// over, from that row's reason. None where nothing was taken over.
pub(crate) fn taken_over(history: &shale_core::History) -> Option<(Tool, &str, &AppliedRecord)> {
    history.records.iter().filter(|r| r.kind == RecordKind::Adopted).find_map(|r| {
        let reason = r.reason.as_deref()?;
        Some((shale_core::adopt::adopted_from(reason)?, shale_core::adopt::adopted_table(reason)?, r))
    })
}

impl Migrator {
    /// The other tool's history table to adopt, as the request and the database say.
    async fn foreign_table(&self, client: &Client, request: &AdoptRequest) -> Result<ForeignTable, Error> {
        let mut found = match request.table.as_deref() {
            Some(table) => foreign::detect(client, Some(table)).await?,
            None => self.other_histories(client).await?,
        };
        if request.table.is_none() {
            found.retain(|t| !self.own_table(t));
        }
        if let Some(tool) = request.tool {
            if request.table.is_none() {
                // A table read as another tool's that this one's can look like (an old Rails
                // database, without the table that tells it from dbmate's, or a dbmate one that
                // kept Rails' table) is this tool's, as said.
                found.retain_mut(|t| {
                    if t.tool.told_apart(&t.schema, |_| true) == tool || tool.told_apart(&t.schema, |_| true) == t.tool
                    {
                        t.tool = tool;
                    }
                    t.tool == tool
                });
            }
        }
        if let (Some(tool), Some(_), [table]) = (request.tool, &request.table, found.as_slice()) {
            let (fits, columns) = foreign::fits(client, table, tool).await?;
            if !fits {
                let theirs = Tool::by_columns_exactly(&columns).filter(|t| *t != tool);
                return Err(Error::NotItsHistory { tool, table: table.display(), columns, theirs });
            }
        }
        if request.tool.is_none() && request.table.is_none() {
            found = without_empty_histories(client, found).await;
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(Error::NoForeignHistory { tool: request.tool, table: request.table.clone() }),
            _ => Err(foreign_histories(&found)),
        }
    }

    /// Records as applied, with kind `adopted`, the migrations another tool applied here; plus one
    /// audit row. Refused when shale already has a history here, when the other tool says the
    /// database is in doubt (a dirty or failed migration), or when it applied versions that no file
    /// has.
    pub async fn adopt(
        &self,
        request: &AdoptRequest,
        on_event: &mut (dyn FnMut(crate::Event) + Send),
    ) -> Result<AdoptReport, Error> {
        let client = self.connect().await?;
        if request.dry_run {
            return self.adopt_with(&client, request, None).await;
        }
        self.holding_lock(Some(client), on_event, async |session, _| {
            self.adopt_with(&session.client, request, Some(&session.lock)).await
        })
        .await
    }

    async fn adopt_with(
        &self,
        client: &Client,
        request: &AdoptRequest,
        lock: Option<&shale_pg::HeldLock>,
    ) -> Result<AdoptReport, Error> {
        if let Some(report) = self.adopted_before(client, request, lock.is_none()).await? {
            return Ok(report);
        }
        self.refuse_where_shale_has_history(client, false).await?;
        if request.nothing {
            return self.adopt_nothing(client, lock).await;
        }
        let table = self.foreign_table(client, request).await?;
        let tool = request.tool.unwrap_or(table.tool);
        if let Some(lock_table) = foreign::lock_held(client, &table, tool).await? {
            return Err(Error::OtherToolLocked { tool, lock_table });
        }
        let mut foreign = foreign::read(client, &table, tool).await?;
        if tool == Tool::Drizzle {
            shale_core::adopt::name_drizzle_entries(&mut foreign, &drizzle_journal(&self.set()));
        }
        let accepting = Accepting { changed: request.accept_changed, missing: request.accept_missing };
        let set = self.set();
        let adoption = plan_adoption_accepting(&set, &foreign, accepting).map_err(Error::Adopt)?;
        let mut notes = adoption.notes.clone();
        notes.extend(schema_note(client, &table, tool, &set).await?);
        let reason = shale_core::adopt::adopted_reason(tool, &table.display());
        let mut adopted: Vec<AdoptedMigration> = adoption
            .applied
            .iter()
            .map(|m| AdoptedMigration {
                version: m.version_text.clone(),
                name: m.name.clone(),
                path: m.file.clone(),
                java: false,
            })
            .collect();
        adopted.extend(adoption.applied_unrunnable.iter().map(|u| AdoptedMigration {
            version: u.version_text.clone(),
            name: u.name.clone(),
            path: u.file.clone(),
            java: false,
        }));
        adopted.extend(adoption.applied_code.iter().map(|c| AdoptedMigration {
            version: c.version_text.clone(),
            name: c.name.clone(),
            path: match tool {
                shale_core::adopt::Tool::Pop => "Go code popx ran, or a file gone".into(),
                _ if c.class.is_empty() => "no file: removed on purpose".into(),
                _ => c.class.clone(),
            },
            java: !matches!(
                tool,
                shale_core::adopt::Tool::Pop
                    | shale_core::adopt::Tool::NodePgMigrate
                    | shale_core::adopt::Tool::PostgresMigrations
            ) && !c.class.is_empty(),
        }));
        // In version order: the files, the ones shale cannot run and the Java ones together.
        adopted.sort_by_key(|m| shale_core::Version::parse(&m.version));
        adopted.extend(adoption.applied_repeatables.iter().map(|m| AdoptedMigration {
            version: "R".into(),
            name: m.name.clone(),
            path: m.file.clone(),
            java: false,
        }));
        let report = AdoptReport {
            tool,
            table: table.display(),
            dry_run: lock.is_none(),
            adopted,
            version: adoption.version.clone(),
            pending: adoption.pending.len(),
            pending_older: {
                let newest = adoption.version.as_deref().and_then(shale_core::Version::parse);
                // A Liquibase changeset added before applied ones runs next, numbered after them
                // (`plan::numbering`); one with a context or labels keeps its place.
                let keeps_its_place = |m: &&&shale_core::Migration| {
                    m.layout != shale_core::Layout::Liquibase
                        || m.version.as_ref().is_some_and(|v| set.liquibase_selected.contains(v))
                };
                adoption
                    .pending
                    .iter()
                    .filter(|m| newest.is_some() && m.version.is_some() && m.version < newest)
                    .filter(keeps_its_place)
                    // (One marked `-- shale:out-of-order` runs without the flag: the breadth trial
                    // was told to give it.)
                    .filter(|m| !m.up.directives().out_of_order)
                    .count()
            },
            notes,
            already: None,
            applied_by_the_tool_since: Vec::new(),
        };
        let Some(lock) = lock else { return Ok(report) };
        // Under the lock, after every check: the history table is made (or read once more, in
        // case another runner wrote it meanwhile) only now, so a refusal leaves nothing behind.
        self.refuse_where_shale_has_history(client, true).await?;
        let versions: Vec<String> =
            adoption.applied.iter().map(|m| m.version.as_ref().map(|v| v.canonical()).unwrap_or_default()).collect();
        let go_versions: Vec<String> = adoption.applied_unrunnable.iter().map(|u| u.version.canonical()).collect();
        let mut records: Vec<NewRecord<'_>> = adoption
            .applied
            .iter()
            .zip(&versions)
            .map(|(m, version)| {
                // Recorded as run before its edit: neither its checksum nor its SQL is the file's.
                let edited = adoption.rerun_edited.iter().any(|e| std::ptr::eq(*e, *m));
                NewRecord {
                    checksum: Some(if edited {
                        shale_core::adopt::EDITED_SINCE_THE_TOOL_RAN_IT
                    } else {
                        m.checksum.as_str()
                    }),
                    up_sql: (!edited).then(|| m.up.own_text()),
                    down_sql: m.down.as_ref().map(|d| d.own_text()),
                    path: Some(&m.file),
                    ..succeeded(RecordKind::Adopted, version.clone(), &m.name, &reason)
                }
            })
            .collect();
        records.extend(adoption.applied_unrunnable.iter().zip(&go_versions).map(|(u, version)| NewRecord {
            path: Some(&u.file),
            ..succeeded(RecordKind::Adopted, version.clone(), &u.name, &reason)
        }));
        let code_reasons: Vec<(String, String)> = adoption
            .applied_code
            .iter()
            .map(|c| (c.version.canonical(), shale_core::adopt::adopted_code_reason(tool, &table.display(), &c.class)))
            .collect();
        // No checksum, SQL or path: a file ported from the code later counts as applied here.
        records.extend(
            adoption
                .applied_code
                .iter()
                .zip(&code_reasons)
                .map(|(c, (version, reason))| succeeded(RecordKind::Adopted, version.clone(), &c.name, reason)),
        );
        // A repeatable's row is the one `up` compares checksums with: as if shale had run it.
        records.extend(adoption.applied_repeatables.iter().map(|m| NewRecord {
            checksum: Some(m.checksum.as_str()),
            up_sql: Some(&m.up.text),
            path: Some(&m.file),
            ..succeeded(RecordKind::Repeatable, String::new(), &m.name, &reason)
        }));
        let audit = format!(
            "adopted: {} migration(s) taken over from {tool} ({}), up to version {}; that table was left as it is",
            adoption.applied.len()
                + adoption.applied_unrunnable.len()
                + adoption.applied_code.len()
                + adoption.applied_repeatables.len(),
            table.display(),
            adoption.version.as_deref().unwrap_or("none")
        );
        records.push(audit_record(&audit));
        self.write_all(client, &records, lock).await?;
        Ok(report)
    }

    /// Starts shale's history with one audit row and takes nothing over.
    async fn adopt_nothing(&self, client: &Client, lock: Option<&shale_pg::HeldLock>) -> Result<AdoptReport, Error> {
        let found = self.other_histories(client).await?;
        let tables: Vec<String> = found.iter().map(|t| format!("{} ({})", t.display(), t.tool)).collect();
        let report = AdoptReport {
            tool: found.first().map(|t| t.tool).unwrap_or(Tool::GolangMigrate),
            table: tables.join(", "),
            dry_run: lock.is_none(),
            adopted: Vec::new(),
            version: None,
            pending: self.set().versioned().count(),
            pending_older: 0,
            notes: vec![AdoptNote::Nothing],
            already: None,
            applied_by_the_tool_since: Vec::new(),
        };
        let Some(lock) = lock else { return Ok(report) };
        self.refuse_where_shale_has_history(client, true).await?;
        let audit = format!(
            "adopted nothing: shale's history starts here; {} left alone and taken over in nothing",
            if tables.is_empty() {
                "no other tool's table was".to_string()
            } else {
                format!("{} belongs to something else:", tables.join(", "))
            }
        );
        self.write_all(client, &[audit_record(&audit)], lock).await?;
        Ok(report)
    }

    /// A table of a tool's name that the migrations create themselves, of a tool whose migrations
    /// these files cannot be (Harbor's first migration makes an `alembic_version`): the
    /// application's, not a history. The table of the tool these files are written for stays its
    /// history even where a migration creates it (`CREATE TABLE IF NOT EXISTS schema_migrations`
    /// before a migration that alters golang-migrate's table, as shale's own advice has it).
    pub(crate) fn own_table(&self, table: &ForeignTable) -> bool {
        !table.tool.adoptable_with(&self.set()) && self.set().creates_table_in(&table.schema, &table.table)
    }

    /// The adoption shale's history records, when this request asks for it again (the same tool
    /// and table, where it names them): a report of what was taken over, recording nothing.
    async fn adopted_before(
        &self,
        client: &Client,
        request: &AdoptRequest,
        dry_run: bool,
    ) -> Result<Option<AdoptReport>, Error> {
        if request.nothing {
            return Ok(None);
        }
        let (history, _) = self.history(client, false, false).await?;
        let Some((tool, table, first)) = taken_over(&history) else { return Ok(None) };
        // Another Sqitch plan's history, taken over from the registry both share: nothing of this
        // plan was (breadth trial: "already taken over ... up to version 45" of the other's 45).
        if let Some(other) = plan::another_plans(&self.set(), &history) {
            return Err(Error::Plan(vec![other]));
        }
        let other_table = request.table.as_deref().is_some_and(|t| t != table && !table.ends_with(&format!(".{t}")));
        if request.tool.is_some_and(|t| t != tool) || other_table {
            return Ok(None);
        }
        let steps = plan::plan_pending(&self.set(), &history).steps;
        // The version taken over up to, not where the database is now (golang-migrate trial: it
        // said today's); of every row taken over, those reverted and applied since too (review).
        let adopted_up_to = self
            .config
            .history
            .taken_over_versions(client)
            .await?
            .adopted
            .iter()
            .filter_map(|v| shale_core::Version::parse(v))
            .max();
        // What `up` will refuse: the tool applied them since (node-pg-migrate trial: this said
        // `shale up` runs them, and `up` refused).
        let since = self.applied_by_the_adopted_tool(client, &history).await?;
        let applied_by_the_tool_since: Vec<String> = steps
            .iter()
            .filter(|s| {
                s.version.as_ref().is_some_and(|v| since.as_ref().is_some_and(|since| since.not_shale_s(v, &history)))
            })
            .map(|s| s.label())
            .collect();
        Ok(Some(AdoptReport {
            tool,
            table: table.to_string(),
            dry_run,
            adopted: Vec::new(),
            version: adopted_up_to.map(|v| crate::migrator::written_version(&self.set(), v)),
            pending: steps.len() - applied_by_the_tool_since.len(),
            pending_older: 0,
            notes: Vec::new(),
            already: Some(first.applied_at.clone().unwrap_or_default()),
            applied_by_the_tool_since,
        }))
    }

    /// Where shale took another tool's history over: the migrations that tool has applied since
    /// (its migrate still runs somewhere), as its table says, read as an adoption reads it. None
    /// where nothing was taken over, or the tool's table is gone. Three queries.
    pub(crate) async fn applied_by_the_adopted_tool(
        &self,
        client: &Client,
        history: &shale_core::History,
    ) -> Result<Option<AppliedSince>, Error> {
        let Some((tool, name, adoption)) = taken_over(history) else { return Ok(None) };
        // A plan whose changes moved since (one added or removed before applied ones: `up` and
        // `validate` refuse it) numbers the tool's rows anew: nothing to compare until it is put
        // back (the Sqitch re-check: the last moved change read as applied by Sqitch since).
        let moved = history.records.iter().any(|r| {
            let set = self.set();
            r.kind == RecordKind::Adopted
                && shale_core::Version::parse(&r.version)
                    .and_then(|v| set.find(&v))
                    .is_some_and(|m| m.layout.numbered_by_place() && m.name != r.name)
        });
        if moved {
            return Ok(None);
        }
        // Gone since (dropped once the switch was done): nothing to compare with.
        let Some(table) = foreign::detect(client, Some(name)).await?.into_iter().find(|t| t.tool == tool) else {
            return Ok(None);
        };
        let mut foreign = foreign::read(client, &table, tool).await?;
        if tool == Tool::Drizzle {
            shale_core::adopt::name_drizzle_entries(&mut foreign, &drizzle_journal(&self.set()));
        }
        // A dirty or failed row is no sign that it ran a migration through, but that it tried:
        // the adoption refused one, so it was written since. Set apart, the rest is read as ever.
        let mut failed = set_failures_apart(&mut foreign);
        // Sqitch logs a failed deploy, and a revert, in its events alone.
        let sqitch = match (tool, adoption.applied_at.as_deref()) {
            (Tool::Sqitch, Some(adopted_at)) => {
                foreign::sqitch_events_since(client, &table, self.set().sqitch_project.as_deref(), adopted_at).await?
            }
            _ => foreign::SqitchEvents::default(),
        };
        failed.extend(sqitch.failed);
        let accepting = Accepting { changed: true, missing: true };
        let set = self.set();
        let Ok(applied) = plan_adoption_accepting(&set, &foreign, accepting) else { return Ok(None) };
        // Every version taken over, the ones reverted since too: the tool's rows for them are
        // from before the adoption.
        let taken_over = self.config.history.taken_over_versions(client).await?;
        let taken: std::collections::HashSet<shale_core::Version> =
            taken_over.adopted.iter().filter_map(|v| shale_core::Version::parse(v)).collect();
        let repaired = taken_over
            .repaired
            .iter()
            .filter_map(|(v, at)| Some((shale_core::Version::parse(v)?, at.clone())))
            .collect();
        // A tool that records only the version it reached (golang-migrate) applies nothing below
        // it, and what was there at the adoption was taken over: only above that can it have run
        // one since (a file added below, out of order, it never runs).
        let adopted_up_to = taken.iter().max().cloned();
        let reached_only = matches!(foreign.state, shale_core::adopt::ForeignState::Current { .. });
        // Its migrations shale cannot run too (yoyo's Python steps: re-check, one yoyo ran since
        // was said to be run by hand, a second time).
        let now: std::collections::HashSet<&shale_core::Version> = applied
            .applied
            .iter()
            .filter_map(|m| m.version.as_ref())
            .chain(applied.applied_unrunnable.iter().map(|u| &u.version))
            .collect();
        let mut versions: Vec<shale_core::Version> = now
            .iter()
            .map(|v| (*v).clone())
            .filter(|v| !reached_only || Some(v) > adopted_up_to.as_ref())
            .filter(|v| !taken.contains(v))
            .collect();
        // Taken over, then reverted and applied again by the tool since (goose's redo, Sqitch's
        // revert and deploy, the second re-check: unseen): its row is newer than the adoption,
        // where the tool's time says so for sure (not one a missing time zone leaves open, `~`).
        let taken_now: Vec<shale_core::Version> =
            now.iter().filter(|v| taken.contains(v)).map(|v| (*v).clone()).collect();
        if let Some(adopted_at) = adoption.applied_at.as_deref() {
            versions.extend(
                applied_times(&set, &foreign, &taken_now)
                    .into_iter()
                    .filter(|(_, at)| !at.ends_with('~') && at.as_str() > adopted_at)
                    .map(|(v, _)| v),
            );
        }
        // A revert the team has dealt with since (recorded rolled back, applied again by shale):
        // shale's own rows for it, after the adoption's, say so (the Sqitch re-check: the
        // warning never ended).
        let dealt_with = |v: &shale_core::Version| {
            history.records.iter().any(|r| {
                !matches!(r.kind, RecordKind::Adopted | RecordKind::Audit)
                    && shale_core::Version::parse(&r.version).as_ref() == Some(v)
            })
        };
        let mut reverted: Vec<shale_core::Version> = taken
            .iter()
            // (Its migrations shale cannot run too: review, a yoyo Python step reverted unseen.)
            .filter(|v| {
                !now.contains(v) && (set.find(v).is_some() || set.find_unrunnable(v).is_some()) && !dealt_with(v)
            })
            .cloned()
            .collect();
        // Sqitch's reverts of a change shale applied, or recorded by hand, after the switch, that
        // shale has not run again since (no record of it newer than the revert).
        for (change, reverted_at) in sqitch.reverted {
            let newest = set.versioned().filter(|m| m.name == change).filter_map(|m| m.version.clone()).last();
            let Some(version) = newest.filter(|v| !now.contains(v) && !reverted.contains(v)) else { continue };
            let records =
                || history.records.iter().filter(|r| shale_core::Version::parse(&r.version).as_ref() == Some(&version));
            let applied = records().any(|r| r.status == RecordStatus::Succeeded);
            let run_since = records().any(|r| r.applied_at.as_deref().is_some_and(|at| at > reverted_at.as_str()));
            if applied && !run_since {
                reverted.push(version);
            }
        }
        reverted.sort();
        let applied_at = applied_times(&set, &foreign, &versions);
        // A baseline row written since (pgmigrate's `-b N baseline` after the switch) marks every
        // version up to it applied: those without a row of their own it ran nothing for (review:
        // the advice to record them as applied would have skipped them for good).
        // (Those above it, or with a row of their own, it ran: review.)
        let (marked_by_baseline, marked) = match (&foreign.state, adoption.applied_at.as_deref()) {
            (shale_core::adopt::ForeignState::Entries(entries), Some(adopted_at)) => {
                let baseline =
                    entries.iter().find(|e| e.baseline && e.applied_at.as_deref().is_some_and(|at| at > adopted_at));
                let up_to = baseline.and_then(|b| shale_core::Version::parse(&b.key));
                let marked: Vec<shale_core::Version> = versions
                    .iter()
                    .filter(|v| up_to.as_ref().is_some_and(|up_to| *v <= up_to))
                    .filter(|v| {
                        !entries.iter().any(|e| {
                            !e.baseline && set.find(v).is_some_and(|m| shale_core::adopt::matches(tool, m, &e.key))
                        })
                    })
                    .cloned()
                    .collect();
                (baseline.filter(|_| !marked.is_empty()).map(|b| b.key.clone()), marked)
            }
            _ => (None, Vec::new()),
        };
        Ok(Some(AppliedSince {
            tool,
            table: table.display(),
            versions,
            reverted,
            failed,
            applied_at,
            repaired,
            marked_by_baseline,
            marked,
        }))
    }

    /// Where shale has no history and `found` is one other tool's history it can take over: what
    /// that tool applied, as `adopt` would read it, those it failed on apart, and why `adopt`
    /// would refuse as things are. One query.
    pub(crate) async fn applied_before_adoption(
        &self,
        client: &Client,
        found: &[ForeignTable],
    ) -> Result<Option<crate::BeforeAdoption>, Error> {
        let [table] = found else { return Ok(None) };
        if !table.tool.adoptable_with(&self.set()) {
            return Ok(None);
        }
        // A report beside status, not its failure: a table this role may not read says nothing (review).
        let Ok(mut foreign) = foreign::read(client, table, table.tool).await else { return Ok(None) };
        if table.tool == Tool::Drizzle {
            shale_core::adopt::name_drizzle_entries(&mut foreign, &drizzle_journal(&self.set()));
        }
        let refusals: Vec<String> = match shale_core::adopt::plan_adoption(&self.set(), &foreign) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        };
        let failed_keys = set_failures_apart(&mut foreign);
        let accepting = Accepting { changed: true, missing: true };
        let set = self.set();
        let Ok(adoption) = plan_adoption_accepting(&set, &foreign, accepting) else { return Ok(None) };
        let label = |m: &shale_core::Migration| m.label();
        // A failed key names a migration as the tool keys it, or (golang-migrate's dirty
        // version) by its version alone.
        let keyed = |m: &shale_core::Migration, key: &str| {
            shale_core::adopt::matches(table.tool, m, key)
                || shale_core::Version::parse(key).is_some_and(|v| m.version.as_ref() == Some(&v))
        };
        // Its migrations shale cannot run too (a yoyo Python step, an umzug `.js`: re-check, shown
        // as only `cannot-run` before the adoption).
        let migrations: Vec<String> = adoption
            .applied
            .iter()
            .filter(|m| !failed_keys.iter().any(|key| keyed(m, key)))
            .map(|m| label(m))
            .chain(
                adoption
                    .applied_unrunnable
                    .iter()
                    .map(|u| shale_core::layout::versioned_label(&u.version_text, &u.name)),
            )
            .collect();
        let failed: Vec<String> = failed_keys
            .iter()
            .map(|key| set.versioned().find(|m| keyed(m, key)).map_or_else(|| key.clone(), label))
            .collect();
        if migrations.is_empty() && failed.is_empty() {
            return Ok(None);
        }
        Ok(Some(crate::BeforeAdoption { tool: table.tool, table: table.display(), migrations, failed, refusals }))
    }

    /// The histories of tools whose migrations are code (Alembic's, Django's) that a baseline left
    /// as they were and that have changed since, or that appeared in a database shale built from
    /// its migrations (no baseline): that tool still migrates this database somewhere, and what it
    /// ran is in no history of shale's. One query per such history; one more where shale built it.
    /// Read `aside` (a check on the way), one held locked is not read this time; otherwise (what
    /// `repair --accept-other-history` records) the read waits (re-check: it said there was
    /// nothing to accept while the table was locked).
    pub(crate) async fn changed_since_baseline(
        &self,
        client: &Client,
        history: &shale_core::History,
        aside: bool,
    ) -> Result<Vec<ChangedSinceBaseline>, Error> {
        let mut changed = Vec::new();
        // What a baseline (or `repair --accept-other-history`) recorded of each such history.
        let fingerprints: Vec<(Tool, &str, &str, Option<&String>, bool)> = history
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Audit)
            .filter_map(|r| {
                let reason = r.reason.as_deref()?;
                let (tool, table, then) = shale_core::adopt::left_at_baseline(reason)?;
                Some((tool, table, then, r.applied_at.as_ref(), shale_core::adopt::accepted_since(reason)))
            })
            .collect();
        // Built by shale from the first migration: no other tool's history belongs here but one
        // accepted as it is (Django's, stamped with `migrate --fake`), which is watched below. (A
        // database baselined before the baseline kept what that history held says nothing.)
        let built_by_shale = !history.records.is_empty()
            && !history.records.iter().any(|r| matches!(r.kind, RecordKind::Baseline | RecordKind::Adopted))
            && !history.records.iter().any(|r| r.kind == RecordKind::Audit && r.name == "adopt");
        if built_by_shale {
            let mut found = self.other_histories(client).await?;
            // One a migration makes (a later one changes it, and a new database needs it) is the
            // migrations', not a sign of the tool. A tool that keeps its history in a schema of its
            // own (graphile-migrate, Sqitch, Hasura) made it there, off the search path (the
            // graphile trial: its migrate ran every migration again, dropping the tables, unseen).
            found.retain(|t| {
                (t.in_search_path || t.tool.own_schema() == Some(t.schema.as_str()))
                    && !self.set().creates_table_in(&t.schema, &t.table)
                    && !fingerprints.iter().any(|(_, table, _, _, _)| *table == t.display())
            });
            for t in found {
                // Made and left empty (a run of the tool that failed and was rolled back, or
                // that found nothing to run): nothing of it ran here (TypeORM trial: warned as
                // migrating, with 0 rows).
                if foreign::fingerprint(client, &t, aside)
                    .await?
                    .is_some_and(|f| shale_core::adopt::empty_fingerprint(&f))
                {
                    continue;
                }
                changed.push(ChangedSinceBaseline {
                    tool: t.tool,
                    table: t.display(),
                    baseline_at: None,
                    accepted: false,
                });
            }
        }
        for (tool, table, then, at, accepted) in fingerprints {
            let Some((schema, name)) = table.split_once('.') else { continue };
            let foreign = ForeignTable { tool, schema: schema.into(), table: name.into(), in_search_path: true };
            let now = foreign::fingerprint(client, &foreign, aside).await?;
            if now.is_some_and(|now| !shale_core::adopt::same_fingerprint(then, &now)) {
                changed.push(ChangedSinceBaseline {
                    tool,
                    table: table.to_string(),
                    baseline_at: at.cloned(),
                    accepted,
                });
            }
        }
        Ok(changed)
    }

    /// Where shale took another tool's history over and is about to run migrations: whether that
    /// tool has applied any of them since. Three queries, only on a run with something to apply on
    /// a database shale took over. Returns what it read of the tool's record, for what `up` says
    /// after the run (what it reverted), which is not read again.
    pub(crate) async fn refuse_what_the_adopted_tool_applied(
        &self,
        client: &Client,
        history: &shale_core::History,
        plan: &shale_core::Plan,
    ) -> Result<Option<AppliedSince>, Error> {
        if plan.steps.is_empty() {
            return Ok(None);
        }
        self.refuse_what_a_tool_applied_since_the_baseline(client, history, plan).await?;
        let Some(since) = self.applied_by_the_adopted_tool(client, history).await? else { return Ok(None) };
        let ups = || {
            plan.steps.iter().filter(|s| {
                s.direction == shale_core::StepDirection::Up && s.kind == shale_core::MigrationKind::Versioned
            })
        };
        // Those it ran said first (running them would apply them twice); those a baseline row of
        // its marked, which ran nothing, after.
        let since_then = |marked: bool| -> Vec<String> {
            ups()
                .filter(|s| s.version.as_ref().is_some_and(|v| since.not_shale_s(v, history)))
                .filter(|s| s.version.as_ref().is_some_and(|v| since.marked.contains(v)) == marked)
                .map(|s| s.label())
                .collect()
        };
        for (twice, marked) in [(since_then(false), None), (since_then(true), since.marked_by_baseline.clone())] {
            if !twice.is_empty() {
                return Err(Error::AppliedByTheOtherTool {
                    tool: since.tool,
                    table: since.table,
                    migrations: twice,
                    marked_by_baseline: marked,
                });
            }
        }
        // One it tried and failed on may be half done (a file outside a transaction): running it
        // whole over that is no better than running it twice.
        let tried = |key: &String| {
            ups().find(|s| {
                let set = self.set();
                s.version
                    .as_ref()
                    .and_then(|v| set.find(v))
                    .is_some_and(|m| shale_core::adopt::matches(since.tool, m, key))
            })
        };
        let failed: Vec<(String, String)> =
            since.failed.iter().filter_map(|key| Some((tried(key)?.label(), key.clone()))).collect();
        match failed.is_empty() {
            true => Ok(Some(since)),
            false => Err(Error::FailedByTheOtherTool { tool: since.tool, table: since.table, migrations: failed }),
        }
    }

    /// Where a baseline left another tool's history as it was, whose rows name SQL files, and a run
    /// is about to apply migrations: whether that tool's rows name one of them. It ran it since
    /// (the team ported it, or `baseline VERSION` was given a version below what it had applied),
    /// and running it again would apply it twice (db-migrate and Postgrator trials: a seed row
    /// inserted twice, with only "has changed since the baseline" said). One query per such
    /// history; none where nothing is to be applied or no baseline left one. A history that cannot
    /// be read (dropped once the switch was done) has nothing to say.
    async fn refuse_what_a_tool_applied_since_the_baseline(
        &self,
        client: &Client,
        history: &shale_core::History,
        plan: &shale_core::Plan,
    ) -> Result<(), Error> {
        let ups: Vec<&shale_core::plan::Step> = plan
            .steps
            .iter()
            .filter(|s| s.direction == shale_core::StepDirection::Up && s.kind == shale_core::MigrationKind::Versioned)
            .collect();
        if ups.is_empty() {
            return Ok(());
        }
        let left: Vec<(Tool, &str)> = history
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Audit)
            .filter_map(|r| shale_core::adopt::left_at_baseline(r.reason.as_deref()?))
            .map(|(tool, table, _)| (tool, table))
            .filter(|(tool, _)| tool.adoptable_with(&self.set()))
            .collect();
        // Whether the history changed since the baseline or not: unchanged, its rows may name
        // migrations above a baseline given too low a version, which ran all the same (review: a
        // gate on the change let a seed run twice).
        for (tool, table) in left {
            let Some((schema, name)) = table.split_once('.') else { continue };
            let foreign = ForeignTable { tool, schema: schema.into(), table: name.into(), in_search_path: true };
            let Ok(rows) = foreign::read(client, &foreign, tool).await else { continue };
            let set = self.set();
            let Ok(adoption) = plan_adoption_accepting(&set, &rows, Accepting { changed: true, missing: true }) else {
                continue;
            };
            let ran: std::collections::HashSet<&shale_core::Version> =
                adoption.applied.iter().filter_map(|m| m.version.as_ref()).collect();
            let twice: Vec<String> =
                ups.iter().filter(|s| s.version.as_ref().is_some_and(|v| ran.contains(v))).map(|s| s.label()).collect();
            if !twice.is_empty() {
                return Err(Error::AppliedSinceTheBaseline { tool, table: table.to_string(), migrations: twice });
            }
        }
        Ok(())
    }

    /// The migrations in code of the directory that `table` (the history of the tool whose
    /// migrations they are) does not record: that tool has not run them here (a `rails
    /// db:migrate` not run since they were merged), and a baseline, which counts them as run,
    /// would leave their work undone for good (Rails re-check). None where the rows name none of
    /// the files (a history that names them otherwise: Alembic's revision ids). One query.
    pub async fn code_migrations_not_run_by(&self, table: &ForeignTable) -> Result<Vec<std::path::PathBuf>, Error> {
        let numbered = table.tool == Tool::Sequel && self.set().numbered_code_migrations().next().is_some();
        if self.set().code_migrations.is_empty() && !numbered {
            return Ok(Vec::new());
        }
        let client = self.connect().await?;
        let rows = foreign::read(&client, table, table.tool).await?;
        let shale_core::adopt::ForeignState::Entries(entries) = &rows.state else { return Ok(Vec::new()) };
        // Sequel's IntegerMigrator keeps the number it reached: every file numbered above it it
        // has not run (Sequel re-check: a baseline counted `004_x.rb` as run).
        if let (Tool::Sequel, [reached]) = (table.tool, entries.as_slice()) {
            if let Some(reached) = shale_core::Version::parse(&reached.key) {
                let set = self.set();
                let above = set.numbered_code_migrations().filter(|(v, _)| *v > reached);
                return Ok(above.map(|(_, path)| path.to_path_buf()).collect());
            }
        }
        // Its TimestampMigrator's rows name the files it ran, whatever their numbers (review:
        // `1273253849_a.rb`, Sequel's own example, was not checked), where they name these.
        if table.tool == Tool::Sequel {
            let name = |p: &std::path::Path| p.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
            let ran = |p: &std::path::Path| entries.iter().any(|e| e.key == name(p));
            let set = self.set();
            let files: Vec<&std::path::Path> = set.numbered_code_migrations().map(|(_, p)| p).collect();
            if !files.iter().any(|p| ran(p)) {
                return Ok(Vec::new());
            }
            return Ok(files.into_iter().filter(|p| !ran(p)).map(std::path::Path::to_path_buf).collect());
        }
        let recorded = |c: &&shale_core::layout::CodeMigration| {
            let file = c.path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
            // (TypeORM's rows name its class, the name then the time: `CreateUsers1700000000000`.)
            entries.iter().any(|e| e.key == file || e.key.ends_with(stem) || e.key.ends_with(&c.version_text))
        };
        let code = &self.set().code_migrations;
        if !code.iter().any(|c| recorded(&c)) {
            return Ok(Vec::new());
        }
        Ok(code.iter().filter(|c| !recorded(c)).map(|c| c.path.clone()).collect())
    }

    /// For a run that finds no history of shale's where it looks: whether there is one of these
    /// migrations in another schema (one query, and one per such table).
    pub(crate) async fn refuse_history_elsewhere(&self, client: &Client) -> Result<(), Error> {
        if self.config.history_per_schema {
            return Ok(());
        }
        let set = self.set();
        let checksums: Vec<&str> = set.migrations.iter().map(|m| m.checksum.as_str()).collect();
        let mut found = self.config.history.elsewhere(client, &checksums).await?;
        // Where neither is the default place, they are schemas kept apart on purpose (an
        // environment or a tenant each, with a shale.toml each; review): only a run looking in
        // `public` for one kept elsewhere, or elsewhere for one in `public`, has lost its history.
        let default = shale_pg::HistoryTable::default().schema;
        if self.config.history.schema != default {
            found.retain(|schema| *schema == default);
        }
        match found.is_empty() {
            true => Ok(()),
            false => Err(Error::HistoryElsewhere { table: self.config.history.name(), found }),
        }
    }

    async fn refuse_where_shale_has_history(&self, client: &Client, create: bool) -> Result<(), Error> {
        let (history, _) = self.history(client, false, create).await?;
        if history.records.is_empty() {
            self.refuse_history_elsewhere(client).await?;
        }
        // A migration that failed in its transaction left nothing (`up` on a database another
        // tool built, whose history shale did not find): it does not stand in the way.
        let left_nothing = |r: &AppliedRecord| r.status == RecordStatus::Failed && r.statements_done.is_none();
        match history.records.iter().find(|r| r.kind != RecordKind::Audit && !left_nothing(r)) {
            Some(current) => Err(Error::HistoryExists { version: current.version.clone(), name: current.name.clone() }),
            None => Ok(()),
        }
    }

    /// Other tools' history tables in this database ([`foreign::detect_confirming`]): also one
    /// under a name that does not say it holds migrations, where its rows name this directory's
    /// files, and those are written for that tool (dbmate's sections: a lone `version` column
    /// whose rows are versions says no more than that; node-pg-migrate's modules may be all its
    /// files).
    pub(crate) async fn other_histories(&self, client: &Client) -> Result<Vec<ForeignTable>, Error> {
        let written_for = |tool: Tool| {
            let layout = match tool {
                Tool::Dbmate => shale_core::Layout::DbmateSections,
                Tool::SqlMigrate => shale_core::Layout::SqlMigrate,
                // Its SQL files, or its modules alone.
                Tool::NodePgMigrate if !self.set().code_migrations.is_empty() => return true,
                // db-migrate's, of the same columns, with its SQL files in `sqls/`.
                Tool::NodePgMigrate
                    if self.set().migrations.iter().any(|m| m.layout == shale_core::Layout::DbMigrate) =>
                {
                    return true
                }
                Tool::NodePgMigrate => shale_core::Layout::NodePgMigrate,
                _ => return false,
            };
            self.set().migrations.iter().any(|m| m.layout == layout)
        };
        let files: Vec<String> = self.set().file_names().collect();
        let rows_name_files = |tool: Tool, keys: &[String]| {
            shale_core::adopt::rows_name_files(keys, |k| shale_core::adopt::row_names_a_file(tool, &files, k))
        };
        let mut found = foreign::detect_confirming(client, written_for, rows_name_files).await?;
        for name in &self.named_histories {
            let named = foreign::detect(client, Some(name)).await?;
            if named.is_empty() {
                return Err(Error::NoForeignHistory { tool: None, table: Some(name.clone()) });
            }
            for table in named {
                if !found.iter().any(|f| f.display() == table.display()) {
                    found.push(table);
                }
            }
        }
        Ok(found)
    }

    /// Whether a baseline leaves `table` out and watches it: another tool's history on the
    /// connection's search_path, or one named with `--table` wherever it is (review: one in
    /// another schema was left out of the check, and then neither recorded nor watched).
    pub fn left_at_baseline(&self, table: &ForeignTable) -> bool {
        let named = self.named_histories.iter().any(|n| *n == table.display() || *n == table.table);
        (table.in_search_path || named) && !self.own_table(table)
    }

    /// Other tools' history tables in this database, when shale has no history of its own here:
    /// `up` must not run what such a tool applied, and `status` says so. One query.
    pub(crate) async fn foreign_history_without_adoption(&self, client: &Client) -> Result<Vec<ForeignTable>, Error> {
        let mut found = self.other_histories(client).await?;
        found.retain(|t| !self.own_table(t));
        // A Sqitch registry holding only other projects' changes is not this plan's history (the
        // re-check: Sqitch deployed oss_chef, and the enterprise plan was told to adopt it).
        if let Some(project) = self.set().sqitch_project.clone() {
            let mut kept = Vec::with_capacity(found.len());
            for table in found {
                if table.tool != Tool::Sqitch || foreign::sqitch_holds_project(client, &table, &project).await? {
                    kept.push(table);
                }
            }
            found = kept;
        }
        // Those on the search_path, when there are any: another schema's is likely another
        // application's (detect lists those on the search_path first); but for the tools that
        // keep their history in a schema of their own (graphile-migrate's `graphile_migrate`:
        // third sweep, an empty Flyway table in public was named in its place, and adopting that
        // ran again what graphile-migrate had applied).
        if found.first().is_some_and(|t| t.in_search_path) {
            found.retain(|t| t.in_search_path || !t.tool.history_beside_migrations());
        }
        Ok(without_empty_histories(client, found).await)
    }
}

/// A history a baseline left as it was (a tool whose migrations are code) that has changed since.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChangedSinceBaseline {
    pub tool: Tool,
    /// Its table, `schema.name`.
    pub table: String,
    /// When the baseline was recorded (or, with `accepted`, when the table was last accepted as
    /// it was).
    pub baseline_at: Option<String>,
    /// `baseline_at` is when `repair --accept-other-history` recorded the table, not the baseline.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
}

/// What `repair --accept-other-history` recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AcceptedHistories {
    /// Recorded as they are now: warned about again only when they change.
    pub accepted: Vec<ChangedSinceBaseline>,
    /// Histories of tools whose migrations are SQL files that ran them here a second time: not
    /// accepted (their tables are to be dropped), still warned about.
    pub left: Vec<ChangedSinceBaseline>,
}

/// When the tool applied each of `versions`, as its rows say, where they say.
fn applied_times(
    set: &shale_core::MigrationSet,
    foreign: &shale_core::adopt::ForeignHistory,
    versions: &[shale_core::Version],
) -> Vec<(shale_core::Version, String)> {
    let shale_core::adopt::ForeignState::Entries(entries) = &foreign.state else { return Vec::new() };
    versions
        .iter()
        .filter_map(|v| {
            let m = set.find(v)?;
            let of_it = |e: &&shale_core::adopt::ForeignEntry| shale_core::adopt::matches(foreign.tool, m, &e.key);
            let entry = match foreign.tool {
                // A Sqitch change reworked later has a row per instance, in the plan's order, as the
                // adoption paired them: its own, not its rework's (Sqitch trial: the first instance
                // said to have run again, where only the rework had).
                Tool::Sqitch => {
                    let instance = set.versioned().filter(|o| o.name == m.name && o.version < m.version).count();
                    entries.iter().filter(of_it).nth(instance)?
                }
                _ => entries.iter().rev().find(of_it)?,
            };
            Some((v.clone(), entry.applied_at.clone()?))
        })
        .collect()
}

/// The migrations `foreign` records a failed attempt at (a failed row, golang-migrate's dirty
/// flag), as the tool names them, taken out of it: what is left reads as what the tool applied.
fn set_failures_apart(foreign: &mut shale_core::adopt::ForeignHistory) -> Vec<String> {
    match &mut foreign.state {
        shale_core::adopt::ForeignState::Entries(entries) => {
            let failed = entries.iter().filter(|e| e.failed).map(|e| e.key.clone()).collect();
            entries.retain(|e| !e.failed);
            failed
        }
        // (The version it stopped at counts as reached, as golang-migrate counts it: `up` does
        // not run it again over what it may have left.)
        shale_core::adopt::ForeignState::Current { version: Some(v), dirty } if *dirty => {
            *dirty = false;
            vec![v.to_string()]
        }
        shale_core::adopt::ForeignState::Current { .. } => Vec::new(),
    }
}

/// Of several other tools' histories, those holding rows, where some do: an empty one (a project's
/// schema file making Flyway's table, beside graphile-migrate's history) migrated nothing. One
/// query, only where there are several.
async fn without_empty_histories(client: &Client, found: Vec<ForeignTable>) -> Vec<ForeignTable> {
    if found.len() < 2 {
        return found;
    }
    let holding = foreign::holding_rows(client, &found).await;
    if !holding.iter().any(|h| *h) {
        return found;
    }
    found.into_iter().zip(holding).filter(|(_, h)| *h).map(|(t, _)| t).collect()
}

/// More than one other tool's history: which one to take over must be said.
pub(crate) fn foreign_histories(found: &[ForeignTable]) -> Error {
    Error::ForeignHistories(found.to_vec())
}

/// A note when the other tool's table is not in the schema unqualified names go to on this
/// connection: the tool ran its migrations there (Flyway's `flyway.schemas=app` sets the
/// search_path to `app`), and shale, on this connection, would create their objects elsewhere.
/// `tool` is the one taken over from, which `--from` may have named over the guess (drizzle trial:
/// the note named sql-migrate, and told drizzle's team to move its tables). Said only where the
/// tables the migrations create unqualified are in the history's schema, or none is found:
/// where they name their schemas, or their tables are on this connection's path, the tool ran
/// with it (breadth trial: convoy keeps sql-migrate's history in `convoy`, its files name the
/// schema, and the note's search_path broke a call to `public`'s pgcrypto on a new database).
async fn schema_note(
    client: &Client,
    table: &ForeignTable,
    tool: Tool,
    set: &shale_core::MigrationSet,
) -> Result<Option<AdoptNote>, Error> {
    let first = |rows: Vec<Vec<String>>| rows.into_iter().next().and_then(|row| row.into_iter().next());
    let rows =
        shale_pg::lock::simple_rows(client, "SELECT coalesce(current_schema(), '')", "reading the current schema")
            .await?;
    let current = first(rows).unwrap_or_default();
    if current == table.schema || !tool.history_beside_migrations() {
        return Ok(None);
    }
    let unqualified = set.tables_created_unqualified();
    if unqualified.is_empty() && !set.migrations.is_empty() {
        return Ok(None);
    }
    if !unqualified.is_empty() {
        let names: Vec<String> = unqualified.iter().map(|n| shale_pg::sql::quote_literal(n)).collect();
        let sql = format!(
            "SELECT coalesce(bool_or(n.nspname = current_schema()), false)::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND c.relname IN ({})",
            names.join(", ")
        );
        let rows = shale_pg::lock::simple_rows(client, &sql, "finding the migrations' tables").await?;
        if first(rows).as_deref() == Some("true") {
            return Ok(None);
        }
    }
    Ok(Some(AdoptNote::Schema {
        tool,
        schema: table.schema.clone(),
        now: if current.is_empty() { "no schema".to_string() } else { current },
        path: shale_core::ident::ident(&table.schema),
    }))
}

/// The audit row that says what `adopt` did.
fn audit_record(reason: &str) -> NewRecord<'_> {
    succeeded(RecordKind::Audit, String::new(), "adopt", reason)
}

/// A succeeded row of `kind` that nothing ran, with its reason: no checksum, SQL or path until
/// the caller gives them.
pub(crate) fn succeeded<'a>(kind: RecordKind, version: String, name: &'a str, reason: &'a str) -> NewRecord<'a> {
    NewRecord {
        version,
        name,
        kind,
        checksum: None,
        up_sql: None,
        down_sql: None,
        status: RecordStatus::Succeeded,
        reason: Some(reason),
        statements_done: None,
        path: None,
    }
}

/// drizzle-kit's journal, `meta/_journal.json` in the migrations directory (where the files
/// are), when there is one.
fn drizzle_journal(set: &shale_core::MigrationSet) -> Vec<(String, String)> {
    let top = set.migrations.iter().find(|m| !m.file.contains('/'));
    let journal = top.and_then(|m| m.up.path.parent()).map(|dir| dir.join("meta").join("_journal.json"));
    let text = journal.and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
    // (One that does not read stopped the set's load already.)
    shale_core::adopt::drizzle_journal(&text).unwrap_or_default()
}
