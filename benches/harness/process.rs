//! Running one child process and measuring it: wall time with `Instant`, the wall-clock moment it
//! exited, and (when GNU time is installed at `/usr/bin/time`) its CPU time and peak RSS, which GNU
//! time reads from `wait4`'s rusage of exactly that child.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};

use super::stats::{Series, Unit, mib};

const GNU_TIME: &str = "/usr/bin/time";

/// A command to run: program, arguments and extra environment.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Cmd {
    pub fn new(program: impl AsRef<Path>) -> Cmd {
        Cmd {
            program: program.as_ref().to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Cmd {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// The command line as a shell would show it (for error messages).
    pub fn display(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What one run of a child cost.
#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    /// Wall-clock time at which `wait` returned.
    pub exited_at: SystemTime,
    pub code: Option<i32>,
    /// User + system CPU time, when GNU time is available.
    pub cpu: Option<Duration>,
    /// Peak resident set size in bytes, when GNU time is available.
    pub max_rss: Option<u64>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// True when GNU time can report CPU time and peak RSS.
pub fn rusage_available() -> bool {
    Path::new(GNU_TIME).exists()
}

/// Runs the command to completion. With `rusage`, it runs under GNU time (which adds about a
/// millisecond of start-up); without, it is spawned directly.
pub fn run(cmd: &Cmd, rusage: bool) -> anyhow::Result<Measured> {
    let stats = tempfile::NamedTempFile::new()?;
    let timed = rusage && rusage_available();
    let mut command = if timed {
        let mut it = Command::new(GNU_TIME);
        it.arg("-f")
            .arg("%e %U %S %M")
            .arg("-o")
            .arg(stats.path())
            .arg(&cmd.program)
            .args(&cmd.args);
        it
    } else {
        let mut it = Command::new(&cmd.program);
        it.args(&cmd.args);
        it
    };
    for (key, value) in &cmd.env {
        command.env(key, value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("running {}", cmd.display()))?;
    let wall = started.elapsed();
    let exited_at = SystemTime::now();
    let (cpu, max_rss) = if timed {
        parse_gnu_time(&std::fs::read_to_string(stats.path())?)?
    } else {
        (None, None)
    };
    Ok(Measured {
        wall,
        exited_at,
        code: output.status.code(),
        cpu,
        max_rss,
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Runs the command and fails unless it exits with `expected`.
pub fn run_expecting(cmd: &Cmd, rusage: bool, expected: i32) -> anyhow::Result<Measured> {
    let measured = run(cmd, rusage)?;
    if measured.code != Some(expected) {
        bail!(
            "{} exited {:?}, expected {expected}: {}",
            cmd.display(),
            measured.code,
            measured.stderr.trim()
        );
    }
    Ok(measured)
}

/// Reads the `%e %U %S %M` line GNU time writes (the last line: a failing child adds a
/// "Command exited with non-zero status" line before it).
fn parse_gnu_time(text: &str) -> anyhow::Result<(Option<Duration>, Option<u64>)> {
    let line = text
        .lines()
        .rev()
        .find(|it| !it.trim().is_empty())
        .context("GNU time wrote nothing")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_, user, system, rss_kb] = fields[..] else {
        bail!("unexpected GNU time output {line:?}");
    };
    let user: f64 = user.parse()?;
    let system: f64 = system.parse()?;
    let rss_kb: u64 = rss_kb.parse()?;
    Ok((
        Some(Duration::from_secs_f64(user + system)),
        Some(rss_kb * 1024),
    ))
}

/// Several measured runs as one: wall times and CPU add up, the peak RSS is the largest.
pub fn combine(runs: &[Measured]) -> Measured {
    let sum = |f: fn(&Measured) -> Option<Duration>| -> Option<Duration> {
        runs.iter().map(f).sum::<Option<Duration>>()
    };
    Measured {
        wall: runs.iter().map(|it| it.wall).sum(),
        exited_at: runs
            .iter()
            .map(|it| it.exited_at)
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH),
        code: runs
            .iter()
            .map(|it| it.code)
            .find(|it| *it != Some(0))
            .unwrap_or(Some(0)),
        cpu: sum(|it| it.cpu),
        max_rss: runs.iter().map(|it| it.max_rss).max().flatten(),
        stdout: Vec::new(),
        stderr: String::new(),
    }
}

/// The figures of one command over the repetitions: wall time, peak RSS, CPU time and the
/// requests it made.
#[derive(Debug, Clone)]
pub struct Tally {
    pub wall: Series,
    pub rss: Series,
    pub cpu: Series,
    pub requests: Series,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            wall: Series::new(Unit::Seconds),
            rss: Series::new(Unit::MiB),
            cpu: Series::new(Unit::Seconds),
            requests: Series::new(Unit::Count),
        }
    }
}

impl Tally {
    pub fn push(&mut self, run: &Measured, requests: usize) {
        self.wall.push(run.wall.as_secs_f64());
        if let Some(rss) = run.max_rss {
            self.rss.push(mib(rss));
        }
        if let Some(cpu) = run.cpu {
            self.cpu.push(cpu.as_secs_f64());
        }
        self.requests.push(requests as f64);
    }
}
