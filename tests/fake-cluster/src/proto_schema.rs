//! Schema-driven decoding of the protobuf bodies kubectl's typed clients send for
//! `kubectl create namespace|deployment|job|cronjob|configmap|secret|serviceaccount|role|
//! rolebinding|clusterrole|clusterrolebinding`. Field numbers follow the `generated.proto` files
//! of `k8s.io/api` and `k8s.io/apimachinery` (checked against captured kubectl requests).
//! Go's encoder writes non-pointer fields even when empty, so empty strings, `false` and zero
//! integers of non-pointer fields are dropped, as `omitempty` would in JSON.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use crate::proto_wire::{Wire, fields};

/// How one field is decoded.
#[derive(Debug, Clone, Copy)]
enum T {
    /// String, omitted when empty.
    S,
    /// Integer of a non-pointer field, omitted when zero.
    I,
    /// Integer of a pointer field (kept even when zero).
    P,
    /// Bool of a non-pointer field, omitted when false.
    B,
    /// Bool of a pointer field.
    PB,
    /// Repeated string.
    RS,
    /// Nested message.
    M(&'static str),
    /// Nested message kept even when empty (volume sources).
    MK(&'static str),
    /// Repeated message.
    RM(&'static str),
    /// map<string, string>.
    MapS,
    /// map<string, bytes> (base64 in JSON).
    MapB,
    /// map<string, Quantity>.
    MapQ,
    /// IntOrString.
    IntOrStr,
}

type Schema = &'static [(u32, &'static str, T)];

fn schema(message: &str) -> Schema {
    use T::*;
    match message {
        "ObjectMeta" => &[
            (1, "name", S),
            (2, "generateName", S),
            (3, "namespace", S),
            (5, "uid", S),
            (6, "resourceVersion", S),
            (11, "labels", MapS),
            (12, "annotations", MapS),
            (13, "ownerReferences", RM("OwnerReference")),
            (14, "finalizers", RS),
        ],
        "OwnerReference" => &[
            (1, "kind", S),
            (3, "name", S),
            (4, "uid", S),
            (5, "apiVersion", S),
            (6, "controller", PB),
            (7, "blockOwnerDeletion", PB),
        ],
        "Namespace" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("NamespaceSpec")),
        ],
        "NamespaceSpec" => &[(1, "finalizers", RS)],
        "Deployment" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("DeploymentSpec")),
        ],
        "DeploymentSpec" => &[
            (1, "replicas", P),
            (2, "selector", M("LabelSelector")),
            (3, "template", M("PodTemplateSpec")),
            (4, "strategy", M("DeploymentStrategy")),
            (5, "minReadySeconds", I),
            (6, "revisionHistoryLimit", P),
            (7, "paused", B),
            (9, "progressDeadlineSeconds", P),
        ],
        "DeploymentStrategy" => &[
            (1, "type", S),
            (2, "rollingUpdate", M("RollingUpdateDeployment")),
        ],
        "RollingUpdateDeployment" => &[(1, "maxUnavailable", IntOrStr), (2, "maxSurge", IntOrStr)],
        "LabelSelector" => &[
            (1, "matchLabels", MapS),
            (2, "matchExpressions", RM("LabelSelectorRequirement")),
        ],
        "LabelSelectorRequirement" => &[(1, "key", S), (2, "operator", S), (3, "values", RS)],
        "PodTemplateSpec" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("PodSpec"))],
        "PodSpec" => &[
            (1, "volumes", RM("Volume")),
            (2, "containers", RM("Container")),
            (3, "restartPolicy", S),
            (4, "terminationGracePeriodSeconds", P),
            (5, "activeDeadlineSeconds", P),
            (6, "dnsPolicy", S),
            (7, "nodeSelector", MapS),
            (8, "serviceAccountName", S),
            (9, "serviceAccount", S),
            (10, "nodeName", S),
            (11, "hostNetwork", B),
            (12, "hostPID", B),
            (13, "hostIPC", B),
            (15, "imagePullSecrets", RM("LocalObjectReference")),
            (16, "hostname", S),
            (17, "subdomain", S),
            (19, "schedulerName", S),
            (20, "initContainers", RM("Container")),
            (21, "automountServiceAccountToken", PB),
            (22, "tolerations", RM("Toleration")),
            (24, "priorityClassName", S),
        ],
        "Container" => &[
            (1, "name", S),
            (2, "image", S),
            (3, "command", RS),
            (4, "args", RS),
            (5, "workingDir", S),
            (6, "ports", RM("ContainerPort")),
            (7, "env", RM("EnvVar")),
            (8, "resources", M("ResourceRequirements")),
            (9, "volumeMounts", RM("VolumeMount")),
            (13, "terminationMessagePath", S),
            (14, "imagePullPolicy", S),
            (16, "stdin", B),
            (17, "stdinOnce", B),
            (18, "tty", B),
            (20, "terminationMessagePolicy", S),
        ],
        "ContainerPort" => &[
            (1, "name", S),
            (2, "hostPort", I),
            (3, "containerPort", I),
            (4, "protocol", S),
            (5, "hostIP", S),
        ],
        "EnvVar" => &[(1, "name", S), (2, "value", S)],
        "ResourceRequirements" => &[(1, "limits", MapQ), (2, "requests", MapQ)],
        "VolumeMount" => &[
            (1, "name", S),
            (2, "readOnly", B),
            (3, "mountPath", S),
            (4, "subPath", S),
        ],
        "Volume" => &[(1, "name", S), (2, "volumeSource", M("VolumeSource"))],
        "VolumeSource" => &[
            (2, "emptyDir", MK("EmptyDirVolumeSource")),
            (6, "secret", MK("SecretVolumeSource")),
            (19, "configMap", MK("ConfigMapVolumeSource")),
        ],
        "EmptyDirVolumeSource" => &[(1, "medium", S)],
        "SecretVolumeSource" => &[(1, "secretName", S)],
        "ConfigMapVolumeSource" => &[(1, "localObjectReference", M("LocalObjectReference"))],
        "LocalObjectReference" => &[(1, "name", S)],
        "Toleration" => &[
            (1, "key", S),
            (2, "operator", S),
            (3, "value", S),
            (4, "effect", S),
            (5, "tolerationSeconds", P),
        ],
        "Job" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("JobSpec"))],
        "JobSpec" => &[
            (1, "parallelism", P),
            (2, "completions", P),
            (3, "activeDeadlineSeconds", P),
            (4, "selector", M("LabelSelector")),
            (5, "manualSelector", PB),
            (6, "template", M("PodTemplateSpec")),
            (7, "backoffLimit", P),
            (8, "ttlSecondsAfterFinished", P),
            (9, "completionMode", S),
            (10, "suspend", PB),
        ],
        "CronJob" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("CronJobSpec")),
        ],
        "CronJobSpec" => &[
            (1, "schedule", S),
            (2, "startingDeadlineSeconds", P),
            (3, "concurrencyPolicy", S),
            (4, "suspend", PB),
            (5, "jobTemplate", M("JobTemplateSpec")),
            (6, "successfulJobsHistoryLimit", P),
            (7, "failedJobsHistoryLimit", P),
            (8, "timeZone", S),
        ],
        "JobTemplateSpec" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("JobSpec"))],
        "ConfigMap" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "data", MapS),
            (3, "binaryData", MapB),
            (4, "immutable", PB),
        ],
        "Secret" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "data", MapB),
            (3, "type", S),
            (4, "stringData", MapS),
            (5, "immutable", PB),
        ],
        "ServiceAccount" => &[
            (1, "metadata", M("ObjectMeta")),
            (3, "imagePullSecrets", RM("LocalObjectReference")),
            (4, "automountServiceAccountToken", PB),
        ],
        "Role" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "rules", RM("PolicyRule")),
        ],
        "ClusterRole" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "rules", RM("PolicyRule")),
            (3, "aggregationRule", M("AggregationRule")),
        ],
        "AggregationRule" => &[(1, "clusterRoleSelectors", RM("LabelSelector"))],
        "PolicyRule" => &[
            (1, "verbs", RS),
            (2, "apiGroups", RS),
            (3, "resources", RS),
            (4, "resourceNames", RS),
            (5, "nonResourceURLs", RS),
        ],
        "RoleBinding" | "ClusterRoleBinding" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "subjects", RM("Subject")),
            (3, "roleRef", M("RoleRef")),
        ],
        "Subject" => &[
            (1, "kind", S),
            (2, "apiGroup", S),
            (3, "name", S),
            (4, "namespace", S),
        ],
        "RoleRef" => &[(1, "apiGroup", S), (2, "kind", S), (3, "name", S)],
        _ => &[],
    }
}

/// Whether `decode` knows this top-level kind.
pub fn supports(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Deployment"
            | "Job"
            | "CronJob"
            | "ConfigMap"
            | "Secret"
            | "ServiceAccount"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
    )
}

fn string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn map_entry(b: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut key = String::new();
    let mut value = Vec::new();
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Bytes(k)) => key = string(&k),
            (2, Wire::Bytes(v)) => value = v,
            _ => {}
        }
    }
    Ok((key, value))
}

fn as_i64(w: &Wire) -> i64 {
    match w {
        Wire::Varint(v) | Wire::Fixed64(v) => *v as i64,
        Wire::Fixed32(v) => i64::from(*v as i32),
        Wire::Bytes(_) => 0,
    }
}

/// Decodes `buf` as `message` into its JSON form.
pub fn decode(message: &str, buf: &[u8]) -> Result<Value, String> {
    let schema = schema(message);
    let mut out = Map::new();
    for (num, wire) in fields(buf)? {
        let Some((_, name, ty)) = schema.iter().find(|(n, _, _)| *n == num) else {
            continue;
        };
        let name = name.to_string();
        let bytes = match &wire {
            Wire::Bytes(b) => Some(b.as_slice()),
            _ => None,
        };
        match (*ty, bytes) {
            (T::S, Some(b)) => {
                if !b.is_empty() {
                    out.insert(name, json!(string(b)));
                }
            }
            (T::I, None) => {
                let v = as_i64(&wire);
                if v != 0 {
                    out.insert(name, json!(v));
                }
            }
            (T::P, None) => {
                out.insert(name, json!(as_i64(&wire)));
            }
            (T::B, None) => {
                if as_i64(&wire) != 0 {
                    out.insert(name, json!(true));
                }
            }
            (T::PB, None) => {
                out.insert(name, json!(as_i64(&wire) != 0));
            }
            (T::RS, Some(b)) => {
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(string(b)));
                }
            }
            (T::M(m), Some(b)) => {
                let v = decode(m, b)?;
                if m == "VolumeSource" {
                    // VolumeSource is inlined into Volume in JSON.
                    if let Value::Object(src) = v {
                        out.extend(src);
                    }
                } else if v.as_object().is_some_and(|o| !o.is_empty()) {
                    out.insert(name, v);
                }
            }
            (T::MK(m), Some(b)) => {
                out.insert(name, decode(m, b)?);
            }
            (T::RM(m), Some(b)) => {
                let v = decode(m, b)?;
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(v);
                }
            }
            (T::MapS | T::MapB | T::MapQ, Some(b)) => {
                let (k, v) = map_entry(b)?;
                let value = match ty {
                    T::MapS => json!(string(&v)),
                    T::MapB => json!(STANDARD.encode(&v)),
                    _ => {
                        let q = fields(&v)?.into_iter().find_map(|(n, w)| match (n, w) {
                            (1, Wire::Bytes(s)) => Some(string(&s)),
                            _ => None,
                        });
                        json!(q.unwrap_or_default())
                    }
                };
                let map = out.entry(name).or_insert_with(|| json!({}));
                map[k] = value;
            }
            (T::IntOrStr, Some(b)) => {
                let mut kind = 0;
                let mut int = 0;
                let mut s = String::new();
                for (n, w) in fields(b)? {
                    match (n, &w) {
                        (1, _) => kind = as_i64(&w),
                        (2, _) => int = as_i64(&w),
                        (3, Wire::Bytes(v)) => s = string(v),
                        _ => {}
                    }
                }
                out.insert(name, if kind == 1 { json!(s) } else { json!(int) });
            }
            _ => return Err(format!("unexpected wire type for {message}.{name}")),
        }
    }
    // ConfigMap volume sources nest the name in an embedded LocalObjectReference.
    if message == "ConfigMapVolumeSource"
        && let Some(Value::Object(r)) = out.remove("localObjectReference")
    {
        out.extend(r);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(fields: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, b) in fields {
            out.push(((n << 3) | 2) as u8);
            out.push(b.len() as u8);
            out.extend(b);
        }
        out
    }

    #[test]
    fn decodes_a_namespace_and_omits_empty_fields() {
        let meta = msg(&[(1, b"prod".to_vec()), (2, Vec::new())]);
        let ns = msg(&[(1, meta), (2, Vec::new())]);
        assert_eq!(
            decode("Namespace", &ns).unwrap(),
            json!({"metadata": {"name": "prod"}})
        );
    }

    #[test]
    fn decodes_maps_and_repeated_fields() {
        let entry = msg(&[(1, b"a".to_vec()), (2, b"b".to_vec())]);
        let meta = msg(&[(1, b"s".to_vec())]);
        let secret = msg(&[(1, meta), (2, entry)]);
        assert_eq!(
            decode("Secret", &secret).unwrap(),
            json!({"metadata": {"name": "s"}, "data": {"a": "Yg=="}})
        );
        let rule = msg(&[
            (1, b"get".to_vec()),
            (1, b"list".to_vec()),
            (2, b"apps".to_vec()),
        ]);
        let role = msg(&[(2, rule)]);
        assert_eq!(
            decode("Role", &role).unwrap(),
            json!({"rules": [{"verbs": ["get", "list"], "apiGroups": ["apps"]}]})
        );
    }
}
