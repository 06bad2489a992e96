//! The lock a statement takes on which table, and whether it rewrites or scans it
//! (from the PostgreSQL documentation's "Explicit Locking" and ALTER TABLE pages).

use pg_query::protobuf::{AlterTableType, ConstrType, RangeVar};
use pg_query::NodeEnum;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Effect {
    pub table: String,
    pub lock: &'static str,
    pub rewrites: bool,
    pub scans: bool,
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

pub(crate) fn is_vacuum_full(s: &pg_query::protobuf::VacuumStmt) -> bool {
    s.options.iter().any(|o| matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "full"))
}

/// The strongest lock of the statement, when it locks a table.
pub fn effect(node: &NodeEnum) -> Option<Effect> {
    let e =
        |table: String, lock: &'static str, rewrites: bool, scans: bool| Some(Effect { table, lock, rewrites, scans });
    match node {
        NodeEnum::IndexStmt(s) => {
            let table = relation_name(s.relation.as_ref()?);
            if s.concurrent {
                e(table, "SHARE UPDATE EXCLUSIVE", false, true)
            } else {
                e(table, "SHARE", false, true)
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let table = relation_name(s.relation.as_ref()?);
            let mut lock = "SHARE UPDATE EXCLUSIVE";
            let (mut rewrites, mut scans) = (false, false);
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else { continue };
                let this = match alter_type(c.subtype) {
                    AlterTableType::AtValidateConstraint => {
                        scans = true;
                        "SHARE UPDATE EXCLUSIVE"
                    }
                    AlterTableType::AtAddConstraint => {
                        let fk = matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::Constraint(k)) if constraint_type(k.contype) == ConstrType::ConstrForeign);
                        let not_valid = matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::Constraint(k)) if k.skip_validation);
                        scans |= !not_valid;
                        if fk {
                            "SHARE ROW EXCLUSIVE"
                        } else {
                            "ACCESS EXCLUSIVE"
                        }
                    }
                    AlterTableType::AtAlterColumnType => {
                        rewrites = true;
                        "ACCESS EXCLUSIVE"
                    }
                    AlterTableType::AtSetNotNull => {
                        scans = true;
                        "ACCESS EXCLUSIVE"
                    }
                    _ => "ACCESS EXCLUSIVE",
                };
                if strength(this) > strength(lock) {
                    lock = this;
                }
            }
            e(table, lock, rewrites, scans)
        }
        NodeEnum::DropStmt(_) | NodeEnum::TruncateStmt(_) | NodeEnum::RenameStmt(_) => {
            let table = match node {
                NodeEnum::RenameStmt(r) => r.relation.as_ref().map(relation_name).unwrap_or_default(),
                _ => String::new(),
            };
            e(table, "ACCESS EXCLUSIVE", false, false)
        }
        NodeEnum::ClusterStmt(s) => {
            e(s.relation.as_ref().map(relation_name).unwrap_or_default(), "ACCESS EXCLUSIVE", true, true)
        }
        NodeEnum::VacuumStmt(s) => {
            if is_vacuum_full(s) {
                e(String::new(), "ACCESS EXCLUSIVE", true, true)
            } else {
                e(String::new(), "SHARE UPDATE EXCLUSIVE", false, true)
            }
        }
        NodeEnum::LockStmt(s) => {
            let table = s.relations.iter().find_map(|r| match r.node.as_ref() {
                Some(NodeEnum::RangeVar(r)) => Some(relation_name(r)),
                _ => None,
            });
            e(table.unwrap_or_default(), "as requested by LOCK", false, false)
        }
        _ => None,
    }
}

fn strength(lock: &str) -> u8 {
    match lock {
        "ACCESS SHARE" => 1,
        "ROW SHARE" => 2,
        "ROW EXCLUSIVE" => 3,
        "SHARE UPDATE EXCLUSIVE" => 4,
        "SHARE" => 5,
        "SHARE ROW EXCLUSIVE" => 6,
        "EXCLUSIVE" => 7,
        "ACCESS EXCLUSIVE" => 8,
        _ => 0,
    }
}
