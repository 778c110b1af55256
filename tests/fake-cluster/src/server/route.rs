//! Routing like the apiserver's RequestInfo: API paths to resource, namespace, name, subresource
//! and verb (`list` vs `get`, `watch=true`). Never authorizes or touches storage.

use http::Method;

use super::Query;
use crate::resources::{self, ResourceDef};

/// A request after routing.
#[derive(Debug, Clone)]
pub struct ResourceRequest {
    pub def: &'static ResourceDef,
    /// The namespace from the path ("" when none).
    pub namespace: String,
    pub name: String,
    pub subresource: String,
    pub verb: &'static str,
}

pub(super) enum Route {
    NonResource,
    Resource(ResourceRequest),
    NotFound,
}

pub(super) fn route(method: &Method, path: &str, query: &Query) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => ("", "v1", rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Route::NonResource,
    };
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let (prefixed, namespace, parts): (bool, String, Vec<&str>) = match rest {
        ["namespaces", ns, more @ ..]
            if !more.is_empty() && !matches!(more[0], "status" | "finalize") =>
        {
            (true, ns.to_string(), more.to_vec())
        }
        _ => (false, String::new(), rest.to_vec()),
    };
    let (resource, name, sub) = match parts.as_slice() {
        [r] => (*r, "", ""),
        [r, n] => (*r, *n, ""),
        [r, n, s] => (*r, *n, *s),
        _ => return Route::NotFound,
    };
    let Some(def) = resources::lookup(group, version, resource) else {
        return Route::NotFound;
    };
    let is_read_all = name.is_empty() && matches!(*method, Method::GET | Method::HEAD);
    let scope_ok = if def.namespaced {
        prefixed || is_read_all
    } else {
        !prefixed
    };
    if !scope_ok {
        return Route::NotFound;
    }
    if !sub.is_empty() && !def.has_subresource(sub) {
        return Route::NotFound;
    }
    let verb = match *method {
        Method::GET | Method::HEAD if !name.is_empty() => "get",
        Method::GET | Method::HEAD if watch_path || query.flag("watch") => "watch",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if !name.is_empty() => "delete",
        Method::DELETE => "deletecollection",
        _ => return Route::NotFound,
    };
    let namespace = if def.plural == "namespaces" && !name.is_empty() {
        name.to_string()
    } else {
        namespace
    };
    Route::Resource(ResourceRequest {
        def,
        namespace,
        name: name.to_string(),
        subresource: sub.to_string(),
        verb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str, q: &str) -> Option<ResourceRequest> {
        match route(&method, path, &Query::parse(Some(q))) {
            Route::Resource(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn routes_paths_like_request_info() {
        let g = r(
            Method::GET,
            "/apis/apps/v1/namespaces/prod/deployments/web",
            "",
        )
        .unwrap();
        assert_eq!(
            (g.def.plural, g.namespace.as_str(), g.name.as_str(), g.verb),
            ("deployments", "prod", "web", "get")
        );
        let w = r(Method::GET, "/apis/apps/v1/deployments", "watch=true").unwrap();
        assert_eq!((w.verb, w.namespace.as_str()), ("watch", ""));
        let w = r(Method::GET, "/api/v1/watch/namespaces/default/pods", "").unwrap();
        assert_eq!((w.verb, w.namespace.as_str()), ("watch", "default"));
        let ns = r(Method::GET, "/api/v1/namespaces/foo", "").unwrap();
        assert_eq!(
            (ns.def.plural, ns.name.as_str(), ns.namespace.as_str()),
            ("namespaces", "foo", "foo")
        );
        let l = r(Method::GET, "/api/v1/namespaces/default/pods/p/log", "").unwrap();
        assert_eq!(l.subresource, "log");
        let t = r(
            Method::POST,
            "/api/v1/namespaces/default/serviceaccounts/sa/token",
            "",
        )
        .unwrap();
        assert_eq!((t.verb, t.subresource.as_str()), ("create", "token"));
        let n = r(Method::GET, "/api/v1/nodes", "").unwrap();
        assert_eq!(n.verb, "list");
        assert!(r(Method::GET, "/api/v1/namespaces/default/nodes", "").is_none());
        assert!(
            r(
                Method::GET,
                "/apis/apps/v1/namespaces/default/deployments/web/bogus",
                ""
            )
            .is_none()
        );
        let dc = r(Method::DELETE, "/api/v1/namespaces/default/configmaps", "").unwrap();
        assert_eq!(dc.verb, "deletecollection");
        let ssar = r(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "",
        )
        .unwrap();
        assert_eq!(ssar.def.plural, "selfsubjectaccessreviews");
    }
}
