//! Resolves the parsed command line into a `Config`: the checks clap cannot express, defaults, and
//! the choice between offline and live mode. No I/O.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::CommandFactory;
use clap::error::ErrorKind;

use crate::cli::{Cli, DryRun, GlobalArgs, OnInterrupt, OutputFormat, RollbackArgs, UpdateArgs};
use crate::cluster::ClusterArgs;
use crate::plan::audit;
use crate::plan::{Namespaces, Request};

/// The longest a rollback may run past `--timeout`.
pub const LONGEST_ROLLBACK_GRACE: Duration = Duration::from_secs(30);

/// Everything an update run needs to know, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub request: Request,
    pub source: Source,
    pub namespaces: Namespaces,
    /// `None` for a real run.
    pub dry_run: Option<DryRun>,
    pub output: OutputFormat,
    /// `--write`: edit the manifest files in place (offline only).
    pub write: bool,
    pub limits: Limits,
    pub rollback: bool,
    /// `--refuse-managed`: another owner of a workload's image is an error, not a warning.
    pub refuse_managed: bool,
    pub verbose: u8,
    pub on_interrupt: OnInterrupt,
    /// `None` with `--no-lock`; else how long to wait for another holder.
    pub lock_timeout: Option<Duration>,
    /// Why the change is made (`--cause`, else the CI run); `None`: not known.
    pub cause: Option<String>,
    /// `--fleet-rollback`: a failed wave also rolls back the waves already done.
    pub fleet_rollback: bool,
}

/// How long a run may take and when a rollout counts as failed: `--timeout`, `--fail-after` and
/// `--max-restarts`, the same for an update and for `kubectl update rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub fail_after: Duration,
    pub max_restarts: u32,
}

impl Limits {
    /// How long a rollback may run past `--timeout`: half of it, at most 30 s. The whole run,
    /// rollback included, ends by `--timeout` plus this.
    pub fn rollback_grace(&self) -> Duration {
        (self.timeout / 2).min(LONGEST_ROLLBACK_GRACE)
    }
}

/// Where the objects come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Manifest files: never contacts a cluster.
    Manifests(Vec<PathBuf>),
    /// The cluster of the kubeconfig.
    Cluster(ClusterArgs),
    /// More than one cluster (`--context a,b --context c`): waves, run in order, of clusters
    /// updated in parallel.
    Fleet(Vec<Vec<ClusterArgs>>),
}

/// Resolves the update's arguments, with the process environment `env` (read for the CI run that
/// causes the change); usage problems come back as clap errors (exit 2).
pub fn resolve(cli: &Cli, env: &BTreeMap<String, String>) -> Result<Config, clap::Error> {
    let args: &UpdateArgs = &cli.update;
    let usage = |kind: ErrorKind, message: String| Cli::command().error(kind, message);
    let Some(classifier) = args.classifier.clone() else {
        return Err(usage(
            ErrorKind::MissingRequiredArgument,
            "--classifier is required".to_owned(),
        ));
    };
    for (idx, image) in args.images.iter().enumerate() {
        if let Some(other) = args.images[..idx]
            .iter()
            .find(|it| it.repository() == image.repository())
        {
            return Err(usage(
                ErrorKind::ArgumentConflict,
                format!(
                    "--image {other} and --image {image} name the same repository {}; give one image per repository",
                    image.repository()
                ),
            ));
        }
    }
    for namespace in &args.namespaces {
        if let Err(reason) = check_namespace(namespace) {
            return Err(usage(
                ErrorKind::InvalidValue,
                format!("invalid value {namespace:?} for --namespace: {reason}"),
            ));
        }
    }
    let cause = audit::resolve_cause(args.cause.as_deref(), env)
        .map_err(|reason| usage(ErrorKind::InvalidValue, reason))?;
    let offline = !args.filenames.is_empty();
    if args.output == OutputFormat::Yaml && !offline {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "-o yaml prints updated manifests and needs -f; use -o json or -o text against a cluster".to_owned(),
        ));
    }
    if args.output == OutputFormat::Diff && !offline {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "-o diff shows what --write changes in manifest files and needs -f; use -o json or -o text against a cluster".to_owned(),
        ));
    }
    if args.write && args.filenames.iter().any(|it| it.as_os_str() == "-") {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "--write edits files in place and cannot write back to standard input (-f -); pass the files with -f PATH, or use -o diff or -o yaml".to_owned(),
        ));
    }
    if args.write && args.output == OutputFormat::Yaml {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "--write edits the files in place; drop -o yaml (use -o diff, -o text or -o json)"
                .to_owned(),
        ));
    }
    if offline && args.dry_run == Some(DryRun::Server) {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "--dry-run=server needs a cluster, but -f previews offline; drop -f or use --dry-run=client".to_owned(),
        ));
    }
    let waves = waves(&cli.global).map_err(|reason| usage(ErrorKind::InvalidValue, reason))?;
    if offline && waves.iter().flatten().count() > 1 {
        return Err(usage(
            ErrorKind::ArgumentConflict,
            "-f previews manifest files offline and contacts no cluster, so several --context make no sense; drop -f or give one --context".to_owned(),
        ));
    }
    let source = if offline {
        Source::Manifests(args.filenames.clone())
    } else if waves.iter().flatten().count() > 1 {
        Source::Fleet(
            waves
                .into_iter()
                .map(|wave| {
                    let contexts = wave.into_iter().map(Some);
                    contexts.map(|it| one_of(&cli.global, it)).collect()
                })
                .collect(),
        )
    } else {
        Source::Cluster(one_of(&cli.global, waves.into_iter().flatten().next()))
    };
    let namespaces = match (args.all_namespaces, args.namespaces.is_empty()) {
        (true, _) => Namespaces::All,
        (false, false) => Namespaces::Listed(dedup(&args.namespaces)),
        (false, true) => Namespaces::Default,
    };
    let dry_run = match (args.dry_run, offline) {
        (Some(DryRun::None) | None, true) => Some(DryRun::Client),
        (Some(DryRun::None), false) => None,
        (other, _) => other,
    };
    Ok(Config {
        request: Request {
            images: args.images.clone(),
            classifier,
        },
        source,
        namespaces,
        dry_run,
        output: args.output,
        write: args.write,
        limits: Limits {
            timeout: args.timeout,
            fail_after: args.fail_after,
            max_restarts: args.max_restarts,
        },
        rollback: !args.no_rollback,
        refuse_managed: args.refuse_managed,
        verbose: cli.global.verbose,
        on_interrupt: args.on_interrupt,
        lock_timeout: (!args.no_lock).then_some(args.lock_timeout),
        cause,
        fleet_rollback: args.fleet_rollback,
    })
}

/// The one cluster a subcommand other than an update connects to, from the global flags; several
/// contexts are a usage error there.
pub fn cluster_args(global: &GlobalArgs) -> Result<ClusterArgs, clap::Error> {
    let usage = |message: String| Cli::command().error(ErrorKind::ArgumentConflict, message);
    let waves = waves(global).map_err(&usage)?;
    if waves.iter().flatten().count() > 1 {
        return Err(usage(
            "this command works on one cluster: give one --context (only an update takes a fleet)"
                .to_owned(),
        ));
    }
    Ok(one_of(global, waves.into_iter().flatten().next()))
}

/// Every cluster the global flags name (`kubectl update status` reads them all, in order): the
/// contexts of every `--context`, else the kubeconfig's current context.
pub fn all_clusters(global: &GlobalArgs) -> Result<Vec<ClusterArgs>, clap::Error> {
    let waves =
        waves(global).map_err(|reason| Cli::command().error(ErrorKind::InvalidValue, reason))?;
    let mut contexts: Vec<Option<String>> = waves.into_iter().flatten().map(Some).collect();
    if contexts.is_empty() {
        contexts.push(None);
    }
    Ok(contexts.into_iter().map(|it| one_of(global, it)).collect())
}

/// The arguments of one cluster: `context` (else the kubeconfig's current context).
fn one_of(global: &GlobalArgs, context: Option<String>) -> ClusterArgs {
    ClusterArgs {
        kubeconfigs: global.kubeconfig.clone(),
        context,
        request_timeout: global.request_timeout,
    }
}

/// The waves of `--context`: one per flag, each the flag's comma-separated contexts. An empty
/// wave or context (`--context ''`, `--context a,,b`) and a context given twice are errors.
pub fn waves(global: &GlobalArgs) -> Result<Vec<Vec<String>>, String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut waves = Vec::new();
    for (idx, flag) in global.context.iter().enumerate() {
        let wave: Vec<&str> = flag.split(',').map(str::trim).collect();
        if wave.iter().any(|it| it.is_empty()) {
            return Err(format!(
                "invalid value {flag:?} for --context (wave {}): an empty context; give NAME or NAME,NAME...",
                idx + 1
            ));
        }
        for context in &wave {
            if seen.contains(context) {
                return Err(format!(
                    "context {context:?} is given twice in --context; each cluster is updated once"
                ));
            }
            seen.push(context);
        }
        waves.push(wave.into_iter().map(str::to_owned).collect());
    }
    Ok(waves)
}

/// The limits of `kubectl update rollback`.
/// The rollback command's cause (`--cause`, else the CI run), checked like the update's.
pub fn rollback_cause(
    args: &RollbackArgs,
    env: &BTreeMap<String, String>,
) -> Result<Option<String>, clap::Error> {
    audit::resolve_cause(args.cause.as_deref(), env).map_err(|reason| {
        let mut command = Cli::command();
        command.build();
        match command.find_subcommand_mut("rollback") {
            Some(rollback) => rollback.error(ErrorKind::InvalidValue, reason),
            None => command.error(ErrorKind::InvalidValue, reason),
        }
    })
}

pub fn rollback_limits(args: &RollbackArgs) -> Limits {
    Limits {
        timeout: args.timeout,
        fail_after: args.fail_after,
        max_restarts: args.max_restarts,
    }
}

/// Namespaces are DNS-1123 labels.
fn check_namespace(namespace: &str) -> Result<(), &'static str> {
    let valid_chars = namespace
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_ends = namespace.starts_with(|c: char| c.is_ascii_alphanumeric())
        && namespace.ends_with(|c: char| c.is_ascii_alphanumeric());
    if namespace.is_empty() || namespace.len() > 63 || !valid_chars || !valid_ends {
        return Err(
            "a namespace is 1-63 lowercase letters, digits and `-`, starting and ending alphanumeric",
        );
    }
    Ok(())
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut res: Vec<String> = Vec::new();
    for item in items {
        if !res.contains(item) {
            res.push(item.clone());
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn resolve_args(args: &[&str]) -> Result<Config, String> {
        let cli =
            Cli::try_parse_from(std::iter::once("kubectl-update").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        resolve(&cli, &BTreeMap::new()).map_err(|e| e.to_string())
    }

    #[test]
    fn offline_is_always_a_client_dry_run() {
        let config = resolve_args(&["-i", "app:1", "-c", "stable", "-f", "x.yaml"]).unwrap();
        assert_eq!(config.dry_run, Some(DryRun::Client));
        assert_eq!(config.source, Source::Manifests(vec!["x.yaml".into()]));
    }

    #[test]
    fn conflicts_are_usage_errors() {
        let err = resolve_args(&["-i", "app:1", "-c", "s", "-o", "yaml"]).unwrap_err();
        assert!(
            err.contains("-o yaml prints updated manifests and needs -f"),
            "{err}"
        );
        let err =
            resolve_args(&["-i", "app:1", "-c", "s", "-f", "x", "--dry-run=server"]).unwrap_err();
        assert!(err.contains("--dry-run=server needs a cluster"), "{err}");
        let err =
            resolve_args(&["-i", "app:1", "-i", "docker.io/library/app:2", "-c", "s"]).unwrap_err();
        assert!(
            err.contains("name the same repository docker.io/library/app"),
            "{err}"
        );
        let err = resolve_args(&["-i", "app:1", "-c", "s", "-n", "Bad_NS"]).unwrap_err();
        assert!(
            err.contains("invalid value \"Bad_NS\" for --namespace"),
            "{err}"
        );
    }

    #[test]
    fn the_cause_is_one_line() {
        let err = resolve_args(&["-i", "app:1", "-c", "s", "--cause", "a\nb"]).unwrap_err();
        assert!(
            err.contains("invalid value for --cause: a cause is one line"),
            "{err}"
        );
        let config = resolve_args(&["-i", "app:1", "-c", "s", "--cause", "hotfix"]).unwrap();
        assert_eq!(config.cause.as_deref(), Some("hotfix"));
    }

    #[test]
    fn each_context_flag_is_a_wave() {
        let args = [
            "-i",
            "app:1",
            "-c",
            "s",
            "--context",
            "a,b",
            "--context",
            "c",
        ];
        let Source::Fleet(waves) = resolve_args(&args).unwrap().source else {
            panic!("a fleet");
        };
        let names: Vec<Vec<&str>> = waves
            .iter()
            .map(|wave| wave.iter().filter_map(|it| it.context.as_deref()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b"], vec!["c"]]);
        let one = resolve_args(&["-i", "app:1", "-c", "s", "--context", "a"]).unwrap();
        assert!(matches!(
            one.source,
            Source::Cluster(ClusterArgs {
                context: Some(_),
                ..
            })
        ));
        for bad in ["", "a,,b", "a,"] {
            let err = resolve_args(&["-i", "app:1", "-c", "s", "--context", bad]).unwrap_err();
            assert!(err.contains("an empty context"), "{err}");
        }
        let err = resolve_args(&["-i", "a:1", "-c", "s", "--context", "a,b", "--context", "a"])
            .unwrap_err();
        assert!(err.contains("context \"a\" is given twice"), "{err}");
        let err =
            resolve_args(&["-i", "a:1", "-c", "s", "-f", "x", "--context", "a,b"]).unwrap_err();
        assert!(err.contains("several --context make no sense"), "{err}");
    }

    #[test]
    fn namespaces_are_deduplicated() {
        let config = resolve_args(&["-i", "app:1", "-c", "s", "-n", "a,b,a"]).unwrap();
        assert_eq!(
            config.namespaces,
            Namespaces::Listed(vec!["a".into(), "b".into()])
        );
    }
}
