//! The access log: one tab-separated line per request — method, path and query, status, user,
//! milliseconds.

use std::{fs::File, io::Write, path::Path, sync::Mutex};

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
        millis: u128,
    ) {
        let line = format_line(method, path_and_query, status, user, millis);
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
) -> String {
    format!("{method}\t{path_and_query}\t{status}\t{user}\t{millis}\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn tab_separated() {
        assert_eq!(
            super::format_line("GET", "/api?x=1", 200, "admin", 3),
            "GET\t/api?x=1\t200\tadmin\t3\n"
        );
    }
}
