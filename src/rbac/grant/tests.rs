//! Unit tests of `rbac` and its templates: which Jobs are migration templates, the resource names
//! granted, and the protected namespaces refused. Never contacts a cluster.

use serde_json::json;

use super::*;

fn job(namespace: Option<&str>, name: &str, classifier: &str) -> Found {
    Found {
        namespace: namespace.map(str::to_owned),
        kind: Kind::Job,
        object: json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "annotations": {crate::plan::annotations::CLASSIFIER: classifier}}}),
    }
}

fn names(templates: &[crate::rbac::policy::Template]) -> Vec<String> {
    templates
        .iter()
        .map(|it| format!("{}/{}", it.namespace, it.name))
        .collect()
}

#[test]
fn templates_are_the_jobs_listing_a_classifier_outside_protected_namespaces() {
    let classifiers: Vec<Classifier> = vec!["stable".parse().unwrap()];
    let protected = crate::rbac::policy::protected_namespaces(&[]);
    let found = [
        job(Some("shop"), "schema", "stable, canary"),
        job(Some("shop"), "other", "canary"),
        job(Some("billing"), "reindex", "stable"),
        job(Some("kube-system"), "sneaky", "stable"),
        job(None, "manifest", "stable"),
    ];
    let namespaces = vec!["shop".to_owned()];
    assert_eq!(
        names(&templates(
            &found,
            &namespaces,
            false,
            &classifiers,
            &protected
        )),
        vec!["shop/manifest", "shop/schema"],
        "in the namespaces; a manifest without a namespace in each"
    );
    assert_eq!(
        names(&templates(
            &found,
            &namespaces,
            true,
            &classifiers,
            &protected
        )),
        vec!["billing/reindex", "shop/manifest", "shop/schema"],
        "cluster-wide: anywhere but kube-system"
    );
    let variable = vec![rbac::NAMESPACE_VARIABLE.to_owned()];
    assert_eq!(
        names(&templates(
            &found,
            &variable,
            true,
            &classifiers,
            &protected
        )),
        vec![
            "${NAMESPACE}/manifest",
            "${NAMESPACE}/reindex",
            "${NAMESPACE}/schema",
            "${NAMESPACE}/sneaky"
        ],
        "the envsubst template: every template in the variable namespace"
    );
}

#[test]
fn resource_names_cover_every_classifier_and_its_lock() {
    let classifiers: Vec<Classifier> = vec!["stable".parse().unwrap(), "Canary_1".parse().unwrap()];
    let deployment = |name: &str, classifier: &str| Found {
        namespace: Some("shop".into()),
        kind: Kind::Deployment,
        object: json!({"metadata": {"name": name, "annotations": {crate::plan::annotations::CLASSIFIER: classifier}}}),
    };
    let found = [
        deployment("web", "stable"),
        deployment("api", "Canary_1"),
        deployment("other", "other"),
    ];
    let names = resource_names(&found, &["shop".to_owned()], &classifiers).unwrap();
    assert_eq!(names.by_resource["deployments"], vec!["api", "web"]);
    assert_eq!(
        names.by_resource["leases"],
        vec!["kubectl-update-stable", "kubectl-update-canary-1"],
        "the Lease names the lock uses"
    );
}

#[test]
fn protected_namespaces_are_refused() {
    let protected = crate::rbac::policy::protected_namespaces(&["cert-manager".to_owned()]);
    assert!(refuse_protected(&["shop".to_owned()], &protected).is_ok());
    for namespace in [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "cert-manager",
    ] {
        let err = refuse_protected(&["shop".to_owned(), namespace.to_owned()], &protected)
            .unwrap_err()
            .to_string();
        assert!(err.contains(namespace), "{err}");
    }
}
