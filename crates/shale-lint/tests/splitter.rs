//! Differential test: shale's own statement splitter (shale-core, no C dependency) against the
//! real PostgreSQL parser's split, over every migration and seed file in this repository plus
//! hand-picked hard cases.

use std::path::{Path, PathBuf};

/// Our statements, comments stripped the way the parser's split does not: compare the SQL text
/// with whitespace normalised and leading comments removed.
fn ours(sql: &str) -> Vec<String> {
    shale_core::split::split(sql).unwrap().iter().map(|s| normalise(&sql[s.span.clone()])).collect()
}

fn theirs(sql: &str) -> Vec<String> {
    pg_query::split_with_parser(sql)
        .unwrap()
        .into_iter()
        .map(strip_leading_comments)
        .map(normalise)
        .filter(|s| !s.is_empty())
        .collect()
}

fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if s.starts_with("/*") {
            s = s.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            return s;
        }
    }
}

fn normalise(s: &str) -> String {
    s.trim().trim_end_matches(';').split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

#[test]
fn the_splitter_agrees_with_the_postgresql_parser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files = Vec::new();
    sql_files(&root, &mut files);
    assert!(files.len() >= 20, "expected the example migrations, found {}", files.len());
    let mut texts: Vec<(String, String)> =
        files.iter().map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap())).collect();
    let hard = [
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$; SELECT 2;",
        "CREATE FUNCTION g() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 ELSE 2 END; SELECT 3; END; SELECT 4;",
        "SELECT E'it\\'s; fine', 'a''b;c', \"we;ird\" FROM t /* a /* nested; */ comment */; SELECT $$;$$;",
        "DO $$ BEGIN PERFORM 1; END $$; -- trailing; comment\nSELECT 5",
        "CREATE TABLE t (c text DEFAULT ';');\nINSERT INTO t VALUES (';'), ($q$;$q$);",
    ];
    texts.extend(hard.iter().enumerate().map(|(i, s)| (format!("hard case {i}"), s.to_string())));
    for (name, text) in &texts {
        let (ours, theirs) = (ours(text), theirs(text));
        assert_eq!(ours.len(), theirs.len(), "{name}: {ours:#?}\n{theirs:#?}");
        for (a, b) in ours.iter().zip(&theirs) {
            // The parser's split keeps comments that trail a statement; our span ends at its last token.
            let rest = b.strip_prefix(a.as_str()).map(str::trim_start);
            assert!(
                rest.is_some_and(|r| r.is_empty() || r.starts_with("--") || r.starts_with("/*")),
                "{name}: ours {a:?}, the parser's {b:?}"
            );
        }
    }
}
