//! Sending, one-to-one and in groups: seqs, idempotency and who may send.

use events::friend::{BlackAdded, FriendAdded};
use events::group::*;
use events::message::*;
use serde_json::json;

use super::*;
use crate::given::{admin, given, user, NOW};
use crate::group::GroupCommand;
use crate::pair::PairCommand;
use crate::Command;

fn message(from: &str, to: &str, group: &str, client_msg_id: &str) -> NewMessage {
    NewMessage {
        send_id: from.into(),
        recv_id: to.into(),
        group_id: group.into(),
        client_msg_id: client_msg_id.into(),
        server_msg_id: format!("s-{client_msg_id}"),
        sender_nickname: from.to_uppercase(),
        sender_face_url: String::new(),
        content_type: TEXT,
        content: json!({"content": client_msg_id}),
        ex: String::new(),
    }
}

fn to_bob(client_msg_id: &str) -> Command {
    send_single(message("alice", "bob", "", client_msg_id), true, false)
}

fn send_single(message: NewMessage, recipient_exists: bool, friend_verify: bool) -> Command {
    Command::Pair(PairCommand::SendMsg {
        message,
        recipient_exists,
        friend_verify,
    })
}

fn in_group(from: &str, client_msg_id: &str) -> Command {
    Command::Group(GroupCommand::SendMsg(message(from, "", "g1", client_msg_id)))
}

fn sent(m: &NewMessage, seq: u64) -> DomainEvent {
    let (conversation_id, session_type) = if m.group_id.is_empty() {
        (single_conversation_id(&m.send_id, &m.recv_id), SINGLE_CHAT)
    } else {
        (group_conversation_id(&m.group_id), GROUP_CHAT)
    };
    DomainEvent::MessageSent(MessageSent {
        conversation_id,
        seq,
        server_msg_id: m.server_msg_id.clone(),
        client_msg_id: m.client_msg_id.clone(),
        send_id: m.send_id.clone(),
        recv_id: m.recv_id.clone(),
        group_id: m.group_id.clone(),
        sender_nickname: m.sender_nickname.clone(),
        sender_face_url: m.sender_face_url.clone(),
        session_type,
        msg_from: FROM_USER,
        content_type: m.content_type,
        content: m.content.clone(),
        send_time: NOW,
        ex: m.ex.clone(),
    })
}

fn alice_to_bob(client_msg_id: &str, seq: u64) -> DomainEvent {
    sent(&message("alice", "bob", "", client_msg_id), seq)
}

#[test]
fn the_first_message_of_a_chat_is_seq_1_and_the_next_seq_follows() {
    given(&[])
        .when(&user("alice"), to_bob("c1"))
        .then(&[alice_to_bob("c1", 1)]);
    let history = [alice_to_bob("c1", 1), sent(&message("bob", "alice", "", "c2"), 2)];
    given(&history)
        .when(&user("alice"), to_bob("c3"))
        .then(&[alice_to_bob("c3", 3)]);
}

#[test]
fn a_retried_client_msg_id_gets_its_original_receipt() {
    let DomainEvent::MessageSent(first) = alice_to_bob("c1", 1) else {
        unreachable!()
    };
    given(&[alice_to_bob("c1", 1), alice_to_bob("c2", 2)])
        .when(&user("alice"), to_bob("c1"))
        .then_error(CommandError::AlreadySent(Receipt::of(&first)));
}

#[test]
fn only_the_most_recent_client_msg_ids_are_remembered() {
    let history: Vec<DomainEvent> = (1..=RECENT_CLIENT_IDS as u64 + 1)
        .map(|seq| alice_to_bob(&format!("c{seq}"), seq))
        .collect();
    let next = RECENT_CLIENT_IDS as u64 + 2;
    given(&history)
        .when(&user("alice"), to_bob("c1"))
        .then(&[alice_to_bob("c1", next)]);
}

#[test]
fn nobody_sends_as_someone_else_but_an_app_admin() {
    given(&[])
        .when(&user("carol"), to_bob("c1"))
        .then_error(CommandError::NoPermission("carol may not act for alice".into()));
    given(&[])
        .when(&admin("root"), to_bob("c1"))
        .then(&[alice_to_bob("c1", 1)]);
}

#[test]
fn one_to_one_messages_need_a_registered_other_user() {
    given(&[])
        .when(
            &user("alice"),
            send_single(message("alice", "bob", "", "c1"), false, false),
        )
        .then_error(CommandError::UserNotFound("bob".into()));
    given(&[])
        .when(
            &user("alice"),
            send_single(message("alice", "alice", "", "c1"), true, false),
        )
        .then_error(CommandError::InvalidArgument(
            "recvID: cannot send a message to yourself".into(),
        ));
}

#[test]
fn a_recipient_who_blacklisted_the_sender_refuses_its_messages() {
    let black = DomainEvent::BlackAdded(BlackAdded {
        owner_user_id: "bob".into(),
        black_user_id: "alice".into(),
        ex: String::new(),
        add_source: 0,
        operator_user_id: "bob".into(),
        create_time: NOW,
    });
    given(std::slice::from_ref(&black))
        .when(&user("alice"), to_bob("c1"))
        .then_error(CommandError::BlockedByPeer("bob".into()));
    // The blacklist is one-way: bob still writes to alice.
    let reply = send_single(message("bob", "alice", "", "c2"), true, false);
    given(&[black])
        .when(&user("bob"), reply)
        .then(&[sent(&message("bob", "alice", "", "c2"), 1)]);
}

#[test]
fn with_friend_verification_only_friends_write() {
    let verified = || send_single(message("alice", "bob", "", "c1"), true, true);
    given(&[])
        .when(&user("alice"), verified())
        .then_error(CommandError::NotFriend("alice (in the friend list of bob)".into()));
    let friend = DomainEvent::FriendAdded(FriendAdded {
        owner_user_id: "bob".into(),
        friend_user_id: "alice".into(),
        add_source: 2,
        operator_user_id: "bob".into(),
        create_time: NOW,
    });
    given(&[friend])
        .when(&user("alice"), verified())
        .then(&[alice_to_bob("c1", 1)]);
}

fn group_of(members: &[(&str, i32)]) -> Vec<DomainEvent> {
    let mut history = vec![DomainEvent::GroupCreated(GroupCreated {
        group_id: "g1".into(),
        group_name: "G".into(),
        notification: String::new(),
        introduction: String::new(),
        face_url: String::new(),
        ex: String::new(),
        group_type: 2,
        need_verification: VERIFY_NONE,
        look_member_info: 0,
        apply_member_friend: 0,
        owner_user_id: "own".into(),
        creator_user_id: "own".into(),
        create_time: NOW,
        member_user_ids: members.iter().map(|(user, _)| (*user).to_owned()).collect(),
    })];
    history.extend(members.iter().map(|(user, role_level)| {
        DomainEvent::GroupMemberJoined(GroupMemberJoined {
            group_id: "g1".into(),
            user_id: (*user).into(),
            role_level: *role_level,
            join_source: JOIN_BY_INVITATION,
            inviter_user_id: "own".into(),
            operator_user_id: "own".into(),
            ex: String::new(),
            join_time: NOW,
        })
    }));
    history
}

fn team() -> Vec<DomainEvent> {
    group_of(&[("own", ROLE_OWNER), ("adm", ROLE_ADMIN), ("mem", ROLE_MEMBER)])
}

fn group_sent(from: &str, client_msg_id: &str, seq: u64) -> DomainEvent {
    sent(&message(from, "", "g1", client_msg_id), seq)
}

#[test]
fn members_send_to_the_group_with_its_own_dense_seqs() {
    let mut history = team();
    history.push(group_sent("adm", "c1", 1));
    given(&history)
        .when(&user("mem"), in_group("mem", "c2"))
        .then(&[group_sent("mem", "c2", 2)]);
}

#[test]
fn outsiders_and_unknown_or_dismissed_groups_get_no_message_in() {
    given(&team())
        .when(&user("out"), in_group("out", "c1"))
        .then_error(CommandError::NotInGroup("out: not in group g1".into()));
    given(&[])
        .when(&user("mem"), in_group("mem", "c1"))
        .then_error(CommandError::GroupNotFound("g1".into()));
    let mut dismissed = team();
    dismissed.push(DomainEvent::GroupDismissed(GroupDismissed {
        group_id: "g1".into(),
        operator_user_id: "own".into(),
        removed_user_ids: vec![],
    }));
    given(&dismissed)
        .when(&user("own"), in_group("own", "c1"))
        .then_error(CommandError::GroupDismissed("g1".into()));
}

fn muted_until(user: &str, mute_end_time: i64) -> DomainEvent {
    DomainEvent::GroupMemberMuted(GroupMemberMuted {
        group_id: "g1".into(),
        user_id: user.into(),
        mute_end_time,
        operator_user_id: "own".into(),
    })
}

#[test]
fn a_muted_member_is_silent_until_the_mute_ends() {
    let mut history = team();
    history.push(muted_until("mem", NOW + 1));
    given(&history)
        .when(&user("mem"), in_group("mem", "c1"))
        .then_error(CommandError::MutedInGroup("mem".into()));
    history.push(muted_until("mem", NOW));
    given(&history)
        .when(&user("mem"), in_group("mem", "c1"))
        .then(&[group_sent("mem", "c1", 1)]);
}

#[test]
fn a_muted_group_hears_only_its_owner_and_admins() {
    let mut history = team();
    history.push(DomainEvent::GroupMuteSet(GroupMuteSet {
        group_id: "g1".into(),
        muted: true,
        operator_user_id: "own".into(),
    }));
    given(&history)
        .when(&user("mem"), in_group("mem", "c1"))
        .then_error(CommandError::MutedGroup);
    for speaker in ["own", "adm"] {
        given(&history)
            .when(&user(speaker), in_group(speaker, "c1"))
            .then(&[group_sent(speaker, "c1", 1)]);
    }
}

#[test]
fn a_retried_group_message_gets_its_original_receipt() {
    let mut history = team();
    history.push(group_sent("mem", "c1", 1));
    let DomainEvent::MessageSent(first) = group_sent("mem", "c1", 1) else {
        unreachable!()
    };
    given(&history)
        .when(&user("mem"), in_group("mem", "c1"))
        .then_error(CommandError::AlreadySent(Receipt::of(&first)));
}

fn revoke(revoker: &str, sender: &str, seq: u64) -> Revocation {
    Revocation {
        conversation_id: "sg_g1".into(),
        seq,
        revoker: revoker.into(),
        sender: sender.into(),
        client_msg_id: format!("c{seq}"),
    }
}

fn revoked(r: &Revocation, role: i32) -> DomainEvent {
    DomainEvent::MessageRevoked(MessageRevoked {
        conversation_id: r.conversation_id.clone(),
        seq: r.seq,
        revoker_user_id: r.revoker.clone(),
        revoker_role: role,
        revoke_time: NOW,
        client_msg_id: r.client_msg_id.clone(),
        source_message_send_id: r.sender.clone(),
    })
}

fn in_group_revoke(r: &Revocation) -> Command {
    Command::Group(GroupCommand::Revoke {
        group_id: "g1".into(),
        revocation: r.clone(),
    })
}

/// The team with one message from each of own (1), adm (2) and mem (3).
fn chatty_team() -> Vec<DomainEvent> {
    let mut history = group_of(&[
        ("own", ROLE_OWNER),
        ("adm", ROLE_ADMIN),
        ("adm2", ROLE_ADMIN),
        ("mem", ROLE_MEMBER),
        ("mem2", ROLE_MEMBER),
    ]);
    for (seq, sender) in [(1, "own"), (2, "adm"), (3, "mem")] {
        history.push(group_sent(sender, &format!("c{seq}"), seq));
    }
    history
}

#[test]
fn group_revocation_follows_rank() {
    let senders = [(1, "own"), (2, "adm"), (3, "mem")];
    // (revoker, role, may revoke the messages of own / adm / mem)
    let matrix = [
        ("own", ROLE_OWNER, [true, true, true]),
        ("adm", ROLE_ADMIN, [false, true, true]),
        ("adm2", ROLE_ADMIN, [false, false, true]),
        ("mem", ROLE_MEMBER, [false, false, true]),
        ("mem2", ROLE_MEMBER, [false, false, false]),
    ];
    for (revoker, role, allowed) in matrix {
        for ((seq, sender), allowed) in senders.iter().zip(allowed) {
            let r = revoke(revoker, sender, *seq);
            let outcome = given(&chatty_team()).when(&user(revoker), in_group_revoke(&r));
            if allowed {
                outcome.then(&[revoked(&r, role)]);
            } else {
                outcome.then_error(CommandError::NoPermission(format!(
                    "{revoker} may not revoke the message {seq} of {sender}"
                )));
            }
        }
    }
    let r = revoke("root", "own", 1);
    given(&chatty_team())
        .when(&admin("root"), in_group_revoke(&r))
        .then(&[revoked(&r, 0)]);
}

#[test]
fn a_message_is_revoked_once_and_must_exist() {
    let r = revoke("mem", "mem", 3);
    let mut history = chatty_team();
    history.push(revoked(&r, ROLE_MEMBER));
    given(&history)
        .when(&user("mem"), in_group_revoke(&r))
        .then_error(CommandError::MsgAlreadyRevoked(3));
    given(&chatty_team())
        .when(&user("mem"), in_group_revoke(&revoke("mem", "mem", 4)))
        .then_error(CommandError::NotFound("no message 4 in sg_g1".into()));
}

#[test]
fn in_a_one_to_one_chat_only_the_sender_revokes() {
    let r = Revocation {
        conversation_id: "si_alice_bob".into(),
        seq: 1,
        revoker: "bob".into(),
        sender: "alice".into(),
        client_msg_id: "c1".into(),
    };
    let pair_revoke = |r: &Revocation| {
        Command::Pair(PairCommand::Revoke {
            a: "alice".into(),
            b: "bob".into(),
            revocation: r.clone(),
        })
    };
    given(&[alice_to_bob("c1", 1)])
        .when(&user("bob"), pair_revoke(&r))
        .then_error(CommandError::NoPermission(
            "only alice (who sent it) may revoke message 1".into(),
        ));
    let mine = Revocation {
        revoker: "alice".into(),
        ..r
    };
    let expected = DomainEvent::MessageRevoked(MessageRevoked {
        conversation_id: "si_alice_bob".into(),
        seq: 1,
        revoker_user_id: "alice".into(),
        revoker_role: 0,
        revoke_time: NOW,
        client_msg_id: "c1".into(),
        source_message_send_id: "alice".into(),
    });
    given(&[alice_to_bob("c1", 1)])
        .when(&user("alice"), pair_revoke(&mine))
        .then(&[expected]);
}
