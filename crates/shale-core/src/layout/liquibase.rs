//! Liquibase's formatted SQL changelogs: files opening with `--liquibase formatted sql`, each a
//! run of changesets, each opened by `--changeset AUTHOR:ID` and followed by its SQL and its
//! `--rollback` lines. A folder of them runs as Liquibase's `includeAll` runs it: the files in
//! name order, the changesets in each file's order. A changeset is the migration numbered by its
//! place in that order, named `AUTHOR:ID`.
//!
//! What a changeset says on its `--changeset` line is honoured as Liquibase honours it
//! (`runInTransaction`, `runOnChange`, `runAlways`, `dbms`, `ignore`, `endDelimiter`), its
//! `${name}` parameters filled as Liquibase fills them, and what shale does not do (preconditions,
//! properties files) is refused at its line: a changeset is never run differently without saying so. Its checksum is of its SQL alone, as Liquibase's is: its
//! `--changeset`, `--comment` and rollback lines may change.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{script_reading, Ignored, LoadError, Migration, MigrationKind, Reading, Rerun, Script, Splitting};
use crate::placeholders::Placeholders;
use crate::position::LineIndex;

mod filter;
mod master;
use crate::checksum::Checksum;
use crate::layout::Layout;
use crate::version::Version;
pub use filter::{BadExpression, LiquibaseSelection};
pub(super) use master::Master;
use master::{Item, MasterChangeset, Sql};

/// Whether `bytes` is a Liquibase formatted SQL changelog: its first line says so, as Liquibase
/// reads it (`--liquibase formatted sql`, in any case, spaces allowed after the dashes).
pub fn is_liquibase_changelog(text: &str) -> bool {
    is_changelog(text.as_bytes())
}

/// [`is_liquibase_changelog`] of a file's bytes.
pub(crate) fn is_changelog(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Blank lines above it are passed over, as Liquibase passes them.
    let first = bytes.split(|b| *b == b'\n').find(|line| !line.trim_ascii().is_empty()).unwrap_or_default();
    let Some(rest) = first.trim_ascii_start().strip_prefix(b"--") else { return false };
    let rest = rest.trim_ascii_start();
    rest.get(..19).is_some_and(|words| words.eq_ignore_ascii_case(b"liquibase formatted"))
}

/// The name of a new changelog that sorts after `last` (the changelog run last, relative), as
/// `shale new` writes it, in its folder: the next number, written as `last` writes its own
/// (`004-add-phone.sql` after `003_users.sql`), or `today` (`2026-12-05`) where `last` starts with a
/// date; nothing when `last` starts with neither, or the name would not sort after it.
pub fn next_file_name(last: &str, slug: &str, today: &str) -> Option<String> {
    let (folder, file) = last.rsplit_once('/').map_or(("", last), |(f, n)| (f, n));
    let digits = file.bytes().take_while(u8::is_ascii_digit).count();
    let dated = digits == 4
        && file.get(4..5) == Some("-")
        && file.get(5..7).is_some_and(|m| m.bytes().all(|b| b.is_ascii_digit()));
    let name = match dated {
        true => {
            let separator = file.get(10..11).filter(|s| *s == "_" || *s == "-").unwrap_or("_");
            format!("{today}{separator}{slug}.sql")
        }
        false => {
            let number: u128 = file[..digits].parse().ok()?;
            let separator = match file.as_bytes().get(digits) {
                Some(b'-') => "-",
                _ => "_",
            };
            format!("{:0digits$}{separator}{slug}.sql", number + 1)
        }
    };
    let joined = if folder.is_empty() { name } else { format!("{folder}/{name}") };
    (joined.as_str() > last).then_some(joined)
}

/// The master changelog `text` (XML or YAML, by `master`'s name) with an include of `file`
/// (relative to the master's folder) added at its end, as a changelog of the folder is added.
pub fn with_include(master: &Path, text: &str, file: &str) -> Option<String> {
    let yaml = master.extension().is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
        // Indented as its other entries are.
        let indent =
            text.lines().find_map(|l| l.trim_start().starts_with("- ").then(|| l.len() - l.trim_start().len()))?;
        let pad = " ".repeat(indent);
        let separator = if text.ends_with('\n') { "" } else { "\n" };
        return Some(format!(
            "{text}{separator}{pad}- include:\n{pad}    file: {file}\n{pad}    relativeToChangelogFile: true\n"
        ));
    }
    let close = text.rfind("</databaseChangeLog>")?;
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[..close]
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('<'))
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .unwrap_or("    ");
    let entry = format!("{indent}<include file=\"{file}\" relativeToChangelogFile=\"true\"/>\n");
    Some(format!("{}{entry}{}", &text[..line_start], &text[line_start..]))
}

/// A new changelog holding one changeset, with `down` (if any) as its `--rollback` lines.
pub fn new_changelog(author: &str, id: &str, title: &str, up: &str, down: Option<&str>) -> String {
    let mut text = format!("--liquibase formatted sql\n\n--changeset {author}:{id}\n-- {title}\n\n{up}\n");
    match down {
        Some(down) if !down.trim().is_empty() => {
            for line in down.trim_end().lines() {
                text.push_str(&format!("--rollback {line}\n"));
            }
        }
        // An empty rollback section says the changeset needs none.
        Some(_) => text.push_str("--rollback not required\n"),
        None => {}
    }
    text
}

/// One changeset of a changelog.
#[derive(Debug, PartialEq, Eq)]
struct Changeset {
    author: String,
    id: String,
    /// From its `--changeset` line to the next one (or the end of the file).
    section: Range<usize>,
    /// Where its rollback SQL is: a `--rollback` line's SQL each; `Some` of nothing for
    /// `--rollback not required` (or `empty`), `None` when it gives no rollback.
    rollback: Option<Vec<Range<usize>>>,
    /// Its lines that are Liquibase's, not SQL (its `--changeset`, `--comment` and rollback lines),
    /// left out of its checksum.
    metadata: Vec<Range<usize>>,
    attributes: Attributes,
    /// Its lines shale would run otherwise than Liquibase: errors if it is selected to run.
    refusals: Vec<LoadError>,
}

/// What a `--changeset` line (or a master's `changeSet`) asks.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Attributes {
    /// `runInTransaction:false`, with its line.
    pub no_transaction: Option<String>,
    /// `runOnChange:true` (run again whenever it changes), `runAlways:true` (at every update).
    pub rerun: Rerun,
    /// Why it is not run on PostgreSQL (`dbms` naming other databases, `ignore:true`).
    pub skipped: Option<String>,
    /// `logicalFilePath`: the file Liquibase records it under.
    pub logical_file: Option<String>,
    /// `endDelimiter`: a line that ends a statement besides `;` (`/`, `--//`, `GO`).
    pub end_delimiter: Option<String>,
    /// Its `context` and `labels`, and those of the includes that bring it in.
    pub selectors: Selectors,
    /// `stripComments:false`: its comments run with its SQL (Liquibase strips them by default).
    pub keep_comments: bool,
}

/// The `context` expressions and `labels` lists of a changeset and of the includes that bring it
/// in: a run's contexts must satisfy each expression, and its label filter each list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Selectors {
    pub contexts: Vec<String>,
    pub labels: Vec<String>,
    /// Its own context was given as `contextFilter`, which Liquibase reads before `context`.
    filtered: bool,
}

impl Selectors {
    /// These and the `inherited` ones.
    pub(super) fn with(&self, inherited: &Selectors) -> Selectors {
        let join = |own: &[String], more: &[String]| own.iter().chain(more).cloned().collect();
        Selectors {
            contexts: join(&self.contexts, &inherited.contexts),
            labels: join(&self.labels, &inherited.labels),
            filtered: false,
        }
    }

    /// `key` (`context`, `contextFilter`, `labels`, any case) set to `value`, on a changeset, an
    /// include or a changelog of its own: false for another key. Where both are given, Liquibase
    /// reads `contextFilter` and not `context`.
    pub(super) fn set(&mut self, key: &str, value: &str) -> bool {
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "contextfilter" => {
                self.contexts = Vec::from_iter((!value.is_empty()).then(|| value.to_string()));
                self.filtered = true;
            }
            "context" if !self.filtered => {
                self.contexts = Vec::from_iter((!value.is_empty()).then(|| value.to_string()))
            }
            "context" => {}
            "labels" => self.labels = Vec::from_iter((!value.is_empty()).then(|| value.to_string())),
            _ => return false,
        }
        true
    }
}

/// How a folder's changesets are read, and what reading them gathers besides their migrations.
pub(super) struct Gathering<'a> {
    pub splitting: Splitting,
    pub selection: &'a LiquibaseSelection,
    pub ignored: &'a mut Vec<Ignored>,
    /// The numbers of the changesets the selection leaves out.
    pub left_out: &'a mut Vec<Version>,
    /// Their migrations, where they read: what `adopt` matches a row Liquibase wrote for one to.
    pub left_out_changesets: &'a mut Vec<Migration>,
    /// Some changeset has a context or labels (its own, or its includes').
    pub selectors_used: bool,
    /// The names the changesets' context expressions use.
    pub context_names: std::collections::BTreeSet<String>,
    /// The numbers of the changesets with a context or labels.
    pub selected: Vec<Version>,
    /// The parameters the SQL that runs uses, with the values it was filled with.
    pub parameters: Vec<(String, String)>,
}

impl Gathering<'_> {
    /// Why the run leaves out the changeset numbered `place`, of these selectors, if it does.
    fn leaves_out(&mut self, selectors: &Selectors, place: usize) -> Result<Option<String>, BadExpression> {
        if !selectors.contexts.is_empty() || !selectors.labels.is_empty() {
            self.selectors_used = true;
            self.selected.extend(Version::parse(&place.to_string()));
        }
        self.context_names.extend(selectors.contexts.iter().flat_map(|e| filter::names(e)));
        self.selection.leaves_out(&selectors.contexts, &selectors.labels)
    }

    /// A changeset `name` (of `path`, at `line`) the run leaves out, for `reason`, with its
    /// migration where it reads (numbered then): it keeps its number, so that the numbers of
    /// those after it do not change with the contexts given, and is named among the ignored.
    fn leave_out(
        &mut self,
        migration: Option<Migration>,
        place: &mut usize,
        (name, path, line): (&str, &Path, usize),
        reason: &str,
    ) {
        if migration.is_none() {
            *place += 1;
        }
        self.left_out.extend(Version::parse(&place.to_string()));
        self.left_out_changesets.extend(migration);
        self.ignored.push(Ignored { path: path.to_path_buf(), reason: format!("{name} (line {line}) {reason}") });
    }
}

impl Attributes {
    /// How its SQL is read: its own directives, its statements ended by its delimiter too.
    fn reading(&self) -> Reading {
        Reading {
            section_directives: true,
            end_delimiter: self.end_delimiter.clone(),
            // (Where it runs outside a transaction, its own BEGIN and COMMIT stay: see `split`.)
            in_own_transaction: true,
        }
    }

    /// `key` (any case) set to `value`, as a `--changeset` line writes `key:value` and a master
    /// `key="value"`. `line` names where, for the reason a changeset runs outside a transaction.
    pub(super) fn set(&mut self, key: &str, value: &str, line: usize) {
        if self.selectors.set(key, value) {
            return;
        }
        let yes = value.eq_ignore_ascii_case("true");
        let no = value.eq_ignore_ascii_case("false");
        match key.to_ascii_lowercase().as_str() {
            "runintransaction" if no => self.no_transaction = Some(format!("`runInTransaction` false (line {line})")),
            "runonchange" if yes && self.rerun == Rerun::Never => self.rerun = Rerun::WhenChanged,
            "runalways" if yes => self.rerun = Rerun::Always,
            "ignore" if yes => self.skipped = Some("says ignore".into()),
            "dbms" if !for_postgresql(value) => self.skipped = Some(format!("is for other databases (dbms {value})")),
            "logicalfilepath" if !value.is_empty() => self.logical_file = Some(value.to_string()),
            "enddelimiter" if value != ";" && !value.is_empty() => self.end_delimiter = Some(value.to_string()),
            "stripcomments" => self.keep_comments = no,
            _ => {}
        }
    }
}

/// What a changeset becomes: the fields of its migration that differ from one to the next.
pub(super) struct Changed {
    pub author: String,
    pub id: String,
    pub rerun: Rerun,
    pub up: Script,
    pub down: Option<Script>,
    pub checksum: Checksum,
    /// Relative to the migrations directory, `/`-separated.
    pub file: String,
    pub changelog_file: Option<String>,
    /// [`v9_checksum`] of its SQL, where shale computes it as Liquibase does.
    pub liquibase_checksum: Option<String>,
}

/// The checksum Liquibase 4.22 and later record for a changeset of one SQL change (`9:` and an
/// MD5): of the change's checksum, `9:` and the MD5 of its SQL with every space, tab and line
/// break taken out (so a space added between two words is no change to Liquibase), followed by
/// `:`. `sql` is the change's SQL as Liquibase reads it: a formatted changeset's lines but its
/// `--changeset`, `--comment` and rollback lines, its parameters filled; an SQL file's text.
pub fn v9_checksum(sql: &str) -> String {
    let packed: String = sql.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')).collect();
    let change = format!("9:{}", crate::adopt::md5_hex(&packed));
    format!("9:{}", crate::adopt::md5_hex(&format!("{change}:")))
}

impl Changed {
    /// The migration, numbered on from `*place` (a `runOnChange` one too: it runs again in its
    /// place when it changes, as Liquibase runs it).
    pub(super) fn into_migration(self, place: &mut usize) -> Migration {
        *place += 1;
        let version_text = place.to_string();
        Migration {
            version: Version::parse(&version_text),
            // As Liquibase names a changeset in its messages: its author and id.
            name: format!("{}:{}", self.author, self.id),
            kind: MigrationKind::Versioned,
            layout: Layout::Liquibase,
            checksum: self.checksum,
            up: self.up.into(),
            down: self.down.map(Into::into),
            version_text,
            file: self.file,
            raw_up: None,
            changelog_file: self.changelog_file,
            rerun: self.rerun,
            liquibase_checksum: self.liquibase_checksum,
        }
    }
}

/// The migrations of the changelog `text` at `path` (`relative` to the migrations directory),
/// numbered on from `*place`; changesets for other databases go to `ignored`.
pub(super) fn migrations(
    (path, relative, text): (&Path, &str, String),
    inherited: &Selectors,
    place: &mut usize,
    gathering: &mut Gathering,
) -> Result<Vec<Migration>, Vec<LoadError>> {
    let splitting = gathering.splitting;
    let (changesets, logical_file) = parse(path, &text)?;
    if changesets.is_empty() {
        gathering
            .ignored
            .push(Ignored { path: path.to_path_buf(), reason: "a Liquibase changelog with no changeset".into() });
        return Ok(Vec::new());
    }
    let rollbacks = as_jdbc_sends(rollback_view(&text, &changesets).into());
    let lines = LineIndex::new(&text);
    let stripped: Option<Arc<str>> = without_comments(&text, &changesets).map(Into::into);
    let shared: Arc<str> = text.into();
    // What runs: the changesets' SQL with their comments blanked where Liquibase strips them, as
    // the JDBC driver sends it.
    let runs = as_jdbc_sends(stripped.unwrap_or_else(|| shared.clone()));
    let mut migrations = Vec::new();
    let mut errors = Vec::new();
    for changeset in changesets {
        let Changeset { author, id, section, rollback, metadata, attributes, refusals } = changeset;
        let line = lines.line_col(&shared, section.start).0;
        if let Some(reason) = attributes.skipped {
            gathering.ignored.push(Ignored {
                path: path.to_path_buf(),
                reason: format!("changeset {author}:{id} (line {line}) {reason}"),
            });
            continue;
        }
        let named = format!("changeset {author}:{id}");
        let left_out = match gathering.leaves_out(&attributes.selectors.with(inherited), *place + 1) {
            Ok(None) if !refusals.is_empty() => {
                errors.extend(refusals);
                continue;
            }
            Ok(left_out) => left_out,
            Err(bad) => {
                errors.push(LoadError::at(path, &shared, section.start, bad.to_string(), Some(EXPRESSION_HINT.into())));
                continue;
            }
        };
        let no_tx = attributes.no_transaction.as_deref();
        let reading = attributes.reading();
        let read = |text: &Arc<str>| {
            script_reading(path.to_path_buf(), text.clone(), section.clone(), no_tx, splitting, &reading)
        };
        let scripts = read(&runs).and_then(|up| Ok((up, rollback.as_ref().map(|_| read(&rollbacks)).transpose()?)));
        let (up, down) = match (scripts, &left_out) {
            (Ok(scripts), _) => scripts,
            // Left out, it does not run: what does not read in it does not matter.
            (Err(_), Some(reason)) => {
                gathering.leave_out(None, place, (&named, path, line), reason);
                continue;
            }
            (Err(e), None) => {
                errors.push(e);
                continue;
            }
        };
        let sql = without(&shared, section, &metadata);
        let changed = Changed {
            author,
            id,
            rerun: attributes.rerun,
            up,
            down,
            checksum: Checksum::of(&words(&sql)),
            file: relative.to_string(),
            changelog_file: attributes.logical_file.or_else(|| logical_file.clone()),
            // (One listing the checksums it may have, `--validCheckSum`, is not compared.)
            liquibase_checksum: (!lists_valid_checksums(&sql)).then(|| v9_checksum(&sql)),
        };
        let migration = changed.into_migration(place);
        match left_out {
            Some(reason) => gathering.leave_out(Some(migration), place, (&named, path, line), &reason),
            None => migrations.push(migration),
        }
    }
    match errors.is_empty() {
        true => Ok(migrations),
        false => Err(errors),
    }
}

/// `text`'s words, one space between them: what a checksum of SQL is taken of, so that blank lines
/// and indentation (the lines between one changeset and the next) do not count, as they do not in
/// Liquibase's.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text[section]` without the parts `left_out`.
fn without(text: &str, section: Range<usize>, left_out: &[Range<usize>]) -> String {
    let mut kept = String::with_capacity(section.len());
    let mut at = section.start;
    for part in left_out.iter().filter(|p| p.start >= section.start && p.end <= section.end) {
        kept.push_str(&text[at..part.start.max(at)]);
        at = at.max(part.end);
    }
    kept.push_str(&text[at..section.end]);
    kept
}

/// `sql` as Liquibase's JDBC driver sends it ([`crate::split::as_jdbc_sends`]).
fn as_jdbc_sends(sql: Arc<str>) -> Arc<str> {
    crate::split::as_jdbc_sends(&sql).map_or(sql, Into::into)
}

/// An SQL file of a folder of Liquibase changelogs, read.
pub(super) struct ReadFile {
    pub relative: PathBuf,
    pub path: PathBuf,
    pub text: String,
}

impl ReadFile {
    fn relative_text(&self) -> String {
        super::relative_text(&self.relative)
    }
}

/// The migrations of a folder of Liquibase changelogs, numbered in the order they run, each
/// changeset on from those before it: as the master changelog runs them, or, without one, the
/// files in name order (as `includeAll` runs them, an SQL file that is no changelog as one
/// changeset of its own).
pub(super) fn folder_migrations(
    master: Option<&Master>,
    mut files: Vec<ReadFile>,
    placeholders: &Placeholders,
    gathering: &mut Gathering,
    errors: &mut Vec<LoadError>,
) -> Vec<Migration> {
    let mut migrations = Vec::new();
    let mut number = 0;
    gathering.parameters = fill_parameters(master, &mut files, (placeholders, gathering.selection), errors);
    // Without a master, the folder's files in name order, as `includeAll` takes them.
    let in_name_order: Vec<Item>;
    let items = match master {
        Some(master) => {
            for file in files.iter().filter(|f| !master.runs(&f.relative)) {
                let reason = format!("not included by the master changelog {}", master.path.display());
                gathering.ignored.push(Ignored { path: file.path.clone(), reason });
            }
            &master.items
        }
        None => {
            in_name_order = files
                .iter()
                .map(|file| match is_changelog(file.text.as_bytes()) {
                    true => Item::Changelog(file.relative.clone(), Selectors::default()),
                    false => Item::Changeset(Box::new(MasterChangeset::raw(file.relative.clone(), file.path.clone()))),
                })
                .collect();
            &in_name_order
        }
    };
    for item in items {
        let built = match item {
            Item::Changelog(relative, inherited) => match files.iter().find(|f| f.relative == *relative) {
                Some(file) => self::migrations(
                    (&file.path, &file.relative_text(), file.text.clone()),
                    inherited,
                    &mut number,
                    gathering,
                ),
                None => continue,
            },
            Item::Changeset(changeset) => {
                changeset_migration(changeset, &files, &mut number, gathering).map(Vec::from_iter).map_err(|e| vec![e])
            }
        };
        match built {
            Ok(found) => migrations.extend(found),
            Err(found) => errors.extend(found),
        }
    }
    migrations
}

/// `${name}` in the SQL files that run, replaced as Liquibase replaces its changelog parameters:
/// by the value among the placeholders the migrations are read with (given from outside, as to
/// Liquibase), else by the one a changelog's property defines (`<property>` in the master,
/// `--property name:N value:V` in a formatted changelog). One with neither is an error where it
/// stands: left as it is, it would run as text, or fail as SQL. The parameters used, with their
/// values.
fn fill_parameters(
    master: Option<&Master>,
    files: &mut [ReadFile],
    (placeholders, selection): (&Placeholders, &LiquibaseSelection),
    errors: &mut Vec<LoadError>,
) -> Vec<(String, String)> {
    let mut used: Vec<(String, String)> = Vec::new();
    // An SQL file run whole (no `--liquibase formatted sql` line: `includeAll`'s `raw`) is run
    // as written: Liquibase fills no parameter there (re-check: `'Hello ${name}'` was filled,
    // and refused where no value was given, where Liquibase keeps the text).
    let whole =
        |file: &ReadFile| !is_changelog(file.text.as_bytes()) && master.is_none_or(|m| m.runs_whole(&file.relative));
    let runs = |file: &ReadFile| master.is_none_or(|m| m.runs(&file.relative)) && !whole(file);
    if !files.iter().any(|f| runs(f) && f.text.contains("${")) {
        return used;
    }
    let defined = master.map(|m| m.properties.clone()).unwrap_or_default();
    let defined =
        defined.into_iter().chain(files.iter().filter(|f| runs(f)).flat_map(|f| property_lines(&f.text, selection)));
    // As Liquibase looks them up: the values given, then the environment (where the breadth
    // sweep's auth-grant-manager sets `APP_USERNAME` for its update), then the changelogs'.
    let environment = placeholders.environment().iter().map(|(k, v)| (k.clone(), v.clone()));
    let values = placeholders.with_defaults(environment).with_defaults(defined);
    for file in files.iter_mut().filter(|f| runs(f)) {
        for name in values.names_in(&file.text) {
            if !used.iter().any(|(n, _)| n == name) {
                used.push((name.to_string(), values.value(name).cloned().unwrap_or_default()));
            }
        }
        // One in a comment with no value is left as text, as Liquibase leaves it (re-check: a
        // `-- the ${ticket} comment` stopped the run).
        let in_comment = |offset: usize| crate::split::in_comment(&file.text, offset);
        match values.replace_keeping(&file.text, in_comment) {
            Ok(Some(filled)) => file.text = filled,
            Ok(None) => {}
            Err(unknown) => errors.extend(unknown.iter().map(|u| {
                LoadError::at(
                    &file.path,
                    &file.text,
                    u.offset,
                    format!("Liquibase parameter ${{{}}} has no value", u.name),
                    Some(
                        "give it the value Liquibase is given (as -D, or in spring.liquibase.parameters): in the \
                         environment, as Liquibase reads it, or among the placeholders the migrations are read with"
                            .into(),
                    ),
                )
                .of(super::LoadProblem::UnknownParameter { name: u.name.as_str().into() })
            })),
        }
    }
    used
}

/// The properties a formatted changelog defines, `--property name:N value:V` (for PostgreSQL,
/// and for the contexts and labels of the run).
fn property_lines(text: &str, selection: &LiquibaseSelection) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| keyword(line.trim_start().strip_prefix("--")?.trim_start(), "property"))
        .filter_map(|rest| {
            let pairs = attribute_pairs(rest);
            let field = |key: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str());
            let mut selectors = Selectors::default();
            for (key, value) in &pairs {
                selectors.set(key, value);
            }
            let selected = !matches!(selection.leaves_out(&selectors.contexts, &selectors.labels), Ok(Some(_)));
            let for_postgresql = field("dbms").is_none_or(for_postgresql) && selected;
            Some((field("name")?.to_string(), field("value")?.to_string())).filter(|_| for_postgresql)
        })
        .collect()
}

/// The migration of a changeset written in a master changelog (or of an SQL file run whole),
/// numbered on from `*place`; none for one that does not run on PostgreSQL (named in `ignored`).
fn changeset_migration(
    changeset: &MasterChangeset,
    files: &[ReadFile],
    place: &mut usize,
    gathering: &mut Gathering,
) -> Result<Option<Migration>, LoadError> {
    let splitting = gathering.splitting;
    let name = format!("changeset {}:{}", changeset.author, changeset.id);
    if let Some(reason) = &changeset.attributes.skipped {
        gathering.ignored.push(Ignored { path: changeset.changelog_path.clone(), reason: format!("{name} {reason}") });
        return Ok(None);
    }
    let at = (name.as_str(), changeset.changelog_path.as_path(), changeset.line);
    match gathering.leaves_out(&changeset.attributes.selectors, *place + 1) {
        Ok(None) => {}
        // Its changelog was not read further (see `Master::find`): it has no migration.
        Ok(Some(reason)) => {
            gathering.leave_out(None, place, at, &reason);
            return Ok(None);
        }
        Err(bad) => {
            let message = format!("{name} (line {}): {bad}", changeset.line);
            return Err(LoadError::file(&changeset.changelog_path, message, Some(EXPRESSION_HINT.into())));
        }
    }
    let no_tx = changeset.attributes.no_transaction.as_deref();
    let reading = changeset.attributes.reading();
    let file = |relative: &Path| files.iter().find(|f| f.relative == relative);
    // Its SQL: a file's, whole, or the changelog's part of the view of its inline SQL.
    let read = |sql: &Sql| -> Result<(Script, String, Option<&ReadFile>), LoadError> {
        match sql {
            Sql::File(relative) => {
                let found = file(relative).ok_or_else(|| {
                    LoadError::file(
                        &changeset.changelog_path,
                        format!("{name} runs {}, which was not read", relative.display()),
                        Some("keep the SQL files a changeset runs in the migrations directory".into()),
                    )
                })?;
                let whole = 0..found.text.len();
                let sent = as_jdbc_sends(found.text.as_str().into());
                let script = script_reading(found.path.clone(), sent, whole, no_tx, splitting, &reading)?;
                Ok((script, words(&found.text), Some(found)))
            }
            Sql::Inline { view, section } => {
                let path = changeset.changelog_path.clone();
                let sent = as_jdbc_sends(view.clone());
                let script = script_reading(path, sent, section.clone(), no_tx, splitting, &reading)?;
                // Liquibase's parameters are filled in SQL files, not here: refused where one stands.
                if let Some(at) = view[section.clone()].find("${") {
                    let message =
                        format!("{name}: a parameter in SQL written in the changelog, which shale does not fill");
                    let hint = Some("write the changeset's SQL in an sqlFile, where parameters are filled".into());
                    return Err(LoadError::at(&changeset.changelog_path, view, section.start + at, message, hint));
                }
                // Of its SQL alone, in words: the changelog's markup around it was blanked.
                Ok((script, words(&view[section.clone()]), None))
            }
        }
    };
    let (up, sql, up_file) = read(&changeset.up)?;
    // A changeset of no SQL (`tagDatabase` alone) has nothing to undo, as Liquibase rolls it back.
    let nothing = matches!(&changeset.up, Sql::Inline { view, section } if view[section.clone()].trim().is_empty());
    let down = match (&changeset.rollback, nothing) {
        (Some(rollback), _) => Some(read(rollback)?.0),
        (None, true) => Some(read(&changeset.up)?.0),
        (None, false) => None,
    };
    let (file, changelog_file) = match up_file {
        Some(up_file) if up_file.relative_text() == changeset.changelog => (up_file.relative_text(), None),
        Some(up_file) => (up_file.relative_text(), Some(changeset.changelog.clone())),
        None => (changeset.changelog.clone(), None),
    };
    let changed = Changed {
        author: changeset.author.clone(),
        id: changeset.id.clone(),
        rerun: changeset.attributes.rerun,
        up,
        down,
        checksum: Checksum::of(&sql),
        file,
        changelog_file,
        // An SQL file Liquibase runs whole: its text is the change's SQL.
        liquibase_checksum: up_file.filter(|_| changeset.id == "raw").map(|f| v9_checksum(&f.text)),
    };
    Ok(Some(changed.into_migration(place)))
}

/// Whether a changeset's SQL has a `--validCheckSum` line: the checksums Liquibase accepts for it
/// are those it lists.
fn lists_valid_checksums(sql: &str) -> bool {
    sql.lines().any(|line| {
        let comment = line.trim_start().strip_prefix("--").map(str::trim_start).unwrap_or_default();
        comment.get(..13).is_some_and(|w| w.eq_ignore_ascii_case("validchecksum"))
    })
}

/// What to do about a context or label expression that does not read.
const EXPRESSION_HINT: &str =
    "write names joined by `and`, `or` (or a comma) and `!`, with parentheses closed, as Liquibase reads them";

/// The changesets of a changelog and the `logicalFilePath` its first line gives it, or every
/// problem of its lines.
fn parse(path: &Path, text: &str) -> Result<(Vec<Changeset>, Option<String>), Vec<LoadError>> {
    let mut changesets: Vec<Changeset> = Vec::new();
    let mut errors = Vec::new();
    let mut error = |offset: usize, message: String, hint: &str| {
        errors.push(LoadError::at(path, text, offset, message, Some(hint.to_string())));
    };
    let first = text.lines().next().unwrap_or_default();
    let logical_file = first.split_whitespace().find_map(|word| {
        let (key, value) = word.split_once(':')?;
        key.eq_ignore_ascii_case("logicalFilePath").then(|| value.to_string())
    });
    let mut offset = 0;
    // Inside a `/* liquibase rollback` block (opened at this offset): its lines are the rollback
    // SQL up to `*/`.
    let mut rollback_block: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let whole_line = start..offset;
        let content = line.trim_end_matches(['\n', '\r']);
        if index == 0 {
            continue;
        }
        if rollback_block.is_some() {
            let (sql, closed) = match content.find("*/") {
                Some(end) => (start..start + end, true),
                None => (start..start + content.len(), false),
            };
            if let Some(current) = changesets.last_mut() {
                current.rollback.get_or_insert_with(Vec::new).push(sql);
                current.metadata.push(whole_line);
            }
            if closed {
                rollback_block = None;
            }
            continue;
        }
        let trimmed = content.trim_start();
        let at = start + (content.len() - trimmed.len());
        if let Some(rest) = trimmed.strip_prefix("/*") {
            // `rollback` may end its line: the SQL follows on the next.
            let opens_rollback = keyword(rest.trim_start(), "liquibase")
                .and_then(rollback_word)
                .filter(|after| after.is_empty() || after.starts_with(char::is_whitespace))
                .filter(|_| !changesets.is_empty());
            if let (Some(after), Some(current)) = (opens_rollback, changesets.last_mut()) {
                // What follows the words on their line is rollback SQL too.
                let body = start + content.len() - after.len();
                current.metadata.push(whole_line);
                match content.find("*/") {
                    Some(end) => current.rollback.get_or_insert_with(Vec::new).push(body..start + end),
                    None => {
                        current.rollback.get_or_insert_with(Vec::new).push(body..start + content.len());
                        rollback_block = Some(at);
                    }
                }
            }
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            if changesets.is_empty() && !trimmed.is_empty() {
                error(
                    at,
                    "SQL before the first `--changeset` line belongs to no changeset".into(),
                    "open a changeset above it (`--changeset AUTHOR:ID`), or remove it",
                );
            }
            continue;
        };
        let comment = comment.trim_start();
        if let Some(rest) = keyword(comment, "changeset") {
            let Some(read) = changeset_line(rest) else {
                error(
                    at,
                    "a `--changeset` line names its author and id: `--changeset AUTHOR:ID`".into(),
                    "write the author and the id, separated by a colon",
                );
                continue;
            };
            if changesets.iter().any(|c| c.author == read.author && c.id == read.id) {
                error(
                    at,
                    format!("changeset {}:{} is in this file twice", read.author, read.id),
                    "give one of them another id (Liquibase refuses the file too)",
                );
            }
            let mut attributes = Attributes::default();
            for (key, value) in attribute_pairs(&read.attributes) {
                attributes.set(&key, &value, index + 1);
            }
            if let Some(previous) = changesets.last_mut() {
                previous.section.end = start;
            }
            changesets.push(Changeset {
                author: read.author,
                id: read.id,
                section: start..text.len(),
                rollback: None,
                metadata: vec![whole_line],
                attributes,
                refusals: Vec::new(),
            });
            continue;
        }
        let Some(current) = changesets.last_mut() else { continue };
        if let Some(rest) = keyword(comment, "rollback") {
            current.metadata.push(whole_line);
            let sql = rest.trim();
            let rollback = current.rollback.get_or_insert_with(Vec::new);
            let nothing = sql.eq_ignore_ascii_case("not required") || sql.eq_ignore_ascii_case("empty");
            if !sql.is_empty() && !nothing {
                let sql_start = start + content.len() - rest.trim_start().len();
                rollback.push(sql_start..start + content.len());
            }
            continue;
        }
        if keyword(comment, "comment").is_some() || comment.get(..8).is_some_and(|w| w.eq_ignore_ascii_case("comment:"))
        {
            current.metadata.push(whole_line);
            continue;
        }
        if current.attributes.skipped.is_some() {
            continue;
        }
        if let Some((directive, why)) = refused_directive(comment) {
            let hint = "write what it does in the SQL (a check in a DO block, the value itself, the rollback as \
                        `--rollback` lines), then remove the line";
            current.refusals.push(LoadError::at(path, text, at, format!("`--{directive}`: {why}"), Some(hint.into())));
        }
    }
    if let Some(opened) = rollback_block {
        error(opened, "this `/* liquibase rollback` block is never closed".into(), "close it with `*/`");
    }
    match errors.is_empty() {
        true => Ok((changesets, logical_file)),
        false => Err(errors),
    }
}

/// A comment Liquibase reads as one of its own that shale does not, and why; written as
/// Liquibase's patterns have it, so that prose (`-- included for the report`) stays a comment.
fn refused_directive(comment: &str) -> Option<(&'static str, &'static str)> {
    let lower = comment.to_ascii_lowercase();
    let then = |word: &str, next: &str| {
        lower
            .strip_prefix(word)
            .is_some_and(|rest| rest.trim_start().starts_with(next) && rest.starts_with(char::is_whitespace))
    };
    if lower.starts_with("preconditions") || lower.starts_with("precondition-") {
        Some(("preconditions", "shale does not check Liquibase's preconditions"))
    } else if then("property", "file:") {
        Some(("property", "shale does not read Liquibase's properties files: give their values as placeholders"))
    } else if then("include", "file:") || then("includeall", "path:") {
        Some(("include", "shale reads a folder's changelogs in name order, or as its master changelog includes them"))
    } else if lower.starts_with("ignorelines:") {
        Some(("ignoreLines", "shale does not read Liquibase's `ignoreLines`"))
    } else if then("rollbacksqlfile", "path:") {
        Some(("rollbackSqlFile", "shale reads a formatted changelog's rollback from its `--rollback` lines"))
    } else {
        None
    }
}

/// What follows the word `rollback` (any case) at the start of `after`'s words.
fn rollback_word(after: &str) -> Option<&str> {
    let after = after.trim_start();
    after.get(..8).filter(|w| w.eq_ignore_ascii_case("rollback")).map(|_| &after[8..])
}

/// What follows `word` (any case) when whitespace follows it, as Liquibase's patterns need.
fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len()).filter(|head| head.eq_ignore_ascii_case(word))?;
    Some(&text[head.len()..]).filter(|rest| rest.starts_with(char::is_whitespace))
}

/// A `--changeset` line, after the word.
struct ChangesetLine {
    author: String,
    id: String,
    attributes: String,
}

/// `AUTHOR:ID attributes...` of a `--changeset` line: the author up to the colon (quoted, it may
/// hold one), the id to the next space (quoted, it may hold spaces).
fn changeset_line(rest: &str) -> Option<ChangesetLine> {
    let rest = rest.trim_start();
    let (author, rest) = quoted_or_until(rest, |c| c == ':')?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let (id, attributes) = quoted_or_until(rest, char::is_whitespace)?;
    let author = author.trim().to_string();
    (!author.is_empty() && !id.is_empty()).then(|| ChangesetLine { author, id, attributes: attributes.to_string() })
}

/// The `key:value` attributes of a `--changeset` line; a value may be quoted (`context:"a and b"`).
fn attribute_pairs(mut text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return pairs;
        }
        let key_end = text.find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(text.len());
        let key = text[..key_end].to_string();
        match text[key_end..].strip_prefix(':') {
            Some(rest) => {
                let Some((value, after)) = quoted_or_until(rest, char::is_whitespace) else {
                    // An unclosed quote: the rest is its value.
                    pairs.push((key, rest.trim_start_matches('"').to_string()));
                    return pairs;
                };
                pairs.push((key, value));
                text = after;
            }
            None => text = &text[key_end..],
        }
    }
}

/// A `"quoted"` value, or the text up to `end`; and what follows it.
fn quoted_or_until(text: &str, end: impl Fn(char) -> bool) -> Option<(String, &str)> {
    if let Some(inner) = text.strip_prefix('"') {
        let close = inner.find('"')?;
        return Some((inner[..close].to_string(), &inner[close + 1..]));
    }
    let stop = text.find(end).unwrap_or(text.len());
    Some((text[..stop].to_string(), &text[stop..]))
}

/// Whether a `dbms` list takes in PostgreSQL, in the order Liquibase decides it: `all` does,
/// `none` does not, `!postgresql` does not, then a list naming databases must name it (one only
/// excluding others, or an empty one, takes it in).
fn for_postgresql(list: &str) -> bool {
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()).collect();
    if names.iter().any(|n| n == "all") {
        return true;
    }
    if names.iter().any(|n| n == "none" || n == "!postgresql") {
        return false;
    }
    let named: Vec<&String> = names.iter().filter(|n| !n.starts_with('!')).collect();
    named.is_empty() || named.iter().any(|n| *n == "postgresql")
}

/// `text` with every byte but its line ends made a space: the ground of a view of some of its SQL,
/// which keeps each part on its own line and column.
fn blanked(text: &str) -> Vec<u8> {
    text.bytes().map(|b| if b == b'\n' { b'\n' } else { b' ' }).collect()
}

/// The file with the comments of the changesets that strip them blanked (line ends kept, so that
/// errors name the file's own lines), or `None` when there are none. Liquibase strips the comments
/// of a formatted SQL changeset before running it (`stripComments`, true by default), with a reader
/// that knows quoted strings and identifiers but not dollar quotes: the comments in a function
/// body go too, and a database it built holds the body without them. A line holding the
/// changeset's end delimiter (`--//`) and shale's own directives stay.
fn without_comments(text: &str, changesets: &[Changeset]) -> Option<String> {
    let bytes = text.as_bytes();
    let mut comments: Vec<Range<usize>> = Vec::new();
    for c in changesets.iter().filter(|c| !c.attributes.keep_comments && c.attributes.skipped.is_none()) {
        let end = c.section.end;
        let kept = |comment: &str| {
            let trimmed = comment.trim();
            c.attributes.end_delimiter.as_deref() == Some(trimmed)
                || trimmed.strip_prefix("--").is_some_and(|rest| rest.trim_start().starts_with("shale:"))
        };
        let mut at = c.section.start;
        while at < end {
            match bytes[at] {
                quote @ (b'\'' | b'"') => {
                    at += 1;
                    while at < end && bytes[at] != quote {
                        at += 1;
                    }
                    at += 1;
                }
                b'-' if bytes.get(at + 1) == Some(&b'-') => {
                    let line_end = text[at..end].find('\n').map_or(end, |n| at + n);
                    if !kept(&text[at..line_end]) {
                        comments.push(at..line_end);
                    }
                    at = line_end;
                }
                b'/' if bytes.get(at + 1) == Some(&b'*') => {
                    let close = text[at + 2..end].find("*/").map_or(end, |n| at + 2 + n + 2);
                    comments.push(at..close);
                    at = close;
                }
                _ => at += 1,
            }
        }
    }
    if comments.is_empty() {
        return None;
    }
    let mut view = bytes.to_vec();
    for range in comments {
        for b in &mut view[range] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    Some(String::from_utf8(view).expect("whole comments blanked into ASCII spaces"))
}

/// The file with only its rollback SQL left where it is written, everything else blanked (line
/// ends kept): a changeset's rollback is then the same section of it as its SQL is of the file,
/// so that errors in a rollback name the file's own lines and columns.
fn rollback_view(text: &str, changesets: &[Changeset]) -> String {
    let mut view = blanked(text);
    for range in changesets.iter().filter_map(|c| c.rollback.as_ref()).flatten() {
        view[range.clone()].copy_from_slice(&text.as_bytes()[range.clone()]);
    }
    String::from_utf8(view).expect("whole characters copied into ASCII spaces")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<Changeset> {
        parse(Path::new("changes.sql"), text).unwrap().0
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("changes.sql"), text).unwrap_err().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_first_line_says_whether_a_file_is_a_changelog() {
        assert!(is_changelog(b"--liquibase formatted sql\n--changeset a:1\n"));
        assert!(is_changelog(b"\xEF\xBB\xBF-- Liquibase Formatted SQL\n"));
        assert!(is_changelog(b"\n  \n--liquibase formatted sql\n"), "blank lines above it, as Liquibase allows");
        assert!(!is_changelog(b"-- a file about liquibase\n"));
        assert!(!is_changelog(b"CREATE TABLE t (id int);\n"));
    }

    #[test]
    fn changesets_their_sections_and_rollbacks() {
        let text = "--liquibase formatted sql\n\n--changeset alice:1\nCREATE TABLE a (id int);\n--rollback DROP TABLE a;\n\n\
                    --changeSet \"Bob Smith\":\"two words\" runInTransaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n\
                    --rollback not required\n--changeset carol:3 runOnChange:true\nCREATE OR REPLACE VIEW v AS SELECT 1;\n";
        let found = parsed(text);
        assert_eq!(found.len(), 3);
        assert_eq!((found[0].author.as_str(), found[0].id.as_str()), ("alice", "1"));
        assert_eq!((found[1].author.as_str(), found[1].id.as_str()), ("Bob Smith", "two words"));
        assert!(text[found[0].section.clone()].starts_with("--changeset alice:1\nCREATE TABLE a"));
        assert!(text[found[0].section.clone()].ends_with("DROP TABLE a;\n\n"));
        let rollback = found[0].rollback.as_ref().unwrap();
        assert_eq!(&text[rollback[0].clone()], "DROP TABLE a;");
        assert_eq!(found[1].rollback.as_deref(), Some(&[][..]));
        assert_eq!(found[1].attributes.no_transaction.as_deref(), Some("`runInTransaction` false (line 7)"));
        assert!(found[2].attributes.rerun == Rerun::WhenChanged && found[2].rollback.is_none());
        // The rollback view keeps the rollback SQL where it is, and only it.
        let view = rollback_view(text, &found);
        assert_eq!(view.len(), text.len());
        assert_eq!(view.lines().nth(4).unwrap().trim(), "DROP TABLE a;");
        assert_eq!(view.trim(), "DROP TABLE a;");
    }

    #[test]
    fn a_rollback_block_comment_is_a_rollback() {
        let text = "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a (id int);\n/* liquibase rollback\nDROP TABLE a;\n*/\n";
        let found = parsed(text);
        let view = rollback_view(text, &found);
        assert_eq!(view.trim(), "DROP TABLE a;");
    }

    #[test]
    fn a_new_changelog_sorts_after_the_last_and_is_read_back() {
        let next = |last: &str, slug: &str| next_file_name(last, slug, "2026-12-05");
        assert_eq!(next("003_users.sql", "add_phone").as_deref(), Some("004_add_phone.sql"));
        assert_eq!(next("changes/09-users.sql", "a").as_deref(), Some("changes/10-a.sql"));
        assert_eq!(next("99_z.sql", "a"), None, "100_a.sql sorts before 99_z.sql");
        assert_eq!(next("changelog-1.0.sql", "a"), None);
        assert_eq!(next("t/2024-09-25_notes.sql", "a").as_deref(), Some("t/2026-12-05_a.sql"));
        assert_eq!(next("2027-01-01_later.sql", "a"), None, "a clock behind the newest");
        let yaml = "databaseChangeLog:\n  - include:\n      file: a.sql\n";
        let added = with_include(Path::new("m.yaml"), yaml, "b.sql").unwrap();
        assert!(added.ends_with("  - include:\n      file: b.sql\n      relativeToChangelogFile: true\n"), "{added}");
        let xml = "<databaseChangeLog>\n    <include file=\"a.sql\"/>\n</databaseChangeLog>\n";
        let added = with_include(Path::new("m.xml"), xml, "b.sql").unwrap();
        assert!(added.contains("    <include file=\"a.sql\"/>\n    <include file=\"b.sql\" relativeToChangelogFile=\"true\"/>\n</databaseChangeLog>"), "{added}");
        let text = new_changelog(
            "Ann Lee",
            "add_phone",
            "add phone",
            "ALTER TABLE u ADD phone text;",
            Some("ALTER TABLE u\n  DROP phone;"),
        );
        let found = parsed(&text);
        assert_eq!(found[0].id, "add_phone");
        assert_eq!(
            rollback_view(&text, &found).split_whitespace().collect::<Vec<_>>(),
            ["ALTER", "TABLE", "u", "DROP", "phone;"]
        );
    }

    #[test]
    fn changesets_for_other_databases_are_skipped() {
        let text = "--liquibase formatted sql\n--changeset a:1 dbms:oracle,h2\nSELECT 1 FROM dual;\n\
                    --changeset a:2 dbms:postgresql\nSELECT 2;\n--changeset a:3 dbms:!h2\nSELECT 3;\n\
                    --changeset a:4 dbms:!postgresql\nSELECT 4;\n--changeset a:5 ignore:true\nSELECT 5;\n";
        let skipped: Vec<bool> = parsed(text).iter().map(|c| c.attributes.skipped.is_some()).collect();
        assert_eq!(skipped, [true, false, false, true, true]);
    }

    #[test]
    fn what_shale_would_run_otherwise_is_refused_at_its_line() {
        let text = "--liquibase formatted sql\nSELECT 0;\n--changeset a:1 runAlways:true\nSELECT 1;\n\
                    --changeset a:2 endDelimiter:/\nSELECT 2\n/\n--changeset a:2\nSELECT 3;\n\
                    --changeset a:4\n--preconditions onFail:MARK_RAN\n--precondition-sql-check expectedResult:0 SELECT 1\nSELECT 4;\n\
                    --changeset nocolon\n--changeset a:5 dbms:oracle runAlways:true\n-- included for the report, a property of it\n";
        let found = errors(text);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("changes.sql:2:1: SQL before the first `--changeset` line"), "{found:#?}");
        assert!(found[1].starts_with("changes.sql:8:1: changeset a:2 is in this file twice"), "{found:#?}");
        assert!(found[2].starts_with("changes.sql:14:1: a `--changeset` line names its author and id"), "{found:#?}");
        // A changeset's own lines shale would run otherwise are kept with it: refused only where
        // it is selected to run.
        let text = "--liquibase formatted sql\n--changeset a:4\n--preconditions onFail:MARK_RAN\n\
                    --precondition-sql-check expectedResult:0 SELECT 1\nSELECT 4;\n--changeset a:5\nSELECT 5;\n";
        let refusals: Vec<Vec<String>> =
            parsed(text).iter().map(|c| c.refusals.iter().map(ToString::to_string).collect()).collect();
        assert_eq!(refusals[1].len(), 0);
        assert!(refusals[0][0].starts_with("changes.sql:3:1: `--preconditions`"), "{refusals:#?}");
        assert!(refusals[0][1].starts_with("changes.sql:4:1: `--preconditions`"), "{refusals:#?}");
    }

    #[test]
    fn changeset_attributes() {
        let mut read = Attributes::default();
        for (key, value) in [
            ("RunInTransaction", "false"),
            ("runOnChange", "true"),
            ("endDelimiter", "--//"),
            ("logicalFilePath", "v1.sql"),
            ("context", "test"),
            ("failOnError", "false"),
        ] {
            read.set(key, value, 7);
        }
        assert_eq!(read.no_transaction.as_deref(), Some("`runInTransaction` false (line 7)"));
        assert_eq!(read.rerun, Rerun::WhenChanged);
        assert_eq!((read.end_delimiter.as_deref(), read.logical_file.as_deref()), (Some("--//"), Some("v1.sql")));
        read.set("runAlways", "true", 7);
        read.set("endDelimiter", ";", 7);
        assert_eq!((read.rerun, read.skipped.as_deref()), (Rerun::Always, None));
        read.set("dbms", "h2", 7);
        assert_eq!(read.skipped.as_deref(), Some("is for other databases (dbms h2)"));
        assert_eq!((read.selectors.contexts.as_slice(), read.selectors.labels.len()), (&["test".to_string()][..], 0));
    }

    #[test]
    fn comments_are_stripped_as_liquibase_strips_them() {
        let text = "--liquibase formatted sql\n--changeset a:1 endDelimiter:--//\n\
                    CREATE FUNCTION f() RETURNS text AS $$\nBEGIN\n  -- why\n  RETURN 'a -- b'; /* c */\nEND $$ LANGUAGE plpgsql;\n--//\n\
                    -- shale:lock-timeout=1s\n\
                    --changeset a:2 stripComments:false\nSELECT 1; -- kept\n";
        let view = without_comments(text, &parsed(text)).unwrap();
        assert_eq!(view.len(), text.len());
        assert_eq!(view.lines().count(), text.lines().count());
        let kept: Vec<&str> = view.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            kept,
            [
                "--liquibase formatted sql",
                "CREATE FUNCTION f() RETURNS text AS $$",
                "BEGIN",
                "  RETURN 'a -- b';",
                "END $$ LANGUAGE plpgsql;",
                "--//",
                "-- shale:lock-timeout=1s",
                "--changeset a:2 stripComments:false",
                "SELECT 1; -- kept"
            ]
        );
        let none = "--liquibase formatted sql\n--changeset a:1 stripComments:false\nSELECT 1; -- kept\n";
        assert_eq!(without_comments(none, &parsed(none)), None);
    }

    #[test]
    fn attribute_values_may_be_quoted() {
        let pairs = attribute_pairs(r#"context:"dev or test" labels:a,b  runOnChange:true stray contextFilter:"open"#);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [("context", "dev or test"), ("labels", "a,b"), ("runOnChange", "true"), ("contextFilter", "open")]
        );
        let mut inherited = Selectors::default();
        inherited.set("context", "test");
        inherited.set("labels", "v2");
        let mut own = Selectors::default();
        // Where both are given, `contextFilter` is read, whichever comes first.
        own.set("contextFilter", "!prod");
        own.set("context", "dev");
        assert_eq!(own.with(&inherited).contexts, ["!prod", "test"]);
        assert_eq!(own.with(&inherited).labels, ["v2"]);
    }

    #[test]
    fn dbms_lists_read_in_liquibase_order() {
        for (list, runs) in [
            ("postgresql", true),
            ("all", true),
            ("oracle,h2", false),
            ("!h2", true),
            ("!postgresql", false),
            ("postgresql,none", false),
            ("", true),
            ("oracle,!h2", false),
        ] {
            assert_eq!(for_postgresql(list), runs, "{list}");
        }
    }

    #[test]
    fn a_checksum_leaves_out_what_is_not_sql() {
        let sql = |text: &str| {
            let (found, _) = parse(Path::new("c.sql"), text).unwrap();
            without(text, found[0].section.clone(), &found[0].metadata)
        };
        let plain = sql("--liquibase formatted sql\n--changeset a:1\nCREATE TABLE t (x int);\n");
        let dressed = sql(
            "--liquibase formatted sql\n--changeset a:1 context:prod\n--comment: the table\nCREATE TABLE t (x int);\n--rollback DROP TABLE t;\n",
        );
        assert_eq!(plain, dressed);
        assert_eq!(plain, "CREATE TABLE t (x int);\n");
    }
}
