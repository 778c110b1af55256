//! Authentication: bearer tokens mapped to users. Static tokens (the admin's, and any minted by
//! tests) and ServiceAccount tokens issued by TokenRequest, which expire and die with their
//! ServiceAccount. Never authorizes: what a user may do is decided by `rbac`.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::Rng;
use serde_json::{Value, json};

use crate::{resources, storage::Storage};

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn new(name: &str, groups: &[&str]) -> UserInfo {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        if name != "system:anonymous" && !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        UserInfo {
            name: name.to_string(),
            uid: String::new(),
            groups,
        }
    }

    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }

    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }

    /// The user of a ServiceAccount.
    pub fn service_account(namespace: &str, name: &str) -> UserInfo {
        UserInfo {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            uid: String::new(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }
}

#[derive(Debug, Clone)]
struct TokenEntry {
    user: UserInfo,
    /// Unix seconds.
    expires: Option<i64>,
    service_account: Option<(String, String, String)>,
    /// The object the token is bound to (plural, namespace, name, uid): deleting it revokes the
    /// token, as kube-apiserver's service-account authenticator does.
    bound: Option<(String, String, String, String)>,
}

/// The token table.
#[derive(Debug, Default)]
pub struct Authenticator {
    tokens: HashMap<String, TokenEntry>,
}

/// A random token of URL-safe characters.
pub fn random_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Authenticator {
    /// Registers a static token for `user`.
    pub fn register(&mut self, token: &str, user: UserInfo) {
        self.tokens.insert(
            token.to_string(),
            TokenEntry {
                user,
                expires: None,
                service_account: None,
                bound: None,
            },
        );
    }

    /// Resolves a bearer token; `None` means 401.
    pub fn authenticate(&self, token: &str, storage: &Storage) -> Option<UserInfo> {
        let entry = self.tokens.get(token)?;
        if let Some(exp) = entry.expires
            && jiff::Timestamp::now().as_second() >= exp
        {
            return None;
        }
        if let Some((ns, name, uid)) = &entry.service_account {
            let sa = storage.get(resources::by_plural("serviceaccounts")?, ns, name)?;
            if sa.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid.as_str()) {
                return None;
            }
        }
        if let Some((plural, ns, name, uid)) = &entry.bound {
            let object = storage.get(resources::by_plural(plural)?, ns, name)?;
            if object.pointer("/metadata/uid").and_then(Value::as_str) != Some(uid.as_str()) {
                return None;
            }
        }
        Some(entry.user.clone())
    }

    /// Issues a ServiceAccount token valid for `seconds`; returns the token and its expiry
    /// (RFC 3339).
    pub fn issue_service_account_token(
        &mut self,
        namespace: &str,
        name: &str,
        sa_uid: &str,
        audiences: &[String],
        seconds: i64,
    ) -> (String, String) {
        let now = jiff::Timestamp::now().as_second();
        let exp = now + seconds;
        let header = json!({"alg": "RS256", "kid": "fake-cluster"});
        let claims = json!({
            "aud": audiences,
            "exp": exp,
            "iat": now,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "jti": crate::storage::new_uid(),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": sa_uid}},
            "nbf": now,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
        });
        let sig: [u8; 64] = {
            let mut b = [0u8; 64];
            rand::rng().fill(&mut b[..]);
            b
        };
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(sig)
        );
        let mut user = UserInfo::service_account(namespace, name);
        user.uid = sa_uid.to_string();
        self.tokens.insert(
            token.clone(),
            TokenEntry {
                user,
                expires: Some(exp),
                service_account: Some((
                    namespace.to_string(),
                    name.to_string(),
                    sa_uid.to_string(),
                )),
                bound: None,
            },
        );
        let expiry = jiff::Timestamp::from_second(exp)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        (token, expiry)
    }

    /// Binds an issued token to an object (plural, namespace, name, uid).
    pub fn bind(&mut self, token: &str, bound: (String, String, String, String)) {
        if let Some(entry) = self.tokens.get_mut(token) {
            entry.bound = Some(bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_tokens_die_with_the_account() {
        let mut storage = Storage::new(10);
        let ns = resources::by_plural("namespaces").unwrap();
        storage
            .create(ns, "", json!({"metadata": {"name": "prod"}}), false)
            .unwrap();
        let sa_def = resources::by_plural("serviceaccounts").unwrap();
        let sa = storage
            .create(
                sa_def,
                "prod",
                json!({"metadata": {"name": "deployer"}}),
                false,
            )
            .unwrap();
        let uid = sa["metadata"]["uid"].as_str().unwrap();
        let mut auth = Authenticator::default();
        let (token, _) = auth.issue_service_account_token("prod", "deployer", uid, &[], 600);
        let user = auth.authenticate(&token, &storage).unwrap();
        assert_eq!(user.name, "system:serviceaccount:prod:deployer");
        assert!(
            user.groups
                .contains(&"system:serviceaccounts:prod".to_string())
        );
        let (expired, _) = auth.issue_service_account_token("prod", "deployer", uid, &[], -1);
        assert!(auth.authenticate(&expired, &storage).is_none());
        storage
            .delete(sa_def, "prod", "deployer", &Default::default())
            .unwrap();
        assert!(auth.authenticate(&token, &storage).is_none());
        assert!(auth.authenticate("nope", &storage).is_none());
    }
}
