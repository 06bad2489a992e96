//! Many databases at once: schemas of one database, databases from a targets file, two servers,
//! a control-database query; failures, reruns, --fail-fast, grouped status and JSON. Every target
//! is a real database or schema on a real server.

use crate::common;

use common::{shown, Project, Run};
use shale_testkit::{fresh_database, shared_cluster, Cluster, ClusterOptions};

fn migrations(p: &Project) {
    p.write("0001_items.sql", "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);\n");
    p.write("0002_audit.sql", "CREATE TABLE audit (id bigint, at timestamptz);\n");
    p.write(
        "0003_items_note.sql",
        "-- migrate:up\nALTER TABLE items ADD COLUMN note text;\n-- migrate:down\nALTER TABLE items DROP COLUMN note;\n",
    );
}

/// `shale ARGS...` in the project directory with no database configured.
fn shale(p: &Project, args: &[&str]) -> Run {
    p.bare().args(args).output().unwrap().into()
}

fn create_schemas(p: &Project, names: &[&str]) {
    let sql: String = names.iter().map(|n| format!("CREATE SCHEMA \"{n}\";\n")).collect();
    p.psql(&sql);
}

/// Schemas holding a table, sorted.
fn schemas_with(p: &Project, table: &str) -> Vec<String> {
    p.psql(&format!(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = '{table}' ORDER BY table_schema COLLATE \"C\""
    ))
    .lines()
    .map(str::to_string)
    .collect()
}

fn target<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["targets"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name} in {json}"))
}

fn write_targets(p: &Project, text: &str) -> String {
    let path = p.path().join("targets.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn every_matching_schema_gets_its_own_history_and_tables() {
    let p = Project::new("fleet_schemas");
    migrations(&p);
    create_schemas(&p, &["tenant_a", "tenant_b", "tenant_Big One", "other"]);

    let up = p.shale(&["--schemas", "tenant_*", "up", "--json"]);
    assert_eq!(up.code, 0, "{}\n{}", up.stdout, up.stderr);
    let json = up.json();
    assert_eq!(json["counts"]["ok"], 3);
    for name in ["tenant_a", "tenant_b", "tenant_Big One"] {
        let t = target(&json, name);
        assert_eq!(t["from_version"], serde_json::Value::Null);
        assert_eq!(t["to_version"], "0003");
        assert_eq!(t["steps"], 3);
        assert_eq!(t["outcome"], "ok");
    }
    // Tables and history tables landed in each tenant's schema, nowhere else.
    let tenants = ["tenant_Big One", "tenant_a", "tenant_b"];
    assert_eq!(schemas_with(&p, "items"), tenants);
    assert_eq!(schemas_with(&p, "shale_migrations"), tenants);
    assert_eq!(p.psql("SELECT count(*) FROM tenant_a.shale_migrations WHERE status = 'succeeded'"), "3");
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'"), "3");

    // A second run finds every tenant where it stands: nothing to do.
    let again = p.shale(&["--schemas", "tenant_*", "up", "--json"]).ok().json();
    assert!(again["targets"].as_array().unwrap().iter().all(|t| t["steps"] == 0 && t["from_version"] == "0003"));
    assert_eq!(p.psql("SELECT count(*) FROM tenant_b.shale_migrations"), "3");

    // down works per schema too; `_` in the pattern is literal, `?` is one character.
    let down = p.shale(&["--schemas", "tenant_?", "down", "--step", "1", "--json"]).ok().json();
    assert_eq!(down["targets"].as_array().unwrap().len(), 2, "{down}");
    assert_eq!(target(&down, "tenant_a")["to_version"], "0002");
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'"), "1");

    // Plain output: the summary table names every target with from and to.
    let up = p.shale(&["--schemas", "tenant_*", "up"]).ok();
    snapshot!("summary", &up.stdout);
    // Not a terminal: one plain progress line per finished target on stderr.
    assert_eq!(up.stderr.lines().filter(|l| l.starts_with('[')).count(), 3, "{}", up.stderr);

    // lint runs once, as without a fleet; other commands refuse the fleet options.
    let lint = p.shale(&["--schemas", "tenant_*", "lint", "--all", "--format", "json"]).ok().json();
    assert!(lint.is_object(), "{lint}");
    snapshot!("not_for_redo", shown(&p, &p.shale(&["--schemas", "tenant_*", "redo"])));
    snapshot!("no_schema_matches", shown(&p, &p.shale(&["--schemas", "nobody_*", "up"])));
}

#[test]
fn a_failing_target_does_not_stop_the_others_and_a_rerun_continues() {
    let p = Project::new("fleet_fail");
    migrations(&p);
    create_schemas(&p, &["tenant_a", "tenant_b", "tenant_c"]);
    // tenant_b already has a view of the name of the table 0002 creates: 0002 fails there, after
    // 0001 succeeded. (A table of that name would be refused before anything ran.)
    p.psql("CREATE VIEW tenant_b.audit AS SELECT 1 AS x;");

    let run = p.shale(&["--schemas", "tenant_*", "up"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    snapshot!("one_target_failed", &run.stdout);
    assert_eq!(p.psql("SELECT count(*) FROM tenant_a.shale_migrations WHERE status = 'succeeded'"), "3");
    assert_eq!(p.psql("SELECT count(*) FROM tenant_c.shale_migrations WHERE status = 'succeeded'"), "3");
    assert_eq!(p.psql("SELECT count(*) FROM tenant_b.shale_migrations WHERE status = 'succeeded'"), "1");

    // Status shows the failed tenant apart from the two that are done.
    let status = p.shale(&["--schemas", "tenant_*", "status", "--json"]).ok().json();
    let groups = status["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{status}");
    assert_eq!(groups[0]["state"], "failed");
    assert_eq!(groups[0]["examples"], serde_json::json!(["tenant_b"]));
    assert_eq!(groups[1]["state"], "up to date");
    assert_eq!(groups[1]["count"], 2);
    let validate = p.shale(&["--schemas", "tenant_*", "validate"]);
    assert_eq!(validate.code, 1, "{}", validate.stdout);

    // Fixed by hand: the rerun takes each tenant from where it stands.
    p.psql("DROP VIEW tenant_b.audit;");
    let rerun = p.shale(&["--schemas", "tenant_*", "up", "--json"]).ok().json();
    let b = target(&rerun, "tenant_b");
    assert_eq!(
        (b["from_version"].as_str(), b["to_version"].as_str(), b["steps"].as_u64()),
        (Some("0001"), Some("0003"), Some(2))
    );
    for name in ["tenant_a", "tenant_c"] {
        assert_eq!(target(&rerun, name)["steps"], 0);
    }
    assert_eq!(p.psql("SELECT count(*) FROM tenant_b.items"), "0");
}

#[test]
fn fail_fast_starts_no_new_targets_after_a_failure() {
    let p = Project::new("fleet_failfast");
    migrations(&p);
    create_schemas(&p, &["tenant_1", "tenant_2", "tenant_3", "tenant_4"]);
    p.psql("CREATE VIEW tenant_1.items AS SELECT 1 AS x;");

    let run = p.shale(&["--schemas", "tenant_*", "--concurrency", "1", "--fail-fast", "up", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["counts"], serde_json::json!({"ok": 0, "failed": 1, "unavailable": 0, "skipped": 3}));
    assert_eq!(target(&json, "tenant_1")["outcome"], "failed");
    // The library says it fails fast; the CLI names its flag.
    assert_eq!(target(&json, "tenant_2")["error"], "not started: --fail-fast stopped the fleet after a failure");
    assert_eq!(schemas_with(&p, "shale_migrations"), ["tenant_1"], "skipped targets were not touched");

    // Without --fail-fast every other target goes on.
    let run = p.shale(&["--schemas", "tenant_*", "--concurrency", "1", "up", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["counts"]["ok"], 3);
}

#[test]
fn databases_from_a_targets_file_with_env_expansion_and_no_password_shown() {
    let p = Project::new("fleet_file");
    migrations(&p);
    let cluster = shared_cluster();
    let (a, b) = (fresh_database("fleet_file_a"), fresh_database("fleet_file_b"));
    // The test server trusts local connections, so any password works: it must never be printed.
    let with_password = cluster.tcp_url(&b.name).replace("postgres@", "postgres:hunter2secret@");
    let file = write_targets(
        &p,
        &format!(
            "[targets]\nalpha = \"${{FLEET_URL_A}}\"\nbeta = {{ url = \"{with_password}\" }}\ngamma = {{ url = \"{}\", schema = \"tenant_g\" }}\n",
            p.db.url
        ),
    );
    let mut cmd = p.bare();
    cmd.env("FLEET_URL_A", &a.url).args(["--targets", &file, "up"]);
    let run: Run = cmd.output().unwrap().into();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"));
    for db in [&a.name, &b.name] {
        assert_eq!(cluster.psql(db, "SELECT count(*) FROM public.shale_migrations").unwrap(), "3");
    }
    // A schema target creates its schema with the history table.
    assert_eq!(schemas_with(&p, "items"), ["tenant_g"]);

    let mut cmd = p.bare();
    cmd.env("FLEET_URL_A", &a.url).args(["--targets", &file, "status", "--json"]);
    let run: Run = cmd.output().unwrap().into();
    assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["groups"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["groups"][0]["count"], 3);
    assert!(target(&json, "beta")["location"].as_str().unwrap().contains(":***@"));

    // An unset variable is a configuration error naming the file, line and variable.
    let run = shale(&p, &["--targets", &file, "up"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("targets.toml:2:") && run.stderr.contains("FLEET_URL_A"), "{}", run.stderr);
}

#[test]
fn two_servers_and_their_connection_limits() {
    let p = Project::new("fleet_servers");
    migrations(&p);
    // A second server with few connections: max_connections 20 less 3 reserved for superusers
    // less the probe's own session leaves 16, room for 8 targets at 2 connections each.
    let options = ClusterOptions { extra_conf: vec![("max_connections".into(), "20".into())], ..Default::default() };
    let second = Cluster::start_temporary(options).unwrap();
    second.create_database("app").unwrap();
    let mut text = format!("[targets]\nfirst = \"{}\"\n", p.db.url);
    for i in 0..10 {
        text.push_str(&format!("second_{i} = {{ url = \"{}\", schema = \"tenant_{i}\" }}\n", second.url("app")));
    }
    let file = write_targets(&p, &text);

    let run = shale(&p, &["--targets", &file, "--concurrency", "12", "up", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let servers = json["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "{json}");
    assert_eq!(servers[1]["targets"], 10);
    assert_eq!(servers[1]["max_targets"], 8);
    // One target on the first server plus 8 on the second.
    assert_eq!(json["concurrency"], 9);
    assert_eq!(json["counts"]["ok"], 11);
    assert_eq!(p.psql("SELECT count(*) FROM shale_migrations"), "3");
    assert_eq!(second.psql("app", "SELECT count(*) FROM tenant_9.shale_migrations").unwrap(), "3");
    assert_eq!(
        second
            .psql(
                "app",
                "SELECT count(DISTINCT table_schema) FROM information_schema.tables WHERE table_name = 'items'"
            )
            .unwrap(),
        "10"
    );

    // A server that is down: its target is unavailable (exit 3), the others still run.
    let port = shale_testkit::free_port().unwrap();
    let file = write_targets(&p, &format!("{text}down = \"postgresql://postgres@127.0.0.1:{port}/app\"\n"));
    let run = shale(&p, &["--targets", &file, "status"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let first_row = run.stdout.lines().nth(1).unwrap_or_default();
    assert!(first_row.contains("unavailable") && first_row.contains("down"), "{}", run.stdout);
    assert!(run.stdout.contains("11 ok"), "{}", run.stdout);
}

#[test]
fn targets_from_a_query_on_the_control_database() {
    let p = Project::new("fleet_query");
    migrations(&p);
    let (a, b) = (fresh_database("fleet_query_a"), fresh_database("fleet_query_b"));
    p.psql(&format!(
        "CREATE TABLE tenants (name text, url text, schema text, active bool);
         INSERT INTO tenants VALUES ('acme', '{a}', NULL, true), ('globex', '{b}', NULL, true),
             ('initech', '{a}', 'tenant_i', true), ('gone', 'postgresql://x@nowhere.invalid/x', NULL, false);",
        a = a.url,
        b = b.url
    ));
    let query = "SELECT name, url, schema FROM tenants WHERE active ORDER BY name";
    let run = p.shale(&["--targets-query", query, "up", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let names: Vec<_> = json["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "globex", "initech"]);
    for db in [&a.name, &b.name] {
        assert_eq!(shared_cluster().psql(db, "SELECT count(*) FROM public.shale_migrations").unwrap(), "3");
    }
    // A row with a schema is that schema of its database, with its own history.
    assert_eq!(shared_cluster().psql(&a.name, "SELECT count(*) FROM tenant_i.shale_migrations").unwrap(), "3");
    assert_eq!(shared_cluster().psql(&a.name, "SELECT to_regclass('tenant_i.items') IS NOT NULL").unwrap(), "t");
    assert_eq!(p.tables(), ["tenants"], "the control database itself is not a target");

    let bad = p.shale(&["--targets-query", "SELECT name FROM tenants", "status"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("a column named `url`"), "{}", bad.stderr);
}

#[test]
fn status_groups_identical_targets_into_one_line() {
    let p = Project::new("fleet_groups");
    migrations(&p);
    let names: Vec<String> =
        (1..=12).map(|i| format!("tenant_a{i:02}")).chain((1..=3).map(|i| format!("tenant_b{i}"))).collect();
    create_schemas(&p, &names.iter().map(String::as_str).collect::<Vec<_>>());
    p.shale(&["--schemas", "tenant_a*", "up"]).ok();
    p.shale(&["--schemas", "tenant_b*", "up", "--to", "1"]).ok();

    let status = p.shale(&["--schemas", "tenant_*", "status"]).ok();
    snapshot!("status_groups", &status.stdout);

    let json = p.shale(&["--schemas", "tenant_*", "status", "--json"]).ok().json();
    assert_eq!(json["groups"][0]["count"], 3);
    assert_eq!(json["groups"][0]["version"], "0001");
    assert_eq!(json["groups"][1]["count"], 12);
    assert_eq!(json["groups"][1]["version"], "0003");
    assert_eq!(target(&json, "tenant_b2")["status"]["pending"], 2);
    // Pending migrations are not problems for validate.
    p.shale(&["--schemas", "tenant_*", "validate"]).ok();
}

#[test]
fn drift_across_databases_replays_once_and_groups_the_result() {
    let p = Project::new("fleet_drift");
    migrations(&p);
    let (a, b, c) = (fresh_database("fleet_drift_a"), fresh_database("fleet_drift_b"), fresh_database("fleet_drift_c"));
    let file = write_targets(&p, &format!("[targets]\na = \"{}\"\nb = \"{}\"\nc = \"{}\"\n", a.url, b.url, c.url));
    shale(&p, &["--targets", &file, "up"]).ok();
    // Someone changed b by hand.
    shared_cluster().psql(&b.name, "ALTER TABLE items ADD COLUMN extra int; CREATE TABLE scratch (x int);").unwrap();

    let dev_url = shared_cluster().url("postgres");
    let run = shale(&p, &["--targets", &file, "drift", "--dev-url", &dev_url, "--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["groups"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["groups"][0]["state"], "drifted");
    assert_eq!(json["groups"][0]["examples"], serde_json::json!(["b"]));
    assert_eq!(json["groups"][1]["state"], "no drift");
    assert_eq!(json["groups"][1]["count"], 2);
    let objects: Vec<&str> =
        target(&json, "b")["drift"].as_array().unwrap().iter().map(|d| d["object"].as_str().unwrap()).collect();
    assert!(objects.iter().any(|o| o.contains("scratch")), "{objects:?}");
    assert_eq!(target(&json, "a")["drift"], serde_json::json!([]));

    let text = shale(&p, &["--targets", &file, "drift", "--dev-url", &dev_url]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("b (failed): drifted: "), "{}", text.stdout);
}

/// Targets whose URLs set their own search_path are compared with a replay landing there, and
/// what shale.toml's `replay_setup` makes (the environment's) is not a difference on any of them
/// (operator trial: both drifted by every object).
#[test]
fn drift_across_databases_replays_where_each_target_s_names_land() {
    let p = Project::new("fleet_drift_home");
    migrations(&p);
    std::fs::write(p.path().join("setup.sql"), "CREATE EXTENSION IF NOT EXISTS pgcrypto;\n").unwrap();
    std::fs::write(p.path().join("shale.toml"), "replay_setup = \"setup.sql\"\n").unwrap();
    let (a, b) = (fresh_database("fleet_drift_home_a"), fresh_database("fleet_drift_home_b"));
    shared_cluster().psql(&b.name, "CREATE SCHEMA app; CREATE EXTENSION pgcrypto;").unwrap();
    shared_cluster().psql(&a.name, "CREATE EXTENSION pgcrypto;").unwrap();
    let in_app = format!("{}{}search_path=app", b.url, if b.url.contains('?') { "&" } else { "?" });
    let file = write_targets(&p, &format!("[targets]\na = \"{}\"\nb = \"{in_app}\"\n", a.url));
    shale(&p, &["--targets", &file, "up"]).ok();
    assert_eq!(shared_cluster().psql(&b.name, "SELECT to_regclass('app.items') IS NOT NULL").unwrap().trim(), "t");

    let dev_url = shared_cluster().url("postgres");
    let run = shale(&p, &["--targets", &file, "drift", "--dev-url", &dev_url, "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(target(&json, "a")["drift"], serde_json::json!([]), "{json}");
    assert_eq!(target(&json, "b")["drift"], serde_json::json!([]), "{json}");
    // A target of another search_path that is down is unavailable, and the others are compared
    // (review: its connection, made before the fleet ran, failed the whole drift).
    let down = format!(
        "{}\ndown = \"postgresql://postgres@127.0.0.1:1/nowhere?search_path=other\"\n",
        std::fs::read_to_string(&file).unwrap().trim_end()
    );
    let with_down = write_targets(&p, &down);
    let run = shale(&p, &["--targets", &with_down, "drift", "--dev-url", &dev_url, "--json"]);
    let json = run.json();
    assert_eq!(target(&json, "down")["outcome"], "unavailable", "{json}");
    assert_eq!(target(&json, "b")["drift"], serde_json::json!([]), "{json}");
    let file = write_targets(&p, &format!("[targets]\na = \"{}\"\nb = \"{in_app}\"\n", a.url));
    // Still a drift check: a change by hand in app shows.
    shared_cluster().psql(&b.name, "ALTER TABLE app.items ADD COLUMN extra int").unwrap();
    let run = shale(&p, &["--targets", &file, "drift", "--dev-url", &dev_url, "--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let objects: Vec<String> =
        target(&run.json(), "b")["drift"].as_array().unwrap().iter().map(|d| d["object"].to_string()).collect();
    assert_eq!(objects, ["\"column app.items.extra\""], "{objects:?}");
}

#[test]
fn drift_across_tenant_schemas_compares_each_schema_as_public() {
    let p = Project::new("fleet_schema_drift");
    migrations(&p);
    create_schemas(&p, &["tenant_a", "tenant_b", "tenant_c"]);
    p.shale(&["--schemas", "tenant_*", "up"]).ok();
    // Someone changed tenant_b by hand (a column, and an index naming its schema).
    p.psql("ALTER TABLE tenant_b.items ADD COLUMN extra int; CREATE INDEX items_name ON tenant_b.items (name);");

    let dev_url = shared_cluster().url("postgres");
    let run = p.shale(&["--schemas", "tenant_*", "drift", "--dev-url", &dev_url, "--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["groups"][0]["state"], "drifted", "{json}");
    assert_eq!(json["groups"][0]["examples"], serde_json::json!(["tenant_b"]));
    assert_eq!(json["groups"][1]["state"], "no drift");
    assert_eq!(json["groups"][1]["count"], 2);
    let objects: Vec<&str> =
        target(&json, "tenant_b")["drift"].as_array().unwrap().iter().map(|d| d["object"].as_str().unwrap()).collect();
    assert_eq!(objects, ["column public.items.extra", "index public.items_name"], "seen as public");
}

#[test]
fn shards_split_a_fleet_so_that_every_target_runs_exactly_once() {
    let p = Project::new("fleet_shards");
    migrations(&p);
    let tenants: Vec<String> = (1..=12).map(|i| format!("shard_t{i:02}")).collect();
    create_schemas(&p, &tenants.iter().map(String::as_str).collect::<Vec<_>>());

    // Three machines, each its own slice: together they migrate every tenant once.
    let mut taken = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = p.shale(&["--schemas", "shard_t*", "--shard", &shard, "up", "--json"]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let json = run.json();
        assert_eq!(json["shard"]["slice"], shard.as_str());
        assert_eq!(json["shard"]["fleet_targets"], 12);
        for t in json["targets"].as_array().unwrap() {
            assert_eq!(t["steps"], 3, "{t}");
            taken.push(t["name"].as_str().unwrap().to_string());
        }
    }
    taken.sort();
    assert_eq!(taken, tenants, "the three slices together are the fleet, each tenant once");
    assert_eq!(schemas_with(&p, "shale_migrations"), tenants);

    // Each slice is the same on a rerun (a CI retry of one machine): nothing left to do there.
    let again = p.shale(&["--schemas", "shard_t*", "--shard", "2/3", "up"]).ok();
    assert!(again.stdout.contains("shard 2/3 of a fleet of 12: "), "{}", again.stdout);
    assert!(!again.stdout.contains("applied"), "{}", again.stdout);

    // More machines than targets: some slices are empty, and an empty slice is a success.
    let mut total = 0;
    for k in 1..=40 {
        let run = p.shale(&["--schemas", "shard_t*", "--shard", &format!("{k}/40"), "status", "--json"]);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        total += run.json()["targets"].as_array().unwrap().len();
    }
    assert_eq!(total, 12);

    // Refused: a slice out of range, and a shard without a fleet.
    let bad = p.shale(&["--schemas", "shard_t*", "--shard", "4/3", "up"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("expected K/N with 1 <= K <= N"), "{}", bad.stderr);
    let alone = p.shale(&["--shard", "1/2", "up"]);
    assert_eq!(alone.code, 2, "{}", alone.stderr);
    assert!(alone.stderr.contains("takes a slice of a fleet"), "{}", alone.stderr);
}

/// Each tenant's statements are judged by that tenant's own tables (an unqualified name resolves
/// through the tenant's search path), and each tenant reads only its own schema's facts.
#[test]
fn each_tenant_is_judged_by_its_own_tables() {
    let p = Project::new("fleet_judged");
    create_schemas(&p, &["tenant_big", "tenant_small"]);
    // tenant_small's is empty, as its statistics say (analyzed with no rows).
    p.psql("CREATE TABLE tenant_big.events (id bigint, kind text); CREATE TABLE tenant_small.events (id bigint, kind text); ANALYZE tenant_small.events");
    p.fill("tenant_big.events", 20_000);
    p.write("0001_index.sql", "CREATE INDEX events_kind ON events (kind);\n");
    let up = p.shale(&["--schemas", "tenant_*", "up", "--json"]);
    assert_eq!(up.code, 1, "{}\n{}", up.stdout, up.stderr);
    let json = up.json();
    assert_eq!(target(&json, "tenant_small")["outcome"], "ok", "{json}");
    assert_ne!(target(&json, "tenant_big")["outcome"], "ok", "{json}");
    assert!(json.to_string().contains("create-index-non-concurrently"), "{json}");
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'events_kind'"), "1");
}

/// Each target's server warnings are its own, in its JSON report and on stderr, where targets
/// run at once (one process-wide store gave a warning to whichever target looked first; a fleet
/// said none).
#[test]
fn each_target_s_server_warnings_are_its_own() {
    let p = Project::new("fleet_warnings");
    let names = ["tenant_a", "tenant_b", "tenant_c", "tenant_d"];
    create_schemas(&p, &names);
    // Every target warns at once, and ends later the nearer the alphabet's start: a shared store
    // handed the first to end (tenant_d) the warnings of all four.
    p.write(
        "0001_warn.sql",
        "DO $$ BEGIN RAISE WARNING 'made in %', current_schema();\n\
         PERFORM pg_sleep(0.1 * (100 - ascii(right(current_schema(), 1)))); END $$;\nCREATE TABLE t (id int);\n",
    );
    let up = p.shale(&["--schemas", "tenant_*", "--concurrency", "4", "up", "--json"]).ok();
    let json = up.json();
    for name in names {
        let warnings = &target(&json, name)["warnings"];
        assert_eq!(
            *warnings,
            serde_json::json!([{ "migration": "0001 warn", "message": format!("made in {name}") }]),
            "{json}"
        );
        assert!(up.stderr.contains(&format!("{name}: 0001 warn: the server says: made in {name}")), "{}", up.stderr);
    }
    // As JSON log lines, one database's shape with its target (review: a `warning` of another).
    p.write("0002_again.sql", "DO $$ BEGIN RAISE WARNING 'again in %', current_schema(); END $$;\n");
    let logged = p.shale(&["--schemas", "tenant_*", "--log-format", "json", "up"]).ok();
    let events: Vec<serde_json::Value> = logged
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["event"] == "server_warning")
        .collect();
    assert_eq!(events.len(), 4, "{}", logged.stderr);
    assert!(
        events
            .iter()
            .all(|e| e["migration"] == "0002 again"
                && e["message"] == format!("again in {}", e["target"].as_str().unwrap())),
        "{}",
        logged.stderr
    );
}
