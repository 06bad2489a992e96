//! The schema model: what [`crate::introspect`] reads and [`crate::dump`] writes.
//!
//! Names are stored unquoted, as in pg_catalog. Every list is sorted by its key (schema, then
//! name, then what tells overloads apart), so the model never depends on the order in which the
//! objects were created. Expressions and definitions come from the server's own deparsers
//! (`pg_get_expr`, `pg_get_constraintdef`, ...) run with `search_path = pg_catalog`, so every
//! reference to a user object in them is schema-qualified.

use serde::{Deserialize, Serialize};

/// A whole database schema (the user's objects only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Every user schema, `public` included.
    pub schemas: Vec<String>,
    pub extensions: Vec<Extension>,
    /// User-defined collations (`CREATE COLLATION`).
    #[serde(default)]
    pub collations: Vec<Collation>,
    pub enums: Vec<Enum>,
    /// Sequences that are not identity sequences (those are part of their column).
    pub sequences: Vec<Sequence>,
    /// Ordinary, partitioned and partition tables.
    pub tables: Vec<Table>,
    /// Check, primary key, unique, exclusion and foreign key constraints declared on a table
    /// (not the copies PostgreSQL makes on partitions).
    pub constraints: Vec<Constraint>,
    /// Indexes that do not back a constraint (and are not partitions of a parent index).
    pub indexes: Vec<Index>,
    /// Views and materialized views.
    pub views: Vec<View>,
    /// Functions and procedures (aggregates are in `aggregates`).
    pub functions: Vec<Function>,
    /// User triggers (not internal ones, not the copies on partitions).
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// Stand-alone composite types (`CREATE TYPE ... AS (...)`, not the row types of tables).
    #[serde(default)]
    pub composite_types: Vec<CompositeType>,
    #[serde(default)]
    pub range_types: Vec<RangeType>,
    /// Aggregates of the `CREATE AGGREGATE` kinds (normal, ordered-set, hypothetical-set).
    #[serde(default)]
    pub aggregates: Vec<Aggregate>,
    /// Row-level security policies.
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// Comments on every object kind that has no `comment` field of its own (tables, their
    /// columns and views have one).
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Privileges granted beyond, or revoked from, each object's defaults (owners left out).
    #[serde(default)]
    pub privileges: Vec<ObjectPrivileges>,
    /// `ALTER DEFAULT PRIVILEGES` that differ from the built-in defaults (`pg_default_acl`).
    #[serde(default)]
    pub default_privileges: Vec<DefaultPrivileges>,
    /// User-defined operators (`CREATE OPERATOR`): a citext-like type's `=`, say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Operator>,
    /// User-defined casts (`CREATE CAST`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub casts: Vec<Cast>,
    /// The user objects of kinds this model does not hold (operator classes, rules, ...), counted,
    /// so that a dump, a diff or a drift can say what it leaves out. Not part of equality.
    #[serde(default, skip_serializing_if = "Unread::is_empty")]
    pub unread: Unread,
}

/// `CREATE OPERATOR schema.name (...)`: types as `format_type` writes them, functions as regproc
/// names them (schema-qualified where not in pg_catalog), the commutator and negator as
/// `OPERATOR(schema.name)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub schema: String,
    pub name: String,
    /// None for a prefix operator.
    pub left: Option<String>,
    pub right: String,
    pub function: String,
    pub commutator: Option<String>,
    pub negator: Option<String>,
    pub restrict: Option<String>,
    pub join: Option<String>,
    pub hashes: bool,
    pub merges: bool,
}

/// `CREATE CAST (source AS target) ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cast {
    pub source: String,
    pub target: String,
    /// `WITH FUNCTION`'s, with its argument types (`public.mood_text(public.mood)`).
    pub function: Option<String>,
    /// pg_cast's method: `f` (a function), `b` (binary coercible), `i` (through text, WITH INOUT).
    pub method: String,
    /// pg_cast's context: `e` (explicit), `a` (AS ASSIGNMENT), `i` (AS IMPLICIT).
    pub context: String,
}

/// User objects of the kinds [`Schema`] does not hold, by kind: what a dump leaves out and a diff
/// does not compare. Two schemas are equal whatever theirs: only what the model holds is compared.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unread(pub Vec<UnreadKind>);

impl Unread {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for Unread {
    fn eq(&self, _: &Unread) -> bool {
        true
    }
}

impl Eq for Unread {}

/// How many user objects of one kind the model leaves out, with the first few of their names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadKind {
    /// "operator", "cast", "rule", ... (singular).
    pub kind: String,
    pub count: i64,
    /// The first names, in order (at most three).
    pub names: Vec<String>,
}

/// A schema-qualified object name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
}

/// A collation created with `CREATE COLLATION`, as in `pg_collation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    pub schema: String,
    pub name: String,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    /// The locale of an ICU or builtin collation.
    pub locale: Option<String>,
    /// `LC_COLLATE` and `LC_CTYPE` of a libc collation.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    /// False for a nondeterministic collation (ICU only).
    pub deterministic: bool,
    /// ICU tailoring rules (PostgreSQL 16 and later).
    pub rules: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    pub schema: String,
    pub name: String,
    /// The labels in their sort order.
    pub values: Vec<String>,
}

/// The options of a sequence, as in `pg_sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    /// `smallint`, `integer` or `bigint`.
    #[serde(rename = "type")]
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub options: SequenceOptions,
    /// `OWNED BY` (the serial column it belongs to), if any.
    pub owned_by: Option<ColumnRef>,
}

/// A table whose columns an object (view, function, trigger, policy, index, constraint) uses, as
/// pg_depend records it: the object blocks a change of type of those columns, or their drop, so
/// the diff rebuilds it around such a change, and only then.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableUse {
    pub schema: String,
    pub table: String,
    /// The columns it uses, sorted; none when it uses only the table (`count(*)`) or its row type.
    pub columns: Vec<String>,
    /// It uses the table's row type (a function's argument or SQL-standard body, `r.a` of `r t`),
    /// which blocks retyping any of its columns (PostgreSQL 15.20: "function a_of(t) uses its row
    /// type").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub row_type: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRef {
    pub schema: String,
    pub table: String,
    pub column: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub unlogged: bool,
    /// `pg_get_partkeydef` of a partitioned table, e.g. `RANGE (created_at)`.
    pub partition_key: Option<String>,
    /// The parent of a partition.
    pub partition_of: Option<QualifiedName>,
    /// The bound of a partition: `FOR VALUES ...` or `DEFAULT`.
    pub partition_bound: Option<String>,
    pub comment: Option<String>,
    /// In column order.
    pub columns: Vec<Column>,
    /// `INHERITS (...)`: the parents of a table that is not a partition, in their declared order.
    #[serde(default)]
    pub inherits: Vec<QualifiedName>,
    /// `ENABLE ROW LEVEL SECURITY`.
    #[serde(default)]
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY` (the owner is subject to the policies too).
    #[serde(default)]
    pub force_row_security: bool,
    /// `OF type`: a typed table, whose columns are the composite type's attributes.
    #[serde(default)]
    pub of_type: Option<QualifiedName>,
    /// Storage parameters (`WITH (fillfactor=90)`), as pg_class keeps them: `name=value`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<String>,
    /// A partition's copies of its parent's indexes and constraints, which PostgreSQL makes and
    /// names (not dumped: the parent's make them again). Detached, the table keeps them as its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_copies: Vec<PartitionCopy>,
}

/// See [`Table::partition_copies`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartitionCopy {
    /// `true` for a constraint (check, key, foreign key), `false` for an index.
    pub constraint: bool,
    pub name: String,
    /// The name of the parent's index or constraint it copies.
    pub of: String,
    /// `pg_get_indexdef` or `pg_get_constraintdef` of the copy.
    pub definition: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type` of the column's type and modifier, e.g. `character varying(255)`.
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    /// Qualified collation name, when not the type's default.
    pub collation: Option<String>,
    /// Default expression (not for generated columns).
    pub default: Option<String>,
    pub identity: Option<Identity>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    pub comment: Option<String>,
    /// The column comes only from the parents of an inheriting table (it is not declared on the
    /// table itself), so `CREATE TABLE ... INHERITS` does not list it.
    #[serde(default)]
    pub inherited: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `GENERATED ALWAYS` (true) or `GENERATED BY DEFAULT` (false).
    pub always: bool,
    /// The identity's own sequence.
    pub sequence: Option<IdentitySequence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySequence {
    pub schema: String,
    pub name: String,
    pub options: SequenceOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    Check,
    PrimaryKey,
    Unique,
    Exclusion,
    ForeignKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub schema: String,
    pub table: String,
    pub name: String,
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`: includes `NOT VALID` and `DEFERRABLE ...` when they apply.
    pub definition: String,
    /// False for a constraint added `NOT VALID` and not validated since.
    pub validated: bool,
    pub deferrable: bool,
    pub deferred: bool,
    /// The columns it constrains or reads (a foreign key: its own and those it points at).
    #[serde(default)]
    pub uses: Vec<TableUse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `pg_get_indexdef` (for a partitioned table without `ONLY`, so it cascades to partitions).
    pub definition: String,
    /// The index is on a materialized view (so it is created after the views).
    pub on_materialized_view: bool,
    /// False for an index a failed `CREATE INDEX CONCURRENTLY` left unfinished (PostgreSQL keeps
    /// it up to date but never uses it). A partitioned table's index counts as valid: it is
    /// invalid only until its partitions' copies are attached.
    #[serde(default = "valid_by_default")]
    pub valid: bool,
    /// The table columns it indexes (key, INCLUDE, expression and predicate columns).
    #[serde(default)]
    pub uses: Vec<TableUse>,
    /// The user functions its expressions and predicate call, as [`Function::ordering_key`] names
    /// them: one created after the tables makes the index wait for it, and one dropped around a
    /// change takes the index with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<QualifiedName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub materialized: bool,
    /// `pg_get_viewdef`: the query, ending with `;`.
    pub definition: String,
    pub comment: Option<String>,
    /// The other views and materialized views this one reads, sorted.
    pub depends_on: Vec<QualifiedName>,
    /// The table columns it reads.
    #[serde(default)]
    pub uses: Vec<TableUse>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    Function,
    Procedure,
    Window,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `pg_get_function_identity_arguments`: tells overloads apart.
    pub arguments: String,
    pub kind: FunctionKind,
    /// `pg_get_functiondef`: a complete `CREATE OR REPLACE FUNCTION|PROCEDURE` statement.
    pub definition: String,
    /// Its signature uses a table's row type, or its SQL-standard body (`BEGIN ATOMIC`, `RETURN`)
    /// reads a table or calls a function that does, so it must be created after the tables.
    pub needs_tables: bool,
    /// The domains, composite and range types (row types of tables too) its signature or
    /// SQL-standard body uses, sorted: when one of them is created after the functions (it is
    /// built on a user function), so is this function.
    #[serde(default)]
    pub depends_on: Vec<QualifiedName>,
    /// The table columns its SQL-standard body reads, and the tables whose row type it uses.
    #[serde(default)]
    pub uses: Vec<TableUse>,
    /// The user functions its SQL-standard body calls, each as [`Function::ordering_key`] names
    /// it: they must exist before it is created, and go after it is dropped (PostgreSQL parses
    /// such a body when it creates the function).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<QualifiedName>,
}

impl Function {
    /// The function as an ordering names it: its schema, and its name with its identity
    /// arguments (`a_of(r t)`), which tell overloads apart.
    pub fn ordering_key(&self) -> QualifiedName {
        QualifiedName { schema: self.schema.clone(), name: format!("{}({})", self.name, self.arguments) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `pg_get_triggerdef`: a complete `CREATE [CONSTRAINT] TRIGGER` statement.
    pub definition: String,
    /// `pg_trigger.tgenabled`: `O` (origin, the default), `D` (disabled), `R` (replica), `A` (always).
    pub enabled: String,
    /// The table columns its `UPDATE OF` list and `WHEN` condition use.
    #[serde(default)]
    pub uses: Vec<TableUse>,
}

impl Trigger {
    /// The schema of the function it executes, as its definition names it (`pg_get_triggerdef`
    /// qualifies names outside pg_catalog): `public` for `EXECUTE FUNCTION public.f()`.
    pub fn function_schema(&self) -> Option<String> {
        let (_, call) = self
            .definition
            .rsplit_once(" EXECUTE FUNCTION ")
            .or_else(|| self.definition.rsplit_once(" EXECUTE PROCEDURE "))?;
        let (schema, rest) = match call.strip_prefix('"') {
            Some(quoted) => {
                let mut name = String::new();
                let mut chars = quoted.char_indices().peekable();
                let end = loop {
                    let (at, c) = chars.next()?;
                    match c {
                        '"' if chars.peek().is_some_and(|(_, n)| *n == '"') => {
                            chars.next();
                            name.push('"');
                        }
                        '"' => break at + 1,
                        _ => name.push(c),
                    }
                };
                (name, &quoted[end..])
            }
            None => {
                let end = call.find(['.', '('])?;
                (call[..end].to_string(), &call[end..])
            }
        };
        rest.starts_with('.').then_some(schema)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub schema: String,
    pub name: String,
    /// `format_type` of the base type and modifier.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Qualified collation name, when not the base type's default.
    pub collation: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    /// Named CHECK constraints, sorted by name.
    pub checks: Vec<DomainCheck>,
    /// Its default or a check calls a user function, so those are added after the functions.
    pub needs_functions: bool,
    /// The other user types (domains, composite, range types) it is built on, sorted.
    pub depends_on: Vec<QualifiedName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: String,
    /// `pg_get_constraintdef`: `CHECK (...)`, with `NOT VALID` when it applies.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeType {
    pub schema: String,
    pub name: String,
    /// In attribute order.
    pub attributes: Vec<Attribute>,
    /// The other user types (domains, composite, range types) its attributes use, sorted.
    pub depends_on: Vec<QualifiedName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    /// Qualified collation name, when not the type's default.
    pub collation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeType {
    pub schema: String,
    pub name: String,
    /// `format_type` of the subtype.
    pub subtype: String,
    /// Qualified operator class, when not the subtype's default btree class.
    pub subtype_opclass: Option<String>,
    /// Qualified collation name, when not the subtype's default.
    pub collation: Option<String>,
    /// Qualified function names.
    pub canonical: Option<String>,
    pub subdiff: Option<String>,
    /// The multirange type (PostgreSQL 14 and later).
    pub multirange: Option<QualifiedName>,
    /// Its canonical or subdiff function is a user function, so it is created after the functions.
    pub needs_functions: bool,
    /// The other user types (domains, composite, range types) it is built on, sorted.
    pub depends_on: Vec<QualifiedName>,
}

impl RangeType {
    /// The multirange type name PostgreSQL picks when none is given: the first `range` in the
    /// name becomes `multirange`, else `_multirange` is appended.
    pub fn default_multirange_name(&self) -> String {
        match self.name.find("range") {
            Some(at) => format!("{}multi{}", &self.name[..at], &self.name[at..]),
            None => format!("{}_multirange", self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub schema: String,
    pub name: String,
    /// `pg_get_function_identity_arguments`: tells overloads apart.
    pub arguments: String,
    /// A complete `CREATE AGGREGATE` statement (there is no server deparser for aggregates).
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `AS PERMISSIVE` (true) or `AS RESTRICTIVE` (false).
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, sorted; `PUBLIC` for everyone.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    /// The table columns its expressions read (its own table's and, in subqueries, others').
    #[serde(default)]
    pub uses: Vec<TableUse>,
}

/// What a [`Comment`] is on, as `COMMENT ON` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentKind {
    Schema,
    /// An enum, composite or range type.
    Type,
    Domain,
    Sequence,
    Index,
    /// A table constraint (`parent` is the table).
    Constraint,
    /// A domain's check (`parent` is the domain).
    DomainConstraint,
    Function,
    Procedure,
    Aggregate,
    /// `parent` is the table.
    Trigger,
    /// `parent` is the table.
    Policy,
    /// A column of a view, materialized view or composite type (`parent`); table columns have a
    /// `comment` field of their own.
    Column,
    /// Only a comment other than the one the extension's control file gives it (`schema` is the
    /// extension's schema).
    Extension,
    Collation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub kind: CommentKind,
    /// The object's schema (for a schema: the schema itself).
    pub schema: String,
    /// The object's name (for a schema: the schema itself).
    pub name: String,
    /// The table, domain or relation the object belongs to, for the kinds that have one.
    pub parent: Option<String>,
    /// `pg_get_function_identity_arguments` of a function, procedure or aggregate.
    pub arguments: Option<String>,
    pub comment: String,
}

/// What [`ObjectPrivileges`] are on, as `GRANT ... ON` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivilegeKind {
    Schema,
    /// A table, view or materialized view, or one of its columns (`column`).
    Table,
    Sequence,
    /// A function or an aggregate.
    Function,
    Procedure,
    /// An enum, composite or range type.
    Type,
    Domain,
}

/// One privilege as `aclexplode` gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// A role name, or `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `USAGE`, `EXECUTE`, ...
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    pub grantable: bool,
}

/// The privileges of one object that differ from what PostgreSQL gives it by default
/// (`acldefault`, or for objects made by initdb such as `public`, `pg_init_privs`). The owner's
/// own privileges are left out, like ownership itself (owners are deployment-specific).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPrivileges {
    pub kind: PrivilegeKind,
    /// The object's schema (for a schema: the schema itself).
    pub schema: String,
    /// The object's name (for a schema: the schema itself).
    pub name: String,
    /// For a column privilege.
    pub column: Option<String>,
    /// `pg_get_function_identity_arguments` of a function or procedure.
    pub arguments: Option<String>,
    /// Granted beyond the defaults, sorted.
    pub granted: Vec<Grant>,
    /// Default privileges revoked (e.g. `EXECUTE` from `PUBLIC` on a function), sorted.
    pub revoked: Vec<Grant>,
}

/// The kind of object [`DefaultPrivileges`] apply to, as `ALTER DEFAULT PRIVILEGES ... ON` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultPrivilegeKind {
    Tables,
    Sequences,
    /// Functions, procedures and aggregates.
    Functions,
    Types,
    Schemas,
}

/// The privileges that objects a role creates from now on get (`ALTER DEFAULT PRIVILEGES`),
/// where they differ from the built-in ones: for all schemas, what the entry grants beyond
/// `acldefault` and revokes from it; in one schema, what it adds (per-schema entries only add).
/// The role's own privileges are left out, as on objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPrivileges {
    /// The role whose new objects they apply to (`FOR ROLE`); `None` for the role that read the
    /// schema, so that a dump applies them to the role that loads it, as it owns what it creates.
    pub role: Option<String>,
    /// `IN SCHEMA`; `None` for all schemas.
    pub schema: Option<String>,
    pub kind: DefaultPrivilegeKind,
    /// Granted beyond the built-in defaults, sorted.
    pub granted: Vec<Grant>,
    /// Built-in defaults revoked (e.g. `EXECUTE` from `PUBLIC` on functions), sorted.
    pub revoked: Vec<Grant>,
}

impl Schema {
    /// Whether `schema.name` is a table or an enum type here: the objects another tool keeps
    /// beside its history (its lock table, pgmigrate's enum of its history's `type`).
    pub fn holds_table_or_enum(&self, schema: &str, name: &str) -> bool {
        self.tables.iter().any(|t| t.schema == schema && t.name == name)
            || self.enums.iter().any(|e| e.schema == schema && e.name == name)
    }

    /// Sort every list by its key, so that two models of the same schema compare equal.
    /// The functions created after the tables ([`Function::needs_tables`]), as their callers name
    /// them.
    pub fn functions_after_tables(&self) -> std::collections::BTreeSet<QualifiedName> {
        self.functions.iter().filter(|f| f.needs_tables).map(Function::ordering_key).collect()
    }

    pub fn normalize(&mut self) {
        self.schemas.sort();
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        self.collations.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.enums.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.sequences.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.tables.iter_mut().for_each(|t| t.partition_copies.sort());
        self.constraints.sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
        self.indexes.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for v in &mut self.views {
            v.depends_on.sort();
            v.depends_on.dedup();
        }
        let uses = self.constraints.iter_mut().map(|c| &mut c.uses);
        let uses = uses.chain(self.indexes.iter_mut().map(|i| &mut i.uses));
        let uses = uses.chain(self.views.iter_mut().map(|v| &mut v.uses));
        let uses = uses.chain(self.functions.iter_mut().map(|f| &mut f.uses));
        let uses = uses.chain(self.triggers.iter_mut().map(|t| &mut t.uses));
        for u in uses.chain(self.policies.iter_mut().map(|p| &mut p.uses)) {
            u.iter_mut().for_each(|t| t.columns.sort());
            u.sort();
        }
        self.views.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for f in &mut self.functions {
            f.depends_on.sort();
            f.depends_on.dedup();
        }
        self.functions.sort_by(|a, b| (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments)));
        // A body that calls a function created after the tables waits for it too: PostgreSQL
        // parses a SQL-standard body when it creates the function (re-check: one reading no table
        // but calling one that does was created before the tables, and its dump did not load).
        loop {
            let late = self.functions_after_tables();
            let callers: Vec<usize> = (0..self.functions.len())
                .filter(|i| {
                    let f = &self.functions[*i];
                    !f.needs_tables && f.calls.iter().any(|c| late.contains(c))
                })
                .collect();
            if callers.is_empty() {
                break;
            }
            callers.into_iter().for_each(|i| self.functions[i].needs_tables = true);
        }
        self.triggers.sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
        for d in &mut self.domains {
            d.checks.sort_by(|a, b| a.name.cmp(&b.name));
            d.depends_on.sort();
            d.depends_on.dedup();
        }
        self.domains.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for c in &mut self.composite_types {
            c.depends_on.sort();
            c.depends_on.dedup();
        }
        self.composite_types.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        for r in &mut self.range_types {
            r.depends_on.sort();
            r.depends_on.dedup();
        }
        self.range_types.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.aggregates.sort_by(|a, b| (&a.schema, &a.name, &a.arguments).cmp(&(&b.schema, &b.name, &b.arguments)));
        for p in &mut self.policies {
            p.roles.sort();
        }
        self.policies.sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
        self.operators
            .sort_by(|a, b| (&a.schema, &a.name, &a.left, &a.right).cmp(&(&b.schema, &b.name, &b.left, &b.right)));
        self.casts.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
        self.comments.sort_by(|a, b| {
            (a.kind, &a.schema, &a.parent, &a.name, &a.arguments).cmp(&(
                b.kind,
                &b.schema,
                &b.parent,
                &b.name,
                &b.arguments,
            ))
        });
        for p in &mut self.privileges {
            p.granted.sort();
            p.revoked.sort();
        }
        self.privileges.sort_by(|a, b| {
            (a.kind, &a.schema, &a.name, &a.arguments, &a.column).cmp(&(
                b.kind,
                &b.schema,
                &b.name,
                &b.arguments,
                &b.column,
            ))
        });
        for p in &mut self.default_privileges {
            p.granted.sort();
            p.revoked.sort();
        }
        self.default_privileges.sort_by(|a, b| (&a.role, &a.schema, a.kind).cmp(&(&b.role, &b.schema, b.kind)));
    }
}

/// Indexes in models written before `valid` was read were valid.
fn valid_by_default() -> bool {
    true
}
