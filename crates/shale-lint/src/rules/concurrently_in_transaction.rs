//! A statement that cannot run in a transaction block (CONCURRENTLY, VACUUM, ...) inside an
//! explicit BEGIN ... COMMIT of a file shale runs outside a transaction.

use shale_core::layout::Script;
use shale_core::split::{no_transaction_reason, transaction_control, TransactionControl};

use super::{hit, Hit, Rule};

pub static RULE: Rule = rule!(
    "concurrently-in-transaction",
    Error,
    Always,
    "CONCURRENTLY (and VACUUM, ALTER SYSTEM, ...) cannot run inside a transaction block: the statement fails",
    "remove the BEGIN/COMMIT around it; shale already runs this file statement by statement outside a transaction"
);

/// For each statement of the file, in order: what it is (e.g. `CREATE INDEX CONCURRENTLY`) when
/// it cannot run in a transaction block and stands inside the file's own BEGIN ... COMMIT.
pub fn refused_in_block(script: &Script) -> Vec<Option<&'static str>> {
    let mut in_block = false;
    script
        .statements
        .iter()
        .map(|statement| {
            match transaction_control(statement) {
                Some(TransactionControl::Begin) => in_block = true,
                Some(TransactionControl::Commit | TransactionControl::Rollback) => in_block = false,
                _ => {}
            }
            in_block.then(|| no_transaction_reason(statement)).flatten()
        })
        .collect()
}

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
        let after_rollback =
            "-- shale:no-transaction\nBEGIN;\nSELECT 1;\nROLLBACK;\nCREATE INDEX CONCURRENTLY i ON users (a);\n";
        assert!(rules(after_rollback).is_empty());
    }
}
