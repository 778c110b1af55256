//! The command line as clap sees it: the clap types (`rbac` holds the least-privilege
//! subcommands' flags) and, in `complete`, the completion engine. The types do no I/O and decide
//! nothing; `config` turns them into a `Config`. Only completion reads the cluster.

pub mod complete;
pub mod parse;
pub mod rbac;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli::rbac::{KubeconfigArgs, RbacArgs};
use crate::plan::annotations::Classifier;
use crate::plan::image::TargetImage;

const EXIT_CODES: &str = "\
Exit codes:
  0    success (updated, unchanged, or planned)
  1    error before any change: bad input, nothing matched, cluster unreachable, unauthorized, forbidden,
       a workload managed by another owner (--refuse-managed)
  2    usage: unknown flag, missing or malformed flag value (image, classifier, duration)
  3    a migration failed; no workload was changed
  4    a rollout failed; changed workloads were rolled back unless --no-rollback
  5    a rollback failed or is incomplete (a workload, or a rollback migration)
  130  interrupted
A fleet (several --context) exits with the worst code of its clusters.";

/// `--version`: the crate version and the git commit it was built from (`unknown` outside git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KUBECTL_UPDATE_GIT_COMMIT"),
    ")"
);

const EXAMPLES: &str = "\
Examples:
  # Preview an update of every workload annotated `kubectl-update.io/classifier: stable`
  kubectl update --image registry.example.com/app:1.2.3 --classifier stable --dry-run

  # Preview offline from manifest files (no cluster needed) and print the updated manifests
  kubectl update -i registry.example.com/app:1.2.3 -c stable -f k8s/ -o yaml

  # Change the image lines of manifests kept in Git, in place, and show the diff
  kubectl update -i registry.example.com/app:1.2.3 -c stable -f k8s/ --write

  # Update two images at once in two namespaces
  kubectl update -i app:1.2.3 -i worker:1.2.3 -c stable -n shop,billing";

/// Ship a new container image to the workloads that opted in, with a least-privilege token.
///
/// Finds Deployments, StatefulSets, DaemonSets and CronJobs whose `kubectl-update.io/classifier`
/// (or legacy `xcnt.io/update-classifier`) annotation lists the classifier and whose containers use
/// the image's repository; runs annotated Job templates as migrations first; patches only image
/// fields; watches the rollouts and rolls back on failure (then runs the Job templates annotated
/// `kubectl-update.io/migration: rollback`).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl update",
    bin_name = "kubectl update",
    version = VERSION,
    subcommand_negates_reqs = true,
    after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"),
)]
pub struct Cli {
    #[command(flatten)]
    pub update: UpdateArgs,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The update itself: what to ship, to what, and how carefully.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same
    /// repository get it, whatever their current tag or digest)
    #[arg(
        short,
        long = "image",
        value_name = "REF",
        env = "KUBECTL_UPDATE_IMAGE",
        value_delimiter = ',',
        required = true
    )]
    pub images: Vec<TargetImage>,

    /// Update classifier: only workloads whose classifier annotation lists it are updated
    #[arg(
        short,
        long,
        visible_alias = "update-classifier",
        value_name = "NAME",
        env = "KUBECTL_UPDATE_CLASSIFIER",
        required = true
    )]
    pub classifier: Option<Classifier>,

    /// Namespaces to search (repeatable, or comma-separated); default: the context's namespace
    #[arg(
        short,
        long = "namespace",
        value_name = "NS",
        value_delimiter = ',',
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,

    /// Search every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Read manifests from files, directories (recursively) or `-` for stdin instead of the
    /// cluster: an offline preview that never contacts a cluster
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<PathBuf>,

    /// Preview without writing: `client` plans from what is read; `server` also sends every write
    /// with dryRun=All
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: Option<DryRun>,

    /// Give up on the whole update after this long (e.g. 90s, 10m, 1h30m); a rollback after a
    /// failure gets a grace of half of it, at most 30s, so the run ends by --timeout plus that
    /// grace
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Declare a rollout failed once a new pod has been stuck (pull error, crash loop) this long;
    /// 0 fails at once
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub fail_after: Duration,

    /// Declare a rollout failed once a new pod has restarted this many times
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_restarts: u32,

    /// On a failed rollout, leave the workloads as they are instead of rolling back
    #[arg(long)]
    pub no_rollback: bool,

    /// In a fleet (several --context): when a wave fails, also roll back every wave already done,
    /// newest first (the failed wave itself is always rolled back)
    #[arg(long, conflicts_with = "no_rollback")]
    pub fleet_rollback: bool,

    /// Exit 1 before any change when a workload to update is managed by another owner (Argo CD,
    /// Flux, Helm, or another server-side apply manager of its image) that would revert the image;
    /// without it, such workloads are only warned about
    #[arg(long)]
    pub refuse_managed: bool,

    /// What an interrupt (SIGINT, SIGTERM) during migrations does to the running migration copies:
    /// `keep` lets them finish (a re-run reuses a completed copy), `delete` stops them and removes
    /// their pods. No workload is touched either way; during the rollout an interrupt rolls back
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnInterrupt::Keep)]
    pub on_interrupt: OnInterrupt,

    /// How long to wait for another run holding the lock of this classifier in a namespace (a
    /// Lease `kubectl-update-<classifier>`)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, conflicts_with = "no_lock")]
    pub lock_timeout: Duration,

    /// Do not take the per-namespace lock (a Lease) that keeps concurrent runs for the same
    /// classifier apart
    #[arg(long)]
    pub no_lock: bool,

    /// Why this change is made, recorded in kubernetes.io/change-cause and in the Events on each
    /// changed workload (one line, at most 1024 bytes); default: the CI run's URL (GitHub Actions,
    /// GitLab CI, Buildkite, CircleCI, Jenkins, Azure Pipelines), else the images set
    #[arg(long, value_name = "TEXT")]
    pub cause: Option<String>,

    /// Output format: text (a table), json (a report object), yaml (the updated manifests; with
    /// -f only) or diff (what --write would change in the files; with -f only)
    #[arg(short, long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// With -f: edit the manifest files in place, changing only the image values (comments,
    /// quoting and layout stay); prints a unified diff, or with -o json the report
    #[arg(long, requires = "filenames")]
    pub write: bool,
}

/// Flags every subcommand shares: which cluster, and how to talk.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the
    /// files are merged as kubectl merges them, the first file wins for a name
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Vec<PathBuf>,

    /// The kubeconfig context to use. An update takes a fleet: each --context is one wave, its
    /// comma-separated contexts are updated in parallel, and the waves run in order
    #[arg(long, value_name = "NAME[,NAME...]", global = true)]
    pub context: Vec<String>,

    /// Time limit for each API request (e.g. 30s); 0 means no limit
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub request_timeout: Option<Duration>,

    /// When to colour output; NO_COLOR in the environment means never under auto
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Say more (repeat for more detail)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`
    Man,
    /// Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per
    /// namespace, and the admission policies that let it change nothing but images (apply it with
    /// `kubectl apply -f -`)
    Rbac(RbacArgs),
    /// Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI
    /// secret
    Kubeconfig(KubeconfigArgs),
    /// Restore the images recorded before the last update of a classifier's workloads
    Rollback(RollbackArgs),
    /// Show each opted-in workload of the classifiers: its images, revision and rollout, the last
    /// change, the previous images recorded and who holds the lock (reads only)
    Status(StatusArgs),
}

/// `kubectl update status`: what the classifiers' workloads run now. Reads only.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Classifiers whose workloads to show (repeatable, or comma-separated)
    #[arg(
        short,
        long = "classifier",
        visible_alias = "update-classifier",
        value_name = "NAME",
        env = "KUBECTL_UPDATE_CLASSIFIER",
        value_delimiter = ',',
        required = true
    )]
    pub classifiers: Vec<Classifier>,

    /// Namespaces to search (repeatable, or comma-separated); default: the context's namespace
    #[arg(
        short,
        long = "namespace",
        value_name = "NS",
        value_delimiter = ',',
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,

    /// Search every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Output format: text (a table) or json
    #[arg(short, long, value_enum, value_name = "FORMAT", default_value_t = ReadFormat::Text)]
    pub output: ReadFormat,
}

/// The output formats of a command that only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadFormat {
    Text,
    Json,
}

/// `kubectl update rollback`: undo the last update of a classifier's workloads.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Update classifier whose workloads to roll back
    #[arg(
        short,
        long,
        visible_alias = "update-classifier",
        value_name = "NAME",
        env = "KUBECTL_UPDATE_CLASSIFIER"
    )]
    pub classifier: Classifier,

    /// Namespaces to search (repeatable, or comma-separated); default: the context's namespace
    #[arg(
        short,
        long = "namespace",
        value_name = "NS",
        value_delimiter = ',',
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,

    /// Search every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Give up after this long (e.g. 90s, 10m)
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Declare the rollback's rollout failed once a pod has been stuck this long
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub fail_after: Duration,

    /// Declare the rollback's rollout failed once a pod has restarted this many times
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_restarts: u32,

    /// Show what would be restored without writing
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: Option<DryRun>,

    /// Why the rollback is made, recorded in kubernetes.io/change-cause and in the RolledBack
    /// Event on each workload (one line, at most 1024 bytes); default: the CI run's URL
    #[arg(long, value_name = "TEXT")]
    pub cause: Option<String>,

    /// Output format: text or json
    #[arg(short, long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Do not preview: the same as leaving --dry-run out
    None,
    /// Plan from what is read; write nothing
    Client,
    /// Plan, then send every write with dryRun=All so the server validates it
    Server,
}

/// What an interrupt does to migration copies that are still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnInterrupt {
    /// Let them finish: stopping a migration half-way is riskier than letting it complete, and a
    /// re-run of the same image reuses the completed copy
    Keep,
    /// Delete them and their pods
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
    /// A unified diff of the manifest files, as `--write` would change them (with -f only).
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Durations like `90s`, `10m`, `1h30m`; a bare `0` means zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let hint = "use a number with a unit: s, m or h, e.g. 10s, 10m, 10h or 1h30m";
    humantime::parse_duration(text).map_err(|_| {
        if !text.is_empty() && text.bytes().all(|it| it.is_ascii_digit()) {
            format!("`{text}` has no unit; did you mean `{text}s`? ({hint})")
        } else {
            format!("`{text}` is not a duration ({hint})")
        }
    })
}

#[cfg(test)]
mod tests;
