use std::panic::{catch_unwind, AssertUnwindSafe};

use super::*;
use crate::given::{admin, given, user, NOW};
use crate::Command;

// The cast: group g1 is owned by `own`, with admins `adm` and `adm2` and
// members `mem` and `mem2`; `out` and `new` are registered outsiders, `root`
// is an app admin and `ghost` is not registered.
const G: &str = "g1";
const BY_SEARCH: i32 = 3;
const BY_QR_CODE: i32 = 4;

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|&id| id.to_owned()).collect()
}

// ---- commands ----

fn new_group(group_type: i32, need_verification: i32) -> NewGroup {
    NewGroup {
        group_name: "Team".into(),
        notification: "welcome".into(),
        introduction: "our team".into(),
        face_url: "https://img/team.png".into(),
        ex: "{}".into(),
        group_type,
        need_verification,
        look_member_info: 0,
        apply_member_friend: 0,
    }
}

fn create(owner: &str, admins: &[&str], members: &[&str]) -> CreateGroup {
    CreateGroup {
        group_id: G.into(),
        owner: owner.into(),
        admins: strings(admins),
        members: strings(members),
        info: new_group(WORK_GROUP, VERIFY_APPLICATIONS),
        unregistered: vec![],
    }
}

fn create_group(c: CreateGroup) -> Command {
    Command::Group(GroupCommand::Create(c))
}

/// A change of g1's info that changes nothing yet.
fn changes() -> GroupInfoSet {
    GroupInfoSet {
        group_id: G.into(),
        ..GroupInfoSet::default()
    }
}

fn set_info(changes: GroupInfoSet) -> Command {
    Command::Group(GroupCommand::SetInfo(changes))
}

/// The actor asks to join, found by search.
fn join() -> Command {
    Command::Group(GroupCommand::Join {
        group_id: G.into(),
        req_msg: "let me in".into(),
        join_source: BY_SEARCH,
        inviter: String::new(),
        ex: "e".into(),
    })
}

fn respond(applicant: &str, handle_result: i32) -> Command {
    Command::Group(GroupCommand::RespondApplication {
        group_id: G.into(),
        applicant: applicant.into(),
        handle_result,
        handled_msg: "ok".into(),
    })
}

fn quit_group(user: &str) -> Command {
    Command::Group(GroupCommand::Quit {
        group_id: G.into(),
        user: user.into(),
    })
}

fn transfer(old_owner: &str, new_owner: &str) -> Command {
    Command::Group(GroupCommand::Transfer {
        group_id: G.into(),
        old_owner: old_owner.into(),
        new_owner: new_owner.into(),
    })
}

fn kick(users: &[&str]) -> Command {
    Command::Group(GroupCommand::Kick {
        group_id: G.into(),
        kicked: strings(users),
        reason: "spam".into(),
    })
}

fn invite_unregistered(users: &[&str], unregistered: &[&str]) -> Command {
    Command::Group(GroupCommand::Invite {
        group_id: G.into(),
        invited: strings(users),
        reason: "join us".into(),
        unregistered: strings(unregistered),
    })
}

fn invite(users: &[&str]) -> Command {
    invite_unregistered(users, &[])
}

fn dismiss(delete_member: bool) -> Command {
    Command::Group(GroupCommand::Dismiss {
        group_id: G.into(),
        delete_member,
    })
}

fn mute(user: &str, seconds: u32) -> Command {
    Command::Group(GroupCommand::MuteMember {
        group_id: G.into(),
        user: user.into(),
        seconds,
    })
}

fn cancel_mute(user: &str) -> Command {
    Command::Group(GroupCommand::CancelMuteMember {
        group_id: G.into(),
        user: user.into(),
    })
}

fn mute_group() -> Command {
    Command::Group(GroupCommand::SetMute {
        group_id: G.into(),
        muted: true,
    })
}

fn cancel_mute_group() -> Command {
    Command::Group(GroupCommand::SetMute {
        group_id: G.into(),
        muted: false,
    })
}

// ---- events ----

/// GroupCreated of `new_group(WORK_GROUP, need_verification)` owned by `own`.
fn created(creator: &str, need_verification: i32, members: &[&str]) -> DomainEvent {
    DomainEvent::GroupCreated(GroupCreated {
        group_id: G.into(),
        group_name: "Team".into(),
        notification: "welcome".into(),
        introduction: "our team".into(),
        face_url: "https://img/team.png".into(),
        ex: "{}".into(),
        group_type: WORK_GROUP,
        need_verification,
        look_member_info: 0,
        apply_member_friend: 0,
        owner_user_id: "own".into(),
        creator_user_id: creator.into(),
        create_time: NOW,
        member_user_ids: members.iter().map(|m| (*m).to_owned()).collect(),
    })
}

fn joined(user: &str, role_level: i32, join_source: i32, inviter: &str, operator: &str, ex: &str) -> DomainEvent {
    DomainEvent::GroupMemberJoined(GroupMemberJoined {
        group_id: G.into(),
        user_id: user.into(),
        role_level,
        join_source,
        inviter_user_id: inviter.into(),
        operator_user_id: operator.into(),
        ex: ex.into(),
        join_time: NOW,
    })
}

/// A member added by create_group or by a direct invitation from `by`.
fn invited(user: &str, role_level: i32, by: &str) -> DomainEvent {
    joined(user, role_level, JOIN_BY_INVITATION, by, by, "")
}

/// The group g1 as `own` created it.
fn group(need_verification: i32) -> Vec<DomainEvent> {
    vec![
        created("own", need_verification, &["own", "adm", "adm2", "mem", "mem2"]),
        invited("own", ROLE_OWNER, "own"),
        invited("adm", ROLE_ADMIN, "own"),
        invited("adm2", ROLE_ADMIN, "own"),
        invited("mem", ROLE_MEMBER, "own"),
        invited("mem2", ROLE_MEMBER, "own"),
    ]
}

/// The group g1 (needVerification 0), then `later`.
fn group_then(later: &[DomainEvent]) -> Vec<DomainEvent> {
    let mut history = group(VERIFY_APPLICATIONS);
    history.extend_from_slice(later);
    history
}

fn requested(user: &str, req_msg: &str, join_source: i32, inviter: &str, ex: &str) -> DomainEvent {
    DomainEvent::GroupJoinRequested(GroupJoinRequested {
        group_id: G.into(),
        user_id: user.into(),
        req_msg: req_msg.into(),
        join_source,
        inviter_user_id: inviter.into(),
        ex: ex.into(),
        req_time: NOW,
    })
}

/// `out`'s request as made by `join()`.
fn out_requested() -> DomainEvent {
    requested("out", "let me in", BY_SEARCH, "", "e")
}

fn handled(user: &str, handle_result: i32, handled_msg: &str, handler: &str) -> DomainEvent {
    DomainEvent::GroupJoinRequestHandled(GroupJoinRequestHandled {
        group_id: G.into(),
        user_id: user.into(),
        handle_result,
        handled_msg: handled_msg.into(),
        handle_user_id: handler.into(),
        handled_time: NOW,
    })
}

fn info_set(changes: GroupInfoSet) -> DomainEvent {
    DomainEvent::GroupInfoSet(changes)
}

fn quit(user: &str) -> DomainEvent {
    DomainEvent::GroupMemberQuit(GroupMemberQuit {
        group_id: G.into(),
        user_id: user.into(),
    })
}

fn kicked(user: &str, operator: &str) -> DomainEvent {
    DomainEvent::GroupMemberKicked(GroupMemberKicked {
        group_id: G.into(),
        user_id: user.into(),
        operator_user_id: operator.into(),
        reason: "spam".into(),
    })
}

fn transferred(old_owner: &str, new_owner: &str, operator: &str) -> DomainEvent {
    DomainEvent::GroupOwnerTransferred(GroupOwnerTransferred {
        group_id: G.into(),
        old_owner_user_id: old_owner.into(),
        new_owner_user_id: new_owner.into(),
        operator_user_id: operator.into(),
    })
}

fn dismissed(operator: &str, removed: &[&str]) -> DomainEvent {
    DomainEvent::GroupDismissed(GroupDismissed {
        group_id: G.into(),
        operator_user_id: operator.into(),
        removed_user_ids: strings(removed),
    })
}

fn muted(user: &str, mute_end_time: i64, operator: &str) -> DomainEvent {
    DomainEvent::GroupMemberMuted(GroupMemberMuted {
        group_id: G.into(),
        user_id: user.into(),
        mute_end_time,
        operator_user_id: operator.into(),
    })
}

fn mute_cancelled(user: &str, operator: &str) -> DomainEvent {
    DomainEvent::GroupMemberMuteCancelled(GroupMemberMuteCancelled {
        group_id: G.into(),
        user_id: user.into(),
        operator_user_id: operator.into(),
    })
}

fn mute_set(muted: bool, operator: &str) -> DomainEvent {
    DomainEvent::GroupMuteSet(GroupMuteSet {
        group_id: G.into(),
        muted,
        operator_user_id: operator.into(),
    })
}

// ---- errors ----

fn not_manager(actor: &str) -> CommandError {
    CommandError::NoPermission(format!("only the owner or an admin of g1 may do this, not {actor}"))
}

fn outranked(actor: &str, target: &str) -> CommandError {
    CommandError::NoPermission(format!("{actor} may not do this to {target}"))
}

fn not_in(users: &str) -> CommandError {
    CommandError::NotInGroup(format!("{users}: not in group g1"))
}

fn owner_quits() -> CommandError {
    CommandError::NoPermission("own owns g1: transfer the group before quitting".into())
}

// ---- table-driven checks ----

/// Runs every case, then fails naming each case whose assertion failed.
fn each<C>(cases: Vec<(String, C)>, check: impl Fn(C)) {
    let failed: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, case)| catch_unwind(AssertUnwindSafe(|| check(case))).err().map(|_| name))
        .collect();
    assert!(failed.is_empty(), "wrong outcome for: {failed:?}");
}

/// The outcome of one operator acting on one target.
#[derive(Debug, Clone, Copy)]
enum May {
    Yes,
    /// Not the owner, an admin or an app admin: may act on nobody.
    NotManager,
    /// A manager, but not above the target (or the target is the owner).
    Outranked,
}

/// The targets of the authority matrix: the owner, another admin, another member.
const TARGETS: [&str; 3] = ["own", "adm2", "mem2"];

/// Who may kick, mute or unmute whom: operator x [owner, admin, member].
fn authority_matrix() -> Vec<(Actor, [May; 3])> {
    use May::*;
    vec![
        (user("own"), [Outranked, Yes, Yes]),
        (user("adm"), [Outranked, Outranked, Yes]),
        (user("mem"), [NotManager, NotManager, NotManager]),
        (user("out"), [NotManager, NotManager, NotManager]),
        (admin("root"), [Outranked, Yes, Yes]),
    ]
}

/// Asserts the exact outcome of every cell of the authority matrix:
/// `allowed(target, operator)` for a yes, the exact refusal otherwise.
fn check_authority_matrix(
    history: &[DomainEvent],
    command: impl Fn(&str) -> Command,
    allowed: impl Fn(&str, &str) -> Vec<DomainEvent>,
) {
    let cells = authority_matrix()
        .into_iter()
        .flat_map(|(actor, row)| {
            TARGETS.into_iter().zip(row).map(move |(target, may)| {
                let name = format!("{} ({:?}) on {target}", actor.user_id, may);
                (name, (actor.clone(), target, may))
            })
        })
        .collect();
    each(cells, |(actor, target, may)| {
        let operator = actor.user_id.as_str();
        let outcome = given(history).when(&actor, command(target));
        match may {
            May::Yes => outcome.then(&allowed(target, operator)),
            May::NotManager => outcome.then_error(not_manager(operator)),
            May::Outranked => outcome.then_error(outranked(operator, target)),
        }
    });
}

// ---- create_group ----

#[test]
fn the_owner_creates_a_group_with_its_owner_admins_and_members() {
    given(&[])
        .when(
            &user("own"),
            create_group(create("own", &["adm", "adm2"], &["mem", "mem2"])),
        )
        .then(&[
            created("own", VERIFY_APPLICATIONS, &["own", "adm", "adm2", "mem", "mem2"]),
            joined("own", 100, 2, "own", "own", ""),
            joined("adm", 60, 2, "own", "own", ""),
            joined("adm2", 60, 2, "own", "own", ""),
            joined("mem", 20, 2, "own", "own", ""),
            joined("mem2", 20, 2, "own", "own", ""),
        ]);
}

#[test]
fn a_group_may_start_with_its_owner_alone() {
    given(&[])
        .when(&user("own"), create_group(create("own", &[], &[])))
        .then(&[
            created("own", VERIFY_APPLICATIONS, &["own"]),
            invited("own", ROLE_OWNER, "own"),
        ]);
}

#[test]
fn only_an_app_admin_creates_a_group_for_another_owner() {
    given(&[])
        .when(&user("mallory"), create_group(create("own", &[], &["mem"])))
        .then_error(CommandError::NoPermission("mallory may not act for own".into()));
    given(&[])
        .when(&admin("root"), create_group(create("own", &["adm"], &["mem"])))
        .then(&[
            created("root", VERIFY_APPLICATIONS, &["own", "adm", "mem"]),
            joined("own", 100, 2, "root", "root", ""),
            joined("adm", 60, 2, "root", "root", ""),
            joined("mem", 20, 2, "root", "root", ""),
        ]);
}

#[test]
fn only_work_groups_are_created() {
    for group_type in [0, 1, 3] {
        let c = CreateGroup {
            info: new_group(group_type, VERIFY_APPLICATIONS),
            ..create("own", &[], &["mem"])
        };
        given(&[])
            .when(&user("own"), create_group(c))
            .then_error(CommandError::GroupTypeNotSupported(group_type));
    }
}

#[test]
fn a_group_id_is_never_reused_even_after_dismissal() {
    let c = create("own", &[], &["mem"]);
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), create_group(c.clone()))
        .then_error(CommandError::GroupIdExists("g1".into()));
    given(&group_then(&[dismissed("own", &[])]))
        .when(&user("own"), create_group(c.clone()))
        .then_error(CommandError::GroupIdExists("g1".into()));
    given(&group_then(&[dismissed("own", &[])]))
        .when(&admin("root"), create_group(c))
        .then_error(CommandError::GroupIdExists("g1".into()));
}

#[test]
fn creating_with_unregistered_users_names_them() {
    let c = CreateGroup {
        unregistered: strings(&["ghost", "phantom"]),
        ..create("own", &["ghost"], &["mem", "phantom"])
    };
    given(&[])
        .when(&user("own"), create_group(c))
        .then_error(CommandError::UserNotFound("ghost, phantom".into()));
}

// ---- set_group_info_ex ----

#[test]
fn the_owner_sets_only_the_given_fields() {
    let change = GroupInfoSet {
        group_name: Some("New name".into()),
        introduction: Some(String::new()),
        need_verification: Some(VERIFY_ALL),
        ..changes()
    };
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), set_info(change.clone()))
        .then(&[info_set(change)]);
}

#[test]
fn admins_and_app_admins_set_group_info_but_members_and_outsiders_may_not() {
    let change = GroupInfoSet {
        face_url: Some("https://img/new.png".into()),
        ex: Some("x".into()),
        look_member_info: Some(1),
        apply_member_friend: Some(1),
        ..changes()
    };
    let history = group(VERIFY_APPLICATIONS);
    given(&history)
        .when(&user("adm"), set_info(change.clone()))
        .then(&[info_set(change.clone())]);
    given(&history)
        .when(&admin("root"), set_info(change.clone()))
        .then(&[info_set(change.clone())]);
    given(&history)
        .when(&user("mem"), set_info(change.clone()))
        .then_error(not_manager("mem"));
    given(&history)
        .when(&user("out"), set_info(change))
        .then_error(not_manager("out"));
}

#[test]
fn a_changed_notification_records_when_and_by_whom() {
    let change = GroupInfoSet {
        notification: Some("meeting at 10".into()),
        ..changes()
    };
    for actor in [user("own"), user("adm"), admin("root")] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&actor, set_info(change.clone()))
            .then(&[info_set(GroupInfoSet {
                notification_update_time: Some(NOW),
                notification_user_id: Some(actor.user_id.clone()),
                ..change.clone()
            })]);
    }
}

#[test]
fn values_equal_to_the_current_ones_are_not_recorded() {
    let same = GroupInfoSet {
        notification: Some("welcome".into()),
        group_name: Some("Team 2".into()),
        ..changes()
    };
    // The notification is already "welcome": only the name changes, and
    // the notification's time and author stay.
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), set_info(same))
        .then(&[info_set(GroupInfoSet {
            group_name: Some("Team 2".into()),
            ..changes()
        })]);
    let repeat = GroupInfoSet {
        notification: Some("welcome".into()),
        need_verification: Some(VERIFY_APPLICATIONS),
        ..changes()
    };
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), set_info(repeat))
        .then(&[]);
}

#[test]
fn the_notification_compared_is_the_latest_one_set() {
    let set = |notification: &str| GroupInfoSet {
        notification: Some(notification.into()),
        ..changes()
    };
    let history = group_then(&[info_set(GroupInfoSet {
        notification_update_time: Some(NOW - 1),
        notification_user_id: Some("adm".into()),
        ..set("meeting at 10")
    })]);
    given(&history)
        .when(&user("own"), set_info(set("meeting at 10")))
        .then(&[]);
    given(&history)
        .when(&user("own"), set_info(set("welcome")))
        .then(&[info_set(GroupInfoSet {
            notification_update_time: Some(NOW),
            notification_user_id: Some("own".into()),
            ..set("welcome")
        })]);
}

#[test]
fn notification_time_and_author_sent_by_the_client_are_ignored() {
    let forged = GroupInfoSet {
        notification_update_time: Some(1),
        notification_user_id: Some("mallory".into()),
        ..changes()
    };
    given(&group(VERIFY_APPLICATIONS))
        .when(
            &user("own"),
            set_info(GroupInfoSet {
                group_name: Some("New name".into()),
                ..forged.clone()
            }),
        )
        .then(&[info_set(GroupInfoSet {
            group_name: Some("New name".into()),
            ..changes()
        })]);
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), set_info(forged))
        .then(&[]);
}

#[test]
fn a_change_of_nothing_records_nothing() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), set_info(changes()))
        .then(&[]);
}

#[test]
fn group_info_of_an_unknown_or_dismissed_group_cannot_be_set() {
    let change = GroupInfoSet {
        group_name: Some("x".into()),
        ..changes()
    };
    given(&[])
        .when(&user("own"), set_info(change.clone()))
        .then_error(CommandError::GroupNotFound("g1".into()));
    given(&group_then(&[dismissed("own", &[])]))
        .when(&user("own"), set_info(change))
        .then_error(CommandError::GroupDismissed("g1".into()));
}

// ---- join_group ----

#[test]
fn an_open_group_is_joined_at_once() {
    given(&group(VERIFY_NONE)).when(&user("out"), join()).then(&[joined(
        "out",
        ROLE_MEMBER,
        BY_SEARCH,
        "",
        "out",
        "e",
    )]);
}

#[test]
fn an_app_admin_does_not_join_as_itself() {
    given(&group(VERIFY_NONE))
        .when(&admin("root"), join())
        .then_error(CommandError::NoPermission(
            "root is an app admin, not a user: app admins manage groups without joining them".into(),
        ));
}

#[test]
fn a_verifying_group_records_a_join_request() {
    for need_verification in [VERIFY_APPLICATIONS, VERIFY_ALL] {
        given(&group(need_verification))
            .when(&user("out"), join())
            .then(&[out_requested()]);
    }
}

#[test]
fn a_member_cannot_join_again() {
    for need_verification in [VERIFY_APPLICATIONS, VERIFY_ALL, VERIFY_NONE] {
        for member in ["own", "adm", "mem"] {
            given(&group(need_verification))
                .when(&user(member), join())
                .then_error(CommandError::InvalidArgument(format!(
                    "{member} is already a member of g1"
                )));
        }
    }
}

#[test]
fn an_unknown_or_dismissed_group_cannot_be_joined() {
    given(&[])
        .when(&user("out"), join())
        .then_error(CommandError::GroupNotFound("g1".into()));
    let mut history = group(VERIFY_NONE);
    history.push(dismissed("own", &[]));
    given(&history)
        .when(&user("out"), join())
        .then_error(CommandError::GroupDismissed("g1".into()));
}

#[test]
fn a_second_request_replaces_the_first() {
    let history = group_then(&[
        requested("out", "first", BY_SEARCH, "", "first"),
        requested("out", "second", BY_QR_CODE, "mem", "second"),
    ]);
    given(&history).when(&user("own"), respond("out", 1)).then(&[
        handled("out", 1, "ok", "own"),
        joined("out", ROLE_MEMBER, BY_QR_CODE, "mem", "own", "second"),
    ]);
}

#[test]
fn a_new_request_after_a_refused_one_is_pending_again() {
    given(&group_then(&[out_requested(), handled("out", -1, "no", "adm")]))
        .when(&user("out"), join())
        .then(&[out_requested()]);
    given(&group_then(&[
        out_requested(),
        handled("out", -1, "no", "adm"),
        out_requested(),
    ]))
    .when(&user("adm"), respond("out", 1))
    .then(&[
        handled("out", 1, "ok", "adm"),
        joined("out", ROLE_MEMBER, BY_SEARCH, "", "adm", "e"),
    ]);
}

#[test]
fn joining_directly_agrees_to_the_pending_request() {
    let opened = info_set(GroupInfoSet {
        need_verification: Some(VERIFY_NONE),
        ..changes()
    });
    given(&group_then(&[out_requested(), opened]))
        .when(&user("out"), join())
        .then(&[
            handled("out", 1, "", "out"),
            joined("out", ROLE_MEMBER, BY_SEARCH, "", "out", "e"),
        ]);
}

#[test]
fn an_invitation_agrees_to_the_pending_request() {
    given(&group_then(&[out_requested()]))
        .when(&user("mem"), invite(&["out"]))
        .then(&[handled("out", 1, "", "mem"), invited("out", ROLE_MEMBER, "mem")]);
    let mut verify_all = group(VERIFY_ALL);
    verify_all.push(out_requested());
    given(&verify_all)
        .when(&user("adm"), invite(&["out"]))
        .then(&[handled("out", 1, "", "adm"), invited("out", ROLE_MEMBER, "adm")]);
}

#[test]
fn a_request_already_handled_is_not_handled_again_on_admission() {
    given(&group_then(&[out_requested(), handled("out", -1, "no", "own")]))
        .when(&user("mem"), invite(&["out"]))
        .then(&[invited("out", ROLE_MEMBER, "mem")]);
}

// ---- group_application_response ----

#[test]
fn the_owner_admins_and_app_admins_answer_requests() {
    let history = group_then(&[requested("out", "hi", BY_QR_CODE, "mem", "x")]);
    for handler in [user("own"), user("adm"), admin("root")] {
        let by = handler.user_id.as_str();
        given(&history).when(&handler, respond("out", 1)).then(&[
            handled("out", 1, "ok", by),
            joined("out", ROLE_MEMBER, BY_QR_CODE, "mem", by, "x"),
        ]);
    }
}

#[test]
fn members_and_outsiders_cannot_answer_requests() {
    let history = group_then(&[out_requested()]);
    for (handler, result) in [("mem", 1), ("mem", -1), ("new", 1), ("new", -1)] {
        given(&history)
            .when(&user(handler), respond("out", result))
            .then_error(not_manager(handler));
    }
}

#[test]
fn refusing_only_records_the_answer() {
    given(&group_then(&[out_requested()]))
        .when(&user("adm"), respond("out", -1))
        .then(&[handled("out", -1, "ok", "adm")]);
}

#[test]
fn an_agreed_members_invitation_joins_with_its_inviter() {
    let mut history = group(VERIFY_ALL);
    history.push(requested("out", "join us", JOIN_BY_INVITATION, "mem", ""));
    given(&history).when(&user("own"), respond("out", 1)).then(&[
        handled("out", 1, "ok", "own"),
        joined("out", ROLE_MEMBER, JOIN_BY_INVITATION, "mem", "own", ""),
    ]);
}

#[test]
fn answering_needs_a_request() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), respond("out", 1))
        .then_error(CommandError::NotFound("out has no request to join g1".into()));
}

#[test]
fn a_request_is_answered_once() {
    let already = CommandError::GroupRequestHandled("the request of out to join g1 is already handled".into());
    for first in [1, -1] {
        let mut history = group_then(&[out_requested(), handled("out", first, "done", "adm")]);
        if first == 1 {
            history.push(joined("out", ROLE_MEMBER, BY_SEARCH, "", "adm", "e"));
        }
        for second in [1, -1] {
            given(&history)
                .when(&user("own"), respond("out", second))
                .then_error(already.clone());
        }
    }
    assert_eq!(already.code(), 1206);
}

#[test]
fn requests_of_an_unknown_or_dismissed_group_cannot_be_answered() {
    given(&[])
        .when(&user("own"), respond("out", 1))
        .then_error(CommandError::GroupNotFound("g1".into()));
    given(&group_then(&[out_requested(), dismissed("own", &[])]))
        .when(&user("own"), respond("out", 1))
        .then_error(CommandError::GroupDismissed("g1".into()));
}

// ---- quit_group ----

#[test]
fn members_and_admins_quit() {
    for member in ["mem", "adm"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(member), quit_group(member))
            .then(&[quit(member)]);
    }
}

#[test]
fn the_owner_cannot_quit() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), quit_group("own"))
        .then_error(owner_quits());
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), quit_group("own"))
        .then_error(owner_quits());
}

#[test]
fn a_non_member_cannot_quit() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("out"), quit_group("out"))
        .then_error(not_in("out"));
    given(&group_then(&[quit("mem")]))
        .when(&user("mem"), quit_group("mem"))
        .then_error(not_in("mem"));
}

#[test]
fn only_an_app_admin_quits_for_another_user() {
    for actor in ["mem2", "adm", "own"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(actor), quit_group("mem"))
            .then_error(CommandError::NoPermission(format!("{actor} may not act for mem")));
    }
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), quit_group("mem"))
        .then(&[quit("mem")]);
}

#[test]
fn an_unknown_group_cannot_be_quit() {
    given(&[])
        .when(&user("mem"), quit_group("mem"))
        .then_error(CommandError::GroupNotFound("g1".into()));
}

// ---- transfer_group ----

#[test]
fn the_owner_transfers_the_group_to_a_member() {
    for heir in ["adm", "mem"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user("own"), transfer("own", heir))
            .then(&[transferred("own", heir, "own")]);
    }
}

#[test]
fn after_a_transfer_the_old_owner_is_an_ordinary_member_and_the_new_one_owns() {
    let history = group_then(&[transferred("own", "adm", "own")]);
    given(&history)
        .when(&user("own"), quit_group("own"))
        .then(&[quit("own")]);
    given(&history)
        .when(&user("adm"), quit_group("adm"))
        .then_error(CommandError::NoPermission(
            "adm owns g1: transfer the group before quitting".into(),
        ));
    given(&history)
        .when(&user("own"), kick(&["mem"]))
        .then_error(not_manager("own"));
    given(&history)
        .when(&user("adm"), kick(&["own", "adm2"]))
        .then(&[kicked("own", "adm"), kicked("adm2", "adm")]);
    given(&history)
        .when(&user("own"), transfer("own", "mem"))
        .then_error(CommandError::NoPermission("own does not own g1".into()));
    given(&history)
        .when(&user("adm"), dismiss(false))
        .then(&[dismissed("adm", &[])]);
}

#[test]
fn a_muted_heir_is_unmuted() {
    let history = group_then(&[muted("mem", NOW + 60_000, "adm")]);
    given(&history)
        .when(&user("own"), transfer("own", "mem"))
        .then(&[transferred("own", "mem", "own"), mute_cancelled("mem", "own")]);
    given(&history)
        .when(&admin("root"), transfer("own", "mem"))
        .then(&[transferred("own", "mem", "root"), mute_cancelled("mem", "root")]);
    given(&group_then(&[
        muted("mem", NOW + 60_000, "adm"),
        mute_cancelled("mem", "adm"),
    ]))
    .when(&user("own"), transfer("own", "mem"))
    .then(&[transferred("own", "mem", "own")]);
}

#[test]
fn the_group_is_transferred_only_to_a_member() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), transfer("own", "out"))
        .then_error(not_in("out"));
    given(&group_then(&[kicked("mem", "own")]))
        .when(&user("own"), transfer("own", "mem"))
        .then_error(not_in("mem"));
}

#[test]
fn only_the_real_owner_or_an_app_admin_transfers() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("adm"), transfer("adm", "mem"))
        .then_error(CommandError::NoPermission("adm does not own g1".into()));
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), transfer("adm", "mem"))
        .then_error(CommandError::NoPermission("adm does not own g1".into()));
    for caller in ["adm", "mem", "out"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(caller), transfer("own", "mem"))
            .then_error(CommandError::NoPermission(format!("{caller} may not act for own")));
    }
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), transfer("own", "adm"))
        .then(&[transferred("own", "adm", "root")]);
}

#[test]
fn the_owner_cannot_transfer_to_itself() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), transfer("own", "own"))
        .then_error(CommandError::InvalidArgument("own already owns g1".into()));
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), transfer("own", "own"))
        .then_error(CommandError::InvalidArgument("own already owns g1".into()));
}

#[test]
fn an_unknown_group_cannot_be_transferred() {
    given(&[])
        .when(&user("own"), transfer("own", "mem"))
        .then_error(CommandError::GroupNotFound("g1".into()));
}

// ---- kick_group ----

#[test]
fn kick_permissions_follow_the_authority_matrix() {
    check_authority_matrix(
        &group(VERIFY_APPLICATIONS),
        |target| kick(&[target]),
        |target, operator| vec![kicked(target, operator)],
    );
}

#[test]
fn several_members_are_kicked_at_once() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), kick(&["adm", "mem", "mem2"]))
        .then(&[kicked("adm", "own"), kicked("mem", "own"), kicked("mem2", "own")]);
}

#[test]
fn one_target_out_of_reach_keeps_everyone_in() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("adm"), kick(&["mem", "adm2", "mem2"]))
        .then_error(outranked("adm", "adm2"));
}

#[test]
fn kicking_non_members_names_them_and_kicks_nobody() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), kick(&["mem", "out", "ghost", "mem2"]))
        .then_error(not_in("out, ghost"));
    given(&group_then(&[kicked("mem", "own")]))
        .when(&user("own"), kick(&["mem"]))
        .then_error(not_in("mem"));
}

#[test]
fn an_unknown_or_dismissed_group_kicks_nobody() {
    given(&[])
        .when(&user("own"), kick(&["mem"]))
        .then_error(CommandError::GroupNotFound("g1".into()));
    given(&group_then(&[dismissed("own", &[])]))
        .when(&user("own"), kick(&["mem"]))
        .then_error(CommandError::GroupDismissed("g1".into()));
}

// ---- invite_user_to_group ----

#[test]
fn a_members_invitation_joins_directly_unless_everyone_is_verified() {
    for need_verification in [VERIFY_APPLICATIONS, VERIFY_NONE] {
        given(&group(need_verification))
            .when(&user("mem"), invite(&["out", "new"]))
            .then(&[invited("out", ROLE_MEMBER, "mem"), invited("new", ROLE_MEMBER, "mem")]);
    }
}

#[test]
fn a_members_invitation_to_a_group_verifying_everyone_is_a_request() {
    given(&group(VERIFY_ALL))
        .when(&user("mem"), invite(&["out", "new"]))
        .then(&[
            requested("out", "join us", JOIN_BY_INVITATION, "mem", ""),
            requested("new", "join us", JOIN_BY_INVITATION, "mem", ""),
        ]);
}

#[test]
fn the_owners_admins_and_app_admins_invitation_joins_directly() {
    for need_verification in [VERIFY_APPLICATIONS, VERIFY_ALL, VERIFY_NONE] {
        for inviter in [user("own"), user("adm"), admin("root")] {
            let by = inviter.user_id.as_str();
            given(&group(need_verification))
                .when(&inviter, invite(&["out", "new"]))
                .then(&[invited("out", ROLE_MEMBER, by), invited("new", ROLE_MEMBER, by)]);
        }
    }
}

#[test]
fn an_outsider_cannot_invite() {
    for need_verification in [VERIFY_APPLICATIONS, VERIFY_ALL, VERIFY_NONE] {
        given(&group(need_verification))
            .when(&user("out"), invite(&["new"]))
            .then_error(not_in("out"));
    }
}

#[test]
fn inviting_members_names_them_and_invites_nobody() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), invite(&["new", "mem", "out", "adm"]))
        .then_error(CommandError::InvalidArgument("already members of g1: mem, adm".into()));
}

#[test]
fn inviting_unregistered_users_names_them_and_invites_nobody() {
    given(&group(VERIFY_APPLICATIONS))
        .when(
            &user("mem"),
            invite_unregistered(&["new", "ghost", "phantom"], &["ghost", "phantom"]),
        )
        .then_error(CommandError::UserNotFound("ghost, phantom".into()));
}

#[test]
fn an_unknown_or_dismissed_group_invites_nobody() {
    given(&[])
        .when(&user("own"), invite(&["out"]))
        .then_error(CommandError::GroupNotFound("g1".into()));
    given(&group_then(&[dismissed("own", &[])]))
        .when(&user("own"), invite(&["out"]))
        .then_error(CommandError::GroupDismissed("g1".into()));
}

// ---- dismiss_group ----

#[test]
fn the_owner_or_an_app_admin_dismisses_the_group() {
    for actor in [user("own"), admin("root")] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&actor, dismiss(false))
            .then(&[dismissed(&actor.user_id, &[])]);
    }
}

#[test]
fn admins_members_and_outsiders_cannot_dismiss() {
    for actor in ["adm", "mem", "out"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(actor), dismiss(true))
            .then_error(CommandError::NoPermission("only the owner may dismiss g1".into()));
    }
}

#[test]
fn dismissing_with_delete_member_removes_every_current_member() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), dismiss(true))
        .then(&[dismissed("own", &["adm", "adm2", "mem", "mem2", "own"])]);
    let changed = group_then(&[quit("mem2"), kicked("adm2", "own"), invited("new", ROLE_MEMBER, "mem")]);
    given(&changed)
        .when(&admin("root"), dismiss(true))
        .then(&[dismissed("root", &["adm", "mem", "new", "own"])]);
}

#[test]
fn an_unknown_group_cannot_be_dismissed() {
    given(&[])
        .when(&user("own"), dismiss(false))
        .then_error(CommandError::GroupNotFound("g1".into()));
}

#[test]
fn a_dismissed_group_refuses_every_command() {
    let commands = |who: &str| -> Vec<(String, (Actor, Command))> {
        let rename = GroupInfoSet {
            group_name: Some("x".into()),
            ..changes()
        };
        [
            ("set info", user(who), set_info(rename)),
            ("join", user("out"), join()),
            ("respond", user(who), respond("out", 1)),
            ("invite", user(who), invite(&["new"])),
            ("kick", user(who), kick(&["mem"])),
            ("mute", user(who), mute("mem", 60)),
            ("cancel mute", user(who), cancel_mute("mem2")),
            ("mute group", user(who), mute_group()),
            ("cancel mute group", user(who), cancel_mute_group()),
            ("quit", user("mem"), quit_group("mem")),
            ("quit (app admin)", admin("root"), quit_group("mem")),
            ("transfer", user(who), transfer(who, "adm")),
            ("dismiss", user(who), dismiss(false)),
            ("dismiss deleting members", user(who), dismiss(true)),
            ("dismiss (app admin)", admin("root"), dismiss(true)),
        ]
        .into_iter()
        .map(|(name, actor, command)| (format!("{who}: {name}"), (actor, command)))
        .collect()
    };
    let before = [out_requested(), muted("mem2", NOW + 60_000, "own")];
    for delete_member in [false, true] {
        let removed: &[&str] = if delete_member {
            &["adm", "adm2", "mem", "mem2", "own"]
        } else {
            &[]
        };
        let mut history = group_then(&before);
        history.push(dismissed("own", removed));
        each(commands("own"), |(actor, command)| {
            given(&history)
                .when(&actor, command)
                .then_error(CommandError::GroupDismissed("g1".into()));
        });
        // A group dismissed by an app admin after a transfer: the new owner
        // is just as powerless.
        let mut history = group_then(&before);
        history.extend([transferred("own", "adm2", "own"), dismissed("root", removed)]);
        each(commands("adm2"), |(actor, command)| {
            given(&history)
                .when(&actor, command)
                .then_error(CommandError::GroupDismissed("g1".into()));
        });
    }
}

// ---- mute_group_member / cancel_mute_group_member ----

#[test]
fn mute_permissions_follow_the_authority_matrix() {
    check_authority_matrix(
        &group(VERIFY_APPLICATIONS),
        |target| mute(target, 60),
        |target, operator| vec![muted(target, NOW + 60_000, operator)],
    );
}

#[test]
fn cancel_mute_permissions_follow_the_authority_matrix() {
    let history = group_then(&[muted("adm2", NOW + 60_000, "own"), muted("mem2", NOW + 60_000, "adm")]);
    check_authority_matrix(&history, cancel_mute, |target, operator| {
        vec![mute_cancelled(target, operator)]
    });
}

#[test]
fn a_mute_ends_the_given_seconds_from_now() {
    for (seconds, end) in [
        (1, NOW + 1_000),
        (3_600, NOW + 3_600_000),
        (u32::MAX, NOW + 4_294_967_295_000),
    ] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user("adm"), mute("mem", seconds))
            .then(&[muted("mem", end, "adm")]);
    }
}

#[test]
fn muting_a_muted_member_sets_a_new_end() {
    given(&group_then(&[muted("mem", NOW + 60_000, "adm")]))
        .when(&user("own"), mute("mem", 10))
        .then(&[muted("mem", NOW + 10_000, "own")]);
}

#[test]
fn cancelling_the_mute_of_an_unmuted_member_records_nothing() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("adm"), cancel_mute("mem"))
        .then(&[]);
    given(&group_then(&[
        muted("mem", NOW + 60_000, "adm"),
        mute_cancelled("mem", "own"),
    ]))
    .when(&user("adm"), cancel_mute("mem"))
    .then(&[]);
}

#[test]
fn cancelling_the_mute_of_a_muted_member_unmutes_it() {
    given(&group_then(&[muted("mem", NOW + 60_000, "adm")]))
        .when(&user("adm2"), cancel_mute("mem"))
        .then(&[mute_cancelled("mem", "adm2")]);
}

#[test]
fn a_rejoining_member_is_no_longer_muted() {
    given(&group_then(&[
        muted("mem", NOW + 60_000, "adm"),
        quit("mem"),
        invited("mem", ROLE_MEMBER, "adm"),
    ]))
    .when(&user("adm"), cancel_mute("mem"))
    .then(&[]);
}

#[test]
fn only_members_are_muted_or_unmuted() {
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("own"), mute("out", 60))
        .then_error(not_in("out"));
    given(&group(VERIFY_APPLICATIONS))
        .when(&admin("root"), cancel_mute("out"))
        .then_error(not_in("out"));
}

#[test]
fn members_of_an_unknown_group_are_not_muted() {
    given(&[])
        .when(&user("own"), mute("mem", 60))
        .then_error(CommandError::GroupNotFound("g1".into()));
    given(&[])
        .when(&user("own"), cancel_mute("mem"))
        .then_error(CommandError::GroupNotFound("g1".into()));
}

// ---- mute_group / cancel_mute_group ----

#[test]
fn the_owner_admins_and_app_admins_mute_and_unmute_the_group() {
    for actor in [user("own"), user("adm"), admin("root")] {
        let by = actor.user_id.as_str();
        given(&group(VERIFY_APPLICATIONS))
            .when(&actor, mute_group())
            .then(&[mute_set(true, by)]);
        given(&group_then(&[mute_set(true, "own")]))
            .when(&actor, cancel_mute_group())
            .then(&[mute_set(false, by)]);
    }
}

#[test]
fn members_and_outsiders_cannot_mute_or_unmute_the_group() {
    for actor in ["mem", "out"] {
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(actor), mute_group())
            .then_error(not_manager(actor));
        given(&group_then(&[mute_set(true, "own")]))
            .when(&user(actor), mute_group())
            .then_error(not_manager(actor));
        given(&group_then(&[mute_set(true, "own")]))
            .when(&user(actor), cancel_mute_group())
            .then_error(not_manager(actor));
        given(&group(VERIFY_APPLICATIONS))
            .when(&user(actor), cancel_mute_group())
            .then_error(not_manager(actor));
    }
}

#[test]
fn muting_a_muted_group_or_unmuting_an_unmuted_one_records_nothing() {
    given(&group_then(&[mute_set(true, "own")]))
        .when(&user("adm"), mute_group())
        .then(&[]);
    given(&group(VERIFY_APPLICATIONS))
        .when(&user("adm"), cancel_mute_group())
        .then(&[]);
    given(&group_then(&[mute_set(true, "own"), mute_set(false, "adm")]))
        .when(&user("adm"), cancel_mute_group())
        .then(&[]);
    given(&group_then(&[mute_set(true, "own"), mute_set(false, "adm")]))
        .when(&user("adm"), mute_group())
        .then(&[mute_set(true, "adm")]);
}

#[test]
fn a_dismissed_group_stays_dismissed_whether_muted_or_not() {
    for before in [vec![], vec![mute_set(true, "adm")]] {
        let history = group_then(&[before, vec![dismissed("own", &[])]].concat());
        for command in [mute_group(), cancel_mute_group()] {
            given(&history)
                .when(&user("own"), command.clone())
                .then_error(CommandError::GroupDismissed("g1".into()));
            given(&history)
                .when(&admin("root"), command)
                .then_error(CommandError::GroupDismissed("g1".into()));
        }
    }
}

#[test]
fn an_unknown_group_is_not_muted() {
    given(&[])
        .when(&user("own"), mute_group())
        .then_error(CommandError::GroupNotFound("g1".into()));
}
