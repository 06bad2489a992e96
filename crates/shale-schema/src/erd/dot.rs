//! The diagram as Graphviz DOT: each table an HTML-like table (name, then one row per column:
//! name, type, keys and NOT NULL), each foreign key an edge from its first column to the first
//! column it references, with crow's feet (many, or at most one, on the referencing side; one, or
//! at most one when a column may be null, on the referenced side) and the relationship's label.
//! A reference (a table outside the selection) is a dashed box with its name.

use std::fmt::Write;

use super::{Diagram, Entity, Relationship};

pub fn render(diagram: &Diagram) -> String {
    let mut out = String::from(
        "digraph schema {\n  graph [rankdir=LR, fontname=\"Helvetica\"];\n  \
         node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n  \
         edge [fontname=\"Helvetica\", fontsize=9, dir=both];\n",
    );
    for e in &diagram.entities {
        entity(&mut out, e);
    }
    for r in &diagram.relationships {
        edge(&mut out, diagram, r);
    }
    out.push_str("}\n");
    out
}

fn entity(out: &mut String, e: &Entity) {
    let id = quote(&e.label());
    if e.reference {
        let _ = writeln!(out, "  {id} [shape=box, style=dashed, label={id}];");
        return;
    }
    let _ = writeln!(out, "  {id} [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\">");
    let mut title = format!("<b>{}</b>", html(&e.label()));
    if let Some(key) = &e.partition_key {
        let _ = write!(title, "<br/><font point-size=\"8\">partitioned by {}</font>", html(key));
    }
    let _ = writeln!(out, "    <tr><td colspan=\"3\" bgcolor=\"#dde6f3\">{title}</td></tr>");
    for (i, c) in e.columns.iter().enumerate() {
        let mut marks = c.keys().join(", ");
        if c.shows_not_null() {
            marks = if marks.is_empty() { "NOT NULL".into() } else { format!("{marks}, NOT NULL") };
        }
        let _ = writeln!(
            out,
            "    <tr><td port=\"c{}\" align=\"left\">{}</td><td align=\"left\">{}</td><td align=\"left\">{}</td></tr>",
            i + 1,
            html(&c.name),
            html(&c.data_type),
            marks
        );
    }
    out.push_str("  </table>>];\n");
}

fn edge(out: &mut String, diagram: &Diagram, r: &Relationship) {
    let end = |table: &super::QualifiedName, column: Option<&String>| {
        let id = quote(&super::label(table));
        let port = diagram
            .entities
            .iter()
            .find(|e| &e.table == table)
            .and_then(|e| e.columns.iter().position(|c| Some(&c.name) == column));
        match port {
            Some(i) => format!("{id}:c{}", i + 1),
            None => id,
        }
    };
    let tail = if r.one_to_one { "teeodot" } else { "crowodot" };
    let head = if r.optional { "teeodot" } else { "teetee" };
    let style = if r.identifying { "" } else { ", style=dashed" };
    let _ = writeln!(
        out,
        "  {} -> {} [arrowtail={tail}, arrowhead={head}{style}, label={}];",
        end(&r.from, r.columns.first()),
        end(&r.to, r.to_columns.first()),
        quote(&r.label())
    );
}

/// A DOT string: in double quotes, with `"` and `\` escaped.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Text inside an HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
