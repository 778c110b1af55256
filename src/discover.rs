//! Discovery: lists the kinds kubectl-update knows in the namespaces in scope, concurrently with a
//! bound, following pagination. Read-only; returns plain JSON objects for `plan`.

use futures::{StreamExt, TryStreamExt};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};
use serde_json::Value;

use crate::cluster::{Call, Cluster, api_failure};
use crate::workload::Kind;

/// How many list requests run at once.
const CONCURRENCY: usize = 8;
/// Page size for list requests.
const PAGE: u32 = 500;

/// Where to look: every namespace, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Namespaces(Vec<String>),
}

/// An object found in the cluster.
#[derive(Debug, Clone)]
pub struct Found {
    pub namespace: String,
    pub kind: Kind,
    pub object: Value,
}

/// The API resource of a kind, for dynamic requests.
pub fn api_resource(kind: Kind) -> ApiResource {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch};
    match kind {
        Kind::Deployment => ApiResource::erase::<apps::Deployment>(&()),
        Kind::StatefulSet => ApiResource::erase::<apps::StatefulSet>(&()),
        Kind::DaemonSet => ApiResource::erase::<apps::DaemonSet>(&()),
        Kind::CronJob => ApiResource::erase::<batch::CronJob>(&()),
        Kind::Job => ApiResource::erase::<batch::Job>(&()),
    }
}

/// Lists every known kind in scope; results are sorted by namespace, kind and name.
pub async fn discover(cluster: &Cluster, scope: &Scope) -> anyhow::Result<Vec<Found>> {
    let namespaces: Vec<Option<String>> = match scope {
        Scope::All => vec![None],
        Scope::Namespaces(listed) => listed.iter().cloned().map(Some).collect(),
    };
    let requests: Vec<(Option<String>, Kind)> = namespaces
        .iter()
        .flat_map(|namespace| Kind::ALL.map(|kind| (namespace.clone(), kind)))
        .collect();
    let lists: Vec<Vec<Found>> = futures::stream::iter(requests)
        .map(|(namespace, kind)| list_all(cluster, namespace, kind))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let mut res: Vec<Found> = lists.into_iter().flatten().collect();
    res.sort_by(|a, b| {
        (
            a.namespace.as_str(),
            a.kind,
            crate::workload::name_of(&a.object),
        )
            .cmp(&(
                b.namespace.as_str(),
                b.kind,
                crate::workload::name_of(&b.object),
            ))
    });
    Ok(res)
}

async fn list_all(
    cluster: &Cluster,
    namespace: Option<String>,
    kind: Kind,
) -> anyhow::Result<Vec<Found>> {
    let resource = api_resource(kind);
    let client: Client = cluster.client.clone();
    let api: Api<DynamicObject> = match &namespace {
        Some(namespace) => Api::namespaced_with(client, namespace, &resource),
        None => Api::all_with(client, &resource),
    };
    let call = Call {
        verb: "list",
        group: group_of(kind),
        resource: kind.resource(),
        namespace: namespace.clone(),
    };
    let mut res = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = crate::retry::idempotent(|| api.list(&params))
            .await
            .map_err(|err| api_failure(&err, Some(&call), &cluster.server))?;
        for item in page.items {
            let item_namespace = item
                .metadata
                .namespace
                .clone()
                .or_else(|| namespace.clone())
                .unwrap_or_default();
            let mut object = serde_json::to_value(&item)?;
            object["apiVersion"] = Value::from(kind.api_version());
            object["kind"] = Value::from(kind.as_str());
            res.push(Found {
                namespace: item_namespace,
                kind,
                object,
            });
        }
        match page.metadata.continue_.filter(|it| !it.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    Ok(res)
}

/// The API group of a kind (`apps` or `batch`).
pub fn group_of(kind: Kind) -> &'static str {
    kind.api_version()
        .split_once('/')
        .map_or("", |(group, _)| group)
}
