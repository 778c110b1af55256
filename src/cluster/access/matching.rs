//! Whether the rules a SelfSubjectRulesReview returned allow one need, matched the way the API
//! server's RBAC authorizer matches a request against a rule (verbs, API groups, resources with
//! `*` and `*/subresource`, resource names). Pure: never contacts the cluster.

use k8s_openapi::api::authorization::v1::ResourceRule;

use crate::cluster::access::Need;

/// `*` in a rule's verbs, API groups or resources.
const ALL: &str = "*";

/// True when one of `rules` allows `need`. Rules narrowed with `resourceNames` allow only calls
/// that name one of those objects, as in RBAC: a list or create (no name) is not allowed by them.
pub fn allows(rules: &[ResourceRule], need: &Need) -> bool {
    rules.iter().any(|rule| rule_allows(rule, need))
}

fn rule_allows(rule: &ResourceRule, need: &Need) -> bool {
    let permission = &need.permission;
    let verb = rule
        .verbs
        .iter()
        .any(|verb| verb == ALL || verb == permission.verb);
    let group = rule
        .api_groups
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|group| group == ALL || group == permission.group);
    verb && group && resource_matches(rule, need) && name_matches(rule, need)
}

fn resource_matches(rule: &ResourceRule, need: &Need) -> bool {
    let permission = &need.permission;
    let combined = match permission.subresource {
        Some(sub) => format!("{}/{sub}", permission.resource),
        None => permission.resource.to_owned(),
    };
    rule.resources
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|resource| {
            resource == ALL
                || *resource == combined
                || permission
                    .subresource
                    .is_some_and(|sub| resource.strip_prefix("*/") == Some(sub))
        })
}

fn name_matches(rule: &ResourceRule, need: &Need) -> bool {
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => need
            .name
            .as_ref()
            .is_some_and(|name| names.iter().any(|it| it == name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::access::Permission;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        let strings = |it: &[&str]| it.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        ResourceRule {
            verbs: strings(verbs),
            api_groups: Some(strings(groups)),
            resources: Some(strings(resources)),
            resource_names: (!names.is_empty()).then(|| strings(names)),
        }
    }

    fn need(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        sub: Option<&'static str>,
        name: Option<&str>,
    ) -> Need {
        Need {
            permission: Permission {
                group,
                resource,
                subresource: sub,
                verb,
            },
            namespace: Some("shop".into()),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn exact_rules_allow_only_their_verbs_group_and_resource() {
        let rules = [rule(&["patch", "list"], &["apps"], &["deployments"], &[])];
        assert!(allows(
            &rules,
            &need("patch", "apps", "deployments", None, Some("web"))
        ));
        assert!(allows(
            &rules,
            &need("list", "apps", "deployments", None, None)
        ));
        assert!(!allows(
            &rules,
            &need("delete", "apps", "deployments", None, Some("web"))
        ));
        assert!(!allows(
            &rules,
            &need("list", "", "deployments", None, None)
        ));
        assert!(!allows(
            &rules,
            &need("list", "apps", "statefulsets", None, None)
        ));
        assert!(!allows(
            &[],
            &need("list", "apps", "deployments", None, None)
        ));
    }

    #[test]
    fn wildcards_match_as_in_rbac() {
        let everything = [rule(&["*"], &["*"], &["*"], &[])];
        assert!(allows(
            &everything,
            &need("get", "", "pods", Some("log"), None)
        ));
        let logs_only = [rule(&["get"], &[""], &["*/log"], &[])];
        assert!(allows(
            &logs_only,
            &need("get", "", "pods", Some("log"), None)
        ));
        assert!(!allows(&logs_only, &need("get", "", "pods", None, None)));
        let pods = [rule(&["get"], &[""], &["pods"], &[])];
        assert!(
            !allows(&pods, &need("get", "", "pods", Some("log"), None)),
            "pods does not grant pods/log"
        );
        let pod_logs = [rule(&["get"], &[""], &["pods/log"], &[])];
        assert!(allows(
            &pod_logs,
            &need("get", "", "pods", Some("log"), None)
        ));
    }

    #[test]
    fn resource_names_allow_only_calls_naming_them() {
        let rules = [rule(
            &["get", "update"],
            &["coordination.k8s.io"],
            &["leases"],
            &["kubectl-update-stable"],
        )];
        let lease = |name| need("get", "coordination.k8s.io", "leases", None, name);
        assert!(allows(&rules, &lease(Some("kubectl-update-stable"))));
        assert!(!allows(&rules, &lease(Some("other"))));
        assert!(!allows(&rules, &lease(None)), "a broad ask is not narrowed");
    }
}
