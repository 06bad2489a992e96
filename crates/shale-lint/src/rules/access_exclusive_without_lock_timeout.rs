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

/// Judged from the statement's lock on one table and the timeout in force for its file (a
/// statement on several tables, DROP TABLE a, b, has an effect for each).
pub fn check(effect: &Effect, context: &Context) -> Option<Hit> {
    (effect.lock == LockMode::AccessExclusive && context.lock_timeout_off && !effect.table.is_empty()).then(|| Hit {
        rule: &RULE,
        message: format!("takes ACCESS EXCLUSIVE on {} with lock_timeout off", effect.target()),
        table: effect.table.clone(),
        state: Some(context.table_state(&effect.table)),
        part: None,
        cleared_because: None,
        advice: None,
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

    #[test]
    fn each_table_of_a_drop_is_judged_on_its_own() {
        let s = script("010.sql", "CREATE TABLE t (n int);\nDROP TABLE t, users;\n");
        let options = LintOptions { lock_timeout: Some("0".into()), ..Default::default() };
        let report = lint_with([&s], options);
        let rule = "access-exclusive-without-lock-timeout";
        let flagged: Vec<_> = report.findings.iter().filter(|f| f.rule == rule).map(|f| f.message.as_str()).collect();
        assert_eq!(flagged, ["takes ACCESS EXCLUSIVE on users with lock_timeout off"]);
        let cleared: Vec<_> = report.cleared.iter().filter(|c| c.rule == rule).map(|c| c.reason.as_str()).collect();
        assert_eq!(cleared, ["t is created earlier in this run"]);
        // A quoted name with ", " in it is one table, not two.
        let s = script("011.sql", "DROP TABLE \"a, users\";\n");
        let report = lint_with([&s], LintOptions { lock_timeout: Some("0".into()), ..Default::default() });
        let flagged: Vec<_> = report.findings.iter().filter(|f| f.rule == rule).map(|f| f.message.as_str()).collect();
        assert_eq!(flagged, ["takes ACCESS EXCLUSIVE on a, users with lock_timeout off"]);
        let tables: Vec<_> = report.effects.iter().map(|(_, _, e)| e.table.as_str()).collect();
        assert_eq!(tables, ["a, users"]);
        // The locks on a table created earlier in the run are not listed: no one waits on them.
        let s = script(
            "012.sql",
            "CREATE TABLE n (id int);\nCREATE INDEX n_id ON n (id);\nCREATE INDEX u_id ON users (id);\n",
        );
        let report = lint_with([&s], LintOptions::default());
        let locked: Vec<_> = report.effects.iter().map(|(_, line, e)| (*line, e.table.as_str())).collect();
        assert_eq!(locked, [(3, "users")]);
    }
}
