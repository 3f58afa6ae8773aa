/// Why a command was rejected. Each variant maps to one error code of the
/// API (see [`CommandError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum CommandError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NoPermission(String),
    #[error("user {0} is not registered")]
    UserNotFound(String),
    #[error("user {0} is already registered")]
    AlreadyRegistered(String),
    #[error("{0}")]
    NotFound(String),
    #[error("cannot add yourself as a friend")]
    CannotAddYourself,
    #[error("blocked by {0}")]
    BlockedByPeer(String),
    #[error("{0} is not a friend")]
    NotFriend(String),
    #[error("{0}")]
    RelationshipAlready(String),
    #[error("friend request {0} is already handled")]
    RequestHandled(String),
    #[error("group {0} does not exist")]
    GroupNotFound(String),
    #[error("group {0} already exists")]
    GroupIdExists(String),
    #[error("{0}")]
    NotInGroup(String),
    #[error("group {0} has been dismissed")]
    GroupDismissed(String),
    #[error("group type {0} is not supported (only 2, work group)")]
    GroupTypeNotSupported(i32),
    #[error("{0}")]
    GroupRequestHandled(String),
    #[error("{0} is muted in this group")]
    MutedInGroup(String),
    #[error("the group is muted")]
    MutedGroup,
    #[error("message {0} is already revoked")]
    MsgAlreadyRevoked(u64),
    /// Not a failure: the message was sent before (same clientMsgID), and
    /// this is its original receipt. send_msg answers with it.
    #[error("message {} was already sent as seq {}", .0.client_msg_id, .0.seq)]
    AlreadySent(events::message::Receipt),
}

impl CommandError {
    /// The API error code (the reference server's numbering).
    pub fn code(&self) -> i32 {
        match self {
            CommandError::InvalidArgument(_) => 1001,
            CommandError::NoPermission(_) => 1002,
            CommandError::UserNotFound(_) => 1101,
            CommandError::AlreadyRegistered(_) => 1102,
            CommandError::NotFound(_) => 1004,
            CommandError::CannotAddYourself => 1301,
            CommandError::BlockedByPeer(_) => 1302,
            CommandError::NotFriend(_) => 1303,
            CommandError::RelationshipAlready(_) => 1304,
            CommandError::RequestHandled(_) => 1305,
            CommandError::GroupNotFound(_) => 1201,
            CommandError::GroupIdExists(_) => 1202,
            CommandError::NotInGroup(_) => 1203,
            CommandError::GroupDismissed(_) => 1204,
            CommandError::GroupTypeNotSupported(_) => 1205,
            CommandError::GroupRequestHandled(_) => 1206,
            CommandError::MutedInGroup(_) => 1402,
            CommandError::MutedGroup => 1403,
            CommandError::MsgAlreadyRevoked(_) => 1404,
            CommandError::AlreadySent(_) => 0,
        }
    }
}
