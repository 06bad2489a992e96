use std::path::PathBuf;

use shale_core::layout::Script;

use super::*;

pub(crate) fn script(name: &str, sql: &str) -> Script {
    Script::parse(PathBuf::from(name), sql.to_string(), 0..sql.len(), None).unwrap()
}

/// Rule ids that fire for `sql`, linted after `before` (which creates the context).
pub(crate) fn rules_after(before: &str, sql: &str) -> Vec<&'static str> {
    let a = script("001_before.sql", before);
    let b = script("002_this.sql", sql);
    let report = lint([&a, &b]);
    assert!(report.syntax_errors.is_empty(), "{:?}", report.syntax_errors);
    report.findings.iter().filter(|f| f.path.ends_with("002_this.sql")).map(|f| f.rule).collect()
}

pub(crate) fn rules(sql: &str) -> Vec<&'static str> {
    rules_after("", sql)
}

/// Rule ids that fire for `sql` run after `applied` (a file applied before, not linted: its
/// tables exist and are taken to hold data).
pub(crate) fn rules_after_applied(applied: &str, sql: &str) -> Vec<&'static str> {
    let before = script("001_before.sql", applied);
    let this = script("002_this.sql", sql);
    lint_after([&before], [&this], LintOptions::default()).findings.iter().map(|f| f.rule).collect()
}

/// The findings for `sql` run after `applied`, on a server of this major version (None: unknown).
pub(crate) fn findings_after_applied(applied: &str, sql: &str, pg_major: Option<u32>) -> Vec<Finding> {
    let before = script("001_before.sql", applied);
    let this = script("002_this.sql", sql);
    lint_after([&before], [&this], LintOptions { pg_major, ..Default::default() }).findings
}

/// Rule ids that fire for `sql` on a database where `table` is a large partitioned table.
pub(crate) fn partitioned_rules(table: &str, sql: &str) -> Vec<&'static str> {
    let mut live = live_database(&[(table, 1_000_000)]);
    live.partitioned.insert(table.to_string());
    on_live(live, sql).findings.iter().map(|f| f.rule).collect()
}

/// Rule ids that fire for `sql` on a database where `table` is a large table.
pub(crate) fn large_table_rules(table: &str, sql: &str) -> Vec<&'static str> {
    on_live(live_database(&[(table, 1_000_000)]), sql).findings.iter().map(|f| f.rule).collect()
}

/// A database holding `tables` (name, rows), 100 bytes a row, large past 10,000 rows.
fn live_database(tables: &[(&str, i64)]) -> LiveDatabase {
    LiveDatabase {
        tables: tables.iter().map(|(n, rows)| (n.to_string(), TableSize { rows: *rows, bytes: rows * 100 })).collect(),
        large_rows: 10_000,
        ..Default::default()
    }
}

/// `sql` linted on `live`.
fn on_live(live: LiveDatabase, sql: &str) -> Report {
    let s = script("010.sql", sql);
    lint_with([&s], LintOptions { live: Some(live), ..Default::default() })
}

/// Rule ids that fire for `sql` on a server of this major version (None: unknown).
pub(crate) fn rules_on_version(major: Option<u32>, sql: &str) -> Vec<&'static str> {
    let s = script("008.sql", sql);
    lint_with([&s], LintOptions { pg_major: major, ..Default::default() }).findings.iter().map(|f| f.rule).collect()
}

#[test]
fn type_advice_in_the_order_of_the_rules() {
    let found = rules(
        "CREATE TABLE t (id serial PRIMARY KEY, at timestamp, name varchar(50), code char(2), body text, n bigint);",
    );
    assert_eq!(found, ["prefer-identity", "prefer-timestamptz", "prefer-text", "prefer-text"]);
}

/// The statements of a goose block, sent as one query, are judged where each is written (the
/// review: every finding at the block's first line).
#[test]
fn statements_of_a_goose_block_are_judged_where_they_are_written() {
    let sql = "-- +goose Up\n-- +goose StatementBegin\nCREATE INDEX a_x ON orders (x);\n\n-- the second\nCREATE INDEX a_y ON orders (y);\n-- +goose StatementEnd\n";
    let report = on_live(live_database(&[("orders", 1_000_000)]), sql);
    let lines: Vec<(&str, usize, usize)> = report.findings.iter().map(|f| (f.rule, f.line, f.column)).collect();
    assert_eq!(
        lines,
        [("create-index-non-concurrently", 3, 1), ("create-index-non-concurrently", 6, 1)],
        "{:?}",
        report.findings
    );
    // A finding about a column of the second statement is at the column (review: its offset,
    // the block's, was counted from the second statement's start as well).
    let sql = "-- +goose Up\n-- +goose StatementBegin\nINSERT INTO t VALUES (1);\nCREATE TABLE more (\n  id serial PRIMARY KEY,\n  label text\n);\n-- +goose StatementEnd\n";
    let s = script("002_block.sql", sql);
    let found: Vec<(&str, usize, usize)> = lint([&s]).findings.iter().map(|f| (f.rule, f.line, f.column)).collect();
    assert_eq!(found, [("prefer-identity", 5, 3)]);
}

#[test]
fn allowed_findings_are_listed_but_do_not_block() {
    let s =
        script("003_drop.sql", "-- shale:allow destructive -- the feature was removed in 2.0\nDROP TABLE legacy;\n");
    let report = lint([&s]);
    assert_eq!(report.findings.len(), 1);
    assert!(report.findings[0].allowed);
    assert_eq!(report.blocking().count(), 0);
    let s = script("003_drop.sql", "DROP TABLE legacy;\n");
    assert_eq!(lint([&s]).blocking().count(), 1);
}

/// diesel-guard's blocks (crates.io has 14): the statements a reviewer marked safe are allowed,
/// those after the block are judged.
#[test]
fn a_safety_assured_block_of_diesel_guard_allows_its_statements() {
    let s = script(
        "008.sql",
        "-- safety-assured:start\nDROP TABLE legacy;\nALTER TABLE users DROP COLUMN old;\n-- safety-assured:end\nDROP TABLE other;\n",
    );
    let report = lint([&s]);
    let allowed: Vec<_> = report.findings.iter().map(|f| (f.line, f.allowed)).collect();
    assert_eq!(allowed, [(2, true), (3, true), (5, false)]);
}

#[test]
fn an_allow_before_a_statement_covers_that_statement_only() {
    let s = script(
        "007.sql",
        "CREATE INDEX CONCURRENTLY ok ON users (a);\n-- shale:allow destructive -- replaced by accounts\nDROP TABLE legacy;\nDROP TABLE other;\n",
    );
    let report = lint([&s]);
    let allowed: Vec<_> = report.findings.iter().map(|f| (f.line, f.allowed)).collect();
    assert_eq!(allowed, [(3, true), (4, false)]);
}

#[test]
fn syntax_errors_name_line_and_column_and_positions_are_lines() {
    let s = script("004_bad.sql", "SELECT 1;\n\nCREATE TABLE t (id int,, name text);\n");
    let report = lint([&s]);
    assert_eq!(report.syntax_errors.len(), 1, "{:?}", report.syntax_errors);
    let e = &report.syntax_errors[0];
    assert_eq!((e.line, e.column), (3, 24), "the second comma, as PostgreSQL says");
    assert!(e.message.contains("syntax error at or near \",\""), "{}", e.message);
    // The token the error names appears earlier too: the one the grammar stopped at is shown.
    let s = script("006_missing_semicolon.sql", "CREATE TABLE x (id int)\nCREATE TABLE y (id int);\n");
    let e = &lint([&s]).syntax_errors[0];
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    // A statement that ends too soon: where it ends.
    let s = script("007_cut_short.sql", "-- a comment\nSELECT 1 FROM;\n");
    let e = &lint([&s]).syntax_errors[0];
    assert!(e.message.contains("at end of input"), "{e}");
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    let s = script("005.sql", "SELECT 1;\n\n  CREATE INDEX i ON users (x);\n");
    let f = &lint([&s]).findings[0];
    assert_eq!((f.line, f.column), (3, 3));
}

/// PostgreSQL 18's syntax reads (virtual generated columns, NOT ENFORCED constraints, temporal
/// keys, OLD and NEW in RETURNING); what the grammar refuses is a syntax error, unless the server
/// is of a later version, which may accept it: then it is only noted as not read.
#[test]
fn the_grammar_is_postgresql_18_s_and_a_later_server_may_accept_more() {
    assert_eq!(grammar_major(), 18);
    let s = script(
        "001_pg18.sql",
        "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL, CHECK (a > 0) NOT ENFORCED);\n\
         CREATE TABLE r (id int, during tstzrange, PRIMARY KEY (id, during WITHOUT OVERLAPS));\n\
         UPDATE t SET a = a + 1 RETURNING old.a, new.a;\n",
    );
    let report = lint_with([&s], LintOptions { pg_major: Some(18), ..Default::default() });
    assert!(report.syntax_errors.is_empty() && report.unread.is_empty(), "{:?}", report.syntax_errors);

    let s = script("002_later.sql", "SELECT 1;\nCREATE TABLE u (id int) WITH FUTURE SYNTAX;\n");
    let report = lint_with([&s], LintOptions { pg_major: Some(18), ..Default::default() });
    assert_eq!((report.syntax_errors.len(), report.unread.len()), (1, 0));
    let report = lint_with([&s], LintOptions { pg_major: Some(19), ..Default::default() });
    assert_eq!((report.syntax_errors.len(), report.unread.len()), (0, 1));
    assert_eq!(report.unread[0].line, 2);
}

#[test]
fn every_rule_has_its_texts() {
    let mut ids = std::collections::HashSet::new();
    for rule in RULES {
        assert!(!rule.why.is_empty() && !rule.fix.is_empty(), "{}", rule.id);
        // A front end puts its own words where the fix asks for the precaution.
        if let Some(precaution) = rule.precaution {
            assert!(rule.fix.contains(precaution.phrase()), "{}", rule.id);
        }
        // Words for any application: no command, no flag, no configuration file.
        for text in [rule.why, rule.fix] {
            assert!(!cli_words(text), "{text}");
        }
        assert!(ids.insert(rule.id), "duplicate rule id {}", rule.id);
    }
    assert_eq!(ids.len(), 24);
}

#[test]
fn the_run_s_own_tables_are_followed_through_renames_and_schema_moves() {
    // Created, then renamed: still new.
    assert!(rules("CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;\nCREATE INDEX i ON b (id);\nALTER TABLE b ALTER COLUMN id TYPE bigint;\nDROP TABLE b;").is_empty());
    assert!(rules_after(
        "CREATE TABLE app.a (id int);\nALTER TABLE app.a RENAME TO b;",
        "CREATE INDEX i ON app.b (id);"
    )
    .is_empty());
    // Moved to another schema: new there.
    assert!(rules("CREATE TABLE a (id int);\nALTER TABLE a SET SCHEMA archive;\nCREATE INDEX i ON archive.a (id);")
        .is_empty());
    // An index made in this run on a new table, renamed, then dropped.
    assert!(rules("CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\nALTER INDEX i RENAME TO j;\nDROP INDEX j;")
        .is_empty());
    // A column added in this run to an existing table is not used yet: renaming or dropping it is fine.
    assert_eq!(rules("ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE users RENAME COLUMN nick TO handle;\nALTER TABLE users DROP COLUMN handle;"), Vec::<&str>::new());
    // The existing table itself is still existing after a rename of something else.
    assert_eq!(
        rules("ALTER TABLE users RENAME TO accounts;\nCREATE INDEX i ON accounts (id);"),
        ["rename", "create-index-non-concurrently"]
    );
    assert_eq!(rules("DROP TABLE users, legacy;"), ["destructive", "destructive"]);
    // `public.t` and `t` are the same table.
    assert!(rules("CREATE TABLE t (id int);\nCREATE INDEX t_id ON public.t (id);").is_empty());
    assert!(rules("CREATE TABLE public.t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;").is_empty());
}

/// Rules that fire for `sql` on a database holding `tables` (name, rows), and the reasons given
/// for the ones that do not.
fn live_rules(tables: &[(&str, i64)], sql: &str) -> (Vec<&'static str>, Vec<String>) {
    let mut live = live_database(tables);
    live.indexes.insert("users_email".to_string(), "public.users".to_string());
    let report = on_live(live, sql);
    (
        report.findings.iter().map(|f| f.rule).collect(),
        report.cleared.iter().map(|c| format!("{}: {}", c.rule, c.reason)).collect(),
    )
}

#[test]
fn on_a_live_database_danger_is_judged_by_the_table() {
    let db = [
        ("users", 250_000),
        ("public.users", 250_000),
        ("tags", 12),
        ("public.tags", 12),
        ("empty", 0),
        ("public.empty", 0),
        // Never vacuumed or analyzed, and its statistics lost (a crash, a restored copy).
        ("unknown", -1),
        ("public.unknown", -1),
    ];
    let index = "CREATE INDEX i ON {} (id);";
    assert_eq!(live_rules(&db, &index.replace("{}", "users")).0, ["create-index-non-concurrently"]);
    let (fired, cleared) = live_rules(&db, &index.replace("{}", "tags"));
    assert!(fired.is_empty());
    assert_eq!(cleared, ["create-index-non-concurrently: tags has about 12 rows"]);
    assert_eq!(live_rules(&db, &index.replace("{}", "empty")).1, ["create-index-non-concurrently: empty is empty"]);
    // Not in the database and not created by a statement shale reads (a DO block made it).
    assert_eq!(
        live_rules(&db, &index.replace("{}", "made_by_a_function")).1,
        ["create-index-non-concurrently: made_by_a_function is not in the database before this run"]
    );
    // Data lost: any rows count; an empty table loses nothing.
    assert_eq!(live_rules(&db, "DROP TABLE tags;").0, ["destructive"]);
    assert_eq!(
        live_rules(&db, "ALTER TABLE tags ADD COLUMN n int NOT NULL;").0,
        ["add-column-not-null-without-default"]
    );
    assert!(live_rules(&db, "DROP TABLE empty;\nTRUNCATE empty;").0.is_empty());
    // Whether it has rows is not known: it may, as with no database to ask.
    assert_eq!(live_rules(&db, "DROP TABLE unknown;").0, ["destructive"]);
    assert_eq!(live_rules(&db, &index.replace("{}", "unknown")).0, ["create-index-non-concurrently"]);
    // The application knows an existing table by name, however small.
    assert_eq!(live_rules(&db, "ALTER TABLE empty RENAME TO nothing;").0, ["rename"]);
    // An index of the database is judged by its table.
    assert_eq!(live_rules(&db, "DROP INDEX users_email;").0, ["drop-index-non-concurrently"]);
}

#[test]
fn a_go_template_of_pop_s_is_named_in_the_syntax_error() {
    let s =
        script("20210128140414_namespace.up.sql", "CREATE TABLE {{ identifier .Parameters.tableName }} (id int);\n");
    let report = lint([&s]);
    assert_eq!(report.syntax_errors.len(), 1);
    let shown = report.syntax_errors[0].to_string();
    assert!(shown.starts_with("20210128140414_namespace.up.sql:1:14: syntax error at or near \"{\""), "{shown}");
    assert!(
        shown.ends_with(
            "is a Go template, which pop or tern fills in before running the file and shale does not: write the SQL it gives"
        ),
        "{shown}"
    );
}

#[test]
fn a_statement_that_does_not_parse_is_a_syntax_error_and_nothing_else() {
    // The broken CREATE TABLE would make the index look like one on an existing table.
    let s = script("011.sql", "CREATE TABLE t (id int name text);\nCREATE INDEX i ON t (id);\nDROP TABLE users;\n");
    let report = lint([&s]);
    assert_eq!(report.syntax_errors.len(), 1);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

#[test]
fn an_allow_may_name_a_rule_by_its_former_id() {
    let s = script(
        "012.sql",
        "-- shale:allow prefer-bigint-identity -- the ids come from the old system\n-- shale:allow no-char -- ISO codes\nCREATE TABLE t (id serial PRIMARY KEY, parent int REFERENCES t, code char(2));\n",
    );
    let report = lint([&s]);
    let found: Vec<_> = report.findings.iter().map(|f| (f.rule, f.allowed)).collect();
    assert_eq!(found, [("prefer-bigint-keys", true), ("prefer-identity", true), ("prefer-text", true)]);
    assert!(crate::rule("prefer-identity").is_some_and(|r| r.answers_to("prefer-bigint-identity")));
}

#[test]
fn a_verdict_only_report_blocks_exactly_where_the_full_report_does() {
    // One blocking error, one allowed error, warnings, a cleared finding (an index on a table
    // created in the same run) and lock effects.
    let created = script(
        "001_create.sql",
        "CREATE TABLE fresh (id serial PRIMARY KEY, name varchar(10));\nCREATE INDEX fresh_name ON fresh (name);",
    );
    let existing = script(
        "002_existing.sql",
        "-- shale:allow create-index-non-concurrently -- small table\nCREATE INDEX a ON old_a (x);",
    );
    let blocking = script("003_blocking.sql", "CREATE INDEX b ON old_b (x);");
    let scripts = [&created, &existing, &blocking];
    let full = lint_with(scripts, LintOptions::default());
    let verdict = lint_with(scripts, LintOptions { verdict_only: true, ..Default::default() });

    let ids = |r: &Report| r.blocking().map(|f| (f.rule, f.path.clone(), f.line)).collect::<Vec<_>>();
    assert_eq!(ids(&full), ids(&verdict));
    assert_eq!(ids(&verdict).len(), 1, "{:?}", verdict.findings);
    assert!(full.findings.len() > verdict.findings.len(), "the full report also lists warnings and allowed errors");
    assert!(!full.cleared.is_empty() && !full.effects.is_empty());
    assert!(verdict.cleared.is_empty() && verdict.effects.is_empty());
    assert_eq!(verdict.findings.len(), 1, "only what blocks is kept: {:?}", verdict.findings);
}

#[test]
fn a_verdict_only_report_keeps_syntax_errors() {
    let broken = script("001_broken.sql", "CREATE TABLE t (id int;");
    let verdict = lint_with([&broken], LintOptions { verdict_only: true, ..Default::default() });
    assert_eq!(verdict.syntax_errors.len(), 1);
}

#[test]
fn a_finding_about_a_column_is_shown_at_the_column() {
    let s = script("001.sql", "-- users\nCREATE TABLE users (\n    id serial PRIMARY KEY,\n    name varchar(50)\n);");
    let report = lint([&s]);
    let at: Vec<(&str, usize, usize)> = report.findings.iter().map(|f| (f.rule, f.line, f.column)).collect();
    assert_eq!(at, [("prefer-identity", 3, 5), ("prefer-text", 4, 5)]);
}

/// Whether `text` names a CLI command (`` `shale lint` ``), a flag (`--fix`; a `-- shale:` line is
/// SQL) or the CLI's configuration file, which the library leaves to the front end.
pub(crate) fn cli_words(text: &str) -> bool {
    text.contains("`shale ")
        || text.contains("shale.toml")
        || text.match_indices("--").any(|(i, _)| text[i + 2..].starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// The statements a DO block runs are judged as the file's own, where they are written (the
/// golang-migrate idiom of guarding DDL in a block): on a large table the guarded index build and
/// type change are flagged, on an empty one cleared; `--fix` leaves them to be rewritten by hand.
#[test]
fn the_statements_of_a_do_block_are_judged_where_they_are_written() {
    let sql = "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'artifact_size') THEN\n    CREATE INDEX artifact_size ON artifact (size);\n    ALTER TABLE artifact ALTER COLUMN size TYPE numeric;\n  END IF;\nEND $$;\n";
    let report = on_live(live_database(&[("artifact", 20_000)]), sql);
    let found: Vec<(&str, usize)> = report.findings.iter().map(|f| (f.rule, f.line)).collect();
    assert!(found.contains(&("create-index-non-concurrently", 4)), "{found:?}");
    assert!(found.contains(&("alter-column-type", 5)), "{found:?}");
    let index = report.findings.iter().find(|f| f.rule == "create-index-non-concurrently").unwrap();
    assert!(index.message.ends_with("(in a DO block)") && index.in_do_block, "{}", index.message);
    assert!(report.effects.iter().any(|(_, line, e)| *line == 4 && e.table == "artifact"), "{:?}", report.effects);
    let fixed = fix::fix(&script("010.sql", sql), &report.findings, &fix::FixOptions::default());
    assert!(fixed.edits.is_empty() && !fixed.refused.is_empty(), "{fixed:?}");
    let empty = on_live(live_database(&[("artifact", 0)]), sql);
    assert!(empty.findings.iter().all(|f| f.rule != "create-index-non-concurrently"), "{:?}", empty.findings);
}

/// A finding Atlas's `-- atlas:nolint` was meant to silence says that shale does not read it, and
/// what does (Atlas trial: the first deploy was refused with no word of the line).
#[test]
fn an_atlas_nolint_line_is_named_in_the_finding() {
    let before = script("001_before.sql", "CREATE TABLE t (id int, legacy text);");
    let this = script("002_this.sql", "-- atlas:nolint DS103\nALTER TABLE t DROP COLUMN legacy;");
    let report = lint_after([&before], [&this], LintOptions::default());
    let drop = report.findings.iter().find(|f| f.rule == "destructive").expect("the drop is found");
    assert!(
        drop.fix.contains("the file's `-- atlas:nolint DS103` is Atlas's")
            && drop.fix.contains("`-- shale:allow destructive -- reason`"),
        "{}",
        drop.fix
    );
    let plain = script("002_this.sql", "ALTER TABLE t DROP COLUMN legacy;");
    let report = lint_after([&before], [&plain], LintOptions::default());
    assert!(report.findings.iter().all(|f| !f.fix.contains("atlas")));
}

#[test]
fn a_long_insert_is_judged_by_its_first_row_and_placed_where_it_is_written() {
    let rows: Vec<String> = (0..shale_core::split::LONG_STATEMENT / 10).map(|i| format!("({i}, 'happy')")).collect();
    let insert = format!("INSERT INTO people (id, m) VALUES {}", rows.join(",\n"));
    // A label used in the rows of a long INSERT where it is added: found, and the finding spans
    // the whole statement as written.
    let sql = format!("ALTER TYPE mood ADD VALUE 'happy';\n{insert};\n");
    let s = script("003_seed.sql", &sql);
    let report = lint([&s]);
    let f = report.findings.iter().find(|f| f.rule == "enum-value-used-in-its-transaction").expect("found");
    assert_eq!(&sql[f.span.clone()], insert);
    assert!(f.statement.len() < 100, "the statement shown is its first row: {}", f.statement);
    // A cut that would make valid SQL invalid (`values` as an alias, a parenthesized join after
    // its column list) is not taken for a syntax error: the statement is read whole.
    let values: Vec<String> = (0..shale_core::split::LONG_STATEMENT / 6).map(|i| i.to_string()).collect();
    let sql = format!(
        "INSERT INTO d SELECT values.a FROM s AS values (a, b), (t1 JOIN t2 ON true) AS j WHERE values.a NOT IN ({});\n",
        values.join(", ")
    );
    let report = lint([&script("005_alias.sql", &sql)]);
    assert!(report.syntax_errors.is_empty(), "{:?}", report.syntax_errors);
    // A syntax error after the rows is where it is written.
    let sql = format!("{insert}\nON CONFLICT (id) DO NOTHIN;\n");
    let report = lint([&script("004_seed.sql", &sql)]);
    let e = &report.syntax_errors[0];
    assert_eq!((e.line, e.column), (rows.len() + 1, 21), "{e}");
}
