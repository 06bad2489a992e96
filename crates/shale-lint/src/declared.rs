//! Column types as the migrations declare them (`CREATE TABLE`, `ADD COLUMN`, `ALTER COLUMN ...
//! TYPE`), for judging a type change where the database was not asked: `shale lint --since` in
//! CI knows from an earlier file that `v` is a `varchar(10)`, so widening it to `varchar(20)`
//! rewrites nothing. Only the types whose changes can keep the rows are written down (see
//! `alter_column_type::keeps_the_rows`); any other declaration forgets what was known, so an
//! unknown type is judged as rewriting, as before.

use std::collections::HashMap;

use pg_query::protobuf::{AlterTableType, TypeName};
use pg_query::NodeEnum;

use crate::effect::{alter_type, relation_name};
use crate::rules::{base_type, sibling, type_modifiers};

/// Declared types by `table.column`, the table keyed as the linter keys relations.
#[derive(Debug, Default)]
pub(crate) struct DeclaredTypes {
    types: HashMap<String, String>,
}

impl DeclaredTypes {
    /// The type `column` of `relation` was last declared with, as `format_type` writes it.
    pub(crate) fn get(&self, relation: &str, column: &str) -> Option<&str> {
        self.types.get(&column_key(relation, column)).map(String::as_str)
    }

    /// What a statement declares. Called after the statement was judged: a type change is judged
    /// against the type before it.
    pub(crate) fn learn(&mut self, node: &NodeEnum) {
        match node {
            NodeEnum::CreateStmt(s) => {
                let Some(r) = &s.relation else { return };
                let table = relation_name(r);
                // A table made again (after a DROP) has only the columns it declares now; with
                // IF NOT EXISTS, the table there may be another one: nothing is known of it.
                self.forget_table(&table);
                if s.if_not_exists {
                    return;
                }
                for element in &s.table_elts {
                    if let Some(NodeEnum::ColumnDef(def)) = element.node.as_ref() {
                        self.declare(&table, &def.colname, def.type_name.as_ref());
                    }
                }
            }
            NodeEnum::AlterTableStmt(s) => {
                let Some(r) = &s.relation else { return };
                let table = relation_name(r);
                for command in &s.cmds {
                    let Some(NodeEnum::AlterTableCmd(c)) = command.node.as_ref() else { continue };
                    let def = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                        Some(NodeEnum::ColumnDef(def)) => Some(def.as_ref()),
                        _ => None,
                    };
                    match (alter_type(c.subtype), def) {
                        // IF NOT EXISTS may have added nothing: the column there keeps its type.
                        (AlterTableType::AtAddColumn, Some(def)) if c.missing_ok => {
                            self.types.remove(&column_key(&table, &def.colname));
                        }
                        (AlterTableType::AtAddColumn, Some(def)) => {
                            self.declare(&table, &def.colname, def.type_name.as_ref())
                        }
                        (AlterTableType::AtAlterColumnType, Some(def)) => {
                            self.declare(&table, &c.name, def.type_name.as_ref())
                        }
                        (AlterTableType::AtDropColumn, _) => {
                            self.types.remove(&column_key(&table, &c.name));
                        }
                        _ => {}
                    }
                }
            }
            NodeEnum::RenameStmt(s) if s.subname.is_empty() => {
                // A table renamed: its columns are not followed (an unknown type is judged as
                // rewriting, the safe side), and what was known under the new name is not its.
                if let Some(r) = &s.relation {
                    let table = relation_name(r);
                    self.forget_table(&table);
                    self.forget_table(&sibling(&table, &s.newname));
                }
            }
            NodeEnum::DropStmt(s) => {
                for table in crate::rules::object_names(&s.objects) {
                    self.forget_table(&table);
                }
            }
            NodeEnum::CreateTableAsStmt(s) => {
                if let Some(r) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.forget_table(&relation_name(r));
                }
            }
            NodeEnum::RenameStmt(s) => {
                if let Some(r) = &s.relation {
                    self.types.remove(&column_key(&relation_name(r), &s.subname));
                }
            }
            _ => {}
        }
    }

    fn forget_table(&mut self, table: &str) {
        let prefix = column_key(table, "");
        self.types.retain(|k, _| !k.starts_with(&prefix));
    }

    fn declare(&mut self, table: &str, column: &str, type_name: Option<&TypeName>) {
        let key = column_key(table, column);
        match type_name.and_then(format_type) {
            Some(written) => self.types.insert(key, written),
            None => self.types.remove(&key),
        };
    }
}

fn column_key(relation: &str, column: &str) -> String {
    format!("{}.{}", crate::key(relation), column.to_ascii_lowercase())
}

/// `type_name` as `format_type` writes it, for the types whose changes can keep the rows
/// (`character varying(10)`, `text`, `numeric(12,2)`); None for any other.
fn format_type(type_name: &TypeName) -> Option<String> {
    if !type_name.array_bounds.is_empty() || type_name.setof {
        return None;
    }
    let name = base_type(type_name)?;
    let modifiers: Vec<String> = type_modifiers(type_name)?.iter().map(i64::to_string).collect();
    let base = match name.as_str() {
        "varchar" => "character varying",
        "text" => "text",
        "numeric" => "numeric",
        _ => return None,
    };
    Some(match modifiers.is_empty() {
        true => base.to_string(),
        false => format!("{base}({})", modifiers.join(",")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(sql: &str) -> DeclaredTypes {
        let mut types = DeclaredTypes::default();
        for raw in &pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap().protobuf.stmts {
            types.learn(raw.stmt.as_ref().unwrap().node.as_ref().unwrap());
        }
        types
    }

    #[test]
    fn declarations_are_followed_through_the_statements() {
        let types = learned(
            "CREATE TABLE public.t (v varchar(10), n numeric(12, 2), d decimal, s text, i int, a varchar(3)[]);
             ALTER TABLE t ADD COLUMN w character varying;
             ALTER TABLE app.u ADD COLUMN x varchar(5);",
        );
        assert_eq!(types.get("t", "v"), Some("character varying(10)"));
        assert_eq!(types.get("public.T", "V"), Some("character varying(10)"));
        assert_eq!(types.get("t", "n"), Some("numeric(12,2)"));
        assert_eq!(types.get("t", "d"), Some("numeric"));
        assert_eq!(types.get("t", "s"), Some("text"));
        assert_eq!(types.get("t", "w"), Some("character varying"));
        assert_eq!(types.get("app.u", "x"), Some("character varying(5)"));
        assert_eq!(types.get("u", "x"), None, "another schema's table");
        // Types no change of keeps the rows are not written down.
        assert_eq!(types.get("t", "i"), None);
        assert_eq!(types.get("t", "a"), None);
    }

    #[test]
    fn a_change_a_drop_or_a_rename_replaces_or_forgets() {
        let types = learned(
            "CREATE TABLE t (v varchar(10), w varchar(10), x varchar(10));
             ALTER TABLE t ALTER COLUMN v TYPE varchar(20), DROP COLUMN w;
             ALTER TABLE t RENAME COLUMN x TO y;
             CREATE TABLE r (v text); ALTER TABLE r RENAME TO s;",
        );
        assert_eq!(types.get("t", "v"), Some("character varying(20)"));
        assert_eq!((types.get("t", "w"), types.get("t", "x"), types.get("t", "y")), (None, None, None));
        assert_eq!((types.get("r", "v"), types.get("s", "v")), (None, None));
        let again = learned("CREATE TABLE t (v varchar(10)); DROP TABLE t; CREATE TABLE t (v int);");
        assert_eq!(again.get("t", "v"), None, "the table made again declares v anew");
    }

    /// What may have done nothing, or made the name another table's, leaves the type unknown.
    #[test]
    fn if_not_exists_drops_and_swaps_forget() {
        let types = learned(
            "CREATE TABLE t (v varchar(10)); ALTER TABLE t ADD COLUMN IF NOT EXISTS v varchar(10);
             CREATE TABLE u (v varchar(10)); CREATE TABLE IF NOT EXISTS u (v varchar(10));",
        );
        assert_eq!((types.get("t", "v"), types.get("u", "v")), (None, None));
        // The table swap: a new table renamed over a dropped one.
        let swapped = learned(
            "CREATE TABLE users (email varchar(100)); CREATE TABLE users_new (email text);
             DROP TABLE users; ALTER TABLE users_new RENAME TO users;",
        );
        assert_eq!(swapped.get("users", "email"), None);
        let dropped = learned("CREATE TABLE t (v varchar(10)); DROP TABLE IF EXISTS t;");
        assert_eq!(dropped.get("t", "v"), None);
    }
}
