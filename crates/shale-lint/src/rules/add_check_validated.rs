//! `ADD CONSTRAINT ... CHECK` without `NOT VALID` on an existing table: a scan under ACCESS
//! EXCLUSIVE.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{add_not_valid, validated_additions, Hit, Rule};
use crate::fix::{Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-check-validated",
    Error,
    Lock,
    "adding a CHECK constraint scans every existing row under ACCESS EXCLUSIVE",
    "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration",
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    validated_additions(node, context, hits, &RULE, ConstrType::ConstrCheck, "CHECK constraint");
}

/// NOT VALID, then VALIDATE CONSTRAINT as the next statement.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    add_not_valid(t, "check")
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::rules;

    const RULE: &str = "add-check-validated";

    #[test]
    fn must_fix() {
        // Named after its one column, or after the table when it reads several; two in one statement.
        assert_eq!(
            fixed(RULE, "ALTER TABLE items ADD CHECK (price >= 0),\n  ADD CHECK (price <= list_price) NO INHERIT;\n").unwrap(),
            "-- shale:no-transaction\nALTER TABLE items ADD CONSTRAINT items_price_check CHECK (price >= 0) NOT VALID,\n  ADD CONSTRAINT items_check CHECK (price <= list_price) NO INHERIT NOT VALID;\nALTER TABLE items VALIDATE CONSTRAINT items_price_check;\nALTER TABLE items VALIDATE CONSTRAINT items_check;\n"
        );
        // Other additions in the file may run one by one too.
        assert_eq!(
            fixed(RULE, "ALTER TABLE items ADD COLUMN qty int;\nALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0);\n").unwrap(),
            "-- shale:no-transaction\nALTER TABLE items ADD COLUMN qty int;\nALTER TABLE items ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;\nALTER TABLE items VALIDATE CONSTRAINT qty_positive;\n"
        );
    }

    #[test]
    fn must_not_fix() {
        let why = refused(RULE, "ALTER TABLE items ADD CHECK (price >= 0);\nALTER TABLE items DROP COLUMN legacy;\n");
        assert!(why.contains("more than an addition"), "{why}");
        let why = refused(RULE, "ALTER TABLE items ADD CHECK (price >= 0);\nDO $$ BEGIN PERFORM 1; END $$;\n");
        assert!(why.contains("it runs code"), "{why}");
    }

    #[test]
    fn checks_without_not_valid() {
        assert_eq!(rules("ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0);"), ["add-check-validated"]);
        assert!(rules("ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0) NOT VALID;").is_empty());
    }
}
