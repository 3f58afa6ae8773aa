//! A user's own side of its conversations: read position, clear, delete
//! and settings.

use std::collections::BTreeMap;

use super::*;
use crate::given::{admin, given, user};
use crate::user::UserCommand;
use crate::Command;

const CHAT: &str = "si_alice_bob";

fn of(command: ConversationCommand) -> Command {
    Command::User(UserCommand::Conversation {
        user_id: "bob".into(),
        command,
    })
}

fn mark_read(has_read_seq: u64, seqs: &[u64], max_seq: u64) -> Command {
    of(ConversationCommand::MarkRead {
        conversation_id: CHAT.into(),
        has_read_seq,
        seqs: seqs.to_vec(),
        max_seq,
    })
}

fn read(has_read_seq: u64, seqs: &[u64]) -> DomainEvent {
    DomainEvent::ConversationRead(ConversationRead {
        user_id: "bob".into(),
        conversation_id: CHAT.into(),
        has_read_seq,
        seqs: seqs.to_vec(),
    })
}

fn cleared(conversation: &str, cleared_seq: u64) -> DomainEvent {
    DomainEvent::ConversationCleared(ConversationCleared {
        user_id: "bob".into(),
        conversation_id: conversation.into(),
        cleared_seq,
    })
}

#[test]
fn marking_read_raises_the_read_position() {
    given(&[])
        .when(&user("bob"), mark_read(3, &[], 5))
        .then(&[read(3, &[])]);
    given(&[read(3, &[])])
        .when(&user("bob"), mark_read(5, &[], 5))
        .then(&[read(5, &[])]);
}

#[test]
fn the_read_position_never_goes_back() {
    given(&[read(4, &[])])
        .when(&user("bob"), mark_read(2, &[], 5))
        .then(&[]);
    // Marked messages are still recorded (for read receipts), the
    // position stays.
    given(&[read(4, &[])])
        .when(&user("bob"), mark_read(0, &[2], 5))
        .then(&[read(4, &[2])]);
}

#[test]
fn marking_messages_read_moves_to_the_highest_of_them() {
    given(&[])
        .when(&user("bob"), mark_read(0, &[2, 4, 3], 5))
        .then(&[read(4, &[2, 4, 3])]);
}

#[test]
fn nothing_beyond_the_newest_message_is_read() {
    given(&[])
        .when(&user("bob"), mark_read(6, &[], 5))
        .then_error(CommandError::InvalidArgument(
            "seq 6 is beyond the newest message of si_alice_bob (5)".into(),
        ));
    given(&[])
        .when(&user("bob"), mark_read(0, &[2, 7, 9], 5))
        .then_error(CommandError::InvalidArgument(
            "seq 7, 9 is beyond the newest message of si_alice_bob (5)".into(),
        ));
}

#[test]
fn only_the_user_or_an_app_admin_touches_its_conversations() {
    given(&[])
        .when(&user("alice"), mark_read(1, &[], 5))
        .then_error(CommandError::NoPermission("alice may not act for bob".into()));
    given(&[])
        .when(&admin("root"), mark_read(1, &[], 5))
        .then(&[read(1, &[])]);
}

#[test]
fn clearing_hides_everything_up_to_each_current_max() {
    let max_seqs = BTreeMap::from([(CHAT.to_owned(), 5), ("sg_g1".to_owned(), 9)]);
    given(&[cleared(CHAT, 5)])
        .when(&user("bob"), of(ConversationCommand::Clear { max_seqs }))
        .then(&[cleared("sg_g1", 9)]);
}

#[test]
fn deleting_needs_messages_that_exist() {
    let delete = |seqs: &[u64]| {
        of(ConversationCommand::DeleteMessages {
            conversation_id: CHAT.into(),
            seqs: seqs.to_vec(),
            max_seq: 5,
        })
    };
    given(&[])
        .when(&user("bob"), delete(&[2, 5]))
        .then(&[DomainEvent::MessagesDeleted(MessagesDeleted {
            user_id: "bob".into(),
            conversation_id: CHAT.into(),
            seqs: vec![2, 5],
        })]);
    given(&[])
        .when(&user("bob"), delete(&[2, 6]))
        .then_error(CommandError::NotFound("no message 6 in si_alice_bob".into()));
}

#[test]
fn settings_change_only_what_is_given() {
    let set = |is_pinned, recv_msg_opt| {
        of(ConversationCommand::Set {
            conversation_id: CHAT.into(),
            is_pinned,
            recv_msg_opt,
            ex: None,
        })
    };
    given(&[])
        .when(&user("bob"), set(Some(true), None))
        .then(&[DomainEvent::ConversationSettingsSet(ConversationSettingsSet {
            user_id: "bob".into(),
            conversation_id: CHAT.into(),
            is_pinned: Some(true),
            recv_msg_opt: None,
            ex: None,
        })]);
    given(&[]).when(&user("bob"), set(None, None)).then(&[]);
}
