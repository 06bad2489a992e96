//! The lock a statement takes on which table, and whether it rewrites or scans it
//! (from the PostgreSQL documentation's "Explicit Locking" and ALTER TABLE pages).

use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType, RangeVar};
use pg_query::NodeEnum;
use shale_core::locks::LockMode;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Effect {
    pub table: String,
    /// Serialized as SQL writes it (`ACCESS EXCLUSIVE`).
    pub lock: LockMode,
    pub rewrites: bool,
    pub scans: bool,
    /// The lock is on `table`'s default partition, where it has one, not on `table`: ATTACH
    /// PARTITION, a plain DETACH and a new partition scan it for rows of the bound that changes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_partition: bool,
}

impl Effect {
    /// What it locks, in words: `events`, or `the default partition of events, if it has one`.
    pub fn target(&self) -> String {
        match self.default_partition {
            true => format!("the default partition of {}, if it has one", self.table),
            false => self.table.clone(),
        }
    }
}

pub(crate) fn relation_name(r: &RangeVar) -> String {
    if r.schemaname.is_empty() {
        r.relname.clone()
    } else {
        format!("{}.{}", r.schemaname, r.relname)
    }
}

pub(crate) fn alter_type(subtype: i32) -> AlterTableType {
    AlterTableType::try_from(subtype).unwrap_or(AlterTableType::Undefined)
}

pub(crate) fn constraint_type(contype: i32) -> ConstrType {
    ConstrType::try_from(contype).unwrap_or(ConstrType::Undefined)
}

/// `DROP ... CASCADE`: dependent objects go too, columns of tables among them.
fn cascades(s: &pg_query::protobuf::DropStmt) -> bool {
    pg_query::protobuf::DropBehavior::try_from(s.behavior) == Ok(pg_query::protobuf::DropBehavior::DropCascade)
}

pub(crate) fn is_vacuum_full(s: &pg_query::protobuf::VacuumStmt) -> bool {
    s.options.iter().any(|o| matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "full"))
}

/// The (first) table a LOCK statement names ("" when none).
pub(crate) fn locked_table(s: &pg_query::protobuf::LockStmt) -> String {
    s.relations
        .iter()
        .find_map(|r| match r.node.as_ref() {
            Some(NodeEnum::RangeVar(r)) => Some(relation_name(r)),
            _ => None,
        })
        .unwrap_or_default()
}

/// The strongest lock of the statement on each table it locks, one effect per table (DROP TABLE
/// a, b: one for a, one for b), so that each table is judged on its own. Empty when it locks none;
/// an effect whose table is "" locks a table the statement does not name (DROP INDEX, VACUUM FULL).
pub fn effects(node: &NodeEnum) -> Vec<Effect> {
    use LockMode::*;
    let default_partition = |table: &str| Effect {
        table: table.to_string(),
        lock: AccessExclusive,
        rewrites: false,
        scans: true,
        default_partition: true,
    };
    let e = |table: String, lock: LockMode, rewrites: bool, scans: bool| {
        vec![Effect { table, lock, rewrites, scans, default_partition: false }]
    };
    match node {
        NodeEnum::IndexStmt(s) => {
            let Some(r) = s.relation.as_ref() else { return Vec::new() };
            let table = relation_name(r);
            if s.concurrent {
                e(table, ShareUpdateExclusive, false, true)
            } else {
                e(table, Share, false, true)
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(r) = s.relation.as_ref() else { return Vec::new() };
            let table = relation_name(r);
            let mut lock = ShareUpdateExclusive;
            let (mut rewrites, mut scans) = (false, false);
            // A table attached as a partition is locked whole and scanned for its bound.
            let mut attached = Vec::new();
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else { continue };
                let partition = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::PartitionCmd(p)) => Some(p),
                    _ => None,
                };
                let index = ObjectType::try_from(s.objtype).is_ok_and(|t| t == ObjectType::ObjectIndex);
                let this = match alter_type(c.subtype) {
                    // An index attached to a partitioned table's index: no rows read.
                    AlterTableType::AtAttachPartition if index => ShareUpdateExclusive,
                    // PostgreSQL 12+: the partitioned table lets reads and writes go on; the
                    // table attached is locked whole and scanned for its bound (unless a CHECK
                    // says so already), and so is the default partition, if there is one, for
                    // rows the new bound takes from it.
                    AlterTableType::AtAttachPartition => {
                        if let Some(name) = partition.and_then(|p| p.name.as_ref()) {
                            attached.push(Effect {
                                table: relation_name(name),
                                lock: AccessExclusive,
                                rewrites: false,
                                scans: true,
                                default_partition: false,
                            });
                            attached.push(default_partition(&table));
                        }
                        ShareUpdateExclusive
                    }
                    // A plain detach locks the default partition too, whose bound widens.
                    AlterTableType::AtDetachPartition if partition.is_some_and(|p| !p.concurrent) => {
                        // (Widened, not read.)
                        attached.push(Effect { scans: false, ..default_partition(&table) });
                        AccessExclusive
                    }
                    AlterTableType::AtDetachPartition if partition.is_some_and(|p| p.concurrent) => {
                        ShareUpdateExclusive
                    }
                    AlterTableType::AtValidateConstraint => {
                        scans = true;
                        ShareUpdateExclusive
                    }
                    AlterTableType::AtAddConstraint => {
                        let fk = matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrForeign);
                        let not_valid = matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::Constraint(k)) if k.skip_validation);
                        scans |= !not_valid;
                        if fk {
                            ShareRowExclusive
                        } else {
                            AccessExclusive
                        }
                    }
                    AlterTableType::AtAlterColumnType => {
                        rewrites = true;
                        AccessExclusive
                    }
                    AlterTableType::AtSetNotNull => {
                        scans = true;
                        AccessExclusive
                    }
                    // A column's statistics target and options (n_distinct) are the planner's.
                    AlterTableType::AtSetStatistics | AlterTableType::AtSetOptions | AlterTableType::AtResetOptions => {
                        ShareUpdateExclusive
                    }
                    // Storage parameters: those of the fill factor, vacuum and the planner take
                    // SHARE UPDATE EXCLUSIVE, as PostgreSQL decides per parameter.
                    AlterTableType::AtSetRelOptions | AlterTableType::AtResetRelOptions
                        if relation_options(c).iter().all(|o| light_relation_option(o)) =>
                    {
                        ShareUpdateExclusive
                    }
                    _ => AccessExclusive,
                };
                lock = lock.max(this);
            }
            let mut effects = e(table.clone(), lock, rewrites, scans);
            effects.extend(attached);
            effects.extend(referenced(node, &table));
            effects
        }
        // A policy locks its table whole.
        NodeEnum::CreatePolicyStmt(s) => match s.table.as_ref() {
            Some(r) => e(relation_name(r), AccessExclusive, false, false),
            None => Vec::new(),
        },
        NodeEnum::AlterPolicyStmt(s) => match s.table.as_ref() {
            Some(r) => e(relation_name(r), AccessExclusive, false, false),
            None => Vec::new(),
        },
        // A trigger keeps its table from being written until the end (SHARE ROW EXCLUSIVE).
        NodeEnum::CreateTrigStmt(s) => match s.relation.as_ref() {
            Some(r) => e(relation_name(r), ShareRowExclusive, false, false),
            None => Vec::new(),
        },
        // A new table locks nothing anyone uses, but the tables its foreign keys point at; a new
        // partition its partitioned table whole, and the default partition, scanned for rows
        // that belong to the new one (partitioned tables trial: the dry run said no lock).
        NodeEnum::CreateStmt(s) => {
            let mut effects = referenced(node, &s.relation.as_ref().map(relation_name).unwrap_or_default());
            if let Some(bound) = &s.partbound {
                if let Some(parent) = s.inh_relations.first().and_then(|r| match r.node.as_ref() {
                    Some(NodeEnum::RangeVar(r)) => Some(relation_name(r)),
                    _ => None,
                }) {
                    effects.push(Effect {
                        table: parent.clone(),
                        lock: AccessExclusive,
                        rewrites: false,
                        scans: false,
                        default_partition: false,
                    });
                    // (The default partition itself has none to scan.)
                    if !bound.is_default {
                        effects.push(default_partition(&parent));
                    }
                }
            }
            effects
        }
        NodeEnum::DropStmt(_) | NodeEnum::TruncateStmt(_) | NodeEnum::RenameStmt(_) => {
            // Each table it names; a dropped index's table is not in the statement.
            let tables = match node {
                // An index renamed takes SHARE UPDATE EXCLUSIVE on the index alone, which no
                // query's lock conflicts with; a type, function or schema renamed locks no table.
                NodeEnum::RenameStmt(r)
                    if r.relation.is_none()
                        || ObjectType::try_from(r.rename_type).is_ok_and(|t| t == ObjectType::ObjectIndex) =>
                {
                    return Vec::new()
                }
                NodeEnum::RenameStmt(r) => r.relation.as_ref().map(relation_name).into_iter().collect(),
                NodeEnum::DropStmt(s) => match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
                    ObjectType::ObjectTable
                    | ObjectType::ObjectMatview
                    | ObjectType::ObjectView
                    | ObjectType::ObjectForeignTable => crate::rules::object_names(&s.objects),
                    // `DROP TRIGGER t ON table` (a policy, a rule likewise): its table is the name
                    // without its last part.
                    ObjectType::ObjectTrigger | ObjectType::ObjectPolicy | ObjectType::ObjectRule => {
                        crate::rules::object_names(&s.objects)
                            .iter()
                            .filter_map(|name| name.rsplit_once('.').map(|(table, _)| table.to_string()))
                            .collect()
                    }
                    // Its table is not in the statement; CONCURRENTLY lets reads and writes go on.
                    ObjectType::ObjectIndex if s.concurrent => {
                        return e(String::new(), LockMode::ShareUpdateExclusive, false, false)
                    }
                    // Objects no query locks (a function, a type): no table is locked, unless
                    // CASCADE reaches into tables (a type's columns).
                    ObjectType::ObjectFunction
                    | ObjectType::ObjectProcedure
                    | ObjectType::ObjectRoutine
                    | ObjectType::ObjectAggregate
                    | ObjectType::ObjectType
                    | ObjectType::ObjectDomain
                    | ObjectType::ObjectCollation
                    | ObjectType::ObjectCast
                    | ObjectType::ObjectLanguage
                        if !cascades(s) =>
                    {
                        return Vec::new()
                    }
                    _ => Vec::new(),
                },
                NodeEnum::TruncateStmt(s) => s
                    .relations
                    .iter()
                    .filter_map(|r| match r.node.as_ref() {
                        Some(NodeEnum::RangeVar(r)) => Some(relation_name(r)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if tables.is_empty() {
                return e(String::new(), AccessExclusive, false, false);
            }
            tables.into_iter().flat_map(|table| e(table, AccessExclusive, false, false)).collect()
        }
        NodeEnum::ClusterStmt(s) => {
            e(s.relation.as_ref().map(relation_name).unwrap_or_default(), AccessExclusive, true, true)
        }
        // The view made again: without CONCURRENTLY its readers wait the whole run (Kysely
        // trial: shown with no lock); with it, EXCLUSIVE (reads go on).
        NodeEnum::RefreshMatViewStmt(s) => {
            let view = s.relation.as_ref().map(relation_name).unwrap_or_default();
            match s.concurrent {
                true => e(view, Exclusive, false, true),
                false => e(view, AccessExclusive, true, true),
            }
        }
        NodeEnum::VacuumStmt(s) => {
            if is_vacuum_full(s) {
                e(String::new(), AccessExclusive, true, true)
            } else {
                e(String::new(), ShareUpdateExclusive, false, true)
            }
        }
        NodeEnum::LockStmt(s) => {
            // Without `IN ... MODE`, LOCK takes ACCESS EXCLUSIVE.
            let lock = LockMode::from_number(s.mode).unwrap_or(AccessExclusive);
            e(locked_table(s), lock, false, false)
        }
        _ => Vec::new(),
    }
}

/// The tables a statement's new foreign keys point at (but `own`, locked already): a foreign key
/// takes SHARE ROW EXCLUSIVE on the table it references, which blocks its writes until the
/// migration's transaction ends.
fn referenced(node: &NodeEnum, own: &str) -> Vec<Effect> {
    fn as_constraint(n: &pg_query::protobuf::Node) -> Option<&pg_query::protobuf::Constraint> {
        match n.node.as_ref() {
            Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
            _ => None,
        }
    }
    // The new columns' own constraints, and the table's.
    let mut constraints: Vec<&pg_query::protobuf::Constraint> = crate::rules::defined_columns(node)
        .into_iter()
        .flat_map(|col| col.constraints.iter().filter_map(as_constraint))
        .collect();
    match node {
        NodeEnum::CreateStmt(s) => constraints.extend(s.table_elts.iter().filter_map(as_constraint)),
        _ => constraints.extend(crate::rules::added_constraints(node, |_| true).map(|(_, k)| k).unwrap_or_default()),
    }
    let mut tables: Vec<String> = constraints
        .into_iter()
        .filter(|k| constraint_type(k.contype) == ConstrType::ConstrForeign)
        .filter_map(|k| k.pktable.as_ref().map(relation_name))
        .filter(|t| t != own)
        .collect();
    tables.dedup();
    tables
        .into_iter()
        .map(|table| Effect {
            table,
            lock: LockMode::ShareRowExclusive,
            rewrites: false,
            scans: false,
            default_partition: false,
        })
        .collect()
}

/// The storage parameters an `ALTER TABLE ... SET (...)` or `RESET (...)` names (`fillfactor`,
/// `toast.autovacuum_enabled`).
fn relation_options(c: &pg_query::protobuf::AlterTableCmd) -> Vec<String> {
    let Some(NodeEnum::List(list)) = c.def.as_ref().and_then(|d| d.node.as_ref()) else { return Vec::new() };
    list.items
        .iter()
        .filter_map(|i| match i.node.as_ref() {
            Some(NodeEnum::DefElem(d)) if d.defnamespace.is_empty() => Some(d.defname.clone()),
            Some(NodeEnum::DefElem(d)) => Some(format!("{}.{}", d.defnamespace, d.defname)),
            _ => None,
        })
        .collect()
}

/// A storage parameter PostgreSQL changes under SHARE UPDATE EXCLUSIVE (its `reloptions` lock
/// levels): the fill factor, vacuum's and autovacuum's, and the planner's.
fn light_relation_option(name: &str) -> bool {
    let name = name.strip_prefix("toast.").unwrap_or(name);
    name.starts_with("autovacuum_")
        || matches!(
            name,
            "fillfactor"
                | "toast_tuple_target"
                | "parallel_workers"
                | "vacuum_index_cleanup"
                | "vacuum_truncate"
                | "log_autovacuum_min_duration"
        )
}

#[cfg(test)]
mod tests {
    use shale_core::locks::LockMode::*;

    use crate::lint;
    use crate::tests::script;

    #[test]
    fn effects_name_the_lock() {
        let s = script(
            "006.sql",
            "CREATE INDEX CONCURRENTLY i ON users (x);\nALTER TABLE users ADD COLUMN x int;\nALTER TABLE s ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\nALTER TABLE users ALTER COLUMN x TYPE bigint;\nLOCK TABLE t IN SHARE MODE;\nLOCK t;\nDROP TABLE t, app.u;\nTRUNCATE s;\nDROP INDEX i;\nDROP FUNCTION f();\nDROP TYPE IF EXISTS mood;\nDROP TYPE mood CASCADE;\n",
        );
        let report = lint([&s]);
        let locks: Vec<_> = report.effects.iter().map(|(_, _, e)| (e.table.as_str(), e.lock, e.rewrites)).collect();
        assert_eq!(
            locks,
            [
                ("users", ShareUpdateExclusive, false),
                ("users", AccessExclusive, false),
                ("s", ShareRowExclusive, false),
                ("users", ShareRowExclusive, false),
                ("users", AccessExclusive, true),
                ("t", Share, false),
                ("t", AccessExclusive, false),
                ("t", AccessExclusive, false),
                ("app.u", AccessExclusive, false),
                ("s", AccessExclusive, false),
                // The index made earlier in the run: its table is known.
                ("users", AccessExclusive, false),
                // DROP FUNCTION and DROP TYPE lock no table; CASCADE may drop a column.
                ("", AccessExclusive, false),
            ]
        );
        // A materialized view made again (Kysely trial: shown with no lock).
        let refresh = script("008.sql", "REFRESH MATERIALIZED VIEW mv;\nREFRESH MATERIALIZED VIEW CONCURRENTLY mv;\n");
        let locks: Vec<_> = lint([&refresh]).effects.iter().map(|(_, _, e)| (e.table.clone(), e.lock)).collect();
        assert_eq!(locks, [("mv".to_string(), AccessExclusive), ("mv".to_string(), Exclusive)]);
        let on = script(
            "007.sql",
            "DROP TRIGGER audit ON app.orders;\nDROP POLICY p ON users;\nCREATE OR REPLACE TRIGGER log AFTER UPDATE ON crates FOR EACH ROW EXECUTE FUNCTION f();\n",
        );
        let tables: Vec<_> = lint([&on]).effects.iter().map(|(_, _, e)| (e.table.clone(), e.lock)).collect();
        assert_eq!(
            tables,
            [
                ("app.orders".to_string(), AccessExclusive),
                ("users".to_string(), AccessExclusive),
                ("crates".to_string(), ShareRowExclusive)
            ]
        );
        // Renaming an index locks no table (SHARE UPDATE EXCLUSIVE on the index), a type none;
        // a table or its column, the table.
        let renames = script(
            "009.sql",
            "ALTER INDEX i RENAME TO j;\nALTER TYPE mood RENAME TO feeling;\nALTER TYPE feeling RENAME VALUE 'a' TO 'b';\nALTER TABLE users RENAME COLUMN x TO y;\n",
        );
        let tables: Vec<_> = lint([&renames]).effects.iter().map(|(_, _, e)| (e.table.clone(), e.lock)).collect();
        assert_eq!(tables, [("users".to_string(), AccessExclusive)]);
        // Storage parameters of the fill factor and vacuum, and a column's statistics, are changed
        // under SHARE UPDATE EXCLUSIVE; others under ACCESS EXCLUSIVE (re-check trial).
        let storage = script(
            "010.sql",
            "ALTER TABLE que_jobs SET (fillfactor = 70, toast.autovacuum_enabled = false);\nALTER TABLE que_jobs RESET (autovacuum_vacuum_scale_factor);\nALTER TABLE que_jobs ALTER COLUMN args SET STATISTICS 500;\nALTER TABLE que_jobs SET (user_catalog_table = true);\n",
        );
        let locks: Vec<_> = lint([&storage]).effects.iter().map(|(_, _, e)| e.lock).collect();
        assert_eq!(locks, [ShareUpdateExclusive, ShareUpdateExclusive, ShareUpdateExclusive, AccessExclusive]);
        // Attaching a partition lets the partitioned table be read and written (PostgreSQL 12+), and
        // locks and scans the table attached; a concurrent detach lets both go on.
        let partitions = script(
            "011.sql",
            "ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\nALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;\nALTER TABLE events DETACH PARTITION events_2024;\n",
        );
        // (The default partition, locked whole and scanned by ATTACH and a plain DETACH.)
        let default = || ("the default partition of events, if it has one".to_string(), AccessExclusive);
        let tables: Vec<_> = lint([&partitions]).effects.iter().map(|(_, _, e)| (e.target(), e.lock)).collect();
        assert_eq!(
            tables,
            [
                ("events".to_string(), ShareUpdateExclusive),
                ("events_2027".to_string(), AccessExclusive),
                default(),
                ("events".to_string(), ShareUpdateExclusive),
                ("events".to_string(), AccessExclusive),
                default()
            ]
        );
        // A new partition locks its table whole, and the default partition; an index attached
        // reads no rows (partitioned tables trial: no lock said, and a scan that is not).
        let more = script(
            "012.sql",
            "CREATE TABLE events_2028 PARTITION OF events FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');\nALTER INDEX events_at ATTACH PARTITION events_2028_at;\n",
        );
        let effects: Vec<_> = lint([&more]).effects.iter().map(|(_, _, e)| (e.target(), e.lock, e.scans)).collect();
        assert_eq!(
            effects,
            [
                ("events".to_string(), AccessExclusive, false),
                ("the default partition of events, if it has one".to_string(), AccessExclusive, true),
                ("events_at".to_string(), ShareUpdateExclusive, false)
            ]
        );
        // A policy, made or changed, locks its table whole.
        let policies = script(
            "010.sql",
            "CREATE POLICY p ON storage.objects FOR SELECT USING (true);\nALTER POLICY p ON storage.objects USING (false);\n",
        );
        let tables: Vec<_> = lint([&policies]).effects.iter().map(|(_, _, e)| (e.table.clone(), e.lock)).collect();
        assert_eq!(
            tables,
            [("storage.objects".to_string(), AccessExclusive), ("storage.objects".to_string(), AccessExclusive)]
        );
        let concurrently = script("008.sql", "-- shale:no-transaction\nDROP INDEX CONCURRENTLY i;\n");
        let locks: Vec<_> = lint([&concurrently]).effects.iter().map(|(_, _, e)| e.lock).collect();
        assert_eq!(locks, [ShareUpdateExclusive]);
    }

    #[test]
    fn an_alter_table_takes_its_strongest_command_s_lock() {
        let s = script(
            "007.sql",
            "ALTER TABLE s VALIDATE CONSTRAINT f, ADD CONSTRAINT g FOREIGN KEY (u) REFERENCES users (id) NOT VALID;\nALTER TABLE s ADD CONSTRAINT g FOREIGN KEY (u) REFERENCES users (id), ADD COLUMN n int;\n",
        );
        let report = lint([&s]);
        let locks: Vec<_> = report.effects.iter().map(|(_, _, e)| (e.table.as_str(), e.lock, e.scans)).collect();
        // And each foreign key's table, which it keeps from being written until the end.
        assert_eq!(
            locks,
            [
                ("s", ShareRowExclusive, true),
                ("users", ShareRowExclusive, false),
                ("s", AccessExclusive, true),
                ("users", ShareRowExclusive, false)
            ]
        );
    }

    #[test]
    fn a_new_table_locks_the_tables_its_foreign_keys_point_at() {
        let s = script(
            "009.sql",
            "CREATE TABLE posts (id bigint, author bigint REFERENCES users, tenant bigint, parent bigint REFERENCES posts,\n  FOREIGN KEY (tenant) REFERENCES app.tenants (id));\nCREATE TABLE notes (id bigint);\n",
        );
        let locks: Vec<_> = lint([&s]).effects.iter().map(|(_, _, e)| (e.table.clone(), e.lock)).collect();
        assert_eq!(locks, [("users".to_string(), ShareRowExclusive), ("app.tenants".to_string(), ShareRowExclusive)]);
    }
}
