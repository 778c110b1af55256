//! CEL evaluation for admission: the `request` variable as kube-apiserver builds it and the
//! outcome of one expression. Never decides what an outcome means for the request.

use cel::{Context, Program};
use serde_json::{Value, json};

use super::Request;

pub(super) fn request_json(req: &Request<'_>) -> Value {
    let def = req.def;
    json!({
        "kind": {"group": def.group, "version": def.version, "kind": def.kind},
        "resource": {"group": def.group, "version": def.version, "resource": def.plural},
        "requestKind": {"group": def.group, "version": def.version, "kind": def.kind},
        "requestResource": {"group": def.group, "version": def.version, "resource": def.plural},
        "subResource": req.subresource,
        "name": req.name,
        "namespace": req.namespace,
        "operation": req.operation,
        "userInfo": {"username": req.user.name, "uid": req.user.uid, "groups": req.user.groups},
        "dryRun": req.dry_run,
    })
}

pub(super) enum Outcome {
    Bool(bool),
    String(String),
    Error(String),
}

pub(super) fn eval(ctx: &Context<'_, '_>, expression: &str) -> Outcome {
    match Program::compile(expression) {
        Err(e) => Outcome::Error(format!("compilation failed: {e}")),
        Ok(p) => match p.execute(ctx) {
            Ok(cel::Value::Bool(b)) => Outcome::Bool(b),
            Ok(cel::Value::String(s)) => Outcome::String(s.to_string()),
            Ok(other) => Outcome::Error(format!("expected a bool or string, got {other:?}")),
            Err(e) => Outcome::Error(e.to_string()),
        },
    }
}
