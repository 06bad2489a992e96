//! Schema drift: what differs between the schema the migrations produce and a live one, object by
//! object (seed 002's "current state vs desired state"). Pure: two models in, differences out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Schema;

/// One object whose definition differs; `None` on a side where the object does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// Every object as `kind name` -> a one-line description, so two schemas compare key by key.
fn objects(schema: &Schema) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in &schema.schemas {
        out.insert(format!("schema {s}"), "exists".into());
    }
    for e in &schema.extensions {
        out.insert(format!("extension {}", e.name), format!("in schema {}", e.schema));
    }
    for e in &schema.enums {
        out.insert(format!("type {}.{}", e.schema, e.name), format!("enum ({})", e.values.join(", ")));
    }
    for s in &schema.sequences {
        let o = &s.options;
        out.insert(
            format!("sequence {}.{}", s.schema, s.name),
            format!(
                "{} start {} increment {}{}",
                o.data_type,
                o.start,
                o.increment,
                if o.cycle { " cycle" } else { "" }
            ),
        );
    }
    for t in &schema.tables {
        let table = format!("{}.{}", t.schema, t.name);
        let mut what = if t.unlogged { "unlogged table".to_string() } else { "table".to_string() };
        if let Some(key) = &t.partition_key {
            what.push_str(&format!(" partitioned by {key}"));
        }
        if let (Some(parent), Some(bound)) = (&t.partition_of, &t.partition_bound) {
            what.push_str(&format!(" partition of {}.{} {bound}", parent.schema, parent.name));
        }
        out.insert(format!("table {table}"), what);
        for c in &t.columns {
            let mut d = c.data_type.clone();
            if let Some(coll) = &c.collation {
                d.push_str(&format!(" collate {coll}"));
            }
            d.push_str(if c.not_null { " not null" } else { " null" });
            if let Some(default) = &c.default {
                d.push_str(&format!(" default {default}"));
            }
            if let Some(identity) = &c.identity {
                d.push_str(if identity.always { " identity always" } else { " identity by default" });
            }
            if let Some(generated) = &c.generated {
                d.push_str(&format!(" generated ({generated})"));
            }
            out.insert(format!("column {table}.{}", c.name), d);
        }
    }
    for c in &schema.constraints {
        let valid = if c.validated { "" } else { " NOT VALID" };
        out.insert(format!("constraint {}.{}.{}", c.schema, c.table, c.name), format!("{}{valid}", c.definition));
    }
    for i in &schema.indexes {
        out.insert(format!("index {}.{}", i.schema, i.name), i.definition.clone());
    }
    for v in &schema.views {
        let kind = if v.materialized { "materialized view" } else { "view" };
        out.insert(
            format!("{kind} {}.{}", v.schema, v.name),
            v.definition.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    }
    for f in &schema.functions {
        out.insert(
            format!("function {}.{}({})", f.schema, f.name, f.arguments),
            f.definition.split_whitespace().collect::<Vec<_>>().join(" "),
        );
    }
    for t in &schema.triggers {
        out.insert(format!("trigger {}.{}.{}", t.schema, t.table, t.name), t.definition.clone());
    }
    out
}

/// The objects that differ between `expected` (what the migrations build) and `actual`.
pub fn differences(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    let (want, have) = (objects(expected), objects(actual));
    let mut keys: Vec<&String> = want.keys().chain(have.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| want.get(*k) != have.get(*k))
        .map(|k| Difference { object: k.clone(), expected: want.get(k).cloned(), actual: have.get(k).cloned() })
        .collect()
}
