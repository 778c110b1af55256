//! Generated files are committed and must match what the binary generates now.

use crate::support::{ensure_file_contents, repo_root, run};

#[test]
fn completions_are_fresh() {
    let mut stale = Vec::new();
    for (shell, file) in [
        ("bash", "kubectl-update.bash"),
        ("zsh", "_kubectl-update"),
        ("fish", "kubectl-update.fish"),
        ("powershell", "_kubectl-update.ps1"),
        ("elvish", "kubectl-update.elv"),
    ] {
        let res = run(&["completion", shell]);
        assert_eq!(res.code, 0, "{}", res.stderr);
        assert!(
            res.stdout.contains("kubectl-update"),
            "{shell}: {}",
            res.stdout
        );
        assert!(
            res.stdout.contains("classifier"),
            "{shell} completes --classifier"
        );
        let path = repo_root().join("completions").join(file);
        if !ensure_file_contents(&path, &res.stdout) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (regenerated outside CI: run `cargo test` and commit): {stale:?}"
    );
}

#[test]
fn rbac_templates_are_fresh() {
    let mut stale = Vec::new();
    for (args, file) in [
        (
            &["rbac", "--template", "--no-admission-policy"][..],
            "namespaced.yaml",
        ),
        (
            &[
                "rbac",
                "--template",
                "--cluster-wide",
                "-c",
                "stable",
                "--allow-repository",
                "registry.example.com/team/app",
            ][..],
            "cluster-wide.yaml",
        ),
        (
            &[
                "rbac",
                "--template",
                "-c",
                "stable",
                "--allow-repository",
                "registry.example.com/team/app",
            ][..],
            "with-admission-policy.yaml",
        ),
    ] {
        let res = run(args);
        assert_eq!(res.code, 0, "{}", res.render());
        let path = repo_root().join("rbac").join(file);
        if !ensure_file_contents(&path, &res.stdout) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (regenerated outside CI: run `cargo test` and commit): {stale:?}"
    );
}

#[test]
fn man_page_is_fresh() {
    let res = run(&["man"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(res.stdout.starts_with(".ie"), "roff: {}", res.stdout);
    assert!(
        res.stdout.contains(r"\-\-classifier"),
        "documents --classifier"
    );
    let path = repo_root().join("man/kubectl-update.1");
    assert!(
        ensure_file_contents(&path, &res.stdout),
        "stale generated file {} (regenerated outside CI: run `cargo test` and commit)",
        path.display()
    );
}

/// The README quotes the commands CI runs, exactly: formatting, lints, the tests and the live
/// suites on the real control plane.
#[test]
fn readme_quotes_the_commands_ci_runs() {
    let script = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let joined = script.replace("\\\n", " ");
    let commands: Vec<String> = joined
        .lines()
        .map(str::trim)
        .filter(|line| {
            line.starts_with("cargo fmt")
                || line.starts_with("cargo clippy")
                || line.starts_with("cargo test")
                || line.starts_with("KUBECTL_UPDATE_E2E=")
        })
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        commands.len() >= 4,
        ".ci/run runs fmt, clippy, the tests and the live suites: {commands:?}"
    );
    let missing: Vec<&String> = commands
        .iter()
        .filter(|command| !readme.contains(&format!("`{command}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md does not quote these commands of .ci/run exactly: {missing:?}"
    );
}
