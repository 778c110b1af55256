//! The one integration-test binary: drives the real `kubectl-update` binary (and, for live tests,
//! the simulated cluster under `tests/fake-cluster`) and checks exit codes, output and state.

mod generated;
mod offline;
mod support;
