//! Container log lines kept next to the objects: appended by the simulated kubelet, read by the
//! `pods/log` handler. Never reads or writes API objects.

use crate::controllers::Logs;

use super::Storage;

impl Storage {
    /// Lines of a container's log, with their RFC 3339 timestamps.
    pub fn log_lines(&self, namespace: &str, pod: &str, container: &str) -> &[(String, String)] {
        self.logs
            .get(&(
                namespace.to_string(),
                pod.to_string(),
                container.to_string(),
            ))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

impl Logs for Storage {
    fn append_log(&mut self, namespace: &str, pod: &str, container: &str, line: &str) {
        let ts = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            .to_string();
        self.logs
            .entry((
                namespace.to_string(),
                pod.to_string(),
                container.to_string(),
            ))
            .or_default()
            .push((ts, line.to_string()));
    }
}
