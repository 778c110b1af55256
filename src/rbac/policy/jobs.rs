//! The Job policies: `migration` (a created Job is a faithful copy of its template, the binding's
//! parameter) and `jobs` (only Jobs naming a known template are created, only copies deleted). Pure.

use serde_json::{Value, json};

use super::cel::*;
use super::workloads::{pod_checks, pod_variables};
use super::*;
use crate::plan::annotations::{CLASSIFIER, LEGACY_CLASSIFIER};
use crate::plan::migration::{CONTROLLER_LABELS, IMAGE, ORDER};
use crate::plan::workload::MIGRATION_OF;

/// Creating a Job: it must be a copy of its template (`params`), as `plan::migration::job` makes it.
pub(super) fn migration(
    request: &Request,
    name: &str,
    set: &str,
    usernames: &[String],
    allowed: &dyn Fn(&str) -> String,
) -> Value {
    let repositories = request.repositories_text();
    let mut variables = vec![
        variable("newObj", "dyn(object)".to_owned()),
        variable("tpl", "dyn(params)".to_owned()),
        variable("newMeta", "variables.newObj.metadata".to_owned()),
        variable("tplMeta", "variables.tpl.metadata".to_owned()),
        variable("newLabels", or_empty_map("variables.newMeta", "labels")),
        variable("tplLabels", or_empty_map("variables.tplMeta", "labels")),
        variable(
            "newAnnotations",
            or_empty_map("variables.newMeta", "annotations"),
        ),
        variable(
            "tplAnnotations",
            or_empty_map("variables.tplMeta", "annotations"),
        ),
        variable("newTemplate", "variables.newObj.spec.template".to_owned()),
        variable("tplTemplate", "variables.tpl.spec.template".to_owned()),
        variable(
            "newPodMeta",
            or_empty_map("variables.newTemplate", "metadata"),
        ),
        variable(
            "tplPodMeta",
            or_empty_map("variables.tplTemplate", "metadata"),
        ),
        variable(
            "newPodLabels",
            or_empty_map("variables.newPodMeta", "labels"),
        ),
        variable(
            "tplPodLabels",
            or_empty_map("variables.tplPodMeta", "labels"),
        ),
    ];
    variables.extend(pod_variables("new"));
    variables.extend(pod_variables("tpl"));
    let controller: Vec<&str> = CONTROLLER_LABELS.to_vec();
    let mut labels_added = controller.clone();
    labels_added.push(MIGRATION_OF);
    let names_template = |labels: &str| {
        format!(
            "{m} in {labels} && {labels}[{m}] == variables.tplMeta.name",
            m = lit(MIGRATION_OF)
        )
    };
    let dropped_annotations = [CLASSIFIER, LEGACY_CLASSIFIER, ORDER, LAST_APPLIED, IMAGE];
    let (new_spec, tpl_spec) = ("variables.newObj.spec", "variables.tpl.spec");
    let mut validations = vec![
        validation(
            lists_classifier("variables.tplAnnotations", &request.classifiers),
            &format!(
                "may only run migration templates whose classifier annotation lists {}",
                request.classifiers_text()
            ),
        ),
        validation(
            "variables.newObj.all(k, k in ['apiVersion', 'kind', 'metadata', 'spec', 'status'])"
                .to_owned(),
            "may only create Jobs that are migration copies",
        ),
        validation(
            "variables.newMeta.all(k, k in ['name', 'generateName', 'namespace', 'labels', 'annotations', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'resourceVersion'])".to_owned(),
            "may not give a migration copy owner references, finalizers or other metadata",
        ),
        validation(
            format!(
                "{} && {}",
                names_template("variables.newLabels"),
                copied("variables.newLabels", "variables.tplLabels", &controller, &labels_added)
            ),
            &format!(
                "may only create a migration copy labelled {MIGRATION_OF}=<template> with the template's labels"
            ),
        ),
        validation(
            format!(
                "{} && (!({img} in variables.newAnnotations) || {})",
                copied(
                    "variables.newAnnotations",
                    "variables.tplAnnotations",
                    &dropped_annotations,
                    &[IMAGE]
                ),
                allowed(&format!("variables.newAnnotations[{}]", lit(IMAGE))),
                img = lit(IMAGE),
            ),
            &format!(
                "may only create a migration copy with the template's annotations (no classifier) and {IMAGE}"
            ),
        ),
        validation(
            format!(
                "{} && (!('suspend' in {new_spec}) || {new_spec}.suspend == false) && (!('manualSelector' in {new_spec}) || {new_spec}.manualSelector == false) && 'ttlSecondsAfterFinished' in {new_spec} && (('ttlSecondsAfterFinished' in {tpl_spec} && {new_spec}.ttlSecondsAfterFinished == {tpl_spec}.ttlSecondsAfterFinished) || (!('ttlSecondsAfterFinished' in {tpl_spec}) && {new_spec}.ttlSecondsAfterFinished == {ttl}))",
                copied(
                    new_spec,
                    tpl_spec,
                    &["suspend", "selector", "manualSelector", "template"],
                    &["suspend", "selector", "manualSelector", "template", "ttlSecondsAfterFinished"],
                ),
                ttl = crate::plan::migration::DEFAULT_TTL_SECONDS,
            ),
            "may only create a migration copy with the template's Job spec (suspend false, a generated selector, the template's TTL or else one day)",
        ),
        validation(
            format!(
                "{} && {} && {} && {}",
                same_except("variables.newTemplate", "variables.tplTemplate", &["metadata", "spec"]),
                same_except("variables.newPodMeta", "variables.tplPodMeta", &["labels"]),
                names_template("variables.newPodLabels"),
                copied("variables.newPodLabels", "variables.tplPodLabels", &controller, &labels_added),
            ),
            "may only create a migration copy with the template's pod metadata",
        ),
    ];
    validations.extend(pod_checks("tpl", allowed, &repositories));
    let mut res = policy(
        name,
        set,
        json!([{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["jobs"]}]),
        usernames,
        variables,
        validations,
    );
    res["spec"]["paramKind"] = json!({"apiVersion": "batch/v1", "kind": "Job"});
    res
}

/// Which Jobs may be created (those naming a known template, which its `migration` binding then
/// judges) and deleted (migration copies, never templates).
pub(super) fn jobs(request: &Request, name: &str, set: &str, usernames: &[String]) -> Value {
    let known: Vec<String> = request
        .templates
        .iter()
        .map(|it| format!("{}/{}", it.namespace, it.name))
        .collect();
    let m = lit(MIGRATION_OF);
    let validations = vec![
        validation(
            format!(
                "request.operation != 'CREATE' || (has(object.metadata.labels) && {m} in object.metadata.labels && (request.namespace + '/' + object.metadata.labels[{m}]) in {})",
                list(&known)
            ),
            &format!(
                "may only create Jobs labelled {MIGRATION_OF} with a migration template known when the policy was generated ({})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ),
        validation(
            format!(
                "request.operation != 'DELETE' || (has(oldObject.metadata.labels) && {m} in oldObject.metadata.labels && (request.namespace + '/' + oldObject.metadata.labels[{m}]) in {known} && !(has(oldObject.metadata.annotations) && ({c} in oldObject.metadata.annotations || {l} in oldObject.metadata.annotations)))",
                c = lit(CLASSIFIER),
                l = lit(LEGACY_CLASSIFIER),
                known = list(&known)
            ),
            "may only delete copies of the migration templates known when the policy was generated, never a template",
        ),
    ];
    policy(
        name,
        set,
        json!([{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"], "resources": ["jobs"]}]),
        usernames,
        Vec::new(),
        validations,
    )
}
