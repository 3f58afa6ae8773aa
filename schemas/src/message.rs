//! Bodies of the `/msg/*` endpoints (and of the WebSocket requests that
//! share them).

use events::message::{GROUP_CHAT, SINGLE_CHAT, TEXT};
use serde::Deserialize;
use serde_json::Value;

use crate::limits::*;
use crate::validate::{identifier, identifiers, max_chars, user_id};
use crate::{FieldError, Validate};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendMsgReq {
    #[serde(rename = "sendID")]
    pub send_id: String,
    #[serde(default, rename = "recvID")]
    pub recv_id: String,
    #[serde(default, rename = "groupID")]
    pub group_id: String,
    pub session_type: i32,
    pub content_type: i32,
    pub content: Value,
    /// Empty or absent: the server picks one.
    #[serde(default, rename = "clientMsgID")]
    pub client_msg_id: String,
    /// Empty or absent: the sender's profile nickname.
    #[serde(default)]
    pub sender_nickname: String,
    /// Empty or absent: the sender's profile face.
    #[serde(default, rename = "senderFaceURL")]
    pub sender_face_url: String,
    #[serde(default)]
    pub ex: String,
}

impl Validate for SendMsgReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("sendID", &self.send_id)?;
        match self.session_type {
            SINGLE_CHAT => {
                user_id("recvID", &self.recv_id)?;
                if !self.group_id.is_empty() {
                    return Err(FieldError::new("groupID", "must be empty in a one-to-one chat"));
                }
            }
            GROUP_CHAT => {
                identifier("groupID", &self.group_id, GROUP_ID_MAX)?;
                if !self.recv_id.is_empty() {
                    return Err(FieldError::new("recvID", "must be empty in a group chat"));
                }
            }
            other => {
                return Err(FieldError::new(
                    "sessionType",
                    format!("must be 1 (one-to-one) or 3 (group), got {other}"),
                ))
            }
        }
        if self.content_type <= 0 {
            return Err(FieldError::new("contentType", "must be a positive content type"));
        }
        if SYSTEM_CONTENT_TYPES.contains(&self.content_type) {
            return Err(FieldError::new(
                "contentType",
                format!(
                    "{} is a notification or system notice ({}..={}), which only the server sends",
                    self.content_type,
                    SYSTEM_CONTENT_TYPES.start(),
                    SYSTEM_CONTENT_TYPES.end()
                ),
            ));
        }
        let Value::Object(content) = &self.content else {
            return Err(FieldError::new("content", "must be a JSON object"));
        };
        if self.content_type == TEXT && !content.get("content").is_some_and(Value::is_string) {
            return Err(FieldError::new(
                "content.content",
                "a text message (contentType 101) needs its text as a string",
            ));
        }
        storable("content", &self.content)?;
        let size = self.content.to_string().len();
        if size > CONTENT_MAX_BYTES {
            return Err(FieldError::new(
                "content",
                format!("at most {CONTENT_MAX_BYTES} bytes serialized, got {size}"),
            ));
        }
        if !self.client_msg_id.is_empty() {
            identifier("clientMsgID", &self.client_msg_id, MESSAGE_ID_MAX)?;
        }
        max_chars("senderNickname", &self.sender_nickname, NICKNAME_MAX)?;
        max_chars("senderFaceURL", &self.sender_face_url, FACE_URL_MAX)?;
        max_chars("ex", &self.ex, EX_MAX)
    }
}

/// newest_seq, get_pinned_conversation_ids, get_not_notify_conversation_ids.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct UserReq {
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for UserReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)
    }
}

/// One conversation's range of a pull: up to `num` messages within
/// `begin..=end`, from `begin` up (order 0) or from `end` down (order 1).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SeqRange {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub begin: u64,
    pub end: u64,
    pub num: u64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullMsgBySeqReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub seq_ranges: Vec<SeqRange>,
    /// 0 ascending, 1 descending.
    #[serde(default)]
    pub order: i32,
}

impl PullMsgBySeqReq {
    pub fn descending(&self) -> bool {
        self.order == 1
    }
}

impl Validate for PullMsgBySeqReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        if self.seq_ranges.is_empty() || self.seq_ranges.len() > PULL_RANGES_MAX {
            return Err(FieldError::new(
                "seqRanges",
                format!("1 to {PULL_RANGES_MAX} ranges per pull"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for range in &self.seq_ranges {
            identifier("seqRanges[].conversationID", &range.conversation_id, MESSAGE_ID_MAX)?;
            if !seen.insert(&range.conversation_id) {
                return Err(FieldError::new(
                    "seqRanges",
                    format!("{} is listed twice", range.conversation_id),
                ));
            }
            if range.begin > range.end {
                return Err(FieldError::new("seqRanges[].begin", "must not be above end"));
            }
            if !(1..=PULL_MESSAGES_MAX).contains(&range.num) {
                return Err(FieldError::new(
                    "seqRanges[].num",
                    format!("must be within 1..={PULL_MESSAGES_MAX}"),
                ));
            }
        }
        if ![0, 1].contains(&self.order) {
            return Err(FieldError::new("order", "must be 0 (ascending) or 1 (descending)"));
        }
        Ok(())
    }
}

fn conversation_id(field: &str, value: &str) -> Result<(), FieldError> {
    identifier(field, value, MESSAGE_ID_MAX)
}

/// 1..=1000 distinct seqs, each at least 1.
fn seqs(field: &str, seqs: &[u64]) -> Result<(), FieldError> {
    if seqs.is_empty() || seqs.len() > USERS_PER_QUERY_MAX {
        return Err(FieldError::new(field, format!("1 to {USERS_PER_QUERY_MAX} seqs")));
    }
    if seqs.contains(&0) {
        return Err(FieldError::new(field, "seqs start at 1"));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RevokeMsgReq {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seq: u64,
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for RevokeMsgReq {
    fn validate(&self) -> Result<(), FieldError> {
        conversation_id("conversationID", &self.conversation_id)?;
        user_id("userID", &self.user_id)?;
        if self.seq == 0 {
            return Err(FieldError::new("seq", "seqs start at 1"));
        }
        Ok(())
    }
}

/// mark_msgs_as_read (`seqs` required) and delete_msgs.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConversationSeqsReq {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub seqs: Vec<u64>,
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for ConversationSeqsReq {
    fn validate(&self) -> Result<(), FieldError> {
        conversation_id("conversationID", &self.conversation_id)?;
        user_id("userID", &self.user_id)?;
        seqs("seqs", &self.seqs)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkConversationAsReadReq {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(default)]
    pub has_read_seq: u64,
    #[serde(default)]
    pub seqs: Vec<u64>,
}

impl Validate for MarkConversationAsReadReq {
    fn validate(&self) -> Result<(), FieldError> {
        conversation_id("conversationID", &self.conversation_id)?;
        user_id("userID", &self.user_id)?;
        if self.seqs.is_empty() {
            return Ok(());
        }
        seqs("seqs", &self.seqs)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ClearConversationMsgReq {
    #[serde(rename = "conversationIDs")]
    pub conversation_ids: Vec<String>,
    #[serde(rename = "userID")]
    pub user_id: String,
}

impl Validate for ClearConversationMsgReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        identifiers("conversationIDs", &self.conversation_ids, MESSAGE_ID_MAX)
    }
}

/// JSON every read store keeps as is: no key starting with `$` or holding
/// a NUL, no integer beyond the signed 64-bit range (MongoDB's limits).
fn storable(path: &str, value: &Value) -> Result<(), FieldError> {
    match value {
        Value::Object(fields) => fields.iter().try_for_each(|(key, inner)| {
            if key.starts_with('$') || key.contains('\0') {
                return Err(FieldError::new(
                    path,
                    format!("key {key:?}: keys may not start with '$' or contain NUL"),
                ));
            }
            storable(&format!("{path}.{key}"), inner)
        }),
        Value::Array(items) => items.iter().try_for_each(|inner| storable(&format!("{path}[]"), inner)),
        Value::Number(n) if n.is_u64() && n.as_i64().is_none() => Err(FieldError::new(
            path,
            format!("{n} is beyond the signed 64-bit integer range"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(content: Value) -> SendMsgReq {
        SendMsgReq {
            send_id: "alice".into(),
            recv_id: "bob".into(),
            group_id: String::new(),
            session_type: SINGLE_CHAT,
            content_type: TEXT,
            content,
            client_msg_id: String::new(),
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            ex: String::new(),
        }
    }

    #[test]
    fn server_content_types_are_refused_and_the_ones_around_them_taken() {
        let with_type = |content_type| SendMsgReq {
            content_type,
            ..text(json!({"content": "hi", "revokerUserID": "bob"}))
        };
        for refused in [1000, 1201, 1303, 1501, 2101, 2200, 5000] {
            let err = with_type(refused).validate().unwrap_err();
            assert_eq!(err.field, "contentType", "{refused}");
            assert!(err.reason.contains("only the server sends"), "{refused}: {err}");
        }
        for taken in [102, 110, 999, 5001] {
            assert_eq!(with_type(taken).validate(), Ok(()), "{taken}");
        }
    }

    #[test]
    fn content_every_store_keeps_is_accepted() {
        let content = json!({"content": "hi", "n": i64::MAX, "m": -5, "f": 1.5, "nested": [{"a.b": 1}]});
        assert_eq!(text(content).validate(), Ok(()));
    }

    #[test]
    fn content_a_store_would_refuse_or_rewrite_is_rejected() {
        for (content, field) in [
            (json!({"content": "hi", "n": u64::MAX}), "content.n"),
            (json!({"content": "hi", "x": {"a\u{0}b": 1}}), "content.x"),
            (
                json!({"content": "hi", "list": [{"$numberLong": "5"}]}),
                "content.list[]",
            ),
        ] {
            let error = text(content).validate().unwrap_err();
            assert_eq!(error.field, field);
        }
    }
}
