//! The create-only review resources (SelfSubjectAccessReview, SelfSubjectRulesReview,
//! SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectReview, TokenReview) and
//! TokenRequest (`serviceaccounts/NAME/token`). Answers are JSON whatever the request encoding.
//! Never stores the reviews: they exist only in the response.

use http::Response;
use serde_json::{Value, json};

use crate::{
    api::Context,
    auth::UserInfo,
    errors::{ApiError, Cause},
    rbac::{self, Attributes},
    resources,
    server::{Body, json_response},
};

fn attributes(spec: &Value) -> Attributes {
    if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        let s = |k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Attributes {
            verb: s("verb"),
            resource_request: true,
            namespace: s("namespace"),
            group: s("group"),
            resource: s("resource"),
            subresource: s("subresource"),
            name: s("name"),
            path: String::new(),
        }
    } else {
        let n = spec
            .get("nonResourceAttributes")
            .cloned()
            .unwrap_or(json!({}));
        let s = |k: &str| {
            n.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Attributes {
            verb: s("verb"),
            path: s("path"),
            ..Attributes::default()
        }
    }
}

fn respond(
    kind: &str,
    api_version: &str,
    metadata: Value,
    spec: Value,
    status: Value,
) -> Response<Body> {
    let mut metadata = if metadata.is_object() {
        metadata
    } else {
        json!({})
    };
    metadata["creationTimestamp"] = Value::Null;
    json_response(
        201,
        &json!({"kind": kind, "apiVersion": api_version, "metadata": metadata, "spec": spec, "status": status}),
    )
}

fn access_status(ctx: &Context<'_>, user: &UserInfo, spec: &Value) -> Value {
    let attrs = attributes(spec);
    let d = rbac::authorize(&ctx.state.storage(), user, &attrs);
    let mut status = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        status["reason"] = json!(d.reason);
    }
    status
}

pub fn create(ctx: &Context<'_>, object: Value) -> Result<Response<Body>, ApiError> {
    let def = ctx.req.def;
    let av = def.api_version();
    let metadata = object.get("metadata").cloned().unwrap_or(json!({}));
    let spec = object.get("spec").cloned().unwrap_or(json!({}));
    let user = ctx.user;
    Ok(match def.plural {
        "selfsubjectaccessreviews" => {
            if spec.get("resourceAttributes").is_none()
                && spec.get("nonResourceAttributes").is_none()
            {
                return Err(ApiError::invalid(def, "", vec![Cause::required("spec.resourceAttributes")]).with_message(
                    "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: [spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified]",
                ));
            }
            let status = access_status(ctx, user, &spec);
            respond(def.kind, &av, metadata, spec, status)
        }
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let name = spec.get("user").and_then(Value::as_str).unwrap_or_default();
            let groups: Vec<String> = spec
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let subject = UserInfo {
                name: name.to_string(),
                uid: String::new(),
                groups,
            };
            let mut spec = spec.clone();
            if def.plural == "localsubjectaccessreviews"
                && let Some(r) = spec
                    .get_mut("resourceAttributes")
                    .and_then(Value::as_object_mut)
            {
                r.insert("namespace".into(), json!(ctx.req.namespace));
            }
            let status = access_status(ctx, &subject, &spec);
            respond(def.kind, &av, metadata, spec, status)
        }
        "selfsubjectrulesreviews" => {
            let ns = spec
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (rr, nrr) = rbac::rules_for(&ctx.state.storage(), user, ns);
            respond(
                def.kind,
                &av,
                metadata,
                spec.clone(),
                json!({"resourceRules": rr, "nonResourceRules": nrr, "incomplete": false}),
            )
        }
        "selfsubjectreviews" => {
            let mut info = json!({"username": user.name, "groups": user.groups});
            if !user.uid.is_empty() {
                info["uid"] = json!(user.uid);
            }
            let mut metadata = metadata;
            metadata["creationTimestamp"] = Value::Null;
            json_response(
                201,
                &json!({"kind": def.kind, "apiVersion": av, "metadata": metadata, "status": {"userInfo": info}}),
            )
        }
        "tokenreviews" => {
            let token = spec
                .get("token")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let found = {
                let storage = ctx.state.storage();
                ctx.state.authenticator().authenticate(token, &storage)
            };
            let status = match found {
                Some(u) => {
                    json!({"authenticated": true, "user": {"username": u.name, "uid": u.uid, "groups": u.groups},
                    "audiences": spec.get("audiences").cloned().unwrap_or(json!(["https://kubernetes.default.svc.cluster.local"]))})
                }
                None => json!({"user": {}, "error": "invalid bearer token"}),
            };
            respond(def.kind, &av, metadata, spec, status)
        }
        _ => return Err(ApiError::method_not_allowed()),
    })
}

impl ApiError {
    fn with_message(mut self, message: &str) -> ApiError {
        self.message = message.to_string();
        self
    }
}

/// `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`.
pub fn token_request(ctx: &Context<'_>, object: Value) -> Result<Response<Body>, ApiError> {
    let (ns, name) = (&ctx.req.namespace, &ctx.req.name);
    let sa_def = resources::by_plural("serviceaccounts").expect("serviceaccounts");
    let sa_uid = {
        let storage = ctx.state.storage();
        let sa = storage
            .get(sa_def, ns, name)
            .ok_or_else(|| ApiError::not_found(sa_def, name))?;
        sa.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let spec = object.get("spec").cloned().unwrap_or(json!({}));
    let seconds = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    let invalid = |detail: &str| {
        let cause = Cause::invalid("spec.expirationSeconds", &json!(seconds), detail);
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "TokenRequest.authentication.k8s.io \"\" is invalid: {}",
                cause.render()
            ),
            details: Some(
                json!({"group": "authentication.k8s.io", "kind": "TokenRequest",
                "causes": [{"reason": cause.reason, "message": cause.message, "field": cause.field}]}),
            ),
        }
    };
    if seconds < 600 {
        return Err(invalid("may not specify a duration less than 10 minutes"));
    }
    if seconds > (1i64 << 32) {
        return Err(invalid(
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    let audiences: Vec<String> = spec
        .get("audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| vec!["https://kubernetes.default.svc.cluster.local".to_string()]);
    let bound = bound_object(ctx, spec.get("boundObjectRef"))?;
    if api_dry_run(ctx)? {
        return Ok(token_response(ns, name, &audiences, seconds, spec, "", ""));
    }
    let (token, expiry) = {
        let mut authenticator = ctx.state.authenticator();
        let (token, expiry) =
            authenticator.issue_service_account_token(ns, name, &sa_uid, &audiences, seconds);
        if let Some(bound) = bound {
            authenticator.bind(&token, bound);
        }
        (token, expiry)
    };
    Ok(token_response(
        ns, name, &audiences, seconds, spec, &token, &expiry,
    ))
}

/// The object a TokenRequest binds its token to (a Secret or a Pod of the namespace), checked as
/// kube-apiserver does: it must exist, and a given uid must be its uid.
fn bound_object(
    ctx: &Context<'_>,
    reference: Option<&Value>,
) -> Result<Option<(String, String, String, String)>, ApiError> {
    let Some(reference) = reference.filter(|it| !it.is_null()) else {
        return Ok(None);
    };
    let kind = reference["kind"].as_str().unwrap_or_default();
    let name = reference["name"].as_str().unwrap_or_default();
    let plural = match (reference["apiVersion"].as_str().unwrap_or_default(), kind) {
        ("v1", "Secret") => "secrets",
        ("v1", "Pod") => "pods",
        (api_version, _) => {
            let group_version = if api_version.contains('/') {
                api_version.to_owned()
            } else {
                format!("/{api_version}")
            };
            return Err(ApiError::bad_request(format!(
                "cannot bind token to object of type {group_version}, Kind={kind}"
            )));
        }
    };
    let def = resources::by_plural(plural).expect("a core resource");
    let ns = &ctx.req.namespace;
    let uid = {
        let storage = ctx.state.storage();
        let object = storage
            .get(def, ns, name)
            .ok_or_else(|| ApiError::not_found(def, name))?;
        object
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(given) = reference["uid"].as_str().filter(|it| !it.is_empty())
        && given != uid
    {
        return Err(ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {kind} \"{name}\": the UID in the bound object reference ({given}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
            details: Some(json!({"name": name, "kind": kind})),
        });
    }
    Ok(Some((plural.to_owned(), ns.clone(), name.to_owned(), uid)))
}

fn api_dry_run(ctx: &Context<'_>) -> Result<bool, ApiError> {
    crate::api::dry_run(ctx.query)
}

fn token_response(
    ns: &str,
    name: &str,
    audiences: &[String],
    seconds: i64,
    spec: Value,
    token: &str,
    expiry: &str,
) -> Response<Body> {
    let bound = spec.get("boundObjectRef").cloned().unwrap_or(Value::Null);
    json_response(
        201,
        &json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
            "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": bound},
            "status": {"token": token, "expirationTimestamp": expiry},
        }),
    )
}
