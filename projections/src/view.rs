//! One conversation as one user sees it: the conversation's side (max seq,
//! revoked messages, when the user joined and left) combined with the
//! user's side (read position, cleared history, deleted messages). Unread
//! counts and visibility are computed here, exactly, at query time.

use std::collections::HashMap;

use events::message::GROUP_CHAT;

use crate::conversations::{self, SettingsDoc};
use crate::messages::{self, SeqDoc, UserConversationDoc};
use crate::store::read_many;
use crate::{DocSource, StoreError};

#[derive(Debug, Clone)]
pub struct ConversationView {
    pub membership: UserConversationDoc,
    pub settings: SettingsDoc,
    pub seqs: SeqDoc,
    /// The first and last seq this user may see (empty when first > last).
    pub first: u64,
    pub last: u64,
}

impl ConversationView {
    fn new(membership: UserConversationDoc, settings: SettingsDoc, seqs: SeqDoc, history: bool) -> Self {
        let (first, last) = membership.visible(seqs.max_seq, history);
        ConversationView {
            first: first.max(settings.cleared_seq + 1),
            last,
            membership,
            settings,
            seqs,
        }
    }

    /// May the user see message `seq` (visible range, not deleted)?
    pub fn shows(&self, seq: u64) -> bool {
        (self.first..=self.last).contains(&seq) && self.settings.deleted_seqs.binary_search(&seq).is_err()
    }

    /// The newest message the user may see.
    pub fn latest(&self) -> Option<u64> {
        (self.first..=self.last).rev().find(|seq| self.shows(*seq))
    }

    /// Everything up to here counts as read: the read position, the user's
    /// own latest message, the cleared history, and (in groups) what was
    /// there before the user joined.
    fn read_up_to(&self) -> u64 {
        let joined = if self.membership.session_type == GROUP_CHAT {
            self.membership.join_seq
        } else {
            0
        };
        [
            self.settings.has_read_seq,
            self.membership.own_seq,
            joined,
            self.first.saturating_sub(1),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Messages after the read position that the user may see, except
    /// revoked ones. Own messages never count: sending moves the read
    /// position past them.
    pub fn unread(&self) -> u64 {
        let from = self.read_up_to();
        if self.last <= from {
            return 0;
        }
        let after = |seqs: &[u64]| seqs.iter().filter(|s| **s > from && **s <= self.last).count() as u64;
        let revoked = after(&self.seqs.revoked);
        let deleted_not_revoked = self
            .settings
            .deleted_seqs
            .iter()
            .filter(|s| **s > from && **s <= self.last && self.seqs.revoked.binary_search(s).is_err())
            .count() as u64;
        (self.last - from).saturating_sub(revoked + deleted_not_revoked)
    }
}

/// Every conversation of the user (`only`: just these IDs), as it sees them.
pub async fn conversations(
    source: &dyn DocSource,
    tenant: &str,
    user_id: &str,
    only: Option<&[String]>,
    history_for_new_members: bool,
) -> Result<Vec<ConversationView>, StoreError> {
    let mut memberships = messages::conversations(source, tenant, user_id).await?;
    if let Some(only) = only {
        memberships.retain(|m| only.contains(&m.conversation_id));
    }
    let mut settings: HashMap<String, SettingsDoc> = conversations::all(source, tenant, user_id)
        .await?
        .into_iter()
        .map(|s| (s.conversation_id.clone(), s))
        .collect();
    let ids: Vec<String> = memberships.iter().map(|m| format!("{tenant}:{}", m.key)).collect();
    let mut seqs: HashMap<String, SeqDoc> = read_many::<SeqDoc>(source, messages::SEQS, &ids)
        .await?
        .into_iter()
        .map(|s| (s.key.clone(), s))
        .collect();
    Ok(memberships
        .into_iter()
        .map(|m| {
            let id = m.conversation_id.clone();
            let setting = settings.remove(&id).unwrap_or_else(|| SettingsDoc {
                conversation_id: id.clone(),
                ..SettingsDoc::default()
            });
            let seq = seqs.remove(&m.key).unwrap_or_else(|| SeqDoc {
                key: m.key.clone(),
                max_seq: 0,
                revoked: Vec::new(),
            });
            ConversationView::new(m, setting, seq, history_for_new_members)
        })
        .collect())
}

/// One conversation of the user, if the user is (or was) in it.
pub async fn conversation(
    source: &dyn DocSource,
    tenant: &str,
    user_id: &str,
    conversation_id: &str,
    history_for_new_members: bool,
) -> Result<Option<ConversationView>, StoreError> {
    let only = [conversation_id.to_owned()];
    let mut found = conversations(source, tenant, user_id, Some(&only), history_for_new_members).await?;
    Ok(found.pop())
}
