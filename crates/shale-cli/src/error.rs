//! The one mapping from errors to what the user sees and to exit codes:
//! 0 success, 1 a migration failed, 2 usage/configuration/validation, 3 connection or lock.
//!
//! The library's errors say what happened in words for any application; the hints here are in
//! the CLI's words (its flags, shale.toml, its commands), written from the errors' fields.

use std::io::Write;

use annotate_snippets::{Level, Renderer, Snippet};
use shale::fleet::{self, TargetReport};
use shale::{Error as ShaleError, ErrorKind, RepairRefusal, Stopped};
use shale_core::adopt::{AdoptProblem, Tool};
use shale_core::layout::{LoadError, LoadProblem};
use shale_core::PlanError;
use shale_pg::{DbFailure, InterruptedWait, LostOutcome, PartWay, PgError};

pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_UNAVAILABLE: i32 = 3;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// A migration failed while the migrations were replayed on a throwaway database (to build the
/// schema they make for `drift` or `diff`, for `check`, or for a generated down): the user's
/// database was not touched, and the way out is not the one of a failed `up`.
#[derive(Debug)]
pub struct ReplayFailed {
    pub label: String,
    pub failure: Box<DbFailure>,
    pub purpose: Replay,
}

/// What the migrations were replayed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The schema, to compare with a live database (`drift`).
    Drift,
    /// The schema, to compare with another source (`diff`).
    Diff,
    /// Each migration applied in order from empty, and each down proven (`check`).
    Check,
    /// The schemas before and after migrations without a down (`down --generate`, `new
    /// --down-from-diff`, `check --generate-downs`).
    GeneratedDown,
}

impl ReplayFailed {
    /// `result` of a run on a throwaway database, a failed migration reported as a replay's.
    pub fn of<T>(result: Result<T, ShaleError>, purpose: Replay) -> anyhow::Result<T> {
        match result {
            Err(ShaleError::Pg(shale_pg::PgError::Migration { label, failure })) => {
                Err(ReplayFailed { label, failure, purpose }.into())
            }
            other => Ok(other?),
        }
    }
}

impl std::fmt::Display for ReplayFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self
            .failure
            .location
            .as_ref()
            .map(|l| format!(" ({}:{}:{})", l.path.display(), l.line, l.column))
            .unwrap_or_default();
        write!(f, "{}{at}: {}; nothing ran on your database. {}", self.title(), self.failure.message, self.advice())
    }
}

impl std::error::Error for ReplayFailed {}

impl ReplayFailed {
    /// Where the replay ran, what for, and the migration that failed.
    fn title(&self) -> String {
        let why = match self.purpose {
            Replay::Drift | Replay::Diff => "to build the schema they are expected to make",
            Replay::Check => "to check that they apply in order from an empty database",
            Replay::GeneratedDown => "to build the schemas before and after the migration whose down is generated",
        };
        format!("replaying the migrations on a throwaway database, {why}, failed at migration {}", self.label)
    }

    /// Why it failed there and what to do, in the CLI's words.
    fn advice(&self) -> String {
        let f = &self.failure;
        // The way around a replay that cannot work, where there is one (`check` is the replay).
        let instead = match self.purpose {
            Replay::Drift => Some(
                "compare with a schema source instead (`shale drift --against schema.sql`, a database URL or exec:COMMAND)",
            ),
            Replay::Diff => Some("compare a schema source instead (a schema file, a database URL or exec:COMMAND)"),
            Replay::Check => None,
            Replay::GeneratedDown => {
                Some("write the down by hand instead (the migration's down file, where its directory's tool allows one)")
            }
        };
        let or_instead = instead.map(|i| format!(", {i}")).unwrap_or_default();
        if !matches!(f.sqlstate.as_str(), "42P01" | "42703" | "42883" | "42704" | "3F000") {
            return format!(
                "the migrations do not apply in order on an empty database: fix the migration{or_instead}, \
                 or use --dev-url for a server like the live one (its version, extensions and roles)"
            );
        }
        match (quoted_name(&f.message), history_table_named(&f.message)) {
            (_, Some((name, tools))) => format!(
                "the migration refers to {name}, the history table {} keeps: the tool makes it, the migrations do not \
                 (and shale keeps its own history). {}",
                Tool::listed(&tools, "or"),
                tool_table_remedy(name, &tools)
            ),
            // A table or column: every scratch database starts empty, whatever its server has.
            (name, None) if matches!(f.sqlstate.as_str(), "42P01" | "42703") => format!(
                "the migration refers to {}, which the migrations before it do not create (made by hand, by \
                 another tool, or by the platform, as Supabase makes auth.users?): make the migrations create it, \
                 or, where the platform makes it, make it in the SQL file `replay_setup` in shale.toml names, which \
                 runs on each scratch database first{or_instead}",
                name.unwrap_or("something")
            ),
            (name, None) => format!(
                "the migration refers to {}, which the migrations before it do not create (made by hand, by another \
                 tool, by the platform, or by the server's setup?): make the migrations create it, or make it in the \
                 SQL file `replay_setup` in shale.toml names, which runs on each scratch database first (Supabase's \
                 schemas and roles){or_instead}, or use --dev-url for a server that has it (roles and extensions \
                 belong to the server)",
                name.unwrap_or("something")
            ),
        }
    }
}

/// The way out for a migration that changes another tool's history table, which a database shale
/// builds lacks: a migration before the first that makes the table as the tool did. Changing the
/// migration instead would make every database that applied it refuse it as changed.
fn tool_table_remedy(name: &str, tools: &[Tool]) -> String {
    // The tables of the tools that keep one by that name, as each makes it.
    let definitions: Vec<String> = tools
        .iter()
        .filter_map(|tool| {
            let columns = match tool {
                Tool::GolangMigrate => "version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL",
                Tool::Dbmate => "version varchar(128) PRIMARY KEY",
                Tool::Diesel => {
                    "version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP"
                }
                _ => return None,
            };
            Some(format!("{tool}'s: `CREATE TABLE IF NOT EXISTS {name} ({columns})`"))
        })
        .collect();
    let definition = match definitions.is_empty() {
        true => String::new(),
        false => format!(" ({})", definitions.join("; ")),
    };
    format!(
        "Add a migration numbered just before this one, marked `-- shale:out-of-order` (the databases that applied \
         later ones run it too, where the table is there already), that creates the table as the tool does, if it \
         does not exist{definition}; editing this migration instead would make every database that applied it \
         refuse it as changed"
    )
}

/// Whether a migration written in Go sits beside `.up.sql` files: bun's (goose's SQL files hold
/// their sections; bun trial: told to run it with goose).
fn beside_up_files(path: &std::path::Path) -> bool {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::read_dir(dir)
        .is_ok_and(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".up.sql")))
}

/// The history table of other tools a server message names first (`relation "schema_migrations"
/// does not exist`), with the tools that keep a table of that name.
fn history_table_named(message: &str) -> Option<(&str, Vec<Tool>)> {
    let name = quoted_name(message)?;
    let tools: Vec<Tool> = Tool::ALL.into_iter().filter(|t| name == t.default_table()).collect();
    (!tools.is_empty()).then_some((name, tools))
}

/// The first double-quoted name in a server message (`relation "schema_migrations" does not
/// exist`), without its schema.
fn quoted_name(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('"')?;
    let (name, _) = rest.split_once('"')?;
    Some(name.rsplit('.').next().unwrap_or(name)).filter(|n| !n.is_empty())
}

pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.downcast_ref::<ReplayFailed>().is_some() {
        return EXIT_FAILED;
    }
    match error.downcast_ref::<ShaleError>() {
        Some(e) => code(Some(e.kind())),
        // No server binaries to start a throwaway server with: a setup to fix, which no retry
        // mends (FastAPI trial: exit 3, "worth retrying").
        None if matches!(
            error.downcast_ref::<shale_testkit::Error>(),
            Some(shale_testkit::Error::BinariesNotFound { .. })
        ) =>
        {
            EXIT_INVALID
        }
        None if error.downcast_ref::<shale_testkit::Error>().is_some() => EXIT_UNAVAILABLE,
        None => EXIT_INVALID,
    }
}

/// The exit code for a kind of failure (`None`: none, success). A fleet exits with the code of
/// its worst target ([`shale::fleet::FleetReport::kind`]).
pub fn code(kind: Option<ErrorKind>) -> i32 {
    match kind {
        None => 0,
        Some(ErrorKind::Usage) => EXIT_INVALID,
        Some(ErrorKind::Unavailable) => EXIT_UNAVAILABLE,
        Some(ErrorKind::Interrupted) => EXIT_INTERRUPTED,
        // Failed, and any kind a later shale adds.
        Some(_) => EXIT_FAILED,
    }
}

/// Human rendering on stderr (colors only on a terminal; NO_COLOR honored by anstream).
/// `undone`: the command could have changed the database, so a refusal says nothing was (applied,
/// reverted, changed: [`crate::args::Command::undone_on_refusal`]).
pub fn render(error: &anyhow::Error, undone: Option<&str>) {
    let mut out = anstream::stderr();
    let text = match error.downcast_ref::<ShaleError>() {
        Some(ShaleError::Load(errors)) => {
            let mut s = String::new();
            for e in errors {
                s.push_str(&format!("error: {}\n", load_text(e)));
            }
            match undone {
                Some(word) => s.push_str(&format!(
                    "nothing was {word}: fix the {} problem(s) above and run again\n",
                    errors.len()
                )),
                None => s.push_str(&format!("{} problem(s) in the migration files\n", errors.len())),
            }
            s
        }
        Some(ShaleError::Plan(errors)) => {
            let mut s = String::new();
            for text in plan_texts(errors) {
                s.push_str(&format!("error: {text}\n"));
            }
            if let Some(word) = undone {
                s.push_str(&format!("nothing was {word}\n"));
            }
            s
        }
        // Only when no server answered there: a missing database on a running one is not this.
        Some(ShaleError::Pg(PgError::Connect(e)))
            if e.transient && (e.target.contains(".shale/dev") || e.target.contains("%2F.shale%2Fdev")) =>
        {
            format!(
                "error: {error}\nhelp: the development PostgreSQL (.shale/dev) is not running: `shale dev start` starts it, or use --dev, which starts it when needed\n"
            )
        }
        Some(ShaleError::Pg(PgError::Migration { label, failure })) => render_failure(label, failure),
        _ if error.downcast_ref::<ReplayFailed>().is_some() => {
            let replay = error.downcast_ref::<ReplayFailed>().expect("checked above");
            let title = format!("{}: {}", replay.title(), replay.failure.message);
            let closing =
                "this was the throwaway database shale made for the replay, not yours: nothing ran on your database\n";
            render_failure_as(&title, &replay.failure, Some(&replay.advice()), closing)
        }
        _ => {
            let mut s = format!("error: {}", message(error));
            for cause in error.chain().skip(1) {
                s.push_str(&format!(": {}", text(cause)));
            }
            s.push('\n');
            s
        }
    };
    let _ = out.write_all(text.as_bytes());
}

/// The error's message with the CLI's hints (its causes not included).
pub fn message(error: &anyhow::Error) -> String {
    text(error.as_ref())
}

/// One error of a chain, in the CLI's words.
fn text(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(e) = error.downcast_ref::<ShaleError>() {
        shale_text(e)
    } else if let Some(e) = error.downcast_ref::<PgError>() {
        pg_text(e)
    } else {
        error.to_string()
    }
}

/// A fleet target's error line, in the CLI's words.
pub fn target_error(target: &TargetReport) -> Option<String> {
    match target.failure.as_deref() {
        // A failed migration's line (with its SQLSTATE and detail) has no hint to reword.
        None if matches!(target.outcome, fleet::Outcome::Skipped) => {
            Some("not started: --fail-fast stopped the fleet after a failure".into())
        }
        Some(ShaleError::Pg(PgError::Migration { .. })) | None => target.error.clone(),
        Some(ShaleError::Plan(problems)) => Some(plan_texts(problems).join("; ")),
        Some(e) => Some(shale_text(e)),
    }
}

fn shale_text(error: &ShaleError) -> String {
    match error {
        ShaleError::Pg(e) => pg_text(e),
        ShaleError::LockLost { .. } => {
            format!("{error}. Run `shale status` to see where the database stands, then `shale up` again")
        }
        ShaleError::ForeignHistory { table, adoptable: true, .. } => format!(
            "{error}: run `shale adopt` to take that history over (nothing runs, {table} is left as it is), then \
             `shale up`. If that table belongs to something else and shale should run every migration here, record \
             that with `shale adopt --nothing`"
        ),
        ShaleError::ForeignHistory { .. } => format!(
            "{error}: record which of the migrations it has with `shale baseline VERSION` (with no migrations yet, \
             `shale baseline --from-database` writes the live schema as the first one), then `shale up`. If that \
             table belongs to another application and shale should run every migration here, record that with \
             `shale adopt --nothing`"
        ),
        ShaleError::TablesWithoutHistory { .. } => format!(
            "{error}. Nothing ran. Where another tool migrated it and its history table has another name, take \
             that history over: `shale adopt --from TOOL --table NAME`. Where it was built otherwise (an ORM's \
             create_all, by hand), record which migrations it holds with `shale baseline VERSION` (checked against \
             what they build), then `shale up` runs the rest. Where the migrations are meant to run over these \
             tables as they are, record that once with `shale adopt --nothing`"
        ),
        ShaleError::Adopt(problems) => adopt_texts(problems).join("\n"),
        ShaleError::NoForeignHistory { table: Some(_), .. } => error.to_string(),
        // A baseline row the tool wrote since ran nothing: where the database lacks their work,
        // that row goes and shale runs them; recording them as applied would skip them for good.
        // (Its `baseline` deletes its other rows: that row deleted, shale would read those taken
        // over as reverted; its table, only watched since the switch, goes instead.)
        ShaleError::AppliedByTheOtherTool { tool, table, migrations, marked_by_baseline: Some(_) } => format!(
            "{error}. Stop {tool} where it still runs; check whether the database holds what they build: if not, \
             {tool} no longer migrates this database: drop its table (`DROP TABLE {table}`; shale reads it only to \
             watch for {tool} running again) and run `shale up`, which runs them (`--allow-out-of-order` where \
             later ones are applied); if it does (they were applied by \
             hand), record each with `shale repair VERSION --applied --reason ...` ({})",
            migrations.iter().filter_map(|m| m.split(' ').next()).collect::<Vec<_>>().join(", ")
        ),
        ShaleError::FailedInAnotherRunner { .. } => format!(
            "{error}, where it would fail the same way. Fix it (`shale status` shows the failure), then run `shale \
             up` again"
        ),
        ShaleError::RequiredElsewhere { missing } => {
            let mut projects: Vec<&str> = missing.iter().map(|(_, project, _)| project.as_str()).collect();
            projects.dedup();
            format!(
                "{error}. Nothing ran, as `sqitch deploy` refuses it. Deploy {} first: `shale --dir DIR up` in the \
                 folder of its sqitch.plan, with a history table of its own (`history_table = \"shale_migrations_{}\"` \
                 in a shale.toml there: the history of one project is not another's), or `sqitch deploy` there; then \
                 run `shale up` here again",
                projects.join(" and "),
                projects[0]
            )
        }
        ShaleError::AppliedByTheOtherTool { tool, migrations, .. }
        | ShaleError::AppliedSinceTheBaseline { tool, migrations, .. } => format!(
            "{error}. Stop {tool}'s own migrate where it still runs (a deploy step, the application's start-up); \
             check that the database holds what each did, then record it with `shale repair VERSION --applied \
             --reason ...` ({}), and run `shale up` for the rest",
            migrations.iter().filter_map(|m| m.split(' ').next()).collect::<Vec<_>>().join(", ")
        ),
        ShaleError::FailedByTheOtherTool { tool, table, migrations } => {
            let (label, key) = &migrations[0];
            let version = label.split(' ').next().unwrap_or(label);
            format!(
                "{error}. Stop {tool}'s own migrate where it still runs ({}); check what the database holds of \
                 {label}: if nothing, {}, then run `shale up`; if part of it, finish it by hand (or undo it) first; \
                 if all of it, record it with `shale repair {version} --applied --reason ...` and clear {tool}'s row \
                 the same way",
                tool.where_it_runs(),
                tool.clear_failure(table, key)
            )
        }
        ShaleError::HistoryElsewhere { found, .. } => format!(
            "{error}. Run with the shale.toml that says where it is (`history_schema = \"{}\"`), or put that \
             there; to move the history instead, `CREATE SCHEMA` the new one if it is not there, then `ALTER TABLE \
             ... SET SCHEMA` the history and, where `lock = \"table\"` made one, its lease table (`_lock`)",
            found[0]
        ),
        ShaleError::HistoryExists { .. } => format!(
            "{error}. If this directory's migrations are a history apart from that one (the other tool kept a table \
             for each directory, as sql-migrate's TableName does), give them a table of their own: \
             `history_table = \"NAME\"` in this directory's shale.toml, then `shale adopt`"
        ),
        ShaleError::NoForeignHistory { tool: Some(_), .. } => format!("{error}; name it with --table if it was renamed"),
        // A tool that cannot be taken over: the way that works, at once (review: `--from alembic`
        // was advised, and then refused).
        ShaleError::NotItsHistory { theirs: Some(other), .. } if !other.migrations_are_sql() => format!(
            "{error}; they are {other}'s, whose migrations are {}: `shale baseline --from-database` starts from the \
             live schema, {other}'s table left out",
            other.migration_form().unwrap_or("code")
        ),
        ShaleError::NotItsHistory { theirs: Some(other), .. } => {
            format!("{error}; they are {other}'s: `--from {other}`, or no --from")
        }
        ShaleError::NotItsHistory { .. } => format!("{error}; name the tool that wrote it with --from"),
        ShaleError::NoForeignHistory { .. } => format!(
            "{error}; name it with --from TOOL --table NAME if it was renamed, or, for a database built without one \
             or by a tool whose migrations are code, see `shale baseline --from-database`"
        ),
        ShaleError::Interrupted { stopped: Some(stopped), .. } => {
            with_tail(&error.to_string(), Some(&stopped.to_string()), Some(stopped_text(stopped)))
        }
        ShaleError::ForeignHistories(found) => format!("{error}, and shale has none here yet: {}", take_over(found)),
        ShaleError::OtherToolLocked { lock_table, .. } => format!(
            "{error}. Wait for its run to end and run `shale adopt` again; where none runs (one crashed), check what \
             it left (`shale drift`), delete the row (`DELETE FROM {lock_table}`) and run `shale adopt` again"
        ),
        ShaleError::SeedsBeforeMigrations { .. } => {
            format!("{error}, so run `shale up` first (or `shale up --seed`)")
        }
        ShaleError::Repair(refusal) => match refusal {
            RepairRefusal::NoReason => "repair needs --reason: say what was decided and why, for the audit trail".into(),
            RepairRefusal::Healthy { version } => format!(
                "migration {version} is applied and its file is unchanged: recording it as rolled back makes the next \
                 `shale up` run it again, on a database where its changes are (unless you undid them by hand); if you \
                 did, add --force"
            ),
            RepairRefusal::NotPartWay { version, has_file } => format!(
                "--resume-at is for a migration that runs outside a transaction and stopped part-way; migration \
                 {version} {}",
                if *has_file { "runs in a transaction: it is applied whole or not at all" } else { "has no file" }
            ),
            RepairRefusal::ResumeOutOfRange { version, at, total } => format!(
                "--resume-at {at}: migration {version} has {total} statement(s); give 1 to {} ({} means all of them ran)",
                total + 1,
                total + 1
            ),
            RepairRefusal::EarlierPending { version, pending, before } => format!(
                "{pending} migration(s) before {version}, up to {before}, are not applied yet: with {version} recorded as \
                 applied they would be out of order. Apply them first with `shale up --to {before}`, then repair \
                 {version}; add --force if its work is done and theirs is too"
            ),
        },
        _ => error.to_string(),
    }
}

/// A problem in the migration files, with its hint in the CLI's words.
fn load_text(error: &LoadError) -> String {
    LoadError { hint: load_hint(error), ..error.clone() }.to_string()
}

/// Whether `text` names a file that by its name undoes another (`0044_x.rollback.sql`).
fn names_a_down(text: &str) -> bool {
    [".rollback.sql", ".undo.sql", ".revert.sql", ".downgrade.sql"].iter().any(|suffix| text.contains(suffix))
}

/// Whether `path` is one of db-migrate's SQL files (`-up.sql`, `-down.sql`) in its `sqls/` folder.
fn in_db_migrate_sqls(path: &std::path::Path) -> bool {
    let name = path.to_string_lossy();
    (name.ends_with("-up.sql") || name.ends_with("-down.sql"))
        && path.parent().and_then(|p| p.file_name()).is_some_and(|folder| folder == "sqls")
}

/// What to do about a problem in the migration files, in the CLI's words (its commands, flags and
/// shale.toml) where the library's leave them out.
fn load_hint(error: &LoadError) -> Option<String> {
    Some(match &error.kind {
        // db-migrate's up and down, in its `sqls/` given as the directory itself (review: the
        // advice below would have made the down a migration of its own; a `0003_scale-down.sql`
        // elsewhere is no db-migrate file: review).
        LoadProblem::DuplicateVersion if in_db_migrate_sqls(&error.path) => {
            "where these are db-migrate's up and down of one migration, point --dir at the folder that holds \
             `sqls/` (db-migrate's `migrations`), where they are read as a pair; given a version of its own, the \
             down would run as a migration"
                .into()
        }
        // yoyo's `X.rollback.sql` (a down by its name): a version of its own would run it as a
        // migration, dropping what `X` made (yoyo trial).
        LoadProblem::DuplicateVersion
            if names_a_down(&error.message) || names_a_down(&error.path.to_string_lossy()) =>
        {
            "where one undoes the other, it is its down: name the two `NAME.up.sql` and `NAME.down.sql`, as shale \
             reads a pair (given a version of its own, it would run as a migration)"
                .into()
        }
        LoadProblem::DuplicateVersion => "give one of them the next free version (`shale new` picks it)".into(),
        LoadProblem::Unreadable => "check the path given with --dir or `dir` in shale.toml".into(),
        LoadProblem::LinkOutside => {
            "copy the file into the directory, or point --dir at the directory it lives in".into()
        }
        LoadProblem::UnknownPlaceholder { name } if name.starts_with(':') => format!(
            "add it to shale.toml, under `[placeholders]`: `{} = \"VALUE\"`, the value the project's .gmrc gives \
             graphile-migrate (`\"!ENV\"`, as there, reads the environment variable of that name, or .env's); \
             :DATABASE_NAME and :DATABASE_OWNER graphile-migrate fills itself (the database's name, its owner), \
             shale does not",
            &name[1..]
        ),
        LoadProblem::UnknownPlaceholder { name } => {
            let key = shale_core::layout::placeholder_key(name);
            match shale_core::placeholders::flyway_fills(name) {
                Some(what) => format!(
                    "add it to shale.toml, under `[placeholders]`: `{key} = \"VALUE\"`: Flyway fills it in itself \
                     ({what}), shale does not"
                ),
                None => format!(
                    "add it to shale.toml, under `[placeholders]`: `{key} = \"VALUE\"`, the value Flyway had as \
                     flyway.placeholders.{name}; or, where each environment gives its own, set \
                     FLYWAY_PLACEHOLDERS_{} (or SPRING_FLYWAY_PLACEHOLDERS_{}) there; where Flyway ran with \
                     placeholder replacement off (placeholderReplacement=false) and the text is data, its own text: \
                     `{key} = \"${{{name}}}\"`",
                    name.to_ascii_uppercase(),
                    name.to_ascii_uppercase()
                ),
            }
        }
        LoadProblem::UnknownParameter { name } => format!(
            "set {name} in the environment (or .env), as Liquibase reads it there; or add it to shale.toml, under \
             `[placeholders]`: `{} = \"VALUE\"`, the value Liquibase is given for it (-D{name}=... or \
             spring.liquibase.parameters.{name}), or `{} = \"!ENV\"` to read a variable of that name",
            shale_core::layout::placeholder_key(name),
            shale_core::layout::placeholder_key(name)
        ),
        _ => return error.hint.clone(),
    })
}

/// `schema.table` as `--table` takes it, to paste into a shell: each part quoted as SQL quotes it
/// where it needs to be (`public."app.migrations_log"`), and the whole in single quotes where a
/// shell would split or expand it (re-check: `--table public.app.migrations_log` was advised, and
/// refused as a cross-database reference).
fn table_argument(shown: &str) -> String {
    let (schema, table) = shown.split_once('.').unwrap_or(("public", shown));
    let named = shale_core::ident::qualified(schema, table);
    match named.contains(|c: char| c == '"' || c == '$' || c.is_whitespace()) {
        true => format!("'{}'", named.replace('\'', "'\\''")),
        false => named,
    }
}

/// The commands that take over one of several other tools' histories: `adopt --from` each tool
/// (with `--table` where a tool has two), or a baseline where the tool's migrations are code.
pub(crate) fn take_over(found: &[shale_pg::foreign::ForeignTable]) -> String {
    let twice = |tool: Tool| found.iter().filter(|t| t.tool == tool).count() > 1;
    let mut adopt: Vec<String> = Vec::new();
    for t in found.iter().filter(|t| t.tool.migrations_are_sql()) {
        let command = match twice(t.tool) {
            true => format!("`shale adopt --from {} --table {}`", t.tool, table_argument(&t.display())),
            false => format!("`shale adopt --from {}`", t.tool),
        };
        if !adopt.contains(&command) {
            adopt.push(command);
        }
    }
    let mut ways = Vec::new();
    if !adopt.is_empty() {
        ways.push(format!("take over the one that migrated this database with {}", adopt.join(" or ")));
    }
    if found.iter().any(|t| !t.tool.migrations_are_sql()) {
        ways.push(
            "where that tool's migrations are code, start from the live schema with `shale baseline --from-database`"
                .to_string(),
        );
    }
    ways.join(", or, ")
}

/// Why another tool's history cannot be adopted, with the way out in the CLI's words.
fn adopt_text(problem: &AdoptProblem) -> String {
    match problem {
        AdoptProblem::Dirty { tool, table, version, before } => {
            // What `migrate force` writes, for a team that no longer has golang-migrate's CLI.
            let incomplete = match before {
                ..0 => format!("`DELETE FROM {table}`"),
                _ => format!("`UPDATE {table} SET version = {before}, dirty = false`"),
            };
            format!(
                "{problem}. Find out what it left, fix the database by hand, then clear the flag the way {tool} does: \
                 if it is complete, `migrate force {version}` (in SQL, `UPDATE {table} SET dirty = false`); if it is \
                 not, `migrate force {before}` (in SQL, {incomplete}); then run `shale adopt` again"
            )
        }
        AdoptProblem::Failed { tool, table, key, .. } => format!(
            "{problem}. Check it, repair the database, then {}, and run `shale adopt` again",
            tool.clear_failure(table, key)
        ),
        AdoptProblem::Changed { tool, table, .. } => format!(
            "{problem}: restore the file as it was applied, or, if the change is what the database holds, {}, then \
             run `shale adopt` again (or `shale adopt --accept-changed` to take every such file over as it is now)",
            tool.accept_change(table)
        ),
        AdoptProblem::NotSql { tool, table } => {
            // Under a name of its own, named: the baseline finds the tool's own name by itself.
            let named = match table.rsplit('.').next() == Some(tool.default_table()) {
                true => String::new(),
                false => format!(" --table {}", table_argument(table)),
            };
            format!(
                "{problem}: start shale's history from the live schema with `shale baseline --from-database{named}` \
                 (it leaves {table} out), then write new migrations in SQL"
            )
        }
        AdoptProblem::NoFile { tool, .. } => format!(
            "{problem}: restore the file (or point --dir at the directory {tool} used) before adopting, so that the \
             history stays complete; where the files were removed on purpose (a squash, as Prisma's docs describe \
             it), `shale adopt --accept-missing` takes such migrations over as applied with no file"
        ),
    }
}

/// Each adoption problem in the CLI's words; the versions the tool applied with no file here in
/// one message, the way out said once (re-check: openlane's paragraph came once per version).
fn adopt_texts(problems: &[AdoptProblem]) -> Vec<String> {
    let (no_file, rest): (Vec<&AdoptProblem>, Vec<&AdoptProblem>) =
        problems.iter().partition(|p| matches!(p, AdoptProblem::NoFile { .. }));
    let mut texts: Vec<String> = rest.into_iter().map(adopt_text).collect();
    match no_file.as_slice() {
        [] => {}
        [one] => texts.push(adopt_text(one)),
        [AdoptProblem::NoFile { tool, .. }, ..] => {
            let keys: Vec<&str> = no_file
                .iter()
                .filter_map(|p| match p {
                    AdoptProblem::NoFile { key, .. } => Some(key.as_str()),
                    _ => None,
                })
                .collect();
            let shown = first_ranges(&keys);
            let first = adopt_text(no_file[0]);
            let advice = first.split_once(": ").map_or("", |(_, advice)| advice);
            texts.push(format!(
                "{tool} applied migrations {shown}, and no file in the migrations directory has their versions: {advice}"
            ));
        }
        _ => {}
    }
    texts
}

/// The problems between the files and the history, each with the way out in the CLI's words;
/// the migrations with no down together, in one message where the first of them was, with the
/// way out said once (a down over 40 migrations of a directory without downs is one line).
fn plan_texts(problems: &[PlanError]) -> Vec<String> {
    // A change inserted early moves every one after it: one message (the Sqitch re-check: `up`
    // printed 110, none with the way out).
    let (moved, rest): (Vec<PlanError>, Vec<PlanError>) =
        problems.iter().cloned().partition(|p| matches!(p, PlanError::PlanMoved { .. }));
    if moved.len() > 1 {
        let mut texts = moved_texts(&moved);
        texts.extend(plan_texts(&rest));
        return texts;
    }
    let no_down: Vec<&str> = problems
        .iter()
        .filter_map(|p| match p {
            PlanError::NoDown { label, .. } => Some(label.split(' ').next().unwrap_or(label)),
            _ => None,
        })
        .collect();
    let missing: Vec<&str> = problems
        .iter()
        .filter_map(|p| match p {
            PlanError::Missing { version, .. } => Some(version.as_str()),
            _ => None,
        })
        .collect();
    if no_down.len() < 2 && missing.len() < 2 {
        return problems.iter().map(plan_text).collect();
    }
    let mut texts = Vec::new();
    let (mut said, mut said_missing) = (false, false);
    for p in problems {
        match p {
            PlanError::Missing { .. } if missing.len() < 2 => texts.push(plan_text(p)),
            PlanError::Missing { .. } if said_missing => {}
            PlanError::Missing { .. } => {
                said_missing = true;
                texts.push(format!(
                    "{} migrations are applied in the database but have no file in the migrations directory: {}; \
                     if it is not the directory this database was migrated from, point --dir (or `dir` in shale.toml) \
                     at that one, or, where each directory keeps a history of its own in this database, give this one \
                     its own `history_table` in shale.toml; else restore the files, or, removed on purpose, record them with `shale repair \
                     --all-missing --applied --reason ...` (or, their work undone, `--rolled-back`)",
                    missing.len(),
                    first_ranges(&missing)
                ))
            }
            PlanError::NoDown { .. } if no_down.len() < 2 => texts.push(plan_text(p)),
            PlanError::NoDown { .. } if said => {}
            PlanError::NoDown { .. } => {
                said = true;
                texts.push(format!(
                    "{} of the migrations to revert have no down migration, in their files or in the history: {}; \
                     `shale down --generate` computes their downs from the schemas before and after each migration \
                     (redo and goto have no --generate: revert with it, then `shale up`), \
                     or add them where the directory keeps downs in files of their own (.down.sql files, U files, \
                     down.sql in their folders), or revert them by hand and record each with `shale repair VERSION --rolled-back --reason ...`",
                    no_down.len(),
                    crate::output::version_ranges(&no_down)
                ))
            }
            _ => texts.push(plan_text(p)),
        }
    }
    texts
}

/// The versions as ranges, the first eight of them and how many more: a directory that is not
/// the one the database was migrated from misses every applied migration.
fn first_ranges(versions: &[&str]) -> String {
    let ranges = crate::output::version_ranges(versions);
    let runs: Vec<&str> = ranges.split(", ").collect();
    match runs.len() {
        0..=8 => ranges,
        n => format!("{}, and {} more", runs[..8].join(", "), n - 8),
    }
}

/// A problem between the files and the history, with the way out in the CLI's words.
/// What to say of `moved` (places a plan's change moved): the first with what to do, and how many
/// after it moved with it (a change inserted early moves every one after it).
pub(crate) fn moved_texts(moved: &[PlanError]) -> Vec<String> {
    let Some(first) = moved.first() else { return Vec::new() };
    let text = plan_text(first);
    let mut text = match first.hint() {
        Some(hint) if text == first.to_string() => format!("{text}; {hint}"),
        _ => text,
    };
    if moved.len() > 1 {
        text.push_str(&format!(" ({} more after it moved with it)", moved.len() - 1));
    }
    vec![text]
}

pub(crate) fn plan_text(problem: &PlanError) -> String {
    match problem {
        PlanError::Missing { version, in_its_file: true, .. } => format!(
            "{problem}; put it back in its file; or, if it was removed on purpose, `shale repair {version} --applied --reason ...` (it then counts as applied with no file); or, if its work was undone, `shale repair {version} --rolled-back --reason ...`"
        ),
        PlanError::Missing { version, .. } => format!(
            "{problem}; restore the file; or, if it was removed on purpose, `shale repair {version} --applied --reason ...` (it then counts as applied with no file); or, if its work was undone, `shale repair {version} --rolled-back --reason ...`"
        ),
        PlanError::OutOfOrder { under_baseline: None, liquibase: true, .. } => format!(
            "{problem}; give the contexts and label filter this database was migrated with (--contexts, \
             --label-filter), which leave it out; or, where it is to run here, run with --allow-out-of-order (a \
             `-- shale:out-of-order` line or a new file would change the changeset Liquibase knows)"
        ),
        PlanError::OutOfOrder { under_baseline: None, .. } => format!(
            "{problem}; run with --allow-out-of-order, or add `-- shale:out-of-order` to the file, or renumber it with `shale new`"
        ),
        PlanError::OutOfOrder { under_baseline: Some(_), .. } => format!(
            "{problem}; where no database ran it yet, give it a version above the baseline (rename it with the version `shale new` gives), so that every database runs it after the baseline's schema; where one did (with --allow-out-of-order), keep its version and run with --allow-out-of-order here too, since a renamed file would run there again"
        ),
        PlanError::NoDown { label, layout } => {
            let add = match layout.map(|l| (l, l.separate_down())) {
                // An SQL file Liquibase runs whole has no `--changeset` line of its own to put
                // rollback lines under (re-check: such lines read as comments).
                Some((shale_core::Layout::Liquibase, _)) if label.ends_with("includeAll:raw") => String::new(),
                Some((_, Some(file))) => format!(", or add {file}"),
                // The down would go in the file the databases recorded: generated it is.
                Some((_, None)) => String::new(),
                None => ", or add one (a .down.sql file or a U file)".to_string(),
            };
            format!(
                "{problem}; `shale down --generate` computes it from the schemas before and after the migration (redo and goto have no --generate: revert with it, then `shale up`){add}, or revert it by hand and record that with `shale repair {} --rolled-back --reason ...`",
                label.split(' ').next().unwrap_or("VERSION")
            )
        }
        PlanError::ResumeChanged { reverting: true, label, .. } => format!(
            "{problem}; restore them and run `shale down` again (it goes on where it stopped), or revert the rest by hand and record it with `shale repair {} --rolled-back --force --reason ...`",
            label.split(' ').next().unwrap_or("VERSION")
        ),
        PlanError::ResumeChanged { now_in_a_transaction: true, label, statement, .. } => {
            let version = label.split(' ').next().unwrap_or("VERSION");
            format!(
                "{problem}; put `-- shale:no-transaction` back (or the CONCURRENTLY that made it run outside one) \
                 and run `shale up`: it goes on at statement {}; or, where what ran was undone by hand, `shale \
                 repair {version} --rolled-back --reason ...` and `shale up` runs the file whole; or, where its work \
                 is all done by hand, `shale repair {version} --applied --reason ...`",
                statement + 1
            )
        }
        PlanError::ResumeChanged { .. } => {
            format!("{problem}; restore them, or decide with `shale repair` what the database holds")
        }
        PlanError::UnrunnableDown { version, path, .. } => {
            let with = match shale::core::layout::written_in(path) {
                "Go" if beside_up_files(path) => "bun's `Rollback`",
                "Go" => "goose's `down`",
                "Python" => "`yoyo rollback`",
                _ => "the tool it was written for",
            };
            format!(
                "{problem}: undo its work ({with}, or by hand), then record that with `shale repair {version} \
                 --rolled-back --reason ...`, and run `shale down` again for the rest"
            )
        }
        PlanError::Unrunnable { version, before, path } => {
            let with = match shale::core::layout::written_in(path) {
                "Go" if beside_up_files(path) => "with bun",
                "Go" => "with goose",
                _ => "with the tool it was written for",
            };
            let first = match before {
                Some(before) => format!("apply the migrations before it with `shale up --to {before}`, then "),
                None => String::new(),
            };
            format!(
                "{problem}: port it to SQL (a .sql file of the same version); or {first}do its work ({with}, or by \
                 hand), record it with `shale repair {version} --applied --reason ...` and run `shale up` for the rest"
            )
        }
        PlanError::InsideSquash { .. } => format!(
            "{problem}: apply the rest from the archived files with `shale up --from-archive DIR` (the folder `shale squash` moved them to), then the squash counts as applied"
        ),
        // A migration dropping the schema shale's history is in (Hasura's `DROP SCHEMA public
        // CASCADE`, applied long ago): the history can live elsewhere, the file stay as it is.
        PlanError::OwnTable { table, .. } if table.starts_with("schema ") => format!(
            "{problem}. Keep shale's history in a schema of its own, `history_schema = \"shale\"` in shale.toml \
             (before the first `shale up` or `shale adopt` on a database), or remove the statement"
        ),
        PlanError::OtherPlan { .. } => format!(
            "{problem}: give this directory a history table of its own, `history_table = \"NAME\"` in its shale.toml \
             (`shale adopt` then takes over what Sqitch or Liquibase deployed of these files)"
        ),
        PlanError::NotTheirDirectory { .. } => format!(
            "{problem}: name the directory they were applied from (`--dir DIR`, or `dir` in shale.toml); where their \
             files were removed on purpose, restore them first"
        ),
        PlanError::OwnTable { .. } => format!(
            "{problem}. Remove the statement; `shale repair` and `shale baseline` record decisions in the history"
        ),
        PlanError::UnwrittenDown { .. } => format!(
            "{problem}: write it first, or revert with `shale down --generate`, which computes it from the schemas"
        ),
        PlanError::BelowBaseline { baseline, .. } => format!(
            "{problem}; go down to {baseline} at most (`shale down --to {baseline}`); below it, restore a backup \
             taken before the baseline, or undo by hand what you need undone"
        ),
        PlanError::Modified { label, parameter: Some(name), .. } => format!(
            "{problem}; give ${{{name}}} the value it ran with (as Liquibase was given it, in the environment, or \
             among the placeholders); where the new value is meant and the database holds what it makes, record it \
             with `shale repair {} --applied --reason ...`",
            label.split(' ').next().unwrap_or(label)
        ),
        PlanError::Modified { label, in_comments_only: true, .. } => {
            format!("{problem}; {}", modified_in_comments_advice(label.split(' ').next().unwrap_or(label)))
        }
        PlanError::Modified { label, .. } => {
            format!("{problem}; {}", modified_advice(label.split(' ').next().unwrap_or(label)))
        }
        _ => problem.to_string(),
    }
}

/// What to do about an applied migration whose file changed in comments and white space only.
pub(crate) fn modified_in_comments_advice(version: &str) -> String {
    format!(
        "nothing of what ran differs: record the file as it is now with `shale repair {version} --applied --reason \
         \"comments only\"` (nothing runs), or restore it"
    )
}

/// What to do about an applied migration's changed file, as `up` and `validate` both say it: the
/// library's hint, then the repair where the change is already everywhere.
pub(crate) fn modified_advice(version: &str) -> String {
    format!(
        "{} (or, where the changed file is what every database has, `shale repair {version} --applied --reason ...`)",
        shale_core::plan::MODIFIED_HINT
    )
}

fn pg_text(error: &PgError) -> String {
    match error {
        PgError::Query { context, message, sqlstate } => format!(
            "{context}{}: {message}{}",
            match *context {
                fleet::TARGETS_QUERY => " (--targets-query)",
                fleet::SCHEMAS_QUERY => " (--schemas)",
                _ => "",
            },
            match sqlstate.as_deref() {
                // PgBouncer out of server connections for this database and user.
                _ if message.contains("query_wait_timeout") => " (hint: the pooler had no server connection free: each shale run holds two while it migrates, its session and the migration lock's; in session mode give the pool (default_pool_size) at least twice as many connections as the runs that start together, or start fewer; `--lock table` (a lease row) does not help there, as its heartbeat holds a connection of its own too; a pool of one connection cannot hold both: connect shale past the pooler)",
                // Another tool's history, which shale reads to tell what that tool applied (review:
                // the hint below sent the user to shale's own history schema).
                Some("42501") if context.contains(shale_pg::foreign::OTHER_TOOLS_HISTORY) =>
                " (hint: the user needs SELECT on that tool's history table (`GRANT SELECT ON TABLE schema.table TO role`), which shale reads to tell what the tool applied; or run as a user that may read it)",
                // Of shale's own tables (its history, the lock's lease table beside it).
                Some("42501")
                    if ["history", "recording", "migration lock", "migration lease"].iter().any(|w| context.contains(w)) =>
                " (hint: the user needs USAGE and CREATE on the history schema, and, where another user made shale's tables there, their privileges (GRANT ... ON the history table); or set history_schema in shale.toml to a schema it owns)",
                Some("42501") => " (hint: the user lacks a privilege this needs; grant it, or run as a user that has it)",
                Some("3F000") => " (hint: create the schema, or set history_schema in shale.toml)",
                // The server is a standby (or in a read-only transaction by default).
                Some("25006") => " (hint: this server, or this user's session, is read-only: a standby in recovery (point at the primary, or with several hosts add target_session_attrs=read-write to the URL; `status`, `drift` and `dump` work on a standby), or default_transaction_read_only set on for this role or database (ALTER ROLE ... RESET default_transaction_read_only, or ALTER DATABASE ... RESET default_transaction_read_only))",
                _ => "",
            }
        ),
        PgError::LockTimeout { holder, .. } => format!(
            "{error}: wait for it, or raise --migration-lock-wait (migration_lock_wait in shale.toml){}",
            holder.as_deref().map(|h| format!("; {}", h.if_gone())).unwrap_or_default()
        ),
        PgError::LockLost => format!("{error}. Check the server log, then run `shale status` and `shale up` again"),
        PgError::LockBlocked { label, waited, blockers } => {
            // A session idle in a transaction has no query to cancel: only --terminate ends it.
            let idle: Vec<String> = blockers
                .iter()
                .filter(|b| b.idle_in_transaction())
                .map(|b| format!("pid {}", b.pid))
                .collect();
            let end = match idle.is_empty() {
                true => "`--cancel-blockers-after 30s` cancels their queries, and with `--terminate` also ends sessions \
                         idle in a transaction"
                    .to_string(),
                false => format!(
                    "{} idle in a transaction, with no query a cancel reaches: `--cancel-blockers-after 30s --terminate` \
                     ends such sessions",
                    idle.join(", ")
                ),
            };
            format!(
                "migration {label}: its tables were held for the {:.1}s shale waits (--lock-wait-max), so the \
                 statement that needs them was not run{}\nRun it again when they are done; where they never are (steady \
                 writes to the table), `--lock-acquire queue --session-lock-timeout 500ms` tries under the traffic, \
                 each try holding it up at most that long; or have shale end them: {end}",
                waited.as_secs_f64(),
                shale_pg::error::held_by(blockers)
            )
        }
        PgError::OutsideOneTransaction { label, path, reason } => format!(
            "{}: migration {label} must run outside a transaction ({reason}), so it cannot be part of \
             --single-transaction",
            path.display()
        ),
        PgError::AdvisoryThroughPooler(evidence) => format!(
            "lock = \"advisory\" holds its lock in an open transaction, which this connection refuses ({evidence}); \
             use lock = \"table\" (or --lock table) through a statement-mode pooler"
        ),
        PgError::ConnectionLost { label, reason, outcome } => {
            format!("the connection was lost while migration {label} ran ({reason}): {}", lost_text(outcome))
        }
        PgError::InDoubt { label, statement, reverting, running, .. } => match (running, reverting) {
            (Some(pid), _) => format!(
                "{error}; wait for it to end (or cancel it with SELECT pg_cancel_backend({pid})), then run `shale {}` \
                 again",
                if *reverting { "down" } else { "up" }
            ),
            (None, true) => format!(
                "{error}. Look whether its effect is there, then revert by hand what is left of the down (from \
                 statement {} if it ran, from statement {statement} if it did not) and record it with `shale repair \
                 {} --rolled-back --force --reason ...`",
                statement + 1,
                label.split(' ').next().unwrap_or("VERSION")
            ),
            (None, false) => {
                let version = label.split(' ').next().unwrap_or("VERSION");
                format!(
                "{error}. Look whether its effect is there, then record what you found: `shale repair {version} \
                 --resume-at {} --reason ...` if it ran, or `shale repair {version} --resume-at {statement} --reason \
                 ...` if it did not; `shale up` then continues from there",
                statement + 1
            )
            }
        },
        _ => error.to_string(),
    }
}

/// What a stop did to the running migration, in the CLI's words: the command that resumes a
/// backfill, and the CLI's remedy in place of the library's for a migration cancelled part-way.
fn stopped_text(stopped: &Stopped) -> String {
    match stopped {
        Stopped::Waiting(InterruptedWait::BetweenBatches { label, updated, .. }) => format!(
            "the backfill of {label} stopped between batches ({updated} row(s) updated by this run, each batch \
             committed): `shale up` resumes at the next batch"
        ),
        // This run's own stop cancelled the statement: nothing to fix, and no other session to
        // blame (the library's remedy for a cancelled statement says another session did it).
        Stopped::Cancelled { label, failure } if !failure.rolled_back => {
            let done = failure.part_way.as_ref().map_or(0, |p| p.done);
            let ran = match done {
                0 => String::new(),
                n => format!("statements 1 to {n} ran and are recorded; "),
            };
            let index = failure.statement.as_deref().and_then(shale_core::rerun::concurrent_index_name);
            let index = index
                .map(|i| format!(" (the INVALID index {i} the stopped build left is dropped first)"))
                .unwrap_or_default();
            let verb = if failure.reverting { "down" } else { "up" };
            // A constraint its ADD put in force, its VALIDATE not run (said with what to do).
            let not_valid = match failure.part_way.as_ref().and_then(|p| p.not_valid.as_ref()) {
                Some(left) => format!("; {}", left.words()),
                None => String::new(),
            };
            format!(
                "migration {label} was stopped part-way by this run's stop (it runs outside a transaction): {ran}\
                 statement {} was cancelled; `shale {verb}` goes on from it{index}{not_valid}",
                done + 1
            )
        }
        _ => stopped.to_string(),
    }
}

/// `text`, which ends with the library's words `library`, with the CLI's `cli` in their place
/// (`text` as it is when either is missing).
fn with_tail(text: &str, library: Option<&str>, cli: Option<String>) -> String {
    match (library.and_then(|l| text.strip_suffix(l)), cli) {
        (Some(head), Some(cli)) => format!("{head}{cli}"),
        _ => text.to_string(),
    }
}

/// What is known of a migration whose connection went away, in the CLI's words (the command that
/// checks).
fn lost_text(outcome: &LostOutcome) -> String {
    let command = |reverting: bool| if reverting { "down" } else { "up" };
    match outcome {
        LostOutcome::CommitUnknown => "whether its transaction committed is unknown (it did if `shale status` shows \
             it applied; otherwise it was rolled back whole)"
            .into(),
        LostOutcome::Unrecorded { ran, reverting } => format!(
            "statements 1 to {ran} ran; statement {ran} may not be recorded yet: the next `shale {}` checks before \
             running anything again",
            command(*reverting)
        ),
        LostOutcome::StatementUnknown { statement, reverting } => format!(
            "{}whether statement {statement} ran is unknown: the next `shale {}` checks before running it again",
            shale_pg::error::ran_before(*statement),
            command(*reverting)
        ),
    }
}

/// A failed migration's advice in the CLI's words: the library's remedy for its SQLSTATE, with
/// the CLI's flags and commands where they are the way out, then how to go on for a migration that
/// stopped part-way.
fn failure_remedy(f: &DbFailure) -> Option<String> {
    // A CONCURRENTLY statement (or the drop of the INVALID index an earlier build left, before it)
    // waits for the transactions older than it up to --lock-wait-max, not the file's lock_timeout.
    let concurrently = f.statement.as_deref().is_some_and(shale_core::locks::waits_for_older_transactions);
    let known = match f.sqlstate.as_str() {
        "55P03" if concurrently => Some(
            "a CONCURRENTLY statement waits for the transactions older than it (a long report), and for the drop of \
             an INVALID index an earlier build left, up to --lock-wait-max (`lock_wait_max` in shale.toml): run it \
             again once they have ended (`pg_stat_activity` names them), or raise --lock-wait-max"
                .to_string(),
        ),
        // Through a pooler that drops the settings sent at connect, a CONCURRENTLY statement runs
        // with the role's: the flag cannot reach it (operator trial).
        "57014" if f.message.contains("statement timeout") && concurrently => Some(
            "the statement ran past statement_timeout; raise it with `-- shale:statement-timeout=...` or \
             --statement-timeout; through a pooler that drops the settings sent when connecting (PgBouncer), \
             neither reaches a CONCURRENTLY statement, which runs with the role's and the database's own: run it \
             over a direct connection to the server, or clear the statement_timeout of the role that migrates"
                .to_string(),
        ),
        "57014" if f.message.contains("statement timeout") => Some(
            "the statement ran past statement_timeout; raise it with `-- shale:statement-timeout=...` or \
             --statement-timeout"
                .to_string(),
        ),
        "42P07" | "42701" | "42710" | "42P06" | "42723" => Some(format!(
            "the object already exists: the database was changed outside shale (by hand, or by another tool). If \
             that change is this migration's whole work (another tool ran this very migration after the switch), \
             record it with `shale repair VERSION --applied --reason ...`; otherwise make the migration allow it \
             (IF NOT EXISTS) or remove the object first; where another migration tool built the database, with its \
             history table under a name of its own, take that over with `shale adopt --from TOOL --table NAME`{}",
            // Outside a transaction, the other tool may have run part of it (goose failing
            // half-way records nothing): the statements whose work is there are recorded so.
            match &f.part_way {
                Some(p) if !f.reverting => format!(
                    "; if it ran part of it (the file runs outside a transaction, statement by statement), \
                     `shale repair {} --resume-at N --reason ...` records the statements before N as run",
                    p.version
                ),
                _ => String::new(),
            }
        )),
        "42P01" => match history_table_named(&f.message) {
            Some((name, tools)) => Some(format!(
                "the migration refers to {name}, the history table {} keeps: that tool made it on the databases it \
                 migrated, shale does not (it keeps its own history), so a database shale starts has none. {}",
                Tool::listed(&tools, "or"),
                tool_table_remedy(name, &tools)
            )),
            None => shale_pg::error::remedy(&f.sqlstate, &f.message),
        },
        // The session ended under the statement (the live re-check: "fix the failing statement",
        // for a statement nothing was wrong with).
        "57P01" | "57P02" | "57P03" => Some(
            "the server ended the session (pg_terminate_backend, a restart, a failover): nothing is wrong with the \
             statement"
                .to_string(),
        ),
        _ => shale_pg::error::remedy(&f.sqlstate, &f.message),
    };
    let Some(part_way) = &f.part_way else { return known };
    let mut resume = part_way_text(part_way, f.reverting);
    if f.sqlstate.starts_with("57P0") {
        resume = resume.replace("fix the failing statement and run", "run").replace("fix the statement and run", "run");
    }
    Some(match known {
        Some(known) => format!("{known}; {resume}"),
        None => resume,
    })
}

/// What of a migration that runs outside a transaction stays, and the command that goes on.
fn part_way_text(p: &PartWay, reverting: bool) -> String {
    let done = p.done;
    let text = match (reverting, done) {
        (true, 0) => "nothing of the down ran (it runs outside a transaction, statement by statement), and the \
             migration stays applied: fix the statement and run `shale down` again"
            .to_string(),
        (true, _) => format!(
            "the down runs outside a transaction: statements 1 to {done} of it ran, and the migration stays \
             recorded as applied; fix the failing statement and run `shale down` again to go on at statement {}, \
             or revert the rest by hand and record it with `shale repair {} --rolled-back --force --reason ...`",
            done + 1,
            p.version
        ),
        (false, _) if p.backfill => format!(
            "statement {} is a batched backfill: the batches that committed are kept, and `shale up` resumes at \
             the next one",
            done + 1
        ),
        (false, 0) => "nothing of this file was applied (it runs outside a transaction, statement by statement): \
             fix the statement and run `shale up` again"
            .to_string(),
        (false, _) => format!(
            "statements 1 to {done} of this file are applied and recorded: fix the failing statement and run `shale \
             up` again to resume at statement {}",
            done + 1
        ),
    };
    p.with_what_is_left(text)
}

fn render_failure(label: &str, f: &DbFailure) -> String {
    let title = format!("{}{label} failed: {}", shale_pg::error::what_failed(f, label), f.message);
    // A Flyway callback runs after the migrations it follows committed (re-check: said to have
    // rolled back a migration that stayed applied).
    let note = match label.starts_with("the Flyway callback ") {
        true => "the callback's transaction was rolled back; the migrations this run applied stay applied, and the \
                 callbacks after it did not run: fix it, then `shale up` runs the beforeMigrate and afterMigrate \
                 callbacks again, but an afterMigrateApplied one only at the next `up` that applies a migration (run \
                 its SQL by hand until then)\n"
            .to_string(),
        false => rolled_back_note(f),
    };
    render_failure_as(&title, f, failure_remedy(f).as_deref(), &note)
}

/// A failed statement under `title`, with the server's notes, where it failed, `remedy` as help,
/// and `closing` after it. A replay's failure has its own advice, not the remedy of a failed `up`.
fn render_failure_as(title: &str, f: &DbFailure, remedy: Option<&str>, closing: &str) -> String {
    let sqlstate = format!("SQLSTATE {}", f.sqlstate);
    let mut footers = vec![Level::Note.title(&sqlstate)];
    let detail = f.detail.as_ref().map(|d| format!("detail: {d}"));
    let hint = f.hint.as_ref().map(|h| format!("server hint: {h}"));
    // The server's context is a line per frame (a statement, the function running it, ...): kept
    // as lines, which the note aligns.
    let context = f.context.as_ref().map(|c| format!("context: {}", c.trim_end()));
    for extra in [&detail, &hint, &context].into_iter().flatten() {
        footers.push(Level::Note.title(extra));
    }
    if let Some(remedy) = remedy {
        footers.push(Level::Help.title(remedy));
    }
    let renderer = if anstream::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let origin;
    let message = match &f.location {
        Some(loc) => {
            origin = loc.path.display().to_string();
            let col_byte = loc
                .line_text
                .char_indices()
                .nth(loc.column.saturating_sub(1))
                .map(|(i, _)| i)
                .unwrap_or(loc.line_text.len());
            let end = loc.line_text[col_byte..].chars().next().map(|c| col_byte + c.len_utf8()).unwrap_or(col_byte);
            let snippet = Snippet::source(&loc.line_text)
                .line_start(loc.line)
                .origin(&origin)
                .annotation(Level::Error.span(col_byte..end.max(col_byte)).label("here"));
            let rendered = renderer.render(Level::Error.title(title).snippet(snippet).footers(footers)).to_string();
            return format!("{rendered}\n{closing}");
        }
        None => Level::Error.title(title).footers(footers),
    };
    let mut s = renderer.render(message).to_string();
    if let Some(statement) = &f.statement {
        s.push_str(&format!("\nin statement:\n  {}\n", statement.replace('\n', "\n  ")));
    }
    s.push('\n');
    s.push_str(closing);
    s
}

fn rolled_back_note(f: &DbFailure) -> String {
    match (f.rolled_back, f.reverting) {
        (true, false) if !f.rolled_back_with.is_empty() => format!(
            "the batch's transaction was rolled back: nothing of it was applied, {} with it (pending again); later \
             migrations did not run\n",
            crate::output::and_listed(&f.rolled_back_with)
        ),
        (true, false) => {
            "the migration's transaction was rolled back: nothing of it was applied; later migrations did not run\n".into()
        }
        (true, true) => "the down's transaction was rolled back: the migration stays applied, and the migrations before it were not reverted\n".into(),
        (false, _) => String::new(),
    }
}

/// A failed migration's --json shape: the library's fields, its remedy in the CLI's words.
fn failure_json(failure: &DbFailure) -> serde_json::Value {
    let mut value = serde_json::to_value(failure).unwrap_or_default();
    value["remedy"] = serde_json::json!(failure_remedy(failure));
    value
}

/// The --json shape of an error.
pub fn to_json(error: &anyhow::Error) -> serde_json::Value {
    let code = exit_code(error);
    let mut value = serde_json::json!({ "ok": false, "exit_code": code, "message": message(error) });
    // What the error came of, which the text output shows under it: the JSON (and an application's
    // exception, made of it) lost it (FastAPI trial: "starting a throwaway PostgreSQL", and not
    // that its binaries were missing).
    // (A context's causes only: shale's own errors say theirs in their text.)
    let outer = error.chain().next();
    let context =
        outer.is_some_and(|e| e.downcast_ref::<ShaleError>().is_none() && e.downcast_ref::<PgError>().is_none());
    let causes: Vec<String> = if context { error.chain().skip(1).map(text).collect() } else { Vec::new() };
    if !causes.is_empty() {
        value["message"] = serde_json::json!(format!("{}: {}", message(error), causes.join(": ")));
        value["causes"] = serde_json::json!(causes);
    }
    match error.downcast_ref::<ShaleError>() {
        Some(ShaleError::Load(errors)) => {
            value["problems"] = errors
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "path": e.path, "line": e.position.map(|p| p.0), "column": e.position.map(|p| p.1),
                        "message": e.message, "hint": load_hint(e),
                    })
                })
                .collect();
        }
        Some(ShaleError::Unsafe(refusal)) => {
            value["problems"] = refusal
                .problems
                .iter()
                .map(
                    |p| serde_json::json!({ "path": p.path, "line": p.line, "column": p.column, "message": p.message }),
                )
                .collect();
        }
        Some(ShaleError::Plan(errors)) => {
            // The problems in the message too: an application logs `message` (the Python and Node
            // packages' error), and "1 problem(s)" alone names neither the file nor what to do.
            value["message"] = serde_json::json!(format!("{}: {}", message(error), plan_texts(errors).join("; ")));
            value["problems"] = errors
                .iter()
                .map(|e| {
                    let (path, at) = e.place();
                    serde_json::json!({
                        "message": plan_text(e), "path": path, "line": at.map(|a| a.0), "column": at.map(|a| a.1),
                    })
                })
                .collect();
        }
        Some(ShaleError::Pg(PgError::Migration { label, failure })) => {
            value["migration"] = serde_json::json!(label);
            value["failure"] = failure_json(failure);
        }
        None if error.downcast_ref::<ReplayFailed>().is_some() => {
            let replay = error.downcast_ref::<ReplayFailed>().expect("checked above");
            value["migration"] = serde_json::json!(replay.label);
            value["failure"] = failure_json(&replay.failure);
            value["replay"] = serde_json::json!(true);
        }
        Some(ShaleError::Pg(PgError::ConnectionLost { label, outcome, .. })) => {
            value["migration"] = serde_json::json!(label);
            value["outcome"] = serde_json::json!(lost_text(outcome));
        }
        Some(ShaleError::Pg(PgError::InDoubt { label, path, statement, .. })) => {
            value["migration"] = serde_json::json!(label);
            value["path"] = serde_json::json!(path);
            value["statement"] = serde_json::json!(statement);
        }
        Some(ShaleError::Pg(PgError::LockBlocked { label, blockers, waited })) => {
            value["migration"] = serde_json::json!(label);
            value["blockers"] = serde_json::json!(blockers);
            value["waited_ms"] = serde_json::json!(waited.as_millis() as u64);
        }
        Some(ShaleError::LockLost { applied, stopped, .. }) => {
            value["applied"] = serde_json::json!(applied);
            value["stopped"] = serde_json::json!(stopped);
        }
        Some(ShaleError::Interrupted { applied, stopped }) => {
            value["applied"] = serde_json::json!(applied);
            value["stopped"] = serde_json::json!(stopped.as_ref().map(stopped_text));
        }
        _ => {}
    }
    value
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_table_is_advised_as_a_shell_takes_it() {
        assert_eq!(table_argument("public.migrations"), "public.migrations");
        assert_eq!(table_argument("public.app.migrations_log"), r#"'public."app.migrations_log"'"#);
        assert_eq!(table_argument("public.Kellnr Migrations"), r#"'public."Kellnr Migrations"'"#);
        assert_eq!(table_argument("app.it's"), r#"'app."it'\''s"'"#);
    }

    use std::time::Duration;

    use shale_pg::{LeaseInfo, LockHolder};

    use super::*;

    fn holder(lease: Option<LeaseInfo>) -> Option<Box<LockHolder>> {
        Some(Box::new(LockHolder {
            pid: 42,
            application_name: "shale".into(),
            user: "app".into(),
            client: "10.0.0.1".into(),
            since: "12:00".into(),
            lease,
        }))
    }

    /// A failure the server reported for a statement rolled back with its transaction, as a test's base.
    fn db_failure(sqlstate: &str, message: &str) -> DbFailure {
        DbFailure { rolled_back: true, ..DbFailure::new(sqlstate, message) }
    }

    #[test]
    fn lock_timeout_names_the_flag_and_the_key() {
        let e = PgError::LockTimeout { waited: Duration::from_secs(5), holder: holder(None) };
        let text = pg_text(&e);
        assert!(text.starts_with("could not get the migration lock within 5s; it is held by "), "{text}");
        assert!(
            text.ends_with(
                "; another shale is migrating this database: wait for it, or raise --migration-lock-wait \
                 (migration_lock_wait in shale.toml); if pid 42 is a runner that hangs, end it with \
                 SELECT pg_terminate_backend(42)"
            ),
            "{text}"
        );
        assert!(!e.to_string().contains("--") && !e.hint().unwrap().contains("--"), "{e}");
        let e = PgError::LockTimeout { waited: Duration::from_secs(5), holder: None };
        assert_eq!(
            pg_text(&e),
            "could not get the migration lock within 5s; another shale is migrating this database: wait for it, \
             or raise --migration-lock-wait (migration_lock_wait in shale.toml)"
        );
    }

    #[test]
    fn query_hints_name_shale_toml_and_fleet_flags() {
        let e =
            PgError::Query { context: "reading the history", message: "denied".into(), sqlstate: Some("42501".into()) };
        assert_eq!(
            pg_text(&e),
            "reading the history: denied (hint: the user needs USAGE and CREATE on the history schema, and, where \
             another user made shale's tables there, their privileges (GRANT ... ON the history table); or set \
             history_schema in shale.toml to a schema it owns)"
        );
        assert_eq!(e.to_string(), "reading the history: denied");
        let e = PgError::Query {
            context: "reading the migration history",
            message: "cannot execute LOCK TABLE during recovery".into(),
            sqlstate: Some("25006".into()),
        };
        assert!(pg_text(&e).contains("a standby in recovery (point at the primary"), "{}", pg_text(&e));
        assert!(pg_text(&e).contains("default_transaction_read_only"), "{}", pg_text(&e));
        let e = PgError::Query {
            context: "taking the migration lock",
            message: "query_wait_timeout".into(),
            sqlstate: Some("08P01".into()),
        };
        assert!(pg_text(&e).contains("each shale run holds two while it migrates"), "{}", pg_text(&e));
        let e = PgError::Query { context: fleet::TARGETS_QUERY, message: "syntax error".into(), sqlstate: None };
        assert_eq!(pg_text(&e), "running the targets query (--targets-query): syntax error");
    }

    #[test]
    fn lock_blocked_and_lock_lost_name_the_flags_and_commands() {
        let e = PgError::LockBlocked { label: "002 add".into(), waited: Duration::from_millis(1500), blockers: vec![] };
        assert_eq!(
            pg_text(&e),
            "migration 002 add: its tables were held for the 1.5s shale waits (--lock-wait-max), so the statement \
             that needs them was not run\nRun it again when they are done; where they never are (steady writes to \
             the table), `--lock-acquire queue --session-lock-timeout 500ms` tries under the traffic, each try \
             holding it up at most that long; or have shale end them: \
             `--cancel-blockers-after 30s` cancels their queries, and with `--terminate` also ends sessions idle in a \
             transaction"
        );
        // A session idle in a transaction has no query to cancel: --terminate is named for it.
        let idle = shale_pg::lockwait::Blocker {
            pid: 21449,
            application_name: "console".into(),
            state: "idle in transaction".into(),
            transaction_ms: Some(3200),
            query: "SELECT 1".into(),
            relation: "orders".into(),
            mode: "AccessShareLock".into(),
            role: "app".into(),
        };
        let e = PgError::LockBlocked { label: "002 add".into(), waited: Duration::from_secs(2), blockers: vec![idle] };
        assert!(
            pg_text(&e).ends_with(
                "pid 21449 idle in a transaction, with no query a cancel reaches: `--cancel-blockers-after 30s \
                 --terminate` ends such sessions"
            ),
            "{}",
            pg_text(&e)
        );
        assert!(pg_text(&PgError::LockLost).ends_with(
            "another runner may be migrating now. Check the server log, then run `shale status` and `shale up` again"
        ));
        let e = ShaleError::LockLost { applied: vec![], stopped: None, outside_transaction: false };
        assert!(shale_text(&e).ends_with(
            "; nothing was recorded. Run `shale status` to see where the database stands, then `shale up` again"
        ));
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(!e.to_string().contains("shale up"));
    }

    #[test]
    fn plan_problems_name_the_flags_and_commands() {
        let e = PlanError::OutOfOrder {
            label: "2 b".into(),
            path: "m/2_b.sql".into(),
            newest: "3".into(),
            under_baseline: None,
            liquibase: false,
        };
        assert_eq!(
            plan_text(&e),
            "m/2_b.sql: pending migration 2 b is older than the newest applied version 3; run with \
             --allow-out-of-order, or add `-- shale:out-of-order` to the file, or renumber it with `shale new`"
        );
        let e = PlanError::NoDown { label: "0007 add users".into(), layout: Some(shale_core::Layout::UpDownPair) };
        assert_eq!(
            plan_text(&e),
            "migration 0007 add users has no down migration, in its files or in the history; `shale down --generate` \
             computes it from the schemas before and after the migration (redo and goto have no --generate: revert \
             with it, then `shale up`), or add its .down.sql file, or revert it by hand and record that with `shale \
             repair 0007 --rolled-back --reason ...`"
        );
        // A down in the up's own file would change what the databases recorded: not offered.
        let e = PlanError::NoDown { label: "0007 add users".into(), layout: Some(shale_core::Layout::Tern) };
        assert!(!plan_text(&e).contains(", or add"), "{}", plan_text(&e));
        let e = PlanError::Modified {
            label: "1 a".into(),
            path: "m/1_a.sql".into(),
            in_comments_only: false,
            parameter: None,
        };
        assert_eq!(
            plan_text(&e),
            "m/1_a.sql: migration 1 a was changed after it was applied (its checksum differs from the history); \
             restore the file, or put the change in a new migration (or, where the changed file is what every \
             database has, `shale repair 1 --applied --reason ...`)"
        );
    }

    #[test]
    fn a_stopped_migration_names_the_commands_the_library_leaves_out() {
        let failure = |sqlstate: &str, message: &str, part_way: Option<PartWay>, reverting: bool| DbFailure {
            rolled_back: part_way.is_none(),
            reverting,
            part_way,
            ..db_failure(sqlstate, message)
        };
        let at = |done: usize| {
            Some(PartWay { done, backfill: false, version: "2".into(), not_valid: None, invalid_index: None })
        };
        assert_eq!(
            failure_remedy(&failure("23505", "duplicate key", at(1), false)).unwrap(),
            "existing rows violate the new rule: fix the data first in this or an earlier migration; statements 1 to \
             1 of this file are applied and recorded: fix the failing statement and run `shale up` again to resume at \
             statement 2"
        );
        assert_eq!(
            failure_remedy(&failure("XX000", "boom", at(1), true)).unwrap(),
            "the down runs outside a transaction: statements 1 to 1 of it ran, and the migration stays recorded as \
             applied; fix the failing statement and run `shale down` again to go on at statement 2, or revert the \
             rest by hand and record it with `shale repair 2 --rolled-back --force --reason ...`"
        );
        assert!(failure_remedy(&failure("XX000", "boom", at(0), false)).unwrap().ends_with("run `shale up` again"));
        let backfill =
            Some(PartWay { done: 3, backfill: true, version: "2".into(), not_valid: None, invalid_index: None });
        assert!(failure_remedy(&failure("XX000", "boom", backfill, false)).unwrap().contains("`shale up` resumes"));
        assert_eq!(failure_remedy(&failure("XX000", "boom", None, false)), None);
        let mut cancelled = failure("57014", "canceling statement due to user request", at(1), false);
        let library = format!(
            "{}; {}",
            shale_pg::error::remedy("57014", "canceling statement due to user request").unwrap(),
            at(1).unwrap().advice(false)
        );
        cancelled.remedy = Some(library.clone());
        let e = ShaleError::Interrupted {
            applied: vec![],
            stopped: Some(Stopped::Cancelled { label: "2 x".into(), failure: Box::new(cancelled) }),
        };
        assert!(e.to_string().ends_with(&format!("was cancelled part-way (it runs outside a transaction): {library}")));
        assert!(!e.to_string().contains("shale up"), "{e}");
        // This run's own stop cancelled it: nothing to fix, no other session to blame.
        assert!(
            shale_text(&e).ends_with(
                "migration 2 x was stopped part-way by this run's stop (it runs outside a transaction): statements 1 \
                 to 1 ran and are recorded; statement 2 was cancelled; `shale up` goes on from it"
            ),
            "{}",
            shale_text(&e)
        );
        assert!(!shale_text(&e).contains("another session"), "{}", shale_text(&e));
        assert!(message(&e.into()).contains("was stopped part-way by this run's stop"));
        let between = InterruptedWait::BetweenBatches { label: "3 fill".into(), batches: 4, updated: 400 };
        let e = ShaleError::Interrupted { applied: vec!["2 x".into()], stopped: Some(Stopped::Waiting(between)) };
        assert_eq!(
            shale_text(&e),
            "interrupted; applied and committed before that: 1 migration(s), 2 x; the backfill of 3 fill stopped \
             between batches (400 row(s) updated by this run, each batch committed): `shale up` resumes at the next \
             batch"
        );
        assert!(e.to_string().ends_with("committed): migrating again resumes at the next batch"), "{e}");
        assert_eq!(
            to_json(&e.into())["stopped"],
            "the backfill of 3 fill stopped between batches (400 row(s) updated by this run, each batch committed): \
             `shale up` resumes at the next batch"
        );
        let before = InterruptedWait::BeforeStart { label: "3 fill".into(), blockers: 2 };
        let e = ShaleError::Interrupted { applied: vec![], stopped: Some(Stopped::Waiting(before)) };
        assert_eq!(shale_text(&e), e.to_string());
        assert_eq!(exit_code(&e.into()), EXIT_INTERRUPTED);
        let timeout = failure("57014", "canceling statement due to statement timeout", None, false);
        assert!(failure_remedy(&timeout).unwrap().ends_with("or --statement-timeout"));
        let exists = failure("42P07", "relation \"t\" already exists", None, false);
        assert!(failure_remedy(&exists)
            .unwrap()
            .contains("record it with `shale repair VERSION --applied --reason ...`; otherwise"));
        // A CONCURRENTLY statement out of time waits by --lock-wait-max, not the file's lock_timeout
        // (the second live re-check: the directive it named changed nothing).
        let mut concurrently = failure("55P03", "canceling statement due to lock timeout", at(0), false);
        concurrently.statement = Some("CREATE INDEX CONCURRENTLY i ON t (x)".into());
        let remedy = failure_remedy(&concurrently).unwrap();
        assert!(remedy.contains("--lock-wait-max") && !remedy.contains("shale:lock-timeout"), "{remedy}");
        // A session the server ended: nothing to fix in the statement (live re-check).
        let ended = failure("57P01", "terminating connection due to administrator command", at(1), false);
        let remedy = failure_remedy(&ended).unwrap();
        assert!(remedy.contains("nothing is wrong with the statement") && !remedy.contains("fix the"), "{remedy}");
        // Outside a transaction, another tool may have run part of it (goose trial).
        let part_way = failure("42P07", "relation \"t\" already exists", at(0), false);
        assert!(failure_remedy(&part_way).unwrap().contains("`shale repair 2 --resume-at N --reason ...`"));
        // The library's own words (its remedy, a part-way stop's advice) name no command and no flag.
        for (sqlstate, message) in [
            ("57014", "canceling statement due to statement timeout"),
            ("42P07", "x"),
            ("23505", "x"),
            ("2D000", "x"),
            ("25001", "x"),
        ] {
            let words = shale_pg::error::remedy(sqlstate, message).unwrap();
            assert!(!words.contains("`shale ") && !words.contains(" --"), "{words}");
        }
        for reverting in [false, true] {
            for p in [
                at(0),
                at(2),
                Some(PartWay { done: 1, backfill: true, version: "2".into(), not_valid: None, invalid_index: None }),
            ] {
                let words = p.unwrap().advice(reverting);
                assert!(!words.contains("shale") && !words.contains("--"), "{words}");
            }
        }

        let in_doubt = |reverting: bool, running: Option<&str>| PgError::InDoubt {
            label: "001 steps".into(),
            path: "migrations/001_steps.sql".into(),
            statement: 2,
            reason: "nothing tells".into(),
            reverting,
            running: running.map(str::to_string),
        };
        assert_eq!(
            pg_text(&in_doubt(false, None)),
            "migrations/001_steps.sql: statement 2 of migration 001 steps may or may not have run: nothing tells. Look \
             whether its effect is there, then record what you found: `shale repair 001 --resume-at 3 --reason ...` \
             if it ran, or `shale repair 001 --resume-at 2 --reason ...` if it did not; `shale up` then continues \
             from there"
        );
        assert!(pg_text(&in_doubt(true, None))
            .ends_with("record it with `shale repair 001 --rolled-back --force --reason ...`"));
        assert!(pg_text(&in_doubt(true, Some("4242"))).ends_with(
            "; wait for it to end (or cancel it with SELECT pg_cancel_backend(4242)), then run `shale down` again"
        ));
        let lost = |outcome| PgError::ConnectionLost { label: "001 steps".into(), reason: "gone".into(), outcome };
        assert_eq!(
            pg_text(&lost(LostOutcome::StatementUnknown { statement: 3, reverting: false })),
            "the connection was lost while migration 001 steps ran (gone): statements 1 to 2 ran and are recorded; \
             whether statement 3 ran is unknown: the next `shale up` checks before running it again"
        );
        assert!(pg_text(&lost(LostOutcome::CommitUnknown)).contains("it did if `shale status` shows it applied"));
        assert!(pg_text(&lost(LostOutcome::Unrecorded { ran: 2, reverting: true })).ends_with(
            "statement 2 may not be recorded yet: the next `shale down` checks before running anything again"
        ));
        for e in [
            in_doubt(false, None),
            in_doubt(true, None),
            in_doubt(false, Some("4242")),
            lost(LostOutcome::CommitUnknown),
            lost(LostOutcome::Unrecorded { ran: 2, reverting: true }),
            lost(LostOutcome::StatementUnknown { statement: 1, reverting: false }),
        ] {
            let words = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!words.contains("shale ") && !words.contains("--"), "{words}");
        }
        assert!(in_doubt(false, None).hint().unwrap().contains("resumes at statement 3 if it ran, or at statement 2"));
    }

    #[test]
    fn seeds_and_repairs_name_the_commands_and_flags_the_library_leaves_out() {
        let e = ShaleError::SeedsBeforeMigrations { pending: 2 };
        assert_eq!(
            shale_text(&e),
            "2 migration(s) are pending: seeds run after the migrations, so run `shale up` first (or `shale up --seed`)"
        );
        let e = ShaleError::Repair(RepairRefusal::Healthy { version: "3".into() });
        assert!(
            shale_text(&e).ends_with(
                "makes the next `shale up` run it again, on a database where its changes are \
             (unless you undid them by hand); if you did, add --force"
            ),
            "{}",
            shale_text(&e)
        );
        let e = ShaleError::Repair(RepairRefusal::ResumeOutOfRange { version: "3".into(), at: 9, total: 2 });
        assert_eq!(
            shale_text(&e),
            "--resume-at 9: migration 3 has 2 statement(s); give 1 to 3 (3 means all of them ran)"
        );
        for e in [
            ShaleError::SeedsBeforeMigrations { pending: 2 },
            ShaleError::Repair(RepairRefusal::NoReason),
            ShaleError::Repair(RepairRefusal::Healthy { version: "3".into() }),
            ShaleError::Repair(RepairRefusal::NotPartWay { version: "3".into(), has_file: true }),
            ShaleError::Repair(RepairRefusal::ResumeOutOfRange { version: "3".into(), at: 9, total: 2 }),
        ] {
            let words = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!words.contains("shale ") && !words.contains("--"), "{words}");
            assert_eq!(exit_code(&e.into()), EXIT_INVALID);
        }
    }

    #[test]
    fn load_problems_name_the_commands_and_flags_the_library_leaves_out() {
        let dir = std::env::temp_dir().join(format!("shale-load-hints-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("001_a.sql"), "select 1;").unwrap();
        std::fs::write(dir.join("001_b.sql"), "select 2;").unwrap();
        let errors = shale_core::MigrationSet::read_dir(&dir).unwrap_err();
        let missing = shale_core::MigrationSet::read_dir(&dir.join("nope")).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let texts: Vec<String> = errors.iter().chain(&missing).map(load_text).collect();
        assert!(
            texts.iter().any(|t| t.ends_with("(hint: give one of them the next free version (`shale new` picks it))")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.ends_with("(hint: check the path given with --dir or `dir` in shale.toml)")),
            "{texts:?}"
        );
        for e in errors.iter().chain(&missing) {
            let words = e.to_string();
            assert!(!words.contains("`shale ") && !words.contains("--") && !words.contains("shale.toml"), "{words}");
        }
    }

    #[test]
    fn a_failed_replay_says_what_it_lacked_and_where_it_ran() {
        let failure = |sqlstate: &str, message: &str| Box::new(db_failure(sqlstate, message));
        let role = ReplayFailed {
            label: "3 grants".into(),
            failure: failure("42704", "role \"reporting\" does not exist"),
            purpose: Replay::Drift,
        };
        let text = role.to_string();
        assert!(
            text.contains(
                "failed at migration 3 grants: role \"reporting\" does not exist; nothing ran on your database."
            ),
            "{text}"
        );
        assert!(text.contains("refers to reporting, which the migrations before it do not create"), "{text}");
        assert!(text.contains("--dev-url") && text.contains("shale drift --against"), "{text}");
        assert_eq!(exit_code(&role.into()), EXIT_FAILED);
        let other =
            ReplayFailed { label: "4 x".into(), failure: failure("22P02", "invalid input"), purpose: Replay::Diff };
        let text = other.to_string();
        assert!(text.contains("do not apply in order on an empty database") && !text.contains("shale drift"), "{text}");
        // check and a generated down say what the replay was for, and offer no comparison instead.
        let check = ReplayFailed {
            label: "1 a".into(),
            failure: failure("42P01", "relation \"outside_t\" does not exist"),
            purpose: Replay::Check,
        };
        let text = check.to_string();
        assert!(
            text.contains("throwaway database, to check that they apply in order from an empty database"),
            "{text}"
        );
        // A table: no scratch database has it, whatever server it is on.
        assert!(text.ends_with("which runs on each scratch database first") && !text.contains("--dev-url"), "{text}");
        let down = ReplayFailed { purpose: Replay::GeneratedDown, ..check };
        assert!(down.to_string().contains("write the down by hand instead"), "{down}");
        assert_eq!(quoted_name("relation \"public.goose_db_version\" does not exist"), Some("goose_db_version"));
        // Its --json remedy is the CLI's, as a failed `up`'s is.
        let timeout = db_failure("57014", "canceling statement due to statement timeout");
        let library = shale_pg::error::remedy(&timeout.sqlstate, &timeout.message);
        let replay = ReplayFailed {
            label: "5 slow".into(),
            failure: Box::new(DbFailure { remedy: library, ..timeout }),
            purpose: Replay::Drift,
        };
        let json = to_json(&replay.into());
        assert_eq!(json["replay"], true);
        assert!(json["failure"]["remedy"].as_str().unwrap().ends_with("or --statement-timeout"), "{json}");
    }

    #[test]
    fn another_tool_s_history_names_the_commands_the_library_leaves_out() {
        let e = ShaleError::ForeignHistory {
            tool: Tool::Dbmate,
            table: "public.schema_migrations".into(),
            adoptable: true,
        };
        assert_eq!(
            shale_text(&e),
            "this database was migrated by dbmate (public.schema_migrations is its history) and shale has no history \
             here yet, so migrating would run again what dbmate applied: run `shale adopt` to take that history over \
             (nothing runs, public.schema_migrations is left as it is), then `shale up`. If that table belongs to \
             something else and shale should run every migration here, record that with `shale adopt --nothing`"
        );
        assert_eq!(e.kind(), ErrorKind::Usage);
        let e = ShaleError::ForeignHistory {
            tool: Tool::Alembic,
            table: "public.alembic_version".into(),
            adoptable: false,
        };
        let text = shale_text(&e);
        assert!(text.contains("so migrating would run again what the database already holds: "), "{text}");
        assert!(
            ["`shale baseline VERSION`", "`shale baseline --from-database`", "`shale adopt --nothing`"]
                .iter()
                .all(|c| text.contains(c)),
            "{text}"
        );
        let e = ShaleError::Adopt(vec![AdoptProblem::NotSql {
            tool: Tool::Alembic,
            table: "public.alembic_version".into(),
        }]);
        assert!(
            shale_text(&e).ends_with(
                "cannot be taken over: start shale's history from the live schema with `shale baseline \
                 --from-database` (it leaves public.alembic_version out), then write new migrations in SQL"
            ),
            "{}",
            shale_text(&e)
        );
        assert_eq!(exit_code(&e.into()), EXIT_INVALID);
        let dirty = AdoptProblem::Dirty {
            tool: Tool::GolangMigrate,
            table: "public.schema_migrations".into(),
            version: 2,
            before: 1,
        };
        assert_eq!(
            adopt_text(&dirty),
            "golang-migrate marks version 2 dirty in public.schema_migrations: it failed part-way, and the database \
             may hold part of it. Find out what it left, fix the database by hand, then clear the flag the way \
             golang-migrate does: if it is complete, `migrate force 2` (in SQL, `UPDATE public.schema_migrations SET \
             dirty = false`); if it is not, `migrate force 1` (in SQL, `UPDATE public.schema_migrations SET version = \
             1, dirty = false`); then run `shale adopt` again"
        );
        let e = ShaleError::NoForeignHistory { tool: None, table: None };
        assert_eq!(
            shale_text(&e),
            "no other migration tool's history table was found in this database (looked for those of golang-migrate, \
             dbmate, goose, sqlx, diesel, flyway, refinery, node-pg-migrate, sql-migrate, tern, pop, prisma, drizzle, \
             atlas, supabase, hasura, sqitch, graphile-migrate, morph, db-migrate, postgrator, postgres-migrations, pgmigrate, pyway, @slonik/migrator and bun, and of alembic, django, rails, ecto, knex, typeorm, sequelize, mikro-orm, kysely, \
             liquibase, laravel, doctrine, phinx, ef-core, yoyo, aerich, piccolo, peewee-migrate, sea-orm, ley and sequel, whose migrations are code); name it with --from TOOL --table NAME if it was renamed, or, for a database built \
             without one or by a tool whose migrations are code, see `shale baseline --from-database`"
        );
        let e = ShaleError::NoForeignHistory { tool: Some(Tool::Goose), table: None };
        assert_eq!(
            shale_text(&e),
            "no goose history table (goose_db_version) was found in this database; name it with --table if it was \
             renamed"
        );
        let found = |tool: Tool, schema: &str, table: &str| shale_pg::foreign::ForeignTable {
            tool,
            schema: schema.into(),
            table: table.into(),
            in_search_path: true,
        };
        let e = ShaleError::ForeignHistories(vec![
            found(Tool::Goose, "public", "goose_db_version"),
            found(Tool::Sqlx, "public", "_sqlx_migrations"),
        ]);
        assert_eq!(
            shale_text(&e),
            "more than one migration history is in this database (goose public.goose_db_version, sqlx \
             public._sqlx_migrations), and shale has none here yet: take over the one that migrated this database \
             with `shale adopt --from goose` or `shale adopt --from sqlx`"
        );
        let e = ShaleError::ForeignHistories(vec![
            found(Tool::Dbmate, "public", "schema_migrations"),
            found(Tool::Dbmate, "auth", "schema_migrations"),
            found(Tool::Alembic, "public", "alembic_version"),
        ]);
        assert!(
            shale_text(&e).ends_with(
                "with `shale adopt --from dbmate --table public.schema_migrations` or `shale adopt --from dbmate \
                 --table auth.schema_migrations`, or, where that tool's migrations are code, start from the live \
                 schema with `shale baseline --from-database`"
            ),
            "{}",
            shale_text(&e)
        );
        for e in [
            ShaleError::NoForeignHistory { tool: None, table: None },
            ShaleError::NoForeignHistory { tool: Some(Tool::Goose), table: None },
            ShaleError::NoForeignHistory { tool: None, table: Some("x.y".into()) },
            ShaleError::ForeignHistories(vec![found(Tool::Goose, "public", "goose_db_version")]),
        ] {
            let words = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!words.contains("shale ") && !words.contains("--"), "{words}");
            assert_eq!(exit_code(&e.into()), EXIT_INVALID);
        }
        let problems = [
            dirty,
            AdoptProblem::Failed {
                tool: Tool::Sqlx,
                table: "public._sqlx_migrations".into(),
                key: "1".into(),
                failure: None,
            },
            AdoptProblem::Changed {
                tool: Tool::Flyway,
                table: "public.flyway_schema_history".into(),
                key: "1".into(),
                file: "m/V1__a.sql".into(),
            },
            AdoptProblem::NoFile { tool: Tool::Goose, key: "7".into() },
        ];
        for p in &problems {
            let words = format!("{p} {}", p.hint().unwrap_or_default());
            assert!(!words.contains("`shale") && !words.contains("--"), "{words}");
            assert!(
                adopt_text(p).contains("`shale adopt` again") || adopt_text(p).contains("--dir"),
                "{}",
                adopt_text(p)
            );
        }
        // The library's own words name no command.
        for e in [
            ShaleError::ForeignHistory { tool: Tool::Goose, table: "public.goose_db_version".into(), adoptable: true },
            ShaleError::ForeignHistory {
                tool: Tool::Alembic,
                table: "public.alembic_version".into(),
                adoptable: false,
            },
            ShaleError::Adopt(vec![AdoptProblem::NotSql { tool: Tool::Alembic, table: "t".into() }]),
        ] {
            let words = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!words.contains("`shale") && !words.contains("--"), "{words}");
        }
    }

    #[test]
    fn one_function_decides_exit_codes() {
        assert_eq!(code(None), 0);
        assert_eq!(code(Some(ErrorKind::Failed)), EXIT_FAILED);
        assert_eq!(code(Some(ErrorKind::Usage)), EXIT_INVALID);
        assert_eq!(code(Some(ErrorKind::Unavailable)), EXIT_UNAVAILABLE);
        assert_eq!(exit_code(&ShaleError::Pg(PgError::LockLost).into()), EXIT_UNAVAILABLE);
        assert_eq!(exit_code(&ShaleError::Pg(PgError::Refused("no".into())).into()), EXIT_INVALID);
        let e = PgError::AdvisoryThroughPooler("SET failed".into());
        assert!(pg_text(&e).ends_with("use lock = \"table\" (or --lock table) through a statement-mode pooler"));
        assert!(!format!("{e} {}", e.hint().unwrap()).contains("--"));
        assert_eq!(exit_code(&ShaleError::Pg(e).into()), EXIT_INVALID);
        let e = PgError::OutsideOneTransaction {
            label: "2 idx".into(),
            path: "m/2_idx.sql".into(),
            reason: "CREATE INDEX CONCURRENTLY".into(),
        };
        assert!(pg_text(&e).ends_with("so it cannot be part of --single-transaction"));
        assert!(!format!("{e} {}", e.hint().unwrap()).contains("--"));
        assert_eq!(exit_code(&ShaleError::Pg(e).into()), EXIT_INVALID);
        assert_eq!(exit_code(&ShaleError::Pg(PgError::Catalog("odd".into())).into()), EXIT_FAILED);
        assert_eq!(exit_code(&ShaleError::Invalid("bad".into()).into()), EXIT_INVALID);
    }
}
