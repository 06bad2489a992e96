//! The diagram as a Mermaid `erDiagram`, written in the part of Mermaid's grammar that every
//! renderer of the last years reads (GitHub's, GitLab's): an entity name is a bare word, or in
//! double quotes when it has other characters (a schema's dot) or is one of the grammar's words;
//! attribute types and names keep to letters, digits, `_`, `-`, `(`, `)`, `[` and `]`, so the
//! others become `_` (`numeric(10,2)` is written `numeric(10_2)`) and the long type names their
//! short forms (`timestamptz`, `varchar(255)`).

use std::fmt::Write;

use super::{Diagram, Entity, EntityColumn, Relationship};

/// Words of the grammar (matched without regard to case) that a bare entity name must not be.
const WORDS: &[&str] = &[
    "class",
    "classdef",
    "direction",
    "end",
    "erdiagram",
    "many",
    "one",
    "only",
    "optionally",
    "style",
    "subgraph",
    "to",
    "u",
    "zero",
    "acctitle",
    "accdescr",
    "title",
];

pub fn render(diagram: &Diagram) -> String {
    let mut out = String::from("erDiagram\n");
    for e in &diagram.entities {
        entity(&mut out, e);
    }
    for r in &diagram.relationships {
        relationship(&mut out, r);
    }
    out
}

fn entity(out: &mut String, e: &Entity) {
    if e.reference {
        // Drawn from its relationships, by name only.
        return;
    }
    let name = entity_name(&e.label());
    if e.columns.is_empty() {
        let _ = writeln!(out, "    {name}");
        return;
    }
    let _ = writeln!(out, "    {name} {{");
    for c in &e.columns {
        attribute(out, c);
    }
    out.push_str("    }\n");
}

fn attribute(out: &mut String, c: &EntityColumn) {
    let _ = write!(out, "        {} {}", attribute_type(&c.data_type), attribute_name(&c.name));
    let keys = c.keys();
    if !keys.is_empty() {
        let _ = write!(out, " {}", keys.join(", "));
    }
    if c.shows_not_null() {
        out.push_str(" \"NOT NULL\"");
    }
    out.push('\n');
}

/// `orders }o--|| users : "user_id, ON DELETE CASCADE"`: many (or, one-to-one, at most one) rows
/// of the referencing table to one (or, with a nullable column, at most one) row of the
/// referenced one; `--` when the key is part of the referencing table's primary key, else `..`.
fn relationship(out: &mut String, r: &Relationship) {
    let from = if r.one_to_one { "|o" } else { "}o" };
    let line = if r.identifying { "--" } else { ".." };
    let to = if r.optional { "o|" } else { "||" };
    let _ = writeln!(
        out,
        "    {} {from}{line}{to} {} : \"{}\"",
        entity_name(&super::label(&r.from)),
        entity_name(&super::label(&r.to)),
        r.label().replace('"', "'")
    );
}

/// A bare word when Mermaid reads it as a name, else in double quotes (without the characters a
/// quoted name cannot hold).
fn entity_name(label: &str) -> String {
    let bare = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !WORDS.contains(&label.to_ascii_lowercase().as_str());
    if bare {
        label.to_string()
    } else {
        let quoted: String =
            label.chars().map(|c| if matches!(c, '"' | '%' | '\\' | '\r' | '\n') { '_' } else { c }).collect();
        format!("\"{quoted}\"")
    }
}

/// A type in Mermaid's characters, the long SQL names shortened.
fn attribute_type(data_type: &str) -> String {
    let (base, dimensions) = data_type.split_at(data_type.find('[').unwrap_or(data_type.len()));
    let base = if let Some(b) = base.strip_suffix(" with time zone") {
        // `timestamp(3) with time zone` is `timestamptz(3)`.
        let (name, precision) = b.split_at(b.find('(').unwrap_or(b.len()));
        format!("{name}tz{precision}")
    } else if let Some(b) = base.strip_suffix(" without time zone") {
        b.to_string()
    } else {
        let short = [
            ("character varying", "varchar"),
            ("double precision", "float8"),
            ("bit varying", "varbit"),
            ("character", "char"),
        ];
        short
            .iter()
            .find_map(|(long, alias)| base.strip_prefix(long).map(|rest| format!("{alias}{rest}")))
            .unwrap_or_else(|| base.to_string())
    };
    word(&format!("{base}{dimensions}"), &['_', '-', '(', ')', '[', ']'])
}

/// A column name in Mermaid's characters; `PK`, `FK` and `UK` (in any case) would be read as
/// keys, so they get a `_`.
fn attribute_name(name: &str) -> String {
    let w = word(name, &['_', '-']);
    if ["pk", "fk", "uk"].contains(&w.to_ascii_lowercase().as_str()) {
        format!("{w}_")
    } else {
        w
    }
}

/// `text` with every character outside ASCII letters, digits and `allowed` turned into `_`,
/// starting with a letter or `_`.
fn word(text: &str, allowed: &[char]) -> String {
    let mut w: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || allowed.contains(&c) { c } else { '_' }).collect();
    if !w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        w.insert(0, '_');
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_names_in_mermaid_characters() {
        assert_eq!(attribute_type("character varying(255)"), "varchar(255)");
        assert_eq!(attribute_type("timestamp with time zone"), "timestamptz");
        assert_eq!(attribute_type("timestamp(3) with time zone"), "timestamptz(3)");
        assert_eq!(attribute_type("timestamp without time zone[]"), "timestamp[]");
        assert_eq!(attribute_type("double precision"), "float8");
        assert_eq!(attribute_type("numeric(10,2)"), "numeric(10_2)");
        assert_eq!(attribute_type("text[]"), "text[]");
        assert_eq!(attribute_type("billing.status"), "billing_status");
        assert_eq!(attribute_type("\"Mood\""), "_Mood_");
        assert_eq!(attribute_name("Order Id"), "Order_Id");
        assert_eq!(attribute_name("2fa"), "_2fa");
        assert_eq!(attribute_name("pk"), "pk_");
        assert_eq!(entity_name("users"), "users");
        assert_eq!(entity_name("billing.invoices"), "\"billing.invoices\"");
        assert_eq!(entity_name("end"), "\"end\"");
        assert_eq!(entity_name("My \"T\""), "\"My _T_\"");
    }
}
