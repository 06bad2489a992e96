//! A statement that cannot run in a transaction block (CONCURRENTLY, VACUUM, ...) inside an
//! explicit BEGIN ... COMMIT of a file shale runs outside a transaction.

use super::{hit, Hit, Rule};

pub static RULE: Rule = rule!(
    "concurrently-in-transaction",
    Error,
    Always,
    "CONCURRENTLY (and VACUUM, ALTER SYSTEM, ...) cannot run inside a transaction block: the statement fails",
    "remove the BEGIN/COMMIT around it; shale already runs this file statement by statement outside a transaction"
);

/// `what` (e.g. `CREATE INDEX CONCURRENTLY`) stands inside the file's own BEGIN ... COMMIT.
pub fn check(what: &str) -> Hit {
    hit(&RULE, format!("{what} inside BEGIN ... COMMIT"))
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn inside_an_explicit_transaction() {
        let found = rules("-- shale:no-transaction\nBEGIN;\nCREATE INDEX CONCURRENTLY i ON users (a);\nCOMMIT;\nCREATE INDEX CONCURRENTLY j ON users (b);\n");
        assert_eq!(found, ["concurrently-in-transaction"]);
        assert!(rules("CREATE INDEX CONCURRENTLY i ON users (a);").is_empty());
    }
}
