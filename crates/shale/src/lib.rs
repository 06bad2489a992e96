//! shale: PostgreSQL schema migrations for applications and the `shale` CLI.
//!
//! A [`Migrator`] holds a [`MigrationSet`] (read from a directory or embedded in the binary) and a
//! [`MigratorConfig`]; its methods connect, take the migration lock, plan and run, and report
//! through return values and [`Event`]s. Nothing here prints.

mod error;
mod migrator;

pub use error::Error;
pub use migrator::{
    Event, Migrator, MigratorConfig, RepairDecision, RunReport, StatusReport, StepReport, UpRequest,
};
pub use shale_core::{self as core, MigrationSet, Target, Version};
pub use shale_pg::{self as pg, ConnectionSettings, HistoryTable};
