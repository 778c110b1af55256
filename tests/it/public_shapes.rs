//! Manifests written in the shape of public ones (online-boutique, Argo CD's install, ingress-nginx,
//! kube-prometheus, Istio's samples), with the features that make in-place edits hard: comments,
//! flow and block style, quotes, anchors, merge keys, empty documents, CRLF, no final newline.

/// A microservices demo (online-boutique): licence header, comments everywhere, empty documents,
/// trailing whitespace, octal modes, double-quoted and plain images, a sidecar that stays.
pub const BOUTIQUE: &str = "# Copyright 2018 Google LLC
#
# Licensed under the Apache License, Version 2.0 (the \"License\");
---
---   
# ----- frontend -----
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend   # the shop's web UI  
  labels: &labels {app: frontend, tier: web}
  annotations:
    kubectl-update.io/classifier: stable
spec:
  selector:
    matchLabels: *labels
  template:
    metadata:
      labels:
        <<: *labels
        version: \"1\"
    spec:
      securityContext: {fsGroup: 1000, runAsNonRoot: yes}
      volumes:
      - name: certs
        secret: {secretName: frontend-certs, defaultMode: 0400}
      containers:
        - name: server
          # pinned by CI
          image: \"gcr.io/google-samples/microservices-demo/frontend:v0.8.0\"   # keep
          ports:
          - containerPort: 0x1F90
          env:
          - {name: PORT, value: \"8080\"}
        - name: istio-proxy
          image: docker.io/istio/proxyv2:1.20.0
---
apiVersion: v1
kind: Service
metadata: {name: frontend}
spec:
  ports: [{port: 80, targetPort: 8080}]
  selector: {app: frontend}
---
# cartservice, another image
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cartservice
  annotations: {kubectl-update.io/classifier: 'stable'}
spec:
  selector: {matchLabels: {app: cartservice}}
  template:
    metadata: {labels: {app: cartservice}}
    spec:
      containers:
      - name: server
        image: gcr.io/google-samples/microservices-demo/cartservice:v0.8.0
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
...
";

/// Argo CD's install, flow style and single quotes, with CRLF line endings and no final newline.
pub const ARGO: &str = "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata: {name: argocd-server, namespace: argocd, annotations: {kubectl-update.io/classifier: stable}}\r\nspec:\r\n  selector: {matchLabels: {app.kubernetes.io/name: argocd-server}}\r\n  template:\r\n    metadata: {labels: {app.kubernetes.io/name: argocd-server}}\r\n    spec:\r\n      containers: [{name: argocd-server, image: 'quay.io/argoproj/argocd:v2.9.3', args: [/usr/local/bin/argocd-server]}]\r\n      initContainers: [{name: copyutil, image: 'quay.io/argoproj/argocd:v2.9.3', command: [cp]}]\r\n---\r\napiVersion: apps/v1\r\nkind: StatefulSet\r\nmetadata: {name: argocd-application-controller, namespace: argocd, annotations: {kubectl-update.io/classifier: stable}}\r\nspec:\r\n  serviceName: argocd-application-controller\r\n  selector: {matchLabels: {app: c}}\r\n  template:\r\n    metadata: {labels: {app: c}}\r\n    spec:\r\n      containers: [{name: c, image: \"quay.io/argoproj/argocd:v2.9.3\"}]";

/// ingress-nginx: a digest-pinned image defined once with an anchor and used again by alias.
pub const INGRESS: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  annotations:
    kubectl-update.io/classifier: stable
spec:
  selector: {matchLabels: {app: ingress}}
  template:
    metadata: {labels: {app: ingress}}
    spec:
      terminationGracePeriodSeconds: 300
      initContainers:
      - name: prepare
        image: &controller registry.k8s.io/ingress-nginx/controller:v1.9.4@sha256:5b161f051d017e55d358435f295f5e9a297e66158f136321d9b04520ec6c48a3
      containers:
      - name: controller
        image: *controller
        args: [/nginx-ingress-controller, --election-id=ingress-nginx-leader]
";

/// kube-prometheus ships JSON too (jsonnet output): two-space indented, kept as it is.
pub const PROMETHEUS_JSON: &str = r#"{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "annotations": {"kubectl-update.io/classifier": "stable"},
    "name": "prometheus-operator",
    "namespace": "monitoring"
  },
  "spec": {
    "selector": {"matchLabels": {"app": "prometheus-operator"}},
    "template": {
      "metadata": {"labels": {"app": "prometheus-operator"}},
      "spec": {
        "containers": [
          {"name": "prometheus-operator", "image": "quay.io/prometheus-operator/prometheus-operator:v0.70.0"},
          {"name": "kube-rbac-proxy", "image": "quay.io/brancz/kube-rbac-proxy:v0.15.0"}
        ]
      }
    }
  }
}
"#;

/// Istio samples: a `kind: List` with a CronJob and a near miss with another classifier.
pub const ISTIO_LIST: &str = "apiVersion: v1
kind: List
items:
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: reviews-report, annotations: {xcnt.io/update-classifier: stable}}
  spec:
    schedule: \"0 1 * * *\"
    jobTemplate:
      spec:
        template:
          spec:
            restartPolicy: OnFailure
            containers:
            - name: report
              image: >-
                docker.io/istio/examples-bookinfo-reviews-v1:1.18.0
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: ratings, annotations: {kubectl-update.io/classifier: canary}}
  spec:
    selector: {matchLabels: {app: ratings}}
    template:
      metadata: {labels: {app: ratings}}
      spec:
        containers: [{name: ratings, image: docker.io/istio/examples-bookinfo-ratings-v1:1.18.0}]
";
