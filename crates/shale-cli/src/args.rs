//! Command-line arguments (clap only; resolved into Settings by settings.rs).

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "shale",
    version,
    about = "PostgreSQL schema migrations: safe, fast, one binary",
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Help headings: a command's own options come first, these after them.
const GLOBAL: &str = "Global options";
const FLEET: &str = "Many databases (up, down, status, validate, drift)";
const BUSY: &str = "Busy tables (strong locks taken without stalling the application)";
const LIQUIBASE: &str = "Liquibase changelogs (the changesets that run)";

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Database URL: postgresql:// or postgres://, SQLAlchemy's postgresql+DRIVER:// (postgresql+psycopg2://, postgresql+asyncpg://, ...), or libpq key=value pairs; else SHALE_DATABASE_URL, else DATABASE_URL (or the variable shale.toml names), else PG* variables
    // (`--url` as dbmate and Flyway spell it, for the scripts of teams switching.)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL", visible_alias = "url")]
    pub database_url: Option<String>,
    /// Use the project's development PostgreSQL (.shale/dev), starting it if needed
    #[arg(long, global = true, help_heading = GLOBAL, conflicts_with = "database_url")]
    pub dev: bool,
    /// Migrations directory [default: migrations, or `dir` in shale.toml]
    // (dbmate's spelling too: a team switching types it.)
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR", alias = "migrations-dir")]
    pub dir: Option<PathBuf>,
    /// Configuration file [default: shale.toml when present]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Machine-readable output (status, up, down, validate, ...)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// Only errors
    #[arg(short, long, global = true, help_heading = GLOBAL, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (each statement of no-transaction migrations, lock waits)
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
    /// Retry connecting this long while the server starts, e.g. 30s
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// How long to wait for another shale runner's migration lock, e.g. 10m [default: 10m, or `migration_lock_wait` in shale.toml]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub migration_lock_wait: Option<std::time::Duration>,
    /// The former name of --migration-lock-wait, accepted with a warning: `lock_timeout` is
    /// PostgreSQL's lock_timeout everywhere else
    #[arg(long = "lock-timeout", global = true, hide = true, value_name = "DURATION", value_parser = humantime::parse_duration, conflicts_with = "migration_lock_wait")]
    pub deprecated_lock_timeout: Option<std::time::Duration>,
    /// Migration lock: advisory, table (a lease row, through any pooler, statement mode included) or auto [default: auto, or `lock` in shale.toml]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "KIND", value_parser = ["advisory", "table", "auto"])]
    pub lock: Option<String>,
    /// PostgreSQL lock_timeout in every session, e.g. 5s (0 = off) [default: 5s, or `lock_timeout` in shale.toml]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION")]
    pub session_lock_timeout: Option<String>,
    /// PostgreSQL statement_timeout in every session, e.g. 10min (0 = off) [default: 0, or `statement_timeout` in shale.toml]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    /// Progress on stderr as text, or as one JSON object per event (migration started and
    /// finished, lock waits, retries, warnings, notes, the error that ends the run) for deploy
    /// pipelines
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "FORMAT", value_parser = ["text", "json"], default_value = "text")]
    pub log_format: String,
    /// The contexts given, e.g. prod,eu: a changeset whose context they do not satisfy is left out [default: LIQUIBASE_COMMAND_CONTEXT_FILTER, LIQUIBASE_COMMAND_CONTEXTS, SPRING_LIQUIBASE_CONTEXTS, or `contexts` in [liquibase]]
    #[arg(long, global = true, help_heading = LIQUIBASE, value_name = "LIST")]
    pub contexts: Option<String>,
    /// A changeset whose labels this does not match is left out, e.g. "!slow" [default: LIQUIBASE_COMMAND_LABEL_FILTER, LIQUIBASE_COMMAND_LABELS, SPRING_LIQUIBASE_LABEL_FILTER, or `label_filter` in [liquibase]]
    #[arg(long, global = true, help_heading = LIQUIBASE, value_name = "EXPRESSION")]
    pub label_filter: Option<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub busy: BusyTableArgs,
}

/// How a statement that would stall the application takes its lock.
#[derive(Debug, Args, Clone, Default)]
pub struct BusyTableArgs {
    /// How long to wait in all for a busy table to be free before the migration fails naming what holds it [default: 5m, or `lock_wait_max`]
    #[arg(long, global = true, help_heading = BUSY, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_wait_max: Option<std::time::Duration>,
    /// The lock_timeout of each try once the table is free: the longest the application waits behind shale's wait for the lock (not behind what runs under it) [default: 50ms, or `lock_try_timeout`]
    #[arg(long, global = true, help_heading = BUSY, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_try_timeout: Option<std::time::Duration>,
    /// Cancel the queries of sessions that still hold the table after this long (never by default)
    #[arg(long, global = true, help_heading = BUSY, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub cancel_blockers_after: Option<std::time::Duration>,
    /// With --cancel-blockers-after: also end sessions idle in a transaction that hold the table
    #[arg(long, global = true, help_heading = BUSY, requires = "cancel_blockers_after")]
    pub terminate: bool,
    /// wait-clear (wait without queueing until the table is free, then try briefly) or queue (queue for the lock with lock_timeout, retried) [default: wait-clear, or `lock_acquire`]
    #[arg(long, global = true, help_heading = BUSY, value_name = "HOW", value_parser = ["wait-clear", "queue"])]
    pub lock_acquire: Option<String>,
}

/// Many databases at once: `up`, `down`, `status` and `validate` run on every target.
#[derive(Debug, Args, Clone, Default)]
pub struct FleetArgs {
    /// Run on every target of this TOML file (named URLs, optionally a schema each)
    #[arg(long, global = true, help_heading = FLEET, value_name = "FILE", group = "fleet_source")]
    pub targets: Option<PathBuf>,
    /// Run on every database this query returns (columns url, and optionally name and schema), run on the configured database
    #[arg(long, global = true, help_heading = FLEET, value_name = "SQL", group = "fleet_source")]
    pub targets_query: Option<String>,
    /// Run on every schema of the configured database matching PATTERN (`*` any characters, `?` one), each with its own history table and search_path
    #[arg(long, global = true, help_heading = FLEET, value_name = "PATTERN", group = "fleet_source")]
    pub schemas: Option<String>,
    /// Targets migrated at once [default: 8, capped by the targets and the servers' free connections]
    #[arg(long, global = true, help_heading = FLEET, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// After a target fails, start no new ones
    #[arg(long, global = true, help_heading = FLEET)]
    pub fail_fast: bool,
    /// Take only slice K of N of the targets (1 <= K <= N), to run one fleet on N machines; a target's slice depends on its name alone
    #[arg(long, global = true, help_heading = FLEET, value_name = "K/N")]
    pub shard: Option<shale::fleet::Shard>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create migrations/ and a commented shale.toml
    #[command(after_help = "Examples:
  shale init
  shale new create_users")]
    Init,
    /// Create the next migration file, following the directory's convention
    #[command(after_help = "Examples:
  shale new add_users_email
  shale new create_orders --reversible   # with a down migration
  shale new --down-from-diff 0003        # write the down 0003 lacks, computed from the schemas")]
    New {
        /// What the migration does, e.g. add_users_username
        #[arg(required_unless_present = "down_from_diff")]
        name: Option<String>,
        /// Also create a down migration
        #[arg(long)]
        reversible: bool,
        /// Write the down file migration V lacks, computed from the schemas before and after it
        /// (replayed on a throwaway database), instead of creating a migration
        #[arg(long, value_name = "V", conflicts_with_all = ["name", "reversible"])]
        down_from_diff: Option<String>,
        /// With --down-from-diff: a server where shale may create (and drop) a scratch database [default: a temporary local server]
        #[arg(long, value_name = "URL", requires = "down_from_diff")]
        dev_url: Option<String>,
    },
    /// Apply pending migrations
    #[command(
        after_help = "Examples:
  shale up
  shale up --dry-run                 # what would run, and the safety check's verdict
  shale up --to 0005
  DATABASE_URL=postgres://app@db/app shale up --backup backups/",
        alias = "migrate"
    )]
    Up(UpArgs),
    /// Revert applied migrations, newest first
    #[command(
        after_help = "Examples:
  shale down --step 1
  shale down --to 0003
  shale down --all --dry-run
  shale down --all --generate --allow-destructive   # migrations without downs too",
        alias = "rollback"
    )]
    Down(DownArgs),
    /// Run the sample-data files in seeds/ that never ran or changed since
    #[command(after_help = "Examples:
  shale seed
  shale up --seed
  shale seed --force")]
    Seed(SeedArgs),
    /// Revert the newest migration and apply it again
    #[command(after_help = "Example:
  shale redo")]
    Redo,
    /// Migrate up or down to exactly this version (forward, with every check `up` makes)
    #[command(after_help = "Example:
  shale goto 0004")]
    Goto {
        version: String,
        /// Print the plan (up's or down's); run nothing
        #[arg(long)]
        dry_run: bool,
        /// Going forward, apply pending migrations older than the newest applied one
        #[arg(long)]
        allow_out_of_order: bool,
        /// Going forward, apply even when the linter finds errors that no `-- shale:allow` covers
        #[arg(long)]
        force_unsafe: bool,
    },
    /// Show every migration and its state
    #[command(after_help = "Examples:
  shale status
  shale status --json
  shale --schemas 'tenant_*' status")]
    Status,
    /// Compare the live schema with what the migrations build (replayed into a throwaway server); exit 1 on drift
    #[command(after_help = "Examples:
  shale drift
  shale drift --fix adopt_hotfix --direction adopt")]
    Drift(crate::commands::drift::DriftArgs),
    /// For CI, on a throwaway server: apply everything, check each down restores the schema; exit 1 on failure
    #[command(after_help = "Examples:
  shale check
  shale check --against $DATABASE_URL")]
    Check(crate::commands::check::CheckArgs),
    /// Replace the migrations up to V with one migration of the schema (and rows) they build; their files move to an archive
    #[command(after_help = "Examples:
  shale squash --to 0040 --dry-run     # print the squashed migration
  shale squash --to 0040               # write it, move 0001..0040 to migrations_archive/
  shale check                          # the squash and the archive build the same schema")]
    Squash(crate::commands::squash::SquashArgs),
    /// Write the database schema as a deterministic SQL script
    #[command(after_help = "Examples:
  shale dump -o schema.sql
  shale dump --json")]
    Dump(crate::commands::dump::DumpArgs),
    /// The SQL that turns one schema (database, migrations directory or schema file) into another
    #[command(after_help = "Examples:
  shale diff                                  # the database -> what the migrations build
  shale diff --from migrations --to schema.sql --write sync_schema
  shale diff --to schema.sql --verify")]
    Diff(crate::commands::diff::DiffArgs),
    /// A picture of the tables and foreign keys, as Mermaid, Graphviz DOT or SVG
    #[command(after_help = "Examples:
  shale erd                          # the database as Mermaid (no database: the migrations)
  shale erd --from migrations -o docs/schema.svg
  shale erd --tables 'orders*,billing.*' --format dot | dot -Tpng > orders.png")]
    Erd(crate::commands::erd::ErdArgs),
    /// What each migration will lock, rewrite or destroy; refuses the dangerous ones (exit 1)
    #[command(after_help = "Examples:
  shale lint                        # the pending migrations, judged by the database
  shale lint --all                  # every migration, no database needed
  shale lint --since origin/main    # what a pull request adds
  shale lint --format github
  shale lint --fix --dry-run        # the safe forms as a diff; --fix writes them")]
    Lint(LintArgs),
    /// Tables with their size; or one table's columns, constraints, indexes, triggers and foreign keys
    #[command(after_help = "Examples:\n  shale inspect\n  shale inspect users\n  shale inspect app.orders --json")]
    Inspect {
        /// A table, optionally schema-qualified
        table: Option<String>,
    },
    /// Check the files (and, with a database, the history) without changing anything
    #[command(after_help = "Examples:
  shale validate
  shale validate --json")]
    Validate,
    /// Mark an existing database as being at VERSION without running anything
    #[command(
        after_help = "Examples:\n  shale baseline 0007 --reason \"built before shale\"\n  shale baseline --from-database   # a database with tables and no history at all"
    )]
    Baseline {
        /// The version the database is at [required unless --from-database]
        #[arg(required_unless_present = "from_database", conflicts_with = "from_database")]
        version: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        /// For a database with no migration history at all: write its schema as the first
        /// migration and record it as applied here
        #[arg(long)]
        from_database: bool,
        /// Another tool's history table under a name shale does not find by itself
        /// (`migrationTableName: 'app_hist'`): left out of the baseline and watched
        #[arg(long, value_name = "NAME")]
        table: Vec<String>,
        /// Record VERSION even when the database's schema is not what the migrations up to it build
        #[arg(long, conflicts_with = "from_database")]
        force: bool,
        /// A server where shale may create (and drop) a scratch database, to build the migrations
        /// up to VERSION on [default: a temporary local server]
        #[arg(long, value_name = "URL", conflicts_with_all = ["from_database", "force"])]
        dev_url: Option<String>,
    },
    /// Take over the history another tool (golang-migrate, dbmate, goose, sql-migrate, tern, sqlx,
    /// diesel, Flyway, refinery, node-pg-migrate, pop, Prisma, drizzle, Atlas, the Supabase CLI,
    /// Hasura, Sqitch, graphile-migrate, morph, Liquibase, db-migrate, Postgrator, postgres-migrations,
    /// pgmigrate, pyway, @slonik/migrator, bun, umzug with Sequelize's storage, yoyo)
    /// kept in this database: nothing runs, its table is left as it is
    #[command(after_help = "Examples:
  shale adopt --dry-run
  shale adopt
  shale adopt --from flyway --table app.flyway_schema_history")]
    Adopt(AdoptArgs),
    /// Record a decision about a failed, modified or missing migration (an audit row; nothing is run)
    #[command(after_help = "Examples:
  shale repair 0004 --applied --reason \"finished by hand\"
  shale repair 0004 --rolled-back --reason \"undone by hand\"
  shale repair 0001 --applied --reason \"file removed after the 0100 squash\"
  shale repair --all-missing --applied --reason \"old files removed after the 0100 squash\"
  shale repair 0004 --resume-at 3 --reason \"statement 2 had run\"")]
    Repair(RepairArgs),
    /// The project's development PostgreSQL under .shale/dev
    #[command(after_help = "Examples:\n  shale dev start\n  shale --dev up\n  shale dev psql\n  shale dev stop")]
    Dev {
        #[command(subcommand)]
        action: DevAction,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell)
    #[command(
        after_help = "Examples:\n  shale completions bash > ~/.local/share/bash-completion/completions/shale\n  shale completions zsh > \"${fpath[1]}/_shale\"\n  shale completions fish > ~/.config/fish/completions/shale.fish"
    )]
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
        shell: String,
    },
    /// Print the manual page (roff), or write one per command into a directory
    #[command(after_help = "Examples:\n  shale man | man -l -\n  shale man --out /usr/local/share/man/man1")]
    Man {
        /// Write shale.1 and shale-COMMAND.1 into this directory instead
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the current version (golang-migrate's `version`)
    #[command(after_help = "Example:
  shale version")]
    Version,
}

/// The global options each command's `--help` shows: all are accepted everywhere, but a command
/// lists only those that mean something to it (the fleet options on the commands that run on many
/// databases, the busy-table ones where migrations run, no connection options where nothing connects).
fn shown_options(command: &str) -> [bool; 4] {
    let fleet = matches!(command, "up" | "down" | "status" | "validate" | "drift");
    let busy = matches!(command, "up" | "down" | "redo" | "goto" | "seed");
    let connects = !matches!(command, "new" | "init" | "completions" | "man" | "help" | "dev");
    let reads_migrations = !matches!(
        command,
        "new" | "init" | "completions" | "man" | "help" | "dev" | "seed" | "dump" | "inspect" | "erd" | "backup"
    );
    [fleet, busy, connects, reads_migrations]
}

const FLEET_OPTIONS: &[&str] = &["targets", "targets_query", "schemas", "concurrency", "fail_fast", "shard"];
const BUSY_OPTIONS: &[&str] =
    &["lock_wait_max", "lock_try_timeout", "cancel_blockers_after", "terminate", "lock_acquire"];
const LIQUIBASE_OPTIONS: &[&str] = &["contexts", "label_filter"];
const CONNECTION_OPTIONS: &[&str] =
    &["database_url", "wait", "migration_lock_wait", "lock", "session_lock_timeout", "statement_timeout"];

/// Gives `command` and its subcommands hidden copies of the global options `ids` of `root`: clap
/// copies a global option into a subcommand only where the subcommand has none of that name.
fn hide_options(mut command: clap::Command, root: &clap::Command, ids: &[&str]) -> clap::Command {
    for id in ids {
        if let Some(arg) = root.get_arguments().find(|a| a.get_id() == id) {
            command = command.arg(arg.clone().hide(true));
        }
    }
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        command = command.mut_subcommand(name, |c| hide_options(c, root, ids));
    }
    command
}

impl GlobalArgs {
    /// `--log-format json`.
    pub fn log_json(&self) -> bool {
        self.log_format == "json"
    }
}

/// Ends the process on arguments clap refuses (help and version shown as clap shows them): with
/// `--json`, the error document on stdout; with `--log-format json`, an `error` event on stderr;
/// else clap's own text. Exit code 2 (usage), as clap's.
fn exit_on_usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    // (Lossy: the argument clap refused may not be UTF-8.)
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let json = args.iter().any(|a| a == "--json");
    let log_json = args.windows(2).any(|w| w[0] == "--log-format" && w[1] == "json")
        || args.iter().any(|a| a == "--log-format=json");
    if !json && !log_json {
        // How much to revert is never assumed: said how the other tools' habit is written here.
        let down = args.iter().skip(1).any(|a| a == "down" || a == "rollback");
        if down && e.kind() == ErrorKind::MissingRequiredArgument {
            eprint!("{}", e.render());
            eprintln!(
                "tip: `shale down --step 1` reverts the newest migration, as dbmate's `rollback`, golang-migrate's \
                 `down 1` and `rails db:rollback` do; `--all` reverts every one, as golang-migrate's `down` does"
            );
            std::process::exit(2);
        }
        e.exit()
    }
    let text = e.render().to_string();
    let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim()).to_string();
    // The error document and event every other error has (usage: exit code 2, as clap's).
    let error = anyhow::anyhow!(shale::Error::Invalid(message));
    if json {
        println!("{}", crate::error::to_json(&error));
    } else {
        crate::output::set_log_json(true);
        crate::output::log_error(&error);
    }
    std::process::exit(crate::error::exit_code(&error))
}

impl Cli {
    /// The arguments of this process, with each command's help showing the options that apply to it.
    pub fn parse_args() -> Cli {
        // The hidden copies change what help and usage errors show, never what parses: the tree
        // is built with them only when the plain one refuses the arguments (help included), as
        // building it cost most of a no-op start's CPU.
        // The tree is not freed either: the process ends soon after, and dropping it cost a
        // fifth of a no-op start's instructions.
        let plain = std::mem::ManuallyDrop::new(Cli::command()).try_get_matches_from_mut(std::env::args_os());
        if let Some(cli) = plain.ok().and_then(|m| Cli::from_arg_matches(&m).ok()) {
            return cli;
        }
        let root = Cli::command();
        let mut command = root.clone();
        let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
        for name in names {
            let groups = [FLEET_OPTIONS, BUSY_OPTIONS, CONNECTION_OPTIONS, LIQUIBASE_OPTIONS];
            let mut hidden: Vec<&str> = Vec::new();
            for (shown, ids) in shown_options(&name).into_iter().zip(groups) {
                if !shown {
                    hidden.extend_from_slice(ids);
                }
            }
            command = command.mut_subcommand(name, |c| hide_options(c, &root, &hidden));
        }
        let parsed = command.try_get_matches().and_then(|matches| Cli::from_arg_matches(&matches));
        parsed.unwrap_or_else(|e| exit_on_usage_error(e))
    }
}

impl Command {
    /// The command may change the database: its refusals say that nothing was applied.
    pub fn changes_database(&self) -> bool {
        matches!(
            self,
            Command::Up(_)
                | Command::Down(_)
                | Command::Seed(_)
                | Command::Redo
                | Command::Goto { .. }
                | Command::Baseline { .. }
                | Command::Repair(_)
                | Command::Adopt(_)
        )
    }

    /// What a refusal of the command says was left undone: `applied`, `reverted` for a down (the
    /// review: a refused down said "nothing was applied"), `changed` for a redo or a goto; None
    /// for a command that does not change the database.
    pub fn undone_on_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Down(_) => Some("reverted"),
            Command::Redo | Command::Goto { .. } => Some("changed"),
            _ if self.changes_database() => Some("applied"),
            _ => None,
        }
    }

    /// `--dry-run`: the command shows what it would do and changes nothing.
    pub fn dry_run(&self) -> bool {
        match self {
            Command::Up(a) => a.dry_run,
            Command::Down(a) => a.dry_run,
            Command::Adopt(a) => a.dry_run,
            Command::Goto { dry_run, .. } => *dry_run,
            _ => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Apply up to and including this version
    #[arg(long, conflicts_with = "step")]
    pub to: Option<String>,
    /// Apply at most N migrations
    #[arg(long)]
    pub step: Option<usize>,
    /// Print the plan (files, order, statements, transaction or not); run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Run the whole batch in one transaction
    #[arg(long)]
    pub single_transaction: bool,
    /// Before applying anything, back the database up with pg_dump (custom format) into DIR
    #[arg(long, value_name = "DIR")]
    pub backup: Option<PathBuf>,
    /// Apply even when the linter finds errors that no `-- shale:allow` covers
    #[arg(long)]
    pub force_unsafe: bool,
    /// Then run the seed files (as `shale seed`)
    #[arg(long)]
    pub seed: bool,
    /// Seeds directory or file for --seed [default: seeds/ beside the migrations directory (else a seed.sql there), or `seeds_dir`]
    #[arg(long, value_name = "PATH")]
    pub seeds: Option<PathBuf>,
    /// Apply the archived files a squash replaced, in its place (a database that applied only some of them)
    #[arg(long, value_name = "DIR")]
    pub from_archive: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files to lint, in order [default: the pending migrations; every migration without a database]
    pub files: Vec<PathBuf>,
    /// Lint every migration, applied or not
    #[arg(long, conflicts_with = "files")]
    pub all: bool,
    /// Lint only the migrations added since this git revision (a pull request's base, e.g.
    /// origin/main), with the earlier ones as context; no database needed
    #[arg(long, value_name = "REV", conflicts_with_all = ["files", "all"])]
    pub since: Option<String>,
    /// Major version of the target PostgreSQL [default: the server's, when linting pending migrations]
    #[arg(long, value_name = "MAJOR")]
    pub pg_version: Option<u32>,
    /// human, json, github (workflow annotations) or sarif (SARIF 2.1.0, for code scanning)
    #[arg(long, default_value = "human", value_parser = ["human", "json", "github", "sarif"])]
    pub format: String,
    /// Rewrite the files into the safe form where a finding has one (CONCURRENTLY, NOT VALID then
    /// VALIDATE, ...); never a file the database records as applied, nor, without a database, one git
    /// has committed unchanged
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the changes as a unified diff and write nothing
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// With --fix and no database: rewrite files git has committed unchanged too
    #[arg(long, requires = "fix")]
    pub force: bool,
}

/// The tools `adopt --from` names, as the library knows them, with their other names.
fn tool_names() -> clap::builder::PossibleValuesParser {
    let named = |t: shale_core::adopt::Tool| clap::builder::PossibleValue::new(t.as_str()).aliases(t.aliases());
    clap::builder::PossibleValuesParser::new(shale_core::adopt::Tool::ALL.map(named))
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool whose history to take over, when more than one is found or the table was renamed
    #[arg(long, value_name = "TOOL", value_parser = tool_names())]
    pub from: Option<String>,
    /// The other tool's history table (`name` or `schema.name`), when not its default
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Show what would be recorded; record nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Take nothing over: the other tool's table belongs to something else; shale starts its own
    /// history here and `up` runs every migration
    #[arg(long, conflicts_with_all = ["from", "table"])]
    pub nothing: bool,
    /// Take over files changed since the other tool applied them as they are now (each named),
    /// instead of refusing: for Prisma and drizzle projects, whose tools never compare them
    #[arg(long)]
    pub accept_changed: bool,
    /// Take over migrations the other tool applied whose file is gone (each named) as applied with
    /// no file, instead of refusing: after a squash (Prisma's), whose old rows stay in its table
    #[arg(long)]
    pub accept_missing: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Run every seed file again, changed or not
    #[arg(long)]
    pub force: bool,
    /// Seeds directory or file [default: seeds/ beside the migrations directory (else a seed.sql there), or `seeds_dir` in shale.toml]
    #[arg(long, value_name = "PATH")]
    pub seeds: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct DownTarget {
    /// Revert this many migrations
    #[arg(long)]
    pub step: Option<usize>,
    /// Revert every migration newer than this version
    #[arg(long)]
    pub to: Option<String>,
    /// Revert everything
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub target: DownTarget,
    /// Print the plan; run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// For migrations with no down: compute one from the schemas before and after each
    /// (replayed on a throwaway database), show it, and run it
    #[arg(long)]
    pub generate: bool,
    /// With --generate: run generated downs that drop data (tables, columns the migration added)
    #[arg(long, requires = "generate")]
    pub allow_destructive: bool,
    /// With --generate: a server where shale may create (and drop) a scratch database [default: a temporary local server]
    #[arg(long, value_name = "URL", requires = "generate")]
    pub dev_url: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("decision").required(true).args(["applied", "rolled_back", "resume_at", "accept_other_history"])
))]
pub struct RepairArgs {
    /// The migration, or several (each recorded as decided, in the order given)
    #[arg(required_unless_present_any = ["all_missing", "accept_other_history"], num_args = 1.., value_name = "VERSION")]
    pub version: Vec<String>,
    /// In place of VERSION: record the history of the tool before shale (Django's, Alembic's,
    /// Rails', ...) as it is now, where it changed since the baseline only by what shale's
    /// migrations already made (Django's `migrate --fake`) or what `drift --fix --direction adopt`
    /// wrote: the warning that it still migrates comes back only when it changes again
    #[arg(long, conflicts_with_all = ["version", "all_missing", "force"])]
    pub accept_other_history: bool,
    /// Every applied migration whose file is gone, in place of one VERSION (with --applied when
    /// the files were removed on purpose, e.g. after a squash)
    #[arg(long, conflicts_with_all = ["version", "resume_at"])]
    pub all_missing: bool,
    /// Its effects are in the database (finished by hand, or the edited file is what ran). For
    /// one whose file was removed on purpose: it counts as applied with no file from then on
    #[arg(long)]
    pub applied: bool,
    /// Its effects are not in the database: `up` runs it again
    #[arg(long)]
    pub rolled_back: bool,
    /// For a migration outside a transaction that stopped part-way: statements before N ran,
    /// the rest did not; `up` continues at statement N
    #[arg(long, value_name = "N")]
    pub resume_at: Option<usize>,
    /// Record --rolled-back even for an applied migration whose file is unchanged, or for
    /// --all-missing
    #[arg(long)]
    pub force: bool,
    /// Why: kept in the history as the audit trail
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Subcommand)]
pub enum DevAction {
    /// Start it (creating it on first use) and print its URL
    Start,
    /// Stop it
    Stop,
    /// Whether it runs, and where
    Status,
    /// Print its URL
    Url,
    /// Open psql on it; what follows goes to psql (`shale dev psql -c 'select 1'`)
    Psql {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "PSQL ARGS")]
        args: Vec<String>,
    },
}
