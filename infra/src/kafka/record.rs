//! Format versions of the records writers read: command records (API node
//! -> writer) and state records (writer -> changelog -> the next writer).
//!
//! The version travels in the record header `parley-format` as decimal text.
//! A record without it was written before records were versioned and is
//! version 1, so topics written by earlier builds keep working. This build
//! writes and reads version 1; any other version is refused with a typed
//! error, never guessed at.
//!
//! Every version of a command record keeps its reply address
//! (`correlationID`, `replyTopic`, `replyPartition`) at the top level, so a
//! writer can answer a record it cannot read with a refusal instead of
//! leaving its sender to time out.

use commands::{Actor, Command, CommandError};
use events::{Envelope, EventMeta};
use rdkafka::message::{Headers, Message, OwnedHeaders};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::write_side::Scope;

/// The header naming a record's format version.
pub const FORMAT_HEADER: &str = "parley-format";
/// The format version this build writes and reads.
pub const FORMAT: u32 = 1;
/// The version of a record without a format header.
const UNVERSIONED: u32 = 1;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record format version {0} is unknown to this build (it reads version {FORMAT})")]
    UnknownVersion(u32),
    #[error("record format header {0:?} is not a version number")]
    BadVersion(String),
    #[error("record has no payload")]
    Empty,
    #[error("record payload is unreadable: {0}")]
    Undecodable(String),
}

/// The headers every record this build writes carries.
pub fn headers() -> OwnedHeaders {
    OwnedHeaders::new().insert(rdkafka::message::Header {
        key: FORMAT_HEADER,
        value: Some(FORMAT.to_string().as_bytes()),
    })
}

/// The value of a message's format header: `None` if it has none, empty if
/// the header has no value.
pub fn format_header<M: Message>(message: &M) -> Option<&[u8]> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == FORMAT_HEADER)
        .map(|h| h.value.unwrap_or_default())
}

/// The format version a record declares.
pub fn version(header: Option<&[u8]>) -> Result<u32, RecordError> {
    let Some(value) = header else {
        return Ok(UNVERSIONED);
    };
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| RecordError::BadVersion(String::from_utf8_lossy(value).into_owned()))
}

/// Decodes a record of a version this build reads.
fn decode<T: DeserializeOwned>(header: Option<&[u8]>, payload: Option<&[u8]>) -> Result<T, RecordError> {
    match version(header)? {
        FORMAT => {
            let payload = payload.ok_or(RecordError::Empty)?;
            serde_json::from_slice(payload).map_err(|e| RecordError::Undecodable(e.to_string()))
        }
        other => Err(RecordError::UnknownVersion(other)),
    }
}

/// A changelog record: one decision scope's whole state.
pub fn decode_state(header: Option<&[u8]>, payload: Option<&[u8]>) -> Result<Scope, RecordError> {
    decode(header, payload)
}

/// A command on its way to the owner of its partition.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRecord {
    #[serde(flatten)]
    pub address: ReplyAddress,
    pub command: Command,
    pub actor: Actor,
    pub meta: EventMeta,
}

/// Where the outcome of a command goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyAddress {
    #[serde(rename = "correlationID")]
    pub correlation_id: String,
    pub reply_topic: String,
    pub reply_partition: i32,
}

/// The outcome of a command, sent back to the API node that took it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyRecord {
    #[serde(rename = "correlationID")]
    pub correlation_id: String,
    pub outcome: ReplyOutcome,
}

/// `Ok` and `Err` are written as a `Result` is, so replies of accepted and
/// rejected commands read as they did before refusals existed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ReplyOutcome {
    /// The command's events, committed.
    Ok(Vec<Envelope>),
    /// The decision rejected the command.
    Err(CommandError),
    /// The writer could not read the command record; nothing was applied.
    Refused(String),
}

impl ReplyAddress {
    /// Does it name a partition of the replies topic (of `partitions`)?
    pub fn routable(&self, replies_topic: &str, partitions: u32) -> bool {
        self.reply_topic == replies_topic && u32::try_from(self.reply_partition).is_ok_and(|p| p < partitions)
    }
}

/// A command record this build cannot read, and whom to tell (if its reply
/// address is readable).
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub reply_to: Option<ReplyAddress>,
    pub error: RecordError,
}

/// A command record, or why it cannot be applied.
pub fn decode_command(header: Option<&[u8]>, payload: Option<&[u8]>) -> Result<CommandRecord, Unreadable> {
    decode(header, payload).map_err(|error| Unreadable {
        reply_to: payload.and_then(|p| serde_json::from_slice(p).ok()),
        error,
    })
}

#[cfg(test)]
mod tests {
    use events::StreamKey;

    use super::*;

    fn command() -> CommandRecord {
        CommandRecord {
            address: ReplyAddress {
                correlation_id: "c1".into(),
                reply_topic: "ns-replies".into(),
                reply_partition: 3,
            },
            command: Command::User(commands::user::UserCommand::Forget {
                user_id: "alice".into(),
            }),
            actor: Actor {
                user_id: "alice".into(),
                is_admin: false,
            },
            meta: EventMeta {
                tenant_id: "1000".into(),
                actor_user_id: "alice".into(),
                operation_id: "op".into(),
                occurred_at: 1,
            },
        }
    }

    fn state() -> Scope {
        Scope::empty(&StreamKey::user("1000", "alice"))
    }

    fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn replies_of_accepted_and_rejected_commands_are_written_as_before_refusals() {
        let rejection = CommandError::UserNotFound("bob".into());
        let before: Result<Vec<Envelope>, CommandError> = Err(rejection.clone());
        assert_eq!(json(&ReplyOutcome::Err(rejection)), json(&before));
        let before: Result<Vec<Envelope>, CommandError> = Ok(Vec::new());
        assert_eq!(json(&ReplyOutcome::Ok(Vec::new())), json(&before));
        let refused: ReplyOutcome = serde_json::from_slice(&json(&ReplyOutcome::Refused("v9".into()))).unwrap();
        assert!(matches!(refused, ReplyOutcome::Refused(reason) if reason == "v9"));
    }

    #[test]
    fn a_record_without_a_format_header_is_version_1() {
        assert_eq!(version(None), Ok(1));
    }

    #[test]
    fn the_written_header_names_the_current_format() {
        let headers = headers();
        let header = headers.iter().find(|h| h.key == FORMAT_HEADER).unwrap();
        assert_eq!(version(header.value), Ok(FORMAT));
    }

    #[test]
    fn a_header_that_is_not_a_number_is_a_bad_version() {
        for bad in [&b""[..], b"one", b"-1", b"1.0", b"\xff"] {
            assert!(matches!(version(Some(bad)), Err(RecordError::BadVersion(_))), "{bad:?}");
        }
    }

    #[test]
    fn state_records_of_version_1_decode_with_or_without_the_header() {
        let payload = json(&state());
        for header in [None, Some(&b"1"[..])] {
            let decoded = decode_state(header, Some(&payload)).unwrap();
            assert_eq!(json(&decoded), payload);
        }
    }

    #[test]
    fn a_state_record_of_another_version_is_refused_even_if_its_payload_parses() {
        let payload = json(&state());
        assert_eq!(
            decode_state(Some(b"2"), Some(&payload)).unwrap_err(),
            RecordError::UnknownVersion(2)
        );
        assert_eq!(
            decode_state(Some(b"0"), Some(&payload)).unwrap_err(),
            RecordError::UnknownVersion(0)
        );
    }

    #[test]
    fn a_state_record_without_payload_or_with_garbage_is_unreadable() {
        assert_eq!(decode_state(None, None).unwrap_err(), RecordError::Empty);
        assert!(matches!(
            decode_state(Some(b"1"), Some(b"\x00garbage")),
            Err(RecordError::Undecodable(_))
        ));
    }

    #[test]
    fn command_records_of_version_1_decode_with_or_without_the_header() {
        let payload = json(&command());
        for header in [None, Some(&b"1"[..])] {
            let decoded = decode_command(header, Some(&payload)).unwrap();
            assert_eq!(json(&decoded), payload);
        }
    }

    #[test]
    fn a_command_record_of_another_version_is_refused_to_its_sender() {
        let mut future = serde_json::to_value(command()).unwrap();
        future["command"] = serde_json::json!({"type": "somethingNew", "shape": [1, 2]});
        let unreadable = decode_command(Some(b"2"), Some(&json(&future))).unwrap_err();
        assert_eq!(unreadable.error, RecordError::UnknownVersion(2));
        assert_eq!(unreadable.reply_to, Some(command().address));
    }

    #[test]
    fn an_unknown_command_in_a_version_1_record_is_refused_to_its_sender() {
        let mut record = serde_json::to_value(command()).unwrap();
        record["command"] = serde_json::json!({"type": "somethingNew"});
        let unreadable = decode_command(None, Some(&json(&record))).unwrap_err();
        assert!(matches!(unreadable.error, RecordError::Undecodable(_)));
        assert_eq!(unreadable.reply_to, Some(command().address));
    }

    #[test]
    fn only_a_partition_of_the_replies_topic_is_routable() {
        let address = |topic: &str, partition: i32| ReplyAddress {
            correlation_id: "c".into(),
            reply_topic: topic.into(),
            reply_partition: partition,
        };
        assert!(address("ns-replies", 0).routable("ns-replies", 4));
        assert!(address("ns-replies", 3).routable("ns-replies", 4));
        assert!(!address("ns-replies", 4).routable("ns-replies", 4));
        assert!(!address("ns-replies", -1).routable("ns-replies", 4));
        assert!(!address("ns-events", 0).routable("ns-replies", 4));
    }

    #[test]
    fn a_command_record_without_a_readable_address_has_nobody_to_tell() {
        let unreadable = decode_command(None, Some(b"{\"correlationID\": 7}")).unwrap_err();
        assert_eq!(unreadable.reply_to, None);
        let unreadable = decode_command(Some(b"x"), None).unwrap_err();
        assert_eq!(
            unreadable,
            Unreadable {
                reply_to: None,
                error: RecordError::BadVersion("x".into())
            }
        );
    }
}
