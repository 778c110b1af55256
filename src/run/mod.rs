//! The stages that change the cluster: take the lock (`lock`), run the migrations (`migrate`),
//! patch the images and roll back (`rollback`), record each change as an Event (`audit`), watch
//! the rollouts (`rollout`), stop safely on a signal (`signals`), and `kubectl update rollback`
//! (`restore`). `live` sequences an update.
//! `status` (`kubectl update status`) is the one that only reads, with the same rollout rules.
//!
//! Stages never print and never import `output`: they tell what happens as typed events through
//! `sink::Sink`, and hand the finished report to the same sink. `sink` and `outcome` are data and
//! traits below every stage.

pub mod audit;
pub mod fleet;
pub mod live;
pub mod lock;
pub mod migrate;
pub mod outcome;
pub mod restore;
pub mod rollback;
pub mod rollout;
pub mod signals;
pub mod sink;
pub mod status;
