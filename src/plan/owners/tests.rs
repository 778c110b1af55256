//! Tests of the drift guard: which marks name which owner, how the owners are worded, and the
//! refusal of `--refuse-managed`. Pure like the module it tests: plans over objects in memory.

use serde_json::{Value, json};

use super::*;
use crate::plan::workload::Kind;

const TO: &str = "busybox:1.37";

fn facts(metadata: Value) -> WorkloadFacts {
    let object = json!({"metadata": metadata, "spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "busybox:1.36"},
                       {"name": "proxy", "image": "nginx:1.27"}]}}}});
    WorkloadFacts::of_object(&object, Kind::Deployment, "shop")
}

fn owners_of(metadata: Value) -> Vec<Owner> {
    owners(&facts(metadata), &[(ContainerList::Containers, "app")], TO)
}

fn managed(manager: &str, operation: &str, container: &str) -> Value {
    json!({"manager": manager, "operation": operation, "fieldsV1": {"f:spec": {"f:template": {
        "f:spec": {"f:containers": {format!("k:{{\"name\":\"{container}\"}}"): {"f:image": {}}}}}}}})
}

#[test]
fn a_plain_workload_has_no_other_owner() {
    assert!(owners_of(json!({"name": "web", "labels": {"app": "web"}})).is_empty());
}

#[test]
fn helm_needs_its_label_and_release_annotation() {
    let found = owners_of(json!({"labels": {"app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": "web"},
        "annotations": {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "apps"}}));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].tool, Tool::Helm);
    assert_eq!(found[0].owner, "Helm release apps/web");
    assert!(
        found[0].advice.contains(
            "helm upgrade web CHART -n apps --reuse-values --set IMAGE_VALUE=busybox:1.37"
        ),
        "{}",
        found[0].advice
    );
    // The label alone (a chart rendered by `helm template` and applied by something else) is no
    // release; the instance label then reads as Argo CD's, hedged.
    let found = owners_of(json!({"labels": {"app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": "web"}}));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].owner, "possibly Argo CD application `web`");
}

#[test]
fn argo_cd_by_annotation_label_or_manager() {
    let found = owners_of(json!({"annotations": {
        "argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}}));
    assert_eq!(found[0].tool, Tool::ArgoCd);
    assert_eq!(found[0].owner, "Argo CD application `shop-web`");
    assert!(
        found[0]
            .advice
            .contains("argocd app set shop-web --kustomize-image busybox:1.37")
    );
    let found = owners_of(json!({"labels": {"argocd.argoproj.io/instance": "web"}}));
    assert_eq!(found[0].owner, "Argo CD application `web`");
    let found = owners_of(json!({"managedFields": [managed("argocd-controller", "Apply", "app")]}));
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].tool, found[0].owner.as_str()),
        (Tool::ArgoCd, "Argo CD")
    );
    assert!(
        found[0]
            .evidence
            .contains("`argocd-controller` (Apply) owns the image of `app`")
    );
    // Marks and the manager together are one owner.
    let found = owners_of(json!({"labels": {"argocd.argoproj.io/instance": "web"},
        "managedFields": [managed("argocd-controller", "Apply", "app")]}));
    assert_eq!(found.len(), 1);
}

#[test]
fn flux_kustomizations_and_helm_releases() {
    let found = owners_of(
        json!({"labels": {"kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system", "app.kubernetes.io/instance": "x"}}),
    );
    assert_eq!(
        found.len(),
        1,
        "the instance label is not Argo CD's under Flux"
    );
    assert_eq!(found[0].owner, "Flux Kustomization flux-system/apps");
    // A HelmRelease also leaves Helm's marks: Flux is the owner to talk to.
    let found = owners_of(json!({"labels": {"helm.toolkit.fluxcd.io/name": "web",
        "helm.toolkit.fluxcd.io/namespace": "shop", "app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "shop-web"}}));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].tool, found[0].owner.as_str()),
        (Tool::Flux, "Flux HelmRelease shop/web")
    );
}

#[test]
fn field_managers_count_only_for_changed_images_they_apply() {
    let found = owners_of(json!({"managedFields": [
        managed("kubectl-update", "Update", "app"),
        managed("kubectl-update", "Apply", "app"),
        managed("kubectl-edit", "Update", "app"),
        managed("ci-apply", "Apply", "proxy"),
        managed("platform", "Apply", "app")]}));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].tool, Tool::FieldManager);
    assert_eq!(
        found[0].owner,
        "field manager `platform` (server-side apply)"
    );
    let found = owners_of(
        json!({"managedFields": [managed("kustomize-controller", "Apply", "app"),
        managed("helm", "Update", "app")]}),
    );
    let tools: Vec<Tool> = found.iter().map(|it| it.tool).collect();
    assert_eq!(tools, vec![Tool::Flux, Tool::Helm]);
}

#[test]
fn cron_jobs_and_init_containers_are_read_too() {
    let object = json!({"metadata": {"managedFields": [{"manager": "gitops", "operation": "Apply",
        "fieldsV1": {"f:spec": {"f:jobTemplate": {"f:spec": {"f:template": {"f:spec": {
            "f:initContainers": {"k:{\"name\":\"wait\"}": {"f:image": {}}}}}}}}}}]},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "wait", "image": "busybox:1.36"}]}}}}}});
    let facts = WorkloadFacts::of_object(&object, Kind::CronJob, "shop");
    let found = owners(&facts, &[(ContainerList::InitContainers, "wait")], TO);
    assert_eq!(found.len(), 1);
    assert!(owners(&facts, &[(ContainerList::Containers, "wait")], TO).is_empty());
}

#[test]
fn the_refusal_is_one_line_naming_workloads_and_owners() {
    let object = json!({"metadata": {"name": "web", "annotations": {
            "kubectl-update.io/classifier": "stable", "argocd.argoproj.io/tracking-id": "web:x"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}}}});
    let facts = WorkloadFacts::of_object(&object, Kind::Deployment, "shop");
    let request = crate::plan::Request {
        images: vec![TO.parse().unwrap()],
        classifier: "stable".parse().unwrap(),
    };
    let plan = crate::plan::plan_facts(&request, [(0, &facts)]).unwrap();
    let failure = refusal(&plan).expect("refused");
    assert_eq!(
        failure.message,
        "--refuse-managed: 1 workload is managed by another owner that would revert the image: shop/Deployment/web (Argo CD application `web`); nothing was changed"
    );
    assert_eq!(failure.exit, Exit::Failed);
    assert_eq!(failure.hints.len(), 1);
}
