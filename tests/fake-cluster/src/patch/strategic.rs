//! Strategic merge patch (`application/strategic-merge-patch+json`) for the built-in types: maps
//! merge, `null` deletes, lists merge by their patch merge key (or are replaced), and the
//! directives `$patch`, `$setElementOrder/<list>`, `$retainKeys` and
//! `$deleteFromPrimitiveList/<list>`. Never consults OpenAPI: merge keys come from the compiled-in
//! `list_strategy` table.

use serde_json::{Map, Value};

/// How a list field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Replaced wholesale.
    Replace,
    /// Elements merged by this key.
    MergeByKey(&'static str),
    /// A set of primitives (e.g. `finalizers`): union.
    MergePrimitives,
}

/// The patch strategy of the list at `field`, given the names of the enclosing fields (`path`).
pub fn list_strategy(path: &[String], field: &str) -> ListStrategy {
    let parent = path.last().map(String::as_str).unwrap_or("");
    let in_container = path.iter().any(|p| {
        matches!(
            p.as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        )
    });
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "imagePullSecrets"
        | "volumes"
        | "resourceClaims"
        | "schedulingGates" => ListStrategy::MergeByKey("name"),
        "env" if in_container => ListStrategy::MergeByKey("name"),
        "ports" if in_container => ListStrategy::MergeByKey("containerPort"),
        "ports" if parent == "spec" => ListStrategy::MergeByKey("port"),
        "volumeMounts" => ListStrategy::MergeByKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeByKey("devicePath"),
        "hostAliases" => ListStrategy::MergeByKey("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeByKey("topologyKey"),
        "ownerReferences" if parent == "metadata" => ListStrategy::MergeByKey("uid"),
        "finalizers" if parent == "metadata" => ListStrategy::MergePrimitives,
        "conditions" => ListStrategy::MergeByKey("type"),
        "addresses" if parent == "status" => ListStrategy::MergeByKey("type"),
        _ => ListStrategy::Replace,
    }
}

/// Applies `patch` to `original`, returning the result.
pub fn apply(original: &Value, patch: &Value) -> Result<Value, String> {
    match (original, patch) {
        (Value::Object(o), Value::Object(p)) => {
            let mut out = o.clone();
            merge_map(&mut out, p, &mut Vec::new())?;
            Ok(Value::Object(out))
        }
        (_, Value::Object(p)) => {
            let mut out = Map::new();
            merge_map(&mut out, p, &mut Vec::new())?;
            Ok(Value::Object(out))
        }
        _ => Err("a strategic merge patch must be a JSON object".into()),
    }
}

/// Removes directives from a value that is inserted as-is (no original to merge into).
fn clean(value: &Value, path: &mut Vec<String>) -> Result<Value, String> {
    match value {
        Value::Object(p) => {
            let mut out = Map::new();
            merge_map(&mut out, p, path)?;
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                if item.get("$patch").is_some() {
                    continue;
                }
                out.push(clean(item, path)?);
            }
            Ok(Value::Array(out))
        }
        other => Ok(other.clone()),
    }
}

fn merge_map(
    orig: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Result<(), String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            orig.clear();
            let mut rest = patch.clone();
            rest.remove("$patch");
            for (k, v) in rest {
                path.push(k.clone());
                let cleaned = clean(&v, path)?;
                path.pop();
                orig.insert(k, cleaned);
            }
            return Ok(());
        }
        Some("delete") => {
            orig.clear();
            return Ok(());
        }
        Some(other) => return Err(format!("Unknown patch type: {other}")),
        None => {}
    }
    if let Some(retain) = patch.get("$retainKeys") {
        let keep: Vec<&str> = retain
            .as_array()
            .ok_or("$retainKeys must be a list")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        orig.retain(|k, _| keep.contains(&k.as_str()));
    }
    let mut orders: Vec<(String, &Value)> = Vec::new();
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix("$setElementOrder/") {
            orders.push((field.to_string(), value));
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let remove = value
                .as_array()
                .ok_or("$deleteFromPrimitiveList must be a list")?;
            if let Some(Value::Array(items)) = orig.get_mut(field) {
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            orig.remove(key);
            continue;
        }
        path.push(key.clone());
        let merged = match (orig.get_mut(key), value) {
            (Some(Value::Object(o)), Value::Object(p)) => {
                if p.get("$patch").and_then(Value::as_str) == Some("delete") {
                    None
                } else {
                    merge_map(o, p, path)?;
                    Some(None)
                }
            }
            (Some(Value::Array(o)), Value::Array(p)) => {
                let parent: Vec<String> = path[..path.len() - 1].to_vec();
                let strategy = list_strategy(&parent, key);
                let new = merge_list(o, p, strategy, path)?;
                Some(Some(Value::Array(new)))
            }
            (_, Value::Object(p)) if p.get("$patch").and_then(Value::as_str) == Some("delete") => {
                None
            }
            (_, v) => Some(Some(clean(v, path)?)),
        };
        path.pop();
        match merged {
            None => {
                orig.remove(key);
            }
            Some(Some(v)) => {
                orig.insert(key.clone(), v);
            }
            Some(None) => {}
        }
    }
    for (field, order) in orders {
        let parent: Vec<String> = path.clone();
        let strategy = list_strategy(&parent, &field);
        if let (Some(Value::Array(items)), Some(order)) = (orig.get_mut(&field), order.as_array()) {
            reorder(items, order, strategy);
        }
    }
    Ok(())
}

fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item.get(key)
}

fn merge_list(
    orig: &[Value],
    patch: &[Value],
    strategy: ListStrategy,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    // A list-level `{"$patch": "replace"}` element replaces the whole list with the others.
    if patch.iter().any(|p| {
        p.get("$patch").and_then(Value::as_str) == Some("replace")
            && p.as_object().is_some_and(|m| m.len() == 1)
    }) {
        let rest: Vec<Value> = patch
            .iter()
            .filter(|p| p.get("$patch").is_none())
            .cloned()
            .collect();
        return rest.iter().map(|v| clean(v, path)).collect();
    }
    match strategy {
        ListStrategy::Replace => patch.iter().map(|v| clean(v, path)).collect(),
        ListStrategy::MergePrimitives => {
            let mut out = orig.to_vec();
            for p in patch {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            Ok(out)
        }
        ListStrategy::MergeByKey(key) => {
            let mut out = orig.to_vec();
            for p in patch {
                let Some(pk) = key_of(p, key).cloned() else {
                    // Elements without the merge key cannot be matched; append them.
                    if p.is_object() {
                        out.push(clean(p, path)?);
                    }
                    continue;
                };
                let pos = out.iter().position(|o| key_of(o, key) == Some(&pk));
                let directive = p.get("$patch").and_then(Value::as_str);
                match (pos, directive) {
                    (Some(i), Some("delete")) => {
                        out.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), Some("replace")) => {
                        let mut m = p.as_object().cloned().unwrap_or_default();
                        m.remove("$patch");
                        out[i] = clean(&Value::Object(m), path)?;
                    }
                    (Some(i), _) => {
                        if let (Value::Object(o), Value::Object(pm)) = (&mut out[i], p) {
                            merge_map(o, pm, path)?;
                        }
                    }
                    (None, _) => out.push(clean(p, path)?),
                }
            }
            Ok(out)
        }
    }
}

/// Applies `$setElementOrder`: listed elements take the listed order; the others keep their
/// relative positions after them.
fn reorder(items: &mut Vec<Value>, order: &[Value], strategy: ListStrategy) {
    let matches = |item: &Value, o: &Value| match strategy {
        ListStrategy::MergeByKey(key) => {
            key_of(o, key).is_some() && key_of(item, key) == key_of(o, key)
        }
        _ => item == o,
    };
    let mut ordered = Vec::with_capacity(items.len());
    let mut rest: Vec<Value> = items.clone();
    for o in order {
        if let Some(i) = rest.iter().position(|item| matches(item, o)) {
            ordered.push(rest.remove(i));
        }
    }
    ordered.extend(rest);
    *items = ordered;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_image_patch_changes_one_container() {
        let dep = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "side", "image": "busybox"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"image": "nginx:3", "name": "app"}]
        }}}});
        let out = apply(&dep, &patch).unwrap();
        let containers = out.pointer("/spec/template/spec/containers").unwrap();
        assert_eq!(containers[0]["image"], "nginx:3");
        assert_eq!(containers[0]["ports"][0]["containerPort"], 80);
        assert_eq!(containers[1]["image"], "busybox");
    }

    #[test]
    fn merge_keys_and_directives() {
        let pod = json!({"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}},
            "spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "args": ["x"]}],
            "tolerations": [{"key": "k"}]}});
        let patch = json!({"metadata": {"finalizers": ["b"], "labels": {"x": null}},
            "spec": {"containers": [{"name": "app", "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}], "args": ["y"]},
                                    {"name": "new", "image": "i"}],
            "tolerations": [{"key": "j"}]}});
        let out = apply(&pod, &patch).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(out["metadata"]["labels"], json!({"y": "2"}));
        let c = &out["spec"]["containers"];
        assert_eq!(
            c[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(c[0]["args"], json!(["y"]));
        assert_eq!(c[1]["name"], "new");
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "j"}]));
    }

    #[test]
    fn replace_retain_keys_and_primitive_delete() {
        let dep = json!({"metadata": {"finalizers": ["a", "b"]},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, "selector": {"matchLabels": {"a": "1"}}}});
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                     "selector": {"$patch": "replace", "matchLabels": {"b": "2"}}}});
        let out = apply(&dep, &patch).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"b": "2"}}));
    }

    #[test]
    fn set_element_order_reorders() {
        let orig = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        let patch =
            json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}});
        let out = apply(&orig, &patch).unwrap();
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c", "a", "b"]);
    }

    #[test]
    fn conditions_merge_by_type() {
        let orig = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "X", "status": "True"}]}});
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let out = apply(&orig, &patch).unwrap();
        assert_eq!(
            out["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "X", "status": "True"}])
        );
    }
}
