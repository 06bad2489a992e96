//! The SQL that turns one schema into another (`shale diff`, `shale drift --fix`). Pure: two models
//! in, an ordered list of statements out.
//!
//! Objects are matched by name (a rename reads as a drop and a create). The statements come in
//! dependency order, in five phases:
//!
//! 1. drop what depends on changing objects: triggers, views, foreign keys, constraints, indexes,
//!    functions whose signature changes; typed tables that stop being of their type become
//!    ordinary ones (`NOT OF`; those that stay change with their type, `ALTER TYPE ... CASCADE`);
//! 2. take back default privileges that go (so objects created next do not get them), create
//!    the new base objects: schemas, extensions, collations, types, sequences, functions not
//!    reading tables;
//! 3. tables: detach partitions that leave their parent and remove parents (`NO INHERIT`), drop
//!    removed tables (partitions first), change the columns of the rest parents first, following
//!    what reaches the children (see [`tables`]), create new tables (parents first), then attach
//!    partitions, inherit new parents and make tables typed (once their columns match);
//! 4. drop what the tables no longer use: functions, sequences, types, collations, extensions,
//!    schemas;
//! 5. create what depends on tables: sequence ownership, constraints, indexes, foreign keys,
//!    functions reading tables, views (recreated around the tables and functions they read),
//!    indexes on materialized views, triggers, comments, privileges; last, the new default
//!    privileges (they apply to objects created after them).
//!
//! What is dropped and created again around a change is only what uses a changing column (as
//! pg_depend records it, [`crate::model::TableUse`]): an unrelated change touches nothing else.
//!
//! Statements that lose data are marked destructive, statements that may rewrite a table or scan
//! it under a strong lock carry a note; the caller decides whether destructive ones are emitted.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::dump::order::{types_after_functions, uses_any};
use crate::dump::qualified;
use crate::dump::render::comment_target;
use crate::model::{CommentKind, Index, Schema, Table, TableUse};

/// One statement of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What it changes, e.g. `column public.users.email`.
    pub object: String,
    /// One or more complete statements, each ending with `;`.
    pub sql: String,
    /// It loses data (drops a table, a column, a sequence's position, enum labels in use).
    pub destructive: bool,
    /// Why a reviewer should look twice: a table rewrite, a scan under a strong lock, a statement
    /// that fails on existing rows.
    pub note: Option<String>,
    /// It must be committed before the rest of the diff runs: new enum labels cannot be used in
    /// the transaction that adds them (see [`Diff::split_commit_first`]).
    pub commit_first: bool,
    /// A new index on a table that exists, or the VALIDATE of a constraint added NOT VALID: a
    /// migration runs it on its own, outside a transaction (an index built CONCURRENTLY), so that
    /// writes to the table go on (see [`Diff::split_build_apart`]).
    pub build_apart: bool,
}

/// The statements that turn one schema into another, in the order they must run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub changes: Vec<Change>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes to commit first (new enum labels, which nothing before them needs) and the
    /// rest, each in order: two transactions, two migrations, or two scripts.
    pub fn split_commit_first(&self) -> (Diff, Diff) {
        let (first, rest) = self.changes.iter().cloned().partition(|c| c.commit_first);
        (Diff { changes: first }, Diff { changes: rest })
    }

    /// The changes built apart (new indexes on existing tables, see [`Change::build_apart`]) and
    /// the rest: a migration of their own, CONCURRENTLY, after the one holding the rest.
    pub fn split_build_apart(&self) -> (Diff, Diff) {
        let (rest, apart) = self.changes.iter().cloned().partition(|c| !c.build_apart);
        (Diff { changes: rest }, Diff { changes: apart })
    }

    pub fn destructive_count(&self) -> usize {
        self.changes.iter().filter(|c| c.destructive).count()
    }

    /// This diff, the down of `up`, for an up written without its destructive statements: what
    /// they would have dropped or changed (in `before`) is still there, so the down neither
    /// makes it again nor changes it back (FastAPI trial: the down of a generated migration made
    /// again a table and a column its up had left in place, and failed). A table left in place
    /// keeps its columns, constraints, indexes, triggers, policies, the sequences its columns own
    /// and its partitions (review: a `serial`'s sequence made again). What the up did change, in a
    /// statement that ran, is undone all the same (review: the drop of a foreign key of a table
    /// left in place, which ran, was not undone).
    pub fn keeping_what_was_left_out(self, up: &Diff, before: &Schema) -> Diff {
        let mut kept: BTreeSet<String> = BTreeSet::new();
        let mut tables: Vec<String> = Vec::new();
        for change in up.changes.iter().filter(|c| c.destructive) {
            kept.insert(change.object.clone());
            if let Some(name) = change.object.strip_prefix("table ") {
                tables.push(name.to_string());
            }
        }
        while let Some(name) = tables.pop() {
            let Some(table) = before.tables.iter().find(|t| format!("{}.{}", t.schema, t.name) == name) else {
                continue;
            };
            let on_table = |schema: &str, of: &str| schema == table.schema && of == table.name;
            kept.insert(format!("table {name}"));
            kept.extend(table.columns.iter().map(|c| format!("column {name}.{}", c.name)));
            kept.insert(format!("row level security {name}"));
            kept.extend(
                before
                    .constraints
                    .iter()
                    .filter(|c| on_table(&c.schema, &c.table))
                    .map(|c| format!("constraint {name}.{}", c.name)),
            );
            kept.extend(
                before
                    .indexes
                    .iter()
                    .filter(|i| on_table(&i.schema, &i.table))
                    .map(|i| format!("index {}.{}", i.schema, i.name)),
            );
            kept.extend(
                before
                    .triggers
                    .iter()
                    .filter(|t| on_table(&t.schema, &t.table))
                    .map(|t| format!("trigger {name}.{}", t.name)),
            );
            kept.extend(
                before
                    .policies
                    .iter()
                    .filter(|p| on_table(&p.schema, &p.table))
                    .map(|p| format!("policy {name}.{}", p.name)),
            );
            kept.extend(
                before
                    .sequences
                    .iter()
                    .filter(|s| s.owned_by.as_ref().is_some_and(|o| on_table(&o.schema, &o.table)))
                    .map(|s| format!("sequence {}.{}", s.schema, s.name)),
            );
            // Its partitions go with it (and theirs with them).
            tables.extend(
                before
                    .tables
                    .iter()
                    .filter(|t| t.partition_of.as_ref().is_some_and(|p| on_table(&p.schema, &p.name)))
                    .map(|t| format!("{}.{}", t.schema, t.name))
                    .filter(|t| !kept.contains(&format!("table {t}"))),
            );
        }
        for ran in up.changes.iter().filter(|c| !c.destructive) {
            kept.remove(&ran.object);
        }
        Diff { changes: self.changes.into_iter().filter(|c| !kept.contains(&c.object)).collect() }
    }

    /// The diff as a migration script. Destructive statements are written as comments unless
    /// `allow_destructive`, so that the script never loses data by default and still shows what
    /// was left out.
    pub fn to_sql(&self, allow_destructive: bool) -> String {
        self.to_sql_with(match allow_destructive {
            true => Destructive::Included { because: "included on purpose" },
            false => Destructive::LeftOut { how_to_include: None },
        })
    }

    /// [`Diff::to_sql`], saying what to do with the destructive statements: include them with a
    /// reason (it goes into each one's `-- shale:allow destructive` for the linter and the
    /// reviewer), or leave them out, saying how to include them in the caller's words.
    pub fn to_sql_with(&self, destructive: Destructive) -> String {
        let mut out = String::new();
        // A function body is checked when created; one may read a table created further down (a
        // LANGUAGE sql body in quotes). The setting ends with the transaction.
        if self.changes.iter().any(|c| c.object.starts_with("function ") || c.object.starts_with("procedure ")) {
            out.push_str("SET LOCAL check_function_bodies = false;\n");
        }
        for c in &self.changes {
            if let Some(note) = &c.note {
                out.push_str(&format!("-- {note}\n"));
            }
            if let (true, Destructive::LeftOut { how_to_include }) = (c.destructive, destructive) {
                match how_to_include {
                    Some(how) => out.push_str(&format!("-- destructive, left out ({how}):\n")),
                    None => out.push_str("-- destructive, left out:\n"),
                }
                for line in c.sql.lines() {
                    out.push_str("-- ");
                    out.push_str(line);
                    out.push('\n');
                }
            } else {
                if let (true, Destructive::Included { because }) = (c.destructive, destructive) {
                    // The caller asked for it: the linter's `destructive` rule is told so, and why.
                    out.push_str(&format!("-- destructive: loses data\n-- shale:allow destructive -- {because}\n"));
                }
                out.push_str(c.sql.trim_end());
                out.push('\n');
            }
            if c.sql.trim_end().contains('\n') || c.note.is_some() || c.destructive {
                out.push('\n');
            }
        }
        out
    }
}

/// What a script ([`Diff::to_sql_with`]) does with the statements that lose data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destructive<'a> {
    /// Left out, each written as comments under a line that says so; `how_to_include`, when
    /// given, says on that line how to include them, in the caller's words (the CLI names its
    /// flag), as in `-- destructive, left out (HOW):`.
    LeftOut { how_to_include: Option<&'a str> },
    /// Included, each under `-- shale:allow destructive -- BECAUSE`, for the linter and the
    /// reviewer.
    Included { because: &'a str },
}

type Key = (String, String);
type TableKey = (String, String, String);

fn key(schema: &str, name: &str) -> Key {
    (schema.to_string(), name.to_string())
}

/// The changes that turn `from` into `to`.
pub fn diff(from: &Schema, to: &Schema) -> Diff {
    Differ::new(from, to).run()
}

struct Differ<'a> {
    from: &'a Schema,
    to: &'a Schema,
    out: Vec<Change>,
    from_tables: BTreeMap<Key, &'a Table>,
    to_tables: BTreeMap<Key, &'a Table>,
    /// Tables dropped (absent from `to`) or recreated (their partitioning changes).
    gone_tables: BTreeSet<Key>,
    /// Tables created from scratch: new ones and recreated ones.
    created_tables: BTreeSet<Key>,
    /// Per table, the columns that change in a way the objects using them (views, functions,
    /// triggers, policies, foreign keys) cannot survive: retyped, dropped, computed again. Those
    /// objects, and only those, are dropped before and created again after.
    changed_columns: BTreeMap<Key, BTreeSet<String>>,
    /// Per table, the changed columns whose indexes and constraints must be rebuilt as well:
    /// columns of a recreated type (their literals are of the old type) and generated columns
    /// computed again (dropped and added, which drops their indexes).
    rebuilt_columns: BTreeMap<Key, BTreeSet<String>>,
    /// The tables a column of which changes type (or collation): a function using such a table's
    /// row type blocks it.
    retyped_tables: BTreeSet<Key>,
    /// Functions dropped or dropped-and-recreated (`schema`, `name`, `arguments`).
    gone_functions: BTreeSet<TableKey>,
    /// Types created again under their name, the old one renamed away until its columns are
    /// converted: enums whose labels are removed or reordered, domains whose base type changes.
    /// The value is `TYPE` or `DOMAIN`, as `DROP` names them.
    recreated_types: BTreeMap<Key, &'static str>,
    /// Collations created again under their name (as columns name them: `public.ci`).
    recreated_collations: BTreeSet<String>,
    /// Objects (as [`Change::object`] names them) that the diff drops and creates again, or replaces
    /// by a new object of the same name: their comments and privileges are set again.
    replaced: BTreeSet<String>,
    /// The tables that stay, as the statements so far leave their columns (see [`tables`]).
    tree: tables::Tree,
    /// Partitions detached for the diff (their parent or bound changes, or they stop being one).
    detached: BTreeSet<Key>,
    /// Copies of its parent's indexes and constraints that a detached partition keeps as they
    /// are (`schema`, `table`, `name`): not created again.
    kept_copies: BTreeSet<TableKey>,
    /// The sequences of serial columns made identities, dropped with that change (the identity's
    /// takes the name): not dropped again.
    serials_made_identities: BTreeSet<Key>,
}

impl<'a> Differ<'a> {
    fn new(from: &'a Schema, to: &'a Schema) -> Differ<'a> {
        let tables = |s: &'a Schema| s.tables.iter().map(|t| (key(&t.schema, &t.name), t)).collect::<BTreeMap<_, _>>();
        Differ {
            from,
            to,
            out: Vec::new(),
            from_tables: tables(from),
            to_tables: tables(to),
            gone_tables: BTreeSet::new(),
            created_tables: BTreeSet::new(),
            changed_columns: BTreeMap::new(),
            rebuilt_columns: BTreeMap::new(),
            retyped_tables: BTreeSet::new(),
            gone_functions: BTreeSet::new(),
            recreated_types: BTreeMap::new(),
            recreated_collations: BTreeSet::new(),
            replaced: BTreeSet::new(),
            tree: tables::Tree::default(),
            detached: BTreeSet::new(),
            kept_copies: BTreeSet::new(),
            serials_made_identities: BTreeSet::new(),
        }
    }

    fn push(&mut self, object: String, sql: String, destructive: bool, note: Option<String>) {
        self.out.push(Change { object, sql, destructive, note, commit_first: false, build_apart: false });
    }

    /// A drop of an object that may be created again: its comments and privileges are then set
    /// again too.
    /// A change of a migration of its own outside a transaction (see [`Change::build_apart`]).
    fn push_apart(&mut self, object: String, sql: String, note: Option<String>) {
        self.push(object, sql, false, note);
        if let Some(change) = self.out.last_mut() {
            change.build_apart = true;
        }
    }

    /// `COMMENT ON` the `kind` object `schema.name` (on table `parent`, where the kind has one)
    /// with the comment the target gives it, if any: an object made again under its name by a swap,
    /// whose comment went with the old one.
    fn comment_again(&self, kind: CommentKind, schema: &str, parent: Option<&str>, name: &str) -> Option<String> {
        self.to
            .comments
            .iter()
            .find(|c| {
                c.kind == kind
                    && c.schema == schema
                    && c.name == name
                    && parent.is_none_or(|p| c.parent.as_deref() == Some(p))
            })
            .map(|c| format!("COMMENT ON {} IS {};", comment_target(c), crate::dump::literal(&c.comment)))
    }

    fn push_replaced(&mut self, object: String, sql: String) {
        self.replaced.insert(object.clone());
        self.push(object, sql, false, None);
    }

    fn run(mut self) -> Diff {
        self.classify_collations();
        self.classify_tables();
        self.classify_types();
        self.classify_functions();
        self.classify_aggregates();
        self.classify_partition_copies();
        let views = self.views_to_recreate();
        let constraints = self.constraint_plan();
        let indexes = self.index_plan(&views);
        let triggers = self.trigger_plan(&views);

        // Phase 1: drop what depends on what changes.
        self.drop_triggers(&triggers);
        self.drop_policies();
        self.drop_views(&views);
        self.drop_aggregates();
        self.drop_constraints(&constraints.drop);
        self.drop_indexes(&indexes.0);
        self.drop_operators_and_casts(true);
        self.drop_changed_functions();
        self.untype_tables();
        self.drop_replaced_types();
        // Phase 2: new base objects (once default privileges hold no more than in both schemas).
        self.default_privileges(true);
        self.create_schemas_and_extensions();
        self.create_collations();
        self.create_or_alter_enums();
        self.create_user_types(false);
        self.create_or_alter_sequences();
        let to_late_types = types_after_functions(self.to);
        self.create_functions(|f| !f.needs_tables && !uses_any(f, &to_late_types));
        self.create_user_types(true);
        self.create_functions(|f| !f.needs_tables && uses_any(f, &to_late_types));
        self.create_operators_and_casts(false);
        // Phase 3: tables.
        self.release_kept_sequences();
        self.detach_and_disinherit();
        self.drop_tables();
        self.alter_tables();
        self.retype_columns();
        self.create_tables();
        self.attach_and_inherit();
        // Phase 4: what the tables no longer use.
        let from_late_types = types_after_functions(self.from);
        self.drop_operators_and_casts(false);
        self.drop_removed_functions(|f| uses_any(f, &from_late_types));
        self.drop_removed_user_types(true);
        self.drop_removed_functions(|f| !uses_any(f, &from_late_types));
        self.drop_removed_sequences();
        self.drop_removed_user_types(false);
        self.drop_removed_enums();
        self.drop_collations();
        self.drop_extensions_and_schemas();
        // Phase 5: what depends on tables.
        self.sequence_ownership();
        self.add_constraints(&constraints, false);
        // An index calling a function made after the tables waits for it.
        let late_functions = self.to.functions_after_tables();
        let (late_indexes, indexes_now): (Vec<&Index>, Vec<&Index>) =
            indexes.1.iter().copied().partition(|i| i.calls.iter().any(|c| late_functions.contains(c)));
        self.rename_indexes(&indexes.3);
        self.add_indexes(&indexes_now, false);
        self.swap_indexes(&indexes.2);
        self.swap_constraints(&constraints.swap);
        self.add_constraints(&constraints, true);
        self.create_functions(|f| f.needs_tables);
        self.add_indexes(&late_indexes, false);
        self.create_operators_and_casts(true);
        self.create_aggregates();
        self.create_views(&views);
        self.add_indexes(&indexes.1, true);
        self.create_triggers(&triggers);
        self.row_security_and_policies();
        self.table_and_view_comments(&views);
        self.object_comments();
        self.grants();
        self.default_privileges(false);
        Diff { changes: self.out }
    }

    /// Whether an object using `uses` (or, for a model without that information, whose
    /// definition `text` names a table) must be dropped before the tables change and created
    /// again after: it uses a changed column or a table that goes (or is created again).
    fn affected(&self, uses: &[TableUse], text: &str) -> bool {
        if uses.is_empty() {
            return self
                .gone_tables
                .iter()
                .chain(self.changed_columns.keys())
                .any(|(s, t)| mentions(text, &qualified(s, t)));
        }
        uses.iter().any(|u| {
            let k = key(&u.schema, &u.table);
            self.gone_tables.contains(&k)
                || self.changed_columns.get(&k).is_some_and(|cs| u.columns.iter().any(|c| cs.contains(c)))
        })
    }

    /// Whether an index or a constraint of table `schema.table` must be dropped and created again
    /// although its definition stays: it uses a rebuilt column, or names a recreated type or
    /// collation (a literal of the old type, an explicit COLLATE).
    fn rebuilt(&self, schema: &str, table: &str, uses: &[TableUse], definition: &str) -> bool {
        let on_rebuilt_column = self.rebuilt_columns.get(&key(schema, table)).is_some_and(|cs| {
            uses.is_empty()
                || uses
                    .iter()
                    .any(|u| u.schema == schema && u.table == table && u.columns.iter().any(|c| cs.contains(c)))
        });
        on_rebuilt_column
            || self.recreated_types.keys().any(|(s, n)| mentions(definition, &qualified(s, n)))
            || self.names_recreated_collation(definition)
    }

    fn table_is_gone(&self, schema: &str, table: &str) -> bool {
        self.gone_tables.contains(&key(schema, table))
    }
}

/// Whether `definition` names `qualified` as a whole name (not as the prefix of a longer one).
fn mentions(definition: &str, qualified: &str) -> bool {
    definition.match_indices(qualified).any(|(at, _)| {
        let next = definition[at + qualified.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

mod access;
mod collations;
mod columns;
mod comments;
mod constraints;
mod enums;
mod functions;
mod indexes;
mod operators;
pub(crate) use operators::{calls_late_function, cast_object, operator_object};
mod schemas;
mod sequences;
mod tables;
mod triggers;
mod types;
mod views;

#[cfg(test)]
mod tests;
