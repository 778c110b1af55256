//! Authentication: a bearer token (or none: admin over plain HTTP, else anonymous) to a user,
//! then impersonation (`Impersonate-User`/`-Group`, itself authorized). Never authorizes the
//! request's own verb.

use http::{HeaderMap, header};

use super::State;
use crate::{
    auth::UserInfo,
    errors::ApiError,
    rbac::{self, Attributes},
};

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Authenticates and applies impersonation. Errors are 401/403.
pub(super) fn identify(state: &State, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let user = match bearer(headers) {
        Some(token) => {
            let storage = state.storage();
            state
                .authenticator()
                .authenticate(&token, &storage)
                .ok_or_else(ApiError::unauthorized)?
        }
        None if state.settings.plain_http => UserInfo::new("admin", &["system:masters"]),
        None => UserInfo::anonymous(),
    };
    let Some(target) = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(user);
    };
    let groups: Vec<&str> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let storage = state.storage();
    let check = |resource: &str, namespace: &str, name: &str| {
        let attrs = Attributes {
            verb: "impersonate".into(),
            resource_request: true,
            namespace: namespace.into(),
            group: String::new(),
            resource: resource.into(),
            name: name.into(),
            ..Attributes::default()
        };
        if rbac::authorize(&storage, &user, &attrs).allowed {
            Ok(())
        } else {
            Err(rbac::forbidden(&user, &attrs))
        }
    };
    let mut impersonated = if let Some(rest) = target.strip_prefix("system:serviceaccount:") {
        let (ns, name) = rest.split_once(':').unwrap_or((rest, ""));
        check("serviceaccounts", ns, name)?;
        let mut u = UserInfo::service_account(ns, name);
        u.groups.retain(|g| g != "system:authenticated");
        u
    } else {
        check("users", "", target)?;
        UserInfo {
            name: target.into(),
            uid: String::new(),
            groups: Vec::new(),
        }
    };
    for g in groups {
        check("groups", "", g)?;
        impersonated.groups.push(g.to_string());
    }
    if !impersonated
        .groups
        .iter()
        .any(|g| g == "system:authenticated")
    {
        impersonated.groups.push("system:authenticated".into());
    }
    Ok(impersonated)
}
