//! Input limits, in characters (Unicode scalar values). Documented in
//! docs/api.md.

pub const USER_ID_MAX: usize = 64;
pub const NICKNAME_MAX: usize = 64;
pub const FACE_URL_MAX: usize = 1024;
pub const EX_MAX: usize = 4096;
pub const PASSWORD_MIN: usize = 6;
pub const PASSWORD_MAX: usize = 128;
pub const TENANT_ID_MAX: usize = 64;
pub const OPERATION_ID_MAX: usize = 128;
/// The most user IDs one get_users_info call may ask for.
pub const USERS_PER_QUERY_MAX: usize = 1000;
/// Platform IDs as the reference's clients use them (1 iOS .. 12).
pub const PLATFORM_IDS: std::ops::RangeInclusive<i32> = 1..=12;
/// reqMsg / handleMsg of friend requests.
pub const MESSAGE_MAX: usize = 1024;
/// The largest page (`pagination.showNumber`).
pub const PAGE_SIZE_MAX: i64 = 1000;
/// groupName.
pub const GROUP_NAME_MAX: usize = 256;
/// groupID, when the client chooses it.
pub const GROUP_ID_MAX: usize = 64;
/// A group's notification and introduction.
pub const GROUP_TEXT_MAX: usize = 4096;
/// The most members create_group may add besides the owner.
pub const GROUP_INITIAL_MEMBERS_MAX: usize = 1000;
/// Content types only the server emits (OpenIM's NotificationBegin to
/// NotificationEnd: friend, user and group notifications, the revoke notice
/// 2101, read receipts 2200): send_msg refuses them, so nobody can forge
/// one.
pub const SYSTEM_CONTENT_TYPES: std::ops::RangeInclusive<i32> = 1000..=5000;
/// A message's `content`, serialized.
pub const CONTENT_MAX_BYTES: usize = 64 * 1024;
/// clientMsgID and conversationID.
pub const MESSAGE_ID_MAX: usize = 128;
/// seqRanges per pull, and messages per range.
pub const PULL_RANGES_MAX: usize = 100;
pub const PULL_MESSAGES_MAX: u64 = 100;
