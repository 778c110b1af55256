//! The optional ValidatingAdmissionPolicy (`kubectl update rbac --admission-policy`): RBAC lets the
//! CI token patch any field of a workload; this policy lets it change only container images, only on
//! opted-in workloads, only to images of the allowed repositories, and create Jobs only as migration
//! copies. CEL cannot say "everything but the image", so the fields that must stay equal are spelled
//! out. Pure: builds the objects.

use serde_json::{Value, json};

use crate::annotations::{CLASSIFIER, LEGACY_CLASSIFIER};
use crate::image::repository_of;
use crate::migrate::copy::MIGRATION_OF;

#[derive(Debug, Clone)]
pub struct Request {
    pub service_account: String,
    /// The ServiceAccount's namespace is the first; the bindings cover all of them.
    pub namespaces: Vec<String>,
    pub cluster_wide: bool,
    /// Repositories images may come from, as the user spelled them.
    pub repositories: Vec<String>,
}

/// Pod-level fields that must not change (the pod spec of every updatable kind).
const POD_FIELDS: [&str; 14] = [
    "serviceAccountName",
    "automountServiceAccountToken",
    "securityContext",
    "volumes",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "nodeSelector",
    "tolerations",
    "affinity",
    "imagePullSecrets",
    "runtimeClassName",
    "priorityClassName",
    "restartPolicy",
];

/// Container fields that must not change: everything that matters except `image`.
const CONTAINER_FIELDS: [&str; 13] = [
    "command",
    "args",
    "env",
    "envFrom",
    "volumeMounts",
    "securityContext",
    "resources",
    "workingDir",
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
];

/// The policies and their bindings.
pub fn objects(request: &Request) -> Vec<Value> {
    let user = format!(
        "system:serviceaccount:{}:{}",
        request.namespaces[0], request.service_account
    );
    let name = format!("{}.kubectl-update.io", request.service_account);
    let images_ok = format!(
        "variables.newC.all(c, {})",
        image_allowed("c.image", &request.repositories)
    );
    // Updates may keep any image a container already runs (a sidecar of another repository); only
    // images that change must come from the allowed repositories.
    let changed_images_ok = format!(
        "variables.newC.all(c, variables.oldC.exists(o, o.name == c.name && o.image == c.image) || {})",
        image_allowed("c.image", &request.repositories)
    );
    let allowed = request.repositories.join(", ");
    let opted_in = format!(
        "has(object.metadata.annotations) && ('{CLASSIFIER}' in object.metadata.annotations || '{LEGACY_CLASSIFIER}' in object.metadata.annotations)"
    );
    let same = |new: &str, old: &str, field: &str| {
        format!(
            "(has({new}.{field}) ? has({old}.{field}) && {new}.{field} == {old}.{field} : !has({old}.{field}))"
        )
    };
    let pod_same: Vec<String> = POD_FIELDS
        .iter()
        .map(|field| same("variables.newPod", "variables.oldPod", field))
        .collect();
    let container_same: Vec<String> = CONTAINER_FIELDS
        .iter()
        .map(|field| same("c", "o", field))
        .collect();
    let pod_of = |root: &str| {
        format!(
            "{root}.kind == 'CronJob' ? {root}.spec.jobTemplate.spec.template : {root}.spec.template"
        )
    };
    let workloads = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": format!("{name}-image-only")},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [
                {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments", "statefulsets", "daemonsets"]},
                {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["cronjobs"]},
            ]},
            "matchConditions": [{"name": "is-the-ci-token", "expression": format!("request.userInfo.username == '{user}'")}],
            "variables": [
                {"name": "newTemplate", "expression": pod_of("object")},
                {"name": "oldTemplate", "expression": pod_of("oldObject")},
                {"name": "newPod", "expression": "variables.newTemplate.spec"},
                {"name": "oldPod", "expression": "variables.oldTemplate.spec"},
                {"name": "newC", "expression": "variables.newPod.containers + (has(variables.newPod.initContainers) ? variables.newPod.initContainers : [])"},
                {"name": "oldC", "expression": "variables.oldPod.containers + (has(variables.oldPod.initContainers) ? variables.oldPod.initContainers : [])"},
            ],
            "validations": [
                {"expression": opted_in, "message": format!("{user} may only update workloads annotated with {CLASSIFIER}")},
                {"expression": changed_images_ok, "message": format!("{user} may only deploy images of {allowed}")},
                {"expression": "variables.newC.map(c, c.name) == variables.oldC.map(c, c.name)",
                 "message": format!("{user} may not add, remove, rename or reorder containers")},
                {"expression": format!("{} && {} && {}",
                    same("object.spec", "oldObject.spec", "replicas"),
                    same("variables.newTemplate.metadata", "variables.oldTemplate.metadata", "labels"),
                    same("object.spec", "oldObject.spec", "schedule")),
                 "message": format!("{user} may not change replicas, schedules or pod labels")},
                {"expression": pod_same.join(" && "),
                 "message": format!("{user} may not change pod settings (service account, volumes, security context, scheduling)")},
                {"expression": format!("variables.newC.all(c, variables.oldC.exists(o, o.name == c.name && {}))", container_same.join(" && ")),
                 "message": format!("{user} may only change the image of a container")},
            ],
        },
    });
    let jobs = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": format!("{name}-migrations-only")},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [
                {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["jobs"]},
            ]},
            "matchConditions": [{"name": "is-the-ci-token", "expression": format!("request.userInfo.username == '{user}'")}],
            "variables": [
                {"name": "newPod", "expression": "object.spec.template.spec"},
                {"name": "newC", "expression": "variables.newPod.containers + (has(variables.newPod.initContainers) ? variables.newPod.initContainers : [])"},
            ],
            "validations": [
                {"expression": format!("has(object.metadata.labels) && '{MIGRATION_OF}' in object.metadata.labels"),
                 "message": format!("{user} may only create Jobs that are migration copies (label {MIGRATION_OF})")},
                {"expression": images_ok, "message": format!("{user} may only run images of {allowed}")},
                {"expression": format!("!has(variables.newPod.serviceAccountName) || variables.newPod.serviceAccountName != '{}'", request.service_account),
                 "message": format!("{user} may not run migrations as its own ServiceAccount")},
                {"expression": "!(has(variables.newPod.hostNetwork) && variables.newPod.hostNetwork) && !(has(variables.newPod.hostPID) && variables.newPod.hostPID) && !(has(variables.newPod.hostIPC) && variables.newPod.hostIPC)",
                 "message": format!("{user} may not create Jobs in host namespaces")},
                {"expression": "has(object.spec.ttlSecondsAfterFinished)",
                 "message": format!("{user} must set ttlSecondsAfterFinished on migration Jobs")},
            ],
        },
    });
    let mut res = vec![workloads, jobs];
    for policy in ["image-only", "migrations-only"] {
        let match_resources = if request.cluster_wide {
            json!({})
        } else {
            json!({"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": request.namespaces}]}})
        };
        res.push(json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": format!("{name}-{policy}")},
            "spec": {"policyName": format!("{name}-{policy}"), "validationActions": ["Deny"], "matchResources": match_resources},
        }));
    }
    res
}

/// A CEL test that `image` (an expression) names one of the repositories: anchored, so
/// `registry.example.com.evil.io/...` does not pass for `registry.example.com/...`.
fn image_allowed(image: &str, repositories: &[String]) -> String {
    let alternatives: Vec<String> = repositories
        .iter()
        .flat_map(|it| spellings(it))
        .map(|it| escape(&it))
        .collect();
    let pattern = format!(
        "^({})(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(@sha256:[a-f0-9]{{64}})?$",
        alternatives.join("|")
    );
    format!("{image}.matches('{}')", pattern.replace('\\', "\\\\"))
}

/// Every way a container may spell a repository (docker.io's short forms included).
fn spellings(repository: &str) -> Vec<String> {
    let Ok(normalised) = repository_of(repository) else {
        return vec![repository.to_owned()];
    };
    let normalised = normalised.to_string();
    let mut res = vec![normalised.clone()];
    if let Some(path) = normalised.strip_prefix("docker.io/") {
        res.push(path.to_owned());
        if let Some(name) = path.strip_prefix("library/") {
            res.push(name.to_owned());
            res.push(format!("docker.io/{name}"));
        }
        res.push(format!("index.docker.io/{path}"));
    }
    res
}

fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if ".+*?()[]{}|^$\\".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_patterns_are_anchored_and_cover_docker_hub_spellings() {
        let test = image_allowed(
            "i",
            &[
                "registry.example.com/team/app".to_owned(),
                "busybox".to_owned(),
            ],
        );
        assert!(test.starts_with("i.matches('^(registry\\\\.example\\\\.com/team/app|docker\\\\.io/library/busybox|library/busybox|busybox|"), "{test}");
        assert!(test.ends_with("(@sha256:[a-f0-9]{64})?$')"), "{test}");
    }

    #[test]
    fn bindings_follow_the_namespaces() {
        let request = Request {
            service_account: "kubectl-update".into(),
            namespaces: vec!["shop".into(), "billing".into()],
            cluster_wide: false,
            repositories: vec!["busybox".into()],
        };
        let objects = objects(&request);
        assert_eq!(objects.len(), 4);
        assert_eq!(
            objects[2]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
            json!(["shop", "billing"])
        );
        let condition = objects[0]["spec"]["matchConditions"][0]["expression"]
            .as_str()
            .unwrap();
        assert_eq!(
            condition,
            "request.userInfo.username == 'system:serviceaccount:shop:kubectl-update'"
        );
    }
}
