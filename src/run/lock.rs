//! One run at a time per namespace and classifier: a `coordination.k8s.io/v1` Lease named
//! `kubectl-update-<classifier>` in each namespace the run changes, held by `<host>/<pid>/<run id>`.
//!
//! Acquired by create; on AlreadyExists the Lease is read, and taken over (an update carrying the
//! read resourceVersion, so a racing taker gets 409) only when its holder stopped renewing for
//! longer than its duration. Renewed in the background while the run lasts, deleted at the end
//! (after a failure or an interrupt too). A run killed outright leaves the Lease to expire.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::cluster::retry;
use crate::cluster::{Call, Cluster, api_failure};
use crate::error::{Exit, Failure};
use crate::plan::annotations::Classifier;
use crate::plan::patch::FIELD_MANAGER;
use crate::run::signals::{self, Interrupt};
use crate::run::sink::{Event, Sink};

/// How long a Lease stays valid without renewal.
pub const LEASE_SECONDS: i32 = 30;
/// How far this machine's clock may be behind a holder's: a renewal further in the future is not
/// believed, so a Lease written with a far-future `renewTime` (or `acquireTime`) expires like any
/// other instead of blocking every run. The admission policy bounds `leaseDurationSeconds` by
/// [`LEASE_SECONDS`]; it cannot bound times, as CEL in admission has no clock.
const MAX_CLOCK_AHEAD: f64 = 60.0;
/// How often the holder renews.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often a waiting run looks again.
const POLL: Duration = Duration::from_millis(500);

/// The Lease name for a classifier: `kubectl-update-<classifier>`, lowercased with `_` and `.`
/// turned into `-` (a Lease name is a DNS subdomain). Classifiers that differ only there share a
/// lock, which is merely more careful.
pub fn lease_name(classifier: &Classifier) -> String {
    let name: String = classifier
        .to_string()
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    format!("kubectl-update-{name}")
}

/// Who holds the lock: `<host>/<pid>/<run id>`. The run id is random per run.
pub fn holder_identity() -> String {
    use sha2::{Digest, Sha256};
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|it| !it.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|it| it.trim().to_owned())
                .filter(|it| !it.is_empty())
        })
        .unwrap_or_else(|| "unknown-host".to_owned());
    let pid = std::process::id();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{host}/{pid}/{}", now.as_nanos()));
    let run: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}/{pid}/{run}")
}

/// The locks a run holds; release them with [`Lock::release`].
pub struct Lock {
    cluster: Cluster,
    name: String,
    holder: String,
    namespaces: Vec<String>,
    renewal: Option<JoinHandle<()>>,
    /// Whether the run had to wait for another holder (then what it read may be stale).
    pub waited: bool,
}

fn call(verb: &'static str, namespace: &str) -> Call {
    Call {
        verb,
        group: "coordination.k8s.io",
        resource: "leases",
        namespace: Some(namespace.to_owned()),
    }
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

/// When a Lease stops being valid, in seconds since the epoch (`None`: free).
pub(crate) fn valid_until(lease: &Lease) -> Option<f64> {
    let spec = lease.spec.as_ref()?;
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() {
        return None;
    }
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map_or(0.0, |it| it.0.as_millisecond() as f64 / 1000.0);
    if renewed > now_seconds() + MAX_CLOCK_AHEAD {
        return Some(0.0);
    }
    let duration = f64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    Some(renewed + duration)
}

pub(crate) fn now_seconds() -> f64 {
    Timestamp::now().as_millisecond() as f64 / 1000.0
}

fn lease(namespace: &str, name: &str, holder: &str) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "kubectl-update".to_owned(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(LEASE_SECONDS),
            acquire_time: Some(now()),
            renew_time: Some(now()),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        }),
    }
}

/// Takes the lock in every namespace (in name order, so two runs cannot deadlock), waiting up to
/// `timeout` for other holders; fails naming the holder when it cannot.
pub async fn acquire(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    classifier: &Classifier,
    timeout: Duration,
    sink: &Arc<dyn Sink>,
    interrupt: &Interrupt,
) -> anyhow::Result<Lock> {
    let name = lease_name(classifier);
    let mut lock = Lock {
        cluster: cluster.clone(),
        name: name.clone(),
        holder: holder_identity(),
        namespaces: Vec::new(),
        renewal: None,
        waited: false,
    };
    let give_up = Instant::now() + timeout;
    for namespace in namespaces {
        let taken = tokio::select! {
            taken = acquire_one(&mut lock, namespace, give_up, timeout, sink) => taken,
            () = interrupt.wait() => Err(signals::interrupted_before_changes("while waiting for the lock").into()),
        };
        if let Err(err) = taken {
            lock.release().await;
            return Err(err);
        }
        lock.namespaces.push(namespace.clone());
        signals::finish_with(&format!(
            "the lock expires {LEASE_SECONDS}s after the last renewal, or: kubectl delete lease -n {namespace} {name}"
        ));
    }
    lock.renewal = Some(tokio::spawn(renew(
        cluster.clone(),
        lock.namespaces.clone(),
        name,
        lock.holder.clone(),
    )));
    Ok(lock)
}

impl Lock {
    /// Takes the lock in more namespaces too (the plan grew after waiting).
    pub async fn extend(
        &mut self,
        namespaces: &BTreeSet<String>,
        timeout: Duration,
        sink: &Arc<dyn Sink>,
        interrupt: &Interrupt,
    ) -> anyhow::Result<()> {
        let give_up = Instant::now() + timeout;
        for namespace in namespaces {
            if self.namespaces.contains(namespace) {
                continue;
            }
            tokio::select! {
                taken = acquire_one(self, namespace, give_up, timeout, sink) => taken?,
                () = interrupt.wait() => return Err(signals::interrupted_before_changes("while waiting for the lock").into()),
            }
            self.namespaces.push(namespace.clone());
        }
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        self.renewal = Some(tokio::spawn(renew(
            self.cluster.clone(),
            self.namespaces.clone(),
            self.name.clone(),
            self.holder.clone(),
        )));
        Ok(())
    }

    /// Stops renewing and deletes the Leases this run holds (only while still ours).
    pub async fn release(mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
        for namespace in &self.namespaces {
            let api: Api<Lease> = Api::namespaced(self.cluster.client.clone(), namespace);
            let Ok(Some(current)) = retry::idempotent(|| api.get_opt(&self.name)).await else {
                continue;
            };
            let ours = current
                .spec
                .as_ref()
                .and_then(|it| it.holder_identity.as_deref())
                == Some(self.holder.as_str());
            if !ours {
                continue;
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: current.metadata.resource_version.clone(),
                    uid: current.metadata.uid.clone(),
                }),
                ..DeleteParams::default()
            };
            // A failed delete leaves the Lease to expire; nothing else depends on it.
            let _ = retry::idempotent(|| api.delete(&self.name, &params)).await;
        }
    }
}

async fn acquire_one(
    lock: &mut Lock,
    namespace: &str,
    give_up: Instant,
    timeout: Duration,
    sink: &Arc<dyn Sink>,
) -> anyhow::Result<()> {
    let api: Api<Lease> = Api::namespaced(lock.cluster.client.clone(), namespace);
    let server = lock.cluster.server.clone();
    let params = PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    };
    let mut announced: Option<String> = None;
    loop {
        match api
            .create(&params, &lease(namespace, &lock.name, &lock.holder))
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.is_already_exists() => (),
            // The create may or may not have happened: the read below tells.
            Err(err) if retry::is_transient(&err) => (),
            Err(err) => {
                return Err(api_failure(&err, Some(&call("create", namespace)), &server).into());
            }
        }
        let current = retry::idempotent(|| api.get_opt(&lock.name))
            .await
            .map_err(|err| api_failure(&err, Some(&call("get", namespace)), &server))?;
        let Some(current) = current else {
            // Released meanwhile, or our create was lost: create again.
            tokio::time::sleep(retry::delay(0)).await;
            continue;
        };
        let holder = current
            .spec
            .as_ref()
            .and_then(|it| it.holder_identity.clone())
            .unwrap_or_default();
        if holder == lock.holder {
            return Ok(());
        }
        match valid_until(&current) {
            Some(until) if until > now_seconds() => {
                if announced.as_deref() != Some(holder.as_str()) {
                    sink.event(Event::LockHeld {
                        namespace,
                        lease: &lock.name,
                        holder: &holder,
                        timeout,
                    });
                    announced = Some(holder.clone());
                }
                lock.waited = true;
                if Instant::now() + POLL > give_up {
                    return Err(gave_up(namespace, &lock.name, &holder, timeout).into());
                }
                tokio::time::sleep(POLL).await;
            }
            _ => {
                // Free, or its holder stopped renewing: take it over, if nobody else does first.
                if take_over(&api, lock, &params, current, namespace).await? {
                    if !holder.is_empty() {
                        sink.event(Event::LockTakenOver {
                            namespace,
                            lease: &lock.name,
                            holder: &holder,
                        });
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// Replaces an expired (or free) Lease with this run's, carrying the read resourceVersion: `false`
/// when another run was faster (409) or the answer was lost, so the caller reads again.
async fn take_over(
    api: &Api<Lease>,
    lock: &Lock,
    params: &PostParams,
    mut current: Lease,
    namespace: &str,
) -> anyhow::Result<bool> {
    let spec = current.spec.get_or_insert_with(LeaseSpec::default);
    spec.holder_identity = Some(lock.holder.clone());
    spec.lease_duration_seconds = Some(LEASE_SECONDS);
    spec.acquire_time = Some(now());
    spec.renew_time = Some(now());
    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    match api.replace(&lock.name, params, &current).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(err) if retry::is_transient(&err) => Ok(false),
        Err(err) => {
            let call = call("update", namespace);
            Err(api_failure(&err, Some(&call), &lock.cluster.server).into())
        }
    }
}

/// Waiting for another run's lock took longer than `--lock-timeout`.
fn gave_up(namespace: &str, lease: &str, holder: &str, timeout: Duration) -> Failure {
    Failure::new(
        Exit::Failed,
        format!(
            "another run holds the lock {namespace}/{lease}: {holder}; gave up after --lock-timeout {}",
            humantime::format_duration(timeout)
        ),
    )
    .hint("nothing was changed; run again when it has finished")
    .hint(format!(
        "a holder that stopped renewing loses the lock after {LEASE_SECONDS}s; to remove it by hand: kubectl delete lease -n {namespace} {lease}"
    ))
}

/// Renews every held Lease until aborted.
async fn renew(cluster: Cluster, namespaces: Vec<String>, name: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        for namespace in &namespaces {
            let api: Api<Lease> = Api::namespaced(cluster.client.clone(), namespace);
            let Ok(Some(mut current)) = retry::idempotent(|| api.get_opt(&name)).await else {
                continue;
            };
            let Some(spec) = current.spec.as_mut() else {
                continue;
            };
            if spec.holder_identity.as_deref() != Some(holder.as_str()) {
                continue;
            }
            spec.renew_time = Some(now());
            // A conflict means someone else wrote it; the next round reads it again.
            let _ = api.replace(&name, &PostParams::default(), &current).await;
        }
    }
}

#[cfg(test)]
mod tests;
