//! The audit trail: one core/v1 Event per change on the workload changed (`ImageUpdated`,
//! `RolledBack`, `MigrationFailed`, `RollbackMigrationFailed`), bodies from `plan::audit`. Best effort: an Event the server
//! refuses is told once through the sink and never fails the run. Never records in a dry run, and
//! writes nothing but Events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::core::v1::Event as KubeEvent;
use kube::Api;
use kube::api::PostParams;

use crate::cluster::{Call, Cluster, api_failure};
use crate::plan::audit::{self, Record};
use crate::plan::patch::FIELD_MANAGER;
use crate::run::sink::{Event, Sink};

/// What the Events of one run say, and whether they are recorded at all.
#[derive(Debug)]
pub struct Audit {
    pub cause: Option<String>,
    /// False in a dry run: nothing is recorded.
    record: bool,
    instance: String,
    warned: AtomicBool,
}

impl Audit {
    pub fn new(cause: Option<String>, record: bool) -> Audit {
        Audit {
            cause,
            record,
            instance: crate::run::lock::holder_identity(),
            warned: AtomicBool::new(false),
        }
    }

    /// Records one Event; a failure is told once per run and otherwise ignored.
    pub async fn record(&self, cluster: &Cluster, sink: &Arc<dyn Sink>, record: Record<'_>) {
        if !self.record {
            return;
        }
        let time = jiff::Timestamp::now()
            .round(jiff::Unit::Microsecond)
            .map(|it| format!("{it:.6}"))
            .unwrap_or_default();
        let body = audit::event(&record, &time, &self.instance);
        let namespace = &record.id.namespace;
        let res = async {
            let event: KubeEvent = serde_json::from_value(body)?;
            let api: Api<KubeEvent> = Api::namespaced(cluster.client.clone(), namespace);
            let params = PostParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PostParams::default()
            };
            // Not retried: a create sent twice would record the change twice.
            api.create(&params, &event).await.map_err(|err| {
                let call = Call {
                    verb: "create",
                    group: "",
                    resource: "events",
                    namespace: Some(namespace.clone()),
                };
                anyhow::Error::from(api_failure(&err, Some(&call), &cluster.server))
            })?;
            anyhow::Ok(())
        }
        .await;
        if let Err(err) = res
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            sink.event(Event::AuditNotRecorded {
                reason: record.reason.as_str(),
                error: &format!("{err:#}"),
            });
        }
    }
}
