//! Push, driven by this node's tail of the log. Once the node's read
//! models include an event:
//! - `MessageSent` / `MessageRevoked` go as 2001 (the message as a pull
//!   would now return it) to every online session of the conversation's
//!   users (the pair, or the group's members), except that a new message
//!   skips the session that sent it;
//! - `ConversationRead` of a one-to-one chat goes as 2200 (a read receipt)
//!   to both users' sessions (the peer, and the reader's other devices);
//! - the notifications any other event made go as 2001 (`notificationMsgs`)
//!   to every online session of each recipient, the actor's included.
//!
//! A message sent through any node so reaches the clients of every node.
//! The same tail tells the node's vault to drop its cached key of a user
//! forgotten through another node (`UserForgotten`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use events::conversation::ConversationRead;
use events::message::{conversation_key, SINGLE_CHAT};
use events::{DomainEvent, Envelope, StreamKey};
use infra::tail::Tail;
use infra::vault::VaultError;
use projections::messages::{MsgDoc, UserConversationDoc};
use projections::notifications::{self, Delivery};
use projections::{groups, messages, view, StoreError};
use serde_json::{json, Value};

use super::hub::Hub;
use super::{PUSH_MESSAGES, READ_RECEIPT};
use crate::state::AppState;

/// Groups whose rosters are cached at most; beyond, the cache starts over.
const ROSTERS_MAX: usize = 10_000;

/// Each group's members with their seqs of joining and leaving, as the
/// read models showed them at a message of the group. Any other event of
/// the group's scope (joins, quits, kicks, dismissal...) drops its entry;
/// the tail delivers a scope's events in log order, so a roster used for a
/// message holds every membership change before it.
#[derive(Default)]
struct Rosters(HashMap<(String, String), Arc<Vec<UserConversationDoc>>>);

impl Rosters {
    fn forget(&mut self, envelope: &Envelope) {
        if let Ok(StreamKey::Group { tenant, group_id }) = envelope.stream_key.parse::<StreamKey>() {
            self.0.remove(&(tenant, group_id));
        }
    }

    async fn of(
        &mut self,
        state: &AppState,
        tenant: &str,
        group_id: &str,
    ) -> Result<Arc<Vec<UserConversationDoc>>, StoreError> {
        let at = (tenant.to_owned(), group_id.to_owned());
        if let Some(roster) = self.0.get(&at) {
            return Ok(roster.clone());
        }
        let members = groups::members(state.reads(), tenant, group_id).await?;
        let users: Vec<String> = members.into_iter().map(|m| m.user_id).collect();
        let key = conversation_key("", "", group_id);
        let roster = Arc::new(messages::memberships(state.reads(), tenant, &key, &users).await?);
        if self.0.len() >= ROSTERS_MAX {
            self.0.clear();
        }
        self.0.insert(at, roster.clone());
        Ok(roster)
    }
}

pub async fn run(state: AppState, hub: Arc<Hub>, mut tail: Tail) {
    let mut rosters = Rosters::default();
    while let Some(batch) = tail.recv().await {
        for envelope in batch {
            let Ok(event) = envelope.event() else { continue };
            if let DomainEvent::UserForgotten(forgotten) = &event {
                state.vault.evict(&envelope.tenant_id, &forgotten.user_id);
                continue;
            }
            let message = matches!(
                event,
                DomainEvent::MessageSent(_) | DomainEvent::MessageRevoked(_) | DomainEvent::ConversationRead(_)
            );
            if !message {
                rosters.forget(&envelope);
            }
            // A client that gets a push may pull right away.
            if !state.progress.wait_for(envelope.log_position, state.read_wait).await {
                tracing::warn!(
                    position = envelope.log_position,
                    "pushing an event the read models do not show yet"
                );
            }
            let pushed = if message {
                push(&state, &hub, &mut rosters, &envelope, &event).await
            } else {
                notify(&state, &hub, &envelope).await
            };
            if let Err(e) = pushed {
                tracing::error!(error = %e, position = envelope.log_position, "push failed");
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// A push frame, its personal fields opened.
async fn frame(
    state: &AppState,
    req_identifier: i64,
    envelope: &Envelope,
    mut data: Value,
) -> Result<Utf8Bytes, PushError> {
    state.vault.open(&mut data).await?;
    let frame = json!({
        "reqIdentifier": req_identifier, "msgIncr": "", "operationID": envelope.operation_id,
        "errCode": 0, "errMsg": "", "data": data,
    });
    Ok(Utf8Bytes::from(frame.to_string()))
}

/// The key of the conversation decided in `envelope`'s scope, and its
/// users who may see message `seq`: the pair, or the group's members, less
/// those who joined after it when new members do not see history.
async fn conversation(
    state: &AppState,
    rosters: &mut Rosters,
    envelope: &Envelope,
    seq: u64,
) -> Result<(String, Vec<String>), StoreError> {
    match envelope.stream_key.parse::<StreamKey>() {
        Ok(StreamKey::Pair { a, b, .. }) => Ok((conversation_key(&a, &b, ""), vec![a, b])),
        Ok(StreamKey::Group { tenant, group_id }) => {
            let key = conversation_key("", "", &group_id);
            let history = state.history_for_new_members;
            let roster = rosters.of(state, &tenant, &group_id).await?;
            let users = roster
                .iter()
                .filter(|m| m.sees(seq, history))
                .map(|m| m.user_id.clone())
                .collect();
            Ok((key, users))
        }
        _ => Ok((String::new(), Vec::new())),
    }
}

async fn push(
    state: &AppState,
    hub: &Hub,
    rosters: &mut Rosters,
    envelope: &Envelope,
    event: &DomainEvent,
) -> Result<(), PushError> {
    let tenant = &envelope.tenant_id;
    match event {
        DomainEvent::MessageSent(message) => {
            let (_, users) = conversation(state, rosters, envelope, message.seq).await?;
            if hub.any_online(tenant, &users) {
                let data = json!({ "msgs": { &message.conversation_id: { "Msgs": [MsgDoc::of(message)] } } });
                let skip = Some((message.send_id.as_str(), message.client_msg_id.as_str()));
                hub.deliver(
                    tenant,
                    &users,
                    &frame(state, PUSH_MESSAGES, envelope, data).await?,
                    skip,
                );
            }
        }
        DomainEvent::MessageRevoked(revoked) => {
            let (key, users) = conversation(state, rosters, envelope, revoked.seq).await?;
            if hub.any_online(tenant, &users) {
                let now = messages::messages(state.reads(), tenant, &key, &[revoked.seq]).await?;
                let data = json!({ "msgs": { &revoked.conversation_id: { "Msgs": now } } });
                hub.deliver(
                    tenant,
                    &users,
                    &frame(state, PUSH_MESSAGES, envelope, data).await?,
                    None,
                );
            }
        }
        DomainEvent::ConversationRead(read) => receipt(state, hub, envelope, read).await?,
        _ => {}
    }
    Ok(())
}

/// Pushes the notifications the event made to their online recipients.
async fn notify(state: &AppState, hub: &Hub, envelope: &Envelope) -> Result<(), PushError> {
    let tenant = &envelope.tenant_id;
    let event_id = envelope.event_id.to_string();
    for delivery in notifications::deliveries(state.reads(), tenant, &event_id).await? {
        let users = recipients(state, hub, tenant, &delivery).await?;
        if users.is_empty() {
            continue;
        }
        let now = notifications::notifications(state.reads(), tenant, &delivery.lane, &[delivery.seq]).await?;
        let data = json!({ "notificationMsgs": { &delivery.conversation_id: { "Msgs": now } } });
        hub.deliver(
            tenant,
            &users,
            &frame(state, PUSH_MESSAGES, envelope, data).await?,
            None,
        );
    }
    Ok(())
}

/// The online users a notification goes to: its user, or those who see its
/// seq of the group's line (members, and those who joined or left with it).
async fn recipients(state: &AppState, hub: &Hub, tenant: &str, delivery: &Delivery) -> Result<Vec<String>, StoreError> {
    if let Some(user) = &delivery.user_id {
        return Ok(hub.online_among(tenant, std::slice::from_ref(user)));
    }
    let mut online = hub.online_in(tenant);
    if online.is_empty() {
        return Ok(online);
    }
    // Whichever is smaller is checked: the tenant's online users, or the
    // group's members (read whole) who are online.
    let group = groups::group(state.reads(), tenant, &delivery.group_id).await?;
    let members = group.map_or(0, |g| g.member_count as usize) + delivery.joining.len() + delivery.leaving.len();
    if online.len() > members {
        let mut candidates: Vec<String> = groups::members(state.reads(), tenant, &delivery.group_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        candidates.extend(delivery.joining.iter().chain(&delivery.leaving).cloned());
        online = hub.online_among(tenant, &candidates);
    }
    let seen = notifications::memberships(state.reads(), tenant, &delivery.conversation_id, &online).await?;
    Ok(seen
        .into_iter()
        .filter(|m| m.sees(delivery.seq))
        .map(|m| m.user_id)
        .collect())
}

async fn receipt(state: &AppState, hub: &Hub, envelope: &Envelope, read: &ConversationRead) -> Result<(), PushError> {
    let tenant = &envelope.tenant_id;
    let seen = view::conversation(state.reads(), tenant, &read.user_id, &read.conversation_id, true).await?;
    let Some(seen) = seen.filter(|v| v.membership.session_type == SINGLE_CHAT) else {
        return Ok(());
    };
    let users = [read.user_id.clone(), seen.membership.peer_user_id];
    if hub.any_online(tenant, &users) {
        let data = json!({
            "conversationID": read.conversation_id, "userID": read.user_id,
            "hasReadSeq": read.has_read_seq, "seqs": read.seqs,
        });
        hub.deliver(tenant, &users, &frame(state, READ_RECEIPT, envelope, data).await?, None);
    }
    Ok(())
}
