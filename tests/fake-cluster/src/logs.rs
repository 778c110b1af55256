//! `GET .../pods/NAME/log`: the lines the simulated kubelet appended, with `container`,
//! `tailLines`, `limitBytes`, `timestamps`, `sinceSeconds`, `previous` and `follow` (streams until
//! the container terminates or the pod goes away). Never produces log lines; the simulated kubelet
//! appends them.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, header};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{
    api::Context,
    errors::ApiError,
    resources,
    server::{Body, full},
    storage::Storage,
    watch::channel_body,
};

fn container_status<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .find_map(|list| {
            pod.pointer(&format!("/status/{list}"))
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
                })
        })
}

fn terminated(pod: &Value, container: &str) -> bool {
    container_status(pod, container).is_some_and(|s| s.pointer("/state/terminated").is_some())
}

fn container_names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn format_lines(lines: &[(String, String)], timestamps: bool) -> String {
    lines
        .iter()
        .map(|(ts, l)| {
            if timestamps {
                format!("{ts} {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

pub async fn serve(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let (ns, pod_name) = (ctx.req.namespace.clone(), ctx.req.name.clone());
    let q = ctx.query;
    let pods = resources::by_plural("pods").expect("pods");
    let timestamps = q.flag("timestamps");
    let follow = q.flag("follow");
    let (container, initial, start_index) = {
        let storage = ctx.state.storage();
        let pod = storage
            .get(pods, &ns, &pod_name)
            .ok_or_else(|| ApiError::not_found(pods, &pod_name))?;
        let mut names = container_names(pod, "containers");
        let init = container_names(pod, "initContainers");
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => {
                if !names.iter().any(|n| n == c) && !init.iter().any(|n| n == c) {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {pod_name}"
                    )));
                }
                c.to_string()
            }
            None if names.len() == 1 => names.remove(0),
            None => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    names.join(" ")
                )));
            }
        };
        let lines = storage.log_lines(&ns, &pod_name, &container);
        let status = container_status(pod, &container);
        if q.flag("previous")
            && status
                .and_then(|s| s.get("restartCount"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                == 0
        {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        }
        if lines.is_empty()
            && let Some(reason) = status
                .and_then(|s| s.pointer("/state/waiting/reason"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| status.is_none().then(|| "ContainerCreating".to_string()))
        {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
            )));
        }
        let mut selected: Vec<(String, String)> = lines.to_vec();
        if let Some(secs) = q.get("sinceSeconds").and_then(|s| s.parse::<i64>().ok()) {
            let cutoff = jiff::Timestamp::now().as_second() - secs;
            selected.retain(|(ts, _)| {
                ts.parse::<jiff::Timestamp>()
                    .map(|t| t.as_second() >= cutoff)
                    .unwrap_or(true)
            });
        }
        if let Some(n) = q.get("tailLines").and_then(|s| s.parse::<usize>().ok()) {
            let skip = selected.len().saturating_sub(n);
            selected.drain(..skip);
        }
        let mut text = format_lines(&selected, timestamps);
        if let Some(limit) = q.get("limitBytes").and_then(|s| s.parse::<usize>().ok())
            && text.len() > limit
        {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        (container, text, lines.len())
    };
    let builder = Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "text/plain");
    if !follow {
        return Ok(builder.body(full(initial)).expect("valid response"));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let state = ctx.state.clone();
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        if !initial.is_empty() && tx.send(Bytes::from(initial)).await.is_err() {
            return;
        }
        let mut index = start_index;
        loop {
            let (chunk, done) = {
                let storage: std::sync::MutexGuard<'_, Storage> = state.storage();
                let lines = storage.log_lines(&ns, &pod_name, &container);
                let chunk = format_lines(lines.get(index..).unwrap_or(&[]), timestamps);
                index = lines.len();
                let done = match storage.get(pods, &ns, &pod_name) {
                    None => true,
                    Some(pod) => terminated(pod, &container),
                };
                (chunk, done)
            };
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if done {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(builder.body(channel_body(rx)).expect("valid response"))
}
