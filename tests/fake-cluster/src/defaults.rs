//! Defaulting as kube-apiserver applies it on every write (`SetDefaults_*` of core/v1, apps/v1,
//! batch/v1 and friends), for the fields clients and controllers look at. Never rejects an object;
//! validation runs after defaulting.

use serde_json::{Map, Value, json};

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("just made an object")
}

/// Sets `map[key] = value` unless present (and non-null).
fn default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    obj(entry)
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`.
pub fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn container_defaults(c: &mut Value) {
    let c = obj(c);
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    default(c, "imagePullPolicy", json!(image_pull_policy(&image)));
    default(c, "resources", json!({}));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports {
            default(obj(p), "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            let p = obj(p);
            default(p, "timeoutSeconds", json!(1));
            default(p, "periodSeconds", json!(10));
            default(p, "successThreshold", json!(1));
            default(p, "failureThreshold", json!(3));
        }
    }
}

/// PodSpec defaults (also applied to pod templates).
pub fn pod_spec(spec: &mut Value) {
    let s = obj(spec);
    default(s, "restartPolicy", json!("Always"));
    default(s, "terminationGracePeriodSeconds", json!(30));
    default(s, "dnsPolicy", json!("ClusterFirst"));
    default(s, "securityContext", json!({}));
    default(s, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(cs)) = s.get_mut(list) {
            cs.iter_mut().for_each(container_defaults);
        }
    }
}

fn template(spec: &mut Map<String, Value>) {
    let t = child(spec, "template");
    default(t, "metadata", json!({}));
    pod_spec(t.entry("spec").or_insert_with(|| json!({})));
}

/// Applies the defaults of `resource` to `object` in place.
pub fn apply(resource: &str, object: &mut Value) {
    let root = obj(object);
    match resource {
        "deployments" => {
            let spec = child(root, "spec");
            default(spec, "replicas", json!(1));
            let strategy = child(spec, "strategy");
            default(strategy, "type", json!("RollingUpdate"));
            if strategy.get("type") == Some(&json!("RollingUpdate")) {
                let ru = child(strategy, "rollingUpdate");
                default(ru, "maxUnavailable", json!("25%"));
                default(ru, "maxSurge", json!("25%"));
            }
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            template(spec);
        }
        "replicasets" => {
            let spec = child(root, "spec");
            default(spec, "replicas", json!(1));
            template(spec);
        }
        "statefulsets" => {
            let spec = child(root, "spec");
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            let us = child(spec, "updateStrategy");
            default(us, "type", json!("RollingUpdate"));
            if us.get("type") == Some(&json!("RollingUpdate")) {
                default(child(us, "rollingUpdate"), "partition", json!(0));
            }
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            template(spec);
        }
        "daemonsets" => {
            let spec = child(root, "spec");
            let us = child(spec, "updateStrategy");
            default(us, "type", json!("RollingUpdate"));
            if us.get("type") == Some(&json!("RollingUpdate")) {
                let ru = child(us, "rollingUpdate");
                default(ru, "maxUnavailable", json!(1));
                default(ru, "maxSurge", json!(0));
            }
            default(spec, "revisionHistoryLimit", json!(10));
            template(spec);
        }
        "jobs" => {
            job_spec(child(root, "spec"));
            // Empty Job labels become the template's labels.
            let template_labels = root
                .get("spec")
                .and_then(|s| s.pointer("/template/metadata/labels"))
                .cloned();
            let meta = child(root, "metadata");
            if meta
                .get("labels")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
                && let Some(labels) = template_labels
            {
                meta.insert("labels".into(), labels);
            }
        }
        "cronjobs" => {
            let spec = child(root, "spec");
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            let jt = child(spec, "jobTemplate");
            default(jt, "metadata", json!({}));
            let jspec = child(jt, "spec");
            template(jspec);
        }
        "pods" => {
            let spec = root.entry("spec").or_insert_with(|| json!({}));
            pod_spec(spec);
            let s = obj(spec);
            default(s, "serviceAccountName", json!("default"));
            default(
                s,
                "serviceAccount",
                s.get("serviceAccountName")
                    .cloned()
                    .unwrap_or(json!("default")),
            );
            default(s, "enableServiceLinks", json!(true));
            default(s, "priority", json!(0));
            default(s, "preemptionPolicy", json!("PreemptLowerPriority"));
            default(
                s,
                "tolerations",
                json!([
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
                ]),
            );
        }
        "namespaces" => {
            let name = root
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or(json!(""));
            let labels = child(child(root, "metadata"), "labels");
            labels.insert("kubernetes.io/metadata.name".into(), name);
            default(child(root, "spec"), "finalizers", json!(["kubernetes"]));
            default(child(root, "status"), "phase", json!("Active"));
        }
        "secrets" => default(root, "type", json!("Opaque")),
        "services" => {
            let spec = child(root, "spec");
            default(spec, "type", json!("ClusterIP"));
            default(spec, "sessionAffinity", json!("None"));
            if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                for p in ports {
                    let p = obj(p);
                    default(p, "protocol", json!("TCP"));
                    if let Some(port) = p.get("port").cloned() {
                        default(p, "targetPort", port);
                    }
                }
            }
        }
        _ => {}
    }
}

fn job_spec(spec: &mut Map<String, Value>) {
    let has_completions = spec.get("completions").is_some_and(|v| !v.is_null());
    let has_parallelism = spec.get("parallelism").is_some_and(|v| !v.is_null());
    if !has_completions && !has_parallelism {
        spec.insert("completions".into(), json!(1));
    }
    default(spec, "parallelism", json!(1));
    default(spec, "backoffLimit", json!(6));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "manualSelector", json!(false));
    let replacement = if spec.get("podFailurePolicy").is_some_and(|v| !v.is_null()) {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    default(spec, "podReplacementPolicy", json!(replacement));
    template(spec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "reg:5000/x:1.2"}]}}}});
        apply("deployments", &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(c[1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(d["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
    }

    #[test]
    fn job_defaults() {
        let mut j = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Never", "containers": []}}}});
        apply("jobs", &mut j);
        assert_eq!(j["spec"]["completions"], 1);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["metadata"]["labels"]["a"], "b");
        assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "Never");
    }
}
