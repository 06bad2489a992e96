//! The rules. Each has an id (used by `-- shale:allow ID -- reason`), a severity, why it matters
//! and the safe way to do it; `check` applies them to one parsed statement.

use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;

use crate::effect::{alter_type, constraint_type, is_vacuum_full, relation_name};
use crate::{Context, Severity, TableState};

pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub why: &'static str,
    pub fix: &'static str,
    /// Where the statement is dangerous, judged by the table it acts on.
    pub danger: Danger,
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
}

pub struct Hit {
    pub rule: &'static Rule,
    pub message: String,
    /// The table the statement acts on ("" when none).
    pub table: String,
    /// That table's state, when the rule depends on it.
    pub state: Option<TableState>,
}

macro_rules! rule {
    ($name:ident, $id:literal, $sev:ident, $danger:ident, $why:literal, $fix:literal) => {
        pub static $name: Rule =
            Rule { id: $id, severity: Severity::$sev, why: $why, fix: $fix, danger: Danger::$danger };
    };
}

rule!(
    INDEX_NOT_CONCURRENT,
    "create-index-non-concurrently",
    Error,
    Lock,
    "CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits",
    "CREATE INDEX CONCURRENTLY (shale runs such a migration outside a transaction by itself)"
);
rule!(
    DROP_INDEX_NOT_CONCURRENT,
    "drop-index-non-concurrently",
    Warning,
    Lock,
    "DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: even reads wait behind it",
    "DROP INDEX CONCURRENTLY"
);
rule!(ADD_COLUMN_VOLATILE_DEFAULT, "add-column-volatile-default", Error, Lock,
    "a volatile default (or a serial type) is computed for every existing row: the table is rewritten under ACCESS EXCLUSIVE",
    "add the column without a default (or with a constant one), then set the default and backfill in batches");
rule!(
    ADD_COLUMN_NOT_NULL,
    "add-column-not-null-without-default",
    Error,
    Data,
    "adding a NOT NULL column without a default fails as soon as the table has a row",
    "add it nullable (or with a constant default), backfill, then add a NOT VALID check, validate it, and set NOT NULL"
);
rule!(SET_NOT_NULL, "set-not-null", Warning, Lock,
    "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) already proves it",
    "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT; then SET NOT NULL (PostgreSQL 12+ skips the scan)");
rule!(
    ALTER_COLUMN_TYPE,
    "alter-column-type",
    Error,
    Lock,
    "changing a column's type rewrites the table (and its indexes) under ACCESS EXCLUSIVE for most type changes",
    "add a new column, backfill it in batches, switch the application, then drop the old column"
);
rule!(
    FK_VALIDATED,
    "add-foreign-key-validated",
    Error,
    Lock,
    "adding a foreign key checks every existing row while holding SHARE ROW EXCLUSIVE on both tables",
    "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration (a weaker lock)"
);
rule!(
    CHECK_VALIDATED,
    "add-check-validated",
    Error,
    Lock,
    "adding a CHECK constraint scans every existing row under ACCESS EXCLUSIVE",
    "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration"
);
rule!(
    UNIQUE_WITHOUT_INDEX,
    "add-unique-without-index",
    Error,
    Lock,
    "adding a UNIQUE or PRIMARY KEY constraint builds its index under ACCESS EXCLUSIVE",
    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)"
);
rule!(
    DESTRUCTIVE,
    "destructive",
    Error,
    Data,
    "this destroys data, and code still running against the old schema breaks",
    "make sure nothing reads it any more and a backup exists (`shale up --backup DIR`), then allow it with a reason"
);
rule!(
    RENAME,
    "rename",
    Warning,
    Existing,
    "renaming breaks every running instance of the application that still uses the old name",
    "add the new name alongside (a view or a new column), move the code, then drop the old name later"
);
rule!(
    HEAVY_LOCK,
    "heavy-lock",
    Warning,
    Lock,
    "VACUUM FULL, CLUSTER and LOCK TABLE hold ACCESS EXCLUSIVE (or an explicit lock) for as long as they run",
    "use pg_repack or plain VACUUM; avoid explicit LOCK TABLE in migrations"
);
rule!(
    PREFER_BIGINT,
    "prefer-bigint-identity",
    Warning,
    Always,
    "serial and integer keys run out at 2^31; changing the type later rewrites the table",
    "bigint GENERATED ALWAYS AS IDENTITY (or bigserial)"
);
rule!(
    PREFER_TIMESTAMPTZ,
    "prefer-timestamptz",
    Warning,
    Always,
    "timestamp without time zone loses the offset: the same instant reads differently across servers and clients",
    "timestamptz"
);
rule!(
    PREFER_TEXT,
    "prefer-text",
    Info,
    Always,
    "varchar(n) gains nothing over text in PostgreSQL, and raising n later needs an ALTER",
    "text, with a CHECK (length(col) <= n) if the limit matters"
);
rule!(
    ENUM_VALUE_IN_TRANSACTION,
    "enum-add-value-in-transaction",
    Error,
    Always,
    "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block: the migration fails",
    "put it in its own migration with `-- shale:no-transaction`"
);
rule!(
    NO_LOCK_TIMEOUT,
    "access-exclusive-without-lock-timeout",
    Error, Lock,
    "waiting for an ACCESS EXCLUSIVE lock with no lock_timeout queues every other query on the table behind the migration",
    "keep shale's lock_timeout on (the default is 5s), or set one for the file with `-- shale:lock-timeout=5s`"
);
rule!(
    NON_TRANSACTIONAL_IN_BLOCK,
    "concurrently-in-transaction",
    Error,
    Always,
    "CONCURRENTLY (and VACUUM, ALTER SYSTEM, ...) cannot run inside a transaction block: the statement fails",
    "remove the BEGIN/COMMIT around it; shale already runs this file statement by statement outside a transaction"
);
rule!(NO_CHAR, "no-char", Warning, Always, "char(n) pads with spaces and compares surprisingly", "text");

pub static ALL: &[&Rule] = &[
    &INDEX_NOT_CONCURRENT,
    &DROP_INDEX_NOT_CONCURRENT,
    &ADD_COLUMN_VOLATILE_DEFAULT,
    &ADD_COLUMN_NOT_NULL,
    &SET_NOT_NULL,
    &ALTER_COLUMN_TYPE,
    &FK_VALIDATED,
    &CHECK_VALIDATED,
    &UNIQUE_WITHOUT_INDEX,
    &DESTRUCTIVE,
    &RENAME,
    &HEAVY_LOCK,
    &PREFER_BIGINT,
    &PREFER_TIMESTAMPTZ,
    &PREFER_TEXT,
    &NO_CHAR,
    &ENUM_VALUE_IN_TRANSACTION,
    &NO_LOCK_TIMEOUT,
    &NON_TRANSACTIONAL_IN_BLOCK,
];

/// Functions whose value differs per row: a default using one rewrites the table.
const VOLATILE: &[&str] =
    &["random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp", "timeofday", "nextval", "txid_current"];

fn hit(rule: &'static Rule, message: String) -> Hit {
    Hit { rule, message, table: String::new(), state: None }
}

/// A hit about `table`, judged by its state.
fn on(rule: &'static Rule, table: &str, state: TableState, message: String) -> Hit {
    Hit { rule, message, table: table.to_string(), state: Some(state) }
}

/// Names of a DROP's objects (`schema.table`, or a bare name), as written.
fn object_names(objects: &[pg_query::protobuf::Node]) -> Vec<String> {
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

/// `name` in the schema of `like` (`app.old` + `new` -> `app.new`).
fn sibling(like: &str, name: &str) -> String {
    match like.rsplit_once('.') {
        Some((schema, _)) => format!("{schema}.{name}"),
        None => name.to_string(),
    }
}

/// Remember what a statement creates, renames or moves, for the statements after it.
pub fn remember(node: &NodeEnum, context: &mut Context) {
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
            if context.is_new(&relation_name(r)) {
                return;
            }
            for cmd in &s.cmds {
                if let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() {
                    if let (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(col))) =
                        (alter_type(c.subtype), c.def.as_ref().and_then(|d| d.node.as_ref()))
                    {
                        context.new_columns.insert(format!(
                            "{}.{}",
                            r.relname.to_ascii_lowercase(),
                            col.colname.to_ascii_lowercase()
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

pub fn check(node: &NodeEnum, context: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    match node {
        NodeEnum::IndexStmt(s) => {
            if let Some(r) = &s.relation {
                let table = relation_name(r);
                if !s.concurrent {
                    let state = context.table_state(&table);
                    hits.push(on(
                        &INDEX_NOT_CONCURRENT,
                        &table,
                        state,
                        format!("CREATE INDEX on existing table {table} without CONCURRENTLY"),
                    ));
                }
            }
        }
        NodeEnum::DropStmt(s) => {
            let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
            let names = object_names(&s.objects);
            match kind {
                ObjectType::ObjectIndex if !s.concurrent => {
                    for index in &names {
                        let table = context.index_table(index).unwrap_or_default();
                        let state = if table.is_empty() { TableState::Existing } else { context.table_state(&table) };
                        let on_table = if table.is_empty() { String::new() } else { format!(" on {table}") };
                        hits.push(on(
                            &DROP_INDEX_NOT_CONCURRENT,
                            &table,
                            state,
                            format!("DROP INDEX {index}{on_table} without CONCURRENTLY"),
                        ));
                    }
                }
                ObjectType::ObjectTable | ObjectType::ObjectMatview => {
                    for table in &names {
                        let state = context.table_state(table);
                        hits.push(on(&DESTRUCTIVE, table, state, format!("DROP TABLE {table} destroys its data")));
                    }
                }
                ObjectType::ObjectSchema => {
                    for schema in &names {
                        let state = context.schema_state(schema);
                        hits.push(on(
                            &DESTRUCTIVE,
                            schema,
                            state,
                            format!("DROP SCHEMA {schema} destroys the data of its tables"),
                        ));
                    }
                }
                ObjectType::ObjectDatabase => hits.push(hit(&DESTRUCTIVE, "DROP DATABASE destroys its data".into())),
                _ => {}
            }
        }
        NodeEnum::DropdbStmt(_) => hits.push(hit(&DESTRUCTIVE, "DROP DATABASE destroys its data".into())),
        NodeEnum::TruncateStmt(s) => {
            for r in &s.relations {
                if let Some(NodeEnum::RangeVar(r)) = r.node.as_ref() {
                    let table = relation_name(r);
                    let state = context.table_state(&table);
                    hits.push(on(&DESTRUCTIVE, &table, state, format!("TRUNCATE {table} deletes every row")));
                }
            }
        }
        NodeEnum::RenameStmt(s) => {
            let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
            if matches!(kind, ObjectType::ObjectColumn | ObjectType::ObjectTable) {
                let table = s.relation.as_ref().map(relation_name).unwrap_or_default();
                let bare = s.relation.as_ref().map(|r| r.relname.to_ascii_lowercase()).unwrap_or_default();
                let new_column = kind == ObjectType::ObjectColumn
                    && context.new_columns.contains(&format!("{bare}.{}", s.subname.to_ascii_lowercase()));
                let what =
                    if kind == ObjectType::ObjectColumn { format!("column {}", s.subname) } else { "table".into() };
                // A column added in this run is not used by the application yet.
                let state = if new_column { TableState::Created } else { context.table_state(&table) };
                hits.push(on(&RENAME, &table, state, format!("renames {what} of {table} to {}", s.newname)));
            }
        }
        NodeEnum::AlterEnumStmt(s)
            if s.old_val.is_empty() && context.in_transaction && context.pg_major.is_some_and(|v| v < 12) =>
        {
            hits.push(hit(
                &ENUM_VALUE_IN_TRANSACTION,
                format!("ALTER TYPE ... ADD VALUE '{}' inside a transaction", s.new_val),
            ))
        }
        NodeEnum::ClusterStmt(s) => {
            let table = s.relation.as_ref().map(relation_name).unwrap_or_default();
            let state = context.table_state(&table);
            hits.push(on(&HEAVY_LOCK, &table, state, "CLUSTER rewrites the table under ACCESS EXCLUSIVE".into()))
        }
        NodeEnum::LockStmt(s) => {
            let table = s
                .relations
                .iter()
                .find_map(|r| match r.node.as_ref() {
                    Some(NodeEnum::RangeVar(r)) => Some(relation_name(r)),
                    _ => None,
                })
                .unwrap_or_default();
            let state = context.table_state(&table);
            hits.push(on(&HEAVY_LOCK, &table, state, "LOCK TABLE in a migration".into()))
        }
        NodeEnum::VacuumStmt(s) if is_vacuum_full(s) => {
            hits.push(hit(&HEAVY_LOCK, "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE".into()))
        }
        NodeEnum::CreateStmt(s) => {
            for element in &s.table_elts {
                if let Some(NodeEnum::ColumnDef(c)) = element.node.as_ref() {
                    type_advice(c, &mut hits);
                }
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(r) = &s.relation else { return hits };
            let table = relation_name(r);
            let state = context.table_state(&table);
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else { continue };
                let def = c.def.as_ref().and_then(|d| d.node.as_ref());
                match (alter_type(c.subtype), def) {
                    (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(col))) => {
                        type_advice(col, &mut hits);
                        add_column(&table, state, col, context.pg_major, &mut hits);
                    }
                    (AlterTableType::AtDropColumn, _) => {
                        let bare = r.relname.to_ascii_lowercase();
                        let new_column =
                            context.new_columns.contains(&format!("{bare}.{}", c.name.to_ascii_lowercase()));
                        let column_state = if new_column { TableState::Created } else { state };
                        hits.push(on(&DESTRUCTIVE, &table, column_state, format!("drops column {} of {table}", c.name)))
                    }
                    (AlterTableType::AtSetNotNull, _) => {
                        hits.push(on(&SET_NOT_NULL, &table, state, format!("SET NOT NULL on {table}.{}", c.name)))
                    }
                    (AlterTableType::AtAlterColumnType, _) => hits.push(on(
                        &ALTER_COLUMN_TYPE,
                        &table,
                        state,
                        format!("changes the type of {table}.{}", c.name),
                    )),
                    (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(k))) => {
                        match constraint_type(k.contype) {
                            ConstrType::ConstrForeign if !k.skip_validation => hits.push(on(
                                &FK_VALIDATED,
                                &table,
                                state,
                                format!("adds a validated foreign key to {table}"),
                            )),
                            ConstrType::ConstrCheck if !k.skip_validation => hits.push(on(
                                &CHECK_VALIDATED,
                                &table,
                                state,
                                format!("adds a validated CHECK constraint to {table}"),
                            )),
                            ConstrType::ConstrUnique | ConstrType::ConstrPrimary if k.indexname.is_empty() => hits
                                .push(on(
                                    &UNIQUE_WITHOUT_INDEX,
                                    &table,
                                    state,
                                    format!("adds a UNIQUE/PRIMARY KEY constraint to {table} without USING INDEX"),
                                )),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    hits
}

fn add_column(
    table: &str,
    state: TableState,
    col: &pg_query::protobuf::ColumnDef,
    pg_major: Option<u32>,
    hits: &mut Vec<Hit>,
) {
    let constraints: Vec<_> = col
        .constraints
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::Constraint(k)) => Some(k),
            _ => None,
        })
        .collect();
    let default = constraints
        .iter()
        .find(|k| constraint_type(k.contype) == ConstrType::ConstrDefault)
        .and_then(|k| k.raw_expr.as_ref());
    let not_null =
        col.is_not_null || constraints.iter().any(|k| constraint_type(k.contype) == ConstrType::ConstrNotnull);
    let type_name = type_name(col);
    let serial =
        matches!(type_name.as_str(), "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2");
    let volatile = default.is_some_and(|d| calls_volatile(d));
    // Before PostgreSQL 11 every default, even a constant, rewrote the table.
    let old_server = pg_major.is_some_and(|v| v < 11) && default.is_some();
    if volatile || serial || old_server {
        let why = if volatile || serial {
            "a per-row default"
        } else {
            "a default (PostgreSQL 10 and older rewrite the table for any default)"
        };
        hits.push(on(
            &ADD_COLUMN_VOLATILE_DEFAULT,
            table,
            state,
            format!("adds column {} to {table} with {why}", col.colname),
        ));
    } else if not_null && default.is_none() {
        hits.push(on(
            &ADD_COLUMN_NOT_NULL,
            table,
            state,
            format!("adds NOT NULL column {} to {table} without a default", col.colname),
        ));
    }
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

/// The last part of a column's type name, lower-case (`pg_catalog.int4` -> `int4`).
fn type_name(col: &pg_query::protobuf::ColumnDef) -> String {
    col.type_name
        .as_ref()
        .and_then(|t| t.names.last())
        .and_then(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_ascii_lowercase()),
            _ => None,
        })
        .unwrap_or_default()
}

fn type_advice(col: &pg_query::protobuf::ColumnDef, hits: &mut Vec<Hit>) {
    let name = &col.colname;
    let is_key = col.constraints.iter().any(|n| {
        matches!(n.node.as_ref(), Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrPrimary)
    });
    match type_name(col).as_str() {
        "serial" | "serial4" => hits.push(hit(&PREFER_BIGINT, format!("column {name} is serial (32-bit)"))),
        "int4" if is_key => hits.push(hit(&PREFER_BIGINT, format!("primary key {name} is integer (32-bit)"))),
        "timestamp" => hits.push(hit(&PREFER_TIMESTAMPTZ, format!("column {name} is timestamp without time zone"))),
        "varchar" if col.type_name.as_ref().is_some_and(|t| !t.typmods.is_empty()) => {
            hits.push(hit(&PREFER_TEXT, format!("column {name} is varchar(n)")))
        }
        "bpchar" => hits.push(hit(&NO_CHAR, format!("column {name} is char(n)"))),
        _ => {}
    }
}
