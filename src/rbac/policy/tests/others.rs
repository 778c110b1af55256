//! Pods, Leases and everything else the token may touch, and the `previous` record.

use super::*;

#[test]
fn jobs_pods_leases_and_everything_else() {
    let storage = storage(&request(), None);
    let (template, copy) = template_and_copy();
    let job =
        |labels: Value| json!({"metadata": {"name": "x", "namespace": "shop", "labels": labels}});
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
    let lock = crate::run::lock::lease_name(&"stable".parse().unwrap());
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
