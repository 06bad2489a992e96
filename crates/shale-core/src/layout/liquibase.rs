//! Liquibase's formatted SQL changelogs: files opening with `--liquibase formatted sql`, each a
//! run of changesets, each opened by `--changeset AUTHOR:ID` and followed by its SQL and its
//! `--rollback` lines. A folder of them runs as Liquibase's `includeAll` runs it: the files in
//! name order, the changesets in each file's order. A changeset is the migration numbered by its
//! place in that order, named `AUTHOR:ID`.
//!
//! What a changeset says on its `--changeset` line is honoured where PostgreSQL gives it a meaning
//! (`runInTransaction:false`, `runOnChange:true`, `dbms`) and refused where shale would run it
//! otherwise than Liquibase does (`runAlways`, `failOnError:false`, another `endDelimiter`,
//! preconditions): a changeset is never run differently without saying so.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::{script, Ignored, LoadError, Migration, MigrationKind, Splitting};

mod master;
use crate::checksum::Checksum;
use crate::layout::Layout;
use crate::version::Version;
use master::SqlFileChangeset;
pub(super) use master::{Item, Master};

/// Whether `bytes` is a Liquibase formatted SQL changelog: its first line says so, as Liquibase
/// reads it (`--liquibase formatted sql`, in any case, spaces allowed after the dashes).
pub(crate) fn is_changelog(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let Some(rest) = first.strip_prefix(b"--") else { return false };
    let rest = rest.trim_ascii_start();
    rest.get(..19).is_some_and(|words| words.eq_ignore_ascii_case(b"liquibase formatted"))
}

/// The name of a new changelog that sorts after `last` (the folder's last file, relative), as
/// `shale new` writes it: the next number, written as `last` writes its own (`004-add-phone.sql`
/// after `003_users.sql`), or nothing when `last` does not start with a number.
pub fn next_file_name(last: &str, slug: &str) -> Option<String> {
    let (folder, file) = last.rsplit_once('/').map_or(("", last), |(f, n)| (f, n));
    let digits = file.bytes().take_while(u8::is_ascii_digit).count();
    let number: u128 = file[..digits].parse().ok()?;
    let separator = match file.as_bytes().get(digits) {
        Some(b'-') => "-",
        _ => "_",
    };
    let name = format!("{:0digits$}{separator}{slug}.sql", number + 1);
    let joined = if folder.is_empty() { name } else { format!("{folder}/{name}") };
    (joined.as_str() > last).then_some(joined)
}

/// A new changelog holding one changeset, with `down` (if any) as its `--rollback` lines.
pub fn new_changelog(author: &str, id: &str, title: &str, up: &str, down: Option<&str>) -> String {
    let mut text = format!("--liquibase formatted sql\n\n--changeset {author}:{id}\n-- {title}\n\n{up}\n");
    match down {
        Some(down) if !down.trim().is_empty() => {
            for line in down.trim_end().lines() {
                text.push_str(&format!("--rollback {line}\n"));
            }
        }
        // An empty rollback section says the changeset needs none.
        Some(_) => text.push_str("--rollback not required\n"),
        None => {}
    }
    text
}

/// The author of the last changeset of a changelog, which `shale new` writes the next one with.
pub fn last_author(text: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let comment = line.trim_start().strip_prefix("--")?.trim_start();
        changeset(word(comment, "changeset")?).map(|(author, _, _)| author)
    })
}

/// One changeset of a changelog.
#[derive(Debug, PartialEq, Eq)]
struct Changeset {
    author: String,
    id: String,
    /// From its `--changeset` line to the next one (or the end of the file).
    section: Range<usize>,
    /// Where its rollback SQL is: a `--rollback` line's SQL each; `Some` of nothing for
    /// `--rollback not required` (or `empty`), `None` when it gives no rollback.
    rollback: Option<Vec<Range<usize>>>,
    /// `runInTransaction:false`, with its line.
    no_transaction: Option<String>,
    /// `runOnChange:true`: run again whenever it changes.
    run_on_change: bool,
    /// Why it is not run on PostgreSQL (`dbms:` naming other databases, `ignore:true`).
    skipped: Option<String>,
}

/// The migrations of the changelog `text` at `path` (`relative` to the migrations directory),
/// numbered on from `*place`; changesets for other databases go to `ignored`.
pub(super) fn migrations(
    path: &Path,
    relative: &str,
    text: String,
    place: &mut usize,
    splitting: Splitting,
    ignored: &mut Vec<Ignored>,
) -> Result<Vec<Migration>, Vec<LoadError>> {
    let changesets = parse(path, &text)?;
    if changesets.is_empty() {
        ignored.push(Ignored { path: path.to_path_buf(), reason: "a Liquibase changelog with no changeset".into() });
        return Ok(Vec::new());
    }
    let rollbacks: Arc<str> = rollback_view(&text, &changesets).into();
    let shared: Arc<str> = text.into();
    let mut migrations = Vec::new();
    let mut errors = Vec::new();
    for changeset in changesets {
        if let Some(reason) = changeset.skipped {
            let line = line_of(&shared, changeset.section.start);
            ignored.push(Ignored {
                path: path.to_path_buf(),
                reason: format!("changeset {}:{} (line {line}) {reason}", changeset.author, changeset.id),
            });
            continue;
        }
        let no_tx = changeset.no_transaction.as_deref();
        let section = changeset.section.clone();
        let up = match script(path.to_path_buf(), shared.clone(), section.clone(), no_tx, splitting) {
            Ok(up) => up,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let down = match changeset.rollback {
            Some(_) => match script(path.to_path_buf(), rollbacks.clone(), section.clone(), no_tx, splitting) {
                Ok(down) => Some(down.into()),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
            None => None,
        };
        // Re-run when changed, as a repeatable migration is: after the numbered ones.
        let (kind, version_text) = match changeset.run_on_change {
            true => (MigrationKind::Repeatable, String::new()),
            false => {
                *place += 1;
                (MigrationKind::Versioned, place.to_string())
            }
        };
        migrations.push(Migration {
            version: Version::parse(&version_text),
            // As Liquibase names a changeset in its messages: its author and id.
            name: format!("{}:{}", changeset.author, changeset.id),
            kind,
            layout: Layout::Liquibase,
            checksum: Checksum::of(&shared[section]),
            up: up.into(),
            down,
            version_text,
            file: relative.to_string(),
            raw_up: None,
        });
    }
    match errors.is_empty() {
        true => Ok(migrations),
        false => Err(errors),
    }
}

/// The migration of a changeset of a master changelog whose change is the SQL file at `path`
/// (`relative`), with `rollback` (its path and text) as its down; numbered on from `*place`.
pub(super) fn sql_file_migration(
    changeset: &SqlFileChangeset,
    (path, relative, text): (&Path, &str, String),
    rollback: Option<(&Path, String)>,
    place: &mut usize,
    splitting: Splitting,
) -> Result<Migration, LoadError> {
    let no_tx = changeset.no_transaction.as_deref();
    let checksum = Checksum::of(&text);
    let whole = 0..text.len();
    let up = script(path.to_path_buf(), text, whole, no_tx, splitting)?;
    let down = match rollback {
        Some((path, text)) => {
            let whole = 0..text.len();
            Some(script(path.to_path_buf(), text, whole, no_tx, splitting)?.into())
        }
        None => None,
    };
    let (kind, version_text) = match changeset.run_on_change {
        true => (MigrationKind::Repeatable, String::new()),
        false => {
            *place += 1;
            (MigrationKind::Versioned, place.to_string())
        }
    };
    Ok(Migration {
        version: Version::parse(&version_text),
        name: format!("{}:{}", changeset.author, changeset.id),
        kind,
        layout: Layout::Liquibase,
        checksum,
        up: up.into(),
        down,
        version_text,
        file: relative.to_string(),
        raw_up: None,
    })
}

/// The changesets of a changelog, or every problem of its lines.
fn parse(path: &Path, text: &str) -> Result<Vec<Changeset>, Vec<LoadError>> {
    let mut changesets: Vec<Changeset> = Vec::new();
    let mut errors = Vec::new();
    let mut error = |offset: usize, message: String, hint: &str| {
        errors.push(LoadError::at(path, text, offset, message, Some(hint.to_string())));
    };
    let mut offset = 0;
    // Inside a `/* liquibase rollback` block: its lines are the rollback SQL up to `*/`.
    let mut rollback_block = false;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if index == 0 {
            continue;
        }
        if rollback_block {
            let (sql, closed) = match content.find("*/") {
                Some(end) => (start..start + end, true),
                None => (start..start + content.len(), false),
            };
            if let Some(rollback) = changesets.last_mut().and_then(|c| c.rollback.as_mut()) {
                rollback.push(sql);
            }
            rollback_block = !closed;
            continue;
        }
        let trimmed = content.trim_start();
        let at = start + (content.len() - trimmed.len());
        if let Some(rest) = trimmed.strip_prefix("/*") {
            if word(rest.trim_start(), "liquibase").is_some_and(|after| word(after.trim_start(), "rollback").is_some())
            {
                let Some(current) = changesets.last_mut() else { continue };
                current.rollback.get_or_insert_with(Vec::new);
                let body = start + content.to_ascii_lowercase().find("rollback").map_or(0, |i| i + "rollback".len());
                if let Some(end) = content.find("*/") {
                    current.rollback.as_mut().expect("set above").push(body..start + end);
                } else {
                    rollback_block = true;
                }
            }
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            if changesets.is_empty() && !trimmed.is_empty() {
                error(
                    at,
                    "SQL before the first `--changeset` line belongs to no changeset".into(),
                    "open a changeset above it (`--changeset AUTHOR:ID`), or remove it",
                );
            }
            continue;
        };
        let comment = comment.trim_start();
        if let Some(rest) = word(comment, "changeset") {
            match changeset(rest) {
                Some((author, id, attributes)) => {
                    if changesets.iter().any(|c| c.author == author && c.id == id) {
                        error(
                            at,
                            format!("changeset {author}:{id} is in this file twice"),
                            "give one of them another id (Liquibase refuses the file too)",
                        );
                    }
                    let line = index + 1;
                    let mut next = Changeset {
                        author,
                        id,
                        section: start..text.len(),
                        rollback: None,
                        no_transaction: None,
                        run_on_change: false,
                        skipped: None,
                    };
                    read_attributes(&mut next, &attributes, line, |message, hint| error(at, message, hint));
                    if let Some(previous) = changesets.last_mut() {
                        previous.section.end = start;
                    }
                    changesets.push(next);
                }
                None => error(
                    at,
                    "a `--changeset` line names its author and id: `--changeset AUTHOR:ID`".into(),
                    "write the author and the id, separated by a colon",
                ),
            }
            continue;
        }
        if let Some(rest) = word(comment, "rollback") {
            let Some(current) = changesets.last_mut() else { continue };
            let sql = rest.trim();
            let rollback = current.rollback.get_or_insert_with(Vec::new);
            let nothing = sql.eq_ignore_ascii_case("not required") || sql.eq_ignore_ascii_case("empty");
            if !sql.is_empty() && !nothing {
                let sql_start = start + content.len() - rest.trim_start().len();
                rollback.push(sql_start..start + content.len());
            }
            continue;
        }
        let refused = [
            ("precondition", "shale does not check Liquibase's preconditions"),
            ("property", "shale does not substitute Liquibase's properties"),
            ("include", "shale reads the changelogs of the folder in name order, as `includeAll` does"),
            ("ignorelines", "shale does not read Liquibase's `ignoreLines`"),
        ];
        let lower = comment.to_ascii_lowercase();
        if let Some((_, why)) = refused.iter().find(|(word, _)| lower.starts_with(word)) {
            let directive = comment.split_whitespace().next().unwrap_or_default();
            error(
                at,
                format!("`--{directive}`: {why}"),
                "write what it does in the SQL (a check in a DO block, the value itself, the included \
                 file in this folder), then remove the line",
            );
        }
    }
    match errors.is_empty() {
        true => Ok(changesets),
        false => Err(errors),
    }
}

/// `rest` after `word` (any case) and the space ending it, or nothing.
fn word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len()).filter(|head| head.eq_ignore_ascii_case(word))?;
    let rest = &text[head.len()..];
    (rest.is_empty() || rest.starts_with(char::is_whitespace) || rest.starts_with(':')).then_some(rest)
}

/// `AUTHOR:ID attributes...` of a `--changeset` line: the author up to the colon (quoted, it may
/// hold one), the id to the next space (quoted, it may hold spaces).
fn changeset(rest: &str) -> Option<(String, String, String)> {
    let rest = rest.trim_start();
    let (author, rest) = quoted_or_until(rest, |c| c == ':')?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let (id, attributes) = quoted_or_until(rest, char::is_whitespace)?;
    (!author.trim().is_empty() && !id.is_empty()).then(|| (author.trim().to_string(), id, attributes.to_string()))
}

/// A `"quoted"` value, or the text up to `end`; and what follows it.
fn quoted_or_until(text: &str, end: impl Fn(char) -> bool) -> Option<(String, &str)> {
    if let Some(inner) = text.strip_prefix('"') {
        let close = inner.find('"')?;
        return Some((inner[..close].to_string(), &inner[close + 1..]));
    }
    let stop = text.find(end).unwrap_or(text.len());
    Some((text[..stop].to_string(), &text[stop..]))
}

/// The `key:value` attributes of a `--changeset` line, into `changeset`; those shale would run
/// otherwise than Liquibase does are reported through `refuse`.
fn read_attributes(changeset: &mut Changeset, attributes: &str, line: usize, mut refuse: impl FnMut(String, &str)) {
    for attribute in attributes.split_whitespace() {
        let Some((key, value)) = attribute.split_once(':') else { continue };
        let yes = value.eq_ignore_ascii_case("true");
        match key.to_ascii_lowercase().as_str() {
            "runintransaction" if value.eq_ignore_ascii_case("false") => {
                changeset.no_transaction = Some(format!("`runInTransaction:false` (line {line})"));
            }
            "runonchange" => changeset.run_on_change = yes,
            "ignore" if yes => changeset.skipped = Some("says ignore:true".into()),
            "dbms" if !for_postgresql(value) => {
                changeset.skipped = Some(format!("is for other databases (dbms:{value})"));
            }
            "runalways" if yes => refuse(
                "`runAlways:true`: shale runs a changeset once, or again when it changes".into(),
                "make it `runOnChange:true`, or put what must run at every deploy in a seed file",
            ),
            "failonerror" if value.eq_ignore_ascii_case("false") => refuse(
                "`failOnError:false`: shale stops at an error, and applies the changeset whole or not at all".into(),
                "make the SQL succeed where it may fail (IF EXISTS, IF NOT EXISTS, a DO block), then remove the attribute",
            ),
            "enddelimiter" if value != ";" && !value.is_empty() => refuse(
                format!("`endDelimiter:{value}`: shale ends statements where PostgreSQL does, at `;` outside quotes and dollar quotes"),
                "end the statements with `;` and remove the attribute",
            ),
            _ => {}
        }
    }
}

/// Whether a `dbms:` list takes in PostgreSQL: it names it (or `all`), or it only excludes others.
fn for_postgresql(list: &str) -> bool {
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_ascii_lowercase()).collect();
    if names.iter().any(|n| n == "postgresql" || n == "all") {
        return true;
    }
    if names.iter().any(|n| n == "!postgresql" || n == "none") {
        return false;
    }
    names.iter().all(|n| n.starts_with('!'))
}

/// The file with only its rollback SQL left where it is written, everything else blanked (line
/// ends kept): a changeset's rollback is then the same section of it as its SQL is of the file,
/// so that errors in a rollback name the file's own lines and columns.
fn rollback_view(text: &str, changesets: &[Changeset]) -> String {
    let mut view: Vec<u8> = text.bytes().map(|b| if b == b'\n' { b'\n' } else { b' ' }).collect();
    for range in changesets.iter().filter_map(|c| c.rollback.as_ref()).flatten() {
        view[range.clone()].copy_from_slice(&text.as_bytes()[range.clone()]);
    }
    String::from_utf8(view).expect("whole characters copied into ASCII spaces")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<Changeset> {
        parse(Path::new("changes.sql"), text).unwrap()
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("changes.sql"), text).unwrap_err().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_first_line_says_whether_a_file_is_a_changelog() {
        assert!(is_changelog(b"--liquibase formatted sql\n--changeset a:1\n"));
        assert!(is_changelog(b"\xEF\xBB\xBF-- Liquibase Formatted SQL\n"));
        assert!(!is_changelog(b"\n--liquibase formatted sql\n"));
        assert!(!is_changelog(b"-- a file about liquibase\n"));
        assert!(!is_changelog(b"CREATE TABLE t (id int);\n"));
    }

    #[test]
    fn changesets_their_sections_and_rollbacks() {
        let text = "--liquibase formatted sql\n\n--changeset alice:1\nCREATE TABLE a (id int);\n--rollback DROP TABLE a;\n\n\
                    --changeSet \"Bob Smith\":\"two words\" runInTransaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n\
                    --rollback not required\n--changeset carol:3 runOnChange:true\nCREATE OR REPLACE VIEW v AS SELECT 1;\n";
        let found = parsed(text);
        assert_eq!(found.len(), 3);
        assert_eq!((found[0].author.as_str(), found[0].id.as_str()), ("alice", "1"));
        assert_eq!((found[1].author.as_str(), found[1].id.as_str()), ("Bob Smith", "two words"));
        assert!(text[found[0].section.clone()].starts_with("--changeset alice:1\nCREATE TABLE a"));
        assert!(text[found[0].section.clone()].ends_with("DROP TABLE a;\n\n"));
        let rollback = found[0].rollback.as_ref().unwrap();
        assert_eq!(&text[rollback[0].clone()], "DROP TABLE a;");
        assert_eq!(found[1].rollback.as_deref(), Some(&[][..]));
        assert_eq!(found[1].no_transaction.as_deref(), Some("`runInTransaction:false` (line 7)"));
        assert!(found[2].run_on_change && found[2].rollback.is_none());
        // The rollback view keeps the rollback SQL where it is, and only it.
        let view = rollback_view(text, &found);
        assert_eq!(view.len(), text.len());
        assert_eq!(view.lines().nth(4).unwrap().trim(), "DROP TABLE a;");
        assert_eq!(view.trim(), "DROP TABLE a;");
    }

    #[test]
    fn a_rollback_block_comment_is_a_rollback() {
        let text = "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a (id int);\n/* liquibase rollback\nDROP TABLE a;\n*/\n";
        let found = parsed(text);
        let view = rollback_view(text, &found);
        assert_eq!(view.trim(), "DROP TABLE a;");
    }

    #[test]
    fn a_new_changelog_sorts_after_the_last_and_is_read_back() {
        assert_eq!(next_file_name("003_users.sql", "add_phone").as_deref(), Some("004_add_phone.sql"));
        assert_eq!(next_file_name("changes/09-users.sql", "a").as_deref(), Some("changes/10-a.sql"));
        assert_eq!(next_file_name("99_z.sql", "a"), None, "100_a.sql sorts before 99_z.sql");
        assert_eq!(next_file_name("changelog-1.0.sql", "a"), None);
        let text = new_changelog(
            "Ann Lee",
            "add_phone",
            "add phone",
            "ALTER TABLE u ADD phone text;",
            Some("ALTER TABLE u\n  DROP phone;"),
        );
        assert_eq!(last_author(&text).as_deref(), Some("Ann Lee"));
        let found = parsed(&text);
        assert_eq!(found[0].id, "add_phone");
        assert_eq!(
            rollback_view(&text, &found).split_whitespace().collect::<Vec<_>>(),
            ["ALTER", "TABLE", "u", "DROP", "phone;"]
        );
    }

    #[test]
    fn changesets_for_other_databases_are_skipped() {
        let text = "--liquibase formatted sql\n--changeset a:1 dbms:oracle,h2\nSELECT 1 FROM dual;\n\
                    --changeset a:2 dbms:postgresql\nSELECT 2;\n--changeset a:3 dbms:!h2\nSELECT 3;\n\
                    --changeset a:4 dbms:!postgresql\nSELECT 4;\n--changeset a:5 ignore:true\nSELECT 5;\n";
        let skipped: Vec<bool> = parsed(text).iter().map(|c| c.skipped.is_some()).collect();
        assert_eq!(skipped, [true, false, false, true, true]);
    }

    #[test]
    fn what_shale_would_run_otherwise_is_refused_at_its_line() {
        let text = "--liquibase formatted sql\nSELECT 0;\n--changeset a:1 runAlways:true\nSELECT 1;\n\
                    --changeset a:2 endDelimiter:/\nSELECT 2\n/\n--changeset a:2\nSELECT 3;\n\
                    --changeset a:4\n--preconditions onFail:MARK_RAN\n--precondition-sql-check expectedResult:0 SELECT 1\nSELECT 4;\n\
                    --changeset nocolon\n";
        let found = errors(text);
        assert_eq!(found.len(), 7, "{found:#?}");
        assert!(found[0].starts_with("changes.sql:2:1: SQL before the first `--changeset` line"), "{found:#?}");
        assert!(found[1].starts_with("changes.sql:3:1: `runAlways:true`"), "{found:#?}");
        assert!(found[2].starts_with("changes.sql:5:1: `endDelimiter:/`"), "{found:#?}");
        assert!(found[3].starts_with("changes.sql:8:1: changeset a:2 is in this file twice"), "{found:#?}");
        assert!(found[4].starts_with("changes.sql:11:1: `--preconditions`"), "{found:#?}");
        assert!(found[5].starts_with("changes.sql:12:1: `--precondition-sql-check`"), "{found:#?}");
        assert!(found[6].starts_with("changes.sql:14:1: a `--changeset` line names its author and id"), "{found:#?}");
    }
}
