//! Decoding of the protobuf bodies kubectl's typed clients send (`application/vnd.kubernetes.protobuf`):
//! the `k8s\0` magic, the `runtime.Unknown` envelope and the few review/request messages we
//! accept, converted to their JSON form. Field numbers follow the `generated.proto` files of
//! `k8s.io/apimachinery/pkg/runtime` and `k8s.io/api/{authorization,authentication}/v1`. Never
//! answers in protobuf: responses are JSON (`encode` exists for tests).

use prost::Message;
use serde_json::{Value, json};

pub const MAGIC: &[u8] = b"k8s\0";
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

#[derive(Clone, PartialEq, Message)]
pub struct TypeMeta {
    #[prost(string, tag = "1")]
    pub api_version: String,
    #[prost(string, tag = "2")]
    pub kind: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Unknown {
    #[prost(message, optional, tag = "1")]
    pub type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", tag = "2")]
    pub raw: Vec<u8>,
    #[prost(string, tag = "3")]
    pub content_encoding: String,
    #[prost(string, tag = "4")]
    pub content_type: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ObjectMeta {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub generate_name: String,
    #[prost(string, tag = "3")]
    pub namespace: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceAttributes {
    #[prost(string, tag = "1")]
    pub namespace: String,
    #[prost(string, tag = "2")]
    pub verb: String,
    #[prost(string, tag = "3")]
    pub group: String,
    #[prost(string, tag = "4")]
    pub version: String,
    #[prost(string, tag = "5")]
    pub resource: String,
    #[prost(string, tag = "6")]
    pub subresource: String,
    #[prost(string, tag = "7")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NonResourceAttributes {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub verb: String,
}

/// `SelfSubjectAccessReviewSpec` (1, 2) and `SubjectAccessReviewSpec` (1..4, 6) share numbers.
#[derive(Clone, PartialEq, Message)]
pub struct AccessReviewSpec {
    #[prost(message, optional, tag = "1")]
    pub resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    pub non_resource_attributes: Option<NonResourceAttributes>,
    #[prost(string, tag = "3")]
    pub user: String,
    #[prost(string, repeated, tag = "4")]
    pub groups: Vec<String>,
    #[prost(string, tag = "6")]
    pub uid: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct AccessReview {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<AccessReviewSpec>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RulesReviewSpec {
    #[prost(string, tag = "1")]
    pub namespace: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct RulesReview {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<RulesReviewSpec>,
}

#[derive(Clone, PartialEq, Message)]
pub struct BoundObjectReference {
    #[prost(string, tag = "1")]
    pub kind: String,
    #[prost(string, tag = "2")]
    pub api_version: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub uid: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct TokenRequestSpec {
    #[prost(string, repeated, tag = "1")]
    pub audiences: Vec<String>,
    #[prost(message, optional, tag = "3")]
    pub bound_object_ref: Option<BoundObjectReference>,
    #[prost(int64, optional, tag = "4")]
    pub expiration_seconds: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TokenRequest {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<TokenRequestSpec>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TokenReviewSpec {
    #[prost(string, tag = "1")]
    pub token: String,
    #[prost(string, repeated, tag = "2")]
    pub audiences: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TokenReview {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<TokenReviewSpec>,
}

fn meta_json(m: Option<ObjectMeta>) -> Value {
    let m = m.unwrap_or_default();
    let mut out = json!({});
    for (k, v) in [
        ("name", m.name),
        ("generateName", m.generate_name),
        ("namespace", m.namespace),
    ] {
        if !v.is_empty() {
            out[k] = json!(v);
        }
    }
    out
}

fn access_spec_json(spec: AccessReviewSpec) -> Value {
    let mut out = json!({});
    if let Some(r) = spec.resource_attributes {
        out["resourceAttributes"] = json!({
            "namespace": r.namespace, "verb": r.verb, "group": r.group, "version": r.version,
            "resource": r.resource, "subresource": r.subresource, "name": r.name,
        });
    }
    if let Some(n) = spec.non_resource_attributes {
        out["nonResourceAttributes"] = json!({"path": n.path, "verb": n.verb});
    }
    if !spec.user.is_empty() {
        out["user"] = json!(spec.user);
    }
    if !spec.groups.is_empty() {
        out["groups"] = json!(spec.groups);
    }
    if !spec.uid.is_empty() {
        out["uid"] = json!(spec.uid);
    }
    out
}

/// Decodes a protobuf request body into the JSON form of the object it carries.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("protobuf body without the k8s magic prefix")?;
    let unknown = Unknown::decode(rest).map_err(|e| format!("decoding runtime.Unknown: {e}"))?;
    let tm = unknown.type_meta.unwrap_or_default();
    let raw = unknown.raw.as_slice();
    let err = |e: prost::DecodeError| format!("decoding {}: {e}", tm.kind);
    let (metadata, spec) = match tm.kind.as_str() {
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
            let m = AccessReview::decode(raw).map_err(err)?;
            (
                meta_json(m.metadata),
                access_spec_json(m.spec.unwrap_or_default()),
            )
        }
        "SelfSubjectRulesReview" => {
            let m = RulesReview::decode(raw).map_err(err)?;
            (
                meta_json(m.metadata),
                json!({"namespace": m.spec.unwrap_or_default().namespace}),
            )
        }
        "SelfSubjectReview" => {
            let m = RulesReview::decode(raw).map_err(err)?;
            (meta_json(m.metadata), json!({}))
        }
        "TokenRequest" => {
            let m = TokenRequest::decode(raw).map_err(err)?;
            let s = m.spec.unwrap_or_default();
            let mut spec = json!({"audiences": s.audiences});
            if let Some(e) = s.expiration_seconds {
                spec["expirationSeconds"] = json!(e);
            }
            if let Some(b) = s.bound_object_ref {
                spec["boundObjectRef"] = json!({"kind": b.kind, "apiVersion": b.api_version, "name": b.name, "uid": b.uid});
            }
            (meta_json(m.metadata), spec)
        }
        "TokenReview" => {
            let m = TokenReview::decode(raw).map_err(err)?;
            let s = m.spec.unwrap_or_default();
            (
                meta_json(m.metadata),
                json!({"token": s.token, "audiences": s.audiences}),
            )
        }
        other if crate::proto_schema::supports(other) => {
            let mut object = crate::proto_schema::decode(other, raw)?;
            object["apiVersion"] = json!(tm.api_version);
            object["kind"] = json!(tm.kind);
            return Ok(object);
        }
        other => {
            return Err(format!(
                "protobuf bodies of kind {other:?} are not supported; send JSON\n{}",
                crate::proto_wire::dump(raw, 0)
            ));
        }
    };
    Ok(json!({"apiVersion": tm.api_version, "kind": tm.kind, "metadata": metadata, "spec": spec}))
}

/// Encodes an envelope (used by tests to mimic kubectl).
pub fn encode(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: api_version.into(),
            kind: kind.into(),
        }),
        raw,
        content_encoding: String::new(),
        content_type: String::new(),
    };
    let mut out = MAGIC.to_vec();
    out.extend(u.encode_to_vec());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_self_subject_access_review() {
        let review = AccessReview {
            metadata: Some(ObjectMeta::default()),
            spec: Some(AccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: "prod".into(),
                    verb: "patch".into(),
                    group: "apps".into(),
                    resource: "deployments".into(),
                    name: "web".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        let body = encode(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            review.encode_to_vec(),
        );
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "SelfSubjectAccessReview");
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "patch");
        assert_eq!(v["spec"]["resourceAttributes"]["name"], "web");
    }

    #[test]
    fn decodes_a_token_request() {
        let tr = TokenRequest {
            metadata: None,
            spec: Some(TokenRequestSpec {
                audiences: vec!["a".into()],
                bound_object_ref: None,
                expiration_seconds: Some(600),
            }),
        };
        let body = encode(
            "authentication.k8s.io/v1",
            "TokenRequest",
            tr.encode_to_vec(),
        );
        let v = decode(&body).unwrap();
        assert_eq!(v["spec"]["expirationSeconds"], 600);
        assert_eq!(v["spec"]["audiences"], json!(["a"]));
        assert!(decode(b"nope").is_err());
    }
}
