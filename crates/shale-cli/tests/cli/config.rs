//! Settings from shale.toml, the environment and .env; init and new; connection errors.

use crate::common;

use common::{finish, shown, Project, Run};

/// `shale init` run in `dir` (a project's folder other than the test's own).
fn init_in(p: &Project, dir: impl AsRef<std::path::Path>) -> Run {
    let mut init = p.bare();
    init.current_dir(dir).arg("init");
    init.output().unwrap().into()
}

#[test]
fn custom_variable_from_dotenv_and_real_environment_wins() {
    let p = Project::new("cfg_dotenv");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    std::fs::write(p.path().join("shale.toml"), "database_url_env = \"NEON_DATABASE_URL\"\n").unwrap();
    std::fs::write(p.path().join(".env"), format!("NEON_DATABASE_URL={}\n", p.db.url)).unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
    // The real environment overrides .env; its password never shows.
    let run: Run = p
        .bare()
        .env("NEON_DATABASE_URL", "postgresql://app:topsecret-pw@127.0.0.1:1/db")
        .arg("status")
        .output()
        .unwrap()
        .into();
    assert!(!run.stderr.contains("topsecret") && !run.stdout.contains("topsecret"));
    snapshot!("environment_over_env_file", shown(&p, &run));
}

#[test]
fn sqlalchemy_url_in_dotenv_works_as_it_is() {
    // The DATABASE_URL a FastAPI + SQLAlchemy (asyncpg) application reads from .env.
    let p = Project::new("cfg_sqlalchemy");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    let url = p.db.url.replacen("postgresql://", "postgresql+asyncpg://", 1) + "&ssl=disable";
    std::fs::write(p.path().join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
    snapshot!("sqlalchemy_url_status", shown(&p, &p.bare().arg("status").output().unwrap().into()));
    // A diff source too; another driver, the scheme of another database refused for its scheme.
    let psycopg = p.db.url.replacen("postgresql://", "postgresql+psycopg2://", 1);
    let run: Run =
        p.bare().args(["diff", "--from", &psycopg, "--to", "migrations", "--exit-code"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mysql = "mysql+pymysql://app:hunter2@db.example.com/app?charset=utf8mb4";
    let run: Run = p.bare().env("DATABASE_URL", mysql).arg("status").output().unwrap().into();
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    snapshot!("not_a_postgresql_url", shown(&p, &run));
}

/// A Rust service's sqlx URL as it is: its `ssl-mode`, its statement cache, its `options[NAME]`
/// (sqlx re-check: refused as unknown, so the switched service could not start).
#[test]
fn sqlx_url_works_as_it_is() {
    let p = Project::new("cfg_sqlx_url");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.psql("CREATE SCHEMA app");
    let url = format!("{}&ssl-mode=disable&statement-cache-capacity=0&options[search_path]=app", p.db.url);
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('app.a') IS NOT NULL"), "t");
}

/// A Next.js project keeps its database URL in `.env.local`, which wins over `.env`, as in Next.js.
#[test]
fn next_js_dotenv_local_wins_over_dotenv() {
    let p = Project::new("cfg_env_local");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    std::fs::write(p.path().join(".env"), "DATABASE_URL=postgresql://nobody@127.0.0.1:1/none\n").unwrap();
    std::fs::write(p.path().join(".env.local"), format!("DATABASE_URL={}\n", p.db.url)).unwrap();
    let run: Run = p.bare().arg("up").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
}

/// An application run from `backend/` keeps its `.env` in the repository's top folder (as
/// python-dotenv's `find_dotenv` finds it): read there, up to the folder holding `.git`, and named
/// in messages as the file it is.
#[test]
fn dotenv_in_the_repository_s_top_folder_is_read_from_below() {
    let p = Project::new("cfg_env_above");
    std::fs::create_dir_all(p.path().join(".git")).unwrap();
    let backend = p.path().join("backend");
    std::fs::create_dir_all(backend.join("migrations")).unwrap();
    std::fs::write(backend.join("migrations/001_a.sql"), "CREATE TABLE a (id int);").unwrap();
    std::fs::write(p.path().join(".env"), format!("DATABASE_URL={}\n", p.db.url)).unwrap();
    let run: Run = p.bare().current_dir(&backend).arg("up").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.tables(), ["a", "shale_migrations"]);
    std::fs::write(p.path().join(".env"), "DATABASE_URL=mysql://app:hunter2@db.example.com/app\n").unwrap();
    let run: Run = p.bare().current_dir(&backend).arg("status").output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("(from DATABASE_URL in ../.env)") && !run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[test]
fn missing_database_and_bad_config_are_usage_errors() {
    let p = Project::new("cfg_errors");
    p.write("001_a.sql", "select 1;");
    snapshot!("no_database", shown(&p, &p.bare().arg("up").output().unwrap().into()));
    // validate without a database checks the files alone.
    let run: Run = p.bare().arg("validate").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(p.path().join("shale.toml"), "dir = \"migrations\"\nlock_timeout = 5\n").unwrap();
    snapshot!("config_wrong_type", shown(&p, &p.bare().arg("status").output().unwrap().into()));
    std::fs::write(p.path().join("shale.toml"), "dirr = \"x\"\n").unwrap();
    snapshot!("config_unknown_field", shown(&p, &p.bare().arg("status").output().unwrap().into()));
    let run = p.shale(&["up", "--database-url", "mysql://x"]);
    assert_eq!(run.code, 2);
    std::fs::write(p.path().join("shale.toml"), "lock_timeout = \"soon\"\n").unwrap();
    // A configuration error, not a connection failure.
    snapshot!("config_bad_duration", shown(&p, &p.shale(&["up"])));
}

#[test]
fn unreachable_server_is_exit_3_with_a_redacted_url() {
    let p = Project::new("cfg_unreachable");
    p.write("001_a.sql", "select 1;");
    let port = shale_testkit::free_port().unwrap();
    let url = format!("postgresql://app:hunter2@127.0.0.1:{port}/db");
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 3);
    // The warning about a password on the command line, then one clear line.
    assert_eq!(run.stderr.lines().filter(|l| !l.starts_with("warning: the password")).count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("connection refused") || run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"));
    let json: Run = p.bare().args(["--database-url", &url, "--json", "up"]).output().unwrap().into();
    assert_eq!(json.json()["exit_code"], 3);
    assert!(!json.stdout.contains("hunter2"));
    // `--url`, as dbmate's and Flyway's scripts spell it, is the same flag.
    let dbmate_spelling: Run = p.bare().args(["--url", &url, "up"]).output().unwrap().into();
    assert_eq!(dbmate_spelling.code, 3, "{}", dbmate_spelling.stderr);
    assert!(!dbmate_spelling.stderr.contains("hunter2"));
}

/// In a drizzle-kit directory, `shale new` writes the next file and adds it to drizzle's journal,
/// so that drizzle-kit's next `generate` numbers after it.
#[test]
fn new_in_a_drizzle_directory_goes_in_its_journal() {
    let p = Project::new("cfg_new_drizzle");
    p.write("0000_silly_wolverine.sql", "CREATE TABLE a (id int);\n");
    p.write(
        "meta/_journal.json",
        r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_silly_wolverine","breakpoints":true}]}"#,
    );
    p.bare().args(["new", "add widgets"]).output().unwrap();
    let journal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.migrations().join("meta/_journal.json")).unwrap()).unwrap();
    assert_eq!(journal["entries"][1]["tag"], "0001_add_widgets", "{journal}");
    assert_eq!(journal["entries"][1]["idx"], 1);
    assert_eq!(journal["dialect"], "postgresql");
    let validate: Run = p.bare().arg("validate").output().unwrap().into();
    assert!(validate.stdout.contains("2 migration(s) are valid"), "{}{}", validate.stdout, validate.stderr);

    // As drizzle-kit lays it out: the entry is added in its order and layout, the rest unchanged,
    // so the change under review is the entry alone.
    let kit = "{\n  \"version\": \"7\",\n  \"dialect\": \"postgresql\",\n  \"entries\": [\n    {\n      \"idx\": 0,\n      \"version\": \"7\",\n      \"when\": 1700000000000,\n      \"tag\": \"0000_silly_wolverine\",\n      \"breakpoints\": true\n    }\n  ]\n}";
    let q = Project::new("cfg_new_drizzle_kit");
    q.write("0000_silly_wolverine.sql", "CREATE TABLE a (id int);\n");
    q.write("meta/_journal.json", kit);
    q.bare().args(["new", "add widgets"]).output().unwrap();
    let written = std::fs::read_to_string(q.migrations().join("meta/_journal.json")).unwrap();
    let (before, after) = kit.split_at(kit.rfind("}\n  ]").unwrap() + 1);
    assert!(written.starts_with(before) && written.ends_with(after), "{written}");
    let added = &written[before.len()..written.len() - after.len()];
    let when = added.split("\"when\": ").nth(1).unwrap().split(',').next().unwrap();
    assert_eq!(
        added,
        format!(",\n    {{\n      \"idx\": 1,\n      \"version\": \"7\",\n      \"when\": {when},\n      \"tag\": \"0001_add_widgets\",\n      \"breakpoints\": true\n    }}")
    );

    // A journal a merge left its conflict markers in, or that does not read as JSON: refused
    // with its line, by `new` (which writes no file) and by every command reading the directory
    // (drizzle trial: read as no journal, `adopt` matched rows by hash alone and recorded the
    // wrong migrations; `new` made a file drizzle-kit's next `generate` numbered over).
    let conflicted = kit.replacen("  \"entries\"", "<<<<<<< HEAD\n  \"entries\"", 1);
    q.write("meta/_journal.json", &conflicted);
    let run: Run = q.bare().args(["new", "add gadgets"]).output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("meta/_journal.json:4:1: holds a merge's conflict markers"), "{}", run.stderr);
    assert!(!q.migrations().join("0002_add_gadgets.sql").exists());
    q.write("meta/_journal.json", &kit.replacen("}\n  ]", "},\n  ]", 1));
    let run: Run = q.bare().arg("validate").output().unwrap().into();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("meta/_journal.json:12:3: is not drizzle's journal"), "{}", run.stderr);
}

/// In a Phoenix project, `init` points shale.toml at Ecto's directory, where a migration written
/// in Elixir after the switch is seen (Ecto re-check: `migrations/` made, and a new `.exs` unseen).
#[test]
fn init_finds_ecto_s_directory_and_says_how_to_start() {
    let p = Project::new("cfg_init_ecto");
    let dir = p.path().join("priv/repo/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20230105101500_create_users.exs"), "defmodule M do\nend\n").unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("dir = \"priv/repo/migrations\", where Ecto keeps its migrations, in code"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("`shale baseline --from-database` on a database Ecto migrated"), "{}", run.stdout);
    assert!(!p.migrations().exists(), "no empty migrations/ beside Ecto's");

    // Sequel's (Roda's `migrate/`, ubicloud's), its Ruby files written with its migration DSL
    // (Sequel trial: `migrations/` made beside them).
    let s = Project::new("cfg_init_sequel");
    let dir = s.path().join("migrate");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20230117_tables.rb"), "Sequel.migration do\n  change do\n  end\nend\n").unwrap();
    let run: Run = s.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dir = \"migrate\", where Sequel keeps its migrations, in code"), "{}", run.stdout);
}

/// In a project another tool migrates, `init` points shale.toml at that tool's directory.
#[test]
fn init_finds_the_directory_another_tool_keeps() {
    let p = Project::new("cfg_init_prisma");
    let folder = p.path().join("prisma/migrations/20240101000000_init");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("migration.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n").unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dir = \"prisma/migrations\", where Prisma keeps its migrations"), "{}", run.stdout);
    assert!(!p.migrations().exists(), "no empty migrations/ beside Prisma's");
    let config = std::fs::read_to_string(p.path().join("shale.toml")).unwrap();
    assert!(config.contains("\ndir = \"prisma/migrations\"\n"), "{config}");
    let validate: Run = p.bare().arg("validate").output().unwrap().into();
    assert!(validate.stdout.contains("1 migration(s) are valid"), "{}{}", validate.stdout, validate.stderr);
    // `db/migrations` is dbmate's place, and node-pg-migrate's too: its files' sections say whose
    // (Node trial: named dbmate's).
    let node = Project::new("cfg_init_node_pg");
    let dir = node.path().join("db/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("1700000000000_a.sql"), "-- Up Migration\nSELECT 1;\n-- Down Migration\n").unwrap();
    let run: Run = node.bare().arg("init").output().unwrap().into();
    assert!(run.stdout.contains("where node-pg-migrate keeps its migrations"), "{}", run.stdout);

    // Prisma Migrate's connection is the schema's directUrl, past the pooler the application's url
    // goes through (Prisma trial, documenso).
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    std::fs::write(
        p.path().join("prisma/schema.prisma"),
        "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"NEXT_PRIVATE_DATABASE_URL\")\n  directUrl = env(\"NEXT_PRIVATE_DIRECT_DATABASE_URL\")\n}\n",
    )
    .unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert!(
        run.stdout.contains("database_url_env = \"NEXT_PRIVATE_DIRECT_DATABASE_URL\": the directUrl"),
        "{}",
        run.stdout
    );
    let config = std::fs::read_to_string(p.path().join("shale.toml")).unwrap();
    assert!(config.contains("\ndatabase_url_env = \"NEXT_PRIVATE_DIRECT_DATABASE_URL\"\n"), "{config}");
    // From Prisma 7, its prisma.config.ts says it, the first variable its url falls back between
    // (breadth trial: rallly's was not read).
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    std::fs::write(
        p.path().join("prisma.config.ts"),
        "export default defineConfig({\n  schema: \"prisma\",\n  datasource: {\n    url: process.env.DIRECT_DATABASE_URL || process.env.DATABASE_URL,\n  },\n});\n",
    )
    .unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    // Each variable it falls back between, in its order: the first set wins (breadth trial:
    // rallly's `.env` sets only DATABASE_URL, and shale refused it).
    assert!(
        run.stdout.contains(
            "database_url_env = \"DIRECT_DATABASE_URL, DATABASE_URL\": the datasource url of prisma.config.ts"
        ),
        "{}",
        run.stdout
    );
    std::fs::write(p.path().join(".env"), format!("DATABASE_URL={}\n", p.db.url)).unwrap();
    let status: Run = p.bare().arg("status").output().unwrap().into();
    assert_eq!(status.code, 0, "{}", status.stderr);
    std::fs::remove_file(p.path().join(".env")).unwrap();
    std::fs::write(
        p.path().join("prisma.config.ts"),
        "export default defineConfig({\n  datasource: { url: env(\"PG_URL\") },\n});\n",
    )
    .unwrap();
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert!(run.stdout.contains("database_url_env = \"PG_URL\""), "{}", run.stdout);
    std::fs::remove_file(p.path().join("prisma.config.ts")).unwrap();
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    p.bare().arg("init").output().unwrap();
    // Without shale.toml, the error with no database names the directUrl's variable first, not
    // the pooler's that sorts before it (re-check trial), and no `--database-url "$X"` for a
    // variable of .env, which a shell does not expand.
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();
    std::fs::write(
        p.path().join(".env"),
        "NEXT_PRIVATE_DATABASE_URL=postgres://app:pw@pooler:6543/app?pgbouncer=true\nNEXT_PRIVATE_DIRECT_DATABASE_URL=postgres://app:pw@db:5432/app\n",
    )
    .unwrap();
    let run: Run = p.bare().args(["--dir", "prisma/migrations", "status"]).output().unwrap().into();
    assert!(
        run.stderr.contains("NEXT_PRIVATE_DIRECT_DATABASE_URL is set in .env: to use it, put `database_url_env = \"NEXT_PRIVATE_DIRECT_DATABASE_URL\"` in shale.toml")
            && !run.stderr.contains("--database-url \"$"),
        "{}",
        run.stderr
    );
    // Set only in a file Next.js reads for one environment, which shale does not (Node trial).
    std::fs::remove_file(p.path().join(".env")).unwrap();
    std::fs::write(p.path().join(".env.development.local"), "DATABASE_URL=postgres://app:pw@db:5432/app\n").unwrap();
    let run: Run = p.bare().args(["--dir", "prisma/migrations", "status"]).output().unwrap().into();
    assert!(
        run.stderr.contains("DATABASE_URL is set in .env.development.local, which shale does not read"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(p.path().join(".env.development.local")).unwrap();

    // Named as the project likes, holding a PostgreSQL URL (dbmate trial: `dbmate -e DB_PG`).
    std::fs::write(p.path().join(".env"), "DB_PG=\"postgres://app:pw@db:5432/app?sslmode=disable\"\n").unwrap();
    let run: Run = p.bare().args(["--dir", "prisma/migrations", "status"]).output().unwrap().into();
    assert!(
        run.stderr.contains("DB_PG is set in .env: to use it, put `database_url_env = \"DB_PG\"` in shale.toml")
            && !run.stderr.contains("pw@"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(p.path().join(".env")).unwrap();

    // A directory given with --dir is the one shale.toml names.
    let given = tempfile::tempdir().unwrap();
    let mut init = p.bare();
    init.current_dir(given.path()).args(["--dir", "lib/db/migrations", "init"]);
    let run: Run = init.output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = std::fs::read_to_string(given.path().join("shale.toml")).unwrap();
    assert!(config.contains("\ndir = \"lib/db/migrations\"\n"), "{config}");
    assert!(given.path().join("lib/db/migrations").is_dir());

    // In a monorepo, in one of its packages.
    let mono = tempfile::tempdir().unwrap();
    let folder = mono.path().join("packages/db/prisma/migrations/20240101000000_init");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("migration.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n").unwrap();
    let run = init_in(&p, mono.path());
    assert!(run.stdout.contains("dir = \"packages/db/prisma/migrations\""), "{}{}", run.stdout, run.stderr);
    // Where migrations/ holds them already, they are counted, not taken for a new directory.
    let here = mono.path().join("packages/db/prisma");
    std::fs::remove_file(mono.path().join("shale.toml")).unwrap();
    let run = init_in(&p, &here);
    assert!(run.stdout.contains("for the 1 migration(s) in migrations"), "{}{}", run.stdout, run.stderr);

    // graphile-migrate's committed folder inside migrations/ (beside its current.sql), Hasura's
    // folder of its first database, and a Sqitch project's plan in a folder of the root.
    // `init` in `project` points at `dir`, naming `tool`, and the one migration there is valid.
    let init_finds = |project: &std::path::Path, dir: &str, tool: &str| {
        let mut init = p.bare();
        init.current_dir(project).arg("init");
        let run: Run = init.output().unwrap().into();
        assert!(run.stdout.contains(&format!("dir = \"{dir}\", where {tool} keeps")), "{}{}", run.stdout, run.stderr);
        let mut validate = p.bare();
        validate.current_dir(project).arg("validate");
        let run: Run = validate.output().unwrap().into();
        assert!(run.stdout.contains("1 migration(s) are valid"), "{tool}: {}{}", run.stdout, run.stderr);
    };
    for (file, dir, tool) in [
        ("migrations/committed/000001.sql", "migrations/committed", "graphile-migrate"),
        ("hasura/migrations/default/1600000000000_init/up.sql", "hasura/migrations/default", "Hasura"),
        ("sql/deploy/users.sql", "sql", "Sqitch"),
        // drizzle-kit 1.0's folders, with no journal (drizzle trial: `migrations/` was made).
        ("drizzle/20261207131943_init/migration.sql", "drizzle", "drizzle-kit"),
    ] {
        let project = tempfile::tempdir().unwrap();
        let path = project.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "CREATE TABLE users (id bigint PRIMARY KEY);\n").unwrap();
        std::fs::write(project.path().join("migrations/current.sql").as_path(), "").ok();
        if tool == "drizzle-kit" {
            std::fs::write(path.with_file_name("snapshot.json"), "{}").unwrap();
        }
        if tool == "Sqitch" {
            std::fs::write(
                project.path().join("sql/sqitch.plan"),
                "%project=x\n\nusers 2024-01-01T00:00:00Z M <m@x>\n",
            )
            .unwrap();
        }
        init_finds(project.path(), dir, tool);
    }

    // Deeper, found by the tool's own files: Prisma's lock file (trigger.dev's and documenso's
    // layouts), golang-migrate's .up.sql files (Harbor's), drizzle-kit's journal.
    let journal = r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_init","breakpoints":true}]}"#;
    for (files, dir, tool) in [
        (
            &[
                ("internal-packages/database/prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
                (
                    "internal-packages/database/prisma/migrations/20240101000000_init/migration.sql",
                    "CREATE TABLE users (id int);\n",
                ),
            ][..],
            "internal-packages/database/prisma/migrations",
            "Prisma",
        ),
        (
            &[("make/migrations/postgresql/0001_init.up.sql", "CREATE TABLE users (id int);\n")][..],
            "make/migrations/postgresql",
            "golang-migrate",
        ),
        // goose's files, by their markers (hatchet's layout; goose trial).
        (
            &[(
                "cmd/hatchet-migrate/migrate/migrations/20240101000000_init.sql",
                "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n",
            )][..],
            "cmd/hatchet-migrate/migrate/migrations",
            "goose",
        ),
        (
            &[
                ("apps/web/src/db/drizzle/0000_init.sql", "CREATE TABLE users (id int);\n"),
                ("apps/web/src/db/drizzle/meta/_journal.json", journal),
            ][..],
            "apps/web/src/db/drizzle",
            "drizzle-kit",
        ),
        (
            &[
                ("packages/db/drizzle/20261207131943_init/migration.sql", "CREATE TABLE users (id int);\n"),
                ("packages/db/drizzle/20261207131943_init/snapshot.json", "{}"),
            ][..],
            "packages/db/drizzle",
            "drizzle-kit",
        ),
        // A Rust workspace's member crate running sqlx's migrator (atuin's layout; sqlx re-check).
        (
            &[
                ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
                // A SQLite crate first by name is not it (re-check).
                ("crates/client/Cargo.toml", "[dependencies]\nsqlx = { version = \"0.8\", features = [\"sqlite\"] }\n"),
                ("crates/client/migrations/20240101000000_init.sql", "CREATE TABLE h (id int);\n"),
                (
                    "crates/server-postgres/Cargo.toml",
                    "[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
                ),
                ("crates/server-postgres/migrations/20240101000000_init.sql", "CREATE TABLE users (id int);\n"),
                // A SQLite crate's up/down pairs, first by name, are not it either (breadth trial:
                // atuin's `atuin-kv` was named golang-migrate's).
                ("crates/kv/Cargo.toml", "[dependencies]\nsqlx = { version = \"0.8\", features = [\"sqlite\"] }\n"),
                ("crates/kv/migrations/20240101000000_kv.up.sql", "CREATE TABLE kv (k text);\n"),
            ][..],
            "crates/server-postgres/migrations",
            "sqlx",
        ),
        // A Prisma history deeper than another database's migrations (trigger.dev's ClickHouse
        // goose files), Hasura's before config v3, a Sqitch plan deeper down (breadth trial).
        (
            &[
                (
                    "internal-packages/clickhouse/schema/001_events.sql",
                    "-- +goose Up\nCREATE TABLE events (id UInt64) ENGINE = MergeTree ORDER BY id;\n",
                ),
                ("internal-packages/database/prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
                (
                    "internal-packages/database/prisma/migrations/20240101000000_init/migration.sql",
                    "CREATE TABLE users (id int);\n",
                ),
            ][..],
            "internal-packages/database/prisma/migrations",
            "Prisma",
        ),
        (
            &[("hasura/migrations/1600000000000_init/up.sql", "CREATE TABLE users (id int);\n")][..],
            "hasura/migrations",
            "Hasura",
        ),
        // diesel's folders, one directory per database (breadth trial: vaultwarden's, where
        // init took `migrations` and every file was an error).
        (
            &[
                ("migrations/mysql/2018-02-17-205753_create_users/up.sql", "CREATE TABLE users (id int);\n"),
                ("migrations/postgresql/2019-09-12-100000_create_users/up.sql", "CREATE TABLE users (id int);\n"),
                ("migrations/postgresql/2019-09-12-100000_create_users/down.sql", "DROP TABLE users;\n"),
                ("migrations/sqlite/2018-02-17-205753_create_users/up.sql", "CREATE TABLE users (id int);\n"),
            ][..],
            "migrations/postgresql",
            "diesel",
        ),
        // pop's files named for a database, refinery's named as Flyway's in a crate that uses it
        // (breadth trial: Ory Kratos' named golang-migrate's, PeerDB's Flyway's).
        (
            &[
                ("persistence/sql/migrations/20200101000000000000_users.postgres.up.sql", "CREATE TABLE u (id int);\n"),
                ("persistence/sql/migrations/20200101000000000000_users.postgres.down.sql", "DROP TABLE u;\n"),
            ][..],
            "persistence/sql/migrations",
            "pop",
        ),
        (
            &[
                ("nexus/catalog/Cargo.toml", "[dependencies]\nrefinery = \"0.8\"\n"),
                ("nexus/catalog/migrations/V1__init.sql", "CREATE TABLE users (id int);\n"),
            ][..],
            "nexus/catalog/migrations",
            "refinery",
        ),
        // Atlas's own files in `db/migrations` (not dbmate's), goose's files Atlas wrote with its
        // atlas.sum (goose's), seeds in goose's sections (no history), sqlx's pairs in a crate
        // taking sqlx from its workspace, Postgrator's in a monorepo's package (breadth trial:
        // openlane, docs.rs, omnivore).
        (
            &[
                ("db/migrations/20260809191420_init.sql", "CREATE TABLE users (id int);\n"),
                ("db/migrations/atlas.sum", "h1:x=\n20260809191420_init.sql h1:y=\n"),
            ][..],
            "db/migrations",
            "Atlas",
        ),
        (
            &[
                ("db/goose/20260809191428_init.sql", "-- +goose Up\nCREATE TABLE users (id int);\n"),
                ("db/goose/atlas.sum", "h1:x=\n20260809191428_init.sql h1:y=\n"),
                ("db/seed/01_a.sql", "-- +goose Up\nINSERT INTO users VALUES (1);\n"),
                ("db/seed/02_b.sql", "-- +goose Up\nINSERT INTO users VALUES (2);\n"),
                ("db/seed/03_c.sql", "-- +goose Up\nINSERT INTO users VALUES (3);\n"),
            ][..],
            "db/goose",
            "goose",
        ),
        (
            &[
                ("Cargo.toml", "[workspace.dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n"),
                ("crates/lib/database/Cargo.toml", "[dependencies]\nsqlx = { workspace = true }\n"),
                ("crates/lib/database/migrations/20240101000000_init.up.sql", "CREATE TABLE users (id int);\n"),
                ("crates/lib/database/migrations/20240101000000_init.down.sql", "DROP TABLE users;\n"),
            ][..],
            "crates/lib/database/migrations",
            "sqlx",
        ),
        (
            &[("packages/db/migrations/0001.do.init.sql", "CREATE TABLE users (id int);\n")][..],
            "packages/db/migrations",
            "Postgrator",
        ),
        // Liquibase's master changelog deep in a Spring project, yoyo's `sources` (third sweep:
        // recruiter, IATI's bulk-data-service: init made an empty migrations/).
        (
            &[
                (
                    "server/src/main/resources/db/changelog/db.changelog-master.xml",
                    "<databaseChangeLog><includeAll path=\"changesets\" relativeToChangelogFile=\"true\"/></databaseChangeLog>\n",
                ),
                (
                    "server/src/main/resources/db/changelog/changesets/001_users.sql",
                    "--liquibase formatted sql\n--changeset me:1\nCREATE TABLE users (id int);\n",
                ),
            ][..],
            "server/src/main/resources/db/changelog",
            "Liquibase",
        ),
        // A `migrations/` of shell scripts beside a dbmate folder (fourth sweep: measure's self-host).
        (
            &[
                ("migrations/v0.4.x-data-backfills.sh", "#!/bin/sh\necho backfill\n"),
                ("migrations/README.md", "Run these by hand.\n"),
                ("postgres/20240830075257_create_roles.sql", "-- migrate:up\nCREATE TABLE roles (name text);\n"),
            ][..],
            "postgres",
            "dbmate",
        ),
        // Named otherwise, found by what it holds (fourth sweep: Dropwizard's `migrations.xml` in
        // pay-ledger, `db/db-changelog.yaml` in auth-grant-manager: init made an empty migrations/).
        (
            &[
                (
                    "src/main/resources/migrations.xml",
                    "<databaseChangeLog><include file=\"migrations/00001_users.sql\" relativeToChangelogFile=\"true\"/></databaseChangeLog>\n",
                ),
                (
                    "src/main/resources/migrations/00001_users.sql",
                    "--liquibase formatted sql\n--changeset me:1\nCREATE TABLE users (id int);\n",
                ),
            ][..],
            "src/main/resources",
            "Liquibase",
        ),
        (
            &[
                ("db/db-changelog.yaml", "databaseChangeLog:\n  - includeAll:\n      path: tables/\n"),
                ("db/tables/0001-users.sql", "CREATE TABLE users (id int);\n"),
            ][..],
            "db",
            "Liquibase",
        ),
        (
            &[
                ("yoyo.ini", "[DEFAULT]\nsources = db-migrations\nbatch_mode = off\n"),
                ("db-migrations/20250807_01_users.sql", "-- users\n-- depends: \nCREATE TABLE users (id int);\n"),
            ][..],
            "db-migrations",
            "yoyo",
        ),
        (
            &[
                ("src/oc_erchef/schema/sqitch.plan", "%project=x\n\nusers 2024-01-01T00:00:00Z M <m@x>\n"),
                ("src/oc_erchef/schema/deploy/users.sql", "CREATE TABLE users (id int);\n"),
            ][..],
            "src/oc_erchef/schema",
            "Sqitch",
        ),
        // Flyway's V files deep in a Java project, sql-migrate's markers, graphile-migrate's
        // committed folder from the repository's root (breadth trial: kestra, ovh/cds, the starter).
        (
            &[(
                "jdbc-postgres/src/main/resources/migrations/postgres/V1_1__init.sql",
                "CREATE TABLE users (id int);\n",
            )][..],
            "jdbc-postgres/src/main/resources/migrations/postgres",
            "Flyway",
        ),
        (
            &[(
                "engine/sql/api/001_init.sql",
                "-- +migrate Up\nCREATE TABLE users (id int);\n-- +migrate Down\nDROP TABLE users;\n",
            )][..],
            "engine/sql/api",
            "sql-migrate",
        ),
        (
            &[(
                "@app/db/migrations/committed/000001.sql",
                "--! Previous: -\n--! Hash: sha1:x\n\nCREATE TABLE users (id int);\n",
            )][..],
            "@app/db/migrations/committed",
            "graphile-migrate",
        ),
        // Atlas's, by its atlas.sum (an ent project's; Atlas trial: init made an empty migrations/).
        (
            &[
                ("ent/migrate/migrations/20240101000000_init.sql", "CREATE TABLE users (id int);\n"),
                ("ent/migrate/migrations/atlas.sum", "h1:x=\n20240101000000_init.sql h1:x=\n"),
            ][..],
            "ent/migrate/migrations",
            "Atlas",
        ),
    ] {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(project.path().join("node_modules/x/prisma/migrations")).unwrap();
        std::fs::write(project.path().join("node_modules/x/prisma/migrations/migration_lock.toml"), "").unwrap();
        for (file, text) in files {
            let path = project.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        init_finds(project.path(), dir, tool);
    }

    // Where migrations/ holds another tool's migrations in code (Knex's), init says shale's go
    // beside them, and status names them in one note.
    let knex = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(knex.path().join("migrations")).unwrap();
    for n in 0..5 {
        std::fs::write(knex.path().join(format!("migrations/2023010510150{n}_m{n}.js")), "exports.up = () => {};")
            .unwrap();
    }
    let run = init_in(&p, knex.path());
    assert!(
        run.stdout.contains("for migrations, whose 5 file(s) are not migrations shale runs"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let mut validate = p.bare();
    validate.current_dir(knex.path()).arg("validate");
    let run: Run = validate.output().unwrap().into();
    assert!(
        run.stderr.contains(
            "note: migrations/20230105101500_m0.js, migrations/20230105101501_m1.js and 3 more files: ignored: a \
             migration written in JavaScript"
        ),
        "{}",
        run.stderr
    );
}

/// `init` keeps the development server's data and the files holding the database password out of
/// git: `.shale/`, `.env` and `.env.local` in `.gitignore`, unless a line already covers one or
/// git tracks it (a `.env` of defaults the project commits on purpose).
#[test]
fn init_keeps_the_password_files_out_of_git() {
    let p = Project::new("cfg_init_gitignore");
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(and .shale/, .env and .env.local in .gitignore)"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(p.path().join(".gitignore")).unwrap(), ".shale/\n.env\n.env.local\n");

    let p = Project::new("cfg_init_gitignore_kept");
    std::fs::write(p.path().join(".gitignore"), "node_modules\n.env*\n").unwrap();
    std::fs::write(p.path().join(".env"), "DATABASE_URL=postgres://app:secret@db/app\n").unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").arg("-C").arg(p.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-f", ".env"]);
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(and .shale/ and .env.local in .gitignore)"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(p.path().join(".gitignore")).unwrap(), "node_modules\n.env*\n.shale/\n");

    // An Alembic project: its database is baselined first (FastAPI trial).
    let p = Project::new("cfg_init_alembic");
    std::fs::write(p.path().join("alembic.ini"), "[alembic]\nscript_location = app/alembic\n").unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert!(
        run.stdout.contains("next: on a database Alembic migrated, `shale baseline --from-database` first"),
        "{}",
        run.stdout
    );

    // A Rust workspace with SeaORM's migration crate (SeaORM trial: nothing said of it).
    let p = Project::new("cfg_init_sea_orm");
    std::fs::create_dir_all(p.path().join("crates/migration")).unwrap();
    std::fs::write(
        p.path().join("crates/migration/Cargo.toml"),
        "[package]\nname = \"migration\"\n[dependencies]\nsea-orm-migration = \"1\"\n",
    )
    .unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert!(
        run.stdout.contains("next: on a database SeaORM migrated, `shale baseline --from-database`"),
        "{}",
        run.stdout
    );

    // Python modules in `db/migrations` are not dbmate's (peewee trial: init pointed shale there).
    let p = Project::new("cfg_init_peewee");
    std::fs::create_dir_all(p.path().join("db/migrations")).unwrap();
    std::fs::write(p.path().join("db/migrations/001_initial.py"), "def migrate(migrator, database): pass\n").unwrap();
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert!(!run.stdout.contains("dbmate"), "{}", run.stdout);
    assert!(p.migrations().is_dir(), "{}", run.stdout);
}

/// `new` where another tool keeps the project's migrations and shale is not pointed there: refused,
/// naming the directory, where it made a second one beside them (dbmate re-check).
#[test]
fn new_beside_another_tool_s_directory_is_refused() {
    let p = Project::new("cfg_new_beside_dbmate");
    let dbmate = p.path().join("db/migrations");
    std::fs::create_dir_all(&dbmate).unwrap();
    std::fs::write(
        dbmate.join("20240101000000_a.sql"),
        "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n",
    )
    .unwrap();
    let run: Run = p.bare().args(["new", "x"]).output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("keeps this project's migrations in db/migrations"), "{}", run.stderr);
    assert!(!p.migrations().exists());
    // `status` says where they are too.
    let run: Run = p.bare().arg("status").output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("dbmate keeps this project's migrations in db/migrations"), "{}", run.stderr);
}

#[test]
fn init_and_new_follow_the_directory_convention() {
    let p = Project::new("cfg_new");
    let run: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(p.path().join("shale.toml").exists() && p.migrations().is_dir());
    let again: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(again.code, 2, "init refuses to overwrite");

    let new = |args: &[&str]| -> Vec<String> {
        let run: Run = p.bare().arg("--json").arg("new").args(args).output().unwrap().into();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                std::path::Path::new(c.as_str().unwrap())
                    .strip_prefix(p.path())
                    .unwrap_or(std::path::Path::new(c.as_str().unwrap()))
                    .display()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(new(&["create users"]), ["migrations/0001_create_users.sql"]);
    // With a down, in a file of its own beside the up, named as the directory's plain files are
    // (where sqlx would run a sectioned file whole, down and all): a later `new` stays plain
    // (re-check: after a `.up.sql` pair every `new` wrote pairs).
    assert_eq!(
        new(&["Add Email!", "--reversible"]),
        ["migrations/0002_add_email.sql", "migrations/0002_add_email.down.sql"]
    );
    // A down left as the template is not run as a revert of nothing (re-check trial: the next up
    // failed on what it left behind).
    p.write("0001_create_users.sql", "CREATE TABLE users (id int);\n");
    p.write("0002_add_email.sql", "-- up: Add Email!\n\nALTER TABLE users ADD COLUMN email text;\n");
    p.shale(&["up"]).ok();
    let down = p.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(down.stderr.contains("the down of 0002 add_email is still the empty template"), "{}", down.stderr);
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'"), "1");
    p.write("0002_add_email.down.sql", "-- down: Add Email!\n\nALTER TABLE users DROP COLUMN email;\n");
    p.shale(&["down", "--step", "1"]).ok();
    // In sections where the directory writes them (dbmate's).
    let s = Project::new("cfg_new_sections");
    s.write("0001_a.sql", "-- migrate:up\nselect 1;\n-- migrate:down\nselect 1;\n");
    let run: Run = s.bare().args(["new", "b", "--reversible"]).output().unwrap().into();
    assert!(run.stdout.contains("0002_b.sql") && !run.stdout.contains(".up.sql"), "{}", run.stdout);
    let text = std::fs::read_to_string(s.migrations().join("0002_b.sql")).unwrap();
    assert!(text.contains("-- migrate:up") && text.contains("-- migrate:down"), "{text}");
    // node-pg-migrate's millisecond names with no sections yet: its own sections (it would run a
    // .down.sql file as a migration).
    let n = Project::new("cfg_new_node_pg");
    n.write("1700000000000_a.sql", "select 1;\n");
    let run: Run = n.bare().args(["new", "b", "--reversible"]).output().unwrap().into();
    assert!(!run.stdout.contains(".down.sql"), "{}", run.stdout);
    let created = run.stdout.trim().rsplit(' ').next().unwrap().trim().to_string();
    let text = std::fs::read_to_string(n.path().join(&created)).unwrap();
    assert!(text.starts_with("-- Up Migration") && text.contains("-- Down Migration"), "{text}");
    // Its down section left as written is refused as the down file's template is (Node trial: it
    // was recorded as reverted, and the next up failed on the table still there).
    std::fs::write(n.path().join(&created), text.replace("-- b\n", "-- b\nCREATE TABLE b (id int);\n")).unwrap();
    n.shale(&["up"]).ok();
    let down = n.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(down.stderr.contains("is still the empty template"), "{}", down.stderr);
    // By every way down (review: `goto` recorded it as reverted).
    let goto = n.shale(&["goto", "1700000000000"]);
    assert_eq!(goto.code, 2, "{}", goto.stderr);
    assert!(goto.stderr.contains("is still the empty template"), "{}", goto.stderr);
    assert_eq!(n.tables(), ["b", "shale_migrations"]);
    // Refused where the tool runs every file whole and has no downs (the Supabase CLI).
    let supabase = Project::new("cfg_new_supabase");
    let dir = supabase.path().join("supabase/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("20240101000000_a.sql"), "select 1;\n").unwrap();
    let mut refused = supabase.bare();
    refused.args(["--dir", dir.to_str().unwrap(), "new", "b", "--reversible"]);
    let run = Run::of(refused);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("a down written here would run as a migration"), "{}", run.stderr);
    // One written by hand there anyway is said to be one more migration to that tool (Supabase
    // trial: `validate` took it silently, while `new` refused to write one).
    std::fs::write(dir.join("20240101000000_a.down.sql"), "select 2;\n").unwrap();
    let mut validate = supabase.bare();
    validate.args(["--dir", dir.to_str().unwrap(), "validate"]);
    let run = Run::of(validate);
    assert!(
        run.stderr.contains("20240101000000_a.down.sql: the tool that keeps")
            && run.stderr.contains("it would run a down as one"),
        "{}",
        run.stderr
    );

    // up/down pairs continue as pairs, with the width they use.
    let q = Project::new("cfg_new_pairs");
    q.write("001_a.up.sql", "select 1;");
    q.write("001_a.down.sql", "select 1;");
    let run: Run = q.bare().args(["new", "b", "--reversible"]).output().unwrap().into();
    assert!(run.stdout.contains("002_b.up.sql") && run.stdout.contains("002_b.down.sql"), "{}", run.stdout);
    // Dates numbered within the day (sql-migrate projects') continue so: today's from .0, then .1.
    let d = Project::new("cfg_new_dated");
    d.write("2023-01-20.0-initial.sql", "select 1;");
    d.write("2023-01-20.1.more.sql", "select 1;");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for (name, number) in [("b", 0), ("c", 1)] {
        let run: Run = d.bare().args(["new", name]).output().unwrap().into();
        assert!(run.stdout.contains(&format!("{today}.{number}_{name}.sql")), "{}{}", run.stdout, run.stderr);
    }
    // sql-migrate's files named with a dash (breadth trial: mochi-api's `20220412135505-init.sql`).
    let s = Project::new("cfg_new_sqlmigrate");
    s.write("20220412135505-init.sql", "-- +migrate Up\nselect 1;\n-- +migrate Down\nselect 1;\n");
    let run: Run = s.bare().args(["new", "add guild motto"]).output().unwrap().into();
    assert!(run.stdout.contains("-add-guild-motto.sql"), "{}{}", run.stdout, run.stderr);
    // Timestamps continue as timestamps.
    let t = Project::new("cfg_new_ts");
    t.write("20240101000000_a.sql", "select 1;");
    let run: Run = t.bare().args(["new", "b"]).output().unwrap().into();
    let created = run.stdout.trim().rsplit('/').next().unwrap().to_string();
    assert_eq!(created.len(), "20261125000000_b.sql".len(), "{created}");
    assert!(created.as_str() > "20240101000000_a.sql");
    // To the minute where the directory is (some dbmate projects'): a 14-digit one would sort
    // after every later minute-stamped file.
    let m = Project::new("cfg_new_minutes");
    m.write("202508140123_a.sql", "select 1;");
    let run: Run = m.bare().args(["new", "b"]).output().unwrap().into();
    let created = run.stdout.trim().rsplit('/').next().unwrap().to_string();
    assert_eq!(created.len(), "202611250000_b.sql".len(), "{created}");
    assert!(created.as_str() > "202508140123_a.sql");
    // diesel folders and Flyway names too.
    let d = Project::new("cfg_new_diesel");
    d.write("2017-09-23-182408_a/up.sql", "select 1;");
    let run: Run = d.bare().args(["new", "b"]).output().unwrap().into();
    assert!(run.stdout.contains("_b/up.sql") && run.stdout.contains("_b/down.sql"), "{}", run.stdout);
    assert!(!run.stdout.contains("-0000_b"), "{}", run.stdout);
    // diesel 2.3's `-0000` spelling, where the newest folder has it.
    let d3 = Project::new("cfg_new_diesel_23");
    d3.write("2024-10-25-112826-0000_c/up.sql", "select 1;");
    let run: Run = d3.bare().args(["new", "e"]).output().unwrap().into();
    assert!(run.stdout.contains("-0000_e/up.sql"), "{}", run.stdout);
    let f = Project::new("cfg_new_flyway");
    f.write("V1__a.sql", "select 1;");
    let run: Run = f.bare().args(["new", "b"]).output().unwrap().into();
    assert!(run.stdout.contains("V2__b.sql"), "{}", run.stdout);
    // Numbered in parts, the last part goes on, as the newest is written.
    let g = Project::new("cfg_new_flyway_parts");
    g.write("V1_9__a.sql", "select 1;");
    let run: Run = g.bare().args(["new", "b"]).output().unwrap().into();
    assert!(run.stdout.contains("V1_10__b.sql"), "{}", run.stdout);
    // Every created file loads.
    for project in [&p, &q, &t, &m, &d, &d3, &f, &g] {
        let run: Run = project.bare().arg("validate").output().unwrap().into();
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

/// In a directory of up/down pairs (golang-migrate, sqlx), `new` writes the pair, as those tools'
/// own `create` do; where the pairs have no downs, the up alone.
#[test]
fn new_writes_both_files_of_a_pair() {
    let p = Project::new("cfg_new_pair_both");
    p.write("0001_x.up.sql", "CREATE TABLE x (id int);\n");
    p.write("0001_x.down.sql", "DROP TABLE x;\n");
    let run: Run = p.bare().args(["new", "add y"]).output().unwrap().into();
    snapshot!("new_writes_both_files_of_a_pair", shown(&p, &run));
    let down = std::fs::read_to_string(p.migrations().join("0002_add_y.down.sql")).unwrap();
    assert_eq!(down, "-- down: add y\n\n");
    let run: Run = p.bare().arg("validate").output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);

    let q = Project::new("cfg_new_pair_up_only");
    q.write("0001_x.up.sql", "CREATE TABLE x (id int);\n");
    let run: Run = q.bare().args(["new", "add y"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!q.migrations().join("0002_add_y.down.sql").exists(), "{}", run.stdout);
    assert!(q.migrations().join("0002_add_y.up.sql").exists(), "{}", run.stdout);
}

#[test]
fn a_least_privilege_role_can_migrate_its_schema() {
    let p = Project::new("cfg_leastpriv");
    let role = format!("app_{}", p.db.name);
    p.psql(&format!("CREATE ROLE {role} LOGIN; GRANT USAGE, CREATE ON SCHEMA public TO {role};"));
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    let url = p.db.url.replacen("postgres@", &format!("{role}@"), 1);
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "a role without CREATE on the database still migrates: {}", run.stderr);
    assert_eq!(p.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'shale_migrations'"), role);
}

/// Another tool's history a baseline left, which the deploy role may not read: a no-op `up` reads
/// it for a warning only, and says nothing of it (review: it failed on every start).
#[test]
fn a_no_op_up_passes_over_a_history_the_role_may_not_read() {
    let p = Project::new("cfg_unreadable_history");
    let role = format!("app_{}", p.db.name);
    p.psql(&format!(
        "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role};
         CREATE TABLE a (id int);
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('a1')"
    ));
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.shale(&["baseline", "001", "--force", "--reason", "built by Alembic"]).ok();
    p.psql(&format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}; REVOKE ALL ON alembic_version FROM {role}"
    ));
    let url = p.db.url.replacen("postgres@", &format!("{role}@"), 1);
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("nothing to apply"), "{}", run.stdout);
}

/// A team's first migration is often the live schema as pg_dump writes it: with its `SET` lines,
/// its empty search_path and, in recent releases, its `\restrict` lines. It applies as it is,
/// and the migrations after it find their tables where they expect them.
#[test]
fn a_schema_dump_applies_as_the_first_migration() {
    let source = Project::new("cfg_dump_source");
    source.psql(
        "CREATE TYPE mood AS ENUM ('ok', 'meh');
         CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, mood mood, tags text[]);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();",
    );
    let pg_dump = shale_testkit::shared_cluster().binaries().program("pg_dump");
    let dump = std::process::Command::new(pg_dump)
        .args(["--schema-only", "--no-owner", "-d", &source.db.url])
        .output()
        .unwrap();
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let p = Project::new("cfg_dump_first");
    // With its rows after it, past pg_dump's closing `\unrestrict` line (qualified: the dump empties
    // the search_path for the rest of the file, as psql would run it).
    let rows =
        "INSERT INTO public.users (email) VALUES ('first@example.com');\n\\unrestrict k\nUPDATE public.users SET tags = '{a}';\n";
    p.write("0001_baseline.sql", &format!("{}\n{rows}", String::from_utf8(dump.stdout).unwrap()));
    p.write("0002_note.sql", "ALTER TABLE users ADD COLUMN note text;");
    // Rows written as a dump's tail, `\unrestrict` and all, with nothing else in the file: sent
    // statement by statement, as the line cannot reach the server.
    p.write(
        "0003_rows.sql",
        "INSERT INTO users (email) VALUES ('second@example.com');\n\\unrestrict k\nUPDATE users SET note = 'n';\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(
        p.psql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'note'"),
        "1"
    );
    assert_eq!(
        p.psql(
            "SELECT string_agg(email || ' ' || coalesce(tags::text, '-') || ' ' || note, ', ' ORDER BY id) FROM users"
        ),
        "first@example.com {a} n, second@example.com - n"
    );
}

#[test]
fn backup_before_applying_and_refuse_without_a_fit_pg_dump() {
    let p = Project::new("cfg_backup");
    p.write("001_a.sql", "CREATE TABLE a (id int); INSERT INTO a VALUES (42);");
    p.shale(&["up"]).ok();
    p.write("002_b.sql", "-- shale:allow destructive -- the backup below keeps the data\nDROP TABLE a;");
    let backups = p.path().join("backups");
    let run = p.shale(&["up", "--backup", backups.to_str().unwrap()]).ok();
    assert!(run.stderr.contains("restore with: pg_restore --clean --if-exists"), "{}", run.stderr);
    // The command printed restores it as printed (TLS trial: it carried `***` for a password).
    let restore = run.stderr.lines().find_map(|l| l.strip_prefix("restore with: ")).unwrap().to_string();
    assert!(!restore.contains("***"), "{restore}");
    let restored = std::process::Command::new("sh").arg("-c").arg(&restore).output().unwrap();
    assert!(restored.status.success(), "{restore}: {}", String::from_utf8_lossy(&restored.stderr));
    assert_eq!(p.psql("SELECT id FROM a"), "42");
    let dump = std::fs::read_dir(&backups).unwrap().next().unwrap().unwrap().path();
    assert!(dump.to_string_lossy().ends_with(".dump"));
    // All the data is in there: only its owner may read it.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777, 0o600);
    // The dump was taken before 002 ran: it still holds table a and its row.
    let pg_restore = shale_testkit::shared_cluster().binaries().program("pg_restore");
    let listing = std::process::Command::new(pg_restore).arg("--list").arg(&dump).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("TABLE public a ") && listing.contains("TABLE DATA public a "), "{listing}");

    // A pg_dump older than the server, or none at all: a clear error, and nothing is applied.
    p.write("003_c.sql", "CREATE TABLE c (id int);");
    let fake = p.path().join("old_pg_dump");
    std::fs::write(&fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = p.bare();
    cmd.env("SHALE_PG_DUMP", &fake).args(["--database-url", &p.db.url, "up", "--backup", "b2"]);
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("backup failed, so nothing was applied"), "{}", run.stderr);
    assert!(run.stderr.contains("older than the PostgreSQL"), "{}", run.stderr);
    let mut cmd = p.bare();
    cmd.env("SHALE_PG_DUMP", "/nonexistent/pg_dump").args(["--database-url", &p.db.url, "up", "--backup", "b2"]);
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("install the PostgreSQL client tools"), "{}", run.stderr);
    assert!(!p.tables().contains(&"c".to_string()));
    // With --log-format json, each line a JSON event (the package trial: the backup's two lines
    // were text among the events).
    let run = p.shale(&["up", "--backup", backups.to_str().unwrap(), "--log-format", "json"]).ok();
    let events: Vec<serde_json::Value> =
        run.stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let written = events.iter().find(|e| e["event"] == "backup_written").expect("a backup_written event");
    assert!(written["file"].as_str().is_some_and(|f| f.ends_with(".dump")), "{written}");
    assert!(written["message"].as_str().is_some_and(|m| m.starts_with("backup written to")), "{written}");
    assert!(events.iter().any(|e| e["event"] == "backup_restore_command"), "{}", run.stderr);
    assert!(p.tables().contains(&"c".to_string()));
}

#[test]
fn dev_server_lifecycle() {
    let p = Project::new("cfg_dev");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    let dev = |args: &[&str]| -> Run { p.bare().args(args).output().unwrap().into() };
    let started = dev(&["dev", "start"]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let url = started.stdout.trim().to_string();
    // Over the unix socket in the project folder, the one way in: nothing listens on TCP, where
    // any local user could connect as the superuser.
    assert!(url.starts_with("postgresql://postgres@%2F") && url.contains("%2F.shale%2Fdev:"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().split('/').next().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the dev server listens on 127.0.0.1:{port}");
    assert_eq!(dev(&["dev", "url"]).stdout.trim(), url, "the URL is stable");
    assert_eq!(dev(&["dev", "status", "--json"]).json()["running"], true);
    dev(&["--dev", "up"]).ok();
    assert!(dev(&["--dev", "status"]).ok().stdout.contains("applied"));
    // psql on it, with psql's own arguments after it.
    let psql = dev(&["dev", "psql", "-X", "-A", "-t", "-c", "SELECT count(*) FROM a"]).ok();
    assert_eq!(psql.stdout.trim(), "0", "{}", psql.stderr);
    assert_eq!(dev(&["dev", "stop"]).ok().stdout.trim(), "stopped");
    let stopped = dev(&["dev", "status"]);
    assert_eq!(stopped.code, 1);
    assert!(stopped.stdout.contains("not running"));
    // Restarted, it keeps its data and its URL.
    assert_eq!(dev(&["dev", "start"]).ok().stdout.trim(), url);
    assert!(dev(&["--dev", "up"]).ok().stdout.contains("nothing to apply"));
    dev(&["dev", "stop"]).ok();
}

#[test]
fn secrets_in_a_bad_env_file_or_config_are_never_shown() {
    let p = Project::new("cfg_secrets");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    let run_with = |args: &[&str]| -> Run { p.bare().args(args).output().unwrap().into() };
    // A .env line that does not parse: its file and line, not its content.
    std::fs::write(p.path().join(".env"), "APP=1\nPGPASSWORD='Top Secret PW\n").unwrap();
    let cases = [
        ("bad_env_line", &["status"][..]),
        ("bad_env_line_json", &["--json", "status"]),
        ("bad_env_line_with_a_url", &["--database-url", &p.db.url, "status"]),
    ];
    for (name, args) in cases {
        let run = run_with(args);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("Secret"), "{args:?}: the password is shown: {all}");
        snapshot!(name, shown(&p, &run));
    }
    std::fs::write(p.path().join(".env"), "DATABASE_URL=\"postgres://app:hunter2@db.example/app\nOTHER=1\n").unwrap();
    let run = run_with(&["--json", "status"]);
    assert!(!format!("{}{}", run.stdout, run.stderr).contains("hunter2"), "{}{}", run.stdout, run.stderr);
    // An unquoted value with spaces reads as python-dotenv and Node's dotenv read it (live
    // re-check: refused).
    std::fs::write(p.path().join(".env"), "GREETING=hello world # a note\nexport APP_NAME = my app\n").unwrap();
    let run = run_with(&["status"]);
    assert!(!run.stderr.contains("is not `KEY=value`"), "{}", run.stderr);
    std::fs::remove_file(p.path().join(".env")).unwrap();

    // database_url_env holding a URL by mistake.
    std::fs::write(
        p.path().join("shale.toml"),
        "dir = \"migrations\"\ndatabase_url_env = \"postgres://app:hunter2@db/app\"\n",
    )
    .unwrap();
    let run = run_with(&["status"]);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    snapshot!("database_url_env_holding_a_url", shown(&p, &run));

    // A history table name that PostgreSQL would cut short onto itself with `_lock`.
    let long = "h".repeat(59);
    std::fs::write(p.path().join("shale.toml"), format!("history_table = \"{long}\"\n")).unwrap();
    snapshot!("history_table_too_long", shown(&p, &p.shale(&["up"])));
    std::fs::remove_file(p.path().join("shale.toml")).unwrap();

    // A password on the command line: warned about once.
    let with_password = p.db.url.replacen("postgres@", "postgres:pw@", 1);
    let run = run_with(&["--database-url", &with_password, "status"]);
    assert_eq!(run.stderr.matches("can be read by other users of this machine").count(), 1, "{}", run.stderr);
    // So is one in --dev-url (Django trial: not said).
    let dev_with_password = shale_testkit::shared_cluster().url("postgres").replacen("postgres@", "postgres:pw@", 1);
    let run = p.shale(&["drift", "--dev-url", &dev_with_password]);
    assert!(run.stderr.contains("the password in --dev-url can be read by other users"), "{}", run.stderr);
}

#[test]
fn the_migration_lock_wait_is_migration_lock_wait_and_the_old_flag_warns() {
    let p = Project::new("cfg_lock_wait");
    p.write("001_slow.sql", "SELECT pg_sleep(30);\n");
    let first = p.spawn(&["up"]);
    p.wait_running("pg_sleep(30)");
    let waited = |run: &Run, seconds: u32| {
        assert_eq!(run.code, 3, "{}", run.stderr);
        let text = format!("could not get the migration lock within {seconds}s");
        assert!(run.stderr.contains(&text), "{}", run.stderr);
    };
    let run = p.shale(&["up", "--migration-lock-wait", "1s"]);
    waited(&run, 1);
    assert!(!run.stderr.contains("deprecated"), "{}", run.stderr);
    // The hint names the flag by its new name.
    assert!(run.stderr.contains("raise --migration-lock-wait (migration_lock_wait in shale.toml)"), "{}", run.stderr);
    // The former name means the same, with one warning line first.
    let run = p.shale(&["up", "--lock-timeout", "1s"]);
    waited(&run, 1);
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "warning: --lock-timeout is deprecated: use --migration-lock-wait; PostgreSQL's lock_timeout is set \
             with lock_timeout in shale.toml or --session-lock-timeout"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("deprecated").count(), 1, "{}", run.stderr);
    // The shale.toml key of the same name, which the flag overrides; `lock_timeout` there is
    // PostgreSQL's, and has nothing to do with it.
    std::fs::write(p.path().join("shale.toml"), "migration_lock_wait = \"2s\"\nlock_timeout = \"3s\"\n").unwrap();
    waited(&p.shale(&["up"]), 2);
    waited(&p.shale(&["up", "--migration-lock-wait", "1s"]), 1);
    // Both names at once is a usage error; the old one is not in the help.
    assert_eq!(p.shale(&["status", "--lock-timeout", "1s", "--migration-lock-wait", "1s"]).code, 2);
    let help = p.shale(&["up", "--help"]).ok().stdout;
    assert!(help.contains("--migration-lock-wait") && !help.contains("--lock-timeout"), "{help}");
    // Ends the first runner's migration, and with it the first runner.
    p.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
    );
    finish(first);
}

/// shale's own tables belong to their owner alone, whatever `ALTER DEFAULT PRIVILEGES` grants new
/// tables (a hosted database may grant every new table in `public` to the roles its web API runs
/// as): nobody else reads the migrations' SQL or changes the history. The migrations' own tables
/// get the defaults as the team set them, and a grant made on purpose afterwards stays.
#[test]
fn shale_s_own_tables_do_not_take_default_privileges() {
    let p = Project::new("own_tables_private");
    p.psql(
        "DO $$ BEGIN CREATE ROLE shale_test_api; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO shale_test_api;
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO shale_test_api;
         ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC",
    );
    std::fs::write(p.path().join("shale.toml"), "lock = \"table\"\n").unwrap();
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT has_table_privilege('shale_test_api', 't', 'DELETE')"), "t", "the defaults apply to t");
    let others = |relation: &str| {
        p.psql(&format!(
            "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = {relation}::regclass AND a.grantee <> c.relowner"
        ))
    };
    for relation in
        ["'shale_migrations'", "'shale_migrations_lock'", "pg_get_serial_sequence('shale_migrations', 'id')"]
    {
        assert_eq!(others(relation), "0", "{relation} is its owner's alone");
    }
    p.psql("GRANT SELECT ON shale_migrations TO shale_test_api");
    p.write("002_u.sql", "CREATE TABLE u (id int);");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT has_table_privilege('shale_test_api', 'shale_migrations', 'SELECT')"), "t");
}

/// A URL as dbmate and Go services write it (dbmate trial: each refused as unknown): dbmate's
/// `socket` for the unix socket's directory, the server settings lib/pq sends at connect, and
/// lib/pq's own flags.
#[test]
fn a_url_as_lib_pq_and_dbmate_write_it() {
    let p = Project::new("cfg_libpq_url");
    p.write("001_seen.sql", "CREATE TABLE seen AS SELECT current_setting('TimeZone') AS zone;\n");
    let cluster = shale_testkit::shared_cluster();
    let socket: String = cluster
        .socket_dir()
        .to_string_lossy()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    // The host named is never tried: the socket stands for it, as dbmate reads it.
    let url = format!(
        "{}?socket={socket}&timezone=Asia%2FTokyo&binary_parameters=yes",
        cluster.tcp_url(&p.db.name).replace("127.0.0.1", "nowhere.invalid")
    );
    let run = finish(p.spawn_via(&url, &["up"]));
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(p.psql("SELECT zone FROM seen"), "Asia/Tokyo");
}

/// `search_path` in shale.toml is the sessions' (graphile-migrate's `.gmrc` `pgSettings`): an
/// unqualified table lands in its first schema, on the database and where drift and check replay
/// the migrations; the history stays in `public`; a connection string's own wins (graphile trial:
/// a fresh database got `public.tags` where graphile-migrate made `app_public.tags`).
#[test]
fn search_path_in_shale_toml_is_the_sessions() {
    let p = Project::new("cfg_search_path");
    std::fs::write(p.path().join("shale.toml"), "search_path = \"app_public, public\"\n").unwrap();
    p.write("000001.sql", "CREATE SCHEMA app_public;\n");
    p.write("000002.sql", "CREATE TABLE tags (id int);\n");
    p.write("000003.sql", "ALTER TABLE app_public.tags ADD COLUMN name text;\n");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('app_public.tags') IS NOT NULL, to_regclass('public.tags') IS NULL"), "t|t");
    assert_eq!(p.psql("SELECT count(*) FROM public.shale_migrations"), "3");
    let dev = shale_testkit::shared_cluster().url("postgres");
    let drift = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(drift.stdout.contains("no drift"), "{}{}", drift.stdout, drift.stderr);
    p.shale(&["check", "--dev-url", &dev]).ok();
    // The URL's own search_path wins.
    let mut url = p.db.url.clone();
    url.push_str(if url.contains('?') { "&" } else { "?" });
    url.push_str("search_path=public");
    p.write("000004.sql", "CREATE TABLE notes (id int);\n");
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('public.notes') IS NOT NULL"), "t");

    // Through a transaction-mode pooler that drops startup options, set again in each migration
    // (review: the tables went to `public`); a migration outside a transaction is refused there.
    let bouncer = shale_testkit::Pgbouncer::start(shale_testkit::shared_cluster(), "transaction").unwrap();
    let pooled = bouncer.url(shale_testkit::shared_cluster(), &p.db.name);
    p.write("000005.sql", "CREATE TABLE labels (id int);\n");
    let run: Run = p.bare().args(["--database-url", &pooled, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('app_public.labels') IS NOT NULL"), "t");
    p.write("000006.sql", "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY labels_id ON labels (id);\n");
    let run: Run = p.bare().args(["--database-url", &pooled, "up"]).output().unwrap().into();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("did not keep the one shale sets at connection time"), "{}", run.stderr);
    std::fs::remove_file(p.migrations().join("000006.sql")).unwrap();

    // A fleet's targets from a file, whose URLs give none, get it too (review).
    let targets = p.path().join("targets.toml");
    std::fs::write(&targets, format!("[targets]\none = {:?}\n", p.db.url)).unwrap();
    p.write("000007.sql", "CREATE TABLE tags2 (id int);\n");
    let run: Run = p.bare().args(["--targets", targets.to_str().unwrap(), "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('app_public.tags2') IS NOT NULL"), "t");

    // A search_path in the URL's `options` wins over shale.toml's (re-check).
    std::fs::write(p.path().join("shale.toml"), "search_path = \"app_public, public\"\n").unwrap();
    let mut url = p.db.url.clone();
    url.push_str(if url.contains('?') { "&" } else { "?" });
    url.push_str("options=-csearch_path%3Dpublic");
    p.write("000008.sql", "CREATE TABLE optioned (id int);\n");
    let run: Run = p.bare().args(["--database-url", &url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('public.optioned') IS NOT NULL"), "t");

    // A file run outside a transaction that sets its own search_path keeps it for all its
    // statements, in blocks or not (operator trial: split across two schemas, and failed).
    p.write(
        "000009.sql",
        "-- shale:no-transaction\nSET search_path = public;\nCREATE TABLE nt_pub (id int);\nCREATE INDEX CONCURRENTLY nt_pub_idx ON nt_pub (id);\n",
    );
    let run: Run = p.bare().args(["--database-url", &p.db.url, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('public.nt_pub') IS NOT NULL"), "t");
    // A search_path in the URL's options is set again in each migration, through the pooler too
    // (reviews: lost there, and the tables went to the role's schema).
    p.psql("CREATE SCHEMA other");
    let mut optioned = pooled.clone();
    optioned.push_str(if optioned.contains('?') { "&" } else { "?" });
    optioned.push_str("options=-csearch_path%3Dother");
    p.write("000010.sql", "CREATE TABLE in_other (id int);\n");
    let run: Run = p.bare().args(["--database-url", &optioned, "up"]).output().unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(p.psql("SELECT to_regclass('other.in_other') IS NOT NULL"), "t");

    // A list the server would not read is refused where it is written.
    for bad in ["app public", ""] {
        std::fs::write(p.path().join("shale.toml"), format!("search_path = {bad:?}\n")).unwrap();
        let run: Run = p.bare().args(["--database-url", &p.db.url, "status"]).output().unwrap().into();
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(run.stderr.contains("is not a list of schema names"), "{}", run.stderr);
    }
}

/// `init` in a graphile-migrate project writes what its `.gmrc` (JSON5) gives the migrations into
/// shale.toml: `pgSettings`'s search_path, and the placeholders' values (graphile trial: a fresh
/// database got `public.tags` where graphile-migrate made `app_public.tags`, and `status` stopped
/// on an unfilled `:DATABASE_VISITOR`).
#[test]
fn init_takes_search_path_and_placeholders_from_gmrc() {
    let p = Project::new("cfg_init_gmrc");
    std::fs::write(
        p.path().join(".gmrc"),
        "{\n  // the starter's\n  \"pgSettings\": { \"search_path\": \"app_public,app_private,public\", \"statement_timeout\": \"60s\" },\n  \
         placeholders: { \":DATABASE_VISITOR\": \"public\", \":DATABASE_OWNER\": \"!ENV\", },\n  \
         afterReset: [\"afterReset.sql\", { _: \"command\", command: \"echo\" }],\n}\n",
    )
    .unwrap();
    let committed = p.path().join("migrations/committed");
    std::fs::create_dir_all(&committed).unwrap();
    std::fs::write(
        committed.join("000001.sql"),
        "--! Previous: -\n--! Hash: sha1:aaaa\n\ncreate schema app_public;\ngrant usage on schema app_public to :DATABASE_VISITOR;\n",
    )
    .unwrap();
    std::fs::write(
        committed.join("000002-tags.sql"),
        "--! Previous: sha1:aaaa\n--! Hash: sha1:bbbb\n\ncreate table tags (id int);\n",
    )
    .unwrap();
    let init: Run = p.bare().arg("init").output().unwrap().into();
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(init.stdout.contains("statement_timeout = \"60s\": .gmrc's pgSettings"), "{}", init.stdout);
    // Its afterReset SQL, which shale does not run, named with the way (third sweep: the indexer's).
    assert!(init.stdout.contains("note: .gmrc's afterReset runs afterReset.sql on a new database"), "{}", init.stdout);
    let toml = std::fs::read_to_string(p.path().join("shale.toml")).unwrap();
    assert!(toml.contains("\nsearch_path = \"app_public,app_private,public\"\n"), "{toml}");
    assert!(
        toml.contains("[placeholders]\n\"DATABASE_OWNER\" = \"!ENV\"\n\"DATABASE_VISITOR\" = \"public\"\n"),
        "{toml}"
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('app_public.tags') IS NOT NULL"), "t");
    // `shale new` names as graphile-migrate's `commit --message` does (graphile trial: `000003_post_likes.sql`).
    p.shale(&["new", "post_likes"]).ok();
    assert!(p.path().join("migrations/committed/000003-post-likes.sql").is_file());
    std::fs::remove_file(p.path().join("migrations/committed/000003-post-likes.sql")).unwrap();
    p.shale(&["new", "--reversible", "undo_me"]).ok();
    assert!(p.path().join("migrations/committed/000003-undo-me.down.sql").is_file());
    std::fs::remove_file(p.path().join("migrations/committed/000003-undo-me.sql")).unwrap();
    std::fs::remove_file(p.path().join("migrations/committed/000003-undo-me.down.sql")).unwrap();
    // Work left in current.sql is said (graphile trial: never mentioned).
    std::fs::write(p.path().join("migrations/current.sql"), "-- Enter migration here\ncreate table likes (id int);\n")
        .unwrap();
    let status = p.shale(&["status"]).ok();
    assert!(status.stderr.contains("current.sql holds graphile-migrate's uncommitted work"), "{}", status.stderr);
    // A file given to lint by name has its placeholders filled as loading fills them.
    let lint: Run = p.bare().args(["lint", "migrations/committed/000001.sql"]).output().unwrap().into();
    assert!(!lint.stderr.contains("syntax error"), "{}{}", lint.stdout, lint.stderr);

    // Timeouts are carried into shale.toml's keys (a number is milliseconds); a control character
    // is escaped; `.gmrc.js`, which shale does not read, is said (review, re-check).
    let q = Project::new("cfg_init_gmrc_more");
    std::fs::write(
        q.path().join(".gmrc"),
        "{ pgSettings: { statement_timeout: 30000, lock_timeout: '3s' }, placeholders: { ':GREETING': 'a\\nb' } }",
    )
    .unwrap();
    let init: Run = q.bare().arg("init").output().unwrap().into();
    assert_eq!(init.code, 0, "{}", init.stderr);
    let toml = std::fs::read_to_string(q.path().join("shale.toml")).unwrap();
    assert!(
        toml.contains("\nstatement_timeout = \"30000ms\"\n") && toml.contains("\nlock_timeout = \"3s\"\n"),
        "{toml}"
    );
    let status: Run = q.bare().args(["validate"]).output().unwrap().into();
    assert!(!status.stderr.contains("shale.toml:"), "shale.toml reads: {}", status.stderr);
    let r = Project::new("cfg_init_gmrc_js");
    std::fs::write(r.path().join(".gmrc.js"), "module.exports = { pgSettings: { search_path: 'app' } };\n").unwrap();
    let init: Run = r.bare().arg("init").output().unwrap().into();
    assert!(init.stdout.contains("note: .gmrc.js is JavaScript, which shale does not read"), "{}", init.stdout);
}

/// From the repository's root, graphile-migrate's folder deeper down and its `.gmrc` beside it
/// (graphile/starter's `@app/db`), and dbmate's files inside a `migrations/` of other things
/// (supabase/postgres' `migrations/db/migrations`) (breadth trial: the first found without its
/// placeholders, the second not found, and `migrations/` said to be created).
#[test]
fn init_finds_a_tool_s_folder_and_settings_deeper() {
    // Flyway's outOfOrder, set for a Spring application, carried into shale.toml (breadth trial:
    // hmcts' ccd-data-store-api applies older versions late, which `up` then refused).
    let spring = tempfile::tempdir().unwrap();
    let resources = spring.path().join("src/main/resources");
    std::fs::create_dir_all(resources.join("db/migration")).unwrap();
    std::fs::write(resources.join("db/migration/V1__init.sql"), "CREATE TABLE t (id int);\n").unwrap();
    std::fs::write(
        resources.join("application.properties"),
        "# flyway\nspring.flyway.out-of-order=true\njavers.sqlSchema=audit\nspring.flyway.schemas=prod,other\n\
         spring.flyway.placeholders.data_prefix=pivo_\nspring.flyway.placeholders.audit_schema=${javers.sqlSchema}\n\
         spring.flyway.placeholders.from_env=${DB_THING}\n",
    )
    .unwrap();
    let project = Project::new("cfg_init_flyway_ooo");
    let run = init_in(&project, spring.path());
    assert!(
        run.stdout.contains(
            "allow_out_of_order = true: Flyway's outOfOrder, set in src/main/resources/application.properties"
        ),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let toml = std::fs::read_to_string(spring.path().join("shale.toml")).unwrap();
    assert!(toml.contains("\nallow_out_of_order = true\n"), "{toml}");
    // Its placeholders and the schema `${flyway:defaultSchema}` stands for, a value Spring takes
    // from the same file resolved, one from the environment left (breadth trial: pivo-java).
    assert!(
        toml.contains("[placeholders]\n\"flyway:defaultSchema\" = \"prod\"\n\"data_prefix\" = \"pivo_\"\n\"audit_schema\" = \"audit\"\n"),
        "{toml}"
    );
    assert!(!toml.contains("from_env"), "{toml}");

    let p = Project::new("cfg_init_deeper");
    let db = p.path().join("@app/db");
    std::fs::create_dir_all(db.join("migrations/committed")).unwrap();
    std::fs::write(db.join(".gmrc"), "{ placeholders: { \":DATABASE_OWNER\": \"!ENV\" } }\n").unwrap();
    std::fs::write(
        db.join("migrations/committed/000001.sql"),
        "--! Previous: -\n--! Hash: sha1:aaaa\n\ncreate table t (id int);\nalter table t owner to :DATABASE_OWNER;\n",
    )
    .unwrap();
    let init: Run = p.bare().arg("init").output().unwrap().into();
    assert!(init.stdout.contains("dir = \"@app/db/migrations/committed\""), "{}{}", init.stdout, init.stderr);
    let toml = std::fs::read_to_string(p.path().join("shale.toml")).unwrap();
    assert!(toml.contains("\"DATABASE_OWNER\" = \"!ENV\""), "{toml}");

    let q = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(q.path().join("migrations/db/migrations")).unwrap();
    std::fs::create_dir_all(q.path().join("migrations/tests")).unwrap();
    std::fs::write(q.path().join("migrations/README.md"), "# how we migrate\n").unwrap();
    std::fs::write(q.path().join("migrations/tests/test.sql"), "select 1;\n").unwrap();
    std::fs::write(
        q.path().join("migrations/db/migrations/20211115181400_init.sql"),
        "-- migrate:up\ncreate table t (id int);\n\n-- migrate:down\n",
    )
    .unwrap();
    let run = init_in(&p, q.path());
    assert!(
        run.stdout.contains("dir = \"migrations/db/migrations\", where dbmate keeps"),
        "{}{}",
        run.stdout,
        run.stderr
    );

    // tern's files deeper down, known by the line between up and down, though its first file has
    // none (breadth trial: otf's `internal/sql/migrations`, not found: every command a no-op).
    let tern = tempfile::tempdir().unwrap();
    let dir = tern.path().join("internal/sql/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("001_init.sql"), "CREATE TABLE a (id int);\n").unwrap();
    std::fs::write(
        dir.join("002_b.sql"),
        "CREATE TABLE b (id int);\n---- create above / drop below ----\nDROP TABLE b;\n",
    )
    .unwrap();
    let run = init_in(&p, tern.path());
    assert!(run.stdout.contains("dir = \"internal/sql/migrations\", where tern keeps"), "{}{}", run.stdout, run.stderr);

    // A JVM project keeping Flyway files for H2 beside PostgreSQL's, 8 folders down: PostgreSQL's
    // (breadth trial: docspell's `h2/` was chosen, and from the root none was found).
    let jvm = tempfile::tempdir().unwrap();
    for dialect in ["h2", "postgresql"] {
        let dir = jvm.path().join("modules/store/src/main/resources/db/migration").join(dialect);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("V1__init.sql"), "CREATE TABLE a (id int);\n").unwrap();
    }
    let run = init_in(&p, jvm.path());
    assert!(
        run.stdout.contains("dir = \"modules/store/src/main/resources/db/migration/postgresql\", where Flyway keeps"),
        "{}{}",
        run.stdout,
        run.stderr
    );

    // A Sqitch project inside the one chosen, named (breadth trial: chef-server's `baseline/`).
    let sqitch = tempfile::tempdir().unwrap();
    let schema = sqitch.path().join("src/schema");
    std::fs::create_dir_all(schema.join("baseline/deploy")).unwrap();
    std::fs::create_dir_all(schema.join("deploy")).unwrap();
    std::fs::write(schema.join("sqitch.plan"), "%project=app\na 2024-01-01T00:00:00Z M <m@x>\n").unwrap();
    std::fs::write(schema.join("deploy/a.sql"), "CREATE TABLE a (id int);\n").unwrap();
    std::fs::write(schema.join("baseline/sqitch.plan"), "%project=base\nb 2024-01-01T00:00:00Z M <m@x>\n").unwrap();
    std::fs::write(schema.join("baseline/deploy/b.sql"), "CREATE TABLE b (id int);\n").unwrap();
    let run = init_in(&p, sqitch.path());
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("dir = \"src/schema\", where Sqitch keeps"), "{said}");
    assert!(said.contains("other Sqitch projects inside it: src/schema/baseline;"), "{said}");

    // goose's WithAllowMissing() in the project's Go code carried as allow_out_of_order (breadth
    // trial: thunderdome's branch migration refused by `up`).
    let goose = tempfile::tempdir().unwrap();
    let dir = goose.path().join("internal/db/migrations");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("00001_a.sql"), "-- +goose Up\nCREATE TABLE a (id int);\n").unwrap();
    std::fs::create_dir_all(goose.path().join("cmd/migrate")).unwrap();
    std::fs::write(
        goose.path().join("cmd/migrate/main.go"),
        "package main\n\nfunc main() { goose.Up(db, \"migrations\", goose.WithAllowMissing()) }\n",
    )
    .unwrap();
    let run = init_in(&p, goose.path());
    assert!(
        run.stdout.contains("goose's WithAllowMissing(), passed in cmd/migrate/main.go"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let toml = std::fs::read_to_string(goose.path().join("shale.toml")).unwrap();
    assert!(toml.contains("\nallow_out_of_order = true\n"), "{toml}");

    // Of several folders of migrations, the main history (most entries), the others named; one
    // written for ClickHouse is none (bun re-check: trigger.dev's side drizzle database, uptrace's
    // `chmigrations` beside its bun `pgmigrations`).
    let several = tempfile::tempdir().unwrap();
    let files = [
        ("internal-packages/agent-db/drizzle/0000_init.sql", "CREATE TABLE runs (id int);\n"),
        (
            "internal-packages/agent-db/drizzle/meta/_journal.json",
            r#"{"version":"7","dialect":"postgresql","entries":[]}"#,
        ),
        ("internal-packages/database/prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n"),
        ("internal-packages/database/prisma/migrations/20240101000000_a/migration.sql", "CREATE TABLE a (id int);\n"),
        ("internal-packages/database/prisma/migrations/20240102000000_b/migration.sql", "CREATE TABLE b (id int);\n"),
        ("internal-packages/database/prisma/migrations/20240103000000_c/migration.sql", "CREATE TABLE c (id int);\n"),
        (
            "pkg/bunapp/chmigrations/20211205231031_initial.up.sql",
            "CREATE TABLE spans (id UInt64) ENGINE = MergeTree() ORDER BY id;\n",
        ),
    ];
    for (file, text) in files {
        let path = several.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let run = init_in(&p, several.path());
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("dir = \"internal-packages/database/prisma/migrations\", where Prisma keeps"), "{said}");
    assert!(said.contains("other migrations here: internal-packages/agent-db/drizzle (drizzle-kit's)"), "{said}");
    assert!(!said.contains("chmigrations"), "{said}");

    // Flyway's Java migrations in the project's sources, which shale neither sees nor runs: said
    // (breadth trial: Marquez's views, missing from every database shale built).
    let java = tempfile::tempdir().unwrap();
    let sql = java.path().join("api/src/main/resources/marquez/db/migration");
    let code = java.path().join("api/src/main/java/marquez/db/migrations");
    std::fs::create_dir_all(&sql).unwrap();
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(sql.join("V1__init.sql"), "CREATE TABLE runs (id int);\n").unwrap();
    std::fs::write(code.join("V56_1__FacetViews.java"), "class V56_1__FacetViews {}\n").unwrap();
    // Named with one underscore, its version from `getVersion()`; and a test's class, no migration.
    std::fs::write(code.join("V44_3_BackfillJobsWithParents.java"), "class V44_3_BackfillJobsWithParents {}\n")
        .unwrap();
    let tests = java.path().join("api/src/test/java/marquez/db/migrations");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::write(tests.join("V57_1__BackfillFacetsTest.java"), "class T {}\n").unwrap();
    let run = init_in(&p, java.path());
    assert!(
        run.stdout.contains("dir = \"api/src/main/resources/marquez/db/migration\""),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        format!("{}{}", run.stdout, run.stderr)
            .contains("Flyway's migrations in code: api/src/main/java/marquez/db/migrations/V44_3_BackfillJobsWithParents.java and api/src/main/java/marquez/db/migrations/V56_1__FacetViews.java:"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

/// A file run outside a transaction keeps its own session settings: its `SET search_path` past a
/// CONCURRENTLY statement and when resumed part-way, its `SET ROLE` while shale records its
/// progress (review and operator re-check: the tables after a CONCURRENTLY one, or after a
/// resume, went to shale's schema; a `SET ROLE` made its progress unrecordable for good).
#[test]
fn a_file_outside_a_transaction_keeps_its_own_settings() {
    let p = Project::new("cfg_notx_own_settings");
    std::fs::write(p.path().join("shale.toml"), "search_path = \"app, public\"\n").unwrap();
    p.psql(
        "CREATE SCHEMA app; CREATE SCHEMA other;
         DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cfg_notx_maker') THEN CREATE ROLE cfg_notx_maker; END IF; END $$;
         GRANT USAGE, CREATE ON SCHEMA public TO cfg_notx_maker;",
    );
    p.write(
        "001_around.sql",
        "-- shale:no-transaction\nSET search_path = public;\nCREATE TABLE a1 (id int);\nCREATE INDEX CONCURRENTLY a1_idx ON a1 (id);\nCREATE TABLE a2 (id int);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT string_agg(relnamespace::regnamespace || '.' || relname, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('a1', 'a2')"), "public.a1,public.a2");
    p.write(
        "002_resumed.sql",
        "-- shale:no-transaction\nSET search_path = other;\nCREATE TABLE r1 (id int);\nINSERT INTO other.need_me VALUES (1);\nCREATE TABLE r2 (id int);\n",
    );
    assert_ne!(p.shale(&["up"]).code, 0);
    p.psql("CREATE TABLE other.need_me (id int)");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT to_regclass('other.r2') IS NOT NULL AND to_regclass('app.r2') IS NULL"), "t");
    p.write(
        "003_role.sql",
        "-- shale:no-transaction\nSET ROLE cfg_notx_maker;\nCREATE TABLE public.owned (id int);\nCREATE INDEX CONCURRENTLY owned_id ON public.owned (id);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"), "cfg_notx_maker");
    // Its session's user too, in a transaction or out of one (re-check: the history unwritable).
    p.psql("GRANT cfg_notx_maker TO CURRENT_USER");
    p.write("004_auth.sql", "SET SESSION AUTHORIZATION cfg_notx_maker;\nCREATE TABLE public.auth_t (id int);\n");
    p.write(
        "005_auth_notx.sql",
        "-- shale:no-transaction\nSET SESSION AUTHORIZATION cfg_notx_maker;\nCREATE TABLE public.auth_n (id int);\nCREATE INDEX CONCURRENTLY auth_n_id ON public.auth_n (id);\n",
    );
    p.shale(&["up"]).ok();
    assert_eq!(
        p.psql("SELECT string_agg(tableowner, ',' ORDER BY tablename) FROM pg_tables WHERE tablename IN ('auth_t', 'auth_n')"),
        "cfg_notx_maker,cfg_notx_maker"
    );
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations WHERE status = 'succeeded'"), "5");

    // Through a pooler that hands statements to any server session, a file outside a transaction
    // that sets the session itself is refused before anything runs (re-check: its SETs reached
    // the application's sessions, and its tables went elsewhere).
    let bouncer = shale_testkit::Pgbouncer::start(shale_testkit::shared_cluster(), "transaction").unwrap();
    let pooled = bouncer.url(shale_testkit::shared_cluster(), &p.db.name);
    p.write(
        "006_pooled.sql",
        "-- shale:no-transaction\nSET work_mem = '8MB';\nCREATE TABLE public.pooled (id int);\nCREATE INDEX CONCURRENTLY pooled_id ON public.pooled (id);\n",
    );
    for args in [&["up"][..], &["up", "--dry-run"]] {
        let run: Run = p.bare().args(["--database-url", &pooled]).args(args).output().unwrap().into();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("006_pooled.sql:2: migration 006 pooled runs outside a transaction and changes the session's settings itself"), "{}", run.stderr);
    }
    assert_eq!(p.psql("SELECT to_regclass('public.pooled') IS NULL"), "t", "nothing ran");
}
