//! Wording of validation errors for Deployments, Leases and Jobs. Never starts a server.

use super::*;
use crate::{defaults, resources};

fn deployment() -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}})
}

#[test]
fn valid_deployment_passes_and_errors_are_worded() {
    let def = resources::by_plural("deployments").unwrap();
    let mut d = deployment();
    defaults::apply("deployments", &mut d);
    assert_eq!(validate(def, &d, None), vec![]);
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
    d["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
    let causes = validate(def, &d, None);
    assert_eq!(
        causes[0].render(),
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
    );
    assert_eq!(
        causes[1].render(),
        "spec.template.spec.containers[0].image: Required value"
    );
}

#[test]
fn lease_times_need_microseconds() {
    let def = resources::by_plural("leases").unwrap();
    let ok = json!({"spec": {"renewTime": "2024-01-01T00:00:00.000000Z", "acquireTime": "2024-01-01T00:00:00.123456+02:00"}});
    assert_eq!(decode_error(def, &ok), None);
    let bad = json!({"spec": {"renewTime": "2024-01-01T00:00:00Z"}});
    assert!(
        decode_error(def, &bad)
            .unwrap()
            .contains("cannot parse \"Z\" as \".000000\"")
    );
}

#[test]
fn job_restart_policy_and_names() {
    let def = resources::by_plural("jobs").unwrap();
    let j = json!({"metadata": {"name": "x".repeat(64)}, "spec": {"selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]}}}});
    let rendered: Vec<String> = validate(def, &j, None).iter().map(Cause::render).collect();
    assert!(
        rendered
            .iter()
            .any(|r| r.contains("must be no more than 63 characters")),
        "{rendered:?}"
    );
    assert!(rendered.contains(&"spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"".to_string()));
    assert!(!dns_subdomain("metadata.name", "Bad_Name").is_empty());
}
