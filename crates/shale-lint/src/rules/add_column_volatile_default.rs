//! `ADD COLUMN` with a per-row default (a volatile function, a serial type), or with any default
//! on PostgreSQL 10 and older: the table is rewritten.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{added_columns, on, type_name, Hit, Rule};
use crate::effect::{constraint_type, relation_name};
use crate::fix::{relation, Edit, Refusal, Rewrite, Target};
use crate::Context;

pub static RULE: Rule = rule!(
    "add-column-volatile-default",
    Error,
    Lock,
    "a volatile default (or a serial type) is computed for every existing row: the table is rewritten under ACCESS EXCLUSIVE",
    "add the column without a default (or with a constant one), then set the default and backfill in batches",
    fixer: fix
);

/// Functions whose value differs per row: a default using one rewrites the table.
const VOLATILE: &[&str] =
    &["random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp", "timeofday", "nextval", "txid_current"];

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let Some((r, columns)) = added_columns(node) else { return };
    let table = relation_name(r);
    let state = context.table_state(&table);
    for col in columns {
        let default = default_of(col);
        let volatile = default.is_some_and(calls_volatile);
        // Before PostgreSQL 11 every default, even a constant, rewrote the table.
        let old_server = context.pg_major.is_some_and(|v| v < 11) && default.is_some();
        if !(volatile || is_serial(col) || old_server) {
            continue;
        }
        let why = if volatile || is_serial(col) {
            "a per-row default"
        } else {
            "a default (PostgreSQL 10 and older rewrite the table for any default)"
        };
        hits.push(
            on(&RULE, &table, state, format!("adds column {} to {table} with {why}", col.colname)).at(col.location),
        );
    }
}

/// `ADD COLUMN c type DEFAULT expr` -> `ADD COLUMN c type`, `ALTER COLUMN c SET DEFAULT expr` (for rows
/// written from then on), and `UPDATE t SET c = expr WHERE c IS NULL` for the rows already there, as
/// a batched backfill (`-- shale:backfill`), each committed by itself.
fn fix(t: &Target) -> Result<Rewrite, Refusal> {
    let NodeEnum::AlterTableStmt(s) = t.node else { return Err("not an ALTER TABLE".into()) };
    if t.command_count() != 1 {
        return Err(Refusal::until_changed(
            "the statement does more than add this column: give the column a statement of its own",
        ));
    }
    if s.missing_ok {
        return Err(
            "ALTER TABLE IF EXISTS: the backfill UPDATE would fail where the table is missing; write it by hand".into(),
        );
    }
    let (_, command) = t.command().ok_or("the column is not in the statement")?;
    if command.missing_ok {
        return Err("ADD COLUMN IF NOT EXISTS: the backfill would also fill the NULLs of a column that was already \
                    there; write it by hand"
            .into());
    }
    let col = t.column().ok_or("the column is not in the statement")?;
    if is_serial(col) {
        return Err("a serial column draws its values from a sequence it creates: add a bigint column, create the \
                    sequence, set the default and backfill by hand"
            .into());
    }
    let r = s.relation.as_ref().ok_or("an ALTER TABLE without a table")?;
    let mut constraints: Vec<&pg_query::protobuf::Constraint> = col
        .constraints
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
            _ => None,
        })
        .collect();
    constraints.sort_by_key(|k| k.location);
    let mut not_null = false;
    for k in &constraints {
        match constraint_type(k.contype) {
            ConstrType::ConstrDefault | ConstrType::ConstrNull => {}
            ConstrType::ConstrNotnull => not_null = true,
            other => {
                let what = format!("{other:?}").trim_start_matches("Constr").to_ascii_uppercase();
                return Err(Refusal::until_changed(format!(
                    "the column also has a {what} constraint: add that in a statement of its own after the backfill"
                )));
            }
        }
    }
    let first = t.file_offset(constraints.first().ok_or("the column has no default")?.location);
    if col.coll_clause.as_ref().is_some_and(|c| t.file_offset(c.location) > first) {
        return Err(Refusal::until_changed("COLLATE after the column's constraints: move it next to the type"));
    }
    // The expression: the tokens after DEFAULT, up to the next constraint (or the end).
    let (n, default) = constraints
        .iter()
        .enumerate()
        .find(|(_, k)| constraint_type(k.contype) == ConstrType::ConstrDefault)
        .ok_or("the column has no default")?;
    let from = t.token_at(t.file_offset(default.location)).ok_or("the default is not in the statement")?;
    let keyword = (from..t.tokens.len()).find(|&i| t.is(i, "DEFAULT")).ok_or("no DEFAULT keyword")?;
    let limit = match constraints.get(n + 1) {
        Some(next) => t.file_offset(next.location),
        None => t.item_end(keyword) + 1,
    };
    let expression: Vec<_> =
        t.tokens[keyword + 1..].iter().take_while(|tok| tok.range.end <= limit).map(|tok| tok.range.clone()).collect();
    let (Some(start), Some(end)) = (expression.first(), expression.last()) else {
        return Err("the default's expression is not in the statement".into());
    };
    let expression = &t.text[start.start..end.end];
    let kept = t.text[t.span.start..first].trim_end();
    let column = shale_core::ident::ident(&col.colname);
    let table = relation(r, &t.kw("ONLY "));
    let sql = format!(
        "{kept};\n{} {} {column} {} {expression};\n-- shale:backfill\n{} {table} {} {column} = {expression} {} {column} {}",
        t.alter_table_prefix()?,
        t.kw("ALTER COLUMN"),
        t.kw("SET DEFAULT"),
        t.kw("UPDATE"),
        t.kw("SET"),
        t.kw("WHERE"),
        t.kw("IS NULL"),
    );
    let mut description = "adds the column without its default, then SET DEFAULT (for new rows) and an UPDATE \
                           that fills the rows already there in batches (-- shale:backfill), each committed by itself"
        .to_string();
    if not_null {
        description.push_str(
            "; NOT NULL is left out: the column is nullable until the backfill is done (then SET NOT NULL, which \
             the linter's fix writes in its safe form)",
        );
    }
    Ok(Rewrite { edits: vec![Edit { range: t.span.clone(), text: sql }], description, outside_transaction: true })
}

/// The expression of a column's DEFAULT, if it has one.
pub(super) fn default_of(col: &pg_query::protobuf::ColumnDef) -> Option<&pg_query::protobuf::Node> {
    col.constraints.iter().find_map(|n| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrDefault => {
            k.raw_expr.as_deref()
        }
        _ => None,
    })
}

/// `serial`, `bigserial`, `smallserial` and their aliases: a sequence default.
pub(super) fn is_serial(col: &pg_query::protobuf::ColumnDef) -> bool {
    matches!(type_name(col).as_str(), "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2")
}

fn calls_volatile(node: &pg_query::protobuf::Node) -> bool {
    let Some(node) = node.node.as_ref() else { return false };
    node.nodes().iter().any(|(n, ..)| match n {
        pg_query::NodeRef::FuncCall(f) => f.funcname.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::String(s)) if VOLATILE.contains(&s.sval.to_ascii_lowercase().as_str()))
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use crate::fix::testing::{fixed, refused};
    use crate::tests::{rules, rules_on_version};

    const RULE: &str = "add-column-volatile-default";

    #[test]
    fn must_fix() {
        assert_eq!(
            fixed(RULE, "-- Public ids.\nALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n")
                .unwrap(),
            "-- shale:no-transaction\n-- Public ids.\n\
             ALTER TABLE users ADD COLUMN token uuid;\n\
             ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();\n\
             -- shale:backfill\n\
             UPDATE users SET token = gen_random_uuid() WHERE token IS NULL;\n"
        );
        // NOT NULL (either side of the default) is left out; casts and collations are kept.
        assert_eq!(
            fixed(RULE, "ALTER TABLE events ADD COLUMN seen_at timestamptz NOT NULL DEFAULT clock_timestamp();")
                .unwrap(),
            "-- shale:no-transaction\n\
             ALTER TABLE events ADD COLUMN seen_at timestamptz;\n\
             ALTER TABLE events ALTER COLUMN seen_at SET DEFAULT clock_timestamp();\n\
             -- shale:backfill\n\
             UPDATE events SET seen_at = clock_timestamp() WHERE seen_at IS NULL;"
        );
        assert_eq!(
            fixed(RULE, "alter table app.events add seen text collate \"C\" not null default (random()::text || 'x');")
                .unwrap(),
            "-- shale:no-transaction\n\
             alter table app.events add seen text collate \"C\";\n\
             alter table app.events alter column seen set default (random()::text || 'x');\n\
             -- shale:backfill\n\
             update app.events set seen = (random()::text || 'x') where seen is null;"
        );
    }

    #[test]
    fn must_not_fix() {
        for (sql, why) in [
            ("ALTER TABLE users ADD COLUMN n bigserial;", "sequence"),
            ("ALTER TABLE users ADD COLUMN IF NOT EXISTS t uuid DEFAULT gen_random_uuid();", "IF NOT EXISTS"),
            ("ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid() UNIQUE;", "UNIQUE constraint"),
            ("ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid(), ADD COLUMN u int;", "more than add"),
            ("ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid();\nDELETE FROM users;", "changes data"),
        ] {
            let reason = refused(RULE, sql);
            assert!(reason.contains(why), "{sql}: {reason}");
        }
    }

    #[test]
    fn per_row_defaults() {
        assert_eq!(
            rules("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
            ["add-column-volatile-default"]
        );
        assert_eq!(rules("ALTER TABLE users ADD COLUMN n bigserial;"), ["add-column-volatile-default"]);
        assert!(rules("ALTER TABLE users ADD COLUMN n int NOT NULL DEFAULT 0;").is_empty());
        assert!(rules("ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();").is_empty(), "now() is stable");
        assert!(rules("ALTER TABLE users ADD COLUMN IF NOT EXISTS username text;").is_empty());
    }

    #[test]
    fn any_default_before_postgresql_11() {
        let constant_default = "ALTER TABLE users ADD COLUMN n int DEFAULT 0;";
        assert_eq!(rules_on_version(Some(10), constant_default), ["add-column-volatile-default"]);
        assert!(rules_on_version(Some(11), constant_default).is_empty());
    }
}
