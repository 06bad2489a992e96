//! The table locks a statement takes, read from its text, so that a strong one is taken only when
//! no session holds a conflicting lock (see the executor's lock-aware acquisition). Conservative:
//! where the text does not say, the strongest lock is assumed. The full parser (and the finer
//! distinctions the linter makes) lives in shale-lint; this reading keeps the embeddable library
//! free of it.

use crate::tokens::{self, Token, Tokens};

/// PostgreSQL's table lock modes, weakest first (PostgreSQL's own numbering: a stronger mode
/// conflicts with at least as many modes). Shown and serialized as SQL writes them
/// (`ACCESS EXCLUSIVE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// PostgreSQL's number for the mode (`LOCKMODE`: 1 for ACCESS SHARE to 8 for ACCESS
    /// EXCLUSIVE), as the parser gives it for `LOCK TABLE ... IN ... MODE`.
    pub fn from_number(number: i32) -> Option<LockMode> {
        usize::try_from(number).ok()?.checked_sub(1).and_then(|i| LockMode::ALL.get(i).copied())
    }

    /// As `pg_locks.mode` names it.
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// As SQL writes it (`ACCESS EXCLUSIVE`).
    pub fn sql_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether a lock of this mode and one of `other` cannot be held at once (PostgreSQL's
    /// conflict table).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let conflicts: &[LockMode] = match self {
            AccessShare => &[AccessExclusive],
            RowShare => &[Exclusive, AccessExclusive],
            RowExclusive => &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareUpdateExclusive => &[ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive],
            Share => &[RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareRowExclusive => {
                &[RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            Exclusive => {
                &[RowShare, RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            AccessExclusive => &LockMode::ALL,
        };
        conflicts.contains(&other)
    }

    /// The modes a lock of this mode waits for.
    pub fn conflicting(self) -> Vec<LockMode> {
        LockMode::ALL.into_iter().filter(|m| self.conflicts_with(*m)).collect()
    }

    /// The application's own statements take up to ROW EXCLUSIVE (reads, writes, `FOR UPDATE`):
    /// a lock that conflicts with those makes the application wait behind the migration.
    pub fn stalls_application(self) -> bool {
        self.conflicts_with(LockMode::RowExclusive) || self.conflicts_with(LockMode::AccessShare)
    }
}

/// `ACCESS EXCLUSIVE`
impl std::fmt::Display for LockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sql_name())
    }
}

impl serde::Serialize for LockMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.sql_name())
    }
}

/// A lock a statement takes: on `relation` (as written; an index's name stands for its table), or,
/// with `across`, on the tables at the other end of `relation`'s foreign keys; `reach` says which
/// of its partitions it locks too.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockTarget {
    pub relation: String,
    pub mode: LockMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub across: Option<ForeignKeys>,
    #[serde(skip_serializing_if = "Reach::is_itself")]
    pub reach: Reach,
}

/// The tables beside `relation` a lock falls on, which the statement's text does not name: a
/// partitioned table's partitions (PostgreSQL locks each of them, at any depth, as it locks the
/// table: a report reading one partition holds up `ALTER TABLE events`), or its default partition
/// (scanned by `ATTACH PARTITION` and `CREATE TABLE ... PARTITION OF`, for rows that belong to the
/// new partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// The relation alone (`ONLY`, or a statement that does not recurse).
    #[default]
    Itself,
    /// The relation and every partition (or inheritance child) below it.
    WithPartitions,
    /// The relation's default partition alone, where it has one.
    DefaultPartition,
}

impl Reach {
    fn is_itself(&self) -> bool {
        *self == Reach::Itself
    }
}

/// The foreign keys of a table (those it holds and those that point at it) a statement drops or
/// rebuilds: PostgreSQL then takes ACCESS EXCLUSIVE on the table at the other end of each too (to
/// drop or rebuild its triggers), which the statement's text does not name. `DROP TABLE child`
/// waits for every reader of `parent`, and makes them wait behind it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForeignKeys {
    /// Only the foreign key of this name (`DROP CONSTRAINT name`), as the catalog spells it.
    pub constraint: Option<String>,
    /// Only foreign keys over this column (`DROP COLUMN`, `ALTER COLUMN ... TYPE`), as the catalog
    /// spells it.
    pub column: Option<String>,
}

/// `CREATE INDEX`, `DROP INDEX`, `REINDEX` or `ALTER TABLE ... DETACH PARTITION` with
/// CONCURRENTLY: it takes no lock the application waits on, then waits for the transactions older
/// than it to end.
pub fn waits_for_older_transactions(text: &str) -> bool {
    tokens::first_word(text).is_some_and(|first| matches!(first.as_str(), "CREATE" | "DROP" | "REINDEX" | "ALTER"))
        && Tokens::new(text).any(|(t, _)| matches!(t, Token::Word(w) if w == "CONCURRENTLY"))
}

/// The locks `text` (one statement) takes on tables, as far as its text says.
pub fn statement_locks(text: &str) -> Vec<LockTarget> {
    // Only statements starting with these words lock a table here: the others (a seed's INSERT
    // of a million rows) are not tokenized whole, which held 12 bytes of tokens per byte of text.
    const LOCKING: [&str; 9] =
        ["ALTER", "CREATE", "DROP", "TRUNCATE", "LOCK", "CLUSTER", "VACUUM", "REINDEX", "REFRESH"];
    if !tokens::first_word(text).is_some_and(|first| LOCKING.contains(&first.as_str())) {
        return Vec::new();
    }
    let toks = tokens::shape_tokens(text);
    let word = |i: usize| match toks.get(i) {
        Some((Token::Word(w), _)) => w.as_str(),
        _ => "",
    };
    let name_at = |at: usize| tokens::name_at(text, &toks, at);
    // Names separated by commas from `at`.
    let names_from = |mut at: usize| -> Vec<String> {
        let mut found = Vec::new();
        while let Some((name, next)) = name_at(at) {
            if matches!(name.to_ascii_uppercase().as_str(), "CASCADE" | "RESTRICT" | "IN" | "NOWAIT" | "ONLY") {
                break;
            }
            found.push(name);
            if matches!(toks.get(next), Some((Token::Punct(','), _))) {
                at = next + 1;
            } else {
                break;
            }
        }
        found
    };
    let skip = |mut at: usize, words: &[&str]| {
        while words.contains(&word(at)) {
            at += 1;
        }
        at
    };
    let on = |relation: String, mode: LockMode| LockTarget { relation, mode, across: None, reach: Reach::Itself };
    // A statement that recurses locks each partition as it locks the table, unless `ONLY` says not.
    let with_partitions = |relation: String, mode: LockMode, only: bool| LockTarget {
        reach: if only { Reach::Itself } else { Reach::WithPartitions },
        ..on(relation, mode)
    };
    let default_partition = |relation: &str| LockTarget {
        reach: Reach::DefaultPartition,
        ..on(relation.to_string(), LockMode::AccessExclusive)
    };
    let across = |relation: &str, constraint: Option<String>, column: Option<String>| LockTarget {
        relation: relation.to_string(),
        mode: LockMode::AccessExclusive,
        across: Some(ForeignKeys { constraint, column }),
        reach: Reach::Itself,
    };
    let only_at = |at: usize| {
        (at..toks.len())
            .take_while(|i| matches!(word(*i), "IF" | "EXISTS" | "ONLY" | "TABLE"))
            .any(|i| word(i) == "ONLY")
    };
    let mut locks = Vec::new();
    match (word(0), word(1)) {
        ("ALTER", "TABLE") => {
            let at = skip(2, &["IF", "EXISTS", "ONLY"]);
            let only = only_at(2);
            let Some((table, next)) = name_at(at) else { return locks };
            let rest: Vec<&str> = (next..toks.len()).map(word).collect();
            let has = |seq: &[&str]| rest.windows(seq.len()).any(|w| w == seq);
            // ATTACH PARTITION and DETACH PARTITION (but CONCURRENTLY) lock the partition whole, and
            // the default partition, whose rows are checked against the partition's bounds.
            let partition = rest
                .windows(2)
                .position(|w| w == ["ATTACH", "PARTITION"] || w == ["DETACH", "PARTITION"])
                .and_then(|i| name_at(next + i + 2))
                .map(|(name, _)| name);
            let attaches_or_detaches = partition.is_some();
            // (A partition itself partitioned is locked with its own partitions.)
            if let Some(partition) = partition.filter(|_| !has(&["CONCURRENTLY"]) && !has(&["FINALIZE"])) {
                locks.push(with_partitions(partition, LockMode::AccessExclusive, false));
                locks.push(default_partition(&table));
            }
            // VALIDATE CONSTRAINT, SET STATISTICS, ATTACH PARTITION and DETACH ... CONCURRENTLY let
            // reads and writes go on.
            let light = rest.first() == Some(&"VALIDATE")
                || rest.first() == Some(&"SET") && has(&["STATISTICS"])
                || has(&["ATTACH", "PARTITION"])
                || has(&["DETACH", "PARTITION"]) && (has(&["CONCURRENTLY"]) || has(&["FINALIZE"]));
            let mode = if light {
                LockMode::ShareUpdateExclusive
            } else if has(&["FOREIGN", "KEY"])
                && !rest.iter().any(|w| matches!(*w, "COLUMN" | "DROP" | "TYPE" | "ALTER"))
            {
                LockMode::ShareRowExclusive
            } else {
                LockMode::AccessExclusive
            };
            // The foreign keys a subcommand drops or rebuilds lock their other tables whole.
            for i in next..toks.len() {
                let starts = i == next || matches!(toks.get(i - 1), Some((Token::Punct(','), _)));
                if !starts {
                    continue;
                }
                let named =
                    |at: usize| toks.get(skip(at, &["IF", "EXISTS"])).and_then(|(t, _)| tokens::catalog_form(t));
                match (word(i), word(i + 1)) {
                    ("DROP", "CONSTRAINT") => locks.push(across(&table, named(i + 2), None)),
                    ("DROP", "COLUMN") => locks.push(across(&table, None, named(i + 2))),
                    ("DROP", _) if !matches!(word(i + 1), "NOT" | "DEFAULT" | "IDENTITY" | "EXPRESSION") => {
                        locks.push(across(&table, None, named(i + 1)))
                    }
                    ("ALTER", _) => {
                        let column_at = if word(i + 1) == "COLUMN" { i + 2 } else { i + 1 };
                        let after = column_at + 1;
                        let retypes = word(after) == "TYPE" || (word(after) == "SET" && word(after + 2) == "TYPE");
                        if retypes {
                            locks.push(across(&table, None, named(column_at)));
                        }
                    }
                    _ => {}
                }
            }
            // ATTACH and DETACH lock the partitioned table alone; the rest reach its partitions.
            locks.push(with_partitions(table, mode, only || attaches_or_detaches));
            // A foreign key locks the table it references too.
            for (i, _) in toks.iter().enumerate().filter(|(i, _)| word(*i) == "REFERENCES") {
                if let Some((referenced, _)) = name_at(i + 1) {
                    locks.push(on(referenced, LockMode::ShareRowExclusive));
                }
            }
        }
        ("CREATE", _) if (1..4).any(|i| word(i) == "INDEX") => {
            if (1..5).any(|i| word(i) == "CONCURRENTLY") {
                return locks;
            }
            if let Some(i) = (2..toks.len()).find(|i| word(*i) == "ON") {
                if let Some((table, _)) = name_at(skip(i + 1, &["ONLY"])) {
                    locks.push(with_partitions(table, LockMode::Share, word(i + 1) == "ONLY"));
                }
            }
        }
        ("CREATE", _) if (1..4).any(|i| word(i) == "TRIGGER") => {
            if let Some(i) = (2..toks.len()).find(|i| word(*i) == "ON") {
                if let Some((table, _)) = name_at(i + 1) {
                    locks.push(with_partitions(table, LockMode::ShareRowExclusive, false));
                }
            }
        }
        // A policy locks its table whole (Supabase's on storage.objects, a busy table).
        ("CREATE" | "ALTER" | "DROP", "POLICY") => {
            if let Some(i) = (2..toks.len()).find(|i| word(*i) == "ON") {
                if let Some((table, _)) = name_at(i + 1) {
                    locks.push(on(table, LockMode::AccessExclusive));
                }
            }
        }
        // A new table locks nothing anyone uses, but the tables its foreign keys point at, and, as a
        // partition, its parent whole and the parent's default partition (scanned for its rows).
        ("CREATE", _) if (1..4).any(|i| word(i) == "TABLE") => {
            if let Some(i) = (2..toks.len()).find(|i| word(*i) == "PARTITION" && word(i + 1) == "OF") {
                if let Some((parent, _)) = name_at(i + 2) {
                    locks.push(default_partition(&parent));
                    locks.push(on(parent, LockMode::AccessExclusive));
                }
            }
            for (i, _) in toks.iter().enumerate().filter(|(i, _)| word(*i) == "REFERENCES") {
                if let Some((referenced, _)) = name_at(i + 1) {
                    locks.push(on(referenced, LockMode::ShareRowExclusive));
                }
            }
        }
        ("DROP", "TRIGGER") => {
            if let Some(i) = (2..toks.len()).find(|i| word(*i) == "ON") {
                if let Some((table, _)) = name_at(i + 1) {
                    locks.push(with_partitions(table, LockMode::AccessExclusive, false));
                }
            }
        }
        ("DROP", "TABLE") | ("DROP", "MATERIALIZED") => {
            let at = skip(if word(1) == "MATERIALIZED" { 3 } else { 2 }, &["IF", "EXISTS"]);
            for table in names_from(at) {
                if word(1) == "TABLE" {
                    locks.push(across(&table, None, None));
                }
                locks.push(with_partitions(table, LockMode::AccessExclusive, false));
            }
        }
        ("DROP", "INDEX") if word(2) != "CONCURRENTLY" => {
            let at = skip(2, &["IF", "EXISTS"]);
            locks.extend(names_from(at).into_iter().map(|t| with_partitions(t, LockMode::AccessExclusive, false)));
        }
        ("ALTER", "INDEX") => {
            let at = skip(2, &["IF", "EXISTS"]);
            if let Some((index, _)) = name_at(at) {
                locks.push(on(index, LockMode::AccessExclusive));
            }
        }
        ("TRUNCATE", _) => {
            let at = skip(1, &["TABLE", "ONLY"]);
            let only = only_at(1);
            // CASCADE empties the tables whose foreign keys point at these (one level is read).
            let cascade = toks.iter().any(|(t, _)| *t == Token::Word("CASCADE".into()));
            for table in names_from(at) {
                if cascade {
                    locks.push(across(&table, None, None));
                }
                locks.push(with_partitions(table, LockMode::AccessExclusive, only));
            }
        }
        ("LOCK", _) => {
            let at = skip(1, &["TABLE", "ONLY"]);
            let only = only_at(1);
            let tables = names_from(at);
            let words: Vec<&str> = (0..toks.len()).map(word).collect();
            let mode = match words.iter().position(|w| *w == "IN") {
                Some(i) => match &words[i + 1..] {
                    ["ACCESS", "SHARE", ..] => LockMode::AccessShare,
                    ["ROW", "SHARE", ..] => LockMode::RowShare,
                    ["ROW", "EXCLUSIVE", ..] => LockMode::RowExclusive,
                    ["SHARE", "UPDATE", ..] => LockMode::ShareUpdateExclusive,
                    ["SHARE", "ROW", ..] => LockMode::ShareRowExclusive,
                    ["SHARE", ..] => LockMode::Share,
                    ["EXCLUSIVE", ..] => LockMode::Exclusive,
                    _ => LockMode::AccessExclusive,
                },
                None => LockMode::AccessExclusive,
            };
            locks.extend(tables.into_iter().map(|t| with_partitions(t, mode, only)));
        }
        ("CLUSTER", _) => {
            let at = skip(1, &["VERBOSE"]);
            if let Some((table, _)) = name_at(at) {
                locks.push(on(table, LockMode::AccessExclusive));
            }
        }
        ("VACUUM", _) if (1..4).any(|i| word(i) == "FULL") => {
            let at =
                (1..toks.len()).find(|i| matches!(toks.get(*i), Some((Token::Punct(')'), _)))).map_or(2, |i| i + 1);
            let at = skip(at, &["FULL", "VERBOSE", "ANALYZE", "FREEZE"]);
            locks.extend(names_from(at).into_iter().map(|t| on(t, LockMode::AccessExclusive)));
        }
        ("REINDEX", kind @ ("TABLE" | "INDEX")) if word(2) != "CONCURRENTLY" => {
            if let Some((relation, _)) = name_at(2) {
                let mode = if kind == "TABLE" { LockMode::Share } else { LockMode::AccessExclusive };
                locks.push(on(relation, mode));
            }
        }
        ("REFRESH", "MATERIALIZED") if word(3) != "CONCURRENTLY" => {
            if let Some((view, _)) = name_at(3) {
                locks.push(on(view, LockMode::AccessExclusive));
            }
        }
        _ => {}
    }
    locks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locks(sql: &str) -> Vec<(String, LockMode)> {
        statement_locks(sql).into_iter().filter(|l| l.across.is_none()).map(|l| (l.relation, l.mode)).collect()
    }

    #[test]
    fn the_conflict_table() {
        use LockMode::*;
        assert!(AccessExclusive.conflicts_with(AccessShare));
        assert!(!ShareUpdateExclusive.conflicts_with(RowExclusive));
        assert!(Share.conflicts_with(RowExclusive) && !Share.conflicts_with(Share));
        assert!(AccessExclusive.stalls_application() && Share.stalls_application());
        assert!(!ShareUpdateExclusive.stalls_application());
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn modes_are_ordered_by_strength_and_spelt_as_sql() {
        use LockMode::*;
        assert!(AccessShare < RowExclusive && ShareUpdateExclusive < Share && Exclusive < AccessExclusive);
        assert_eq!([Share, AccessExclusive, ShareRowExclusive].into_iter().max(), Some(AccessExclusive));
        assert_eq!(ShareUpdateExclusive.to_string(), "SHARE UPDATE EXCLUSIVE");
        assert_eq!(serde_json::to_string(&AccessExclusive).unwrap(), "\"ACCESS EXCLUSIVE\"");
        assert_eq!(LockMode::from_number(1), Some(AccessShare));
        assert_eq!(LockMode::from_number(8), Some(AccessExclusive));
        assert_eq!(LockMode::from_number(0), None);
        assert_eq!(LockMode::from_number(9), None);
        // A stronger mode conflicts with at least as many modes as a weaker one.
        for pair in LockMode::ALL.windows(2) {
            assert!(pair[0].conflicting().len() <= pair[1].conflicting().len(), "{pair:?}");
        }
    }

    #[test]
    fn what_statements_lock() {
        use LockMode::*;
        assert_eq!(locks("ALTER TABLE users ADD COLUMN n int"), [("users".into(), AccessExclusive)]);
        assert_eq!(
            locks("alter table if exists only app.\"Users\" alter column n type bigint"),
            [("app.\"Users\"".into(), AccessExclusive)]
        );
        assert_eq!(locks("ALTER TABLE users VALIDATE CONSTRAINT c"), [("users".into(), ShareUpdateExclusive)]);
        assert_eq!(
            locks("ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"),
            [("orders".into(), ShareRowExclusive), ("users".into(), ShareRowExclusive)]
        );
        assert_eq!(locks("CREATE INDEX i ON users (email)"), [("users".into(), Share)]);
        assert_eq!(
            locks("CREATE POLICY p ON storage.objects FOR SELECT USING (true)"),
            [("storage.objects".into(), AccessExclusive)]
        );
        assert_eq!(locks("DROP POLICY IF EXISTS p ON storage.objects"), [("storage.objects".into(), AccessExclusive)]);
        assert_eq!(
            locks("CREATE TABLE tags (id int, history_id int REFERENCES history (id))"),
            [("history".into(), ShareRowExclusive)]
        );
        assert!(locks("CREATE TABLE tags (id int)").is_empty());
        assert_eq!(
            locks("CREATE UNIQUE INDEX IF NOT EXISTS i ON ONLY public.users USING btree (email)"),
            [("public.users".into(), Share)]
        );
        assert!(locks("CREATE INDEX CONCURRENTLY i ON users (email)").is_empty());
        assert_eq!(
            locks("DROP TABLE IF EXISTS a, b CASCADE"),
            [("a".into(), AccessExclusive), ("b".into(), AccessExclusive)]
        );
        assert_eq!(locks("DROP INDEX users_email"), [("users_email".into(), AccessExclusive)]);
        assert!(locks("DROP INDEX CONCURRENTLY users_email").is_empty());
        assert_eq!(locks("TRUNCATE TABLE a, b"), [("a".into(), AccessExclusive), ("b".into(), AccessExclusive)]);
        assert_eq!(locks("LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE"), [("t".into(), ShareRowExclusive)]);
        assert_eq!(
            locks("CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f()"),
            [("users".into(), ShareRowExclusive)]
        );
        assert_eq!(locks("VACUUM (FULL, VERBOSE) big"), [("big".into(), AccessExclusive)]);
        assert!(locks("VACUUM big").is_empty());
        assert!(locks("SELECT 1").is_empty() && locks("CREATE TABLE t (id int)").is_empty());
        assert!(locks("UPDATE users SET n = 1").is_empty(), "row locks, as the application's own");
    }

    /// A partitioned table's partitions are locked as PostgreSQL locks them: with the table,
    /// unless `ONLY`; ATTACH and DETACH lock the partition and the default partition whole, and
    /// the table alone (partitioned tables trial: a report on one partition held `ALTER TABLE
    /// events` up unseen, and ATTACH stalled every reader of the default partition).
    #[test]
    fn partitions_are_locked_as_postgresql_locks_them() {
        use LockMode::*;
        use Reach::*;
        let reach = |sql: &str| -> Vec<(String, LockMode, Reach)> {
            statement_locks(sql)
                .into_iter()
                .filter(|l| l.across.is_none())
                .map(|l| (l.relation, l.mode, l.reach))
                .collect()
        };
        assert_eq!(reach("ALTER TABLE events ADD COLUMN n int"), [("events".into(), AccessExclusive, WithPartitions)]);
        assert_eq!(reach("ALTER TABLE ONLY events ADD COLUMN n int"), [("events".into(), AccessExclusive, Itself)]);
        assert_eq!(
            reach("ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"),
            [
                ("events_2025".into(), AccessExclusive, WithPartitions),
                ("events".into(), AccessExclusive, DefaultPartition),
                ("events".into(), ShareUpdateExclusive, Itself)
            ]
        );
        assert_eq!(
            reach("ALTER TABLE events DETACH PARTITION events_2025"),
            [
                ("events_2025".into(), AccessExclusive, WithPartitions),
                ("events".into(), AccessExclusive, DefaultPartition),
                ("events".into(), AccessExclusive, Itself)
            ]
        );
        assert_eq!(
            reach("ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY"),
            [("events".into(), ShareUpdateExclusive, Itself)]
        );
        assert_eq!(
            reach("CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"),
            [("events".into(), AccessExclusive, DefaultPartition), ("events".into(), AccessExclusive, Itself)]
        );
        assert_eq!(reach("CREATE INDEX i ON events (kind)"), [("events".into(), Share, WithPartitions)]);
        assert_eq!(reach("CREATE INDEX i ON ONLY events (kind)"), [("events".into(), Share, Itself)]);
        assert_eq!(reach("TRUNCATE ONLY events"), [("events".into(), AccessExclusive, Itself)]);
        assert_eq!(reach("LOCK TABLE events IN SHARE MODE"), [("events".into(), Share, WithPartitions)]);
    }

    /// What a statement locks across foreign keys: (table, constraint, column) of each.
    fn across(sql: &str) -> Vec<(String, Option<String>, Option<String>)> {
        statement_locks(sql)
            .into_iter()
            .filter_map(|l| l.across.map(|k| (l.relation, k.constraint, k.column)))
            .collect()
    }

    #[test]
    fn concurrently_statements_wait_for_older_transactions() {
        assert!(waits_for_older_transactions("create index concurrently i on t (a)"));
        assert!(waits_for_older_transactions("ALTER TABLE events DETACH PARTITION e1 CONCURRENTLY;"));
        assert!(!waits_for_older_transactions("CREATE INDEX i ON t (a)"));
        assert!(!waits_for_older_transactions("UPDATE t SET note = 'concurrently'"));
    }

    #[test]
    fn dropping_or_rebuilding_a_foreign_key_locks_the_table_at_its_other_end() {
        let all = |t: &str| (t.to_string(), None, None);
        let named = |t: &str, c: &str| (t.to_string(), Some(c.to_string()), None);
        let column = |t: &str, c: &str| (t.to_string(), None, Some(c.to_string()));
        assert_eq!(across("DROP TABLE IF EXISTS a, b CASCADE"), [all("a"), all("b")]);
        assert!(across("DROP MATERIALIZED VIEW m").is_empty());
        assert_eq!(
            across("ALTER TABLE orders DROP CONSTRAINT IF EXISTS \"Orders_FK\""),
            [named("orders", "Orders_FK")]
        );
        assert_eq!(across("ALTER TABLE orders DROP COLUMN User_Id"), [column("orders", "user_id")]);
        assert_eq!(across("alter table orders drop user_id cascade"), [column("orders", "user_id")]);
        assert_eq!(
            across("ALTER TABLE users ALTER COLUMN id SET DATA TYPE bigint, ALTER n TYPE text"),
            [column("users", "id"), column("users", "n")]
        );
        assert_eq!(
            across("ALTER TABLE t ADD COLUMN x numeric(10, 2), DROP CONSTRAINT c"),
            [named("t", "c")],
            "a comma inside parentheses starts no subcommand"
        );
        assert!(across("ALTER TABLE t ALTER COLUMN n DROP NOT NULL").is_empty());
        assert!(across("ALTER TABLE t ALTER COLUMN n SET DEFAULT 1, ADD COLUMN y int").is_empty());
        assert!(across("ALTER TABLE t ADD COLUMN x int").is_empty());
        assert_eq!(across("TRUNCATE parent CASCADE"), [all("parent")]);
        assert!(across("TRUNCATE parent").is_empty());
        // The table's own lock is still there.
        assert!(statement_locks("DROP TABLE child")
            .iter()
            .any(|l| l.relation == "child" && l.across.is_none() && l.mode == LockMode::AccessExclusive));
    }
}
