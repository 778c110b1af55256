//! Property tests of the pure parsers with random input (proptest, a bounded number of cases):
//! image references, classifier annotation values, manifests, the `kubectl-update.io/previous`
//! record and the report built from whatever parsed. None may panic; errors must be errors, and what
//! parses must print back to something that parses the same.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::cli::{DryRun, OnInterrupt, OutputFormat};
use crate::config::{Config, Source};
use crate::plan::Namespaces;
use crate::plan::Request;
use crate::plan::annotations::{Classifier, OptIn, parse_list};
use crate::plan::image::{TargetImage, repository_of, same_image};
use crate::plan::patch::{self, Previous};
use crate::plan::workload::Kind;
use crate::report::Report;

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings that look like image references: registry, port, path components, tag and digest,
/// with the odd wrong character.
fn reference_like() -> impl Strategy<Value = String> {
    let component = "[a-zA-Z0-9._-]{0,8}";
    (
        prop::option::of("[a-zA-Z0-9.-]{1,10}(:[0-9]{1,6})?/"),
        prop::collection::vec(component, 1..4),
        prop::option::of(":[a-zA-Z0-9._:@-]{0,12}"),
        prop::option::of("@sha256:[0-9a-fA-Fg]{0,66}"),
    )
        .prop_map(|(registry, path, tag, digest)| {
            format!(
                "{}{}{}{}",
                registry.unwrap_or_default(),
                path.join("/"),
                tag.unwrap_or_default(),
                digest.unwrap_or_default()
            )
        })
}

fn config(namespaces: Namespaces) -> Config {
    Config {
        request: Request {
            images: vec!["busybox:1.37".parse().unwrap()],
            classifier: "stable".parse().unwrap(),
        },
        source: Source::Manifests(vec!["-".into()]),
        namespaces,
        dry_run: Some(DryRun::Client),
        output: OutputFormat::Json,
        write: false,
        limits: crate::config::Limits {
            timeout: Duration::from_secs(600),
            fail_after: Duration::from_secs(10),
            max_restarts: 2,
        },
        rollback: true,
        refuse_managed: false,
        verbose: 0,
        on_interrupt: OnInterrupt::Keep,
        lock_timeout: None,
        cause: None,
        fleet_rollback: false,
    }
}

/// Manifests shaped like the real thing, with random kinds, versions, annotations, images and the
/// occasional wrong type.
fn manifest_like() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "CronJob",
        "Job",
        "ConfigMap",
        "List",
    ]);
    let api_version = prop::sample::select(vec!["apps/v1", "batch/v1", "v1", "apps/v9", ""]);
    let annotation = prop::sample::select(vec![
        "stable",
        "stable, canary",
        "",
        ",",
        "-x",
        "stable;canary",
        "12",
    ]);
    let image = prop_oneof![
        Just("busybox:1.36".to_owned()),
        Just("docker.io/library/busybox@sha256:0123".to_owned()),
        reference_like(),
    ];
    let containers = prop_oneof![
        prop::collection::vec(("[a-z]{1,5}", image), 0..3).prop_map(|list| {
            let items: Vec<String> = list
                .iter()
                .map(|(name, image)| format!("{{name: {name}, image: {image:?}}}"))
                .collect();
            format!("[{}]", items.join(", "))
        }),
        Just("\"busybox\"".to_owned()),
        Just("42".to_owned()),
        Just("[{image: 3}]".to_owned()),
    ];
    let document = (kind, api_version, annotation, containers).prop_map(
        |(kind, api_version, annotation, containers)| {
            let spec = if kind == "CronJob" {
                format!("spec: {{jobTemplate: {{spec: {{template: {{spec: {{containers: {containers}}}}}}}}}}}")
            } else {
                format!("spec: {{template: {{spec: {{containers: {containers}}}}}}}")
            };
            format!(
                "apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x, annotations: {{kubectl-update.io/classifier: {annotation:?}}}}}\n{spec}\n"
            )
        },
    );
    prop::collection::vec(document, 0..4).prop_map(|docs| docs.join("---\n"))
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn image_references_parse_or_fail_without_panicking(text in prop_oneof![reference_like(), any::<String>()]) {
        let _ = repository_of(&text);
        let _ = same_image(&text, "busybox:1.36");
        if let Ok(image) = text.parse::<TargetImage>() {
            let again: TargetImage = image.to_string().parse().expect("what parsed prints back to a reference");
            prop_assert_eq!(again.repository(), image.repository());
            prop_assert!(repository_of(&image.to_string()).is_ok());
        }
    }

    #[test]
    fn classifier_lists_parse_or_fail_without_panicking(text in prop_oneof!["[a-zA-Z0-9 ,._;-]{0,40}", any::<String>()]) {
        let _ = text.parse::<Classifier>();
        if let Ok(list) = parse_list(&text) {
            for classifier in &list {
                prop_assert!(classifier.to_string().parse::<Classifier>().is_ok());
            }
            let joined: Vec<String> = list.iter().map(ToString::to_string).collect();
            prop_assert_eq!(parse_list(&joined.join(", ")).unwrap(), list);
        }
        let mut annotations = Map::new();
        annotations.insert("kubectl-update.io/classifier".to_owned(), Value::from(text.clone()));
        annotations.insert("xcnt.io/update-classifier".to_owned(), json!(text.len()));
        let _ = OptIn::from_annotations(Some(&annotations));
    }

    #[test]
    fn previous_records_parse_or_fail_without_panicking(text in prop_oneof![
        any::<String>(),
        "\\{\"containers\": \\[\\{\"name\": \"[a-z]{0,3}\", \"previous\": \"[a-z:.0-9]{0,8}\", \"target\": \"[a-z:0-9]{0,6}\"(, \"init\": (true|1))?\\}\\], \"time\": \"[0-9T:-]{0,10}\"\\}",
    ]) {
        if let Ok(previous) = serde_json::from_str::<Previous>(&text) {
            for kind in Kind::ALL {
                let _ = patch::rollback(kind, &previous, None);
            }
            let _ = previous.restore();
        }
    }
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn manifests_parse_or_fail_without_panicking_and_report(text in prop_oneof![manifest_like(), any::<String>()]) {
        for namespaces in [Namespaces::Default, Namespaces::Listed(vec!["shop".to_owned()])] {
            let config = config(namespaces);
            match crate::preview::preview(&config, &["-".into()], &mut text.as_bytes()) {
                Ok(preview) => {
                    let report = Report::planned(&preview.plan, DryRun::Client);
                    let json = serde_json::to_string(&report).expect("the report serialises");
                    let value: Value = serde_json::from_str(&json).expect("and reads back");
                    prop_assert!(value["result"] == "planned" || value["result"] == "unchanged");
                    let _ = crate::manifest::to_yaml(&preview.updated).expect("the manifests print");
                    let _ = crate::output::plan::plan_table(&preview.plan);
                }
                Err(err) => {
                    let line = format!("{err:#}");
                    prop_assert!(!line.is_empty());
                }
            }
        }
    }
}
