//! A `-- down` line in a migration file with no sections (like the `-- up: NAME` header `shale new`
//! writes): no tool reads it, so the statements after it run as part of the up.

use pg_query::NodeEnum;

use super::{hit, Hit, Rule};
use crate::Context;

pub static RULE: Rule = rule!(
    "down-in-up",
    Error,
    Always,
    "a `-- down` line in a file with no sections is a comment: the statements after it run when the migration is applied, undoing what it just did",
    "put the down in a file of its own beside it (NAME.down.sql beside NAME.up.sql), or mark both sections as dbmate does (`-- migrate:up` and `-- migrate:down`)"
);

pub(super) fn check(_node: &NodeEnum, context: &Context, hits: &mut Vec<Hit>) {
    if context.after_down_header {
        hits.push(hit(&RULE, "this statement follows a `-- down` line, and runs as part of the up".into()));
    }
}

/// Whether `gap` (text between statements) has a line that reads as a down's header in shale's
/// own style: `-- down`, `-- down: NAME`. Above a file's first statement, where a file describes
/// itself (`-- Down: not reversible, restore from backup`, review), only a header naming one word.
pub(crate) fn has_down_header(gap: &str, above_the_first: bool) -> bool {
    gap.lines().any(|line| {
        let rest = line.trim().strip_prefix("--").map(str::trim_start).unwrap_or("").to_ascii_lowercase();
        rest == "down"
            || rest
                .strip_prefix("down:")
                .is_some_and(|name| !above_the_first || !name.trim().contains(char::is_whitespace))
    })
}

#[cfg(test)]
mod tests {
    use crate::tests::rules;

    #[test]
    fn a_down_header_in_a_plain_file_is_refused() {
        assert_eq!(
            rules("-- up: add_users\nCREATE TABLE users (id int);\n-- down: add_users\nDROP TABLE users;\n"),
            ["down-in-up"]
        );
        assert_eq!(rules("CREATE TABLE users (id int);\n-- down\nDROP TABLE users;\n"), ["down-in-up"]);
        // A note that merely starts with the word is a comment.
        assert!(rules("-- down payments get a column\nCREATE TABLE t (id int);\n").is_empty());
        // Above an up's first statement, it is one too (re-check).
        assert!(rules("-- down\nDROP INDEX users_name_idx;\n").contains(&"down-in-up"));
        assert!(rules("-- down: add_users\nDROP INDEX users_name_idx;\n").contains(&"down-in-up"));
        // A file describing itself above its first statement is not (review).
        let described =
            "-- Adds the audit index.\n-- Down: not reversible, restore from backup\nCREATE INDEX a ON t (x);\n";
        assert!(!rules(described).contains(&"down-in-up"), "{:?}", rules(described));
        // Between statements, any `-- down:` line is.
        assert_eq!(rules("CREATE TABLE t (id int);\n-- Down: drop it again\nDROP TABLE t;\n"), ["down-in-up"]);
    }
}
