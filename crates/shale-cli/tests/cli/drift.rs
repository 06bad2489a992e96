//! `shale drift` on seed 002's story: the database was changed by hand; drift names each object.

use crate::common;

use common::{Project, Run};

#[test]
fn drift_names_each_object_that_differs() {
    let p = Project::new("drift");
    p.write(
        "001_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, password_hash text NOT NULL, role text NOT NULL DEFAULT 'personal_only');",
    );
    p.shale(&["up"]).ok();
    let clean = p.shale(&["drift"]).ok();
    assert!(clean.stdout.contains("no drift"), "{}", clean.stdout);

    // What seed 002 describes: the live table no longer matches the model.
    p.psql(
        "ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
         ALTER TABLE users ADD COLUMN username varchar(255);
         ALTER TABLE users ALTER COLUMN role SET DEFAULT 'admin';
         CREATE INDEX users_email ON users (email);",
    );
    let run = p.shale(&["drift", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["drifted"], true);
    let diff = |object: &str| {
        json["differences"].as_array().unwrap().iter().find(|d| d["object"] == object).cloned().unwrap_or_else(|| {
            panic!("no difference for {object}: {json}");
        })
    };
    assert_eq!(diff("column public.users.password_hash")["expected"], "text not null");
    assert_eq!(diff("column public.users.password_hash")["actual"], "text null");
    assert_eq!(diff("column public.users.username")["expected"], serde_json::Value::Null);
    assert_eq!(diff("column public.users.username")["actual"], "character varying(255) null");
    assert!(diff("column public.users.role")["actual"].as_str().unwrap().contains("'admin'"));
    assert!(diff("index public.users_email")["actual"].as_str().unwrap().contains("USING btree (email)"));
    assert_eq!(json["differences"].as_array().unwrap().len(), 4, "{json}");
    let human = p.shale(&["drift"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("4 difference(s)"), "{}", human.stdout);
    assert!(human.stdout.contains("(absent)"), "{}", human.stdout);

    // With --dev-url, the scratch database lives on that server and is dropped afterwards.
    let dev_url = shale_testkit::shared_cluster().url("postgres");
    let run = p.shale(&["drift", "--json", "--dev-url", &dev_url]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["differences"].as_array().unwrap().len(), 4);
    assert_eq!(common::scratch_databases_left(&[&run]), "0", "the scratch database was dropped");
}

/// Against an application's models that keep their defaults in code and carry no comments (an
/// ORM's DDL, Tortoise's), `--ignore defaults,comments` passes those over on both sides, where a
/// CI step could never pass (aerich re-check); what else differs is still said, and a fix writes
/// what one side alone has with its defaults (review: `ADD COLUMN ... NOT NULL` without its
/// `DEFAULT`, which fails on a table with rows).
#[test]
fn drift_passes_over_what_it_is_told_to_ignore() {
    let p = Project::new("drift_ignore");
    p.write(
        "001_books.sql",
        "CREATE TABLE books (id bigint PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n\
         COMMENT ON COLUMN books.title IS 'Название';\n",
    );
    p.shale(&["up"]).ok();
    std::fs::write(
        p.path().join("models.sql"),
        "CREATE TABLE books (id bigint PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL);\n",
    )
    .unwrap();
    let all = p.shale(&["drift", "--against", "models.sql"]);
    assert_eq!(all.code, 1, "{}", all.stdout);
    assert!(all.stdout.contains("2 difference(s)"), "{}", all.stdout);
    let passed = p.shale(&["drift", "--against", "models.sql", "--ignore", "defaults,comments"]).ok();
    assert!(passed.stdout.contains("no drift"), "{}", passed.stdout);
    let one = p.shale(&["drift", "--against", "models.sql", "--ignore", "defaults"]);
    assert!(one.stdout.contains("1 difference(s)") && one.stdout.contains("comment"), "{}", one.stdout);
    // A schema a library keeps for itself, left out (graphile trial: graphile-worker's, for good).
    p.psql("CREATE SCHEMA graphile_worker; CREATE TABLE graphile_worker.jobs (id int)");
    let worker = p.shale(&["drift", "--against", "models.sql", "--ignore", "defaults,comments"]);
    assert!(worker.stdout.contains("graphile_worker.jobs"), "{}", worker.stdout);
    let excluded = p.shale(&[
        "drift",
        "--against",
        "models.sql",
        "--ignore",
        "defaults,comments",
        "--exclude-schema",
        "graphile_worker",
    ]);
    assert!(excluded.stdout.contains("no drift"), "{}{}", excluded.stdout, excluded.stderr);
    p.psql("DROP SCHEMA graphile_worker CASCADE");
    // A table the models do not declare, with its partitions, index and trigger, left out (the
    // package trial: a partitioned log, 33 differences for good).
    p.psql(
        "CREATE TABLE usage_log (id bigserial, at date NOT NULL, n int) PARTITION BY RANGE (at);
         GRANT SELECT ON usage_log TO PUBLIC;
         CREATE TABLE usage_log_2026 PARTITION OF usage_log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE INDEX usage_log_at ON usage_log (at);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER usage_log_touch BEFORE INSERT ON usage_log_2026 FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE TABLE books_copy (id int)",
    );
    let log = ["drift", "--against", "models.sql", "--ignore", "defaults,comments", "--exclude-table", "usage_*"];
    let left = p.shale(&log);
    assert_eq!(left.code, 1, "{}", left.stdout);
    assert!(!left.stdout.contains("usage_log"), "{}", left.stdout);
    assert!(left.stdout.contains("books_copy"), "{}", left.stdout);
    let mut both = log.to_vec();
    both.extend(["--exclude-table", "public.books_copy,touch_never"]);
    assert!(p.shale(&both).stdout.contains("touch"), "a function is no table: still said");
    p.psql("DROP TABLE usage_log, books_copy; DROP FUNCTION touch()");
    p.psql(
        "ALTER TABLE books ADD COLUMN flag boolean NOT NULL DEFAULT false;
         CREATE TABLE audit (at timestamptz NOT NULL DEFAULT now())",
    );
    let fix = p.shale(&["drift", "--ignore", "defaults,comments", "--fix", "adopt_live", "--direction", "adopt"]);
    let written = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.to_string_lossy().contains("adopt_live") && !f.to_string_lossy().contains(".down."))
        .unwrap_or_else(|| panic!("{}{}", fix.stdout, fix.stderr));
    let sql = std::fs::read_to_string(written).unwrap();
    assert!(
        sql.contains("flag boolean DEFAULT false NOT NULL") || sql.contains("flag boolean NOT NULL DEFAULT false"),
        "{sql}"
    );
    assert!(sql.contains("DEFAULT now()"), "{sql}");
}

/// The history's own schema (`history_schema = "shale"`, as the Hasura section advises) is
/// shale's: no drift before the history is made there or after, no empty schema in a dump, and
/// baseline's check passes (Hasura re-check: `schema shale` was a difference, `--force` the way).
#[test]
fn the_history_s_own_schema_is_no_drift() {
    let p = Project::new("drift_history_schema");
    p.write("001_t.sql", "CREATE TABLE t (id int);\n");
    std::fs::write(p.path().join("shale.toml"), "history_schema = \"shale\"\n").unwrap();
    p.psql("CREATE TABLE t (id int)");
    let dev = shale_testkit::shared_cluster().url("postgres");
    let before = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(before.stdout.contains("no drift"), "{}", before.stdout);
    p.shale(&["baseline", "1", "--dev-url", &dev]).ok();
    assert_eq!(p.psql("SELECT to_regclass('shale.shale_migrations') IS NOT NULL"), "t");
    let after = p.shale(&["drift", "--dev-url", &dev]).ok();
    assert!(after.stdout.contains("no drift"), "{}", after.stdout);
    let dump = p.shale(&["dump"]).ok();
    assert!(!dump.stdout.contains("SCHEMA shale"), "{}", dump.stdout);
}

/// A migration that refers to something the migrations do not create (here golang-migrate's own
/// history table, as one of Harbor's does) fails when drift replays them on its throwaway database:
/// the error says so, where, and what to do, and does not read like a failure on the live database.
#[test]
fn a_migration_that_fails_in_the_replay_is_named_as_such() {
    let p = Project::new("drift_replay_fails");
    p.write("0001_project.up.sql", "CREATE TABLE project (id int PRIMARY KEY, name text);\n");
    p.write(
        "0002_upgrade.up.sql",
        "ALTER TABLE project ADD COLUMN deleted boolean;\n-- the tool's own table\nALTER TABLE schema_migrations ALTER COLUMN version TYPE bigint;\n",
    );
    // What golang-migrate made and ran.
    p.psql(
        "CREATE TABLE schema_migrations (version int NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);
         CREATE TABLE project (id int PRIMARY KEY, name text);
         ALTER TABLE project ADD COLUMN deleted boolean;
         ALTER TABLE schema_migrations ALTER COLUMN version TYPE bigint;",
    );
    p.shale(&["adopt"]).ok();
    let run = p.shale(&["drift"]);
    snapshot!("replay_fails", common::shown(&p, &run));
    let json = p.shale(&["drift", "--json"]);
    assert_eq!(json.code, 1, "{}", json.stdout);
    let json = json.json();
    assert_eq!((&json["replay"], &json["migration"]), (&true.into(), &"0002 upgrade".into()), "{json}");
    assert!(json["message"].as_str().unwrap().contains("nothing ran on your database"), "{json}");
    assert_eq!(p.psql("SELECT count(*) FROM project"), "0", "the live database is as it was");
}

/// A search_path of several schemas (a Rails `schema_search_path` of `app, public`): the replay
/// builds where unqualified names land there (`app`), looking names up the same way. It built in
/// `public`, so drift saw every object differ, and `down --generate` dropped `public.widgets`, a
/// table of the same name with data, instead of `app.widgets` (re-check trial).
#[test]
fn a_search_path_of_several_schemas_replays_in_the_first() {
    let p = Project::new("drift_two_schemas");
    p.psql("CREATE SCHEMA app; CREATE TABLE public.widgets (id bigint PRIMARY KEY, legacy text); INSERT INTO public.widgets VALUES (1, 'keep me')");
    p.write("0001_widgets.sql", "CREATE TABLE widgets (id bigint PRIMARY KEY);\n");
    let url = format!("{}&options=-csearch_path%3Dapp%2Cpublic", p.db.url);
    let on_app = |args: &[&str]| -> Run { p.bare().args(["--database-url", &url]).args(args).output().unwrap().into() };
    assert_eq!(on_app(&["up"]).code, 0);
    // The legacy table in public is what the migrations did not build; app's is theirs.
    let drift = on_app(&["drift"]);
    assert!(
        drift.stdout.contains("table public.widgets") && !drift.stdout.contains("app.widgets"),
        "{}{}",
        drift.stdout,
        drift.stderr
    );
    let down = on_app(&["down", "--step", "1", "--generate", "--allow-destructive"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    assert_eq!(p.psql("SELECT to_regclass('app.widgets') IS NULL"), "t", "app's table is the one reverted");
    assert_eq!(p.psql("SELECT legacy FROM public.widgets"), "keep me", "public's is left as it was");
}

/// Connected with search_path = app, migrations that make app themselves replay as they are: shale
/// does not make the schema first (the first one would fail), and unqualified names after it land
/// in app on both sides.
#[test]
fn a_replay_leaves_a_schema_the_migrations_make_to_them() {
    let p = Project::new("drift_home_made");
    p.write("0001_app.sql", "CREATE SCHEMA app;\nCREATE TABLE app.accounts (id bigint PRIMARY KEY);\n");
    p.write("0002_orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n");
    let url = format!("{}&options=-csearch_path%3Dapp", p.db.url);
    let on_app = |args: &[&str]| -> Run { p.bare().args(["--database-url", &url]).args(args).output().unwrap().into() };
    assert_eq!(on_app(&["up"]).code, 0);
    assert_eq!(p.psql("SELECT to_regclass('app.orders') IS NOT NULL"), "t");
    let drift = on_app(&["drift"]);
    assert!(drift.code == 0 && drift.stdout.contains("no drift"), "{}{}", drift.stdout, drift.stderr);
    // A dump of it, schema and all, compares the same way.
    let dump = on_app(&["dump"]);
    assert!(dump.stdout.contains("CREATE SCHEMA app"), "{}", dump.stdout);
    let schema = p.path().join("schema.sql");
    std::fs::write(&schema, &dump.stdout).unwrap();
    let against = on_app(&["drift", "--against", schema.to_str().unwrap()]);
    assert!(against.code == 0 && against.stdout.contains("no drift"), "{}{}", against.stdout, against.stderr);
    // As pg_dump 17.6 and later write it (dbmate's schema.sql too): `\restrict KEY` lines, for psql.
    std::fs::write(&schema, format!("\\restrict abc123\n{}\\unrestrict abc123\n", dump.stdout)).unwrap();
    let against = on_app(&["drift", "--against", schema.to_str().unwrap()]);
    assert!(against.code == 0 && against.stdout.contains("no drift"), "{}{}", against.stdout, against.stderr);
    // Adopting against another reference is refused, with the diff that writes that migration
    // (FastAPI trial: made against the models, the migration broke every fresh database).
    let adopt = on_app(&["drift", "--against", schema.to_str().unwrap(), "--fix", "x", "--direction", "adopt"]);
    assert_eq!(adopt.code, 2, "{}", adopt.stderr);
    assert!(adopt.stderr.contains("--write NAME`; to adopt what the live database has"), "{}", adopt.stderr);
}

/// A database one deploy behind is not drifted: the migrations it has not applied yet are left
/// out of the comparison, and named.
#[test]
fn migrations_not_applied_yet_are_not_drift() {
    let p = Project::new("drift_pending");
    p.write("001_a.sql", "CREATE TABLE a (id int);");
    p.write("002_b.sql", "CREATE TABLE b (id int);");
    p.write("003_c.sql", "CREATE TABLE c (id int);");
    p.shale(&["up", "--to", "1"]).ok();
    let run = p.shale(&["drift"]).ok();
    assert!(
        run.stdout.contains("no drift: the database matches what the 1 migration(s) applied there build"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("2 migration(s) not applied to this database") && run.stderr.contains("002 b, 003 c"),
        "{}",
        run.stderr
    );
    let json = p.shale(&["drift", "--json"]).ok().json();
    assert_eq!(json["not_applied"], serde_json::json!(["002 b", "003 c"]));
    // A fix would come after the pending ones: refused until they are applied.
    let fix = p.shale(&["drift", "--fix", "x", "--direction", "adopt"]);
    assert!(fix.code == 2 && fix.stderr.contains("apply them first"), "{}{}", fix.stdout, fix.stderr);
    // What the applied ones built is still compared: a table they made, dropped by hand, is drift.
    p.psql("DROP TABLE a");
    let run = p.shale(&["drift"]);
    assert!(run.code == 1 && run.stdout.contains("public.a"), "{}{}", run.stdout, run.stderr);
    // Applied, they are compared too.
    p.psql("CREATE TABLE a (id int)");
    p.shale(&["up"]).ok();
    let run = p.shale(&["drift"]).ok();
    assert!(
        run.stdout.contains("what the 3 migration(s) build") && !run.stderr.contains("note:"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

/// A `CREATE INDEX CONCURRENTLY` that failed on the live database (run by hand, or by another
/// tool) leaves an INVALID index of the same name: PostgreSQL never uses it, and a rerun of
/// `CREATE INDEX ... IF NOT EXISTS` skips it. drift reports it; the restore script builds it
/// again; dump writes it as a comment, as pg_dump leaves it out.
#[test]
fn an_invalid_index_is_drift_and_the_fix_builds_it_again() {
    let p = Project::new("drift_invalid_index");
    p.write("001_t.sql", "CREATE TABLE t (id int, v int);");
    p.write("002_t_v.sql", "-- shale:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v);");
    p.shale(&["up"]).ok();
    assert!(p.shale(&["drift"]).ok().stdout.contains("no drift"));

    p.psql("DROP INDEX t_v; INSERT INTO t VALUES (1, 1), (2, 1);");
    let failed = shale_testkit::shared_cluster().psql(&p.db.name, "CREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v)");
    assert!(failed.is_err(), "the duplicate makes the build fail");
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"), "f");

    let run = p.shale(&["drift", "--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let differences = json["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{json}");
    assert_eq!(differences[0]["object"], "index public.t_v");
    assert!(
        differences[0]["actual"]
            .as_str()
            .unwrap()
            .ends_with("(INVALID: left unfinished by a failed CREATE INDEX CONCURRENTLY)"),
        "{json}"
    );

    let dump = p.shale(&["dump"]).ok().stdout;
    assert!(
        dump.contains("-- INVALID, left unfinished by a failed CREATE INDEX CONCURRENTLY: CREATE UNIQUE INDEX t_v"),
        "{dump}"
    );

    p.shale(&["drift", "--fix", "rebuild_t_v", "--direction", "restore"]);
    let script = std::fs::read_to_string(p.path().join("rebuild_t_v.sql")).unwrap();
    let drop = script.find("DROP INDEX public.t_v;").unwrap_or_else(|| panic!("{script}"));
    let create =
        script.find("CREATE UNIQUE INDEX t_v ON public.t USING btree (v);").unwrap_or_else(|| panic!("{script}"));
    assert!(drop < create, "{script}");
    assert!(script.contains("INVALID: a failed CREATE INDEX CONCURRENTLY left it unfinished"), "{script}");
    // With the duplicate gone, the script makes the index valid and the drift goes.
    p.psql("DELETE FROM t WHERE id = 2");
    p.psql(&script);
    assert_eq!(p.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass"), "t");
    assert!(p.shale(&["drift"]).ok().stdout.contains("no drift"));
}

/// sqlx's table under a name of its own (`migrations_table`), in a schema made for it: taken over
/// with `adopt --table`, it is left out of drift as the default-named one is, its schema with it.
#[test]
fn a_history_taken_over_under_another_name_is_not_drift() {
    let p = Project::new("drift_renamed_history");
    p.write("20240101000000_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    p.psql(
        "CREATE TABLE users (id bigint PRIMARY KEY); CREATE SCHEMA meta;
         CREATE TABLE meta.app_migrations (version bigint PRIMARY KEY, description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, checksum bytea NOT NULL, execution_time bigint NOT NULL);
         INSERT INTO meta.app_migrations VALUES (20240101000000, 'users', now(), true, sha384(convert_to('CREATE TABLE users (id bigint PRIMARY KEY);' || chr(10), 'UTF8')), 1)",
    );
    p.shale(&["adopt", "--from", "sqlx", "--table", "meta.app_migrations"]).ok();
    let drift = p.shale(&["drift"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    assert!(drift.stderr.contains("meta.app_migrations (the history shale took over) is left out"), "{}", drift.stderr);
}

/// `now()`, `transaction_timestamp()` and `CURRENT_TIMESTAMP` are one function under three names:
/// no drift and no diff between them (FastAPI trial: models' `func.now()` against Alembic's
/// `text("CURRENT_TIMESTAMP")` were 72 of 106 differences, and `diff` wrote a `SET DEFAULT` each).
#[test]
fn the_current_time_under_another_name_is_no_drift() {
    let p = Project::new("drift_now");
    p.write(
        "001_events.sql",
        "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         day timestamp DEFAULT timezone('utc', CURRENT_TIMESTAMP), label text DEFAULT 'now()');",
    );
    p.shale(&["up"]).ok();
    p.psql(
        "ALTER TABLE events ALTER COLUMN at SET DEFAULT now();
         ALTER TABLE events ALTER COLUMN day SET DEFAULT (transaction_timestamp() AT TIME ZONE 'utc')",
    );
    let clean = p.shale(&["drift"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    let diff = p.shale(&["diff", "--from", &p.db.url, "--to", "migrations", "--exit-code"]);
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    // A literal that reads `now()` is itself, and another time is another default.
    p.psql(
        "ALTER TABLE events ALTER COLUMN label SET DEFAULT 'CURRENT_TIMESTAMP';
         ALTER TABLE events ALTER COLUMN at SET DEFAULT statement_timestamp()",
    );
    let run = p.shale(&["drift", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["differences"].as_array().unwrap().len(), 2, "{}", run.stdout);
    // `--exit-code`, as diff spells it, is what drift does anyway (FastAPI re-check: a usage error).
    assert_eq!(p.shale(&["drift", "--exit-code"]).code, 1);
}

/// Two projects on one database, each its own `history_table`: neither's history is the other's
/// schema (Django round 3: B's baseline made A's history table, and drift never came out clean).
#[test]
fn another_project_s_history_table_is_no_part_of_the_schema() {
    let p = Project::new("drift_two_histories");
    p.write("001_items.sql", "CREATE TABLE items (id int PRIMARY KEY);");
    p.write("../shale.toml", "history_table = \"shale_a\"\n");
    p.shale(&["up"]).ok();
    // The second project: its own directory and history table.
    p.write("../other/001_orders.sql", "CREATE TABLE orders (id int PRIMARY KEY);");
    p.write("../shale.toml", "history_table = \"shale_b\"\n");
    p.shale(&["--dir", "other", "up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_tables WHERE tablename IN ('shale_a', 'shale_b')"), "2");
    let dump = p.shale(&["dump"]).ok();
    assert!(!dump.stdout.contains("shale_a") && dump.stdout.contains("CREATE TABLE public.orders"), "{}", dump.stdout);
    // Each project's drift: the other's tables are drift (they are the application's), its
    // history is not.
    let drift = p.shale(&["--dir", "other", "drift", "--json"]);
    let json = drift.json();
    let objects: Vec<&str> =
        json["differences"].as_array().unwrap().iter().map(|d| d["object"].as_str().unwrap()).collect();
    assert!(objects.iter().all(|o| !o.contains("shale_a")), "{objects:?}");
}
