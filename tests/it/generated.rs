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
