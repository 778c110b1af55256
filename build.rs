//! Build script: records the git commit for `--version` as `KUBECTL_UPDATE_GIT_COMMIT`, or
//! `unknown` where there is no git or no `.git` (a crates.io tarball, a source archive).

use std::path::Path;
use std::process::Command;

fn main() {
    // Only this checkout's own `.git` (a directory, or a file in a worktree): a source tarball
    // unpacked inside some other repository must not report that repository's commit.
    let commit = Path::new(".git")
        .exists()
        .then(|| {
            Command::new("git")
                .args(["rev-parse", "--short", "HEAD"])
                .output()
        })
        .and_then(Result::ok)
        .filter(|it| it.status.success())
        .and_then(|it| String::from_utf8(it.stdout).ok())
        .map(|it| it.trim().to_owned())
        .filter(|it| !it.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=KUBECTL_UPDATE_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself changes on checkout, the branch's ref on commit. A path
    // that does not exist would make Cargo rerun this on every build, so only existing ones count.
    let mut watched = vec![".git/HEAD".to_owned(), ".git/packed-refs".to_owned()];
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        watched.push(format!(".git/{reference}"));
    }
    watched.push("build.rs".to_owned());
    for path in watched.iter().filter(|it| Path::new(it).is_file()) {
        println!("cargo:rerun-if-changed={path}");
    }
}
