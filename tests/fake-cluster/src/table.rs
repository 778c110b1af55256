//! `meta.k8s.io/v1 Table` responses for `kubectl get` (Accept `...;as=Table;...`): the columns of
//! the real server's printers for the common kinds, `Name`/`Age` for the rest.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

/// `as=PartialObjectMetadata` or `as=PartialObjectMetadataList` (kube-rs `list_metadata`,
/// `metadata_watcher`).
pub fn wants_metadata(accept: &str) -> bool {
    accept.contains("as=PartialObjectMetadata")
}

/// An object reduced to `meta.k8s.io/v1 PartialObjectMetadata`.
pub fn partial(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// `duration.HumanDuration` from apimachinery.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    format!("{}y", hours / 24 / 365)
}

fn age(o: &Value, field: &str) -> String {
    let ts = o
        .pointer(field)
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    match ts {
        Some(t) => human_duration(jiff::Timestamp::now().as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

fn int(o: &Value, p: &str) -> i64 {
    o.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn string(o: &Value, p: &str) -> String {
    o.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn pod_status(o: &Value) -> String {
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let mut reason = string(o, "/status/reason");
    if reason.is_empty() {
        reason = string(o, "/status/phase");
    }
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in o
            .pointer(&format!("/status/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = c
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && *r != "PodInitializing")
            {
                reason = if list == "initContainerStatuses" {
                    format!("Init:{r}")
                } else {
                    r.to_string()
                };
            } else if let Some(t) = c.pointer("/state/terminated")
                && list == "containerStatuses"
            {
                let r = t.get("reason").and_then(Value::as_str).unwrap_or_default();
                reason = if r.is_empty() {
                    format!("ExitCode:{}", int(t, "/exitCode"))
                } else {
                    r.to_string()
                };
            }
        }
    }
    reason
}

fn columns(def: &ResourceDef) -> Vec<(&'static str, &'static str)> {
    match def.plural {
        "pods" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Status", "string"),
            ("Restarts", "string"),
            ("Age", "string"),
            ("IP", "string"),
            ("Node", "string"),
        ],
        "deployments" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "replicasets" => vec![
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "statefulsets" => vec![
            ("Name", "string"),
            ("Ready", "string"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
        ],
        "daemonsets" => vec![
            ("Name", "string"),
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
            ("Node Selector", "string"),
            ("Age", "string"),
        ],
        "jobs" => vec![
            ("Name", "string"),
            ("Status", "string"),
            ("Completions", "string"),
            ("Duration", "string"),
            ("Age", "string"),
            ("Containers", "string"),
            ("Images", "string"),
            ("Selector", "string"),
        ],
        "cronjobs" => vec![
            ("Name", "string"),
            ("Schedule", "string"),
            ("Timezone", "string"),
            ("Suspend", "boolean"),
            ("Active", "integer"),
            ("Last Schedule", "string"),
            ("Age", "string"),
        ],
        "namespaces" => vec![("Name", "string"), ("Status", "string"), ("Age", "string")],
        "nodes" => vec![
            ("Name", "string"),
            ("Status", "string"),
            ("Roles", "string"),
            ("Age", "string"),
            ("Version", "string"),
        ],
        "configmaps" => vec![("Name", "string"), ("Data", "string"), ("Age", "string")],
        "secrets" => vec![
            ("Name", "string"),
            ("Type", "string"),
            ("Data", "string"),
            ("Age", "string"),
        ],
        "serviceaccounts" => vec![("Name", "string"), ("Secrets", "string"), ("Age", "string")],
        "leases" => vec![("Name", "string"), ("Holder", "string"), ("Age", "string")],
        "events" => vec![
            ("Last Seen", "string"),
            ("Type", "string"),
            ("Reason", "string"),
            ("Object", "string"),
            ("Message", "string"),
        ],
        "rolebindings" | "clusterrolebindings" => {
            vec![("Name", "string"), ("Role", "string"), ("Age", "string")]
        }
        "controllerrevisions" => vec![
            ("Name", "string"),
            ("Controller", "string"),
            ("Revision", "integer"),
            ("Age", "string"),
        ],
        "services" => vec![
            ("Name", "string"),
            ("Type", "string"),
            ("Cluster-IP", "string"),
            ("External-IP", "string"),
            ("Port(s)", "string"),
            ("Age", "string"),
        ],
        _ => vec![("Name", "string"), ("Created At", "date")],
    }
}

/// Priority 1 (`-o wide`) columns.
fn wide(name: &str) -> bool {
    matches!(name, "IP" | "Node" | "Containers" | "Images" | "Selector")
}

fn template_containers(o: &Value, pointer: &str) -> (String, String) {
    let cs = o
        .pointer(pointer)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let images: Vec<&str> = cs
        .iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .collect();
    (names.join(","), images.join(","))
}

fn selector(o: &Value) -> String {
    o.pointer("/spec/selector")
        .and_then(|s| crate::selector::LabelSelector::from_json(s).ok())
        .map(|s| s.to_query())
        .unwrap_or_default()
}

fn cells(def: &ResourceDef, o: &Value) -> Vec<Value> {
    let name = json!(string(o, "/metadata/name"));
    let created = age(o, "/metadata/creationTimestamp");
    match def.plural {
        "pods" => {
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = statuses
                .iter()
                .filter(|s| s.get("ready") == Some(&json!(true)))
                .count();
            let restarts: i64 = statuses.iter().map(|s| int(s, "/restartCount")).sum();
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts.to_string()),
                json!(created),
                json!(or_none(string(o, "/status/podIP"))),
                json!(or_none(string(o, "/spec/nodeName"))),
            ]
        }
        "deployments" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    int(o, "/spec/replicas")
                )),
                json!(int(o, "/status/updatedReplicas")),
                json!(int(o, "/status/availableReplicas")),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "replicasets" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(int(o, "/spec/replicas")),
                json!(int(o, "/status/replicas")),
                json!(int(o, "/status/readyReplicas")),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "statefulsets" => {
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    int(o, "/spec/replicas")
                )),
                json!(created),
                json!(c),
                json!(i),
            ]
        }
        "daemonsets" => {
            let ns = o
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object)
                .map(|m| {
                    let mut v: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect();
                    v.sort();
                    v.join(",")
                });
            vec![
                name,
                json!(int(o, "/status/desiredNumberScheduled")),
                json!(int(o, "/status/currentNumberScheduled")),
                json!(int(o, "/status/numberReady")),
                json!(int(o, "/status/updatedNumberScheduled")),
                json!(int(o, "/status/numberAvailable")),
                json!(or_none(ns.unwrap_or_default())),
                json!(created),
            ]
        }
        "jobs" => {
            let conds = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let has = |t: &str| {
                conds
                    .iter()
                    .any(|c| c["type"] == t && c["status"] == "True")
            };
            let status = if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else if has("Suspended") {
                "Suspended"
            } else if has("FailureTarget") {
                "FailureTarget"
            } else if o.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                "Running"
            };
            let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(c) => format!("{}/{c}", int(o, "/status/succeeded")),
                None => format!(
                    "{}/1 of {}",
                    int(o, "/status/succeeded"),
                    int(o, "/spec/parallelism")
                ),
            };
            let start = o
                .pointer("/status/startTime")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::Timestamp>().ok());
            let end = o
                .pointer("/status/completionTime")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            let duration = start
                .map(|s| human_duration(end.as_second() - s.as_second()))
                .unwrap_or_default();
            let (c, i) = template_containers(o, "/spec/template/spec/containers");
            vec![
                name,
                json!(status),
                json!(completions),
                json!(duration),
                json!(created),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "cronjobs" => {
            let last = o
                .pointer("/status/lastScheduleTime")
                .map(|_| age(o, "/status/lastScheduleTime"))
                .unwrap_or_else(|| "<none>".into());
            vec![
                name,
                json!(string(o, "/spec/schedule")),
                json!(or_none(string(o, "/spec/timeZone"))),
                json!(
                    o.pointer("/spec/suspend")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                json!(
                    o.pointer("/status/active")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                ),
                json!(last),
                json!(created),
            ]
        }
        "namespaces" => vec![name, json!(string(o, "/status/phase")), json!(created)],
        "nodes" => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .map(|c| c["status"] == "True")
                .unwrap_or(false);
            let mut roles: Vec<String> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            vec![
                name,
                json!(if ready { "Ready" } else { "NotReady" }),
                json!(or_none(roles.join(","))),
                json!(created),
                json!(string(o, "/status/nodeInfo/kubeletVersion")),
            ]
        }
        "configmaps" => {
            let n = o
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len())
                + o.get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
            vec![name, json!(n.to_string()), json!(created)]
        }
        "secrets" => vec![
            name,
            json!(string(o, "/type")),
            json!(
                o.get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
                    .to_string()
            ),
            json!(created),
        ],
        "serviceaccounts" => vec![
            name,
            json!(
                o.get("secrets")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
                    .to_string()
            ),
            json!(created),
        ],
        "leases" => vec![
            name,
            json!(or_none(string(o, "/spec/holderIdentity"))),
            json!(created),
        ],
        "events" => {
            let last = if o.get("lastTimestamp").is_some_and(|v| !v.is_null()) {
                age(o, "/lastTimestamp")
            } else {
                age(o, "/eventTime")
            };
            let object = format!(
                "{}/{}",
                string(o, "/involvedObject/kind").to_lowercase(),
                string(o, "/involvedObject/name")
            );
            vec![
                json!(last),
                json!(string(o, "/type")),
                json!(string(o, "/reason")),
                json!(object),
                json!(string(o, "/message")),
            ]
        }
        "rolebindings" | "clusterrolebindings" => {
            let role = format!(
                "{}/{}",
                string(o, "/roleRef/kind"),
                string(o, "/roleRef/name")
            );
            vec![name, json!(role), json!(created)]
        }
        "controllerrevisions" => {
            let owner = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|r| r.iter().find(|r| r.get("controller") == Some(&json!(true))))
                .map(|r| {
                    let kind = r
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_lowercase();
                    let group = r
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .and_then(|a| a.split_once('/'))
                        .map(|(g, _)| g)
                        .unwrap_or("");
                    let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                    if group.is_empty() {
                        format!("{kind}/{name}")
                    } else {
                        format!("{kind}.{group}/{name}")
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![
                name,
                json!(owner),
                json!(int(o, "/revision")),
                json!(created),
            ]
        }
        "services" => {
            let ports: Vec<String> = o
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            format!(
                                "{}/{}",
                                int(p, "/port"),
                                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(string(o, "/spec/type")),
                json!(or_none(string(o, "/spec/clusterIP"))),
                json!("<none>"),
                json!(if ports.is_empty() {
                    "<none>".to_string()
                } else {
                    ports.join(",")
                }),
                json!(created),
            ]
        }
        _ => vec![name, json!(string(o, "/metadata/creationTimestamp"))],
    }
}

/// A Table of `objects` (rows carry PartialObjectMetadata).
pub fn render(
    def: &ResourceDef,
    objects: &[Value],
    rv: u64,
    continue_token: Option<&str>,
) -> Value {
    render_with(def, objects, rv, continue_token, "Metadata")
}

/// A Table with `includeObject` = `None`, `Metadata` or `Object`.
pub fn render_with(
    def: &ResourceDef,
    objects: &[Value],
    rv: u64,
    continue_token: Option<&str>,
    include: &str,
) -> Value {
    let defs: Vec<Value> = columns(def)
        .into_iter()
        .map(|(n, t)| {
            json!({"name": n, "type": t, "format": if n == "Name" { "name" } else { "" }, "description": "", "priority": if wide(n) { 1 } else { 0 }})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let object = match include {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(json!({}))}),
            };
            json!({"cells": cells(def, o), "object": object})
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = continue_token {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3 * 3600 + 600), "3h10m");
        assert_eq!(human_duration(3 * 86400), "3d");
    }
}
