//! Bodies of the `/conversation/*` endpoints.

use serde::Deserialize;

use crate::limits::MESSAGE_ID_MAX;
use crate::validate::{identifier, identifiers, user_id};
use crate::{FieldError, Pagination, Validate};

/// The page get_sorted_conversation_list returns without `pagination`.
pub const DEFAULT_PAGE: Pagination = Pagination {
    page_number: 1,
    show_number: 20,
};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SortedConversationListReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(default, rename = "conversationIDs")]
    pub conversation_ids: Option<Vec<String>>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

impl Validate for SortedConversationListReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        if let Some(ids) = self.conversation_ids.as_ref().filter(|ids| !ids.is_empty()) {
            identifiers("conversationIDs", ids, MESSAGE_ID_MAX)?;
        }
        self.pagination.as_ref().map_or(Ok(()), Pagination::validate)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPatch {
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    pub is_pinned: Option<bool>,
    pub recv_msg_opt: Option<i32>,
    pub ex: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SetConversationsReq {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub conversation: ConversationPatch,
}

impl Validate for SetConversationsReq {
    fn validate(&self) -> Result<(), FieldError> {
        user_id("userID", &self.user_id)?;
        let c = &self.conversation;
        identifier("conversation.conversationID", &c.conversation_id, MESSAGE_ID_MAX)?;
        if c.recv_msg_opt.is_some_and(|o| !(0..=2).contains(&o)) {
            return Err(FieldError::new(
                "conversation.recvMsgOpt",
                "must be 0 (receive), 1 (do not receive) or 2 (receive without notification)",
            ));
        }
        crate::validate::optional_max_chars("conversation.ex", &c.ex, crate::limits::EX_MAX)
    }
}
