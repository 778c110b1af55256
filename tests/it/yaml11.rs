//! kubectl's reading of YAML (issue #14): a table of tricky plain scalars, read by kubectl-update
//! and by kubectl (see `witness`). kubectl-update must plan on the same values and print them
//! back (`-o yaml`) so that kubectl reads exactly what it read from the original.

use serde_json::Value;

use crate::support::run;
use crate::witness;

/// Every scalar the README's table lists, as the values of a ConfigMap (kubectl keeps their JSON
/// types: no schema applies offline), plus keys that are not strings, a duplicate key and a merge.
const TRICKY: &str = r#"# every case of the table in src/manifest/yaml11.rs
apiVersion: v1
kind: ConfigMap
metadata: {name: tricky, namespace: shop}
data:
  octal: 0644
  octal400: 0400
  negativeOctal: -0644
  plusOctal: +0644
  goOctal: 0o17
  hex: 0x1F
  hexUpper: 0X1f
  binary: 0b1010
  negativeBinary: -0b11
  notOctal: 08
  notOctalFloat: 09.5
  underscores: 1_000
  hexUnderscore: 0x_FF
  floatUnderscore: 1_0.5
  plus: +12
  minusZero: -0
  exponent: 1e3
  exponentUpper: 1E3
  integralFloat: 3.0
  trailingDot: 1.
  leadingDot: .5
  negativeLeadingDot: -.5
  maxUint: 18446744073709551615
  tooBig: 1e400
  yLower: y
  yesCap: Yes
  onUpper: ON
  mixedCase: yEs
  offLower: off
  nLower: n
  tilde: ~
  empty:
  nullCap: Null
  infWord: inf
  nanWord: nan
  hexFloat: 0x1p-2
  bareExponent: 1e
  date: 2001-12-14
  dateTime: 2001-12-14t21:59:43.10-05:00
  spaced: 2001-12-14 21:59:43.10
  badMonth: 2001-13-14
  shortZone: 2001-12-14 21:59:43.10 -5
  version: 1.2.3
  colon: 12:30
  quoted: '0644'
  doubleQuoted: "yes"
  tagged: !!str 0x1F
  literal: |
    0644
  dup: first
  dup: second
  1: integer key
  yes: boolean key
  merged:
    <<: {a: 1, b: 2}
    b: 3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations: {kubectl-update.io/classifier: stable}
spec:
  replicas: 0x3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 3e1
      volumes:
      - name: secret
        secret: {secretName: web, defaultMode: 0400}
      - name: config
        configMap: {name: tricky, defaultMode: 0644, optional: yes}
      containers:
      - name: app
        image: acme/app:1
"#;

#[test]
fn tricky_scalars_read_as_kubectl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("tricky.yaml");
    std::fs::write(&original, TRICKY).unwrap();
    let kubectl_read = witness::read(&original).expect("kubectl reads the table");

    // kubectl-update plans on them (a Deployment with `defaultMode: 0400` used to abort the run)…
    let res = run(&[
        "-i",
        "acme/app:2",
        "-c",
        "stable",
        "-f",
        original.to_str().unwrap(),
        "-o",
        "yaml",
    ]);
    assert_eq!(res.code, 0, "{}", res.stderr);
    // …and prints them back so that kubectl reads the same values, only the image changed.
    let printed = dir.path().join("printed.yaml");
    std::fs::write(&printed, &res.stdout).unwrap();
    let kubectl_reread = witness::read(&printed).expect("kubectl reads the output");
    let mut expect = kubectl_read.clone();
    expect[1]["spec"]["template"]["spec"]["containers"][0]["image"] = "acme/app:2".into();
    assert_same(&kubectl_reread, &expect, &res.stdout);

    let data = &kubectl_read[0]["data"];
    for (key, expect) in [
        ("octal", "420"),
        ("octal400", "256"),
        ("hex", "31"),
        ("binary", "10"),
        ("notOctal", "8"),
        ("underscores", "1000"),
        ("exponent", "1000"),
        ("yLower", "true"),
        ("mixedCase", "\"yEs\""),
        ("tilde", "null"),
        ("tooBig", "\"1e400\""),
        ("date", "\"2001-12-14\""),
        ("dateTime", "\"2001-12-14t21:59:43.10-05:00\""),
        ("spaced", "\"2001-12-14 21:59:43.10\""),
        ("shortZone", "\"2001-12-14 21:59:43.10 -5\""),
        ("dup", "\"second\""),
        ("1", "\"integer key\""),
        ("true", "\"boolean key\""),
        ("merged", "{\"a\":1,\"b\":3}"),
    ] {
        assert_eq!(
            data[key].to_string(),
            expect,
            "kubectl's reading of {key} changed"
        );
    }
}

#[test]
fn infinity_fails_as_in_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inf.yaml");
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ratio: .inf\n";
    std::fs::write(&file, text).unwrap();
    let err = witness::read(&file).expect_err("kubectl rejects .inf");
    assert!(err.contains("unsupported value"), "{err}");
    let res = run(&[
        "-i",
        "acme/app:2",
        "-c",
        "stable",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(res.code, 1, "{}", res.stderr);
    assert!(
        res.stderr.starts_with(&format!(
            "error: {}: line 5, column 10: inf (.inf or .nan) cannot be written as JSON",
            file.display()
        )),
        "{}",
        res.stderr
    );
}

/// Equal as kubectl reads them; numbers compare as numbers (Go prints `1e+21`, Rust `1e21`).
#[track_caller]
pub fn assert_same(got: &[Value], expect: &[Value], printed: &str) {
    fn normal(value: &Value) -> Value {
        match value {
            Value::Number(it) => match it.as_i64() {
                Some(int) => Value::from(int),
                None => it.as_f64().map_or(value.clone(), Value::from),
            },
            Value::Array(items) => Value::Array(items.iter().map(normal).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), normal(value)))
                    .collect(),
            ),
            _ => value.clone(),
        }
    }
    let got: Vec<Value> = got.iter().map(normal).collect();
    let expect: Vec<Value> = expect.iter().map(normal).collect();
    assert_eq!(got, expect, "printed:\n{printed}");
}
