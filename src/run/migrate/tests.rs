//! Unit tests of the migration stage's pure parts: which Job found under a copy's name is
//! reused or followed, and when a Job counts as failed. Never contacts a cluster.

use k8s_openapi::api::batch::v1::Job;
use serde_json::json;

use super::*;
use crate::run::migrate::one::{Existing, what_to_do};

fn job(conditions: serde_json::Value) -> Job {
    serde_json::from_value(
        json!({"metadata": {"name": "m"}, "status": {"failed": 1, "conditions": conditions}}),
    )
    .unwrap()
}

#[test]
fn only_this_runs_own_copy_is_reused_or_followed() {
    let differs = || Some("spec.template.spec.containers[0].image".to_owned());
    assert_eq!(what_to_do(&JobState::Complete, None), Existing::Reuse);
    assert_eq!(what_to_do(&JobState::Running, None), Existing::Follow);
    assert_eq!(
        what_to_do(&JobState::Complete, differs()),
        Existing::NotOurs("spec.template.spec.containers[0].image".to_owned())
    );
    assert_eq!(
        what_to_do(&JobState::Running, differs()),
        Existing::NotOurs("spec.template.spec.containers[0].image".to_owned())
    );
    assert_eq!(
        what_to_do(&JobState::Failed("BackoffLimitExceeded".into()), differs()),
        Existing::RunAgain
    );
}

/// A pre-created Job under the copy's name, faithful to the template but for another image of
/// an allowed repository (what the admission policy still lets the token create), is not
/// mistaken for this run's completed migration.
#[test]
fn a_pre_created_copy_for_another_image_is_not_reused() {
    use crate::plan::ContainerChange;
    use crate::plan::workload::{ContainerList, Kind, ObjectId};
    let template = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "schema", "namespace": "shop", "uid": "u1",
            "annotations": {"kubectl-update.io/classifier": "stable"}},
        "spec": {"suspend": true, "template": {"metadata": {"labels": {}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "app:1"}]}}}});
    let migration = |image: &str| MigrationPlan {
        template: ObjectId {
            namespace: "shop".into(),
            kind: Kind::Job,
            name: "schema".into(),
        },
        origin: 0,
        image: image.into(),
        containers: vec![ContainerChange {
            container: "migrate".into(),
            list: ContainerList::Containers,
            pointer: "/spec/template/spec/containers/0/image".into(),
            from: "app:1".into(),
            to: image.into(),
        }],
    };
    let mut planted = migration::job(&template, &migration("app:evil"));
    planted["metadata"]["name"] =
        migration::job(&template, &migration("app:2"))["metadata"]["name"].clone();
    planted["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
    let state = job_state(&serde_json::from_value(planted.clone()).unwrap());
    let difference = migration::difference(&planted, &template, &migration("app:2"));
    assert!(matches!(
        what_to_do(&state, difference),
        Existing::NotOurs(_)
    ));
    let own = migration::job(&template, &migration("app:2"));
    assert_eq!(
        what_to_do(
            &state,
            migration::difference(&own, &template, &migration("app:2"))
        ),
        Existing::Reuse
    );
}

#[test]
fn failed_pods_are_not_a_failed_job_until_the_controller_says_so() {
    assert_eq!(job_state(&job(json!([]))), JobState::Running);
    assert_eq!(
        job_state(&job(json!([{"type": "Complete", "status": "True"}]))),
        JobState::Complete
    );
    assert_eq!(
        job_state(&job(
            json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit"}])
        )),
        JobState::Failed(
            "BackoffLimitExceeded: Job has reached the specified backoff limit".into()
        )
    );
    assert_eq!(
        job_state(&job(json!([{"type": "Failed", "status": "False"}]))),
        JobState::Running
    );
}
