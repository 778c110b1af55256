//! The Role rules the call table (`access::TABLE`) implies: one rule per resource, verbs in the
//! order of the table, optionally narrowed to object names. Pure. `kubectl update rbac` prints them
//! (`rbac`), and a refused call's hint names the rule that grants it; nothing here talks to the API.

use std::collections::BTreeMap;

use crate::cluster::access::{self, Permission};

/// Object names for `--resource-names`, by resource (e.g. `deployments` → `[web, api]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub by_resource: BTreeMap<String, Vec<String>>,
}

/// A Role rule: verbs on one resource of one API group, maybe limited to names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub group: String,
    pub resource: String,
    pub verbs: Vec<String>,
    pub names: Vec<String>,
}

/// Verbs whose requests name one object, and so can be limited with `resourceNames`. `list` is not
/// here: discovery lists every object of a kind. (`create` can never be name-scoped.)
const NAMEABLE: [&str; 5] = ["get", "patch", "update", "delete", "watch"];

/// The rules every namespace's Role holds, one per resource, verbs in the order of the table.
pub fn rules(names: Option<&Names>) -> Vec<Rule> {
    let mut by_resource: Vec<((String, String), Vec<String>)> = Vec::new();
    for permission in access::every_permission() {
        let key = (permission.group.to_owned(), resource_name(&permission));
        match by_resource.iter_mut().find(|(it, _)| *it == key) {
            Some((_, verbs)) => verbs.push(permission.verb.to_owned()),
            None => by_resource.push((key, vec![permission.verb.to_owned()])),
        }
    }
    let mut res = Vec::new();
    for ((group, resource), verbs) in by_resource {
        let scoped = names
            .and_then(|it| it.by_resource.get(&resource))
            .filter(|it| !it.is_empty());
        match scoped {
            Some(object_names) => {
                let (nameable, open): (Vec<String>, Vec<String>) = verbs
                    .into_iter()
                    .partition(|verb| NAMEABLE.contains(&verb.as_str()));
                if !open.is_empty() {
                    res.push(Rule {
                        group: group.clone(),
                        resource: resource.clone(),
                        verbs: open,
                        names: Vec::new(),
                    });
                }
                if !nameable.is_empty() {
                    res.push(Rule {
                        group,
                        resource,
                        verbs: nameable,
                        names: object_names.clone(),
                    });
                }
            }
            None => res.push(Rule {
                group,
                resource,
                verbs,
                names: Vec::new(),
            }),
        }
    }
    res.sort_by(|a, b| (&a.group, &a.resource).cmp(&(&b.group, &b.resource)));
    res
}

/// The rule of `rules(None)` that grants a permission, described for error hints.
pub fn rule_granting(permission: &Permission) -> Option<String> {
    let resource = resource_name(permission);
    rules(None)
        .into_iter()
        .find(|rule| rule.group == permission.group && rule.resource == resource)
        .map(|rule| {
            let group = if rule.group.is_empty() {
                "\"\"".to_owned()
            } else {
                rule.group.clone()
            };
            format!(
                "apiGroups [{group}], resources [{}], verbs [{}]",
                rule.resource,
                rule.verbs.join(", ")
            )
        })
}

fn resource_name(permission: &Permission) -> String {
    match permission.subresource {
        Some(sub) => format!("{}/{sub}", permission.resource),
        None => permission.resource.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(rules: &[Rule]) -> Vec<String> {
        rules
            .iter()
            .map(|rule| {
                let names = if rule.names.is_empty() {
                    String::new()
                } else {
                    format!(" names={}", rule.names.join(","))
                };
                format!(
                    "{}/{}: {}{names}",
                    rule.group,
                    rule.resource,
                    rule.verbs.join(",")
                )
            })
            .collect()
    }

    #[test]
    fn the_role_is_exactly_the_call_table() {
        let rules = describe(&rules(None));
        assert!(
            rules.contains(&"apps/deployments: list,patch,watch".to_owned()),
            "{rules:#?}"
        );
        assert!(
            rules.contains(&"batch/cronjobs: list,patch".to_owned()),
            "CronJobs are patched, never watched: {rules:#?}"
        );
        assert!(rules.contains(&"/pods/log: get".to_owned()), "{rules:#?}");
        assert!(
            rules.contains(&"/events: list,create".to_owned()),
            "a failed rollout's Warning Events are read, the audit trail's created: {rules:#?}"
        );
        assert!(
            rules
                .iter()
                .any(|it| it.starts_with("batch/jobs: list,create")),
            "{rules:#?}"
        );
        assert!(
            !rules.iter().any(|it| it.contains('*')),
            "no wildcards: {rules:#?}"
        );
    }

    #[test]
    fn resource_names_narrow_only_nameable_verbs() {
        let names = Names {
            by_resource: BTreeMap::from([("deployments".to_owned(), vec!["web".to_owned()])]),
        };
        let rules = describe(&rules(Some(&names)));
        assert!(
            rules.contains(&"apps/deployments: list".to_owned()),
            "{rules:#?}"
        );
        assert!(
            rules.contains(&"apps/deployments: patch,watch names=web".to_owned()),
            "{rules:#?}"
        );
    }

    #[test]
    fn hints_name_the_granting_rule() {
        let permission = Permission {
            group: "apps",
            resource: "deployments",
            subresource: None,
            verb: "patch",
        };
        assert_eq!(
            rule_granting(&permission).unwrap(),
            "apiGroups [apps], resources [deployments], verbs [list, patch, watch]"
        );
    }
}
