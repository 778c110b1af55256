//! Least privilege: the generated Role is sufficient for every live scenario, each of its verbs is
//! necessary (removing one fails a scenario before any write, naming what is missing), and the
//! admission policy lets the CI token change nothing but images.

use std::path::PathBuf;

use serde_json::Value;

use crate::cluster::{Cluster, report};

/// The Roles `kubectl update rbac -n shop,billing --no-admission-policy` generates, as JSON.
pub fn generated_roles(cluster: &Cluster) -> Vec<Value> {
    let generated = cluster.update(&[
        "rbac",
        "-n",
        "shop,billing",
        "--no-admission-policy",
        "-o",
        "json",
    ]);
    let objects: Value = serde_json::from_str(&generated.stdout).unwrap();
    objects["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|it| it["kind"] == "Role")
        .cloned()
        .collect()
}

/// Grants the generated RBAC in shop and billing and returns a CI kubeconfig made by
/// `kubectl update kubeconfig`.
pub fn ci_token(cluster: &Cluster, extra: &[&str]) -> PathBuf {
    let mut args = vec!["rbac", "-n", "shop,billing"];
    args.extend_from_slice(extra);
    let rbac = cluster.update(&args);
    assert_eq!(rbac.code, 0, "{}", rbac.render());
    cluster.apply(&rbac.stdout);
    let minted = cluster.update(&[
        "kubeconfig",
        "--service-account",
        "kubectl-update",
        "-n",
        "shop",
        "--duration",
        "1h",
    ]);
    assert_eq!(minted.code, 0, "{}", minted.render());
    let path = cluster.path("ci-kubeconfig");
    std::fs::write(&path, &minted.stdout).unwrap();
    path
}

#[test]
fn the_ci_kubeconfig_holds_one_cluster_user_and_context() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = ci_token(&cluster, &["--no-admission-policy"]);
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let parsed: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(parsed["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(parsed["users"].as_array().unwrap().len(), 1);
    assert!(
        parsed["clusters"][0]["cluster"]["certificate-authority-data"].is_string(),
        "the CA is carried over: {text}"
    );
    let whoami = cluster.kubectl_as(
        &kubeconfig,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(
        whoami.stdout,
        "system:serviceaccount:shop:kubectl-update",
        "{}",
        whoami.render()
    );
    let denied = cluster.kubectl_as(&kubeconfig, &["get", "secrets", "-n", "shop"]);
    assert_ne!(denied.code, 0, "the token cannot read secrets");
    let cluster_scope = cluster.kubectl_as(&kubeconfig, &["auth", "can-i", "list", "namespaces"]);
    assert_eq!(
        cluster_scope.stdout.trim(),
        "no",
        "no cluster-scoped permissions"
    );
}

#[test]
fn the_generated_role_is_sufficient() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    // The default: the Role and the admission policies together.
    let kubeconfig = ci_token(
        &cluster,
        &["-c", "stable,canary", "--allow-repository", "busybox"],
    );
    let ci = kubeconfig.display().to_string();
    let scenarios: [(&[&str], i32, &str); 5] = [
        (
            &[
                "-i",
                "busybox:1.37",
                "-c",
                "stable",
                "-n",
                "shop,billing",
                "--dry-run=server",
            ],
            0,
            "planned",
        ),
        (
            &["-i", "busybox:1.37", "-c", "stable", "-n", "shop,billing"],
            0,
            "succeeded",
        ),
        (
            &[
                "-i",
                "busybox:missing-1",
                "-c",
                "canary",
                "-n",
                "shop",
                "--fail-after",
                "2s",
            ],
            4,
            "rolled-back",
        ),
        (
            &["-i", "busybox:1.38", "-c", "canary", "-n", "shop"],
            0,
            "succeeded",
        ),
        (
            &["rollback", "-c", "canary", "-n", "shop"],
            0,
            "rolled-back",
        ),
    ];
    for (args, code, result) in scenarios {
        let mut full = args.to_vec();
        full.extend_from_slice(&["--kubeconfig", ci.as_str(), "-o", "json"]);
        let res = cluster.update(&full);
        assert_eq!(res.code, code, "{args:?}: {}", res.render());
        assert_eq!(report(&res)["result"], result, "{args:?}: {}", res.render());
        assert_eq!(
            report(&res)["identity"],
            "system:serviceaccount:shop:kubectl-update"
        );
    }
    assert_eq!(
        cluster.image("shop", "deployment/web", "app"),
        "busybox:1.37",
        "rolled back to the previous update"
    );
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.36"
    );
}

/// Removes one verb from one rule of both Roles, runs the full scenario as the CI token, and expects
/// a failure before any write naming the verb, resource and namespace (`create events` included:
/// Events are best effort at run time, but the preflight requires the rule).
#[test]
fn every_verb_of_the_generated_role_is_necessary() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let kubeconfig = ci_token(&cluster, &["--no-admission-policy"]);
    let ci = kubeconfig.display().to_string();
    let roles = generated_roles(&cluster);
    let rules = roles[0]["rules"].as_array().unwrap().clone();
    let before = cluster.versions();
    let mut checked: Vec<String> = Vec::new();
    for (rule_idx, rule) in rules.iter().enumerate() {
        let resource = rule["resources"][0].as_str().unwrap().to_owned();
        for verb in rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|it| it.as_str().unwrap().to_owned())
        {
            let mut reduced = String::new();
            for role in &roles {
                let mut role = role.clone();
                let rules = role["rules"].as_array_mut().unwrap();
                let verbs = rules[rule_idx]["verbs"].as_array_mut().unwrap();
                verbs.retain(|it| it != verb.as_str());
                if verbs.is_empty() {
                    rules.remove(rule_idx);
                }
                reduced.push_str(&format!("---\n{}\n", serde_json::to_string(&role).unwrap()));
            }
            cluster.apply(&reduced);
            let res = cluster.update(&[
                "--kubeconfig",
                &ci,
                "-i",
                "busybox:1.37",
                "-c",
                "stable",
                "-n",
                "shop,billing",
            ]);
            assert_eq!(
                res.code,
                1,
                "without {verb} {resource} the run must fail before writing: {}",
                res.render()
            );
            let first = res
                .stderr
                .lines()
                .find(|it| it.starts_with("error:"))
                .unwrap_or_default();
            let base = resource.split('/').next().unwrap();
            assert!(
                first.contains(&verb)
                    && first.contains(base)
                    && (first.contains("namespace shop") || first.contains("namespace billing")),
                "the error names {verb} {resource} and the namespace: {}",
                res.stderr
            );
            assert!(
                res.stderr.contains("kubectl update rbac"),
                "the hint names the fix: {}",
                res.stderr
            );
            assert_eq!(
                cluster.versions(),
                before,
                "nothing was written without {verb} {resource}"
            );
            checked.push(format!("{verb} {resource}"));
        }
    }
    assert!(checked.len() >= 20, "every verb was checked ({checked:?})");
    assert!(
        checked.contains(&"create events".to_owned()),
        "the audit trail's rule is proven necessary too: {checked:?}"
    );
}

#[test]
fn forbidden_and_unauthorized_are_one_line_with_a_hint() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = ci_token(&cluster, &["--no-admission-policy"]);
    let ci = kubeconfig.display().to_string();
    let other_namespace = cluster.update(&[
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "default",
    ]);
    assert_eq!(other_namespace.code, 1, "{}", other_namespace.render());
    let lines: Vec<&str> = other_namespace.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: forbidden: this token may not list"),
        "{}",
        other_namespace.stderr
    );
    assert!(
        lines[0].contains("in namespace default"),
        "{}",
        other_namespace.stderr
    );
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|it| it.trim_start().starts_with("hint:")),
        "{}",
        other_namespace.stderr
    );

    let broken = std::fs::read_to_string(&kubeconfig).unwrap();
    let token_line = broken
        .lines()
        .find(|it| it.trim_start().starts_with("token:"))
        .unwrap();
    let wrong = broken.replace(token_line, "    token: not-a-real-token");
    let wrong_path = cluster.path("wrong-kubeconfig");
    std::fs::write(&wrong_path, wrong).unwrap();
    let res = cluster.update(&[
        "--kubeconfig",
        &wrong_path.display().to_string(),
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
    ]);
    assert_eq!(res.code, 1, "{}", res.render());
    assert!(
        res.stderr.starts_with("error: unauthorized:"),
        "{}",
        res.stderr
    );
    assert_eq!(
        res.stderr.lines().count(),
        2,
        "one line and a hint: {}",
        res.stderr
    );
}

#[test]
fn the_admission_policy_allows_only_image_changes() {
    let cluster = Cluster::start(&["shop.yaml", "migrations.yaml"]);
    let kubeconfig = ci_token(
        &cluster,
        &["-c", "stable,canary", "--allow-repository", "busybox"],
    );
    let ci = kubeconfig.display().to_string();
    let res = cluster.update(&[
        "--kubeconfig",
        &ci,
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(
        res.code,
        0,
        "an image bump with a migration passes: {}",
        res.render()
    );

    // kubectl reads before it patches; the generated Role has no `get`, so this test grants it.
    cluster.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: test-reader, namespace: shop}\n\
         rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: test-reader, namespace: shop}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: test-reader}\n\
         subjects: [{kind: ServiceAccount, name: kubectl-update, namespace: shop}]\n",
    );
    let denied: [(&str, &str); 5] = [
        (
            "command",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","command":["sh","-c","id"]}]}}}}"#,
        ),
        (
            "env",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"X","value":"1"}]}]}}}}"#,
        ),
        (
            "serviceAccountName",
            r#"{"spec":{"template":{"spec":{"serviceAccountName":"kubectl-update"}}}}"#,
        ),
        (
            "volumes",
            r#"{"spec":{"template":{"spec":{"volumes":[{"name":"s","secret":{"secretName":"x"}}]}}}}"#,
        ),
        ("replicas", r#"{"spec":{"replicas":7}}"#),
    ];
    for (what, patch) in denied {
        let res = cluster.kubectl_as(
            &kubeconfig,
            &[
                "patch",
                "-n",
                "shop",
                "deployment/web",
                "--type",
                "strategic",
                "-p",
                patch,
            ],
        );
        assert_ne!(
            res.code,
            0,
            "changing {what} must be denied: {}",
            res.render()
        );
        assert!(
            res.stderr
                .contains("system:serviceaccount:shop:kubectl-update may"),
            "{what}: the policy's message: {}",
            res.stderr
        );
        let admin = cluster.kubectl(&[
            "patch",
            "-n",
            "shop",
            "deployment/web",
            "--type",
            "strategic",
            "--dry-run=server",
            "-p",
            patch,
        ]);
        assert_eq!(
            admin.code,
            0,
            "other users are unaffected ({what}): {}",
            admin.render()
        );
    }
    let foreign = cluster.kubectl_as(
        &kubeconfig,
        &[
            "set",
            "image",
            "-n",
            "shop",
            "deployment/web",
            "app=registry.example.com.evil.io/busybox:1",
        ],
    );
    assert_ne!(
        foreign.code,
        0,
        "images of other repositories are denied: {}",
        foreign.render()
    );
    let own = cluster.kubectl_as(
        &kubeconfig,
        &[
            "set",
            "image",
            "-n",
            "shop",
            "deployment/web",
            "app=busybox:1.38",
        ],
    );
    assert_eq!(own.code, 0, "an image bump passes: {}", own.render());
}

#[test]
fn resource_names_and_cluster_wide_variants_work() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let narrowed = cluster.update(&[
        "rbac",
        "-n",
        "shop",
        "--resource-names",
        "-c",
        "canary",
        "--no-admission-policy",
        "-o",
        "json",
    ]);
    assert_eq!(narrowed.code, 0, "{}", narrowed.render());
    let objects: Value = serde_json::from_str(&narrowed.stdout).unwrap();
    let role = objects["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["kind"] == "Role")
        .unwrap()
        .clone();
    let deployments: Vec<&Value> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|it| it["resources"][0] == "deployments")
        .collect();
    assert_eq!(
        deployments.len(),
        2,
        "list stays open, the rest is narrowed: {role}"
    );
    assert_eq!(
        deployments[1]["resourceNames"],
        serde_json::json!(["canary-web", "web"])
    );
    let leases = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|it| it["resources"][0] == "leases")
        .unwrap()
        .clone();
    assert_eq!(
        leases["resourceNames"],
        serde_json::json!(["kubectl-update-canary"])
    );
    let narrowed_yaml = cluster.update(&[
        "rbac",
        "-n",
        "shop",
        "--resource-names",
        "-c",
        "canary",
        "--no-admission-policy",
    ]);
    cluster.apply(&narrowed_yaml.stdout);
    let minted = cluster.update(&["kubeconfig", "-n", "shop"]);
    let path = cluster.path("narrow-kubeconfig");
    std::fs::write(&path, &minted.stdout).unwrap();
    let res = cluster.update(&[
        "--kubeconfig",
        &path.display().to_string(),
        "-i",
        "busybox:1.37",
        "-c",
        "canary",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(
        res.code,
        0,
        "the narrowed Role suffices for its classifier: {}",
        res.render()
    );

    let offline = cluster.update(&[
        "rbac",
        "-n",
        "shop",
        "--resource-names",
        "-c",
        "stable",
        "-f",
        "tests/it/scenarios/shop.yaml",
        "--no-admission-policy",
        "-o",
        "json",
    ]);
    assert_eq!(offline.code, 0, "{}", offline.render());
    assert!(
        offline.stdout.contains("\"cache\""),
        "names come from the manifests too: {}",
        offline.stdout
    );

    let wide = cluster.update(&[
        "rbac",
        "-n",
        "ci",
        "--cluster-wide",
        "-c",
        "stable",
        "--allow-repository",
        "busybox",
    ]);
    assert_eq!(wide.code, 0, "{}", wide.render());
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: ci}\n");
    cluster.apply(&wide.stdout);
    let minted = cluster.update(&["kubeconfig", "-n", "ci"]);
    let path = cluster.path("wide-kubeconfig");
    std::fs::write(&path, &minted.stdout).unwrap();
    let res = cluster.update(&[
        "--kubeconfig",
        &path.display().to_string(),
        "-i",
        "busybox:1.38",
        "-c",
        "stable",
        "-A",
        "-o",
        "json",
    ]);
    assert_eq!(res.code, 0, "-A with the ClusterRole: {}", res.render());
    assert_eq!(report(&res)["result"], "succeeded");
}

#[test]
fn the_ci_token_reports_its_expiry_and_dies_with_its_secret() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let rbac = cluster.update(&["rbac", "-n", "shop", "--no-admission-policy"]);
    assert_eq!(rbac.code, 0, "{}", rbac.render());
    cluster.apply(&rbac.stdout);
    let minted = cluster.update(&["kubeconfig", "-n", "shop", "--duration", "2h"]);
    assert_eq!(minted.code, 0, "{}", minted.render());
    assert!(
        minted
            .stderr
            .contains("system:serviceaccount:shop:kubectl-update: it expires at ")
            && minted.stderr.contains("(in 2h)"),
        "the granted expiry is reported: {}",
        minted.stderr
    );
    assert!(
        !minted.stdout.contains("insecure-skip-tls-verify"),
        "never unless asked: {}",
        minted.stdout
    );
    let secret = minted
        .stderr
        .split("kubectl delete secret ")
        .nth(1)
        .and_then(|it| it.split_whitespace().next())
        .unwrap_or_else(|| panic!("a revocation command: {}", minted.stderr))
        .to_owned();
    let kubeconfig = cluster.path("ci-kubeconfig");
    std::fs::write(&kubeconfig, &minted.stdout).unwrap();
    let whoami = [
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ];
    let before = cluster.kubectl_as(&kubeconfig, &whoami);
    assert_eq!(before.code, 0, "{}", before.render());
    let deleted = cluster.kubectl(&["delete", "secret", &secret, "-n", "shop"]);
    assert_eq!(deleted.code, 0, "{}", deleted.render());
    let after = cluster.wait_until_refused(&kubeconfig);
    assert!(after.stderr.contains("Unauthorized"), "{}", after.render());
}
