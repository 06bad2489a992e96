//! `ADD FOREIGN KEY` without `NOT VALID` on an existing table: every row is checked under a lock
//! that blocks writes to both tables.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{add_not_valid, validated_additions, Hit, Rule};
use crate::fix::{Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-foreign-key-validated",
    Error,
    Lock,
    "adding a foreign key checks every existing row while holding SHARE ROW EXCLUSIVE on both tables",
    "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (a weaker lock)",
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let first = hits.len();
    validated_additions(node, context, hits, &RULE, ConstrType::ConstrForeign, "foreign key");
    // Before PostgreSQL 18 a partitioned table refuses a NOT VALID foreign key (partitioned
    // tables trial: the advice, `--fix` and `diff` all wrote one, and `up` failed on it).
    if context.pg_major.is_none_or(|v| v < 18) {
        for hit in hits[first..].iter_mut().filter(|h| context.is_partitioned(&h.table)) {
            hit.advice = Some(ON_A_PARTITIONED_TABLE.to_string());
        }
    }
}

/// The safe way on a partitioned table, which takes its partitions' validated foreign keys over
/// as its own without checking their rows again.
const ON_A_PARTITIONED_TABLE: &str = "on a partitioned table, which refuses NOT VALID before PostgreSQL 18: add \
     the foreign key to each partition NOT VALID, then VALIDATE CONSTRAINT it there (each in its own transaction; a \
     partition itself partitioned: to its partitions so first, then to it plainly), then ADD it to the partitioned \
     table, which takes those over without checking the rows again (PostgreSQL 18 and \
     later: NOT VALID, then VALIDATE CONSTRAINT, on the partitioned table itself); that last ADD needs \
     `-- shale:allow add-foreign-key-validated -- its partitions hold it` above it, since lint cannot see that they do";

/// NOT VALID, then VALIDATE CONSTRAINT as the next statement.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    add_not_valid(t, "fkey")
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::rules;

    const RULE: &str = "add-foreign-key-validated";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(RULE, "ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;\n").unwrap(),
            "-- shale:no-transaction\nALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user;\n"
        );
        // Unnamed: named as PostgreSQL would; a comment after the `;` stays on its line.
        assert_eq!(
            fixed(RULE, "alter table app.orders add foreign key (user_id, tenant_id) references users; -- who ordered\ncomment on table app.orders is 'x';\n").unwrap(),
            "-- shale:no-transaction\nalter table app.orders add constraint orders_user_id_tenant_id_fkey foreign key (user_id, tenant_id) references users not valid; -- who ordered\nalter table app.orders validate constraint orders_user_id_tenant_id_fkey;\ncomment on table app.orders is 'x';\n"
        );
        // The last statement without its `;`; ONLY and quoted names kept.
        assert_eq!(
            fixed(RULE, "ALTER TABLE ONLY \"Orders\" ADD FOREIGN KEY (\"User\") REFERENCES users DEFERRABLE").unwrap(),
            "-- shale:no-transaction\nALTER TABLE ONLY \"Orders\" ADD CONSTRAINT \"Orders_User_fkey\" FOREIGN KEY (\"User\") REFERENCES users DEFERRABLE NOT VALID;\nALTER TABLE ONLY \"Orders\" VALIDATE CONSTRAINT \"Orders_User_fkey\""
        );
    }

    /// On a partitioned table (before PostgreSQL 18), the way by its partitions, and no fix.
    #[test]
    fn partitioned_tables_are_advised_by_their_partitions() {
        let events = "CREATE TABLE accounts (id int PRIMARY KEY);\nCREATE TABLE events (id int, account_id int, at date) PARTITION BY RANGE (at);\n";
        let fk =
            "ALTER TABLE events ADD CONSTRAINT events_account FOREIGN KEY (account_id) REFERENCES accounts (id);\n";
        let findings = |pg_major| crate::tests::findings_after_applied(events, fk, pg_major);
        let before_18 = findings(Some(17));
        assert_eq!(before_18.len(), 1);
        assert!(before_18[0].fix.contains("to each partition NOT VALID") && before_18[0].advised_here);
        assert!(findings(None)[0].advised_here, "a server of unknown version may be older");
        let on_18 = findings(Some(18));
        assert!(!on_18[0].advised_here && on_18[0].fix.starts_with("ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID"));
    }

    #[test]
    fn must_not_fix() {
        let why = refused(
            RULE,
            "INSERT INTO users (id) VALUES (0);\nALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;\n",
        );
        assert!(
            why.contains("line 1 (`INSERT INTO users (id) VALUES (0)`) must stay in one: it changes data"),
            "{why}"
        );
    }

    #[test]
    fn foreign_keys_without_not_valid() {
        assert_eq!(
            rules("ALTER TABLE s ADD CONSTRAINT s_user FOREIGN KEY (user_id) REFERENCES users (id);"),
            ["add-foreign-key-validated"]
        );
        assert!(rules("ALTER TABLE s ADD CONSTRAINT s_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;")
            .is_empty());
        assert!(rules("ALTER TABLE s VALIDATE CONSTRAINT s_user;").is_empty());
    }
}
