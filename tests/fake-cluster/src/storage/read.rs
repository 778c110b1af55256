//! Reads: point lookups and the ordered range scans that serve list pages from a continue key.
//! Never writes, never filters by selector (handlers do that).

use std::ops::Bound;

use serde_json::Value;

use crate::key::Key;
use crate::resources::ResourceDef;

use super::Storage;

impl Storage {
    pub fn get(&self, def: &ResourceDef, namespace: &str, name: &str) -> Option<&Value> {
        let ns = if def.namespaced { namespace } else { "" };
        self.objects
            .get(def.plural)
            .and_then(|m| m.get(&Key::new(ns, name)))
    }

    /// Objects of `def` in etcd's order (see [`Key`]); `namespace` None means all.
    pub fn list(&self, def: &ResourceDef, namespace: Option<&str>) -> Vec<&Value> {
        self.list_after(def, namespace, None).collect()
    }

    /// Objects of `def` in etcd's order that sort after `after` (a continue token's last key), so
    /// that serving a page costs the page, not the whole collection.
    pub fn list_after<'s>(
        &'s self,
        def: &ResourceDef,
        namespace: Option<&str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = &'s Value> + 's {
        let namespace = namespace.filter(|_| def.namespaced).map(str::to_owned);
        let start = match (namespace.as_deref(), after) {
            (_, Some(after)) => Bound::Excluded(after.clone()),
            (Some(ns), None) => Bound::Included(Key::first_in(ns)),
            (None, None) => Bound::Unbounded,
        };
        self.objects
            .get(def.plural)
            .into_iter()
            .flat_map(move |m| m.range((start.clone(), Bound::Unbounded)))
            .take_while(move |(k, _)| namespace.as_ref().is_none_or(|ns| &k.namespace == ns))
            .map(|(_, v)| v)
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("namespaces")
            .is_some_and(|m| m.contains_key(&Key::new("", ns)))
    }
}
