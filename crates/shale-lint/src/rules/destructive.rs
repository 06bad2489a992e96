//! Statements that destroy data: DROP TABLE / SCHEMA / DATABASE, DROP COLUMN, TRUNCATE.

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

use super::{alter_table, hit, object_names, on, Hit, Rule};
use crate::effect::relation_name;
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "destructive",
    Error,
    Data,
    "this destroys data, and code still running against the old schema breaks",
    "make sure nothing reads it any more and a backup exists, then allow it with a reason",
    precaution: Backup
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    match node {
        NodeEnum::DropStmt(s) => {
            let names = object_names(&s.objects);
            match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
                // A materialized view's rows are a query's result, which `REFRESH` makes again: as
                // with a view, nothing is lost (those reading it break as they do with a view).
                ObjectType::ObjectTable => {
                    for table in &names {
                        let state = context.table_state(table);
                        let message = uncounted(state, table, format!("DROP TABLE {table} destroys its data"));
                        // `DROP TABLE IF EXISTS t` before the file makes `t` TEMP: a session's
                        // leftover, where no database says there is a table of that name
                        // (golang-migrate trial, OpenMeter: `lint` blocked CI on it).
                        // Unqualified (or in pg_temp): a schema-qualified name is never a TEMP
                        // table. And a name no migration makes for good: in a fresh session
                        // (each migration's) IF EXISTS drops the permanent one (review).
                        // (Names as the parser gives them: unquoted folded, quoted as written.)
                        let bare = table.strip_prefix("pg_temp.").unwrap_or(table).to_string();
                        let leftover = s.missing_ok
                            && state == TableState::Existing
                            && !bare.contains('.')
                            && context.temp_tables_of_script.contains(&bare)
                            && !context.permanent_tables.contains(&bare);
                        // `DROP TABLE IF EXISTS t` before the file makes `t`, where no migration before
                        // makes it and no database is asked: on a new database it drops nothing
                        // (breadth trial: vaultwarden's `add_archives` failed `lint` in CI).
                        let made_here = s.missing_ok
                            && state == TableState::Existing
                            && context.live.is_none()
                            && context.tables_of_script.contains(&bare)
                            && !context.permanent_tables.contains(&bare);
                        let cleared = match (leftover, made_here) {
                            (true, _) => Some(format!(
                                "{table} is a temporary table this file makes: IF EXISTS drops one a session left"
                            )),
                            (false, true) => Some(format!(
                                "no migration before makes {table}, and this file makes it: on a new database IF \
                                 EXISTS drops nothing (with --database-url, a database that has it is judged)"
                            )),
                            (false, false) => None,
                        };
                        hits.push(match cleared {
                            Some(reason) => {
                                Hit { cleared_because: Some(reason), ..on(&RULE, table, TableState::Absent, message) }
                            }
                            None => on(&RULE, table, state, message),
                        });
                    }
                }
                ObjectType::ObjectSchema => {
                    for schema in &names {
                        let state = context.schema_state(schema);
                        let message = format!("DROP SCHEMA {schema} destroys the data of its tables");
                        hits.push(on(&RULE, schema, state, message));
                    }
                }
                ObjectType::ObjectDatabase => hits.push(hit(&RULE, "DROP DATABASE destroys its data".into())),
                _ => {}
            }
        }
        NodeEnum::DropdbStmt(_) => hits.push(hit(&RULE, "DROP DATABASE destroys its data".into())),
        NodeEnum::TruncateStmt(s) => {
            for r in &s.relations {
                if let Some(NodeEnum::RangeVar(r)) = r.node.as_ref() {
                    let table = relation_name(r);
                    let state = context.table_state(&table);
                    // CASCADE empties the tables whose foreign keys point at it too, unnamed here.
                    let cascade = pg_query::protobuf::DropBehavior::try_from(s.behavior)
                        == Ok(pg_query::protobuf::DropBehavior::DropCascade);
                    let what = match cascade {
                        true => format!(
                            "TRUNCATE {table} CASCADE deletes every row, and every row of each table whose foreign key \
                             points at it, and at those, in turn"
                        ),
                        false => format!("TRUNCATE {table} deletes every row"),
                    };
                    let message = uncounted(state, &table, what);
                    hits.push(on(&RULE, &table, state, message));
                }
            }
        }
        _ => {
            let Some((r, commands)) = alter_table(node) else { return };
            let table = relation_name(r);
            let state = context.table_state(&table);
            for (kind, c) in commands {
                if kind != AlterTableType::AtDropColumn {
                    continue;
                }
                // A column added in this run is not used by the application yet.
                let bare = r.relname.to_ascii_lowercase();
                let new_column = context.new_columns.contains(&format!("{bare}.{}", c.name.to_ascii_lowercase()));
                let message = format!("drops column {} of {table}", c.name);
                hits.push(match new_column {
                    true => Hit {
                        cleared_because: Some(format!("column {} of {table} is added earlier in this run", c.name)),
                        ..on(&RULE, &table, TableState::Created, message)
                    },
                    false => on(&RULE, &table, state, message),
                })
            }
        }
    }
}

/// A table believed empty by whoever wrote the statement may only be uncounted: say so, and how
/// to have it counted, so that the refusal is not a puzzle.
fn uncounted(state: TableState, table: &str, message: String) -> String {
    match state {
        TableState::Uncounted => format!("{message}; {}", state.describe(table)),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{rules, rules_after, rules_after_applied};

    #[test]
    fn statements_that_destroy_data() {
        assert_eq!(rules("DROP TABLE users;"), ["destructive"]);
        // A temporary table's leftover, dropped before the file makes it again: no data of the
        // schema's; without IF EXISTS, or with no TEMP table of that name made, it is one.
        assert_eq!(rules("DROP TABLE IF EXISTS _map;\nCREATE TEMP TABLE _map (id int);"), Vec::<&str>::new());
        assert_eq!(rules("DROP TABLE _map;\nCREATE TEMP TABLE _map (id int);"), ["destructive"]);
        // A table no migration before makes, made again by the file: on a new database (no
        // database asked) IF EXISTS drops nothing; on one that has it, or made before, it is one.
        assert_eq!(rules("DROP TABLE IF EXISTS _map;\nCREATE TABLE _map (id int);"), Vec::<&str>::new());
        let again = "DROP TABLE IF EXISTS _map;\nCREATE TABLE _map (id int);";
        assert_eq!(rules_after_applied("CREATE TABLE _map (id int);", again), ["destructive"]);
        assert_eq!(crate::tests::large_table_rules("_map", again), ["destructive"]);
        assert_eq!(rules("DROP TABLE IF EXISTS _map;\nCREATE TABLE other (id int);"), ["destructive"]);
        // A permanent table of that name, made by an earlier file, or a schema-qualified one: the
        // DROP takes the permanent table (review).
        let temp = "DROP TABLE IF EXISTS orders;\nCREATE TEMP TABLE orders (id int);";
        assert_eq!(rules_after_applied("CREATE TABLE orders (id int);", temp), ["destructive"]);
        assert_eq!(rules_after("CREATE TABLE orders (id int);", temp), Vec::<&str>::new(), "created in this run: new");
        assert_eq!(rules("DROP TABLE IF EXISTS public._map;\nCREATE TEMP TABLE _map (id int);"), ["destructive"]);
        // Quoted names are the names written (re-check: `"X"` was flagged, `"Foo"` beside `foo` not).
        assert_eq!(rules("DROP TABLE IF EXISTS \"X\";\nCREATE TEMP TABLE \"X\" (id int);"), Vec::<&str>::new());
        assert_eq!(rules("DROP TABLE IF EXISTS \"Foo\";\nCREATE TEMP TABLE foo (id int);"), ["destructive"]);
        assert_eq!(rules("ALTER TABLE users DROP COLUMN legacy;"), ["destructive"]);
        assert_eq!(rules("DROP SCHEMA old CASCADE;"), ["destructive"]);
        assert_eq!(rules("TRUNCATE users;"), ["destructive"]);
        assert_eq!(rules("DROP TABLE users, legacy;"), ["destructive", "destructive"]);
        assert!(rules("CREATE TABLE t (id int);\nDROP TABLE t;").is_empty());
        assert!(rules("DROP MATERIALIZED VIEW IF EXISTS user_stats;").is_empty());
        assert!(rules("DROP VIEW user_names;").is_empty());
        // CASCADE empties the tables that point at it: said, for the reviewer who allows it.
        let s = crate::tests::script("009.sql", "TRUNCATE customers CASCADE;");
        let report = crate::lint([&s]);
        assert!(report.findings[0].message.contains("and every row of each table whose foreign key points at it"));
    }

    #[test]
    fn a_column_added_earlier_in_the_run_is_said_so_not_its_table() {
        let s = crate::tests::script(
            "010.sql",
            "ALTER TABLE users ADD COLUMN nick text;
ALTER TABLE users DROP COLUMN nick;",
        );
        let report = crate::lint([&s]);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let cleared: Vec<_> = report.cleared.iter().map(|c| c.reason.as_str()).collect();
        assert_eq!(cleared, ["column nick of users is added earlier in this run"]);
    }
}
