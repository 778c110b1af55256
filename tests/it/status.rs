//! `kubectl update status`: after an update it shows the new images, the previous ones, the
//! revision, a complete rollout and no lock; a Lease held by another run shows its holder, an
//! expired one says so; bad input is a one-line error; the generated CI token may run it; the
//! JSON validates against `docs/status.schema.json`; and it writes nothing.

use serde_json::Value;

use crate::cluster::{Cluster, report};
use crate::lock::{hold, micro_now};
use crate::support::{Run, repo_root};

#[track_caller]
fn valid(res: &Run) -> Value {
    assert_eq!(res.code, 0, "{}", res.render());
    let status = report(res);
    let text = std::fs::read_to_string(repo_root().join("docs/status.schema.json"))
        .expect("docs/status.schema.json is readable");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
    let errors: Vec<String> = validator
        .iter_errors(&status)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", res.stdout);
    status
}

fn workload<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["clusters"][0]["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["name"] == name)
        .unwrap_or_else(|| panic!("no workload {name}: {status:#}"))
}

#[test]
fn after_an_update_status_shows_the_new_and_previous_images_and_no_lock() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "canary", "-n", "shop"]);
    assert_eq!(res.code, 0, "{}", res.render());
    let before = cluster.versions();

    let status = valid(&cluster.update(&["status", "-c", "canary", "-n", "shop", "-o", "json"]));
    let one = &status["clusters"][0];
    assert_eq!(one["classifiers"], serde_json::json!(["canary"]));
    assert_eq!(one["namespaces"], serde_json::json!(["shop"]));
    let names: Vec<&str> = one["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["canary-web", "web"],
        "sorted by namespace, kind, name"
    );
    let web = workload(&status, "canary-web");
    assert_eq!(web["kind"], "Deployment");
    assert_eq!(
        web["containers"],
        serde_json::json!([{"name": "app", "image": "busybox:1.37"}])
    );
    assert_eq!(
        web["previous"],
        serde_json::json!([{"name": "app", "image": "busybox:1.36"}])
    );
    assert_eq!(web["revision"], "2", "{web:#}");
    assert_eq!(web["rollout"]["state"], "complete", "{web:#}");
    assert!(web["lastChange"]["time"].as_str().is_some(), "{web:#}");
    assert_eq!(
        web["lastChange"]["cause"],
        "kubectl-update: app=busybox:1.37"
    );
    assert_eq!(web["locks"], serde_json::json!([]));
    let sidecar = workload(&status, "web");
    assert!(
        sidecar["containers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"name": "proxy", "image": "nginx:1.27"})),
        "{sidecar:#}"
    );
    assert_eq!(
        sidecar["containers"][0],
        serde_json::json!({"name": "wait", "init": true, "image": "busybox:1.37"})
    );

    // Every kind, in two namespaces, as a table.
    let res = cluster.update(&["-i", "busybox:1.37", "-c", "stable", "-n", "shop,billing"]);
    assert_eq!(res.code, 0, "{}", res.render());
    let mut command = crate::support::command();
    command
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("COLUMNS", "200");
    let text = crate::support::run_with(
        command,
        &["status", "-c", "stable", "-n", "shop,billing"],
        None,
    );
    assert_eq!(text.code, 0, "{}", text.render());
    // One row per workload; wrapped cells continue on lines that start blank.
    let lines: Vec<&str> = text
        .stdout
        .lines()
        .filter(|it| !it.starts_with("   "))
        .collect();
    assert_eq!(lines.len(), 5, "{}", text.stdout);
    assert!(
        lines[0].contains("IMAGES") && lines[0].contains("LOCK"),
        "{}",
        text.stdout
    );
    for (line, (namespace, name)) in lines[1..].iter().zip([
        ("billing", "agent"),
        ("billing", "invoices"),
        ("shop", "web"),
        ("shop", "cache"),
    ]) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((words[0], words[2]), (namespace, name), "{}", text.stdout);
    }
    assert!(lines[3].contains("complete"), "{}", text.stdout);
    assert!(
        text.stderr.contains("4 workloads of classifier stable"),
        "{}",
        text.stderr
    );
    assert_eq!(
        cluster.versions().len(),
        before.len(),
        "status creates nothing"
    );
    let versions = cluster.versions();
    valid(&cluster.update(&["status", "-c", "stable,canary", "-A", "-o", "json"]));
    assert_eq!(cluster.versions(), versions, "status writes nothing");
}

#[test]
fn status_shows_who_holds_the_lock_until_it_expires() {
    let cluster = Cluster::start(&["shop.yaml"]);
    hold(&cluster, "ci-runner-7/4242/abcd", &micro_now(), 3600);
    let status = valid(&cluster.update(&["status", "-c", "canary", "-n", "shop", "-o", "json"]));
    let web = workload(&status, "canary-web");
    assert_eq!(web["locks"][0]["state"], "held", "{web:#}");
    assert_eq!(web["locks"][0]["holder"], "ci-runner-7/4242/abcd");
    assert_eq!(web["locks"][0]["lease"], "kubectl-update-canary");
    assert_eq!(web["previous"], serde_json::json!([]), "no record yet");
    let text = cluster.update(&["status", "-c", "canary", "-n", "shop"]);
    assert!(
        text.stdout.contains("held by ci-runner-7/4242/abcd"),
        "{}",
        text.render()
    );

    hold(
        &cluster,
        "ci-runner-1/99/dead",
        "2020-01-01T00:00:00.000000Z",
        30,
    );
    let status = valid(&cluster.update(&["status", "-c", "canary", "-n", "shop", "-o", "json"]));
    let web = workload(&status, "canary-web");
    assert_eq!(web["locks"][0]["state"], "expired", "{web:#}");
    assert_eq!(
        web["locks"][0]["holder"],
        Value::Null,
        "no holder once expired"
    );
}

#[test]
fn bad_status_input_is_a_one_line_error() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let before = cluster.versions();
    let typo = cluster.update(&["status", "-c", "canry", "-n", "shop"]);
    assert_eq!(typo.code, 1, "{}", typo.render());
    assert!(typo.stdout.is_empty(), "{}", typo.render());
    let first = typo.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        "error: nothing matched: no workload in namespace shop lists classifier `canry`"
    );
    assert!(
        typo.stderr
            .contains("hint: did you mean `canary`? no workload lists `canry`"),
        "{}",
        typo.stderr
    );
    for (args, needle) in [
        (
            &["status", "-c", "canary", "-o", "yaml"][..],
            "invalid value 'yaml'",
        ),
        (&["status", "-n", "shop"][..], "--classifier <NAME>"),
        (&["status", "-c", "bad!name"][..], "bad!name"),
        (
            &["status", "-c", "canary", "-n", "shop", "-A"][..],
            "cannot be used with",
        ),
    ] {
        let res = cluster.update(args);
        assert_eq!(res.code, 2, "{args:?}: {}", res.render());
        assert!(res.stdout.is_empty(), "{}", res.render());
        assert!(
            res.stderr.lines().next().unwrap().starts_with("error: ")
                && res.stderr.contains(needle),
            "{args:?}: {}",
            res.render()
        );
    }
    assert_eq!(cluster.versions(), before);
}

#[test]
fn the_generated_ci_token_may_run_status() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = crate::privilege::ci_token(
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
        "shop,billing",
    ]);
    assert_eq!(res.code, 0, "{}", res.render());
    hold(&cluster, "ci-runner-7/4242/abcd", &micro_now(), 3600);
    let status = valid(&cluster.update(&[
        "status",
        "--kubeconfig",
        &ci,
        "-c",
        "stable,canary",
        "-n",
        "shop,billing",
        "-o",
        "json",
    ]));
    assert_eq!(
        status["clusters"][0]["workloads"].as_array().unwrap().len(),
        5
    );
    let web = workload(&status, "web");
    assert_eq!(web["classifiers"], serde_json::json!(["stable", "canary"]));
    assert_eq!(web["previous"][0]["image"], "busybox:1.36", "{web:#}");
    assert_eq!(
        web["locks"][0]["holder"], "ci-runner-7/4242/abcd",
        "{web:#}"
    );
}

/// The two reads status makes are rules the generated Role already has (no new rule): without
/// either, status fails with one line naming the verb, resource, namespace and granting rule.
#[test]
fn without_a_read_of_the_role_status_is_forbidden_naming_the_rule() {
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = crate::privilege::ci_token(&cluster, &["--no-admission-policy"]);
    let ci = kubeconfig.display().to_string();
    let roles = crate::privilege::generated_roles(&cluster);
    for (resource, verb) in [("leases", "get"), ("deployments", "list")] {
        let mut reduced = String::new();
        for role in &roles {
            let mut role = role.clone();
            for rule in role["rules"].as_array_mut().unwrap() {
                if rule["resources"][0] == resource {
                    rule["verbs"]
                        .as_array_mut()
                        .unwrap()
                        .retain(|it| it != verb);
                }
            }
            reduced.push_str(&format!("---\n{}\n", serde_json::to_string(&role).unwrap()));
        }
        cluster.apply(&reduced);
        let res = cluster.update(&["status", "--kubeconfig", &ci, "-c", "canary", "-n", "shop"]);
        assert_eq!(res.code, 1, "without {verb} {resource}: {}", res.render());
        let first = res.stderr.lines().next().unwrap();
        assert!(
            first.starts_with("error: forbidden: this token may not")
                && first.contains(verb)
                && first.contains(resource)
                && first.contains("namespace shop"),
            "{}",
            res.stderr
        );
        assert!(
            res.stderr
                .contains("hint: grant it with the Role from `kubectl update rbac`"),
            "{}",
            res.stderr
        );
        cluster.apply(
            &roles
                .iter()
                .map(|it| format!("---\n{}\n", serde_json::to_string(it).unwrap()))
                .collect::<String>(),
        );
    }
}
