//! `--write` and `-o diff` (issue #14): manifests kept in Git, in the shape of public ones, are
//! edited so that only the image lines differ, and kubectl (the `witness`) reads the result as
//! the original with only those images changed. Bad input changes no file.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::public_shapes::{ARGO, BOUTIQUE, INGRESS, ISTIO_LIST, PROMETHEUS_JSON};
use crate::support::{run, run_stdin};
use crate::witness;
use crate::yaml11::assert_same;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(files: &[(&str, &str)]) -> Case {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Case { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn update(&self, images: &[&str], extra: &[&str]) -> crate::support::Run {
        let mut args: Vec<String> = Vec::new();
        for image in images {
            args.extend(["-i".to_owned(), (*image).to_owned()]);
        }
        args.extend(["-c", "stable", "-f"].map(str::to_owned));
        args.push(self.dir.path().display().to_string());
        args.extend(extra.iter().map(|it| (*it).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    }
}

/// The file changed only on lines holding an image, each line only by `from` → `to`, and kubectl
/// reads it as the original with exactly those images replaced.
#[track_caller]
fn check_only_images(path: &Path, before: &str, replaced: &[(&str, &str)]) {
    let after = std::fs::read_to_string(path).unwrap();
    let mut expect = before.to_owned();
    for (from, to) in replaced {
        expect = expect.replace(from, to);
    }
    assert_eq!(after, expect, "{}", path.display());
    let (before_lines, after_lines): (Vec<&str>, Vec<&str>) = (
        before.split_inclusive('\n').collect(),
        after.split_inclusive('\n').collect(),
    );
    assert_eq!(before_lines.len(), after_lines.len());
    for (old, new) in before_lines.iter().zip(&after_lines) {
        if old != new {
            assert!(
                old.contains("image"),
                "a line without an image changed: {old:?}"
            );
        }
    }
    let original =
        tempfile::NamedTempFile::with_suffix(path.extension().map_or(".yaml".to_owned(), |it| {
            format!(".{}", it.to_string_lossy())
        }))
        .unwrap();
    std::fs::write(original.path(), before).unwrap();
    let read_before = witness::read(original.path()).expect("kubectl reads the original");
    let read_after = witness::read(path).expect("kubectl accepts the result");
    let mut expect = serde_json::to_string(&read_before).unwrap();
    for (from, to) in replaced {
        expect = expect.replace(from, to);
    }
    let expect: Vec<Value> = serde_json::from_str(&expect).unwrap();
    assert_same(&read_after, &expect, &after);
}

#[test]
fn public_shapes_change_only_their_image_lines() {
    let case = Case::new(&[
        ("boutique.yaml", BOUTIQUE),
        ("argocd.yaml", ARGO),
        ("ingress.yml", INGRESS),
        ("prometheus.json", PROMETHEUS_JSON),
        (
            "untouched.yaml",
            "# nothing to change\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        ),
    ]);
    let untouched_before = std::fs::metadata(case.path("untouched.yaml"))
        .unwrap()
        .modified()
        .unwrap();
    let images = [
        "gcr.io/google-samples/microservices-demo/frontend:v0.9.0",
        "gcr.io/google-samples/microservices-demo/cartservice:v0.9.0",
        "quay.io/argoproj/argocd:v2.10.0",
        "registry.k8s.io/ingress-nginx/controller:v1.10.0",
        "quay.io/prometheus-operator/prometheus-operator:v0.71.0",
    ];
    let preview = case.update(&images, &["-o", "diff"]);
    assert_eq!(preview.code, 0, "{}", preview.stderr);
    assert_eq!(
        case.read("boutique.yaml"),
        BOUTIQUE,
        "-o diff writes nothing"
    );
    let res = case.update(&images, &["--write"]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert_eq!(
        res.stdout, preview.stdout,
        "--write prints the diff -o diff shows"
    );
    assert!(res.stdout.contains("-          image: \"gcr.io/google-samples/microservices-demo/frontend:v0.8.0\"   # keep\n+          image: \"gcr.io/google-samples/microservices-demo/frontend:v0.9.0\"   # keep\n"), "{}", res.stdout);
    check_only_images(
        &case.path("boutique.yaml"),
        BOUTIQUE,
        &[
            ("frontend:v0.8.0", "frontend:v0.9.0"),
            ("cartservice:v0.8.0", "cartservice:v0.9.0"),
        ],
    );
    check_only_images(
        &case.path("argocd.yaml"),
        ARGO,
        &[("argocd:v2.9.3", "argocd:v2.10.0")],
    );
    check_only_images(
        &case.path("ingress.yml"),
        INGRESS,
        &[(
            "controller:v1.9.4@sha256:5b161f051d017e55d358435f295f5e9a297e66158f136321d9b04520ec6c48a3",
            "controller:v1.10.0",
        )],
    );
    check_only_images(
        &case.path("prometheus.json"),
        PROMETHEUS_JSON,
        &[("prometheus-operator:v0.70.0", "prometheus-operator:v0.71.0")],
    );
    assert!(
        !case.read("argocd.yaml").ends_with('\n'),
        "no final newline stays so"
    );
    assert_eq!(
        std::fs::metadata(case.path("untouched.yaml"))
            .unwrap()
            .modified()
            .unwrap(),
        untouched_before,
        "a file with nothing to change is not touched"
    );

    // Run again: nothing to change, nothing written, the report says so.
    let again = case.update(&images, &["--write", "-o", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(report["result"], "unchanged");
    assert_eq!(report["filesWritten"], serde_json::json!([]));
}

#[test]
fn json_report_lists_the_files_written_and_keeps_permissions() {
    let case = Case::new(&[("ingress.yaml", INGRESS)]);
    let path = case.path("ingress.yaml");
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o640);
    std::fs::set_permissions(&path, permissions).unwrap();
    let res = case.update(
        &["registry.k8s.io/ingress-nginx/controller:v1.10.0"],
        &["--write", "-o", "json"],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    let report: Value = serde_json::from_str(&res.stdout).unwrap();
    assert_eq!(report["result"], "written");
    assert_eq!(report["dryRun"], Value::Null);
    assert_eq!(
        report["filesWritten"],
        serde_json::json!([path.display().to_string()])
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o640);
    let leftovers: Vec<_> = std::fs::read_dir(case.dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn what_cannot_be_edited_stops_the_run_before_any_write() {
    let block = ("list.yaml", ISTIO_LIST);
    let case = Case::new(&[("a-boutique.yaml", BOUTIQUE), block]);
    let res = case.update(
        &[
            "docker.io/istio/examples-bookinfo-reviews-v1:1.19.0",
            "gcr.io/google-samples/microservices-demo/frontend:v0.9.0",
        ],
        &["--write"],
    );
    assert_eq!(res.code, 1, "{}", res.stderr);
    assert!(
        res.stderr
            .contains("list.yaml: document 1: line 17: the image is a block scalar"),
        "{}",
        res.stderr
    );
    assert_eq!(
        case.read("a-boutique.yaml"),
        BOUTIQUE,
        "nothing was written"
    );

    let helm = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {kubectl-update.io/classifier: stable}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n";
    // A Helm template that happens to be valid YAML: warned about, never changed.
    let case = Case::new(&[("a-boutique.yaml", BOUTIQUE), ("deployment.yaml", helm)]);
    let res = case.update(
        &["gcr.io/google-samples/microservices-demo/frontend:v0.9.0"],
        &["--write"],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert!(
        res.stderr
            .contains("deployment.yaml: looks like a Helm template"),
        "{}",
        res.stderr
    );
    assert_eq!(case.read("deployment.yaml"), helm);
    // One that is not YAML stops the run, naming it.
    let case = Case::new(&[
        ("a-boutique.yaml", BOUTIQUE),
        (
            "deployment.yaml",
            "{{- if .Values.enabled }}\nkind: Deployment\n{{- end }}\n",
        ),
    ]);
    let res = case.update(
        &["gcr.io/google-samples/microservices-demo/frontend:v0.9.0"],
        &["--write"],
    );
    assert_eq!(res.code, 1, "{}", res.stderr);
    assert!(
        res.stderr
            .contains("deployment.yaml: looks like a Helm template"),
        "{}",
        res.stderr
    );
    assert_eq!(
        case.read("a-boutique.yaml"),
        BOUTIQUE,
        "nothing was written"
    );

    let case = Case::new(&[
        ("a-boutique.yaml", BOUTIQUE),
        ("z-broken.yaml", "apiVersion: v1\nkind: [\n"),
    ]);
    let res = case.update(
        &["gcr.io/google-samples/microservices-demo/frontend:v0.9.0"],
        &["--write"],
    );
    assert_eq!(res.code, 1, "{}", res.stderr);
    assert!(
        res.stderr
            .contains("z-broken.yaml: line 2, column 7: invalid YAML"),
        "{}",
        res.stderr
    );
    assert_eq!(
        case.read("a-boutique.yaml"),
        BOUTIQUE,
        "nothing was written"
    );

    // An anchor shared with a container that keeps its image.
    let shared = INGRESS.replace("        image: *controller\n", "        image: *controller\n      - name: other\n        image: registry.k8s.io/other:1\n        env: [{name: IMAGE, value: *controller}]\n");
    let case = Case::new(&[("ingress.yaml", &shared)]);
    let res = case.update(
        &["registry.k8s.io/ingress-nginx/controller:v1.10.0"],
        &["--write"],
    );
    assert_eq!(res.code, 1, "{}", res.stderr);
    assert!(res.stderr.contains("ingress.yaml: document 1: line 16: the image is an anchor (`&`) also used by fields that do not change"), "{}", res.stderr);
    assert_eq!(case.read("ingress.yaml"), shared);
}

#[test]
fn write_needs_files() {
    let res = run_stdin(
        &["-i", "acme/app:2", "-c", "stable", "-f", "-", "--write"],
        "",
    );
    assert_eq!(res.code, 2, "{}", res.stderr);
    assert!(
        res.stderr.contains(
            "--write edits files in place and cannot write back to standard input (-f -)"
        ),
        "{}",
        res.stderr
    );
    let res = run(&["-i", "acme/app:2", "-c", "stable", "--write"]);
    assert_eq!(res.code, 2, "{}", res.stderr);
}

#[test]
fn ten_thousand_documents() {
    let mut text = String::from("# generated\n");
    for idx in 0..10_000 {
        text.push_str(&format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{idx}\n  annotations: {{kubectl-update.io/classifier: stable}}\nspec:\n  selector: {{matchLabels: {{app: a{idx}}}}}\n  template:\n    metadata: {{labels: {{app: a{idx}}}}}\n    spec:\n      volumes: [{{name: s, secret: {{secretName: s, defaultMode: 0644}}}}]\n      containers:\n      - name: app   # app {idx}\n        image: 'acme/app:1'\n"));
    }
    let case = Case::new(&[("many.yaml", &text)]);
    let res = case.update(&["acme/app:2"], &["--write", "-o", "json"]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    let after = case.read("many.yaml");
    assert_eq!(after, text.replace("'acme/app:1'", "'acme/app:2'"));
}

#[test]
fn kustomize_image_transformers_are_named_not_changed() {
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ingress.yaml]\nimages:\n- name: registry.k8s.io/ingress-nginx/controller\n  newTag: v1.9.4\n";
    let case = Case::new(&[
        ("ingress.yaml", INGRESS),
        ("kustomization.yaml", kustomization),
    ]);
    let res = case.update(
        &["registry.k8s.io/ingress-nginx/controller:v1.10.0"],
        &["--write"],
    );
    assert_eq!(res.code, 0, "{}", res.stderr);
    assert!(
        res.stderr.contains(
            "kustomization.yaml: document 1: Kustomize `images:` transformers are not changed"
        ),
        "{}",
        res.stderr
    );
    assert_eq!(case.read("kustomization.yaml"), kustomization);
    assert_ne!(case.read("ingress.yaml"), INGRESS);
}
