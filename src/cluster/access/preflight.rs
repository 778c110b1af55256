//! The preflight: before any write, asks the API server whether the token may make every call a plan
//! needs, and fails listing each missing permission with the rule that grants it. One
//! SelfSubjectRulesReview per namespace answers most needs at once; SelfSubjectAccessReviews ask
//! about the rest (when the server says its rule list is incomplete, e.g. with a webhook
//! authorizer, or does not answer one). Never writes anything but the reviews, which the API server
//! does not store.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, ResourceRule, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use crate::cluster::access::{Need, matching};
use crate::cluster::{Cluster, api_failure};
use crate::error::{Exit, Failure};

/// Reviews in flight at once.
const CONCURRENCY: usize = 8;

/// What the rules reviews said, per namespace: the rules, and whether they are the whole answer.
/// A namespace without an entry (cluster-wide needs, or a review that failed) is asked about need
/// by need.
struct Rules(BTreeMap<String, Answer>);

/// One namespace's rules, and whether the server says they are complete.
type Answer = (Vec<ResourceRule>, bool);

impl Rules {
    /// One rules review per namespace of `needs`, several at once.
    async fn fetch(cluster: &Cluster, needs: &[Need]) -> Rules {
        let namespaces: BTreeSet<&String> = needs
            .iter()
            .filter_map(|need| need.namespace.as_ref())
            .collect();
        let reviews: Api<SelfSubjectRulesReview> = Api::all(cluster.client.clone());
        let answers: Vec<Option<(String, Answer)>> = futures::stream::iter(namespaces)
            .map(|namespace| {
                let reviews = reviews.clone();
                async move {
                    let review = SelfSubjectRulesReview {
                        spec: SelfSubjectRulesReviewSpec {
                            namespace: Some(namespace.clone()),
                        },
                        ..SelfSubjectRulesReview::default()
                    };
                    let params = PostParams::default();
                    let answer =
                        crate::cluster::retry::idempotent(|| reviews.create(&params, &review))
                            .await
                            .ok()?;
                    let status = answer.status?;
                    let complete = !status.incomplete;
                    Some((namespace.clone(), (status.resource_rules, complete)))
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        Rules(answers.into_iter().flatten().collect())
    }

    /// `Some(answer)` when the rules settle it; `None` when an access review must.
    fn answer(&self, need: &Need) -> Option<bool> {
        let (rules, complete) = self.0.get(need.namespace.as_ref()?)?;
        if matching::allows(rules, need) {
            Some(true)
        } else {
            complete.then_some(false)
        }
    }
}

/// Answers each need from the rules where they settle it, and with one access review otherwise.
async fn review_all(
    cluster: &Cluster,
    rules: &Rules,
    needs: Vec<Need>,
) -> anyhow::Result<Vec<(Need, bool)>> {
    let mut res = Vec::new();
    let mut ask = Vec::new();
    for need in needs {
        match rules.answer(&need) {
            Some(allowed) => res.push((need, allowed)),
            None => ask.push(need),
        }
    }
    let reviews: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let answers: Vec<Result<(Need, bool), Failure>> = futures::stream::iter(ask)
        .map(|need| {
            let reviews = reviews.clone();
            async move {
                let review = SelfSubjectAccessReview {
                    spec: SelfSubjectAccessReviewSpec {
                        resource_attributes: Some(ResourceAttributes {
                            namespace: need.namespace.clone(),
                            name: need.name.clone(),
                            verb: Some(need.permission.verb.to_owned()),
                            group: Some(need.permission.group.to_owned()),
                            resource: Some(need.permission.resource.to_owned()),
                            subresource: need.permission.subresource.map(str::to_owned),
                            ..ResourceAttributes::default()
                        }),
                        ..SelfSubjectAccessReviewSpec::default()
                    },
                    ..SelfSubjectAccessReview::default()
                };
                let params = PostParams::default();
                let answer = crate::cluster::retry::idempotent(|| reviews.create(&params, &review))
                    .await
                    .map_err(|err| api_failure(&err, None, &cluster.server))?;
                Ok((need, answer.status.is_some_and(|it| it.allowed)))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    res.extend(answers.into_iter().collect::<Result<Vec<_>, Failure>>()?);
    Ok(res)
}

/// Asks the API server and fails listing every missing permission.
pub async fn preflight(cluster: &Cluster, needs: &[Need]) -> anyhow::Result<()> {
    let rules = Rules::fetch(cluster, needs).await;
    // Each permission and namespace broadly first; object names are asked about only where the
    // broad answer is no (a Role narrowed with resourceNames).
    let broad: Vec<Need> = needs
        .iter()
        .map(|need| Need {
            name: None,
            ..need.clone()
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut missing = Vec::new();
    let mut narrowed = Vec::new();
    for (need, allowed) in review_all(cluster, &rules, broad).await? {
        if allowed {
            continue;
        }
        let named: Vec<Need> = needs
            .iter()
            .filter(|it| {
                it.name.is_some()
                    && it.permission == need.permission
                    && it.namespace == need.namespace
            })
            .cloned()
            .collect();
        if named.is_empty() {
            missing.push(need);
        } else {
            if need.permission.verb == "watch"
                && let Some(namespace) = &need.namespace
            {
                cluster
                    .named_watches
                    .lock()
                    .expect("the named-watch set")
                    .insert((namespace.clone(), need.permission.resource));
            }
            narrowed.extend(named);
        }
    }
    for (need, allowed) in review_all(cluster, &rules, narrowed).await? {
        if !allowed {
            missing.push(need);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
    let mut failure = Failure::new(
        Exit::Failed,
        format!("forbidden: this token may not {}", list.join("; ")),
    );
    for need in &missing {
        failure = failure.hint(crate::cluster::grant_hint(&need.permission));
    }
    failure = failure.hint("nothing was changed");
    Err(failure.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::access::Permission;

    fn need(namespace: Option<&str>, verb: &'static str) -> Need {
        Need {
            permission: Permission {
                group: "apps",
                resource: "deployments",
                subresource: None,
                verb,
            },
            namespace: namespace.map(str::to_owned),
            name: None,
        }
    }

    fn rules(complete: bool) -> Rules {
        let rule = ResourceRule {
            verbs: vec!["list".into()],
            api_groups: Some(vec!["apps".into()]),
            resources: Some(vec!["deployments".into()]),
            resource_names: None,
        };
        Rules(BTreeMap::from([(
            "shop".to_owned(),
            (vec![rule], complete),
        )]))
    }

    #[test]
    fn complete_rules_settle_both_ways() {
        let rules = rules(true);
        assert_eq!(rules.answer(&need(Some("shop"), "list")), Some(true));
        assert_eq!(rules.answer(&need(Some("shop"), "patch")), Some(false));
    }

    #[test]
    fn incomplete_rules_only_say_yes_and_others_are_asked() {
        let rules = rules(false);
        assert_eq!(rules.answer(&need(Some("shop"), "list")), Some(true));
        assert_eq!(rules.answer(&need(Some("shop"), "patch")), None);
        assert_eq!(
            rules.answer(&need(Some("other"), "list")),
            None,
            "no review"
        );
        assert_eq!(rules.answer(&need(None, "list")), None, "cluster-wide");
    }
}
