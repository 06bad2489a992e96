//! Downs computed for migrations that have none: `shale new --down-from-diff V` writes one as a
//! file where the layout keeps downs apart; refused where it would change an applied file.

use crate::common;

use common::{redacted, shown, Project};

#[test]
fn down_from_diff_writes_the_missing_down_file() {
    let p = Project::new("downgen_pair");
    p.write("001_accounts.up.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE INDEX accounts_email ON accounts (email);");
    p.write("002_plan.up.sql", "ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';");
    p.write("002_plan.down.sql", "ALTER TABLE accounts DROP COLUMN plan;");
    p.shale(&["up"]).ok();

    snapshot!("has_a_down_already", shown(&p, &p.shale(&["new", "--down-from-diff", "002"])));

    snapshot!("written", shown(&p, &p.shale(&["new", "--down-from-diff", "001"]).ok()));
    let down = std::fs::read_to_string(p.migrations().join("001_accounts.down.sql")).unwrap();
    snapshot!("the_down", redacted(&p, &down));
    // The applied migration is unchanged (its checksum is the up file's), and the down works.
    p.shale(&["validate"]).ok();
    p.shale(&["down", "--all"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
}

/// A plain file (sqlx's simple migration) becomes the up of a pair, its text unchanged, beside
/// the new down (sqlx trial: refused as if the down had to go into the file).
#[test]
fn down_from_diff_makes_a_plain_file_the_up_of_a_pair() {
    let p = Project::new("downgen_plain");
    p.write("20240101000000_accounts.sql", "CREATE TABLE accounts (id bigint PRIMARY KEY);");
    p.shale(&["up"]).ok();
    let run = p.shale(&["new", "--down-from-diff", "20240101000000"]).ok();
    assert!(run.stdout.contains("renamed") && run.stdout.contains("20240101000000_accounts.up.sql"), "{}", run.stdout);
    assert!(!p.migrations().join("20240101000000_accounts.sql").exists());
    let down = std::fs::read_to_string(p.migrations().join("20240101000000_accounts.down.sql")).unwrap();
    assert!(down.contains("DROP TABLE public.accounts"), "{down}");
    // Applied as it was: its checksum is its text's.
    p.shale(&["validate"]).ok();
    p.shale(&["down", "--all"]).ok();
    assert_eq!(p.tables(), ["shale_migrations"]);
}

/// A file whose down would be a section of it (dbmate's): refused, as the section would change
/// the checksum the databases that applied it recorded.
#[test]
fn down_from_diff_refuses_a_file_with_sections() {
    let p = Project::new("downgen_single");
    p.write("001_accounts.sql", "-- migrate:up\nCREATE TABLE accounts (id bigint PRIMARY KEY);\n");
    snapshot!("single_file", shown(&p, &p.shale(&["new", "--down-from-diff", "001"])));
}

#[test]
fn a_data_only_migration_gets_a_down_that_says_so() {
    let p = Project::new("downgen_data");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.write("002_rows.sql", "INSERT INTO t VALUES (1), (2);");
    p.shale(&["up"]).ok();
    snapshot!("data_only", shown(&p, &p.shale(&["down", "--step", "1", "--generate"]).ok()));
    assert_eq!(p.psql("SELECT count(*) FROM t"), "2");
    assert_eq!(
        p.psql("SELECT status FROM shale_migrations WHERE name = 'rows' ORDER BY id DESC LIMIT 1"),
        "rolled_back"
    );
}

/// A dry run of a generated down that drops data shows the refusal the run would meet, with its
/// exit code; `--allow-destructive` clears both. Where the table holds no row, nothing is lost,
/// and neither refuses (breadth trial: the dry run said the drop was fine, then refused it).
#[test]
fn a_dry_run_shows_the_refusal_of_a_generated_down_that_drops_data() {
    let p = Project::new("downgen_dry");
    p.write("001_t.sql", "CREATE TABLE t (id int);");
    p.write("002_meta.sql", "ALTER TABLE t ADD COLUMN meta jsonb;");
    p.shale(&["up"]).ok();
    let empty = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]).ok();
    assert!(empty.stdout.contains("fine: public.t is empty"), "{}", empty.stdout);
    assert!(!empty.stdout.contains("would refuse"), "{}", empty.stdout);
    p.psql("INSERT INTO t VALUES (1)");
    let dry = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]);
    assert_eq!(dry.code, 2, "{}{}", dry.stdout, dry.stderr);
    assert!(dry.stdout.contains("DROP COLUMN meta"), "{}", dry.stdout);
    assert!(dry.stdout.contains("`shale down` would refuse this plan:"), "{}", dry.stdout);
    assert!(dry.stdout.contains("run again with --allow-destructive"), "{}", dry.stdout);
    let allowed = p.shale(&["down", "--step", "1", "--generate", "--dry-run", "--allow-destructive"]).ok();
    assert!(!allowed.stdout.contains("would refuse"), "{}", allowed.stdout);
    assert_eq!(p.shale(&["down", "--step", "1", "--generate"]).code, 2);
    assert_eq!(p.psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'meta'"), "1");
}

/// A down file deleted while its migration's file stays (to make the migration irreversible): its
/// copy in the history is not run (golang-migrate trial: it ran, quietly); where the migration's
/// file is gone too (a squash), the history's copy serves, as before.
#[test]
fn a_deleted_down_file_is_not_run_from_the_history() {
    let p = Project::new("downgen_deleted");
    p.write("001_a.up.sql", "CREATE TABLE a (id int);");
    p.write("001_a.down.sql", "DROP TABLE a;");
    p.write("002_b.up.sql", "CREATE TABLE b (id int);");
    p.write("002_b.down.sql", "DROP TABLE b;");
    p.shale(&["up"]).ok();
    std::fs::remove_file(p.migrations().join("002_b.down.sql")).unwrap();
    let down = p.shale(&["down", "--step", "1"]);
    assert_eq!(down.code, 2, "{}{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("--generate"), "{}", down.stderr);
    assert!(p.tables().contains(&"b".to_string()), "nothing ran");
    std::fs::remove_file(p.migrations().join("002_b.up.sql")).unwrap();
    p.shale(&["down", "--step", "1"]).ok();
    assert!(!p.tables().contains(&"b".to_string()), "the history's copy ran");
}

/// The generated down of an index built CONCURRENTLY outside a transaction drops it CONCURRENTLY,
/// outside one too (a plain DROP INDEX takes the table's strongest lock, queued behind every
/// query on it, and every query then queued behind the drop); a partitioned table's own index,
/// which PostgreSQL drops only in a transaction, and a down that does more, keep theirs.
#[test]
fn the_down_of_an_index_built_concurrently_drops_it_concurrently() {
    let p = Project::new("downgen_concurrently");
    p.write(
        "001_t.sql",
        "CREATE TABLE t (id int, a int, b int);\nCREATE TABLE ev (at date, a int) PARTITION BY RANGE (at);",
    );
    p.write(
        "002_idx.sql",
        "-- shale:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_b ON t (b);",
    );
    p.write("003_ev.sql", "-- shale:no-transaction\nCREATE INDEX ev_a ON ev (a);");
    p.write(
        "004_col.sql",
        "-- shale:no-transaction\nALTER TABLE t ADD COLUMN c int;\nCREATE INDEX CONCURRENTLY t_c ON t (c);",
    );
    p.shale(&["up"]).ok();

    let does_more = p.shale(&["down", "--step", "1", "--generate", "--dry-run", "--allow-destructive"]).ok();
    assert!(does_more.stdout.contains("DROP INDEX public.t_c;"), "{}", does_more.stdout);
    p.shale(&["down", "--step", "1", "--generate", "--allow-destructive"]).ok();

    let on_partitioned = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]).ok();
    assert!(on_partitioned.stdout.contains("DROP INDEX public.ev_a;"), "{}", on_partitioned.stdout);
    assert!(!on_partitioned.stdout.contains("CONCURRENTLY"), "{}", on_partitioned.stdout);
    p.shale(&["down", "--step", "1", "--generate"]).ok();

    let dry = p.shale(&["down", "--step", "1", "--generate", "--dry-run"]).ok();
    assert!(dry.stdout.contains("DROP INDEX CONCURRENTLY IF EXISTS public.t_a;"), "{}", dry.stdout);
    assert!(dry.stdout.contains("DROP INDEX CONCURRENTLY IF EXISTS public.t_b;"), "{}", dry.stdout);
    p.shale(&["down", "--step", "1", "--generate"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE tablename = 't'"), "0");
    p.shale(&["up"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM pg_indexes WHERE tablename IN ('t', 'ev')"), "4");
}

/// A table `replay_setup` makes (one built by hand before the migration that attaches it as a
/// partition) is detached by the generated down, not dropped: left out of the schema before the
/// migration as the environment's, and kept after it as changed, it came from nowhere, and the
/// down dropped it, rows and all (partitioned tables trial).
#[test]
fn the_down_of_attaching_a_table_the_setup_made_detaches_it() {
    let p = Project::new("downgen_attach_setup");
    let archive = "CREATE TABLE events_2025 (id bigint NOT NULL, at timestamptz NOT NULL);\n";
    p.write(
        "001_events.sql",
        "CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);\n",
    );
    p.write(
        "002_attach.sql",
        "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n",
    );
    std::fs::write(p.path().join("archive.sql"), archive).unwrap();
    std::fs::write(p.path().join("shale.toml"), "replay_setup = \"archive.sql\"\n").unwrap();
    p.psql(archive);
    p.psql("INSERT INTO events_2025 VALUES (1, '2025-06-01')");
    p.shale(&["up"]).ok();
    let plan = p.shale(&["down", "--generate", "--step", "1", "--dry-run"]).ok();
    assert!(plan.stdout.contains("DETACH PARTITION public.events_2025"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("DROP TABLE"), "{}", plan.stdout);
    p.shale(&["down", "--generate", "--step", "1"]).ok();
    assert_eq!(p.psql("SELECT count(*) FROM events_2025"), "1");
    assert_eq!(p.psql("SELECT relispartition FROM pg_class WHERE relname = 'events_2025'"), "f");
    // check's generated downs agree: the down restores the schema before the migration.
    let check = p.shale(&["check", "--generate-downs"]).ok();
    assert!(check.stdout.contains("check passed"), "{}", check.stdout);
}
