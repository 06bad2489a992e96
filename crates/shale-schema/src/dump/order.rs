//! The order objects are created in: each after what it is built on or reads (types after their
//! base types, tables after their parents, views after the views they read), ties in name order,
//! so that the same model always gives the same statements and they load into PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use super::render::{create_composite_type, create_domain, create_range_type};
use crate::model::{Function, QualifiedName, Schema, Table, View};

/// A domain, composite or range type as SQL, with what it must come after.
pub(crate) struct UserType {
    pub(crate) key: QualifiedName,
    pub(crate) depends_on: Vec<QualifiedName>,
    pub(crate) sql: String,
}

/// The domains, composite and range types that go before the functions (`after_functions`
/// false) or after them (range types with a user canonical or subdiff function, and the types
/// built on those), each after the types it is built on.
pub(crate) fn user_types_in_order(schema: &Schema, after_functions: bool) -> Vec<UserType> {
    let key = |schema: &str, name: &str| QualifiedName { schema: schema.into(), name: name.into() };
    let mut late: BTreeSet<QualifiedName> =
        schema.range_types.iter().filter(|r| r.needs_functions).map(|r| key(&r.schema, &r.name)).collect();
    let mut types: Vec<UserType> = Vec::new();
    types.extend(schema.domains.iter().map(|d| UserType {
        key: key(&d.schema, &d.name),
        depends_on: d.depends_on.clone(),
        sql: String::new(),
    }));
    types.extend(schema.composite_types.iter().map(|c| UserType {
        key: key(&c.schema, &c.name),
        depends_on: c.depends_on.clone(),
        sql: create_composite_type(c),
    }));
    types.extend(schema.range_types.iter().map(|r| UserType {
        key: key(&r.schema, &r.name),
        depends_on: r.depends_on.clone(),
        sql: create_range_type(r),
    }));
    let mut types = in_dependency_order(types, |t| &t.key, |t| &t.depends_on);
    // In dependency order, one pass finds every type built on a late one.
    for t in &types {
        if t.depends_on.iter().any(|d| late.contains(d)) {
            late.insert(t.key.clone());
        }
    }
    // A late domain is created whole: the functions its default and checks call exist by then.
    for d in &schema.domains {
        if let Some(t) = types.iter_mut().find(|t| t.key.schema == d.schema && t.key.name == d.name) {
            t.sql = create_domain(d, late.contains(&t.key));
        }
    }
    types.retain(|t| late.contains(&t.key) == after_functions);
    types
}

/// The types [`user_types_in_order`] puts after the functions.
pub(crate) fn types_after_functions(schema: &Schema) -> BTreeSet<QualifiedName> {
    user_types_in_order(schema, true).into_iter().map(|t| t.key).collect()
}

/// Whether `f`'s signature (or body) uses one of `types`.
/// `functions` with each after the functions its SQL-standard body calls (PostgreSQL parses such
/// a body when it creates it: `aa() RETURN zz() + 1` before `zz` fails), ties in name order
/// (re-check: dumps, diffs and squashes created them by name, and did not load).
pub(crate) fn functions_in_order(functions: Vec<&Function>) -> Vec<&Function> {
    let keyed: Vec<(QualifiedName, &Function)> = functions.into_iter().map(|f| (f.ordering_key(), f)).collect();
    in_dependency_order(keyed, |(key, _)| key, |(_, f)| &f.calls).into_iter().map(|(_, f)| f).collect()
}

pub(crate) fn uses_any(f: &Function, types: &BTreeSet<QualifiedName>) -> bool {
    f.depends_on.iter().any(|t| types.contains(t))
}

/// Tables that have no parent first, then partitions and inheriting tables by depth (a parent
/// always before its children).
pub(crate) fn tables_in_order(tables: &[Table]) -> Vec<&Table> {
    let by_name: BTreeMap<(&str, &str), &Table> =
        tables.iter().map(|t| ((t.schema.as_str(), t.name.as_str()), t)).collect();
    fn depth<'t>(
        t: &'t Table,
        by_name: &BTreeMap<(&str, &str), &'t Table>,
        known: &mut BTreeMap<(&'t str, &'t str), usize>,
        limit: usize,
    ) -> usize {
        if let Some(d) = known.get(&(t.schema.as_str(), t.name.as_str())) {
            return *d;
        }
        let mut d = 0;
        // The limit stops a (corrupt) cycle; PostgreSQL allows none.
        if limit > 0 {
            for p in t.partition_of.iter().chain(&t.inherits) {
                if let Some(parent) = by_name.get(&(p.schema.as_str(), p.name.as_str())) {
                    d = d.max(1 + depth(parent, by_name, known, limit - 1));
                }
            }
        }
        known.insert((t.schema.as_str(), t.name.as_str()), d);
        d
    }
    let mut known = BTreeMap::new();
    let mut ordered: Vec<(usize, &Table)> =
        tables.iter().map(|t| (depth(t, &by_name, &mut known, tables.len()), t)).collect();
    ordered.sort_by(|(da, a), (db, b)| (da, &a.schema, &a.name).cmp(&(db, &b.schema, &b.name)));
    ordered.into_iter().map(|(_, t)| t).collect()
}

/// Sorted by name, except that a view always comes after the views it reads.
pub(crate) fn views_in_order(views: &[View]) -> Vec<&View> {
    let keyed: Vec<(QualifiedName, &View)> =
        views.iter().map(|v| (QualifiedName { schema: v.schema.clone(), name: v.name.clone() }, v)).collect();
    in_dependency_order(keyed, |(k, _)| k, |(_, v)| &v.depends_on).into_iter().map(|(_, v)| v).collect()
}

/// Sorted by key, except that an item always comes after the items it depends on (dependencies
/// on keys that are not among the items are ignored).
fn in_dependency_order<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &QualifiedName,
    depends_on: impl Fn(&T) -> &[QualifiedName],
) -> Vec<T> {
    let mut by_key: BTreeMap<QualifiedName, T> = BTreeMap::new();
    for item in items {
        by_key.insert(key(&item).clone(), item);
    }
    let mut waiting_on: BTreeMap<QualifiedName, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<QualifiedName, Vec<QualifiedName>> = BTreeMap::new();
    for (k, item) in &by_key {
        let deps: BTreeSet<&QualifiedName> =
            depends_on(item).iter().filter(|d| *d != k && by_key.contains_key(*d)).collect();
        waiting_on.insert(k.clone(), deps.len());
        for d in deps {
            dependents.entry(d.clone()).or_default().push(k.clone());
        }
    }
    let mut ready: BTreeSet<QualifiedName> =
        waiting_on.iter().filter(|(_, n)| **n == 0).map(|(k, _)| k.clone()).collect();
    let mut order = Vec::with_capacity(by_key.len());
    while let Some(next) = ready.pop_first() {
        for dependent in dependents.get(&next).into_iter().flatten() {
            let n = waiting_on.get_mut(dependent).expect("every dependent is an item");
            *n -= 1;
            if *n == 0 {
                ready.insert(dependent.clone());
            }
        }
        waiting_on.remove(&next);
        order.push(next);
    }
    // A cycle cannot be created in PostgreSQL; should one show up, keep the rest in key order.
    order.extend(waiting_on.into_keys());
    order.into_iter().map(|k| by_key.remove(&k).expect("every key is an item")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_come_after_the_views_they_read() {
        let view = |name: &str, deps: &[&str]| View {
            schema: "public".into(),
            name: name.into(),
            materialized: false,
            definition: " SELECT 1;".into(),
            comment: None,
            depends_on: deps.iter().map(|d| QualifiedName { schema: "public".into(), name: (*d).into() }).collect(),
            uses: Vec::new(),
        };
        let views = vec![view("a", &["c"]), view("b", &[]), view("c", &["b"]), view("d", &[])];
        let order: Vec<&str> = views_in_order(&views).iter().map(|v| v.name.as_str()).collect();
        assert_eq!(order, ["b", "c", "a", "d"]);
    }
}
