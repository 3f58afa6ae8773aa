//! What an operator's tooling reads: liveness and readiness.

use serde_json::{json, Value};

use crate::harness::*;

async fn probe(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_serving_node_is_alive_and_ready() {
    let server = Server::start();
    let token = server.user("alice").await;
    ok(server
        .post(
            "/user/update_user_info_ex",
            Some(&token),
            json!({"userInfo": {"userID": "alice", "nickname": "A"}}),
        )
        .await);
    let base = server.base().unwrap();
    assert_eq!(probe(&base, "/healthz").await, (200, json!({"alive": true})));
    let (status, ready) = probe(&base, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["reasons"], json!([]));
    // Caught up (on Kafka, the last record of a partition may be a
    // transaction marker, which no checkpoint reaches).
    assert!(ready["behind"].as_u64().unwrap() <= 4, "{ready}");
}

/// Scale-out: with the projector down the read models fall behind and the
/// API nodes say so; once a projector catches up they are ready again.
#[cfg(feature = "scale-out")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_are_not_ready_while_the_read_models_are_behind() {
    use std::time::Duration;
    if !scale_out() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--ready-max-behind", "10", "--read-wait-ms", "1000"]);
    let token = server.user("alice").await;
    server.kill(Role::Projector, 0);
    // Applied, though their replies wait in vain for the read models.
    let updates = (0..30).map(|i| {
        let body = json!({"userInfo": {"userID": "alice", "nickname": format!("n{i}")}});
        server.post("/user/update_user_info_ex", Some(&token), body)
    });
    for reply in futures::future::join_all(updates).await {
        ok(reply);
    }
    let base = server.base().unwrap();
    let (status, report) = probe(&base, "/readyz").await;
    assert_eq!(status, 503, "{report}");
    assert_eq!(report["ready"], false);
    assert!(report["behind"].as_u64().unwrap() >= 30, "{report}");
    assert!(
        report["reasons"][0].as_str().unwrap().contains("behind the log"),
        "{report}"
    );
    assert_eq!(probe(&base, "/healthz").await.0, 200, "alive all the same");

    server.spawn(Role::Projector);
    let started = std::time::Instant::now();
    loop {
        let (status, report) = probe(&base, "/readyz").await;
        if status == 200 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still not ready: {report}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_docs_page_and_its_assets_come_from_the_server() {
    let server = Server::start();
    let base = server.base().unwrap();
    let page = reqwest::get(format!("{base}/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/openapi.json"), "{html}");
    assert!(
        !html.contains("https://") && !html.contains("//cdn"),
        "no outside asset: {html}"
    );
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let response = reqwest::get(format!("{base}{asset}")).await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 10_000, "{asset}");
    }
    let (status, document) = probe(&base, "/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/user/self_register"]["post"].is_object());
}

/// Prometheus metrics on their own address: request counters per route and
/// errCode move, the latency histogram has the route, WebSocket and log
/// metrics are there.
#[tokio::test]
async fn metrics_count_requests_per_route_and_err_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir.path(), &["--metrics-listen", "127.0.0.1:0"]);
    let token = server.user("alice").await;
    let urls = server.metrics_urls();
    assert!(!urls.is_empty(), "no metrics address logged");
    let scrape = || async {
        let mut all = String::new();
        for url in server.metrics_urls() {
            all.push_str(&reqwest::get(&url).await.unwrap().text().await.unwrap());
        }
        all
    };
    let count = |text: &str, series: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(series))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let ok_series = "parley_http_requests_total{route=\"/user/get_users_info\",err_code=\"0\"}";
    let before = count(&scrape().await, ok_series);
    for _ in 0..3 {
        server.users_info(&token, &["alice"]).await;
    }
    let refused = server
        .post("/user/get_users_info", Some(&token), json!({"userIDs": []}))
        .await;
    assert_eq!(refused["errCode"], 1001);
    let text = scrape().await;
    assert_eq!(count(&text, ok_series) - before, 3.0, "{text}");
    assert!(
        count(
            &text,
            "parley_http_requests_total{route=\"/user/get_users_info\",err_code=\"1001\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("parley_http_request_duration_seconds_bucket{route=\"/user/get_users_info\""),
        "{text}"
    );
    // Unknown paths share one label.
    server.post("/no/such/endpoint", Some(&token), json!({})).await;
    let text = scrape().await;
    assert!(text.contains("route=\"other\""), "{text}");
    if !scale_out() {
        assert!(count(&text, "parley_log_appended_events_total") >= 1.0, "{text}");
        assert!(text.contains("parley_log_fsync_seconds_bucket"), "{text}");
    }
}
