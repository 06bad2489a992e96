//! The statements a `DO` block runs, read out of its PL/pgSQL body with PostgreSQL's own
//! PL/pgSQL parser (libpg_query's), so that they are judged as the file's own statements are: a
//! golang-migrate file guards its DDL in `DO $$ BEGIN IF ... THEN ... END IF; END $$`, and a
//! `CREATE INDEX` there locks the table as one outside the block does.
//!
//! Read: the SQL statements of the body (`PLpgSQL_stmt_execsql`), in every branch, and an
//! `EXECUTE` of a string literal. Not read: dynamic SQL built at run time (`EXECUTE format(...)`),
//! which no reader of the file can know.

use pg_query::protobuf::DoStmt;
use pg_query::NodeEnum;

/// The statements the block `text` (a whole `DO` statement, parsed as `block`) runs, each with
/// its byte offset in `text`, in the order they are written. Empty for a block in another
/// language, or one the PL/pgSQL parser refuses (the server will say why when it runs).
pub(crate) fn statements(text: &str, block: &DoStmt) -> Vec<(String, usize)> {
    let language = block.args.iter().find_map(|arg| match arg.node.as_ref()? {
        NodeEnum::DefElem(d) if d.defname == "language" => match d.arg.as_ref()?.node.as_ref()? {
            NodeEnum::String(s) => Some(s.sval.to_ascii_lowercase()),
            _ => None,
        },
        _ => None,
    });
    if language.is_some_and(|l| l != "plpgsql") {
        return Vec::new();
    }
    let Ok(tree) = pg_query::parse_plpgsql(text) else { return Vec::new() };
    let mut queries = Vec::new();
    collect(&tree, &mut queries);
    // Each found where it is written (the parser's tree keeps branches in no written order): the
    // first place not taken by one before it, so that a statement written twice is found twice.
    // One not found verbatim is placed at the block. In the order they are written.
    let mut taken: Vec<usize> = Vec::new();
    let mut found: Vec<(String, usize)> = queries
        .into_iter()
        .map(|(query, literal)| {
            let written = literal.as_deref().unwrap_or(&query);
            let at = text.match_indices(written).map(|(at, _)| at).find(|at| !taken.contains(at)).unwrap_or(0);
            taken.push(at);
            (query, at)
        })
        .collect();
    found.sort_by_key(|(_, at)| *at);
    found
}

/// The SQL of `tree`'s statements: (statement, the literal it is written as
/// when it is an `EXECUTE 'literal'`).
fn collect(tree: &serde_json::Value, out: &mut Vec<(String, Option<String>)>) {
    match tree {
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
        serde_json::Value::Object(fields) => {
            for (key, value) in fields {
                match key.as_str() {
                    "PLpgSQL_stmt_execsql" => {
                        if let Some(query) = value.pointer("/sqlstmt/PLpgSQL_expr/query").and_then(|q| q.as_str()) {
                            out.push((query.to_string(), None));
                        }
                    }
                    "PLpgSQL_stmt_dynexecute" => {
                        let query = value.pointer("/query/PLpgSQL_expr/query").and_then(|q| q.as_str());
                        if let Some((literal, sql)) = query.and_then(|q| string_literal(q).map(|sql| (q, sql))) {
                            out.push((sql, Some(literal.to_string())));
                        }
                    }
                    _ => collect(value, out),
                }
            }
        }
        _ => {}
    }
}

/// The value of `expr` when it is one plain string literal (`'CREATE INDEX ...'`), else None.
fn string_literal(expr: &str) -> Option<String> {
    let inner = expr.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    // A quote inside must be a doubled one: `'a' || 'b'` is no single literal.
    let undoubled = inner.replace("''", "");
    (!undoubled.contains('\'')).then(|| inner.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Vec<(String, usize)> {
        let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap();
        let Some(NodeEnum::DoStmt(block)) = parsed.protobuf.stmts[0].stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            panic!("not a DO block: {sql}")
        };
        statements(sql, block)
    }

    #[test]
    fn the_statements_of_every_branch_and_literal_executes_where_they_are_written() {
        let sql = "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'i') THEN\n    CREATE INDEX i ON artifact (size);\n  ELSE\n    ALTER TABLE artifact ALTER COLUMN size TYPE numeric;\n  END IF;\n  EXECUTE 'DROP TABLE old_artifact';\n  EXECUTE format('DROP TABLE %I', 'x');\nEND $$";
        let found = read(sql);
        let texts: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "CREATE INDEX i ON artifact (size)",
                "ALTER TABLE artifact ALTER COLUMN size TYPE numeric",
                "DROP TABLE old_artifact"
            ]
        );
        assert_eq!(&sql[found[0].1..found[0].1 + 12], "CREATE INDEX");
        assert_eq!(&sql[found[2].1..found[2].1 + 12], "'DROP TABLE ");
    }

    #[test]
    fn a_block_in_another_language_is_not_read() {
        assert!(read("DO LANGUAGE plpython3u $$ plpy.execute('DROP TABLE t') $$").is_empty());
        assert!(read("DO $$ BEGIN PERFORM 1; END $$ LANGUAGE plpgsql").is_empty());
    }
}
