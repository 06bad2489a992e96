//! `shale inspect [TABLE]`: what `\dt`, `\d table`, `\di` and pg_trigger queries show, in one command.

use anyhow::Result;
use comfy_table::Cell;
use shale_pg::inspect::{ForeignKey, TableDetail};

use super::{block_on, migrator_with, print_json};
use crate::output::table;
use crate::settings::Settings;

pub fn run(settings: &Settings, name: Option<&str>) -> Result<i32> {
    // Only the database is read: no migrations directory needed.
    let migrator = migrator_with(settings, Default::default())?;
    let Some(name) = name else {
        let tables = block_on(migrator.inspect_tables())?;
        if settings.json {
            print_json(&tables);
            return Ok(0);
        }
        let mut t = table(&["schema", "table", "kind", "rows (estimate)", "size"]);
        for s in &tables {
            let rows = s.row_estimate.map(|r| r.to_string()).unwrap_or_else(|| "not analyzed".into());
            t.add_row(vec![
                Cell::new(&s.schema),
                Cell::new(&s.name),
                Cell::new(&s.kind),
                Cell::new(rows),
                Cell::new(bytes(s.size_bytes)),
            ]);
        }
        println!("{t}\n\n{} table(s)", tables.len());
        return Ok(0);
    };
    let Some(detail) = block_on(migrator.inspect_table(name))? else {
        let tables = block_on(migrator.inspect_tables())?;
        let wanted = name.rsplit('.').next().unwrap_or(name).to_lowercase();
        // The closest names, as a typo or a singular/plural slip would have them.
        let mut near: Vec<(f64, String)> = tables
            .iter()
            .map(|t| {
                let shown = if t.schema == "public" { t.name.clone() } else { format!("{}.{}", t.schema, t.name) };
                (strsim::jaro_winkler(&wanted, &t.name.to_lowercase()), shown)
            })
            .filter(|(score, _)| *score > 0.8)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0));
        let hint = match near.first() {
            Some((_, best)) => format!("did you mean {best}? "),
            None => String::new(),
        };
        anyhow::bail!(shale::Error::Invalid(format!(
            "no table named {name}; {hint}`shale inspect` lists them (use schema.table for another schema)"
        )));
    };
    if settings.json {
        print_json(&detail);
    } else {
        print_detail(&detail);
    }
    Ok(0)
}

fn print_detail(d: &TableDetail) {
    let s = &d.summary;
    let rows = s.row_estimate.map(|r| format!("~{r} rows")).unwrap_or_else(|| "not analyzed".into());
    println!("{}.{}  ({}, {rows}, {})", s.schema, s.name, s.kind, bytes(s.size_bytes));
    if let Some(c) = &d.comment {
        println!("  {c}");
    }
    if let Some(k) = &d.partition_key {
        println!("partitioned by {k}; {} partition(s): {}", d.partitions.len(), d.partitions.join(", "));
    }
    if let Some(p) = &d.partition_of {
        println!("partition of {p}");
    }
    let mut t = table(&["column", "type", "nullable", "default", "identity / generated"]);
    for c in &d.columns {
        let special = c
            .identity
            .as_ref()
            .map(|i| format!("identity {i}"))
            .or_else(|| c.generated.as_ref().map(|g| format!("generated: {g}")));
        t.add_row(vec![
            Cell::new(&c.name),
            Cell::new(match &c.collation {
                Some(coll) => format!("{} collate {coll}", c.data_type),
                None => c.data_type.clone(),
            }),
            Cell::new(if c.nullable { "yes" } else { "not null" }),
            Cell::new(c.default.as_deref().unwrap_or("")),
            Cell::new(special.unwrap_or_default()),
        ]);
    }
    println!("\n{t}");
    if !d.constraints.is_empty() {
        println!("\nconstraints:");
        for c in &d.constraints {
            let invalid = if c.validated { "" } else { "  (NOT VALID)" };
            println!("  {}  {}: {}{invalid}", c.name, c.kind, c.definition);
        }
    }
    if !d.indexes.is_empty() {
        println!("\nindexes:");
        for i in &d.indexes {
            let mut what = vec![i.method.clone()];
            if i.primary {
                what.push("primary key".into());
            } else if i.unique {
                what.push("unique".into());
            }
            if !i.valid {
                what.push("INVALID".into());
            }
            let include =
                if i.include.is_empty() { String::new() } else { format!(" include ({})", i.include.join(", ")) };
            let predicate = i.predicate.as_ref().map(|p| format!(" where {p}")).unwrap_or_default();
            println!(
                "  {}  {} ({}){include}{predicate}  {}",
                i.name,
                what.join(", "),
                i.keys.join(", "),
                bytes(i.size_bytes)
            );
        }
    }
    if !d.triggers.is_empty() {
        println!("\ntriggers:");
        for g in &d.triggers {
            println!("  {}{}", g.definition, if g.enabled { "" } else { "  (disabled)" });
        }
    }
    print_keys("foreign keys", &d.foreign_keys, |k| format!("{}: {}", k.name, k.definition));
    print_keys("referenced by", &d.referenced_by, |k| format!("{} {}: {}", k.table, k.name, k.definition));
}

fn print_keys(title: &str, keys: &[ForeignKey], line: impl Fn(&ForeignKey) -> String) {
    if !keys.is_empty() {
        println!("\n{title}:");
        for k in keys {
            println!("  {}", line(k));
        }
    }
}

fn bytes(n: i64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{} kB", n >> 10),
        n => format!("{n} bytes"),
    }
}
