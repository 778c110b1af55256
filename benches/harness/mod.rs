//! The benchmark harness behind `cargo bench --bench harness` (and `scripts/bench.sh`): runs each
//! measurement side by side with its comparison against the simulated cluster, repeats it, and
//! renders BENCHMARKS.md. `--quick` (one repetition, tiny sizes) only checks that it all works;
//! the integration test `tests/it/bench.rs` runs that mode.

pub mod access;
pub mod detection;
pub mod discovery;
pub mod load;
pub mod many;
pub mod offline;
pub mod process;
pub mod real;
pub mod report;
pub mod sim;
pub mod stats;
pub mod watches;

use std::path::{Path, PathBuf};
use std::time::Instant;

use self::process::Cmd;
use self::report::{Document, Section};
use self::sim::Sim;

/// What to run, and with which binaries.
#[derive(Debug, Clone)]
pub struct Options {
    pub quick: bool,
    pub repetitions: usize,
    /// The kubectl-update binary under test.
    pub tool: PathBuf,
    pub kubectl: PathBuf,
    /// The command line recorded in the document.
    pub command: String,
    /// Only these measurements (their numbers, 1-based); empty means all.
    pub only: Vec<usize>,
}

/// Shared by every measurement.
pub struct Ctx {
    pub quick: bool,
    pub reps: usize,
    pub tool: PathBuf,
    pub kubectl: PathBuf,
    pub work: tempfile::TempDir,
}

impl Ctx {
    /// Sizes: `full` normally, `quick` in quick mode.
    pub fn size<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// kubectl-update as the `ci` user of `sim`.
    pub fn tool(&self, sim: &Sim) -> Cmd {
        Cmd::new(&self.tool)
            .args(["--kubeconfig".to_owned(), sim.kubeconfig_str()])
            .env("NO_COLOR", "1")
    }

    /// kubectl as the `ci` user of `sim`, with a discovery cache directory of its own.
    pub fn kubectl(&self, sim: &Sim, cache: &Path) -> Cmd {
        Cmd::new(&self.kubectl)
            .args(["--kubeconfig".to_owned(), sim.kubeconfig_str()])
            .env("KUBECACHEDIR", cache.display().to_string())
    }

    /// A new, empty directory under the harness's scratch space.
    pub fn scratch(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.work.path().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(path)
    }
}

type Measure = fn(&Ctx) -> anyhow::Result<Section>;

/// Runs every measurement and returns the document (sections of failed measurements say why).
pub fn run(options: &Options) -> anyhow::Result<Document> {
    let started = Instant::now();
    let ctx = Ctx {
        quick: options.quick,
        reps: options.repetitions.max(1),
        tool: options.tool.clone(),
        kubectl: options.kubectl.clone(),
        work: tempfile::tempdir()?,
    };
    let tool_version = first_line(&Cmd::new(&ctx.tool).args(["--version"]));
    let kubectl_version = first_line(&Cmd::new(&ctx.kubectl).args(["version", "--client"]));
    let measurements: [(&str, Measure); 8] = [
        ("1. Completion detection", detection::completion),
        ("2. Failure detection", detection::failure),
        ("3. API load", load::measure),
        ("4. Discovery scale", discovery::measure),
        ("5. Offline preview", offline::measure),
        ("6. Many at once", many::measure),
        ("7. Watches at fleet scale", watches::measure),
        ("8. Real control plane", real::measure),
    ];
    let mut sections = Vec::new();
    for (number, (title, measure)) in (1..).zip(measurements) {
        if !options.only.is_empty() && !options.only.contains(&number) {
            continue;
        }
        eprintln!("bench: {title}");
        let section = match measure(&ctx) {
            Ok(mut section) => {
                section.title = title.to_owned();
                section
            }
            Err(err) => {
                let mut section = Section::new(title);
                section.say(&format!("**The measurement failed**: {err:#}"));
                section
            }
        };
        sections.push(section);
    }
    Ok(Document {
        machine: report::machine(&kubectl_version, &tool_version),
        command: options.command.clone(),
        repetitions: ctx.reps,
        quick: ctx.quick,
        total_seconds: started.elapsed().as_secs_f64(),
        sections,
    })
}

fn first_line(cmd: &Cmd) -> String {
    process::run(cmd, false)
        .ok()
        .and_then(|it| {
            String::from_utf8_lossy(&it.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The first `name` in a directory of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|it| it.is_file())
}
