//! The migration policies: a copy must equal its template but for the image (a rollback
//! template's copy too, its phase annotation included).

use super::*;

/// Storage with the `migration` policy bound, judging copies of `template`. The simulator has no
/// `paramKind`: the template stands in as the namespace object, which the policy reads instead of
/// `params` here.
fn judging_copies_of(template: &Value) -> Storage {
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
    storage
}

/// A copy as the stand-in namespace object's template would have it.
fn named(mut it: Value) -> Value {
    it["metadata"]["labels"][MIGRATION_OF] = json!("shop");
    // The simulator labels every namespace with its name and gives it a finalizer.
    it["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("shop");
    it["spec"]["finalizers"] = json!(["kubernetes"]);
    it["spec"]["template"]["metadata"]["labels"][MIGRATION_OF] = json!("shop");
    it
}

#[test]
fn migration_copies_must_equal_their_template() {
    let (template, copy) = template_and_copy();
    let storage = judging_copies_of(&template);
    let create = |copy: &Value| admitted(&storage, "jobs", "CREATE", Some(copy), None);
    assert_eq!(create(&named(copy.clone())), Ok(()));
    let denied: Vec<Mutation> = vec![
        (
            "serviceAccountName",
            "may not change pod settings",
            Box::new(|it| it["spec"]["template"]["spec"]["serviceAccountName"] = json!("admin")),
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
            Box::new(|it| it["spec"]["template"]["metadata"]["annotations"] = json!({"x": "y"})),
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
fn a_rollback_template_is_copied_like_any_other_and_its_phase_cannot_be_forged() {
    let (mut template, mut copy) = template_and_copy();
    template["metadata"]["annotations"][MIGRATION] = json!("rollback");
    copy["metadata"]["annotations"][MIGRATION] = json!("rollback");
    let storage = judging_copies_of(&template);
    let create = |copy: &Value| admitted(&storage, "jobs", "CREATE", Some(copy), None);
    assert_eq!(
        create(&named(copy.clone())),
        Ok(()),
        "the copy the run makes"
    );
    let mut dropped = named(copy.clone());
    dropped["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove(MIGRATION);
    assert!(create(&dropped).is_err(), "a copy without its phase");
    let mut forward = named(copy.clone());
    forward["metadata"]["annotations"][MIGRATION] = json!("forward");
    assert!(create(&forward).is_err(), "a copy with another phase");

    // A forward template's copy cannot claim to be a rollback one.
    let (template, copy) = template_and_copy();
    let storage = judging_copies_of(&template);
    let mut claimed = named(copy);
    claimed["metadata"]["annotations"][MIGRATION] = json!("rollback");
    let res = admitted(&storage, "jobs", "CREATE", Some(&claimed), None);
    assert!(
        res.as_ref()
            .is_err_and(|it| it.contains("the template's annotations")),
        "{res:?}"
    );
}

#[test]
fn only_copies_of_known_templates_are_deleted() {
    let storage = storage(&request(), None);
    let job = |template: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": format!("{template}-0123456789"), "namespace": "shop",
                "labels": {MIGRATION_OF: template}},
            "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "other.io/db:2"}]}}},
            "status": {"active": 1}})
    };
    let known = request().templates[0].name.clone();
    assert_eq!(
        admitted(&storage, "jobs", "DELETE", None, Some(&job(&known))),
        Ok(()),
        "a copy of a known template"
    );
    let res = admitted(
        &storage,
        "jobs",
        "DELETE",
        None,
        Some(&job("billing-migrate")),
    );
    assert!(
        res.as_ref()
            .is_err_and(|it| it.contains("may only delete copies of the migration templates known")),
        "another team's copy: {res:?}"
    );
}

#[test]
fn without_a_ttl_in_the_template_the_copy_keeps_its_logs_for_a_day() {
    let (template, mut copy) = template_and_copy();
    let storage = judging_copies_of(&template);
    copy["spec"]["ttlSecondsAfterFinished"] = json!(0);
    let res = admitted(&storage, "jobs", "CREATE", Some(&named(copy)), None);
    assert!(
        res.as_ref()
            .is_err_and(|it| it.contains("the template's TTL or else one day")),
        "a copy that vanishes with its logs at once: {res:?}"
    );
}
