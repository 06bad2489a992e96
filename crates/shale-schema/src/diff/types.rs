//! Domains, composite and range types, and aggregates; and which user types (enums, domains,
//! composite types) are created again under their name, and how their columns convert.

use std::collections::{BTreeMap, BTreeSet};

use super::enums::keeps_order;
use super::{key, Differ, Key, TableKey};
use crate::dump::order::user_types_in_order;
use crate::dump::render::{create_composite_type, create_domain, domain_default_and_checks, routine};
use crate::dump::{ident, qualified};
use crate::model::{Aggregate, CompositeType, Domain, Enum, QualifiedName, Schema};

/// What kind of user type a name is, as `DROP` names it; range types are compared whole.
#[derive(PartialEq, Eq, Clone, Copy)]
enum TypeKind {
    Domain,
    Composite,
    Range,
}

impl TypeKind {
    fn keyword(self) -> &'static str {
        match self {
            TypeKind::Domain => "DOMAIN",
            TypeKind::Composite | TypeKind::Range => "TYPE",
        }
    }
}

fn qn(schema: &str, name: &str) -> QualifiedName {
    QualifiedName { schema: schema.into(), name: name.into() }
}

fn user_types(s: &Schema) -> BTreeMap<QualifiedName, TypeKind> {
    let mut out = BTreeMap::new();
    out.extend(s.domains.iter().map(|d| (qn(&d.schema, &d.name), TypeKind::Domain)));
    out.extend(s.composite_types.iter().map(|c| (qn(&c.schema, &c.name), TypeKind::Composite)));
    out.extend(s.range_types.iter().map(|r| (qn(&r.schema, &r.name), TypeKind::Range)));
    out
}

fn agg_key(a: &Aggregate) -> TableKey {
    (a.schema.clone(), a.name.clone(), a.arguments.clone())
}

impl<'a> Differ<'a> {
    /// Types created from scratch: new names, names that change kind, and range types that change
    /// (PostgreSQL cannot alter a range type).
    pub(super) fn new_user_types(&self) -> BTreeSet<QualifiedName> {
        let (from, to) = (user_types(self.from), user_types(self.to));
        let ranges: BTreeMap<QualifiedName, &crate::model::RangeType> =
            self.from.range_types.iter().map(|r| (qn(&r.schema, &r.name), r)).collect();
        let mut new = BTreeSet::new();
        for (k, kind) in &to {
            let changed_range = *kind == TypeKind::Range
                && ranges.get(k).is_some_and(|old| {
                    let new_range = self.to.range_types.iter().find(|r| qn(&r.schema, &r.name) == *k);
                    new_range.is_some_and(|n| n != *old || self.collation_recreated(&n.collation))
                });
            if from.get(k) != Some(kind) || changed_range {
                new.insert(k.clone());
            }
        }
        new
    }

    /// Phase 1: types replaced by a new definition (a changed range type, a name that changes
    /// kind) go before anything is created. Fails, rolling everything back, while columns use it.
    pub(super) fn drop_replaced_types(&mut self) {
        let new = self.new_user_types();
        let from = user_types(self.from);
        let replaced: Vec<(QualifiedName, TypeKind)> = from.into_iter().filter(|(k, _)| new.contains(k)).collect();
        for (k, kind) in replaced {
            self.replaced.insert(format!("{} {}.{}", kind.keyword().to_lowercase(), k.schema, k.name));
            self.push(
                format!("{} {}.{}", kind.keyword().to_lowercase(), k.schema, k.name),
                format!("DROP {} {};", kind.keyword(), qualified(&k.schema, &k.name)),
                false,
                Some(
                    "its definition cannot be altered: dropped and created again (convert columns using it first)"
                        .into(),
                ),
            );
        }
    }

    /// Phase 2: new domains, composite and range types, before the functions (`after_functions`
    /// false) or after them (those whose definition calls user functions); then, after the
    /// functions, the domains recreated with a new base type and changes to the others.
    pub(super) fn create_user_types(&mut self, after_functions: bool) {
        let new = self.new_user_types();
        let mut changes = Vec::new();
        for t in user_types_in_order(self.to, after_functions) {
            if new.contains(&t.key) {
                let kind =
                    if self.to.domains.iter().any(|d| qn(&d.schema, &d.name) == t.key) { "domain" } else { "type" };
                changes.push((format!("{kind} {}.{}", t.key.schema, t.key.name), t.sql));
            }
        }
        if after_functions {
            let late: BTreeSet<QualifiedName> = user_types_in_order(self.to, true).into_iter().map(|t| t.key).collect();
            for d in &self.to.domains {
                let k = qn(&d.schema, &d.name);
                if new.contains(&k) && d.needs_functions && !late.contains(&k) {
                    changes.push((format!("domain {}.{}", d.schema, d.name), domain_default_and_checks(d).join("\n")));
                }
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
        if after_functions {
            self.recreate_composite_types();
            self.recreate_domains();
            self.alter_domains();
            self.alter_composite_types();
        }
    }

    fn recreate_composite_types(&mut self) {
        let recreated: Vec<&CompositeType> = self
            .to
            .composite_types
            .iter()
            .filter(|c| self.recreated_types.contains_key(&key(&c.schema, &c.name)))
            .collect();
        for c in recreated {
            let sql = format!(
                "ALTER TYPE {} RENAME TO {};\n{}",
                qualified(&c.schema, &c.name),
                ident(&format!("{}__shale_old", c.name)),
                create_composite_type(c)
            );
            // Attributes that go lose their values in the converted columns.
            let old = self.from.composite_types.iter().find(|o| o.schema == c.schema && o.name == c.name);
            let loses =
                old.is_some_and(|o| o.attributes.iter().any(|a| !c.attributes.iter().any(|n| n.name == a.name)));
            self.replaced.insert(format!("type {}.{}", c.schema, c.name));
            self.push(
                format!("type {}.{}", c.schema, c.name),
                sql,
                loses,
                Some("columns use it, so it is created again and they are converted attribute by attribute".into()),
            );
        }
    }

    fn recreate_domains(&mut self) {
        let recreated: Vec<&Domain> = self
            .to
            .domains
            .iter()
            .filter(|d| self.recreated_types.get(&key(&d.schema, &d.name)) == Some(&"DOMAIN"))
            .collect();
        for d in recreated {
            let sql = format!(
                "ALTER DOMAIN {} RENAME TO {};\n{}",
                qualified(&d.schema, &d.name),
                ident(&format!("{}__shale_old", d.name)),
                create_domain(d, true)
            );
            self.replaced.insert(format!("domain {}.{}", d.schema, d.name));
            self.push(
                format!("domain {}.{}", d.schema, d.name),
                sql,
                false,
                Some("its base type changes: created again, its columns converted through text".into()),
            );
        }
    }

    fn alter_domains(&mut self) {
        let from: BTreeMap<Key, &Domain> = self.from.domains.iter().map(|d| (key(&d.schema, &d.name), d)).collect();
        let new = self.new_user_types();
        let mut changes = Vec::new();
        for d in &self.to.domains {
            let k = key(&d.schema, &d.name);
            let Some(old) = from.get(&k) else { continue };
            if new.contains(&qn(&d.schema, &d.name)) || self.recreated_types.contains_key(&k) {
                continue;
            }
            let name = qualified(&d.schema, &d.name);
            let mut sql = Vec::new();
            if old.default != d.default {
                match &d.default {
                    Some(e) => sql.push(format!("ALTER DOMAIN {name} SET DEFAULT {e};")),
                    None => sql.push(format!("ALTER DOMAIN {name} DROP DEFAULT;")),
                }
            }
            if old.not_null != d.not_null {
                sql.push(format!("ALTER DOMAIN {name} {} NOT NULL;", if d.not_null { "SET" } else { "DROP" }));
            }
            let before: BTreeMap<&str, &str> =
                old.checks.iter().map(|c| (c.name.as_str(), c.definition.as_str())).collect();
            let after: BTreeMap<&str, &str> =
                d.checks.iter().map(|c| (c.name.as_str(), c.definition.as_str())).collect();
            for (check, definition) in &before {
                match after.get(check) {
                    Some(n) if n == definition => {}
                    Some(n) if *definition == format!("{n} NOT VALID") => {
                        sql.push(format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", ident(check)))
                    }
                    _ => sql.push(format!("ALTER DOMAIN {name} DROP CONSTRAINT {};", ident(check))),
                }
            }
            for (check, definition) in &after {
                let kept =
                    before.get(check).is_some_and(|o| o == definition || *o == format!("{definition} NOT VALID"));
                if !kept {
                    sql.push(format!("ALTER DOMAIN {name} ADD CONSTRAINT {} {definition};", ident(check)));
                }
            }
            if !sql.is_empty() {
                let note = (old.not_null != d.not_null || after.len() > before.len())
                    .then(|| "checks every column of the domain's type".to_string());
                // A check dropped and added again lost its comment.
                let recreated = sql.iter().any(|s| s.contains(" DROP CONSTRAINT "));
                changes.push((format!("domain {}.{}", d.schema, d.name), sql.join("\n"), note, recreated));
            }
        }
        for (object, sql, note, recreated) in changes {
            if recreated {
                self.replaced.insert(object.clone());
            }
            self.push(object, sql, false, note);
        }
    }

    fn alter_composite_types(&mut self) {
        let from: BTreeMap<Key, &CompositeType> =
            self.from.composite_types.iter().map(|c| (key(&c.schema, &c.name), c)).collect();
        let new = self.new_user_types();
        let mut changes = Vec::new();
        for c in &self.to.composite_types {
            let Some(old) = from.get(&key(&c.schema, &c.name)) else { continue };
            let recreated = self.recreated_types.contains_key(&key(&c.schema, &c.name));
            let recollated = c.attributes.iter().any(|a| self.collation_recreated(&a.collation));
            if new.contains(&qn(&c.schema, &c.name)) || (old.attributes == c.attributes && !recollated) || recreated {
                continue;
            }
            let name = qualified(&c.schema, &c.name);
            let mut sql = Vec::new();
            let mut destructive = false;
            for a in &old.attributes {
                if !c.attributes.iter().any(|n| n.name == a.name) {
                    sql.push(format!("ALTER TYPE {name} DROP ATTRIBUTE {};", ident(&a.name)));
                    destructive = true;
                }
            }
            for a in &c.attributes {
                let collate = a.collation.as_ref().map(|x| format!(" COLLATE {x}")).unwrap_or_default();
                match old.attributes.iter().find(|o| o.name == a.name) {
                    None => sql.push(format!(
                        "ALTER TYPE {name} ADD ATTRIBUTE {} {}{collate};",
                        ident(&a.name),
                        a.data_type
                    )),
                    Some(o)
                        if o.data_type != a.data_type
                            || o.collation != a.collation
                            || self.collation_recreated(&a.collation) =>
                    {
                        sql.push(format!(
                            "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {}{collate};",
                            ident(&a.name),
                            a.data_type
                        ))
                    }
                    Some(_) => {}
                }
            }
            // Typed tables of it change with it.
            let of_it = Some(qn(&c.schema, &c.name));
            if self.from.tables.iter().any(|t| t.of_type == of_it && self.stays_typed(&t.schema, &t.name)) {
                sql.iter_mut().for_each(|s| *s = format!("{} CASCADE;", s.trim_end_matches(';')));
            }
            changes.push((format!("type {}.{}", c.schema, c.name), sql.join("\n"), destructive));
        }
        for (object, sql, destructive) in changes {
            let note =
                destructive.then(|| "drops attributes, and their values in stored rows of this type".to_string());
            self.push(object, sql, destructive, note);
        }
    }

    /// Phase 4: domains, composite and range types no longer there, dependents first: those
    /// calling functions (and the types built on them) before the functions go
    /// (`calling_functions`), the others after.
    pub(super) fn drop_removed_user_types(&mut self, calling_functions: bool) {
        let to = user_types(self.to);
        let mut order = user_types_in_order(self.from, false);
        order.extend(user_types_in_order(self.from, true));
        let mut calls: BTreeSet<QualifiedName> = self
            .from
            .domains
            .iter()
            .filter(|d| d.needs_functions)
            .map(|d| qn(&d.schema, &d.name))
            .chain(self.from.range_types.iter().filter(|r| r.needs_functions).map(|r| qn(&r.schema, &r.name)))
            .collect();
        for t in &order {
            if t.depends_on.iter().any(|d| calls.contains(d)) {
                calls.insert(t.key.clone());
            }
        }
        let from = user_types(self.from);
        let mut drops = Vec::new();
        for t in order.into_iter().rev() {
            if to.contains_key(&t.key) || calls.contains(&t.key) != calling_functions {
                continue;
            }
            let kind = from[&t.key];
            drops.push((
                format!("{} {}.{}", kind.keyword().to_lowercase(), t.key.schema, t.key.name),
                format!("DROP {} {};", kind.keyword(), qualified(&t.key.schema, &t.key.name)),
                self.goes_with_dropped_columns(&t.key.schema, &t.key.name),
            ));
        }
        for (object, sql, with_dropped_data) in drops {
            self.push(object, sql, with_dropped_data, None);
        }
    }

    /// Aggregates that change or go count as dropped functions (views reading them are recreated).
    pub(super) fn classify_aggregates(&mut self) {
        let to: BTreeMap<TableKey, &Aggregate> = self.to.aggregates.iter().map(|a| (agg_key(a), a)).collect();
        for a in &self.from.aggregates {
            if to.get(&agg_key(a)).is_none_or(|n| n.definition != a.definition) {
                self.gone_functions.insert(agg_key(a));
            }
        }
    }

    /// Phase 1: aggregates that change or go (after the views that may read them).
    pub(super) fn drop_aggregates(&mut self) {
        let drops: Vec<(String, String)> = self
            .from
            .aggregates
            .iter()
            .filter(|a| self.gone_functions.contains(&agg_key(a)))
            .map(|a| {
                (
                    format!("aggregate {}.{}({})", a.schema, a.name, a.arguments),
                    format!("DROP AGGREGATE {};", routine(&a.schema, &a.name, Some(&a.arguments), true)),
                )
            })
            .collect();
        for (object, sql) in drops {
            self.push_replaced(object, sql);
        }
    }

    /// Phase 5: new and changed aggregates (after the functions they call).
    pub(super) fn create_aggregates(&mut self) {
        let from: BTreeSet<TableKey> = self.from.aggregates.iter().map(agg_key).collect();
        let creates: Vec<(String, String)> = self
            .to
            .aggregates
            .iter()
            .filter(|a| !from.contains(&agg_key(a)) || self.gone_functions.contains(&agg_key(a)))
            .map(|a| (format!("aggregate {}.{}({})", a.schema, a.name, a.arguments), a.definition.clone()))
            .collect();
        for (object, sql) in creates {
            self.push(object, sql, false, None);
        }
    }
}

impl<'a> Differ<'a> {
    pub(super) fn classify_types(&mut self) {
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
    pub(super) fn recreated_conversion(&self, col: &str, data_type: &str) -> Option<String> {
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
    pub(super) fn retyped(&self, data_type: &str) -> Option<&Key> {
        let base = data_type.trim_end_matches("[]");
        self.recreated_types.keys().find(|(s, n)| qualified(s, n) == base)
    }
}
