//! The stages that change the cluster: take the lock, run the migrations, patch the images, watch
//! the rollouts, roll back on failure, and `kubectl update rollback`. `live` sequences them.
//!
//! Stages never print and never import `output`: they tell what happens as typed events through
//! `sink::Sink`, and hand the finished report to the same sink.

pub mod live;
pub mod lock;
pub mod migrate;
pub mod restore;
pub mod rollback;
pub mod rollout;
pub mod signals;
pub mod sink;
