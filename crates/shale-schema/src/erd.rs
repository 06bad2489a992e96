//! The ERD: a picture of the tables, their columns and their foreign keys, built from the model
//! ([`Diagram::build`]) and written as Mermaid, Graphviz DOT or SVG (one module per format). The
//! same model always gives the same bytes: entities sorted by schema and name, columns in table
//! order, relationships by table and constraint name.
//!
//! What is shown:
//! * each table (partitions are left out: their partitioned parent stands for them), `public`
//!   tables unqualified and the others as `schema.table`;
//! * its columns and types, with PK (part of the primary key), FK (part of a foreign key), UK
//!   (unique by itself: a one-column UNIQUE constraint or unique index that is not partial) and
//!   NOT NULL (left out for PK columns, which are never null);
//! * each foreign key declared on a shown table, from its table to the one it references, with the
//!   columns and, when not the default NO ACTION, its ON DELETE and ON UPDATE actions. A referenced
//!   table outside the selection is shown by name only (a reference); foreign keys of tables
//!   outside the selection are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::model::{ConstraintKind, QualifiedName, Schema, Table};

pub mod definition;
mod dot;
mod mermaid;
mod svg;

pub use crate::confine::Selection;
pub use definition::Action;

/// The picture's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Mermaid `erDiagram` (renders on GitHub and GitLab).
    Mermaid,
    /// A Mermaid `erDiagram` in a ```` ```mermaid ```` fence, for a Markdown file.
    MermaidMarkdown,
    /// Graphviz DOT (`dot -Tpng`).
    Dot,
    /// An SVG drawing, laid out by shale itself.
    Svg,
}

impl Format {
    /// The format a file name asks for: `.mmd` (Mermaid), `.md` (Mermaid in a fence), `.dot` and
    /// `.gv` (DOT), `.svg`.
    pub fn for_file(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "mmd" | "mermaid" => Format::Mermaid,
            "md" | "markdown" => Format::MermaidMarkdown,
            "dot" | "gv" => Format::Dot,
            "svg" => Format::Svg,
            _ => return None,
        })
    }
}

/// The diagram in `format`.
pub fn render(diagram: &Diagram, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid::render(diagram),
        Format::MermaidMarkdown => format!("```mermaid\n{}```\n", mermaid::render(diagram)),
        Format::Dot => dot::render(diagram),
        Format::Svg => svg::render(diagram),
    }
}

/// What the picture shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagram {
    /// Sorted by schema and name.
    pub entities: Vec<Entity>,
    /// Sorted by table and constraint name.
    pub relationships: Vec<Relationship>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub table: QualifiedName,
    /// In table order; none for a reference.
    pub columns: Vec<EntityColumn>,
    /// `RANGE (at)` for a partitioned table.
    pub partition_key: Option<String>,
    /// A table outside the selection that a shown foreign key references: shown by name only.
    pub reference: bool,
}

impl Entity {
    /// `users` for `public.users`, `billing.invoices` otherwise.
    pub fn label(&self) -> String {
        label(&self.table)
    }
}

/// `users` for `public.users`, `billing.invoices` otherwise.
pub fn label(table: &QualifiedName) -> String {
    if table.schema == "public" {
        table.name.clone()
    } else {
        format!("{}.{}", table.schema, table.name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityColumn {
    pub name: String,
    /// As the server formats it, without `public.` before a type of that schema.
    pub data_type: String,
    pub primary_key: bool,
    pub foreign_key: bool,
    pub unique: bool,
    pub not_null: bool,
}

impl EntityColumn {
    /// `PK`, `FK`, `UK`, as they apply, in that order.
    pub fn keys(&self) -> Vec<&'static str> {
        [(self.primary_key, "PK"), (self.foreign_key, "FK"), (self.unique, "UK")]
            .into_iter()
            .filter_map(|(on, key)| on.then_some(key))
            .collect()
    }

    /// NOT NULL is shown for the columns that are not part of the primary key.
    pub fn shows_not_null(&self) -> bool {
        self.not_null && !self.primary_key
    }
}

/// A foreign key, from the table that declares it to the table it references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// The constraint's name.
    pub name: String,
    pub from: QualifiedName,
    pub columns: Vec<String>,
    pub to: QualifiedName,
    pub to_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
    /// A row may reference nothing: one of its columns may be null.
    pub optional: bool,
    /// At most one row references each target row: its columns are the table's primary key or
    /// unique.
    pub one_to_one: bool,
    /// Its columns are part of the table's primary key (the row's identity depends on the target).
    pub identifying: bool,
}

impl Relationship {
    /// `user_id`, then the actions that are not NO ACTION: `user_id, ON DELETE CASCADE`.
    pub fn label(&self) -> String {
        let mut parts = vec![self.columns.join(", ")];
        if self.on_delete != Action::NoAction {
            parts.push(format!("ON DELETE {}", self.on_delete.sql()));
        }
        if self.on_update != Action::NoAction {
            parts.push(format!("ON UPDATE {}", self.on_update.sql()));
        }
        parts.join(", ")
    }
}

impl Diagram {
    /// The tables of `schema` that `selection` picks, and their foreign keys.
    pub fn build(schema: &Schema, selection: &Selection) -> Diagram {
        let by_name: BTreeMap<(&str, &str), &Table> =
            schema.tables.iter().map(|t| ((t.schema.as_str(), t.name.as_str()), t)).collect();
        // A partition stands for its partitioned parent (the root, several levels up).
        let root = |schema: &str, name: &str| -> QualifiedName {
            let mut at = QualifiedName { schema: schema.to_string(), name: name.to_string() };
            for _ in 0..by_name.len() {
                match by_name.get(&(at.schema.as_str(), at.name.as_str())).and_then(|t| t.partition_of.as_ref()) {
                    Some(parent) => at = parent.clone(),
                    None => break,
                }
            }
            at
        };
        let shown: BTreeSet<QualifiedName> = schema
            .tables
            .iter()
            .filter(|t| t.partition_of.is_none() && selection.matches(&t.schema, &t.name))
            .map(|t| QualifiedName { schema: t.schema.clone(), name: t.name.clone() })
            .collect();

        // Keys by (root) table.
        let mut primary: BTreeMap<QualifiedName, BTreeSet<String>> = BTreeMap::new();
        let mut unique: BTreeMap<QualifiedName, Vec<BTreeSet<String>>> = BTreeMap::new();
        let mut relationships = Vec::new();
        for c in &schema.constraints {
            let table = root(&c.schema, &c.table);
            if !shown.contains(&table) {
                continue;
            }
            match c.kind {
                ConstraintKind::PrimaryKey => {
                    if let Some(columns) = definition::key_columns(&c.definition) {
                        primary.entry(table).or_default().extend(columns);
                    }
                }
                ConstraintKind::Unique => {
                    if let Some(columns) = definition::key_columns(&c.definition) {
                        unique.entry(table).or_default().push(columns.into_iter().collect());
                    }
                }
                ConstraintKind::ForeignKey => {
                    if let Some(fk) = definition::foreign_key(&c.definition) {
                        relationships.push((c.name.clone(), table, fk));
                    }
                }
                _ => {}
            }
        }
        for i in &schema.indexes {
            let table = root(&i.schema, &i.table);
            if let (true, Some(columns)) = (shown.contains(&table), definition::unique_index_columns(&i.definition)) {
                unique.entry(table).or_default().push(columns.into_iter().collect());
            }
        }
        let foreign: BTreeSet<(QualifiedName, String)> = relationships
            .iter()
            .flat_map(|(_, table, fk)| fk.columns.iter().map(move |c| (table.clone(), c.clone())))
            .collect();

        let mut entities: Vec<Entity> = shown
            .iter()
            .map(|name| {
                let t = by_name[&(name.schema.as_str(), name.name.as_str())];
                let pk = primary.get(name);
                let uniques = unique.get(name).map(Vec::as_slice).unwrap_or_default();
                let columns = t
                    .columns
                    .iter()
                    .map(|c| EntityColumn {
                        name: c.name.clone(),
                        data_type: c.data_type.strip_prefix("public.").unwrap_or(&c.data_type).to_string(),
                        primary_key: pk.is_some_and(|k| k.contains(&c.name)),
                        foreign_key: foreign.contains(&(name.clone(), c.name.clone())),
                        unique: uniques.iter().any(|u| u.len() == 1 && u.contains(&c.name)),
                        not_null: c.not_null,
                    })
                    .collect();
                Entity { table: name.clone(), columns, partition_key: t.partition_key.clone(), reference: false }
            })
            .collect();

        let mut references = BTreeSet::new();
        let mut relationships: Vec<Relationship> = relationships
            .into_iter()
            .map(|(name, from, fk)| {
                let to = root(&fk.target.schema, &fk.target.name);
                if !shown.contains(&to) {
                    references.insert(to.clone());
                }
                let table = by_name[&(from.schema.as_str(), from.name.as_str())];
                let nullable =
                    |column: &String| table.columns.iter().find(|c| &c.name == column).is_none_or(|c| !c.not_null);
                let set: BTreeSet<String> = fk.columns.iter().cloned().collect();
                let pk = primary.get(&from);
                let uniques = unique.get(&from).map(Vec::as_slice).unwrap_or_default();
                Relationship {
                    optional: fk.columns.iter().any(nullable),
                    one_to_one: pk.is_some_and(|k| *k == set) || uniques.contains(&set),
                    identifying: pk.is_some_and(|k| set.is_subset(k)),
                    name,
                    from,
                    columns: fk.columns,
                    to,
                    to_columns: fk.target_columns,
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                }
            })
            .collect();
        relationships.sort_by(|a, b| (&a.from, &a.name, &a.to).cmp(&(&b.from, &b.name, &b.to)));
        entities.extend(references.into_iter().map(|table| Entity {
            table,
            columns: Vec::new(),
            partition_key: None,
            reference: true,
        }));
        entities.sort_by(|a, b| a.table.cmp(&b.table));
        Diagram { entities, relationships }
    }
}

#[cfg(test)]
pub(crate) mod tests;
