//! One container as the simulated kubelet sees it: what its image and command make it do
//! (`Behaviour`), its state machine (`advance`: pull, start, exit, crash-loop back-off, pull
//! back-off) and the `containerStatuses` entry it is rendered to.
//!
//! `behaviour` reads the spec, `state` runs the state machine, `status` renders the status entry.
//! A container never writes anything itself: the kubelet writes the pod.

mod behaviour;
mod state;
mod status;

pub use behaviour::{Behaviour, behaviour, plain_behaviour};
pub use state::{Container, Restart, State, advance, parse_container, ready_at, waiting};
pub use status::container_status;

/// For the back-off arithmetic tests.
#[cfg(test)]
pub use state::back_off_seconds;

/// Image pull plus container creation.
pub const PULL: f64 = 0.5;
/// From container start to Ready without a readinessProbe.
pub const READY_DELAY: f64 = 0.1;
/// How long a `crash-` image runs before exiting 1.
pub const CRASH_RUN: f64 = 0.5;
/// How long `ErrImagePull` shows before `ImagePullBackOff`.
pub const ERR_PULL_VISIBLE: f64 = 1.0;
