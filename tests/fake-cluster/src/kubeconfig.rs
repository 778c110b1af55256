//! Kubeconfig files pointing at the simulator: one cluster, one user (a bearer token), one
//! context named `fake-cluster`. Never writes files; the cluster writes them (mode 0600).

use base64::{Engine, engine::general_purpose::STANDARD};

/// Renders a kubeconfig. `ca_pem` is None for plain HTTP.
pub fn render(url: &str, ca_pem: Option<&str>, token: &str, user: &str, namespace: &str) -> String {
    let ca = match ca_pem {
        Some(pem) => format!("    certificate-authority-data: {}\n", STANDARD.encode(pem)),
        None => String::new(),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake-cluster
  cluster:
    server: {url}
{ca}users:
- name: {user}
  user:
    token: {token}
contexts:
- name: fake-cluster
  context:
    cluster: fake-cluster
    user: {user}
    namespace: {namespace}
current-context: fake-cluster
preferences: {{}}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_a_kube_config() {
        let yaml = render(
            "https://127.0.0.1:1234",
            Some("PEM"),
            "tok",
            "admin",
            "default",
        );
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("fake-cluster"));
        assert_eq!(
            kc.contexts[0]
                .context
                .as_ref()
                .unwrap()
                .namespace
                .as_deref(),
            Some("default")
        );
    }
}
