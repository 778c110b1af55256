//! Seeded fault injection and the access log, observed through kube-rs. Never tests paging.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, api::ListParams};

use crate::{FakeCluster, Options};

use super::quiet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_and_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let opts = Options {
        error_rate: 0.5,
        seed: 7,
        access_log: Some(log.clone()),
        ..quiet()
    };
    let statuses = |cluster: FakeCluster| async move {
        let client = cluster.client().await.unwrap();
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        let mut out = Vec::new();
        for _ in 0..12 {
            out.push(match cms.list(&ListParams::default()).await {
                Ok(_) => 200,
                Err(kube::Error::Api(s)) => s.code,
                Err(other) => panic!("{other:?}"),
            });
        }
        out
    };
    let first = statuses(FakeCluster::start(opts.clone()).await.unwrap()).await;
    let second = statuses(FakeCluster::start(opts).await.unwrap()).await;
    assert_eq!(first, second);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("/configmaps")).unwrap();
    let cols: Vec<&str> = line.split('\t').collect();
    assert_eq!(cols.len(), 7, "{line}");
    assert_eq!(
        (cols[0], cols[1], cols[3]),
        ("GET", "/api/v1/namespaces/default/configmaps?", "admin")
    );
}
