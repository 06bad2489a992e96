//! The CLI's integration tests: one binary, so that every test shares one PostgreSQL server
//! (started on first use) and the tests of every file run side by side. Each module drives the
//! real `shale` binary against it; see `common` for the project helper. Tests must therefore
//! look only at their own databases and sessions, never at the whole server.

#[macro_use]
mod common;

mod adopt;
mod backfill;
mod bad_input;
mod busy_tables;
mod check;
mod config;
mod diff;
mod drift;
mod dump;
mod erd;
mod exactly_once;
mod examples;
mod execution;
mod faults;
mod fleet;
mod generated_downs;
mod histories;
mod inspect;
mod layouts;
mod lease;
mod lint;
mod lint_fix;
mod liquibase;
mod messages;
mod migrate;
mod roundtrips;
mod setup_script;
mod squash;
