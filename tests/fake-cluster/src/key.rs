//! The order objects are stored, listed and paged in: etcd's. kube-apiserver keeps an object under
//! `/registry/<resource>/<namespace>/<name>` and lists a range of those keys, so a list across
//! namespaces is sorted byte by byte on `<namespace>/<name>`: `shop-eu/a` comes before `shop/a`
//! (`-` is below `/`). A continue token names the last key served; the next page starts right after
//! it. Pure; never touches storage itself.

use std::cmp::Ordering;

/// Where an object lives: its namespace (empty for cluster-scoped objects) and its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Key {
        Key {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The first key of `namespace`: every object in it sorts at or after this one, and the
    /// namespace's objects are contiguous from here.
    pub fn first_in(namespace: &str) -> Key {
        Key::new(namespace, "")
    }

    /// The bytes etcd compares: `<namespace>/<name>`.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.namespace
            .bytes()
            .chain(std::iter::once(b'/'))
            .chain(self.name.bytes())
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        // Names and namespaces never contain '/', so the bytes decide; the fields break the tie
        // only for keys no API server would accept, keeping Ord consistent with Eq.
        self.bytes()
            .cmp(other.bytes())
            .then_with(|| self.namespace.cmp(&other.namespace))
            .then_with(|| self.name.cmp(&other.name))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn namespaces_sort_as_etcd_keys_do() {
        let mut keys = [
            Key::new("shop", "b"),
            Key::new("shop-eu", "a"),
            Key::new("shop", "a"),
            Key::new("sho", "z"),
        ];
        keys.sort();
        let spelled: Vec<String> = keys
            .iter()
            .map(|k| format!("{}/{}", k.namespace, k.name))
            .collect();
        assert_eq!(spelled, ["sho/z", "shop-eu/a", "shop/a", "shop/b"]);
    }

    #[test]
    fn a_namespace_starts_at_its_first_key_and_is_contiguous() {
        let keys = [
            Key::new("shop-eu", "a"),
            Key::new("shop", ""),
            Key::new("shop", "a"),
        ];
        assert!(Key::first_in("shop") > keys[0]);
        assert!(Key::first_in("shop") <= keys[2]);
        assert!(Key::new("shop", "zzz") < Key::first_in("shopa"));
    }
}
