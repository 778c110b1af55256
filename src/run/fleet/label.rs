//! The sink each cluster of a fleet reports to: it names the cluster on every event and ending
//! and passes them on to the run's sink, except the cluster's own report, which the fleet
//! gathers into its report instead. Decides nothing and prints nothing.

use std::io;
use std::sync::Arc;

use crate::run::sink::{Ending, Event, Sink};

/// A sink that labels everything with `cluster` (a kubeconfig context).
struct Labelled {
    inner: Arc<dyn Sink>,
    cluster: String,
}

/// The sink of the cluster `cluster`, passing on to `inner`.
pub fn labelled(inner: Arc<dyn Sink>, cluster: &str) -> Arc<dyn Sink> {
    Arc::new(Labelled {
        inner,
        cluster: cluster.to_owned(),
    })
}

impl Sink for Labelled {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Signal { .. } | Event::Abandon { .. } | Event::About { .. } => {
                self.inner.event(event);
            }
            other => self.inner.event(Event::About {
                cluster: &self.cluster,
                event: &other,
            }),
        }
    }

    fn end(&self, ending: Ending<'_>) -> io::Result<()> {
        match ending {
            // The fleet reports every cluster's report together, once all waves are done.
            Ending::Update { .. } => Ok(()),
            other => self.inner.end(Ending::About {
                cluster: &self.cluster,
                ending: Box::new(other),
            }),
        }
    }
}
