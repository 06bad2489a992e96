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

use crate::dump::{
    create_view, function, ident, literal, qualified, sequence_options, trigger, types_after_functions, uses_any,
    views_in_order,
};
use crate::model::{
    Column, CompositeType, Constraint, ConstraintKind, Domain, Enum, Function, FunctionKind, Schema, SequenceOptions,
    Table, TableUse, Trigger, View,
};

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

    pub fn destructive_count(&self) -> usize {
        self.changes.iter().filter(|c| c.destructive).count()
    }

    /// The diff as a migration script. Destructive statements are written as comments unless
    /// `allow_destructive`, so that the script never loses data by default and still shows what
    /// was left out.
    pub fn to_sql(&self, allow_destructive: bool) -> String {
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
            if c.destructive && !allow_destructive {
                out.push_str("-- destructive, left out (use --allow-destructive to include it):\n");
                for line in c.sql.lines() {
                    out.push_str("-- ");
                    out.push_str(line);
                    out.push('\n');
                }
            } else {
                if c.destructive {
                    // The caller asked for it: the linter's `destructive` rule is told so.
                    out.push_str(
                        "-- destructive: loses data\n-- shale:allow destructive -- included with --allow-destructive\n",
                    );
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

type Key = (String, String);
/// Constraints to drop, to add, to validate, and foreign keys whose deferrability changes in place.
#[derive(Default)]
struct ConstraintPlan<'a> {
    drop: Vec<&'a Constraint>,
    add: Vec<&'a Constraint>,
    validate: Vec<&'a Constraint>,
    deferrability: Vec<&'a Constraint>,
}
/// Indexes to drop and to create.
type IndexPlan<'a> = (Vec<&'a crate::model::Index>, Vec<&'a crate::model::Index>);
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
            gone_functions: BTreeSet::new(),
            recreated_types: BTreeMap::new(),
            recreated_collations: BTreeSet::new(),
            replaced: BTreeSet::new(),
            tree: tables::Tree::default(),
            detached: BTreeSet::new(),
            kept_copies: BTreeSet::new(),
        }
    }

    fn push(&mut self, object: String, sql: String, destructive: bool, note: Option<String>) {
        self.out.push(Change { object, sql, destructive, note, commit_first: false });
    }

    /// A drop of an object that may be created again: its comments and privileges are then set
    /// again too.
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
        self.drop_changed_functions();
        self.untype_tables();
        self.drop_replaced_types();
        // Phase 2: new base objects (once default privileges hold no more than in both schemas).
        self.default_privileges(true);
        self.create_schemas_and_extensions();
        self.create_collations();
        self.create_or_alter_types();
        self.create_user_types(false);
        self.create_or_alter_sequences();
        let to_late_types = types_after_functions(self.to);
        self.create_functions(|f| !f.needs_tables && !uses_any(f, &to_late_types));
        self.create_user_types(true);
        self.create_functions(|f| !f.needs_tables && uses_any(f, &to_late_types));
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
        self.drop_removed_functions(|f| uses_any(f, &from_late_types));
        self.drop_removed_user_types(true);
        self.drop_removed_functions(|f| !uses_any(f, &from_late_types));
        self.drop_removed_sequences();
        self.drop_removed_user_types(false);
        self.drop_removed_types();
        self.drop_collations();
        self.drop_extensions_and_schemas();
        // Phase 5: what depends on tables.
        self.sequence_ownership();
        self.add_constraints(&constraints, false);
        self.add_indexes(&indexes.1, false);
        self.add_constraints(&constraints, true);
        self.create_functions(|f| f.needs_tables);
        self.create_aggregates();
        self.create_views(&views);
        self.add_indexes(&indexes.1, true);
        self.create_triggers(&triggers);
        self.row_security_and_policies();
        self.comments(&views);
        self.object_comments();
        self.grants();
        self.default_privileges(false);
        Diff { changes: self.out }
    }

    // ---- classification -------------------------------------------------------------------

    fn classify_tables(&mut self) {
        for (k, t) in &self.from_tables {
            match self.to_tables.get(k) {
                None => {
                    self.gone_tables.insert(k.clone());
                }
                Some(new) if t.partition_key != new.partition_key => {
                    self.gone_tables.insert(k.clone());
                    self.created_tables.insert(k.clone());
                }
                Some(_) => {}
            }
        }
        for k in self.to_tables.keys() {
            if !self.from_tables.contains_key(k) {
                self.created_tables.insert(k.clone());
            }
        }
        // Partitions go with their parent: a recreated parent recreates all its partitions.
        loop {
            let before = self.created_tables.len() + self.gone_tables.len();
            for (k, t) in &self.to_tables {
                if let Some(p) = &t.partition_of {
                    if self.gone_tables.contains(&key(&p.schema, &p.name)) && self.from_tables.contains_key(k) {
                        self.gone_tables.insert(k.clone());
                        self.created_tables.insert(k.clone());
                    }
                }
            }
            if before == self.created_tables.len() + self.gone_tables.len() {
                break;
            }
        }
        let (mut changed, mut rebuilt) = (Vec::new(), Vec::new());
        for (k, old) in &self.from_tables {
            let Some(new) = self.to_tables.get(k) else { continue };
            if self.gone_tables.contains(k) {
                continue;
            }
            let new_columns: BTreeMap<&str, &Column> = new.columns.iter().map(|c| (c.name.as_str(), c)).collect();
            for c in &old.columns {
                let Some(n) = new_columns.get(c.name.as_str()) else {
                    changed.push((k.clone(), c.name.clone()));
                    continue;
                };
                // A stored expression that changes (or a column that becomes generated) is computed
                // again: the column is dropped and added. DROP EXPRESSION keeps the column.
                let recomputed = n.generated.is_some() && n.generated != c.generated;
                let retyped =
                    n.data_type != c.data_type || n.collation != c.collation || self.collation_recreated(&n.collation);
                if recomputed || retyped {
                    changed.push((k.clone(), c.name.clone()));
                }
                if recomputed {
                    rebuilt.push((k.clone(), c.name.clone()));
                }
            }
        }
        for (k, c) in changed {
            self.changed_columns.entry(k).or_default().insert(c);
        }
        for (k, c) in rebuilt {
            self.rebuilt_columns.entry(k).or_default().insert(c);
        }
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

    fn classify_functions(&mut self) {
        let to: BTreeMap<TableKey, &Function> = self.to.functions.iter().map(|f| (fn_key(f), f)).collect();
        for f in &self.from.functions {
            match to.get(&fn_key(f)) {
                None => {
                    self.gone_functions.insert(fn_key(f));
                }
                Some(n) if n.definition != f.definition && !replaceable(f, n) => {
                    self.gone_functions.insert(fn_key(f));
                }
                // A function bound to a table's row type or columns (a SQL-standard body) blocks
                // changing them: dropped before and created again after.
                Some(_) if f.needs_tables && self.affected(&f.uses, &f.definition) => {
                    self.gone_functions.insert(fn_key(f));
                }
                Some(_) => {}
            }
        }
    }

    fn classify_types(&mut self) {
        let to: BTreeMap<Key, &Enum> = self.to.enums.iter().map(|e| (key(&e.schema, &e.name), e)).collect();
        for e in &self.from.enums {
            if let Some(n) = to.get(&key(&e.schema, &e.name)) {
                if n.values != e.values && !keeps_order(&e.values, &n.values) {
                    self.recreated_types.insert(key(&e.schema, &e.name), "TYPE");
                }
            }
        }
        let to: BTreeMap<Key, &Domain> = self.to.domains.iter().map(|d| (key(&d.schema, &d.name), d)).collect();
        for d in &self.from.domains {
            if let Some(n) = to.get(&key(&d.schema, &d.name)) {
                if n.data_type != d.data_type || n.collation != d.collation || self.collation_recreated(&n.collation) {
                    self.recreated_types.insert(key(&d.schema, &d.name), "DOMAIN");
                }
            }
        }
        // A composite type a table column uses cannot be altered: it is created again and the
        // columns converted attribute by attribute.
        let to: BTreeMap<Key, &CompositeType> =
            self.to.composite_types.iter().map(|c| (key(&c.schema, &c.name), c)).collect();
        for c in &self.from.composite_types {
            let k = key(&c.schema, &c.name);
            let name = qualified(&c.schema, &c.name);
            let used = self.from.tables.iter().any(|t| {
                !self.gone_tables.contains(&key(&t.schema, &t.name)) && t.columns.iter().any(|x| x.data_type == name)
            });
            let changes = |n: &&CompositeType| {
                n.attributes != c.attributes || n.attributes.iter().any(|a| self.collation_recreated(&a.collation))
            };
            if used && to.get(&k).is_some_and(changes) {
                self.recreated_types.insert(k, "TYPE");
            }
        }
        // Columns of a recreated type change type: what uses them is rebuilt around the change.
        let mut retyped = Vec::new();
        for t in &self.from.tables {
            let k = key(&t.schema, &t.name);
            if !self.gone_tables.contains(&k) {
                let of_recreated = t.columns.iter().filter(|c| self.retyped(&c.data_type).is_some());
                retyped.extend(of_recreated.map(|c| (k.clone(), c.name.clone())));
            }
        }
        for (k, c) in retyped {
            self.changed_columns.entry(k.clone()).or_default().insert(c.clone());
            self.rebuilt_columns.entry(k).or_default().insert(c);
        }
    }

    /// For a column of a recreated composite type: `ROW((col).a::T, ...)::type`, attribute by
    /// attribute (NULL for new ones). None for other types (they convert through text).
    fn recreated_conversion(&self, col: &str, data_type: &str) -> Option<String> {
        let find = |s: &'a Schema| s.composite_types.iter().find(|c| qualified(&c.schema, &c.name) == data_type);
        let (old, new) = (find(self.from)?, find(self.to)?);
        let fields: Vec<String> = new
            .attributes
            .iter()
            .map(|a| match old.attributes.iter().find(|o| o.name == a.name) {
                Some(_) => format!("({col}).{}::{}", ident(&a.name), a.data_type),
                None => format!("NULL::{}", a.data_type),
            })
            .collect();
        Some(format!("CASE WHEN {col} IS NULL THEN NULL ELSE ROW({})::{data_type} END", fields.join(", ")))
    }

    /// The recreated type a column type (`public.mood` or `public.mood[]`) refers to.
    fn retyped(&self, data_type: &str) -> Option<&Key> {
        let base = data_type.trim_end_matches("[]");
        self.recreated_types.keys().find(|(s, n)| qualified(s, n) == base)
    }

    fn table_is_gone(&self, schema: &str, table: &str) -> bool {
        self.gone_tables.contains(&key(schema, table))
    }

    /// Views (by key) that must be dropped and created again: changed ones, and those reading a
    /// reshaped or recreated table, a function that is dropped, or another such view.
    fn views_to_recreate(&self) -> BTreeSet<Key> {
        let to: BTreeMap<Key, &View> = self.to.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        let mut recreate: BTreeSet<Key> = BTreeSet::new();
        let mut gone: BTreeSet<Key> = BTreeSet::new();
        for v in &self.from.views {
            let k = key(&v.schema, &v.name);
            match to.get(&k) {
                None => {
                    gone.insert(k);
                }
                Some(n) => {
                    let reads_changed = self.affected(&v.uses, &v.definition)
                        || self.gone_functions.iter().any(|(s, f, _)| mentions(&v.definition, &qualified(s, f)))
                        || self.names_recreated_collation(&v.definition);
                    if n.definition != v.definition || n.materialized != v.materialized || reads_changed {
                        recreate.insert(k);
                    }
                }
            }
        }
        loop {
            let before = recreate.len();
            for v in &self.from.views {
                let k = key(&v.schema, &v.name);
                let reads_dropped = v
                    .depends_on
                    .iter()
                    .any(|d| recreate.contains(&key(&d.schema, &d.name)) || gone.contains(&key(&d.schema, &d.name)));
                if reads_dropped && to.contains_key(&k) {
                    recreate.insert(k);
                }
            }
            if recreate.len() == before {
                break;
            }
        }
        recreate
    }

    // ---- phase 1 --------------------------------------------------------------------------

    /// Triggers to drop (phase 1) and to create (phase 5): changed ones, those calling a function
    /// that is dropped, those using a column that changes type (`UPDATE OF`, `WHEN`), and those on
    /// a view that is created again (dropping the view dropped them); new ones and those of new
    /// tables and views are created.
    fn trigger_plan(&self, recreated_views: &BTreeSet<Key>) -> (Vec<&'a Trigger>, Vec<&'a Trigger>) {
        let tkey = |t: &Trigger| (t.schema.clone(), t.table.clone(), t.name.clone());
        let from: BTreeMap<TableKey, &'a Trigger> = self.from.triggers.iter().map(|t| (tkey(t), t)).collect();
        let to: BTreeMap<TableKey, &'a Trigger> = self.to.triggers.iter().map(|t| (tkey(t), t)).collect();
        let to_views: BTreeSet<Key> = self.to.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let from_views: BTreeSet<Key> = self.from.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let (mut drop, mut create) = (Vec::new(), Vec::new());
        for (k, g) in &from {
            let on = key(&g.schema, &g.table);
            // Dropped with their table, or with their view (one that goes, or is created again).
            let view_dropped = recreated_views.contains(&on) || (from_views.contains(&on) && !to_views.contains(&on));
            if self.table_is_gone(&g.schema, &g.table) || view_dropped {
                continue;
            }
            match to.get(k) {
                None => drop.push(*g),
                Some(n)
                    if n.definition != g.definition
                        || self.calls_gone_function(&g.definition)
                        || self.affected(&g.uses, &g.definition) =>
                {
                    drop.push(*g);
                    create.push(*n);
                }
                Some(_) => {}
            }
        }
        for (k, n) in &to {
            let on = key(&n.schema, &n.table);
            if !from.contains_key(k) || self.created_tables.contains(&on) || recreated_views.contains(&on) {
                create.push(*n);
            }
        }
        create.sort_by_key(|t| tkey(t));
        create.dedup_by_key(|t| tkey(t));
        (drop, create)
    }

    fn drop_triggers(&mut self, plan: &(Vec<&'a Trigger>, Vec<&'a Trigger>)) {
        for g in &plan.0 {
            self.push_replaced(
                format!("trigger {}.{}.{}", g.schema, g.table, g.name),
                format!("DROP TRIGGER {} ON {};", ident(&g.name), qualified(&g.schema, &g.table)),
            );
        }
    }

    fn calls_gone_function(&self, definition: &str) -> bool {
        self.gone_functions.iter().any(|(s, f, _)| definition.contains(&format!("{}(", qualified(s, f))))
    }

    fn drop_views(&mut self, recreate: &BTreeSet<Key>) {
        let to: BTreeSet<Key> = self.to.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let order = views_in_order(&self.from.views);
        let mut drops = Vec::new();
        for v in order.into_iter().rev() {
            let k = key(&v.schema, &v.name);
            if recreate.contains(&k) || !to.contains(&k) {
                let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                drops.push((
                    format!("{} {}.{}", kind.to_lowercase(), v.schema, v.name),
                    format!("DROP {kind} {};", qualified(&v.schema, &v.name)),
                ));
            }
        }
        for (object, sql) in drops {
            self.push_replaced(object, sql);
        }
    }

    /// Constraints to (re)create: new, changed, on a created table, those a column change drops
    /// (on a rebuilt column) and foreign keys whose columns change type (both sides must change
    /// together) or whose key is rebuilt. Nothing else is touched: a foreign key stays, unscanned,
    /// when only other columns of its tables change.
    fn constraint_plan(&self) -> ConstraintPlan<'a> {
        let ckey = |c: &Constraint| (c.schema.clone(), c.table.clone(), c.name.clone());
        let from: BTreeMap<TableKey, &'a Constraint> = self.from.constraints.iter().map(|c| (ckey(c), c)).collect();
        let to: BTreeMap<TableKey, &'a Constraint> = self.to.constraints.iter().map(|c| (ckey(c), c)).collect();
        let (mut drop, mut add, mut validate, mut deferrability) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut fks, mut gone_fks) = (Vec::new(), Vec::new());
        for (k, c) in &from {
            if self.table_is_gone(&c.schema, &c.table) {
                // Its table goes with it (foreign keys are looked at below).
                if c.kind == ConstraintKind::ForeignKey {
                    gone_fks.push(*c);
                }
                continue;
            }
            if c.kind == ConstraintKind::ForeignKey {
                fks.push((k, *c));
                continue;
            }
            match to.get(k) {
                // The same check as a parent's: it merges with it (or did).
                None if self.parent_has_check(c) => {}
                None => drop.push(*c),
                Some(n)
                    if n.definition == c.definition && self.rebuilt(&c.schema, &c.table, &c.uses, &c.definition) =>
                {
                    drop.push(*c);
                    add.push(*n);
                }
                Some(n) if n.definition == c.definition => {}
                Some(n) if !c.validated && n.validated && n.definition == without_not_valid(&c.definition) => {
                    validate.push(*n);
                }
                Some(n) => {
                    drop.push(*c);
                    add.push(*n);
                }
            }
        }
        // The keys foreign keys may rest on that are dropped: primary key and unique constraints,
        // unique indexes (table, and the columns when known).
        let mut rekeyed: Vec<(String, Option<BTreeSet<&str>>)> = Vec::new();
        let own_columns = |schema: &str, table: &str, uses: &'a [TableUse]| {
            let own = uses.iter().find(|u| u.schema == schema && u.table == table);
            own.map(|u| u.columns.iter().map(String::as_str).collect::<BTreeSet<&str>>())
        };
        for c in drop.iter().filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)) {
            rekeyed.push((qualified(&c.schema, &c.table), own_columns(&c.schema, &c.table, &c.uses)));
        }
        // Looked up, not searched: a model has thousands of indexes.
        let to_indexes: BTreeSet<(&str, &str, &str)> =
            self.to.indexes.iter().map(|n| (n.schema.as_str(), n.name.as_str(), n.definition.as_str())).collect();
        for i in self.from.indexes.iter().filter(|i| i.definition.starts_with("CREATE UNIQUE INDEX")) {
            let kept = to_indexes.contains(&(i.schema.as_str(), i.name.as_str(), i.definition.as_str()));
            if !self.table_is_gone(&i.schema, &i.table)
                && (!kept || self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition))
            {
                rekeyed.push((qualified(&i.schema, &i.table), own_columns(&i.schema, &i.table, &i.uses)));
            }
        }
        let on_dropped_key = |c: &Constraint| {
            let Some(target) = referenced_table(&c.definition) else { return false };
            // The columns it points at (with its own, for a foreign key to its own table).
            let pointed = c.uses.iter().find(|u| qualified(&u.schema, &u.table) == target);
            rekeyed.iter().any(|(table, key)| {
                table == target
                    && match (key, pointed) {
                        (Some(key), Some(p)) => key.iter().all(|k| p.columns.iter().any(|c| c == k)),
                        _ => true,
                    }
            })
        };
        let fk_rebuilt = |c: &Constraint| {
            if c.uses.is_empty() {
                // Without dependency information: any change to either table.
                let changed =
                    |t: &str| self.changed_columns.keys().chain(&self.gone_tables).any(|(s, n)| qualified(s, n) == t);
                return self.changed_columns.contains_key(&key(&c.schema, &c.table))
                    || referenced_table(&c.definition)
                        .is_some_and(|t| changed(t) || rekeyed.iter().any(|(r, _)| r == t));
            }
            self.affected(&c.uses, &c.definition) || on_dropped_key(c)
        };
        // A foreign key whose table goes goes with it, but not before the table it points at
        // (which may itself point back), a key of it that is dropped, or a column of it that
        // changes type: then it is dropped first.
        for c in gone_fks {
            let Some(target) = referenced_table(&c.definition) else { continue };
            if target == qualified(&c.schema, &c.table) {
                continue;
            }
            let Some(t) = self.from_tables.keys().find(|(s, n)| qualified(s, n) == target) else { continue };
            let pointed = c.uses.iter().find(|u| u.schema == t.0 && u.table == t.1);
            let columns_change = self
                .changed_columns
                .get(t)
                .is_some_and(|cs| pointed.is_none_or(|p| p.columns.iter().any(|x| cs.contains(x))));
            if self.gone_tables.contains(t) || columns_change || on_dropped_key(c) {
                drop.push(c);
            }
        }
        for (k, c) in fks {
            match to.get(k) {
                None => drop.push(c),
                Some(n) if n.definition == c.definition && fk_rebuilt(c) => {
                    drop.push(c);
                    add.push(*n);
                }
                Some(n) if n.definition == c.definition => {}
                // Only DEFERRABLE / INITIALLY changes: altered in place, not scanned again.
                Some(n) if without_deferrability(&n.definition) == without_deferrability(&c.definition) => {
                    if (n.deferrable, n.deferred) != (c.deferrable, c.deferred) {
                        deferrability.push(*n);
                    }
                    if !c.validated && n.validated {
                        validate.push(*n);
                    }
                }
                Some(n) => {
                    drop.push(c);
                    add.push(*n);
                }
            }
        }
        for (k, n) in &to {
            if (!from.contains_key(k) && !self.kept_copies.contains(k))
                || self.created_tables.contains(&key(&n.schema, &n.table))
            {
                add.push(*n);
            }
        }
        ConstraintPlan { drop, add, validate, deferrability }
    }

    fn drop_constraints(&mut self, drop: &[&Constraint]) {
        // Foreign keys first: they may point at a key dropped here.
        let (fks, others): (Vec<&Constraint>, Vec<&Constraint>) =
            drop.iter().partition(|c| c.kind == ConstraintKind::ForeignKey);
        for c in fks.into_iter().chain(others) {
            self.push_replaced(
                format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                format!("ALTER TABLE {} DROP CONSTRAINT {};", qualified(&c.schema, &c.table), ident(&c.name)),
            );
        }
    }

    fn index_plan(&self, recreated_views: &BTreeSet<Key>) -> IndexPlan<'a> {
        let from: BTreeMap<Key, &'a crate::model::Index> =
            self.from.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to: BTreeMap<Key, &'a crate::model::Index> =
            self.to.indexes.iter().map(|i| (key(&i.schema, &i.name), i)).collect();
        let to_views: BTreeMap<Key, &View> = self.to.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        let (mut drop, mut add) = (Vec::new(), Vec::new());
        for (k, i) in &from {
            if self.table_is_gone(&i.schema, &i.table) {
                continue;
            }
            let on_recreated_view = recreated_views.contains(&key(&i.schema, &i.table));
            // An index on a materialized view that goes goes with it.
            let view_gone = i.on_materialized_view && !to_views.contains_key(&key(&i.schema, &i.table));
            match to.get(k) {
                None if !on_recreated_view && !view_gone => drop.push(*i),
                Some(n)
                    if (n.definition != i.definition || self.rebuilt(&i.schema, &i.table, &i.uses, &i.definition))
                        && !on_recreated_view =>
                {
                    drop.push(*i);
                    add.push(*n);
                }
                _ => {}
            }
        }
        for (k, n) in &to {
            let table = key(&n.schema, &n.table);
            let kept_copy = self.kept_copies.contains(&(n.schema.clone(), n.table.clone(), n.name.clone()));
            if (!from.contains_key(k) && !kept_copy)
                || self.created_tables.contains(&table)
                || recreated_views.contains(&table)
            {
                add.push(*n);
            }
        }
        add.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        add.dedup_by(|a, b| a.schema == b.schema && a.name == b.name);
        (drop, add)
    }

    fn drop_indexes(&mut self, drop: &[&crate::model::Index]) {
        for i in drop {
            self.push_replaced(
                format!("index {}.{}", i.schema, i.name),
                format!("DROP INDEX {};", qualified(&i.schema, &i.name)),
            );
        }
    }

    fn name_lives_on(&self, f: &Function) -> bool {
        self.to.functions.iter().any(|n| n.schema == f.schema && n.name == f.name)
    }

    fn drop_changed_functions(&mut self) {
        let to: BTreeSet<TableKey> = self.to.functions.iter().map(fn_key).collect();
        let changed: Vec<&Function> = self
            .from
            .functions
            .iter()
            // Removed functions bound to tables go now, before their tables, and so do those whose
            // name lives on (a parameter renamed: the new one has the same argument types); the
            // others after the tables.
            .filter(|f| {
                self.gone_functions.contains(&fn_key(f))
                    && (to.contains(&fn_key(f)) || f.needs_tables || self.name_lives_on(f))
            })
            .collect();
        for f in changed {
            let (object, sql) = drop_function(f);
            let note = to.contains(&fn_key(f)).then(|| {
                "dropped and created again (its result type changes, or it is bound to a changing table)".into()
            });
            self.replaced.insert(object.clone());
            self.push(object, sql, false, note);
        }
    }

    // ---- phase 2 --------------------------------------------------------------------------

    fn create_schemas_and_extensions(&mut self) {
        let from: BTreeSet<&String> = self.from.schemas.iter().collect();
        for s in &self.to.schemas {
            if !from.contains(s) {
                self.push(format!("schema {s}"), format!("CREATE SCHEMA {};", ident(s)), false, None);
            }
        }
        let from: BTreeMap<&str, &str> =
            self.from.extensions.iter().map(|x| (x.name.as_str(), x.schema.as_str())).collect();
        for x in &self.to.extensions {
            match from.get(x.name.as_str()) {
                None => self.push(
                    format!("extension {}", x.name),
                    format!("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {};", ident(&x.name), ident(&x.schema)),
                    false,
                    None,
                ),
                Some(s) if *s != x.schema => self.push(
                    format!("extension {}", x.name),
                    format!("ALTER EXTENSION {} SET SCHEMA {};", ident(&x.name), ident(&x.schema)),
                    false,
                    None,
                ),
                Some(_) => {}
            }
        }
    }

    fn create_or_alter_types(&mut self) {
        let from: BTreeMap<Key, &Enum> = self.from.enums.iter().map(|e| (key(&e.schema, &e.name), e)).collect();
        for e in &self.to.enums {
            let k = key(&e.schema, &e.name);
            let name = qualified(&e.schema, &e.name);
            let object = format!("type {}.{}", e.schema, e.name);
            match from.get(&k) {
                None => self.push(object, create_enum(e), false, None),
                Some(old) if self.recreated_types.contains_key(&k) => {
                    let removed: Vec<&String> = old.values.iter().filter(|v| !e.values.contains(v)).collect();
                    let sql = format!(
                        "ALTER TYPE {name} RENAME TO {};\n{}",
                        ident(&format!("{}__shale_old", e.name)),
                        create_enum(e)
                    );
                    let note = if removed.is_empty() {
                        "labels reordered: the type is created again and its columns converted".to_string()
                    } else {
                        let labels: Vec<String> = removed.iter().map(|v| literal(v)).collect();
                        format!("labels removed ({}): converting fails on rows that still use them", labels.join(", "))
                    };
                    self.replaced.insert(object.clone());
                    self.push(object, sql, !removed.is_empty(), Some(note));
                }
                Some(old) if old.values != e.values => {
                    let mut statements = Vec::new();
                    for (i, v) in e.values.iter().enumerate() {
                        if old.values.contains(v) {
                            continue;
                        }
                        let position = if i > 0 {
                            format!(" AFTER {}", literal(&e.values[i - 1]))
                        } else {
                            e.values
                                .iter()
                                .find(|x| old.values.contains(x))
                                .map(|x| format!(" BEFORE {}", literal(x)))
                                .unwrap_or_default()
                        };
                        statements.push(format!("ALTER TYPE {name} ADD VALUE {}{position};", literal(v)));
                    }
                    self.push(object, statements.join("\n"), false, None);
                    if let Some(added) = self.out.last_mut() {
                        added.commit_first = true;
                    }
                }
                Some(_) => {}
            }
        }
    }

    fn create_or_alter_sequences(&mut self) {
        let from: BTreeMap<Key, &crate::model::Sequence> =
            self.from.sequences.iter().map(|s| (key(&s.schema, &s.name), s)).collect();
        for s in &self.to.sequences {
            let name = qualified(&s.schema, &s.name);
            let object = format!("sequence {}.{}", s.schema, s.name);
            match from.get(&key(&s.schema, &s.name)) {
                None => self.push(
                    object,
                    format!("CREATE SEQUENCE {name} AS {} {};", s.options.data_type, sequence_options(&s.options)),
                    false,
                    None,
                ),
                Some(old) if old.options != s.options => {
                    let (sql, note) = alter_sequence(&name, &old.options, &s.options);
                    self.push(object, sql, false, note);
                }
                Some(_) => {}
            }
        }
    }

    /// New and changed functions: those that read no table before the tables (`late` false), the
    /// others after them.
    /// The new and changed functions that `which` picks.
    fn create_functions(&mut self, which: impl Fn(&Function) -> bool) {
        let from: BTreeMap<TableKey, &Function> = self.from.functions.iter().map(|f| (fn_key(f), f)).collect();
        for f in self.to.functions.iter().filter(|f| which(f)) {
            let k = fn_key(f);
            let needed = match from.get(&k) {
                None => true,
                Some(old) => old.definition != f.definition || self.gone_functions.contains(&k),
            };
            if needed {
                let kind = if f.kind == FunctionKind::Procedure { "procedure" } else { "function" };
                self.push(format!("{kind} {}.{}({})", f.schema, f.name, f.arguments), function(f), false, None);
            }
        }
    }

    // ---- phase 3 --------------------------------------------------------------------------

    /// A sequence that stays while the table or column owning it goes (or is recreated) would go
    /// with it: it is released first (and owned again in phase 5 if it should be).
    fn release_kept_sequences(&mut self) {
        let to: BTreeSet<Key> = self.to.sequences.iter().map(|s| key(&s.schema, &s.name)).collect();
        let mut released = Vec::new();
        for s in &self.from.sequences {
            let Some(o) = &s.owned_by else { continue };
            if !to.contains(&key(&s.schema, &s.name)) {
                continue;
            }
            let column_goes = self
                .to_tables
                .get(&key(&o.schema, &o.table))
                .is_none_or(|t| !t.columns.iter().any(|c| c.name == o.column));
            if self.table_is_gone(&o.schema, &o.table) || column_goes {
                released.push((
                    format!("sequence {}.{}", s.schema, s.name),
                    format!("ALTER SEQUENCE {} OWNED BY NONE;", qualified(&s.schema, &s.name)),
                ));
            }
        }
        for (object, sql) in released {
            self.push(object, sql, false, None);
        }
    }

    // ---- phase 4 --------------------------------------------------------------------------

    /// The removed functions that `which` picks (those reading tables went in phase 1).
    fn drop_removed_functions(&mut self, which: impl Fn(&Function) -> bool) {
        let to: BTreeSet<TableKey> = self.to.functions.iter().map(fn_key).collect();
        let removed: Vec<&Function> = self
            .from
            .functions
            .iter()
            .filter(|f| !to.contains(&fn_key(f)) && !f.needs_tables && !self.name_lives_on(f) && which(f))
            .collect();
        for f in removed {
            let (object, sql) = drop_function(f);
            self.push(object, sql, false, None);
        }
    }

    fn drop_removed_sequences(&mut self) {
        let to: BTreeSet<Key> = self.to.sequences.iter().map(|s| key(&s.schema, &s.name)).collect();
        let mut drops = Vec::new();
        for s in &self.from.sequences {
            if to.contains(&key(&s.schema, &s.name)) {
                continue;
            }
            // A sequence owned by a dropped table or column went with it.
            if let Some(o) = &s.owned_by {
                let column_dropped = self
                    .to_tables
                    .get(&key(&o.schema, &o.table))
                    .is_none_or(|t| !t.columns.iter().any(|c| c.name == o.column));
                if self.table_is_gone(&o.schema, &o.table) || column_dropped {
                    continue;
                }
            }
            drops.push((
                format!("sequence {}.{}", s.schema, s.name),
                format!("DROP SEQUENCE {};", qualified(&s.schema, &s.name)),
            ));
        }
        for (object, sql) in drops {
            self.push(object, sql, true, Some("drops the sequence and its current value".into()));
        }
    }

    fn drop_removed_types(&mut self) {
        let to: BTreeSet<Key> = self.to.enums.iter().map(|e| key(&e.schema, &e.name)).collect();
        let removed: Vec<String> = self
            .from
            .enums
            .iter()
            .filter(|e| !to.contains(&key(&e.schema, &e.name)))
            .map(|e| qualified(&e.schema, &e.name))
            .collect();
        for name in removed {
            self.push(format!("type {name}"), format!("DROP TYPE {name};"), false, None);
        }
    }

    fn drop_extensions_and_schemas(&mut self) {
        let to: BTreeSet<&str> = self.to.extensions.iter().map(|x| x.name.as_str()).collect();
        let removed: Vec<String> =
            self.from.extensions.iter().filter(|x| !to.contains(x.name.as_str())).map(|x| x.name.clone()).collect();
        for x in removed {
            self.push(format!("extension {x}"), format!("DROP EXTENSION {};", ident(&x)), false, None);
        }
        let to: BTreeSet<&String> = self.to.schemas.iter().collect();
        let removed: Vec<String> = self.from.schemas.iter().filter(|s| !to.contains(s)).cloned().collect();
        for s in removed {
            // Destructive like the tables in it: left out with them.
            self.push(format!("schema {s}"), format!("DROP SCHEMA {};", ident(&s)), true, None);
        }
    }

    // ---- phase 5 --------------------------------------------------------------------------

    fn sequence_ownership(&mut self) {
        let from: BTreeMap<Key, &crate::model::Sequence> =
            self.from.sequences.iter().map(|s| (key(&s.schema, &s.name), s)).collect();
        let mut changes = Vec::new();
        for s in &self.to.sequences {
            let old = from.get(&key(&s.schema, &s.name)).and_then(|o| o.owned_by.as_ref());
            let owner_recreated =
                s.owned_by.as_ref().is_some_and(|o| self.created_tables.contains(&key(&o.schema, &o.table)));
            if old == s.owned_by.as_ref() && !owner_recreated {
                continue;
            }
            let owner = match &s.owned_by {
                Some(o) => format!("{}.{}", qualified(&o.schema, &o.table), ident(&o.column)),
                None => "NONE".into(),
            };
            changes.push((
                format!("sequence {}.{}", s.schema, s.name),
                format!("ALTER SEQUENCE {} OWNED BY {owner};", qualified(&s.schema, &s.name)),
            ));
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }

    /// Constraints to add: foreign keys (`foreign` true) or the others. On a table that already
    /// exists, check and foreign keys are added NOT VALID and validated after, so that the scan
    /// does not hold a lock that blocks writes.
    fn add_constraints(&mut self, plan: &ConstraintPlan<'a>, foreign: bool) {
        let ConstraintPlan { add, validate, deferrability, .. } = plan;
        let mut changes = Vec::new();
        for c in add.iter().filter(|c| (c.kind == ConstraintKind::ForeignKey) == foreign) {
            let table = qualified(&c.schema, &c.table);
            let existing = !self.created_tables.contains(&key(&c.schema, &c.table));
            let deferred_validation =
                existing && c.validated && matches!(c.kind, ConstraintKind::Check | ConstraintKind::ForeignKey);
            let sql = if deferred_validation {
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {name} {} NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {name};",
                    c.definition,
                    name = ident(&c.name)
                )
            } else {
                format!("ALTER TABLE {table} ADD CONSTRAINT {} {};", ident(&c.name), c.definition)
            };
            let note = (existing
                && matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion))
            .then(|| "builds an index while holding a lock that blocks writes".to_string());
            changes.push((format!("constraint {}.{}.{}", c.schema, c.table, c.name), sql, note));
        }
        if foreign {
            for c in deferrability {
                let mode = match (c.deferrable, c.deferred) {
                    (false, _) => "NOT DEFERRABLE",
                    (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
                    (true, true) => "DEFERRABLE INITIALLY DEFERRED",
                };
                changes.push((
                    format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                    format!(
                        "ALTER TABLE {} ALTER CONSTRAINT {} {mode};",
                        qualified(&c.schema, &c.table),
                        ident(&c.name)
                    ),
                    None,
                ));
            }
        }
        if !foreign {
            for c in validate {
                changes.push((
                    format!("constraint {}.{}.{}", c.schema, c.table, c.name),
                    format!("ALTER TABLE {} VALIDATE CONSTRAINT {};", qualified(&c.schema, &c.table), ident(&c.name)),
                    None,
                ));
            }
        }
        for (object, sql, note) in changes {
            self.push(object, sql, false, note);
        }
    }

    fn add_indexes(&mut self, add: &[&crate::model::Index], on_materialized_views: bool) {
        let mut changes = Vec::new();
        let existed: BTreeSet<Key> = self.from.indexes.iter().map(|i| key(&i.schema, &i.name)).collect();
        for i in add.iter().filter(|i| i.on_materialized_view == on_materialized_views) {
            let existing = !self.created_tables.contains(&key(&i.schema, &i.table)) && !on_materialized_views;
            let note = existing.then(|| "builds while blocking writes to the table (CONCURRENTLY needs its own migration without a transaction)".to_string());
            let object = format!("index {}.{}", i.schema, i.name);
            if existed.contains(&key(&i.schema, &i.name)) {
                // Created again (with its materialized view, say): its comment is set again.
                self.replaced.insert(object.clone());
            }
            changes.push((object, format!("{};", i.definition), note));
        }
        for (object, sql, note) in changes {
            self.push(object, sql, false, note);
        }
    }

    fn create_views(&mut self, recreate: &BTreeSet<Key>) {
        let from: BTreeSet<Key> = self.from.views.iter().map(|v| key(&v.schema, &v.name)).collect();
        let mut creates = Vec::new();
        for v in views_in_order(&self.to.views) {
            let k = key(&v.schema, &v.name);
            if recreate.contains(&k) || !from.contains(&k) {
                let kind = if v.materialized { "materialized view" } else { "view" };
                let mut sql = create_view(v);
                if v.materialized {
                    // Filled with data here (the dump leaves it empty for loading).
                    sql = sql.replace("\nWITH NO DATA;", ";");
                }
                creates.push((format!("{kind} {}.{}", v.schema, v.name), sql));
            }
        }
        for (object, sql) in creates {
            self.push(object, sql, false, None);
        }
    }

    fn create_triggers(&mut self, plan: &(Vec<&'a Trigger>, Vec<&'a Trigger>)) {
        let mut changes = Vec::new();
        let tkey = |t: &Trigger| (t.schema.clone(), t.table.clone(), t.name.clone());
        let created: BTreeSet<TableKey> = plan.1.iter().map(|t| tkey(t)).collect();
        let from: BTreeMap<TableKey, &Trigger> = self.from.triggers.iter().map(|t| (tkey(t), t)).collect();
        for g in &plan.1 {
            let object = format!("trigger {}.{}.{}", g.schema, g.table, g.name);
            if from.contains_key(&tkey(g)) {
                // Created again (its view was): its comment is set again.
                self.replaced.insert(object.clone());
            }
            changes.push((object, trigger(g)));
        }
        // Those that stay: only their enabled state may change.
        for g in &self.to.triggers {
            let k = tkey(g);
            if created.contains(&k) {
                continue;
            }
            let Some(o) = from.get(&k) else { continue };
            if o.enabled != g.enabled {
                let state = match g.enabled.as_str() {
                    "D" => "DISABLE",
                    "R" => "ENABLE REPLICA",
                    "A" => "ENABLE ALWAYS",
                    _ => "ENABLE",
                };
                changes.push((
                    format!("trigger {}.{}.{}", g.schema, g.table, g.name),
                    format!("ALTER TABLE {} {state} TRIGGER {};", qualified(&g.schema, &g.table), ident(&g.name)),
                ));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }

    fn comments(&mut self, recreated_views: &BTreeSet<Key>) {
        let mut changes = Vec::new();
        for t in &self.to.tables {
            let k = key(&t.schema, &t.name);
            let created = self.created_tables.contains(&k);
            let old = self.from_tables.get(&k).filter(|_| !created);
            if old.is_some_and(|o| *o == t) {
                continue;
            }
            let name = qualified(&t.schema, &t.name);
            if old.map(|o| &o.comment) != Some(&t.comment) && (old.is_some() || t.comment.is_some()) {
                changes.push((
                    format!("table {}.{}", t.schema, t.name),
                    format!("COMMENT ON TABLE {name} IS {};", comment(&t.comment)),
                ));
            }
            for c in &t.columns {
                let before = old.and_then(|o| o.columns.iter().find(|x| x.name == c.name)).map(|x| &x.comment);
                let recomputed = old
                    .and_then(|o| o.columns.iter().find(|x| x.name == c.name))
                    .is_some_and(|x| x.generated != c.generated && x.generated.is_some() && c.generated.is_some());
                let differs = before != Some(&c.comment) || recomputed;
                if differs && (before.is_some_and(|b| b.is_some()) || c.comment.is_some()) {
                    changes.push((
                        format!("column {}.{}.{}", t.schema, t.name, c.name),
                        format!("COMMENT ON COLUMN {name}.{} IS {};", ident(&c.name), comment(&c.comment)),
                    ));
                }
            }
        }
        let from: BTreeMap<Key, &View> = self.from.views.iter().map(|v| (key(&v.schema, &v.name), v)).collect();
        for v in &self.to.views {
            let k = key(&v.schema, &v.name);
            let old = from.get(&k).filter(|_| !recreated_views.contains(&k)).map(|o| &o.comment);
            if old != Some(&v.comment) && (old.is_some() || v.comment.is_some()) {
                let kind = if v.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                changes.push((
                    format!("{} {}.{}", kind.to_lowercase(), v.schema, v.name),
                    format!("COMMENT ON {kind} {} IS {};", qualified(&v.schema, &v.name), comment(&v.comment)),
                ));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}

fn fn_key(f: &Function) -> TableKey {
    (f.schema.clone(), f.name.clone(), f.arguments.clone())
}

fn drop_function(f: &Function) -> (String, String) {
    let kind = if f.kind == FunctionKind::Procedure { "PROCEDURE" } else { "FUNCTION" };
    (
        format!("{} {}.{}({})", kind.to_lowercase(), f.schema, f.name, f.arguments),
        format!("DROP {kind} {}({});", qualified(&f.schema, &f.name), f.arguments),
    )
}

/// `ALTER SEQUENCE` with the options that change, and a note when the range narrows. A new type
/// (`AS`) comes with both bounds: PostgreSQL would otherwise move a bound that was the old type's
/// default to the new type's.
fn alter_sequence(name: &str, old: &SequenceOptions, new: &SequenceOptions) -> (String, Option<String>) {
    let mut clauses = Vec::new();
    let retyped = old.data_type != new.data_type;
    if retyped {
        clauses.push(format!("AS {}", new.data_type));
    }
    if old.start != new.start {
        clauses.push(format!("START WITH {}", new.start));
    }
    if old.increment != new.increment {
        clauses.push(format!("INCREMENT BY {}", new.increment));
    }
    if old.min != new.min || retyped {
        clauses.push(format!("MINVALUE {}", new.min));
    }
    if old.max != new.max || retyped {
        clauses.push(format!("MAXVALUE {}", new.max));
    }
    if old.cache != new.cache {
        clauses.push(format!("CACHE {}", new.cache));
    }
    if old.cycle != new.cycle {
        clauses.push(if new.cycle { "CYCLE".into() } else { "NO CYCLE".into() });
    }
    let narrower = new.min > old.min || new.max < old.max;
    let note = narrower.then(|| {
        format!("the range narrows to {}..{}: fails if the sequence's current value is outside it", new.min, new.max)
    });
    (format!("ALTER SEQUENCE {name} {};", clauses.join(" ")), note)
}

/// `CREATE OR REPLACE` can change a function's body but not its result type or kind.
/// `CREATE OR REPLACE` can change a function's body but not its result type, its kind, or its
/// parameters' names, defaults and modes (all on the definition's first line).
fn replaceable(old: &Function, new: &Function) -> bool {
    let returns = |f: &Function| {
        f.definition.lines().find(|l| l.trim_start().starts_with("RETURNS ")).map(str::trim).map(str::to_string)
    };
    let signature = |f: &Function| f.definition.lines().next().map(str::trim).map(str::to_string);
    old.kind == new.kind && returns(old) == returns(new) && signature(old) == signature(new)
}

fn create_enum(e: &Enum) -> String {
    let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
    format!("CREATE TYPE {} AS ENUM ({});", qualified(&e.schema, &e.name), values.join(", "))
}

/// Labels can only be added: the old ones must keep their relative order.
fn keeps_order(old: &[String], new: &[String]) -> bool {
    let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
    kept.len() == old.len() && kept.iter().zip(old).all(|(a, b)| *a == b)
}

/// The table a foreign key definition points at, as written: `public.users` in
/// `FOREIGN KEY (user_id) REFERENCES public.users(id)`.
fn referenced_table(definition: &str) -> Option<&str> {
    let rest = &definition[definition.find("REFERENCES ")? + "REFERENCES ".len()..];
    Some(&rest[..rest.find('(')?])
}

fn without_not_valid(definition: &str) -> String {
    definition.replace(" NOT VALID", "")
}

/// A foreign key's definition without its `DEFERRABLE [INITIALLY DEFERRED]` and `NOT VALID`.
fn without_deferrability(definition: &str) -> String {
    without_not_valid(definition).replace(" DEFERRABLE INITIALLY DEFERRED", "").replace(" DEFERRABLE", "")
}

fn comment(text: &Option<String>) -> String {
    text.as_deref().map(literal).unwrap_or_else(|| "NULL".into())
}

/// Whether `definition` names `qualified` as a whole name (not as the prefix of a longer one).
fn mentions(definition: &str, qualified: &str) -> bool {
    definition.match_indices(qualified).any(|(at, _)| {
        let next = definition[at + qualified.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

/// Changes PostgreSQL makes without rewriting the table: a longer or unbounded varchar, varchar
/// to text, a wider or unbounded numeric precision with the same scale.
fn type_change_rewrites(old: &str, new: &str) -> bool {
    let args = |t: &str, base: &str| -> Option<Vec<u32>> {
        let rest = t.strip_prefix(base)?;
        if rest.is_empty() {
            return Some(Vec::new());
        }
        let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    for base in ["character varying", "varbit", "bit varying"] {
        if let (Some(a), Some(b)) = (args(old, base), args(new, base)) {
            return !(b.is_empty() || (!a.is_empty() && b[0] >= a[0]));
        }
    }
    if args(old, "character varying").is_some() && new == "text" {
        return false;
    }
    if let (Some(a), Some(b)) = (args(old, "numeric"), args(new, "numeric")) {
        return !(b.is_empty() || (a.len() == 2 && b.len() == 2 && b[1] == a[1] && b[0] >= a[0]));
    }
    old != new
}

/// The families whose members cast to one another directly; between families (or to and from
/// anything unknown) the value goes through its text form, which every type reads and writes.
fn type_family(t: &str) -> Option<&'static str> {
    let base = t.split('(').next().unwrap_or(t).trim();
    Some(match base {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => "number",
        "text" | "character varying" | "character" | "name" | "citext" => "string",
        "timestamp without time zone" | "timestamp with time zone" | "date" => "time",
        "json" | "jsonb" => "json",
        "bit" | "bit varying" => "bits",
        "inet" | "cidr" => "network",
        _ => return None,
    })
}

fn conversion_through_text(old: &str, new: &str) -> bool {
    let string = |t: &str| type_family(t) == Some("string");
    !(string(old) || string(new) || old.ends_with("[]") || new.ends_with("[]"))
        && (type_family(old).is_none() || type_family(old) != type_family(new))
}

/// The USING expression that converts column `col` from `old` to `new`.
fn conversion(col: &str, old: &str, new: &str) -> String {
    if conversion_through_text(old, new) {
        format!("{col}::text::{new}")
    } else {
        format!("{col}::{new}")
    }
}

fn add_column_note(c: &Column) -> Option<String> {
    let volatile = ["nextval(", "random(", "gen_random_uuid(", "uuid_generate", "clock_timestamp("];
    if c.generated.is_some() {
        return Some(format!("{}: a stored generated column rewrites the table", c.name));
    }
    if let Some(d) = &c.default {
        if volatile.iter().any(|v| d.contains(v)) {
            return Some(format!("{}: a volatile default rewrites the table", c.name));
        }
    }
    if c.not_null && c.default.is_none() && c.identity.is_none() {
        return Some(format!("{}: NOT NULL without a default fails if the table has rows", c.name));
    }
    None
}

mod access;
mod collations;
mod tables;
mod types;

#[cfg(test)]
mod tests;
