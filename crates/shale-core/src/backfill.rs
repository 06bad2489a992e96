//! Batched backfills: an `UPDATE` under a `-- shale:backfill batch=N pause=D` line runs in
//! batches, each its own short transaction, so that no batch holds row locks (or bloats a
//! transaction) for long, and a killed run resumes at the next batch.
//!
//! Batches walk the table's primary key: each one updates the rows whose key lies after the
//! previous batch's last key and up to the key N rows further on (read in the same statement, from
//! the key's index). A table without a primary key is walked by `ctid` page ranges instead, which
//! needs a `WHERE` that leaves out rows already updated (a row's new version may land on a page
//! still to come). The position reached is written to the history in each batch's transaction, so
//! a batch and its record commit together: a resumed run neither skips nor repeats one.
//!
//! This module is pure: it reads the statement's shape and builds each batch's SQL; the executor
//! (shale-pg) reads the key columns and runs the batches.

use std::ops::Range;
use std::time::Duration;

use crate::tokens::{name_at, tokens, Token};

/// Rows per batch when the directive does not say.
pub const DEFAULT_BATCH: u64 = 5000;

/// What `-- shale:backfill batch=N pause=D` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// Rows of the key range per batch (the rows updated may be fewer: the statement's own
    /// `WHERE` still applies).
    pub batch: u64,
    /// Sleep between batches, to leave room for the application's writes and for replicas.
    pub pause: Duration,
}

impl Default for Backfill {
    fn default() -> Self {
        Backfill { batch: DEFAULT_BATCH, pause: Duration::ZERO }
    }
}

impl Backfill {
    /// The options after `backfill`: `batch=N` and `pause=DURATION`, in any order, both optional.
    pub fn parse(options: &str) -> Result<Backfill, String> {
        let mut found = Backfill::default();
        for option in options.split_whitespace() {
            match option.split_once('=') {
                Some(("batch", n)) => {
                    found.batch = n
                        .replace('_', "")
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("`batch={n}` is not a number of rows: expected e.g. batch=5000"))?;
                }
                Some(("pause", d)) => {
                    found.pause = if d == "0" {
                        Duration::ZERO
                    } else {
                        humantime::parse_duration(d)
                            .map_err(|_| format!("`pause={d}` is not a duration: expected e.g. pause=50ms or pause=1s"))?
                    };
                }
                _ => {
                    return Err(format!(
                        "`{option}` is not a backfill option: expected `-- shale:backfill batch=5000 pause=50ms` (both optional)"
                    ))
                }
            }
        }
        Ok(found)
    }
}

/// The parts of an `UPDATE` a batch needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateShape {
    /// The target table as written (`public.users`, `"Users"`): usable after `FROM` and in a
    /// `::regclass` literal.
    pub table: String,
    /// `UPDATE ONLY t`: the key range is read from the same rows.
    pub only: bool,
    /// How the statement's clauses refer to the target's columns: its alias, else the table.
    pub reference: String,
    /// The top-level `WHERE` condition's text, as a byte range of the statement.
    pub condition: Option<Range<usize>>,
    /// End of the statement's last token (a trailing comment or `;` excluded).
    pub end: usize,
}

/// Read `text` (one statement) as an `UPDATE` a backfill can run in batches, or say why not.
pub fn update_shape(text: &str) -> Result<UpdateShape, String> {
    let toks = tokens(text);
    let word = |i: usize| match toks.get(i) {
        Some((Token::Word(w), _)) => Some(w.as_str()),
        _ => None,
    };
    let punct = |i: usize, c: char| matches!(toks.get(i), Some((Token::Punct(p), _)) if *p == c);
    match word(0) {
        Some("UPDATE") => {}
        Some("WITH") => {
            return Err("a backfill's UPDATE cannot start with WITH: move the CTE into a subquery of the UPDATE".into())
        }
        _ => return Err("`-- shale:backfill` goes on the line before an UPDATE".into()),
    }
    let mut i = 1;
    let only = word(i) == Some("ONLY");
    if only {
        i += 1;
    }
    let Some((table, after)) = name_at(text, &toks, i) else {
        return Err("expected a table name after UPDATE".into());
    };
    i = after;
    if punct(i, '*') {
        i += 1;
    }
    let mut reference = table.clone();
    if word(i) == Some("AS") {
        i += 1;
    }
    if word(i) != Some("SET") {
        match toks.get(i) {
            Some((Token::Word(_) | Token::Quoted(_), range)) => {
                reference = text[range.clone()].to_string();
                i += 1;
            }
            _ => return Err("expected SET after the table name".into()),
        }
    }
    if word(i) != Some("SET") {
        return Err("expected SET after the table name".into());
    }
    let mut depth = 0i32;
    let mut condition = None;
    let end = toks.iter().rev().find(|(t, _)| *t != Token::Punct(';')).map_or(text.len(), |(_, r)| r.end);
    for (j, (token, range)) in toks.iter().enumerate().skip(i + 1) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            Token::Word(w) if depth == 0 && w == "WHERE" => {
                if word(j + 1) == Some("CURRENT") && word(j + 2) == Some("OF") {
                    return Err("a backfill cannot use WHERE CURRENT OF".into());
                }
                condition = Some(range.end..end);
            }
            Token::Word(w) if depth == 0 && w == "RETURNING" => {
                return Err("a backfill's UPDATE cannot have RETURNING: its rows go nowhere".into());
            }
            _ => {}
        }
    }
    Ok(UpdateShape { table, only, reference, condition, end })
}

/// A column of the primary key: its quoted name and its type as `format_type` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    pub name: String,
    pub type_name: String,
}

/// Where a backfill stands, as kept in the history between batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Nothing done yet.
    Start,
    /// Key mode: every row up to this key (its columns' text values) is done.
    AfterKey(Vec<String>),
    /// ctid mode: every page before this one is done.
    BeforePage(u64),
    /// Every batch ran.
    Done,
}

impl Cursor {
    /// The text kept in the history's `resume_cursor` column.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Cursor::Start => None,
            Cursor::AfterKey(values) => Some(serde_json::Value::from(values.clone()).to_string()),
            Cursor::BeforePage(page) => Some(format!("page {page}")),
            Cursor::Done => Some(DONE.into()),
        }
    }

    pub fn from_text(text: Option<&str>) -> Result<Cursor, String> {
        let Some(text) = text else { return Ok(Cursor::Start) };
        let bad = || format!("the history's resume_cursor {text:?} is not one shale writes");
        if text == DONE {
            Ok(Cursor::Done)
        } else if let Some(page) = text.strip_prefix("page ") {
            page.parse().map(Cursor::BeforePage).map_err(|_| bad())
        } else {
            serde_json::from_str::<Vec<String>>(text).map(Cursor::AfterKey).map_err(|_| bad())
        }
    }
}

const DONE: &str = "done";

/// The statement's text with `extra` added to its top-level condition (or as one).
fn with_condition(text: &str, shape: &UpdateShape, extra: &str) -> String {
    match &shape.condition {
        Some(cond) => format!("{} ({}) AND {extra}", &text[..cond.start], text[cond.clone()].trim()),
        None => format!("{} WHERE {extra}", &text[..shape.end]),
    }
}

fn row(items: impl IntoIterator<Item = String>) -> String {
    format!("({})", items.into_iter().collect::<Vec<_>>().join(", "))
}

/// One batch over the primary key, in one statement: the key `batch` rows after `cursor` (read
/// from the key's index), the user's UPDATE limited to keys in that range, and the history row's
/// cursor moved to the range's end (`record(cursor_expression)` gives that UPDATE) so that the
/// batch and its record commit together. `cursor` holds the previous batch's last key as SQL
/// literals (quoted by the caller's quoting helper), empty for the first batch. Returns one row:
/// the rows updated, and the new cursor's text (or `done`).
pub fn key_batch_sql(
    text: &str,
    shape: &UpdateShape,
    keys: &[KeyColumn],
    cursor: &[String],
    batch: u64,
    record: &dyn Fn(&str) -> String,
) -> String {
    let bare = row(keys.iter().map(|k| k.name.clone()));
    let qualified = row(keys.iter().map(|k| format!("{}.{}", shape.reference, k.name)));
    let after = (!cursor.is_empty())
        .then(|| row(keys.iter().zip(cursor).map(|(k, literal)| format!("{literal}::{}", k.type_name))));
    let lower_of = |columns: &str| after.as_ref().map(|a| format!("{columns} > {a}"));
    let only = if shape.only { "ONLY " } else { "" };
    let upper = format!(
        "SELECT {cols} FROM {only}{table}{filter} ORDER BY {cols} LIMIT 1 OFFSET {offset}",
        cols = keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", "),
        table = shape.table,
        filter = lower_of(&bare).map(|c| format!(" WHERE {c}")).unwrap_or_default(),
        offset = batch.saturating_sub(1),
    );
    let mut range = vec![format!(
        "(NOT EXISTS (SELECT FROM shale_upper) OR {qualified} <= (SELECT {cols} FROM shale_upper))",
        cols = keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
    )];
    if let Some(lower) = lower_of(&qualified) {
        range.insert(0, lower);
    }
    let next = format!(
        "coalesce((SELECT json_build_array({})::text FROM shale_upper), '{DONE}')",
        keys.iter().map(|k| format!("{}::text", k.name)).collect::<Vec<_>>().join(", ")
    );
    format!(
        "WITH shale_upper AS ({upper}),\nshale_batch AS ({update}\nRETURNING 1),\nshale_record AS ({record})\nSELECT (SELECT count(*) FROM shale_batch), {next}",
        update = with_condition(text, shape, &range.join(" AND ")),
        record = record(&next),
    )
}

/// One batch over `ctid` pages `from..to` of a table without a primary key; `last` when `to`
/// reaches the end of the table as it was when the backfill started.
pub fn page_batch_sql(
    text: &str,
    shape: &UpdateShape,
    from: u64,
    to: u64,
    last: bool,
    record: &dyn Fn(&str) -> String,
) -> String {
    let next = if last { format!("'{DONE}'") } else { format!("'page {to}'") };
    let range = format!("{r}.ctid >= '({from},0)'::tid AND {r}.ctid < '({to},0)'::tid", r = shape.reference);
    format!(
        "WITH shale_batch AS ({update}\nRETURNING 1),\nshale_record AS ({record})\nSELECT (SELECT count(*) FROM shale_batch), {next}",
        update = with_condition(text, shape, &range),
        record = record(&next),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(Backfill::parse("").unwrap(), Backfill::default());
        let b = Backfill::parse("pause=50ms batch=1_000").unwrap();
        assert_eq!((b.batch, b.pause), (1000, Duration::from_millis(50)));
        assert!(Backfill::parse("batch=0").unwrap_err().contains("batch=0"));
        assert!(Backfill::parse("pause=soon").unwrap_err().contains("not a duration"));
        assert!(Backfill::parse("size=10").unwrap_err().contains("not a backfill option"));
    }

    #[test]
    fn reads_the_update() {
        let s =
            update_shape("UPDATE public.users AS u SET n = n + 1 FROM t WHERE u.id = t.id AND (x) -- c\n;").unwrap();
        assert_eq!((s.table.as_str(), s.reference.as_str(), s.only), ("public.users", "u", false));
        let text = "UPDATE public.users AS u SET n = n + 1 FROM t WHERE u.id = t.id AND (x) -- c\n;";
        assert_eq!(&text[s.condition.clone().unwrap()], " u.id = t.id AND (x)");
        let s = update_shape("update only \"Odd\" set a = (select b from c where d) ").unwrap();
        assert_eq!((s.table.as_str(), s.reference.as_str(), s.only, s.condition), ("\"Odd\"", "\"Odd\"", true, None));
    }

    #[test]
    fn refuses_what_cannot_be_batched() {
        assert!(update_shape("DELETE FROM t").unwrap_err().contains("before an UPDATE"));
        assert!(update_shape("WITH x AS (SELECT 1) UPDATE t SET a = 1").unwrap_err().contains("WITH"));
        assert!(update_shape("UPDATE t SET a = 1 RETURNING a").unwrap_err().contains("RETURNING"));
        assert!(update_shape("UPDATE t SET a = 1 WHERE CURRENT OF c").unwrap_err().contains("CURRENT OF"));
    }

    #[test]
    fn cursor_text_round_trips() {
        for c in [Cursor::AfterKey(vec!["1".into(), "a\"b".into()]), Cursor::BeforePage(7), Cursor::Done] {
            assert_eq!(Cursor::from_text(c.to_text().as_deref()).unwrap(), c);
        }
        assert_eq!(Cursor::from_text(None).unwrap(), Cursor::Start);
        assert!(Cursor::from_text(Some("{")).is_err());
    }

    #[test]
    fn key_batch_limits_the_update_to_the_range() {
        let text = "UPDATE items SET n = n + 1 WHERE n < 5";
        let shape = update_shape(text).unwrap();
        let keys = [KeyColumn { name: "id".into(), type_name: "bigint".into() }];
        let record = |next: &str| format!("UPDATE h SET resume_cursor = {next} WHERE id = 1");
        let first = key_batch_sql(text, &shape, &keys, &[], 100, &record);
        assert!(first.contains("SELECT id FROM items ORDER BY id LIMIT 1 OFFSET 99"), "{first}");
        assert!(first.contains("WHERE (n < 5) AND (NOT EXISTS"), "{first}");
        let later = key_batch_sql(text, &shape, &keys, &["'42'".into()], 100, &record);
        assert!(later.contains("WHERE (id) > ('42'::bigint) ORDER BY"), "{later}");
        assert!(later.contains("AND (items.id) > ('42'::bigint) AND"), "{later}");
        let none = key_batch_sql(
            "UPDATE items SET n = 0",
            &update_shape("UPDATE items SET n = 0").unwrap(),
            &keys,
            &[],
            10,
            &record,
        );
        assert!(none.contains("SET n = 0 WHERE (NOT EXISTS"), "{none}");
    }

    #[test]
    fn page_batch_uses_ctid_ranges() {
        let text = "UPDATE t SET a = 1 WHERE a IS NULL";
        let sql = page_batch_sql(text, &update_shape(text).unwrap(), 10, 20, false, &|n| format!("SELECT {n}"));
        assert!(sql.contains("WHERE (a IS NULL) AND t.ctid >= '(10,0)'::tid AND t.ctid < '(20,0)'::tid"), "{sql}");
        assert!(sql.contains("'page 20'"), "{sql}");
    }
}
