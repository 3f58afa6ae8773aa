//! What the messaging and conversation tests share: message bodies, a
//! group to chat in, and a WebSocket client.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::*;

pub const SINGLE: i64 = 1;
pub const GROUP: i64 = 3;
pub const TEXT: i64 = 101;

pub const WS_NEWEST_SEQ: i64 = 1001;
pub const WS_PULL: i64 = 1002;
pub const WS_SEND: i64 = 1003;
pub const WS_PUSH: i64 = 2001;
pub const WS_READ_RECEIPT: i64 = 2200;

/// How long a frame that should arrive may take.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long to watch for a frame that should not arrive.
pub const QUIET: Duration = Duration::from_millis(500);

pub fn text(s: &str) -> Value {
    json!({ "content": s })
}

pub fn single_body(from: &str, to: &str, content: &str, client_msg_id: &str) -> Value {
    json!({"sendID": from, "recvID": to, "sessionType": SINGLE, "contentType": TEXT,
        "content": text(content), "clientMsgID": client_msg_id})
}

pub fn group_body(from: &str, group_id: &str, content: &str) -> Value {
    json!({"sendID": from, "groupID": group_id, "sessionType": GROUP, "contentType": TEXT,
        "content": text(content)})
}

/// Creates a work group that anyone may join directly.
pub async fn create_group(
    server: &Server,
    token: &str,
    owner: &str,
    group_id: &str,
    admins: &[&str],
    members: &[&str],
) {
    let body = json!({
        "ownerUserID": owner, "adminUserIDs": admins, "memberUserIDs": members,
        "groupInfo": {"groupID": group_id, "groupName": "Chat", "groupType": 2, "needVerification": 2},
    });
    ok(server.post("/group/create_group", Some(token), body).await);
}

/// One WebSocket session.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    pub user: String,
    incr: u64,
    /// Notification pushes, kept apart: message tests read past them,
    /// notification tests read them with `notice`.
    notices: VecDeque<Value>,
}

fn is_notice(frame: &Value) -> bool {
    frame["reqIdentifier"] == WS_PUSH && frame["data"].get("notificationMsgs").is_some()
}

pub fn ws_url(server: &Server, token: &str, user: &str) -> String {
    ws_url_at(&server.base().expect("an API node is running"), token, user)
}

/// The session URL at one API node's base URL.
pub fn ws_url_at(base: &str, token: &str, user: &str) -> String {
    let host = base.strip_prefix("http://").expect("an http base");
    format!("ws://{host}/ws?token={token}&sendID={user}&platformID=1")
}

impl Ws {
    /// Connects without any request (the session may not be registered yet).
    pub async fn open(server: &Server, token: &str, user: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(ws_url(server, token, user))
            .await
            .expect("websocket connect");
        Ws::from_stream(stream, user)
    }

    /// A session of `user` on a socket connected some other way.
    pub fn from_stream(
        stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        user: &str,
    ) -> Ws {
        Ws {
            stream,
            user: user.to_owned(),
            incr: 0,
            notices: VecDeque::new(),
        }
    }

    /// Connects and makes one round trip, so the server has registered the
    /// session (and will push to it) when this returns.
    pub async fn connect(server: &Server, token: &str, user: &str) -> Ws {
        Ws::connect_to(&server.base().expect("an API node is running"), token, user).await
    }

    /// [`Ws::connect`] to the API node at `base` (a bound per node is
    /// tested on one node).
    pub async fn connect_to(base: &str, token: &str, user: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(ws_url_at(base, token, user))
            .await
            .expect("websocket connect");
        let mut ws = Ws::from_stream(stream, user);
        let reply = ws.request(WS_NEWEST_SEQ, json!({ "userID": user })).await;
        assert_eq!(reply["errCode"], 0, "{reply}");
        ws
    }

    /// Sends a request frame; returns its msgIncr.
    pub async fn send_request(&mut self, req_identifier: i64, data: Value) -> String {
        self.incr += 1;
        let incr = format!("{}-{}", self.user, self.incr);
        let frame = json!({"reqIdentifier": req_identifier, "operationID": format!("op-{incr}"),
            "msgIncr": incr, "sendID": self.user, "data": data});
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .expect("send frame");
        incr
    }

    /// The next frame other than Ping/Pong, or None within `within`.
    pub async fn next_frame(&mut self, within: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()?;
            match frame {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return Some(message),
                Some(Err(e)) => panic!("websocket of {}: {e}", self.user),
                None => panic!("websocket of {} ended", self.user),
            }
        }
    }

    /// Reads until the session ends: its close frame, or `None` when the
    /// server dropped the connection without one.
    pub async fn until_closed(&mut self, within: Duration) -> Option<CloseFrame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => panic!("the session of {} did not end", self.user),
                Ok(Some(Ok(Message::Close(frame)))) => return frame,
                Ok(Some(Ok(_))) => continue,
                Ok(None | Some(Err(_))) => return None,
            }
        }
    }

    /// The next JSON text frame, notifications included, within `within`.
    async fn any_json(&mut self, within: Duration) -> Option<Value> {
        match self.next_frame(within).await? {
            Message::Text(t) => Some(serde_json::from_str(t.as_str()).expect("JSON frame")),
            other => panic!("{} expected a text frame, got {other:?}", self.user),
        }
    }

    /// The next JSON text frame other than a notification push, within
    /// `within`.
    pub async fn next_json(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = self.any_json(deadline - tokio::time::Instant::now()).await?;
            if !is_notice(&frame) {
                return Some(frame);
            }
            self.notices.push_back(frame);
        }
    }

    /// The next notification push within `within` (any other frame fails).
    pub async fn notice_within(&mut self, within: Duration) -> Option<Value> {
        if let Some(frame) = self.notices.pop_front() {
            return Some(frame);
        }
        let frame = self.any_json(within).await?;
        assert!(is_notice(&frame), "{} expected a notification, got {frame}", self.user);
        Some(frame)
    }

    pub async fn notice(&mut self) -> Value {
        self.notice_within(WAIT)
            .await
            .unwrap_or_else(|| panic!("{} got no notification", self.user))
    }

    /// Sends a request and waits for its reply (pushes on the way are
    /// dropped: tests that care use `send_request` and read frames).
    pub async fn request(&mut self, req_identifier: i64, data: Value) -> Value {
        let incr = self.send_request(req_identifier, data).await;
        loop {
            let frame = self
                .next_json(WAIT)
                .await
                .unwrap_or_else(|| panic!("{} got no reply to {req_identifier}", self.user));
            if frame["reqIdentifier"] == WS_PUSH {
                continue;
            }
            assert_eq!(frame["msgIncr"], incr, "{frame}");
            assert_eq!(frame["reqIdentifier"], req_identifier, "{frame}");
            return frame;
        }
    }

    /// The next push (reqIdentifier 2001) within `within`; replies fail.
    pub async fn push_within(&mut self, within: Duration) -> Option<Value> {
        let frame = self.next_json(within).await?;
        assert_eq!(
            frame["reqIdentifier"], WS_PUSH,
            "{} expected a push: {frame}",
            self.user
        );
        assert_eq!(frame["errCode"], 0, "{frame}");
        Some(frame)
    }

    pub async fn push(&mut self) -> Value {
        self.push_within(WAIT)
            .await
            .unwrap_or_else(|| panic!("{} got no push", self.user))
    }

    /// Asserts that nothing (but pings and notifications) arrives for a
    /// while.
    pub async fn assert_quiet(&mut self) {
        if let Some(frame) = self.next_json(QUIET).await {
            panic!("{} expected no frame, got {frame}", self.user);
        }
    }
    /// The next frame, which must be a server push of kind `req_identifier`.
    pub async fn pushed(&mut self, req_identifier: i64) -> Value {
        let frame = self
            .next_json(WAIT)
            .await
            .unwrap_or_else(|| panic!("{} got no {req_identifier} push", self.user));
        assert_eq!(
            frame["reqIdentifier"], req_identifier,
            "{} expected a {req_identifier}: {frame}",
            self.user
        );
        assert_eq!(frame["errCode"], 0, "{frame}");
        assert_eq!(frame["errMsg"], "", "{frame}");
        assert_eq!(frame["msgIncr"], "", "{frame}");
        frame
    }
}

/// The single MsgData of a push of one message in `conversation`.
#[track_caller]
pub fn pushed_msg(push: &Value, conversation: &str) -> Value {
    let convs = push["data"]["msgs"].as_object().expect("msgs");
    assert_eq!(convs.len(), 1, "{push}");
    let msgs = push["data"]["msgs"][conversation]["Msgs"].as_array().expect("Msgs");
    assert_eq!(msgs.len(), 1, "{push}");
    msgs[0].clone()
}
