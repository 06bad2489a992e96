//! `shale new NAME`: the next migration in the convention the directory already uses.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use shale_core::{Layout, MigrationSet, Naming};

use crate::settings::Settings;

pub fn run(settings: &Settings, name: &str, reversible: bool) -> Result<i32> {
    // (A `migrations/` made beside another tool's directory would be a second one.)
    super::refuse_beside_another_tool(settings)?;
    let files = create(settings, name, reversible, None)?;
    if settings.json {
        super::print_json(&serde_json::json!({ "created": files }));
    } else if !settings.quiet {
        for path in &files {
            println!("created {}", path.display());
        }
    }
    Ok(0)
}

/// `shale new --down-from-diff V`: write the down file migration V lacks, computed from the
/// schemas before and after it. Only where the layout keeps downs in a file of their own: adding a
/// section to a single-file migration would change the checksum the databases that applied it
/// recorded. A plain file is renamed the up of a pair, unchanged, beside its new down.
pub fn down_from_diff(settings: &Settings, version: &str, dev_url: Option<&str>) -> Result<i32> {
    let set = super::load_set(settings)?;
    let wanted = super::parse_version(settings, version)?;
    let Some(m) = set.find(&wanted) else {
        anyhow::bail!(shale::Error::Invalid(format!("no migration {version} in {}", settings.dir.display())));
    };
    if let Some(down) = m.down.as_ref().filter(|d| !d.statements.is_empty()) {
        anyhow::bail!(shale::Error::Invalid(format!("{} has a down already: {}", m.label(), down.path.display())));
    }
    let up = std::path::Path::new(&m.file);
    let file_name = up.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    // A plain file becomes the up of a pair (`V_x.up.sql`, as sqlx's and golang-migrate's are),
    // its text unchanged: the checksums recorded of it stay true, and the down goes beside it.
    let mut renamed: Option<(PathBuf, PathBuf)> = None;
    let down_path = match m.layout {
        Layout::SingleFile if !runs_every_file(&settings.dir) && file_name.ends_with(".sql") => {
            let stem = &file_name[..file_name.len() - ".sql".len()];
            renamed = Some((up.to_path_buf(), up.with_file_name(format!("{stem}.up.sql"))));
            up.with_file_name(format!("{stem}.down.sql"))
        }
        Layout::UpDownPair => up.with_file_name(file_name.replace(".up.sql", ".down.sql")),
        Layout::Postgrator => up.with_file_name(file_name.replacen(".do.", ".undo.", 1)),
        Layout::DbMigrate => up.with_file_name(format!("{}-down.sql", file_name.trim_end_matches("-up.sql"))),
        Layout::Umzug => std::path::Path::new("down").join(file_name),
        Layout::Yoyo => up.with_file_name(format!("{}.rollback.sql", file_name.trim_end_matches(".sql"))),
        Layout::DieselFolder | Layout::PrismaFolder => up.with_file_name("down.sql"),
        Layout::Sqitch => std::path::Path::new("revert").join(up.strip_prefix("deploy").unwrap_or(up)),
        Layout::Flyway => up.with_file_name(format!("U{}", file_name.trim_start_matches('V'))),
        Layout::SingleFile
        | Layout::DbmateSections
        | Layout::Goose
        | Layout::SqlMigrate
        | Layout::NodePgMigrate
        | Layout::Liquibase
        | Layout::Tern => {
            anyhow::bail!(shale::Error::Invalid(format!(
                "{} keeps its down in the same file, and adding one would change the checksum the databases that \
             applied it recorded; `shale down --generate` computes the down when it is needed instead",
                m.label()
            )))
        }
    };
    let set = std::sync::Arc::new(set.clone());
    // Written for every database: built where unqualified names land by default (public).
    let downs = super::generated_down::generate(settings, &set, &[wanted], dev_url, None)?;
    let path = settings.dir.join(down_path);
    let text = &downs[0].sql;
    let renamed = renamed.map(|(from, to)| (settings.dir.join(from), settings.dir.join(to)));
    if let Some((from, to)) = &renamed {
        std::fs::rename(from, to).with_context(|| format!("renaming {} to {}", from.display(), to.display()))?;
    }
    if let Err(e) = std::fs::write(&path, text) {
        // Left as it was: the file under its old name, no down.
        if let Some((from, to)) = &renamed {
            let _ = std::fs::rename(to, from);
        }
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    if settings.json {
        let renamed = renamed.as_ref().map(|(from, to)| serde_json::json!({ "from": from, "to": to }));
        super::print_json(
            &serde_json::json!({ "created": [path], "renamed": renamed, "destructive": downs[0].destructive.len() }),
        );
    } else if !settings.quiet {
        if let Some((from, to)) = &renamed {
            println!(
                "renamed {} to {} (its up; its text, and so its checksum, unchanged)",
                from.display(),
                to.display()
            );
        }
        println!("created {}: review it before it runs", path.display());
    }
    Ok(0)
}

/// SQL to put in a new migration instead of an empty template (from `shale diff --write`).
pub struct Contents<'a> {
    pub up: &'a str,
    pub down: Option<&'a str>,
}

/// `sql` without its `-- shale:no-transaction` line, and whether it had one: in a file of a tool
/// that keeps sections (dbmate, goose, sql-migrate), said in that tool's words instead, so that
/// the tool, where it still runs the directory, runs the section outside a transaction as shale
/// does (`diff --write`'s CONCURRENTLY index, which dbmate failed on in its transaction).
fn in_tool_s_words(sql: &str) -> (bool, String) {
    let directive = "-- shale:no-transaction\n";
    match sql.find(directive).filter(|&at| at == 0 || sql[..at].ends_with('\n')) {
        Some(at) => (true, format!("{}{}", &sql[..at], &sql[at + directive.len()..])),
        None => (false, sql.to_string()),
    }
}

/// Create the next migration (with a down when `reversible`), filled with `contents` if given;
/// returns the paths written.
pub fn create(settings: &Settings, name: &str, reversible: bool, contents: Option<Contents>) -> Result<Vec<PathBuf>> {
    // The name also goes into the file's first comment line: one line of printable text, so that
    // it can never start a directive (`-- shale:no-transaction`) or SQL of its own.
    if let Some(bad) = name.chars().find(|c| c.is_control()) {
        anyhow::bail!(shale::Error::Invalid(format!(
            "the migration name holds a control character ({:?}); give one line of letters, digits, spaces and punctuation",
            bad
        )));
    }
    let set = if settings.dir.exists() { super::load_every_changeset(settings)? } else { MigrationSet::default() };
    let slug = slug(name);
    if slug.is_empty() {
        anyhow::bail!(shale::Error::Invalid(format!("`{name}` has no letters or digits to name a file with")));
    }
    let (mut layout, naming) = set.convention().unwrap_or((Layout::SingleFile, Naming::Sequential { width: 4 }));
    // A Sqitch project's first change goes in its plan as much as its hundredth.
    if settings.dir.join(shale_core::layout::SQITCH_PLAN).is_file() {
        layout = Layout::Sqitch;
    }
    // Plain files with node-pg-migrate's millisecond names (`1700000000000_x.sql`): a down goes in
    // its sections, as it reads them (it would run a `.down.sql` file as a migration).
    if layout == Layout::SingleFile && reversible && matches!(naming, Naming::UnixMillis) {
        layout = Layout::NodePgMigrate;
    }
    let newest = set.newest_version_of_any_file();
    let now = chrono::Utc::now();
    let next_number = |width: usize| {
        // The number before a twin's `.1` (`8.1`: the next is 9).
        let number = |v: &shale::Version| v.canonical().split('.').next().and_then(|n| n.parse::<u128>().ok());
        let next = newest.as_ref().map(|v| number(v).unwrap_or(0) + 1).unwrap_or(1);
        format!("{next:0width$}")
    };
    let version = match (&naming, layout) {
        // As `yoyo new` numbers them: today's date and the next number within it.
        // Numbered by a number alone where the newest is (its documentation's `0003.name`).
        (_, Layout::Yoyo) => {
            let today = now.format("%Y%m%d").to_string();
            let written = yoyo_newest(&set).map(|(text, _)| text).unwrap_or_default();
            let (date, number) = written.split_once('_').unwrap_or((&written, ""));
            match number.parse::<u32>() {
                Ok(n) if date >= today.as_str() => format!("{date}_{:02}", n + 1),
                _ if !written.is_empty() && written.len() != 8 && number.is_empty() => next_number(written.len()),
                _ => format!("{today}_01"),
            }
        }
        (Naming::Timestamp, Layout::DieselFolder) => {
            // diesel 2.3 writes `2024-10-25-112826-0000` (the `-0000` its own spelling of the
            // seconds' fraction); followed where the newest folder has it.
            let written = set.versioned().last().map(|m| m.version_text.as_str()).unwrap_or("");
            let suffix = if written.len() == 22 && written.ends_with("-0000") { "-0000" } else { "" };
            let stamp = format!("{}{suffix}", now.format("%Y-%m-%d-%H%M%S"));
            // Never the newest's version or below (Lemmy trial: two in one second were one
            // version, and every command refused the directory): diesel counts the suffix up.
            match &newest {
                Some(v) if shale::Version::parse(&stamp).is_some_and(|s| &s <= v) => after_diesel(written),
                _ => stamp,
            }
        }
        (Naming::Timestamp, _) => {
            // To the minute where the directory's newest is (`202508140123`, as some dbmate
            // projects name them): a longer one would sort after every later minute-stamped file.
            // (Beside code migrations alone, as they are named.)
            let written = set
                .versioned()
                .last()
                .map(|m| m.version_text.as_str())
                .or(set.code_migrations.last().map(|c| c.version_text.as_str()))
                .unwrap_or("");
            let digits = written.bytes().all(|b| b.is_ascii_digit());
            // With milliseconds where the newest has them (node-pg-migrate's `utc` names): a
            // 14-digit one would number below every one of them (node-pg-migrate re-check).
            let (format, width) = match written.len() {
                12 if digits => ("%Y%m%d%H%M", 12),
                17 if digits => ("%Y%m%d%H%M%S%3f", 17),
                // pop's (popx's) 20 digits, the second and a number within it (re-check: Ory
                // Kratos' next one was its newest plus one, months back).
                20 if digits => ("%Y%m%d%H%M%S000000", 20),
                _ => ("%Y%m%d%H%M%S", 14),
            };
            let stamp = now.format(format).to_string();
            // Never go backwards, even with a skewed clock (or twice in one minute).
            match &newest {
                Some(v) if shale::Version::parse(&stamp).is_some_and(|s| &s <= v) => next_number(width),
                _ => stamp,
            }
        }
        (Naming::UnixMillis, _) => {
            let millis = now.timestamp_millis().max(0) as u128;
            let newest = newest.as_ref().and_then(|v| v.canonical().parse::<u128>().ok()).unwrap_or(0);
            (millis.max(newest + 1)).to_string()
        }
        (Naming::Sequential { width }, Layout::Flyway) => {
            // Numbered in parts (`V1_27__`): the last part goes on, written as the newest is.
            let written = set.versioned().last().map(|m| m.version_text.as_str()).unwrap_or("");
            let parts = written.rfind(['.', '_']).map(|i| (&written[..=i], &written[i + 1..]));
            match parts.and_then(|(before, last)| Some((before, last.len(), last.parse::<u64>().ok()?))) {
                Some((before, digits, last)) => format!("{before}{:0digits$}", last + 1),
                _ => {
                    let major = newest
                        .as_ref()
                        .map(|v| v.canonical().split('.').next().unwrap_or("0").parse::<u64>().unwrap_or(0) + 1)
                        .unwrap_or(1);
                    // Zero-padded as the newest is (pgmigrate's `V0007__`; pgmigrate trial: `V8__`
                    // beside them), else as Flyway's are written, unpadded.
                    let padded = written.len() > 1 && written.starts_with('0');
                    format!("{major:0width$}", width = if padded { *width } else { 1 })
                }
            }
        }
        (Naming::Sequential { width }, _) => next_number(*width),
        (Naming::Dated, _) => {
            // Today's date numbered from 0, or the next number on the newest's date when that is
            // today (or later, with a skewed clock).
            let written = set.versioned().last().map(|m| m.version_text.as_str()).unwrap_or("");
            let (date, number) = written.split_once('.').unwrap_or((written, ""));
            let today = now.format("%Y-%m-%d").to_string();
            match number.parse::<u64>() {
                _ if date < today.as_str() => format!("{today}.0"),
                Ok(n) => format!("{date}.{}", n + 1),
                Err(_) => format!("{date}.1"),
            }
        }
    };
    let up_sql = contents.as_ref().map(|c| c.up).unwrap_or("");
    let down_sql = contents.as_ref().and_then(|c| c.down).unwrap_or("");
    let header = |direction: &str| {
        let sql = match direction {
            "up" | "deploy" => up_sql,
            "verify" => "",
            _ => down_sql,
        };
        format!("-- {direction}: {name}\n\n{sql}")
    };
    // An empty down section says so in the line `layout::unwritten_down` reads, as a down file's header
    // does: left as it is, `shale down` refuses it rather than record a revert that undid nothing
    // (Node trial: node-pg-migrate's empty `-- Down Migration` was reverted, and the next `up`
    // failed on the table still there).
    let unwritten_section = |sql: &str| match sql.is_empty() {
        true => format!("-- down: {name}\n"),
        false => sql.to_string(),
    };
    // Up/down pairs come in twos where the directory's newest migration has its down (as
    // golang-migrate's and sqlx's own `create` write them); a baseline written from the schema
    // gets no empty down that would pretend to undo it.
    let pairs_have_downs = contents.is_none() && set.versioned().last().is_some_and(|m| m.down.is_some());
    // A plain file named as the newest is: `0004-add-tags.sql` after `0003-x.sql`, and beside
    // graphile-migrate's committed files, as its `commit --message` names them (graphile trial:
    // `000005_post_likes.sql` among `000004-posts-summary.sql`; review: its down too).
    let dashed = set.versioned().last().is_some_and(|m| {
        let name = m.file.rsplit('/').next().unwrap_or(&m.file);
        name.strip_prefix(m.version_text.as_str()).is_some_and(|rest| rest.starts_with('-'))
            || m.up.own_text().starts_with("--! Previous:")
    });
    let plain = match dashed {
        true => format!("{version}-{}", slug.replace('_', "-")),
        false => format!("{version}_{slug}"),
    };
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut sqitch_plan_addition: Option<(PathBuf, String)> = None;
    match layout {
        Layout::UpDownPair => {
            // bun's `.tx.`, where the newest up is named so: bun runs a file without it outside a
            // transaction (bun trial: `shale new` dropped it).
            // pop's mark for PostgreSQL alone, where the newest up has it: pop would run a file
            // without it on every database (breadth trial: Ory Kratos' `.postgres.up.sql` files).
            let newest = set.versioned().last().and_then(|m| m.up.path.file_name()).map(|n| n.to_string_lossy());
            let tx = match newest.as_deref() {
                Some(name) if name.ends_with(".tx.up.sql") => ".tx",
                Some(name) if shale_core::layout::written_for_postgres_alone(name) => ".postgres",
                _ => "",
            };
            files.push((format!("{version}_{slug}{tx}.up.sql").into(), header("up")));
            if reversible || pairs_have_downs {
                files.push((format!("{version}_{slug}{tx}.down.sql").into(), header("down")));
            }
        }
        Layout::Postgrator => {
            files.push((format!("{version}.do.{slug}.sql").into(), header("up")));
            if reversible || pairs_have_downs {
                files.push((format!("{version}.undo.{slug}.sql").into(), header("down")));
            }
        }
        // Named as `db-migrate create --sql-file` names them, with dashes (trial: an underscore
        // among the project's dashes), the down always beside the up, as it writes both.
        Layout::DbMigrate => {
            let slug = slug.replace('_', "-");
            // In the `sqls` folder its modules read them from, where the others are.
            let folder = match set.versioned().last().is_some_and(|m| m.file.starts_with("sqls/")) {
                true => "sqls/",
                false => "",
            };
            files.push((format!("{folder}{version}-{slug}-up.sql").into(), header("up")));
            files.push((format!("{folder}{version}-{slug}-down.sql").into(), header("down")));
        }
        // yoyo's: its id heads it with the one before, as `yoyo new` writes it, so that yoyo
        // still reads the directory; the rollback beside it.
        Layout::Yoyo => {
            let newest = yoyo_newest(&set);
            // As the newest is written: `0004.name` after `0003.add-bar` (re-check: `shale new`
            // wrote another style beside them), the character after its version.
            let separator = match &newest {
                Some((text, id)) if id.as_bytes().get(text.len()) == Some(&b'.') => ".",
                _ => "_",
            };
            let before = newest.map(|(_, id)| id);
            let depends = format!("-- depends: {}\n", before.unwrap_or_default());
            let id = format!("{version}{separator}{slug}");
            files.push((format!("{id}.sql").into(), format!("{depends}{}", header("up"))));
            if reversible || pairs_have_downs {
                files.push((format!("{id}.rollback.sql").into(), header("down")));
            }
        }
        // As umzug's `create` names them: the time with dots, the down of the same name in `down/`.
        Layout::Umzug => {
            let name = format!("{}.{slug}.sql", shale::core::layout::umzug_time(&version.to_string()));
            if reversible || pairs_have_downs {
                files.push((PathBuf::from("down").join(&name), header("down")));
            }
            files.insert(0, (name.into(), header("up")));
        }
        Layout::DieselFolder => {
            files.push((format!("{version}_{slug}/up.sql").into(), header("up")));
            files.push((format!("{version}_{slug}/down.sql").into(), header("down")));
        }
        // Prisma keeps no downs; a down.sql beside migration.sql is shale's.
        Layout::PrismaFolder => {
            files.push((format!("{version}_{slug}/migration.sql").into(), header("up")));
            if reversible {
                files.push((format!("{version}_{slug}/down.sql").into(), header("down")));
            }
        }
        Layout::Flyway => {
            files.push((format!("V{version}__{slug}.sql").into(), header("up")));
            if reversible {
                files.push((format!("U{version}__{slug}.sql").into(), header("undo")));
            }
        }
        Layout::Sqitch => {
            // Its scripts by the change's name, and the change at the end of the plan.
            let plan_path = settings.dir.join(shale_core::layout::SQITCH_PLAN);
            let plan =
                std::fs::read_to_string(&plan_path).with_context(|| format!("reading {}", plan_path.display()))?;
            // A name with folders (`table/users`), as the project's own changes have them, keeps
            // them: its scripts go in those folders, as `sqitch add` puts them.
            let change: String =
                name.split('/').map(crate::commands::new::slug).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/");
            if plan.lines().any(|line| shale_core::layout::sqitch_change_name(line) == Some(change.as_str())) {
                anyhow::bail!(shale::Error::Invalid(format!(
                    "sqitch.plan has a change `{change}` already: name this one otherwise (reworking a change is Sqitch's `sqitch rework`)"
                )));
            }
            files.push((format!("deploy/{change}.sql").into(), header("deploy")));
            files.push((format!("revert/{change}.sql").into(), header("revert")));
            files.push((format!("verify/{change}.sql").into(), header("verify")));
            let line = shale_core::layout::sqitch_plan_line(
                &plan,
                &change,
                name,
                &now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                sqitch_planner().as_deref(),
            );
            let separator = if plan.is_empty() || plan.ends_with('\n') { "" } else { "\n" };
            sqitch_plan_addition = Some((plan_path, format!("{plan}{separator}{line}\n")));
        }
        Layout::Liquibase => {
            // A changelog of its own, named to run after the one run last (a changeset's number is
            // its place), by the author of the last changeset.
            let last = set.versioned().last();
            let last_file = last.map(|m| m.file.as_str()).unwrap_or_default();
            let today = now.format("%Y-%m-%d").to_string();
            // With a master changelog, its include (added below) says where it runs; the name is
            // only checked to run last.
            let beside = || {
                let folder = last_file.rsplit_once('/').map_or("", |(folder, _)| folder);
                let name = format!("{slug}.sql");
                Some(if folder.is_empty() { name } else { format!("{folder}/{name}") })
            };
            let file = shale_core::layout::liquibase_file_name(last_file, &slug, &today)
                .or_else(|| set.liquibase_master.as_ref().and_then(|_| beside()));
            let Some(file) = file.filter(|f| !settings.dir.join(f).exists()) else {
                anyhow::bail!(shale::Error::Invalid(format!(
                    "cannot name a changelog that runs after {last_file} (changelogs run in the order of their \
                     names, or as the master changelog includes them): write the new one by hand"
                )));
            };
            // Of the last changeset written with one: Liquibase's own for a file it runs whole,
            // `includeAll`, is nobody's (re-check: auth-grant-manager's new changeset was its).
            let author = set
                .versioned()
                .filter_map(|m| m.name.split_once(':').map(|(author, _)| author))
                .filter(|author| *author != "includeAll")
                .last()
                .unwrap_or("shale");
            let down = (reversible || !down_sql.is_empty()).then_some(down_sql);
            files.push((file.into(), shale_core::layout::liquibase_changelog(author, &slug, name, up_sql, down)));
        }
        Layout::Tern => {
            files.push((
                format!("{version}_{slug}.sql").into(),
                format!("-- {name}\n\n{up_sql}\n{}\n\n{down_sql}", shale_core::layout::TERN_SEPARATOR),
            ));
        }
        Layout::Goose | Layout::SqlMigrate => {
            let (up, down) = layout.section_markers().unwrap_or_default();
            let ((up_alone, up_sql), (down_alone, down_sql)) = (in_tool_s_words(up_sql), in_tool_s_words(down_sql));
            let down_sql = unwritten_section(&down_sql);
            let text = match layout {
                // goose says it once, for the whole file.
                Layout::Goose => format!(
                    "{}{up}\n-- {name}\n\n{up_sql}\n{down}\n\n{down_sql}",
                    if up_alone || down_alone { "-- +goose NO TRANSACTION\n" } else { "" }
                ),
                _ => {
                    let option = |alone: bool| if alone { " notransaction" } else { "" };
                    format!(
                        "{up}{}\n-- {name}\n\n{up_sql}\n{down}{}\n\n{down_sql}",
                        option(up_alone),
                        option(down_alone)
                    )
                }
            };
            // Named as the newest is (breadth trial: mochi-api's sql-migrate files, `20220412135505-init.sql`).
            files.push((format!("{plain}.sql").into(), text));
        }
        Layout::NodePgMigrate => {
            let (up, down) = layout.section_markers().unwrap_or_default();
            files.push((
                format!("{version}_{slug}.sql").into(),
                format!("{up}\n-- {name}\n\n{up_sql}\n{down}\n\n{}", unwritten_section(down_sql)),
            ));
        }
        // Where the tool that may still run the directory runs every file whole (the Supabase
        // CLI, drizzle), a down would run as a migration: in a file of its own, or in a section.
        // A migration written from a diff: the up alone (`diff::write_migrations` says so).
        Layout::SingleFile if reversible && runs_every_file(&settings.dir) && contents.is_some() => {
            // Atlas runs a file outside a transaction where its header says so in its words.
            let text = match in_tool_s_words(up_sql) {
                (true, sql) if settings.dir.join(ATLAS_SUM).is_file() => {
                    format!("-- atlas:txmode none\n-- up: {name}\n\n{sql}")
                }
                _ => header("up"),
            };
            files.push((format!("{version}_{slug}.sql").into(), text));
        }
        Layout::SingleFile if reversible && runs_every_file(&settings.dir) => {
            anyhow::bail!(shale::Error::Invalid(format!(
                "{} is run file by file, whole, by the tool that keeps it (the Supabase CLI, drizzle, Atlas), which has no \
                 downs: a down written here would run as a migration. Write the migration alone; `shale down \
                 --generate` computes its down from the schemas when one is needed",
                settings.dir.display()
            )));
        }
        // A reversible migration among plain files (`new --reversible`, one written from a diff):
        // the up named as they are, its down beside it, so that the directory's convention stays
        // (re-checks: after a `.up.sql` pair, every `shale new` wrote pairs).
        Layout::SingleFile
            if reversible
                && !set.migrations.is_empty()
                && !set.migrations.iter().any(|m| m.layout == Layout::DbmateSections) =>
        {
            files.push((format!("{plain}.sql").into(), header("up")));
            files.push((format!("{plain}.down.sql").into(), header("down")));
        }
        // A directory of plain files with no sections: the down in a file of its own, as sqlx's
        // `migrate add -r` writes it (sqlx runs a sectioned file whole, down and all).
        Layout::SingleFile if reversible && !set.migrations.iter().any(|m| m.layout == Layout::DbmateSections) => {
            files.push((format!("{version}_{slug}.up.sql").into(), header("up")));
            files.push((format!("{version}_{slug}.down.sql").into(), header("down")));
        }
        Layout::SingleFile | Layout::DbmateSections if reversible || layout == Layout::DbmateSections => {
            let ((up_alone, up_sql), (down_alone, down_sql)) = (in_tool_s_words(up_sql), in_tool_s_words(down_sql));
            let down_sql = unwritten_section(&down_sql);
            let option = |alone: bool| if alone { " transaction:false" } else { "" };
            files.push((
                format!("{version}_{slug}.sql").into(),
                format!(
                    "-- migrate:up{}\n-- {name}\n\n{up_sql}\n-- migrate:down{}\n\n{down_sql}",
                    option(up_alone),
                    option(down_alone)
                ),
            ));
        }
        Layout::SingleFile | Layout::DbmateSections => {
            files.push((format!("{plain}.sql").into(), header("up")));
        }
    }
    for (relative, text) in &files {
        let path = settings.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some((plan, text)) = sqitch_plan_addition {
        std::fs::write(&plan, text).with_context(|| format!("writing {}", plan.display()))?;
    }
    if let (Layout::Liquibase, Some((first, _))) = (layout, files.first()) {
        include_in_master(settings, &set, first)?;
    }
    if let Some((first, _)) = files.first() {
        add_to_drizzle_journal(&settings.dir, first, now.timestamp_millis())?;
    }
    rehash_atlas_sum(settings, &set)?;
    Ok(files.iter().map(|(p, _)| settings.dir.join(p)).collect())
}

/// In a folder of Liquibase changelogs whose master includes them one by one, the new changelog
/// goes in the master too, at its end: Liquibase runs only what its master includes.
fn include_in_master(settings: &Settings, before: &MigrationSet, written: &Path) -> Result<()> {
    let Some(master) = &before.liquibase_master else { return Ok(()) };
    let text = std::fs::read_to_string(master).with_context(|| format!("reading {}", master.display()))?;
    // Where it runs: last, or the changelog is taken back (a changeset's number is its place).
    let runs_last = |set: &MigrationSet| {
        let newest = set.versioned().last();
        newest.is_some_and(|m| Path::new(&m.file) == written)
    };
    let take_back = |why: String| -> Result<()> {
        let _ = std::fs::remove_file(settings.dir.join(written));
        let _ = std::fs::write(master, &text);
        anyhow::bail!(shale::Error::Invalid(why))
    };
    let runs = |set: &MigrationSet| set.migrations.iter().any(|m| Path::new(&m.file) == written);
    let now = match super::load_every_changeset(settings) {
        Ok(set) => set,
        Err(e) => return take_back(format!("{} would not load: {e}", written.display())),
    };
    if runs(&now) {
        return match runs_last(&now) {
            true => Ok(()),
            false => take_back(format!(
                "{} would run before changesets already there (the master includes its folder in name order): \
                 write the new changelog by hand, named to sort last",
                written.display()
            )),
        };
    }
    let folder = master.parent().unwrap_or(&settings.dir);
    let from_master = settings.dir.join(written);
    let relative = from_master.strip_prefix(folder).unwrap_or(written);
    let included =
        shale_core::layout::liquibase_with_include(master, &text, &relative.to_string_lossy().replace('\\', "/"));
    let Some(included) = included else {
        anyhow::bail!(shale::Error::Invalid(format!(
            "wrote {}, and could not add it to the master changelog {}: include it there by hand",
            written.display(),
            master.display()
        )));
    };
    std::fs::write(master, included).with_context(|| format!("writing {}", master.display()))?;
    let with_it = match super::load_every_changeset(settings) {
        Ok(set) => set,
        Err(e) => return take_back(format!("the master changelog {} would not load with it: {e}", master.display())),
    };
    match runs_last(&with_it) {
        true => Ok(()),
        false => take_back(format!(
            "could not include {} at the end of the master changelog {}: include it there by hand",
            written.display(),
            master.display()
        )),
    }
}

/// In a drizzle-kit directory, the new file goes in its journal (`meta/_journal.json`), as
/// drizzle-kit's own files do: its next `generate` then numbers after it, and shale does not
/// take it for a file drizzle-kit never ran.
fn add_to_drizzle_journal(dir: &Path, file: &Path, when: i64) -> Result<()> {
    let path = dir.join("meta").join("_journal.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(()) };
    // A journal that does not read is refused before the file is made: made without its entry,
    // drizzle-kit's next `generate` took its number, and shale left it out for good (drizzle
    // trial).
    let unreadable = |line: usize, column: usize, why: &str| {
        anyhow::anyhow!(shale::Error::Invalid(format!(
            "{}:{line}:{column}: {why}; resolve it (after a merge, both branches' entries, each `idx` once, in the \
             order of `when`), then run `shale new` again",
            path.display()
        )))
    };
    if let Err(e) = shale::core::adopt::drizzle_journal(&text) {
        return Err(unreadable(e.line, e.column.max(1), &e.message));
    }
    let mut journal = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| unreadable(e.line(), e.column().max(1), "is not drizzle's journal"))?;
    let Some(entries) = journal.get_mut("entries").and_then(|e| e.as_array_mut()) else {
        return Err(unreadable(1, 1, "has no `entries` list"));
    };
    let version = entries.last().and_then(|e| e.get("version")).cloned().unwrap_or_else(|| "7".into());
    let tag = file.to_string_lossy().trim_end_matches(".sql").to_string();
    let fields = [
        ("idx", entries.len().to_string()),
        ("version", version.to_string()),
        ("when", when.to_string()),
        ("tag", serde_json::Value::from(tag.clone()).to_string()),
        ("breakpoints", "true".into()),
    ];
    // Written into the file as it is, in drizzle-kit's order and layout, so that the change is
    // the entry alone; a journal laid out otherwise is written whole.
    let text = match appended_entry(&text, &fields) {
        Some(text) => text,
        None => {
            let entry = serde_json::json!({ "idx": entries.len(), "version": version, "when": when, "tag": tag, "breakpoints": true });
            entries.push(entry);
            serde_json::to_string_pretty(&journal).expect("JSON serializes")
        }
    };
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// `journal` with an entry of `fields` (names and JSON values, in order) after its last one, laid
/// out as that one is: None where the entries array is not the journal's last value or is empty.
fn appended_entry(journal: &str, fields: &[(&str, String)]) -> Option<String> {
    let close = journal.rfind(']')?;
    if journal[close + 1..].trim() != "}" {
        return None;
    }
    let last_entry_end = journal[..close].rfind('}')?;
    if journal[last_entry_end + 1..close].trim() != "" {
        return None;
    }
    let line_start = journal[..last_entry_end].rfind('\n').map_or(0, |n| n + 1);
    let indent = &journal[line_start..last_entry_end];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let inner = format!("{indent}  ");
    let body: Vec<String> = fields.iter().map(|(name, value)| format!("{inner}\"{name}\": {value}")).collect();
    let entry = format!(",\n{indent}{{\n{}\n{indent}}}", body.join(",\n"));
    Some(format!("{}{entry}{}", &journal[..=last_entry_end], &journal[last_entry_end + 1..]))
}

/// The directory's own tool runs every file whole (the Supabase CLI, drizzle-kit): it has no
/// downs, and a down file there is one more migration to it.
pub(crate) fn runs_every_file(dir: &Path) -> bool {
    dir.join("meta").join("_journal.json").is_file() || dir.ends_with("supabase/migrations") || atlas_s_own_format(dir)
}

/// A directory in Atlas's own format, whose every file Atlas runs as a migration: atlas.sum there,
/// naming no `.up.sql` file (Atlas writing golang-migrate's format, `migrations_format =
/// "golang-migrate"`, hashes the ups alone and reads the downs as downs).
fn atlas_s_own_format(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(ATLAS_SUM))
        .is_ok_and(|sum| !sum.lines().any(|line| line.split(" h1:").next().is_some_and(|f| f.ends_with(".up.sql"))))
}

/// Atlas's checksum file: where it is, Atlas refuses to run a directory it does not match.
const ATLAS_SUM: &str = "atlas.sum";

/// In an Atlas directory whose atlas.sum no longer matches the files (one written since, edited
/// after `shale new` wrote its hash): the first file it differs at. Atlas, and ent's `atlas
/// migrate diff`, refuse such a directory.
pub(crate) fn stale_atlas_sum(dir: &Path, set: &MigrationSet) -> Option<String> {
    let written = std::fs::read_to_string(dir.join(ATLAS_SUM)).ok()?;
    let now = shale_core::adopt::atlas_sum(set);
    if written.trim_end() == now.trim_end() {
        return None;
    }
    let hash_of = |text: &str, file: &str| {
        text.lines().find_map(|l| l.split_once(" h1:").filter(|(f, _)| *f == file).map(|(_, h)| h.to_string()))
    };
    let files = shale_core::adopt::atlas_hashes(set);
    let first = files.iter().find(|(file, hash)| hash_of(&written, file).as_deref() != Some(hash.as_str()));
    Some(first.map_or_else(|| "a file it lists that is gone".to_string(), |(file, _)| file.to_string()))
}

/// In an Atlas directory, atlas.sum written again with the new file, as `atlas migrate hash`
/// writes it: Atlas (still run somewhere, or ent's `atlas migrate diff`) refuses a directory its
/// sum does not match.
fn rehash_atlas_sum(settings: &Settings, before: &MigrationSet) -> Result<()> {
    let path = settings.dir.join(ATLAS_SUM);
    if !path.is_file() {
        return Ok(());
    }
    // One stale already (a file edited since it was written) is Atlas's guard against that edit:
    // not written over, as `atlas migrate new` refuses such a directory (review, re-check).
    if let Some(file) = stale_atlas_sum(&settings.dir, before) {
        crate::output::warning(&format!(
            "atlas.sum was not written again: it no longer matched the files before this one (from {file} on); \
             `atlas migrate hash` writes it for them all"
        ));
        return Ok(());
    }
    let set = super::load_set(settings)?;
    std::fs::write(&path, shale_core::adopt::atlas_sum(&set)).with_context(|| format!("writing {}", path.display()))
}

/// Who plans a change, as Sqitch's `SQITCH_FULLNAME` and `SQITCH_EMAIL` name them (`sqitch add`
/// reads them first); None where they are not both set (the plan's last planner is taken).
fn sqitch_planner() -> Option<String> {
    let name = std::env::var("SQITCH_FULLNAME").ok().filter(|v| !v.trim().is_empty())?;
    let email = std::env::var("SQITCH_EMAIL").ok().filter(|v| !v.trim().is_empty())?;
    Some(format!("{} <{}>", name.trim(), email.trim()))
}

/// `add users` and `AddUserTrustedDevices` (as EF Core and Laravel teams name migrations) as
/// `add_users` and `add_user_trusted_devices`: words apart, in lower case (EF Core trial: the
/// words ran together, `addusertrusteddevices`).
fn slug(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.trim().chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1);
            // A capital starts a word after a small letter or a digit, and after capitals where a
            // small letter follows it (`HTTPServer`: `http_server`).
            let starts_word = c.is_uppercase()
                && before.is_some_and(|b| {
                    b.is_lowercase()
                        || b.is_ascii_digit()
                        || (b.is_uppercase() && after.is_some_and(|a| a.is_lowercase()))
                });
            if starts_word && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The diesel folder name after `written` (`2024-10-25-112826` or with diesel 2.3's hexadecimal
/// `-0000`): its suffix counted up, as diesel does; without one, a second later.
fn after_diesel(written: &str) -> String {
    if let Some((stamp, suffix)) = written.rsplit_once('-').filter(|(_, s)| s.len() == 4 && written.len() == 22) {
        if let Ok(n) = u16::from_str_radix(suffix, 16) {
            return format!("{stamp}-{:04x}", n.wrapping_add(1));
        }
    }
    match chrono::NaiveDateTime::parse_from_str(written, "%Y-%m-%d-%H%M%S") {
        Ok(at) => (at + chrono::Duration::seconds(1)).format("%Y-%m-%d-%H%M%S").to_string(),
        Err(_) => written.to_string(),
    }
}

/// The newest of a yoyo directory's migrations, its SQL files and its Python steps alike: its
/// version as written and its id (the file's name without its extension), which `shale new`
/// numbers after and depends on (re-check: a Python step's number was given again, and its id
/// passed over).
fn yoyo_newest(set: &shale::MigrationSet) -> Option<(String, String)> {
    let sql = set.versioned().filter_map(|m| Some((m.version.clone()?, m.version_text.clone(), m.file.clone())));
    let code = set.unrunnable.iter().map(|u| (u.version.clone(), u.version_text.clone(), u.file.clone()));
    sql.chain(code).max_by(|a, b| a.0.cmp(&b.0)).map(|(_, text, file)| {
        let id = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem).to_string();
        (text, id)
    })
}

#[cfg(test)]
mod tests {
    use super::{after_diesel, slug};

    #[test]
    fn the_next_diesel_folder_counts_the_suffix_up_or_takes_the_next_second() {
        assert_eq!(after_diesel("2026-12-06-180241-0000"), "2026-12-06-180241-0001");
        assert_eq!(after_diesel("2026-12-06-180241-00a9"), "2026-12-06-180241-00aa");
        assert_eq!(after_diesel("2026-12-06-235959"), "2026-12-07-000000");
    }

    #[test]
    fn names_become_words_in_lower_case() {
        assert_eq!(slug("add users"), "add_users");
        assert_eq!(slug("AddUserTrustedDevices"), "add_user_trusted_devices");
        assert_eq!(slug("FailedLoginCaptcha"), "failed_login_captcha");
        assert_eq!(slug("AddHTTPServer2Fields"), "add_http_server2_fields");
        assert_eq!(slug("  Add-Index: users.email "), "add_index_users_email");
        assert_eq!(slug("create_users"), "create_users");
    }
}
