//! Unit tests of the offline preview: reports and rewritten manifests from in-memory files. Never
//! touches the disk or a cluster.

use super::*;
use crate::cli::{DryRun, OutputFormat};
use crate::config::Source;
use crate::plan::Namespaces;

fn config(images: &[&str], classifier: &str, namespaces: Namespaces) -> Config {
    Config {
        request: plan::Request {
            images: images.iter().map(|it| it.parse().unwrap()).collect(),
            classifier: classifier.parse().unwrap(),
        },
        source: Source::Manifests(vec!["-".into()]),
        namespaces,
        dry_run: Some(DryRun::Client),
        output: OutputFormat::Yaml,
        write: false,
        limits: crate::config::Limits {
            timeout: std::time::Duration::from_secs(600),
            fail_after: std::time::Duration::from_secs(10),
            max_restarts: 2,
        },
        rollback: true,
        refuse_managed: false,
        verbose: 0,
        on_interrupt: crate::cli::OnInterrupt::Keep,
        lock_timeout: None,
        cause: None,
        fleet_rollback: false,
    }
}

fn run(text: &str, namespaces: Namespaces) -> Result<Preview, String> {
    let config = config(&["acme/app:2"], "stable", namespaces);
    preview(&config, &["-".into()], &mut text.as_bytes()).map_err(|err| err.to_string())
}

const LIST: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: batch/v1
  kind: CronJob
  metadata:
    name: nightly
    namespace: shop
    annotations: {kubectl-update.io/classifier: stable}
  spec:
    schedule: "0 1 * * *"
    jobTemplate:
      spec:
        template:
          spec:
            restartPolicy: OnFailure
            containers: [{name: report, image: "acme/app:1"}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
"#;

#[test]
fn list_items_are_updated_in_place() {
    let preview = run(LIST, Namespaces::Default).unwrap();
    assert_eq!(preview.plan.workloads.len(), 1);
    assert_eq!(preview.plan.workloads[0].id.namespace, "shop");
    let image = preview.updated[0]
        .value
        .pointer("/items/0/spec/jobTemplate/spec/template/spec/containers/0/image");
    assert_eq!(image, Some(&Value::from("acme/app:2")));
    assert_eq!(
        preview.updated[0].value.pointer("/items/1/metadata/name"),
        Some(&Value::from("settings"))
    );
}

#[test]
fn namespace_filter_applies_offline() {
    let preview = run(LIST, Namespaces::Listed(vec!["other".into()])).unwrap();
    assert!(preview.plan.is_empty());
}

#[test]
fn unknown_api_version_of_a_known_kind_is_an_error() {
    let err = run(
        "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\n",
        Namespaces::Default,
    )
    .unwrap_err();
    assert_eq!(
        err,
        "<stdin>: document 1: Deployment has apiVersion extensions/v1beta1; kubectl-update reads apps/v1 (change the manifest's apiVersion)"
    );
}

#[test]
fn type_errors_name_the_line() {
    let err = run(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {}\n  template:\n    spec:\n      volumes:\n      - name: v\n        secret: {defaultMode: \"0400\"}\n      containers: []\n",
        Namespaces::Default,
    )
    .unwrap_err();
    assert!(
        err.starts_with("<stdin>: document 1: line 10: Deployment \"web\" is malformed: spec.template.spec.volumes[0].secret.defaultMode: invalid type"),
        "{err}"
    );
    let ok = run(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {}\n  template:\n    spec:\n      volumes:\n      - name: v\n        secret: {defaultMode: 0400}\n      containers: []\n",
        Namespaces::Default,
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn missing_kind_is_an_error() {
    let err = run("metadata: {name: web}\n", Namespaces::Default).unwrap_err();
    assert_eq!(
        err,
        "<stdin>: document 1: missing apiVersion or kind; every manifest needs both"
    );
}
