//! RENAME of a table or column the running application uses.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::{on, Hit, Rule};
use crate::effect::relation_name;
use crate::{Context, TableState};

pub static RULE: Rule = rule!(
    "rename",
    Warning,
    Existing,
    "renaming breaks every running instance of the application that still uses the old name",
    "add the new name alongside (a view or a new column), move the code, then drop the old name later"
);

pub(super) fn check(node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    let NodeEnum::RenameStmt(s) = node else { return };
    let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    if !matches!(kind, ObjectType::ObjectColumn | ObjectType::ObjectTable) {
        return;
    }
    let table = s.relation.as_ref().map(relation_name).unwrap_or_default();
    let bare = s.relation.as_ref().map(|r| r.relname.to_ascii_lowercase()).unwrap_or_default();
    let new_column = kind == ObjectType::ObjectColumn
        && context.new_columns.contains(&format!("{bare}.{}", s.subname.to_ascii_lowercase()));
    let what = if kind == ObjectType::ObjectColumn { format!("column {}", s.subname) } else { "table".into() };
    // A column added in this run is not used by the application yet.
    let state = if new_column { TableState::Created } else { context.table_state(&table) };
    hits.push(on(&RULE, &table, state, format!("renames {what} of {table} to {}", s.newname)));
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn renames_of_tables_and_columns() {
        assert_eq!(rules("ALTER TABLE users RENAME COLUMN name TO full_name;"), ["rename"]);
        assert_eq!(rules("ALTER TABLE users RENAME TO accounts;"), ["rename"]);
        assert!(rules("ALTER INDEX i RENAME TO j;").is_empty());
    }
}
