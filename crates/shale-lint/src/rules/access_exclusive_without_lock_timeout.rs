//! An ACCESS EXCLUSIVE statement on an existing table while lock_timeout is off.

use shale_core::locks::LockMode;

use super::{Hit, Rule};
use crate::{Context, Effect};

pub static RULE: Rule = rule!(
    "access-exclusive-without-lock-timeout",
    Error,
    Lock,
    "waiting for an ACCESS EXCLUSIVE lock with no lock_timeout queues every other query on the table behind the migration",
    "keep shale's lock_timeout on (the default is 5s), or set one for the file with `-- shale:lock-timeout=5s`"
);

/// Judged from the statement's lock and the timeout in force for its file.
pub fn check(effect: &Effect, context: &Context) -> Option<Hit> {
    (effect.lock == LockMode::AccessExclusive && context.lock_timeout_off && !effect.table.is_empty()).then(|| {
        // A statement on several tables (DROP TABLE a, b) is judged by the one it is most
        // dangerous on.
        let states = effect.table.split(", ").map(|t| context.table_state(t));
        let state = states.clone().find(|s| RULE.danger.applies(*s)).or_else(|| states.last());
        Hit {
            rule: &RULE,
            message: format!("takes ACCESS EXCLUSIVE on {} with lock_timeout off", effect.table),
            table: effect.table.clone(),
            state,
            part: None,
        }
    })
}

/// Whether lock_timeout is off for a file's statements: the file's own `-- shale:lock-timeout=...`
/// wins over the session's (None: not known).
pub fn timeout_off(session: Option<&str>, file: Option<&str>) -> bool {
    file.or(session).is_some_and(is_off)
}

/// `0` (with any unit) turns a PostgreSQL timeout off.
fn is_off(timeout: &str) -> bool {
    timeout.trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim() == "0"
}

#[cfg(test)]
mod tests {
    use super::timeout_off;
    use crate::tests::script;
    use crate::{lint_with, LintOptions};

    #[test]
    fn the_file_s_timeout_wins_over_the_session_s() {
        assert!(timeout_off(Some("0"), None) && timeout_off(Some("0ms"), None) && timeout_off(Some("5s"), Some("0s")));
        assert!(!timeout_off(Some("0"), Some("2s")) && !timeout_off(Some("5s"), None) && !timeout_off(None, None));
    }

    #[test]
    fn with_lock_timeout_off() {
        let run = |timeout: Option<&str>, sql: &str| -> Vec<&'static str> {
            let s = script("009.sql", sql);
            let options = LintOptions { lock_timeout: timeout.map(str::to_string), ..Default::default() };
            lint_with([&s], options).findings.iter().map(|f| f.rule).collect()
        };
        let alter = "ALTER TABLE users ADD COLUMN n int;";
        assert_eq!(run(Some("0"), alter), ["access-exclusive-without-lock-timeout"]);
        assert!(run(Some("5s"), alter).is_empty());
        assert!(run(None, alter).is_empty());
        assert!(run(Some("0"), &format!("-- shale:lock-timeout=2s\n{alter}")).is_empty(), "the file's own timeout");
        assert!(
            run(Some("0"), "CREATE TABLE users (n int);\nALTER TABLE users ADD COLUMN m int;").is_empty(),
            "new table"
        );
        assert!(run(Some("0"), "CREATE INDEX CONCURRENTLY i ON users (n);").is_empty(), "not ACCESS EXCLUSIVE");
        // LOCK takes the mode it names, ACCESS EXCLUSIVE when it names none.
        assert_eq!(run(Some("0"), "LOCK TABLE users;"), ["heavy-lock", "access-exclusive-without-lock-timeout"]);
        assert_eq!(run(Some("0"), "LOCK TABLE users IN SHARE MODE;"), ["heavy-lock"], "not ACCESS EXCLUSIVE");
        // DROP TABLE and TRUNCATE, by the tables they list: one existing table is enough.
        assert_eq!(run(Some("0"), "DROP TABLE users;"), ["destructive", "access-exclusive-without-lock-timeout"]);
        assert_eq!(
            run(Some("0"), "CREATE TABLE t (n int);\nTRUNCATE t, users;"),
            ["destructive", "access-exclusive-without-lock-timeout"]
        );
        assert!(run(Some("0"), "CREATE TABLE t (n int);\nDROP TABLE t;").is_empty(), "new table");
    }
}
