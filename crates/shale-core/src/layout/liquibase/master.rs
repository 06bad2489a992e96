//! Liquibase's master changelogs, in XML or YAML: the order the changelogs and changesets run in.
//! A master may include formatted SQL changelogs (`include`, `includeAll`), include other master
//! changelogs (read in their turn), and hold changesets of its own whose change is an `sqlFile`
//! (each such changeset one migration: the file its up, the `sqlFile` of its `rollback` its down).
//! A changeset with any other change (`createTable`, inline `sql`) is Liquibase's to run: refused
//! at its line.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::layout::LoadError;

/// The master changelog of the folder and what it runs, in order.
#[derive(Debug)]
pub(in crate::layout) struct Master {
    pub path: PathBuf,
    pub items: Vec<Item>,
    /// The names of the properties the changelogs define (`<property name="schema" .../>`).
    properties: Vec<String>,
}

/// One thing a master changelog runs.
#[derive(Debug)]
pub(in crate::layout) enum Item {
    /// A formatted SQL changelog, relative to the migrations directory.
    Changelog(PathBuf),
    /// A changeset of a master changelog whose change is an `sqlFile`.
    SqlFile(SqlFileChangeset),
}

#[derive(Debug, Default)]
pub(in crate::layout) struct SqlFileChangeset {
    pub author: String,
    pub id: String,
    /// Its SQL file, relative to the migrations directory.
    pub file: PathBuf,
    /// The SQL file of its rollback, if it has one.
    pub rollback: Option<PathBuf>,
    /// `runInTransaction="false"` on the changeset or `sqlFile`, with the changelog's line.
    pub no_transaction: Option<String>,
    /// `runOnChange="true"`: run again whenever the file changes.
    pub run_on_change: bool,
    /// Why it does not run on PostgreSQL (`dbms` naming other databases).
    pub skipped: Option<String>,
}

/// How deep master changelogs may include one another.
const MAX_NESTING: usize = 8;

impl Master {
    /// The master changelog among `others` (the folder's top-level files that are not SQL), if
    /// there is one; `sql` are the SQL files read, relative to `dir`.
    pub(in crate::layout) fn find(
        dir: &Path,
        others: &[PathBuf],
        sql: &[&Path],
    ) -> Result<Option<Master>, Vec<LoadError>> {
        let mut masters: Vec<(PathBuf, String)> = others
            .iter()
            .filter(|name| Format::of(name).is_some())
            .filter_map(|name| {
                let text = std::fs::read_to_string(dir.join(name)).ok()?;
                text.contains("databaseChangeLog").then(|| (name.clone(), text))
            })
            .collect();
        // Of several, the one named the master (`db.changelog-master.yaml`).
        if masters.len() > 1 {
            masters.retain(|(name, _)| name.to_string_lossy().to_ascii_lowercase().contains("master"));
        }
        let [(name, text)] = masters.as_slice() else {
            return match masters.is_empty() {
                true => Ok(None),
                false => Err(vec![LoadError::file(
                    dir,
                    "holds several master changelogs, and shale cannot tell which one Liquibase runs",
                    Some("keep the one Liquibase is given in this folder, and the others out of it".into()),
                )]),
            };
        };
        let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut reading = Reading { root: &root, sql, items: Vec::new(), properties: Vec::new(), errors: Vec::new() };
        reading.changelog(&dir.join(name), text, 0);
        match reading.errors.is_empty() {
            true => Ok(Some(Master { path: dir.join(name), items: reading.items, properties: reading.properties })),
            false => Err(reading.errors),
        }
    }

    /// Where the changelog `relative` runs among the items, if the master includes it.
    pub(in crate::layout) fn place_of(&self, relative: &Path) -> Option<usize> {
        self.items.iter().position(|item| matches!(item, Item::Changelog(p) if p == relative))
    }

    /// Where `text` (SQL shale runs) uses one of the changelogs' properties, `${name}`, which
    /// Liquibase substitutes and shale does not: its offset and name.
    pub(in crate::layout) fn property_in<'p>(&'p self, text: &str) -> Option<(usize, &'p str)> {
        self.properties.iter().find_map(|name| text.find(&format!("${{{name}}}")).map(|at| (at, name.as_str())))
    }

    /// Whether an `sqlFile` changeset reads `relative` (as its SQL or its rollback's).
    pub(in crate::layout) fn reads(&self, relative: &Path) -> bool {
        self.items.iter().any(|item| match item {
            Item::SqlFile(c) => c.file == relative || c.rollback.as_deref() == Some(relative),
            Item::Changelog(_) => false,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Yaml,
}

impl Format {
    fn of(name: &Path) -> Option<Format> {
        match name.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xml" => Some(Format::Xml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// An element of a changelog, as XML and YAML both write it: its name (`include`, `changeSet`,
/// `sqlFile`), its attributes (or scalar keys), what it holds, and its line.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    /// Where it starts (1-based; 0 when not known).
    line: usize,
    column: usize,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn says(&self, name: &str, value: &str) -> bool {
        self.attribute(name).is_some_and(|v| v.eq_ignore_ascii_case(value))
    }
}

/// The elements of the changelog `text` (under its `databaseChangeLog`), or why it cannot be read.
fn parse(format: Format, text: &str) -> Result<Vec<Node>, (usize, String)> {
    match format {
        Format::Xml => {
            let document = roxmltree::Document::parse(text).map_err(|e| (e.pos().row as usize, e.to_string()))?;
            let at = |node: roxmltree::Node| {
                let position = document.text_pos_at(node.range().start);
                (position.row as usize, position.col as usize)
            };
            fn convert(node: roxmltree::Node, at: &dyn Fn(roxmltree::Node) -> (usize, usize)) -> Node {
                let (line, column) = at(node);
                Node {
                    name: node.tag_name().name().to_string(),
                    attributes: node.attributes().map(|a| (a.name().to_string(), a.value().to_string())).collect(),
                    children: node.children().filter(|c| c.is_element()).map(|c| convert(c, at)).collect(),
                    line,
                    column,
                }
            }
            Ok(document.root_element().children().filter(|c| c.is_element()).map(|c| convert(c, &at)).collect())
        }
        Format::Yaml => {
            let documents = YamlLoader::load_from_str(text).map_err(|e| (e.marker().line(), e.to_string()))?;
            let Some(Yaml::Array(entries)) = documents.first().map(|d| &d["databaseChangeLog"]) else {
                return Ok(Vec::new());
            };
            let mut nodes = Vec::new();
            for entry in entries {
                if let Yaml::Hash(hash) = entry {
                    nodes.extend(hash.iter().map(|(k, v)| yaml_node(&scalar(k), v)));
                }
            }
            // YAML keeps no positions here: a changeset is found by its id's line.
            for node in &mut nodes {
                (node.line, node.column) = node.attribute("id").map_or((0, 0), |id| line_holding(text, "id:", id));
            }
            Ok(nodes)
        }
    }
}

/// A YAML value as an element: scalars its attributes, a list of changes its children (as XML
/// holds them), another list or map a child of that name.
fn yaml_node(name: &str, value: &Yaml) -> Node {
    let mut node = Node { name: name.to_string(), ..Node::default() };
    match value {
        Yaml::Hash(hash) => {
            for (key, value) in hash {
                let key = scalar(key);
                match value {
                    Yaml::Array(items) => {
                        let mut holder = Node { name: key.clone(), ..Node::default() };
                        for item in items {
                            match item {
                                Yaml::Hash(inner) => {
                                    holder.children.extend(inner.iter().map(|(k, v)| yaml_node(&scalar(k), v)))
                                }
                                other => holder.attributes.push(("value".into(), scalar(other))),
                            }
                        }
                        match key.as_str() {
                            "changes" => node.children.extend(holder.children),
                            _ => node.children.push(holder),
                        }
                    }
                    Yaml::Hash(_) => node.children.push(yaml_node(&key, value)),
                    scalar_value => node.attributes.push((key, scalar(scalar_value))),
                }
            }
        }
        other => node.attributes.push(("value".into(), scalar(other))),
    }
    node
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The line and column of `text` where `key` is followed by `value` (1-based; 0 when not found).
fn line_holding(text: &str, key: &str, value: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(index, line)| {
            let column = line.find(key)?;
            let rest = line[column + key.len()..].trim().trim_matches(['"', '\'']);
            (rest == value).then_some((index + 1, column + 1))
        })
        .unwrap_or((0, 0))
}

/// An error at a place in the changelog `path` (a line of 0: its place is not known).
fn located(path: &Path, (line, column): (usize, usize), message: String, hint: &str) -> LoadError {
    LoadError {
        position: (line > 0).then_some((line, column.max(1))),
        ..LoadError::file(path, message, Some(hint.into()))
    }
}

struct Reading<'a> {
    root: &'a Path,
    sql: &'a [&'a Path],
    items: Vec<Item>,
    properties: Vec<String>,
    errors: Vec<LoadError>,
}

impl Reading<'_> {
    /// Appends what the changelog `path` (holding `text`) runs, in its order.
    fn changelog(&mut self, path: &Path, text: &str, depth: usize) {
        let format = Format::of(path).unwrap_or(Format::Xml);
        let at = |position: (usize, usize), message: String, hint: &str| located(path, position, message, hint);
        let nodes = match parse(format, text) {
            Ok(nodes) => nodes,
            Err((line, message)) => {
                let message = format!("cannot be read as a Liquibase changelog: {message}");
                self.errors.push(at((line, 1), message, "fix the file"));
                return;
            }
        };
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let folder = canonical.parent().unwrap_or(self.root).to_path_buf();
        for node in nodes {
            match node.name.as_str() {
                "include" | "includeAll" => self.include(path, &folder, &node, depth),
                "changeSet" => match self.changeset(&folder, &node) {
                    Ok(changeset) => self.items.push(Item::SqlFile(changeset)),
                    Err((message, hint)) => self.errors.push(at((node.line, node.column), message, hint)),
                },
                // Defined for changesets in XML most often (JHipster's `now`, `floatType`): only
                // one written into the SQL shale runs is a problem ([`Master::property_in`]).
                "property" => self.properties.extend(node.attribute("name").map(str::to_string)),
                "preConditions" => self.errors.push(at(
                    (node.line, node.column),
                    "`preConditions`: shale does not check Liquibase's preconditions".into(),
                    "write the check in the SQL (IF NOT EXISTS, a DO block), then remove them",
                )),
                _ => {}
            }
        }
    }

    fn include(&mut self, path: &Path, folder: &Path, node: &Node, depth: usize) {
        let at = |position: (usize, usize), message: String, hint: &str| located(path, position, message, hint);
        let all = node.name == "includeAll";
        let written = node.attribute(if all { "path" } else { "file" }).unwrap_or_default();
        let target = self.target(written);
        let relative = node.says("relativeToChangelogFile", "true");
        let root = self.root;
        // Relative to the changelog, or to the classpath: the folders above the migrations
        // directory then lead to it, and a path is known by how it ends (a copy of the folder
        // elsewhere, by the files' own paths ending the one included).
        let names = |file: &Path| match relative {
            true => root.join(file) == folder.join(&target),
            false => root.join(file).ends_with(&target) || target.ends_with(file),
        };
        let under = |file: &Path| {
            file.ancestors().skip(1).any(|a| match relative {
                true => root.join(a) == folder.join(&target),
                false => root.join(a).ends_with(&target) || (!a.as_os_str().is_empty() && target.ends_with(a)),
            })
        };
        let mut found: Vec<PathBuf> = match all {
            true => self.sql.iter().filter(|f| under(f)).map(|f| f.to_path_buf()).collect(),
            false => self.sql.iter().filter(|f| names(f)).map(|f| f.to_path_buf()).take(1).collect(),
        };
        found.sort();
        if found.is_empty() && !all {
            // Another master changelog, included in its turn.
            let nested = if relative { folder.join(&target) } else { root.join(&target) };
            let nested_text = std::fs::read_to_string(&nested).ok().filter(|_| Format::of(&target).is_some());
            match nested_text {
                Some(_) if depth >= MAX_NESTING => self.errors.push(at(
                    (node.line, node.column),
                    format!("includes changelogs more than {MAX_NESTING} deep"),
                    "a changelog that includes itself loops: include each once",
                )),
                Some(text) => self.changelog(&nested, &text, depth + 1),
                None => self.errors.push(at(
                    (node.line, node.column),
                    format!("includes {written}, which is not among the SQL files of the migrations directory"),
                    "point the migrations directory at the folder holding this changelog and what it includes",
                )),
            }
            return;
        }
        // Included twice, it runs once, where first included (as Liquibase runs a changeset).
        for file in found {
            if !self.items.iter().any(|item| matches!(item, Item::Changelog(p) if *p == file)) {
                self.items.push(Item::Changelog(file));
            }
        }
    }

    /// A path as a changelog writes it, `classpath:` and leading slashes dropped.
    fn target(&self, written: &str) -> PathBuf {
        let bare = written.trim_start_matches("classpath*:").trim_start_matches("classpath:");
        PathBuf::from(bare.trim_start_matches('/'))
    }

    /// The SQL file `written` refers to, relative to the migrations directory.
    fn sql_file(&self, folder: &Path, written: &str, relative: bool) -> Option<PathBuf> {
        let target = self.target(written);
        self.sql
            .iter()
            .find(|f| match relative {
                true => self.root.join(f) == folder.join(&target),
                false => self.root.join(f).ends_with(&target) || target.ends_with(f),
            })
            .map(|f| f.to_path_buf())
    }

    /// A changeset written in a master changelog: one whose change is an `sqlFile`.
    fn changeset(&self, folder: &Path, node: &Node) -> Result<SqlFileChangeset, (String, &'static str)> {
        let id = node.attribute("id").unwrap_or_default().to_string();
        let author = node.attribute("author").unwrap_or_default().to_string();
        let named = format!("changeset {author}:{id}");
        let mut changeset = SqlFileChangeset { author, id, ..Default::default() };
        let file_of = |file_node: &Node| -> Result<PathBuf, (String, &'static str)> {
            let written = file_node.attribute("path").unwrap_or_default();
            self.sql_file(folder, written, file_node.says("relativeToChangelogFile", "true")).ok_or_else(|| {
                (
                    format!(
                        "{named} runs the file {written}, which is not among the SQL files of the migrations directory"
                    ),
                    "point the migrations directory at the folder holding the changelog and its SQL files",
                )
            })
        };
        if node.says("runInTransaction", "false") {
            changeset.no_transaction = Some(format!("`runInTransaction=\"false\"` (changelog line {})", node.line));
        }
        changeset.run_on_change = node.says("runOnChange", "true");
        if node.says("runAlways", "true") {
            return Err((
                format!("{named} says runAlways: shale runs a changeset once, or again when it changes"),
                "make it runOnChange, or put what must run at every deploy in a seed file",
            ));
        }
        if node.says("failOnError", "false") {
            return Err((
                format!("{named} says failOnError=false: shale stops at an error, and applies it whole or not at all"),
                "make the SQL succeed where it may fail (IF EXISTS, IF NOT EXISTS), then remove the attribute",
            ));
        }
        if let Some(dbms) = node.attribute("dbms").filter(|d| !super::for_postgresql(d)) {
            changeset.skipped = Some(format!("is for other databases (dbms: {dbms})"));
        }
        let mut files = Vec::new();
        for child in &node.children {
            match child.name.as_str() {
                "sqlFile" => {
                    if let Some(delimiter) = child.attribute("endDelimiter").filter(|d| !d.is_empty() && *d != ";") {
                        return Err((
                            format!("{named}: endDelimiter {delimiter}: shale ends statements where PostgreSQL does, at `;` outside quotes and dollar quotes"),
                            "end the statements with `;` and remove the attribute",
                        ));
                    }
                    files.push(file_of(child)?);
                }
                "rollback" => {
                    let rollback_file = child.children.iter().find(|c| c.name == "sqlFile");
                    match rollback_file {
                        Some(file) => changeset.rollback = Some(file_of(file)?),
                        None if child.children.is_empty() && child.attribute("value").is_none() => {}
                        None => {
                            return Err((
                                format!("{named}: its rollback is not an sqlFile, which shale reads"),
                                "write the rollback in an SQL file and give it as the rollback's sqlFile",
                            ))
                        }
                    }
                }
                "comment" | "validCheckSum" => {}
                "preConditions" => {
                    return Err((
                        format!("{named} has preconditions, which shale does not check"),
                        "write the check in the SQL (IF NOT EXISTS, a DO block), then remove them",
                    ))
                }
                other => {
                    return Err((
                        format!("{named} uses `{other}`, a change shale does not run: shale runs changesets of SQL, an sqlFile or a formatted SQL changelog"),
                        "write it as SQL (an sqlFile, or a formatted SQL changelog), or keep Liquibase for this folder",
                    ))
                }
            }
        }
        match files.as_slice() {
            [file] => {
                changeset.file = file.clone();
                Ok(changeset)
            }
            [] => Err((format!("{named} runs no sqlFile"), "give it one sqlFile, or remove it")),
            _ => Err((
                format!("{named} runs several sqlFiles, and shale one file per migration"),
                "give each file a changeset of its own",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_yaml_changelogs_read_alike() {
        let xml = r#"<?xml version="1.0"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <!-- <include file="old.sql"/> -->
  <include file="db/changelog/b.sql"/>
  <changeSet id="2" author="ann" runInTransaction="false">
    <comment>an index</comment>
    <sqlFile path="sql/index.sql" relativeToChangelogFile="true"/>
    <rollback><sqlFile path="sql/index-down.sql" relativeToChangelogFile="true"/></rollback>
  </changeSet>
</databaseChangeLog>"#;
        let yaml = "databaseChangeLog:\n  # first\n  - include:\n      file: db/changelog/b.sql\n  - changeSet:\n      \
                    id: 2\n      author: ann\n      runInTransaction: false\n      changes:\n        - sqlFile:\n            \
                    path: sql/index.sql\n            relativeToChangelogFile: true\n      rollback:\n        - sqlFile:\n            \
                    path: sql/index-down.sql\n            relativeToChangelogFile: true\n";
        for (format, text, changeset_line) in [(Format::Xml, xml, 5), (Format::Yaml, yaml, 6)] {
            let nodes = parse(format, text).unwrap();
            let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, ["include", "changeSet"], "{format:?}");
            assert_eq!(nodes[0].attribute("file"), Some("db/changelog/b.sql"));
            let changeset = &nodes[1];
            assert_eq!((changeset.attribute("id"), changeset.line), (Some("2"), changeset_line), "{format:?}");
            assert!(changeset.column > 1, "{format:?}");
            assert!(changeset.says("runInTransaction", "false"));
            let children: Vec<&str> = changeset.children.iter().map(|n| n.name.as_str()).collect();
            let file = changeset.children.iter().find(|c| c.name == "sqlFile").unwrap();
            assert_eq!(file.attribute("path"), Some("sql/index.sql"), "{format:?}: {children:?}");
            let rollback = changeset.children.iter().find(|c| c.name == "rollback").unwrap();
            assert_eq!(rollback.children[0].attribute("path"), Some("sql/index-down.sql"), "{format:?}");
        }
    }

    #[test]
    fn a_changelog_that_is_not_xml_says_where() {
        let (line, message) =
            parse(Format::Xml, "<databaseChangeLog>\n  <include file=a.sql/>\n</databaseChangeLog>\n").unwrap_err();
        assert_eq!(line, 2, "{message}");
    }
}
