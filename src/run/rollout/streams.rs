//! The watch streams a rollout reads: one per (workload kind, namespace) shared by every workload of
//! that kind there, one pod watch per namespace, and a tick. So a run holds at most
//! (kinds in the plan × namespaces) + namespaces watches open, however many workloads it updates.
//! Each is kube-runtime's watcher: a list, then a watch resumed from the last resourceVersion, and a
//! fresh list when the server answers 410 Gone. Never filters by label or field, except a workload
//! alone of its kind in its namespace (or under a Role narrowed with `resourceNames`), which is
//! watched by name: the same one stream, and it keeps such Roles sufficient.

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::run::rollout::status::Status;

/// One thing that happened to the watched objects.
pub enum Update {
    Workload(usize, Status),
    Deleted(usize),
    Pod(Box<Pod>),
    PodDeleted(Box<Pod>),
    Tick,
}

/// Workloads of kind `K` in `namespace`, by name, with their target index. With one name (or
/// `by_name`), each is watched with a `metadata.name` field selector; otherwise one watch covers
/// the namespace and events are fanned out by name.
pub fn workloads<K>(
    client: &Client,
    namespace: &str,
    names: HashMap<String, usize>,
    by_name: bool,
    status_of: fn(&K) -> Status,
) -> Vec<BoxStream<'static, Update>>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    if by_name || names.len() == 1 {
        return names
            .into_iter()
            .map(|(name, idx)| {
                let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
                fan_out(api.clone(), config, HashMap::from([(name, idx)]), status_of)
            })
            .collect();
    }
    vec![fan_out(api, watcher::Config::default(), names, status_of)]
}

fn fan_out<K>(
    api: Api<K>,
    config: watcher::Config,
    names: HashMap<String, usize>,
    status_of: fn(&K) -> Status,
) -> BoxStream<'static, Update>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    let idx_of = move |object: &K| names.get(object.meta().name.as_deref()?).copied();
    watcher::watcher(api, config)
        .default_backoff()
        .filter_map(move |event| {
            let update = match event {
                Ok(Event::Apply(object) | Event::InitApply(object)) => {
                    idx_of(&object).map(|idx| Update::Workload(idx, status_of(&object)))
                }
                Ok(Event::Delete(object)) => idx_of(&object).map(Update::Deleted),
                Ok(Event::Init | Event::InitDone) | Err(_) => None,
            };
            async move { update }
        })
        .boxed()
}

/// Every pod of a namespace.
pub fn pods(client: &Client, namespace: &str) -> BoxStream<'static, Update> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(Event::Apply(pod) | Event::InitApply(pod)) => Some(Update::Pod(Box::new(pod))),
                Ok(Event::Delete(pod)) => Some(Update::PodDeleted(Box::new(pod))),
                Ok(Event::Init | Event::InitDone) | Err(_) => None,
            }
        })
        .boxed()
}

/// A tick every `period`, so stuck pods fail on time even when nothing changes.
pub fn ticks(period: Duration) -> BoxStream<'static, Update> {
    futures::stream::unfold(tokio::time::interval(period), |mut interval| async move {
        interval.tick().await;
        Some((Update::Tick, interval))
    })
    .boxed()
}
