//! Unit tests of planning: which containers change, near misses, migrations and ordering. Pure,
//! like the code under test.

use serde_json::{Value, json};

use super::*;

fn request(images: &[&str], classifier: &str) -> Request {
    Request {
        images: images.iter().map(|it| it.parse().unwrap()).collect(),
        classifier: classifier.parse().unwrap(),
    }
}

fn deployment(name: &str, annotations: Value, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(idx, image)| json!({"name": format!("c{idx}"), "image": image}))
        .collect();
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"template": {"spec": {"containers": containers}}}})
}

fn run(request: &Request, objects: &[(Kind, Value)]) -> Result<Plan, PlanError> {
    let candidates: Vec<Candidate<'_>> = objects
        .iter()
        .enumerate()
        .map(|(origin, (kind, object))| Candidate {
            origin,
            namespace: "default",
            kind: *kind,
            object,
        })
        .collect();
    plan(request, &candidates)
}

#[test]
fn only_matching_containers_change_and_sidecars_stay() {
    let web = deployment(
        "web",
        json!({"kubectl-update.io/classifier": "stable"}),
        &["acme/app:1", "envoyproxy/envoy:1.30"],
    );
    let res = run(
        &request(&["acme/app:2"], "stable"),
        &[(Kind::Deployment, web)],
    )
    .unwrap();
    assert_eq!(res.workloads.len(), 1);
    let changes = &res.workloads[0].changes;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (
            changes[0].container.as_str(),
            changes[0].from.as_str(),
            changes[0].to.as_str()
        ),
        ("c0", "acme/app:1", "acme/app:2")
    );
    assert_eq!(changes[0].pointer, "/spec/template/spec/containers/0/image");
}

#[test]
fn already_at_target_is_unchanged_not_an_error() {
    let web = deployment(
        "web",
        json!({"xcnt.io/update-classifier": "stable"}),
        &["docker.io/acme/app:2"],
    );
    let res = run(
        &request(&["acme/app:2"], "stable"),
        &[(Kind::Deployment, web)],
    )
    .unwrap();
    assert!(!res.is_empty());
    assert!(res.is_unchanged());
    assert!(res.workloads[0].changes.is_empty());
}

#[test]
fn near_misses_explain_themselves() {
    let objects = [
        (
            Kind::Deployment,
            deployment(
                "other-classifier",
                json!({"kubectl-update.io/classifier": "canary"}),
                &["acme/app:1"],
            ),
        ),
        (
            Kind::Deployment,
            deployment("no-annotation", json!({}), &["acme/app:1"]),
        ),
        (
            Kind::Deployment,
            deployment(
                "other-image",
                json!({"kubectl-update.io/classifier": "stable"}),
                &["acme/app-worker:1"],
            ),
        ),
        (
            Kind::Deployment,
            deployment("unrelated", json!({}), &["redis"]),
        ),
    ];
    let res = run(&request(&["acme/app:2"], "stable"), &objects).unwrap();
    assert!(res.is_empty());
    let reasons: Vec<(&str, &str)> = res
        .near_misses
        .iter()
        .map(|it| (it.id.name.as_str(), it.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "no-annotation",
                "uses acme/app:1 but has no classifier annotation"
            ),
            (
                "other-classifier",
                "uses acme/app:1 but its classifier annotation lists `canary`, not `stable`"
            ),
            (
                "other-image",
                "lists classifier `stable` but no container uses docker.io/acme/app; its images: acme/app-worker:1"
            ),
        ]
    );
}

#[test]
fn jobs_become_migrations_and_init_containers_match() {
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "annotations": {"kubectl-update.io/classifier": "stable,canary"}},
        "spec": {"template": {"spec": {"initContainers": [{"name": "wait", "image": "acme/app:1"}],
            "containers": [{"name": "run", "image": "busybox"}]}}}});
    let res = run(&request(&["acme/app:2"], "canary"), &[(Kind::Job, job)]).unwrap();
    assert!(res.workloads.is_empty());
    assert_eq!(res.migrations.len(), 1);
    assert_eq!(res.migrations[0].image, "acme/app:2");
    assert_eq!(
        res.migrations[0].containers[0].list,
        ContainerList::InitContainers
    );
}

#[test]
fn several_images_in_one_run() {
    let web = deployment(
        "web",
        json!({"kubectl-update.io/classifier": "stable"}),
        &["acme/app:1", "acme/worker:1", "redis:7"],
    );
    let res = run(
        &request(&["acme/app:2", "acme/worker:2"], "stable"),
        &[(Kind::Deployment, web)],
    )
    .unwrap();
    let tos: Vec<&str> = res.workloads[0]
        .changes
        .iter()
        .map(|it| it.to.as_str())
        .collect();
    assert_eq!(tos, vec!["acme/app:2", "acme/worker:2"]);
}

#[test]
fn malformed_annotation_stops_planning_only_when_relevant() {
    let bad = deployment(
        "web",
        json!({"kubectl-update.io/classifier": "stable,,x"}),
        &["acme/app:1"],
    );
    let err = run(
        &request(&["acme/app:2"], "stable"),
        &[(Kind::Deployment, bad)],
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("deployments/web in namespace default: annotation kubectl-update.io/classifier=\"stable,,x\" is malformed"), "{err}");
    let unrelated = deployment(
        "db",
        json!({"kubectl-update.io/classifier": "!!"}),
        &["postgres"],
    );
    assert!(
        run(
            &request(&["acme/app:2"], "stable"),
            &[(Kind::Deployment, unrelated)]
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn the_tools_own_migration_copies_are_neither_templates_nor_near_misses() {
    let template = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "db-migrate", "annotations": {"kubectl-update.io/classifier": "stable"}},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "acme/app:1"}]}}}});
    let copy = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "db-migrate-0123456789", "labels": {"kubectl-update.io/migration-of": "db-migrate"}},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "acme/app:2"}]}}}});
    let mut listed_copy = copy.clone();
    listed_copy["metadata"]["annotations"] = json!({"kubectl-update.io/classifier": "stable"});
    let res = run(
        &request(&["acme/app:2"], "stable"),
        &[
            (Kind::Job, copy),
            (Kind::Job, template),
            (Kind::Job, listed_copy),
        ],
    )
    .unwrap();
    assert!(res.near_misses.is_empty(), "{:?}", res.near_misses);
    let migrations: Vec<&str> = res
        .migrations
        .iter()
        .map(|it| it.template.name.as_str())
        .collect();
    assert_eq!(migrations, ["db-migrate"]);
}

#[test]
fn one_order_by_namespace_kind_and_name_whatever_the_input_order() {
    let listed = json!({"kubectl-update.io/classifier": "stable"});
    let mut objects = Vec::new();
    for (namespace, kind, name) in [
        ("shop", Kind::Deployment, "web"),
        ("billing", Kind::DaemonSet, "agent"),
        ("billing", Kind::Deployment, "zeta"),
        ("billing", Kind::Deployment, "alpha"),
        ("billing", Kind::StatefulSet, "db"),
    ] {
        let mut object = deployment(name, listed.clone(), &["acme/app:1"]);
        object["metadata"]["namespace"] = json!(namespace);
        objects.push((namespace, kind, object));
    }
    let candidates: Vec<Candidate<'_>> = objects
        .iter()
        .enumerate()
        .map(|(origin, (namespace, kind, object))| Candidate {
            origin,
            namespace,
            kind: *kind,
            object,
        })
        .collect();
    let res = plan(&request(&["acme/app:2"], "stable"), &candidates).unwrap();
    let order: Vec<String> = res
        .workloads
        .iter()
        .map(|it| format!("{}/{}/{}", it.id.namespace, it.id.kind, it.id.name))
        .collect();
    assert_eq!(
        order,
        [
            "billing/Deployment/alpha",
            "billing/Deployment/zeta",
            "billing/StatefulSet/db",
            "billing/DaemonSet/agent",
            "shop/Deployment/web",
        ]
    );
    assert_eq!(
        res.workloads[0].origin, 3,
        "origin still points at the input"
    );
}

#[test]
fn a_mistyped_classifier_finds_the_closest_one_listed() {
    let objects = [
        (
            Kind::Deployment,
            deployment(
                "web",
                json!({"kubectl-update.io/classifier": "stable, canary"}),
                &["acme/app:1"],
            ),
        ),
        (
            Kind::Deployment,
            deployment(
                "db",
                json!({"xcnt.io/update-classifier": "nightly"}),
                &["redis"],
            ),
        ),
    ];
    let res = run(&request(&["acme/app:2"], "stabel"), &objects).unwrap();
    assert_eq!(res.classifiers_seen, ["canary", "nightly", "stable"]);
    assert_eq!(
        closest("stabel", res.classifiers_seen.iter().map(String::as_str)),
        Some("stable")
    );
    assert_eq!(closest("prod", ["stable", "canary"]), None);
    let failure = nothing_matched(&res, &Namespaces::Default);
    assert_eq!(
        failure.hints[0], "did you mean `stable`? no object lists `stabel`",
        "{failure:?}"
    );
}

#[test]
fn rollback_templates_are_planned_apart_and_a_bad_phase_stops_planning() {
    let job = |name: &str, phase: Option<&str>| {
        let mut annotations = json!({"kubectl-update.io/classifier": "stable"});
        if let Some(phase) = phase {
            annotations["kubectl-update.io/migration"] = json!(phase);
        }
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "acme/app:1"}]}}}})
    };
    let res = run(
        &request(&["acme/app:2"], "stable"),
        &[
            (Kind::Job, job("undo", Some("rollback"))),
            (Kind::Job, job("migrate", None)),
            (Kind::Job, job("also", Some("forward"))),
        ],
    )
    .unwrap();
    let names = |it: &[MigrationPlan]| -> Vec<String> {
        it.iter().map(|m| m.template.name.clone()).collect()
    };
    assert_eq!(names(&res.migrations), ["also", "migrate"]);
    assert_eq!(names(&res.rollback_migrations), ["undo"]);
    assert_eq!(res.rollback_migrations[0].image, "acme/app:2");
    assert_eq!(res.all_migrations().count(), 3);
    // A plan of rollback templates alone changes nothing.
    let only = run(
        &request(&["acme/app:2"], "stable"),
        &[(Kind::Job, job("undo", Some("rollback")))],
    )
    .unwrap();
    assert!(!only.is_empty() && only.is_unchanged());
    let err = run(
        &request(&["acme/app:2"], "stable"),
        &[(Kind::Job, job("undo", Some("later")))],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.ends_with(
            "undo in namespace default: annotation kubectl-update.io/migration=\"later\" is malformed: it must be `forward` or `rollback`; set it to `rollback` (run only after a failed rollout was rolled back) or `forward`, or remove it"
        ),
        "{err}"
    );
}
