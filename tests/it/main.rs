//! The one integration-test binary: drives the real `kubectl-update` binary (and, for live tests,
//! the simulated cluster under `tests/fake-cluster`) and checks exit codes, output and state.

mod audit;
mod bench;
mod catalogue;
mod ci;
mod cluster;
mod control_plane;
mod escapes;
mod faults;
mod fleet;
mod generated;
mod kubectl;
mod layout;
mod live;
mod lock;
mod offline;
mod owners;
mod plugin;
mod privilege;
mod public_shapes;
mod rollback_migrations;
mod schema;
mod signals;
mod status;
mod support;
mod witness;
mod write;
mod yaml11;
