//! A statement of a no-transaction migration whose outcome is unknown (its runner stopped after
//! sending it and before recording it): may it run again, and what in the database tells whether
//! it already ran?
//!
//! Judged from the statement's text alone; the executor looks in the catalog.

use crate::tokens::{name_at, tokens, Token};

/// What to do with a statement that may or may not have run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunCheck {
    /// Running it again changes nothing when it already ran (`IF [NOT] EXISTS`, VACUUM, ANALYZE,
    /// REINDEX, REFRESH MATERIALIZED VIEW, SET).
    Idempotent,
    /// `CREATE INDEX CONCURRENTLY name`: it ran if the index exists and is valid; an invalid one
    /// is what an interrupted build leaves (drop it, then run the statement again). `index` is
    /// the name as written (schema-qualified and quoted where the file says so).
    IndexBuilt { index: String },
    /// `DROP INDEX CONCURRENTLY name`: it ran if the index is gone.
    IndexDropped { index: String },
    /// `ALTER TYPE name ADD VALUE 'label'`: it ran if the enum has the label.
    EnumLabelAdded { type_name: String, label: String },
    /// `ALTER TABLE parent DETACH PARTITION child CONCURRENTLY`: it ran if `child` is no longer a
    /// partition of `parent`; one left pending detach (stopped, or out of time waiting for older
    /// transactions) is finished with `... FINALIZE` (see [`detach_concurrently`]).
    PartitionDetached { parent: String, partition: String },
    /// Nothing in the catalog tells (an INSERT, a function call): a person must look.
    Unknown,
}

fn word(t: Option<&(Token, std::ops::Range<usize>)>, w: &str) -> bool {
    matches!(t, Some((Token::Word(x), _)) if x == w)
}

/// What tells whether `text` (one statement) already ran.
pub fn rerun_check(text: &str) -> RerunCheck {
    let toks = tokens(text);
    let words: Vec<&str> = toks
        .iter()
        .map(|(t, _)| match t {
            Token::Word(w) => w.as_str(),
            _ => "",
        })
        .collect();
    let has_seq = |seq: &[&str]| words.windows(seq.len()).any(|w| w == seq);
    match words.as_slice() {
        ["VACUUM", ..] | ["ANALYZE" | "ANALYSE", ..] | ["REINDEX", ..] | ["CHECKPOINT", ..] | ["SET" | "RESET", ..] => {
            return RerunCheck::Idempotent
        }
        ["REFRESH", "MATERIALIZED", "VIEW", ..] => return RerunCheck::Idempotent,
        // The BEGIN of the file's own transaction block, whose statements are recorded only with
        // its COMMIT, in the block: the block the stopped run opened went with its session, or
        // committed with its record (which then points past it).
        ["BEGIN", ..] | ["START", "TRANSACTION", ..] => return RerunCheck::Idempotent,
        _ => {}
    }
    // CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON ...: even with IF NOT EXISTS the
    // index must be checked, since an interrupted build leaves an invalid one that IF NOT EXISTS
    // would keep.
    let create_index = match words.as_slice() {
        ["CREATE", "INDEX", "CONCURRENTLY", ..] => Some(3),
        ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => Some(4),
        _ => None,
    };
    if let Some(mut at) = create_index {
        if word(toks.get(at), "IF") && word(toks.get(at + 1), "NOT") && word(toks.get(at + 2), "EXISTS") {
            at += 3;
        }
        if word(toks.get(at), "ON") {
            // A name PostgreSQL picks itself: nothing to look for.
            return RerunCheck::Unknown;
        }
        return match name_at(text, &toks, at) {
            Some((index, next)) if word(toks.get(next), "ON") => {
                // The index goes in its table's schema, which its own name never says: looked
                // for there (review: a failed `_swap` build on `app.t` was not found in the
                // search_path, and the rerun met "already exists").
                let table_at = if word(toks.get(next + 1), "ONLY") { next + 2 } else { next + 1 };
                let schema =
                    name_at(text, &toks, table_at).and_then(|(table, _)| schema_of(&table).map(str::to_string));
                match schema {
                    Some(schema) if schema_of(&index).is_none() => {
                        RerunCheck::IndexBuilt { index: format!("{schema}.{index}") }
                    }
                    _ => RerunCheck::IndexBuilt { index },
                }
            }
            _ => RerunCheck::Unknown,
        };
    }
    if let ["DROP", "INDEX", "CONCURRENTLY", ..] = words.as_slice() {
        if word(toks.get(3), "IF") && word(toks.get(4), "EXISTS") {
            return RerunCheck::Idempotent;
        }
        return match name_at(text, &toks, 3) {
            Some((index, next)) if next == toks.len() => RerunCheck::IndexDropped { index },
            _ => RerunCheck::Unknown,
        };
    }
    if let Some((parent, partition)) = detach_concurrently(text) {
        return RerunCheck::PartitionDetached { parent, partition };
    }
    if let ["ALTER", "TYPE", ..] = words.as_slice() {
        if let Some((type_name, next)) = name_at(text, &toks, 2) {
            if word(toks.get(next), "ADD") && word(toks.get(next + 1), "VALUE") {
                if word(toks.get(next + 2), "IF") {
                    return RerunCheck::Idempotent;
                }
                if let Some((Token::Str(label), _)) = toks.get(next + 2) {
                    return RerunCheck::EnumLabelAdded { type_name, label: label.clone() };
                }
            }
        }
        return RerunCheck::Unknown;
    }
    let creates = words.first() == Some(&"CREATE") && has_seq(&["IF", "NOT", "EXISTS"]);
    let drops = words.first() == Some(&"DROP")
        && words.get(1..3).is_some_and(|w| w.contains(&"IF"))
        && has_seq(&["IF", "EXISTS"]);
    if creates || drops {
        return RerunCheck::Idempotent;
    }
    RerunCheck::Unknown
}

/// Whether `text` (one statement) may do something its transaction's rollback does not undo: a
/// write through dblink to another database, a file written on the server, a logical decoding
/// message. Sent in a block of its own and rolled back, such a statement may still have acted
/// (review: its dblink INSERT was made twice): it stays in doubt where its outcome is unknown.
/// (A sequence's `nextval` is not counted: a value a rolled-back attempt took is a gap, as after
/// any rollback.)
pub fn reaches_outside_its_transaction(text: &str) -> bool {
    // (A quoted name too: `public."dblink_exec"`, the re-check.)
    tokens(text).iter().any(|(t, _)| match t {
        Token::Word(w) | Token::Quoted(w) => {
            let w = w.trim_matches('"').to_ascii_uppercase();
            w.starts_with("DBLINK") || matches!(w.as_str(), "PG_FILE_WRITE" | "LO_EXPORT" | "PG_LOGICAL_EMIT_MESSAGE")
        }
        _ => false,
    })
}

/// The parent and the partition of `ALTER TABLE [IF EXISTS] [ONLY] parent DETACH PARTITION
/// partition CONCURRENTLY`, as written; None for other statements (`FINALIZE` included).
pub fn detach_concurrently(text: &str) -> Option<(String, String)> {
    let toks = tokens(text);
    if !(word(toks.first(), "ALTER") && word(toks.get(1), "TABLE")) {
        return None;
    }
    let mut at = 2;
    while ["IF", "EXISTS", "ONLY"].iter().any(|w| word(toks.get(at), w)) {
        at += 1;
    }
    let (parent, next) = name_at(text, &toks, at)?;
    if !(word(toks.get(next), "DETACH") && word(toks.get(next + 1), "PARTITION")) {
        return None;
    }
    let (partition, end) = name_at(text, &toks, next + 2)?;
    (word(toks.get(end), "CONCURRENTLY") && end + 1 == toks.len()).then_some((parent, partition))
}

/// The table and the name after `ALTER TABLE [IF EXISTS] [ONLY] table`, as written, and where
/// the rest of the statement's tokens start.
fn altered_table(text: &str, toks: &[(Token, std::ops::Range<usize>)]) -> Option<(String, usize)> {
    if !(word(toks.first(), "ALTER") && word(toks.get(1), "TABLE")) {
        return None;
    }
    let mut at = 2;
    while ["IF", "EXISTS", "ONLY"].iter().any(|w| word(toks.get(at), w)) {
        at += 1;
    }
    name_at(text, toks, at)
}

/// The table and the constraint of `ALTER TABLE table VALIDATE CONSTRAINT name`, as written.
pub fn validated_constraint(text: &str) -> Option<(String, String)> {
    let toks = tokens(text);
    let (table, next) = altered_table(text, &toks)?;
    if !(word(toks.get(next), "VALIDATE") && word(toks.get(next + 1), "CONSTRAINT")) {
        return None;
    }
    let (constraint, end) = name_at(text, &toks, next + 2)?;
    (end == toks.len()).then_some((table, constraint))
}

/// The table and the constraint of `ALTER TABLE table ADD CONSTRAINT name ... NOT VALID`, as
/// written: a constraint new rows are held to at once, the rows there only once it is validated.
pub fn added_not_valid(text: &str) -> Option<(String, String)> {
    let toks = tokens(text);
    let (table, next) = altered_table(text, &toks)?;
    if !(word(toks.get(next), "ADD") && word(toks.get(next + 1), "CONSTRAINT")) {
        return None;
    }
    let (constraint, _) = name_at(text, &toks, next + 2)?;
    let n = toks.len();
    (n >= 2 && word(toks.get(n - 2), "NOT") && word(toks.get(n - 1), "VALID")).then_some((table, constraint))
}

/// The index a `CREATE [UNIQUE] INDEX CONCURRENTLY` builds, as written; None for other statements
/// and for an index PostgreSQL names itself.
/// The schema of a qualified name as written (`app` of `app.t`, `"A.b"` of `"A.b".t`), if any.
fn schema_of(name: &str) -> Option<&str> {
    let mut quoted = false;
    let mut last_dot = None;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => last_dot = Some(i),
            _ => {}
        }
    }
    last_dot.map(|i| &name[..i])
}

pub fn concurrent_index_name(text: &str) -> Option<String> {
    match rerun_check(text) {
        RerunCheck::IndexBuilt { index } => Some(index),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concurrent_index_is_looked_for_in_its_table_s_schema() {
        let name = |sql: &str| concurrent_index_name(sql).unwrap();
        assert_eq!(name("CREATE UNIQUE INDEX CONCURRENTLY t_swap ON app.t USING btree (code)"), "app.t_swap");
        assert_eq!(name("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY \"A.b\".t (x)"), "\"A.b\".i");
        assert_eq!(name("CREATE INDEX CONCURRENTLY i ON t (x)"), "i");
        assert_eq!(name("CREATE INDEX CONCURRENTLY i ON app.\"t.x\" (x)"), "app.i");
    }

    #[test]
    fn constraints_added_not_valid_and_validated() {
        let add = "ALTER TABLE public.orders ADD CONSTRAINT ref_nn CHECK (ref IS NOT NULL) NOT VALID";
        assert_eq!(added_not_valid(add), Some(("public.orders".into(), "ref_nn".into())));
        assert_eq!(added_not_valid("ALTER TABLE orders ADD CONSTRAINT ref_nn CHECK (ref IS NOT NULL)"), None);
        let fk = "alter table only orders add constraint \"Orders_fk\" foreign key (c) references customers not valid";
        assert_eq!(added_not_valid(fk), Some(("orders".into(), "\"Orders_fk\"".into())));
        assert_eq!(
            validated_constraint("ALTER TABLE orders VALIDATE CONSTRAINT ref_nn"),
            Some(("orders".into(), "ref_nn".into()))
        );
        assert_eq!(validated_constraint("ALTER TABLE orders VALIDATE CONSTRAINT ref_nn, ADD COLUMN x int"), None);
        assert_eq!(validated_constraint("ALTER TABLE orders ALTER COLUMN ref SET NOT NULL"), None);
    }

    #[test]
    fn a_concurrent_detach_is_checked_by_its_partition() {
        assert_eq!(
            detach_concurrently("ALTER TABLE ONLY app.events DETACH PARTITION app.\"Events_2026\" CONCURRENTLY"),
            Some(("app.events".into(), "app.\"Events_2026\"".into()))
        );
        assert_eq!(detach_concurrently("alter table events detach partition events_1 finalize"), None);
        assert_eq!(detach_concurrently("ALTER TABLE events DETACH PARTITION events_1"), None);
        assert_eq!(
            rerun_check("ALTER TABLE events DETACH PARTITION events_1 CONCURRENTLY"),
            RerunCheck::PartitionDetached { parent: "events".into(), partition: "events_1".into() }
        );
    }

    #[test]
    fn concurrent_index_builds_are_checked_by_name() {
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY idx_a ON t (a)").as_deref(), Some("idx_a"));
        assert_eq!(
            concurrent_index_name("create unique index concurrently if not exists \"Idx\" on t (a)").as_deref(),
            Some("\"Idx\"")
        );
        assert_eq!(
            concurrent_index_name("CREATE INDEX CONCURRENTLY app.\"My Idx\" ON app.t (a)").as_deref(),
            Some("app.\"My Idx\"")
        );
        assert_eq!(concurrent_index_name("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(concurrent_index_name("CREATE INDEX idx ON t (a)"), None);
        assert_eq!(concurrent_index_name("DROP INDEX CONCURRENTLY idx"), None);
    }

    #[test]
    fn statements_that_act_outside_their_transaction() {
        assert!(reaches_outside_its_transaction("SELECT dblink_exec('dbname=x', 'INSERT INTO log VALUES (1)')"));
        assert!(reaches_outside_its_transaction("select pg_file_write('f', 'x', false)"));
        assert!(reaches_outside_its_transaction("SELECT public.\"dblink_exec\"('dbname=x', 'SELECT 1')"));
        assert!(!reaches_outside_its_transaction("INSERT INTO t (id) VALUES (nextval('s'))"));
        assert!(!reaches_outside_its_transaction("INSERT INTO t VALUES ('dblink')"));
    }

    #[test]
    fn what_tells_whether_a_statement_ran() {
        assert_eq!(rerun_check("DROP INDEX CONCURRENTLY idx_a"), RerunCheck::IndexDropped { index: "idx_a".into() });
        assert_eq!(rerun_check("DROP INDEX CONCURRENTLY IF EXISTS idx_a"), RerunCheck::Idempotent);
        // Two indexes in one statement: no single answer.
        assert_eq!(rerun_check("DROP INDEX CONCURRENTLY a, b"), RerunCheck::Unknown);
        assert_eq!(
            rerun_check("ALTER TYPE mood ADD VALUE 'it''s ok' AFTER 'sad'"),
            RerunCheck::EnumLabelAdded { type_name: "mood".into(), label: "it's ok".into() }
        );
        assert_eq!(rerun_check("ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'x'"), RerunCheck::Idempotent);
        assert_eq!(rerun_check("ALTER TYPE mood RENAME VALUE 'a' TO 'b'"), RerunCheck::Unknown);
        for same in [
            "VACUUM (ANALYZE) big",
            "analyze big",
            "REINDEX INDEX CONCURRENTLY idx",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
            "CREATE TABLE IF NOT EXISTS t (id int)",
            "DROP TABLE IF EXISTS t",
            "SET search_path = app",
            // The BEGIN of a block of the file's own: the stopped run's block went with its session.
            "BEGIN",
            "start transaction isolation level serializable",
        ] {
            assert_eq!(rerun_check(same), RerunCheck::Idempotent, "{same}");
        }
        for unknown in [
            "INSERT INTO log VALUES (1)",
            "UPDATE t SET a = 1",
            "SELECT backfill()",
            "CREATE TABLE t (note text DEFAULT 'IF NOT EXISTS')",
            "DROP TABLE t",
        ] {
            assert_eq!(rerun_check(unknown), RerunCheck::Unknown, "{unknown}");
        }
    }
}
