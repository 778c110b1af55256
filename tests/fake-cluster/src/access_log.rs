//! The access log: one tab-separated line per request — method, path and query, status, user,
//! milliseconds taken, then when the request started and ended (microseconds since the Unix epoch,
//! read from the clock as the server saw them, so overlaps between requests are exact). It only
//! records: never changes a response or fails a request.

use std::{
    fs::File,
    io::Write,
    path::Path,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

pub struct AccessLog {
    file: Mutex<File>,
}

impl AccessLog {
    pub fn create(path: &Path) -> std::io::Result<AccessLog> {
        Ok(AccessLog {
            file: Mutex::new(File::create(path)?),
        })
    }

    pub fn record(
        &self,
        method: &str,
        path_and_query: &str,
        status: u16,
        user: &str,
        took: Duration,
    ) {
        let ended = SystemTime::now();
        let started = ended.checked_sub(took).unwrap_or(ended);
        let micros = |at: SystemTime| {
            at.duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros()
        };
        let line = format_line(
            method,
            path_and_query,
            status,
            user,
            took.as_millis(),
            (micros(started), micros(ended)),
        );
        if let Ok(mut f) = self.file.lock() {
            let _ = f.write_all(line.as_bytes());
            let _ = f.flush();
        }
    }
}

pub fn format_line(
    method: &str,
    path_and_query: &str,
    status: u16,
    user: &str,
    millis: u128,
    (started, ended): (u128, u128),
) -> String {
    format!("{method}\t{path_and_query}\t{status}\t{user}\t{millis}\t{started}\t{ended}\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tab_separated() {
        assert_eq!(
            super::format_line("GET", "/api?x=1", 200, "admin", 3, (10, 3010)),
            "GET\t/api?x=1\t200\tadmin\t3\t10\t3010\n"
        );
    }
}
