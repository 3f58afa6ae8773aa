//! A user's own view of a conversation, decided in the `user:` scope:
//! settings, read position, cleared history and deleted messages. Nothing
//! here changes what the conversation's other members see.

use serde::{Deserialize, Serialize};

/// recvMsgOpt values: 0 receive, 1 do not receive, 2 receive without
/// notification.
pub const RECV_NOT_NOTIFY: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSettingsSet {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recv_msg_opt: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ex: Option<String>,
}

/// The user has read up to `has_read_seq` (only ever raised); `seqs` are
/// the messages it marked one by one, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationRead {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub has_read_seq: u64,
    pub seqs: Vec<u64>,
}

/// Everything up to `cleared_seq` is hidden from this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCleared {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub cleared_seq: u64,
}

/// These messages are hidden from this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesDeleted {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seqs: Vec<u64>,
}
