//! shale: PostgreSQL schema migrations for applications and the `shale` CLI.
//!
//! A [`Migrator`] holds a [`MigrationSet`] (read from a directory or embedded in the binary) and a
//! [`MigratorConfig`]; its methods connect, take the migration lock, plan and run, and report
//! through return values and [`Event`]s. Nothing here prints.
//!
//! Migrating at start-up, with the migrations compiled into the binary:
//!
//! ```ignore
//! // build.rs: rebuild when anything in migrations/ changes; a bad file fails the build.
//! fn main() { shale::core::embed::build("migrations"); }
//!
//! // main.rs
//! static MIGRATIONS: shale::EmbeddedMigrations = shale::embedded_migrations!("migrations");
//!
//! let migrator = shale::Migrator::embedded(&MIGRATIONS, shale::ConnectionSettings::from_env_url("DATABASE_URL")?)?;
//! let report = migrator.up(&shale::UpRequest::default(), &mut |_| {}).await?;
//! ```

mod adopt;
pub mod blocking;
mod embedded;
mod error;
pub mod fleet;
mod migrator;

pub use adopt::{AcceptedHistories, AdoptReport, AdoptRequest, AdoptedMigration, ChangedSinceBaseline};
pub use embedded::EmbeddedMigrations;
pub use error::{Error, ErrorKind, RepairRefusal, Stopped};
pub use migrator::{
    BeforeARun, BeforeAdoption, EmptyUp, Event, Migrator, MigratorConfig, Opened, RanByBoth, Refusal, RefusedStatement,
    RepairDecision, RepairReport, RunReport, StatusReport, StepReport, UpRequest, VetPlan,
};
pub use shale_core::{self as core, MigrationSet, Target, Version};
pub use shale_pg::{self as pg, ConnectionSettings, HistoryTable};
