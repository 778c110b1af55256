//! What an image and command make a container do (`Behaviour`), and image references as a runtime
//! resolves them. Never looks at time or state.

use serde_json::Value;

use super::{CRASH_RUN, READY_DELAY};
use crate::controllers::script::{self, Run};
use crate::controllers::util::{At, str_at};

/// What an image and command make a container do.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// The image cannot be pulled; the message is the container's waiting message.
    PullFails(String),
    /// Runs forever; Ready after the delay (`None`: never Ready).
    Serve(Option<f64>),
    /// Runs a script, Ready while running after the delay. One `Run` per attempt (restart in the
    /// same pod); attempts past the last repeat it.
    Script(Vec<Run>, Option<f64>),
}

impl Behaviour {
    /// The script's run on the given attempt (0 for the first start).
    pub fn run(&self, attempt: i64) -> Option<&Run> {
        match self {
            Behaviour::Script(runs, _) => runs
                .get(usize::try_from(attempt).unwrap_or(0))
                .or(runs.last()),
            Behaviour::PullFails(_) | Behaviour::Serve(_) => None,
        }
    }
}

/// The behaviour of one container spec.
pub fn behaviour(container: &Value, init: bool) -> Behaviour {
    let image = str_at(container, "/image").unwrap_or("");
    let reference = ImageRef::parse(image);
    if reference.host.ends_with(".invalid") {
        let message = format!(
            "rpc error: code = Unknown desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": failed to do request: Head \"https://{host}/v2/{path}/manifests/{tag}\": dial tcp: lookup {host}: no such host",
            full = reference.full(),
            host = reference.host,
            path = reference.path,
            tag = reference.tag,
        );
        return Behaviour::PullFails(message);
    }
    if reference.tag.starts_with("missing-") {
        let message = format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found",
            full = reference.full()
        );
        return Behaviour::PullFails(message);
    }
    let ready = if reference.tag.starts_with("unready-") {
        None
    } else {
        let delay = container
            .at("/readinessProbe")
            .filter(|it| it.is_object())
            .map(|probe| {
                probe
                    .get("initialDelaySeconds")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    + 2.0 * READY_DELAY
            });
        Some(delay.unwrap_or(READY_DELAY))
    };
    if reference.tag.starts_with("crash-") {
        // Like a process that dies at start-up: one line on stderr, then exit 1. The log of each
        // run is kept, so `previous=true` serves the last crashed run's lines.
        return Behaviour::Script(
            vec![Run {
                lines: vec![(
                    CRASH_RUN / 2.0,
                    format!(
                        "fatal: cannot start: simulated crash of image tag {} (exit 1)",
                        reference.tag
                    ),
                )],
                exit: Some((CRASH_RUN, 1)),
            }],
            ready,
        );
    }
    let strings = |pointer: &str| -> Vec<String> {
        container
            .at(pointer)
            .and_then(Value::as_array)
            .map(|it| {
                it.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mounts: Vec<String> = container
        .at("/volumeMounts")
        .and_then(Value::as_array)
        .map(|it| {
            it.iter()
                .filter_map(|mount| mount.get("mountPath").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    match script::interpret_attempts(&strings("/command"), &strings("/args"), &mounts) {
        Some(runs) => Behaviour::Script(runs, ready),
        None if init => Behaviour::Script(
            vec![Run {
                lines: Vec::new(),
                exit: Some((READY_DELAY, 0)),
            }],
            ready,
        ),
        None => Behaviour::Serve(ready),
    }
}

/// An image reference split the way a container runtime resolves it.
pub struct ImageRef {
    pub(super) host: String,
    pub(super) path: String,
    tag: String,
}

impl ImageRef {
    pub fn parse(image: &str) -> ImageRef {
        let image = image.split('@').next().unwrap_or(image);
        let (host, rest) = match image.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_owned(), rest)
            }
            Some(_) => ("docker.io".to_owned(), image),
            None => ("docker.io".to_owned(), image),
        };
        let (path, tag) = match rest.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path.to_owned(), tag.to_owned()),
            _ => (rest.to_owned(), "latest".to_owned()),
        };
        let path = if host == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        ImageRef { host, path, tag }
    }

    pub fn full(&self) -> String {
        format!("{}/{}:{}", self.host, self.path, self.tag)
    }
}

/// `behaviour` without allocating for the common case: no command and an ordinary image.
pub fn plain_behaviour(container: &Value) -> Behaviour {
    let image = str_at(container, "/image").unwrap_or("");
    let special = ["missing-", "crash-", "unready-", ".invalid"]
        .iter()
        .any(|it| image.contains(it));
    let scripted = container.get("command").is_some_and(|it| !it.is_null())
        || container.get("args").is_some_and(|it| !it.is_null());
    let probed = container
        .get("readinessProbe")
        .is_some_and(Value::is_object);
    if special || scripted || probed {
        return behaviour(container, false);
    }
    Behaviour::Serve(Some(READY_DELAY))
}
