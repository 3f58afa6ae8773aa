//! Messages. A one-to-one message is decided in its `pair:` scope, a group
//! message in its `group:` scope: the scope assigns the conversation's next
//! seq, so seqs are dense (1, 2, 3, ...).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// sessionType of one-to-one chats.
pub const SINGLE_CHAT: i32 = 1;
/// sessionType of group chats (read diffusion).
pub const GROUP_CHAT: i32 = 3;
/// msgFrom of messages users send.
pub const FROM_USER: i32 = 100;
/// contentType of plain text (`content: {content: "..."}`).
pub const TEXT: i32 = 101;

/// The conversation ID of a one-to-one chat: `si_<a>_<b>`, a < b.
pub fn single_conversation_id(one: &str, other: &str) -> String {
    let (a, b) = if one <= other { (one, other) } else { (other, one) };
    format!("si_{a}_{b}")
}

/// The conversation ID of a group chat: `sg_<groupID>`.
pub fn group_conversation_id(group_id: &str) -> String {
    format!("sg_{group_id}")
}

/// The key of a conversation's stored documents (messages, seqs,
/// receipts): `<a>:<b>` for the pair a < b, `sg_<groupID>` for a group.
/// Unlike the client-facing `si_<a>_<b>`, it is unambiguous: user IDs may
/// contain `_` (alice + bob_smith and alice_bob + smith share one `si_` ID)
/// but never `:`.
pub fn conversation_key(send_id: &str, recv_id: &str, group_id: &str) -> String {
    if !group_id.is_empty() {
        return group_conversation_id(group_id);
    }
    let (a, b) = if send_id <= recv_id {
        (send_id, recv_id)
    } else {
        (recv_id, send_id)
    };
    format!("{a}:{b}")
}

/// A message stored with its seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSent {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: u64,
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    #[serde(rename = "sendID")]
    pub send_id: String,
    /// The other user of a one-to-one chat; empty in groups.
    #[serde(rename = "recvID")]
    pub recv_id: String,
    /// The group of a group chat; empty in one-to-one chats.
    #[serde(rename = "groupID")]
    pub group_id: String,
    pub sender_nickname: String,
    #[serde(rename = "senderFaceURL")]
    pub sender_face_url: String,
    pub session_type: i32,
    pub msg_from: i32,
    pub content_type: i32,
    pub content: Value,
    /// Milliseconds since the Unix epoch.
    pub send_time: i64,
    pub ex: String,
}

/// What a send's reply carries (send_msg's reply body); a retry with the
/// same clientMsgID gets the original one back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    #[serde(rename = "serverMsgID")]
    pub server_msg_id: String,
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    pub send_time: i64,
    pub seq: u64,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
}

impl MessageSent {
    /// See [`conversation_key`].
    pub fn key(&self) -> String {
        conversation_key(&self.send_id, &self.recv_id, &self.group_id)
    }
}

impl Receipt {
    /// The receipt of a stored message.
    pub fn of(e: &MessageSent) -> Self {
        Receipt {
            conversation_id: e.conversation_id.clone(),
            client_msg_id: e.client_msg_id.clone(),
            server_msg_id: e.server_msg_id.clone(),
            seq: e.seq,
            send_time: e.send_time,
        }
    }
}

/// contentType of a revoked message's notice.
pub const REVOKED: i32 = 2101;

/// A message was revoked: it now reads as a revoke notice (contentType
/// 2101) for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRevoked {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: u64,
    #[serde(rename = "revokerUserID")]
    pub revoker_user_id: String,
    /// The revoker's group role (0 in one-to-one chats and for app admins).
    pub revoker_role: i32,
    pub revoke_time: i64,
    #[serde(rename = "clientMsgID")]
    pub client_msg_id: String,
    #[serde(rename = "sourceMessageSendID")]
    pub source_message_send_id: String,
}
