//! Resource verbs: get, list, create, update, patch, delete and deletecollection on stored
//! resources and their `status`/`scale` subresources; watches, logs and reviews are delegated.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::Response;
use serde_json::{Value, json};

use crate::key::Key;
use crate::{
    admission,
    auth::UserInfo,
    errors::{ApiError, Cause},
    logs,
    managed::{self, Manager},
    patch::{self, PatchType},
    protobuf, reviews,
    selector::{FieldSelector, LabelSelector},
    server::{Body, Query, ResourceRequest, State, json_response},
    storage::{DeleteOptions, Propagation, Storage, WriteMode},
    table, watch,
};

/// One routed, authorized request.
pub struct Context<'a> {
    pub state: &'a Arc<State>,
    pub user: &'a UserInfo,
    pub req: &'a ResourceRequest,
    pub query: &'a Query,
    pub content_type: &'a str,
    pub accept: &'a str,
    pub user_agent: &'a str,
}

impl Context<'_> {
    /// `fieldManager`, else the User-Agent's program name, as the real server defaults it.
    pub fn manager(&self) -> Manager {
        let name = match self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.to_string(),
            None => {
                let prefix = self.user_agent.split('/').next().unwrap_or_default().trim();
                if prefix.is_empty() {
                    "unknown".to_string()
                } else {
                    prefix.to_string()
                }
            }
        };
        let subresource = (!self.req.subresource.is_empty()).then(|| self.req.subresource.clone());
        Manager { name, subresource }
    }
}

/// Parses `dryRun`.
pub fn dry_run(query: &Query) -> Result<bool, ApiError> {
    let values: Vec<&str> = query
        .0
        .iter()
        .filter(|(k, _)| k == "dryRun")
        .map(|(_, v)| v.as_str())
        .collect();
    match values.as_slice() {
        [] => Ok(false),
        ["All"] => Ok(true),
        [other, ..] => Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        ))),
    }
}

/// Decodes a request body: JSON, YAML or (for the review kinds) protobuf.
pub fn decode_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    if ct == protobuf::CONTENT_TYPE {
        return protobuf::decode(body).map_err(|e| ApiError::new(415, "UnsupportedMediaType", e));
    }
    if ct == "application/yaml" {
        let text = std::str::from_utf8(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        return serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn check_type(ctx: &Context<'_>, body: &Value) -> Result<(), ApiError> {
    let def = ctx.req.def;
    if let Some(av) = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && av != def.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            def.api_version()
        )));
    }
    if let Some(kind) = body
        .get("kind")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && kind != def.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            def.kind
        )));
    }
    Ok(())
}

pub async fn serve(ctx: Context<'_>, body: Bytes) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    if req.def.virtual_only {
        if req.verb != "create" {
            return Err(ApiError::method_not_allowed());
        }
        let object = decode_body(ctx.content_type, &body)?;
        return reviews::create(&ctx, object);
    }
    match (req.verb, req.subresource.as_str()) {
        ("get", "log") => logs::serve(&ctx).await,
        ("get" | "create", "exec" | "attach" | "portforward") => {
            Err(ApiError::bad_request(format!(
                "pods/{}: the simulated kubelet runs no containers to connect to",
                req.subresource
            )))
        }
        ("get", "scale") => get_scale(&ctx),
        ("get", _) => get(&ctx),
        ("list", "") => list(&ctx),
        ("watch", "") => watch::serve(&ctx),
        ("create", "token") => {
            let object = decode_body(ctx.content_type, &body)?;
            reviews::token_request(&ctx, object)
        }
        ("create", "") => create(&ctx, &body),
        ("update", "scale") | ("patch", "scale") => write_scale(&ctx, &body),
        ("update", "" | "status" | "finalize" | "ephemeralcontainers") => update(&ctx, &body),
        ("patch", "" | "status" | "ephemeralcontainers") => patch(&ctx, &body),
        ("delete", "") => delete(&ctx, &body),
        ("deletecollection", "") => delete_collection(&ctx, &body),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn get(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let storage = ctx.state.storage();
    let obj = storage
        .get(ctx.req.def, &ctx.req.namespace, &ctx.req.name)
        .ok_or_else(|| ApiError::not_found(ctx.req.def, &ctx.req.name))?;
    if table::wants_table(ctx.accept) {
        return Ok(json_response(
            200,
            &table::render(
                ctx.req.def,
                std::slice::from_ref(obj),
                storage.current_rv(),
                None,
            ),
        ));
    }
    if table::wants_metadata(ctx.accept) {
        return Ok(json_response(200, &table::partial(obj)));
    }
    Ok(json_response(200, obj))
}

/// What a continue token carries: the snapshot's resourceVersion and the last key served.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    namespace: String,
    name: String,
}

/// The request's label and field selectors.
struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Selectors {
    fn of(ctx: &Context<'_>) -> Result<Selectors, ApiError> {
        let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(
            ctx.query.get("fieldSelector").unwrap_or(""),
            ctx.req.def.plural,
        )
        .map_err(ApiError::bad_request)?;
        Ok(Selectors { labels, fields })
    }

    fn matches(&self, o: &Value) -> bool {
        self.labels.matches_object(o) && self.fields.matches(o)
    }

    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

/// Filters by the request's selectors, in storage order.
pub fn selected<'v>(
    ctx: &Context<'_>,
    objects: Vec<&'v Value>,
) -> Result<Vec<&'v Value>, ApiError> {
    let selectors = Selectors::of(ctx)?;
    Ok(objects
        .into_iter()
        .filter(|o| selectors.matches(o))
        .collect())
}

fn key_of(o: &Value) -> Key {
    let field = |name: &str| {
        o.get("metadata")
            .and_then(|m| m.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    Key::new(field("namespace"), field("name"))
}

fn list(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let def = ctx.req.def;
    let storage = ctx.state.storage();
    let ns = (!ctx.req.namespace.is_empty()).then_some(ctx.req.namespace.as_str());
    let selectors = Selectors::of(ctx)?;
    let mut rv = storage.current_rv();
    let mut after = None;
    if let Some(token) = ctx.query.get("continue").filter(|t| !t.is_empty()) {
        let parsed: ContinueToken = URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| ApiError::bad_request("invalid continue token"))?;
        rv = parsed.rv;
        after = Some(Key::new(parsed.namespace, parsed.name));
    }
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    // Serialize outside the lock: the controller tick needs it too.
    let items: Vec<Value> = {
        let mut matching = storage
            .list_after(def, ns, after.as_ref())
            .filter(|o| selectors.matches(o));
        let items: Vec<&Value> = match limit {
            Some(limit) => matching.by_ref().take(limit).collect(),
            None => matching.by_ref().collect(),
        };
        if let Some(more) = matching.next() {
            let key = key_of(items.last().copied().unwrap_or(more));
            let token = ContinueToken {
                rv,
                namespace: key.namespace,
                name: key.name,
            };
            meta["continue"] =
                json!(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default()));
            // Like kube-apiserver: the count is known only when nothing was filtered out.
            if selectors.is_empty() {
                meta["remainingItemCount"] = json!(1 + matching.count());
            }
        }
        items.into_iter().cloned().collect()
    };
    drop(storage);
    if table::wants_table(ctx.accept) {
        return Ok(json_response(
            200,
            &table::render(
                def,
                &items,
                rv,
                meta.get("continue").and_then(Value::as_str),
            ),
        ));
    }
    if table::wants_metadata(ctx.accept) {
        let items: Vec<Value> = items.iter().map(table::partial).collect();
        let list = json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "items": items,
        });
        return Ok(json_response(200, &list));
    }
    let list = json!({
        "kind": format!("{}List", def.kind),
        "apiVersion": def.api_version(),
        "metadata": meta,
        "items": items,
    });
    Ok(json_response(200, &list))
}

fn create(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let object = decode_body(ctx.content_type, body)?;
    check_type(ctx, &object)?;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let manager = ctx.manager();
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.create_by(
            ctx.req.def,
            &ctx.req.namespace,
            object.clone(),
            true,
            Some(&manager),
        )?;
        warnings = admit(ctx, &storage, "CREATE", Some(&preview), None, dry)?;
    }
    let created =
        storage.create_by(ctx.req.def, &ctx.req.namespace, object, dry, Some(&manager))?;
    Ok(with_warnings(json_response(201, &created), &warnings))
}

/// Runs ValidatingAdmissionPolicies for a write; returns `Warn` warnings or the denial.
fn admit(
    ctx: &Context<'_>,
    storage: &Storage,
    operation: &'static str,
    object: Option<&Value>,
    old: Option<&Value>,
    dry: bool,
) -> Result<Vec<String>, ApiError> {
    let name = object
        .or(old)
        .and_then(|o| o.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or(&ctx.req.name)
        .to_string();
    let namespace = object
        .or(old)
        .and_then(|o| o.pointer("/metadata/namespace"))
        .and_then(Value::as_str)
        .unwrap_or(&ctx.req.namespace)
        .to_string();
    admission::admit(
        storage,
        &admission::Request {
            def: ctx.req.def,
            subresource: &ctx.req.subresource,
            namespace: &namespace,
            name: &name,
            operation,
            object,
            old_object: old,
            user: ctx.user,
            dry_run: dry,
        },
    )
}

/// Adds `Warning: 299 - "..."` headers.
fn with_warnings(mut response: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        let value = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            response.headers_mut().append("warning", v);
        }
    }
    response
}

fn mode(sub: &str) -> WriteMode {
    if sub == "status" {
        WriteMode::Status
    } else {
        WriteMode::Main
    }
}

fn update(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let object = decode_body(ctx.content_type, body)?;
    check_type(ctx, &object)?;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let req = ctx.req;
    let manager = ctx.manager();
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let current = storage.get(req.def, &req.namespace, &req.name).cloned();
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            object.clone(),
            mode(&req.subresource),
            true,
            Some(&manager),
        )?;
        warnings = admit(
            ctx,
            &storage,
            "UPDATE",
            Some(&preview),
            current.as_ref(),
            dry,
        )?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        object,
        mode(&req.subresource),
        dry,
        Some(&manager),
    )?;
    Ok(with_warnings(json_response(200, &updated), &warnings))
}

fn patch(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let kind = PatchType::from_content_type(ctx.content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(ctx.content_type))?;
    let dry = dry_run(ctx.query)?;
    let options_invalid = |cause: Cause| ApiError {
        code: 422,
        reason: "Invalid",
        message: format!(
            "PatchOptions.meta.k8s.io \"\" is invalid: {}",
            cause.render()
        ),
        details: Some(
            json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": cause.reason, "message": cause.message, "field": cause.field}]}),
        ),
    };
    if kind == PatchType::Apply && ctx.query.get("fieldManager").is_none_or(str::is_empty) {
        return Err(options_invalid(Cause {
            reason: "FieldValueRequired",
            field: "fieldManager".into(),
            message: "Required value: is required for apply patch".into(),
        }));
    }
    if kind != PatchType::Apply && ctx.query.get("force").is_some() {
        return Err(options_invalid(Cause::forbidden(
            "force",
            "may not be specified for non-apply patch",
        )));
    }
    let patch_doc = patch::parse_body(kind, body).map_err(ApiError::bad_request)?;
    let mut storage = ctx.state.storage();
    let Some(current) = storage.get(req.def, &req.namespace, &req.name).cloned() else {
        if kind == PatchType::Apply && req.subresource.is_empty() {
            let mut object = patch_doc;
            if object.get("metadata").is_none() {
                object["metadata"] = json!({});
            }
            object["metadata"]["name"] = json!(req.name);
            let fields = managed::record_apply(
                &json!({}),
                &object,
                &object,
                &ctx.manager(),
                &req.def.api_version(),
                true,
            )?;
            object["metadata"]["managedFields"] = fields;
            let mut warnings = Vec::new();
            if admission::active(&storage) {
                let preview = storage.create(req.def, &req.namespace, object.clone(), true)?;
                warnings = admit(ctx, &storage, "CREATE", Some(&preview), None, dry)?;
            }
            let created = storage.create(req.def, &req.namespace, object, dry)?;
            return Ok(with_warnings(json_response(201, &created), &warnings));
        }
        return Err(ApiError::not_found(req.def, &req.name));
    };
    if kind == PatchType::Apply {
        check_type(ctx, &patch_doc)?;
    }
    let mut patched = patch::apply(kind, &current, &patch_doc).map_err(|e| match kind {
        PatchType::Json => ApiError::new(
            422,
            "Invalid",
            format!("the server rejected our request due to an error in our request: {e}"),
        ),
        _ => ApiError::bad_request(e),
    })?;
    let manager = if kind == PatchType::Apply {
        // Apply owns the fields it sets; the stored resourceVersion is not a precondition.
        if patch_doc.pointer("/metadata/resourceVersion").is_none() {
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
        let force = ctx.query.flag("force");
        let fields = managed::record_apply(
            &current,
            &patch_doc,
            &patched,
            &ctx.manager(),
            &req.def.api_version(),
            force,
        )?;
        patched["metadata"]["managedFields"] = fields;
        None
    } else {
        Some(ctx.manager())
    };
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            patched.clone(),
            mode(&req.subresource),
            true,
            manager.as_ref(),
        )?;
        warnings = admit(ctx, &storage, "UPDATE", Some(&preview), Some(&current), dry)?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        patched,
        mode(&req.subresource),
        dry,
        manager.as_ref(),
    )?;
    Ok(with_warnings(json_response(200, &updated), &warnings))
}

fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| LabelSelector::from_json(s).ok())
        .map(|s| s.to_query())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"]["uid"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

fn get_scale(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
    let storage = ctx.state.storage();
    let obj = storage
        .get(ctx.req.def, &ctx.req.namespace, &ctx.req.name)
        .ok_or_else(|| ApiError::not_found(ctx.req.def, &ctx.req.name))?;
    Ok(json_response(200, &scale_of(obj)))
}

fn write_scale(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let dry = dry_run(ctx.query)?;
    let mut storage = ctx.state.storage();
    let current = storage
        .get(req.def, &req.namespace, &req.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(req.def, &req.name))?;
    let scale = scale_of(&current);
    let new_scale = if req.verb == "patch" {
        let kind = PatchType::from_content_type(ctx.content_type)
            .ok_or_else(|| ApiError::unsupported_media_type(ctx.content_type))?;
        let doc = patch::parse_body(kind, body).map_err(ApiError::bad_request)?;
        patch::apply(kind, &scale, &doc).map_err(ApiError::bad_request)?
    } else {
        decode_body(ctx.content_type, body)?
    };
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
                req.name
            ),
            details: Some(
                json!({"name": req.name, "group": "autoscaling", "kind": "Scale", "causes": [{"reason": "FieldValueInvalid", "message": format!("Invalid value: {replicas}: must be greater than or equal to 0"), "field": "spec.replicas"}]}),
            ),
        });
    }
    let mut object = current.clone();
    object["spec"]["replicas"] = json!(replicas);
    let rv = new_scale
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or(Value::Null);
    object["metadata"]["resourceVersion"] = if rv.as_str().is_some_and(|s| !s.is_empty()) {
        rv
    } else {
        current["metadata"]["resourceVersion"].clone()
    };
    let mut warnings = Vec::new();
    if admission::active(&storage) {
        let preview = storage.update_by(
            req.def,
            &req.namespace,
            &req.name,
            object.clone(),
            WriteMode::Main,
            true,
            Some(&ctx.manager()),
        )?;
        let (new, old) = (scale_of(&preview), scale_of(&current));
        warnings = admit(ctx, &storage, "UPDATE", Some(&new), Some(&old), dry)?;
    }
    let updated = storage.update_by(
        req.def,
        &req.namespace,
        &req.name,
        object,
        WriteMode::Main,
        dry,
        Some(&ctx.manager()),
    )?;
    Ok(with_warnings(
        json_response(200, &scale_of(&updated)),
        &warnings,
    ))
}

/// Reads DeleteOptions from the body, falling back to query parameters.
fn delete_options(ctx: &Context<'_>, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        decode_body(ctx.content_type, body)?
    };
    let from_query = doc.as_object().is_none_or(|m| m.is_empty());
    let get = |key: &str| -> Option<String> {
        if from_query {
            ctx.query.get(key).map(str::to_string)
        } else {
            doc.get(key).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| (!v.is_null()).then(|| v.to_string()))
            })
        }
    };
    let propagation = match get("propagationPolicy").as_deref() {
        None | Some("") => match get("orphanDependents").as_deref() {
            Some("true") => Some(Propagation::Orphan),
            Some("false") => Some(Propagation::Background),
            _ => None,
        },
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    let dry = if from_query {
        dry_run(ctx.query)?
    } else {
        doc.get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"))
            || dry_run(ctx.query)?
    };
    Ok(DeleteOptions {
        propagation,
        precondition_uid: doc
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
        precondition_rv: doc
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        dry_run: dry,
        grace_period: get("gracePeriodSeconds").and_then(|g| g.parse().ok()),
    })
}

fn delete(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let opts = delete_options(ctx, body)?;
    let mut storage = ctx.state.storage();
    if admission::active(&storage)
        && let Some(current) = storage.get(req.def, &req.namespace, &req.name).cloned()
    {
        admit(ctx, &storage, "DELETE", None, Some(&current), opts.dry_run)?;
    }
    let deleted = storage.delete(req.def, &req.namespace, &req.name, &opts)?;
    if deleted.pending || req.def.delete_returns_object {
        return Ok(json_response(200, &deleted.object));
    }
    let mut details =
        json!({"name": req.name, "kind": req.def.plural, "uid": deleted.object["metadata"]["uid"]});
    if !req.def.group.is_empty() {
        details["group"] = json!(req.def.group);
    }
    Ok(json_response(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

fn delete_collection(ctx: &Context<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let req = ctx.req;
    let opts = delete_options(ctx, body)?;
    let mut storage = ctx.state.storage();
    let ns = (!req.namespace.is_empty()).then_some(req.namespace.as_str());
    let targets: Vec<(String, String)> = selected(ctx, storage.list(req.def, ns))?
        .into_iter()
        .map(|o| {
            (
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let mut items = Vec::new();
    for (ns, name) in targets {
        if admission::active(&storage)
            && let Some(current) = storage.get(req.def, &ns, &name).cloned()
        {
            admit(ctx, &storage, "DELETE", None, Some(&current), opts.dry_run)?;
        }
        if let Ok(d) = storage.delete(req.def, &ns, &name, &opts) {
            items.push(d.object);
        }
    }
    let list = json!({
        "kind": format!("{}List", req.def.kind),
        "apiVersion": req.def.api_version(),
        "metadata": {"resourceVersion": storage.current_rv().to_string()},
        "items": items,
    });
    Ok(json_response(200, &list))
}
