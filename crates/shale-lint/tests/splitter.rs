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
        if let Err(disagreement) = agree(text) {
            panic!("{name}: {disagreement}");
        }
    }
}

/// Both splits give the same statements, or what differs.
fn agree(text: &str) -> Result<(), String> {
    let (ours, theirs) = (ours(text), theirs(text));
    if ours.len() != theirs.len() {
        return Err(format!("{} statements here, {} by the parser: {ours:#?}\n{theirs:#?}", ours.len(), theirs.len()));
    }
    for (a, b) in ours.iter().zip(&theirs) {
        // The parser's split keeps comments that trail a statement; our span ends at its last token.
        let rest = b.strip_prefix(a.as_str()).map(str::trim_start);
        if !rest.is_some_and(|r| r.is_empty() || r.starts_with("--") || r.starts_with("/*")) {
            return Err(format!("ours {a:?}, the parser's {b:?}"));
        }
    }
    Ok(())
}

mod generated {
    use proptest::prelude::*;

    /// Values whose text holds what a naive splitter trips on: semicolons in strings, quoted
    /// names, dollar quotes, comments (nested ones too) and parentheses.
    fn value() -> impl Strategy<Value = String> + Clone {
        prop_oneof![
            Just("1".to_string()),
            Just("'a;b'".to_string()),
            Just("'it''s; here'".to_string()),
            Just("E'back\\'slash;'".to_string()),
            Just("$$ ; $$".to_string()),
            Just("$tag$ $$; ' $tag$".to_string()),
            Just("\"we;ird\".x".to_string()),
            Just("(SELECT ';')".to_string()),
            Just("/* one; /* nested; */ */ 2".to_string()),
            Just("3 -- a line comment; with a semicolon\n".to_string()),
            Just("U&'d\\0061;'".to_string()),
            Just("ARRAY[';', $x$;$x$]".to_string()),
        ]
    }

    fn statement() -> impl Strategy<Value = String> {
        let values = || prop::collection::vec(value(), 1..4).prop_map(|v| v.join(", "));
        prop_oneof![
            values().prop_map(|v| format!("SELECT {v}")),
            values().prop_map(|v| format!("DO $body$ BEGIN PERFORM {v}; PERFORM 1; END $body$")),
            values().prop_map(|v| format!(
                "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN PERFORM {v}; RETURN 1; END $fn$"
            )),
            values().prop_map(|v| format!(
                "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT {v}; SELECT CASE WHEN true THEN 1 END; END"
            )),
            values().prop_map(|v| format!("CREATE TABLE t (c text DEFAULT ';', d int CHECK (d > 0)); INSERT INTO t (c) SELECT {v}")),
        ]
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(";"),
            Just(";\n"),
            Just(";\r\n\t"),
            Just("; -- after; it\n"),
            Just(";;\n"),
            Just("; /* x; */ ")
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn generated_files_split_as_the_parser_splits_them(
            parts in prop::collection::vec((statement(), separator()), 1..6),
            last_terminated in any::<bool>(),
        ) {
            let mut text = String::new();
            for (i, (statement, separator)) in parts.iter().enumerate() {
                text.push_str(statement);
                if i + 1 < parts.len() || last_terminated {
                    text.push_str(separator);
                } else {
                    text.push('\n');
                }
            }
            prop_assert!(super::agree(&text).is_ok(), "{text}\n{:?}", super::agree(&text));
        }
    }
}
