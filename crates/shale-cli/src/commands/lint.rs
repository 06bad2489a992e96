//! `shale lint`, and the same check before `shale up` runs anything.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use shale_core::layout::Script;
use shale_core::Plan;
use shale_lint::{Again, Precaution, Report, Severity};

use super::{block_on, load_set, migrator, print_json};
use crate::args::LintArgs;
use crate::settings::{LintSettings, Settings};

pub fn run(settings: &Settings, args: &LintArgs) -> Result<i32> {
    // `--json`, which every command takes, is `--format json` here.
    let format = match (settings.json, args.format.as_str()) {
        (true, "human") => "json",
        (_, format) => format,
    };
    let mut pg_major = args.pg_version;
    let mut live = None;
    let mut only: Option<Vec<PathBuf>> = None;
    // What tells whether a file may be rewritten by --fix.
    let mut selection = Selection::Chosen;
    // Migrations before the ones linted, applied already: what they declare is known (a column's
    // type), and their tables exist and hold data.
    let mut earlier: Vec<Arc<Script>> = Vec::new();
    // Every migration's down (`--all`): read for syntax only, as a revert would run it; what a down
    // drops is what its up added, not a finding.
    let mut downs: Vec<Arc<Script>> = Vec::new();
    // Every migration linted as one run, on a new database (no database given).
    let mut whole_history = false;
    let scripts: Vec<Arc<Script>> = if !args.files.is_empty() {
        let chosen: Vec<PathBuf> = args.files.iter().filter_map(|f| std::fs::canonicalize(f).ok()).collect();
        // The directory may not load (a bad file elsewhere): the files given are linted all the same.
        // A down given (`x.down.sql`) is read as `--all` reads downs, for syntax: linted as an up,
        // its own `-- down: NAME` header and what it drops were findings (aerich re-check).
        let mut down_files: Vec<PathBuf> = Vec::new();
        if let Ok(set) = load_set(settings) {
            for m in &set.migrations {
                let Some(down) = m.down.as_ref().filter(|d| d.path != m.up.path) else { continue };
                if std::fs::canonicalize(&down.path).is_ok_and(|p| chosen.contains(&p)) {
                    down_files.push(std::fs::canonicalize(&down.path)?);
                    downs.push(down.clone());
                }
            }
            earlier = before_the_first_of(set, &chosen);
        }
        if !downs.is_empty() && !settings.quiet && !settings.json {
            let names: Vec<String> = downs.iter().map(|d| d.path.display().to_string()).collect();
            crate::output::note(&format!(
                "{} {} a down: read for syntax only (what a down drops is what its up added)",
                crate::output::and_listed(&names),
                if names.len() == 1 { "is" } else { "are" }
            ));
        }
        args.files
            .iter()
            .filter(|f| std::fs::canonicalize(f).map_or(true, |p| !down_files.contains(&p)))
            .map(|f| read_script(f, &settings.reading.placeholders).map(Arc::new))
            .collect::<Result<_>>()?
    } else if let Some(rev) = &args.since {
        selection = Selection::NewSince;
        // The migrations a branch adds, in order: the earlier ones count as applied (their tables
        // exist and hold data), so the new ones are judged as on production.
        let added = added_since(&settings.dir, rev)?;
        let set = load_set(settings)?;
        let scripts: Vec<Arc<Script>> = set
            .migrations
            .iter()
            .map(|m| m.up.clone())
            .filter(|s| std::fs::canonicalize(&s.path).is_ok_and(|p| added.contains(&p)))
            .collect();
        earlier = before_the_first_of(set, &added);
        only = Some(added);
        scripts
    } else if args.all || settings.database.is_none() {
        whole_history = true;
        let set = load_set(settings)?;
        if args.all {
            downs = set.migrations.iter().filter_map(|m| m.down.clone()).collect();
        }
        set.migrations.into_iter().map(|m| m.up).collect()
    } else {
        let migrator = migrator(settings)?;
        // What `up` would refuse (a Go migration ahead, a changed file) is for `up` and `status`
        // to say: the pending files are linted all the same.
        // A database that cannot be reached says how to lint without one (breadth sweep: a
        // committed .env naming a development server that was not running stopped `lint`).
        let offline = |e: shale::Error| -> shale::Error {
            if e.kind() == shale::ErrorKind::Unavailable {
                crate::output::note(
                    "linting the migrations not applied yet asks the database which those are; `shale lint --all` \
                     lints every migration without one",
                );
            }
            e
        };
        let plan = block_on(migrator.plan_pending()).map_err(offline)?;
        let facts = block_on(migrator.database_facts(&plan)).map_err(offline)?;
        pg_major = pg_major.or(Some(facts.server_version / 10000));
        live = Some(live_database(&facts, settings.lint.large_table_rows));
        selection = Selection::Pending;
        plan.steps.into_iter().map(|s| s.script).collect()
    };
    let options = shale_lint::LintOptions {
        pg_major,
        lock_timeout: Some(settings.session.lock_timeout.clone()),
        live,
        rules: settings.lint.rules.clone(),
        verdict_only: false,
    };
    let mut report =
        worded(shale_lint::lint_after(earlier.iter().map(|s| &**s), scripts.iter().map(|s| &**s), options));
    report.syntax_errors.extend(super::status::syntax_errors(downs.iter().map(|s| &**s)));
    if args.fix {
        return fix(settings, args, format, &scripts, &report, pg_major, selection);
    }
    if let (Some(_), false) = (&only, settings.quiet || format != "human") {
        // Counted as migrations: a pair's up and down are one.
        eprintln!("{} migration(s) added since {}", scripts.len(), args.since.as_deref().unwrap_or(""));
    }
    if whole_history && !report.cleared.is_empty() && !settings.quiet && format == "human" {
        // A CI step linting the whole directory passes what would block on production: each
        // table is new there, created earlier in the same run.
        crate::output::note(&format!(
            "every migration was linted as one run on a new database, where {} finding(s) do not count (most \
             because their tables are created earlier in the run); to judge a branch's new migrations as on a \
             database that has those tables, run `shale lint --since origin/main` (or give the database, \
             --database-url)",
            report.cleared.len()
        ));
    }
    match format {
        "json" => print_json(&report),
        "github" => print_github(&report),
        "sarif" => print_json(&sarif(&report)),
        _ => print_human(&report, settings.quiet),
    }
    let failed = report.blocking().count() > 0 || !report.syntax_errors.is_empty();
    Ok(if failed { 1 } else { 0 })
}

/// How the files being linted were chosen, which decides how `--fix` learns whether one may have
/// run somewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Selection {
    /// The pending migrations of the database: none has run there.
    Pending,
    /// Files added since a git revision: the revision does not have them.
    NewSince,
    /// Files given, or every migration: the database's history tells, or else git.
    Chosen,
}

/// A file `--fix` would rewrite, and what came of it.
#[derive(serde::Serialize)]
struct FileOutcome {
    path: PathBuf,
    /// Why the file was not rewritten at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_rewritten: Option<String>,
    /// Findings in it that have a fix (for a file not rewritten).
    fixable: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<shale_lint::FileFix>,
    written: bool,
    /// diesel's `metadata.toml` beside it, where the fix made it run outside a transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata_toml: Option<PathBuf>,
    #[serde(skip)]
    diff: String,
}

/// `shale lint --fix [--dry-run]`: rewrite the findings that have a safe form, in the files that may be
/// rewritten; print what was done and what was not, and why. Exit 1 when a blocking finding is left.
fn fix(
    settings: &Settings,
    args: &LintArgs,
    format: &str,
    scripts: &[Arc<Script>],
    report: &Report,
    pg_major: Option<u32>,
    selection: Selection,
) -> Result<i32> {
    if !matches!(format, "human" | "json") {
        anyhow::bail!(shale::Error::Invalid(format!("--fix prints human or json output, not {format}")));
    }
    if !report.syntax_errors.is_empty() {
        print_human(report, settings.quiet);
        return Ok(1);
    }
    // A blocking finding of a rule with no automatic fix is listed among those not fixed, with
    // why, in its file as in any other (partitioned tables re-check: a file holding only such a
    // finding said "0 not fixed", then "1 blocking finding left").
    let fixable = |f: &shale_lint::Finding| {
        !f.allowed
            && (f.severity == shale_lint::Severity::Error || shale_lint::rule(f.rule).is_some_and(|r| r.fixable()))
    };
    let mut paths: Vec<&PathBuf> = Vec::new();
    for f in report.findings.iter().filter(|f| fixable(f)) {
        if !paths.contains(&&f.path) {
            paths.push(&f.path);
        }
    }
    // With a database, its history tells which files ran; the pending ones did not.
    let applied = match selection {
        Selection::Chosen if settings.database.is_some() && !paths.is_empty() => applied_files(settings)?,
        _ => Default::default(),
    };
    let options = shale_lint::FixOptions { pg_major, ..Default::default() };
    let diesel_ups: Vec<PathBuf> = load_set(settings)
        .map(|set| {
            set.migrations
                .iter()
                .filter(|m| m.layout == shale_core::Layout::DieselFolder)
                .map(|m| m.up.path.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut outcomes = Vec::new();
    for path in paths {
        let Some(script) = scripts.iter().find(|s| &s.path == path) else { continue };
        let count = report.findings.iter().filter(|f| &f.path == path && fixable(f)).count();
        let refusal = match selection {
            Selection::Pending | Selection::NewSince => None,
            Selection::Chosen if settings.database.is_some() => {
                std::fs::canonicalize(path).ok().and_then(|p| applied.get(&p).cloned()).map(|state| {
                    format!(
                        "the database's history records it as {state}: a migration that ran is not rewritten \
                         (write the safe form in a new migration)"
                    )
                })
            }
            Selection::Chosen => git_refusal(path, args.force),
        }
        .or_else(|| placeholder_refusal(path, &settings.reading.placeholders));
        if let Some(reason) = refusal {
            outcomes.push(FileOutcome {
                path: path.clone(),
                not_rewritten: Some(reason),
                fixable: count,
                fix: None,
                written: false,
                metadata_toml: None,
                diff: String::new(),
            });
            continue;
        }
        // A diesel folder says in its metadata.toml whether it runs in a transaction, which diesel
        // reads too (it would run a CONCURRENTLY in a transaction, and fail, on going back).
        let in_diesel_folder = diesel_ups.contains(path);
        let options = shale_lint::FixOptions { transaction_set_outside: in_diesel_folder, ..options.clone() };
        let mut fixed = shale_lint::fix(script, &report.findings, &options);
        for refused in &mut fixed.refused {
            refused.reason = refused_text(refused);
        }
        let mut outcome = FileOutcome {
            path: path.clone(),
            not_rewritten: None,
            fixable: count,
            fix: None,
            written: false,
            metadata_toml: None,
            diff: String::new(),
        };
        if fixed.changed() {
            let original = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            if shale_core::checksum::normalize(&original) != *script.text {
                outcome.not_rewritten = Some("the file changed while shale was reading it: run again".into());
                outcomes.push(outcome);
                continue;
            }
            let rewritten = shale_lint::fix::apply_to_original(&original, &fixed.edits);
            let name = path.display().to_string();
            outcome.diff = similar::TextDiff::from_lines(&original, &rewritten)
                .unified_diff()
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string();
            if !args.dry_run {
                std::fs::write(path, &rewritten).with_context(|| format!("cannot write {}", path.display()))?;
                outcome.written = true;
            }
        }
        if fixed.no_transaction_added && in_diesel_folder {
            let metadata = path.with_file_name("metadata.toml");
            let before = std::fs::read_to_string(&metadata).unwrap_or_default();
            let after = without_transaction_metadata(&before);
            outcome.diff.push_str(
                &similar::TextDiff::from_lines(&before, &after)
                    .unified_diff()
                    .header(&format!("a/{}", metadata.display()), &format!("b/{}", metadata.display()))
                    .to_string(),
            );
            if !args.dry_run {
                std::fs::write(&metadata, &after).with_context(|| format!("cannot write {}", metadata.display()))?;
            }
            outcome.metadata_toml = Some(metadata);
        }
        outcome.fix = Some(fixed);
        outcomes.push(outcome);
    }
    // A blocking finding is left unless its fix was made.
    let fixed_here = |f: &shale_lint::Finding| {
        outcomes.iter().filter_map(|o| o.fix.as_ref()).any(|x| {
            x.path == f.path && x.fixed.iter().any(|d| d.rule == f.rule && d.line == f.line && d.column == f.column)
        })
    };
    let left = report.blocking().filter(|f| !fixed_here(f)).count();
    if format == "json" {
        print_json(&serde_json::json!({ "files": outcomes, "blocking_left": left, "dry_run": args.dry_run }));
    } else {
        print_fixes(&outcomes, left, args.dry_run);
    }
    Ok(if left > 0 { 1 } else { 0 })
}

fn print_fixes(outcomes: &[FileOutcome], left: usize, dry_run: bool) {
    if dry_run {
        for o in outcomes {
            print!("{}", o.diff);
        }
    }
    let (mut fixed, mut not_fixed) = (0, 0);
    for o in outcomes {
        let path = o.path.display();
        if let Some(reason) = &o.not_rewritten {
            println!("{path}: not rewritten ({} finding(s) with a fix): {reason}", o.fixable);
            not_fixed += o.fixable;
            continue;
        }
        let Some(fix) = &o.fix else { continue };
        for f in &fix.fixed {
            println!("{path}:{}:{}: fixed [{}]: {}", f.line, f.column, f.rule, f.description);
        }
        match (&o.metadata_toml, fix.no_transaction_added) {
            (Some(metadata), true) => println!(
                "{path}: runs outside a transaction now (`run_in_transaction = false` in {}, as diesel reads it)",
                metadata.display()
            ),
            (None, true) => {
                println!("{path}: runs outside a transaction now (`-- shale:no-transaction` added at its top)")
            }
            _ => {}
        }
        for r in &fix.refused {
            println!("{path}:{}:{}: not fixed [{}]: {}", r.line, r.column, r.rule, r.reason);
        }
        fixed += fix.fixed.len();
        not_fixed += fix.refused.len();
    }
    let files = outcomes.iter().filter(|o| o.fix.as_ref().is_some_and(|f| f.changed())).count();
    let done = match (dry_run, files) {
        (true, _) => "nothing written (--dry-run)",
        (false, 0) => "nothing written",
        (false, _) => "written",
    };
    println!("{fixed} finding(s) fixed in {files} file(s), {not_fixed} not fixed; {done}");
    if left > 0 {
        println!("{left} blocking finding(s) left: `shale lint` lists them");
    }
}

/// The migration files the database's history has a record of having run (applied, applied and
/// changed since, or at or below the baseline), by canonical path, with that state.
fn applied_files(settings: &Settings) -> Result<std::collections::HashMap<PathBuf, &'static str>> {
    let status = block_on(migrator(settings)?.status())?;
    Ok(status
        .migrations
        .into_iter()
        .filter(|m| {
            matches!(m.state, shale_core::State::Applied | shale_core::State::Modified | shale_core::State::Baseline)
        })
        .filter_map(|m| Some((std::fs::canonicalize(m.path?).ok()?, m.state.as_str())))
        .collect())
}

/// Without a database, git decides: a file committed at HEAD and unchanged since may have run
/// somewhere (CI, a colleague's database, production) and is not rewritten unless --force.
fn git_refusal(path: &std::path::Path, force: bool) -> Option<String> {
    if force {
        return None;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name()?;
    let git = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new("git").arg("-C").arg(dir).args(args).output().map(|o| o.status.success())
    };
    let os = std::ffi::OsStr::new;
    if !git(&[os("rev-parse"), os("--is-inside-work-tree")]).unwrap_or(false) {
        return Some(
            "no database is configured and the file is not in a git work tree: nothing tells whether it ran \
             somewhere; configure the database, or give --force"
                .into(),
        );
    }
    let tracked = git(&[os("ls-files"), os("--error-unmatch"), os("--"), name]).unwrap_or(false);
    let unchanged = tracked && git(&[os("diff"), os("--quiet"), os("HEAD"), os("--"), name]).unwrap_or(false);
    unchanged.then(|| {
        "no database is configured, and git has the file committed unchanged at HEAD: it may have run \
         somewhere already; configure the database (its history tells), or give --force"
            .into()
    })
}

/// The migration files under `dir` that git sees added since `rev` (committed since, or not yet
/// committed), as canonical paths.
fn added_since(dir: &std::path::Path, rev: &str) -> Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> Result<String> {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .context("running git (is it installed?)")?;
        if !output.status.success() {
            anyhow::bail!(shale::Error::Invalid(format!(
                "--since {rev}: git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let committed = git(&["diff", "--name-only", "--diff-filter=A", "--no-renames", rev, "--", "."])?;
    let untracked = git(&["ls-files", "--others", "--exclude-standard", "--full-name", "--", "."])?;
    Ok(committed
        .lines()
        .chain(untracked.lines())
        .filter(|l| !l.is_empty())
        .filter_map(|l| std::fs::canonicalize(top.join(l)).ok())
        .collect())
}

/// Why a file whose Flyway placeholders were filled is not rewritten: the fixes are of the text
/// that runs, with the values in it, not of the file as written.
fn placeholder_refusal(
    path: &std::path::Path,
    placeholders: &shale_core::placeholders::Placeholders,
) -> Option<String> {
    let written = shale_core::checksum::normalized(std::fs::read_to_string(path).ok()?);
    let (_, Some(written)) = shale_core::layout::fill_placeholders(path, written, placeholders).ok()? else {
        return None;
    };
    let names: Vec<String> = placeholders.names_in(&written).iter().map(|n| format!("${{{n}}}")).collect();
    let what = match names.is_empty() {
        true => "values put in as it is read (goose's ENVSUB variables, graphile-migrate's placeholders)".to_string(),
        false => format!("Flyway placeholders ({}), filled in from [placeholders] in shale.toml", names.join(", ")),
    };
    Some(format!(
        "it has {what}: --fix does not rewrite a file with placeholders; make the fixes by hand (`shale lint {}` lists \
         them)",
        path.display()
    ))
}

/// A migration file given by name, its Flyway placeholders filled as loading fills them.
fn read_script(path: &PathBuf, placeholders: &shale_core::placeholders::Placeholders) -> Result<Script> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = shale_core::checksum::normalized(
        String::from_utf8(bytes)
            .map_err(|_| shale::Error::Invalid(format!("{}: is not UTF-8; save it as UTF-8", path.display())))?,
    );
    let (text, _) = shale_core::layout::fill_placeholders(path, text, placeholders).map_err(shale::Error::Load)?;
    let len = text.len();
    Script::parse(path.clone(), text, 0..len, None).map_err(|e| shale::Error::Load(vec![e]).into())
}

/// The database's tables as the linter judges statements against them.
pub fn live_database(facts: &shale_pg::inspect::DatabaseFacts, large_rows: i64) -> shale_lint::LiveDatabase {
    let mut live = shale_lint::LiveDatabase { large_rows, ..Default::default() };
    // An unqualified name is the table of the first schema on the search path that has one.
    let default_path = ["public".to_string()];
    let path = if facts.search_path.is_empty() { &default_path[..] } else { &facts.search_path[..] };
    let rank = |schema: &str| path.iter().position(|s| s == schema);
    let mut tables: Vec<_> = facts.tables.iter().collect();
    tables.sort_by_key(|t| rank(&t.schema).unwrap_or(usize::MAX));
    for t in tables {
        let size = shale_lint::TableSize { rows: t.rows, bytes: t.bytes };
        let qualified = format!("{}.{}", t.schema, t.name).to_lowercase();
        let bare = (rank(&t.schema).is_some() && !live.tables.contains_key(&t.name.to_lowercase()))
            .then(|| t.name.to_lowercase());
        for table in std::iter::once(&qualified).chain(bare.as_ref()) {
            live.tables.insert(table.clone(), size);
            if t.partitioned {
                live.partitioned.insert(table.clone());
            }
            for (column, data_type) in &t.columns {
                live.column_types.insert(format!("{table}.{}", column.to_lowercase()), data_type.clone());
            }
        }
    }
    let mut indexes: Vec<_> = facts.indexes.iter().collect();
    indexes.sort_by_key(|i| rank(&i.schema).unwrap_or(usize::MAX));
    for i in indexes {
        live.indexes.insert(format!("{}.{}", i.schema, i.name).to_lowercase(), i.table.to_lowercase());
        if rank(&i.schema).is_some() {
            live.indexes.entry(i.name.to_lowercase()).or_insert_with(|| i.table.to_lowercase());
        }
    }
    live
}

/// What the linter says of a plan on the database it will run on, `[lint]` applied.
pub fn lint_plan(
    plan: &Plan,
    facts: &shale_pg::inspect::DatabaseFacts,
    lint: &LintSettings,
    lock_timeout: &str,
) -> Report {
    lint_report(plan, facts, lint, lock_timeout, false)
}

fn lint_report(
    plan: &Plan,
    facts: &shale_pg::inspect::DatabaseFacts,
    lint: &LintSettings,
    lock_timeout: &str,
    verdict_only: bool,
) -> Report {
    let options = shale_lint::LintOptions {
        pg_major: Some(facts.server_version / 10000),
        lock_timeout: Some(lock_timeout.to_string()),
        live: Some(live_database(facts, lint.large_table_rows)),
        rules: lint.rules.clone(),
        verdict_only,
    };
    lint_with(plan.steps.iter().map(|s| &*s.script), options)
}

/// The linter's report with each finding's safe way in the CLI's words ([`instead`]): every
/// report the CLI shows (text, JSON, SARIF, annotations, `up`'s refusal, a plan) comes from here.
pub fn lint_with<'a>(scripts: impl IntoIterator<Item = &'a Script>, options: shale_lint::LintOptions) -> Report {
    worded(shale_lint::lint_with(scripts, options))
}

/// The up scripts of `set` before the first one at a path in `chosen` (canonical), in order; all
/// of them when none is.
fn before_the_first_of(set: shale::MigrationSet, chosen: &[PathBuf]) -> Vec<Arc<Script>> {
    set.migrations
        .into_iter()
        .map(|m| m.up)
        .take_while(|s| std::fs::canonicalize(&s.path).map_or(true, |p| !chosen.contains(&p)))
        .collect()
}

/// A report with each finding's safe way in the CLI's words (see [`instead`]).
fn worded(mut report: Report) -> Report {
    for f in &mut report.findings {
        // The rule's words within the finding's (one in a DO block says more around them).
        if let Some(rule) = shale_lint::rule(f.rule).filter(|r| r.precaution.is_some()) {
            f.fix = f.fix.replacen(rule.fix, &instead(rule), 1).into();
        }
    }
    report
}

/// A rule's safe way in the CLI's words: where it asks for a precaution the CLI takes, the command
/// that takes it (the library's words leave commands out).
fn instead(rule: &shale_lint::Rule) -> Cow<'static, str> {
    match rule.precaution {
        None => rule.fix.into(),
        Some(precaution) => {
            let command = match precaution {
                Precaution::Backup => "`shale up --backup DIR`",
            };
            let phrase = precaution.phrase();
            rule.fix.replacen(phrase, &format!("{phrase} ({command})"), 1).into()
        }
    }
}

/// diesel's `metadata.toml` with `run_in_transaction = false` (replacing a `run_in_transaction`
/// line, else added), the rest of it as it was.
fn without_transaction_metadata(text: &str) -> String {
    let setting = "run_in_transaction = false";
    let mut replaced = false;
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| match line.trim_start().starts_with("run_in_transaction") {
            true => {
                replaced = true;
                setting.to_string()
            }
            false => line.to_string(),
        })
        .collect();
    if !replaced {
        lines.push(setting.to_string());
    }
    format!("{}\n", lines.join("\n"))
}

/// Why a fix was not made, in the CLI's words: when fixing again helps, the command that does it.
fn refused_text(refused: &shale_lint::Refused) -> String {
    let reason = &refused.reason;
    match refused.again {
        None => reason.clone(),
        Some(Again::AfterChange) => format!("{reason}, then run --fix again"),
        Some(Again::AfterThisRun) => format!("{reason}: run `shale lint --fix` again after this one"),
        Some(Again::InItsOwnMigration) => format!("{reason} (`shale new`), then run --fix on that one"),
    }
}

/// Before `up`: refuse a plan with an error finding that no `-- shale:allow` covers. `[lint]` is
/// checked here, before anything runs.
pub fn vet(lint: LintSettings, lock_timeout: String) -> shale::VetPlan {
    shale::VetPlan(std::sync::Arc::new(move |plan: &Plan, facts: &shale_pg::inspect::DatabaseFacts| {
        refusal(&lint_report(plan, facts, &lint, &lock_timeout, true))
    }))
}

/// Why `up` refuses to run what `report` describes, if it does: each statement with its place.
pub fn refusal(report: &Report) -> Result<(), shale::Refusal> {
    let at = |path: &std::path::Path, line: usize, column: usize, message: String| shale::RefusedStatement {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    if !report.syntax_errors.is_empty() {
        return Err(shale::Refusal {
            problems: report.syntax_errors.iter().map(|e| at(&e.path, e.line, e.column, e.what())).collect(),
            closing: "nothing was applied: fix the syntax error(s) above and run again".into(),
        });
    }
    let problems: Vec<shale::RefusedStatement> = report
        .blocking()
        .map(|f| {
            let message = format!("{}[{}]: {}; {}. Instead: {}", f.severity.as_str(), f.rule, f.message, f.why, f.fix);
            at(&f.path, f.line, f.column, message)
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(shale::Refusal {
        problems,
        closing: "nothing was applied: make the change safely, or allow it with `-- shale:allow RULE -- reason` in the file, or run with --force-unsafe"
            .into(),
    })
}

fn print_human(report: &Report, quiet: bool) {
    for e in &report.syntax_errors {
        println!("{e}");
    }
    if !quiet {
        for e in &report.unread {
            println!("{}", unread_note(e));
        }
    }
    // Why a rule matters and what to write instead, at its first finding: a history with a
    // hundred bigserial columns says it once.
    let mut explained = std::collections::HashSet::new();
    // Findings a file allows are listed once per rule and file, with how many more: a baseline
    // of the schema a database had allows a hundred of the type advice at once.
    let allowed_more = |f: &shale_lint::Finding| {
        report.findings.iter().filter(|o| o.allowed && o.rule == f.rule && o.path == f.path).count() - 1
    };
    let mut allowed_shown = std::collections::HashSet::new();
    for f in &report.findings {
        if quiet && f.severity != Severity::Error {
            continue;
        }
        if f.allowed && !allowed_shown.insert((f.rule, &f.path)) {
            continue;
        }
        println!("{f}");
        if explained.insert(f.rule) {
            println!("    why: {}\n    instead: {}", f.why, f.fix);
        }
        if let Some(more @ 1..) = f.allowed.then(|| allowed_more(f)) {
            println!("    ... and {more} more [{}] allowed in {}", f.rule, f.path.display());
        }
    }
    if !quiet {
        for at in report.effects.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
            let (path, line, _) = &at[0];
            for text in describe(at.iter().map(|(_, _, e)| e)) {
                println!("{}:{line}: {text}", path.display());
            }
        }
        let blocking = report.blocking().count();
        let allowed = match report.findings.iter().filter(|f| f.allowed).count() {
            0 => String::new(),
            n => format!(" ({n} allowed by their files)"),
        };
        println!(
            "{} finding(s){allowed}, {blocking} blocking; {} syntax error(s)",
            report.findings.len(),
            report.syntax_errors.len()
        );
    }
}

/// A statement shale's grammar refuses, for a server of a later version: sent as it is.
pub fn unread_note(e: &shale_lint::SyntaxError) -> String {
    format!(
        "note: {}:{}:{}: not read (PostgreSQL {}'s grammar says: {}); the server is newer and may accept it, so it is sent as written, without lint checks",
        e.path.display(),
        e.line,
        e.column,
        shale_lint::grammar_major(),
        e.message
    )
}

/// One statement's locks, a line for each kind (`takes SHARE on users, scans the table`); the
/// tables it locks the same way share a line (`takes ACCESS EXCLUSIVE on t, u`).
pub fn describe<'a>(effects: impl IntoIterator<Item = &'a shale_lint::Effect>) -> Vec<String> {
    let effects: Vec<_> = effects.into_iter().collect();
    effects
        .chunk_by(|a, b| (a.lock, a.rewrites, a.scans) == (b.lock, b.rewrites, b.scans))
        .map(|same| {
            let e = same[0];
            let how = match (e.rewrites, e.scans) {
                (true, _) => ", rewrites the table",
                (false, true) => ", scans the table",
                _ => "",
            };
            let tables: Vec<_> = same.iter().filter(|e| !e.table.is_empty()).map(|e| e.target()).collect();
            // A table the statement does not name (DROP INDEX names its index) is read from the
            // database, where there is one.
            let on = match tables.is_empty() {
                true => " on the table it acts on".to_string(),
                false => format!(" on {}", tables.join(", ")),
            };
            format!("takes {}{on}{how}", e.lock)
        })
        .collect()
}

/// The word for a severity; GitHub calls the lowest level `notice`.
fn level(severity: Severity, info: &'static str) -> &'static str {
    match severity {
        Severity::Info => info,
        other => other.as_str(),
    }
}

/// SARIF 2.1.0: one run, the rules with their texts, and a result per finding; allowed findings are
/// marked as suppressed in source.
fn sarif(report: &Report) -> serde_json::Value {
    let rules: Vec<_> = shale_lint::RULES
        .iter()
        .map(|r| serde_json::json!({ "id": r.id, "shortDescription": { "text": r.why }, "help": { "text": instead(r) } }))
        .collect();
    let location = |path: &std::path::Path, line: usize, column: usize| {
        serde_json::json!([{ "physicalLocation": {
            "artifactLocation": { "uri": path.display().to_string() },
            "region": { "startLine": line, "startColumn": column },
        }}])
    };
    let mut results: Vec<_> = report
        .syntax_errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "ruleId": "syntax-error", "level": "error", "message": { "text": e.message },
                "locations": location(&e.path, e.line, e.column),
            })
        })
        .collect();
    results.extend(report.findings.iter().map(|f| {
        let mut result = serde_json::json!({
            "ruleId": f.rule,
            "level": level(f.severity, "note"),
            "message": { "text": format!("{}; {}. Instead: {}", f.message, f.why, f.fix) },
            "locations": location(&f.path, f.line, f.column),
        });
        if f.allowed {
            result["suppressions"] = serde_json::json!([{ "kind": "inSource" }]);
        }
        result
    }));
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "shale", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}

/// GitHub Actions workflow annotations.
fn print_github(report: &Report) {
    for e in &report.syntax_errors {
        println!(
            "::error file={},line={},col={},title=syntax error::{}",
            e.path.display(),
            e.line,
            e.column,
            e.message
        );
    }
    for f in report.findings.iter().filter(|f| !f.allowed) {
        let level = level(f.severity, "notice");
        println!(
            "::{level} file={},line={},col={},title=shale {}::{} ({}; instead: {})",
            f.path.display(),
            f.line,
            f.column,
            f.rule,
            f.message,
            f.why,
            f.fix
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linter_s_advice_names_the_commands_the_library_leaves_out() {
        let destructive = shale_lint::rule("destructive").unwrap();
        assert!(!destructive.fix.contains("shale up"), "{}", destructive.fix);
        assert_eq!(
            instead(destructive),
            "make sure nothing reads it any more and a backup exists (`shale up --backup DIR`), then allow it with a \
             reason"
        );
        for rule in shale_lint::RULES.iter().filter(|r| r.precaution.is_some()) {
            assert_ne!(instead(rule), rule.fix, "{}", rule.id);
        }
        let refused = |again| shale_lint::Refused { rule: "r", line: 1, column: 1, reason: "why".into(), again };
        assert_eq!(refused_text(&refused(None)), "why");
        assert_eq!(refused_text(&refused(Some(Again::AfterChange))), "why, then run --fix again");
        assert_eq!(
            refused_text(&refused(Some(Again::AfterThisRun))),
            "why: run `shale lint --fix` again after this one"
        );
        assert_eq!(
            refused_text(&refused(Some(Again::InItsOwnMigration))),
            "why (`shale new`), then run --fix on that one"
        );
        for again in [None, Some(Again::AfterChange), Some(Again::AfterThisRun), Some(Again::InItsOwnMigration)] {
            let words = refused(again).text();
            assert!(!words.contains("shale") && !words.contains("--"), "{words}");
        }
    }
}
