//! The policies that bound everything else the token may do: `pods` (deletes only of StatefulSet
//! pods that are not Ready), `leases` (only the tool's locks, short), `events` (only the tool's
//! own audit Events about workloads) and `writes` (no other kind of write, none in protected
//! namespaces). Pure.

use serde_json::{Value, json};

use super::cel::*;
use super::*;
use crate::plan::workload::Kind;

/// Deleting pods: only StatefulSet pods that are not Ready (stuck on a failed revision).
pub(super) fn pods(name: &str, set: &str, usernames: &[String]) -> Value {
    let validations = vec![
        validation(
            "has(oldObject.metadata.ownerReferences) && oldObject.metadata.ownerReferences.exists(r, r.kind == 'StatefulSet' && r.apiVersion == 'apps/v1' && has(r.controller) && r.controller)".to_owned(),
            "may only delete pods of StatefulSets",
        ),
        validation(
            "!(has(oldObject.status) && has(oldObject.status.conditions) && oldObject.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True'))".to_owned(),
            "may only delete pods that are not Ready",
        ),
    ];
    policy(
        name,
        set,
        json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["DELETE"], "resources": ["pods"]}]),
        usernames,
        Vec::new(),
        validations,
    )
}

/// The lock: only the Leases of the allowed classifiers, never longer than the tool takes them.
pub(super) fn leases(
    name: &str,
    set: &str,
    usernames: &[String],
    classifiers: &[Classifier],
) -> Value {
    let names: Vec<String> = classifiers
        .iter()
        .map(crate::run::lock::lease_name)
        .collect();
    let seconds = crate::run::lock::LEASE_SECONDS;
    let validations = vec![
        validation(
            format!(
                "(request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name) in {}",
                list(&names)
            ),
            &format!("may only take the locks {}", names.join(", ")),
        ),
        validation(
            format!(
                "request.operation == 'DELETE' || (has(object.spec.leaseDurationSeconds) && object.spec.leaseDurationSeconds > 0 && object.spec.leaseDurationSeconds <= {seconds})"
            ),
            &format!("may only hold a lock for at most {seconds}s without renewing it"),
        ),
    ];
    policy(
        name,
        set,
        json!([{"apiGroups": ["coordination.k8s.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["leases"]}]),
        usernames,
        Vec::new(),
        validations,
    )
}

/// The audit trail: Events reported by kubectl-update, with one of its reasons, about a workload
/// of an updatable kind in the Event's own namespace. The token cannot forge another component's
/// Events, or Events about pods, nodes or anything else.
pub(super) fn events(name: &str, set: &str, usernames: &[String]) -> Value {
    let component = lit(crate::plan::audit::COMPONENT);
    let reasons: Vec<&str> = crate::plan::audit::Reason::ALL
        .iter()
        .map(|it| it.as_str())
        .collect();
    let kinds: Vec<String> = Kind::ALL
        .into_iter()
        .filter(|kind| !kind.is_migration_template())
        .map(|kind| kind.to_string())
        .collect();
    // Each API version with its kinds, compared field by field (`apps` + `v1/Deployment` is no
    // Deployment).
    let mut by_version: Vec<(&str, Vec<String>)> = Vec::new();
    for kind in Kind::ALL
        .into_iter()
        .filter(|kind| !kind.is_migration_template())
    {
        match by_version
            .iter_mut()
            .find(|(v, _)| *v == kind.api_version())
        {
            Some((_, kinds)) => kinds.push(kind.to_string()),
            None => by_version.push((kind.api_version(), vec![kind.to_string()])),
        }
    }
    let kind_test = by_version
        .iter()
        .map(|(version, kinds)| {
            format!(
                "(variables.event.involvedObject.apiVersion == {} && variables.event.involvedObject.kind in {})",
                lit(version),
                list(kinds)
            )
        })
        .collect::<Vec<_>>()
        .join(" || ");
    let validations = vec![
        validation(
            format!(
                "has(variables.event.source) && has(variables.event.source.component) && variables.event.source.component == {component} && has(variables.event.reportingComponent) && variables.event.reportingComponent == {component}"
            ),
            &format!(
                "may only record Events reported by {}",
                crate::plan::audit::COMPONENT
            ),
        ),
        validation(
            format!(
                "has(variables.event.reason) && variables.event.reason in {}",
                list(&reasons)
            ),
            &format!(
                "may only record Events with the reason {}",
                reasons.join(", ")
            ),
        ),
        validation(
            format!(
                "has(variables.event.involvedObject.kind) && has(variables.event.involvedObject.apiVersion) && ({kind_test}) && has(variables.event.involvedObject.namespace) && variables.event.involvedObject.namespace == request.namespace && has(variables.event.involvedObject.name) && size(variables.event.involvedObject.name) <= 253 && !has(variables.event.involvedObject.fieldPath) && !has(variables.event.related) && !has(variables.event.series)"
            ),
            &format!(
                "may only record Events about a {} in the Event's namespace",
                kinds.join(", ")
            ),
        ),
        validation(
            "has(variables.event.type) && variables.event.type in ['Normal', 'Warning']".to_owned(),
            "may only record Events of type Normal or Warning",
        ),
        // With `eventTime` the API server itself bounds the message (1024), action and
        // reportingInstance (128); without it, it bounds nothing, and Events could fill etcd.
        validation(
            format!(
                "has(variables.event.eventTime) && has(variables.event.message) && size(variables.event.message) <= {max} && has(variables.event.count) && variables.event.count == 1 && !has(variables.event.source.host) && !has(variables.event.metadata.labels) && !has(variables.event.metadata.annotations) && !has(variables.event.metadata.ownerReferences) && !has(variables.event.metadata.finalizers)",
                max = crate::plan::audit::MAX_MESSAGE
            ),
            &format!(
                "may only record one-time Events (count 1, an eventTime) with a message of at most {} characters, no source host, and no labels, annotations, owners or finalizers",
                crate::plan::audit::MAX_MESSAGE
            ),
        ),
    ];
    policy(
        name,
        set,
        json!([{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["events"]}]),
        usernames,
        // events.k8s.io/v1 serves the same objects under other field names, and kube-apiserver
        // type-checks the expressions against both: the core/v1 fields are read from `dyn`.
        vec![variable("event", "dyn(object)".to_owned())],
        validations,
    )
}

/// Every write of the token: none in a protected namespace, none of a kind the tool never makes.
/// The kinds come from the call table (`access`), like the Role.
pub(super) fn writes(request: &Request, name: &str, set: &str, usernames: &[String]) -> Value {
    let mut operations: Vec<(String, String, Vec<&str>)> = Vec::new();
    for permission in crate::cluster::access::every_permission() {
        let operation = match permission.verb {
            "create" => "CREATE",
            "update" | "patch" => "UPDATE",
            "delete" => "DELETE",
            _ => continue,
        };
        let resource = match permission.subresource {
            Some(sub) => format!("{}/{sub}", permission.resource),
            None => permission.resource.to_owned(),
        };
        let group = permission.group.to_owned();
        match operations
            .iter_mut()
            .find(|(g, r, _)| *g == group && *r == resource)
        {
            Some((_, _, ops)) => {
                if !ops.contains(&operation) {
                    ops.push(operation);
                }
            }
            None => operations.push((group, resource, vec![operation])),
        }
    }
    let mut allowed: Vec<String> = operations
        .iter()
        .map(|(group, resource, ops)| {
            format!(
                "(request.resource.group == {} && request.resource.resource == {} && variables.requestSubResource == '' && request.operation in {})",
                lit(group),
                lit(resource),
                list(ops)
            )
        })
        .collect();
    // Access reviews: how the tool (and `kubectl auth can-i`) asks what it may do.
    allowed.push(
        "(request.operation == 'CREATE' && variables.requestSubResource == '' && ((request.resource.group == 'authorization.k8s.io' && request.resource.resource in ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']) || (request.resource.group == 'authentication.k8s.io' && request.resource.resource == 'selfsubjectreviews')))".to_owned(),
    );
    let protected = request.protected_namespaces();
    let validations = vec![
        validation(
            format!("!(variables.requestNamespace in {})", list(&protected)),
            &format!("may not write in {}", protected.join(", ")),
        ),
        validation(
            allowed.join(" || "),
            "may only make the writes kubectl-update makes (patch workloads, create and delete migration Jobs, delete stuck pods, its Leases, its Events, access reviews)",
        ),
    ];
    policy(
        name,
        set,
        json!([{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/*"], "scope": "*"}]),
        usernames,
        // The request leaves out empty fields: cluster-scoped objects have no namespace.
        vec![
            variable(
                "requestNamespace",
                "has(request.namespace) ? request.namespace : ''".to_owned(),
            ),
            variable(
                "requestSubResource",
                "has(request.subResource) ? request.subResource : ''".to_owned(),
            ),
        ],
        validations,
    )
}
