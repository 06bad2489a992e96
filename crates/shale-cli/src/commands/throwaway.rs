//! Throwaway databases for `diff`, `drift` and `check`: scratch databases on the server given with
//! `--dev-url` (shale creates and drops them), else a temporary local server. When the `--dev-url`
//! user may not create databases, a scratch schema in that database instead. Removed when the
//! `Throwaway` is dropped, also when the command fails, and on Ctrl-C (see [`interrupt_cleanup`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use shale::{ConnectionSettings, HistoryTable, MigratorConfig};
use shale_core::ident::ident_always_quoted;
use shale_pg::SessionSettings;
use shale_schema::Schema;
use shale_testkit::{Cluster, ClusterOptions};

use super::block_on;
use crate::settings::Settings;

// One per command, never in a collection: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Throwaway {
    /// A temporary server from the local binaries (its directory goes with it; its watchdog
    /// removes it if shale dies without cleaning up).
    Local { cluster: Cluster, databases: usize, setup: Option<Setup>, search_path: Option<String> },
    /// Scratch databases (or schemas) on the user's development server.
    Remote { admin: ConnectionSettings, made: Vec<Scratch>, setup: Option<Setup>, search_path: Option<String> },
}

/// `replay_setup`: SQL run on each scratch database before anything is built there, for what the
/// migrations need and do not make (a platform's schemas and roles: Supabase's `auth.users`,
/// `auth.uid()`, `authenticated`).
pub struct Setup {
    path: std::path::PathBuf,
    sql: String,
    /// What it makes, read after its first run: left out of what is read back as built there.
    made: Option<std::sync::Arc<Schema>>,
}

impl Setup {
    fn read(path: &std::path::Path) -> Result<Setup> {
        let sql = std::fs::read_to_string(path)
            .with_context(|| format!("reading {} (replay_setup in shale.toml)", path.display()))?;
        Ok(Setup { path: path.to_path_buf(), sql, made: None })
    }

    /// Runs it on `scratch`, a scratch database, which then knows what it made: a failure names
    /// the file, line and column.
    fn run_on(&mut self, scratch: &mut Scratch) -> Result<()> {
        let origin = format!("replay_setup {}", self.path.display());
        super::diff::run_script(scratch, &self.sql, &origin)?;
        if self.made.is_none() {
            let model = introspect(&scratch.connection, &SessionSettings::default(), &HistoryTable::default())?;
            self.made = Some(std::sync::Arc::new(model));
        }
        scratch.setup_made = self.made.clone();
        Ok(())
    }
}

/// How every scratch database and schema name starts.
const SCRATCH_PREFIX: &str = "shale_scratch_";

/// Where one throwaway schema is built: a scratch database, or a scratch schema of the
/// `--dev-url` database (`schema`), which objects the migrations create unqualified land in and
/// which is read back as `public`.
#[derive(Clone)]
pub struct Scratch {
    pub connection: ConnectionSettings,
    pub schema: Option<String>,
    /// For a scratch schema: the rest of that database when the schema was made, to catch
    /// migrations that create objects outside it (in schemas they name).
    pub outside: Option<std::sync::Arc<Schema>>,
    /// The schema unqualified names land in on the database this one is compared with, when it
    /// is not `public` (see [`live_schema`]): what is built here lands there too.
    pub home: Option<Home>,
    /// What `replay_setup` made here before anything was built, which is not read back as built.
    pub setup_made: Option<std::sync::Arc<Schema>>,
}

/// Where unqualified names land on a live database whose search_path does not start at `public`:
/// the schema they are created in, and the whole path they are looked up in (`app, public`: a
/// Rails `schema_search_path`, whose extensions stay in `public`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub schema: String,
    /// The schemas of the search_path that exist there, quoted, in order: `"app", "public"`.
    pub search_path: String,
}

impl Scratch {
    /// `live` without what `replay_setup` made here: the environment's (Supabase's auth schema,
    /// an extension the platform installs), which the live database has as such, and which is not
    /// read back here as built.
    pub fn without_its_setup(&self, live: Schema) -> Schema {
        match &self.setup_made {
            Some(made) => shale_schema::confine::without_same_objects(&live, made),
            None => live,
        }
    }

    /// A scratch database or schema, unqualified names landing in `public` (see [`Scratch::landing_in`]).
    fn new(connection: ConnectionSettings, schema: Option<String>, outside: Option<std::sync::Arc<Schema>>) -> Scratch {
        Scratch { connection, schema, outside, home: None, setup_made: None }
    }

    /// This scratch database with unqualified names landing in `home`, as on the database it is
    /// compared with (Flyway's `flyway.schemas=app`, a search_path in the URL's options or the
    /// role's). Unless `sql` (what will be built here) creates that schema itself, it is made here
    /// first, as Flyway makes it before migrating. A scratch schema is read back as `home` instead
    /// of `public`.
    pub fn landing_in<'a>(mut self, home: Option<Home>, sql: impl IntoIterator<Item = &'a str>) -> Result<Scratch> {
        if let (Some(home), None) = (&home, &self.schema) {
            if !sql.into_iter().any(|text| creates_schema(text, &home.schema)) {
                let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", ident_always_quoted(&home.schema));
                block_on(async {
                    let client = shale_pg::connect(&self.connection, &SessionSettings::default()).await?;
                    client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| shale_pg::PgError::query("making the schema unqualified names land in", e))
                })
                .map_err(shale::Error::Pg)?;
            }
            // Looked up as there (`"app", "public"`): the connection's search_path, a list.
            self.connection.search_path = Some(home.search_path.clone());
        }
        self.home = home;
        Ok(self)
    }

    /// Sessions there resolve unqualified names to the scratch schema, if there is one, else to
    /// the home schema.
    pub fn session(&self) -> SessionSettings {
        match &self.schema {
            // Named after the schema, so that cleanup can end exactly these sessions.
            Some(schema) => SessionSettings {
                search_path: Some(schema.clone()),
                application_name: format!("shale {schema}"),
                ..Default::default()
            },
            // (The home's search_path is the connection's: see `landing_in`.)
            None => SessionSettings::default(),
        }
    }

    /// A migrator there, its history table in the scratch schema if there is one.
    pub fn migrator_config(&self, history: &HistoryTable) -> MigratorConfig {
        let mut config = MigratorConfig::new(self.connection.clone());
        config.session = self.session();
        config.history = history.clone();
        if let Some(schema) = &self.schema {
            config.history.schema = schema.clone();
        }
        config
    }

    /// The schema built there (a scratch schema seen as `public`, or as the home schema), the
    /// history table left out.
    pub fn read_schema(&self, history: &HistoryTable) -> Result<Schema> {
        let model = self.read_as_is(history)?;
        let model = match &self.setup_made {
            Some(made) => shale_schema::confine::without_same_objects(&model, made),
            None => model,
        };
        self.seen_as_built(model)
    }

    /// Two reads of this database (see [`Scratch::read_as_is`]), before and after a migration, as
    /// [`Scratch::read_schema`] gives them, but for what `replay_setup` made: left out where
    /// neither read changed it, kept in both where the migration changed it (a table it made that
    /// the migration attaches as a partition: left out before and kept after, it came from
    /// nowhere, and a down computed from them dropped it, data and all).
    pub fn before_and_after(&self, before: Schema, after: Schema) -> Result<(Schema, Schema)> {
        let (before, after) = match &self.setup_made {
            Some(made) => {
                let left_alone =
                    shale_schema::confine::same_objects(&shale_schema::confine::same_objects(made, &before), &after);
                let without = |model: &Schema| shale_schema::confine::without_same_objects(model, &left_alone);
                (without(&before), without(&after))
            }
            None => (before, after),
        };
        Ok((self.seen_as_built(before)?, self.seen_as_built(after)?))
    }

    /// The schema there as it is, what `replay_setup` made included: one side of
    /// [`Scratch::before_and_after`].
    pub fn read_as_is(&self, history: &HistoryTable) -> Result<Schema> {
        let history = self.migrator_config(history).history;
        introspect(&self.connection, &self.session(), &history)
    }

    /// A model read there as built: a scratch schema's objects seen in the schema they are
    /// compared in, and none made outside it.
    fn seen_as_built(&self, model: Schema) -> Result<Schema> {
        let (Some(schema), Some(before)) = (&self.schema, &self.outside) else { return Ok(model) };
        let escaped =
            shale_schema::compare::differences(before, &shale_schema::confine::outside(&model, SCRATCH_PREFIX));
        if !escaped.is_empty() {
            let objects: Vec<&str> = escaped.iter().map(|d| d.object.as_str()).collect();
            anyhow::bail!(shale::Error::Invalid(format!(
                "the --dev-url user may not create databases, so shale built in a scratch schema of that database, but the SQL created or changed objects outside it (naming their schema): {}. Drop them there by hand, and give --dev-url a server where this user may CREATE DATABASE",
                objects.join(", ")
            )));
        }
        let home = self.home.as_ref().map_or("public", |h| h.schema.as_str());
        let mut confined = shale_schema::confine::confine(&model, schema, home);
        // Built as the home schema, beside a `public` that every database has (as a scratch database would).
        if self.home.is_some() && model.schemas.iter().any(|s| s == "public") {
            confined.schemas.push("public".into());
            confined.normalize();
        }
        Ok(confined)
    }

    /// What drops it.
    fn drop_sql(&self) -> String {
        match (&self.schema, &self.connection.dbname) {
            // Its sessions may still run a statement (Ctrl-C): end them first, and wait for no lock.
            (Some(schema), _) => format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE starts_with(application_name, {}) AND pid <> pg_backend_pid();\n\
                 SET lock_timeout = 0;\nDROP SCHEMA IF EXISTS {} CASCADE",
                shale_pg::sql::quote_literal(&format!("shale {schema}")),
                ident_always_quoted(schema)
            ),
            (None, name) => {
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident_always_quoted(name.as_deref().unwrap_or("")))
            }
        }
    }
}

/// The schema of a live database (`history` left out), with the schema unqualified names land in
/// there ([`home_schema`]): read on one connection.
pub fn live_schema(
    connection: &ConnectionSettings,
    session: &SessionSettings,
    history: &HistoryTable,
) -> Result<(Schema, Option<Home>)> {
    // The search_path shale sets in each migration, set the same way where the home is read: a
    // pooler that drops startup options would answer with the role's (operator trial: false drift
    // of every object).
    let listed = connection.search_path_sql();
    Ok(block_on(async {
        let client = shale_pg::connect(connection, session).await?;
        let schema = shale_schema::introspect(&client, (&history.schema, &history.table)).await?;
        Ok::<_, shale_pg::PgError>((schema, home_schema(&client, listed.as_deref()).await?))
    })
    .map_err(shale::Error::Pg)?)
}

/// The schema unqualified names land in on the database `connection` names ([`home_schema`]),
/// for a replay whose result will run there (a generated down).
pub fn home_of(connection: &ConnectionSettings, session: &SessionSettings) -> Result<Option<Home>> {
    let listed = connection.search_path_sql();
    Ok(block_on(async {
        let client = shale_pg::connect(connection, session).await?;
        home_schema(&client, listed.as_deref()).await
    })
    .map_err(shale::Error::Pg)?)
}

/// The schema unqualified names land in on this session (`current_schema()`), when it is not
/// `public`, with the schemas of its search_path that exist. A replay compared with that database
/// builds there too, and looks names up the same way ([`Scratch::landing_in`]): built in `public`,
/// every object would differ, and a down generated from it would drop a table of the same name in
/// `public` (a Rails `schema_search_path` of `app, public`).
async fn home_schema(
    client: &shale_pg::tokio_postgres::Client,
    listed: Option<&str>,
) -> Result<Option<Home>, shale_pg::PgError> {
    let read = "SELECT current_schema(), array_to_string(ARRAY(SELECT quote_ident(s) FROM unnest(current_schemas(false)) s), ', ')";
    let sql = shale_pg::sql::read_with_search_path(listed, read);
    let row = shale_pg::lock::simple_rows(client, &sql, "reading the current schema").await?.into_iter().next();
    // No schema of the search_path exists (NULL, read as ""): nothing lands anywhere there.
    Ok(match row.as_deref() {
        Some([home, path]) if !home.is_empty() && home != "public" => {
            Some(Home { schema: home.clone(), search_path: path.clone() })
        }
        _ => None,
    })
}

/// Whether `sql` creates schema `name` itself (`CREATE SCHEMA [IF NOT EXISTS] name`, any case,
/// quoted or not): then a replay must not make it first. A text search: one in a comment counts too.
fn creates_schema(sql: &str, name: &str) -> bool {
    let words: Vec<String> =
        sql.split_whitespace().map(|w| w.trim_end_matches(';').replace('"', "").to_lowercase()).collect();
    let name = name.to_lowercase();
    words.windows(3).enumerate().any(|(i, w)| {
        w[0] == "create"
            && w[1] == "schema"
            && (w[2] == name || (w[2] == "if" && words.get(i + 5).is_some_and(|n| *n == name)))
    })
}

/// The schema of the database `connection` names, `history` left out.
fn introspect(connection: &ConnectionSettings, session: &SessionSettings, history: &HistoryTable) -> Result<Schema> {
    Ok(block_on(async {
        let client = shale_pg::connect(connection, session).await?;
        shale_schema::introspect(&client, (&history.schema, &history.table)).await
    })
    .map_err(shale::Error::Pg)?)
}

/// Scratch databases and schemas on `--dev-url` servers that exist right now (with the settings
/// to connect for dropping them), for the Ctrl-C handler.
static LIVE_SCRATCH: Mutex<Vec<(ConnectionSettings, Scratch)>> = Mutex::new(Vec::new());

/// Set (under `CLEANING`) once Ctrl-C was pressed.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Held by the Ctrl-C handler while it drops the scratch databases, until it exits the process.
static CLEANING: Mutex<()> = Mutex::new(());

/// On Ctrl-C (SIGINT) or SIGTERM: drop the scratch databases still alive, then exit 130.
/// Installed once, by the commands that make throwaway databases.
pub fn interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        let _cleaning = CLEANING.lock();
        INTERRUPTED.store(true, Ordering::SeqCst);
        let live: Vec<(ConnectionSettings, Scratch)> =
            LIVE_SCRATCH.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        for (admin, scratch) in live {
            remove(&admin, &scratch);
        }
        crate::output::plain("interrupted", "interrupted: scratch databases removed");
        std::process::exit(130);
    });
    // A reader gone away (`shale drift | head`) would end the process at once with SIGPIPE, which
    // `main` restores for commands that only read, leaving the scratch databases on a --dev-url
    // server: here a write to it fails instead, and the hook below removes them.
    #[cfg(unix)]
    // SAFETY: only changes how the signal is delivered; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // Release builds abort on a panic (Cargo.toml), so no Drop removes them then: the hook does,
    // after the panic's message, on a thread of its own (the panic may be on a runtime's).
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let broken_pipe = info.payload_as_str().is_some_and(|m| m.contains("Broken pipe"));
        if !broken_pipe {
            report(info);
        }
        let live = LIVE_SCRATCH.try_lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        if !live.is_empty() {
            let _ = std::thread::spawn(move || live.iter().for_each(|(admin, scratch)| remove(admin, scratch))).join();
        }
        // As a shell reports a process its reader left: 128 + SIGPIPE, quietly.
        if broken_pipe {
            std::process::exit(141);
        }
    }));
}

fn remove(admin: &ConnectionSettings, scratch: &Scratch) {
    let sql = scratch.drop_sql();
    let _ = block_on(async {
        let client = shale_pg::connect(admin, &Default::default()).await.ok()?;
        client.batch_execute(&sql).await.ok()
    });
}

impl Throwaway {
    /// A throwaway server (or `--dev-url` server) with one scratch database.
    pub fn create(settings: &Settings, dev_url: Option<&str>) -> Result<Throwaway> {
        let mut throwaway = Throwaway::server(settings, dev_url)?;
        throwaway.database()?;
        Ok(throwaway)
    }

    /// The server only: scratch databases are made with [`Throwaway::database`], each with the
    /// settings' `replay_setup` run on it.
    pub fn server(settings: &Settings, dev_url: Option<&str>) -> Result<Throwaway> {
        interrupt_cleanup();
        let setup = settings.replay_setup.as_deref().map(Setup::read).transpose()?;
        // The migrations land where they land on the database: under shale.toml's search_path.
        let search_path = settings.search_path.clone();
        let Some(dev_url) = dev_url else {
            let cluster = Cluster::start_temporary(ClusterOptions::default()).context(
                "starting a throwaway PostgreSQL (or give --dev-url, a server where shale may create databases)",
            )?;
            return Ok(Throwaway::Local { cluster, databases: 0, setup, search_path });
        };
        let mut admin = ConnectionSettings::parse(dev_url).map_err(|e| anyhow::anyhow!("{e} (from --dev-url)"))?;
        admin.fill_from_env(&|k| std::env::var(k).ok())?;
        Ok(Throwaway::Remote { admin, made: Vec::new(), setup, search_path })
    }

    /// A scratch database's connection, its sessions' search_path shale.toml's where it gives one.
    fn scratch_connection(url: &str, search_path: &Option<String>) -> Result<ConnectionSettings> {
        let mut connection = ConnectionSettings::parse(url)?;
        connection.search_path = search_path.clone();
        Ok(connection)
    }

    /// A new empty scratch database on the throwaway server (or scratch schema, see [`Scratch`]),
    /// `replay_setup` run on it.
    pub fn database(&mut self) -> Result<Scratch> {
        match self {
            Throwaway::Local { cluster, databases, setup, search_path } => {
                *databases += 1;
                let name = format!("{SCRATCH_PREFIX}{databases}");
                cluster.create_database(&name)?;
                let mut scratch = Scratch::new(Self::scratch_connection(&cluster.url(&name), search_path)?, None, None);
                if let Some(setup) = setup {
                    setup.run_on(&mut scratch)?;
                }
                Ok(scratch)
            }
            Throwaway::Remote { admin, made, setup, search_path } => {
                let name = format!(
                    "{SCRATCH_PREFIX}{}_{}_{}",
                    std::process::id(),
                    chrono::Utc::now().format("%H%M%S"),
                    made.len() + 1
                );
                let mut scratch = create_remote(admin, &name)?;
                // (A scratch schema is the search_path itself.)
                if scratch.schema.is_none() {
                    scratch.connection.search_path = search_path.clone();
                }
                made.push(scratch.clone());
                if let Ok(mut live) = LIVE_SCRATCH.lock() {
                    live.push((admin.clone(), scratch.clone()));
                }
                if let Some(setup) = setup {
                    // Its objects would land beside the scratch schema, in the database itself.
                    if scratch.schema.is_some() {
                        anyhow::bail!(shale::Error::Invalid(format!(
                            "replay_setup ({}) needs a --dev-url server where this user may CREATE DATABASE: it may \
                             not, and shale would build in a scratch schema of that database",
                            setup.path.display()
                        )));
                    }
                    setup.run_on(&mut scratch)?;
                    if let Some(kept) = made.last_mut() {
                        kept.setup_made = scratch.setup_made.clone();
                    }
                }
                Ok(scratch)
            }
        }
    }

    /// The first scratch database.
    pub fn first(&self) -> Result<Scratch> {
        Ok(match self {
            Throwaway::Local { cluster, setup, search_path, .. } => {
                let url = cluster.url(&format!("{SCRATCH_PREFIX}1"));
                let mut scratch = Scratch::new(Self::scratch_connection(&url, search_path)?, None, None);
                scratch.setup_made = setup.as_ref().and_then(|s| s.made.clone());
                scratch
            }
            Throwaway::Remote { made, .. } => made.first().cloned().context("no scratch database was made")?,
        })
    }
}

/// The scratch server, named with where its URL comes from.
const SCRATCH_SERVER: &str = "the scratch server (--dev-url, SHALE_DEV_URL or dev_url in shale.toml)";

/// CREATE DATABASE on the `--dev-url` server; where its user may not (insufficient_privilege),
/// CREATE SCHEMA in the `--dev-url` database instead.
fn create_remote(admin: &ConnectionSettings, name: &str) -> Result<Scratch> {
    let created = block_on(async {
        // Not reached at all (TLS, a password, a host): said as such, not as a missing privilege.
        let client = shale_pg::connect(admin, &Default::default())
            .await
            .map_err(|e| shale::Error::Pg(e.into()))
            .with_context(|| format!("connecting to {SCRATCH_SERVER}"))?;
        let database = client.batch_execute(&format!("CREATE DATABASE {}", ident_always_quoted(name))).await;
        let privilege =
            "--dev-url must name a server where this user may CREATE DATABASE, or a database where it may CREATE SCHEMA";
        match database {
            // Made: reached as the runs will reach it. Through a pooler (PgBouncer), which serves
            // only the databases in its configuration, it is not (the re-check of real servers:
            // "no such database", naming neither the pooler nor dev_url): dropped, and said.
            Ok(()) => {
                let mut made = admin.clone();
                made.dbname = Some(name.to_string());
                if let Err(e) = shale_pg::connect(&made, &Default::default()).await {
                    let _ =
                        client.batch_execute(&format!("DROP DATABASE IF EXISTS {}", ident_always_quoted(name))).await;
                    return Err(anyhow::Error::new(shale::Error::Pg(e.into())).context(format!(
                        "{SCRATCH_SERVER} made the scratch database, but it cannot be reached: where dev_url names a \
                         connection pooler (PgBouncer serves only the databases in its configuration), point it at the \
                         server itself"
                    )));
                }
                Ok(None)
            }
            // A standby: no privilege would help.
            Err(e) if e.code() == Some(&shale_pg::tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION) => {
                Err(anyhow::Error::new(shale::Error::Pg(shale_pg::PgError::query("creating a scratch database", e)))
                    .context(format!(
                        "{SCRATCH_SERVER} is read-only: a standby (point it at a primary), or \
                         default_transaction_read_only on for this user or database"
                    )))
            }
            Err(e) if e.code() == Some(&shale_pg::tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => client
                .batch_execute(&format!("CREATE SCHEMA {}", ident_always_quoted(name)))
                .await
                .map(|()| Some(name.to_string()))
                .map_err(|e| {
                    shale::Error::Pg(shale_pg::PgError::query("creating a scratch schema in the --dev-url database", e))
                })
                .context(privilege),
            Err(e) => Err(shale::Error::Pg(shale_pg::PgError::query("creating a scratch database on --dev-url", e)))
                .context(privilege),
        }
    })?;
    Ok(match created {
        None => {
            let mut connection = admin.clone();
            connection.dbname = Some(name.to_string());
            Scratch::new(connection, None, None)
        }
        Some(schema) => {
            let model = introspect(admin, &Default::default(), &HistoryTable::default())?;
            let outside = Some(std::sync::Arc::new(shale_schema::confine::outside(&model, SCRATCH_PREFIX)));
            Scratch::new(admin.clone(), Some(schema), outside)
        }
    })
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if INTERRUPTED.load(Ordering::SeqCst) {
            // The command failed because the handler is dropping its database: let the handler
            // finish and exit with 130 rather than report that failure.
            let _wait = CLEANING.lock();
        }
        if let Throwaway::Remote { admin, made, .. } = self {
            for scratch in made.iter() {
                remove(admin, scratch);
            }
            if let Ok(mut live) = LIVE_SCRATCH.lock() {
                live.retain(|(_, s)| !made.iter().any(|m| m.drop_sql() == s.drop_sql()));
            }
        }
    }
}
