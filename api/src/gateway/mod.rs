//! The WebSocket gateway: `GET /ws?token=&sendID=&platformID=`, JSON text
//! frames. Requests `{reqIdentifier, operationID, msgIncr, sendID, data}`
//! get replies `{reqIdentifier, msgIncr, operationID, errCode, errMsg,
//! data}`; the server pushes new messages as reqIdentifier 2001, and tells
//! a session displaced by a newer one of its user with a 2002 kick.

pub mod hub;
pub mod push;

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use schemas::limits::OPERATION_ID_MAX;
use schemas::Validate;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use self::hub::{Closing, Hub, Outlet, Session, CLOSE_GOING_AWAY, CLOSE_POLICY};
use crate::error::AppError;
use crate::extract::{Caller, RequestMeta};
use crate::routes::msg;
use crate::state::AppState;

pub const GET_NEWEST_SEQ: i64 = 1001;
pub const PULL_MSG_BY_SEQ_LIST: i64 = 1002;
pub const SEND_MSG: i64 = 1003;
pub const PUSH_MESSAGES: i64 = 2001;
pub const KICK_ONLINE: i64 = 2002;
pub const READ_RECEIPT: i64 = 2200;

/// How often the server pings; a client silent for `IDLE_LIMIT` is dropped.
const PING_EVERY: Duration = Duration::from_secs(10);
const IDLE_LIMIT: Duration = Duration::from_secs(30);
/// A frame the client does not take within this long ends the session
/// (as long as a silent client is given).
const SEND_LIMIT: Duration = IDLE_LIMIT;
/// The largest frame a client may send (a SendMsg carries at most 64 KiB
/// of content).
const FRAME_MAX: usize = 1 << 20;
/// What a socket reserves for reading (tungstenite's default, 128 KiB, is
/// 1.3 GB for 10,000 idle sessions); it grows for larger frames. Frames
/// are written out at once (no write buffering).
const SOCKET_BUFFER: usize = 4096;
/// How often shutdown looks whether every session has ended.
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Deserialize)]
pub struct ConnectParams {
    #[serde(default)]
    token: String,
    #[serde(default, rename = "sendID")]
    send_id: String,
    #[serde(default, rename = "platformID")]
    platform_id: String,
    #[serde(default, rename = "operationID")]
    operation_id: String,
}

pub async fn connect(
    State(state): State<AppState>,
    Query(params): Query<ConnectParams>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(FRAME_MAX)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| serve(state, params, socket))
}

/// Shutdown: every session gets a close frame (1001 "server shutting
/// down"); returns once every session has ended, or at `deadline`.
pub async fn close_sessions(hub: &Hub, deadline: Instant) {
    hub.close_all(&Closing {
        code: CLOSE_GOING_AWAY,
        reason: "server shutting down".into(),
        last_frame: None,
    });
    while !hub.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(SHUTDOWN_POLL).await;
    }
}

/// A close reason: at most 123 bytes, cut at a character boundary.
fn reason(text: &str) -> Utf8Bytes {
    let mut end = text.len().min(123);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Utf8Bytes::from(&text[..end])
}

async fn refuse(mut socket: WebSocket, error: AppError) {
    let frame = CloseFrame {
        code: CLOSE_POLICY,
        reason: reason(&format!("{} {}", error.code, error.detail)),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// The caller a session acts as, from its token (and the tenant in it).
fn authenticate(state: &AppState, params: &ConnectParams) -> Result<Caller, AppError> {
    if params.token.is_empty() {
        return Err(AppError::new(1507, "the token query parameter is required"));
    }
    let claims = state.tokens.verify(&params.token)?;
    if params.send_id != claims.user_id {
        return Err(AppError::args(format!(
            "sendID {:?} is not the token's user",
            params.send_id
        )));
    }
    if params.platform_id != claims.platform_id.to_string() {
        return Err(AppError::args(format!(
            "platformID {:?} is not the token's platform ({})",
            params.platform_id, claims.platform_id
        )));
    }
    Ok(Caller {
        meta: RequestMeta {
            operation_id: params.operation_id.clone(),
            tenant: claims.tenant,
            min_position: None,
        },
        is_admin: state.is_admin(&claims.user_id),
        user_id: claims.user_id,
    })
}

async fn serve(state: AppState, params: ConnectParams, socket: WebSocket) {
    let caller = match authenticate(&state, &params) {
        Ok(caller) => caller,
        Err(e) => return refuse(socket, e).await,
    };
    let tenant = caller.meta.tenant.clone();
    let hub::Registered {
        session,
        outlet,
        displaced,
    } = state.hub.register(&tenant, &caller.user_id);
    metrics::gauge!("parley_ws_sessions").increment(1.0);
    tracing::info!(user = %caller.user_id, tenant = %tenant, "websocket session opened");
    if !displaced.is_empty() {
        let kicked = kick(state.hub.max_sessions_per_user());
        tracing::info!(user = %caller.user_id, sessions = displaced.len(), "{}", kicked.reason);
        for old in displaced {
            hub::closed_because("kicked");
            old.close(kicked.clone());
        }
    }
    let (sink, mut stream) = socket.split();
    let mut closing = session.closing();
    let mut writer = tokio::spawn(write_frames(sink, outlet));
    let mut writer_ended = false;
    // Once the server closes the session (e.g. an overflowing queue), it
    // answers nothing more but keeps reading until the client answers the
    // close: dropping a socket with unread input resets it, and the client
    // would lose the frames still on their way.
    let mut closed_by_server = false;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_LIMIT, stream.next()) => next,
            _ = closing.changed(), if !closed_by_server => {
                closed_by_server = true;
                continue;
            }
            ended = &mut writer, if !writer_ended => {
                writer_ended = true;
                // A client that took no frame for `SEND_LIMIT` gets its
                // connection dropped at once: waiting for its close could
                // keep it open for as long as it keeps sending.
                if matches!(ended, Ok(Written::Stalled)) {
                    hub::closed_because("stalled");
                    session.close(Closing::policy(format!("took no frame for {} s", SEND_LIMIT.as_secs())));
                    break;
                }
                continue;
            }
        };
        let frame = match next {
            Err(_) => {
                hub::closed_because("idle");
                session.close(Closing::policy(format!("no frame for {} s", IDLE_LIMIT.as_secs())));
                break;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(frame))) => frame,
        };
        match frame {
            Message::Text(text) if !closed_by_server => {
                metrics::counter!("parley_ws_frames_in_total").increment(1);
                let reply = answer(&state, &caller, &session, text.as_str()).await;
                session.offer(Utf8Bytes::from(reply.to_string()));
            }
            _ => {}
        }
    }
    session.close(Closing::policy("session ended".into()));
    state.hub.unregister(&tenant, &caller.user_id, &session);
    metrics::gauge!("parley_ws_sessions").decrement(1.0);
    if !writer_ended {
        let abort = writer.abort_handle();
        if tokio::time::timeout(SEND_LIMIT, writer).await.is_err() {
            abort.abort();
        }
    }
    tracing::info!(user = %caller.user_id, "websocket session closed");
}

/// How a session displaced by a newer session of its user ends, as OpenIM's
/// multi-login kick: a 2002 frame, then a close with code 1008 and the
/// reason (1506 is TokenKickedError).
fn kick(max_sessions_per_user: usize) -> Closing {
    let frame = json!({"reqIdentifier": KICK_ONLINE, "msgIncr": "", "operationID": "", "errCode": 0,
        "errMsg": "", "data": null});
    Closing {
        code: CLOSE_POLICY,
        reason: format!("1506 kicked: more than {max_sessions_per_user} sessions of this user"),
        last_frame: Some(Utf8Bytes::from(frame.to_string())),
    }
}

/// How a socket's writer ended.
enum Written {
    /// The session ended (its queue closed) or its close frame went out.
    Done,
    /// A frame could not be written within `SEND_LIMIT` (or the socket
    /// failed): the client is gone or does not read.
    Stalled,
}

/// The only writer of a socket: queued frames, pings, and the close.
async fn write_frames(mut sink: SplitSink<WebSocket, Message>, mut outlet: Outlet) -> Written {
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        let message = tokio::select! {
            frame = outlet.frames.recv() => match frame {
                Some(frame) => Message::Text(frame),
                None => return Written::Done,
            },
            _ = outlet.close.changed() => {
                let closing = outlet.close.borrow().clone().unwrap_or_else(|| Closing::policy(String::new()));
                if let Some(frame) = closing.last_frame {
                    if !send(&mut sink, Message::Text(frame)).await {
                        return Written::Stalled;
                    }
                }
                let close = CloseFrame { code: closing.code, reason: reason(&closing.reason) };
                return if send(&mut sink, Message::Close(Some(close))).await { Written::Done } else { Written::Stalled };
            }
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        if !send(&mut sink, message).await {
            return Written::Stalled;
        }
    }
}

/// Writes one frame; false if the socket failed or the client did not take
/// the frame within `SEND_LIMIT` (a client that stops reading blocks the
/// send: give up on it).
async fn send(sink: &mut SplitSink<WebSocket, Message>, message: Message) -> bool {
    let sent = matches!(tokio::time::timeout(SEND_LIMIT, sink.send(message)).await, Ok(Ok(())));
    if sent {
        metrics::counter!("parley_ws_frames_out_total").increment(1);
    }
    sent
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    req_identifier: i64,
    #[serde(default, rename = "operationID")]
    operation_id: String,
    #[serde(default)]
    msg_incr: Value,
    #[serde(default)]
    data: Value,
}

fn parse<T: serde::de::DeserializeOwned + Validate>(data: Value) -> Result<T, AppError> {
    let body = serde_json::to_vec(&data).map_err(|e| AppError::internal(e.to_string()))?;
    crate::extract::parse_body(&body)
}

/// The reply frame to one request frame.
async fn answer(state: &AppState, caller: &Caller, session: &Session, text: &str) -> Value {
    let request: Request = match serde_json::from_str(text) {
        Ok(request) => request,
        Err(e) => {
            return json!({"reqIdentifier": 0, "msgIncr": "", "operationID": "", "errCode": 1001,
                "errMsg": format!("frame: {e}"), "data": null})
        }
    };
    if request.operation_id.is_empty() || request.operation_id.len() > OPERATION_ID_MAX {
        return json!({"reqIdentifier": request.req_identifier, "msgIncr": request.msg_incr,
            "operationID": "", "errCode": 1001,
            "errMsg": format!("operationID: 1 to {OPERATION_ID_MAX} characters"), "data": null});
    }
    let mut caller = caller.clone();
    caller.meta.operation_id = request.operation_id.clone();
    let span = tracing::info_span!("ws", operation_id = %request.operation_id, req = request.req_identifier);
    let outcome = tracing::Instrument::instrument(handle(state, &caller, session, &request), span).await;
    let outcome = match outcome {
        Ok(mut data) => state.vault.open(&mut data).await.map(|()| data).map_err(AppError::from),
        Err(e) => Err(e),
    };
    let (code, message, data) = match outcome {
        Ok(data) => (0, String::new(), data),
        Err(e) => (e.code, e.detail, Value::Null),
    };
    json!({
        "reqIdentifier": request.req_identifier, "msgIncr": request.msg_incr,
        "operationID": request.operation_id, "errCode": code, "errMsg": message, "data": data,
    })
}

async fn handle(state: &AppState, caller: &Caller, session: &Session, request: &Request) -> Result<Value, AppError> {
    match request.req_identifier {
        GET_NEWEST_SEQ => msg::newest(state, caller, parse(request.data.clone())?).await,
        PULL_MSG_BY_SEQ_LIST => msg::pull(state, caller, parse(request.data.clone())?).await,
        SEND_MSG => {
            let mut req: schemas::message::SendMsgReq = parse(request.data.clone())?;
            if req.client_msg_id.is_empty() {
                req.client_msg_id = uuid::Uuid::new_v4().simple().to_string();
            }
            session.sending(&req.client_msg_id);
            let (receipt, _) = msg::send(state, caller, req).await?;
            serde_json::to_value(receipt).map_err(|e| AppError::internal(e.to_string()))
        }
        other => Err(AppError::args(format!(
            "unknown reqIdentifier {other} (1001 newest seq, 1002 pull, 1003 send)"
        ))),
    }
}
