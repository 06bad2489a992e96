//! A typed model of a PostgreSQL schema (first increment of issue 4).
//!
//! * [`introspect()`] reads a database's schema from pg_catalog in one round trip, whatever its
//!   size, into a [`Schema`];
//! * [`dump()`] writes a [`Schema`] as a deterministic SQL script that loads back with psql into
//!   an empty database and gives the same schema again;
//! * [`erd`] draws its tables and foreign keys as Mermaid, Graphviz DOT or SVG.

pub mod canonical;
pub mod compare;
pub mod confine;
pub mod diff;
pub mod dump;
pub mod erd;
pub mod introspect;
pub mod model;

pub use dump::{dump, dump_as_migration, dump_where, fill_materialized_views};
pub use introspect::introspect;
pub use model::Schema;

/// Errors of introspection: the catalog query failed or returned something unexpected.
pub type Error = shale_pg::PgError;
