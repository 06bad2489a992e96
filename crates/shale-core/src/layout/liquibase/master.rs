//! Liquibase's master changelogs, in XML or YAML: the order the changelogs and changesets run in.
//! A master includes formatted SQL changelogs (`include`, `includeAll`), other master changelogs
//! (read in their turn), and holds changesets of its own. Of those, shale runs the ones written in
//! SQL: an `sqlFile` (the file is the changeset's SQL), or in XML an inline `sql` (its text, as it
//! stands in the changelog); their `rollback`, an `sqlFile` or inline SQL, is the down. A
//! changeset with any other change (`createTable`, `addColumn`) is Liquibase's to run, refused at
//! its line.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_rust2::{Yaml, YamlLoader};

use super::{Attributes, LiquibaseSelection, Selectors};
use crate::layout::LoadError;

/// The master changelog of the folder and what it runs, in order.
#[derive(Debug)]
pub(in crate::layout) struct Master {
    pub path: PathBuf,
    pub items: Vec<Item>,
    /// The properties the changelogs define for PostgreSQL (`<property name="schema" value="app"/>`).
    pub properties: Vec<(String, String)>,
}

/// One thing a master changelog runs.
#[derive(Debug)]
pub(in crate::layout) enum Item {
    /// A formatted SQL changelog, relative to the migrations directory, and the `context` and
    /// `labels` of the includes that bring it in.
    Changelog(PathBuf, Selectors),
    /// A changeset written in a master changelog (or an SQL file included as it is, which
    /// Liquibase runs as one changeset).
    Changeset(Box<MasterChangeset>),
}

/// A changeset of a master changelog, written in SQL.
#[derive(Debug)]
pub(in crate::layout) struct MasterChangeset {
    pub author: String,
    pub id: String,
    /// Its line in its changelog.
    pub line: usize,
    pub attributes: Attributes,
    /// The changelog it is written in, as Liquibase records it (relative to the migrations
    /// directory), and its path.
    pub changelog: String,
    pub changelog_path: PathBuf,
    pub up: Sql,
    pub rollback: Option<Sql>,
}

impl MasterChangeset {
    /// An SQL file that is no changelog, as Liquibase runs it when a changelog (or `includeAll`)
    /// includes it: whole, as one changeset `raw` by `includeAll`, recorded under its own path.
    pub(in crate::layout) fn raw(relative: PathBuf, path: PathBuf) -> MasterChangeset {
        MasterChangeset {
            author: "includeAll".into(),
            id: "raw".into(),
            line: 1,
            attributes: Attributes::default(),
            changelog: crate::layout::relative_text(&relative),
            changelog_path: path,
            up: Sql::File(relative),
            rollback: None,
        }
    }
}

/// Where a changeset's SQL is.
#[derive(Debug, Clone)]
pub(in crate::layout) enum Sql {
    /// An SQL file, relative to the migrations directory.
    File(PathBuf),
    /// Written in the changelog: the changelog with only this SQL left where it stands (see
    /// [`sql_view`]), and the changeset's part of it.
    Inline { view: Arc<str>, section: Range<usize> },
}

/// How deep master changelogs may include one another.
const MAX_NESTING: usize = 8;

impl Master {
    /// The master changelog among `others` (the folder's top-level files that are not SQL), if
    /// there is one; `sql` are the SQL files read, relative to `dir`. What the `selection` leaves
    /// out (changesets, properties) is not read further: a changeset Liquibase would not run
    /// here is not refused for what it holds.
    pub(in crate::layout) fn find(
        dir: &Path,
        others: &[PathBuf],
        sql: &[&Path],
        selection: &LiquibaseSelection,
    ) -> Result<Option<Master>, Vec<LoadError>> {
        let mut masters = Vec::new();
        for name in others.iter().filter(|name| Format::of(name).is_some()) {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                vec![LoadError::file(&path, format!("cannot be read: {e}"), Some("save it as UTF-8 text".into()))]
            })?;
            if text.contains("databaseChangeLog") {
                masters.push((name.clone(), text));
            }
        }
        // Of several, the one named the master (`db.changelog-master.yaml`).
        if masters.len() > 1 {
            let named: Vec<_> = masters
                .iter()
                .filter(|(name, _)| name.to_string_lossy().to_ascii_lowercase().contains("master"))
                .cloned()
                .collect();
            if named.len() == 1 {
                masters = named;
            }
        }
        let (name, text) = match masters.as_slice() {
            [] => return Ok(None),
            [one] => one,
            several => {
                let names: Vec<String> = several.iter().map(|(n, _)| n.display().to_string()).collect();
                return Err(vec![LoadError::file(
                    dir,
                    format!(
                        "holds several Liquibase changelogs ({}), and shale cannot tell which one is the master Liquibase runs",
                        names.join(", ")
                    ),
                    Some("keep the master in this folder and the changelogs it includes in folders below it".into()),
                )]);
            }
        };
        let path = dir.join(name);
        if Format::of(name) == Some(Format::Json) {
            return Err(vec![LoadError::file(
                &path,
                "is a Liquibase changelog in JSON, which shale does not read",
                Some("write the master changelog in XML or YAML".into()),
            )]);
        }
        let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut reader = MasterReader {
            root: &root,
            sql,
            read: Vec::new(),
            items: Vec::new(),
            properties: Vec::new(),
            errors: Vec::new(),
            inherited: Selectors::default(),
            selection,
        };
        reader.changelog(&path, text, 0);
        match reader.errors.is_empty() {
            true => Ok(Some(Master { path, items: reader.items, properties: reader.properties })),
            false => Err(reader.errors),
        }
    }

    /// Whether the master runs the SQL file `relative`: as a changelog, or as a changeset's SQL.
    pub(in crate::layout) fn runs(&self, relative: &Path) -> bool {
        self.includes(relative) || self.reads(relative)
    }

    /// Whether the master runs the SQL file `relative` whole, as a changelog of no changeset
    /// (`includeAll`'s `raw`), not as a changeset's `sqlFile`.
    pub(in crate::layout) fn runs_whole(&self, relative: &Path) -> bool {
        self.items.iter().any(|item| match item {
            Item::Changeset(c) => c.id == "raw" && matches!(&c.up, Sql::File(p) if p == relative),
            Item::Changelog(..) => false,
        })
    }

    /// Whether the master runs the formatted SQL changelog `relative`.
    pub(in crate::layout) fn includes(&self, relative: &Path) -> bool {
        self.items.iter().any(|item| matches!(item, Item::Changelog(p, _) if p == relative))
    }

    /// Whether a changeset of the master reads `relative` (as its SQL or its rollback's).
    pub(in crate::layout) fn reads(&self, relative: &Path) -> bool {
        let names = |sql: &Sql| matches!(sql, Sql::File(p) if p == relative);
        self.items.iter().any(|item| match item {
            Item::Changeset(c) => names(&c.up) || c.rollback.as_ref().is_some_and(names),
            Item::Changelog(..) => false,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Yaml,
    Json,
}

impl Format {
    fn of(name: &Path) -> Option<Format> {
        match name.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xml" => Some(Format::Xml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// An element of a changelog, as XML and YAML both write it: its name (`include`, `changeSet`,
/// `sqlFile`), its attributes (or scalar keys), what it holds, its text, and where it starts.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    /// Where its text stands in the changelog, as written and as read (XML's `sql` and
    /// `rollback`); a YAML scalar's value, with no place.
    text: Vec<(Option<Range<usize>>, String)>,
    /// Where it starts (1-based; 0 when not known).
    line: usize,
    column: usize,
    /// Its extent in the changelog (XML).
    range: Range<usize>,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn says(&self, name: &str, value: &str) -> bool {
        self.attribute(name).is_some_and(|v| v.eq_ignore_ascii_case(value))
    }

    fn at(&self) -> (usize, usize) {
        (self.line, self.column)
    }
}

/// The changelog `text` as its `databaseChangeLog` element (its attributes, `logicalFilePath`, and
/// its elements as children), or where and why it cannot be read.
fn parse(format: Format, text: &str) -> Result<Node, ((usize, usize), String)> {
    match format {
        Format::Xml => {
            let document = roxmltree::Document::parse(text)
                .map_err(|e| ((e.pos().row as usize, e.pos().col as usize), e.to_string()))?;
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
                    text: node
                        .children()
                        .filter(|c| c.is_text())
                        .map(|c| (Some(c.range()), c.text().unwrap_or_default().to_string()))
                        .collect(),
                    line,
                    column,
                    range: node.range(),
                }
            }
            Ok(convert(document.root_element(), &at))
        }
        Format::Yaml | Format::Json => {
            let documents = YamlLoader::load_from_str(text)
                .map_err(|e| ((e.marker().line(), e.marker().col() + 1), e.to_string()))?;
            let root = |children| Node { name: "databaseChangeLog".into(), children, ..Node::default() };
            let Some(Yaml::Array(entries)) = documents.first().map(|d| &d["databaseChangeLog"]) else {
                return Ok(root(Vec::new()));
            };
            let mut nodes = Vec::new();
            for entry in entries {
                if let Yaml::Hash(hash) = entry {
                    nodes.extend(hash.iter().map(|(k, v)| yaml_node(&scalar(k), v)));
                }
            }
            // YAML keeps no positions here: an element is found by the line of its key value.
            for node in &mut nodes {
                let (key, value) = match node.name.as_str() {
                    "include" => ("file:", node.attribute("file")),
                    "includeAll" => ("path:", node.attribute("path")),
                    "property" => ("name:", node.attribute("name")),
                    _ => ("id:", node.attribute("id")),
                };
                let found = value.map(|v| line_holding(text, key, v)).filter(|p| p.0 > 0);
                (node.line, node.column) = found.or_else(|| line_holding_key(text, &node.name)).unwrap_or((0, 0));
            }
            Ok(root(nodes))
        }
    }
}

/// A YAML value as an element: scalars its attributes, a list of changes its children (as XML
/// holds them), another list or map a child of that name, a scalar alone its text.
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
                                other => holder.text.push((None, scalar(other))),
                            }
                        }
                        match key.as_str() {
                            "changes" => node.children.extend(holder.children),
                            _ => node.children.push(holder),
                        }
                    }
                    Yaml::Hash(_) => node.children.push(yaml_node(&key, value)),
                    // A change written as a scalar (`rollback: DROP TABLE x`, `sql: ...`).
                    scalar_value if matches!(key.as_str(), "rollback" | "sql") => {
                        node.children.push(Node {
                            name: key,
                            text: vec![(None, scalar(scalar_value))],
                            ..Node::default()
                        });
                    }
                    scalar_value => node.attributes.push((key, scalar(scalar_value))),
                }
            }
        }
        other => node.text.push((None, scalar(other))),
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

/// The first line holding `name:` as a key (a YAML element without a value to find it by).
fn line_holding_key(text: &str, name: &str) -> Option<(usize, usize)> {
    let key = format!("{name}:");
    text.lines().enumerate().find_map(|(index, line)| {
        let column = line.find(&key)?;
        line[..column].trim_start_matches([' ', '-']).is_empty().then_some((index + 1, column + 1))
    })
}

/// An error at a place in the changelog `path` (a line of 0: its place is not known).
fn located(path: &Path, (line, column): (usize, usize), message: String, hint: &str) -> LoadError {
    LoadError {
        position: (line > 0).then_some((line, column.max(1))),
        ..LoadError::file(path, message, Some(hint.into()))
    }
}

/// The changelog `text` with only the SQL of `parts` left where it stands, everything else
/// blanked (line ends kept), so that a statement's line is the changelog's. A part read with XML's
/// entities (`&lt;`) is shorter than it is written: each of its lines is put where the written
/// line starts and padded to its length (the lines stay, a column after an entity moves).
/// Nothing when a part's lines cannot be matched to the written ones.
fn sql_view(text: &str, parts: &[(Range<usize>, String)]) -> Option<String> {
    let mut view = super::blanked(text);
    for (written, read) in parts {
        let raw = &text[written.clone()];
        if raw == read {
            view[written.clone()].copy_from_slice(raw.as_bytes());
            continue;
        }
        // CDATA's markup, or entities: line by line.
        let (raw_lines, read_lines): (Vec<&str>, Vec<&str>) = (raw.split('\n').collect(), read.split('\n').collect());
        if raw_lines.len() != read_lines.len() {
            return None;
        }
        let mut at = written.start;
        for (raw_line, read_line) in raw_lines.iter().zip(&read_lines) {
            let room = raw_line.len();
            // The first line's CDATA opening, the last's closing, left blank.
            let skip = raw_line.find("<![CDATA[").map_or(0, |i| i + 9);
            if read_line.len() > room.saturating_sub(skip) {
                return None;
            }
            view[at + skip..at + skip + read_line.len()].copy_from_slice(read_line.as_bytes());
            at += room + 1;
        }
    }
    String::from_utf8(view).ok()
}

struct MasterReader<'a> {
    root: &'a Path,
    sql: &'a [&'a Path],
    /// The changelogs read, by their canonical path: one included twice runs once.
    read: Vec<PathBuf>,
    items: Vec<Item>,
    properties: Vec<(String, String)>,
    errors: Vec<LoadError>,
    /// The `context` and `labels` of the includes that brought in the changelog being read.
    inherited: Selectors,
    selection: &'a LiquibaseSelection,
}

impl MasterReader<'_> {
    /// Appends what the changelog `path` (holding `text`) runs, in its order.
    fn changelog(&mut self, path: &Path, text: &str, depth: usize) {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.read.contains(&canonical) {
            return;
        }
        self.read.push(canonical.clone());
        let format = Format::of(path).unwrap_or(Format::Xml);
        let root = match parse(format, text) {
            Ok(root) => root,
            Err((at, message)) => {
                let message = format!("cannot be read as a Liquibase changelog: {message}");
                self.errors.push(located(path, at, message, "fix the file"));
                return;
            }
        };
        let folder = canonical.parent().unwrap_or(self.root).to_path_buf();
        // The changelog's own `logicalFilePath` is what Liquibase records its changesets under.
        let recorded = match root.attribute("logicalFilePath") {
            Some(logical) => logical.to_string(),
            None => crate::layout::relative_text(canonical.strip_prefix(self.root).unwrap_or(&canonical)),
        };
        // The changelog's own `context` and `labels` hold for every changeset in it.
        let mut own = Selectors::default();
        for (key, value) in &root.attributes {
            own.set(key, value);
        }
        let outer = std::mem::take(&mut self.inherited);
        self.inherited = own.with(&outer);
        self.read_nodes(path, text, root.children, (&folder, &recorded, format), depth);
        self.inherited = outer;
    }

    /// The nodes of the changelog `path` (holding `text`), in its order.
    fn read_nodes(
        &mut self,
        path: &Path,
        text: &str,
        nodes: Vec<Node>,
        (folder, recorded, format): (&Path, &str, Format),
        depth: usize,
    ) {
        // Views of its SQL for its changesets (one with no SQL, `tagDatabase` alone, too).
        let inline = nodes.iter().any(|n| n.name == "changeSet");
        let (mut ups, mut rollbacks) = (Vec::new(), Vec::new());
        for node in &nodes {
            match node.name.as_str() {
                "include" | "includeAll" => self.include(path, folder, node, depth),
                "changeSet" => match self.changeset(path, folder, recorded, format, node) {
                    Ok(changeset) => self.items.push(Item::Changeset(Box::new(changeset))),
                    Err((message, hint)) => self.errors.push(located(path, node.at(), message, hint)),
                },
                // Its value, for PostgreSQL, fills `${name}` where the SQL uses it.
                "property" => {
                    let for_postgresql = node.attribute("dbms").is_none_or(super::for_postgresql);
                    let mut selectors = Selectors::default();
                    for (key, value) in &node.attributes {
                        selectors.set(key, value);
                    }
                    let selectors = selectors.with(&self.inherited);
                    let selected = self.selection.leaves_out(&selectors.contexts, &selectors.labels);
                    let for_postgresql = for_postgresql && !matches!(selected, Ok(Some(_)));
                    if let (Some(name), Some(value), true) =
                        (node.attribute("name"), node.attribute("value"), for_postgresql)
                    {
                        self.properties.push((name.to_string(), value.to_string()));
                    }
                }
                "preConditions" => self.errors.push(located(
                    path,
                    node.at(),
                    "`preConditions`: shale does not check Liquibase's preconditions".into(),
                    "write the check in the SQL (IF NOT EXISTS, a DO block), then remove them",
                )),
                _ => {}
            }
            if inline && node.name == "changeSet" {
                let (up, rollback) = inline_parts(node);
                ups.extend(up);
                rollbacks.extend(rollback);
            }
        }
        if !inline {
            return;
        }
        // The changesets written inline share two views of this changelog: their SQL's, and
        // their rollbacks'.
        let (Some(up_view), Some(rollback_view)) = (sql_view(text, &ups), sql_view(text, &rollbacks)) else {
            self.errors.push(located(
                path,
                (1, 1),
                "its inline SQL could not be placed on the lines it is written on".into(),
                "write it in a CDATA section, or in an sqlFile",
            ));
            return;
        };
        let (up_view, rollback_view): (Arc<str>, Arc<str>) = (up_view.into(), rollback_view.into());
        for item in self.items.iter_mut() {
            let Item::Changeset(c) = item else { continue };
            if c.changelog_path != path {
                continue;
            }
            if let Sql::Inline { view, .. } = &mut c.up {
                *view = up_view.clone();
            }
            if let Some(Sql::Inline { view, .. }) = &mut c.rollback {
                *view = rollback_view.clone();
            }
        }
    }

    fn include(&mut self, path: &Path, folder: &Path, node: &Node, depth: usize) {
        let all = node.name == "includeAll";
        let key = if all { "path" } else { "file" };
        let Some(written) = node.attribute(key).filter(|w| !w.trim().is_empty()) else {
            let message = format!("an `{}` without its `{key}`", node.name);
            self.errors.push(located(path, node.at(), message, "name what it includes"));
            return;
        };
        let relative_to_changelog = node.says("relativeToChangelogFile", "true");
        let Some(target) = self.resolve(folder, written, relative_to_changelog) else {
            let message = format!("includes {written}, which is not in the migrations directory");
            let hint = "point the migrations directory at the folder holding the master changelog and what it includes";
            if !(all && node.says("errorIfMissingOrEmpty", "false")) {
                self.errors.push(located(path, node.at(), message, hint));
            }
            return;
        };
        let files = match all {
            true => {
                let found = self.folder_changelogs(&target);
                if found.is_empty() && !node.says("errorIfMissingOrEmpty", "false") {
                    let message = format!("includes every changelog of {written}, which holds none");
                    self.errors.push(located(path, node.at(), message, "add changelogs to it, or remove the include"));
                }
                found
            }
            false => vec![target],
        };
        // What it brings in carries its `context` and `labels`, after those of the includes above.
        let mut own = Selectors::default();
        for (key, value) in &node.attributes {
            own.set(key, value);
        }
        let outer = std::mem::take(&mut self.inherited);
        self.inherited = own.with(&outer);
        for file in files {
            let absolute = self.root.join(&file);
            if Format::of(&file).is_some() {
                match std::fs::read_to_string(&absolute) {
                    Ok(_) if depth >= MAX_NESTING => self.errors.push(located(
                        path,
                        node.at(),
                        format!("includes changelogs more than {MAX_NESTING} deep"),
                        "a changelog that includes itself loops: include each once",
                    )),
                    Ok(text) => self.changelog(&absolute, &text, depth + 1),
                    Err(e) => self.errors.push(located(
                        path,
                        node.at(),
                        format!("cannot read {}: {e}", file.display()),
                        "fix the file",
                    )),
                }
                continue;
            }
            if !self.sql.contains(&file.as_path()) {
                continue;
            }
            let text = std::fs::read(&absolute).unwrap_or_default();
            // Included twice, it runs once, where first included (as Liquibase runs a changeset).
            let known = |item: &Item| match item {
                Item::Changelog(p, _) => *p == file,
                Item::Changeset(c) => matches!(&c.up, Sql::File(p) if *p == file) && c.id == "raw",
            };
            if self.items.iter().any(known) {
                continue;
            }
            match super::is_changelog(&text) {
                true => self.items.push(Item::Changelog(file, self.inherited.clone())),
                // An SQL file of no changeset: Liquibase runs it whole, as one changeset it
                // records as `raw` by `includeAll`.
                false => {
                    let mut raw = MasterChangeset::raw(file, absolute);
                    raw.attributes.selectors = self.inherited.clone();
                    self.items.push(Item::Changeset(Box::new(raw)));
                }
            }
        }
        self.inherited = outer;
    }

    /// The file or folder a changelog names, relative to the migrations directory: relative to
    /// the changelog's `folder`, or to the classpath, whose root is the migrations directory or a
    /// folder above it (`db/changelog/changes/001.sql` is `changes/001.sql` in `db/changelog`):
    /// the longest end of the path that is there.
    fn resolve(&self, folder: &Path, written: &str, relative_to_changelog: bool) -> Option<PathBuf> {
        let bare = written.trim_start_matches("classpath*:").trim_start_matches("classpath:");
        // `./changes/001.sql` is `changes/001.sql`; a path climbing out (`..`) is not resolved
        // against the classpath, and, relative, must stay inside the migrations directory.
        let target: PathBuf = Path::new(bare.trim_start_matches('/'))
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        let target = target.as_path();
        if relative_to_changelog {
            let absolute = folder.join(target);
            let canonical = std::fs::canonicalize(&absolute).ok()?;
            return canonical.strip_prefix(self.root).ok().map(Path::to_path_buf);
        }
        let components: Vec<_> = target.components().collect();
        if components.iter().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return None;
        }
        (0..components.len()).find_map(|skip| {
            let candidate: PathBuf = components[skip..].iter().collect();
            self.root.join(&candidate).exists().then_some(candidate)
        })
    }

    /// The changelogs under `folder` (relative), in Liquibase's order: every SQL, XML and YAML
    /// file, its folders' included, by path as text.
    fn folder_changelogs(&self, folder: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut folders = vec![folder.to_path_buf()];
        while let Some(current) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&current)) else { continue };
            for entry in entries.flatten() {
                let relative = current.join(entry.file_name());
                if entry.path().is_dir() {
                    folders.push(relative);
                } else if Format::of(&relative).is_some_and(|f| f != Format::Json)
                    || self.sql.contains(&relative.as_path())
                {
                    found.push(relative);
                }
            }
        }
        found.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        found
    }

    /// The SQL file `written` refers to, relative to the migrations directory.
    fn sql_file(&self, folder: &Path, written: &str, relative_to_changelog: bool) -> Option<PathBuf> {
        self.resolve(folder, written, relative_to_changelog).filter(|f| self.sql.contains(&f.as_path()))
    }

    /// A changeset written in a changelog, whose change is SQL.
    fn changeset(
        &self,
        path: &Path,
        folder: &Path,
        recorded: &str,
        format: Format,
        node: &Node,
    ) -> Result<MasterChangeset, (String, &'static str)> {
        let id = node.attribute("id").unwrap_or_default().to_string();
        let author = node.attribute("author").unwrap_or_default().to_string();
        let named = format!("changeset {author}:{id}");
        let mut attributes = Attributes::default();
        for (key, value) in &node.attributes {
            attributes.set(key, value, node.line);
        }
        attributes.selectors = attributes.selectors.with(&self.inherited);
        let mut changeset = MasterChangeset {
            author,
            id,
            line: node.line,
            changelog: attributes.logical_file.clone().unwrap_or_else(|| recorded.to_string()),
            changelog_path: path.to_path_buf(),
            attributes,
            up: Sql::Inline { view: Arc::from(""), section: node.range.clone() },
            rollback: None,
        };
        // What a changeset that does not run on PostgreSQL, or that the selection leaves out,
        // holds does not matter (its expressions, if they do not read, are reported in place).
        let selectors = &changeset.attributes.selectors;
        let left_out = matches!(self.selection.leaves_out(&selectors.contexts, &selectors.labels), Ok(Some(_)));
        if changeset.attributes.skipped.is_some() || left_out {
            return Ok(changeset);
        }
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
        let inline_only = |what: &str| -> Result<(), (String, &'static str)> {
            match format {
                Format::Xml => Ok(()),
                _ => Err((
                    format!("{named}: its {what} is written in the YAML changelog, where shale cannot tell its lines"),
                    "write it in an sqlFile (or the changelog in XML, or as a formatted SQL changelog)",
                )),
            }
        };
        let mut files = Vec::new();
        let mut inline = false;
        for child in &node.children {
            // The change's own `endDelimiter` (`<sqlFile endDelimiter="/">`).
            if let Some(delimiter) = child.attribute("endDelimiter") {
                changeset.attributes.set("endDelimiter", delimiter, node.line);
            }
            match child.name.as_str() {
                "sqlFile" => files.push(file_of(child)?),
                "sql" => {
                    inline_only("SQL")?;
                    inline = true;
                }
                "rollback" => {
                    changeset.rollback = match child.children.iter().find(|c| c.name == "sqlFile") {
                        Some(file) => Some(Sql::File(file_of(file)?)),
                        None if child.text.iter().all(|(_, t)| t.trim().is_empty()) && child.children.is_empty() => {
                            None
                        }
                        // Its text, or its own `sql` changes (another change in it is refused below).
                        None if child.children.iter().all(|c| matches!(c.name.as_str(), "sql" | "comment")) => {
                            inline_only("rollback")?;
                            Some(Sql::Inline { view: Arc::from(""), section: child.range.clone() })
                        }
                        None => {
                            return Err((
                                format!("{named}: its rollback is neither SQL nor an sqlFile, which shale reads"),
                                "write the rollback in SQL",
                            ))
                        }
                    };
                }
                "comment" | "validCheckSum" | "tagDatabase" | "empty" | "output" => {}
                "preConditions" => {
                    return Err((
                        format!("{named} has preconditions, which shale does not check"),
                        "write the check in the SQL (IF NOT EXISTS, a DO block), then remove them",
                    ))
                }
                other => {
                    return Err((
                        format!(
                            "{named} uses `{other}`, a change shale does not run: shale runs changesets written in SQL"
                        ),
                        "write it as SQL (an sqlFile, or a formatted SQL changelog), or keep Liquibase for this folder",
                    ))
                }
            }
        }
        match (files.as_slice(), inline) {
            ([file], false) => changeset.up = Sql::File(file.clone()),
            ([], _) => {}
            _ => {
                return Err((
                    format!("{named} runs several SQL changes, and shale one SQL file or text per changeset"),
                    "give each file a changeset of its own",
                ))
            }
        }
        Ok(changeset)
    }
}

/// The inline SQL of a changeset, where each part stands and as it reads: its `sql` elements',
/// and its `rollback`'s (its text, or its own `sql` elements).
type InlineParts = Vec<(Range<usize>, String)>;

fn inline_parts(changeset: &Node) -> (InlineParts, InlineParts) {
    let placed = |node: &Node| -> InlineParts {
        node.text.iter().filter_map(|(at, text)| at.clone().map(|at| (at, text.clone()))).collect()
    };
    let (mut up, mut rollback) = (Vec::new(), Vec::new());
    for child in &changeset.children {
        match child.name.as_str() {
            "sql" => up.extend(placed(child)),
            "rollback" => {
                rollback.extend(placed(child));
                child.children.iter().filter(|c| c.name == "sql").for_each(|c| rollback.extend(placed(c)));
            }
            _ => {}
        }
    }
    (up, rollback)
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
        for (format, text, include_line, changeset_line) in [(Format::Xml, xml, 4, 5), (Format::Yaml, yaml, 4, 6)] {
            let nodes = parse(format, text).unwrap().children;
            let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, ["include", "changeSet"], "{format:?}");
            assert_eq!((nodes[0].attribute("file"), nodes[0].line), (Some("db/changelog/b.sql"), include_line));
            let changeset = &nodes[1];
            assert_eq!((changeset.attribute("id"), changeset.line), (Some("2"), changeset_line), "{format:?}");
            assert!(changeset.column > 1, "{format:?}");
            assert!(changeset.says("runInTransaction", "false"));
            let file = changeset.children.iter().find(|c| c.name == "sqlFile").unwrap();
            assert_eq!(file.attribute("path"), Some("sql/index.sql"), "{format:?}");
            let rollback = changeset.children.iter().find(|c| c.name == "rollback").unwrap();
            assert_eq!(rollback.children[0].attribute("path"), Some("sql/index-down.sql"), "{format:?}");
        }
    }

    #[test]
    fn inline_sql_stays_on_its_lines() {
        let xml = "<databaseChangeLog>\n  <changeSet id=\"1\" author=\"a\">\n    <sql>CREATE TABLE t (id int CHECK (id &lt; 10));</sql>\n    \
                   <rollback><![CDATA[\nDROP TABLE t;\n]]></rollback>\n  </changeSet>\n</databaseChangeLog>\n";
        let nodes = parse(Format::Xml, xml).unwrap().children;
        let (up, rollback) = inline_parts(&nodes[0]);
        let (up, rollback) = (sql_view(xml, &up).unwrap(), sql_view(xml, &rollback).unwrap());
        assert_eq!((up.len(), rollback.len()), (xml.len(), xml.len()));
        assert_eq!(up.lines().nth(2).unwrap().trim(), "CREATE TABLE t (id int CHECK (id < 10));");
        assert_eq!(up.split_whitespace().count(), 9);
        assert_eq!(rollback.lines().nth(4).unwrap().trim(), "DROP TABLE t;");
        assert_eq!(rollback.split_whitespace().count(), 3);
    }

    #[test]
    fn a_changelog_that_is_not_xml_says_where() {
        let text = "<databaseChangeLog>\n  <include file=a.sql/>\n</databaseChangeLog>\n";
        let ((line, _), message) = parse(Format::Xml, text).unwrap_err();
        assert_eq!(line, 2, "{message}");
    }
}
