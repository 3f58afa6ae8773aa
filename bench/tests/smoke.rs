//! Runs `parley-bench` briefly for each scenario against a fresh embedded
//! server (the workspace's debug `parley`, built first if missing) and
//! checks that it succeeds and reports the scenario's figures. Not a
//! benchmark: the sizes are tiny.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The debug `parley` of this workspace (`cargo test --workspace` builds it).
fn parley() -> &'static PathBuf {
    static PARLEY: OnceLock<PathBuf> = OnceLock::new();
    PARLEY.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
        let parley = target.join("debug/parley");
        if !parley.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "api", "--bin", "parley"])
                .status()
                .expect("run cargo");
            assert!(status.success(), "building parley failed");
        }
        parley
    })
}

/// Runs one scenario with tiny sizes; its JSON figures.
fn bench(scenario: &str) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("results.json");
    let output = Command::new(env!("CARGO_BIN_EXE_parley-bench"))
        .arg("--parley")
        .arg(parley())
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--json")
        .arg(&json)
        .args([
            "--duration",
            "0.5",
            "--concurrency",
            "4",
            "--users",
            "3",
            "--social-users",
            "12",
        ])
        .args([
            "--social-groups",
            "3",
            "--online",
            "4",
            "--group-size",
            "6",
            "--group-online",
            "3",
        ])
        .args(["--read-users", "6", "--events", "300", "--connections", "20"])
        .args(["--slow-connections", "20"])
        .arg(scenario)
        .output()
        .expect("run parley-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{scenario} failed:\n{stdout}\n{stderr}");
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON results")).unwrap();
    assert_eq!(results["failures"], serde_json::json!([]), "{results}");
    assert!(
        results["figures"]["baseline"]["requests_per_s"].as_f64() > Some(0.0),
        "{results}"
    );
    results["figures"][scenario].clone()
}

/// Asserts that each of `metrics` is a figure greater than zero.
#[track_caller]
fn positive(figures: &Value, metrics: &[&str]) {
    for metric in metrics {
        assert!(figures[*metric].as_f64() > Some(0.0), "{metric} in {figures}");
    }
}

#[test]
fn baseline() {
    let figures = bench("baseline");
    positive(&figures, &["requests_per_s", "requests_p50_ms", "requests_p99_ms"]);
}

#[test]
fn users() {
    let figures = bench("users");
    positive(
        &figures,
        &[
            "register_per_s",
            "register_p99_ms",
            "login_per_s",
            "login_p99_ms",
            "update_per_s",
        ],
    );
}

#[test]
fn social() {
    let figures = bench("social");
    positive(
        &figures,
        &[
            "commands_per_s",
            "create_group_per_s",
            "add_friend_per_s",
            "add_friend_response_p99_ms",
        ],
    );
    positive(&figures, &["join_group_per_s"]);
}

#[test]
fn chat() {
    let figures = bench("chat");
    positive(
        &figures,
        &[
            "accepted_msgs_per_s",
            "messages",
            "push_p50_ms",
            "push_p99_9_ms",
            "reply_p99_ms",
        ],
    );
    assert_eq!(figures["problems"], 0.0, "{figures}");
}

#[test]
fn fanout() {
    let figures = bench("fanout");
    positive(
        &figures,
        &[
            "accepted_msgs_per_s",
            "pushes_per_s",
            "push_p99_ms",
            "all_online_p99_ms",
        ],
    );
    assert_eq!(figures["problems"], 0.0, "{figures}");
}

#[test]
fn read() {
    let figures = bench("read");
    positive(
        &figures,
        &["friend_list_per_s", "member_list_per_s", "conversation_list_per_s"],
    );
}

#[test]
fn rebuild() {
    let figures = bench("rebuild");
    positive(
        &figures,
        &["events", "events_per_s", "wall_events_per_s", "fill_send_per_s"],
    );
    assert!(figures["events"].as_f64() >= Some(300.0), "{figures}");
}

#[test]
fn idle() {
    let figures = bench("idle");
    positive(
        &figures,
        &["connects_per_s", "server_rss_before_mib", "server_rss_after_mib"],
    );
    assert_eq!(figures["connections"], 20.0, "{figures}");
    assert_eq!(figures["closed_early"], 0.0, "{figures}");
}

#[test]
fn slow() {
    let figures = bench("slow");
    positive(
        &figures,
        &[
            "quiet_get_per_s",
            "quiet_get_p99_ms",
            "held_get_per_s",
            "held_get_p99_ms",
        ],
    );
    assert_eq!(figures["slow_connections"], 20.0, "{figures}");
}
