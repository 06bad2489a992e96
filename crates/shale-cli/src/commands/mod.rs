//! One module per command.

pub mod adopt;
pub mod backup;
pub mod check;
pub mod dev;
pub mod diff;
pub mod drift;
pub mod dump;
pub mod erd;
pub mod fleet;
pub mod generated_down;
pub mod help;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod migrate;
pub mod new;
pub mod squash;
pub mod status;
pub mod throwaway;

use std::io::Write;

use anyhow::Result;
use shale::{Migrator, MigratorConfig};
use shale_core::MigrationSet;

use crate::args::{Command, DownTarget};
use crate::settings::{Database, Settings};

/// Run a command; Ok carries the exit code (1 when a check found problems).
pub fn run(command: Command, settings: &Settings) -> Result<i32> {
    if settings.fleet.targets.is_some() {
        return fleet::run(command, settings);
    }
    if let Some(shard) = settings.fleet.shard {
        let text = format!("--shard {shard} takes a slice of a fleet: add --targets, --targets-query or --schemas");
        return Err(shale::Error::Invalid(text).into());
    }
    match command {
        Command::Init => init::run(settings),
        Command::New { down_from_diff: Some(version), dev_url, .. } => {
            new::down_from_diff(settings, &version, settings.scratch_server(dev_url.as_deref()))
        }
        Command::New { name, reversible, .. } => new::run(settings, name.as_deref().unwrap_or_default(), reversible),
        Command::Up(args) => migrate::up(settings, &args),
        Command::Down(args) => migrate::down(settings, &args),
        Command::Seed(args) => migrate::seed(settings, args.seeds.as_deref(), args.force),
        Command::Redo => migrate::redo(settings),
        Command::Goto { version, dry_run: true, allow_out_of_order, force_unsafe } => {
            migrate::goto_dry_run(settings, &version, allow_out_of_order, force_unsafe)
        }
        Command::Goto { version, dry_run: false, allow_out_of_order, force_unsafe } => {
            migrate::goto(settings, &version, allow_out_of_order, force_unsafe)
        }
        Command::Baseline { version: Some(version), reason, force, dev_url, table, .. } => {
            adopt::baseline(settings, &version, reason.as_deref(), force, dev_url.as_deref(), &table)
        }
        Command::Baseline { version: None, reason, table, .. } => {
            adopt::baseline_from_database(settings, reason.as_deref(), &table)
        }
        Command::Adopt(args) => adopt::run(settings, &args),
        Command::Repair(args) => migrate::repair(settings, &args),
        Command::Status => status::status(settings),
        Command::Dump(args) => dump::run(settings, &args),
        Command::Diff(args) => diff::run(settings, &args),
        Command::Erd(args) => erd::run(settings, &args),
        Command::Drift(args) => drift::run(settings, &args),
        Command::Check(args) => check::run(settings, &args),
        Command::Squash(args) => squash::run(settings, &args),
        Command::Lint(args) => lint::run(settings, &args),
        Command::Inspect { table } => inspect::run(settings, table.as_deref()),
        Command::Validate => status::validate(settings),
        Command::Version => status::version(settings),
        Command::Completions { shell } => help::completions(&shell),
        Command::Man { out } => help::man(out.as_deref()),
        Command::Dev { action } => dev::run(settings, action),
    }
}

/// The migration files, all problems reported together.
pub fn load_set(settings: &Settings) -> Result<MigrationSet> {
    load_set_with(settings, MigrationSet::read_dir_with, &settings.reading)
}

/// What to do when older Liquibase changesets are pending and no contexts were given.
pub const LIQUIBASE_SELECTION_HINT: &str = "if Liquibase ran with `--contexts` or `--label-filter`, give shale \
     the same (--contexts, --label-filter, or [liquibase] in shale.toml): the changesets they leave out stay \
     unrun. Only if Liquibase was meant to run them all, `shale up --allow-out-of-order` runs them";

/// Whether `set`'s Liquibase changesets have contexts or labels and the run was given none: pending
/// older changesets are then likely those Liquibase left out, not ones to run out of order.
pub fn liquibase_selection_unsaid(settings: &Settings, set: &MigrationSet) -> bool {
    set.liquibase_selectors_used && settings.reading.liquibase.is_empty()
}

/// [`load_set`] with every Liquibase changeset, whatever the contexts and label filter given:
/// where a new migration goes, and its number, must not depend on them.
pub fn load_every_changeset(settings: &Settings) -> Result<MigrationSet> {
    let reading = shale_core::layout::ReadSettings { liquibase: Default::default(), ..settings.reading.clone() };
    load_set_with(settings, MigrationSet::read_dir_with, &reading)
}

/// [`load_set`] with every script's statements left unsplit, for `up`, which splits only what
/// may run once it has read the history.
pub fn load_set_unsplit(settings: &Settings) -> Result<MigrationSet> {
    require_migrations(settings, load_set_with(settings, MigrationSet::read_dir_unsplit_with, &settings.reading)?)
}

/// Where there is no migrations directory and another tool keeps the project's migrations in a
/// directory `init` would point shale at (dbmate's `db/migrations`, drizzle's `drizzle/`): refused,
/// naming it (dbmate re-check: `new` made a second directory beside them, and `status` asked for
/// `init` without saying where they were).
pub(crate) fn refuse_beside_another_tool(settings: &Settings) -> Result<()> {
    if settings.dir.exists() || settings.dir != settings.root.join("migrations") {
        return Ok(());
    }
    if let Some((dir, tool)) = init::other_tools_dir(&settings.root) {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{tool} keeps this project's migrations in {dir}, and shale is not pointed there: run `shale init` \
             (it writes `dir = \"{dir}\"` in shale.toml), or give --dir {dir}"
        )));
    }
    Ok(())
}

fn load_set_with(
    settings: &Settings,
    read: fn(
        &std::path::Path,
        &shale_core::layout::ReadSettings,
    ) -> Result<MigrationSet, Vec<shale::core::layout::LoadError>>,
    reading: &shale_core::layout::ReadSettings,
) -> Result<MigrationSet> {
    if !settings.dir.exists() {
        refuse_beside_another_tool(settings)?;
        // The path looked at, whole: `dir` may be relative to a shale.toml elsewhere (--config).
        let looked = std::path::absolute(&settings.dir).unwrap_or_else(|_| settings.dir.clone());
        anyhow::bail!(shale::Error::Invalid(format!(
            "there is no migrations directory `{}` (looked for {}): run `shale init` to create one here, \
             or point at yours with --dir DIR (or `dir = \"...\"` in shale.toml)",
            settings.dir.display(),
            looked.display()
        )));
    }
    read(&settings.dir, reading).map_err(|e| shale::Error::Load(e).into())
}

/// `set`, unless it holds SQL files and not one migration among them: the directory is not what
/// shale was meant to read (a Sqitch project's deploy/ folder, scripts), and `up` would say all
/// is up to date, `status` and `validate` that all is well. Commands that start a directory
/// (`new`, `baseline --from-database`) or only read files (`lint`) take it as it is.
pub fn require_migrations(settings: &Settings, set: MigrationSet) -> Result<MigrationSet> {
    let unversioned = set.ignored.iter().filter(|i| i.reason == shale_core::layout::UNVERSIONED).count();
    if set.migrations.is_empty() && set.unrunnable.is_empty() && unversioned > 0 {
        anyhow::bail!(shale::Error::Invalid(format!(
            "{} holds {unversioned} SQL file(s) and no migration: shale reads files named VERSION_name.sql \
             (`0001_create_users.sql`, `20240101120000_create_users.sql`) and the other tools' conventions \
             (docs/migrations.md); in a Sqitch project, point --dir at the folder holding sqitch.plan",
            settings.dir.display()
        )));
    }
    Ok(set)
}

pub fn migrator(settings: &Settings) -> Result<Migrator> {
    migrator_with(settings, load_set(settings)?)
}

/// A migrator for files already loaded.
pub fn migrator_with(settings: &Settings, set: MigrationSet) -> Result<Migrator> {
    Ok(Migrator::new(set, migrator_config(settings, connection(settings)?)))
}

/// The connection to the configured database. With `--dev`, this is where the development server
/// is started when it does not run: the one place a command starts it, right before connecting.
pub fn connection(settings: &Settings) -> Result<shale::ConnectionSettings> {
    match settings.database()? {
        Database::Url { text, origin } => settings.connection(Some(text), origin),
        Database::Dev => settings.connection(Some(&dev::ensure_started(settings)?), "the development server"),
        Database::PgVariables => settings.connection(None, ""),
    }
}

/// The settings of shale.toml, flags and environment for a migrator on `connection`.
pub fn migrator_config(settings: &Settings, connection: shale::ConnectionSettings) -> MigratorConfig {
    let mut config = MigratorConfig::new(connection);
    config.session = settings.session.clone();
    config.lock_wait = settings.migration_lock_wait;
    config.connect_wait = settings.connect_wait;
    if let (Some(wait), false) = (settings.connect_wait, settings.quiet) {
        config.connect_wait_notice = Some(shale::pg::ConnectWaitNotice(std::sync::Arc::new(move |error, waited| {
            crate::output::plain(
                "waiting_for_database",
                &format!(
                    "waiting for the database ({:.1}s of --wait {}): {error}; trying again",
                    waited.as_secs_f64(),
                    humantime::format_duration(wait)
                ),
            )
        })));
    }
    config.lock = settings.lock;
    config.lease_ttl = settings.lease_ttl;
    config.history = settings.history.clone();
    // A Prisma URL's schema is where unqualified names go: set again inside each migration, as a
    // tenant schema's is, so that a pooler dropping startup options cannot send them elsewhere.
    if config.session.search_path.is_none() {
        config.session.search_path = config.connection.schema.clone();
    }
    if let Some(n) = settings.lock_retries {
        config.exec.lock_retries = n;
    }
    config.exec.lock_wait = settings.busy_tables.clone();
    config
}

/// Commands run on a small single-threaded runtime: the work is sequential round trips.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    runtime.block_on(async {
        let output = future.await;
        // The connections whose clients the command dropped end as PostgreSQL expects (their
        // Terminate message) before the runtime goes: cut off, each is logged by the server as
        // reset by its peer (TLS trial: a line per run in PostgreSQL's log, and PgBouncer's).
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        output
    })
}

/// A version given on the command line; in a Sqitch project also a tag (`@v1.0`: the change it
/// follows) or a change's name (its newest instance), as Sqitch's `--to` takes them (Sqitch trial:
/// a team's runbook says `sqitch revert --to @2.5.3`).
pub fn parse_version(settings: &Settings, text: &str) -> Result<shale::Version> {
    match text.parse::<shale::Version>() {
        Ok(version) => Ok(version),
        Err(e) => {
            let plan = std::fs::read_to_string(settings.dir.join(shale::core::layout::SQITCH_PLAN)).ok();
            let place = plan.as_deref().and_then(|plan| shale::core::layout::sqitch_place(plan, text));
            match place.and_then(|n| shale::Version::parse(&n.to_string())) {
                Some(version) => Ok(version),
                None => Err(shale::Error::Invalid(e).into()),
            }
        }
    }
}

pub fn down_target(settings: &Settings, t: &DownTarget) -> Result<shale::Target> {
    Ok(match (t.step, &t.to, t.all) {
        (Some(n), _, _) => shale::Target::Steps(n),
        (_, Some(v), _) => shale::Target::Version(parse_version(settings, v)?),
        _ => shale::Target::All,
    })
}

pub fn print_json<T: serde::Serialize>(value: &T) {
    // Written where it can be: a reader gone away (`| head`) does not make it fail.
    let _ = writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(value).expect("serializable"));
}
