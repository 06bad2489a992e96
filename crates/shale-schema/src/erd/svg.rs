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
    // The drawing sizes its canvas by generous text estimates, leaving a band of empty space
    // below the tables: the canvas ends a margin below the lowest table instead.
    let bottom = graph.iter_nodes().map(|n| graph.pos(n).bbox(false).1.y).fold(0.0_f64, f64::max);
    let mut text = trim_height(&svg.finalize(), bottom + 20.0);
    text.push('\n');
    text
}

/// `svg` with its height (and its viewBox's) lowered to `height` where that is less.
fn trim_height(svg: &str, height: f64) -> String {
    let Some(end) = svg.find("xmlns=") else { return svg.to_string() };
    let head = &svg[..end];
    let number = |after: &str| -> Option<(usize, usize, f64)> {
        let start = head.find(after)? + after.len();
        let len = head[start..].find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        Some((start, start + len, head[start..start + len].parse().ok()?))
    };
    let (Some((h_start, h_end, old)), Some(view)) = (number("height=\""), head.find("viewBox=\"0 0 ")) else {
        return svg.to_string();
    };
    if height <= 0.0 || height >= old {
        return svg.to_string();
    }
    let new = format!("{height:.0}");
    let old_text = &head[h_start..h_end];
    let view_box = &head[view..];
    let trimmed_view = view_box.replacen(&format!(" {old_text}\""), &format!(" {new}\""), 1);
    format!("{}{new}{}{trimmed_view}{}", &head[..h_start], &head[h_end..view], &svg[end..])
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

#[cfg(test)]
mod tests {
    use super::trim_height;

    #[test]
    fn the_canvas_ends_below_the_lowest_table() {
        let svg = r#"<?xml version="1.0"?><svg width="300" height="932.375" viewBox="0 0 300 932.375" xmlns="x"><rect/></svg>"#;
        assert_eq!(
            trim_height(svg, 500.4),
            r#"<?xml version="1.0"?><svg width="300" height="500" viewBox="0 0 300 500" xmlns="x"><rect/></svg>"#
        );
        // Never taller than drawn, and left alone when it cannot be read.
        assert_eq!(trim_height(svg, 2000.0), svg);
        assert_eq!(trim_height("<svg>", 10.0), "<svg>");
    }
}
