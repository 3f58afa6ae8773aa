//! The `user:` decision scope: registration and profile.

use events::user::{PersonalData, UserProfileUpdated, UserRegistered};
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
    },
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
            | UserCommand::Conversation { user_id, .. } => user_id,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            UserCommand::Register { .. } => "self_register",
            UserCommand::UpdateProfile { .. } => "update_user_info_ex",
            UserCommand::Conversation { command, .. } => command.name(),
        }
    }
}

/// A registered user's write-side view of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub nickname: String,
    pub face_url: String,
    pub ex: String,
    pub password_hash: String,
    pub create_time: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub profile: Option<Profile>,
    #[serde(default)]
    pub conversations: Conversations,
}

impl UserState {
    pub fn apply(&mut self, event: &DomainEvent) {
        match event {
            DomainEvent::UserRegistered(e) => {
                self.profile = Some(Profile {
                    nickname: e.profile.nickname.clone(),
                    face_url: e.profile.face_url.clone(),
                    ex: e.profile.ex.clone(),
                    password_hash: e.password_hash.clone(),
                    create_time: e.create_time,
                });
            }
            DomainEvent::UserProfileUpdated(e) => {
                if let Some(p) = self.profile.as_mut() {
                    e.apply_to(&mut p.nickname, &mut p.face_url, &mut p.ex);
                }
            }
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
                if self.profile.is_some() {
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
            } => {
                if !actor.acts_for(user_id) {
                    return Err(CommandError::NoPermission(format!(
                        "{} may not change the profile of {user_id}",
                        actor.user_id
                    )));
                }
                let profile = self
                    .profile
                    .as_ref()
                    .ok_or_else(|| CommandError::UserNotFound(user_id.clone()))?;
                let changed = |new: &Option<String>, old: &str| new.clone().filter(|v| v != old);
                let update = UserProfileUpdated {
                    user_id: user_id.clone(),
                    nickname: changed(nickname, &profile.nickname),
                    face_url: changed(face_url, &profile.face_url),
                    ex: changed(ex, &profile.ex),
                };
                if update.nickname.is_none() && update.face_url.is_none() && update.ex.is_none() {
                    return Ok(vec![]);
                }
                Ok(vec![DomainEvent::UserProfileUpdated(update)])
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
    fn only_present_and_changed_fields_are_updated() {
        given(&[registered("alice")])
            .when(&user("alice"), update("alice", Some("Alice"), Some(""), None))
            .then(&[DomainEvent::UserProfileUpdated(UserProfileUpdated {
                user_id: "alice".into(),
                nickname: None,
                face_url: Some(String::new()),
                ex: None,
            })]);
    }

    #[test]
    fn an_update_that_changes_nothing_records_nothing() {
        given(&[registered("alice")])
            .when(&user("alice"), update("alice", Some("Alice"), None, None))
            .then(&[]);
    }

    #[test]
    fn updates_apply_on_top_of_earlier_updates() {
        let renamed = DomainEvent::UserProfileUpdated(UserProfileUpdated {
            user_id: "alice".into(),
            nickname: Some("Ally".into()),
            face_url: None,
            ex: None,
        });
        given(&[registered("alice"), renamed])
            .when(&user("alice"), update("alice", Some("Ally"), None, None))
            .then(&[]);
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
            })]);
    }

    #[test]
    fn updating_an_unknown_user_fails() {
        given(&[])
            .when(&admin("root"), update("ghost", Some("x"), None, None))
            .then_error(CommandError::UserNotFound("ghost".into()));
    }
}
