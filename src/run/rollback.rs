//! Writing image patches and undoing them: the rollback restores exactly the recorded previous
//! images of every workload this run patched and nothing else (a replica count or annotation
//! changed meanwhile stays), then waits for the rollback's own rollout.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::Value;

use crate::cluster::discover::{api_resource, group_of};
use crate::cluster::{Call, Cluster, api_failure};
use crate::plan::audit::{Reason, Record};
use crate::plan::patch::{self, FIELD_MANAGER, Patched};
use crate::plan::workload::{Kind, ObjectId};
use crate::run::audit::Audit;
use crate::run::rollout::{self, Settings, Target, Verdict, pods};
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Event, Sink};

/// Sends a strategic merge patch to a workload (with `dryRun=All` when asked).
pub async fn send(
    cluster: &Cluster,
    id: &ObjectId,
    body: &Value,
    dry_run: bool,
) -> anyhow::Result<()> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        &id.namespace,
        &api_resource(id.kind),
    );
    let mut params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    if dry_run {
        params = params.dry_run();
    }
    // The patch sets fixed values, so sending it twice is the same as once.
    let patch = Patch::Strategic(body);
    crate::cluster::retry::idempotent(|| api.patch(&id.name, &params, &patch))
        .await
        .map_err(|err| {
            let call = Call {
                verb: "patch",
                group: group_of(id.kind),
                resource: id.kind.resource(),
                namespace: Some(id.namespace.clone()),
            };
            api_failure(&err, Some(&call), &cluster.server)
        })?;
    Ok(())
}

/// The watch target of a rollback: the pods must run the previous images again.
pub fn target(patched: &Patched) -> Target {
    Target {
        id: patched.id.clone(),
        expected: patched
            .previous
            .containers
            .iter()
            .map(|it| (it.name.clone(), it.previous.clone()))
            .collect(),
        selector: patched.selector.clone(),
    }
}

/// Rolls every patched workload back and waits; returns per workload `Ok` or why it did not finish.
pub async fn roll_back(
    cluster: &Cluster,
    patched: &[Patched],
    settings: Settings,
    audit: &Audit,
    sink: &Arc<dyn Sink>,
) -> Vec<Result<(), String>> {
    let mut sent = Vec::new();
    let mut res: Vec<Option<Result<(), String>>> = vec![None; patched.len()];
    for (idx, workload) in patched.iter().enumerate() {
        let body = patch::rollback(workload.id.kind, &workload.previous, audit.cause.as_deref());
        match send(cluster, &workload.id, &body, false).await {
            Ok(()) => {
                sink.event(Event::RollingBack {
                    key: &rollout::key(&workload.id),
                });
                let record = Record {
                    id: &workload.id,
                    uid: workload.uid.as_deref(),
                    reason: Reason::RolledBack,
                    images: workload.previous.rolled_back(),
                    detail: None,
                    cause: audit.cause.as_deref(),
                };
                audit.record(cluster, sink, record).await;
                signals::note(
                    &rollout::key(&workload.id),
                    "rollback patch sent; rolling back to the previous images",
                );
                if workload.id.kind == Kind::StatefulSet
                    && let Err(err) = unstick_statefulset(cluster, workload, sink).await
                {
                    res[idx] = Some(Err(format!("{err:#}")));
                    continue;
                }
                sent.push(idx);
            }
            Err(err) => res[idx] = Some(Err(format!("the rollback patch failed: {err:#}"))),
        }
    }
    let targets: Vec<Target> = sent.iter().map(|idx| target(&patched[*idx])).collect();
    // A rollback runs to its end: only a second signal stops it (by exiting).
    let verdicts = rollout::watch(cluster, &targets, settings, sink, &Interrupt::never()).await;
    for (idx, verdict) in sent.into_iter().zip(verdicts) {
        res[idx] = Some(match verdict {
            Verdict::Done => Ok(()),
            Verdict::Failed(reason) => Err(reason),
            Verdict::Unfinished(state) => {
                Err(format!("the rollback did not finish in time: {state}"))
            }
        });
    }
    res.into_iter()
        .map(|it| it.unwrap_or_else(|| Err("not rolled back".to_owned())))
        .collect()
}

/// A StatefulSet does not replace a pod of the bad revision that never became Ready, even after its
/// template is reverted (the Kubernetes docs call this a forced rollback): such pods are deleted so
/// the controller recreates them from the restored template.
async fn unstick_statefulset(
    cluster: &Cluster,
    workload: &Patched,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<()> {
    let Some(selector) = &workload.selector else {
        return Ok(());
    };
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &workload.id.namespace);
    let call = |verb| Call {
        verb,
        group: "",
        resource: "pods",
        namespace: Some(workload.id.namespace.clone()),
    };
    let params = ListParams::default().labels(&selector.to_string());
    let listed = crate::cluster::retry::idempotent(|| api.list(&params))
        .await
        .map_err(|err| api_failure(&err, Some(&call("list")), &cluster.server))?;
    let bad: Vec<(String, String)> = workload
        .previous
        .containers
        .iter()
        .map(|it| (it.name.clone(), it.target.clone()))
        .collect();
    for pod in listed.items {
        let ready = pod
            .status
            .iter()
            .flat_map(|it| it.conditions.iter().flatten())
            .any(|condition| condition.type_ == "Ready" && condition.status == "True");
        if ready || !pods::runs(&pod, &bad) {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        sink.event(Event::DeletingStuckPod {
            key: &rollout::key(&workload.id),
            pod: &name,
        });
        let params = DeleteParams::default();
        match crate::cluster::retry::idempotent(|| api.delete(&name, &params)).await {
            Ok(_) => (),
            Err(kube::Error::Api(status)) if status.is_not_found() => (),
            Err(err) => {
                return Err(api_failure(&err, Some(&call("delete")), &cluster.server).into());
            }
        }
    }
    Ok(())
}
