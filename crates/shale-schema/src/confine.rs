//! One schema of a model, seen as another: what the migrations built in a scratch schema (when the
//! `--dev-url` user may not create databases), seen as if built in `public`.

use serde_json::Value;

use crate::model::Schema;

/// The objects of `model` in schema `scratch`, renamed to schema `as_name` everywhere: their own
/// schema fields and every reference in their definitions (`scratch.t` becomes `as_name.t`).
/// Objects in other schemas (the rest of the database the scratch schema lives in) are left out,
/// but for extensions in pg_catalog (plpgsql), which every database has.
/// The scratch name must be unique enough not to appear by chance (shale's carry a process id).
pub fn confine(model: &Schema, scratch: &str, as_name: &str) -> Schema {
    let mut json = keep(model, |kind, schema| schema == scratch || (kind == "extensions" && schema == "pg_catalog"));
    rename(&mut json, scratch, as_name);
    let mut out: Schema = serde_json::from_value(json).expect("the same shape deserializes");
    out.normalize();
    out
}

/// The objects of `model` outside the scratch schemas (those whose name starts with
/// `scratch_prefix`): the rest of the database.
pub fn outside(model: &Schema, scratch_prefix: &str) -> Schema {
    let json = keep(model, |_, schema| !schema.starts_with(scratch_prefix));
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// `model` without table `schema.table` and what belongs to it (its constraints, indexes,
/// triggers, policies, comments, privileges and owned sequences): shale's own history and lease
/// tables, when they could not be left out while reading the model.
pub fn without_table(model: &Schema, schema: &str, table: &str) -> Schema {
    let mut json = serde_json::to_value(model).expect("a model serializes");
    if let Value::Object(kinds) = &mut json {
        for list in kinds.values_mut() {
            let Value::Array(items) = list else { continue };
            items.retain(|item| {
                let Value::Object(fields) = item else { return true };
                let is = |key: &str| fields.get(key).and_then(Value::as_str) == Some(table);
                let owner = fields.get("owned_by").and_then(|o| o.get("table")).and_then(Value::as_str);
                let in_schema = fields.get("schema").and_then(Value::as_str) == Some(schema);
                !(in_schema && (is("table") || is("name") || is("parent") || owner == Some(table)))
            });
        }
    }
    serde_json::from_value(json).expect("the same shape deserializes")
}

/// The model as JSON with only the objects whose schema passes `wanted(kind, schema)`.
fn keep(model: &Schema, wanted: impl Fn(&str, &str) -> bool) -> Value {
    let mut json = serde_json::to_value(model).expect("a model serializes");
    if let Value::Object(kinds) = &mut json {
        for (kind, list) in kinds.iter_mut() {
            let Value::Array(items) = list else { continue };
            items.retain(|item| match item {
                // `schemas` lists names.
                Value::String(name) => wanted(kind, name),
                Value::Object(fields) => match fields.get("schema") {
                    Some(Value::String(schema)) => wanted(kind, schema),
                    _ => true,
                },
                _ => true,
            });
        }
    }
    json
}

fn rename(value: &mut Value, scratch: &str, as_name: &str) {
    match value {
        Value::String(s) if s == scratch => *s = as_name.to_string(),
        Value::String(s) => {
            let prefix = format!("{scratch}.");
            if s.contains(&prefix) {
                *s = s.replace(&prefix, &format!("{as_name}."));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename(v, scratch, as_name)),
        Value::Object(fields) => fields.values_mut().for_each(|v| rename(v, scratch, as_name)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Index, Table};

    #[test]
    fn keeps_the_scratch_schema_only_and_renames_its_references() {
        let table = |schema: &str, name: &str| Table {
            schema: schema.into(),
            name: name.into(),
            columns: vec![Column {
                name: "id".into(),
                data_type: "bigint".into(),
                default: Some(format!("nextval('{schema}.{name}_id_seq'::regclass)")),
                ..Default::default()
            }],
            ..Default::default()
        };
        let model = Schema {
            schemas: vec!["public".into(), "shale_scratch_1_2".into()],
            tables: vec![table("public", "theirs"), table("shale_scratch_1_2", "users")],
            indexes: vec![Index {
                schema: "shale_scratch_1_2".into(),
                table: "users".into(),
                name: "users_id".into(),
                definition: "CREATE INDEX users_id ON shale_scratch_1_2.users USING btree (id)".into(),
                on_materialized_view: false,
            }],
            ..Default::default()
        };
        let seen = confine(&model, "shale_scratch_1_2", "public");
        assert_eq!(seen.schemas, ["public"]);
        assert_eq!(seen.tables.len(), 1);
        assert_eq!(seen.tables[0].schema, "public");
        assert_eq!(seen.tables[0].name, "users");
        assert_eq!(seen.tables[0].columns[0].default.as_deref(), Some("nextval('public.users_id_seq'::regclass)"));
        assert_eq!(seen.indexes[0].definition, "CREATE INDEX users_id ON public.users USING btree (id)");
        let rest = outside(&model, "shale_scratch_");
        assert_eq!(rest.schemas, ["public"]);
        assert_eq!(rest.tables.len(), 1);
        assert_eq!(rest.tables[0].name, "theirs");
        assert!(rest.indexes.is_empty());
        let without = without_table(&model, "shale_scratch_1_2", "users");
        assert_eq!(without.tables.len(), 1);
        assert_eq!(without.tables[0].name, "theirs");
        assert!(without.indexes.is_empty());
    }
}
