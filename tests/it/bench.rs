//! The benchmark harness (`benches/harness`) in quick mode: one repetition at tiny sizes, against
//! the debug binary. It checks that every measurement runs and the document has its sections; it
//! asserts nothing about times.

#[path = "../../benches/harness/mod.rs"]
mod harness;

#[test]
fn quick_mode_produces_every_section() {
    let Some(kubectl) = harness::find_on_path("kubectl") else {
        panic!("kubectl must be on PATH (.ci/run installs it)");
    };
    let options = harness::Options {
        quick: true,
        repetitions: 1,
        tool: env!("CARGO_BIN_EXE_kubectl-update").into(),
        kubectl,
        command: "cargo test --test it bench".to_owned(),
        only: Vec::new(),
    };
    let document = harness::run(&options).expect("the harness runs").render();
    for heading in [
        "# Benchmarks",
        "## Machine",
        "## Summary",
        "## 1. Completion detection",
        "## 2. Failure detection",
        "## 3. API load",
        "## 4. Discovery scale",
        "## 5. Offline preview",
        "## 6. Many at once",
    ] {
        assert!(document.contains(heading), "no {heading:?} in:\n{document}");
    }
    assert!(
        !document.contains("The measurement failed"),
        "a measurement failed:\n{document}"
    );
    assert!(document.contains("| 1. Completion detection"), "{document}");
}
