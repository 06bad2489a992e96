//! `ADD FOREIGN KEY` without `NOT VALID` on an existing table: every row is checked under a lock
//! that blocks writes to both tables.

use pg_query::protobuf::{AlterTableType, ConstrType};
use pg_query::NodeEnum;

use super::{alter_table, definition, on, Hit, Rule};
use crate::effect::{constraint_type, relation_name};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-foreign-key-validated",
    Error,
    Lock,
    "adding a foreign key checks every existing row while holding SHARE ROW EXCLUSIVE on both tables",
    "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (a weaker lock)"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, commands)) = alter_table(node) else { return };
    let table = relation_name(r);
    for (kind, c) in commands {
        let Some(NodeEnum::Constraint(k)) = definition(c) else { continue };
        if kind == AlterTableType::AtAddConstraint
            && constraint_type(k.contype) == ConstrType::ConstrForeign
            && !k.skip_validation
        {
            let message = format!("adds a validated foreign key to {table}");
            hits.push(on(&RULE, &table, context.table_state(&table), message));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

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
