//! Parsing, matching and round trips of label and field selectors. Never starts a server.

use serde_json::json;

use super::*;

#[test]
fn parses_all_operators() {
    let s = LabelSelector::parse(
        "app=web,tier==front,env!=prod,zone in (a, b),team notin (x),canary,!legacy",
    )
    .unwrap();
    assert_eq!(s.0.len(), 7);
    let labels = json!({"app": "web", "tier": "front", "zone": "b", "canary": ""});
    assert!(s.matches(&labels));
    assert!(!s.matches(&json!({"app": "web", "tier": "front", "zone": "c", "canary": ""})));
    assert!(!s.matches(
        &json!({"app": "web", "tier": "front", "zone": "a", "canary": "", "legacy": "1"})
    ));
    assert!(!s.matches(&json!({"app": "web", "tier": "front", "zone": "a"})));
    assert!(LabelSelector::parse("").unwrap().matches(&json!({})));
    assert!(LabelSelector::parse("a b=c").is_err());
}

#[test]
fn structured_selector_round_trips_to_query() {
    let sel = json!({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}]});
    let s = LabelSelector::from_json(&sel).unwrap();
    assert_eq!(s.to_query(), "a=1,b=2,c in (x,y)");
    assert!(s.matches(&json!({"a": "1", "b": "2", "c": "x"})));
}

#[test]
fn field_selectors() {
    let pod = json!({"metadata": {"name": "p", "namespace": "n"}, "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}});
    assert!(
        FieldSelector::parse("metadata.name=p,status.phase!=Pending", "pods")
            .unwrap()
            .matches(&pod)
    );
    assert!(
        !FieldSelector::parse("spec.nodeName=node-2", "pods")
            .unwrap()
            .matches(&pod)
    );
    assert_eq!(
        FieldSelector::parse("metadata.name=p", "pods")
            .unwrap()
            .pinned_name(),
        Some("p")
    );
    let err = FieldSelector::parse("spec.foo=1", "deployments").unwrap_err();
    assert_eq!(
        err,
        "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
}
