//! A label `ALTER TYPE ... ADD VALUE` adds, used later in the same transaction, which PostgreSQL
//! refuses until the label is committed ("unsafe use of new value", SQLSTATE 55P04): the
//! migration fails on the server, where the linter can say so before it runs.

use pg_query::NodeEnum;

use super::{hit, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "enum-value-used-in-its-transaction",
    Warning,
    Always,
    "a label ALTER TYPE ... ADD VALUE adds cannot be used before its transaction commits: PostgreSQL refuses the statement that uses it (unsafe use of new value, 55P04) and the migration fails",
    "add the label in a migration of its own, before the one that uses it (as a generated diff writes them)"
);

/// Judged on the statement's text (`text`): a label is a string literal, wherever it stands (an
/// array, a cast, a default), which the parse tree's walk does not all reach.
pub(crate) fn check(text: &str, context: &Context) -> Option<Hit> {
    // Another type given the same label is no use of it (breadth trial: trigger.dev's enums
    // sharing their labels, each added in turn).
    let head = text.trim_start().get(..10).unwrap_or_default();
    if !context.in_transaction
        || (head.eq_ignore_ascii_case("alter type") && text.to_ascii_uppercase().contains("ADD VALUE"))
        || shale_core::literals::creates_a_routine_read_later(text)
    {
        return None;
    }
    let (enum_type, label) = context.enum_labels_added.iter().find(|(_, label)| {
        text.contains(&format!("'{}'", label.replace('\'', "''"))) && shale_core::literals::used_as_a_value(text, label)
    })?;
    Some(hit(&RULE, format!("'{label}' is used in the transaction that adds it to type {enum_type}")))
}

/// Remembers the label an `ALTER TYPE ... ADD VALUE` adds in a transaction (with its type).
pub(super) fn remember(node: &NodeEnum, context: &mut Context) {
    let NodeEnum::AlterEnumStmt(s) = node else { return };
    if !s.old_val.is_empty() || !context.in_transaction {
        return;
    }
    let name: Vec<&str> = s
        .type_name
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(part)) => Some(part.sval.as_str()),
            _ => None,
        })
        .collect();
    context.enum_labels_added.push((name.join("."), s.new_val.clone()));
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn a_label_used_where_it_is_added_but_not_once_committed() {
        let used = "ALTER TYPE \"Role\" ADD VALUE 'AUDITOR';\nUPDATE \"User\" SET roles = ARRAY['AUDITOR']::\"Role\"[] WHERE id = 1;";
        assert_eq!(rules(used), ["enum-value-used-in-its-transaction"]);
        let default = "ALTER TYPE mood ADD VALUE 'happy';\nALTER TABLE people ALTER COLUMN m SET DEFAULT 'happy';";
        assert_eq!(rules(default), ["enum-value-used-in-its-transaction"]);
        // Each statement commits on its own: the label is there when it is used.
        assert!(rules(&format!("-- shale:no-transaction\n{used}")).is_empty());
        // Another label, or the label only added.
        let ours = |sql: &str| rules(sql).contains(&"enum-value-used-in-its-transaction");
        assert!(!ours("ALTER TYPE mood ADD VALUE 'happy';\nUPDATE people SET m = 'sad' WHERE id = 1;"));
        assert!(!ours("ALTER TYPE mood ADD VALUE 'happy';"));
        // Added in a DO block: the block is no use of it.
        assert!(!ours("DO $$ BEGIN ALTER TYPE mood ADD VALUE 'happy'; END $$;"));
        // The same label added to another type is no use of it.
        assert!(!ours("ALTER TYPE mood ADD VALUE 'happy';\nALTER TYPE feeling ADD VALUE 'happy';"));
        // Passed to a function, a literal is its parameter's type, which the text does not say: a
        // function taking text (breadth trial: a Supabase project's 47 warnings) is no use.
        assert!(!ours("ALTER TYPE perm ADD VALUE 'b';\nCREATE VIEW v AS SELECT 1 AS x WHERE has_perm('b');"));
        // A PL/pgSQL body is read when it runs, not when it is created (re-check).
        assert!(!ours(
            "ALTER TYPE perm ADD VALUE 'b';\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE t SET p = 'b'; END $$;"
        ));
        assert!(ours(
            "ALTER TYPE perm ADD VALUE 'b';\nCREATE FUNCTION f() RETURNS perm LANGUAGE sql RETURN 'b'::perm;"
        ));
        // A rename is no new label.
        assert!(!ours("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';\nUPDATE people SET m = 'blue' WHERE id = 1;"));
    }
}
