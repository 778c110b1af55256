//! Running the binary the way a user does, and rendering what it did for snapshots.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr in one text, for snapshots.
    pub fn render(&self) -> String {
        format!(
            "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with a clean environment: no kubeconfig, no colour, no KUBECTL_UPDATE_* variables,
/// and no CI service or CI run (the tests run on GitHub Actions too).
pub fn command() -> Command {
    let mut command =
        Command::cargo_bin("kubectl-update").expect("the kubectl-update binary is built");
    command.current_dir(repo_root());
    for (key, _) in std::env::vars() {
        // The CI run a cause is read from, too.
        let ci_service = key.starts_with("GITHUB_")
            || key.starts_with("CI_")
            || key == "GITLAB_CI"
            || [
                "BUILDKITE_BUILD_URL",
                "CIRCLE_BUILD_URL",
                "BUILD_URL",
                "SYSTEM_COLLECTIONURI",
                "SYSTEM_TEAMPROJECT",
                "BUILD_BUILDID",
            ]
            .contains(&key.as_str());
        if key.starts_with("KUBECTL_UPDATE_")
            || key == "KUBECONFIG"
            || key.starts_with("CLICOLOR")
            || ci_service
        {
            command.env_remove(key);
        }
    }
    command
        .env("NO_COLOR", "1")
        .env("HOME", std::env::temp_dir().join("kubectl-update-it-home"));
    command
}

pub fn run(args: &[&str]) -> Run {
    run_with(command(), args, None)
}

pub fn run_stdin(args: &[&str], stdin: &str) -> Run {
    run_with(command(), args, Some(stdin))
}

pub fn run_with(mut command: Command, args: &[&str], stdin: Option<&str>) -> Run {
    let output = command
        .args(args)
        .write_stdin(stdin.unwrap_or_default().to_owned())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("the kubectl-update binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Rewrites a generated file when it is stale (outside CI) and says so, so that `cargo test`
/// refreshes it and a commit without the refresh fails CI. Returns whether it was fresh.
pub fn ensure_file_contents(path: &Path, contents: &str) -> bool {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current == contents {
        return true;
    }
    if std::env::var_os("CI").is_none() {
        std::fs::write(path, contents).expect("the generated file can be written");
    }
    false
}

/// The kubectl the tests use as a witness: the one built with the control plane when that backend
/// is selected (so client and server are the same release), else the first `kubectl` on PATH.
pub fn kubectl_program() -> PathBuf {
    if crate::control_plane::selected() {
        return crate::control_plane::bin_dir().join("kubectl");
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|it| it.join("kubectl"))
        .find(|it| it.is_file())
        .expect("kubectl is on PATH")
}

/// Says, where the test output shows it even when captured, that a test did not run its checks on
/// this backend and why. Every such case is listed in the README ("Running the end-to-end tests").
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    let backend = if crate::control_plane::selected() {
        "the real control plane"
    } else {
        "this cluster"
    };
    // Written to the process's stderr directly: libtest captures only `eprintln!`.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test} on {backend}: {reason}"
    );
}
