//! The simulator's access log, read while it is written (polled every 2 ms). Each line carries the
//! moments the server started and ended the request (microseconds, the server's own clock, the
//! same machine's as the harness's), so concurrency is computed from exact overlaps, not from when
//! the harness happened to see a line. Counting and concurrency are computed from these entries.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// One request.
#[derive(Debug, Clone)]
pub struct Entry {
    pub method: String,
    pub path: String,
    pub user: String,
    /// When the server started the request.
    pub started: SystemTime,
    /// When the server ended it (wrote its log line).
    pub ended: SystemTime,
}

impl Entry {
    pub fn is_watch(&self) -> bool {
        self.path.contains("watch=true") || self.path.contains("/watch/")
    }

    /// When the server started the request.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// When the server ended the request.
    pub fn ended(&self) -> SystemTime {
        self.ended
    }
}

/// Follows an access log file on a thread of its own until dropped.
pub struct Tail {
    entries: Arc<Mutex<Vec<Entry>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tail {
    pub fn follow(path: &Path) -> Tail {
        let entries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (entries, stop, path) = (entries.clone(), stop.clone(), path.to_path_buf());
            std::thread::spawn(move || follow(&path, &entries, &stop))
        };
        Tail {
            entries,
            stop,
            thread: Some(thread),
        }
    }

    /// How many entries there are so far: a mark to slice from.
    pub fn mark(&self) -> usize {
        self.lock().len()
    }

    /// The entries from `mark` on, after letting the poller catch up.
    pub fn since(&self, mark: usize) -> Vec<Entry> {
        std::thread::sleep(Duration::from_millis(20));
        self.lock()[mark..].to_vec()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn follow(path: &PathBuf, entries: &Mutex<Vec<Entry>>, stop: &AtomicBool) {
    let mut offset = 0u64;
    let mut partial = String::new();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut file) = std::fs::File::open(path)
            && file.seek(SeekFrom::Start(offset)).is_ok()
        {
            let mut chunk = String::new();
            if let Ok(read) = file.read_to_string(&mut chunk) {
                offset += read as u64;
                partial.push_str(&chunk);
                while let Some(end) = partial.find('\n') {
                    let line: String = partial.drain(..=end).collect();
                    if let Some(entry) = parse(line.trim_end()) {
                        entries
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(entry);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn parse(line: &str) -> Option<Entry> {
    let mut fields = line.split('\t');
    let method = fields.next()?.to_owned();
    let path = fields.next()?.to_owned();
    let _status = fields.next()?;
    let user = fields.next()?.to_owned();
    let _millis = fields.next()?;
    let mut moment = || -> Option<SystemTime> {
        let micros: u64 = fields.next()?.parse().ok()?;
        Some(SystemTime::UNIX_EPOCH + Duration::from_micros(micros))
    };
    let started = moment()?;
    let ended = moment()?;
    Some(Entry {
        method,
        path,
        user,
        started,
        ended,
    })
}

/// Requests by kind, for the API-load tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub total: usize,
    pub discovery: usize,
    pub reads: usize,
    pub watches: usize,
    /// Access reviews (`POST …reviews`): the tool's preflight and identity check.
    pub reviews: usize,
    pub writes: usize,
}

pub fn count<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Counts {
    let mut counts = Counts::default();
    for entry in entries {
        counts.total += 1;
        let resource = entry.path.contains("/namespaces/")
            || entry.path.starts_with("/apis/apps/v1/")
            || entry.path.starts_with("/apis/batch/v1/")
            || entry.path.contains("reviews");
        if !resource {
            counts.discovery += 1;
        } else if entry.path.contains("reviews") {
            counts.reviews += 1;
        } else if entry.is_watch() {
            counts.watches += 1;
        } else if entry.method == "GET" {
            counts.reads += 1;
        } else {
            counts.writes += 1;
        }
    }
    counts
}

/// The most requests in flight at once among `entries` (watches left out: they stay open).
pub fn max_in_flight(entries: &[Entry]) -> usize {
    let mut edges: Vec<(SystemTime, i32)> = entries
        .iter()
        .filter(|it| !it.is_watch())
        .flat_map(|it| [(it.started(), 1), (it.ended(), -1)])
        .collect();
    // Ends sort before starts at the same instant.
    edges.sort();
    let mut current = 0i32;
    let mut peak = 0i32;
    for (_, delta) in edges {
        current += delta;
        peak = peak.max(current);
    }
    peak.max(0) as usize
}

/// The most watches open at once among `entries`: a watch is open from its start until its log
/// line appears (when it ends, at the latest when the client exits).
pub fn max_watches_open(entries: &[Entry]) -> usize {
    let mut edges: Vec<(SystemTime, i32)> = entries
        .iter()
        .filter(|it| it.is_watch())
        .flat_map(|it| [(it.started(), 1), (it.ended(), -1)])
        .collect();
    edges.sort();
    let mut current = 0i32;
    let mut peak = 0i32;
    for (_, delta) in edges {
        current += delta;
        peak = peak.max(current);
    }
    peak.max(0) as usize
}
