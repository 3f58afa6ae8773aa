//! Dispatch of one stored event to the projectors it concerns.

use events::{DomainEvent, Envelope};

use crate::{audit, conversations, friends, groups, messages, notifications, users, Batch, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event at position {position} is inconsistent with the read models: {reason}")]
    Inconsistent { position: u64, reason: String },
}

impl ProjectionError {
    /// An event refers to a document the read models do not have.
    pub(crate) fn missing(envelope: &Envelope, what: String) -> Self {
        ProjectionError::Inconsistent {
            position: envelope.log_position,
            reason: format!("{what} is not in the read models"),
        }
    }
}

/// Applies one event to every read model it concerns.
pub async fn project(envelope: &Envelope, event: &DomainEvent, batch: &mut Batch<'_>) -> Result<(), ProjectionError> {
    audit::project(envelope, batch)?;
    models(envelope, event, batch).await?;
    // Last: notices carry the group and members as the event left them.
    if !matches!(event, DomainEvent::MessageSent(_)) {
        notifications::project(envelope, event, batch).await?;
    }
    Ok(())
}

async fn models(envelope: &Envelope, event: &DomainEvent, batch: &mut Batch<'_>) -> Result<(), ProjectionError> {
    match event {
        DomainEvent::UserRegistered(_) | DomainEvent::UserProfileUpdated(_) => {
            users::project(envelope, event, batch).await
        }
        // Read models hold personal fields sealed, as the log does: once the
        // user's key is erased they read as "[erased]" with nothing to
        // rewrite. Only the audit index records the erasure.
        DomainEvent::UserForgotten(_) => Ok(()),
        DomainEvent::FriendRequested(_)
        | DomainEvent::FriendRequestHandled(_)
        | DomainEvent::FriendAdded(_)
        | DomainEvent::FriendDeleted(_)
        | DomainEvent::FriendUpdated(_)
        | DomainEvent::BlackAdded(_)
        | DomainEvent::BlackRemoved(_) => friends::project(envelope, event, batch).await,
        DomainEvent::GroupMemberJoined(_)
        | DomainEvent::GroupMemberQuit(_)
        | DomainEvent::GroupMemberKicked(_)
        | DomainEvent::GroupDismissed(_) => {
            // Membership changes the group and who sees its conversation.
            groups::project(envelope, event, batch).await?;
            messages::project(envelope, event, batch).await
        }
        DomainEvent::MessageSent(_) | DomainEvent::MessageRevoked(_) => messages::project(envelope, event, batch).await,
        DomainEvent::ConversationSettingsSet(_)
        | DomainEvent::ConversationRead(_)
        | DomainEvent::ConversationCleared(_)
        | DomainEvent::MessagesDeleted(_) => conversations::project(envelope, event, batch).await,
        DomainEvent::GroupCreated(_)
        | DomainEvent::GroupInfoSet(_)
        | DomainEvent::GroupJoinRequested(_)
        | DomainEvent::GroupJoinRequestHandled(_)
        | DomainEvent::GroupOwnerTransferred(_)
        | DomainEvent::GroupMemberMuted(_)
        | DomainEvent::GroupMemberMuteCancelled(_)
        | DomainEvent::GroupMuteSet(_) => groups::project(envelope, event, batch).await,
    }
}
