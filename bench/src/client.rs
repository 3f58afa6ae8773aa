//! The client side of the wire: JSON POSTs with Parley's headers and reply
//! envelope, and WebSocket sessions of the gateway.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// WebSocket request and push identifiers (docs/api.md).
pub const WS_NEWEST_SEQ: i64 = 1001;
pub const WS_SEND: i64 = 1003;
pub const WS_PUSH: i64 = 2001;

/// How long any one request or handshake may take before the run fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `{errCode, errMsg, errDlt, data}`, the envelope of every reply.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    err_code: i64,
    #[serde(default)]
    err_msg: String,
    #[serde(default)]
    err_dlt: String,
    #[serde(default)]
    data: Value,
}

/// A successful reply: its data and, for commands, the log position of the
/// command's last event (0 for queries).
pub struct Reply {
    pub data: Value,
    pub position: u64,
}

/// One base URL and tenant, over a pool of keep-alive connections.
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    tenant: String,
    operations: AtomicU64,
}

impl Api {
    pub fn new(base: &str, tenant: &str) -> Result<Api> {
        let http = reqwest::Client::builder().tcp_nodelay(true).timeout(TIMEOUT).build()?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
            tenant: tenant.to_owned(),
            operations: AtomicU64::new(0),
        })
    }

    /// POSTs `body` to `path`; a reply with errCode other than 0 is an error.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<Reply> {
        let operation = self.operations.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("operationID", format!("bench-{operation}"))
            .header("X-Tenant-ID", &self.tenant)
            .body(serde_json::to_vec(body)?);
        if let Some(token) = token {
            request = request.header("token", token);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let position = response
            .headers()
            .get("X-Parley-Position")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        let status = response.status();
        let envelope: Envelope = response
            .json()
            .await
            .map_err(|e| format!("{path}: HTTP {status}, no reply envelope: {e}"))?;
        if envelope.err_code != 0 {
            return Err(format!(
                "{path}: errCode {} {}: {}",
                envelope.err_code, envelope.err_msg, envelope.err_dlt
            )
            .into());
        }
        Ok(Reply {
            data: envelope.data,
            position,
        })
    }

    /// Opens a WebSocket session of `user` and makes one round trip
    /// (GetNewestSeq), so the server pushes to it once this returns.
    pub async fn connect(&self, token: &str, user: &str) -> Result<Socket> {
        let url = format!(
            "{}/ws?token={token}&sendID={user}&platformID=1",
            self.base.replacen("http", "ws", 1)
        );
        // Small buffers: the idle scenario holds thousands of sessions.
        let config = WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .write_buffer_size(0);
        let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
        let (mut socket, _) = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| format!("websocket of {user}: no handshake within {TIMEOUT:?}"))??;
        let request = json!({"reqIdentifier": WS_NEWEST_SEQ, "operationID": format!("bench-open-{user}"),
            "msgIncr": "open", "sendID": user, "data": {"userID": user}});
        socket.send(Message::text(request.to_string())).await?;
        loop {
            let frame = tokio::time::timeout(TIMEOUT, socket.next())
                .await
                .map_err(|_| format!("websocket of {user}: no reply within {TIMEOUT:?}"))?
                .ok_or_else(|| format!("websocket of {user} ended"))??;
            let Message::Text(text) = frame else {
                if let Message::Close(close) = frame {
                    return Err(format!("websocket of {user} closed: {close:?}").into());
                }
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str())?;
            if reply["msgIncr"] != "open" {
                continue;
            }
            if reply["errCode"] != 0 {
                return Err(format!("websocket of {user}: {reply}").into());
            }
            return Ok(socket);
        }
    }
}
