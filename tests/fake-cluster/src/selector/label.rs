//! Label selectors: the query-string syntax (`app=web,tier!=db,env in (a,b),!legacy`), the
//! structured `metav1.LabelSelector`, matching, and rendering back to a query. Never knows fields.

use serde_json::Value;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector: every requirement must hold. Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<Requirement>);

fn label_of<'a>(labels: &'a Value, key: &str) -> Option<&'a str> {
    labels.get(key).and_then(Value::as_str)
}

impl Requirement {
    fn matches(&self, labels: &Value) -> bool {
        match self {
            Requirement::Equals(k, v) => label_of(labels, k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => label_of(labels, k) != Some(v.as_str()),
            Requirement::In(k, vs) => {
                label_of(labels, k).is_some_and(|l| vs.iter().any(|v| v == l))
            }
            Requirement::NotIn(k, vs) => {
                label_of(labels, k).is_none_or(|l| !vs.iter().any(|v| v == l))
            }
            Requirement::Exists(k) => label_of(labels, k).is_some(),
            Requirement::DoesNotExist(k) => label_of(labels, k).is_none(),
        }
    }
}

impl LabelSelector {
    /// Parses the query syntax. Errors carry the real server's wording closely enough.
    pub fn parse(input: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part)?);
        }
        Ok(LabelSelector(reqs))
    }

    /// Builds the selector from a `metav1.LabelSelector` JSON object. `None` (or JSON null)
    /// selects nothing, as in `LabelSelectorAsSelector`; `{}` selects everything.
    pub fn from_json(selector: &Value) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in ml {
                reqs.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let req = match e
                    .get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::DoesNotExist(key),
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"));
                    }
                };
                reqs.push(req);
            }
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: &Value) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }

    /// Matches an object's `metadata.labels`.
    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(object.pointer("/metadata/labels").unwrap_or(&Value::Null))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The canonical string form (`LabelSelectorAsSelector(...).String()`): sorted by key.
    pub fn to_query(&self) -> String {
        let mut parts: Vec<(String, String)> = self
            .0
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => (k.clone(), format!("{k}={v}")),
                Requirement::NotEquals(k, v) => (k.clone(), format!("{k}!={v}")),
                Requirement::In(k, vs) => (k.clone(), format!("{k} in ({})", sorted(vs).join(","))),
                Requirement::NotIn(k, vs) => {
                    (k.clone(), format!("{k} notin ({})", sorted(vs).join(",")))
                }
                Requirement::Exists(k) => (k.clone(), k.clone()),
                Requirement::DoesNotExist(k) => (k.clone(), format!("!{k}")),
            })
            .collect();
        parts.sort();
        parts
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn sorted(vs: &[String]) -> Vec<String> {
    let mut v = vs.to_vec();
    v.sort();
    v
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&input[start..]);
    out
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        return if valid_key(key) {
            Ok(Requirement::DoesNotExist(key.to_string()))
        } else {
            Err(format!(
                "unable to parse requirement: invalid label key {key:?}"
            ))
        };
    }
    for (op, notin) in [(" notin ", true), (" in ", false)] {
        if let Some(idx) = part.find(op) {
            let key = part[..idx].trim();
            let rest = part[idx + op.len()..].trim();
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| {
                    format!("unable to parse requirement: found '{rest}', expected: '('")
                })?;
            let values: Vec<String> = inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if !valid_key(key) {
                return Err(format!(
                    "unable to parse requirement: invalid label key {key:?}"
                ));
            }
            return Ok(if notin {
                Requirement::NotIn(key.to_string(), values)
            } else {
                Requirement::In(key.to_string(), values)
            });
        }
    }
    let (key, value, negate) = if let Some((k, v)) = part.split_once("!=") {
        (k, v, true)
    } else if let Some((k, v)) = part.split_once("==") {
        (k, v, false)
    } else if let Some((k, v)) = part.split_once('=') {
        (k, v, false)
    } else {
        let key = part.trim();
        return if valid_key(key) {
            Ok(Requirement::Exists(key.to_string()))
        } else {
            Err(format!(
                "unable to parse requirement: invalid label key {key:?}"
            ))
        };
    };
    let (key, value) = (key.trim(), value.trim());
    if !valid_key(key) {
        return Err(format!(
            "unable to parse requirement: invalid label key {key:?}"
        ));
    }
    Ok(if negate {
        Requirement::NotEquals(key.to_string(), value.to_string())
    } else {
        Requirement::Equals(key.to_string(), value.to_string())
    })
}
