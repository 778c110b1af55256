//! The annotations kubectl-update reads and writes, and the parser for classifier lists.
//!
//! A workload opts in with `kubectl-update.io/classifier: "stable, canary"`. The annotation of the
//! older in-cluster update manager, `xcnt.io/update-classifier`, is read the same way so manifests
//! written for it keep working. Pure; never writes an annotation (`patch` builds the writes).

use std::fmt;
use std::str::FromStr;

use crate::plan::facts::WorkloadFacts;

/// The annotation that opts a workload or migration template in.
pub const CLASSIFIER: &str = "kubectl-update.io/classifier";
/// The annotation kubernetes-update-manager used; read exactly like `CLASSIFIER`.
pub const LEGACY_CLASSIFIER: &str = "xcnt.io/update-classifier";
/// Both classifier annotations, primary first.
pub const CLASSIFIER_KEYS: [&str; 2] = [CLASSIFIER, LEGACY_CLASSIFIER];
/// The annotation saying when a migration template runs: `forward` (the default: before any
/// workload changes) or `rollback` (after a failed rollout was rolled back, see `Phase`).
pub const MIGRATION: &str = "kubectl-update.io/migration";

/// When a migration template runs (its `kubectl-update.io/migration` annotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before any workload changes (no annotation, or `forward`).
    Forward,
    /// Only after a rollout failed following forward migrations and the workloads were rolled
    /// back.
    Rollback,
}

impl Phase {
    /// Reads the annotation's value (`None` when absent); surrounding spaces and case are ignored.
    pub fn read(value: Option<&str>) -> Result<Phase, MalformedAnnotation> {
        match value.map(|it| it.trim().to_ascii_lowercase()).as_deref() {
            None | Some("forward") => Ok(Phase::Forward),
            Some("rollback") => Ok(Phase::Rollback),
            Some(_) => Err(MalformedAnnotation {
                key: MIGRATION,
                value: value.unwrap_or_default().to_owned(),
                reason: "it must be `forward` or `rollback`".to_owned(),
            }),
        }
    }

    /// Reads it from a migration template's facts.
    pub fn of(facts: &WorkloadFacts) -> Result<Phase, MalformedAnnotation> {
        Phase::read(facts.annotation(MIGRATION))
    }
}

/// A validated classifier: 1-63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Classifier(String);

impl Classifier {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Classifier {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.is_empty() {
            return Err("a classifier cannot be empty".to_owned());
        }
        if value.len() > 63 {
            return Err(format!(
                "a classifier has at most 63 characters, this one has {}",
                value.len()
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "a classifier may only hold letters, digits, `.`, `_` and `-`, not {bad:?}"
            ));
        }
        let alphanumeric_ends = value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !alphanumeric_ends {
            return Err("a classifier must start and end with a letter or digit".to_owned());
        }
        Ok(Classifier(value.to_owned()))
    }
}

/// The classifiers an object opted into, from whichever classifier annotations it carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptIn {
    /// Every classifier listed, in order, without duplicates.
    pub classifiers: Vec<Classifier>,
}

/// A classifier annotation whose value does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedAnnotation {
    pub key: &'static str,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for MalformedAnnotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "annotation {}={:?} is malformed: {}",
            self.key, self.value, self.reason
        )
    }
}

impl OptIn {
    /// Reads both classifier annotations from an object's `metadata.annotations`. `None` means the
    /// object carries neither.
    pub fn from_annotations(
        annotations: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Option<OptIn>, MalformedAnnotation> {
        let Some(annotations) = annotations else {
            return Ok(None);
        };
        OptIn::read(|key| {
            annotations.get(key).map(|value| match value.as_str() {
                Some(text) => (text, None),
                None => ("", Some(value.to_string())),
            })
        })
    }

    /// Reads both classifier annotations from a workload's facts. `None` means it carries
    /// neither.
    pub fn from_facts(facts: &WorkloadFacts) -> Result<Option<OptIn>, MalformedAnnotation> {
        OptIn::read(|key| facts.annotation(key).map(|text| (text, None)))
    }

    /// `lookup` gives an annotation's text and, when it is not a string, how to show it.
    fn read<'a>(
        lookup: impl Fn(&str) -> Option<(&'a str, Option<String>)>,
    ) -> Result<Option<OptIn>, MalformedAnnotation> {
        let mut found = false;
        let mut classifiers: Vec<Classifier> = Vec::new();
        for key in CLASSIFIER_KEYS {
            let Some((text, shown)) = lookup(key) else {
                continue;
            };
            found = true;
            for classifier in parse_list(text).map_err(|reason| MalformedAnnotation {
                key,
                value: shown.clone().unwrap_or_else(|| text.to_owned()),
                reason,
            })? {
                if !classifiers.contains(&classifier) {
                    classifiers.push(classifier);
                }
            }
        }
        Ok(found.then_some(OptIn { classifiers }))
    }

    pub fn lists(&self, classifier: &Classifier) -> bool {
        self.classifiers.contains(classifier)
    }
}

/// Parses a comma-separated classifier list; whitespace around each entry is trimmed.
pub fn parse_list(value: &str) -> Result<Vec<Classifier>, String> {
    value
        .split(',')
        .map(|entry| {
            let entry = entry.trim();
            entry.parse::<Classifier>().map_err(|reason| {
                if entry.is_empty() {
                    "the list has an empty entry".to_owned()
                } else {
                    format!("{entry:?}: {reason}")
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn opt_in(annotations: serde_json::Value) -> Result<Option<Vec<String>>, String> {
        OptIn::from_annotations(annotations.as_object())
            .map(|found| found.map(|it| it.classifiers.iter().map(|c| c.to_string()).collect()))
            .map_err(|err| err.to_string())
    }

    #[test]
    fn classifier_rules() {
        for good in ["stable", "a", "v1.2_rc-3", "A9", &"x".repeat(63)] {
            assert!(good.parse::<Classifier>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "-stable",
            "stable-",
            ".x",
            "sta ble",
            "st@ble",
            "ünïcode",
            &"x".repeat(64),
        ] {
            assert!(bad.parse::<Classifier>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_merged_across_both_keys() {
        assert_eq!(
            opt_in(json!({CLASSIFIER: " stable , canary", LEGACY_CLASSIFIER: "canary,test"})),
            Ok(Some(vec!["stable".into(), "canary".into(), "test".into()]))
        );
        assert_eq!(
            opt_in(json!({LEGACY_CLASSIFIER: "stable"})),
            Ok(Some(vec!["stable".into()]))
        );
        assert_eq!(opt_in(json!({"other": "x"})), Ok(None));
        assert_eq!(opt_in(serde_json::Value::Null), Ok(None));
    }

    #[test]
    fn malformed_lists_name_the_annotation_and_value() {
        let err = opt_in(json!({CLASSIFIER: "stable,,canary"})).unwrap_err();
        assert_eq!(
            err,
            r#"annotation kubectl-update.io/classifier="stable,,canary" is malformed: the list has an empty entry"#
        );
        let err = opt_in(json!({LEGACY_CLASSIFIER: "st@ble"})).unwrap_err();
        assert!(
            err.contains("xcnt.io/update-classifier") && err.contains("not '@'"),
            "{err}"
        );
        assert!(opt_in(json!({CLASSIFIER: ""})).is_err());
    }

    #[test]
    fn migration_phases() {
        assert_eq!(Phase::read(None), Ok(Phase::Forward));
        assert_eq!(Phase::read(Some("forward")), Ok(Phase::Forward));
        assert_eq!(Phase::read(Some(" Rollback ")), Ok(Phase::Rollback));
        let err = Phase::read(Some("rolback")).unwrap_err().to_string();
        assert_eq!(
            err,
            r#"annotation kubectl-update.io/migration="rolback" is malformed: it must be `forward` or `rollback`"#
        );
        assert!(Phase::read(Some("")).is_err());
    }
}
