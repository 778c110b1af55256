//! Reads: get, and list with label/field selectors, `limit` and continue tokens that resume from
//! the last key served. Never writes and never serves watches (see `watch`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http::Response;
use serde_json::{Value, json};

use crate::key::Key;
use crate::{
    errors::ApiError,
    selector::{FieldSelector, LabelSelector},
    server::{Body, json_response},
    table,
};

use super::Context;

pub(super) fn get(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
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

pub(super) fn list(ctx: &Context<'_>) -> Result<Response<Body>, ApiError> {
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
