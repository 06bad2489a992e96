//! Pure migration logic for shale: no database, no terminal.
//!
//! Files become a [`MigrationSet`] (every layout our users have: numbered files, up/down pairs,
//! diesel folders, Flyway names, dbmate sections), the database's history becomes [`History`],
//! and the two together become a [`Plan`] that the executor carries out.

pub mod adopt;
pub mod backfill;
pub mod checksum;
pub mod directives;
pub mod embed;
pub mod envsub;
pub mod ident;
pub mod layout;
pub mod literals;
pub mod locks;
pub mod placeholders;
pub mod plan;
pub mod position;
pub mod rerun;
pub mod split;
mod tokens;
pub mod version;

pub use checksum::{Checksum, CHECKSUM_ALGORITHM};
pub use directives::Directives;
pub use layout::{Layout, LoadError, LoadProblem, Migration, MigrationKind, MigrationSet, Naming, Script, SourceFile};
pub use plan::{
    missing_downs, plan_down, plan_down_generated, plan_seeds, plan_up, status, AppliedRecord, GeneratedDowns, History,
    Plan, PlanError, RecordKind, RecordStatus, State, StatusRow, Step, StepDirection, Target, UpOptions,
};
pub use position::LineIndex;
pub use version::Version;
