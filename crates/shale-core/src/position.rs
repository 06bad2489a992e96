//! Byte offsets to `line:column`, and the server's character positions to byte offsets.

/// Line starts of a text, for turning byte offsets into 1-based line and column (in characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based (line, column); the column counts characters, as editors do.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let col = text[self.starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// Byte range of the 1-based line, without its newline.
    pub fn line_span(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map(|&s| s - 1).unwrap_or(text.len());
        let end = if end > start && text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        start..end
    }
}

/// Where the server's error `position` falls in a file, `query` being the text it received, which
/// starts at byte `query_start` of the file: the byte offset in the file (then
/// [`LineIndex::line_col`]). The executor (`up`, and the replays of `diff`) and the scripts `diff`
/// runs on a scratch database both map the server's positions through it.
pub fn server_position_offset(query: &str, query_start: usize, position: usize) -> usize {
    query_start + char_position_to_byte(query, position)
}

/// The server reports error positions as 1-based character counts into the query it received.
/// Returns the byte offset into `query`.
fn char_position_to_byte(query: &str, position: usize) -> usize {
    query.char_indices().nth(position.saturating_sub(1)).map(|(i, _)| i).unwrap_or(query.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "select 1;\nselect ‘x’ from t;\r\nbad";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(index.line_col(text, 10), (2, 1));
        let from = text.find("from").unwrap();
        assert_eq!(index.line_col(text, from), (2, 12));
        assert_eq!(index.line_col(text, text.len()), (3, 4));
        assert_eq!(&text[index.line_span(text, 2)], "select ‘x’ from t;");
    }

    #[test]
    fn server_positions_count_characters() {
        let query = "select ‘x’ frm t";
        let byte = char_position_to_byte(query, 12);
        assert_eq!(&query[byte..byte + 3], "frm");
        assert_eq!(char_position_to_byte(query, 1), 0);
    }

    #[test]
    fn server_positions_land_in_the_file_where_the_query_starts() {
        let file = "-- ‘up’\nselect 1;\nselect ‘x’ frm t;\n";
        let start = file.find("select ‘x’").unwrap();
        let query = "select ‘x’ frm t;";
        let at = server_position_offset(query, start, 12);
        assert_eq!(&file[at..at + 3], "frm");
        assert_eq!(LineIndex::new(file).line_col(file, at), (3, 12));
        assert_eq!(server_position_offset(file, 0, 1), 0);
        assert_eq!(server_position_offset(query, start, 1000), start + query.len());
    }
}
