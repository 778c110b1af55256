//! The CEL text the policies are built from: literals, map and list comparisons, the classifier
//! test, and the anchored image and `previous`-record patterns of the allowed repositories. Pure
//! string building; never evaluates anything.

use serde_json::{Value, json};

use crate::plan::annotations::{CLASSIFIER, Classifier, LEGACY_CLASSIFIER};
use crate::plan::image::repository_of;

/// A CEL string literal.
pub(super) fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A CEL list of string literals.
pub(super) fn list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|it| lit(it.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// CEL: map `new` equals map `old` key by key (deep equality of the values), except that keys of
/// `dropped` may be missing from `new` and keys of `added` may be added to it or differ. A key
/// nobody listed, present on either side, must be present on both with equal values.
pub(super) fn copied(new: &str, old: &str, dropped: &[&str], added: &[&str]) -> String {
    if dropped.is_empty() && added.is_empty() {
        return format!("{new} == {old}");
    }
    let keep = if dropped.is_empty() {
        format!("(k in {old} && {new}[k] == {old}[k])")
    } else {
        format!(
            "(k in {old} && !(k in {}) && {new}[k] == {old}[k])",
            list(dropped)
        )
    };
    let new_side = if added.is_empty() {
        format!("{new}.all(k, {keep})")
    } else {
        format!("{new}.all(k, k in {} || {keep})", list(added))
    };
    let mut either: Vec<&str> = dropped.to_vec();
    either.extend(added.iter().filter(|it| !dropped.contains(it)));
    format!(
        "{new_side} && {old}.all(k, k in {} || k in {new})",
        list(&either)
    )
}

/// CEL: maps `new` and `old` are equal but for the keys of `except`.
pub(super) fn same_except(new: &str, old: &str, except: &[&str]) -> String {
    copied(new, old, except, except)
}

/// CEL: the value of `key` in map `map`, or an empty map (list) when it is missing.
pub(super) fn or_empty_map(map: &str, key: &str) -> String {
    format!("{} in {map} ? {map}[{}] : dyn({{}})", lit(key), lit(key))
}

pub(super) fn or_empty_list(map: &str, key: &str) -> String {
    format!("{} in {map} ? {map}[{}] : dyn([])", lit(key), lit(key))
}

/// CEL: the annotations `annotations` (a map) list one of `classifiers` in either classifier
/// annotation: comma-separated lists, spaces around entries ignored, as `annotations::OptIn` reads
/// them (a regular expression rather than `split`, which needs the strings extension).
pub(super) fn lists_classifier(annotations: &str, classifiers: &[Classifier]) -> String {
    let alternatives: Vec<String> = classifiers
        .iter()
        .map(|it| escape(&it.to_string()))
        .collect();
    let pattern = format!(r"(^|,)\s*({})\s*(,|$)", alternatives.join("|"));
    format!(
        "{}.exists(key, key in {annotations} && {annotations}[key].matches({}))",
        list(&[CLASSIFIER, LEGACY_CLASSIFIER]),
        lit(&pattern)
    )
}

/// A validation: the expression, a fixed message, and the same message after the requester's name.
pub(super) fn validation(expression: String, message: &str) -> Value {
    json!({
        "expression": expression,
        "message": format!("the CI token {message}"),
        "messageExpression": format!("request.userInfo.username + {}", lit(&format!(" {message}"))),
    })
}

pub(super) fn variable(name: &str, expression: String) -> Value {
    json!({"name": name, "expression": expression})
}

/// The image pattern (anchored) of the repositories: any tag and/or digest.
pub(super) fn image_pattern(repositories: &[String]) -> String {
    let alternatives: Vec<String> = repositories
        .iter()
        .flat_map(|it| spellings(it))
        .map(|it| escape(&it))
        .collect();
    format!(
        "({})(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(@sha256:[a-f0-9]{{64}})?",
        alternatives.join("|")
    )
}

/// A CEL test that `image` (an expression) names one of the
/// repositories: anchored, so `registry.example.com.evil.io/...` does not pass for
/// `registry.example.com/...`.
pub(super) fn image_allowed(image: &str, repositories: &[String]) -> String {
    format!(
        "{image}.matches({})",
        lit(&format!("^{}$", image_pattern(repositories)))
    )
}

/// The pattern of the `kubectl-update.io/previous` record (`patch::Previous` as serde_json writes
/// it) whose previous and target images all belong to the repositories.
pub(super) fn record_pattern(repositories: &[String]) -> String {
    let image = image_pattern(repositories);
    let entry = format!(
        r#"\{{"name":"[a-z0-9]([-a-z0-9]*[a-z0-9])?"(,"init":true)?,"previous":"{image}","target":"{image}"\}}"#
    );
    format!(
        r#"^\{{"containers":\[{entry}(,{entry})*\],"time":"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,9}})?(Z|[+-][0-9]{{2}}:[0-9]{{2}})"\}}$"#
    )
}

/// Every way a container may spell a repository (docker.io's short forms included).
pub(super) fn spellings(repository: &str) -> Vec<String> {
    let Ok(normalised) = repository_of(repository) else {
        return vec![repository.to_owned()];
    };
    let normalised = normalised.to_string();
    let mut res = vec![normalised.clone()];
    if let Some(path) = normalised.strip_prefix("docker.io/") {
        res.push(path.to_owned());
        res.push(format!("index.docker.io/{path}"));
        if let Some(name) = path.strip_prefix("library/") {
            res.push(name.to_owned());
            res.push(format!("docker.io/{name}"));
            res.push(format!("index.docker.io/{name}"));
        }
    }
    res
}

pub(super) fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if ".+*?()[]{}|^$\\".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}
