//! The simulator driven by kube-rs: CRUD, patch, errors, leases, watchers (including relist
//! after 410 and streaming lists). Never runs kubectl.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use serde_json::json;

use crate::{FakeCluster, Options};

use super::{deployment, quiet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_crud_patch_and_errors() {
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(deployment("web")).unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.spec.replicas, Some(1));

    let list = deploys
        .list(&ListParams::default().labels("app!=other"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let strategic = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": [{"name": "app", "image": "nginx:2"}]}}}});
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(strategic))
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));
    let merge = json!({"metadata": {"labels": {"tier": "front"}}});
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(merge))
        .await
        .unwrap();
    assert_eq!(
        p.metadata.generation,
        Some(2),
        "labels do not bump generation"
    );
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]))
            .unwrap();
    let p = deploys
        .patch("web", &PatchParams::default(), &Patch::Json::<()>(jp))
        .await
        .unwrap();
    assert_eq!(p.spec.replicas, Some(3));
    let apply = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    let p = deploys
        .patch(
            "web",
            &PatchParams::apply("test").force(),
            &Patch::Apply(apply),
        )
        .await
        .unwrap();
    assert_eq!(p.spec.replicas, Some(2));

    let mut stale = created.clone();
    stale.spec.replicas = Some(5);
    let err = deploys
        .replace("web", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(
                s.message,
                "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let missing = deploys.get("nope").await.unwrap_err();
    assert!(
        matches!(missing, kube::Error::Api(ref s) if s.code == 404 && s.message == "deployments.apps \"nope\" not found")
    );
    let dry = deploys
        .patch(
            "web",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(dry.spec.replicas, Some(9));
    assert_eq!(deploys.get("web").await.unwrap().spec.replicas, Some(2));
    deploys
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();

    let token = cluster.mint_token("alice", &["devs"]);
    let alice = cluster.client_for_token(&token, "default").await.unwrap();
    let err = Api::<ConfigMap>::namespaced(alice, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 403
        && s.message == "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""));
    let bogus = cluster.client_for_token("bogus", "default").await.unwrap();
    let err = Api::<ConfigMap>::namespaced(bogus, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_lease_lock_round_trip() {
    use k8s_openapi::{
        api::coordination::v1::{Lease, LeaseSpec},
        apimachinery::pkg::apis::meta::v1::MicroTime,
    };
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let leases: Api<Lease> = Api::namespaced(cluster.client().await.unwrap(), "default");
    let now = MicroTime(jiff::Timestamp::now());
    let lease = Lease {
        metadata: kube::api::ObjectMeta {
            name: Some("deploy-lock".into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("ci-1".into()),
            lease_duration_seconds: Some(30),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let again = leases
        .create(&PostParams::default(), &lease)
        .await
        .unwrap_err();
    assert!(matches!(again, kube::Error::Api(ref s) if s.reason == "AlreadyExists"));
    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().renew_time = Some(MicroTime(jiff::Timestamp::now()));
    leases
        .replace("deploy-lock", &PostParams::default(), &renewed)
        .await
        .unwrap();
    let stale = leases
        .replace("deploy-lock", &PostParams::default(), &renewed)
        .await
        .unwrap_err();
    assert!(matches!(stale, kube::Error::Api(ref s) if s.code == 409));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_watcher_relists_after_410() {
    let cluster = FakeCluster::start(Options {
        watch_timeout_s: Some(1),
        ..quiet()
    })
    .await
    .unwrap();
    let client = cluster.client().await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut stream = watcher(cms.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let mut seen = Vec::new();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    seen.push(first.metadata.name.unwrap());
    // Let the 1 s watch end, forget the history, then create: the re-watch gets 410 and relists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.compact_history();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "after-410"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let found = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(cm) = stream.try_next().await.unwrap() {
            if cm.metadata.name.as_deref() == Some("after-410") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(found);
    assert_eq!(seen, ["kube-root-ca.crt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_streaming_list_watcher() {
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut stream = watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut init_done = false;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        if matches!(ev, watcher::Event::InitDone) {
            init_done = true;
            break;
        }
    }
    assert!(init_done);
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "live"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, watcher::Event::Apply(ref c) if c.metadata.name.as_deref() == Some("live"))
    );
}
