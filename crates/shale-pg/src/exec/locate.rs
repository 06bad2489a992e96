//! Where in the files a failure is: the server's error position (or a DO block's line, a COPY
//! row) mapped to the step and the byte offset in its script that messages name as file:line:col.

use super::*;

/// Map the server's error position to (step, byte offset in its script), given the pieces of the
/// batch that failed (joined with JOINER; positions count characters from 1) and how many of its
/// statements completed before the failure.
pub(super) fn locate(steps: &[Step], batch: &[Piece<'_>], db: &DbError, completed: usize) -> Option<(usize, usize)> {
    match db.position()? {
        ErrorPosition::Original(pos) => {
            let pos = *pos as usize;
            let mut start = 1;
            for piece in batch {
                let len = piece.text.chars().count();
                if (start..start + len).contains(&pos) {
                    let (i, offset) = piece.origin?;
                    return Some((i, server_position_offset(&piece.text, offset, pos - start + 1)));
                }
                start += len + JOINER.len();
            }
            None
        }
        ErrorPosition::Internal { position, query } => {
            // Inside a function body (a DO block's): the body is text of the file. Looked for
            // from the statement that failed on (the same query may be written earlier, in the
            // up section of a file whose down failed, or in an identical block before), then in
            // what was sent, then anywhere in the scripts (a function an earlier file made).
            let from_failed = locate_by_count(batch, completed).and_then(|(i, start)| {
                let at = start + steps[i].script.text.get(start..)?.find(query.as_str())?;
                Some((i, at))
            });
            let in_sent = || {
                batch.iter().find_map(|piece| {
                    let (i, offset) = piece.origin?;
                    Some((i, offset + piece.text.find(query.as_str())?))
                })
            };
            let anywhere =
                || steps.iter().enumerate().find_map(|(i, step)| Some((i, step.script.text.find(query.as_str())?)));
            let (i, at) = from_failed.or_else(in_sent).or_else(anywhere)?;
            Some((i, server_position_offset(query, at, *position as usize)))
        }
    }
}

/// The statement after the first `completed` ones of `batch`, counted as the server counts them
/// (one CommandComplete each; empty statements are none).
pub(super) fn locate_by_count(batch: &[Piece<'_>], mut completed: usize) -> Option<(usize, usize)> {
    for piece in batch {
        if piece.copy_data.is_some() {
            // A COPY is sent on its own: it is the culprit.
            return piece.origin;
        }
        let statements = shale_core::split::split(&piece.text).ok()?;
        match statements.get(completed) {
            Some(statement) => return piece.origin.map(|(i, offset)| (i, offset + statement.span.start)),
            None => completed -= statements.len(),
        }
    }
    None
}

pub(super) fn failure_from(db: &DbError, step: &Step, offset: Option<usize>) -> DbFailure {
    let script = &*step.script;
    let failed = offset.and_then(|o| script.statements.iter().find(|s| s.span.start <= o && o <= s.span.end));
    // A row of inline COPY data that does not load: the row itself, where the server counts it.
    let row = failed.zip(db.where_()).and_then(|(s, context)| copy_row_offset(&script.text, s, context));
    // A statement of a DO block that fails: its line in the block, where PL/pgSQL counts it.
    let in_block = failed.zip(db.where_()).and_then(|(s, context)| do_block_line_offset(&script.text, s, context));
    let location = row.or(in_block).or(offset).map(|offset| {
        let index = LineIndex::new(&script.text);
        let (line, column) = index.line_col(&script.text, offset);
        SourceLocation {
            path: script.path.clone(),
            line,
            column,
            line_text: script.text[index.line_span(&script.text, line)].to_string(),
        }
    });
    let statement = failed.map(|s| script.text[s.span.clone()].to_string());
    let code = db.code().code();
    DbFailure {
        sqlstate: code.to_string(),
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        hint: db.hint().map(str::to_string),
        context: db.where_().map(str::to_string),
        statement,
        location,
        remedy: remedy(code, db.message()),
        rolled_back: script.no_transaction.is_none(),
        reverting: step.direction == StepDirection::Down,
        rolled_back_with: Vec::new(),
        part_way: None,
    }
}

/// Where line N of a DO block's body starts in `text` (at its first word), when `statement` is the
/// DO block and the server's context ends with `PL/pgSQL function inline_code_block line N at
/// ...` (its outermost frame; PL/pgSQL counts the body's lines from 1, the line of the opening
/// `$$` being line 1).
fn do_block_line_offset(text: &str, statement: &shale_core::split::Statement, context: &str) -> Option<usize> {
    let span = statement.span.clone();
    let sql = &text[span.clone()];
    if !sql.trim_start().get(..2).is_some_and(|w| w.eq_ignore_ascii_case("do")) {
        return None;
    }
    let frame = context.lines().rev().find(|l| l.starts_with("PL/pgSQL function inline_code_block line "))?;
    let after = &frame["PL/pgSQL function inline_code_block line ".len()..];
    let line: usize = after[..after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())].parse().ok()?;
    // The body opens after the first dollar quote (`$$` or `$tag$`).
    let open = sql.find('$')?;
    let close = open + 1 + sql[open + 1..].find('$')?;
    if !sql[open + 1..close].chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let body = close + 1;
    let mut start = body;
    for _ in 1..line {
        start += sql[start..].find('\n')? + 1;
    }
    let indent = sql[start..].len() - sql[start..].trim_start_matches([' ', '\t']).len();
    (start + indent < sql.len()).then_some(span.start + start + indent)
}

/// Where row N of `statement`'s inline data starts in `text`, when the server's context for the
/// error is `COPY table, line N[, column ...]` (PostgreSQL counts the data's lines from 1).
fn copy_row_offset(text: &str, statement: &shale_core::split::Statement, context: &str) -> Option<usize> {
    let data = statement.copy_data.clone()?;
    let rest = context.strip_prefix("COPY ")?;
    let after = &rest[rest.find(", line ")? + ", line ".len()..];
    let row: usize = after[..after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())].parse().ok()?;
    let skipped = text[data.clone()].split_inclusive('\n').take(row.checked_sub(1)?).map(str::len).sum::<usize>();
    (skipped < data.len()).then_some(data.start + skipped)
}

#[cfg(test)]
mod tests {
    use super::copy_row_offset;

    #[test]
    fn a_copy_row_the_server_names_is_found_in_the_file() {
        let text = "CREATE TABLE c (id int);\nCOPY c FROM stdin;\n1\nnot a number\n\\.\n";
        let statements = shale_core::split::split(text).unwrap();
        let copy = &statements[1];
        let at = |context: &str| copy_row_offset(text, copy, context).map(|o| &text[o..o + 3]);
        assert_eq!(at("COPY c, line 2, column id: \"not a number\""), Some("not"));
        assert_eq!(at("COPY c, line 1"), Some("1\nn"));
        // Past the data, or not the server's COPY context: no row to point at.
        assert_eq!(at("COPY c, line 9"), None);
        assert_eq!(at("SQL function \"f\" statement 1"), None);
        assert_eq!(copy_row_offset(text, &statements[0], "COPY c, line 1"), None);
    }
}
