//! `shale dump [-o FILE]` against a real server: the schema after `shale up`, without shale's
//! history table, written deterministically, and loading back into an empty database.

use crate::common;

use common::{Project, Run};
use shale_testkit::{fresh_database, shared_cluster};

const SCHEMA: &str = r#"CREATE TYPE status AS ENUM ('new', 'paid');
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    tags text[] NOT NULL DEFAULT '{}'
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);
COMMENT ON TABLE users IS 'accounts';
CREATE TABLE orders (
    id bigserial,
    user_id bigint NOT NULL REFERENCES users (id) DEFERRABLE,
    status status NOT NULL DEFAULT 'new',
    at timestamptz NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE orders_2024 PARTITION OF orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX users_tags ON users USING gin (tags);
CREATE VIEW paid AS SELECT * FROM orders WHERE status = 'paid';
CREATE VIEW paid_count AS SELECT count(*) AS n FROM paid;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
"#;

fn dump_of(p: &Project, url: &str) -> Run {
    let mut cmd = p.bare();
    cmd.arg("--database-url").arg(url).arg("dump");
    Run::from(cmd.output().unwrap())
}

#[test]
fn dump_prints_the_schema_without_the_history_and_loads_back_identically() {
    let p = Project::new("dump");
    p.write("001_schema.sql", SCHEMA);
    p.shale(&["up"]).ok();

    let out = p.shale(&["dump"]).ok().stdout;
    for expected in [
        "CREATE TYPE public.status AS ENUM ('new', 'paid');",
        "CREATE TABLE public.users (",
        // Storage parameters are kept (Rails trial: que's fillfactor), and load back the same.
        ") WITH (autovacuum_vacuum_scale_factor='0.01', fillfactor='90');",
        "CREATE TABLE public.orders_2024 PARTITION OF public.orders FOR VALUES FROM",
        "CREATE INDEX users_tags ON public.users USING gin (tags);",
        "CREATE VIEW public.paid_count AS",
        "CREATE TRIGGER users_touch BEFORE UPDATE ON public.users",
        "COMMENT ON TABLE public.users IS 'accounts';",
    ] {
        assert!(out.contains(expected), "no {expected:?} in\n{out}");
    }
    assert!(!out.contains("shale_migrations"), "the history table is left out:\n{out}");
    assert!(out.find("CREATE VIEW public.paid AS").unwrap() < out.find("CREATE VIEW public.paid_count AS").unwrap());

    // Same database, same bytes; -o writes exactly what stdout shows.
    assert_eq!(p.shale(&["dump"]).ok().stdout, out);
    p.shale(&["dump", "-o", "schema.sql"]).ok();
    let file = std::fs::read_to_string(p.path().join("schema.sql")).unwrap();
    assert_eq!(file, out);

    // The file loads into an empty database, which then dumps to the same bytes.
    let empty = fresh_database("dump_reload");
    shared_cluster().psql(&empty.name, &file).unwrap_or_else(|e| panic!("the dump does not load: {e}\n{file}"));
    let again = dump_of(&p, &empty.url).ok().stdout;
    assert_eq!(again, out);
}

#[test]
fn dump_json_gives_the_model() {
    let p = Project::new("dump_json");
    p.write("001_schema.sql", SCHEMA);
    p.shale(&["up"]).ok();
    let model = p.shale(&["dump", "--json"]).ok().json();
    let tables: Vec<&str> = model["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tables, ["orders", "orders_2024", "users"]);
    assert_eq!(model["enums"][0]["values"], serde_json::json!(["new", "paid"]));
}

#[test]
fn dump_of_an_unreachable_database_fails() {
    let p = Project::new("dump_fail");
    let mut cmd = p.bare();
    cmd.args(["--database-url", "postgresql://nobody@127.0.0.1:1/none", "dump"]);
    let run = Run::from(cmd.output().unwrap());
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "nothing is printed on stdout: {}", run.stdout);
}

#[test]
fn up_refreshes_the_schema_file_named_by_dump_after_up() {
    let p = common::Project::new("dump_after_up");
    std::fs::write(p.path().join("shale.toml"), "dump_after_up = \"schema.sql\"\n").unwrap();
    p.write("001_a.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);");
    p.shale(&["up"]).ok();
    let file = std::fs::read_to_string(p.path().join("schema.sql")).expect("schema.sql written after up");
    assert!(file.contains("CREATE TABLE public.accounts"), "{file}");
    assert_eq!(file, p.shale(&["dump"]).ok().stdout, "the same bytes as `shale dump`");
    p.write("002_b.sql", "ALTER TABLE accounts ADD COLUMN nick text;");
    p.shale(&["up"]).ok();
    assert!(std::fs::read_to_string(p.path().join("schema.sql")).unwrap().contains("nick"));
    // A file another tool wrote (Rails' structure.sql, which Rails loads with its versions) is
    // left as it is, and said so (Rails trial).
    let rails = "--\n-- PostgreSQL database dump\n--\nINSERT INTO \"schema_migrations\" (version) VALUES\n('20240101000000');\n";
    std::fs::write(p.path().join("schema.sql"), rails).unwrap();
    p.write("003_c.sql", "ALTER TABLE accounts ADD COLUMN bio text;");
    let up = p.shale(&["up"]).ok();
    assert!(up.stderr.contains("was not written by `shale dump`"), "{}", up.stderr);
    assert_eq!(std::fs::read_to_string(p.path().join("schema.sql")).unwrap(), rails);
}

#[test]
fn dump_drift_and_diff_name_the_objects_shale_does_not_read_and_leave_another_tools_history_out() {
    let p = Project::new("dump_unread");
    p.write("001_schema.sql", "CREATE TABLE t (id int PRIMARY KEY, a text);");
    p.shale(&["up"]).ok();
    // What a dbmate project's migrations made (the trial's citext operators and implicit casts:
    // dumped and compared now), a rule (not read yet), and Knex's tables from before the switch.
    p.psql(
        "CREATE FUNCTION t_eq(text, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1::int = $2';
         CREATE OPERATOR === (LEFTARG = text, RIGHTARG = int, FUNCTION = t_eq);
         CREATE TYPE mood AS ENUM ('a', 'b');
         CREATE FUNCTION mood_text(mood) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1::text';
         CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS IMPLICIT;
         CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING;
         CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);
         CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked int);",
    );
    let dump = p.shale(&["dump"]).ok();
    assert!(!dump.stdout.contains("knex"), "another tool's history is left out of the dump:\n{}", dump.stdout);
    assert!(
        dump.stderr.contains("public.knex_migrations and public.knex_migrations_lock (knex's history)"),
        "{}",
        dump.stderr
    );
    for written in [
        "CREATE OPERATOR public.=== (FUNCTION = public.t_eq, LEFTARG = text, RIGHTARG = integer);",
        "CREATE CAST (public.mood AS text) WITH FUNCTION public.mood_text(public.mood) AS IMPLICIT;",
    ] {
        assert!(dump.stdout.contains(written), "no {written:?} in {}", dump.stdout);
    }
    for said in ["1 rule (t_keep on public.t)", "so the dump leaves them out"] {
        assert!(dump.stderr.contains(said), "no {said:?} in {}", dump.stderr);
    }
    assert!(!dump.stderr.contains("operator") && !dump.stderr.contains("cast"), "{}", dump.stderr);
    // Compared by drift (the migrations made none of them: they differ); what is not read is said:
    // "no drift" alone would be a false all-clear.
    let drift = p.shale(&["drift"]);
    assert!(
        drift.stdout.contains("operator public.===(text, integer)")
            && drift.stdout.contains("cast (public.mood AS text)"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stderr.contains("the database has 1 rule") && drift.stderr.contains("the comparison leaves them out"),
        "{}",
        drift.stderr
    );
    let diff = p.shale(&["diff"]);
    assert!(
        diff.stderr.contains("1 rule (t_keep on public.t)") && diff.stderr.contains("the diff leaves them out"),
        "{}",
        diff.stderr
    );
    // --json carries them in the model; its stderr stays clean.
    let json = p.shale(&["dump", "--json"]).ok();
    assert_eq!(json.json()["unread"][0]["kind"], "rule");
    assert_eq!(json.json()["operators"][0]["name"], "===");
    assert!(json.stderr.is_empty(), "{}", json.stderr);
    // So do drift's and diff's, where a CI gate reads `drifted` (re-check trial).
    let drift = p.shale(&["drift", "--json"]).json();
    assert_eq!(drift["unread"]["database"][0]["kind"], "rule", "{drift}");
    assert_eq!(drift["unread"]["expected"], serde_json::json!([]), "{drift}");
    let diff = p.shale(&["diff", "--json"]).json();
    assert_eq!(diff["unread"]["from"][0]["names"][0], "t_keep on public.t", "{diff}");
}

/// A column's own statistics target and storage, which the model does not hold yet, are said to
/// be left out, not left out without a word (TypeORM trial: `SET STATISTICS 500` went missing from
/// a baseline, unsaid).
#[test]
fn column_statistics_and_storage_settings_are_said_to_be_left_out() {
    let p = Project::new("dump_column_settings");
    p.psql(
        "CREATE TABLE t (id int, v text, doc jsonb);
         ALTER TABLE t ALTER COLUMN v SET STATISTICS 500;
         ALTER TABLE t ALTER COLUMN doc SET STORAGE EXTERNAL;
         CREATE TABLE plain (id int, v text)",
    );
    let dump = p.shale(&["dump"]).ok();
    for said in ["1 column statistics target (public.t.v)", "1 column storage setting (public.t.doc)"] {
        assert!(dump.stderr.contains(said), "no {said:?} in {}", dump.stderr);
    }
    assert!(!dump.stderr.contains("plain"), "{}", dump.stderr);
}

/// `baseline --from-database` over objects shale does not read: it names them, and says how to
/// add them without editing the baseline it records (re-check trial: the edit made it `modified`).
#[test]
fn a_baseline_over_objects_shale_does_not_read_says_how_to_add_them() {
    let p = Project::new("dump_unread_baseline");
    std::fs::create_dir_all(p.migrations()).unwrap();
    p.psql("CREATE TABLE t (id int PRIMARY KEY); CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING");
    let run = p.shale(&["baseline", "--from-database"]).ok();
    assert!(
        run.stderr.contains("1 rule (t_keep on public.t)") && run.stderr.contains("so the baseline leaves them out"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("write them in a migration of their own after the baseline"), "{}", run.stderr);
    assert!(
        run.stdout.contains("builds the same schema with `shale up`, but for the objects named above"),
        "{}",
        run.stdout
    );
}
