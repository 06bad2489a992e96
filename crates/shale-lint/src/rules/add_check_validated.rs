//! `ADD CONSTRAINT ... CHECK` without `NOT VALID` on an existing table: a scan under ACCESS
//! EXCLUSIVE.

use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;

use super::{alter_table, definition, on, Hit, Rule};
use crate::effect::{constraint_type, relation_name};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-check-validated",
    Error,
    Lock,
    "adding a CHECK constraint scans every existing row under ACCESS EXCLUSIVE",
    "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, commands)) = alter_table(node) else { return };
    let table = relation_name(r);
    for (kind, c) in commands {
        let Some(NodeEnum::Constraint(k)) = definition(c) else { continue };
        if kind == AlterTableType::AtAddConstraint
            && constraint_type(k.contype) == ConstrType::ConstrCheck
            && !k.skip_validation
        {
            let message = format!("adds a validated CHECK constraint to {table}");
            hits.push(on(&RULE, &table, context.table_state(&table), message));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn checks_without_not_valid() {
        assert_eq!(rules("ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0);"), ["add-check-validated"]);
        assert!(rules("ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0) NOT VALID;").is_empty());
    }
}
