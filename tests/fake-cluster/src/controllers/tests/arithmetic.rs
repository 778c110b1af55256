//! Pure functions: rolling-update fenceposts, back-off sequences and the script language. Never
//! starts the API server or runs a tick.

use serde_json::{Value, json};

use crate::controllers::container::back_off_seconds;
use crate::controllers::deployment::fenceposts;
use crate::controllers::job::pod_back_off_seconds;
use crate::controllers::script::interpret;
use crate::controllers::tests::check;

#[track_caller]
fn check_fenceposts(replicas: i64, surge: Value, unavailable: Value, expect: &str) {
    let deployment = json!({"spec": {
        "replicas": replicas,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
    }});
    let (surge, unavailable) = fenceposts(&deployment);
    check(&format!("surge={surge} unavailable={unavailable}"), expect);
}

#[test]
fn fenceposts_round_surge_up_and_unavailable_down() {
    check_fenceposts(10, json!("25%"), json!("25%"), "surge=3 unavailable=2");
    check_fenceposts(3, json!("25%"), json!("25%"), "surge=1 unavailable=0");
    check_fenceposts(1, json!("25%"), json!("25%"), "surge=1 unavailable=0");
    check_fenceposts(3, json!(1), json!(0), "surge=1 unavailable=0");
    check_fenceposts(3, json!(0), json!(1), "surge=0 unavailable=1");
    check_fenceposts(3, json!(0), json!(0), "surge=0 unavailable=1");
    check_fenceposts(4, json!("50%"), json!("100%"), "surge=2 unavailable=4");
    check_fenceposts(10, Value::Null, Value::Null, "surge=3 unavailable=2");
}

#[test]
fn back_off_doubles_to_a_cap() {
    let kubelet: Vec<String> = (1..=7).map(|it| back_off_seconds(it).to_string()).collect();
    check(&kubelet.join(" "), "10 20 40 80 160 300 300");
    let job: Vec<String> = (1..=8)
        .map(|it| pod_back_off_seconds(it).to_string())
        .collect();
    check(&job.join(" "), "10 20 40 80 160 320 600 600");
}

#[track_caller]
fn check_script(words: &[&str], expect: &str) {
    let words: Vec<String> = words.iter().map(|it| it.to_string()).collect();
    let actual = match interpret(&words, &[]) {
        None => "opaque".to_owned(),
        Some(run) => {
            let mut parts: Vec<String> = run
                .lines
                .iter()
                .map(|(at, line)| format!("{at}:{line}"))
                .collect();
            parts.push(match run.exit {
                Some((at, code)) => format!("exit {code} at {at}"),
                None => "forever".to_owned(),
            });
            parts.join(" | ")
        }
    };
    check(&actual, expect);
}

#[test]
fn script_language() {
    check_script(
        &["sh", "-c", "echo migrating; sleep 1; exit 0"],
        "0:migrating | exit 0 at 1",
    );
    check_script(
        &["/bin/sh", "-c", "echo 'a  b' \"c\\\"d\" && exit 3"],
        "0:a  b c\"d | exit 3 at 0",
    );
    check_script(
        &["sh", "-c", "false && echo no || echo yes"],
        "0:yes | exit 0 at 0",
    );
    check_script(&["sh", "-c", "false"], "exit 1 at 0");
    check_script(&["true"], "exit 0 at 0");
    check_script(&["false"], "exit 1 at 0");
    check_script(&["sleep", "5"], "exit 0 at 5");
    check_script(&["sleep", "infinity"], "forever");
    check_script(
        &["sh", "-c", "echo start >&2; sleep 1m; echo done"],
        "0:start | 60:done | exit 0 at 60",
    );
    check_script(
        &[
            "bash",
            "-ec",
            "echo one\n# comment\necho two; exec myserver --port 80",
        ],
        "0:one | 0:two | forever",
    );
    check_script(
        &["sh", "-c", "printf '%s-%s\\n' a b; exit"],
        "0:a-b | exit 0 at 0",
    );
    check_script(&["nginx", "-g", "daemon off;"], "opaque");
    check_script(&["sh"], "opaque");
}
