use shale_core::adopt::{AdoptProblem, Tool};
use shale_core::{LoadError, PlanError};
use shale_pg::PgError;

/// Everything that can stop a migration run, by cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The migration files have problems (all of them are listed).
    #[error("{} problem(s) in the migration files", .0.len())]
    Load(Vec<LoadError>),
    /// The files and the history disagree in a way that needs a decision.
    #[error("{} problem(s) between the migration files and the database history", .0.len())]
    Plan(Vec<PlanError>),
    #[error(transparent)]
    Pg(#[from] PgError),
    /// The connection string or PG* variables could not be read.
    #[error(transparent)]
    Settings(#[from] shale_pg::SettingsError),
    /// The plan was refused before anything ran (e.g. by the safety linter), statement by statement.
    #[error("{0}")]
    Unsafe(crate::migrator::Refusal),
    /// The migration lock went while the run was going on (its session ended, or its lease ran
    /// out or was taken over): another runner may be migrating now, so this one stopped. `applied`
    /// were committed (and recorded) under the lock before it went; `stopped` is the migration that
    /// was running then: rolled back whole, or, outside a transaction, stopped at a statement
    /// boundary with what ran recorded in the history.
    #[error("{}", lock_lost_text(applied, stopped.as_deref(), *outside_transaction))]
    LockLost { applied: Vec<String>, stopped: Option<String>, outside_transaction: bool },
    /// A stop was requested (Ctrl-C, SIGTERM): `applied` were committed before it; `stopped` says
    /// what happened to the migration that was running, if one was (see [`Stopped`]).
    #[error("interrupted{}{}", applied_before(applied), stopped.as_ref().map(|s| format!("; {s}")).unwrap_or_default())]
    Interrupted { applied: Vec<String>, stopped: Option<Stopped> },
    /// Another tool migrated this database and shale has no history of its own here yet, so
    /// migrating would run again what that tool applied. `table` is the tool's history table
    /// (`schema.name`). Where [`Tool::migrations_are_sql`], [`Migrator::adopt`](crate::Migrator::adopt)
    /// takes that history over; otherwise (Alembic) a baseline records what the database holds.
    /// When the table belongs to something else, adopting nothing ([`AdoptRequest::nothing`](crate::AdoptRequest::nothing))
    /// starts shale's history beside it. [`Error::hint`] says so in words for any application.
    #[error("{}", foreign_history_text(*tool, table, *adoptable))]
    ForeignHistory {
        tool: Tool,
        table: String,
        /// The migrations are the tool's, as SQL files: its history can be taken over
        /// ([`Tool::adoptable_with`]); otherwise a baseline records what the database holds.
        adoptable: bool,
    },
    /// shale has no history in this database, no other tool's history was found, and tables the
    /// migrations create are there already (`tables`: each as `schema.name`, with the migration
    /// that creates it): something else built the database, and running the migrations would run
    /// again, before the first of those fails, every one that still can. Nothing ran.
    /// [`Error::hint`] says the ways on.
    #[error("{}", tables_without_history_text(tables))]
    TablesWithoutHistory { tables: Vec<(String, String)> },
    /// The other tool's history cannot be taken over as it is: every problem is listed, one a
    /// line, each with its advice in [`AdoptProblem::hint`].
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Adopt(Vec<AdoptProblem>),
    /// The other tool holds its own migration lock (`lock_table`, schema-qualified, has its row):
    /// one of its runs is going on, or one stopped without unlocking, and its history may record
    /// migrations it has not finished (bun writes a row before it runs the migration). Nothing was
    /// taken over. Worth trying again once it is done.
    #[error(
        "{tool} holds its migration lock ({lock_table} has its row): one of its runs is going on, or one stopped \
             without unlocking, so its history may record a migration it has not finished; nothing was taken over"
    )]
    OtherToolLocked { tool: Tool, lock_table: String },
    /// Adopting found no other tool's history table to take over: none at all (`tool` and `table`
    /// `None`), none of the tool the request named (`tool`), or no such table (`table`, as the
    /// request named it). [`Error::hint`] says what to try.
    #[error("{}", no_foreign_history_text(*tool, table.as_deref()))]
    NoForeignHistory { tool: Option<Tool>, table: Option<String> },
    /// The table the request named as `tool`'s history has other columns (`columns`, in order);
    /// `theirs`, where they are exactly another tool's. Read as `tool`'s, it would look empty, and
    /// every migration run again. Nothing was recorded.
    #[error(
        "{table} is not {tool}'s history: its columns are {}{}",
        columns.join(", "),
        shale_core::adopt::NAMED_AS_CONFIGURED
            .iter()
            .find(|(t, _)| t == tool)
            .map(|(_, own)| format!(" ({tool}'s has {})", own.join(", ")))
            .unwrap_or_default()
    )]
    NotItsHistory { tool: Tool, table: String, columns: Vec<String>, theirs: Option<Tool> },
    /// The tool whose history shale took over has applied, since, migrations shale was about to
    /// run (`migrations`, as labels): it still runs somewhere (a deploy step, an application's
    /// start-up), and running them again would apply them twice. Or it marked them applied with
    /// a baseline row written since (`marked_by_baseline`, its key: pgmigrate's `baseline`),
    /// which ran nothing. Nothing ran.
    #[error(
        "{tool} {} {} since shale took its history over ({table} records it){}",
        if marked_by_baseline.is_some() { "marked" } else { "applied" },
        migrations.join(", "),
        match marked_by_baseline {
            Some(key) => format!(
                " as applied, by a baseline row for version {key} it wrote since, which runs nothing: they may never have run"
            ),
            None => ": running it again would apply it twice".to_string(),
        }
    )]
    AppliedByTheOtherTool { tool: Tool, table: String, migrations: Vec<String>, marked_by_baseline: Option<String> },
    /// Sqitch changes about to run require changes of other Sqitch projects (`[project:change]`
    /// in the plan) that the database has not deployed (`missing`: the requiring migration's
    /// label, the project, the change), as `sqitch deploy` refuses. Nothing ran.
    #[error(
        "this Sqitch project's changes require changes of another project that this database has not deployed: {}",
        missing.iter().map(|(label, project, change)| format!("{label} requires {project}:{change}")).collect::<Vec<_>>().join(", ")
    )]
    RequiredElsewhere { missing: Vec<(String, String, String)> },
    /// Migration `label` failed in another runner while this one waited for the migration lock
    /// (`at`: when, as the history renders times; `error`: what failed): this one does not try it
    /// again at once, where it would fail the same way (each replica of an application in turn).
    /// Nothing of it ran here; the migrations before it are applied.
    #[error(
        "migration {label} failed in another runner while this one waited for the migration lock{}{}: not run again by this one",
        at.as_deref().map(|at| format!(" (at {at})")).unwrap_or_default(),
        error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
    )]
    FailedInAnotherRunner { label: String, at: Option<String>, error: Option<String> },
    /// The tool whose history a baseline left as it was records, as applied, migrations shale was
    /// about to run (`migrations`, as labels): it ran them since (they were ported to files shale
    /// runs), or before a baseline given a lower version. Running them would apply them twice.
    /// Nothing ran.
    #[error(
        "{tool} applied {} ({table} records it), which shale's history has as pending since its baseline: running it would apply it twice",
        migrations.join(", ")
    )]
    AppliedSinceTheBaseline { tool: Tool, table: String, migrations: Vec<String> },
    /// The tool whose history shale took over has tried, since, migrations shale was about to run,
    /// and failed (`migrations`: each label with the tool's key for it): what it left of them is
    /// unknown, part of one run outside a transaction maybe. Nothing ran.
    #[error(
        "{tool} tried {} since shale took its history over, and failed ({table} records the failure): it may have left part of it done",
        migrations.iter().map(|(label, _)| label.as_str()).collect::<Vec<_>>().join(", ")
    )]
    FailedByTheOtherTool { tool: Tool, table: String, migrations: Vec<(String, String)> },
    /// Adopting where shale keeps a history already (`version` `name` one of its migrations): one
    /// history per history table. A directory whose migrations are a history apart from that one
    /// (another tool kept one table per directory) takes a history table of its own.
    #[error(
        "shale already has a migration history in this database (migration {} among others): adopt takes over another tool's history only where shale has none",
        shale_core::layout::versioned_label(version, name)
    )]
    HistoryExists { version: String, name: String },
    /// shale's history is not where this run looks (`table`, `schema.name`) but in `found` (a
    /// schema of the same table name): the configuration changed since, or this run lacks it.
    /// Going on would start a second history. Nothing ran.
    #[error(
        "shale's history in this database is in schema {}, not at {table} where this run looks: going on would start a second history",
        found.join(", ")
    )]
    HistoryElsewhere { table: String, found: Vec<String> },
    /// More than one other tool's history table where shale has none (those on the search_path,
    /// or anywhere when none is there): the request must say which to take over.
    #[error("more than one migration history is in this database ({})", histories_text(.0))]
    ForeignHistories(Vec<shale_pg::foreign::ForeignTable>),
    /// Seeds run after the migrations, and `pending` migrations are not applied yet.
    #[error("{pending} migration(s) are pending: seeds run after the migrations")]
    SeedsBeforeMigrations { pending: usize },
    /// A repair that is refused as asked: see [`RepairRefusal`].
    #[error("{0}")]
    Repair(RepairRefusal),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
}

/// What a stop did to the migration that was running ([`Error::Interrupted`]); its `Display` says
/// it in words for any application.
#[derive(Debug)]
pub enum Stopped {
    /// The stop came while the migration waited: for the sessions holding its tables, or between
    /// the batches of a backfill.
    Waiting(shale_pg::InterruptedWait),
    /// The stop cancelled the statement migration `label` was running. With `failure.rolled_back`
    /// its transaction was rolled back and nothing of it was applied; otherwise it runs outside a
    /// transaction and stopped part-way (`failure.part_way` says where), and the text ends with
    /// the failure's [`DbFailure::remedy`](shale_pg::DbFailure::remedy).
    Cancelled { label: String, failure: Box<shale_pg::DbFailure> },
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Waiting(wait) => wait.fmt(f),
            Stopped::Cancelled { label, failure } if failure.rolled_back => {
                write!(f, "migration {label} was cancelled: its transaction was rolled back, nothing of it was applied")
            }
            Stopped::Cancelled { label, failure } => {
                write!(f, "migration {label} was cancelled part-way (it runs outside a transaction)")?;
                match &failure.remedy {
                    Some(remedy) => write!(f, ": {remedy}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Why [`Migrator::repair`](crate::Migrator::repair) refused the decision as asked; its
/// `Display` says so in words for any application, [`Error::hint`] what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairRefusal {
    /// The reason is empty: the audit trail needs one.
    NoReason,
    /// Recording migration `version` as rolled back, where it is applied and its file unchanged,
    /// would run it again on a database where its changes are: that takes `force`.
    Healthy { version: String },
    /// Resuming is only for a migration that runs outside a transaction and stopped part-way;
    /// `has_file`: migration `version` has a file (and it runs in a transaction).
    NotPartWay { version: String, has_file: bool },
    /// The statement to resume at is not one of the migration's `total` statements (or just after
    /// them: all of them ran).
    ResumeOutOfRange { version: String, at: usize, total: usize },
    /// Recording migration `version`, which shale cannot run (written in Go), as applied while
    /// `pending` migrations before it, up to `before`, are not: they would then be out of order
    /// (older than the newest applied), and the next run would refuse them. That takes `force`.
    EarlierPending { version: String, pending: usize, before: String },
}

impl std::fmt::Display for RepairRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepairRefusal::NoReason => {
                f.write_str("a repair needs a reason: say what was decided and why, for the audit trail")
            }
            RepairRefusal::Healthy { version } => write!(
                f,
                "migration {version} is applied and its file is unchanged: recording it as rolled back makes the \
                 next run of the migrations run it again, on a database where its changes are (unless you undid them \
                 by hand)"
            ),
            RepairRefusal::NotPartWay { version, has_file } => write!(
                f,
                "resuming is for a migration that runs outside a transaction and stopped part-way; migration \
                 {version} {}",
                not_part_way(*has_file)
            ),
            RepairRefusal::ResumeOutOfRange { version, at, total } => write!(
                f,
                "statement {at} is not one to resume at: migration {version} has {total} statement(s); give 1 to {} \
                 ({} means all of them ran)",
                total + 1,
                total + 1
            ),
            RepairRefusal::EarlierPending { version, pending, before } => write!(
                f,
                "{pending} migration(s) before {version}, up to {before}, are not applied yet: with {version} recorded \
                 as applied they would be out of order, and a run of the migrations would refuse them"
            ),
        }
    }
}

/// Why a migration cannot be resumed part-way: `has_file`, it has a file (and runs in a transaction).
fn not_part_way(has_file: bool) -> &'static str {
    if has_file {
        "runs in a transaction: it is applied whole or not at all"
    } else {
        "has no file"
    }
}

/// What kind of failure an [`Error`] is, for deciding what to do about it: an embedding
/// application retries [`ErrorKind::Unavailable`], reports [`ErrorKind::Failed`], and fixes its
/// request or files on [`ErrorKind::Usage`]. The CLI's exit codes and a fleet's outcomes follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request, the configuration or the migration files are wrong (or the plan was refused):
    /// nothing ran; fix them and ask again.
    Usage,
    /// The database or the migration lock was out of reach (could not connect, the lock was held
    /// or lost, the connection went away): worth trying again, unlike a failed migration.
    Unavailable,
    /// A migration, or a query of shale's own, failed on the server.
    Failed,
    /// A stop was requested (Ctrl-C, SIGTERM) and the run stopped.
    Interrupted,
}

impl Error {
    /// What to do about the error, where shale knows, in words for any application (no
    /// command-line flags, no configuration file names). An error's text says what happened; show
    /// the hint after it. [`Error::Plan`] and [`Error::Load`] carry one per problem
    /// (`PlanError::hint()`, `LoadError::hint`), and so do those of [`Error::Adopt`]
    /// (`AdoptProblem::hint()`).
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Pg(e) => e.hint(),
            Error::ForeignHistory { table, adoptable, .. } => Some(match adoptable {
                true => format!(
                    "adopt that history (nothing runs, and {table} is left as it is), then migrate. If that table \
                     belongs to something else and every migration should run here, adopt nothing: shale's history \
                     then starts beside it"
                ),
                false => format!(
                    "record as a baseline the migration the database already holds (with no migrations yet, write \
                     the live schema as the first one), then migrate. If {table} belongs to something else and every \
                     migration should run here, adopt nothing: shale's history then starts beside it"
                ),
            }),
            Error::LockLost { .. } => {
                Some("read the migration status to see where the database stands, then migrate again".into())
            }
            // (The library lost this advice to the CLI's words: review.)
            Error::NotItsHistory { theirs: Some(other), .. } if !other.migrations_are_sql() => Some(format!(
                "the table is {other}'s history, whose migrations are {}: start shale's history from the live schema \
                 (written as the first migration and recorded as a baseline), {other}'s table left out",
                other.migration_form().unwrap_or("code")
            )),
            Error::NotItsHistory { theirs: Some(other), .. } => Some(format!("name {other} as the tool, or none")),
            Error::NotItsHistory { .. } => Some("name the tool that wrote the table".into()),
            Error::NoForeignHistory { table: Some(_), .. } => None,
            Error::NoForeignHistory { tool: Some(_), .. } => {
                Some("name its history table in the request if it was renamed".into())
            }
            Error::NoForeignHistory { .. } => Some(
                "name the tool and its history table in the request if it was renamed, or, for a database built \
                 without one or by a tool whose migrations are code, start shale's history from the live schema \
                 (written as the first migration and recorded as a baseline)"
                    .into(),
            ),
            Error::TablesWithoutHistory { .. } => Some(
                "where another tool migrated it under a history table of another name, name that tool and table \
                 and adopt its history; where it was built otherwise (an ORM, by hand), record as a baseline the \
                 migration the database already holds; where the migrations are meant to run over these tables as \
                 they are, adopt nothing, once"
                    .into(),
            ),
            Error::SeedsBeforeMigrations { .. } => Some("apply the migrations first (or with the seeds)".into()),
            Error::FailedInAnotherRunner { .. } => Some("fix the migration, then migrate again".into()),
            Error::RequiredElsewhere { .. } => Some(
                "deploy the other project first (from its own plan, with a history of its own), then this one".into(),
            ),
            Error::AppliedSinceTheBaseline { .. } => Some(
                "stop the other tool's own migrate where it still runs; check that the database holds what each \
                 did, then record each with a repair: applied, with a reason, and migrate the rest"
                    .into(),
            ),
            Error::HistoryElsewhere { found, .. } => Some(format!(
                "run with the history table where it is (schema {}); to move it, create the new schema if it is not \
                 there, then ALTER TABLE ... SET SCHEMA it and, where a lease table (`_lock`) was made, that too",
                found[0]
            )),
            Error::HistoryExists { .. } => Some(
                "if this directory's migrations are a history apart from that one (the other tool kept a table for \
                 each directory), give them a history table of their own"
                    .into(),
            ),
            Error::Repair(RepairRefusal::Healthy { .. }) => Some("if you undid them, force the repair".into()),
            Error::ForeignHistories(_) => {
                Some("name the tool and the history table to take over in the request".into())
            }
            Error::OtherToolLocked { lock_table, .. } => Some(format!(
                "wait for its run to end and adopt again; where none runs (one crashed), check the database, \
                 delete the row (`DELETE FROM {lock_table}`) and adopt again"
            )),
            _ => None,
        }
    }

    /// The kind of failure: see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Interrupted { .. } => ErrorKind::Interrupted,
            Error::Load(_)
            | Error::Plan(_)
            | Error::ForeignHistory { .. }
            | Error::TablesWithoutHistory { .. }
            | Error::Adopt(_)
            | Error::NoForeignHistory { .. }
            | Error::NotItsHistory { .. }
            | Error::AppliedByTheOtherTool { .. }
            | Error::RequiredElsewhere { .. }
            | Error::AppliedSinceTheBaseline { .. }
            | Error::FailedByTheOtherTool { .. }
            | Error::HistoryExists { .. }
            | Error::HistoryElsewhere { .. }
            | Error::ForeignHistories(_)
            | Error::SeedsBeforeMigrations { .. }
            | Error::Repair(_)
            | Error::Invalid(_)
            | Error::Settings(_)
            | Error::Unsafe(_) => ErrorKind::Usage,
            Error::LockLost { .. } | Error::OtherToolLocked { .. } => ErrorKind::Unavailable,
            Error::FailedInAnotherRunner { .. } => ErrorKind::Failed,
            Error::Pg(e) => match e {
                PgError::Connect(e) if e.settings_problem || e.refused_as_given() => ErrorKind::Usage,
                // shale's own queries refused by where the connection landed, not by the
                // migrations: a standby (read-only), a pooler out of server connections
                // (PgBouncer's query_wait_timeout), a server shutting down. Worth a retry, as a
                // failed connection is (the re-trial of real servers: these exited 1).
                PgError::Query { sqlstate: Some(code), .. } if server_unavailable(code) => ErrorKind::Unavailable,
                // A migration's statement cut off by the server shutting down (a restart, a
                // failover): nothing is wrong with it, and a retry goes on (operator trial: exit 1,
                // which a pipeline retrying on 3 took for a broken migration).
                PgError::Migration { failure, .. }
                    if matches!(failure.sqlstate.as_str(), "57P01" | "57P02" | "57P03") =>
                {
                    ErrorKind::Unavailable
                }
                PgError::Connect(_)
                | PgError::LockTimeout { .. }
                | PgError::LockLost
                | PgError::ConnectionLost { .. }
                | PgError::StatementPooler(_) => ErrorKind::Unavailable,
                PgError::Refused(_) | PgError::OutsideOneTransaction { .. } | PgError::AdvisoryThroughPooler(_) => {
                    ErrorKind::Usage
                }
                _ => ErrorKind::Failed,
            },
        }
    }
}

/// SQLSTATEs of a server that cannot serve shale's queries now: connection exceptions (class
/// 08, PgBouncer's pool errors among them), a read-only transaction (a standby), the server
/// shutting down or starting, too many connections.
fn server_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "25006" | "57P01" | "57P02" | "57P03" | "53300")
}

impl From<shale_pg::ConnectError> for Error {
    fn from(e: shale_pg::ConnectError) -> Self {
        Error::Pg(PgError::Connect(e))
    }
}

fn tables_without_history_text(tables: &[(String, String)]) -> String {
    const SHOWN: usize = 5;
    let mut named: Vec<String> = tables.iter().take(SHOWN).map(|(t, by)| format!("{t} (made by {by})")).collect();
    if tables.len() > SHOWN {
        named.push(format!("{} more", tables.len() - SHOWN));
    }
    format!(
        "shale has no history in this database, yet {} table(s) its migrations create are there already: {}; \
         something else built it, and migrating would run again every migration that still can before the first \
         of those fails",
        tables.len(),
        named.join(", ")
    )
}

fn foreign_history_text(tool: Tool, table: &str, adoptable: bool) -> String {
    let applied = match adoptable {
        true => format!("what {tool} applied"),
        // Its migrations are not files shale has: what ran is in the schema, not in the files.
        false => "what the database already holds".to_string(),
    };
    format!(
        "this database was migrated by {tool} ({table} is its history) and shale has no history here yet, so \
         migrating would run again {applied}"
    )
}

fn no_foreign_history_text(tool: Option<Tool>, table: Option<&str>) -> String {
    match (table, tool) {
        (Some(t), _) => format!("no table {t} that looks like a migration tool's history was found in this database"),
        (None, Some(tool)) => {
            format!("no {tool} history table ({}) was found in this database", tool.default_table())
        }
        (None, None) => {
            let sql: Vec<Tool> = Tool::ALL.into_iter().filter(|t| t.migrations_are_sql()).collect();
            format!(
                "no other migration tool's history table was found in this database (looked for those of {}, and \
                 of {}, whose migrations are code)",
                Tool::listed(&sql, "and"),
                Tool::listed(&Tool::with_code_migrations(), "and")
            )
        }
    }
}

fn lock_lost_text(applied: &[String], stopped: Option<&str>, outside_transaction: bool) -> String {
    let mut text = String::from(
        "the migration lock was lost while migrating (the session holding it ended, or its lease ran out or was taken over), so this runner stopped: another runner may be migrating now",
    );
    match applied.len() {
        0 => {}
        n => text.push_str(&format!("; applied and committed before that: {n} migration(s), {}", applied.join(", "))),
    }
    match (stopped, outside_transaction) {
        (Some(label), false) => {
            text.push_str(&format!("; migration {label} was rolled back and did not commit"))
        }
        (Some(label), true) => text.push_str(&format!(
            "; migration {label} runs outside a transaction: it stopped at a statement boundary, and the history records the statements that ran"
        )),
        (None, _) => text.push_str("; nothing was recorded"),
    }
    text
}

fn applied_before(applied: &[String]) -> String {
    match applied.len() {
        // (Of a migration outside a transaction, statements may have run: said after this.)
        0 => "; no migration was completed by this run".to_string(),
        n => format!("; applied and committed before that: {n} migration(s), {}", applied.join(", ")),
    }
}

/// Each history as "tool schema.table".
fn histories_text(found: &[shale_pg::foreign::ForeignTable]) -> String {
    found.iter().map(|t| format!("{} {}", t.tool, t.display())).collect::<Vec<_>>().join(", ")
}
