//! Unit tests of the command line: flag parsing, defaults and the errors clap gives. Never runs a
//! command.

use clap::CommandFactory;

use super::*;

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    let err = parse_duration("10").unwrap_err();
    assert!(err.contains("did you mean `10s`?"), "{err}");
    assert!(err.contains("e.g. 10s, 10m, 10h"), "{err}");
    assert!(!err.contains("sec"), "humantime's spellings: {err}");
    let err = parse_duration("ten").unwrap_err();
    assert!(err.starts_with("`ten` is not a duration"), "{err}");
}

#[test]
fn bare_dry_run_means_client() {
    let cli = Cli::try_parse_from(["kubectl-update", "-i", "app:1", "-c", "stable", "--dry-run"])
        .unwrap();
    assert_eq!(cli.update.dry_run, Some(DryRun::Client));
    let cli = Cli::try_parse_from([
        "kubectl-update",
        "-i",
        "app:1",
        "-c",
        "stable",
        "--dry-run=server",
    ])
    .unwrap();
    assert_eq!(cli.update.dry_run, Some(DryRun::Server));
}

#[test]
fn rbac_makes_the_admission_policy_unless_told_not_to() {
    let rbac = |args: &[&str]| {
        let mut full = vec!["kubectl-update", "rbac"];
        full.extend_from_slice(args);
        Cli::try_parse_from(full).map(|cli| match cli.command {
            Some(Command::Rbac(args)) => args,
            _ => unreachable!("the rbac subcommand"),
        })
    };
    let args = rbac(&[
        "-c",
        "stable,canary",
        "-c",
        "test",
        "--allow-repository",
        "a/b",
    ])
    .unwrap();
    assert!(!args.no_admission_policy);
    let classifiers: Vec<String> = args.classifiers.iter().map(ToString::to_string).collect();
    assert_eq!(classifiers, vec!["stable", "canary", "test"]);
    assert!(
        rbac(&["--admission-policy", "--allow-repository", "a/b"]).is_ok(),
        "still accepted"
    );
    assert!(
        rbac(&["--no-admission-policy"])
            .unwrap()
            .no_admission_policy
    );
    assert!(
        rbac(&["--no-admission-policy", "--cluster-wide"]).is_err(),
        "cluster-wide needs the policy"
    );
    assert!(rbac(&["--no-admission-policy", "--admission-policy"]).is_err());
}

#[test]
fn namespaces_accept_lists_and_repeats() {
    let cli = Cli::try_parse_from([
        "kubectl-update",
        "-i",
        "app:1",
        "-c",
        "s",
        "-n",
        "a,b",
        "-n",
        "c",
    ])
    .unwrap();
    assert_eq!(cli.update.namespaces, vec!["a", "b", "c"]);
    assert!(
        Cli::try_parse_from(["kubectl-update", "-i", "app:1", "-c", "s", "-n", "a", "-A"]).is_err()
    );
}
