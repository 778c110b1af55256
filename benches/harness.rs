//! `cargo bench --bench harness [-- --quick] [--repetitions N] [--tool PATH] [--kubectl PATH]
//! [--out PATH] [--only 4,5]`: runs the benchmarks (see `harness/mod.rs`; `--only` runs just those
//! measurements, for a partial document while working) and writes BENCHMARKS.md (by default at
//! the repository root). `scripts/bench.sh` builds the release binary and runs this.

#[path = "harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut quick = false;
    let mut repetitions = None;
    let mut tool = root.join("target/release/kubectl-update");
    let mut kubectl = None;
    let mut out = root.join("BENCHMARKS.md");
    let mut only = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => quick = true,
            "--repetitions" => repetitions = Some(value()?.parse()?),
            "--tool" => tool = PathBuf::from(value()?),
            "--kubectl" => kubectl = Some(PathBuf::from(value()?)),
            "--out" => out = PathBuf::from(value()?),
            "--only" => {
                for number in value()?.split(',') {
                    only.push(number.trim().parse().with_context(|| {
                        format!("--only takes measurement numbers such as 4,5, not {number:?}")
                    })?);
                }
            }
            // cargo passes `--bench` to every bench target.
            "--bench" => (),
            other => bail!("unknown argument {other}"),
        }
    }
    if !tool.exists() {
        bail!(
            "{} does not exist: build it with `cargo build --release --bin kubectl-update`",
            tool.display()
        );
    }
    let kubectl = match kubectl {
        Some(it) => it,
        None => harness::find_on_path("kubectl").context("kubectl is not on PATH")?,
    };
    let options = harness::Options {
        quick,
        repetitions: repetitions.unwrap_or(if quick { 1 } else { 5 }),
        tool,
        kubectl,
        only,
        command: std::env::var("BENCH_COMMAND").unwrap_or_else(|_| {
            format!(
                "cargo bench --bench harness -- {}",
                std::env::args()
                    .skip(1)
                    .filter(|it| it != "--bench")
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }),
    };
    let document = harness::run(&options)?;
    std::fs::write(&out, document.render())
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench: wrote {}", out.display());
    Ok(())
}
