//! `ALTER COLUMN ... SET NOT NULL` on an existing table: a full scan under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_table, on, Hit, Rule};
use crate::effect::relation_name;
use crate::fix::{Edit, Refusal, Rewrite, Target};
use crate::{key, Context};
use shale_core::ident::constraint_name;

pub static RULE: Rule = rule!(
    "set-not-null",
    Warning,
    Lock,
    "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) already proves it",
    "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT; then SET NOT NULL (PostgreSQL 12+ skips the scan)",
    fixer: fix
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, commands)) = alter_table(node) else { return };
    let table = relation_name(r);
    // PostgreSQL 12 and later skip the scan when a validated CHECK (col IS NOT NULL) proves it.
    let checked = context.pg_major.is_none_or(|v| v >= 12);
    for (n, (kind, c)) in commands.enumerate() {
        let proven = context.proven_not_null.contains(&format!("{}.{}", key(&table), c.name.to_ascii_lowercase()));
        if kind == AlterTableType::AtSetNotNull && !(checked && proven) {
            let message = format!("SET NOT NULL on {table}.{}", c.name);
            hits.push(on(&RULE, &table, context.table_state(&table), message).command(n));
        }
    }
}

/// `SET NOT NULL` -> a NOT VALID `CHECK (col IS NOT NULL)` before it, validated, then the SET NOT
/// NULL (which uses the validated check instead of scanning), then the check dropped.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    if t.options.pg_major.is_some_and(|v| v < 12) {
        return Err("PostgreSQL 11 and older scan the table for SET NOT NULL even when a validated CHECK proves it: \
                    there is no form without the scan before PostgreSQL 12"
            .into());
    }
    let (_, command) = t.command().ok_or("the command is not in the statement")?;
    let NodeEnum::AlterTableStmt(s) = t.node else { return Err("not an ALTER TABLE".into()) };
    let r = s.relation.as_ref().ok_or("an ALTER TABLE without a table")?;
    let column = &command.name;
    // The check goes before the statement: the column must exist by then.
    let added_here = s.cmds.iter().any(|c| {
        matches!(c.node.as_ref(), Some(NodeEnum::AlterTableCmd(c))
            if matches!(c.def.as_ref().and_then(|d| d.node.as_ref()), Some(NodeEnum::ColumnDef(d)) if d.colname == *column))
    });
    if added_here {
        return Err(Refusal::until_changed(format!(
            "column {column} is added by this same statement: add it in a statement of its own"
        )));
    }
    // Not `table_column_not_null`: PostgreSQL 18 gives that name to the NOT NULL constraint itself,
    // which would then be called `..._not_null1`.
    let name = shale_core::ident::ident(&constraint_name(&r.relname, Some(column), "not_null_check"));
    let column = shale_core::ident::ident(column);
    let table = t.alter_table_prefix()?;
    let before = format!(
        "{table} {} {name} {} ({column} {}) {};\n{table} {} {name};\n",
        t.kw("ADD CONSTRAINT"),
        t.kw("CHECK"),
        t.kw("IS NOT NULL"),
        t.kw("NOT VALID"),
        t.kw("VALIDATE CONSTRAINT"),
    );
    Ok(Rewrite {
        edits: vec![
            Edit { range: t.span.start..t.span.start, text: before },
            t.then(&format!("{table} {} {name}", t.kw("DROP CONSTRAINT"))),
        ],
        description: format!(
            "checks {column} IS NOT NULL first with a NOT VALID constraint validated under a lock that lets writes \
             go on; SET NOT NULL then uses it instead of scanning (PostgreSQL 12+), and the constraint is dropped"
        ),
        outside_transaction: true,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, fixed_with, refused};
    use crate::fix::FixOptions;
    use crate::tests::{rules, rules_on_version};

    const RULE: &str = "set-not-null";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(RULE, "-- Every user has an email now.\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
                .unwrap(),
            "-- shale:no-transaction\n-- Every user has an email now.\n\
             ALTER TABLE users ADD CONSTRAINT users_email_not_null_check CHECK (email IS NOT NULL) NOT VALID;\n\
             ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null_check;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
             ALTER TABLE users DROP CONSTRAINT users_email_not_null_check;\n"
        );
        // Two columns of one statement; lower-case kept.
        assert_eq!(
            fixed(RULE, "alter table app.users alter email set not null, alter column \"Name\" set not null;").unwrap(),
            "-- shale:no-transaction\n\
             alter table app.users add constraint users_email_not_null_check check (email is not null) not valid;\n\
             alter table app.users validate constraint users_email_not_null_check;\n\
             alter table app.users add constraint \"users_Name_not_null_check\" check (\"Name\" is not null) not valid;\n\
             alter table app.users validate constraint \"users_Name_not_null_check\";\n\
             alter table app.users alter email set not null, alter column \"Name\" set not null;\n\
             alter table app.users drop constraint users_email_not_null_check;\n\
             alter table app.users drop constraint \"users_Name_not_null_check\";"
        );
    }

    #[test]
    fn must_not_fix() {
        let options = FixOptions { pg_major: Some(11), ..Default::default() };
        let why = fixed_with(RULE, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", &options).unwrap_err();
        assert!(why[0].contains("before PostgreSQL 12"), "{why:?}");
        let why = refused(RULE, "ALTER TABLE users ADD COLUMN nick text, ALTER COLUMN nick SET NOT NULL;");
        assert!(why.contains("added by this same statement"), "{why}");
    }

    #[test]
    fn a_validated_check_proves_it() {
        let steps = "ALTER TABLE users ADD CONSTRAINT e CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT e;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        // Each committed on its own, as the fix writes them; in one transaction, the first
        // statement's lock is held through the validation.
        let safe = format!("-- shale:no-transaction\n{steps}");
        let safe = safe.as_str();
        assert!(rules(safe).is_empty(), "{:?}", rules(safe));
        assert_eq!(rules(steps), ["lock-held-through-long-statement"]);
        assert_eq!(rules_on_version(Some(11), safe), ["set-not-null"]);
        // Not validated yet, or another column: the scan is still there.
        assert_eq!(
            rules("ALTER TABLE users ADD CONSTRAINT e CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
            ["set-not-null"]
        );
        assert_eq!(
            rules("ALTER TABLE users ADD CONSTRAINT e CHECK (email IS NOT NULL);\nALTER TABLE users ALTER COLUMN name SET NOT NULL;"),
            ["add-check-validated", "set-not-null"]
        );
    }

    #[test]
    fn set_not_null_on_an_existing_table() {
        assert_eq!(rules("ALTER TABLE users ALTER COLUMN email SET NOT NULL;"), ["set-not-null"]);
        assert!(rules("ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;").is_empty());
        assert!(rules("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;").is_empty());
    }
}
