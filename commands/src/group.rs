//! The `group:` decision scope: a group's info, members, roles, mutes and
//! join requests.
//!
//! Authority: the owner (100) acts on admins and members, an admin (60) on
//! members only, a member (20) on nobody; an app admin acts on everyone but
//! the owner. Once dismissed (status 2) a group refuses every command.

use std::collections::BTreeMap;

use events::group::*;
use events::message::{group_conversation_id, GROUP_CHAT};
use events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::message::{Conversation, NewMessage, Revocation};
use crate::rules::{acting_for, unless};
use crate::{Actor, CommandError};

/// The only group type served (work group).
pub const WORK_GROUP: i32 = 2;

/// What create_group sets; the rest of the group info starts empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGroup {
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    pub face_url: String,
    pub ex: String,
    pub group_type: i32,
    pub need_verification: i32,
    pub look_member_info: i32,
    pub apply_member_friend: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    pub group_id: String,
    pub owner: String,
    pub admins: Vec<String>,
    pub members: Vec<String>,
    pub info: NewGroup,
    /// Listed users who are not registered (a fact from the read models;
    /// users are never removed, so it never goes stale).
    pub unregistered: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupCommand {
    Create(CreateGroup),
    /// The changed fields; the notification's time and author are filled
    /// in by the decision.
    SetInfo(GroupInfoSet),
    /// The applicant is the actor.
    Join {
        group_id: String,
        req_msg: String,
        join_source: i32,
        inviter: String,
        ex: String,
    },
    RespondApplication {
        group_id: String,
        applicant: String,
        /// 1 agree, -1 refuse.
        handle_result: i32,
        handled_msg: String,
    },
    Quit {
        group_id: String,
        user: String,
    },
    Transfer {
        group_id: String,
        old_owner: String,
        new_owner: String,
    },
    Kick {
        group_id: String,
        kicked: Vec<String>,
        reason: String,
    },
    Invite {
        group_id: String,
        invited: Vec<String>,
        reason: String,
        unregistered: Vec<String>,
    },
    Dismiss {
        group_id: String,
        delete_member: bool,
    },
    MuteMember {
        group_id: String,
        user: String,
        seconds: u32,
    },
    CancelMuteMember {
        group_id: String,
        user: String,
    },
    /// Mute (`true`) or unmute all members.
    SetMute {
        group_id: String,
        muted: bool,
    },
    SendMsg(NewMessage),
    Revoke {
        group_id: String,
        revocation: Revocation,
    },
}

impl GroupCommand {
    pub fn group_id(&self) -> &str {
        match self {
            GroupCommand::SetInfo(changes) => &changes.group_id,
            GroupCommand::Create(c) => &c.group_id,
            GroupCommand::SendMsg(m) => &m.group_id,
            GroupCommand::Revoke { group_id, .. } => group_id,
            GroupCommand::Join { group_id, .. }
            | GroupCommand::RespondApplication { group_id, .. }
            | GroupCommand::Quit { group_id, .. }
            | GroupCommand::Transfer { group_id, .. }
            | GroupCommand::Kick { group_id, .. }
            | GroupCommand::Invite { group_id, .. }
            | GroupCommand::Dismiss { group_id, .. }
            | GroupCommand::MuteMember { group_id, .. }
            | GroupCommand::CancelMuteMember { group_id, .. }
            | GroupCommand::SetMute { group_id, .. } => group_id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            GroupCommand::Create(_) => "create_group",
            GroupCommand::SetInfo(_) => "set_group_info_ex",
            GroupCommand::Join { .. } => "join_group",
            GroupCommand::RespondApplication { .. } => "group_application_response",
            GroupCommand::Quit { .. } => "quit_group",
            GroupCommand::Transfer { .. } => "transfer_group",
            GroupCommand::Kick { .. } => "kick_group",
            GroupCommand::Invite { .. } => "invite_user_to_group",
            GroupCommand::Dismiss { .. } => "dismiss_group",
            GroupCommand::MuteMember { .. } => "mute_group_member",
            GroupCommand::CancelMuteMember { .. } => "cancel_mute_group_member",
            GroupCommand::SetMute { muted: true, .. } => "mute_group",
            GroupCommand::SetMute { muted: false, .. } => "cancel_mute_group",
            GroupCommand::SendMsg(_) => "send_msg",
            GroupCommand::Revoke { .. } => "revoke_msg",
        }
    }
}

/// What the decisions need to know about the group itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFacts {
    pub status: i32,
    pub owner: String,
    pub need_verification: i32,
    /// The rest of the info, to tell a change from a repeat.
    pub group_name: String,
    pub notification: String,
    pub introduction: String,
    pub face_url: String,
    pub ex: String,
    pub look_member_info: i32,
    pub apply_member_friend: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFacts {
    pub role_level: i32,
    /// 0 when not muted.
    pub mute_end_time: i64,
}

/// The latest join request of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// 0 pending, 1 agreed, -1 refused.
    pub handle_result: i32,
    pub join_source: i32,
    pub inviter: String,
    pub ex: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    /// `None` until the group is created.
    pub group: Option<GroupFacts>,
    pub members: BTreeMap<String, MemberFacts>,
    pub requests: BTreeMap<String, RequestFacts>,
    /// The group's conversation.
    #[serde(default)]
    pub chat: Conversation,
}

/// Authority above every role, short of acting on the owner: an app admin's.
const APP_ADMIN_AUTHORITY: i32 = i32::MAX;

impl GroupState {
    pub fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::GroupCreated(e) => {
                self.group = Some(GroupFacts {
                    status: STATUS_NORMAL,
                    owner: e.owner_user_id.clone(),
                    need_verification: e.need_verification,
                    group_name: e.group_name.clone(),
                    notification: e.notification.clone(),
                    introduction: e.introduction.clone(),
                    face_url: e.face_url.clone(),
                    ex: e.ex.clone(),
                    look_member_info: e.look_member_info,
                    apply_member_friend: e.apply_member_friend,
                });
            }
            DomainEvent::GroupInfoSet(e) => {
                if let Some(group) = self.group.as_mut() {
                    e.apply_to(GroupInfoFields {
                        group_name: &mut group.group_name,
                        notification: &mut group.notification,
                        introduction: &mut group.introduction,
                        face_url: &mut group.face_url,
                        ex: &mut group.ex,
                        need_verification: &mut group.need_verification,
                        look_member_info: &mut group.look_member_info,
                        apply_member_friend: &mut group.apply_member_friend,
                    });
                }
            }
            DomainEvent::GroupMemberJoined(e) => {
                self.members.insert(
                    e.user_id.clone(),
                    MemberFacts {
                        role_level: e.role_level,
                        mute_end_time: 0,
                    },
                );
            }
            DomainEvent::GroupJoinRequested(e) => {
                self.requests.insert(
                    e.user_id.clone(),
                    RequestFacts {
                        handle_result: 0,
                        join_source: e.join_source,
                        inviter: e.inviter_user_id.clone(),
                        ex: e.ex.clone(),
                    },
                );
            }
            DomainEvent::GroupJoinRequestHandled(e) => {
                if let Some(request) = self.requests.get_mut(&e.user_id) {
                    request.handle_result = e.handle_result;
                }
            }
            DomainEvent::GroupMemberQuit(GroupMemberQuit { user_id, .. })
            | DomainEvent::GroupMemberKicked(GroupMemberKicked { user_id, .. }) => {
                self.members.remove(user_id);
            }
            DomainEvent::GroupOwnerTransferred(e) => {
                if let Some(group) = self.group.as_mut() {
                    group.owner.clone_from(&e.new_owner_user_id);
                }
                if let Some(m) = self.members.get_mut(&e.old_owner_user_id) {
                    m.role_level = ROLE_MEMBER;
                }
                if let Some(m) = self.members.get_mut(&e.new_owner_user_id) {
                    m.role_level = ROLE_OWNER;
                }
            }
            DomainEvent::GroupDismissed(e) => {
                if let Some(group) = self.group.as_mut() {
                    group.status = STATUS_DISMISSED;
                }
                for user in &e.removed_user_ids {
                    self.members.remove(user);
                }
            }
            DomainEvent::GroupMemberMuted(e) => {
                if let Some(m) = self.members.get_mut(&e.user_id) {
                    m.mute_end_time = e.mute_end_time;
                }
            }
            DomainEvent::GroupMemberMuteCancelled(e) => {
                if let Some(m) = self.members.get_mut(&e.user_id) {
                    m.mute_end_time = 0;
                }
            }
            DomainEvent::MessageSent(e) => self.chat.apply(e),
            DomainEvent::MessageRevoked(e) => self.chat.apply_revoked(e),
            DomainEvent::GroupMuteSet(e) => {
                if let Some(group) = self.group.as_mut() {
                    group.status = if e.muted { STATUS_MUTED } else { STATUS_NORMAL };
                }
            }
            // Events of other scopes never reach a group scope.
            _ => {}
        }
    }

    /// The group, if it exists and is not dismissed.
    fn open(&self, group_id: &str) -> Result<&GroupFacts, CommandError> {
        let group = self
            .group
            .as_ref()
            .ok_or_else(|| CommandError::GroupNotFound(group_id.to_owned()))?;
        unless(group.status != STATUS_DISMISSED, || {
            CommandError::GroupDismissed(group_id.to_owned())
        })?;
        Ok(group)
    }

    fn role(&self, user: &str) -> Option<i32> {
        self.members.get(user).map(|m| m.role_level)
    }

    /// The actor's standing in the group: its role, or above all roles for
    /// an app admin; 0 for an outsider.
    fn authority(&self, actor: &Actor) -> i32 {
        if actor.is_admin {
            APP_ADMIN_AUTHORITY
        } else {
            self.role(&actor.user_id).unwrap_or(0)
        }
    }

    /// Only the owner, admins and app admins manage the group.
    fn managing(&self, actor: &Actor, group_id: &str) -> Result<i32, CommandError> {
        let authority = self.authority(actor);
        unless(authority >= ROLE_ADMIN, || {
            CommandError::NoPermission(format!(
                "only the owner or an admin of {group_id} may do this, not {}",
                actor.user_id
            ))
        })?;
        Ok(authority)
    }

    /// A manager may act on a member of lower rank, never on the owner.
    fn outranks(&self, authority: i32, actor: &Actor, target: &str) -> Result<(), CommandError> {
        let role = self.role(target).unwrap_or(0);
        unless(role != ROLE_OWNER && authority > role, || {
            CommandError::NoPermission(format!("{} may not do this to {target}", actor.user_id))
        })
    }

    /// The actor must be a member (app admins need not be).
    fn member(&self, actor: &Actor, group_id: &str) -> Result<(), CommandError> {
        unless(actor.is_admin || self.members.contains_key(&actor.user_id), || {
            not_in_group(&actor.user_id, group_id)
        })
    }

    /// Makes `user` a member; a pending request of theirs is agreed to.
    fn admit(&self, joined: GroupMemberJoined, now_ms: i64) -> Vec<DomainEvent> {
        let mut events = Vec::with_capacity(2);
        if self.requests.get(&joined.user_id).is_some_and(|r| r.handle_result == 0) {
            events.push(DomainEvent::GroupJoinRequestHandled(GroupJoinRequestHandled {
                group_id: joined.group_id.clone(),
                user_id: joined.user_id.clone(),
                handle_result: 1,
                handled_msg: String::new(),
                handle_user_id: joined.operator_user_id.clone(),
                handled_time: now_ms,
            }));
        }
        events.push(DomainEvent::GroupMemberJoined(joined));
        events
    }

    pub fn decide(&self, command: &GroupCommand, actor: &Actor, now_ms: i64) -> Result<Vec<DomainEvent>, CommandError> {
        match command {
            GroupCommand::Create(c) => self.create(actor, now_ms, c),
            GroupCommand::SetInfo(changes) => self.set_info(actor, now_ms, changes),
            GroupCommand::Join {
                group_id,
                req_msg,
                join_source,
                inviter,
                ex,
            } => {
                let group = self.open(group_id)?;
                unless(!actor.is_admin, || {
                    CommandError::NoPermission(format!(
                        "{} is an app admin, not a user: app admins manage groups without joining them",
                        actor.user_id
                    ))
                })?;
                unless(!self.members.contains_key(&actor.user_id), || {
                    CommandError::InvalidArgument(format!("{} is already a member of {group_id}", actor.user_id))
                })?;
                if group.need_verification == VERIFY_NONE {
                    let joined = GroupMemberJoined {
                        group_id: group_id.clone(),
                        user_id: actor.user_id.clone(),
                        role_level: ROLE_MEMBER,
                        join_source: *join_source,
                        inviter_user_id: inviter.clone(),
                        operator_user_id: actor.user_id.clone(),
                        ex: ex.clone(),
                        join_time: now_ms,
                    };
                    return Ok(self.admit(joined, now_ms));
                }
                Ok(vec![DomainEvent::GroupJoinRequested(GroupJoinRequested {
                    group_id: group_id.clone(),
                    user_id: actor.user_id.clone(),
                    req_msg: req_msg.clone(),
                    join_source: *join_source,
                    inviter_user_id: inviter.clone(),
                    ex: ex.clone(),
                    req_time: now_ms,
                })])
            }
            GroupCommand::RespondApplication {
                group_id,
                applicant,
                handle_result,
                handled_msg,
            } => {
                self.open(group_id)?;
                self.managing(actor, group_id)?;
                let request = self
                    .requests
                    .get(applicant)
                    .ok_or_else(|| CommandError::NotFound(format!("{applicant} has no request to join {group_id}")))?;
                unless(request.handle_result == 0, || {
                    CommandError::GroupRequestHandled(format!(
                        "the request of {applicant} to join {group_id} is already handled"
                    ))
                })?;
                let mut events = vec![DomainEvent::GroupJoinRequestHandled(GroupJoinRequestHandled {
                    group_id: group_id.clone(),
                    user_id: applicant.clone(),
                    handle_result: *handle_result,
                    handled_msg: handled_msg.clone(),
                    handle_user_id: actor.user_id.clone(),
                    handled_time: now_ms,
                })];
                if *handle_result == 1 && !self.members.contains_key(applicant) {
                    events.push(DomainEvent::GroupMemberJoined(GroupMemberJoined {
                        group_id: group_id.clone(),
                        user_id: applicant.clone(),
                        role_level: ROLE_MEMBER,
                        join_source: request.join_source,
                        inviter_user_id: request.inviter.clone(),
                        operator_user_id: actor.user_id.clone(),
                        ex: request.ex.clone(),
                        join_time: now_ms,
                    }));
                }
                Ok(events)
            }
            GroupCommand::Quit { group_id, user } => {
                acting_for(actor, user)?;
                let group = self.open(group_id)?;
                unless(self.members.contains_key(user), || not_in_group(user, group_id))?;
                unless(group.owner != *user, || {
                    CommandError::NoPermission(format!("{user} owns {group_id}: transfer the group before quitting"))
                })?;
                Ok(vec![DomainEvent::GroupMemberQuit(GroupMemberQuit {
                    group_id: group_id.clone(),
                    user_id: user.clone(),
                })])
            }
            GroupCommand::Transfer {
                group_id,
                old_owner,
                new_owner,
            } => {
                let group = self.open(group_id)?;
                acting_for(actor, old_owner)?;
                unless(group.owner == *old_owner, || {
                    CommandError::NoPermission(format!("{old_owner} does not own {group_id}"))
                })?;
                unless(new_owner != old_owner, || {
                    CommandError::InvalidArgument(format!("{new_owner} already owns {group_id}"))
                })?;
                let heir = self
                    .members
                    .get(new_owner)
                    .ok_or_else(|| not_in_group(new_owner, group_id))?;
                let mut events = vec![DomainEvent::GroupOwnerTransferred(GroupOwnerTransferred {
                    group_id: group_id.clone(),
                    old_owner_user_id: old_owner.clone(),
                    new_owner_user_id: new_owner.clone(),
                    operator_user_id: actor.user_id.clone(),
                })];
                if heir.mute_end_time != 0 {
                    events.push(DomainEvent::GroupMemberMuteCancelled(GroupMemberMuteCancelled {
                        group_id: group_id.clone(),
                        user_id: new_owner.clone(),
                        operator_user_id: actor.user_id.clone(),
                    }));
                }
                Ok(events)
            }
            GroupCommand::Kick {
                group_id,
                kicked,
                reason,
            } => {
                self.open(group_id)?;
                let authority = self.managing(actor, group_id)?;
                self.all_members(kicked, group_id)?;
                for user in kicked {
                    self.outranks(authority, actor, user)?;
                }
                Ok(kicked
                    .iter()
                    .map(|user| {
                        DomainEvent::GroupMemberKicked(GroupMemberKicked {
                            group_id: group_id.clone(),
                            user_id: user.clone(),
                            operator_user_id: actor.user_id.clone(),
                            reason: reason.clone(),
                        })
                    })
                    .collect())
            }
            GroupCommand::Invite {
                group_id,
                invited,
                reason,
                unregistered,
            } => self.invite(actor, now_ms, group_id, invited, reason, unregistered),
            GroupCommand::Dismiss {
                group_id,
                delete_member,
            } => {
                let group = self.open(group_id)?;
                unless(actor.acts_for(&group.owner), || {
                    CommandError::NoPermission(format!("only the owner may dismiss {group_id}"))
                })?;
                let removed_user_ids = if *delete_member {
                    self.members.keys().cloned().collect()
                } else {
                    Vec::new()
                };
                Ok(vec![DomainEvent::GroupDismissed(GroupDismissed {
                    group_id: group_id.clone(),
                    operator_user_id: actor.user_id.clone(),
                    removed_user_ids,
                })])
            }
            GroupCommand::MuteMember {
                group_id,
                user,
                seconds,
            } => {
                self.open(group_id)?;
                let authority = self.managing(actor, group_id)?;
                self.all_members(std::slice::from_ref(user), group_id)?;
                self.outranks(authority, actor, user)?;
                Ok(vec![DomainEvent::GroupMemberMuted(GroupMemberMuted {
                    group_id: group_id.clone(),
                    user_id: user.clone(),
                    mute_end_time: now_ms + i64::from(*seconds) * 1000,
                    operator_user_id: actor.user_id.clone(),
                })])
            }
            GroupCommand::CancelMuteMember { group_id, user } => {
                self.open(group_id)?;
                let authority = self.managing(actor, group_id)?;
                self.all_members(std::slice::from_ref(user), group_id)?;
                self.outranks(authority, actor, user)?;
                if self.members[user].mute_end_time == 0 {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::GroupMemberMuteCancelled(GroupMemberMuteCancelled {
                    group_id: group_id.clone(),
                    user_id: user.clone(),
                    operator_user_id: actor.user_id.clone(),
                })])
            }
            GroupCommand::SendMsg(message) => self.send(actor, now_ms, message),
            GroupCommand::Revoke { group_id, revocation } => {
                self.open(group_id)?;
                acting_for(actor, &revocation.revoker)?;
                let role = self.role(&revocation.revoker).unwrap_or(0);
                // The sender, or someone who outranks the sender (an owner
                // any message, an admin an ordinary member's).
                let authority = if actor.is_admin { APP_ADMIN_AUTHORITY } else { role };
                let sender_role = self.role(&revocation.sender).unwrap_or(ROLE_MEMBER);
                let allowed = (revocation.revoker == revocation.sender && role > 0)
                    || authority == APP_ADMIN_AUTHORITY
                    || role == ROLE_OWNER
                    || (authority >= ROLE_ADMIN && authority > sender_role);
                unless(allowed, || {
                    CommandError::NoPermission(format!(
                        "{} may not revoke the message {} of {}",
                        revocation.revoker, revocation.seq, revocation.sender
                    ))
                })?;
                Ok(vec![self.chat.revoke(revocation, role, now_ms)?])
            }
            GroupCommand::SetMute { group_id, muted } => {
                let group = self.open(group_id)?;
                self.managing(actor, group_id)?;
                if (group.status == STATUS_MUTED) == *muted {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::GroupMuteSet(GroupMuteSet {
                    group_id: group_id.clone(),
                    muted: *muted,
                    operator_user_id: actor.user_id.clone(),
                })])
            }
        }
    }

    /// Members send unless dismissed, muted (the owner excepted) or the group
    /// is muted (the owner and admins excepted).
    fn send(&self, actor: &Actor, now_ms: i64, message: &NewMessage) -> Result<Vec<DomainEvent>, CommandError> {
        let (group_id, sender) = (&message.group_id, &message.send_id);
        acting_for(actor, sender)?;
        self.chat.not_sent_yet(message)?;
        let group = self.open(group_id)?;
        let member = self.members.get(sender).ok_or_else(|| not_in_group(sender, group_id))?;
        unless(
            member.role_level == ROLE_OWNER || member.mute_end_time <= now_ms,
            || CommandError::MutedInGroup(sender.clone()),
        )?;
        unless(group.status != STATUS_MUTED || member.role_level >= ROLE_ADMIN, || {
            CommandError::MutedGroup
        })?;
        let conversation = group_conversation_id(group_id);
        Ok(vec![self.chat.next(message, conversation, GROUP_CHAT, now_ms)])
    }

    /// Every one of `users` must be a member (1203 naming the others).
    fn all_members(&self, users: &[String], group_id: &str) -> Result<(), CommandError> {
        let outsiders: Vec<&str> = users
            .iter()
            .filter(|u| !self.members.contains_key(*u))
            .map(String::as_str)
            .collect();
        unless(outsiders.is_empty(), || not_in_group(&outsiders.join(", "), group_id))
    }

    fn create(&self, actor: &Actor, now_ms: i64, c: &CreateGroup) -> Result<Vec<DomainEvent>, CommandError> {
        let CreateGroup {
            group_id,
            owner,
            admins,
            members,
            info,
            unregistered,
        } = c;
        acting_for(actor, owner)?;
        unless(info.group_type == WORK_GROUP, || {
            CommandError::GroupTypeNotSupported(info.group_type)
        })?;
        unless(self.group.is_none(), || CommandError::GroupIdExists(group_id.clone()))?;
        unless(unregistered.is_empty(), || {
            CommandError::UserNotFound(unregistered.join(", "))
        })?;
        let roles: Vec<(&str, i32)> = std::iter::once((owner.as_str(), ROLE_OWNER))
            .chain(admins.iter().map(|a| (a.as_str(), ROLE_ADMIN)))
            .chain(members.iter().map(|m| (m.as_str(), ROLE_MEMBER)))
            .collect();
        let mut events = vec![DomainEvent::GroupCreated(GroupCreated {
            group_id: group_id.clone(),
            group_name: info.group_name.clone(),
            notification: info.notification.clone(),
            introduction: info.introduction.clone(),
            face_url: info.face_url.clone(),
            ex: info.ex.clone(),
            group_type: info.group_type,
            need_verification: info.need_verification,
            look_member_info: info.look_member_info,
            apply_member_friend: info.apply_member_friend,
            owner_user_id: owner.clone(),
            creator_user_id: actor.user_id.clone(),
            create_time: now_ms,
            member_user_ids: roles.iter().map(|(user, _)| (*user).to_owned()).collect(),
        })];
        events.extend(roles.into_iter().map(|(user, role_level)| {
            DomainEvent::GroupMemberJoined(GroupMemberJoined {
                group_id: group_id.clone(),
                user_id: user.to_owned(),
                role_level,
                join_source: JOIN_BY_INVITATION,
                inviter_user_id: actor.user_id.clone(),
                operator_user_id: actor.user_id.clone(),
                ex: String::new(),
                join_time: now_ms,
            })
        }));
        Ok(events)
    }

    fn set_info(&self, actor: &Actor, now_ms: i64, changes: &GroupInfoSet) -> Result<Vec<DomainEvent>, CommandError> {
        let group_id = &changes.group_id;
        let group = self.open(group_id)?;
        self.managing(actor, group_id)?;
        // Only what differs from the current info is recorded.
        let text = |new: &Option<String>, old: &str| new.clone().filter(|v| v != old);
        let number = |new: Option<i32>, old: i32| new.filter(|v| *v != old);
        let mut event = GroupInfoSet {
            group_id: group_id.clone(),
            group_name: text(&changes.group_name, &group.group_name),
            notification: text(&changes.notification, &group.notification),
            introduction: text(&changes.introduction, &group.introduction),
            face_url: text(&changes.face_url, &group.face_url),
            ex: text(&changes.ex, &group.ex),
            need_verification: number(changes.need_verification, group.need_verification),
            look_member_info: number(changes.look_member_info, group.look_member_info),
            apply_member_friend: number(changes.apply_member_friend, group.apply_member_friend),
            notification_update_time: None,
            notification_user_id: None,
        };
        if event.notification.is_some() {
            event.notification_update_time = Some(now_ms);
            event.notification_user_id = Some(actor.user_id.clone());
        }
        let unchanged = GroupInfoSet {
            group_id: group_id.clone(),
            ..GroupInfoSet::default()
        };
        if event == unchanged {
            return Ok(vec![]);
        }
        Ok(vec![DomainEvent::GroupInfoSet(event)])
    }

    /// Invited users join at once, unless the group verifies everyone and
    /// the inviter is an ordinary member: then each gets a request.
    fn invite(
        &self,
        actor: &Actor,
        now_ms: i64,
        group_id: &str,
        invited: &[String],
        reason: &str,
        unregistered: &[String],
    ) -> Result<Vec<DomainEvent>, CommandError> {
        let group = self.open(group_id)?;
        self.member(actor, group_id)?;
        let already: Vec<&str> = invited
            .iter()
            .filter(|u| self.members.contains_key(*u))
            .map(String::as_str)
            .collect();
        unless(already.is_empty(), || {
            CommandError::InvalidArgument(format!("already members of {group_id}: {}", already.join(", ")))
        })?;
        unless(unregistered.is_empty(), || {
            CommandError::UserNotFound(unregistered.join(", "))
        })?;
        let direct = group.need_verification != VERIFY_ALL || self.authority(actor) >= ROLE_ADMIN;
        let mut events = Vec::with_capacity(invited.len());
        for user in invited {
            if direct {
                let joined = GroupMemberJoined {
                    group_id: group_id.to_owned(),
                    user_id: user.clone(),
                    role_level: ROLE_MEMBER,
                    join_source: JOIN_BY_INVITATION,
                    inviter_user_id: actor.user_id.clone(),
                    operator_user_id: actor.user_id.clone(),
                    ex: String::new(),
                    join_time: now_ms,
                };
                events.extend(self.admit(joined, now_ms));
            } else {
                events.push(DomainEvent::GroupJoinRequested(GroupJoinRequested {
                    group_id: group_id.to_owned(),
                    user_id: user.clone(),
                    req_msg: reason.to_owned(),
                    join_source: JOIN_BY_INVITATION,
                    inviter_user_id: actor.user_id.clone(),
                    ex: String::new(),
                    req_time: now_ms,
                }));
            }
        }
        Ok(events)
    }
}

fn not_in_group(users: &str, group_id: &str) -> CommandError {
    CommandError::NotInGroup(format!("{users}: not in group {group_id}"))
}

#[cfg(test)]
mod tests;
