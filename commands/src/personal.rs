//! The personal data a command carries: what the API seals with the owner's
//! key before the command is decided, queued or stored anywhere.

use serde_json::Value;

use crate::group::GroupCommand;
use crate::message::NewMessage;
use crate::pair::PairCommand;
use crate::user::UserCommand;
use crate::Command;

/// A command's personal fields and the user they belong to.
pub struct PersonalFields<'a> {
    pub owner: &'a str,
    /// Nicknames, faceURLs, ex.
    pub texts: Vec<&'a mut String>,
    /// Message content.
    pub values: Vec<&'a mut Value>,
}

impl Command {
    /// The personal fields of the command, if it has any.
    pub fn personal_fields(&mut self) -> Option<PersonalFields<'_>> {
        match self {
            Command::User(UserCommand::Register {
                user_id,
                nickname,
                face_url,
                ex,
                ..
            }) => Some(PersonalFields {
                owner: user_id,
                texts: vec![nickname, face_url, ex],
                values: vec![],
            }),
            Command::User(UserCommand::UpdateProfile {
                user_id,
                nickname,
                face_url,
                ex,
                ..
            }) => Some(PersonalFields {
                owner: user_id,
                texts: [nickname, face_url, ex]
                    .into_iter()
                    .filter_map(Option::as_mut)
                    .collect(),
                values: vec![],
            }),
            Command::Pair(PairCommand::SendMsg { message, .. }) | Command::Group(GroupCommand::SendMsg(message)) => {
                Some(message.personal_fields())
            }
            _ => None,
        }
    }
}

impl NewMessage {
    fn personal_fields(&mut self) -> PersonalFields<'_> {
        PersonalFields {
            owner: &self.send_id,
            texts: vec![&mut self.sender_nickname, &mut self.sender_face_url],
            values: vec![&mut self.content],
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_message_names_its_sender_as_owner_of_nickname_face_and_content() {
        let mut command = Command::Group(GroupCommand::SendMsg(NewMessage {
            send_id: "alice".into(),
            recv_id: String::new(),
            group_id: "g1".into(),
            client_msg_id: "c1".into(),
            server_msg_id: "s1".into(),
            sender_nickname: "Alice".into(),
            sender_face_url: "https://f/a".into(),
            content_type: 101,
            content: json!({"content": "hi"}),
            ex: String::new(),
        }));
        let fields = command.personal_fields().expect("a message carries personal data");
        assert_eq!(fields.owner, "alice");
        assert_eq!(
            fields.texts.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            ["Alice", "https://f/a"]
        );
        assert_eq!(*fields.values[0], json!({"content": "hi"}));
    }

    #[test]
    fn a_profile_update_carries_only_the_fields_it_sets() {
        let mut command = Command::User(UserCommand::UpdateProfile {
            user_id: "bob".into(),
            nickname: None,
            face_url: Some("https://f/b".into()),
            ex: None,
            notify: Vec::new(),
        });
        let fields = command
            .personal_fields()
            .expect("a profile update carries personal data");
        assert_eq!(fields.owner, "bob");
        assert_eq!(fields.texts.len(), 1);
    }
}
