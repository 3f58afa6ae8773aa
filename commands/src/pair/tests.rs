use super::*;
use crate::given::{admin, given, user, NOW};
use crate::Command;

fn add_friend(from: &str, to: &str) -> Command {
    Command::Pair(PairCommand::AddFriend {
        from: from.into(),
        to: to.into(),
        req_msg: "hi".into(),
        ex: String::new(),
        to_exists: true,
    })
}

fn respond(from: &str, to: &str, handle_result: i32) -> Command {
    Command::Pair(PairCommand::RespondFriend {
        from: from.into(),
        to: to.into(),
        handle_result,
        handle_msg: "ok".into(),
    })
}

fn requested(from: &str, to: &str) -> DomainEvent {
    DomainEvent::FriendRequested(FriendRequested {
        from_user_id: from.into(),
        to_user_id: to.into(),
        req_msg: "hi".into(),
        ex: String::new(),
        create_time: NOW,
    })
}

fn handled(from: &str, to: &str, result: i32, handler: &str, msg: &str) -> DomainEvent {
    DomainEvent::FriendRequestHandled(FriendRequestHandled {
        from_user_id: from.into(),
        to_user_id: to.into(),
        handle_result: result,
        handle_msg: msg.into(),
        handler_user_id: handler.into(),
        handle_time: NOW,
    })
}

fn added(owner: &str, friend: &str, operator: &str) -> DomainEvent {
    DomainEvent::FriendAdded(FriendAdded {
        owner_user_id: owner.into(),
        friend_user_id: friend.into(),
        add_source: BY_APPLY,
        operator_user_id: operator.into(),
        create_time: NOW,
    })
}

fn blacked(owner: &str, black: &str) -> DomainEvent {
    DomainEvent::BlackAdded(BlackAdded {
        owner_user_id: owner.into(),
        black_user_id: black.into(),
        ex: String::new(),
        add_source: BY_OWNER,
        operator_user_id: owner.into(),
        create_time: NOW,
    })
}

fn deleted(owner: &str, friend: &str) -> DomainEvent {
    DomainEvent::FriendDeleted(FriendDeleted {
        owner_user_id: owner.into(),
        friend_user_id: friend.into(),
    })
}

#[test]
fn a_request_is_recorded() {
    given(&[])
        .when(&user("alice"), add_friend("alice", "bob"))
        .then(&[requested("alice", "bob")]);
}

#[test]
fn a_request_needs_the_sender_itself_a_peer_and_a_known_target() {
    given(&[])
        .when(&user("mallory"), add_friend("alice", "bob"))
        .then_error(CommandError::NoPermission("mallory may not act for alice".into()));
    given(&[])
        .when(&user("alice"), add_friend("alice", "alice"))
        .then_error(CommandError::CannotAddYourself);
    let unknown = Command::Pair(PairCommand::AddFriend {
        from: "alice".into(),
        to: "ghost".into(),
        req_msg: String::new(),
        ex: String::new(),
        to_exists: false,
    });
    given(&[])
        .when(&user("alice"), unknown)
        .then_error(CommandError::UserNotFound("ghost".into()));
}

#[test]
fn a_blacklisting_target_refuses_requests() {
    given(&[blacked("bob", "alice")])
        .when(&user("alice"), add_friend("alice", "bob"))
        .then_error(CommandError::BlockedByPeer("bob".into()));
}

#[test]
fn friends_both_ways_cannot_ask_again_but_one_way_friends_can() {
    let friends = [added("alice", "bob", "bob"), added("bob", "alice", "bob")];
    given(&friends)
        .when(&user("alice"), add_friend("alice", "bob"))
        .then_error(CommandError::RelationshipAlready(
            "alice and bob are already friends".into(),
        ));
    given(&[friends[0].clone(), friends[1].clone(), deleted("bob", "alice")])
        .when(&user("alice"), add_friend("alice", "bob"))
        .then(&[requested("alice", "bob")]);
}

#[test]
fn a_request_to_someone_who_asked_first_makes_friends_at_once() {
    given(&[requested("bob", "alice")])
        .when(&user("alice"), add_friend("alice", "bob"))
        .then(&[
            requested("alice", "bob"),
            handled("bob", "alice", 1, "alice", ""),
            handled("alice", "bob", 1, "alice", ""),
            added("alice", "bob", "alice"),
            added("bob", "alice", "alice"),
        ]);
}

#[test]
fn agreeing_makes_friends_both_ways_and_refusing_does_not() {
    given(&[requested("alice", "bob")])
        .when(&user("bob"), respond("alice", "bob", 1))
        .then(&[
            handled("alice", "bob", 1, "bob", "ok"),
            added("alice", "bob", "bob"),
            added("bob", "alice", "bob"),
        ]);
    given(&[requested("alice", "bob")])
        .when(&user("bob"), respond("alice", "bob", -1))
        .then(&[handled("alice", "bob", -1, "bob", "ok")]);
}

#[test]
fn only_the_receiver_answers_once_a_request_that_exists() {
    given(&[requested("alice", "bob")])
        .when(&user("alice"), respond("alice", "bob", 1))
        .then_error(CommandError::NoPermission("alice may not act for bob".into()));
    given(&[])
        .when(&user("bob"), respond("alice", "bob", 1))
        .then_error(CommandError::NotFound("no friend request from alice to bob".into()));
    given(&[requested("alice", "bob"), handled("alice", "bob", -1, "bob", "no")])
        .when(&user("bob"), respond("alice", "bob", 1))
        .then_error(CommandError::RequestHandled("alice -> bob".into()));
    given(&[requested("alice", "bob")])
        .when(&admin("root"), respond("alice", "bob", 1))
        .then(&[
            handled("alice", "bob", 1, "root", "ok"),
            added("alice", "bob", "root"),
            added("bob", "alice", "root"),
        ]);
}

#[test]
fn a_new_request_replaces_a_handled_one() {
    given(&[requested("alice", "bob"), handled("alice", "bob", -1, "bob", "no")])
        .when(&user("alice"), add_friend("alice", "bob"))
        .then(&[requested("alice", "bob")]);
}

#[test]
fn deleting_is_one_way_and_needs_a_friend() {
    let friends = [added("alice", "bob", "bob"), added("bob", "alice", "bob")];
    let delete = |owner: &str, friend: &str| {
        Command::Pair(PairCommand::DeleteFriend {
            owner: owner.into(),
            friend: friend.into(),
        })
    };
    given(&friends)
        .when(&user("alice"), delete("alice", "bob"))
        .then(&[deleted("alice", "bob")]);
    given(&[friends[0].clone(), friends[1].clone(), deleted("alice", "bob")])
        .when(&user("alice"), delete("alice", "bob"))
        .then_error(CommandError::NotFriend("bob".into()));
    given(&[friends[0].clone(), friends[1].clone(), deleted("alice", "bob")])
        .when(&user("bob"), delete("bob", "alice"))
        .then(&[deleted("bob", "alice")]);
}

#[test]
fn friend_settings_change_only_for_a_friend() {
    let update = Command::Pair(PairCommand::UpdateFriend {
        owner: "alice".into(),
        friend: "bob".into(),
        is_pinned: Some(true),
        remark: None,
        ex: None,
    });
    given(&[])
        .when(&user("alice"), update.clone())
        .then_error(CommandError::NotFriend("bob".into()));
    given(&[added("alice", "bob", "bob")])
        .when(&user("alice"), update)
        .then(&[DomainEvent::FriendUpdated(FriendUpdated {
            owner_user_id: "alice".into(),
            friend_user_id: "bob".into(),
            is_pinned: Some(true),
            remark: None,
            ex: None,
        })]);
}

#[test]
fn blacklisting_needs_another_known_user_once_and_removal_is_idempotent() {
    let black = |owner: &str, black: &str, exists: bool| {
        Command::Pair(PairCommand::AddBlack {
            owner: owner.into(),
            black: black.into(),
            ex: String::new(),
            black_exists: exists,
        })
    };
    let unblack = Command::Pair(PairCommand::RemoveBlack {
        owner: "bob".into(),
        black: "alice".into(),
    });
    given(&[])
        .when(&user("bob"), black("bob", "alice", true))
        .then(&[blacked("bob", "alice")]);
    given(&[blacked("bob", "alice")])
        .when(&user("bob"), black("bob", "alice", true))
        .then_error(CommandError::RelationshipAlready(
            "alice is already in bob's blacklist".into(),
        ));
    given(&[])
        .when(&user("bob"), black("bob", "ghost", false))
        .then_error(CommandError::UserNotFound("ghost".into()));
    given(&[])
        .when(&user("bob"), black("bob", "bob", true))
        .then_error(CommandError::InvalidArgument(
            "blackUserID: cannot blacklist yourself".into(),
        ));
    given(&[blacked("bob", "alice")])
        .when(&user("bob"), unblack.clone())
        .then(&[DomainEvent::BlackRemoved(BlackRemoved {
            owner_user_id: "bob".into(),
            black_user_id: "alice".into(),
        })]);
    given(&[]).when(&user("bob"), unblack).then(&[]);
}
