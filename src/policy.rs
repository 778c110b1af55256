//! The admission policies `kubectl update rbac` generates by default: ValidatingAdmissionPolicies
//! and their bindings (`admissionregistration.k8s.io/v1`) that keep the CI token to what the tool
//! does. RBAC says which verbs reach which kinds; it cannot say which fields a write changes, which
//! Jobs may be created or which pods deleted. For the token's ServiceAccounts these policies deny by
//! default and allow only:
//!
//! - `workloads`: an update of a Deployment, StatefulSet, DaemonSet or CronJob whose *stored*
//!   classifier annotation lists an allowed classifier, changing nothing but the images of its
//!   existing containers (to images of the allowed repositories) and the two annotations the tool
//!   writes (`kubectl-update.io/previous`, which must stay the tool's record naming allowed images,
//!   and `kubernetes.io/change-cause`). Objects are compared map by map and key by key at every
//!   level, so a field Kubernetes adds later is covered without being listed;
//! - `migration`: creating a Job that is a faithful copy of a known migration template (the
//!   template is the policy's parameter, one binding per template): equal to it but for images of
//!   the allowed repositories and the fields the tool sets (`migrate::copy`);
//! - `jobs`: creating only Jobs that name a known template, deleting only migration copies;
//! - `pods`: deleting only StatefulSet pods that are not Ready (a rollback unsticking them);
//! - `leases`: only the locks of the allowed classifiers, at most [`crate::lock::LEASE_SECONDS`];
//! - `writes`: no other kind of write, and none at all in kube-system, kube-public,
//!   kube-node-lease or a protected namespace (RBAC cannot subtract those from `--cluster-wide`).
//!
//! Names carry the namespace set (its first namespace and a hash of all of them and the
//! ServiceAccount), so generating for another set adds policies instead of replacing these.
//! Pure: builds the objects; never contacts a cluster.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::annotations::{CLASSIFIER, Classifier, LEGACY_CLASSIFIER};
use crate::image::repository_of;
use crate::migrate::copy::{CONTROLLER_LABELS, IMAGE, MIGRATION_OF, ORDER};
use crate::patch::{CHANGE_CAUSE, PREVIOUS};

/// Namespaces the token never writes in, whatever else is asked: Kubernetes' own. A Job there can
/// run as a controller's ServiceAccount, which is as good as cluster-admin.
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The annotation in which apps/v1 DaemonSets carry their template generation (server-set).
const DAEMONSET_GENERATION: &str = "deprecated.daemonset.template.generation";
/// The annotation `kubectl apply` keeps; a migration copy drops it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the policies are for.
#[derive(Debug, Clone)]
pub struct Request {
    pub service_account: String,
    /// Where the RBAC grants: every namespace holds a ServiceAccount (only the first with
    /// `cluster_wide`), and the bindings cover all of them (every namespace with `cluster_wide`).
    pub namespaces: Vec<String>,
    pub cluster_wide: bool,
    /// Repositories images may come from, as the user spelled them.
    pub repositories: Vec<String>,
    /// Classifiers the token may deploy.
    pub classifiers: Vec<Classifier>,
    /// Namespaces never written in beyond [`SYSTEM_NAMESPACES`].
    pub protected: Vec<String>,
    /// The migration templates copies may be made of.
    pub templates: Vec<Template>,
}

/// A migration template (a Job listing an allowed classifier).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Template {
    pub namespace: String,
    pub name: String,
}

impl Request {
    /// The ServiceAccount usernames the policies apply to.
    pub fn usernames(&self) -> Vec<String> {
        let namespaces = if self.cluster_wide {
            &self.namespaces[..1]
        } else {
            &self.namespaces[..]
        };
        namespaces
            .iter()
            .map(|namespace| format!("system:serviceaccount:{namespace}:{}", self.service_account))
            .collect()
    }

    /// `<first namespace>-<8 hex digits>`: the hash covers the ServiceAccount, the namespaces
    /// (sorted) and the scope, so each set of namespaces gets its own policies.
    pub fn set_name(&self) -> String {
        let mut namespaces = self.namespaces.clone();
        namespaces.sort();
        namespaces.dedup();
        let scope = if self.cluster_wide {
            "cluster"
        } else {
            "namespaces"
        };
        let digest = Sha256::digest(format!(
            "{scope}\n{}\n{}",
            self.service_account,
            namespaces.join(",")
        ));
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let first: String = self.namespaces[0].chars().take(54).collect();
        format!("{first}-{hash}")
    }

    /// Every namespace the token may never write in.
    pub fn protected_namespaces(&self) -> Vec<String> {
        protected_namespaces(&self.protected)
    }
}

/// [`SYSTEM_NAMESPACES`] and `extra`, without repeats.
pub fn protected_namespaces(extra: &[String]) -> Vec<String> {
    let mut res: Vec<String> = SYSTEM_NAMESPACES
        .iter()
        .map(|it| (*it).to_owned())
        .collect();
    for namespace in extra {
        if !res.contains(namespace) {
            res.push(namespace.clone());
        }
    }
    res
}

/// A CEL string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A CEL list of string literals.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|it| lit(it.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// CEL: map `new` equals map `old` key by key (deep equality of the values), except that keys of
/// `dropped` may be missing from `new` and keys of `added` may be added to it or differ. A key
/// nobody listed, present on either side, must be present on both with equal values.
fn copied(new: &str, old: &str, dropped: &[&str], added: &[&str]) -> String {
    if dropped.is_empty() && added.is_empty() {
        return format!("{new} == {old}");
    }
    let keep = if dropped.is_empty() {
        format!("(k in {old} && {new}[k] == {old}[k])")
    } else {
        format!(
            "(k in {old} && !(k in {}) && {new}[k] == {old}[k])",
            list(dropped)
        )
    };
    let new_side = if added.is_empty() {
        format!("{new}.all(k, {keep})")
    } else {
        format!("{new}.all(k, k in {} || {keep})", list(added))
    };
    let mut either: Vec<&str> = dropped.to_vec();
    either.extend(added.iter().filter(|it| !dropped.contains(it)));
    format!(
        "{new_side} && {old}.all(k, k in {} || k in {new})",
        list(&either)
    )
}

/// CEL: maps `new` and `old` are equal but for the keys of `except`.
fn same_except(new: &str, old: &str, except: &[&str]) -> String {
    copied(new, old, except, except)
}

/// CEL: the value of `key` in map `map`, or an empty map (list) when it is missing.
fn or_empty_map(map: &str, key: &str) -> String {
    format!("{} in {map} ? {map}[{}] : dyn({{}})", lit(key), lit(key))
}

fn or_empty_list(map: &str, key: &str) -> String {
    format!("{} in {map} ? {map}[{}] : dyn([])", lit(key), lit(key))
}

/// CEL: the annotations `annotations` (a map) list one of `classifiers` in either classifier
/// annotation: comma-separated lists, spaces around entries ignored, as `annotations::OptIn` reads
/// them (a regular expression rather than `split`, which needs the strings extension).
fn lists_classifier(annotations: &str, classifiers: &[Classifier]) -> String {
    let alternatives: Vec<String> = classifiers
        .iter()
        .map(|it| escape(&it.to_string()))
        .collect();
    let pattern = format!(r"(^|,)\s*({})\s*(,|$)", alternatives.join("|"));
    format!(
        "{}.exists(key, key in {annotations} && {annotations}[key].matches({}))",
        list(&[CLASSIFIER, LEGACY_CLASSIFIER]),
        lit(&pattern)
    )
}

/// A validation: the expression, a fixed message, and the same message after the requester's name.
fn validation(expression: String, message: &str) -> Value {
    json!({
        "expression": expression,
        "message": format!("the CI token {message}"),
        "messageExpression": format!("request.userInfo.username + {}", lit(&format!(" {message}"))),
    })
}

fn variable(name: &str, expression: String) -> Value {
    json!({"name": name, "expression": expression})
}

/// The checks of a pod template shared by updates and migration copies. `new*` and `old*` name
/// variables: the template's `Pod` spec, `Containers` and `Init` containers. Everything of the pod
/// spec but the container lists must be equal, the lists must hold the same names in the same
/// order, each container may differ only in its image, and a changed image must be allowed.
fn pod_checks(old: &str, allowed: &dyn Fn(&str) -> String, repositories: &str) -> Vec<Value> {
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
fn pod_variables(side: &str) -> Vec<Value> {
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

fn labels() -> Value {
    json!({"app.kubernetes.io/managed-by": "kubectl-update"})
}

fn policy(
    name: &str,
    set: &str,
    rules: Value,
    usernames: &[String],
    variables: Vec<Value>,
    validations: Vec<Value>,
) -> Value {
    let mut metadata_labels = labels();
    metadata_labels["kubectl-update.io/policy-set"] = Value::from(set);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": metadata_labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": rules},
            "matchConditions": [{"name": "is-the-ci-token", "expression": format!("request.userInfo.username in {}", list(usernames))}],
            "variables": variables,
            "validations": validations,
        },
    })
}

fn binding(name: &str, policy: &str, set: &str, match_resources: Value) -> Value {
    let mut metadata_labels = labels();
    metadata_labels["kubectl-update.io/policy-set"] = Value::from(set);
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": metadata_labels},
        "spec": {"policyName": policy, "validationActions": ["Deny"], "matchResources": match_resources},
    })
}

fn namespace_selector(operator: &str, namespaces: &[String]) -> Value {
    json!({"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": operator, "values": namespaces}]}})
}

/// The policies and their bindings, in apply order (a binding after its policy).
pub fn objects(request: &Request) -> Vec<Value> {
    let set = request.set_name();
    let name = |purpose: &str| format!("{purpose}.{set}.kubectl-update.io");
    let usernames = request.usernames();
    let allowed = |image: &str| image_allowed(image, &request.repositories);
    let in_set = if request.cluster_wide {
        namespace_selector("NotIn", &request.protected_namespaces())
    } else {
        namespace_selector("In", &request.namespaces)
    };
    let mut migration_bindings = Vec::new();
    for template in &request.templates {
        let mut binding_name = format!(
            "migration.{}.{}.{set}.kubectl-update.io",
            template.namespace, template.name
        );
        if binding_name.len() > 253 {
            let digest = Sha256::digest(format!("{}/{}", template.namespace, template.name));
            let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            binding_name = format!("migration.{hash}.{set}.kubectl-update.io");
        }
        // Only copies of this template (by label, in its namespace) are judged against it.
        let mut binding = binding(
            &binding_name,
            &name("migration"),
            &set,
            json!({
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": template.namespace}},
                "objectSelector": {"matchLabels": {MIGRATION_OF: template.name}},
            }),
        );
        binding["spec"]["paramRef"] = json!({
            "name": template.name,
            "namespace": template.namespace,
            "parameterNotFoundAction": "Deny",
        });
        migration_bindings.push(binding);
    }
    let policies: Vec<(Value, Vec<Value>)> = vec![
        (
            workloads(request, &name("workloads"), &set, &usernames, &allowed),
            vec![binding(
                &name("workloads"),
                &name("workloads"),
                &set,
                in_set.clone(),
            )],
        ),
        (
            migration(request, &name("migration"), &set, &usernames, &allowed),
            migration_bindings,
        ),
        (
            jobs(request, &name("jobs"), &set, &usernames),
            vec![binding(&name("jobs"), &name("jobs"), &set, in_set.clone())],
        ),
        (
            pods(&name("pods"), &set, &usernames),
            vec![binding(&name("pods"), &name("pods"), &set, in_set.clone())],
        ),
        (
            leases(&name("leases"), &set, &usernames, &request.classifiers),
            vec![binding(&name("leases"), &name("leases"), &set, in_set)],
        ),
        // Every write anywhere, also outside the namespace set (where other rules may grant).
        (
            writes(request, &name("writes"), &set, &usernames),
            vec![binding(&name("writes"), &name("writes"), &set, json!({}))],
        ),
    ];
    policies
        .into_iter()
        .flat_map(|(policy, bindings)| std::iter::once(policy).chain(bindings))
        .collect()
}

fn workloads(
    request: &Request,
    name: &str,
    set: &str,
    usernames: &[String],
    allowed: &dyn Fn(&str) -> String,
) -> Value {
    let repositories = request.repositories.join(", ");
    let classifiers: Vec<String> = request
        .classifiers
        .iter()
        .map(ToString::to_string)
        .collect();
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
                classifiers.join(" or ")
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

/// Creating a Job: it must be a copy of its template (`params`), as `migrate::copy::job` makes it.
fn migration(
    request: &Request,
    name: &str,
    set: &str,
    usernames: &[String],
    allowed: &dyn Fn(&str) -> String,
) -> Value {
    let repositories = request.repositories.join(", ");
    let classifiers: Vec<String> = request
        .classifiers
        .iter()
        .map(ToString::to_string)
        .collect();
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
                classifiers.join(" or ")
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
                "{} && (!('suspend' in {new_spec}) || {new_spec}.suspend == false) && (!('manualSelector' in {new_spec}) || {new_spec}.manualSelector == false) && 'ttlSecondsAfterFinished' in {new_spec} && (!('ttlSecondsAfterFinished' in {tpl_spec}) || {new_spec}.ttlSecondsAfterFinished == {tpl_spec}.ttlSecondsAfterFinished)",
                copied(
                    new_spec,
                    tpl_spec,
                    &["suspend", "selector", "manualSelector", "template"],
                    &["suspend", "selector", "manualSelector", "template", "ttlSecondsAfterFinished"],
                ),
            ),
            "may only create a migration copy with the template's Job spec (suspend false, a generated selector, a TTL)",
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
fn jobs(request: &Request, name: &str, set: &str, usernames: &[String]) -> Value {
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
                "request.operation != 'DELETE' || (has(oldObject.metadata.labels) && {m} in oldObject.metadata.labels && !(has(oldObject.metadata.annotations) && ({c} in oldObject.metadata.annotations || {l} in oldObject.metadata.annotations)))",
                c = lit(CLASSIFIER),
                l = lit(LEGACY_CLASSIFIER)
            ),
            "may only delete migration copies, never a template",
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

/// Deleting pods: only StatefulSet pods that are not Ready (stuck on a failed revision).
fn pods(name: &str, set: &str, usernames: &[String]) -> Value {
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
fn leases(name: &str, set: &str, usernames: &[String], classifiers: &[Classifier]) -> Value {
    let names: Vec<String> = classifiers.iter().map(crate::lock::lease_name).collect();
    let seconds = crate::lock::LEASE_SECONDS;
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

/// Every write of the token: none in a protected namespace, none of a kind the tool never makes.
/// The kinds come from the call table (`access`), like the Role.
fn writes(request: &Request, name: &str, set: &str, usernames: &[String]) -> Value {
    let mut operations: Vec<(String, String, Vec<&str>)> = Vec::new();
    for permission in crate::access::every_permission() {
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
            "may only make the writes kubectl-update makes (patch workloads, create and delete migration Jobs, delete stuck pods, its Leases, access reviews)",
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

/// The image pattern (anchored) of the repositories: any tag and/or digest.
fn image_pattern(repositories: &[String]) -> String {
    let alternatives: Vec<String> = repositories
        .iter()
        .flat_map(|it| spellings(it))
        .map(|it| escape(&it))
        .collect();
    format!(
        "({})(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(@sha256:[a-f0-9]{{64}})?",
        alternatives.join("|")
    )
}

/// A CEL test that `image` (an expression) names one of the
/// repositories: anchored, so `registry.example.com.evil.io/...` does not pass for
/// `registry.example.com/...`.
fn image_allowed(image: &str, repositories: &[String]) -> String {
    format!(
        "{image}.matches({})",
        lit(&format!("^{}$", image_pattern(repositories)))
    )
}

/// The pattern of the `kubectl-update.io/previous` record (`patch::Previous` as serde_json writes
/// it) whose previous and target images all belong to the repositories.
fn record_pattern(repositories: &[String]) -> String {
    let image = image_pattern(repositories);
    let entry = format!(
        r#"\{{"name":"[a-z0-9]([-a-z0-9]*[a-z0-9])?"(,"init":true)?,"previous":"{image}","target":"{image}"\}}"#
    );
    format!(
        r#"^\{{"containers":\[{entry}(,{entry})*\],"time":"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,9}})?(Z|[+-][0-9]{{2}}:[0-9]{{2}})"\}}$"#
    )
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
        res.push(format!("index.docker.io/{path}"));
        if let Some(name) = path.strip_prefix("library/") {
            res.push(name.to_owned());
            res.push(format!("docker.io/{name}"));
            res.push(format!("index.docker.io/{name}"));
        }
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
    use fake_cluster::admission::{Request as Admission, admit};
    use fake_cluster::auth::UserInfo;
    use fake_cluster::resources::by_plural;
    use fake_cluster::storage::Storage;

    use super::*;
    use crate::patch::{Previous, PreviousContainer};

    fn request() -> Request {
        Request {
            service_account: "kubectl-update".into(),
            namespaces: vec!["shop".into(), "billing".into()],
            cluster_wide: false,
            repositories: vec!["busybox".into(), "registry.example.com/team/app".into()],
            classifiers: vec!["stable".parse().unwrap(), "canary".parse().unwrap()],
            protected: vec!["cert-manager".into()],
            templates: vec![Template {
                namespace: "shop".into(),
                name: "schema".into(),
            }],
        }
    }

    fn kinds_and_names(objects: &[Value]) -> Vec<String> {
        objects
            .iter()
            .map(|it| {
                format!(
                    "{} {}",
                    it["kind"].as_str().unwrap(),
                    it["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn repository_patterns_are_anchored_and_cover_docker_hub_spellings() {
        let test = image_allowed(
            "i",
            &[
                "registry.example.com/team/app".to_owned(),
                "busybox".to_owned(),
            ],
        );
        assert!(test.starts_with("i.matches('^(registry\\\\.example\\\\.com/team/app|docker\\\\.io/library/busybox|library/busybox|index\\\\.docker\\\\.io/library/busybox|busybox|"), "{test}");
        assert!(test.ends_with("(@sha256:[a-f0-9]{64})?$')"), "{test}");
    }

    #[test]
    fn every_service_account_of_the_set_is_matched_and_every_namespace_bound() {
        let objects = objects(&request());
        let condition = objects[0]["spec"]["matchConditions"][0]["expression"]
            .as_str()
            .unwrap();
        assert_eq!(
            condition,
            "request.userInfo.username in ['system:serviceaccount:shop:kubectl-update', 'system:serviceaccount:billing:kubectl-update']"
        );
        assert_eq!(
            objects[1]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0],
            json!({"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop", "billing"]})
        );
        let mut wide = request();
        wide.cluster_wide = true;
        wide.namespaces = vec!["ci".into()];
        let objects = super::objects(&wide);
        assert_eq!(
            objects[0]["spec"]["matchConditions"][0]["expression"],
            "request.userInfo.username in ['system:serviceaccount:ci:kubectl-update']"
        );
        assert_eq!(
            objects[1]["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"],
            json!([
                "kube-system",
                "kube-public",
                "kube-node-lease",
                "cert-manager"
            ])
        );
    }

    #[test]
    fn each_namespace_set_has_its_own_names() {
        let names = kinds_and_names(&objects(&request()));
        assert_eq!(
            names
                .iter()
                .filter(|it| it.starts_with("ValidatingAdmissionPolicy "))
                .count(),
            6,
            "{names:#?}"
        );
        let mut reordered = request();
        reordered.namespaces.reverse();
        reordered.namespaces.swap(0, 1);
        assert_eq!(
            kinds_and_names(&objects(&reordered)),
            names,
            "the same set, the same names"
        );
        let mut other = request();
        other.namespaces = vec!["shop".into()];
        let others = kinds_and_names(&objects(&other));
        assert!(
            others.iter().all(|it| !names.contains(it)),
            "applying another set replaces nothing: {others:#?}"
        );
        let set = request().set_name();
        assert!(
            set.starts_with("shop-") && set.len() == "shop-".len() + 8,
            "{set}"
        );
        assert!(
            names
                .iter()
                .all(|it| it.ends_with(&format!(".{set}.kubectl-update.io")))
        );
    }

    #[test]
    fn each_template_gets_a_binding_judging_only_its_copies() {
        let objects = objects(&request());
        let binding = objects
            .iter()
            .find(|it| {
                it["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("migration.shop.schema.")
            })
            .unwrap();
        assert_eq!(
            binding["spec"]["paramRef"],
            json!({"name": "schema", "namespace": "shop", "parameterNotFoundAction": "Deny"})
        );
        assert_eq!(
            binding["spec"]["matchResources"],
            json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
                "objectSelector": {"matchLabels": {MIGRATION_OF: "schema"}}})
        );
        let policy = objects
            .iter()
            .find(|it| it["metadata"]["name"] == binding["spec"]["policyName"])
            .unwrap();
        assert_eq!(
            policy["spec"]["paramKind"],
            json!({"apiVersion": "batch/v1", "kind": "Job"})
        );
    }

    // The rest evaluates the policies with the simulator's CEL interpreter (the `cel` crate); the
    // real API server is the judge (tests/control-plane), this catches mistakes early.

    const CI: &str = "kubectl-update";

    /// What a case is about, the message it is denied with, and how it changes an object.
    type Mutation = (&'static str, &'static str, Box<dyn Fn(&mut Value)>);

    fn storage(request: &Request, namespace_object: Option<Value>) -> Storage {
        let mut storage = Storage::new(100);
        let namespace = namespace_object.unwrap_or_else(|| {
            json!({"metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}})
        });
        storage
            .create(by_plural("namespaces").unwrap(), "", namespace, false)
            .unwrap();
        for object in objects(request) {
            let plural = if object["kind"] == "ValidatingAdmissionPolicy" {
                "validatingadmissionpolicies"
            } else {
                "validatingadmissionpolicybindings"
            };
            storage
                .create(by_plural(plural).unwrap(), "", object, false)
                .unwrap();
        }
        storage
    }

    /// `Ok` or the message of the policy that denied.
    fn admitted(
        storage: &Storage,
        plural: &str,
        operation: &'static str,
        object: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<(), String> {
        let user = UserInfo::service_account("shop", CI);
        let name = object
            .or(old)
            .and_then(|it| it.pointer("/metadata/name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let request = Admission {
            def: by_plural(plural).unwrap(),
            subresource: "",
            namespace: "shop",
            name: &name,
            operation,
            object,
            old_object: old,
            user: &user,
            dry_run: false,
        };
        admit(storage, &request).map(drop).map_err(|err| {
            err.message
                .split(" denied request: ")
                .nth(1)
                .unwrap_or(&err.message)
                .to_owned()
        })
    }

    fn web() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "5", "generation": 2,
                "labels": {"app": "web"},
                "annotations": {CLASSIFIER: "canary, stable", "deployment.kubernetes.io/revision": "2"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate"},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "web",
                        "initContainers": [{"name": "wait", "image": "busybox:1.36", "command": ["true"]}],
                        "containers": [
                            {"name": "app", "image": "busybox:1.36", "command": ["sh"], "env": [{"name": "A", "value": "1"}]},
                            {"name": "proxy", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3}})
    }

    /// `web` as the tool's update leaves it: new images, the record, the change cause, the
    /// server's bookkeeping.
    fn updated(image: &str) -> Value {
        let mut new = web();
        new["spec"]["template"]["spec"]["initContainers"][0]["image"] = json!(image);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        let record = Previous {
            containers: vec![
                PreviousContainer {
                    name: "wait".into(),
                    init: true,
                    previous: "busybox:1.36".into(),
                    target: image.into(),
                },
                PreviousContainer {
                    name: "app".into(),
                    init: false,
                    previous: "busybox:1.36".into(),
                    target: image.into(),
                },
            ],
            time: jiff::Timestamp::now().to_string(),
        };
        new["metadata"]["annotations"][PREVIOUS] = json!(serde_json::to_string(&record).unwrap());
        new["metadata"]["annotations"][CHANGE_CAUSE] =
            json!(format!("kubectl-update: wait={image}, app={image}"));
        new["metadata"]["generation"] = json!(3);
        new["metadata"]["managedFields"] = json!([{"manager": "kubectl", "operation": "Update"}, {"manager": "kubectl-update", "operation": "Update"}]);
        new
    }

    #[test]
    fn updates_may_change_only_images_of_opted_in_workloads() {
        let storage = storage(&request(), None);
        let update =
            |new: &Value| admitted(&storage, "deployments", "UPDATE", Some(new), Some(&web()));
        assert_eq!(update(&updated("busybox:1.37")), Ok(()));
        assert_eq!(
            update(&updated(&format!(
                "docker.io/library/busybox@sha256:{}",
                "a".repeat(64)
            ))),
            Ok(())
        );
        assert_eq!(update(&web()), Ok(()), "a write that changes nothing");
        let denied: Vec<Mutation> = vec![
            (
                "foreign repository",
                "may only deploy images of",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][0]["image"] =
                        json!("registry.example.com.evil.io/team/app:1")
                }),
            ),
            (
                "sidecar to a foreign image",
                "may only deploy images of",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][1]["image"] =
                        json!("evil.io/nginx:1")
                }),
            ),
            (
                "command",
                "may change nothing of a container but its image",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["id"])
                }),
            ),
            (
                "env",
                "may change nothing of a container but its image",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = json!("2")
                }),
            ),
            (
                "a new container field",
                "may change nothing of a container but its image",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][1]["restartPolicy"] =
                        json!("Always")
                }),
            ),
            (
                "moved to initContainers",
                "may not add, remove, rename, reorder or move containers",
                Box::new(|it| {
                    let proxy = it["spec"]["template"]["spec"]["containers"]
                        .as_array_mut()
                        .unwrap()
                        .remove(1);
                    it["spec"]["template"]["spec"]["initContainers"]
                        .as_array_mut()
                        .unwrap()
                        .push(proxy);
                }),
            ),
            (
                "reordered",
                "may not add, remove, rename, reorder or move containers",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"]
                        .as_array_mut()
                        .unwrap()
                        .reverse()
                }),
            ),
            (
                "serviceAccountName",
                "may not change pod settings",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin")
                }),
            ),
            (
                "shareProcessNamespace",
                "may not change pod settings",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["shareProcessNamespace"] = json!(true)
                }),
            ),
            (
                "hostAliases",
                "may not change pod settings",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["hostAliases"] = json!([{"ip": "1.2.3.4"}])
                }),
            ),
            (
                "nodeName",
                "may not change pod settings",
                Box::new(|it| it["spec"]["template"]["spec"]["nodeName"] = json!("n1")),
            ),
            (
                "pod template annotation",
                "may not change the pod template's metadata",
                Box::new(|it| {
                    it["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"})
                }),
            ),
            (
                "replicas",
                "may not change the workload's spec outside the pod template",
                Box::new(|it| it["spec"]["replicas"] = json!(9)),
            ),
            (
                "paused",
                "may not change the workload's spec outside the pod template",
                Box::new(|it| it["spec"]["paused"] = json!(true)),
            ),
            (
                "strategy",
                "may not change the workload's spec outside the pod template",
                Box::new(|it| it["spec"]["strategy"] = json!({"type": "Recreate"})),
            ),
            (
                "labels",
                "may not change the workload's metadata",
                Box::new(|it| it["metadata"]["labels"]["x"] = json!("y")),
            ),
            (
                "ownerReferences",
                "may not change the workload's metadata",
                Box::new(|it| it["metadata"]["ownerReferences"] = json!([{"kind": "X"}])),
            ),
            (
                "finalizers",
                "may not change the workload's metadata",
                Box::new(|it| it["metadata"]["finalizers"] = json!(["x/y"])),
            ),
            (
                "an annotation",
                "may change no annotation but",
                Box::new(|it| it["metadata"]["annotations"]["x"] = json!("y")),
            ),
            (
                "the classifier",
                "may change no annotation but",
                Box::new(|it| {
                    it["metadata"]["annotations"][CLASSIFIER] = json!("canary, stable, other")
                }),
            ),
            (
                "a forged record",
                "may only write kubectl-update's own record",
                Box::new(|it| {
                    it["metadata"]["annotations"][PREVIOUS] = json!(
                        r#"{"containers":[{"name":"app","previous":"evil.io/x:1","target":"busybox:1.37"}],"time":"2026-01-01T00:00:00Z"}"#
                    )
                }),
            ),
            (
                "a record with more fields",
                "may only write kubectl-update's own record",
                Box::new(|it| {
                    it["metadata"]["annotations"][PREVIOUS] = json!(
                        r#"{"containers":[{"name":"app","previous":"busybox:1","target":"busybox:1.37","x":1}],"time":"2026-01-01T00:00:00Z"}"#
                    )
                }),
            ),
            (
                "a change cause",
                "may only write kubectl-update's own kubernetes.io/change-cause",
                Box::new(|it| it["metadata"]["annotations"][CHANGE_CAUSE] = json!("approved")),
            ),
            (
                "status",
                "may change nothing but container images",
                Box::new(|it| it["status"]["replicas"] = json!(0)),
            ),
        ];
        for (what, message, change) in denied {
            let mut new = updated("busybox:1.37");
            change(&mut new);
            let res = update(&new);
            assert!(
                res.as_ref().is_err_and(|it| it.contains(message)),
                "{what}: {res:?}"
            );
            assert!(
                res.unwrap_err()
                    .starts_with("system:serviceaccount:shop:kubectl-update may")
            );
        }
        let mut opted_out = web();
        opted_out["metadata"]["annotations"][CLASSIFIER] = json!("other");
        let mut opting_in = updated("busybox:1.37");
        opting_in["metadata"]["annotations"][CLASSIFIER] = json!("stable");
        assert!(
            admitted(
                &storage,
                "deployments",
                "UPDATE",
                Some(&opting_in),
                Some(&opted_out)
            )
            .is_err_and(|it| it.contains("annotation already lists stable or canary")),
            "opting in with the same write"
        );
        let mut legacy = web();
        legacy["metadata"]["annotations"]
            .as_object_mut()
            .unwrap()
            .remove(CLASSIFIER);
        legacy["metadata"]["annotations"][LEGACY_CLASSIFIER] = json!("x,stable");
        let mut legacy_new = updated("busybox:1.37");
        legacy_new["metadata"]["annotations"] = legacy["metadata"]["annotations"].clone();
        assert_eq!(
            admitted(
                &storage,
                "deployments",
                "UPDATE",
                Some(&legacy_new),
                Some(&legacy)
            ),
            Ok(()),
            "the legacy annotation"
        );
        let mut stable_ish = web();
        stable_ish["metadata"]["annotations"][CLASSIFIER] = json!("stable-2");
        let mut stable_ish_new = updated("busybox:1.37");
        stable_ish_new["metadata"]["annotations"][CLASSIFIER] = json!("stable-2");
        assert!(
            admitted(
                &storage,
                "deployments",
                "UPDATE",
                Some(&stable_ish_new),
                Some(&stable_ish)
            )
            .is_err(),
            "whole list entries only"
        );
    }

    #[test]
    fn cronjobs_keep_their_schedule_and_job_spec() {
        let storage = storage(&request(), None);
        let old = json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "invoices", "namespace": "shop", "annotations": {CLASSIFIER: "stable"}},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"backoffLimit": 1, "template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "invoices", "image": "busybox:1.36"}]}}}}}});
        let mut new = old.clone();
        new["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!("busybox:1.37");
        assert_eq!(
            admitted(&storage, "cronjobs", "UPDATE", Some(&new), Some(&old)),
            Ok(())
        );
        for (pointer, value) in [
            ("/spec/suspend", json!(true)),
            ("/spec/schedule", json!("* * * * *")),
            ("/spec/jobTemplate/spec/backoffLimit", json!(9)),
        ] {
            let mut bad = new.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            bad.pointer_mut(parent).unwrap()[key] = value;
            assert!(
                admitted(&storage, "cronjobs", "UPDATE", Some(&bad), Some(&old))
                    .is_err_and(|it| it.contains("outside the pod template")),
                "{pointer}"
            );
        }
    }

    /// The template as the API server stores it, and a copy as `migrate::copy::job` makes it and
    /// the server stores it before admission (generated selector and labels).
    fn template_and_copy() -> (Value, Value) {
        let template = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "schema", "namespace": "shop", "uid": "u1",
                "labels": {"job-name": "schema", "controller-uid": "u1", "team": "db"},
                "annotations": {CLASSIFIER: "stable", ORDER: "1", LAST_APPLIED: "{}"}},
            "spec": {"suspend": true, "backoffLimit": 0, "manualSelector": false,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u1", "job-name": "schema"}},
                    "spec": {"restartPolicy": "Never", "serviceAccountName": "migrator",
                        "containers": [{"name": "migrate", "image": "busybox:1.36", "command": ["migrate"]}]}}},
            "status": {}});
        let copy = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "schema-0123456789", "namespace": "shop", "uid": "u2", "generation": 1,
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"team": "db", MIGRATION_OF: "schema"},
                "annotations": {IMAGE: "busybox:1.37"}},
            "spec": {"suspend": false, "backoffLimit": 0, "manualSelector": false, "ttlSecondsAfterFinished": 86400,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u2"}},
                "template": {"metadata": {"labels": {MIGRATION_OF: "schema", "batch.kubernetes.io/controller-uid": "u2", "job-name": "schema-0123456789"}},
                    "spec": {"restartPolicy": "Never", "serviceAccountName": "migrator",
                        "containers": [{"name": "migrate", "image": "busybox:1.37", "command": ["migrate"]}]}}},
            "status": {}});
        (template, copy)
    }

    #[test]
    fn migration_copies_must_equal_their_template() {
        // The simulator has no `paramKind`: the template stands in as the namespace object, which
        // the policy reads instead of `params` here.
        let (template, copy) = template_and_copy();
        let mut request = request();
        request.templates = Vec::new();
        let mut storage = Storage::new(100);
        let mut policy = objects(&request)
            .into_iter()
            .find(|it| {
                it["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("migration.")
            })
            .unwrap();
        for variable in policy["spec"]["variables"].as_array_mut().unwrap() {
            if variable["name"] == "tpl" {
                variable["expression"] = json!("dyn(namespaceObject)");
            }
        }
        let policy_name = policy["metadata"]["name"].clone();
        storage
            .create(
                by_plural("validatingadmissionpolicies").unwrap(),
                "",
                policy,
                false,
            )
            .unwrap();
        storage.create(by_plural("validatingadmissionpolicybindings").unwrap(), "",
            json!({"metadata": {"name": "b"}, "spec": {"policyName": policy_name, "validationActions": ["Deny"]}}), false).unwrap();
        // The stand-in namespace object is the template.
        let namespaces = by_plural("namespaces").unwrap();
        let mut stand_in = template.clone();
        stand_in["apiVersion"] = json!("v1");
        stand_in["kind"] = json!("Namespace");
        stand_in["metadata"]["name"] = json!("shop");
        stand_in["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        storage.create(namespaces, "", stand_in, false).unwrap();
        let named = |mut it: Value| {
            it["metadata"]["labels"][MIGRATION_OF] = json!("shop");
            // The simulator labels every namespace with its name and gives it a finalizer.
            it["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("shop");
            it["spec"]["finalizers"] = json!(["kubernetes"]);
            it["spec"]["template"]["metadata"]["labels"][MIGRATION_OF] = json!("shop");
            it
        };
        let create = |copy: &Value| admitted(&storage, "jobs", "CREATE", Some(copy), None);
        assert_eq!(create(&named(copy.clone())), Ok(()));
        let denied: Vec<Mutation> = vec![
            (
                "serviceAccountName",
                "may not change pod settings",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin")
                }),
            ),
            (
                "hostPath",
                "may not change pod settings",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["volumes"] =
                        json!([{"name": "h", "hostPath": {"path": "/"}}])
                }),
            ),
            (
                "command",
                "may change nothing of a container but its image",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][0]["command"] = json!(["id"])
                }),
            ),
            (
                "image",
                "may only deploy images of",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil.io/x:1")
                }),
            ),
            (
                "classifier",
                "the template's annotations (no classifier)",
                Box::new(|it| it["metadata"]["annotations"][CLASSIFIER] = json!("stable")),
            ),
            (
                "image annotation",
                "the template's annotations (no classifier)",
                Box::new(|it| it["metadata"]["annotations"][IMAGE] = json!("evil.io/x:1")),
            ),
            (
                "labels",
                "with the template's labels",
                Box::new(|it| it["metadata"]["labels"]["team"] = json!("evil")),
            ),
            (
                "owner",
                "owner references, finalizers",
                Box::new(|it| it["metadata"]["ownerReferences"] = json!([{"kind": "X"}])),
            ),
            (
                "suspended",
                "the template's Job spec",
                Box::new(|it| it["spec"]["suspend"] = json!(true)),
            ),
            (
                "deadline",
                "the template's Job spec",
                Box::new(|it| it["spec"]["activeDeadlineSeconds"] = json!(1)),
            ),
            (
                "no TTL",
                "the template's Job spec",
                Box::new(|it| {
                    it["spec"]
                        .as_object_mut()
                        .unwrap()
                        .remove("ttlSecondsAfterFinished");
                }),
            ),
            (
                "pod annotations",
                "the template's pod metadata",
                Box::new(|it| {
                    it["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"})
                }),
            ),
            (
                "extra container",
                "may not add, remove",
                Box::new(|it| {
                    it["spec"]["template"]["spec"]["containers"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({"name": "x", "image": "busybox:1"}))
                }),
            ),
        ];
        for (what, message, change) in denied {
            let mut bad = named(copy.clone());
            change(&mut bad);
            let res = create(&bad);
            assert!(
                res.as_ref().is_err_and(|it| it.contains(message)),
                "{what}: {res:?}"
            );
        }
        let mut unlisted = named(copy.clone());
        unlisted["metadata"]["labels"][MIGRATION_OF] = json!("other");
        assert!(create(&unlisted).is_err(), "a copy of another template");
    }

    #[test]
    fn jobs_pods_leases_and_everything_else() {
        let storage = storage(&request(), None);
        let (template, copy) = template_and_copy();
        let job = |labels: Value| json!({"metadata": {"name": "x", "namespace": "shop", "labels": labels}});
        assert!(
            admitted(&storage, "jobs", "CREATE", Some(&job(json!({}))), None)
                .is_err_and(|it| it.contains("may only create Jobs labelled kubectl-update.io/migration-of with a migration template known"))
        );
        assert!(
            admitted(
                &storage,
                "jobs",
                "CREATE",
                Some(&job(json!({MIGRATION_OF: "nothere"}))),
                None
            )
            .is_err()
        );
        assert!(
            admitted(&storage, "jobs", "DELETE", None, Some(&template))
                .is_err_and(|it| it.contains("never a template"))
        );
        assert!(admitted(&storage, "jobs", "DELETE", None, Some(&job(json!({})))).is_err());
        assert_eq!(
            admitted(&storage, "jobs", "DELETE", None, Some(&copy)),
            Ok(())
        );

        let pod = |owner: &str, ready: &str| {
            json!({"metadata": {"name": "p", "namespace": "shop",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner, "name": "o", "uid": "u", "controller": true}]},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}})
        };
        assert_eq!(
            admitted(
                &storage,
                "pods",
                "DELETE",
                None,
                Some(&pod("StatefulSet", "False"))
            ),
            Ok(())
        );
        assert!(
            admitted(
                &storage,
                "pods",
                "DELETE",
                None,
                Some(&pod("StatefulSet", "True"))
            )
            .is_err_and(|it| it.contains("not Ready"))
        );
        assert!(
            admitted(
                &storage,
                "pods",
                "DELETE",
                None,
                Some(&pod("ReplicaSet", "False"))
            )
            .is_err_and(|it| it.contains("of StatefulSets"))
        );

        let lease = |name: &str, seconds: i64| {
            json!({"metadata": {"name": name, "namespace": "shop"},
            "spec": {"holderIdentity": "h", "leaseDurationSeconds": seconds}})
        };
        let lock = crate::lock::lease_name(&"stable".parse().unwrap());
        assert_eq!(
            admitted(&storage, "leases", "CREATE", Some(&lease(&lock, 30)), None),
            Ok(())
        );
        assert_eq!(
            admitted(
                &storage,
                "leases",
                "UPDATE",
                Some(&lease(&lock, 30)),
                Some(&lease(&lock, 30))
            ),
            Ok(())
        );
        assert_eq!(
            admitted(&storage, "leases", "DELETE", None, Some(&lease(&lock, 30))),
            Ok(())
        );
        assert!(
            admitted(
                &storage,
                "leases",
                "CREATE",
                Some(&lease(&lock, 3600)),
                None
            )
            .is_err_and(|it| it.contains("at most 30s"))
        );
        assert!(
            admitted(
                &storage,
                "leases",
                "CREATE",
                Some(&lease("operator", 10)),
                None
            )
            .is_err_and(|it| it.contains("may only take the locks"))
        );
        assert!(
            admitted(
                &storage,
                "leases",
                "DELETE",
                None,
                Some(&lease("operator", 10))
            )
            .is_err()
        );

        let secret = json!({"metadata": {"name": "s", "namespace": "shop"}});
        assert!(
            admitted(&storage, "secrets", "CREATE", Some(&secret), None)
                .is_err_and(|it| it.contains("may only make the writes kubectl-update makes"))
        );
        assert!(admitted(&storage, "deployments", "CREATE", Some(&web()), None).is_err());
    }

    #[test]
    fn the_record_pattern_matches_what_the_tool_writes_and_only_allowed_images() {
        let pattern = record_pattern(&["busybox".to_owned()]);
        assert!(
            pattern.starts_with(r#"^\{"containers":\[\{"name":"#),
            "{pattern}"
        );
        assert!(
            pattern.contains(r#"(,"init":true)?,"previous":"(docker\.io/library/busybox|"#),
            "{pattern}"
        );
        assert!(
            pattern.ends_with(r#"(Z|[+-][0-9]{2}:[0-9]{2})"\}$"#),
            "{pattern}"
        );
    }
}
