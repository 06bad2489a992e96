//! Command-line arguments (clap only; resolved into Settings by settings.rs).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Database URL (postgres://... or key=value); else DATABASE_URL (or the variable shale.toml names), else PG* variables
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Use the project's development PostgreSQL (.shale/dev), starting it if needed
    #[arg(long, global = true, conflicts_with = "database_url")]
    pub dev: bool,
    /// Migrations directory [default: migrations, or `dir` in shale.toml]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Configuration file [default: shale.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Machine-readable output (status, up, down, validate, ...)
    #[arg(long, global = true)]
    pub json: bool,
    /// Only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (each statement of no-transaction migrations, lock waits)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Retry connecting this long while the server starts, e.g. 30s
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// How long to wait for another shale runner's migration lock, e.g. 10m
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,
    /// Migration lock: advisory, table (a lease row, for transaction-mode poolers) or auto [default: auto, or `lock` in shale.toml]
    #[arg(long, global = true, value_name = "KIND", value_parser = ["advisory", "table", "auto"])]
    pub lock: Option<String>,
    /// PostgreSQL lock_timeout in every session, e.g. 5s (0 = off)
    #[arg(long, global = true, value_name = "DURATION")]
    pub session_lock_timeout: Option<String>,
    /// PostgreSQL statement_timeout in every session, e.g. 10min (0 = off)
    #[arg(long, global = true, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Many databases at once: `up`, `down`, `status` and `validate` run on every target.
#[derive(Debug, Args, Clone, Default)]
pub struct FleetArgs {
    /// Run on every target of this TOML file (named URLs, optionally a schema each)
    #[arg(long, global = true, value_name = "FILE", group = "fleet_source")]
    pub targets: Option<PathBuf>,
    /// Run on every database this query returns (columns url, and optionally name and schema), run on the configured database
    #[arg(long, global = true, value_name = "SQL", group = "fleet_source")]
    pub targets_query: Option<String>,
    /// Run on every schema of the configured database matching PATTERN (`*` any characters, `?` one), each with its own history table and search_path
    #[arg(long, global = true, value_name = "PATTERN", group = "fleet_source")]
    pub schemas: Option<String>,
    /// Targets migrated at once [default: 8, capped by the targets and the servers' free connections]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// After a target fails, start no new ones
    #[arg(long, global = true)]
    pub fail_fast: bool,
}

impl FleetArgs {
    pub fn is_fleet(&self) -> bool {
        self.targets.is_some() || self.targets_query.is_some() || self.schemas.is_some()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create migrations/ and a commented shale.toml
    Init,
    /// Create the next migration file, following the directory's convention
    New {
        /// What the migration does, e.g. add_users_username
        name: String,
        /// Also create a down migration
        #[arg(long)]
        reversible: bool,
    },
    /// Apply pending migrations
    Up(UpArgs),
    /// Revert applied migrations, newest first
    Down(DownArgs),
    /// Run the sample-data files in seeds/ that never ran or changed since
    Seed(SeedArgs),
    /// Revert the newest migration and apply it again
    Redo,
    /// Migrate up or down to exactly this version
    Goto { version: String },
    /// Show every migration and its state
    Status,
    /// Compare the live schema with what the migrations build (replayed into a throwaway server); exit 1 on drift
    Drift(crate::commands::drift::DriftArgs),
    /// For CI, on a throwaway server: apply everything, check each down restores the schema; exit 1 on failure
    Check(crate::commands::check::CheckArgs),
    /// Write the database schema as a deterministic SQL script
    Dump(crate::commands::dump::DumpArgs),
    /// The SQL that turns one schema (database, migrations directory or schema file) into another
    Diff(crate::commands::diff::DiffArgs),
    /// What each migration will lock, rewrite or destroy; refuses the dangerous ones (exit 1)
    Lint(LintArgs),
    /// Tables with their size; or one table's columns, constraints, indexes, triggers and foreign keys
    Inspect {
        /// A table, optionally schema-qualified
        table: Option<String>,
    },
    /// Check the files (and, with a database, the history) without changing anything
    Validate,
    /// Mark an existing database as being at VERSION without running anything
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
    },
    /// Take over the history another tool (golang-migrate, dbmate, goose, sqlx, diesel, Flyway,
    /// refinery, node-pg-migrate) kept in this database: nothing runs, its table is left as it is
    Adopt(AdoptArgs),
    /// Record a decision about a failed, modified or missing migration (an audit row; nothing is run)
    Repair(RepairArgs),
    /// The project's development PostgreSQL under .shale/dev
    Dev {
        #[command(subcommand)]
        action: DevAction,
    },
    /// Print the current version (golang-migrate's `version`)
    Version,
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
    /// Seeds directory for --seed [default: seeds/ beside the migrations directory, or `seeds_dir`]
    #[arg(long, value_name = "DIR")]
    pub seeds: Option<PathBuf>,
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
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool whose history to take over, when more than one is found or the table was renamed
    #[arg(long, value_name = "TOOL", value_parser = ["golang-migrate", "dbmate", "goose", "sqlx", "diesel", "flyway", "refinery", "node-pg-migrate"])]
    pub from: Option<String>,
    /// The other tool's history table (`name` or `schema.name`), when not its default
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Show what would be recorded; record nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Run every seed file again, changed or not
    #[arg(long)]
    pub force: bool,
    /// Seeds directory [default: seeds/ beside the migrations directory, or `seeds_dir` in shale.toml]
    #[arg(long, value_name = "DIR")]
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
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["applied", "rolled_back", "resume_at"])))]
pub struct RepairArgs {
    pub version: String,
    /// Its effects are in the database (finished by hand, or the edited file is what ran)
    #[arg(long)]
    pub applied: bool,
    /// Its effects are not in the database: `up` runs it again
    #[arg(long)]
    pub rolled_back: bool,
    /// For a migration outside a transaction that stopped part-way: statements before N ran,
    /// the rest did not; `up` continues at statement N
    #[arg(long, value_name = "N")]
    pub resume_at: Option<usize>,
    /// Record --rolled-back even for an applied migration whose file is unchanged
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
    /// Open psql on it
    Psql,
}
