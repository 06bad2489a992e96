//! The rules, one file each with its tests. Each has an id (used by `-- shale:allow ID -- reason`),
//! a severity, why it matters and the safe way to do it; `check` applies them to one parsed
//! statement.

use pg_query::protobuf::{AlterTableCmd, AlterTableType, ConstrType, ObjectType, RangeVar};
use pg_query::NodeEnum;

use crate::effect::{alter_type, constraint_type, relation_name};
use crate::fix::{Edit, Fixer, Part, Refusal, Rewrite, Target};
use crate::{key, Context, Severity, TableState};
use shale_core::ident::constraint_name;

/// A rule's declaration: `rule!(id, severity, danger, why, fix)`.
/// `formerly: [...]` lists ids the rule had before, still accepted in allows and shale.toml;
/// `precaution: P` names the [`Precaution`] `fix` asks for; `fixer: f` names the function that
/// writes the safe form (`shale lint --fix`).
macro_rules! rule {
    ($id:literal, $sev:ident, $danger:ident, $why:literal, $fix:literal
        $(, formerly: [$($old:literal),*])? $(, precaution: $precaution:ident)? $(, fixer: $fixer:path)?) => {
        crate::rules::Rule {
            id: $id,
            severity: crate::Severity::$sev,
            why: $why,
            fix: $fix,
            danger: crate::rules::Danger::$danger,
            formerly: &[$($($old),*)?],
            precaution: rule!(@precaution $($precaution)?),
            fixer: rule!(@fixer $($fixer)?),
        }
    };
    (@precaution) => { None };
    (@precaution $precaution:ident) => { Some(crate::rules::Precaution::$precaution) };
    (@fixer) => { None };
    (@fixer $fixer:path) => { Some($fixer as crate::fix::Fixer) };
}

pub mod access_exclusive_without_lock_timeout;
mod add_check_validated;
mod add_column_not_null_without_default;
mod add_column_volatile_default;
mod add_foreign_key_validated;
mod add_unique_without_index;
pub(crate) mod alter_column_type;
pub mod concurrently_in_transaction;
mod create_index_non_concurrently;
mod create_index_on_partitioned_table;
mod destructive;
mod down_in_up;
mod drop_index_non_concurrently;
mod enum_add_value_in_transaction;
pub(crate) mod enum_value_used_in_its_transaction;
mod heavy_lock;
mod large_update;
pub(crate) mod lock_held_through_long_statement;
mod prefer_bigint_keys;
mod prefer_identity;
mod prefer_text;
mod prefer_timestamptz;
mod rename;
mod set_not_null;

pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub why: &'static str,
    pub fix: &'static str,
    /// Where the statement is dangerous, judged by the table it acts on.
    pub danger: Danger,
    /// Ids this rule had before (a rule split in two keeps answering to the old id).
    pub formerly: &'static [&'static str],
    /// What the safe way (`fix`) asks to have done first, which a front end may offer its own way
    /// to do (the CLI names the command that takes a backup).
    pub precaution: Option<Precaution>,
    /// Writes the finding's safe form into its file, or says why not.
    pub(crate) fixer: Option<Fixer>,
}

impl Rule {
    /// `id` names this rule, now or formerly: `-- shale:allow` and shale.toml may say either.
    pub fn answers_to(&self, id: &str) -> bool {
        self.id == id || self.formerly.contains(&id)
    }

    /// `shale lint --fix` can write this rule's safe form (where the file allows it).
    pub fn fixable(&self) -> bool {
        self.fixer.is_some()
    }
}

/// Something a rule's safe way asks to have done before the statement runs, said in `fix` in
/// words for any application. A front end that has its own way to do it names that way where
/// `fix` says [`Precaution::phrase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precaution {
    /// A backup of the data the statement destroys.
    Backup,
}

impl Precaution {
    /// The words of a rule's `fix` that ask for it (each rule with the precaution has them).
    pub fn phrase(self) -> &'static str {
        match self {
            Precaution::Backup => "a backup exists",
        }
    }
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// What makes a rule's statement dangerous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Danger {
    /// Always, whatever the table (a statement that fails, advice on new columns).
    Always,
    /// A lock, scan or rewrite that lasts: only on a large table.
    Lock,
    /// Data lost or a statement failing on existing rows: on any table that holds data.
    Data,
    /// Breaks the running application, which knows the table by its name: on any table that
    /// existed before the run.
    Existing,
}

impl Danger {
    pub fn applies(self, state: TableState) -> bool {
        match self {
            Danger::Always => true,
            Danger::Lock => state.large(),
            Danger::Data => state.holds_data(),
            Danger::Existing => state.existed(),
        }
    }

    /// The tables the danger is on, for a verdict saying why a statement is fine elsewhere.
    pub fn tables(self) -> &'static str {
        match self {
            Danger::Always => "every table",
            Danger::Lock => "large tables, over `large_table_rows` rows",
            Danger::Data => "tables with data",
            Danger::Existing => "tables that exist before the run",
        }
    }
}

pub struct Hit {
    pub rule: &'static Rule,
    pub message: String,
    /// The table the statement acts on ("" when none).
    pub table: String,
    /// That table's state, when the rule depends on it.
    pub state: Option<TableState>,
    /// Which part of the statement, when it has several (for `--fix`).
    pub part: Option<Part>,
    /// Why it is fine where the state clears it, when the table's state does not say it (a column
    /// added earlier in the run, of a table that was there before).
    pub cleared_because: Option<String>,
    /// The safe way here, where the rule's own cannot be taken (PostgreSQL refuses it on a
    /// partitioned table): it replaces the rule's advice, and `--fix`, which writes the rule's
    /// own, leaves the statement.
    pub advice: Option<String>,
}

impl Hit {
    /// About the node at this location of the statement.
    fn at(mut self, location: i32) -> Hit {
        self.part = usize::try_from(location).ok().map(Part::At);
        self
    }

    /// About the n-th command of an ALTER TABLE (or object of a DROP).
    fn command(mut self, n: usize) -> Hit {
        self.part = Some(Part::Command(n));
        self
    }

    /// With the safe way for this statement, in place of the rule's (see [`Hit::advice`]).
    fn advising(mut self, advice: Option<String>) -> Hit {
        self.advice = advice;
        self
    }
}

/// Every rule, in the order their findings on one statement are listed.
pub static ALL: &[&Rule] = &[
    &create_index_non_concurrently::RULE,
    &create_index_on_partitioned_table::RULE,
    &drop_index_non_concurrently::RULE,
    &add_column_volatile_default::RULE,
    &add_column_not_null_without_default::RULE,
    &set_not_null::RULE,
    &alter_column_type::RULE,
    &add_foreign_key_validated::RULE,
    &add_check_validated::RULE,
    &add_unique_without_index::RULE,
    &destructive::RULE,
    &rename::RULE,
    &heavy_lock::RULE,
    &large_update::RULE,
    &lock_held_through_long_statement::RULE,
    &down_in_up::RULE,
    &prefer_bigint_keys::RULE,
    &prefer_identity::RULE,
    &prefer_timestamptz::RULE,
    &prefer_text::RULE,
    &enum_add_value_in_transaction::RULE,
    &enum_value_used_in_its_transaction::RULE,
    &access_exclusive_without_lock_timeout::RULE,
    &concurrently_in_transaction::RULE,
];

/// The rules judged on one parsed statement, in the order of [`ALL`]. (The lock-timeout,
/// explicit-transaction and enum-label rules need more than the statement: `lint_script` and
/// `judge` apply them.)
const CHECKS: &[fn(&NodeEnum, &Context, &mut Vec<Hit>)] = &[
    create_index_non_concurrently::check,
    create_index_on_partitioned_table::check,
    drop_index_non_concurrently::check,
    add_column_volatile_default::check,
    add_column_not_null_without_default::check,
    set_not_null::check,
    alter_column_type::check,
    add_foreign_key_validated::check,
    add_check_validated::check,
    add_unique_without_index::check,
    destructive::check,
    rename::check,
    heavy_lock::check,
    large_update::check,
    down_in_up::check,
    prefer_bigint_keys::check,
    prefer_identity::check,
    prefer_timestamptz::check,
    prefer_text::check,
    enum_add_value_in_transaction::check,
];

pub(crate) use down_in_up::has_down_header;

pub fn check(node: &NodeEnum, context: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    for check in CHECKS {
        check(node, context, &mut hits);
    }
    hits
}

fn hit(rule: &'static Rule, message: String) -> Hit {
    Hit { rule, message, table: String::new(), state: None, part: None, cleared_because: None, advice: None }
}

/// A hit about `table`, judged by its state.
fn on(rule: &'static Rule, table: &str, state: TableState, message: String) -> Hit {
    Hit { rule, message, table: table.to_string(), state: Some(state), part: None, cleared_because: None, advice: None }
}

/// An ALTER TABLE's table and its commands with their kinds.
fn alter_table(node: &NodeEnum) -> Option<(&RangeVar, impl Iterator<Item = (AlterTableType, &AlterTableCmd)>)> {
    let NodeEnum::AlterTableStmt(s) = node else { return None };
    let commands = s.cmds.iter().filter_map(|cmd| match cmd.node.as_ref() {
        Some(NodeEnum::AlterTableCmd(c)) => Some((alter_type(c.subtype), c.as_ref())),
        _ => None,
    });
    Some((s.relation.as_ref()?, commands))
}

/// The node a command defines (the column of ADD COLUMN, the constraint of ADD CONSTRAINT).
fn definition(c: &AlterTableCmd) -> Option<&NodeEnum> {
    c.def.as_ref().and_then(|d| d.node.as_ref())
}

/// The table an `ALTER TABLE` changes and the constraints its `ADD CONSTRAINT` commands add, of
/// the kinds `wanted` picks: what the rules about adding constraints look at.
pub(crate) fn added_constraints(
    node: &NodeEnum,
    wanted: impl Fn(ConstrType) -> bool,
) -> Option<(String, Vec<&pg_query::protobuf::Constraint>)> {
    let (r, commands) = alter_table(node)?;
    let added = commands
        .filter(|(kind, _)| *kind == AlterTableType::AtAddConstraint)
        .filter_map(|(_, c)| match definition(c) {
            Some(NodeEnum::Constraint(k)) if wanted(constraint_type(k.contype)) => Some(k.as_ref()),
            _ => None,
        })
        .collect();
    Some((relation_name(r), added))
}

/// A constraint of `kind` added validated (without NOT VALID) to an existing table: every row is
/// checked under the lock the ALTER takes. `what` names it in the message.
fn validated_additions(
    node: &NodeEnum,
    context: &Context,
    hits: &mut Vec<Hit>,
    rule: &'static Rule,
    kind: ConstrType,
    what: &str,
) {
    let Some((table, added)) = added_constraints(node, |t| t == kind) else { return };
    for k in added.into_iter().filter(|k| !k.skip_validation) {
        let message = format!("adds a validated {what} to {table}");
        hits.push(on(rule, &table, context.table_state(&table), message).at(k.location));
    }
}

/// The column definitions a statement creates: a new table's columns and ADD COLUMN's.
pub(crate) fn defined_columns(node: &NodeEnum) -> Vec<&pg_query::protobuf::ColumnDef> {
    match node {
        NodeEnum::CreateStmt(s) => s
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect(),
        _ => added_columns(node).map(|(_, columns)| columns).unwrap_or_default(),
    }
}

/// An ALTER TABLE's table and the columns it adds.
fn added_columns(node: &NodeEnum) -> Option<(&RangeVar, Vec<&pg_query::protobuf::ColumnDef>)> {
    let (r, commands) = alter_table(node)?;
    let columns = commands
        .filter_map(|(kind, c)| match (kind, definition(c)) {
            (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(col))) => Some(col.as_ref()),
            _ => None,
        })
        .collect();
    Some((r, columns))
}

/// `ADD [CONSTRAINT name] FOREIGN KEY / CHECK ...` -> the same `NOT VALID` (named as PostgreSQL would
/// name it, when it has no name: `VALIDATE` needs the name), then `VALIDATE CONSTRAINT name` as the
/// next statement. The file goes outside a transaction, so that the NOT VALID constraint (and its
/// strong lock) is committed before VALIDATE scans under a weaker one.
fn add_not_valid(t: &Target, label: &str) -> Result<Rewrite, Refusal> {
    let (_, command) = t.command().ok_or("the constraint is not in the statement")?;
    let Some(NodeEnum::Constraint(k)) = definition(command) else { return Err("not an ADD CONSTRAINT".into()) };
    let NodeEnum::AlterTableStmt(s) = t.node else { return Err("not an ALTER TABLE".into()) };
    let r = s.relation.as_ref().ok_or("an ALTER TABLE without a table")?;
    let at = t.file_offset(k.location);
    let start = t.token_at(at).ok_or("the constraint is not in the statement")?;
    let mut edits = Vec::new();
    let name = if k.conname.is_empty() {
        let column = match constraint_type(k.contype) {
            pg_query::protobuf::ConstrType::ConstrForeign => Some(string_list(&k.fk_attrs)?.join("_")),
            _ => single_column(k.raw_expr.as_deref().ok_or("a CHECK without an expression")?)?,
        };
        let name = constraint_name(&r.relname, column.as_deref(), label);
        let words = t.cased(t.tokens[start].range.clone(), "CONSTRAINT");
        edits.push(Edit { range: at..at, text: format!("{words} {} ", shale_core::ident::ident(&name)) });
        name
    } else {
        k.conname.clone()
    };
    let end = t.item_end(start);
    edits.push(Edit { range: end..end, text: t.cased(t.tokens[start].range.clone(), " NOT VALID") });
    let validate =
        format!("{} {} {}", t.alter_table_prefix()?, t.kw("VALIDATE CONSTRAINT"), shale_core::ident::ident(&name));
    edits.push(t.then(&validate));
    Ok(Rewrite {
        edits,
        description: format!(
            "adds {name} NOT VALID (only new rows are checked), then VALIDATE CONSTRAINT checks the existing ones \
             under a lock that lets writes go on"
        ),
        outside_transaction: true,
    })
}

/// The strings of a name list (`(a, b)` of a foreign key).
fn string_list(list: &[pg_query::protobuf::Node]) -> Result<Vec<String>, String> {
    list.iter()
        .map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Ok(s.sval.clone()),
            _ => Err("a column list shale cannot read".to_string()),
        })
        .collect()
}

/// The one column an expression reads, as PostgreSQL names a CHECK after it: Some when exactly
/// one, None for none or several; an error for `*`, which shale cannot resolve.
fn single_column(expr: &pg_query::protobuf::Node) -> Result<Option<String>, Refusal> {
    let Some(node) = expr.node.as_ref() else { return Ok(None) };
    let mut columns: Vec<String> = Vec::new();
    for (n, ..) in node.nodes() {
        let pg_query::NodeRef::ColumnRef(c) = n else { continue };
        match c.fields.last().and_then(|f| f.node.as_ref()) {
            Some(NodeEnum::String(s)) => {
                if !columns.contains(&s.sval) {
                    columns.push(s.sval.clone());
                }
            }
            _ => return Err(Refusal::until_changed("the CHECK reads `*`: name the constraint yourself")),
        }
    }
    Ok(if columns.len() == 1 { columns.pop() } else { None })
}

/// Names of a DROP's objects (`schema.table`, or a bare name), as written.
pub(crate) fn object_names(objects: &[pg_query::protobuf::Node]) -> Vec<String> {
    let part = |n: &pg_query::protobuf::Node| match n.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    };
    objects
        .iter()
        .filter_map(|o| match o.node.as_ref() {
            Some(NodeEnum::List(l)) => Some(l.items.iter().filter_map(part).collect::<Vec<_>>().join(".")),
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// The last part of a column's type name, lower-case (`pg_catalog.int4` -> `int4`).
fn type_name(col: &pg_query::protobuf::ColumnDef) -> String {
    col.type_name.as_ref().and_then(base_type).unwrap_or_default()
}

/// A type's own name, lower-case, without its schema (`pg_catalog.varchar` -> `varchar`).
pub(crate) fn base_type(t: &pg_query::protobuf::TypeName) -> Option<String> {
    match t.names.last()?.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.to_ascii_lowercase()),
        _ => None,
    }
}

/// A type's modifiers (`varchar(20)` -> `[20]`, `numeric(12, 2)` -> `[12, 2]`); None when one is
/// not a plain integer.
pub(crate) fn type_modifiers(t: &pg_query::protobuf::TypeName) -> Option<Vec<i64>> {
    t.typmods
        .iter()
        .map(|m| match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `name` in the schema of `like` (`app.old` + `new` -> `app.new`).
pub(crate) fn sibling(like: &str, name: &str) -> String {
    match like.rsplit_once('.') {
        Some((schema, _)) => format!("{schema}.{name}"),
        None => name.to_string(),
    }
}

/// Remember what a statement creates, renames or moves, for the statements after it.
pub fn remember(node: &NodeEnum, context: &mut Context) {
    remember_table_kind(node, context);
    enum_value_used_in_its_transaction::remember(node, context);
    match node {
        NodeEnum::CreateStmt(s) => {
            if let Some(r) = &s.relation {
                context.created(&relation_name(r));
            }
        }
        NodeEnum::CreateTableAsStmt(s) => {
            if let Some(r) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                context.created(&relation_name(r));
            }
        }
        NodeEnum::IndexStmt(s) => {
            if let (Some(r), false) = (&s.relation, s.idxname.is_empty()) {
                let table = relation_name(r).to_ascii_lowercase();
                let name = s.idxname.to_ascii_lowercase();
                context.new_indexes.insert(sibling(&table, &name), table.clone());
                context.new_indexes.insert(name, table);
            }
        }
        NodeEnum::RenameStmt(s) => {
            let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
            let Some(r) = &s.relation else { return };
            let from = relation_name(r);
            match kind {
                ObjectType::ObjectTable => context.renamed_table(&from, &sibling(&from, &s.newname)),
                ObjectType::ObjectColumn => {
                    let bare = r.relname.to_ascii_lowercase();
                    if context.new_columns.contains(&format!("{bare}.{}", s.subname.to_ascii_lowercase())) {
                        context.new_columns.insert(format!("{bare}.{}", s.newname.to_ascii_lowercase()));
                    }
                }
                ObjectType::ObjectIndex => {
                    if let Some(table) = context.new_indexes.get(&from.to_ascii_lowercase()).cloned() {
                        let to = sibling(&from, &s.newname).to_ascii_lowercase();
                        context.new_indexes.insert(s.newname.to_ascii_lowercase(), table.clone());
                        context.new_indexes.insert(to, table);
                    }
                }
                _ => {}
            }
        }
        NodeEnum::AlterObjectSchemaStmt(s) => {
            if let Some(r) = &s.relation {
                let from = relation_name(r);
                context.renamed_table(&from, &format!("{}.{}", s.newschema, r.relname));
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(r) = &s.relation else { return };
            remember_not_null_checks(r, node, context);
            if context.is_new(&relation_name(r)) {
                return;
            }
            for col in defined_columns(node) {
                context.new_columns.insert(format!(
                    "{}.{}",
                    r.relname.to_ascii_lowercase(),
                    col.colname.to_ascii_lowercase()
                ));
            }
        }
        _ => {}
    }
}

/// A table created `PARTITION BY`, and one created for good (not TEMP), in this run or in a file
/// applied before it.
pub fn remember_table_kind(node: &NodeEnum, context: &mut Context) {
    if let NodeEnum::CreateStmt(s) = node {
        let Some(r) = &s.relation else { return };
        if s.partspec.is_some() {
            context.partitioned.insert(key(&relation_name(r)));
        }
        if r.relpersistence != "t" {
            context.permanent_tables.insert(r.relname.clone());
        }
    }
}

/// `ADD CONSTRAINT c CHECK (col IS NOT NULL) [NOT VALID]` and `VALIDATE CONSTRAINT c`: once such a
/// check is validated, SET NOT NULL on the column need not scan.
fn remember_not_null_checks(r: &RangeVar, node: &NodeEnum, context: &mut Context) {
    let Some((_, commands)) = alter_table(node) else { return };
    let table = key(&relation_name(r));
    for (kind, c) in commands {
        match (kind, definition(c)) {
            (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(k)))
                if constraint_type(k.contype) == pg_query::protobuf::ConstrType::ConstrCheck =>
            {
                let Some(column) = k.raw_expr.as_deref().and_then(not_null_test) else { continue };
                let proven = format!("{table}.{column}");
                if k.skip_validation {
                    context.not_null_checks.insert(k.conname.to_ascii_lowercase(), proven);
                } else {
                    context.proven_not_null.insert(proven);
                }
            }
            (AlterTableType::AtValidateConstraint, _) => {
                if let Some(proven) = context.not_null_checks.remove(&c.name.to_ascii_lowercase()) {
                    context.proven_not_null.insert(proven);
                }
            }
            _ => {}
        }
    }
}

/// The column of `col IS NOT NULL`.
fn not_null_test(expr: &pg_query::protobuf::Node) -> Option<String> {
    let Some(NodeEnum::NullTest(t)) = expr.node.as_ref() else { return None };
    if pg_query::protobuf::NullTestType::try_from(t.nulltesttype).ok()? != pg_query::protobuf::NullTestType::IsNotNull {
        return None;
    }
    let Some(NodeEnum::ColumnRef(c)) = t.arg.as_ref().and_then(|a| a.node.as_ref()) else { return None };
    match c.fields.as_slice() {
        [f] => match f.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_ascii_lowercase()),
            _ => None,
        },
        _ => None,
    }
}
