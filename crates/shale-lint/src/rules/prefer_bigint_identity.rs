//! serial and integer primary keys: 32-bit keys run out.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{defined_columns, hit, type_name, Hit, Rule};
use crate::effect::constraint_type;
use crate::Context;

pub static RULE: Rule = rule!(
    "prefer-bigint-identity",
    Warning,
    Always,
    "serial and integer keys run out at 2^31; changing the type later rewrites the table",
    "bigint GENERATED ALWAYS AS IDENTITY (or bigserial)"
);

pub(super) fn check(node: &NodeEnum, _: &Context, hits: &mut Vec<Hit>) {
    for col in defined_columns(node) {
        let name = &col.colname;
        let is_key = col.constraints.iter().any(|n| {
            matches!(n.node.as_ref(), Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrPrimary)
        });
        match type_name(col).as_str() {
            "serial" | "serial4" => hits.push(hit(&RULE, format!("column {name} is serial (32-bit)"))),
            "int4" if is_key => hits.push(hit(&RULE, format!("primary key {name} is integer (32-bit)"))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn serial_and_integer_keys() {
        assert_eq!(rules("CREATE TABLE t (id serial PRIMARY KEY);"), ["prefer-bigint-identity"]);
        assert_eq!(rules("CREATE TABLE t (id integer PRIMARY KEY);"), ["prefer-bigint-identity"]);
        assert!(rules("CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);").is_empty());
    }
}
