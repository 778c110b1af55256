//! The one integration-test binary: drives the real `kubectl-update` binary (and, for live tests,
//! the simulated cluster under `tests/fake-cluster`) and checks exit codes, output and state.

mod cluster;
mod generated;
mod live;
mod offline;
mod support;
