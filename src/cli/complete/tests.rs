//! Unit tests of plugin completion: which words are completed, with which candidates and
//! directives. Offline: lookups are stubbed, never a cluster.

use std::ffi::OsString;

use crate::cli::complete::lookup::Lookup;
use crate::cli::complete::{Directive, complete, requested};

#[track_caller]
fn check(words: &[&str], expect: &[&str], directive: Directive) {
    let completion = complete(words.iter().map(OsString::from).collect());
    let values: Vec<&str> = completion
        .candidates
        .iter()
        .map(|it| it.value.as_str())
        .collect();
    for value in expect {
        assert!(
            values.contains(value),
            "{value} in {values:?} for {words:?}"
        );
    }
    assert_eq!(completion.directive, directive, "{words:?}");
}

#[test]
fn flags_subcommands_and_values() {
    check(
        &["-"],
        &["--image", "-c", "--dry-run", "--kubeconfig"],
        Directive::NoFileComp,
    );
    check(&["--ou"], &["--output"], Directive::NoFileComp);
    check(
        &["-o", ""],
        &["text", "json", "yaml"],
        Directive::NoFileComp,
    );
    check(&["--output=j"], &["json"], Directive::NoFileComp);
    check(
        &["--color", ""],
        &["auto", "always", "never"],
        Directive::NoFileComp,
    );
    check(
        &["--dry-run="],
        &["client", "server", "none"],
        Directive::NoFileComp,
    );
    check(&[""], &["rollback", "completion"], Directive::NoFileComp);
    check(&["rollback", "--dr"], &["--dry-run"], Directive::NoFileComp);
    check(&["--dry-run", ""], &["rollback"], Directive::NoFileComp);
    check(&["-f", ""], &[], Directive::Default);
    check(&["--kubeconfig", "/tm"], &[], Directive::Default);
}

#[test]
fn flags_only_after_a_dash() {
    let completion = complete(vec![OsString::new()]);
    assert!(
        completion
            .candidates
            .iter()
            .all(|it| !it.value.starts_with('-')),
        "{completion:?}"
    );
}

#[test]
fn requested_by_name_or_subcommand() {
    let words = |it: &[&str]| it.iter().map(OsString::from).collect::<Vec<_>>();
    assert_eq!(
        requested(words(&["/x/kubectl_complete-update", "-n", ""])),
        Some(words(&["-n", ""]))
    );
    assert_eq!(
        requested(words(&["kubectl-update", "__complete", "--co"])),
        Some(words(&["--co"]))
    );
    assert_eq!(requested(words(&["kubectl-update", "-i", "app:1"])), None);
}

#[test]
fn lookup_reads_the_cluster_flags_typed_so_far() {
    let words: Vec<OsString> = [
        "--kubeconfig",
        "/k",
        "--context=ci",
        "-n",
        "a,b",
        "-nc",
        "-A",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let lookup = Lookup::from_words(&words);
    assert_eq!(
        format!("{lookup:?}"),
        r#"Lookup { kubeconfig: Some("/k"), context: Some("ci"), namespaces: ["a", "b", "c"], all_namespaces: true }"#
    );
}

#[test]
fn no_values_after_a_flag_that_needs_equals() {
    let completion = complete(vec![OsString::from("--dry-run"), OsString::new()]);
    assert!(
        completion.candidates.iter().all(|it| it.value != "client"),
        "`--dry-run client` is not `--dry-run=client`: {completion:?}"
    );
}
