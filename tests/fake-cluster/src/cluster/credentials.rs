//! Credentials for tests and demos: clients, minted and ServiceAccount tokens, kubeconfigs
//! (written mode 0600). Never changes what a token may do; RBAC decides that.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::FakeCluster;
use crate::auth::UserInfo;
use crate::{auth, kubeconfig, resources};

impl FakeCluster {
    /// An admin `kube::Client` (namespace `default`).
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        self.client_for_token(&self.admin_token, "default").await
    }

    /// A `kube::Client` authenticating with `token`.
    pub async fn client_for_token(
        &self,
        token: &str,
        namespace: &str,
    ) -> anyhow::Result<kube::Client> {
        let yaml = self.kubeconfig_for_token(token, namespace);
        let kc = kube::config::Kubeconfig::from_yaml(&yaml)?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await?;
        Ok(kube::Client::try_from(config)?)
    }

    /// Registers a static bearer token for `user` in `groups` (plus `system:authenticated`).
    pub fn mint_token(&self, user: &str, groups: &[&str]) -> String {
        let token = auth::random_token();
        self.state
            .authenticator()
            .register(&token, UserInfo::new(user, groups));
        token
    }

    /// Issues a token for an existing ServiceAccount, as TokenRequest does.
    pub fn service_account_token(
        &self,
        namespace: &str,
        name: &str,
        seconds: i64,
    ) -> anyhow::Result<String> {
        let uid = {
            let storage = self.state.storage();
            let def = resources::by_plural("serviceaccounts").context("serviceaccounts")?;
            let sa = storage
                .get(def, namespace, name)
                .with_context(|| format!("serviceaccount {namespace}/{name} not found"))?;
            sa.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let audiences = vec!["https://kubernetes.default.svc.cluster.local".to_string()];
        Ok(self
            .state
            .authenticator()
            .issue_service_account_token(namespace, name, &uid, &audiences, seconds)
            .0)
    }

    /// A kubeconfig for this cluster using `token`, with `namespace` as the context namespace.
    pub fn kubeconfig_for_token(&self, token: &str, namespace: &str) -> String {
        kubeconfig::render(&self.url, self.ca_pem.as_deref(), token, "user", namespace)
    }

    /// Writes [`Self::kubeconfig_for_token`] to `path` (mode 0600).
    pub fn write_kubeconfig_for_token(
        &self,
        path: impl AsRef<Path>,
        token: &str,
        namespace: &str,
    ) -> anyhow::Result<()> {
        write_private(path.as_ref(), &self.kubeconfig_for_token(token, namespace))
    }
}

pub(super) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}
