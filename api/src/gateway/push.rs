//! Push: every MessageSent this node's tail of the log delivers goes, once
//! the read models include it, to the online sessions of its recipients
//! (the other party, or every group member) and to the sender's other
//! sessions. Driven by the log, so a message sent through any node reaches
//! the clients of every node.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use events::message::{MessageSent, SINGLE_CHAT};
use events::{DomainEvent, Envelope};
use infra::tail::Tail;
use projections::groups;
use projections::messages::MsgDoc;
use serde_json::json;

use super::hub::Hub;
use super::PUSH_MESSAGES;
use crate::state::AppState;

pub async fn run(state: AppState, hub: Arc<Hub>, mut tail: Tail) {
    while let Some(batch) = tail.recv().await {
        for envelope in batch {
            if let Ok(DomainEvent::MessageSent(message)) = envelope.event() {
                push(&state, &hub, &envelope, &message).await;
            }
        }
    }
}

async fn push(state: &AppState, hub: &Hub, envelope: &Envelope, message: &MessageSent) {
    // A client that gets the push may pull right away: wait until the read
    // models (and so the group's member list) include the message.
    if !state.progress.wait_for(envelope.log_position, state.read_wait).await {
        tracing::warn!(
            position = envelope.log_position,
            "pushing a message the read models do not show yet"
        );
    }
    let tenant = &envelope.tenant_id;
    let recipients = if message.session_type == SINGLE_CHAT {
        vec![message.send_id.clone(), message.recv_id.clone()]
    } else {
        match groups::members(state.reads(), tenant, &message.group_id).await {
            Ok(members) => members.into_iter().map(|m| m.user_id).collect(),
            Err(e) => {
                tracing::error!(error = %e, group = %message.group_id, "reading members to push to");
                return;
            }
        }
    };
    if !hub.any_online(tenant, &recipients) {
        return;
    }
    let frame = json!({
        "reqIdentifier": PUSH_MESSAGES, "msgIncr": "", "operationID": envelope.operation_id,
        "errCode": 0, "errMsg": "",
        "data": { "msgs": { &message.conversation_id: { "Msgs": [MsgDoc::of(message)] } } },
    });
    let frame = Utf8Bytes::from(frame.to_string());
    hub.deliver(tenant, &recipients, &frame, &message.client_msg_id);
}
