use std::sync::Arc;

use events::{DomainEvent, Envelope, EventMeta};

use super::*;

fn event(user: &str, nickname: &str) -> Envelope {
    let meta = EventMeta {
        tenant_id: "1000".into(),
        actor_user_id: user.into(),
        operation_id: "op-1".into(),
        occurred_at: 1_700_000_000_000,
    };
    let e = DomainEvent::UserProfileUpdated(events::user::UserProfileUpdated {
        user_id: user.into(),
        nickname: Some(nickname.into()),
        face_url: None,
        ex: None,
        notified_user_ids: Vec::new(),
    });
    Envelope::new(uuid::Uuid::now_v7(), String::new(), 0, &meta, &e)
}

fn request(user: &str, expected_version: u64, nicknames: &[&str]) -> AppendRequest {
    AppendRequest {
        stream_key: format!("user:1000:{user}"),
        expected_version,
        events: nicknames.iter().map(|n| event(user, n)).collect(),
    }
}

fn nicknames(events: &[Envelope]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.payload["nickname"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn appends_get_positions_and_stream_versions_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path()).unwrap();
    let a = log.append(request("alice", 0, &["a1", "a2"])).await.unwrap();
    let b = log.append(request("bob", 0, &["b1"])).await.unwrap();
    let a3 = log.append(request("alice", 2, &["a3"])).await.unwrap();
    let positions: Vec<_> = [&a[..], &b[..], &a3[..]]
        .concat()
        .iter()
        .map(|e| (e.log_position, e.stream_version))
        .collect();
    assert_eq!(positions, [(1, 1), (2, 2), (3, 1), (4, 3)]);
    assert_eq!(*log.durable_head().borrow(), 4);
    assert_eq!(nicknames(&log.read(1, 100).await.unwrap()), ["a1", "a2", "b1", "a3"]);
    assert_eq!(nicknames(&log.read(2, 2).await.unwrap()), ["a2", "b1"]);
    assert!(log.read(5, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_append_against_a_stale_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path()).unwrap();
    log.append(request("alice", 0, &["a1"])).await.unwrap();
    let err = log.append(request("alice", 0, &["again"])).await.unwrap_err();
    assert!(
        matches!(
            err,
            LogError::VersionConflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(nicknames(&log.read(1, 10).await.unwrap()), ["a1"]);
}

#[tokio::test]
async fn concurrent_appends_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EmbeddedLog::open(dir.path()).unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move { log.append(request(&format!("u{i}"), 0, &["n"])).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(*log.durable_head().borrow(), 200);
    assert!(log.syncs() < 200, "200 appends took {} fsyncs", log.syncs());
}

#[tokio::test]
async fn everything_survives_a_reopen_including_stream_versions() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path()).unwrap();
        log.append(request("alice", 0, &["a1", "a2"])).await.unwrap();
        log.close().await;
    }
    let log = EmbeddedLog::open(dir.path()).unwrap();
    assert_eq!(*log.durable_head().borrow(), 2);
    assert!(log.append(request("alice", 1, &["stale"])).await.is_err());
    let next = log.append(request("alice", 2, &["a3"])).await.unwrap();
    assert_eq!((next[0].log_position, next[0].stream_version), (3, 3));
}

async fn log_of_three(dir: &std::path::Path) -> u64 {
    let log = EmbeddedLog::open(dir).unwrap();
    log.append(request("alice", 0, &["a1"])).await.unwrap();
    log.append(request("alice", 1, &["a2"])).await.unwrap();
    let third = log.append(request("alice", 2, &["a3"])).await.unwrap();
    log.close().await;
    let offset = log.shared.index.read().unwrap().offsets[third[0].log_position as usize - 1];
    offset
}

#[tokio::test]
async fn a_torn_tail_is_cut_off_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let third_at = log_of_three(dir.path()).await;
    let path = dir.path().join("events.log");
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 5).unwrap();

    let log = EmbeddedLog::open(dir.path()).unwrap();
    assert_eq!(nicknames(&log.read(1, 10).await.unwrap()), ["a1", "a2"]);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), third_at);
    let again = log.append(request("alice", 2, &["a3-again"])).await.unwrap();
    assert_eq!(again[0].log_position, 3);
}

#[tokio::test]
async fn a_corrupt_last_record_is_detected_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let third_at = log_of_three(dir.path()).await;
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();

    let log = EmbeddedLog::open(dir.path()).unwrap();
    assert_eq!(nicknames(&log.read(1, 10).await.unwrap()), ["a1", "a2"]);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), third_at);
}

#[tokio::test]
async fn damage_before_intact_events_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    log_of_three(dir.path()).await;
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[frame::HEADER_LEN + 2] ^= 0xFF; // inside the first event's payload
    std::fs::write(&path, &bytes).unwrap();

    let err = EmbeddedLog::open(dir.path()).err().expect("open must fail");
    assert!(matches!(err, LogError::Corrupt(_)), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
}

#[tokio::test]
async fn readers_are_woken_by_new_events() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(EmbeddedLog::open(dir.path()).unwrap());
    let mut head = log.durable_head();
    let writer = {
        let log = log.clone();
        tokio::spawn(async move { log.append(request("alice", 0, &["a1"])).await })
    };
    head.wait_for(|&h| h >= 1).await.unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(nicknames(&log.read(1, 1).await.unwrap()), ["a1"]);
}

#[tokio::test]
async fn an_event_too_large_to_read_back_is_refused_and_the_log_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path()).unwrap();
    log.append(request("alice", 0, &["a1"])).await.unwrap();
    let huge = "x".repeat(frame::MAX_PAYLOAD);
    let err = log
        .append(request("alice", 1, &["a2", huge.as_str()]))
        .await
        .unwrap_err();
    assert!(matches!(err, LogError::TooLarge(_)), "{err}");
    let after = log.append(request("alice", 1, &["a2"])).await.unwrap();
    assert_eq!((after[0].log_position, after[0].stream_version), (2, 2));
    log.close().await;
    let reopened = EmbeddedLog::open(dir.path()).unwrap();
    assert_eq!(nicknames(&reopened.read(1, 10).await.unwrap()), ["a1", "a2"]);
}
