use super::*;
use crate::model::{Column, Constraint, Index};

fn table(schema: &str, name: &str, columns: &[(&str, &str, bool)]) -> Table {
    Table {
        schema: schema.into(),
        name: name.into(),
        columns: columns
            .iter()
            .map(|(n, t, not_null)| Column {
                name: (*n).into(),
                data_type: (*t).into(),
                not_null: *not_null,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn constraint(schema: &str, table: &str, name: &str, kind: ConstraintKind, definition: &str) -> Constraint {
    Constraint {
        schema: schema.into(),
        table: table.into(),
        name: name.into(),
        kind,
        definition: definition.into(),
        validated: true,
        deferrable: false,
        deferred: false,
        uses: Vec::new(),
    }
}

/// users, orders (partitioned, with a partition), order_items (composite key, identifying
/// foreign key), a profile (one-to-one), a table in another schema with an odd name, and an audit
/// table referencing a table it does not show when not selected.
pub(crate) fn shop() -> Schema {
    use ConstraintKind::*;
    let mut orders = table(
        "public",
        "orders",
        &[("id", "bigint", true), ("at", "timestamp with time zone", true), ("user_id", "bigint", false)],
    );
    orders.partition_key = Some("RANGE (at)".into());
    let mut orders_2024 = orders.clone();
    orders_2024.name = "orders_2024".into();
    orders_2024.partition_key = None;
    orders_2024.partition_of = Some(QualifiedName { schema: "public".into(), name: "orders".into() });
    orders_2024.partition_bound = Some("FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')".into());
    Schema {
        schemas: vec!["billing".into(), "public".into()],
        tables: vec![
            table("billing", "Invoice Lines", &[("id", "integer", true), ("amount", "numeric(10,2)", true)]),
            table(
                "public",
                "order_items",
                &[("order_id", "bigint", true), ("order_at", "timestamp with time zone", true), ("n", "integer", true)],
            ),
            orders,
            orders_2024,
            table("public", "profiles", &[("user_id", "bigint", true), ("bio", "text", false)]),
            table(
                "public",
                "users",
                &[("id", "bigint", true), ("email", "character varying(255)", true), ("mood", "public.mood", false)],
            ),
        ],
        constraints: vec![
            constraint("billing", "Invoice Lines", "lines_pkey", PrimaryKey, "PRIMARY KEY (id)"),
            constraint(
                "billing",
                "Invoice Lines",
                "lines_user",
                ForeignKey,
                "FOREIGN KEY (id) REFERENCES public.users(id) ON UPDATE CASCADE",
            ),
            constraint("public", "order_items", "order_items_pkey", PrimaryKey, "PRIMARY KEY (order_id, order_at, n)"),
            constraint(
                "public",
                "order_items",
                "order_items_order",
                ForeignKey,
                "FOREIGN KEY (order_id, order_at) REFERENCES public.orders(id, at) ON DELETE CASCADE",
            ),
            constraint("public", "orders", "orders_pkey", PrimaryKey, "PRIMARY KEY (id, at)"),
            constraint(
                "public",
                "orders",
                "orders_user_id_fkey",
                ForeignKey,
                "FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL",
            ),
            constraint("public", "orders_2024", "orders_2024_check", Check, "CHECK ((id > 0))"),
            constraint("public", "profiles", "profiles_pkey", PrimaryKey, "PRIMARY KEY (user_id)"),
            constraint(
                "public",
                "profiles",
                "profiles_user_id_fkey",
                ForeignKey,
                "FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE",
            ),
            constraint("public", "users", "users_pkey", PrimaryKey, "PRIMARY KEY (id)"),
        ],
        indexes: vec![Index {
            schema: "public".into(),
            table: "users".into(),
            name: "users_email".into(),
            definition: "CREATE UNIQUE INDEX users_email ON public.users USING btree (email)".into(),
            on_materialized_view: false,
            valid: true,
            uses: Vec::new(),
            calls: Vec::new(),
        }],
        ..Default::default()
    }
}

#[test]
fn the_diagram_shows_parents_for_partitions_with_keys_and_actions() {
    let d = Diagram::build(&shop(), &Selection::all());
    let labels: Vec<String> = d.entities.iter().map(Entity::label).collect();
    assert_eq!(labels, ["billing.Invoice Lines", "order_items", "orders", "profiles", "users"]);
    let users = &d.entities[4];
    let marks: Vec<(&str, Vec<&str>, bool)> =
        users.columns.iter().map(|c| (c.name.as_str(), c.keys(), c.shows_not_null())).collect();
    assert_eq!(marks, [("id", vec!["PK"], false), ("email", vec!["UK"], true), ("mood", vec![], false)]);
    assert_eq!(users.columns[2].data_type, "mood");
    assert_eq!(d.entities[2].partition_key.as_deref(), Some("RANGE (at)"));

    let rels: Vec<(String, String, bool, bool, bool)> =
        d.relationships.iter().map(|r| (label(&r.from), r.label(), r.optional, r.one_to_one, r.identifying)).collect();
    assert_eq!(
        rels,
        [
            ("billing.Invoice Lines".into(), "id, ON UPDATE CASCADE".into(), false, true, true),
            ("order_items".into(), "order_id, order_at, ON DELETE CASCADE".into(), false, false, true),
            ("orders".into(), "user_id, ON DELETE SET NULL".into(), true, false, false),
            ("profiles".into(), "user_id, ON DELETE CASCADE".into(), false, true, true),
        ]
    );
}

#[test]
fn a_selection_shows_referenced_tables_outside_it_by_name_only() {
    let d = Diagram::build(&shop(), &Selection::parse("order*").unwrap());
    let shown: Vec<(String, bool)> = d.entities.iter().map(|e| (e.label(), e.reference)).collect();
    assert_eq!(shown, [("order_items".into(), false), ("orders".into(), false), ("users".into(), true)]);
    assert!(d.entities[2].columns.is_empty());
    assert_eq!(d.relationships.len(), 2);

    let d = Diagram::build(&shop(), &Selection::parse("billing.*, users").unwrap());
    let shown: Vec<String> = d.entities.iter().map(Entity::label).collect();
    assert_eq!(shown, ["billing.Invoice Lines", "users"]);
    // A partition is never shown, even when picked by name.
    let d = Diagram::build(&shop(), &Selection::parse("orders_2024").unwrap());
    assert!(d.entities.is_empty());
}

#[test]
fn file_extensions_pick_the_format() {
    for (file, format) in [
        ("docs/schema.mmd", Some(Format::Mermaid)),
        ("README.md", Some(Format::MermaidMarkdown)),
        ("schema.DOT", Some(Format::Dot)),
        ("schema.gv", Some(Format::Dot)),
        ("schema.svg", Some(Format::Svg)),
        ("schema.png", None),
        ("schema", None),
    ] {
        assert_eq!(Format::for_file(Path::new(file)), format, "{file}");
    }
}

/// A structural check of a Mermaid `erDiagram` against the part of Mermaid's grammar the
/// renderer writes (see erd/mermaid.rs): every line is the header, an entity block's start or end,
/// an attribute (type, name, keys, comment), a bare entity or a relationship. Each token is
/// checked with the character classes of Mermaid's lexer (`ATTRIBUTE_WORD`, `ENTITY_NAME`,
/// `WORD`, the cardinality tokens).
pub(crate) fn check_mermaid(text: &str) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("erDiagram"), "{text}");
    let mut in_block = false;
    for line in lines {
        assert!(valid_line(line, &mut in_block).is_some(), "not a valid erDiagram line: {line:?}\n{text}");
    }
    assert!(!in_block, "an entity block is not closed:\n{text}");
}

/// Some when `line` is valid where it stands (inside an entity block or not).
fn valid_line(line: &str, in_block: &mut bool) -> Option<()> {
    let need = |ok: bool| ok.then_some(());
    let quoted = |s: &str| s.len() >= 2 && s.starts_with('"') && s.ends_with('"') && !s[1..s.len() - 1].contains('"');
    if *in_block {
        if line == "    }" {
            *in_block = false;
            return Some(());
        }
        let body = line.strip_prefix("        ")?;
        let (words, comment) = match body.find(" \"") {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        need(comment.is_none_or(quoted))?;
        let mut parts = words.splitn(3, ' ');
        need(attribute_word(parts.next()?, &['(', ')', '[', ']']))?;
        let name = parts.next()?;
        need(attribute_word(name, &[]) && !["pk", "fk", "uk"].contains(&name.to_ascii_lowercase().as_str()))?;
        if let Some(keys) = parts.next() {
            need(keys.split(", ").all(|k| ["PK", "FK", "UK"].contains(&k)))?;
        }
        return Some(());
    }
    let rest = entity_name(line.strip_prefix("    ")?)?;
    if rest.is_empty() || rest == " {" {
        *in_block = rest == " {";
        return Some(());
    }
    // A relationship: ` CARD LINE CARD NAME : "ROLE"`.
    let rest = rest.strip_prefix(' ')?;
    need(["|o", "||", "}o", "}|"].contains(&rest.get(..2)?))?;
    need(["--", ".."].contains(&rest.get(2..4)?))?;
    need(["o|", "||", "o{", "|{"].contains(&rest.get(4..6)?))?;
    let rest = entity_name(rest.get(6..)?.strip_prefix(' ')?)?;
    need(quoted(rest.strip_prefix(" : ")?))
}

/// Mermaid's `ENTITY_NAME` (quoted) or a bare word that is none of the grammar's words; what follows it.
fn entity_name(s: &str) -> Option<&str> {
    if let Some(quoted) = s.strip_prefix('"') {
        let end = quoted.find('"')?;
        let name = &quoted[..end];
        let bad = |c: char| matches!(c, '"' | '%' | '\r' | '\n' | '\\');
        return (!name.is_empty() && !name.contains(bad)).then(|| &quoted[end + 1..]);
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let word = &s[..end];
    let ok = word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !["end", "one", "many", "to", "u", "only", "style", "class", "erdiagram"]
            .contains(&word.to_ascii_lowercase().as_str());
    ok.then(|| &s[end..])
}

/// Mermaid's `ATTRIBUTE_WORD` as the renderer keeps to it: a letter or `_`, then letters,
/// digits, `_`, `-` and `extra`.
fn attribute_word(s: &str, extra: &[char]) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c))
}

#[test]
fn mermaid_is_an_er_diagram_of_valid_lines() {
    let text = render(&Diagram::build(&shop(), &Selection::all()), Format::Mermaid);
    check_mermaid(&text);
    assert_eq!(
        text,
        r#"erDiagram
    "billing.Invoice Lines" {
        integer id PK, FK
        numeric(10_2) amount "NOT NULL"
    }
    order_items {
        bigint order_id PK, FK
        timestamptz order_at PK, FK
        integer n PK
    }
    orders {
        bigint id PK
        timestamptz at PK
        bigint user_id FK
    }
    profiles {
        bigint user_id PK, FK
        text bio
    }
    users {
        bigint id PK
        varchar(255) email UK "NOT NULL"
        mood mood
    }
    "billing.Invoice Lines" |o--|| users : "id, ON UPDATE CASCADE"
    order_items }o--|| orders : "order_id, order_at, ON DELETE CASCADE"
    orders }o..o| users : "user_id, ON DELETE SET NULL"
    profiles |o--|| users : "user_id, ON DELETE CASCADE"
"#
    );
    let fenced = render(&Diagram::build(&shop(), &Selection::all()), Format::MermaidMarkdown);
    assert_eq!(fenced, format!("```mermaid\n{text}```\n"));
    // A reference is drawn from its relationship alone; names that need quotes get them.
    let mut odd = shop();
    odd.tables.push(table("public", "end", &[("pk", "int", false), ("Two Words", "\"Weird\"", false)]));
    let text = render(&Diagram::build(&odd, &Selection::parse("orders,end").unwrap()), Format::Mermaid);
    check_mermaid(&text);
    assert!(text.contains("    \"end\" {\n        int pk_\n        _Weird_ Two_Words\n    }\n"), "{text}");
    assert!(!text.contains("    users"), "{text}");
}

#[test]
fn the_checker_refuses_what_mermaid_refuses() {
    for bad in [
        "erDiagram\n    a.b {\n    }\n",
        "erDiagram\n    t {\n        character varying x\n    }\n",
        "erDiagram\n    t {\n        int x PK, NN\n    }\n",
        "erDiagram\n    t {\n        int x\n",
        "erDiagram\n    a }o-->| b : \"x\"\n",
        "erDiagram\n    a }o--|| b : x\n",
        "erDiagram\n    end\n",
    ] {
        assert!(std::panic::catch_unwind(|| check_mermaid(bad)).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn dot_has_a_node_per_table_and_an_edge_per_foreign_key() {
    let text = render(&Diagram::build(&shop(), &Selection::parse("order*").unwrap()), Format::Dot);
    assert!(text.starts_with("digraph schema {\n") && text.ends_with("}\n"), "{text}");
    assert!(text.contains("  \"users\" [shape=box, style=dashed, label=\"users\"];\n"), "{text}");
    assert!(text.contains("<b>orders</b><br/><font point-size=\"8\">partitioned by RANGE (at)</font>"), "{text}");
    assert!(
        text.contains(
            "<tr><td port=\"c1\" align=\"left\">id</td><td align=\"left\">bigint</td><td align=\"left\">PK</td></tr>"
        ),
        "{text}"
    );
    assert!(
        text.contains("  \"order_items\":c1 -> \"orders\":c1 [arrowtail=crowodot, arrowhead=teetee, label=\"order_id, order_at, ON DELETE CASCADE\"];"),
        "{text}"
    );
    assert!(
        text.contains("  \"orders\":c3 -> \"users\" [arrowtail=crowodot, arrowhead=teeodot, style=dashed, label=\"user_id, ON DELETE SET NULL\"];"),
        "{text}"
    );
    let odd = render(&Diagram::build(&shop(), &Selection::parse("billing.*").unwrap()), Format::Dot);
    assert!(odd.contains("\"billing.Invoice Lines\" [label=<"), "{odd}");
}

#[test]
fn svg_is_xml_naming_every_table_and_the_same_every_time() {
    let diagram = Diagram::build(&shop(), &Selection::all());
    let text = render(&diagram, Format::Svg);
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML ({e}):\n{text}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> =
        doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).map(str::to_string).collect();
    for table in ["billing.Invoice Lines", "order_items", "orders (partitioned by RANGE (at))", "profiles", "users"] {
        assert!(texts.iter().any(|t| t == table), "no {table:?} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t == "user_id, ON DELETE SET NULL"), "{texts:?}");
    for _ in 0..3 {
        assert_eq!(render(&diagram, Format::Svg), text, "the same diagram, the same bytes");
    }
    // An empty diagram is still an SVG document.
    let empty = render(&Diagram::default(), Format::Svg);
    roxmltree::Document::parse(&empty).unwrap_or_else(|e| panic!("not XML ({e}):\n{empty}"));
}
