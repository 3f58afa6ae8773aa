//! The `user:` decision scope: registration and profile.

use events::user::{PersonalData, UserForgotten, UserProfileUpdated, UserRegistered};
use events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::conversation::{ConversationCommand, Conversations};
use crate::{Actor, CommandError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserCommand {
    Register {
        user_id: String,
        nickname: String,
        face_url: String,
        ex: String,
        /// Argon2 PHC string; the plain password never reaches a command.
        password_hash: String,
    },
    UpdateProfile {
        user_id: String,
        nickname: Option<String>,
        face_url: Option<String>,
        ex: Option<String>,
        /// Who else is told of the change: the user's friends and the
        /// members of its groups, looked up by the API node.
        notify: Vec<String>,
    },
    /// Erase the user's personal data (app admins only; the API erases
    /// the user's key before it records this).
    Forget { user_id: String },
    /// The user's own side of one or more of its conversations.
    Conversation {
        user_id: String,
        command: ConversationCommand,
    },
}

impl UserCommand {
    pub fn user_id(&self) -> &str {
        match self {
            UserCommand::Register { user_id, .. }
            | UserCommand::UpdateProfile { user_id, .. }
            | UserCommand::Forget { user_id }
            | UserCommand::Conversation { user_id, .. } => user_id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            UserCommand::Register { .. } => "self_register",
            UserCommand::UpdateProfile { .. } => "update_user_info_ex",
            UserCommand::Forget { .. } => "forget_user",
            UserCommand::Conversation { command, .. } => command.name(),
        }
    }
}

/// A user's write-side view of itself. It holds no personal data (those
/// fields reach the decisions sealed, and the scale-out writer stores this
/// state in a changelog), so a profile update records the fields given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub registered: bool,
    /// An app admin erased the user's personal data.
    #[serde(default)]
    pub forgotten: bool,
    #[serde(default)]
    pub conversations: Conversations,
}

impl UserState {
    pub fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::UserRegistered(_) => self.registered = true,
            DomainEvent::UserProfileUpdated(_) => {}
            DomainEvent::UserForgotten(_) => self.forgotten = true,
            other => self.conversations.apply(other),
        }
    }

    pub fn decide(&self, command: &UserCommand, actor: &Actor, now_ms: i64) -> Result<Vec<DomainEvent>, CommandError> {
        match command {
            UserCommand::Register {
                user_id,
                nickname,
                face_url,
                ex,
                password_hash,
            } => {
                if self.registered {
                    return Err(CommandError::AlreadyRegistered(user_id.clone()));
                }
                Ok(vec![DomainEvent::UserRegistered(UserRegistered {
                    user_id: user_id.clone(),
                    profile: PersonalData {
                        nickname: nickname.clone(),
                        face_url: face_url.clone(),
                        ex: ex.clone(),
                    },
                    password_hash: password_hash.clone(),
                    create_time: now_ms,
                })])
            }
            UserCommand::UpdateProfile {
                user_id,
                nickname,
                face_url,
                ex,
                notify,
            } => {
                if !actor.acts_for(user_id) {
                    return Err(CommandError::NoPermission(format!(
                        "{} may not change the profile of {user_id}",
                        actor.user_id
                    )));
                }
                if !self.registered {
                    return Err(CommandError::UserNotFound(user_id.clone()));
                }
                if nickname.is_none() && face_url.is_none() && ex.is_none() {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::UserProfileUpdated(UserProfileUpdated {
                    user_id: user_id.clone(),
                    nickname: nickname.clone(),
                    face_url: face_url.clone(),
                    ex: ex.clone(),
                    notified_user_ids: notify.clone(),
                })])
            }
            UserCommand::Forget { user_id } => {
                if !actor.is_admin {
                    return Err(CommandError::NoPermission(format!(
                        "only app admins may erase personal data, not {}",
                        actor.user_id
                    )));
                }
                if !self.registered {
                    return Err(CommandError::UserNotFound(user_id.clone()));
                }
                if self.forgotten {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::UserForgotten(UserForgotten {
                    user_id: user_id.clone(),
                })])
            }
            UserCommand::Conversation { user_id, command } => self.conversations.decide(user_id, command, actor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::given::{self, admin, given, user};
    use crate::Command;

    fn register(user_id: &str) -> Command {
        Command::User(UserCommand::Register {
            user_id: user_id.into(),
            nickname: "Alice".into(),
            face_url: "https://cdn/a.png".into(),
            ex: String::new(),
            password_hash: "$argon2id$hash".into(),
        })
    }

    fn registered(user_id: &str) -> DomainEvent {
        DomainEvent::UserRegistered(UserRegistered {
            user_id: user_id.into(),
            profile: PersonalData {
                nickname: "Alice".into(),
                face_url: "https://cdn/a.png".into(),
                ex: String::new(),
            },
            password_hash: "$argon2id$hash".into(),
            create_time: given::NOW,
        })
    }

    fn update(user_id: &str, nickname: Option<&str>, face_url: Option<&str>, ex: Option<&str>) -> Command {
        Command::User(UserCommand::UpdateProfile {
            user_id: user_id.into(),
            nickname: nickname.map(Into::into),
            face_url: face_url.map(Into::into),
            ex: ex.map(Into::into),
            notify: vec!["bob".into()],
        })
    }

    #[test]
    fn a_new_user_registers() {
        given(&[])
            .when(&user("alice"), register("alice"))
            .then(&[registered("alice")]);
    }

    #[test]
    fn a_taken_user_id_cannot_register_again() {
        given(&[registered("alice")])
            .when(&user("alice"), register("alice"))
            .then_error(CommandError::AlreadyRegistered("alice".into()));
    }

    #[test]
    fn only_present_fields_are_updated() {
        given(&[registered("alice")])
            .when(&user("alice"), update("alice", None, Some(""), None))
            .then(&[DomainEvent::UserProfileUpdated(UserProfileUpdated {
                user_id: "alice".into(),
                nickname: None,
                face_url: Some(String::new()),
                ex: None,
                notified_user_ids: vec!["bob".into()],
            })]);
    }

    #[test]
    fn an_update_without_fields_records_nothing() {
        given(&[registered("alice")])
            .when(&user("alice"), update("alice", None, None, None))
            .then(&[]);
    }

    fn forget(user_id: &str) -> Command {
        Command::User(UserCommand::Forget {
            user_id: user_id.into(),
        })
    }

    fn forgotten(user_id: &str) -> DomainEvent {
        DomainEvent::UserForgotten(UserForgotten {
            user_id: user_id.into(),
        })
    }

    #[test]
    fn an_admin_forgets_a_user_once() {
        given(&[registered("alice")])
            .when(&admin("root"), forget("alice"))
            .then(&[forgotten("alice")]);
        given(&[registered("alice"), forgotten("alice")])
            .when(&admin("root"), forget("alice"))
            .then(&[]);
    }

    #[test]
    fn users_cannot_forget_anyone_not_even_themselves() {
        given(&[registered("alice")])
            .when(&user("alice"), forget("alice"))
            .then_error(CommandError::NoPermission(
                "only app admins may erase personal data, not alice".into(),
            ));
    }

    #[test]
    fn forgetting_an_unknown_user_fails() {
        given(&[])
            .when(&admin("root"), forget("ghost"))
            .then_error(CommandError::UserNotFound("ghost".into()));
    }

    #[test]
    fn another_user_cannot_update_my_profile() {
        given(&[registered("alice")])
            .when(&user("bob"), update("alice", Some("Mallory"), None, None))
            .then_error(CommandError::NoPermission(
                "bob may not change the profile of alice".into(),
            ));
    }

    #[test]
    fn an_admin_can_update_anyones_profile() {
        given(&[registered("alice")])
            .when(&admin("root"), update("alice", None, None, Some("{}")))
            .then(&[DomainEvent::UserProfileUpdated(UserProfileUpdated {
                user_id: "alice".into(),
                nickname: None,
                face_url: None,
                ex: Some("{}".into()),
                notified_user_ids: vec!["bob".into()],
            })]);
    }

    #[test]
    fn updating_an_unknown_user_fails() {
        given(&[])
            .when(&admin("root"), update("ghost", Some("x"), None, None))
            .then_error(CommandError::UserNotFound("ghost".into()));
    }
}
