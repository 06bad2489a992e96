//! The diagram as SVG, laid out and drawn by the `layout-rs` crate (a Sugiyama-style layered
//! layout with records and ports, in pure Rust: no Graphviz needed). Each table is a record (its
//! name, then one row per column); each foreign key an arrow from the referenced column to the
//! referencing one, pointing at the referenced table, which is placed above; dashed when the key
//! is not part of the referencing table's primary key. A reference (a table outside the selection)
//! is a grey box with its name.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, RecordDef, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Diagram, Entity, Relationship};

/// One font size only: the drawing keeps its styles in a hash map, whose order would vary.
const FONT_SIZE: usize = 14;

pub fn render(diagram: &Diagram) -> String {
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let handles: Vec<_> = diagram.entities.iter().map(|e| graph.add_node(node(e))).collect();
    let handle =
        |table: &super::QualifiedName| diagram.entities.iter().position(|e| &e.table == table).map(|i| handles[i]);
    for r in &diagram.relationships {
        if let (Some(from), Some(to)) = (handle(&r.from), handle(&r.to)) {
            // From the referenced table, so that the layout puts it above.
            graph.add_edge(arrow(r), to, from);
        }
    }
    let mut svg = SVGWriter::new();
    if graph.num_nodes() > 0 {
        graph.do_it(false, false, false, &mut svg);
    }
    let mut text = svg.finalize();
    text.push('\n');
    text
}

fn look(line: &str) -> StyleAttr {
    StyleAttr::new(Color::fast(line), 1, Some(Color::fast("white")), 0, FONT_SIZE)
}

fn node(e: &Entity) -> Element {
    let (shape, look) = if e.reference {
        (ShapeKind::new_box(&e.label()), look("gray"))
    } else {
        let mut title = e.label();
        if let Some(key) = &e.partition_key {
            title = format!("{title} (partitioned by {key})");
        }
        let mut rows = vec![RecordDef::new_text(&title)];
        rows.extend(e.columns.iter().map(|c| {
            let mut text = format!("{}: {}", c.name, c.data_type);
            let mut marks = c.keys();
            if c.shows_not_null() {
                marks.push("NOT NULL");
            }
            if !marks.is_empty() {
                text = format!("{text}  {}", marks.join(", "));
            }
            RecordDef::new_text(&text)
        }));
        (ShapeKind::new_record(&RecordDef::Array(rows)), look("black"))
    };
    // Records stack their rows along the element's orientation's cross axis: top to bottom.
    let size = get_shape_size(Orientation::TopToBottom, &shape, FONT_SIZE, false);
    Element::create(shape, look, Orientation::TopToBottom, size)
}

/// Between the tables' borders (an arrow to a column's row would cross the rows above it).
fn arrow(r: &Relationship) -> Arrow {
    let style = if r.identifying { LineStyleKind::Normal } else { LineStyleKind::Dashed };
    Arrow::new(LineEndKind::Arrow, LineEndKind::None, style, &r.label(), &look("black"), &None, &None)
}
