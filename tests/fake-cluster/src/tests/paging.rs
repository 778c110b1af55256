//! List paging: pages follow etcd's key order across namespaces and continue tokens resume after
//! the last key. Never injects faults.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{ListParams, PostParams},
};
use serde_json::json;

use crate::FakeCluster;

use super::quiet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_etcd_key_order_across_namespaces() {
    use k8s_openapi::api::core::v1::Namespace;
    let cluster = FakeCluster::start(quiet()).await.unwrap();
    let client = cluster.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in ["shop", "shop-eu"] {
        let it: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        namespaces
            .create(&PostParams::default(), &it)
            .await
            .unwrap();
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        for name in ["b", "a"] {
            let it: ConfigMap =
                serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
            maps.create(&PostParams::default(), &it).await.unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(client);
    let mut seen = Vec::new();
    let mut remaining = Vec::new();
    let mut params = ListParams::default().limit(1);
    loop {
        let page = all.list(&params).await.unwrap();
        for it in &page.items {
            let ns = it.metadata.namespace.clone().unwrap_or_default();
            if ns.starts_with("shop") {
                seen.push(format!(
                    "{ns}/{}",
                    it.metadata.name.clone().unwrap_or_default()
                ));
            }
        }
        remaining.push(page.metadata.remaining_item_count);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    // `-` sorts below `/`: shop-eu's keys come first, and paging one at a time skips none.
    assert_eq!(
        seen,
        [
            "shop-eu/a",
            "shop-eu/b",
            "shop-eu/kube-root-ca.crt",
            "shop/a",
            "shop/b",
            "shop/kube-root-ca.crt"
        ]
    );
    let counts: Vec<i64> = remaining.iter().map(|it| it.unwrap_or(0)).collect();
    assert!(counts.windows(2).all(|w| w[0] == w[1] + 1), "{counts:?}");
    assert_eq!(remaining.last(), Some(&None));

    // With a selector the count is unknown, as on kube-apiserver.
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await.unwrap(), "shop");
    let page = cms
        .list(&ListParams::default().limit(1).fields("metadata.name!=zzz"))
        .await
        .unwrap();
    assert!(page.metadata.continue_.is_some());
    assert_eq!(page.metadata.remaining_item_count, None);
}
