//! `-- shale:...` comment directives, dbmate's `-- migrate:up transaction:false`, goose's
//! `-- +goose NO TRANSACTION`, sql-migrate's `-- +migrate Up notransaction`, tern's
//! `---- tern: disable-tx ----`, Atlas's `-- atlas:txmode none`, yoyo's `-- transactional: false`
//! header line and sqlx's `-- no-transaction` first line.

/// What a file asks of the runner through comment lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- shale:no-transaction`: run statement by statement outside a transaction.
    pub no_transaction: bool,
    /// Where the first line asking for that starts (its `--`), as a byte offset of the text: what
    /// the file says is named in the reason (`-- +goose NO TRANSACTION`, `-- migrate:up transaction:false`,
    /// `-- no-transaction`).
    pub no_transaction_at: Option<usize>,
    /// Lines asking one section of the file to run outside a transaction, by the byte offset of
    /// their `--`: dbmate's `-- migrate:down transaction:false` and sql-migrate's `-- +migrate Up
    /// notransaction` mark lines opening the section they ask it for, tern's `---- tern:
    /// disable-tx ----` stands inside its part (see [`Directives::no_transaction_line`]).
    pub section_no_transaction: Vec<usize>,
    /// `-- shale:out-of-order`: this file may be applied below the newest applied version.
    pub out_of_order: bool,
    /// `-- shale:lock-timeout=10s`: PostgreSQL `lock_timeout` while this file runs.
    pub lock_timeout: Option<String>,
    /// `-- shale:statement-timeout=5min`.
    pub statement_timeout: Option<String>,
    /// `-- shale:allow RULE -- reason`: kept for the linter.
    pub allow: Vec<String>,
    /// `-- shale:backfill batch=N pause=D`, at these byte offsets: the next statement (an UPDATE)
    /// runs in batches (see [`crate::backfill`]).
    pub backfills: Vec<(usize, crate::backfill::Backfill)>,
    /// `-- shale:squashed FIRST..LAST`: this file replaces migrations FIRST to LAST (its own
    /// version), written by `shale squash`; version texts as written.
    pub squashed: Option<(String, String)>,
    /// Atlas's `-- atlas:delimiter X` (escapes such as `\n` read): statements end at it, not at `;`.
    pub atlas_delimiter: Option<String>,
}

/// A directive that could not be understood, at a byte offset of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    pub offset: usize,
    pub message: String,
}

const KNOWN: &str = "no-transaction, out-of-order, lock-timeout=DURATION, statement-timeout=DURATION, allow RULE, backfill [batch=N] [pause=DURATION], squashed FIRST..LAST";

/// A file that asks nothing: what [`Directives::default`] gives, for a reference to it.
pub static NONE: Directives = Directives {
    no_transaction: false,
    no_transaction_at: None,
    section_no_transaction: Vec::new(),
    out_of_order: false,
    lock_timeout: None,
    statement_timeout: None,
    allow: Vec::new(),
    backfills: Vec::new(),
    squashed: None,
    atlas_delimiter: None,
};

/// What follows the dashes of a comment some tool gives meaning to: shale's directives, dbmate's
/// and goose's and sql-migrate's section markers and options, Atlas's, and tern's separator and
/// `tern: disable-tx`.
const TOOL_COMMENTS: [&str; 7] = ["shale:", "migrate:", "+goose", "+migrate", "atlas:", "tern:", "create above"];

/// Whether `text` may hold a comment some tool gives meaning to ([`TOOL_COMMENTS`]): one pass
/// over its `--`s, so that the many files holding none are not looked at again, line by line or
/// marker by marker, on every start.
pub fn has_tool_comments(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), b"--").any(|at| {
        let after = text[at..].trim_start_matches('-').trim_start();
        TOOL_COMMENTS.iter().any(|marker| after.starts_with(marker))
            || starts_node_pg_migrate_section(after)
            || starts_dbmate_word(after)
    })
}

/// Where the comments heading `text` end, when an empty line follows them: Atlas reads its
/// directives there alone (a comment above the first statement with no empty line after it is
/// that statement's, and says nothing to Atlas). 0 where there are none.
fn atlas_header_end(text: &str) -> usize {
    let mut offset = 0;
    let mut comments = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed.starts_with("--") || trimmed.starts_with('#') {
            comments = true;
        } else if trimmed.trim().is_empty() && comments {
            return offset;
        } else {
            return 0;
        }
        offset += line.len();
    }
    0
}

/// dbmate's `migrate:` written in another case or with a space before the colon: not a marker
/// dbmate reads, but one the layout must see to refuse it (the SQL under it would run as the up).
fn starts_dbmate_word(after: &str) -> bool {
    after.get(..7).is_some_and(|w| w.eq_ignore_ascii_case("migrate")) && after[7..].trim_start().starts_with(':')
}

/// node-pg-migrate's `Up Migration` / `Down Migration`, in any case (the layout reads the rest).
fn starts_node_pg_migrate_section(after: &str) -> bool {
    let starts = |word: &str| {
        after.get(..word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word))
            && after[word.len()..].starts_with(char::is_whitespace)
    };
    starts("up") || starts("down")
}

impl Directives {
    /// [`Directives::parse`] of the part `section` of `text`, its offsets those of `text`: the
    /// directives of one Liquibase changeset among the others of its file.
    pub fn parse_section(text: &str, section: std::ops::Range<usize>) -> Result<Directives, DirectiveError> {
        let shift = section.start;
        let mut found =
            Directives::parse(&text[section]).map_err(|e| DirectiveError { offset: e.offset + shift, ..e })?;
        found.no_transaction_at = found.no_transaction_at.map(|at| at + shift);
        found.section_no_transaction.iter_mut().for_each(|at| *at += shift);
        found.backfills.iter_mut().for_each(|(at, _)| *at += shift);
        Ok(found)
    }

    /// Read every line of `text` that is a `-- shale:` comment. Other comments are ignored.
    pub fn parse(text: &str) -> Result<Directives, DirectiveError> {
        let mut found = Directives::default();
        // sqlx: a file starting with `-- no-transaction` runs outside a transaction. sqlx looks at
        // the start of the file only (`starts_with`), so nothing else here counts.
        if text.starts_with("-- no-transaction") {
            found.no_transaction = true;
            found.no_transaction_at = Some(0);
        }
        // graphile-migrate: `--! no-transaction` among the `--!` lines heading the file.
        if text.starts_with("--!") {
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                let trimmed = line.trim();
                if trimmed == "--! no-transaction" {
                    found.no_transaction = true;
                    found.no_transaction_at = Some(offset);
                    break;
                }
                if !(trimmed.is_empty() || trimmed.starts_with("--!")) {
                    break;
                }
                offset += line.len();
            }
        }
        // yoyo: `-- transactional: false` among the `-- key: value` lines heading the file (yoyo
        // trial: a file adding an enum value and using it failed in shale's transaction).
        if text.starts_with("--") {
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                let trimmed = line.trim();
                if !trimmed.starts_with("--") {
                    break;
                }
                let header = trimmed.trim_start_matches('-').trim();
                if let Some(value) = header.strip_prefix("transactional:") {
                    if value.trim().eq_ignore_ascii_case("false") {
                        found.no_transaction = true;
                        found.no_transaction_at = Some(offset);
                    }
                    break;
                }
                offset += line.len();
            }
        }
        // A file without such comments (most) needs no walk over its lines.
        if !has_tool_comments(text) {
            return Ok(found);
        }
        let atlas_header = atlas_header_end(text);
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let trimmed = line.trim();
            let Some(rest) = trimmed.strip_prefix("--") else {
                continue;
            };
            let rest = rest.trim_start();
            let comment_at = start + (line.len() - line.trim_start().len());
            // tern: `---- tern: disable-tx ----`, the whole line, as tern matches it.
            if trimmed == "---- tern: disable-tx ----" {
                found.section_no_transaction.push(comment_at);
            }
            let at = comment_at + (trimmed.len() - rest.len());
            if let Some(body) = rest.strip_prefix("shale:") {
                found.apply(body.trim(), at)?;
            } else if let Some(options) = rest.strip_prefix("migrate:") {
                // dbmate: `-- migrate:up transaction:false`, for that section.
                if options.split_whitespace().any(|o| o == "transaction:false") {
                    found.section_no_transaction.push(comment_at);
                }
            } else if let Some(directive) = rest.strip_prefix("atlas:delimiter") {
                // Atlas reads its delimiter on the file's first line alone.
                if start == 0 {
                    found.apply_atlas(&format!("delimiter{directive}"), at)?;
                }
            } else if let Some(directive) = rest.strip_prefix("atlas:").filter(|_| start < atlas_header) {
                found.apply_atlas(directive, at)?;
            } else if let Some(annotation) = rest.strip_prefix("+goose") {
                // goose: `-- +goose NO TRANSACTION`; what goose would refuse, or would do and shale
                // does not, is refused here too, with its line: as a comment it would change what
                // runs without a word (a misspelt `Down` runs the down as part of the up).
                match annotation.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase().as_str() {
                    "no transaction" => found.no_transaction = true,
                    // (ENVSUB's variables are put in as the file is read: [`crate::envsub`].)
                    "up" | "down" | "statementbegin" | "statementend" | "envsub on" | "envsub off" => {}
                    _ => {
                        return Err(DirectiveError {
                            offset: at,
                            message: format!(
                                "`{}` is not an annotation goose knows (Up, Down, StatementBegin, StatementEnd, NO \
                                 TRANSACTION): goose refuses the file, and as a comment it would change what runs",
                                trimmed
                            ),
                        })
                    }
                }
            } else if let Some(command) = rest.strip_prefix("+migrate") {
                // sql-migrate: `-- +migrate Up notransaction`, for that section.
                if command.split_whitespace().skip(1).any(|o| o == "notransaction") {
                    found.section_no_transaction.push(comment_at);
                }
            }
            if found.no_transaction && found.no_transaction_at.is_none() {
                found.no_transaction_at = Some(comment_at);
            }
        }
        Ok(found)
    }

    /// Atlas's directive `directive` (after `atlas:`), at byte `at`: `txmode none` (its other modes,
    /// `file` and `all`, run in one), `delimiter X`; others (`sum`, `nolint`, ...) say nothing
    /// about how the file runs.
    fn apply_atlas(&mut self, directive: &str, at: usize) -> Result<(), DirectiveError> {
        let (name, value) = directive.split_once(char::is_whitespace).unwrap_or((directive, ""));
        match name {
            "txmode" => match value.trim().to_ascii_lowercase().as_str() {
                "none" => self.no_transaction = true,
                "file" | "all" => {}
                other => {
                    return Err(DirectiveError {
                        offset: at,
                        message: format!(
                            "`atlas:txmode {other}` is not a mode Atlas knows (none, file, all): Atlas refuses the file"
                        ),
                    })
                }
            },
            "delimiter" => {
                let delimiter = value.trim().replace("\\n", "\n").replace("\\t", "\t");
                if delimiter.is_empty() {
                    return Err(DirectiveError {
                        offset: at,
                        message: "`atlas:delimiter` names no delimiter: write the one that ends each statement \
                                  (`-- atlas:delimiter \\n\\n` for statements parted by a blank line)"
                            .into(),
                    });
                }
                self.atlas_delimiter = Some(delimiter);
            }
            _ => {}
        }
        Ok(())
    }

    /// Where the line asking `section` of `text` to run outside a transaction starts: a line for
    /// the whole file, else one opening that section (it ends where the section begins) or
    /// standing inside it. `Some(None)`: asked with no line to name.
    pub fn no_transaction_line(&self, text: &str, section: &std::ops::Range<usize>) -> Option<Option<usize>> {
        if self.no_transaction {
            return Some(self.no_transaction_at);
        }
        let opens_or_inside = |at: &usize| {
            let line_end = text[*at..].find('\n').map_or(text.len(), |i| at + i + 1);
            section.contains(at) || line_end == section.start
        };
        self.section_no_transaction.iter().copied().find(opens_or_inside).map(Some)
    }

    fn apply(&mut self, body: &str, offset: usize) -> Result<(), DirectiveError> {
        if let Some(options) =
            body.strip_prefix("backfill").filter(|o| o.is_empty() || o.starts_with(char::is_whitespace))
        {
            let backfill =
                crate::backfill::Backfill::parse(options).map_err(|message| DirectiveError { offset, message })?;
            self.backfills.push((offset, backfill));
            return Ok(());
        }
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (body.split_whitespace().next().unwrap_or(""), None),
        };
        let error = |message: String| Err(DirectiveError { offset, message });
        match (key, value) {
            ("no-transaction", None) => self.no_transaction = true,
            ("out-of-order", None) => self.out_of_order = true,
            ("lock-timeout", Some(v)) => self.lock_timeout = Some(check_duration(v, offset)?),
            ("statement-timeout", Some(v)) => self.statement_timeout = Some(check_duration(v, offset)?),
            ("squashed", None) => {
                let range = body["squashed".len()..].trim();
                match range.split_once("..") {
                    Some((first, last)) if !first.trim().is_empty() && !last.trim().is_empty() => {
                        self.squashed = Some((first.trim().to_string(), last.trim().to_string()))
                    }
                    _ => {
                        return error(format!(
                            "`shale:squashed {range}` needs the versions it replaces: `-- shale:squashed 0001..0010`"
                        ))
                    }
                }
            }
            ("allow", None) => {
                let (rule, reason) = body["allow".len()..].split_once("--").unwrap_or((&body["allow".len()..], ""));
                let rule = rule.trim();
                if rule.is_empty() {
                    return error("`shale:allow` needs a rule id, e.g. `-- shale:allow rule-id -- reason`".into());
                }
                // Allowing a dangerous change is a decision: it must say why.
                if reason.trim().is_empty() {
                    return error(format!(
                        "`shale:allow {rule}` needs a reason: `-- shale:allow {rule} -- why this is safe here`"
                    ));
                }
                self.allow.push(rule.to_string());
            }
            _ => return error(format!("unknown directive `shale:{body}`; known directives: {KNOWN}")),
        }
        Ok(())
    }
}

/// A PostgreSQL duration setting: a number with an optional unit (ms, s, min, h, d), or 0 for off.
/// A PostgreSQL duration setting as shale accepts it everywhere (flags, shale.toml, directives):
/// the value to send, or a message saying what was expected.
pub fn pg_duration(value: &str) -> Result<String, String> {
    check_duration(value, 0).map_err(|e| e.message)
}

fn check_duration(value: &str, offset: usize) -> Result<String, DirectiveError> {
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && ["", "ms", "s", "min", "h", "d"].contains(&unit)
    {
        Ok(value.to_string())
    } else {
        Err(DirectiveError {
            offset,
            message: format!("`{value}` is not a duration: expected e.g. 500ms, 10s, 2min, 1h or 0 (off)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directives() {
        let d = Directives::parse(
            "-- shale:no-transaction\n--shale:lock-timeout=10s\n  -- shale:out-of-order\nselect 1; -- shale:statement-timeout=1min\n",
        )
        .unwrap();
        assert!(d.no_transaction && d.out_of_order);
        assert_eq!(d.lock_timeout.as_deref(), Some("10s"));
        // Only whole comment lines are directives.
        assert_eq!(d.statement_timeout, None);
    }

    #[test]
    fn allow_needs_a_rule_and_a_reason() {
        let d = Directives::parse("-- shale:allow destructive -- the table moved to the archive\n").unwrap();
        assert_eq!(d.allow, ["destructive"]);
        let e = Directives::parse("-- shale:allow destructive\n").unwrap_err();
        assert!(e.message.contains("needs a reason"), "{}", e.message);
        assert!(Directives::parse("-- shale:allow -- because\n").is_err());
    }

    #[test]
    fn backfill_takes_its_options() {
        let text = "-- shale:backfill\nupdate t set a = 1;\n-- shale:backfill batch=10 pause=1s\nupdate t set b = 2;\n";
        let d = Directives::parse(text).unwrap();
        assert_eq!(d.backfills.len(), 2);
        assert_eq!(d.backfills[0].1, crate::backfill::Backfill::default());
        assert_eq!(d.backfills[1].1.batch, 10);
        assert_eq!(&text[d.backfills[1].0..d.backfills[1].0 + 14], "shale:backfill");
        let e = Directives::parse("-- shale:backfill batch=lots\n").unwrap_err();
        assert!(e.message.contains("batch=lots"), "{}", e.message);
        assert!(Directives::parse("-- shale:backfilled\n").is_err());
    }

    /// dbmate's `transaction:false` is for the section its marker line opens; so are sql-migrate's
    /// `notransaction` and tern's `disable-tx` line, inside its part.
    #[test]
    fn a_section_s_own_no_transaction_is_that_section_s() {
        let text = "-- migrate:up transaction:false\ncreate index concurrently i on t(c);\n";
        let d = Directives::parse(text).unwrap();
        assert!(!d.no_transaction, "not the whole file's");
        assert_eq!(d.section_no_transaction, [0]);
        assert_eq!(d.no_transaction_line(text, &(32..text.len())), Some(Some(0)));
        let text =
            "-- +migrate Up\ncreate table t (id int);\n-- +migrate Down notransaction\ndrop index concurrently i;\n";
        let d = Directives::parse(text).unwrap();
        let down_line = text.find("-- +migrate Down").unwrap();
        let down = text.find("drop").unwrap()..text.len();
        assert_eq!(d.no_transaction_line(text, &(15..down_line)), None, "the up keeps its transaction");
        assert_eq!(d.no_transaction_line(text, &down), Some(Some(down_line)));
        let text = "create index concurrently i on t(c);\n---- tern: disable-tx ----\n";
        let d = Directives::parse(text).unwrap();
        assert_eq!(d.no_transaction_line(text, &(0..text.len())), Some(Some(37)));
        assert!(
            Directives::parse("-- tern: disable-tx\n").unwrap().section_no_transaction.is_empty(),
            "tern's whole line only"
        );
    }

    #[test]
    fn yoyo_transactional_false_in_the_header() {
        let d = Directives::parse(
            "-- add a mood\n-- depends: 0001.init\n-- transactional: false\nALTER TYPE mood ADD VALUE 'happy';\n",
        )
        .unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.no_transaction_at, Some(36));
        assert!(!Directives::parse("-- transactional: true\nselect 1;\n").unwrap().no_transaction);
        // Below the header: a statement's comment, as yoyo reads it.
        assert!(!Directives::parse("select 1;\n-- transactional: false\n").unwrap().no_transaction);
    }

    #[test]
    fn sqlx_no_transaction_first_line() {
        let d = Directives::parse("-- no-transaction\nALTER TYPE mood ADD VALUE 'happy';\n").unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.no_transaction_at, Some(0));
        // sqlx reads the first line only.
        assert!(!Directives::parse("select 1;\n-- no-transaction\n").unwrap().no_transaction);
        assert!(!Directives::parse(" -- no-transaction\n").unwrap().no_transaction);
        let atlas = Directives::parse("-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (c);\n").unwrap();
        assert!(atlas.no_transaction && atlas.no_transaction_at == Some(0));
        assert!(!Directives::parse("-- atlas:txmode file\nselect 1;\n").unwrap().no_transaction);
        // Atlas reads its directives in the comments heading the file, an empty line after them:
        // elsewhere they are a statement's comments, and say nothing (Atlas trial).
        assert!(
            !Directives::parse("-- atlas:txmode none\nCREATE INDEX CONCURRENTLY i ON t (c);\n").unwrap().no_transaction
        );
        assert!(!Directives::parse("select 1;\n-- atlas:txmode none\n\nselect 2;\n").unwrap().no_transaction);
        let unknown = Directives::parse("-- atlas:txmode nope\n\nselect 1;\n").unwrap_err();
        assert!(unknown.message.contains("(none, file, all)") && unknown.offset == 3, "{unknown:?}");
        let delimited = Directives::parse("-- atlas:delimiter \\n\\n\n\nselect 1\n\nselect 2\n").unwrap();
        assert_eq!(delimited.atlas_delimiter.as_deref(), Some("\n\n"));
        let go = Directives::parse("-- atlas:delimiter GO\nselect 1\nGO\n").unwrap();
        assert_eq!(go.atlas_delimiter.as_deref(), Some("GO"));
        // Atlas reads the delimiter on the first line alone.
        let second = Directives::parse("-- up: x\n-- atlas:delimiter GO\n\nselect 1\nGO\n").unwrap();
        assert_eq!(second.atlas_delimiter, None);
    }

    #[test]
    fn the_line_asking_for_no_transaction_is_kept() {
        let text = "select 1;\n  -- +goose NO TRANSACTION\n-- shale:no-transaction\n";
        let d = Directives::parse(text).unwrap();
        assert_eq!(&text[d.no_transaction_at.unwrap()..], "-- +goose NO TRANSACTION\n-- shale:no-transaction\n");
        assert_eq!(Directives::parse("-- +goose Up\nselect 1;\n").unwrap().no_transaction_at, None);
        // graphile-migrate's, among the `--!` lines heading a committed file.
        let text =
            "--! Previous: sha1:aa\n--! Hash: sha1:bb\n\n--! no-transaction\ncreate index concurrently i on t (id);\n";
        let d = Directives::parse(text).unwrap();
        assert!(d.no_transaction);
        assert_eq!(&text[d.no_transaction_at.unwrap()..d.no_transaction_at.unwrap() + 18], "--! no-transaction");
        assert!(!Directives::parse("--! Hash: x\nselect 1;\n--! no-transaction\n").unwrap().no_transaction);
    }

    #[test]
    fn unknown_directive_names_its_offset() {
        let text = "select 1;\n-- shale:no-transacton\n";
        let e = Directives::parse(text).unwrap_err();
        assert_eq!(&text[e.offset..e.offset + 6], "shale:");
        assert!(e.message.contains("no-transacton"), "{}", e.message);
        let e = Directives::parse("-- shale:lock-timeout=soon\n").unwrap_err();
        assert!(e.message.contains("not a duration"));
    }
}
