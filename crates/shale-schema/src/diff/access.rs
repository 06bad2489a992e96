//! Row-level security, policies, comments on objects other than tables, columns and views,
//! privileges and default privileges.

use std::collections::{BTreeMap, BTreeSet};

use super::{key, mentions, Differ, TableKey};
use crate::compare::default_privileges_object;
use crate::dump::render::{
    comment_target, default_privilege_target, default_privileges_prefix, policy, privilege_target, role,
};
use crate::dump::{ident, literal, qualified};
use crate::model::{
    Comment, CommentKind, DefaultPrivilegeKind, DefaultPrivileges, Grant, ObjectPrivileges, Policy, PrivilegeKind,
    Schema,
};

/// Policies to drop (phase 1), to create (phase 5), and to change in place (old, new).
struct PolicyPlan<'a> {
    drop: Vec<&'a Policy>,
    create: Vec<&'a Policy>,
    alter: Vec<(&'a Policy, &'a Policy)>,
}

/// `ALTER POLICY` changes roles, USING and WITH CHECK, but cannot remove a clause, nor change
/// the command or PERMISSIVE / RESTRICTIVE.
fn alterable(old: &Policy, new: &Policy) -> bool {
    (old.permissive, &old.command) == (new.permissive, &new.command)
        && (old.using.is_none() || new.using.is_some())
        && (old.with_check.is_none() || new.with_check.is_some())
}

fn alter_policy(old: &Policy, new: &Policy) -> String {
    let mut sql = format!("ALTER POLICY {} ON {}", ident(&new.name), qualified(&new.schema, &new.table));
    if old.roles != new.roles {
        let roles: Vec<String> = new.roles.iter().map(|r| role(r)).collect();
        sql.push_str(&format!(" TO {}", roles.join(", ")));
    }
    if let (true, Some(e)) = (old.using != new.using, &new.using) {
        sql.push_str(&format!(" USING ({e})"));
    }
    if let (true, Some(e)) = (old.with_check != new.with_check, &new.with_check) {
        sql.push_str(&format!(" WITH CHECK ({e})"));
    }
    sql.push(';');
    sql
}

/// Equal but for what the policy uses (the same definition uses the same columns).
fn same_policy(a: &Policy, b: &Policy) -> bool {
    (a.permissive, &a.command, &a.roles, &a.using, &a.with_check)
        == (b.permissive, &b.command, &b.roles, &b.using, &b.with_check)
}

fn policy_key(p: &Policy) -> TableKey {
    (p.schema.clone(), p.table.clone(), p.name.clone())
}

/// The object a comment is on, under the name the diff's changes use (see [`Differ::push`]).
fn comment_object(c: &Comment) -> Vec<String> {
    let parent = c.parent.as_deref().unwrap_or_default();
    let args = c.arguments.as_deref().unwrap_or_default();
    let (s, n) = (&c.schema, &c.name);
    match c.kind {
        CommentKind::Schema => vec![format!("schema {n}")],
        CommentKind::Type => vec![format!("type {s}.{n}")],
        CommentKind::Domain => vec![format!("domain {s}.{n}")],
        CommentKind::Sequence => vec![format!("sequence {s}.{n}")],
        CommentKind::Index => vec![format!("index {s}.{n}")],
        CommentKind::Constraint => vec![format!("constraint {s}.{parent}.{n}"), format!("table {s}.{parent}")],
        CommentKind::DomainConstraint => vec![format!("domain {s}.{parent}")],
        CommentKind::Function => vec![format!("function {s}.{n}({args})")],
        CommentKind::Procedure => vec![format!("procedure {s}.{n}({args})")],
        CommentKind::Aggregate => vec![format!("aggregate {s}.{n}({args})")],
        CommentKind::Trigger => vec![
            format!("trigger {s}.{parent}.{n}"),
            format!("table {s}.{parent}"),
            format!("view {s}.{parent}"),
            format!("materialized view {s}.{parent}"),
        ],
        CommentKind::Policy => vec![format!("policy {s}.{parent}.{n}"), format!("table {s}.{parent}")],
        CommentKind::Column => {
            vec![format!("view {s}.{parent}"), format!("materialized view {s}.{parent}"), format!("type {s}.{parent}")]
        }
        CommentKind::Extension => vec![format!("extension {n}")],
        CommentKind::Collation => vec![format!("collation {s}.{n}")],
    }
}

fn comment_key(c: &Comment) -> (CommentKind, &str, &str, Option<&str>, Option<&str>) {
    (c.kind, &c.schema, &c.name, c.parent.as_deref(), c.arguments.as_deref())
}

/// Whether the object a comment of `from` is on still exists in `to`.
fn commented_object_exists(to: &Schema, c: &Comment) -> bool {
    let (s, n, parent) = (c.schema.as_str(), c.name.as_str(), c.parent.as_deref().unwrap_or_default());
    let args = c.arguments.as_deref().unwrap_or_default();
    match c.kind {
        CommentKind::Schema => to.schemas.iter().any(|x| x == n),
        CommentKind::Type => {
            to.enums.iter().any(|x| x.schema == s && x.name == n)
                || to.composite_types.iter().any(|x| x.schema == s && x.name == n)
                || to.range_types.iter().any(|x| x.schema == s && x.name == n)
        }
        CommentKind::Domain => to.domains.iter().any(|x| x.schema == s && x.name == n),
        CommentKind::Sequence => to.sequences.iter().any(|x| x.schema == s && x.name == n),
        CommentKind::Index => to.indexes.iter().any(|x| x.schema == s && x.name == n),
        CommentKind::Constraint => to.constraints.iter().any(|x| x.schema == s && x.table == parent && x.name == n),
        CommentKind::DomainConstraint => {
            to.domains.iter().any(|d| d.schema == s && d.name == parent && d.checks.iter().any(|x| x.name == n))
        }
        CommentKind::Function | CommentKind::Procedure => {
            to.functions.iter().any(|x| x.schema == s && x.name == n && x.arguments == args)
        }
        CommentKind::Aggregate => to.aggregates.iter().any(|x| x.schema == s && x.name == n && x.arguments == args),
        CommentKind::Trigger => to.triggers.iter().any(|x| x.schema == s && x.table == parent && x.name == n),
        CommentKind::Policy => to.policies.iter().any(|x| x.schema == s && x.table == parent && x.name == n),
        CommentKind::Column => {
            to.views.iter().any(|v| v.schema == s && v.name == parent)
                || to
                    .composite_types
                    .iter()
                    .any(|t| t.schema == s && t.name == parent && t.attributes.iter().any(|a| a.name == n))
        }
        // In another schema, the comment's key changes and the new one is set.
        CommentKind::Extension => to.extensions.iter().any(|x| x.schema == s && x.name == n),
        CommentKind::Collation => to.collations.iter().any(|x| x.schema == s && x.name == n),
    }
}

type PrivilegeKey<'s> = (PrivilegeKind, &'s str, &'s str, Option<&'s str>, Option<&'s str>);

fn privilege_key(p: &ObjectPrivileges) -> PrivilegeKey<'_> {
    (p.kind, &p.schema, &p.name, p.column.as_deref(), p.arguments.as_deref())
}

/// The object privileges are on, under the names the diff's changes use.
fn privilege_object(p: &ObjectPrivileges) -> Vec<String> {
    let (s, n) = (&p.schema, &p.name);
    let args = p.arguments.as_deref().unwrap_or_default();
    match p.kind {
        PrivilegeKind::Schema => vec![format!("schema {n}")],
        PrivilegeKind::Table => {
            let mut objects =
                vec![format!("table {s}.{n}"), format!("view {s}.{n}"), format!("materialized view {s}.{n}")];
            // A column dropped and added again (a generated one computed again) lost its privileges.
            objects.extend(p.column.as_ref().map(|c| format!("column {s}.{n}.{c}")));
            objects
        }
        PrivilegeKind::Sequence => vec![format!("sequence {s}.{n}")],
        PrivilegeKind::Function => vec![format!("function {s}.{n}({args})"), format!("aggregate {s}.{n}({args})")],
        PrivilegeKind::Procedure => vec![format!("procedure {s}.{n}({args})")],
        PrivilegeKind::Type => vec![format!("type {s}.{n}")],
        PrivilegeKind::Domain => vec![format!("domain {s}.{n}")],
    }
}

fn privileged_object_exists(to: &Schema, p: &ObjectPrivileges) -> bool {
    let (s, n) = (p.schema.as_str(), p.name.as_str());
    let args = p.arguments.as_deref().unwrap_or_default();
    match p.kind {
        PrivilegeKind::Schema => to.schemas.iter().any(|x| x == n),
        PrivilegeKind::Table => match &p.column {
            Some(c) => {
                to.tables.iter().any(|t| t.schema == s && t.name == n && t.columns.iter().any(|x| &x.name == c))
                    || to.views.iter().any(|v| v.schema == s && v.name == n)
            }
            None => {
                to.tables.iter().any(|t| t.schema == s && t.name == n)
                    || to.views.iter().any(|v| v.schema == s && v.name == n)
            }
        },
        PrivilegeKind::Sequence => to.sequences.iter().any(|x| x.schema == s && x.name == n),
        PrivilegeKind::Function | PrivilegeKind::Procedure => {
            to.functions.iter().any(|x| x.schema == s && x.name == n && x.arguments == args)
                || to.aggregates.iter().any(|x| x.schema == s && x.name == n && x.arguments == args)
        }
        PrivilegeKind::Type => {
            to.enums.iter().any(|x| x.schema == s && x.name == n)
                || to.composite_types.iter().any(|x| x.schema == s && x.name == n)
                || to.range_types.iter().any(|x| x.schema == s && x.name == n)
        }
        PrivilegeKind::Domain => to.domains.iter().any(|x| x.schema == s && x.name == n),
    }
}

impl<'a> Differ<'a> {
    /// Policies to drop (phase 1) and to create (phase 5): changed ones, those on tables whose
    /// columns change type (a policy blocks that), those calling a dropped function.
    fn policy_plan(&self) -> PolicyPlan<'a> {
        let to: BTreeMap<TableKey, &'a Policy> = self.to.policies.iter().map(|p| (policy_key(p), p)).collect();
        let from: BTreeMap<TableKey, &'a Policy> = self.from.policies.iter().map(|p| (policy_key(p), p)).collect();
        let reads_changed = |p: &Policy| {
            // Its own table is named too, for a model without dependency information.
            let text = format!(
                "{} {} {}",
                qualified(&p.schema, &p.table),
                p.using.as_deref().unwrap_or(""),
                p.with_check.as_deref().unwrap_or("")
            );
            // Columns it reads (in its table, or in another one through a subquery) that change type.
            self.affected(&p.uses, &text)
                || self.gone_functions.iter().any(|(s, f, _)| mentions(&text, &qualified(s, f)))
                || self.names_recreated_collation(&text)
        };
        let (mut drop, mut create, mut alter) = (Vec::new(), Vec::new(), Vec::new());
        for (k, p) in &from {
            if self.table_is_gone(&p.schema, &p.table) {
                continue;
            }
            match to.get(k) {
                None => drop.push(*p),
                Some(n) if reads_changed(p) || (!same_policy(n, p) && !alterable(p, n)) => {
                    drop.push(*p);
                    create.push(*n);
                }
                Some(n) if !same_policy(n, p) => alter.push((*p, *n)),
                Some(_) => {}
            }
        }
        for (k, n) in &to {
            if !from.contains_key(k) || self.created_tables.contains(&key(&n.schema, &n.table)) {
                create.push(*n);
            }
        }
        create.sort_by_key(|p| policy_key(p));
        create.dedup_by_key(|p| policy_key(p));
        PolicyPlan { drop, create, alter }
    }

    pub(super) fn drop_policies(&mut self) {
        let PolicyPlan { drop, .. } = self.policy_plan();
        for p in drop {
            self.push_replaced(
                format!("policy {}.{}.{}", p.schema, p.table, p.name),
                format!("DROP POLICY {} ON {};", ident(&p.name), qualified(&p.schema, &p.table)),
            );
        }
    }

    /// Phase 5: row-level security switches, then policies.
    pub(super) fn row_security_and_policies(&mut self) {
        let mut changes = Vec::new();
        for t in &self.to.tables {
            let k = key(&t.schema, &t.name);
            let old = self.from_tables.get(&k).filter(|_| !self.created_tables.contains(&k));
            let (was_on, was_forced) = old.map_or((false, false), |o| (o.row_security, o.force_row_security));
            let name = qualified(&t.schema, &t.name);
            if was_on != t.row_security {
                let verb = if t.row_security { "ENABLE" } else { "DISABLE" };
                changes.push((
                    format!("table {}.{}", t.schema, t.name),
                    format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY;"),
                ));
            }
            if was_forced != t.force_row_security {
                let verb = if t.force_row_security { "FORCE" } else { "NO FORCE" };
                changes.push((
                    format!("table {}.{}", t.schema, t.name),
                    format!("ALTER TABLE {name} {verb} ROW LEVEL SECURITY;"),
                ));
            }
        }
        let PolicyPlan { create, alter, .. } = self.policy_plan();
        for p in create {
            changes.push((format!("policy {}.{}.{}", p.schema, p.table, p.name), policy(p)));
        }
        for (old, new) in alter {
            changes.push((format!("policy {}.{}.{}", new.schema, new.table, new.name), alter_policy(old, new)));
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }

    /// Comments of [`Schema::comments`]: set where new or changed, or where the diff dropped and
    /// created the object again; removed where the object stays.
    pub(super) fn object_comments(&mut self) {
        let touched: BTreeSet<&str> = self.replaced.iter().map(String::as_str).collect();
        let from: BTreeMap<_, &Comment> = self.from.comments.iter().map(|c| (comment_key(c), c)).collect();
        let to: BTreeMap<_, &Comment> = self.to.comments.iter().map(|c| (comment_key(c), c)).collect();
        let mut changes = Vec::new();
        for (k, c) in &to {
            let recreated = comment_object(c).iter().any(|o| touched.contains(o.as_str()));
            if from.get(k).is_none_or(|o| o.comment != c.comment) || recreated {
                changes.push((
                    comment_object(c).remove(0),
                    format!("COMMENT ON {} IS {};", comment_target(c), literal(&c.comment)),
                ));
            }
        }
        for (k, c) in &from {
            if !to.contains_key(k) && commented_object_exists(self.to, c) {
                changes.push((comment_object(c).remove(0), format!("COMMENT ON {} IS NULL;", comment_target(c))));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }

    /// Privileges: what was granted or revoked changes by difference; an object the diff created
    /// (again) gets its privileges whole, since creating it gave it the defaults.
    pub(super) fn grants(&mut self) {
        let touched = self.replaced.clone();
        let empty = |p: &ObjectPrivileges| ObjectPrivileges { granted: Vec::new(), revoked: Vec::new(), ..p.clone() };
        let from: BTreeMap<_, &ObjectPrivileges> = self.from.privileges.iter().map(|p| (privilege_key(p), p)).collect();
        let to: BTreeMap<_, &ObjectPrivileges> = self.to.privileges.iter().map(|p| (privilege_key(p), p)).collect();
        let mut changes = Vec::new();
        for (k, p) in &to {
            let before = from.get(k).map_or_else(|| empty(p), |o| (*o).clone());
            let mut these = privilege_changes(&before, p);
            // Dropped and created again (or maybe so): apply them whole, which is idempotent.
            if privilege_object(p).iter().any(|o| touched.contains(o)) {
                let seen: BTreeSet<(String, String)> = these.iter().cloned().collect();
                let whole = privilege_changes(&empty(p), p);
                these.extend(whole.into_iter().filter(|c| !seen.contains(c)));
            }
            changes.extend(these);
        }
        for (k, o) in &from {
            if !to.contains_key(k) && privileged_object_exists(self.to, o) {
                changes.extend(privilege_changes(o, &empty(o)));
            }
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}

/// GRANT and REVOKE statements that turn the privileges `before` into `after` (same object).
fn privilege_changes(before: &ObjectPrivileges, after: &ObjectPrivileges) -> Vec<(String, String)> {
    let object = privilege_object(after).remove(0);
    let (toward, away) = grant_changes(
        "",
        &privilege_target(after),
        after.column.as_deref(),
        (&before.granted, &before.revoked),
        (&after.granted, &after.revoked),
    );
    toward.into_iter().chain(away).map(|sql| (object.clone(), sql)).collect()
}

/// The statements that turn (granted, revoked) `before` into `after`, in two parts: those that
/// take back what was granted beyond the defaults or give back defaults that were revoked (toward
/// the built-in defaults), and those that move away from them.
fn grant_changes(
    prefix: &str,
    target: &str,
    column: Option<&str>,
    (before_granted, before_revoked): (&[Grant], &[Grant]),
    (after_granted, after_revoked): (&[Grant], &[Grant]),
) -> (Vec<String>, Vec<String>) {
    let on = |g: &Grant| match column {
        Some(c) => format!("{} ({})", g.privilege, ident(c)),
        None => g.privilege.clone(),
    };
    let grant = |g: &Grant| {
        let option = if g.grantable { " WITH GRANT OPTION" } else { "" };
        format!("{prefix}GRANT {} ON {target} TO {}{option};", on(g), role(&g.grantee))
    };
    let revoke = |g: &Grant| format!("{prefix}REVOKE {} ON {target} FROM {};", on(g), role(&g.grantee));
    let (mut toward, mut away) = (Vec::new(), Vec::new());
    // Grants beyond the defaults: revoke the ones gone, grant the new ones.
    toward.extend(before_granted.iter().filter(|g| !after_granted.contains(g)).map(revoke));
    away.extend(after_granted.iter().filter(|g| !before_granted.contains(g)).map(grant));
    // Defaults taken away: give back the ones restored, revoke the newly taken.
    toward.extend(before_revoked.iter().filter(|g| !after_revoked.contains(g)).map(grant));
    away.extend(after_revoked.iter().filter(|g| !before_revoked.contains(g)).map(revoke));
    (toward, away)
}

fn default_privileges_key(p: &DefaultPrivileges) -> (Option<&str>, Option<&str>, DefaultPrivilegeKind) {
    (p.role.as_deref(), p.schema.as_deref(), p.kind)
}

impl<'a> Differ<'a> {
    /// Default privileges apply to the objects created after them: the changes back toward the
    /// built-in defaults come before the diff creates anything (`toward_builtin`), the others
    /// after everything (so that neither adds privileges to the objects the diff creates).
    pub(super) fn default_privileges(&mut self, toward_builtin: bool) {
        let from: BTreeMap<_, &DefaultPrivileges> =
            self.from.default_privileges.iter().map(|p| (default_privileges_key(p), p)).collect();
        let to: BTreeMap<_, &DefaultPrivileges> =
            self.to.default_privileges.iter().map(|p| (default_privileges_key(p), p)).collect();
        fn lists<'p>(p: Option<&&'p DefaultPrivileges>) -> (&'p [Grant], &'p [Grant]) {
            p.map_or((&[], &[]), |p| (&p.granted, &p.revoked))
        }
        let mut changes = Vec::new();
        for k in from.keys().chain(to.keys().filter(|k| !from.contains_key(*k))) {
            let (before, after) = (from.get(k), to.get(k));
            let p = after.or(before).expect("a key of one side");
            let (toward, away) = grant_changes(
                &default_privileges_prefix(p),
                default_privilege_target(p.kind),
                None,
                lists(before),
                lists(after),
            );
            let object = default_privileges_object(p);
            changes.extend((if toward_builtin { toward } else { away }).into_iter().map(|sql| (object.clone(), sql)));
        }
        for (object, sql) in changes {
            self.push(object, sql, false, None);
        }
    }
}
