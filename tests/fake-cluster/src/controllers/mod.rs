//! The simulated control plane: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and CronJob
//! controllers, the garbage collector and a deterministic kubelet. Each is a pure step function
//! over a `Store`; the server calls `reconcile_all` on a short tick.
//!
//! A tick scans every owned resource once (`world::World`, through `Store::for_each`), indexes
//! dependents by controller uid, then runs, in order: garbage collector, kubelet, Job, StatefulSet,
//! DaemonSet, ReplicaSet and Deployment controllers. Every write goes through the `Store`; objects
//! whose state already agrees with their dependents are neither copied nor written, so an idle
//! cluster costs one scan.
//!
//! All simulated durations (container start-up, back-off, `minReadySeconds`,
//! `progressDeadlineSeconds`, `activeDeadlineSeconds`, `ttlSecondsAfterFinished`, script `sleep`s)
//! are multiplied by `SimContext::time_scale`. Controllers never speak HTTP and never bypass the
//! `Store`.

pub mod store;

pub mod memory;

mod container;
mod daemonset;
mod deployment;
mod events;
mod gc;
mod job;
mod kubelet;
mod replicaset;
mod revision;
mod script;
mod statefulset;
mod util;
mod world;

#[cfg(test)]
mod tests;

pub use store::{Logs, Store, StoreError};

/// What every controller step needs to know about the world outside the store.
#[derive(Debug, Clone)]
pub struct SimContext {
    /// The current wall-clock time; timestamps written to objects use it.
    pub now: jiff::Timestamp,
    /// Multiplies simulated durations (container start-up, image pull, back-off); 1.0 is real-ish.
    pub time_scale: f64,
    /// Names of the simulated nodes (DaemonSets run one pod on each; pods are spread over them).
    pub nodes: Vec<String>,
}

/// Runs one step of every controller and the kubelet.
pub fn reconcile_all<S: Store + Logs>(store: &mut S, ctx: &SimContext) {
    let mut world = world::World::load(store, ctx);
    gc::run(store, &world);
    kubelet::run(store, ctx, &mut world);
    job::run(store, ctx, &mut world);
    statefulset::run(store, ctx, &mut world);
    daemonset::run(store, ctx, &mut world);
    replicaset::run(store, ctx, &mut world);
    deployment::run(store, ctx, &world);
}
