//! Which notification each event makes, for whom, in which conversation,
//! with OpenIM's contentType numbers (so OpenIM-style clients recognise
//! them). Recipients are fixed here, from the event and from documents the
//! event's own scope writes, so a replay tells exactly the same users.

use events::group::JOIN_BY_INVITATION;
use events::message::SINGLE_CHAT;
use events::{DomainEvent, Envelope};
use serde_json::{json, Value};

use crate::groups::{self, GroupDoc, MemberDoc};
use crate::{Batch, ProjectionError};

pub const FRIEND_APPLICATION_APPROVED: i32 = 1201;
pub const FRIEND_APPLICATION_REJECTED: i32 = 1202;
pub const FRIEND_APPLICATION: i32 = 1203;
pub const FRIEND_ADDED: i32 = 1204;
pub const FRIEND_DELETED: i32 = 1205;
pub const FRIEND_REMARK_SET: i32 = 1206;
pub const BLACK_ADDED: i32 = 1207;
pub const BLACK_DELETED: i32 = 1208;
pub const FRIEND_INFO_UPDATED: i32 = 1209;
pub const CONVERSATION_CHANGED: i32 = 1300;
pub const USER_INFO_UPDATED: i32 = 1303;
pub const GROUP_CREATED: i32 = 1501;
pub const GROUP_INFO_SET: i32 = 1502;
pub const JOIN_GROUP_APPLICATION: i32 = 1503;
pub const MEMBER_QUIT: i32 = 1504;
pub const GROUP_APPLICATION_ACCEPTED: i32 = 1505;
pub const GROUP_APPLICATION_REJECTED: i32 = 1506;
pub const GROUP_OWNER_TRANSFERRED: i32 = 1507;
pub const MEMBER_KICKED: i32 = 1508;
pub const MEMBER_INVITED: i32 = 1509;
pub const MEMBER_ENTER: i32 = 1510;
pub const GROUP_DISMISSED: i32 = 1511;
pub const GROUP_MEMBER_MUTED: i32 = 1512;
pub const GROUP_MEMBER_CANCEL_MUTED: i32 = 1513;
pub const GROUP_MUTED: i32 = 1514;
pub const GROUP_CANCEL_MUTED: i32 = 1515;
pub const GROUP_NOTIFICATION_SET: i32 = 1519;
pub const GROUP_NAME_SET: i32 = 1520;

/// sessionType of the notification conversations that are no chat's twin
/// (`sn_`, `na_`).
pub const NOTIFICATION_CHAT: i32 = 4;

/// A pair's friend notifications: `n_<a>_<b>` (a < b), each of the two
/// users with its own seqs (some are told to the owner only).
pub fn pair_conversation_id(one: &str, other: &str) -> String {
    let (a, b) = if one <= other { (one, other) } else { (other, one) };
    format!("n_{a}_{b}")
}

/// A group's notifications to its members: OpenIM's `n_<groupID>`, one
/// seq line that each member sees while a member. New group and user IDs
/// hold no `_`, so it cannot equal a pair's `n_<a>_<b>`; a group whose ID
/// holds `_` (created before that rule) keeps `ng_<groupID>`, since
/// `n_alice_bob` could be the line of the pair alice, bob.
pub fn group_conversation_id(group_id: &str) -> String {
    if group_id.contains('_') {
        format!("ng_{group_id}")
    } else {
        format!("n_{group_id}")
    }
}

/// A group's join applications and their answers, told to the owner, the
/// admins and the applicant only: `na_<groupID>`, each with its own seqs.
pub fn applications_conversation_id(group_id: &str) -> String {
    format!("na_{group_id}")
}

/// What a user's own scope tells: `sn_<userID>`. The user's self
/// notifications (settings, own profile for its other devices), and its
/// profile changes for its friends and fellow group members.
pub fn user_conversation_id(user_id: &str) -> String {
    format!("sn_{user_id}")
}

/// Is this the ID of a notification conversation (not of a chat)?
pub fn is_notification_conversation(conversation_id: &str) -> bool {
    ["n_", "ng_", "na_", "sn_"]
        .iter()
        .any(|p| conversation_id.starts_with(p))
}

/// Who receives a notice.
pub(crate) enum To {
    /// Each user its own copy, with its own seq, in `conversation_id`.
    Users {
        conversation_id: String,
        session_type: i32,
        group_id: String,
        users: Vec<String>,
    },
    /// The group's notification conversation, seen by the members: those in
    /// `joining` become members with it (they see it), those in `leaving`
    /// leave with it (they see it, and nothing after).
    Group {
        group_id: String,
        joining: Vec<String>,
        leaving: Vec<String>,
    },
}

pub(crate) struct Notice {
    pub content_type: i32,
    pub to: To,
    /// The actor and the changed objects (OpenIM's tips).
    pub detail: Value,
}

fn pair(content_type: i32, users: [&str; 2], users_told: usize, detail: Value) -> Notice {
    Notice {
        content_type,
        to: To::Users {
            conversation_id: pair_conversation_id(users[0], users[1]),
            session_type: SINGLE_CHAT,
            group_id: String::new(),
            users: users[..users_told].iter().map(|u| (*u).to_owned()).collect(),
        },
        detail,
    }
}

fn to_group(content_type: i32, group_id: &str, joining: &[String], leaving: &[String], detail: Value) -> Notice {
    Notice {
        content_type,
        to: To::Group {
            group_id: group_id.to_owned(),
            joining: joining.to_vec(),
            leaving: leaving.to_vec(),
        },
        detail,
    }
}

fn applications(content_type: i32, group_id: &str, managers: &[String], also: &str, detail: Value) -> Notice {
    let mut users = managers.to_vec();
    if !users.iter().any(|u| u == also) {
        users.push(also.to_owned());
    }
    Notice {
        content_type,
        to: To::Users {
            conversation_id: applications_conversation_id(group_id),
            session_type: NOTIFICATION_CHAT,
            group_id: group_id.to_owned(),
            users,
        },
        detail,
    }
}

/// The event's payload with the actor (`opUserID`) added.
fn tips(envelope: &Envelope, event: &DomainEvent) -> Value {
    let mut detail = event.to_payload();
    if let Value::Object(fields) = &mut detail {
        fields.insert("opUserID".to_owned(), Value::String(envelope.actor_user_id.clone()));
    }
    detail
}

/// `tips` plus the group as it now is and the infos of `members` (those
/// still in the group).
async fn group_tips(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &Batch<'_>,
    group_id: &str,
    members: &[&str],
) -> Result<Value, ProjectionError> {
    let tenant = &envelope.tenant_id;
    let mut detail = tips(envelope, event);
    let group: Option<GroupDoc> = batch
        .get(groups::GROUPS, &groups::group_doc_id(tenant, group_id))
        .await?;
    let mut infos = Vec::with_capacity(members.len());
    for user in members {
        let info: Option<MemberDoc> = batch
            .get(groups::MEMBERS, &groups::member_doc_id(tenant, group_id, user))
            .await?;
        infos.extend(info);
    }
    if let Value::Object(fields) = &mut detail {
        fields.insert("group".to_owned(), json!(group));
        fields.insert("members".to_owned(), json!(infos));
    }
    Ok(detail)
}

/// The notice of one event, if any; `managers` are the group's owner and
/// admins before it (group events only).
pub(crate) async fn notice(
    envelope: &Envelope,
    event: &DomainEvent,
    batch: &Batch<'_>,
    managers: &[String],
) -> Result<Option<Notice>, ProjectionError> {
    let detail = || tips(envelope, event);
    let notice = match event {
        DomainEvent::FriendRequested(e) => pair(FRIEND_APPLICATION, [&e.from_user_id, &e.to_user_id], 2, detail()),
        DomainEvent::FriendRequestHandled(e) => {
            let kind = if e.handle_result == 1 {
                FRIEND_APPLICATION_APPROVED
            } else {
                FRIEND_APPLICATION_REJECTED
            };
            pair(kind, [&e.from_user_id, &e.to_user_id], 2, detail())
        }
        // One event per direction: each owner hears of its own list's gain.
        DomainEvent::FriendAdded(e) => pair(FRIEND_ADDED, [&e.owner_user_id, &e.friend_user_id], 1, detail()),
        DomainEvent::FriendDeleted(e) => pair(FRIEND_DELETED, [&e.owner_user_id, &e.friend_user_id], 2, detail()),
        DomainEvent::FriendUpdated(e) => {
            let kind = if e.remark.is_some() {
                FRIEND_REMARK_SET
            } else {
                FRIEND_INFO_UPDATED
            };
            pair(kind, [&e.owner_user_id, &e.friend_user_id], 1, detail())
        }
        // The blacklisted user is never told.
        DomainEvent::BlackAdded(e) => pair(BLACK_ADDED, [&e.owner_user_id, &e.black_user_id], 1, detail()),
        DomainEvent::BlackRemoved(e) => pair(BLACK_DELETED, [&e.owner_user_id, &e.black_user_id], 1, detail()),
        DomainEvent::UserProfileUpdated(e) => {
            let mut users = vec![e.user_id.clone()];
            users.extend(e.notified_user_ids.iter().filter(|u| **u != e.user_id).cloned());
            Notice {
                content_type: USER_INFO_UPDATED,
                to: To::Users {
                    conversation_id: user_conversation_id(&e.user_id),
                    session_type: NOTIFICATION_CHAT,
                    group_id: String::new(),
                    users,
                },
                // The changed fields are personal data: the tips name the
                // user, clients read the profile (as OpenIM's do).
                detail: json!({ "userID": e.user_id, "opUserID": envelope.actor_user_id }),
            }
        }
        DomainEvent::ConversationSettingsSet(e) => Notice {
            content_type: CONVERSATION_CHANGED,
            to: To::Users {
                conversation_id: user_conversation_id(&e.user_id),
                session_type: NOTIFICATION_CHAT,
                group_id: String::new(),
                users: vec![e.user_id.clone()],
            },
            detail: detail(),
        },
        DomainEvent::GroupCreated(e) => {
            let mut detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            // The group as its initial members, who join next, make it.
            detail["group"]["memberCount"] = json!(e.member_user_ids.len());
            to_group(GROUP_CREATED, &e.group_id, &e.member_user_ids, &[], detail)
        }
        DomainEvent::GroupInfoSet(e) => {
            let only = |name: bool, notification: bool| {
                e.group_name.is_some() == name
                    && e.notification.is_some() == notification
                    && e.introduction.is_none()
                    && e.face_url.is_none()
                    && e.ex.is_none()
                    && e.need_verification.is_none()
                    && e.look_member_info.is_none()
                    && e.apply_member_friend.is_none()
            };
            let kind = if only(true, false) {
                GROUP_NAME_SET
            } else if only(false, true) {
                GROUP_NOTIFICATION_SET
            } else {
                GROUP_INFO_SET
            };
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            to_group(kind, &e.group_id, &[], &[], detail)
        }
        DomainEvent::GroupMemberJoined(e) => {
            let invited = e.join_source == JOIN_BY_INVITATION && e.inviter_user_id != e.user_id;
            let kind = if invited { MEMBER_INVITED } else { MEMBER_ENTER };
            let detail = group_tips(envelope, event, batch, &e.group_id, &[&e.user_id]).await?;
            to_group(kind, &e.group_id, std::slice::from_ref(&e.user_id), &[], detail)
        }
        DomainEvent::GroupJoinRequested(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            let asking = &envelope.actor_user_id;
            applications(JOIN_GROUP_APPLICATION, &e.group_id, managers, asking, detail)
        }
        DomainEvent::GroupJoinRequestHandled(e) => {
            let kind = if e.handle_result == 1 {
                GROUP_APPLICATION_ACCEPTED
            } else {
                GROUP_APPLICATION_REJECTED
            };
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            applications(kind, &e.group_id, managers, &e.user_id, detail)
        }
        DomainEvent::GroupMemberQuit(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            to_group(MEMBER_QUIT, &e.group_id, &[], std::slice::from_ref(&e.user_id), detail)
        }
        DomainEvent::GroupMemberKicked(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            to_group(
                MEMBER_KICKED,
                &e.group_id,
                &[],
                std::slice::from_ref(&e.user_id),
                detail,
            )
        }
        DomainEvent::GroupDismissed(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            to_group(GROUP_DISMISSED, &e.group_id, &[], &e.removed_user_ids, detail)
        }
        DomainEvent::GroupOwnerTransferred(e) => {
            let both = [e.old_owner_user_id.as_str(), e.new_owner_user_id.as_str()];
            let detail = group_tips(envelope, event, batch, &e.group_id, &both).await?;
            to_group(GROUP_OWNER_TRANSFERRED, &e.group_id, &[], &[], detail)
        }
        DomainEvent::GroupMemberMuted(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[&e.user_id]).await?;
            to_group(GROUP_MEMBER_MUTED, &e.group_id, &[], &[], detail)
        }
        DomainEvent::GroupMemberMuteCancelled(e) => {
            let detail = group_tips(envelope, event, batch, &e.group_id, &[&e.user_id]).await?;
            to_group(GROUP_MEMBER_CANCEL_MUTED, &e.group_id, &[], &[], detail)
        }
        DomainEvent::GroupMuteSet(e) => {
            let kind = if e.muted { GROUP_MUTED } else { GROUP_CANCEL_MUTED };
            let detail = group_tips(envelope, event, batch, &e.group_id, &[]).await?;
            to_group(kind, &e.group_id, &[], &[], detail)
        }
        DomainEvent::UserRegistered(_)
        | DomainEvent::UserForgotten(_)
        | DomainEvent::MessageSent(_)
        | DomainEvent::MessageRevoked(_)
        | DomainEvent::ConversationRead(_)
        | DomainEvent::ConversationCleared(_)
        | DomainEvent::MessagesDeleted(_) => return Ok(None),
    };
    Ok(Some(notice))
}
