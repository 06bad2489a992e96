//! Flags, shale.toml, the environment and .env resolved once into Settings.
//! Precedence: flag > environment > .env > shale.toml > default.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use shale_pg::{ConnectionSettings, SessionSettings};

use crate::args::{BusyTableArgs, GlobalArgs};

/// shale.toml. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub dir: Option<PathBuf>,
    /// The environment variable holding the database URL (default DATABASE_URL).
    pub database_url_env: Option<String>,
    pub history_schema: Option<String>,
    pub history_table: Option<String>,
    pub lock_timeout: Option<String>,
    pub statement_timeout: Option<String>,
    /// How long to wait for another runner's migration lock, e.g. "10m".
    pub migration_lock_wait: Option<String>,
    pub lock_retries: Option<u32>,
    /// The migration lock: "advisory", "table" (a lease row) or "auto" (the default).
    pub lock: Option<shale_pg::LockKind>,
    /// How long a table lease lasts without renewal, e.g. "30s" (advanced; mostly for tests).
    pub lock_lease_ttl: Option<String>,
    pub allow_out_of_order: Option<bool>,
    /// Retry connecting this long, e.g. "30s".
    pub connect_wait: Option<String>,
    /// Strong locks: `wait-clear` (default) or `queue`.
    pub lock_acquire: Option<String>,
    /// How long to wait in all for a busy table, e.g. "5m".
    pub lock_wait_max: Option<String>,
    /// The lock_timeout of each try once a table is free, e.g. "50ms".
    pub lock_try_timeout: Option<String>,
    /// Sample-data SQL files for `shale seed` (default: seeds/ beside the migrations directory).
    pub seeds_dir: Option<PathBuf>,
    /// Refresh this schema file (`shale dump`) after every `up` that changed something.
    pub dump_after_up: Option<PathBuf>,
    /// Refresh this picture of the schema (`shale erd`) after every `up` that changed something;
    /// its extension picks the format (.mmd, .md, .dot, .gv, .svg).
    pub erd_after_up: Option<PathBuf>,
    /// `[lint]`: rules to disable and severities to change (checked by the linter).
    pub lint: Option<shale_lint::LintConfig>,
    /// `[placeholders]`: the value of each Flyway placeholder (`${name}` in a V, U or R file).
    pub placeholders: Option<std::collections::BTreeMap<String, String>>,
    /// `[liquibase]`: which changesets of Liquibase changelogs run.
    pub liquibase: Option<LiquibaseConfig>,
    /// The server where drift, check, diff, erd, squash, baseline and generated downs may create
    /// scratch databases (`--dev-url` and `SHALE_DEV_URL` win over it).
    pub dev_url: Option<String>,
    /// SQL run on each of those scratch databases before anything is built there: what the
    /// migrations need and do not make (a platform's schemas and roles).
    pub replay_setup: Option<PathBuf>,
    /// The sessions' search_path (`app_public, public`), where the connection string gives none:
    /// what graphile-migrate's `.gmrc` `pgSettings` gave its migrations.
    pub search_path: Option<String>,
}

/// `[liquibase]` in shale.toml: Liquibase's `contexts` and `label-filter`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquibaseConfig {
    /// The contexts a run is given, e.g. "prod, eu".
    pub contexts: Option<String>,
    /// The label filter, e.g. "!slow and v2".
    pub label_filter: Option<String>,
}

pub const CONFIG_TEMPLATE: &str = r#"# shale configuration. Every setting is optional; flags and the environment override it.

# Where the migration files live.
dir = "migrations"

# The environment variable (or .env entry) holding the database URL, when it is not
# DATABASE_URL (e.g. NEON_DATABASE_URL; several separated by commas: the first set wins);
# --database-url overrides it.
# database_url_env = "DATABASE_URL"

# Where shale keeps its history (created on first use).
# history_schema = "public"
# history_table = "shale_migrations"

# PostgreSQL timeouts for every migration session; a file can override them with
# `-- shale:lock-timeout=30s` or `-- shale:statement-timeout=10min`.
# lock_timeout = "5s"
# statement_timeout = "0"

# How often a lock timeout is retried (with exponential backoff) before giving up.
# lock_retries = 5

# How long to wait for another shale runner holding the migration lock.
# migration_lock_wait = "10m"

# The migration lock: "advisory" (a transaction-level advisory lock, held by a connection of its
# own; safe directly and through session- and transaction-mode poolers), "table" (a lease row
# with a heartbeat, which works through any pooler, statement mode included), or "auto": the
# advisory lock, unless the connection refuses to keep a transaction open (statement mode).
# lock = "auto"

# Retry connecting this long while the server starts (as with --wait).
# connect_wait = "30s"

# A server where drift, check, diff, erd, squash, baseline and generated downs may create (and
# drop) scratch databases, one with the roles and extensions the migrations need (--dev-url and
# SHALE_DEV_URL override it); without it, a temporary local server.
# dev_url = "postgresql://postgres@localhost:5432/postgres"

# SQL run on each of those scratch databases before the migrations: what they need and do not
# make, as the platform does (Supabase's auth schema, auth.uid(), its roles).
# replay_setup = "supabase/replay_setup.sql"

# A statement that would stall the application (an ALTER TABLE, a CREATE INDEX without
# CONCURRENTLY) waits, without queueing, until no session holds its table, then tries with a
# short lock_timeout: the application never waits for the lock longer than that (the statement's
# own run, and anything after it in its transaction, hold the lock: `shale lint` says where that
# is long). "queue" queues for
# the lock instead (with lock_timeout, retried lock_retries times).
# lock_acquire = "wait-clear"
# lock_try_timeout = "50ms"
# lock_wait_max = "5m"

# Sample-data SQL files run by `shale seed` (default: seeds/ beside the migrations directory).
# seeds_dir = "seeds"

# Refresh a deterministic schema dump after every `up` that changed something, so schema
# changes show in code review.
# dump_after_up = "schema.sql"

# Refresh a picture of the tables and foreign keys (`shale erd`) after every `up` that changed
# something; the extension picks the format: .mmd (Mermaid), .md (Mermaid in a fence), .dot, .svg.
# erd_after_up = "docs/schema.mmd"

# The sessions' search_path, where the connection string gives none: where unqualified names in
# the migrations land (graphile-migrate's `.gmrc` `pgSettings`). shale's history stays in
# history_schema.
# search_path = "app_public, app_private, public"

# Apply pending migrations older than the newest applied one.
# allow_out_of_order = false

# The safety linter: disable rules or change their severity ("error" blocks `shale up`).
# [lint]
# disable = ["prefer-text"]
# severity = { "set-not-null" = "error" }

# Flyway placeholders: `${name}` in a Flyway file (V1__x.sql, R__x.sql) is replaced by its value
# here before the file runs, as Flyway does with flyway.placeholders.name.
# [placeholders]
# schema = "app"

# Liquibase changelogs: the changesets these contexts and this label filter select run, as with
# `liquibase update --contexts ... --label-filter ...` (--contexts and --label-filter override).
# [liquibase]
# contexts = "prod"
# label_filter = "!experimental"
"#;

/// Everything a command needs, resolved and validated once: commands read these fields and never
/// the flags or shale.toml themselves.
#[derive(Debug)]
pub struct Settings {
    pub dir: PathBuf,
    /// The project root: the directory of shale.toml, else the working directory.
    pub root: PathBuf,
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// `--log-format json`: progress as JSON lines on stderr.
    pub log_json: bool,
    /// Where the database is: --database-url, --dev, the configured variable, then the PG*
    /// variables; None when nothing names one (commands that need it fail with [`NoDatabase`]).
    pub database: Option<Database>,
    /// The variable holding the database URL: `database_url_env` in shale.toml, else DATABASE_URL.
    pub database_url_env: String,
    /// PostgreSQL's lock_timeout and statement_timeout for every migration session.
    pub session: SessionSettings,
    /// How long to wait for another runner's migration lock.
    pub migration_lock_wait: Duration,
    /// The migration lock: advisory, table lease, or auto.
    pub lock: shale_pg::LockKind,
    /// How long a table lease lasts without renewal.
    pub lease_ttl: Duration,
    /// Retry connecting this long while the server starts.
    pub connect_wait: Option<Duration>,
    /// How often a lock_timeout is retried when queueing (None: the library's default).
    pub lock_retries: Option<u32>,
    /// How statements that would stall the application take their locks: None queues for them.
    pub busy_tables: Option<shale_pg::lockwait::LockWaitOptions>,
    /// The history table shale.toml names (the default one otherwise).
    pub history: shale::HistoryTable,
    /// `allow_out_of_order` in shale.toml (`up --allow-out-of-order` adds to it).
    pub allow_out_of_order: bool,
    /// Refresh this schema file after every `up` that changed something (under the root).
    pub dump_after_up: Option<PathBuf>,
    /// Refresh this picture (under the root), in this format, after every `up` that changed something.
    pub erd_after_up: Option<(PathBuf, shale_schema::erd::Format)>,
    /// `[lint]`: rules disabled, severities changed, the large-table threshold.
    pub lint: LintSettings,
    /// How the migration files are read: `[placeholders]` (the values of `${name}` in Flyway's and
    /// Liquibase's files) and the Liquibase changesets that run (`--contexts`, `--label-filter`).
    pub reading: shale_core::layout::ReadSettings,
    /// --targets, --targets-query, --schemas and how to run them.
    pub fleet: FleetSettings,
    /// Deprecated spellings used, each with what to write instead (printed once as a warning).
    pub deprecations: Vec<&'static str>,
    /// The server for scratch databases when no `--dev-url` is given: `SHALE_DEV_URL` (the
    /// environment, then .env), else `dev_url` in shale.toml; None: a temporary local server.
    pub dev_url: Option<String>,
    /// `replay_setup` in shale.toml, relative to it: run on each scratch database first.
    pub replay_setup: Option<PathBuf>,
    /// `search_path` in shale.toml: the sessions' where the connection string gives none.
    pub search_path: Option<String>,
    /// The seeds directory (or file) when no flag names one: `seeds_dir`, else seeds/ beside the
    /// migrations (or the Supabase CLI's seed.sql there).
    seeds_dir: PathBuf,
    env: Env,
}

/// Where the database comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A URL or key=value string, and where it came from (`--database-url`, or a variable's name).
    Url { text: String, origin: String },
    /// `--dev`: the project's development server, started by the command that connects
    /// (`commands::connection`).
    Dev,
    /// libpq's PG* variables alone.
    PgVariables,
}

/// The linter's configuration (`[lint]` of shale.toml), checked.
#[derive(Debug, Clone)]
pub struct LintSettings {
    pub rules: shale_lint::RuleConfig,
    /// A table with more rows than this is large.
    pub large_table_rows: i64,
}

/// Many databases at once.
#[derive(Debug, Clone, Default)]
pub struct FleetSettings {
    /// Where the targets come from; None runs on the one configured database.
    pub targets: Option<FleetTargets>,
    pub concurrency: Option<usize>,
    pub fail_fast: bool,
    pub shard: Option<shale::fleet::Shard>,
}

/// `--targets FILE`, `--targets-query SQL` or `--schemas PATTERN`.
#[derive(Debug, Clone)]
pub enum FleetTargets {
    File(PathBuf),
    Query(String),
    Schemas(String),
}

/// The real environment, with .env entries as fallbacks (the real environment wins).
#[derive(Debug, Default)]
struct Env {
    dotenv: HashMap<String, String>,
    /// The keys `.env.local` set (its values are those in `dotenv`).
    local_keys: std::collections::HashSet<String>,
    /// Where `.env` and `.env.local` were read (the working directory's, or a parent's).
    dotenv_path: PathBuf,
    local_path: PathBuf,
}

impl Env {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().or_else(|| self.dotenv.get(key).cloned())
    }

    /// Every variable, the process's winning over `.env`'s (as [`Env::get`] reads one).
    fn variables(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.dotenv.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.extend(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))));
        all
    }

    /// The env files beside `.env` (`.env.development.local`, `.env.production`, ...) that shale
    /// does not read and that set `key` (Node trial: a URL there went unmentioned), by name.
    fn unread_files_setting(&self, key: &str) -> Vec<String> {
        let dir = self.dotenv_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let sets = |text: &str| {
            text.lines().any(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
                l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
            })
        };
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| {
                name.starts_with(".env.")
                    && name != ".env.local"
                    && ![".example", ".sample", ".template", ".dist"].iter().any(|s| name.ends_with(s))
            })
            .filter(|name| std::fs::read_to_string(dir.join(name)).is_ok_and(|t| sets(&t)))
            .collect();
        found.sort();
        found
    }

    /// Where `key`'s value comes from, for messages: `DATABASE_URL`, or `DATABASE_URL in .env`.
    fn origin(&self, key: &str) -> String {
        if std::env::var_os(key).is_some() {
            key.to_string()
        } else if self.local_keys.contains(key) {
            format!("{key} in {}", self.local_path.display())
        } else {
            format!("{key} in {}", self.dotenv_path.display())
        }
    }
}

/// `name` (`.env`) in the working directory, else in the nearest parent up to the repository's
/// root (the folder holding `.git`), as python-dotenv's `find_dotenv` looks for it: an application
/// run from `backend/` keeps its `.env` in the repository's top folder. The working directory's
/// path when there is none.
fn find_dotenv(name: &str) -> PathBuf {
    let here = PathBuf::from(name);
    if here.exists() {
        return here;
    }
    let Ok(cwd) = std::env::current_dir() else { return here };
    // Outside a repository nothing above is read (a home directory's .env is not this project's).
    let Some(root) = cwd.ancestors().position(|dir| dir.join(".git").exists()) else { return here };
    (1..=root)
        .find(|up| cwd.ancestors().nth(*up).is_some_and(|dir| dir.join(name).is_file()))
        .map(|up| std::iter::repeat_n("..", up).collect::<PathBuf>().join(name))
        .unwrap_or(here)
}

/// Said once when `--dev-url` carries a password, as for `--database-url`.
const PASSWORD_IN_THE_PROCESS_LIST_DEV: &str =
    "the password in --dev-url can be read by other users of this machine in \
     the process list (ps); put the URL in SHALE_DEV_URL (the environment or .env) or `dev_url` in shale.toml, or the \
     password in ~/.pgpass, instead";

impl Settings {
    /// The server for scratch databases: `flag` (`--dev-url`), else [`Settings::dev_url`].
    pub fn scratch_server<'a>(&'a self, flag: Option<&'a str>) -> Option<&'a str> {
        if let Some(url) = flag.filter(|_| !self.quiet) {
            if ConnectionSettings::parse(url).is_ok_and(|s| s.password.is_some()) {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| crate::output::warning(PASSWORD_IN_THE_PROCESS_LIST_DEV));
            }
        }
        flag.or(self.dev_url.as_deref())
    }

    /// Flags, shale.toml, the environment and .env, each value parsed and checked here: a bad one
    /// is a configuration error naming where it came from.
    pub fn resolve(global: &GlobalArgs) -> Result<Settings> {
        let (config, history, root) = match &global.config {
            Some(path) => {
                let (config, history) = read_config(path)?;
                (config, history, path.parent().map(Path::to_path_buf).unwrap_or_default())
            }
            // The working directory is the empty path, so paths shown read `migrations/...`.
            None if Path::new("shale.toml").exists() => {
                let (config, history) = read_config(Path::new("shale.toml"))?;
                (config, history, PathBuf::new())
            }
            None => (ConfigFile::default(), shale::HistoryTable::default(), PathBuf::new()),
        };
        let dir = match (&global.dir, &config.dir) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => root.join(d),
            (None, None) => root.join("migrations"),
        };
        // Next.js' `.env.local` (where its projects keep the database URL) wins over `.env`, as
        // there; the real environment wins over both.
        let (dotenv_path, local_path) = (find_dotenv(".env"), find_dotenv(".env.local"));
        let mut dotenv = read_dotenv(&dotenv_path)?;
        let local = read_dotenv(&local_path)?;
        let local_keys = local.keys().cloned().collect();
        dotenv.extend(local);
        let env = Env { dotenv, local_keys, dotenv_path, local_path };
        let database_url_env = url_variable(config.database_url_env.as_deref(), &env);
        let database = database(global, &env, &database_url_env);
        let lint = config.lint.clone().unwrap_or_default();
        let lint = LintSettings { rules: lint_rules(&lint)?, large_table_rows: lint.large_table_rows() };
        let seeds_dir = match &config.seeds_dir {
            Some(d) => root.join(d),
            None => default_seeds(dir.parent().unwrap_or(Path::new("."))),
        };
        let f = &global.fleet;
        let targets = match (&f.targets, &f.targets_query, &f.schemas) {
            (Some(file), _, _) => Some(FleetTargets::File(file.clone())),
            (_, Some(sql), _) => Some(FleetTargets::Query(sql.clone())),
            (_, _, Some(pattern)) => Some(FleetTargets::Schemas(pattern.clone())),
            _ => None,
        };
        Ok(Settings {
            session: session(global, &config)?,
            migration_lock_wait: match global.migration_lock_wait.or(global.deprecated_lock_timeout) {
                Some(d) => d,
                None => parse_duration(config.migration_lock_wait.as_deref(), "migration_lock_wait")?
                    .unwrap_or(Duration::from_secs(600)),
            },
            lock: match &global.lock {
                Some(flag) => {
                    flag.parse().map_err(|e: String| anyhow!(shale::Error::Invalid(format!("--lock: {e}"))))?
                }
                None => config.lock.unwrap_or_default(),
            },
            lease_ttl: lease_ttl(&config)?,
            connect_wait: match global.wait {
                Some(d) => Some(d),
                None => parse_duration(config.connect_wait.as_deref(), "connect_wait")?,
            },
            lock_retries: config.lock_retries,
            busy_tables: busy_tables(&global.busy, &config)?,
            history,
            allow_out_of_order: config.allow_out_of_order.unwrap_or(false),
            dump_after_up: config.dump_after_up.as_ref().map(|file| root.join(file)),
            // The format was checked when shale.toml was read.
            erd_after_up: config.erd_after_up.as_ref().map(|file| {
                let format = shale_schema::erd::Format::for_file(file).unwrap_or(shale_schema::erd::Format::Mermaid);
                (root.join(file), format)
            }),
            lint,
            reading: shale_core::layout::ReadSettings {
                placeholders: shale_core::placeholders::Placeholders::new(placeholders(&config, &env))
                    .with_environment(env.variables()),
                liquibase: liquibase_selection(global, &config, &env)?,
            },
            fleet: FleetSettings {
                targets,
                concurrency: f.concurrency.map(|n| n as usize),
                fail_fast: f.fail_fast,
                shard: f.shard,
            },
            deprecations: deprecations(global),
            dev_url: env.get("SHALE_DEV_URL").filter(|u| !u.trim().is_empty()).or_else(|| config.dev_url.clone()),
            replay_setup: config.replay_setup.as_ref().map(|file| root.join(file)),
            // (An empty one too: it reads as no setting, and the role's applied unsaid: operator trial.)
            search_path: match config.search_path.as_deref() {
                Some(path) if shale_core::ident::search_path_sql(path).is_none() => {
                    return Err(anyhow!(shale::Error::Invalid(format!(
                        "shale.toml: search_path = {path:?} is not a list of schema names: write them separated by \
                         commas (`app_public, public`), one holding a space, a comma or capitals in double quotes"
                    ))))
                }
                path => path.map(str::to_string),
            },
            seeds_dir,
            dir,
            root,
            json: global.json,
            quiet: global.quiet,
            verbose: global.verbose,
            log_json: global.log_json(),
            database,
            database_url_env,
            env,
        })
    }

    /// The seeds directory or file: the flag, else `seeds_dir`, else seeds/ beside the migrations
    /// directory, or where there is none, a `seed.sql` there (the Supabase CLI's `supabase/seed.sql`).
    pub fn seeds_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf).unwrap_or_else(|| self.seeds_dir.clone())
    }

    /// Where the development cluster lives.
    pub fn dev_dir(&self) -> PathBuf {
        self.root.join(".shale").join("dev")
    }

    /// Variables of the environment and .env named like a database URL (`*_DATABASE_URL`,
    /// `*_DB_URL`), with where they are set; never their values. The one Prisma Migrate connects
    /// with (schema.prisma's `directUrl`, past the pooler) comes first.
    fn database_url_candidates(&self) -> Vec<(String, &'static str)> {
        let mut found = self.url_like_variables();
        let direct = self.dir.parent().and_then(crate::commands::init::prisma_migrate_url_env);
        if let Some(at) = direct.and_then(|(name, _)| found.iter().position(|(k, _)| *k == name)) {
            let first = found.remove(at);
            found.insert(0, first);
        }
        found
    }

    fn url_like_variables(&self) -> Vec<(String, &'static str)> {
        // (goose's `GOOSE_DBSTRING`, and the `_DSN` names Go services give theirs.)
        let looks = |k: &str| {
            k.ends_with("DATABASE_URL")
                || k.ends_with("DB_URL")
                || k.ends_with("POSTGRES_URL")
                || k.ends_with("_DSN")
                || k == "GOOSE_DBSTRING"
                // ASP.NET's (`ConnectionStrings__Default`): an Npgsql connection string.
                || k.starts_with("ConnectionStrings__")
                || JDBC_URL_VARIABLES.iter().any(|(url, _, _)| k == *url)
        };
        // Or, in the project's .env, named as the project likes and holding a PostgreSQL URL
        // (dbmate trial: `DB_PG`, which its package.json gave dbmate with `-e DB_PG`).
        let holds_url =
            |v: &str| v.trim_start().starts_with("postgres://") || v.trim_start().starts_with("postgresql://");
        let mut found: Vec<(String, &'static str)> = self
            .env
            .dotenv
            .iter()
            .filter(|(k, v)| looks(k) || holds_url(v))
            .map(|(k, _)| k)
            .map(|k| (k.clone(), if self.env.local_keys.contains(k) { ".env.local" } else { ".env" }))
            .collect();
        found.extend(
            std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .filter(|k| looks(k))
                .map(|k| (k, "the environment")),
        );
        found.sort();
        found.dedup_by(|a, b| a.0 == b.0);
        // The variable shale reads is no other name for it (set, it is empty); one set to nothing
        // names no database (`DB_URL=` in a Laravel .env).
        found.retain(|(k, _)| *k != self.database_url_env && self.env.get(k).is_some_and(|v| !v.trim().is_empty()));
        found
    }

    /// An environment variable, with .env as the fallback (as for the database URL).
    pub fn env_var(&self, key: &str) -> Option<String> {
        self.env.get(key)
    }

    /// Where the database is, or the error saying that nothing names one.
    pub fn database(&self) -> Result<&Database> {
        self.database.as_ref().ok_or_else(|| {
            anyhow!(NoDatabase {
                variable: self.database_url_env.clone(),
                candidates: self.database_url_candidates(),
                empty: self.env.get(&self.database_url_env).is_some_and(|v| v.is_empty()),
                separate: SEPARATE_VARIABLES
                    .iter()
                    .filter(|k| self.env.get(k).is_some())
                    .map(|k| k.to_string())
                    .collect(),
                // (Not by DB_DATABASE or DB_USERNAME: NestJS's and TypeORM's templates use them too.)
                laravel: self.env.get("DB_CONNECTION").is_some() || std::path::Path::new("artisan").is_file(),
                unread_files: self.env.unread_files_setting(&self.database_url_env),
            })
        })
    }

    /// The connection to the database at `url` (a URL or key=value string; None: the PG*
    /// variables alone), `origin` naming where the URL came from; the PG* variables and the
    /// service file fill in what it leaves out. Nothing is started or contacted here.
    pub fn connection(&self, url: Option<&str>, origin: &str) -> Result<ConnectionSettings> {
        let mut settings = match url {
            Some(text) => ConnectionSettings::parse(text).map_err(|e| anyhow!("{e} (from {origin})"))?,
            None => ConnectionSettings::default(),
        };
        if origin == "--database-url" && settings.password.is_some() && !self.quiet {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                crate::output::warning(
                    "the password in --database-url can be read by other users of this machine in the process list (ps); \
                     put it in the environment (DATABASE_URL, PGPASSWORD), .env, ~/.pgpass or a pg_service.conf instead",
                )
            });
        }
        // Spring's and Flyway's URL holds neither user nor password: their variables beside it do.
        if let Some((_, user, password)) =
            JDBC_URL_VARIABLES.iter().find(|(url, _, _)| *url == self.database_url_env && origin.starts_with(url))
        {
            if settings.user.is_none() {
                settings.user = self.env.get(user).filter(|v| !v.is_empty());
            }
            if settings.password.is_none() {
                settings.password = self.env.get(password).filter(|v| !v.is_empty());
            }
        }
        settings
            .fill_from_env(&|k| self.env.get(k))
            // The message names its source: a PG* variable, or the service file and line.
            .map_err(|e| anyhow!("{e}"))?;
        // (The connection string's own, Prisma's schema, or a search_path in its `options` or
        // PGOPTIONS, wins: it names this database's; re-check: `options` lost to shale.toml's.)
        if settings.listed_search_path().is_none() && settings.schema.is_none() {
            settings.search_path = self.search_path.clone();
        }
        Ok(settings)
    }
}

/// Flyway's placeholder values: `[placeholders]` in shale.toml, with those the environment (or
/// `.env`) gives as Flyway and Spring Boot read them winning, as they win over Flyway's
/// configuration files: `FLYWAY_PLACEHOLDERS_NAME` and `SPRING_FLYWAY_PLACEHOLDERS_NAME`, the name
/// lowercased as both do (matched to `${Name}` in any case). A value per environment (`--` in
/// production to comment a statement out) is set where each environment sets its variables.
fn placeholders(config: &ConfigFile, env: &Env) -> std::collections::BTreeMap<String, String> {
    let mut values = config.placeholders.clone().unwrap_or_default();
    let keys: Vec<String> =
        env.dotenv.keys().cloned().chain(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())).collect();
    for key in keys {
        let Some(name) = ["SPRING_FLYWAY_PLACEHOLDERS_", "FLYWAY_PLACEHOLDERS_"]
            .iter()
            .find_map(|prefix| key.strip_prefix(prefix))
            .filter(|name| !name.is_empty())
        else {
            continue;
        };
        if let Some(value) = env.get(&key) {
            values.retain(|k, _| !k.eq_ignore_ascii_case(name));
            values.insert(name.to_ascii_lowercase(), value);
        }
    }
    // `"!ENV"`, as graphile-migrate's .gmrc writes it: the environment variable of the
    // placeholder's name (`DATABASE_VISITOR` for `:DATABASE_VISITOR`), set per environment. One
    // unset leaves the placeholder without a value, an error where a file uses it.
    let from_env: Vec<String> = values.iter().filter(|(_, v)| *v == "!ENV").map(|(k, _)| k.clone()).collect();
    for key in from_env {
        // (Empty counts as unset, as graphile-migrate counts it.)
        match env.get(key.trim_start_matches(':')).filter(|v| !v.is_empty()) {
            Some(value) => values.insert(key, value),
            None => values.remove(&key),
        };
    }
    values
}

/// The variables holding a JDBC URL (`jdbc:postgresql://db/app`) as Spring Boot and Flyway read
/// them, with those holding its user and password: `database_url_env = "SPRING_DATASOURCE_URL"`
/// reads the three, as the application does.
const JDBC_URL_VARIABLES: [(&str, &str, &str); 4] = [
    ("SPRING_DATASOURCE_URL", "SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD"),
    ("SPRING_FLYWAY_URL", "SPRING_FLYWAY_USER", "SPRING_FLYWAY_PASSWORD"),
    ("FLYWAY_URL", "FLYWAY_USER", "FLYWAY_PASSWORD"),
    ("SPRING_LIQUIBASE_URL", "SPRING_LIQUIBASE_USER", "SPRING_LIQUIBASE_PASSWORD"),
];

/// seeds/ in `base` (the migrations directory's parent), or the Supabase CLI's single `seed.sql`
/// there when there is no seeds/.
fn default_seeds(base: &Path) -> PathBuf {
    let seeds = base.join("seeds");
    match (seeds.exists(), base.join("seed.sql")) {
        (false, file) if file.is_file() => file,
        _ => seeds,
    }
}

/// The deprecated spellings `global` uses, each with the warning it gets.
fn deprecations(global: &GlobalArgs) -> Vec<&'static str> {
    let mut found = Vec::new();
    if global.deprecated_lock_timeout.is_some() {
        found.push(DEPRECATED_LOCK_TIMEOUT);
    }
    found
}

/// `--lock-timeout` was the migration lock's wait, while `lock_timeout` in shale.toml, the
/// `-- shale:lock-timeout` directive and --session-lock-timeout are PostgreSQL's lock_timeout.
const DEPRECATED_LOCK_TIMEOUT: &str = "--lock-timeout is deprecated: use --migration-lock-wait; \
     PostgreSQL's lock_timeout is set with lock_timeout in shale.toml or --session-lock-timeout";

/// The URL as --database-url gives it, from the environment: how the Python and Node packages pass
/// the URL their caller gives, so that its password is not in the process list (as an argument
/// would be) and wins over DATABASE_URL as the argument would.
const SHALE_DATABASE_URL: &str = "SHALE_DATABASE_URL";

/// The variable the database URL is read from: of `database_url_env` (one name, or several
/// separated by commas, the first set wins, as Prisma 7's `env("DIRECT_DATABASE_URL") ||
/// env("DATABASE_URL")` falls back: breadth trial, rallly's `.env` set only the second), the first
/// set; else its first; DATABASE_URL where it is not given.
fn url_variable(setting: Option<&str>, env: &Env) -> String {
    let Some(setting) = setting else { return "DATABASE_URL".into() };
    let names: Vec<&str> = setting.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    let set = names.iter().find(|n| env.get(n).is_some_and(|v| !v.is_empty()));
    set.or(names.first()).map_or_else(|| "DATABASE_URL".into(), |n| n.to_string())
}

/// Where the database comes from, in order of precedence; None when nothing names one.
fn database(global: &GlobalArgs, env: &Env, variable: &str) -> Option<Database> {
    if let Some(url) = &global.database_url {
        Some(Database::Url { text: url.clone(), origin: "--database-url".into() })
    } else if global.dev {
        Some(Database::Dev)
    } else if let Some(url) = env.get(SHALE_DATABASE_URL).filter(|v| !v.is_empty()) {
        // Named as what the caller gave: the URL passed to the Python or Node API.
        let origin = format!("{}: the URL given to the Python or Node API", env.origin(SHALE_DATABASE_URL));
        Some(Database::Url { text: url, origin })
    } else if let Some(url) = env.get(variable).filter(|v| !v.is_empty()) {
        Some(Database::Url { text: url, origin: env.origin(variable) })
    } else if ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"].iter().any(|k| env.get(k).is_some()) {
        Some(Database::PgVariables)
    } else {
        None
    }
}

/// Session settings, each checked: a bad value is a configuration error naming where it came from.
fn session(global: &GlobalArgs, config: &ConfigFile) -> Result<SessionSettings> {
    let defaults = SessionSettings::default();
    let pick = |flag: &Option<String>, flag_name: &str, key: &Option<String>, key_name: &str, default: String| {
        let (value, origin) = match (flag, key) {
            (Some(v), _) => (v.clone(), format!("--{flag_name}")),
            (None, Some(v)) => (v.clone(), format!("`{key_name}` in shale.toml")),
            (None, None) => return Ok(default),
        };
        shale_core::directives::pg_duration(&value)
            .map_err(|e| anyhow!(shale::Error::Invalid(format!("{origin}: {e}"))))
    };
    Ok(SessionSettings {
        lock_timeout: pick(
            &global.session_lock_timeout,
            "session-lock-timeout",
            &config.lock_timeout,
            "lock_timeout",
            defaults.lock_timeout,
        )?,
        statement_timeout: pick(
            &global.statement_timeout,
            "statement-timeout",
            &config.statement_timeout,
            "statement_timeout",
            defaults.statement_timeout,
        )?,
        application_name: defaults.application_name,
        search_path: None,
    })
}

/// How long a table lease lasts without renewal: `lock_lease_ttl` in shale.toml, else 30s.
fn lease_ttl(config: &ConfigFile) -> Result<Duration> {
    // At least MIN_LEASE_TTL: `read_config` checked it.
    Ok(parse_duration(config.lock_lease_ttl.as_deref(), "lock_lease_ttl")?
        .unwrap_or(shale_pg::lease::DEFAULT_LEASE_TTL))
}

/// How statements that would stall the application take their locks: None queues for them.
fn busy_tables(busy: &BusyTableArgs, config: &ConfigFile) -> Result<Option<shale_pg::lockwait::LockWaitOptions>> {
    let how = busy.lock_acquire.clone().or_else(|| config.lock_acquire.clone()).unwrap_or_else(|| "wait-clear".into());
    match how.as_str() {
        "queue" => return Ok(None),
        "wait-clear" => {}
        other => bail!(shale::Error::Invalid(format!(
            "`lock_acquire = \"{other}\"` in shale.toml: expected \"wait-clear\" or \"queue\""
        ))),
    }
    let defaults = shale_pg::lockwait::LockWaitOptions::default();
    Ok(Some(shale_pg::lockwait::LockWaitOptions {
        try_timeout: match busy.lock_try_timeout {
            Some(d) => d,
            None => {
                parse_duration(config.lock_try_timeout.as_deref(), "lock_try_timeout")?.unwrap_or(defaults.try_timeout)
            }
        },
        max_wait: match busy.lock_wait_max {
            Some(d) => d,
            None => parse_duration(config.lock_wait_max.as_deref(), "lock_wait_max")?.unwrap_or(defaults.max_wait),
        },
        cancel_after: busy.cancel_blockers_after,
        terminate_idle: busy.terminate,
    }))
}

/// The rules `[lint]` configures, once every id names a rule and every severity is one: else a
/// configuration error.
fn lint_rules(config: &shale_lint::LintConfig) -> Result<shale_lint::RuleConfig, shale::Error> {
    config.rules().map_err(|e| {
        shale::Error::Invalid(match e {
            shale_lint::ConfigError::UnknownRule { .. } => format!("shale.toml [lint]: {e}"),
            shale_lint::ConfigError::BadSeverity { .. } => format!("shale.toml [lint] {e}"),
        })
    })
}

/// No database was configured anywhere.
#[derive(Debug)]
pub struct NoDatabase {
    /// The variable shale looked in.
    pub variable: String,
    /// Other variables (environment or .env) that look like a database URL: `NEON_DATABASE_URL`.
    pub candidates: Vec<(String, &'static str)>,
    /// `variable` is set, to nothing.
    pub empty: bool,
    /// An application's separate settings (`DB_HOST`, `DB_DATABASE`, ...) that are set: shale
    /// does not read them.
    pub separate: Vec<String>,
    /// They are Laravel's (its `DB_CONNECTION` is set, or its `artisan` is here), which reads a
    /// `DB_URL` too.
    pub laravel: bool,
    /// Env files beside `.env` that shale does not read and that set `variable` (Next.js's
    /// `.env.development.local`, `.env.production`).
    pub unread_files: Vec<String>,
}

/// An application's database settings, one variable each: Laravel's (its `.env`), and those
/// Node applications read in their own code (a TypeORM DataSource's, a knexfile's).
const SEPARATE_VARIABLES: [&str; 5] = ["DB_HOST", "DB_DATABASE", "DB_USERNAME", "DB_NAME", "DB_USER"];

impl std::fmt::Display for NoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no database configured: pass --database-url, set {} (in the environment or .env), set PGHOST/PGDATABASE (or PGSERVICE), or use --dev for a local development PostgreSQL",
            self.variable
        )?;
        if self.empty {
            write!(f, ". {} is set, but empty", self.variable)?;
        }
        if let Some((name, place)) = self.candidates.first() {
            // A shell expands only the environment's variables, not .env's; and a JDBC URL's user
            // and password are in variables beside it, which only database_url_env reads.
            let jdbc = JDBC_URL_VARIABLES.iter().any(|(url, _, _)| url == name);
            let or_pass = match *place {
                "the environment" if !jdbc => format!(" (or pass --database-url \"${name}\")"),
                _ => String::new(),
            };
            write!(
                f,
                ". {name} is set in {place}: to use it, put `database_url_env = \"{name}\"` in shale.toml{or_pass}"
            )?;
        } else if !self.unread_files.is_empty() {
            write!(
                f,
                ". {} is set in {}, which shale does not read (Next.js reads such files for one environment): \
                 put it in .env or .env.local, or export it before running shale",
                self.variable,
                self.unread_files.join(" and ")
            )?;
        } else if !self.separate.is_empty() {
            let set = match self.separate.as_slice() {
                [one] => format!("{one} is"),
                more => format!("{} are", more.join(", ")),
            };
            // (Laravel reads DB_URL too: one setting serves both.)
            match self.laravel {
                true => write!(
                    f,
                    ". {set} set (Laravel's settings), which shale does not read: write them as one URL, \
                     DB_URL=postgresql://USER:PASSWORD@HOST:PORT/DATABASE (which Laravel reads as well), and put \
                     `database_url_env = \"DB_URL\"` in shale.toml"
                )?,
                // (Kutt's knexfile, a TypeORM DataSource: they read their own variables, not a URL.)
                false => write!(
                    f,
                    ". {set} set (the application's own settings), which shale does not read: write them as one \
                     URL beside them, DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
                )?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for NoDatabase {}

/// A shale.toml duration (`read_config` has checked it, with its position).
fn parse_duration(value: Option<&str>, key: &str) -> Result<Option<Duration>> {
    value.map(|v| duration_value(key, v).map_err(|message| anyhow!("shale.toml: {message}"))).transpose()
}

fn duration_value(key: &str, value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{key} = \"{value}\"` is not a duration ({e}); write e.g. \"30s\" or \"10m\""))
}

/// The first duration of `config` that does not parse or is too short, with its key: checked as
/// the file is read, so that the error can show where it is.
fn bad_duration(config: &ConfigFile) -> Option<(&'static str, String)> {
    // PostgreSQL's own settings, in its units (500ms, 10s, 0 = off).
    let postgres = [("lock_timeout", &config.lock_timeout), ("statement_timeout", &config.statement_timeout)];
    for (key, value) in postgres {
        if let Some(Err(e)) = value.as_deref().map(shale_core::directives::pg_duration) {
            return Some((key, format!("`{key}`: {e}")));
        }
    }
    let shale = [
        ("migration_lock_wait", &config.migration_lock_wait),
        ("connect_wait", &config.connect_wait),
        ("lock_lease_ttl", &config.lock_lease_ttl),
        ("lock_wait_max", &config.lock_wait_max),
        ("lock_try_timeout", &config.lock_try_timeout),
    ];
    if let Some(problem) =
        shale.into_iter().find_map(|(key, value)| Some((key, duration_value(key, value.as_deref()?).err()?)))
    {
        return Some(problem);
    }
    let ttl = config.lock_lease_ttl.as_deref().and_then(|v| humantime::parse_duration(v).ok())?;
    (ttl < shale_pg::lease::MIN_LEASE_TTL).then(|| {
        let problem = format!(
            "`lock_lease_ttl` is {}; it must be at least {} so the heartbeat can renew it in time",
            humantime::format_duration(ttl),
            humantime::format_duration(shale_pg::lease::MIN_LEASE_TTL)
        );
        ("lock_lease_ttl", problem)
    })
}

/// shale.toml, its values checked where they have a position to show, and its history table.
fn read_config(path: &Path) -> Result<(ConfigFile, shale::HistoryTable)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let config: ConfigFile = toml::from_str(&text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| {
                let index = shale_core::LineIndex::new(&text);
                index.line_col(&text, s.start)
            })
            .unwrap_or((1, 1));
        anyhow!(ConfigError { path: path.to_path_buf(), line, col, message: e.message().to_string() })
    })?;
    let mut history = shale::HistoryTable::default();
    if let Some(schema) = &config.history_schema {
        history.schema = schema.clone();
    }
    if let Some(table) = &config.history_table {
        history.table = table.clone();
    }
    if let Some(var) = &config.database_url_env {
        let name_like = |var: &str| {
            var.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !var.split(',').map(str::trim).all(name_like) {
            let (line, col) = key_position(&text, "database_url_env");
            bail!(ConfigError {
                path: path.to_path_buf(),
                line,
                col,
                message: "`database_url_env` must be the name of an environment variable (letters, digits and _), such as \
                          NEON_DATABASE_URL, not the connection string itself (not shown here: it may hold a password); \
                          put the connection string in that variable or in .env"
                    .into(),
            });
        }
    }
    if let Some(file) = &config.erd_after_up {
        if shale_schema::erd::Format::for_file(file).is_none() {
            let (line, col) = key_position(&text, "erd_after_up");
            bail!(ConfigError {
                path: path.to_path_buf(),
                line,
                col,
                message: format!(
                    "`erd_after_up = \"{}\"`: its extension picks the picture's format: .mmd (Mermaid), .md (Mermaid in a ```mermaid fence), .dot or .gv (Graphviz DOT), .svg",
                    file.display()
                ),
            });
        }
    }
    if let Some((key, message)) = bad_duration(&config) {
        let (line, col) = key_position(&text, key);
        bail!(ConfigError { path: path.to_path_buf(), line, col, message });
    }
    if let Err(message) = history.check() {
        let key = if message.starts_with("history_schema") { "history_schema" } else { "history_table" };
        let (line, col) = key_position(&text, key);
        bail!(ConfigError { path: path.to_path_buf(), line, col, message });
    }
    Ok((config, history))
}

/// The entries of a `.env` file (empty when there is none), read as python-dotenv reads them
/// ([`crate::dotenv`]). A line that does not read is reported by its number alone: the line itself
/// may hold a password.
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let read =
        crate::dotenv::parse(&text, |name| std::env::var(name).ok()).map_err(|crate::dotenv::Unclosed(number)| {
            shale::Error::Invalid(format!(
                "{}:{number}: a quoted value opens here and is never closed; close it (the line is not shown: it may \
             hold a password)",
                path.display()
            ))
        })?;
    if !read.passed_over.is_empty() {
        let lines: Vec<String> = read.passed_over.iter().map(ToString::to_string).collect();
        crate::output::warning(&format!(
            "{}: line(s) {} are no `KEY=value` assignment: passed over, as python-dotenv passes over them (a \
             `KEY: value` line, which Node's dotenv reads, is one: write it `KEY=value`; the lines are not shown: \
             they may hold a password)",
            path.display(),
            lines.join(", ")
        ));
    }
    Ok(read.entries.into_iter().collect())
}

/// Line and column of `key = ...` in a TOML text ((1, 1) when it is not found at a line start).
fn key_position(text: &str, key: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| {
            let trimmed = line.trim_start();
            let rest = trimmed.strip_prefix(key)?;
            rest.trim_start().starts_with('=').then(|| (i + 1, line.len() - trimmed.len() + 1))
        })
        .unwrap_or((1, 1))
}

/// A shale.toml problem, with its position.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}; see the comments `shale init` writes into shale.toml for the known keys",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// The variables a Liquibase deployment gives its contexts in, Liquibase's own first (its current
/// name, then the older one), then Spring Boot's.
const CONTEXT_VARIABLES: &[&str] =
    &["LIQUIBASE_COMMAND_CONTEXT_FILTER", "LIQUIBASE_COMMAND_CONTEXTS", "SPRING_LIQUIBASE_CONTEXTS"];
/// And its label filter.
const LABEL_VARIABLES: &[&str] =
    &["LIQUIBASE_COMMAND_LABEL_FILTER", "LIQUIBASE_COMMAND_LABELS", "SPRING_LIQUIBASE_LABEL_FILTER"];

/// The Liquibase changesets a run selects: `--contexts` and `--label-filter`, else the variables
/// a Liquibase deployment sets ([`CONTEXT_VARIABLES`], [`LABEL_VARIABLES`]), else `[liquibase]`
/// in shale.toml.
fn liquibase_selection(
    global: &GlobalArgs,
    config: &ConfigFile,
    env: &Env,
) -> Result<shale_core::layout::LiquibaseSelection> {
    let file = config.liquibase.clone().unwrap_or_default();
    // The value, and where it came from (for an error about it).
    let pick = |flag: (&Option<String>, &str), variables: &[&str], key: (Option<String>, &str)| {
        if let Some(value) = flag.0 {
            return (Some(value.clone()), flag.1.to_string());
        }
        let found = variables.iter().find_map(|v| env.get(v).map(|value| (Some(value), v.to_string())));
        found.unwrap_or_else(|| (key.0, format!("`{}` in [liquibase] of shale.toml", key.1)))
    };
    let (contexts, _) = pick((&global.contexts, "--contexts"), CONTEXT_VARIABLES, (file.contexts, "contexts"));
    let (label_filter, origin) =
        pick((&global.label_filter, "--label-filter"), LABEL_VARIABLES, (file.label_filter, "label_filter"));
    shale_core::layout::LiquibaseSelection::new(contexts.as_deref(), label_filter.as_deref())
        .map_err(|bad| shale::Error::Invalid(format!("{origin}: {bad}")).into())
}

#[cfg(test)]
mod tests {
    use super::read_dotenv;

    /// The file's unclosed quote is named by its line, not shown (it may be the URL).
    #[test]
    fn a_dotenv_that_does_not_read_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "OTHER=1\nDATABASE_URL=\"postgres://app:secret@db/app\nNEXT=2\n").unwrap();
        let error = read_dotenv(&path).unwrap_err().to_string();
        assert!(error.contains(".env:2: a quoted value opens here and is never closed"), "{error}");
        assert!(!error.contains("secret"), "{error}");
        std::fs::write(&path, "spring:\n  url: x\nDATABASE_URL=postgres://db/app\n").unwrap();
        assert_eq!(read_dotenv(&path).unwrap()["DATABASE_URL"], "postgres://db/app");
    }
}
