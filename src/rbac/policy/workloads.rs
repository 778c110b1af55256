//! The `workloads` policy: an update of a Deployment, StatefulSet, DaemonSet or CronJob by the
//! token changes nothing but the images of existing containers and the tool's two annotations, on
//! workloads whose stored classifier annotation lists an allowed classifier. Also the pod-template
//! checks that the `migration` policy shares. Pure.

use serde_json::{Value, json};

use super::cel::*;
use super::*;
use crate::plan::annotations::{CLASSIFIER, LEGACY_CLASSIFIER};
use crate::plan::patch::{CHANGE_CAUSE, PREVIOUS};

/// The checks of a pod template shared by updates and migration copies. `new*` and `old*` name
/// variables: the template's `Pod` spec, `Containers` and `Init` containers. Everything of the pod
/// spec but the container lists must be equal, the lists must hold the same names in the same
/// order, each container may differ only in its image, and a changed image must be allowed.
pub(super) fn pod_checks(
    old: &str,
    allowed: &dyn Fn(&str) -> String,
    repositories: &str,
) -> Vec<Value> {
    let new_pod = "variables.newPod";
    let old_pod = format!("variables.{old}Pod");
    let (new_c, old_c) = (
        "variables.newContainers",
        format!("variables.{old}Containers"),
    );
    let (new_i, old_i) = ("variables.newInit", format!("variables.{old}Init"));
    let same_fields = |new: &str, old: &str| {
        format!(
            "{new}.all(c, {old}.exists(x, x.name == c.name && {}))",
            same_except("c", "x", &["image"])
        )
    };
    vec![
        validation(
            same_except(new_pod, &old_pod, &["containers", "initContainers"]),
            "may not change pod settings (service account, volumes, host namespaces, security context, scheduling, DNS, ...): only container images",
        ),
        validation(
            format!(
                "{new_c}.map(c, c.name) == {old_c}.map(c, c.name) && {new_i}.map(c, c.name) == {old_i}.map(c, c.name)"
            ),
            "may not add, remove, rename, reorder or move containers or init containers",
        ),
        validation(
            format!(
                "{} && {}",
                same_fields(new_c, &old_c),
                same_fields(new_i, &old_i)
            ),
            "may change nothing of a container but its image (command, args, env, mounts, resources, probes, ...)",
        ),
        validation(
            format!(
                "({new_c} + {new_i}).all(c, ({old_c} + {old_i}).exists(x, x.name == c.name && x.image == c.image) || {})",
                allowed("c.image")
            ),
            &format!("may only deploy images of {repositories}"),
        ),
    ]
}

/// The variables `pod_checks` reads for one side, from the variable holding its pod template.
pub(super) fn pod_variables(side: &str) -> Vec<Value> {
    let pod = format!("variables.{side}Pod");
    vec![
        variable(
            &format!("{side}Pod"),
            format!("variables.{side}Template.spec"),
        ),
        variable(&format!("{side}Containers"), format!("{pod}.containers")),
        variable(
            &format!("{side}Init"),
            or_empty_list(&pod, "initContainers"),
        ),
    ]
}

pub(super) fn workloads(
    request: &Request,
    name: &str,
    set: &str,
    usernames: &[String],
    allowed: &dyn Fn(&str) -> String,
) -> Value {
    let repositories = request.repositories_text();
    let mut variables = vec![
        variable("newObj", "dyn(object)".to_owned()),
        variable("oldObj", "dyn(oldObject)".to_owned()),
        variable("newMeta", "variables.newObj.metadata".to_owned()),
        variable("oldMeta", "variables.oldObj.metadata".to_owned()),
        variable(
            "newAnnotations",
            or_empty_map("variables.newMeta", "annotations"),
        ),
        variable(
            "oldAnnotations",
            or_empty_map("variables.oldMeta", "annotations"),
        ),
        variable(
            "isCronJob",
            "request.resource.resource == 'cronjobs'".to_owned(),
        ),
        variable(
            "newTemplate",
            "variables.isCronJob ? variables.newObj.spec.jobTemplate.spec.template : variables.newObj.spec.template".to_owned(),
        ),
        variable(
            "oldTemplate",
            "variables.isCronJob ? variables.oldObj.spec.jobTemplate.spec.template : variables.oldObj.spec.template".to_owned(),
        ),
    ];
    variables.extend(pod_variables("new"));
    variables.extend(pod_variables("old"));
    let record = record_pattern(&request.repositories);
    let (new_ann, old_ann) = ("variables.newAnnotations", "variables.oldAnnotations");
    let unchanged = |key: &str| {
        format!(
            "!({k} in {new_ann}) || ({k} in {old_ann} && {new_ann}[{k}] == {old_ann}[{k}])",
            k = lit(key)
        )
    };
    let (new_spec, old_spec) = ("variables.newObj.spec", "variables.oldObj.spec");
    let cron_spec = format!(
        "{} && {} && {}",
        same_except(new_spec, old_spec, &["jobTemplate"]),
        same_except(
            &format!("{new_spec}.jobTemplate"),
            &format!("{old_spec}.jobTemplate"),
            &["spec"]
        ),
        same_except(
            &format!("{new_spec}.jobTemplate.spec"),
            &format!("{old_spec}.jobTemplate.spec"),
            &["template"]
        ),
    );
    let mut validations = vec![
        validation(
            lists_classifier(old_ann, &request.classifiers),
            &format!(
                "may only update workloads whose {CLASSIFIER} (or {LEGACY_CLASSIFIER}) annotation already lists {}",
                request.classifiers_text()
            ),
        ),
        validation(
            same_except(
                "variables.newObj",
                "variables.oldObj",
                &["metadata", "spec"],
            ),
            "may change nothing but container images (and the annotations kubectl-update writes)",
        ),
        validation(
            same_except(
                "variables.newMeta",
                "variables.oldMeta",
                &[
                    "annotations",
                    "managedFields",
                    "resourceVersion",
                    "generation",
                ],
            ),
            "may not change the workload's metadata (labels, owner references, finalizers, ...)",
        ),
        // A DaemonSet's template generation lives in an annotation the API server sets itself
        // (from the old object, plus one when the template changes) before admission.
        validation(
            format!(
                "request.resource.resource == 'daemonsets' ? ({}) : ({})",
                same_except(
                    new_ann,
                    old_ann,
                    &[PREVIOUS, CHANGE_CAUSE, DAEMONSET_GENERATION]
                ),
                same_except(new_ann, old_ann, &[PREVIOUS, CHANGE_CAUSE])
            ),
            &format!(
                "may change no annotation but {PREVIOUS} and {CHANGE_CAUSE} (the classifier annotations included)"
            ),
        ),
        validation(
            format!(
                "{} || {new_ann}[{}].matches({})",
                unchanged(PREVIOUS),
                lit(PREVIOUS),
                lit(&record)
            ),
            &format!(
                "may only write kubectl-update's own record to {PREVIOUS}, naming images of {repositories}"
            ),
        ),
        validation(
            format!(
                "{} || {new_ann}[{}].startsWith('kubectl-update: ')",
                unchanged(CHANGE_CAUSE),
                lit(CHANGE_CAUSE)
            ),
            &format!("may only write kubectl-update's own {CHANGE_CAUSE}"),
        ),
        validation(
            format!(
                "variables.isCronJob ? ({cron_spec}) : ({})",
                same_except(new_spec, old_spec, &["template"])
            ),
            "may not change the workload's spec outside the pod template (replicas, strategy, paused, schedule, suspend, ...)",
        ),
        validation(
            same_except("variables.newTemplate", "variables.oldTemplate", &["spec"]),
            "may not change the pod template's metadata (labels, annotations)",
        ),
    ];
    validations.extend(pod_checks("old", allowed, &repositories));
    policy(
        name,
        set,
        json!([
            {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments", "statefulsets", "daemonsets"]},
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["cronjobs"]},
        ]),
        usernames,
        variables,
        validations,
    )
}
