//! The controller loop: one `reconcile_all` per tick under the storage lock, resting after slow
//! ticks so API requests are not starved. Never panics the server: a panicking controller is
//! reported once and the loop continues.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch as signal;

use crate::controllers;
use crate::server::State;

/// The controller tick period.
const TICK: Duration = Duration::from_millis(50);

/// The controller loop: every 50 ms, one `reconcile_all` under the storage lock.
pub(super) async fn tick(
    state: Arc<State>,
    nodes: Vec<String>,
    time_scale: f64,
    mut shutdown: signal::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported = false;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        let ctx = controllers::SimContext {
            now: jiff::Timestamp::now(),
            time_scale,
            nodes: nodes.clone(),
        };
        let started = std::time::Instant::now();
        let result = tokio::task::block_in_place(|| {
            let mut storage = state.storage();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                controllers::reconcile_all(&mut *storage, &ctx)
            }))
        });
        // A slow tick (big cluster, debug build) must not starve API requests of the lock: rest
        // at least as long as the tick took.
        let took = started.elapsed();
        if took > TICK {
            tokio::select! {
                _ = tokio::time::sleep(took) => {}
                _ = shutdown.changed() => return,
            }
        }
        if result.is_err() && !reported {
            eprintln!("fake-cluster: a controller panicked; continuing");
            reported = true;
        }
    }
}
