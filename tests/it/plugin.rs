//! kubectl-update as a kubectl plugin, through the real kubectl: `kubectl update …` with every
//! flag, `kubectl plugin list`, and shell completion through `kubectl __complete update …` (which
//! runs `kubectl_complete-update`), offline and against the simulated cluster.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cluster::{Cluster, report};
use crate::support::{Run, kubectl_program, repo_root, run_with};

/// A PATH holding only the plugin (both names, linked to the built binary) and kubectl.
struct Plugin {
    dir: tempfile::TempDir,
    kubectl: PathBuf,
}

impl Plugin {
    fn install() -> Plugin {
        let plugin = Plugin::install_without_completion();
        let binary = assert_cmd::cargo::cargo_bin("kubectl-update");
        std::os::unix::fs::symlink(&binary, plugin.path("kubectl_complete-update"))
            .expect("a symlink");
        plugin
    }

    /// As krew installs it: the binary, and the completion shim once the user adds it.
    fn install_without_completion() -> Plugin {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let binary = assert_cmd::cargo::cargo_bin("kubectl-update");
        std::os::unix::fs::symlink(&binary, dir.path().join("kubectl-update")).expect("a symlink");
        let kubectl = kubectl_program();
        Plugin { dir, kubectl }
    }

    /// Runs kubectl with this PATH, a clean environment and `kubeconfig` as KUBECONFIG.
    fn kubectl(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let mut cmd = assert_cmd::Command::new(&self.kubectl);
        for (key, _) in std::env::vars() {
            if key.starts_with("KUBECTL_UPDATE_") || key.starts_with("CLICOLOR") {
                cmd.env_remove(key);
            }
        }
        for key in ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITLAB_CI"] {
            cmd.env_remove(key);
        }
        let path = std::env::join_paths([
            self.dir.path(),
            self.kubectl.parent().expect("kubectl's directory"),
        ])
        .expect("a PATH");
        cmd.current_dir(repo_root())
            .env("PATH", path)
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1");
        run_with(cmd, args, None)
    }

    /// `kubectl __complete update WORDS…`: the candidates (without descriptions) and the directive.
    fn complete(&self, kubeconfig: &Path, words: &[&str]) -> (Vec<String>, String) {
        let mut args = vec!["__complete", "update"];
        args.extend_from_slice(words);
        let res = self.kubectl(kubeconfig, &args);
        assert_eq!(res.code, 0, "{}", res.render());
        let mut lines: Vec<String> = res
            .stdout
            .lines()
            .map(|it| it.split('\t').next().unwrap_or_default().to_owned())
            .collect();
        let directive = lines.pop().unwrap_or_default();
        (lines, directive)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A kubeconfig with two contexts whose server does not answer.
fn offline_kubeconfig(plugin: &Plugin) -> PathBuf {
    let path = plugin.path("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: ci
  user: {token: abc}
contexts:
- name: staging
  context: {cluster: nowhere, user: ci, namespace: shop-staging}
- name: production
  context: {cluster: nowhere, user: ci, namespace: shop}
current-context: staging
",
    )
    .expect("a kubeconfig");
    path
}

#[track_caller]
fn assert_contains(values: &[String], expected: &[&str]) {
    for value in expected {
        assert!(values.iter().any(|it| it == value), "{value} in {values:?}");
    }
}

#[test]
fn plugin_list_shows_it_without_warnings() {
    let plugin = Plugin::install();
    let res = plugin.kubectl(&plugin.path("none"), &["plugin", "list"]);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(
        res.stdout
            .contains(&plugin.path("kubectl-update").display().to_string()),
        "{}",
        res.render()
    );
    assert!(!res.stderr.contains("warning"), "{}", res.render());
    assert!(
        !res.stdout.contains("kubectl_complete"),
        "the completion executable is not a plugin: {}",
        res.stdout
    );
}

#[test]
fn help_and_version_through_kubectl() {
    let plugin = Plugin::install();
    let help = plugin.kubectl(&plugin.path("none"), &["update", "--help"]);
    assert_eq!(help.code, 0, "{}", help.render());
    assert!(
        help.stdout.contains("Usage: kubectl update"),
        "{}",
        help.stdout
    );
    let version = plugin.kubectl(&plugin.path("none"), &["update", "--version"]);
    assert_eq!(version.code, 0, "{}", version.render());
    let text = version.stdout.trim();
    assert!(
        text.starts_with(&format!(
            "kubectl update {} (commit ",
            env!("CARGO_PKG_VERSION")
        )) && text.ends_with(')'),
        "version and commit: {text}"
    );
}

/// Every flag of `kubectl update`, passed through kubectl to a live run, a server dry run and an
/// offline preview; the last check makes a new flag fail this test until it is added here.
#[test]
fn every_flag_through_kubectl() {
    let plugin = Plugin::install();
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = cluster.kubeconfig().display().to_string();
    let context = cluster
        .kubectl(&["config", "current-context"])
        .stdout
        .trim()
        .to_owned();
    let live: &[&str] = &[
        "update",
        "--image",
        "busybox:1.37",
        "--update-classifier",
        "canary",
        "--namespace",
        "shop",
        "--timeout",
        "2m",
        "--fail-after",
        "20s",
        "--max-restarts",
        "3",
        "--on-interrupt",
        "keep",
        "--lock-timeout",
        "30s",
        // One cluster: a fleet of one, which the flag leaves alone.
        "--fleet-rollback",
        "--cause",
        "through kubectl",
        "--kubeconfig",
        &kubeconfig,
        "--context",
        &context,
        "--request-timeout",
        "30s",
        "--color",
        "never",
        "--verbose",
        "--output",
        "json",
    ];
    let res = plugin.kubectl(&plugin.path("none"), live);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(report(&res)["result"], "succeeded");
    assert_eq!(report(&res)["cause"], "through kubectl");
    assert!(res.stderr.contains("Connected to"), "-v: {}", res.stderr);
    assert_eq!(
        cluster.image("shop", "deployment/canary-web", "app"),
        "busybox:1.37"
    );

    let server_dry_run: &[&str] = &[
        "update",
        "-i",
        "busybox:1.38",
        "--classifier",
        "stable",
        "--all-namespaces",
        "--dry-run=server",
        "--no-lock",
        "--no-rollback",
        "-o",
        "json",
    ];
    let before = cluster.versions();
    let res = plugin.kubectl(cluster.kubeconfig(), server_dry_run);
    assert_eq!(res.code, 0, "{}", res.render());
    assert_eq!(report(&res)["dryRun"], "server");
    assert_eq!(cluster.versions(), before, "a dry run writes nothing");

    let offline: &[&str] = &[
        "update",
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "--filename",
        "examples/",
        "--output",
        "yaml",
        // The examples have no other owner: nothing to refuse.
        "--refuse-managed",
    ];
    let res = plugin.kubectl(&plugin.path("none"), offline);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(res.stdout.contains("image: busybox:1.37"), "{}", res.stdout);

    // `--write` on a copy of the examples: stdout is the diff of the image lines.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(crate::support::repo_root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let copy_arg = copy.path().display().to_string();
    let write: &[&str] = &[
        "update",
        "-i",
        "busybox:1.37",
        "-c",
        "stable",
        "--filename",
        &copy_arg,
        "--write",
    ];
    let res = plugin.kubectl(&plugin.path("none"), write);
    assert_eq!(res.code, 0, "{}", res.render());
    assert!(res.stdout.contains("+"), "{}", res.stdout);
    assert!(res.stdout.contains("busybox:1.37"), "{}", res.stdout);

    let used: BTreeSet<&str> = [live, server_dry_run, offline, write]
        .concat()
        .into_iter()
        .filter(|it| it.starts_with("--"))
        .map(|it| it.split('=').next().unwrap_or_default())
        .collect();
    let (flags, _) = plugin.complete(&plugin.path("none"), &["--"]);
    let missing: Vec<&String> = flags
        .iter()
        .filter(|it| !matches!(it.as_str(), "--help" | "--version"))
        .filter(|it| !used.contains(it.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "flags not exercised through kubectl: {missing:?}"
    );
}

#[test]
fn completion_of_flags_subcommands_and_values() {
    let plugin = Plugin::install();
    let kubeconfig = plugin.path("none");
    let (flags, directive) = plugin.complete(&kubeconfig, &["-"]);
    assert_contains(
        &flags,
        &[
            "--image",
            "-i",
            "--classifier",
            "-c",
            "-n",
            "--namespace",
            "--dry-run",
            "--context",
        ],
    );
    assert_eq!(directive, ":4", "no file names among flags");
    let (words, directive) = plugin.complete(&kubeconfig, &[""]);
    assert_contains(&words, &["rollback", "completion"]);
    assert!(
        words.iter().all(|it| !it.starts_with('-')),
        "flags only after a dash, as kubectl does: {words:?}"
    );
    assert_eq!(directive, ":4");
    let (values, _) = plugin.complete(&kubeconfig, &["-i", "app:1", "--output", ""]);
    assert_eq!(values, ["text", "json", "yaml", "diff"]);
    let (values, _) = plugin.complete(&kubeconfig, &["--color", ""]);
    assert_eq!(values, ["auto", "always", "never"]);
    let (values, _) = plugin.complete(&kubeconfig, &["--dry-run="]);
    assert_eq!(values, ["none", "client", "server"]);
    let (values, _) = plugin.complete(&kubeconfig, &["rollback", "--dry"]);
    assert_eq!(values, ["--dry-run"]);
    let (values, directive) = plugin.complete(&kubeconfig, &["-f", ""]);
    assert_eq!(
        (values.len(), directive.as_str()),
        (0, ":0"),
        "-f leaves file names to the shell"
    );
}

#[test]
fn completion_of_contexts_and_namespaces_from_the_kubeconfig() {
    let plugin = Plugin::install();
    let kubeconfig = offline_kubeconfig(&plugin);
    let (contexts, directive) = plugin.complete(&kubeconfig, &["--context", ""]);
    assert_eq!(contexts, ["staging", "production"]);
    assert_eq!(directive, ":4");
    let started = Instant::now();
    let (namespaces, _) = plugin.complete(&kubeconfig, &["-n", ""]);
    assert_eq!(
        namespaces,
        ["shop", "shop-staging"],
        "the kubeconfig's namespaces when the cluster does not answer"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an unreachable cluster does not hold completion up: {:?}",
        started.elapsed()
    );
}

/// Completes until the expected candidates come: the cluster gets one second per completion, which
/// a test machine running many simulated clusters at once does not always meet.
#[track_caller]
fn complete_from_cluster(plugin: &Plugin, kubeconfig: &Path, words: &[&str], expected: &[&str]) {
    let mut values = Vec::new();
    for _ in 0..5 {
        let directive;
        (values, directive) = plugin.complete(kubeconfig, words);
        assert_eq!(directive, ":4");
        if expected
            .iter()
            .all(|it| values.iter().any(|value| value == it))
        {
            return;
        }
    }
    panic!("{expected:?} in {values:?} for {words:?}");
}

#[test]
fn completion_of_namespaces_and_classifiers_from_the_cluster() {
    let plugin = Plugin::install();
    let cluster = Cluster::start(&["shop.yaml"]);
    let kubeconfig = cluster.kubeconfig();
    complete_from_cluster(
        &plugin,
        kubeconfig,
        &["-i", "app:1", "-n", ""],
        &["shop", "billing", "default"],
    );
    complete_from_cluster(&plugin, kubeconfig, &["-n", "shop,bil"], &["shop,billing"]);
    complete_from_cluster(
        &plugin,
        kubeconfig,
        &["-n", "shop", "-c", ""],
        &["stable", "canary"],
    );
    complete_from_cluster(
        &plugin,
        kubeconfig,
        &["rollback", "-n", "shop", "-c", "ca"],
        &["canary"],
    );
    let (classifiers, _) = plugin.complete(kubeconfig, &["rollback", "-n", "shop", "-c", "ca"]);
    assert!(
        classifiers.iter().all(|it| it.starts_with("ca")),
        "{classifiers:?}"
    );
}

#[test]
fn completion_through_the_shim_for_krew_installs() {
    let plugin = Plugin::install_without_completion();
    std::fs::copy(
        repo_root().join("completions/kubectl_complete-update"),
        plugin.path("kubectl_complete-update"),
    )
    .expect("the shim is copied");
    let (values, directive) = plugin.complete(&plugin.path("none"), &["--out"]);
    assert_eq!(
        (values, directive.as_str()),
        (vec!["--output".to_owned()], ":4")
    );
}

/// The krew template, rendered as krew-release-bot does, is a plugin manifest for linux and
/// darwin on amd64 and arm64.
#[test]
fn krew_manifest_template_covers_every_platform() {
    let template = std::fs::read_to_string(repo_root().join(".krew.yaml")).expect(".krew.yaml");
    let mut rendered = String::new();
    for line in template.lines() {
        let line = line.replace("{{ .TagName }}", "v1.2.3");
        match line.trim_start().strip_prefix("{{addURIAndSha \"") {
            Some(rest) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let uri = rest.split('"').next().unwrap_or_default();
                rendered.push_str(&format!(
                    "{indent}uri: {uri}\n{indent}sha256: {}\n",
                    "0".repeat(64)
                ));
            }
            None => {
                rendered.push_str(&line);
                rendered.push('\n');
            }
        }
    }
    let manifest: serde_json::Value =
        serde_saphyr::from_str(&rendered).unwrap_or_else(|err| panic!("{err}: {rendered}"));
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["spec"]["version"], "v1.2.3");
    let platforms: BTreeSet<String> = manifest["spec"]["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .map(|it| {
            let labels = &it["selector"]["matchLabels"];
            let (os, arch) = (
                labels["os"].as_str().unwrap(),
                labels["arch"].as_str().unwrap(),
            );
            let uri = it["uri"].as_str().unwrap();
            assert!(
                uri.ends_with(&format!("_v1.2.3_{os}_{arch}.tar.gz")),
                "{uri}"
            );
            assert_eq!(it["bin"], "kubectl-update");
            format!("{os}/{arch}")
        })
        .collect();
    assert_eq!(
        platforms.into_iter().collect::<Vec<_>>(),
        ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"]
    );
}
