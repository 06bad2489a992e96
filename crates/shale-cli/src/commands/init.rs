use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::settings::{Settings, CONFIG_TEMPLATE};

pub fn run(settings: &Settings) -> Result<i32> {
    let config = settings.root.join("shale.toml");
    if config.exists() {
        bail!(shale::Error::Invalid(format!(
            "{} already exists; edit it, or remove it to start over",
            config.display()
        )));
    }
    // A project another tool migrates keeps its files where that tool does: shale reads them there.
    let found: Option<(String, &str)> = match settings.dir == settings.root.join("migrations") {
        // Tools whose migrations are a folder inside theirs.
        true if has_files(&settings.dir) => INSIDE_MIGRATIONS
            .iter()
            .find(|(dir, _)| has_files(&settings.root.join(dir)))
            .map(|(dir, tool)| (dir.to_string(), *tool))
            // A `migrations/` holding no SQL of its own, its tool's files deeper (supabase/postgres'
            // dbmate files in `migrations/db/migrations`: breadth trial, not found).
            .or_else(|| match holds_sql_at_top(&settings.dir) {
                true => None,
                // Else beside it (the breadth sweep's measure keeps shell backfills in
                // `migrations/` and its dbmate files in `postgres/`: init took `migrations`).
                false => marked_dir(&settings.dir)
                    .map(|(inside, tool)| (format!("migrations/{inside}"), tool))
                    .or_else(|| other_tools_dir(&settings.root)),
            }),
        true => other_tools_dir(&settings.root),
        false => None,
    };
    let dir = match &found {
        Some((relative, _)) => settings.root.join(relative),
        None => settings.dir.clone(),
    };
    // The directory as shale.toml gives it: relative to the file, as `dir` is read.
    let named = match &found {
        Some((relative, _)) => Some(relative.clone()),
        None if settings.dir != settings.root.join("migrations") => {
            Some(settings.dir.strip_prefix(&settings.root).unwrap_or(&settings.dir).to_string_lossy().into_owned())
        }
        None => None,
    };
    let template = match &named {
        Some(relative) => {
            CONFIG_TEMPLATE.replacen("dir = \"migrations\"", &format!("dir = {}", toml_string(relative)), 1)
        }
        None => CONFIG_TEMPLATE.to_string(),
    };
    // Prisma Migrate connects with the schema's `directUrl` (past the pooler) where it has one.
    let prisma_url = dir.parent().and_then(prisma_migrate_url_env);
    let template = match &prisma_url {
        Some((variable, _)) => {
            template.replacen("# database_url_env = \"DATABASE_URL\"", &format!("database_url_env = \"{variable}\""), 1)
        }
        None => template,
    };
    // Flyway's `outOfOrder`, where the project sets it: its team applies older versions late, and
    // `up` would refuse them (breadth trial: hmcts' ccd-data-store-api).
    let flyway = match &found {
        Some((relative, "Flyway")) => flyway_settings(&settings.root, Path::new(relative)),
        _ => FlywaySettings::default(),
    };
    let template = flyway.written_into(template);
    let goose_missing = match &found {
        Some((_, "goose")) => goose_allowing_missing(&settings.root),
        _ => None,
    };
    let template = match &goose_missing {
        Some(_) => template.replacen("# allow_out_of_order = false", "allow_out_of_order = true", 1),
        None => template,
    };
    // graphile-migrate's `.gmrc` sits beside its `migrations/` (the starter's `@app/db/.gmrc`, found
    // from the repository's root: breadth trial, its placeholders were not written).
    let gmrc_root = match &found {
        Some((relative, "graphile-migrate")) => settings
            .root
            .join(relative)
            .ancestors()
            .nth(2)
            .filter(|db| db.join(".gmrc").is_file())
            .map(Path::to_path_buf),
        _ => None,
    };
    let gmrc = graphile_settings(gmrc_root.as_deref().unwrap_or(&settings.root));
    let template = match &gmrc {
        Some(gmrc) => gmrc.written_into(template),
        None => template,
    };
    let had_files = has_files(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&config, template).with_context(|| format!("writing {}", config.display()))?;
    let ignored = ignore_local_files(&settings.root)?;
    let ignored = match ignored.split_last() {
        Some((last, [])) => format!(" (and {last} in .gitignore)"),
        Some((last, rest)) => format!(" (and {} and {last} in .gitignore)", rest.join(", ")),
        None => String::new(),
    };
    if settings.quiet {
        return Ok(0);
    }
    if let Some(gmrc) = &gmrc {
        gmrc.say();
    }
    flyway.say();
    if let Some(file) = &goose_missing {
        println!("allow_out_of_order = true: goose's WithAllowMissing(), passed in {file}");
    }
    if let Some((variable, key)) = &prisma_url {
        println!(
            "database_url_env = \"{variable}\": the {key}, which Prisma Migrate connects with{}",
            if key.starts_with("directUrl") { " (not the pooler's url)" } else { "" }
        );
    }
    // Read where shale.toml now points (another tool's directory, found).
    let set = match had_files {
        true => shale_core::MigrationSet::read_dir_with(&dir, &settings.reading).ok(),
        false => None,
    };
    // The directory's place guessed the tool; its files' sections say it where they are another's
    // (Node trial: node-pg-migrate's `db/migrations` was named dbmate's).
    let found = found.map(|(relative, tool)| (relative, set.as_ref().and_then(tool_of_sections).unwrap_or(tool)));
    // Another tool's migrations in code, in the directory shale's join (Knex's `.js`, Ecto's `.exs`).
    let left_alone = set.as_ref().filter(|s| s.migrations.is_empty()).map_or(0, |s| s.ignored.len());
    if found.is_none() && left_alone > 0 {
        println!(
            "created {} for {}, whose {left_alone} file(s) are not migrations shale runs (another tool's in code, \
             or scripts): shale leaves them alone and its migrations go beside them{ignored}",
            show(&config),
            show(&dir)
        );
        println!(
            "next: `shale status` on a database the other tool migrated (it says how to start from its schema), \
             then `shale new create_users`"
        );
        return Ok(0);
    }
    match (&found, set.as_ref().filter(|s| !s.migrations.is_empty())) {
        (Some((relative, tool)), _) if CODE_TOOLS.contains(tool) => {
            println!(
                "created {} with dir = \"{relative}\", where {tool} keeps its migrations, in code: shale's SQL \
                 migrations go beside them, and one written in code after the switch is named{ignored}",
                show(&config)
            );
            println!("next: `shale status`, then `shale baseline --from-database` on a database {tool} migrated");
        }
        (Some((relative, tool)), _) => {
            println!("created {} with dir = \"{relative}\", where {tool} keeps its migrations{ignored}", show(&config));
            if *tool == "Flyway" {
                note_flyway_java_migrations(&settings.root);
            }
            if *tool == "Sqitch" {
                note_sqitch_projects_inside(&settings.root, relative);
            }
            note_other_histories(&settings.root, relative);
            println!("next: `shale status`, then `shale adopt` on a database {tool} migrated");
        }
        (None, Some(set)) => {
            println!(
                "created {} for the {} migration(s) in {}{ignored}",
                show(&config),
                set.migrations.len(),
                show(&dir)
            );
            println!("next: `shale status`; on a database another tool migrated, `shale adopt`");
        }
        // A folder that was there already, whose files do not read as migrations (supabase/postgres'
        // `migrations/`, its dbmate files two folders down: breadth trial, said to be created).
        (None, None) if had_files => {
            println!(
                "created {} for {}, which was there already, holding files that do not read as migrations: \
                 `shale validate` says what each is; where the migrations are in a folder inside it, point `dir` \
                 there{ignored}",
                show(&config),
                show(&dir)
            );
        }
        (None, None) => {
            println!("created {} and {}{ignored}", show(&dir), show(&config));
            // An application whose migrations are code kept somewhere else (Alembic's with its
            // alembic.ini, Django's with its manage.py): its database is baselined first (FastAPI
            // trial: `shale new` first, and the baseline then refused).
            match code_migrations_beside(&settings.root) {
                Some(tool) => println!(
                    "next: on a database {tool} migrated, `shale baseline --from-database` first (its schema becomes \
                     the first migration, {tool}'s table left out), then `shale new NAME` for each change"
                ),
                None => println!("next: `shale new create_users` to write a migration, then `shale up`"),
            }
        }
    }
    Ok(0)
}

/// Puts in the project's `.gitignore` what must never be committed: the development server's data
/// (`.shale/`) and the files the database URL is read from with its password (`.env`,
/// `.env.local`), unless a line there already covers them or git already tracks the file (a
/// project that commits a `.env` of defaults keeps doing so). Returns what is ignored.
fn ignore_local_files(root: &Path) -> Result<Vec<&'static str>> {
    let gitignore = root.join(".gitignore");
    let mut text = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let mut ignored = Vec::new();
    let mut added = false;
    for (entry, name) in [(".shale/", ".shale"), (".env", ".env"), (".env.local", ".env.local")] {
        if name != ".shale" && tracked_by_git(root, name) {
            continue;
        }
        ignored.push(entry);
        if !text.lines().any(|line| line_ignores(line, name)) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("{entry}\n"));
            added = true;
        }
    }
    if added {
        std::fs::write(&gitignore, text).with_context(|| format!("writing {}", gitignore.display()))?;
    }
    Ok(ignored)
}

/// Whether a `.gitignore` line ignores the file or directory `name` at the project's top: the
/// name itself, anchored or not, with a trailing `/`, or a `*` pattern matching it (`.env*`,
/// `*.local`); negations and comments ignore nothing.
fn line_ignores(line: &str, name: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
        return false;
    }
    let pattern = line.trim_start_matches("**/").trim_start_matches('/').trim_end_matches('/');
    if pattern.contains('/') {
        return false;
    }
    // `*` matches any run of characters: the pieces between stars, in order.
    let pieces: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Whether git tracks `name` in `root` (false without git or outside a repository).
fn tracked_by_git(root: &Path, name: &str) -> bool {
    root.join(name).exists()
        && std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["ls-files", "--error-unmatch", "--", name])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// What graphile-migrate's `.gmrc` gives its migrations that shale.toml gives shale's: the
/// sessions' search_path and timeouts (`pgSettings`) and the placeholders' values (graphile trial:
/// a fresh database got its tables in `public`, and `status` stopped on `:DATABASE_VISITOR`).
#[derive(Default)]
struct GraphileSettings {
    search_path: Option<String>,
    statement_timeout: Option<String>,
    lock_timeout: Option<String>,
    placeholders: Vec<(String, String)>,
    /// `pgSettings` shale.toml has no key for.
    other_settings: Vec<String>,
    /// The SQL files its `afterReset` hook runs on a new database (third sweep: regen-network's
    /// indexer, whose first committed file needs what they make; nothing said).
    after_reset: Vec<String>,
    /// Why `.gmrc` was not read (its JavaScript form, a syntax error): said, not passed over
    /// (re-check: the tables went to `public` again, unsaid).
    unread: Option<String>,
}

/// `.gmrc` (JSON5) at `root`, where graphile-migrate has one.
fn graphile_settings(root: &Path) -> Option<GraphileSettings> {
    let unread = |why: String| Some(GraphileSettings { unread: Some(why), ..Default::default() });
    let Ok(text) = std::fs::read_to_string(root.join(".gmrc")) else {
        let script = [".gmrc.js", ".gmrc.cjs"].into_iter().find(|name| root.join(name).is_file())?;
        return unread(format!("{script} is JavaScript, which shale does not read"));
    };
    let gmrc: serde_json::Value = match json5::from_str(&text) {
        Ok(gmrc) => gmrc,
        // Its place only: the message quotes the line, which may hold a connection string's
        // password (review).
        Err(json5::Error::Message { location: Some(at), .. }) => {
            return unread(format!(".gmrc could not be read (not JSON5 at line {}, column {})", at.line, at.column))
        }
        Err(_) => return unread(".gmrc could not be read (not JSON5)".to_string()),
    };
    let text_of = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let pg_settings = gmrc.get("pgSettings").and_then(|s| s.as_object());
    let setting = |key: &str| pg_settings.and_then(|s| s.get(key));
    // A number is milliseconds, as PostgreSQL reads a timeout given as one.
    let timeout = |key: &str| match setting(key)? {
        serde_json::Value::Number(n) => Some(format!("{n}ms")),
        other => text_of(other),
    };
    let placeholders = gmrc.get("placeholders").and_then(|p| p.as_object());
    Some(GraphileSettings {
        search_path: setting("search_path").and_then(text_of),
        statement_timeout: timeout("statement_timeout"),
        lock_timeout: timeout("lock_timeout"),
        // (`:DATABASE_OWNER`: the key without its colon, as [placeholders] names it.)
        placeholders: placeholders
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((key.trim_start_matches(':').to_string(), text_of(value)?)))
            .collect(),
        other_settings: pg_settings
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .filter(|k| !["search_path", "statement_timeout", "lock_timeout"].contains(&k.as_str()))
            .collect(),
        // (Each a file's name, or `{ "_": "sql", "file": ... }`; commands are not SQL.)
        after_reset: gmrc
            .get("afterReset")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
            .filter_map(|action| match action {
                serde_json::Value::String(file) => Some(file.clone()),
                other => other.get("file").and_then(|f| f.as_str()).map(str::to_string),
            })
            .collect(),
        unread: None,
    })
}

/// `text` as a TOML string (JSON's escapes are TOML's: a control character in a value no longer
/// makes shale.toml unreadable, review).
fn toml_string(text: &str) -> String {
    // (TOML forbids DEL unescaped too, which JSON leaves: review.)
    serde_json::to_string(text).expect("a string serializes").replace('\u{7f}', "\\u007F")
}

impl GraphileSettings {
    fn written_into(&self, template: String) -> String {
        let mut template = template;
        for (commented, key, value) in [
            ("# search_path = \"app_public, app_private, public\"", "search_path", &self.search_path),
            ("# statement_timeout = \"0\"", "statement_timeout", &self.statement_timeout),
            ("# lock_timeout = \"5s\"", "lock_timeout", &self.lock_timeout),
        ] {
            if let Some(value) = value {
                template = template.replacen(commented, &format!("{key} = {}", toml_string(value)), 1);
            }
        }
        if !self.placeholders.is_empty() {
            template.push_str(
                "\n# graphile-migrate's placeholders, from .gmrc (\"!ENV\": the environment variable of that name).\n\
                 # (A key written below this line belongs to [placeholders]: add other settings above it.)\n[placeholders]\n",
            );
            for (key, value) in &self.placeholders {
                template.push_str(&format!("{} = {}\n", toml_string(key), toml_string(value)));
            }
        }
        template
    }

    fn say(&self) {
        if let Some(why) = &self.unread {
            println!(
                "note: {why}: write its pgSettings' search_path into shale.toml (`search_path = \"...\"`) and its \
                 placeholders under [placeholders], or a fresh database gets its tables in `public`"
            );
            return;
        }
        for (key, value) in [
            ("search_path", &self.search_path),
            ("statement_timeout", &self.statement_timeout),
            ("lock_timeout", &self.lock_timeout),
        ] {
            if let Some(value) = value {
                println!("{key} = {}: .gmrc's pgSettings, as graphile-migrate's migrations ran", toml_string(value));
            }
        }
        if !self.placeholders.is_empty() {
            println!("[placeholders]: the {} of .gmrc", self.placeholders.len());
        }
        for key in &self.other_settings {
            println!(
                "note: .gmrc's pgSettings `{key}` is not carried over: set it on the role or the database (`ALTER ROLE ... SET {key} = ...`)"
            );
        }
        if !self.after_reset.is_empty() {
            println!(
                "note: .gmrc's afterReset runs {} on a new database before the committed migrations, which shale \
                 does not: what the migrations need of it goes in a migration numbered before the first \
                 (`000000.sql` with `-- shale:out-of-order`, docs/migrations.md), recorded on the databases \
                 graphile-migrate built with `shale repair 000000 --applied --reason ...`; what only a superuser \
                 may do in `replay_setup`",
                self.after_reset.join(", ")
            );
        }
    }
}

/// The tool whose migrations are code, kept where shale does not look, that the project at `root`
/// uses: Alembic (`alembic.ini`), Django (`manage.py`), SeaORM (a migration crate).
fn code_migrations_beside(root: &Path) -> Option<&'static str> {
    let here = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    [("alembic.ini", "Alembic"), ("manage.py", "Django")]
        .into_iter()
        .find(|(file, _)| here.join(file).is_file())
        .map(|(_, tool)| tool)
        .or_else(|| sea_orm_migration_crate(here).then_some("SeaORM"))
}

/// Whether a crate of the workspace at `here` depends on `sea-orm-migration` (SeaORM's `migration`
/// crate, at the root or among `crates/*`) (SeaORM trial: init said nothing of it).
fn sea_orm_migration_crate(here: &Path) -> bool {
    let mut manifests = vec![here.join("migration").join("Cargo.toml")];
    if let Ok(entries) = std::fs::read_dir(here.join("crates")) {
        for entry in entries.flatten() {
            manifests.push(entry.path().join("Cargo.toml"));
            manifests.push(entry.path().join("migration").join("Cargo.toml"));
        }
    }
    manifests.iter().any(|m| std::fs::read_to_string(m).is_ok_and(|t| t.contains("sea-orm-migration")))
}

/// The variable Prisma Migrate takes its connection from: from Prisma 7, the `datasource`'s `url`
/// in the `prisma.config.ts` beside `prisma_dir` (`env("NAME")`, or `process.env.NAME`, the first
/// of those it falls back between; breadth trial: rallly's `DIRECT_DATABASE_URL` was not read);
/// before it, in `prisma_dir`'s `schema.prisma` (or the `schema/*.prisma` files of a split schema),
/// the datasource's `directUrl = env("NAME")`, which goes past a pooler (`url` is often
/// PgBouncer's, for the application), else its `url`; with where it was said. None where that is
/// DATABASE_URL, shale's own default.
pub(crate) fn prisma_migrate_url_env(prisma_dir: &Path) -> Option<(String, &'static str)> {
    let config = [prisma_dir.parent(), Some(prisma_dir)]
        .into_iter()
        .flatten()
        .find_map(|d| std::fs::read_to_string(d.join("prisma.config.ts")).ok());
    if let Some(variable) = config.as_deref().and_then(prisma_config_url_env) {
        return (variable != "DATABASE_URL").then_some((variable, "datasource url of prisma.config.ts"));
    }
    let mut texts: Vec<String> = std::fs::read_to_string(prisma_dir.join("schema.prisma")).into_iter().collect();
    if let Ok(entries) = std::fs::read_dir(prisma_dir.join("schema")) {
        texts.extend(
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "prisma"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok()),
        );
    }
    let env_of = |key: &str| {
        texts.iter().flat_map(|t| t.lines()).find_map(|line| {
            let rest = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?.trim_start();
            let name = rest.strip_prefix("env(")?.trim_start().strip_prefix('"')?;
            Some(name[..name.find('"')?].to_string())
        })
    };
    let (variable, key) = env_of("directUrl")
        .map(|v| (v, "directUrl of schema.prisma"))
        .or_else(|| env_of("url").map(|v| (v, "url of schema.prisma")))?;
    (variable != "DATABASE_URL").then_some((variable, key))
}

/// The variables a `prisma.config.ts` takes its datasource's `url` from, in the order it falls
/// back between them (`process.env.DIRECT_DATABASE_URL || process.env.DATABASE_URL`), as
/// `database_url_env` lists them: each `env("NAME")` or `process.env.NAME` after `url:` in its
/// `datasource` block, on that line.
fn prisma_config_url_env(config: &str) -> Option<String> {
    let datasource = &config[config.find("datasource")?..];
    let url = &datasource[datasource.find("url")?..];
    let line = url.lines().next()?;
    let mut names: Vec<String> = Vec::new();
    let mut rest = line;
    while let Some(at) = [rest.find("process.env."), rest.find("env(")].into_iter().flatten().min() {
        let after = match rest[at..].starts_with("process.env.") {
            true => &rest[at + "process.env.".len()..],
            false => rest[at + 4..].trim_start().trim_start_matches(['"', '\'']),
        };
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
        rest = &rest[at + 4..];
    }
    (!names.is_empty()).then(|| names.join(", "))
}

/// Where other tools keep migrations shale reads, under a project's root, and whose they are.
const OTHER_TOOLS_DIRS: &[(&str, &str)] = &[
    ("prisma/migrations", "Prisma"),
    ("drizzle", "drizzle-kit"),
    ("db/migrations", "dbmate"),
    // Sequel's (Roda's, ubicloud's `migrate/`), Hanami 2's through ROM (Sequel trial: init made
    // `migrations/`, and a new `.rb` after the switch went unseen).
    ("db/migrations", "Sequel"),
    ("migrate", "Sequel"),
    ("config/db/migrate", "Hanami"),
    ("supabase/migrations", "the Supabase CLI"),
    ("src/main/resources/db/migration", "Flyway"),
    ("hasura/migrations/default", "Hasura"),
    // Hasura's before its config v3, one folder per migration straight in `migrations/` (breadth
    // trial: pace-admin's, not found).
    ("hasura/migrations", "Hasura"),
    // Tools whose migrations are code, which run only their own files there (`*.exs`, `*.php`,
    // `*.rb`): shale's SQL files go beside them, where a migration written in code after the
    // switch is seen (Ecto re-check: init made `migrations/`, and a new `.exs` went unseen).
    ("priv/repo/migrations", "Ecto"),
    ("database/migrations", "Laravel"),
    ("db/migrate", "Rails"),
];

/// The tool whose sections the migrations are written in, where they are one's.
fn tool_of_sections(set: &shale_core::MigrationSet) -> Option<&'static str> {
    set.migrations.iter().find_map(|m| match m.layout {
        shale_core::Layout::NodePgMigrate => Some("node-pg-migrate"),
        shale_core::Layout::Goose => Some("goose"),
        shale_core::Layout::SqlMigrate => Some("sql-migrate"),
        shale_core::Layout::DbmateSections => Some("dbmate"),
        _ => None,
    })
}

/// Of [`OTHER_TOOLS_DIRS`], the tools whose migrations are code: a history started from the
/// live schema, not taken over.
const CODE_TOOLS: &[&str] = &["Ecto", "Laravel", "Rails", "Sequel", "Hanami"];

/// Tools whose migrations are in a folder of a `migrations` directory: graphile-migrate's
/// committed ones (beside its `current.sql`), Hasura's for its first database.
const INSIDE_MIGRATIONS: &[(&str, &str)] =
    &[("migrations/committed", "graphile-migrate"), ("migrations/default", "Hasura")];

/// The first of [`OTHER_TOOLS_DIRS`] that holds files, under `root` or, in a monorepo, under one
/// of its `packages/*` or `apps/*`: relative to `root`, with the tool's name.
pub(crate) fn other_tools_dir(root: &Path) -> Option<(String, &'static str)> {
    let mut bases = vec![String::new()];
    for workspace in ["packages", "apps"] {
        let Ok(entries) = std::fs::read_dir(root.join(workspace)) else { continue };
        let mut packages: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| format!("{workspace}/{}/", e.file_name().to_string_lossy()))
            .collect();
        packages.sort();
        bases.extend(packages);
    }
    let found = bases.iter().find_map(|base| {
        OTHER_TOOLS_DIRS
            .iter()
            .find(|(dir, tool)| holds_the_tools_files(&root.join(format!("{base}{dir}")), tool))
            .map(|(dir, tool)| (format!("{base}{dir}"), *tool))
    });
    // yoyo's `sources` in its yoyo.ini (third sweep: IATI's `db-migrations`, not found).
    let yoyo = std::fs::read_to_string(root.join("yoyo.ini")).ok().and_then(|ini| {
        let line = ini.lines().find_map(|l| l.trim().strip_prefix("sources")?.trim_start().strip_prefix('='))?;
        let dir = line.split_whitespace().next()?.to_string();
        has_files(&root.join(&dir)).then_some((dir, "yoyo"))
    });
    let found = found.or(yoyo);
    // goose's own setting, where the project exports it.
    let goose = std::env::var("GOOSE_MIGRATION_DIR").ok().filter(|d| has_files(&root.join(d))).map(|d| (d, "goose"));
    // A Rust workspace's sqlx crate before the folders marked deeper, which may be a SQLite crate's
    // (breadth trial: atuin's `crates/atuin-kv/migrations` was named golang-migrate's).
    found.or(goose).or_else(|| sqitch_project(root)).or_else(|| sqlx_crate(root)).or_else(|| marked_dir(root))
}

/// In a Rust workspace, the migrations of the member crate that runs sqlx's migrator on them
/// (atuin's `crates/atuin-server-postgres/migrations`): `crates/*` first, then the root's folders;
/// the first by name.
fn sqlx_crate(root: &Path) -> Option<(String, &'static str)> {
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    if !listed.join("Cargo.toml").is_file() {
        return None;
    }
    let members = |base: &str| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(listed.join(base)) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !NOT_THE_PROJECT_S.contains(&n.as_str()))
            .map(|n| if base.is_empty() { n } else { format!("{base}/{n}") })
            .collect();
        names.sort();
        names
    };
    members("crates").into_iter().chain(members("")).find_map(|member| {
        // sqlx on PostgreSQL (a workspace may keep SQLite crates beside it: atuin's client).
        let uses_sqlx = std::fs::read_to_string(listed.join(&member).join("Cargo.toml"))
            .is_ok_and(|t| t.contains("sqlx") && t.contains("postgres"));
        let dir = format!("{member}/migrations");
        let holds_sql = std::fs::read_dir(listed.join(&dir))
            .is_ok_and(|e| e.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().ends_with(".sql")));
        (uses_sqlx && holds_sql).then_some((dir, "sqlx"))
    })
}

/// Folders not looked into for migrations: dependencies and build output, not the project's own.
const NOT_THE_PROJECT_S: &[&str] = &["node_modules", "target", "vendor", "dist", "build", "venv"];

/// Deeper in a repository (`packages/prisma/migrations`, `internal-packages/database/prisma/
/// migrations`, Harbor's `make/migrations/postgresql`): the folder, up to 9 levels
/// down, that another tool's own files mark as its migrations: Prisma's `migration_lock.toml`,
/// drizzle-kit's `meta/_journal.json`, Atlas's `atlas.sum`, golang-migrate's `.up.sql` files,
/// Flyway's `V1__x.sql`, graphile-migrate's `committed/`, goose's, dbmate's and sql-migrate's
/// section markers, tern's line between an up and its down. Of one level, the first by name.
fn marked_dir(root: &Path) -> Option<(String, &'static str)> {
    marked_dirs(root).into_iter().next().map(|(relative, tool, _)| (relative, tool))
}

/// Every folder [`marked_dir`] would take, with the number of entries it holds, the one it takes
/// first: the one holding most (the main history, where a repository keeps several: trigger.dev's
/// 820 Prisma folders beside a side database's 6 drizzle files), the shallowest of those, the
/// first by name.
fn marked_dirs(root: &Path) -> Vec<(String, &'static str, usize)> {
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let mut found: Vec<(String, &'static str, usize)> = Vec::new();
    let mut level = vec![std::path::PathBuf::new()];
    for _ in 0..=9 {
        let mut deeper = Vec::new();
        for relative in &level {
            let dir = listed.join(relative);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut names: Vec<(String, bool)> = entries
                .filter_map(|e| e.ok())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.file_type().is_ok_and(|t| t.is_dir())))
                .collect();
            names.sort();
            let tool = if for_another_database(relative)
                || written_for_clickhouse(&dir, &names)
                || holds_sample_data(relative)
            {
                // ClickHouse's, MySQL's, SQLite's migrations (trigger.dev's goose files for
                // ClickHouse, shallower than its Prisma history; uptrace's `chmigrations` beside
                // its bun `pgmigrations`: breadth trial and bun re-check).
                None
            } else if dir.join("migration_lock.toml").is_file() {
                // Prisma's, where its lock file says PostgreSQL (`provider = "postgresql"`).
                std::fs::read_to_string(dir.join("migration_lock.toml"))
                    .is_ok_and(|lock| lock.contains("postgres"))
                    .then_some("Prisma")
            } else if dir.join("meta").join("_journal.json").is_file()
                || names.iter().any(|(name, folder)| *folder && drizzle_1_folder(&dir.join(name)))
            {
                Some("drizzle-kit")
            } else if names.iter().any(|(name, folder)| !folder && name.ends_with(".up.sql")) {
                // bun's, where a file says it (`.tx.up.sql`, `--bun:split`; bun trial: uptrace's
                // named golang-migrate's). (Atlas writes this format too, with its atlas.sum:
                // golang-migrate's to run.)
                // pop's, where a file is named for one database (`.postgres.up.sql`; breadth trial:
                // Ory Kratos' was named golang-migrate's).
                let pop = shale::core::layout::named_as_pop_names_files;
                if names.iter().any(|(name, folder)| !folder && name.ends_with(".tx.up.sql")) {
                    Some("bun")
                } else if names.iter().any(|(name, folder)| !folder && name.ends_with(".up.sql") && pop(name)) {
                    Some("pop")
                } else if crate_uses(listed, relative, "sqlx") {
                    // sqlx's pairs, in a crate that uses it (breadth trial: docs.rs' were named
                    // golang-migrate's, the crate's Cargo.toml taking sqlx from the workspace).
                    Some("sqlx")
                } else {
                    Some("golang-migrate")
                }
            } else if names.iter().any(|(name, folder)| *folder && diesel_folder(&dir, name)) {
                // diesel's folders (`2018-02-17-205753_x/up.sql`), where a project keeps one
                // directory per database (breadth trial: vaultwarden's `migrations/postgresql`
                // beside `mysql/` and `sqlite/`, where init took `migrations`).
                Some("diesel")
            } else if names.iter().any(|(name, folder)| !folder && liquibase_master(&dir, name)) {
                // Liquibase's master changelog (Spring's `db/changelog/db.changelog-master.xml`:
                // third sweep, recruiter's, not found; by its content where it is named otherwise,
                // as Dropwizard's `migrations.xml`: fourth sweep, pay-ledger's).
                Some("Liquibase")
            } else if dir.join(shale::core::layout::SQITCH_PLAN).is_file() {
                // A Sqitch plan deeper down (chef-server's `src/oc_erchef/schema`: breadth trial).
                Some("Sqitch")
            } else if dir.join("atlas.sum").is_file() {
                // Atlas's (ent's `ent/migrate/migrations`, or where atlas.hcl's `dir` points),
                // but for goose's or dbmate's files it wrote, which those tools run (breadth
                // trial: openlane's goose folder was named Atlas's).
                Some(first_sections_tool(&dir, &names).unwrap_or("Atlas"))
            } else if names.iter().any(|(name, folder)| !folder && postgrator_named(name)) {
                // Postgrator's `0001.do.x.sql` (breadth trial: omnivore's `packages/db/migrations`,
                // not found from the repository's root).
                Some("Postgrator")
            } else if names.iter().any(|(name, folder)| !folder && flyway_versioned(name)) {
                // Flyway's `V1__x.sql` (a Java project's `src/main/resources/...`, kestra's
                // `migrations/postgres`: breadth trial, not found), or refinery's, which names
                // them so, where a crate above uses it (breadth trial: PeerDB's was named Flyway's).
                match crate_uses(listed, relative, "refinery") {
                    true => Some("refinery"),
                    false => Some("Flyway"),
                }
            } else if relative.ends_with("committed")
                && names
                    .iter()
                    .any(|(name, folder)| !folder && name.len() > 6 && name[..6].bytes().all(|b| b.is_ascii_digit()))
            {
                // graphile-migrate's committed files (graphile/starter's `@app/db/migrations/committed`).
                Some("graphile-migrate")
            } else {
                // goose's, dbmate's and sql-migrate's files say whose they are in their first lines;
                // tern's, by the line between their up and down.
                first_sections_tool(&dir, &names).or_else(|| tern_files(&dir, &names).then_some("tern"))
            };
            if let Some(tool) = tool.filter(|_| !relative.as_os_str().is_empty()) {
                found.push((relative.to_string_lossy().replace('\\', "/"), tool, names.len()));
                continue;
            }
            deeper.extend(
                names
                    .into_iter()
                    .filter(|(name, folder)| {
                        *folder && !name.starts_with('.') && !NOT_THE_PROJECT_S.contains(&name.as_str())
                    })
                    .map(|(name, _)| relative.join(name)),
            );
        }
        level = deeper;
    }
    // Most entries first; the sort is stable, so among equals the shallowest, then by name.
    found.sort_by_key(|f| std::cmp::Reverse(f.2));
    found
}

/// What a project's Flyway configuration says that shale.toml says too: `outOfOrder`, the
/// placeholders' values, and the schema `${flyway:defaultSchema}` stands for (breadth trials:
/// ccd-data-store-api's out-of-order, pivo-java's placeholders and `spring.flyway.schemas`).
#[derive(Default)]
struct FlywaySettings {
    /// The file it was read from.
    file: Option<String>,
    out_of_order: bool,
    placeholders: Vec<(String, String)>,
}

impl FlywaySettings {
    fn written_into(&self, template: String) -> String {
        let mut template = match self.out_of_order {
            true => template.replacen("# allow_out_of_order = false", "allow_out_of_order = true", 1),
            false => template,
        };
        if !self.placeholders.is_empty() {
            let mut table = String::from("[placeholders]\n");
            for (key, value) in &self.placeholders {
                table.push_str(&format!("{} = {}\n", toml_string(key), toml_string(value)));
            }
            template = template.replacen("# [placeholders]\n# schema = \"app\"\n", &table, 1);
        }
        template
    }

    fn say(&self) {
        let Some(file) = &self.file else { return };
        if self.out_of_order {
            println!("allow_out_of_order = true: Flyway's outOfOrder, set in {file}");
        }
        if !self.placeholders.is_empty() {
            let names: Vec<&str> = self.placeholders.iter().map(|(k, _)| k.as_str()).collect();
            println!("[placeholders] {}: Flyway's, set in {file}", names.join(", "));
        }
    }
}

/// The Flyway settings of the configuration file nearest the migrations at `relative` (under
/// `root`), in a folder holding them or above it: a Spring application's `application*.properties`
/// (`spring.flyway.*`; of its `.yml`, the out-of-order line) or a `flyway.conf` (`flyway.*`).
fn flyway_settings(root: &Path, relative: &Path) -> FlywaySettings {
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    for folder in relative.ancestors() {
        let Ok(entries) = std::fs::read_dir(listed.join(folder)) else { continue };
        let mut names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for name in names {
            let properties =
                (name.starts_with("application") && name.ends_with(".properties")) || name == "flyway.conf";
            let yaml = name.starts_with("application") && (name.ends_with(".yml") || name.ends_with(".yaml"));
            if !properties && !yaml {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(listed.join(folder).join(&name)) else { continue };
            let mut found = FlywaySettings::default();
            // (Spring resolves `${other.key}` and `${other.key:default}` from the same properties.)
            let keyed: std::collections::BTreeMap<&str, &str> = text
                .lines()
                .filter_map(|l| l.trim().split_once(['=', ':']))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            let resolved = |value: String| -> Option<String> {
                let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
                    return (!value.contains("${")).then_some(value);
                };
                let (key, default) = inner.split_once(':').map_or((inner, None), |(k, d)| (k, Some(d)));
                keyed.get(key).map(|v| v.to_string()).or(default.map(str::to_string)).filter(|v| !v.contains("${"))
            };
            for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.starts_with('!')) {
                let lower = line.to_ascii_lowercase();
                if (lower.contains("out-of-order") || lower.contains("outoforder")) && lower.contains("true") {
                    found.out_of_order = true;
                }
                if !properties {
                    continue;
                }
                let Some((key, value)) = line.split_once(['=', ':']) else { continue };
                let key = key.trim();
                let key = key.strip_prefix("spring.").unwrap_or(key);
                // (A value Spring takes from the environment, `${DB_SCHEMA}`, is left to the team.)
                let Some(value) = resolved(value.trim().to_string()) else { continue };
                if let Some(placeholder) = key.strip_prefix("flyway.placeholders.") {
                    found.placeholders.push((placeholder.to_string(), value));
                } else if matches!(key, "flyway.schemas" | "flyway.default-schema" | "flyway.defaultSchema") {
                    let first = value.split(',').next().unwrap_or("").trim().to_string();
                    if !first.is_empty() && !found.placeholders.iter().any(|(k, _)| k == "flyway:defaultSchema") {
                        found.placeholders.push(("flyway:defaultSchema".to_string(), first));
                    }
                }
            }
            if found.out_of_order || !found.placeholders.is_empty() {
                found.file = Some(folder.join(&name).to_string_lossy().replace('\\', "/"));
                return found;
            }
        }
    }
    FlywaySettings::default()
}

/// Whether a crate holding `relative` (its `Cargo.toml` in a folder above, up to `root`, a
/// workspace's too) uses the crate `name`.
fn crate_uses(root: &Path, relative: &Path, name: &str) -> bool {
    relative
        .ancestors()
        .any(|folder| std::fs::read_to_string(root.join(folder).join("Cargo.toml")).is_ok_and(|t| t.contains(name)))
}

/// A Liquibase master changelog in `dir`: named as Spring Boot's default and Liquibase's docs
/// write it, or an XML, YAML or JSON file holding a `databaseChangeLog`, as the loader finds one.
fn liquibase_master(dir: &Path, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = ["xml", "yaml", "yml", "json"].iter().find_map(|x| lower.strip_suffix(&format!(".{x}"))) else {
        return false;
    };
    matches!(stem, "db.changelog-master" | "changelog-master" | "changelog" | "db.changelog")
        || std::fs::read_to_string(dir.join(name)).is_ok_and(|text| text.contains("databaseChangeLog"))
}

/// Postgrator's file name: `0001.do.x.sql` (or `0001.do.sql`).
fn postgrator_named(name: &str) -> bool {
    name.split_once(".do.").is_some_and(|(number, rest)| {
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && rest.to_ascii_lowercase().ends_with("sql")
    })
}

/// The tool whose section markers the first SQL file of `dir` has (goose, dbmate, sql-migrate).
fn first_sections_tool(dir: &Path, names: &[(String, bool)]) -> Option<&'static str> {
    names
        .iter()
        .find(|(name, folder)| !folder && name.to_ascii_lowercase().ends_with(".sql"))
        .and_then(|(name, _)| sections_tool_of(&dir.join(name)))
}

/// Whether one of the first SQL files of a folder holds tern's line between an up and its down
/// (`---- create above / drop below ----`), wherever it stands: tern's own first file often has
/// none (breadth trial: otf's `internal/sql/migrations`, 23 of 24 with it, not found, and every
/// command after `init` a silent no-op on an empty `migrations/`).
fn tern_files(dir: &Path, names: &[(String, bool)]) -> bool {
    use std::io::Read;
    let separator = shale::core::layout::TERN_SEPARATOR;
    names.iter().filter(|(name, folder)| !folder && name.to_ascii_lowercase().ends_with(".sql")).take(5).any(
        |(name, _)| {
            let mut text = String::new();
            let read = std::fs::File::open(dir.join(name)).and_then(|f| f.take(1 << 20).read_to_string(&mut text));
            read.is_ok() && text.lines().any(|l| l.trim() == separator)
        },
    )
}

/// A migration as diesel writes it: a folder named by its dashed time (`2018-02-17-205753_name`,
/// or its setup's `00000000000000_diesel_initial_setup`) holding `up.sql`.
fn diesel_folder(dir: &Path, name: &str) -> bool {
    let Some((version, _)) = name.split_once('_') else { return false };
    let dashed = version.len() == 17
        && version
            .bytes()
            .enumerate()
            .all(|(i, b)| if matches!(i, 4 | 7 | 10) { b == b'-' } else { b.is_ascii_digit() });
    (dashed || version == "00000000000000") && dir.join(name).join("up.sql").is_file()
}

/// Whether the first SQL files of a folder are written for ClickHouse (`ENGINE = MergeTree`,
/// `CODEC(...)`), whatever the folder's name.
fn written_for_clickhouse(dir: &Path, names: &[(String, bool)]) -> bool {
    use std::io::Read;
    names.iter().filter(|(name, folder)| !folder && name.to_ascii_lowercase().ends_with(".sql")).take(3).any(
        |(name, _)| {
            let mut head = vec![0; 8192];
            let read = std::fs::File::open(dir.join(name)).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
            let text = String::from_utf8_lossy(&head[..read]).to_ascii_lowercase();
            text.contains("mergetree") || text.contains("codec(")
        },
    )
}

/// goose, dbmate or sql-migrate, where the file at `path` has their section markers in its first 4 KiB.
fn sections_tool_of(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = vec![0; 4096];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    shale::core::layout::section_tool(&String::from_utf8_lossy(&head[..read]))
        .filter(|t| matches!(*t, "goose" | "dbmate" | "sql-migrate"))
}

/// Flyway's versioned migration: `V1__x.sql`, `V1_2__x.sql`, `V2024.01.01__x.sql`.
fn flyway_versioned(name: &str) -> bool {
    name.strip_suffix(".sql").is_some_and(flyway_named)
}

/// A stem named as Flyway names versioned migrations, `V` and a version before `__`, the version
/// read as every version is.
fn flyway_named(stem: &str) -> bool {
    stem.strip_prefix('V')
        .and_then(|rest| rest.split_once("__"))
        .is_some_and(|(version, _)| shale::core::version::Version::parse(version).is_some())
}

/// A Sqitch project: the folder holding its plan, the root's or one of its folders'.
fn sqitch_project(root: &Path) -> Option<(String, &'static str)> {
    let plan = shale::core::layout::SQITCH_PLAN;
    if root.join(plan).is_file() {
        return Some((".".into(), "Sqitch"));
    }
    // The root may be the empty path (the working directory), which read_dir refuses.
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let mut folders: Vec<String> = std::fs::read_dir(listed)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(plan).is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    folders.into_iter().next().map(|folder| (folder, "Sqitch"))
}

/// Whether `dir` holds files `tool` wrote there: SQL files, for the tools whose migrations are
/// (peewee trial: `db/migrations` of Python modules was named dbmate's); any, for the others.
fn holds_the_tools_files(dir: &Path, tool: &str) -> bool {
    match tool {
        // Atlas's own files in `db/migrations` are not dbmate's (breadth trial: openlane's).
        "dbmate" if dir.join("atlas.sum").is_file() => std::fs::read_dir(dir).is_ok_and(|entries| {
            let mut names: Vec<(String, bool)> =
                entries.flatten().map(|e| (e.file_name().to_string_lossy().into_owned(), false)).collect();
            names.sort();
            first_sections_tool(dir, &names) == Some("dbmate")
        }),
        "dbmate" | "the Supabase CLI" | "Flyway" | "drizzle-kit" => std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name().to_string_lossy().to_ascii_lowercase().ends_with(".sql")
                    || (tool == "drizzle-kit" && drizzle_1_folder(&e.path()))
            })
        }),
        // Laravel's migrations are PHP classes (breadth trial: Artifact Hub's `database/migrations`
        // of tern files was named Laravel's).
        "Laravel" => std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().to_ascii_lowercase().ends_with(".php"))
        }),
        // Ruby files written with Sequel's (or ROM's) migration DSL.
        "Sequel" | "Hanami" => std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name().to_string_lossy().ends_with(".rb")
                    && std::fs::read_to_string(e.path())
                        .is_ok_and(|t| t.contains(".migration do") || t.contains(".migration {"))
            })
        }),
        _ => has_files(dir),
    }
}

/// A migration as drizzle-kit 1.0 writes it, a folder of its own (`20261207131943_init/`) with
/// `migration.sql` and the `snapshot.json` that marks it drizzle's (drizzle trial: its project's
/// `drizzle/`, holding no journal any more, was not found).
fn drizzle_1_folder(folder: &Path) -> bool {
    folder.join("migration.sql").is_file() && folder.join("snapshot.json").is_file()
}

/// A note naming the project's other folders holding `tool`'s files (not `settings.dir`), where
/// `adopt` found the tool's versions with no file in `dir`.
pub(crate) fn note_the_tools_other_folders(settings: &Settings, tool: &str) {
    let same = |a: &str, b: &str| {
        let plain = |t: &str| t.to_ascii_lowercase().trim_end_matches("-kit").to_string();
        plain(a) == plain(b)
    };
    let here = std::fs::canonicalize(&settings.dir).ok();
    let folders: Vec<String> = marked_dirs(&settings.root)
        .into_iter()
        .filter(|(relative, found, _)| {
            same(found, tool) && std::fs::canonicalize(settings.root.join(relative)).ok() != here
        })
        .map(|(relative, _, _)| relative)
        .take(3)
        .collect();
    if !folders.is_empty() {
        crate::output::note(&format!(
            "{tool}'s files are also in {}: point --dir (or `dir` in shale.toml) there if that is the folder {tool} ran",
            folders.join(", ")
        ));
    }
}

/// The other folders of migrations the repository holds, beside the one `dir` points at (a side
/// database's, another service's): named, so that a second history is a choice, not a surprise
/// (bun re-check: trigger.dev's three, uptrace's two).
fn note_other_histories(root: &Path, chosen: &str) {
    let others: Vec<String> = marked_dirs(root)
        .into_iter()
        .filter(|(relative, _, _)| relative != chosen)
        .take(3)
        .map(|(relative, tool, _)| format!("{relative} ({tool}'s)"))
        .collect();
    if !others.is_empty() {
        crate::output::note(&format!(
            "other migrations here: {}; `dir` points at one history; another database's gets a shale.toml of its own \
             (`--config FILE`), one for this database a `history_table` of its own",
            others.join(", ")
        ));
    }
}

/// Flyway's Java (or Kotlin) migrations in the project's sources (`src/main/java/.../db/migration/
/// V56_1__FacetViews.java`), which shale neither sees nor runs: a database it builds lacks what they
/// make (breadth trial: Marquez's views, which its code queries). Up to 12 folders down, the
/// dependencies and build output left out; said with the first two.
fn note_flyway_java_migrations(root: &Path) {
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let mut found: Vec<String> = Vec::new();
    walk_project(listed, 12, |dir, name, path| {
        if flyway_code_migration(name, dir) {
            found.push(path.strip_prefix(listed).unwrap_or(path).display().to_string());
        }
        true
    });
    found.sort();
    let Some(first) = found.first() else { return };
    let more = match found.len() {
        1 => String::new(),
        2 => format!(" and {}", found[1]),
        n => format!(", {} and {} more", found[1], n - 2),
    };
    crate::output::note(&format!(
        "Flyway's migrations in code: {first}{more}: shale neither sees nor runs them, so a database it builds \
         lacks what they make; port each to SQL in the migrations directory under the version Flyway runs it at \
         (its name's, or what its `getVersion()` returns), or build new databases with Flyway up to the last of \
         them first"
    ));
}

/// Sqitch projects in folders of the one `dir` points at (chef-server's `baseline/`, deployed
/// before the plan above it, whose changes require its): named, since each is deployed from its
/// own folder, with a history of its own (breadth trial: init named none of them).
fn note_sqitch_projects_inside(root: &Path, chosen: &str) {
    let top = root.join(chosen);
    let mut inside: Vec<String> = Vec::new();
    walk_project(&top, 6, |dir, name, _| {
        if name == shale::core::layout::SQITCH_PLAN && dir != top {
            inside.push(Path::new(chosen).join(dir.strip_prefix(&top).unwrap_or(dir)).display().to_string());
        }
        true
    });
    inside.sort();
    if inside.is_empty() {
        return;
    }
    crate::output::note(&format!(
        "other Sqitch projects inside it: {}; each is deployed from its own folder (`--dir`), with a history of its \
         own (`history_table` in a shale.toml there); a change requiring another project's waits until that one is \
         deployed, as Sqitch has it",
        inside.join(", ")
    ));
}

/// Each file of the project up to `depth` folders down, level by level, with its folder and name,
/// until `visit` returns false: hidden folders, dependencies, build output and tests (`test`: a
/// test's classes are not migrations, Marquez's `V57_1__BackfillFacetsTest`) left out.
fn walk_project(root: &Path, depth: usize, mut visit: impl FnMut(&Path, &str, &Path) -> bool) {
    let mut level = vec![root.to_path_buf()];
    for _ in 0..depth {
        let mut deeper = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    if !name.starts_with('.') && !NOT_THE_PROJECT_S.contains(&name.as_str()) && name != "test" {
                        deeper.push(e.path());
                    }
                } else if !visit(dir, &name, &e.path()) {
                    return;
                }
            }
        }
        level = deeper;
    }
}

/// The Go file of the project (up to 8 folders down) that passes goose's `WithAllowMissing()`:
/// its team applies migrations older than the newest applied (breadth trial: thunderdome's branch
/// migration refused by `up`).
fn goose_allowing_missing(root: &Path) -> Option<String> {
    let listed = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let mut found = None;
    walk_project(listed, 8, |_, name, path| {
        let small = std::fs::metadata(path).is_ok_and(|m| m.len() < 1 << 20);
        if name.ends_with(".go")
            && small
            && std::fs::read_to_string(path).is_ok_and(|t| t.contains("WithAllowMissing("))
        {
            found = Some(path.strip_prefix(listed).unwrap_or(path).display().to_string());
        }
        found.is_none()
    });
    found
}

/// Flyway's Java or Kotlin migration by its name: `V56_1__FacetViews.java`; in a folder of
/// migrations, also one whose version its `getVersion()` gives (`V44_3_BackfillJobsWithParents`,
/// Marquez's).
fn flyway_code_migration(name: &str, dir: &Path) -> bool {
    let Some(stem) = name.strip_suffix(".java").or_else(|| name.strip_suffix(".kt")) else { return false };
    if flyway_named(stem) {
        return true;
    }
    let Some(rest) = stem.strip_prefix('V') else { return false };
    let in_migrations =
        dir.file_name().is_some_and(|f| f.to_string_lossy().to_ascii_lowercase().starts_with("migration"));
    let digits_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '_')).unwrap_or(rest.len());
    in_migrations && digits_end > 1 && rest[..digits_end].ends_with('_') && rest.as_bytes()[0].is_ascii_digit()
}

/// Whether a folder's path names another database than PostgreSQL (`internal-packages/clickhouse/
/// schema`, `migrations/mysql`): its migrations are not for this one.
fn for_another_database(relative: &Path) -> bool {
    use shale::core::layout::named_for_another_database;
    relative.iter().any(|part| {
        let part = part.to_string_lossy();
        named_for_another_database(&part) || part.split(['-', '_', '.']).any(named_for_another_database)
    })
}

/// Whether the folder is named for sample data (`db/seed`, `seeds`, `fixtures`): a seed's SQL
/// written in a tool's sections is no history (breadth trial: openlane's goose-marked seeds,
/// holding more files than its migrations, were chosen).
fn holds_sample_data(relative: &Path) -> bool {
    relative.file_name().is_some_and(|name| {
        matches!(name.to_string_lossy().to_ascii_lowercase().as_str(), "seed" | "seeds" | "fixtures" | "sample_data")
    })
}

/// Whether `dir` holds `.sql` files itself, not only in folders inside it.
fn holds_sql_at_top(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_type().is_ok_and(|t| t.is_file())
                && e.file_name().to_string_lossy().to_ascii_lowercase().ends_with(".sql")
        })
    })
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn show(p: &Path) -> String {
    p.strip_prefix("./").unwrap_or(p).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::line_ignores;

    #[test]
    fn gitignore_lines_that_cover_a_file() {
        for line in [".env", "/.env", ".env*", "*.env", "**/.env", " .env ", ".env/"] {
            assert!(line_ignores(line, ".env"), "{line}");
        }
        for line in ["# .env", "!.env", ".env.*", ".envrc", "config/.env", "", "env"] {
            assert!(!line_ignores(line, ".env"), "{line}");
        }
        for line in [".env*.local", "*.local", ".env.local", ".env*"] {
            assert!(line_ignores(line, ".env.local"), "{line}");
        }
        assert!(line_ignores(".shale/", ".shale") && line_ignores("/.shale", ".shale"));
    }
}
