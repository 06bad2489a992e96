//! `shale diff --from SRC --to DST`: the SQL that turns SRC's schema into DST's. Each side is a
//! database URL, a migrations directory (replayed into a throwaway database), a schema SQL file
//! (loaded into one) or `exec:COMMAND`, whose standard output is such a file (an application's
//! models as SQL). `--write NAME` saves the SQL as the next migration, `--verify` proves it on a
//! copy of SRC, `--exit-code` exits 1 when the two differ.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use shale::{ConnectionSettings, HistoryTable, MigrationSet, Migrator, UpRequest};
use shale_core::ident::ident;
use shale_core::position::{server_position_offset, LineIndex};
use shale_schema::compare::{differences, Difference};
use shale_schema::diff::{diff, Destructive, Diff};
use shale_schema::Schema;

use super::block_on;
use super::throwaway::{live_schema, Scratch, Throwaway};
use crate::error::{Replay, ReplayFailed};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// Start: a database URL, a migrations directory, a schema SQL file or exec:COMMAND (its output is the schema as SQL) [default: the configured database]
    #[arg(long, value_name = "SRC")]
    pub from: Option<String>,
    /// Goal: a database URL, a migrations directory, a schema SQL file or exec:COMMAND (its output is the schema as SQL) [default: the migrations directory]
    #[arg(long, value_name = "DST")]
    pub to: Option<String>,
    /// Include statements that lose data (drop a table, a column, a sequence, enum labels); otherwise they are written as comments
    #[arg(long)]
    pub allow_destructive: bool,
    /// Save the SQL as the next migration NAME in the migrations directory (its down is the reverse diff, where the layout has downs)
    #[arg(long, value_name = "NAME")]
    pub write: Option<String>,
    /// Apply the SQL to a copy of SRC in a throwaway database and check that the result equals DST
    #[arg(long)]
    pub verify: bool,
    /// A server where shale may create (and drop) scratch databases [default: a temporary local server]
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Exit 1 when the two schemas differ (a CI check that the migrations match the models), as `git diff --exit-code`
    #[arg(long)]
    pub exit_code: bool,
}

/// Where a schema comes from.
pub enum Source {
    Database(Box<ConnectionSettings>),
    Migrations(PathBuf),
    File(PathBuf),
    /// `exec:COMMAND`: a shell command (run in the working directory) whose standard output is a
    /// schema as SQL, loaded like a schema file.
    Exec(String),
}

impl Source {
    pub fn parse(text: &str) -> Result<Source> {
        if let Some(command) = text.strip_prefix("exec:") {
            if command.trim().is_empty() {
                return Err(shale::Error::Invalid(
                    "`exec:` needs a command whose output is the schema as SQL, e.g. `exec:python -m shale.sqlalchemy models:Base`".into(),
                )
                .into());
            }
            return Ok(Source::Exec(command.to_string()));
        }
        let path = Path::new(text);
        if ConnectionSettings::looks_like_url(text) || (text.contains('=') && !path.exists()) {
            let mut settings = ConnectionSettings::parse(text)?;
            settings.fill_from_env(&|k| std::env::var(k).ok())?;
            return Ok(Source::Database(Box::new(settings)));
        }
        if path.is_dir() {
            Ok(Source::Migrations(path.to_path_buf()))
        } else if path.is_file() {
            Ok(Source::File(path.to_path_buf()))
        } else {
            Err(shale::Error::Invalid(format!(
                "`{text}` is not a database URL (postgres://...), a migrations directory or a schema SQL file that exists"
            ))
            .into())
        }
    }

    /// For the header of the SQL written: a database by its name alone, no host or user.
    fn named_in_files(&self) -> String {
        match self {
            Source::Database(s) => s.named_in_files(),
            _ => self.label(),
        }
    }

    /// For headers and messages (passwords redacted).
    pub fn label(&self) -> String {
        match self {
            Source::Database(s) => s.redacted(),
            Source::Migrations(p) => format!("the migrations in {}", p.display()),
            Source::File(p) => p.display().to_string(),
            Source::Exec(command) => format!("the output of `{command}`"),
        }
    }
}

/// Run `command` with the shell in the working directory and return its standard output (its
/// standard error is passed on to shale's line by line, as it comes). A failure to start, a
/// non-zero exit or output that is not UTF-8 is an error (exit 2) naming the command, with the
/// end of its error output.
pub fn exec_output(command: &str) -> Result<String> {
    use std::io::BufRead;
    const TAIL_LINES: usize = 10;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| shale::Error::Invalid(format!("could not run `{command}` (exec:): {e}")))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    // Passed on as it comes (a slow import's warnings show while it runs), its last lines kept.
    let passer = std::thread::spawn(move || {
        let mut tail = std::collections::VecDeque::with_capacity(TAIL_LINES);
        for line in std::io::BufReader::new(stderr).split(b'\n').map_while(|l| l.ok()) {
            let line = String::from_utf8_lossy(&line).into_owned();
            eprintln!("{line}");
            if !line.trim().is_empty() {
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
        tail.into_iter().collect::<Vec<_>>()
    });
    let output = child
        .wait_with_output()
        .map_err(|e| shale::Error::Invalid(format!("could not run `{command}` (exec:): {e}")))?;
    let lines = passer.join().unwrap_or_default();
    if !output.status.success() {
        let how = match output.status.code() {
            Some(code) => format!("exited with {code}"),
            None => "was killed by a signal".into(),
        };
        // Its last lines in the error itself: an application's log shows the error, not what was
        // printed before it (FastAPI trial: "its error output is above", and nothing was).
        let tail = lines.join("\n");
        anyhow::bail!(shale::Error::Invalid(match tail.is_empty() {
            true => format!("`{command}` (exec:) {how}, printing nothing on its error output; its output is not used"),
            false => format!("`{command}` (exec:) {how}; its output is not used; its error output ends with:\n{tail}"),
        }));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| shale::Error::Invalid(format!("the output of `{command}` (exec:) is not UTF-8 text")))?;
    Ok(without_terminal_colors(&text))
}

/// `text` without the escape sequences that color a terminal (`ESC [ 32 m`): a CLI that colors
/// its output into a pipe too (MikroORM's `schema:create --dump` ends with two) is no SQL, and the
/// server's syntax error then showed them to the terminal, which ate the message (MikroORM trial).
fn without_terminal_colors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then the final byte (a letter, `@` to `~`).
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod terminal_color_tests {
    #[test]
    fn color_sequences_are_taken_out() {
        let dumped = "create table t (a int);\n\u{1b}[32m\u{1b}[39m\n";
        assert_eq!(super::without_terminal_colors(dumped), "create table t (a int);\n\n");
        assert_eq!(super::without_terminal_colors("select '\u{1b}[1;31mred';"), "select 'red';");
        assert_eq!(super::without_terminal_colors("plain"), "plain");
    }
}

/// A schema read from a source; `scratch` is the throwaway database holding it, if one was made.
pub struct Side {
    pub schema: Schema,
    pub scratch: Option<Scratch>,
    /// For a database: the schema unqualified names land in there, when it is not `public`
    /// ([`live_schema`]).
    pub home: Option<super::throwaway::Home>,
}

/// Read a source's schema, making a scratch database on `throwaway` when it needs one.
pub fn read(
    settings: &Settings,
    source: &Source,
    throwaway: &mut Option<Throwaway>,
    dev_url: Option<&str>,
) -> Result<Side> {
    read_beside(settings, source, throwaway, dev_url, None)
}

/// [`read`], built to be compared with `beside`, a side already read. What is built on a scratch
/// database lands in `beside`'s home schema, as it does there. An `exec:` source's output (an
/// application's models) is built on a scratch database that first gets `beside`'s extensions.
/// Models cannot declare extensions: they are the database's environment. Without them a default
/// such as `uuid_generate_v4()` would not load, and every diff would drop the extension. Output
/// that creates extensions itself runs as it is.
pub fn read_beside(
    settings: &Settings,
    source: &Source,
    throwaway: &mut Option<Throwaway>,
    dev_url: Option<&str>,
    beside: Option<&Side>,
) -> Result<Side> {
    let history = &settings.history;
    let home = beside.and_then(|b| b.home.clone());
    // A scratch database for building `sql` there.
    let scratch = |throwaway: &mut Option<Throwaway>, sql: Vec<&str>| -> Result<Scratch> {
        if throwaway.is_none() {
            *throwaway = Some(Throwaway::server(settings, dev_url)?);
        }
        throwaway.as_mut().expect("made above").database()?.landing_in(home.clone(), sql)
    };
    let built = |schema, db| Side { schema, scratch: Some(db), home: None };
    match source {
        Source::Database(settings) => {
            let (schema, home) = live_schema(settings, &Default::default(), history)?;
            Ok(Side { schema, scratch: None, home })
        }
        Source::Migrations(dir) => {
            let set = MigrationSet::read_dir_with(dir, &settings.reading).map_err(shale::Error::Load)?;
            let db = scratch(throwaway, set.migrations.iter().map(|m| &*m.up.text).collect())?;
            Ok(built(replay(settings, set, &db, Replay::Diff, None)?, db))
        }
        Source::File(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let db = scratch(throwaway, vec![&text])?;
            run_script(&db, &text, &path.display().to_string())?;
            Ok(built(db.read_schema(history)?, db))
        }
        Source::Exec(command) => {
            let text = exec_output(command)?;
            let db = scratch(throwaway, vec![&text])?;
            // Only in a scratch database of its own: a scratch schema shares its database (and its
            // extensions) with the user's --dev-url database, which is not shale's to change.
            let own_database = db.schema.is_none();
            let environment = beside.map(|b| b.schema.extensions.as_slice()).unwrap_or_default();
            if own_database && !environment.is_empty() && !text.to_ascii_uppercase().contains("CREATE EXTENSION") {
                let provided: String = environment
                    .iter()
                    .map(|x| {
                        format!("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {};\n", ident(&x.name), ident(&x.schema))
                    })
                    .collect();
                run_script(
                    &db,
                    &provided,
                    "the extensions the models are compared beside (models cannot declare them)",
                )?;
            }
            run_script(&db, &text, &format!("the output of `{command}`"))?;
            Ok(built(db.read_schema(history)?, db))
        }
    }
}

/// Apply every migration of `set` (up to `to`, when given) to the (empty) scratch database `db` and
/// read the schema they build.
/// A migration that fails there is a [`ReplayFailed`]: it failed on the scratch database, not on
/// the user's (`purpose`: what the schema is for).
pub fn replay(
    settings: &Settings,
    set: impl Into<std::sync::Arc<MigrationSet>>,
    db: &Scratch,
    purpose: Replay,
    to: Option<&shale::Version>,
) -> Result<Schema> {
    let migrator = Migrator::new(replayable(settings, set.into()), db.migrator_config(&settings.history));
    let request = UpRequest {
        target: to.map(|v| shale::Target::Version(v.clone())),
        allow_out_of_order: true,
        // A scratch database: what replay_setup made is no history's.
        allow_over_existing_tables: true,
        ..Default::default()
    };
    ReplayFailed::of(block_on(migrator.up(&request, &mut |_| {})), purpose)?;
    db.read_schema(&settings.history)
}

/// `set` without the migrations shale cannot run (goose's Go ones), for a replay on a throwaway
/// database, which would otherwise stop before the first of them; a note names each: what it
/// does to the schema is not in what is built (as a new database `up` builds gets none of it).
/// Not with `-q` or `--json`.
pub fn replayable(settings: &Settings, set: std::sync::Arc<MigrationSet>) -> std::sync::Arc<MigrationSet> {
    if set.unrunnable.is_empty() {
        return set;
    }
    for go in set.unrunnable.iter().filter(|_| !settings.quiet && !settings.json) {
        crate::output::note(&format!(
            "{}: migration {} is written in {}, which shale does not run: the replay on the throwaway database leaves it out, so what it does to the schema is not in what is built (a .sql file of the same version beside it runs in its place, and ends this)",
            go.path.display(),
            go.version_text,
            shale::core::layout::written_in(&go.path)
        ));
    }
    let mut runnable = MigrationSet::clone(&set);
    runnable.unrunnable.clear();
    std::sync::Arc::new(runnable)
}

/// Run a SQL script as one implicit transaction; an error names `origin:line:column`.
pub fn run_script(db: &Scratch, text: &str, origin: &str) -> Result<()> {
    // A schema dump of pg_dump 17.6 or later opens with `\restrict KEY`, which psql reads.
    let text = &*shale_core::split::without_dump_restrictions(text);
    let (result, statement_start) = block_on(async {
        let client = shale_pg::connect(&db.connection, &db.session()).await.map_err(shale_pg::PgError::from)?;
        let result = client.batch_execute(text).await;
        // Where PostgreSQL gives no position (a missing operator class, a name taken twice), the
        // statement that failed is found by running them one at a time, rolled back (FastAPI
        // trial: an 830-line models dump, and no line named).
        let statement_start = match &result {
            Err(e) if e.as_db_error().is_some_and(|d| d.position().is_none()) => failing_statement(&client, text).await,
            _ => None,
        };
        Ok::<_, shale_pg::PgError>((result, statement_start))
    })
    .map_err(shale::Error::Pg)?;
    let Err(e) = result else { return Ok(()) };
    let Some(db_error) = e.as_db_error() else {
        anyhow::bail!("{origin}: {e}");
    };
    // A command's output is nowhere on disk: show the line the position points at.
    let exec = origin.starts_with("the output of `");
    let offset = match db_error.position() {
        Some(shale_pg::tokio_postgres::error::ErrorPosition::Original(p)) => {
            Some(server_position_offset(text, 0, *p as usize))
        }
        _ => statement_start,
    };
    let (at, shown) = match offset {
        Some(offset) => {
            let (line, column) = LineIndex::new(text).line_col(text, offset);
            let shown = match text.lines().nth(line.saturating_sub(1)) {
                Some(line_text) if exec => format!("\n  {line} | {line_text}"),
                _ => String::new(),
            };
            (format!(":{line}:{column}"), shown)
        }
        None => (String::new(), String::new()),
    };
    let what = if exec { "fix what the command prints" } else { "fix the file" };
    anyhow::bail!(shale::Error::Invalid(format!(
        "{origin}{at}: {} (SQLSTATE {}){shown}\n{what} and run the command again (nothing was kept: the scratch database is dropped)",
        db_error.message(),
        db_error.code().code()
    )))
}

/// The byte offset of the first statement of `text` that fails, each run in turn in one
/// transaction that is rolled back; None where the text does not split or none fails so.
async fn failing_statement(client: &shale_pg::tokio_postgres::Client, text: &str) -> Option<usize> {
    let statements = shale_core::split::split(text).ok()?;
    client.batch_execute("BEGIN").await.ok()?;
    let mut failed = None;
    for statement in &statements {
        if client.batch_execute(&text[statement.span.clone()]).await.is_err() {
            failed = Some(statement.span.start);
            break;
        }
    }
    let _ = client.batch_execute("ROLLBACK").await;
    failed
}

#[derive(serde::Serialize)]
struct Verification {
    ok: bool,
    /// What still differs from DST after applying the SQL to a copy of SRC.
    differences: Vec<Difference>,
}

/// Apply the diff to a copy of the source (its scratch database, or a new one loaded from its
/// dump) and compare the result with `goal`. In a scratch schema (see [`Scratch`]) the models are
/// seen in that schema instead of `public` for the dump and the SQL. `as_written`: in the order
/// `--write` writes it, the changes built apart after the rest (review: applied in the diff's own
/// order, a UNIQUE built apart after the key needing it passed, and `up` failed).
pub fn verify(
    settings: &Settings,
    from: &Side,
    goal: &Schema,
    (allow_destructive, as_written): (bool, bool),
    history: &HistoryTable,
    throwaway: &mut Option<Throwaway>,
    dev_url: Option<&str>,
) -> Result<Vec<Difference>> {
    let db = match &from.scratch {
        Some(db) => db.clone(),
        None => {
            if throwaway.is_none() {
                *throwaway = Some(Throwaway::server(settings, dev_url)?);
            }
            throwaway.as_mut().expect("made above").database()?
        }
    };
    let in_scratch = |model: &Schema| match &db.schema {
        Some(schema) => {
            let mut moved = shale_schema::confine::confine(model, "public", schema);
            // The scratch schema exists already: neither the dump nor the diff creates it.
            moved.schemas.retain(|s| s != schema);
            moved
        }
        None => model.clone(),
    };
    let source = in_scratch(&from.schema);
    if from.scratch.is_none() {
        run_script(&db, &shale_schema::dump(&source), "the dump of the source schema")?;
    }
    let (first, rest) = diff(&source, &in_scratch(goal)).split_commit_first();
    let parts = match as_written {
        true => {
            let (main, apart) = rest.split_build_apart();
            vec![first, main, apart]
        }
        false => vec![first, rest],
    };
    for part in parts.iter().filter(|d| !d.is_empty()) {
        run_script(
            &db,
            &part.to_sql_with(destructive(allow_destructive.then_some(ALLOWED_BY_FLAG))),
            "the generated SQL",
        )?;
    }
    let after = db.read_schema(history)?;
    let mut left = differences(goal, &after);
    if left.is_empty() && !diff(&after, goal).is_empty() {
        left.push(Difference { object: "schema".into(), expected: Some("no further change".into()), actual: None });
    }
    Ok(left)
}

pub fn run(settings: &Settings, args: &DiffArgs) -> Result<i32> {
    let from = match &args.from {
        Some(text) => Source::parse(text)?,
        None => Source::Database(Box::new(super::connection(settings)?)),
    };
    let to = match &args.to {
        Some(text) => Source::parse(text)?,
        None => Source::Migrations(settings.dir.clone()),
    };
    let history = &settings.history;
    let dev_url = settings.scratch_server(args.dev_url.as_deref());
    // Scratch databases go when `throwaway` is dropped (also on error and on Ctrl-C).
    let mut throwaway: Option<Throwaway> = None;
    // The side that needs nothing of the other is read first: a database, whose home schema and
    // extensions a built side takes, else anything but models (see `read_beside`).
    let goal_first = match (&from, &to) {
        (Source::Database(_), _) => false,
        (_, Source::Database(_)) => true,
        (Source::Exec(_), to) => !matches!(to, Source::Exec(_)),
        _ => false,
    };
    let (mut source, mut goal) = if goal_first {
        let goal = read(settings, &to, &mut throwaway, dev_url)?;
        let source = read_beside(settings, &from, &mut throwaway, dev_url, Some(&goal))?;
        (source, goal)
    } else {
        let source = read(settings, &from, &mut throwaway, dev_url)?;
        let goal = read_beside(settings, &to, &mut throwaway, dev_url, Some(&source))?;
        (source, goal)
    };
    // Another tool's history that only one side has (a live database, or a schema file dumped from
    // one: Rails' structure.sql holds schema_migrations) is no difference, as for `shale drift`;
    // one both have is compared (a table the migrations build too).
    // What replay_setup made on a side built on a scratch database is the environment's: the
    // other side (a live database) has it as such.
    let made = [&source, &goal].into_iter().find_map(|s| s.scratch.as_ref()?.setup_made.clone());
    if let Some(made) = made {
        source.schema = shale_schema::confine::without_same_objects(&source.schema, &made);
        goal.schema = shale_schema::confine::without_same_objects(&goal.schema, &made);
    }
    // Two live databases: another tool's history either has is bookkeeping, left out of both.
    let leave_out = match (&from, &to) {
        (Source::Database(_), Source::Database(_)) => super::drift::without_other_tools_histories_on_both,
        _ => super::drift::without_other_tools_histories_on_either,
    };
    (source.schema, goal.schema) =
        leave_out(settings, std::mem::take(&mut source.schema), std::mem::take(&mut goal.schema));
    // Models describe tables, not the functions, triggers and views the migrations make with SQL:
    // those kinds are kept as the other side has them, and said.
    match (&from, &to) {
        (Source::Exec(_), Source::Exec(_)) => {}
        (_, Source::Exec(_)) => goal.schema = models_keeping(settings, &to, &goal.schema, &source.schema),
        (Source::Exec(_), _) => source.schema = models_keeping(settings, &from, &source.schema, &goal.schema),
        _ => {}
    }
    let changes = diff(&source.schema, &goal.schema);
    let holder = |s: &Source| match s {
        Source::Migrations(_) => format!("what {} build", s.label()),
        _ => s.label(),
    };
    crate::output::note_unread(settings, &source.schema, &holder(&from), "the diff");
    crate::output::note_unread(settings, &goal.schema, &holder(&to), "the diff");
    let body = script(&changes, args.allow_destructive.then_some(ALLOWED_BY_FLAG), false);
    let left_out = if args.allow_destructive { 0 } else { changes.destructive_count() };

    let verification = if args.verify {
        let how = (args.allow_destructive, args.write.is_some());
        let left = verify(settings, &source, &goal.schema, how, history, &mut throwaway, dev_url)?;
        Some(Verification { ok: left.is_empty(), differences: left })
    } else {
        None
    };

    let header = format!(
        "-- Generated by `shale diff`: turns {} into {}.\n-- Review it before applying.\n\n",
        from.named_in_files(),
        to.named_in_files()
    );
    let mut written = Vec::new();
    if let Some(name) = &args.write {
        if changes.is_empty() {
            anyhow::bail!(shale::Error::Invalid(format!(
                "nothing to write: {} and {} have the same schema",
                from.label(),
                to.label()
            )));
        }
        written = write_migrations(settings, name, &header, &source.schema, &goal.schema, args.allow_destructive)?
            .into_iter()
            .flat_map(|(_, files)| files)
            .collect();
    }

    if settings.json {
        super::print_json(&serde_json::json!({
            "from": from.label(),
            "to": to.label(),
            "changes": changes.changes,
            "destructive_left_out": left_out,
            "sql": body,
            "written": written,
            "verification": verification,
            "unread": { "from": source.schema.unread, "to": goal.schema.unread },
        }));
    } else {
        report(settings, &changes, &header, &body, left_out, &written, verification.as_ref());
    }
    Ok(match verification {
        Some(v) if !v.ok => 1,
        _ if args.exit_code && !changes.is_empty() => 1,
        _ => 0,
    })
}

/// The diff as one script, for a person or psql: what must be committed first (new enum labels)
/// comes first, then a line saying so (with `transactions`, each part is wrapped in BEGIN and
/// COMMIT instead, for `psql -f` without `-1`).
/// `destructive_because`: include the statements that lose data, for this reason (see
/// [`Diff::to_sql_with`]); None leaves them out as comments.
pub fn script(changes: &Diff, destructive_because: Option<&str>, transactions: bool) -> String {
    let (first, rest) = changes.split_commit_first();
    let wrap = |part: &Diff| {
        let sql = part.to_sql_with(destructive(destructive_because));
        if transactions && !part.is_empty() {
            format!("BEGIN;\n{sql}COMMIT;\n")
        } else {
            sql
        }
    };
    if first.is_empty() {
        return wrap(&rest);
    }
    let between = if transactions {
        "\n-- New enum labels cannot be used in the transaction that adds them: they are committed first.\n\n"
    } else {
        "\n-- COMMIT the statements above before the rest: new enum labels cannot be used in the transaction\n-- that adds them (`--write` makes them a migration of their own).\n\n"
    };
    format!("{}{between}{}", wrap(&first), wrap(&rest))
}

/// Why a destructive statement is in a script: the user asked for it.
pub const ALLOWED_BY_FLAG: &str = "included with --allow-destructive";

/// What a script does with the statements that lose data: includes them `because`, or leaves them
/// out with a line naming the flag that includes them.
fn destructive(because: Option<&str>) -> Destructive<'_> {
    match because {
        Some(because) => Destructive::Included { because },
        None => Destructive::LeftOut { how_to_include: Some("use --allow-destructive to include it") },
    }
}
/// Why a destructive statement is in a down: it removes what the up added.
const DOWN_UNDOES_ITS_UP: &str = "a down removes what its up added";

/// A down migration's text for `down` (the diff from after a migration to before it), destructive
/// statements included: undoing a change removes what it added. A down that adds enum labels back
/// and uses them runs statement by statement.
pub fn down_script(down: &Diff) -> String {
    if down.split_commit_first().0.is_empty() {
        script(down, Some(DOWN_UNDOES_ITS_UP), false)
    } else {
        format!(
            "-- shale:no-transaction\n-- (it adds enum labels back and uses them: each statement commits on its own)\n{}",
            script(down, Some(DOWN_UNDOES_ITS_UP), false)
        )
    }
}

/// Save the changes from `before` to `after` as the next migration NAME, its down the diff back
/// (undoing a change removes what it added: the down includes destructive statements). New enum
/// labels go first, in a migration of their own (`NAME_enum_labels`): they must be committed
/// before the rest uses them, and that migration's down is the one that takes them out again
/// (the type made anew without them), so that each down undoes its own up. New indexes on
/// existing tables go last, in a migration of their own (`NAME_indexes`) that builds them
/// CONCURRENTLY outside a transaction, as `up`'s safety check asks of a table with rows (the
/// database the diff was made on may have none). Returns each migration's version and files.
pub fn write_migrations(
    settings: &Settings,
    name: &str,
    header: &str,
    before: &Schema,
    after: &Schema,
    allow_destructive: bool,
) -> Result<Vec<(String, Vec<PathBuf>)>> {
    let changes = diff(before, after);
    let (first, rest) = changes.split_commit_first();
    // Between the two migrations: `before` with the enums whose labels the first one adds as
    // `after` has them. The labels' down goes back from there; the rest's down comes back to it.
    let labelled: Vec<&str> = first.changes.iter().map(|c| c.object.as_str()).collect();
    let mut between = before.clone();
    for e in &mut between.enums {
        if labelled.contains(&format!("type {}.{}", e.schema, e.name).as_str()) {
            if let Some(now) = after.enums.iter().find(|a| a.schema == e.schema && a.name == e.name) {
                *e = now.clone();
            }
        }
    }
    let (down, labels_down) = match allow_destructive {
        true => (diff(after, &between), diff(&between, before)),
        false => (
            diff(after, &between).keeping_what_was_left_out(&rest, before),
            diff(&between, before).keeping_what_was_left_out(&first, before),
        ),
    };
    let (rest, apart) = rest.split_build_apart();
    // What the apart migration creates (an index, a UNIQUE made of it) its own down drops, not the
    // rest's; a constraint it only validates stays the rest's to drop.
    let created_apart: Vec<&str> = apart
        .changes
        .iter()
        .filter(|c| c.sql.starts_with("CREATE ") || c.sql.contains(" USING INDEX "))
        .map(|c| c.object.as_str())
        .collect();
    // An index swapped for a new definition apart is swapped back by that migration's down.
    let (drops, down_rest): (Vec<_>, Vec<_>) = down.changes.iter().cloned().partition(|c| {
        created_apart.contains(&c.object.as_str())
            && (c.sql.starts_with("DROP INDEX ")
                || c.sql.contains(" DROP CONSTRAINT ")
                || (c.build_apart && c.sql.starts_with("CREATE ")))
    });
    let down_sql = down_script(&Diff { changes: down_rest });
    let mut parts: Vec<(String, String, String)> = Vec::new();
    if !first.is_empty() {
        let undo = format!(
            "-- Enum labels cannot be removed in place: the type is made again without them.\n{}",
            down_script(&labels_down)
        );
        parts.push((
            format!("{name} enum labels"),
            format!("{header}{}", first.to_sql_with(destructive(allow_destructive.then_some(ALLOWED_BY_FLAG)))),
            undo,
        ));
    }
    if !rest.is_empty() || (first.is_empty() && apart.is_empty()) {
        parts.push((
            name.to_string(),
            format!("{header}{}", rest.to_sql_with(destructive(allow_destructive.then_some(ALLOWED_BY_FLAG)))),
            down_sql,
        ));
    }
    if !apart.is_empty() {
        let concurrently = |sql: &str, from: &str, to: &str| sql.replacen(from, to, 1);
        let mut up = format!(
            "{header}-- shale:no-transaction\n-- Outside a transaction: writes to the table go on while an index builds CONCURRENTLY or a\n-- constraint is validated.\n"
        );
        for c in &apart.changes {
            let sql = concurrently(&c.sql, "CREATE INDEX ", "CREATE INDEX CONCURRENTLY ");
            let sql = concurrently(&sql, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX CONCURRENTLY ");
            // An index swapped for a new definition: the old one dropped once the new one is built.
            let sql = concurrently(&sql, "\nDROP INDEX ", "\nDROP INDEX CONCURRENTLY ");
            up.push_str(&format!("{}\n", sql.trim_end()));
        }
        let mut down = "-- shale:no-transaction\n".to_string();
        for c in &drops {
            let sql = concurrently(c.sql.trim_end(), "DROP INDEX ", "DROP INDEX CONCURRENTLY IF EXISTS ");
            let sql = concurrently(&sql, " DROP CONSTRAINT ", " DROP CONSTRAINT IF EXISTS ");
            let sql = concurrently(&sql, "CREATE INDEX ", "CREATE INDEX CONCURRENTLY ");
            let sql = concurrently(&sql, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX CONCURRENTLY ");
            down.push_str(&format!("{sql}\n"));
        }
        // A constraint it validates is left as the migration before it left it, NOT VALID: made
        // again so (FastAPI re-check: `check` found the down left it validated).
        for validated in apart.changes.iter().filter(|c| c.sql.contains(" VALIDATE CONSTRAINT ")) {
            let made = after
                .constraints
                .iter()
                .find(|k| validated.object == format!("constraint {}.{}.{}", k.schema, k.table, k.name));
            if let Some(k) = made {
                let table = shale_core::ident::qualified(&k.schema, &k.table);
                let name = shale_core::ident::ident(&k.name);
                down.push_str(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT {name};\nALTER TABLE {table} ADD CONSTRAINT {name} {} NOT VALID;\n",
                    k.definition.trim_end_matches(" NOT VALID")
                ));
            }
        }
        // A column it sets NOT NULL (proven by a check first) is nullable again, as the migration
        // before it left it.
        for line in apart.changes.iter().flat_map(|c| c.sql.lines()).filter(|l| l.ends_with(" SET NOT NULL;")) {
            down.push_str(&format!("{}\n", line.replace(" SET NOT NULL;", " DROP NOT NULL;")));
        }
        // Alone when the diff is only new indexes: the migration has the name asked for.
        let only_indexes = apart.changes.iter().all(|c| c.object.starts_with("index "));
        let apart_name = match (parts.is_empty() && rest.is_empty(), only_indexes) {
            (true, _) => name.to_string(),
            (false, true) => format!("{name} indexes"),
            (false, false) => format!("{name} online"),
        };
        parts.push((apart_name, up, down));
    }
    let mut written = Vec::new();
    for (name, up, down) in parts {
        let files =
            super::new::create(settings, &name, true, Some(super::new::Contents { up: &up, down: Some(&down) }))?;
        let newest = super::load_set(settings)?;
        let version = newest.versioned().last().map(|m| m.version_text.clone()).unwrap_or_default();
        written.push((version, files));
    }
    // Where the tool runs every file whole, `create` wrote the ups alone: said once for them all.
    if !written.is_empty() && super::new::runs_every_file(&settings.dir) {
        crate::output::note(&format!(
            "no down is written beside it: {} is run file by file, whole, by the tool that keeps it, which would \
             run a down file as a migration; `shale down --generate` computes it when one is needed",
            settings.dir.display()
        ));
    }
    Ok(written)
}

/// `models` (the output of `source`, an `exec:` command) with the object kinds it declares none of
/// taken from `other` ([`shale_schema::confine::with_kinds_models_do_not_describe`]), said in a note.
pub(super) fn models_keeping(
    settings: &Settings,
    source: &Source,
    models: &shale_schema::Schema,
    other: &shale_schema::Schema,
) -> shale_schema::Schema {
    let (kept, kinds) = shale_schema::confine::with_kinds_models_do_not_describe(models, other);
    if !kinds.is_empty() && !settings.quiet && !settings.json {
        crate::output::note(&format!(
            "{} declares no {}: those of the other side are kept as they are, not dropped (write their changes \
             as SQL migrations, or declare them with the models' DDL listeners to compare them)",
            source.label(),
            kinds.join(", ")
        ));
    }
    kept
}

fn report(
    settings: &Settings,
    changes: &Diff,
    header: &str,
    body: &str,
    left_out: usize,
    written: &[PathBuf],
    verification: Option<&Verification>,
) {
    if written.is_empty() {
        if changes.is_empty() {
            eprintln!("no differences: nothing to do");
        } else {
            print!("{header}{body}");
        }
    } else if !settings.quiet {
        for path in written {
            eprintln!("created {}", path.display());
        }
    }
    if left_out > 0 {
        eprintln!(
            "{left_out} destructive statement(s) left out as comments (they lose data); review them and rerun with --allow-destructive to include them"
        );
    }
    if let Some(v) = verification {
        if v.ok {
            eprintln!("verified: applied to a copy of the source, the result has exactly the target schema");
        } else {
            eprintln!("verification failed: after applying the SQL to a copy of the source, these still differ:");
            for d in &v.differences {
                let (expected, actual) = d.shown_sides();
                eprintln!("  {}: expected {expected}, got {actual}", d.object);
            }
            if left_out > 0 {
                eprintln!("(the destructive statements left out explain some of these)");
            }
        }
    }
}
