//! Read models. A projector turns each stored event into changes of
//! documents; queries read those documents. Both go through the
//! [`DocSource`] trait, which the embedded store and MongoDB implement.

pub mod audit;
mod batch;
pub mod conversations;
pub mod friends;
pub mod groups;
pub mod messages;
pub mod notifications;
mod project;
mod store;
pub mod users;
pub mod view;

pub use batch::Batch;
pub use project::{project, ProjectionError};
pub use store::{list_prefix, prefix_end, Change, DocSource, StoreError};

/// The format of the read models these projections build. A store stamped
/// with another format (or none) is rebuilt from the log before it serves:
/// read models are no truth, so a new format needs no migration.
///
/// 1. Unstamped: everything before the stamp.
/// 2. A group's notification line is OpenIM's `n_<groupID>` (was
///    `ng_<groupID>`).
pub const FORMAT: u32 = 2;

/// Collections read as per-owner lists with [`DocSource::scan_prefix`]
/// (backends index them by list prefix).
pub const LISTS: &[&str] = &[
    friends::FRIENDS,
    friends::REQUESTS_RECEIVED,
    friends::REQUESTS_SENT,
    friends::BLACKS,
    groups::MEMBERS,
    groups::JOINED,
    groups::REQUESTS_RECEIVED,
    groups::REQUESTS_SENT,
    messages::USER_CONVERSATIONS,
    conversations::SETTINGS,
    notifications::USER_NOTIFICATION_CONVERSATIONS,
    audit::EVENTS,
    audit::BY_STREAM,
    audit::BY_USER,
    audit::BY_OPERATION,
];

/// Every projection by name, with the collections it writes: what
/// `parley rebuild --projection` and `parley verify` work on.
pub const PROJECTIONS: &[(&str, &[&str])] = &[
    ("users", &[users::PROFILES, users::CREDENTIALS]),
    (
        "friends",
        &[
            friends::FRIENDS,
            friends::REQUESTS_RECEIVED,
            friends::REQUESTS_SENT,
            friends::BLACKS,
        ],
    ),
    (
        "groups",
        &[
            groups::GROUPS,
            groups::MEMBERS,
            groups::JOINED,
            groups::REQUESTS_RECEIVED,
            groups::REQUESTS_SENT,
        ],
    ),
    (
        "messages",
        &[
            messages::MESSAGES,
            messages::RECEIPTS,
            messages::SEQS,
            messages::USER_CONVERSATIONS,
        ],
    ),
    ("conversations", &[conversations::SETTINGS]),
    (
        "notifications",
        &[
            notifications::NOTIFICATIONS,
            notifications::LANES,
            notifications::USER_NOTIFICATION_CONVERSATIONS,
            notifications::BY_EVENT,
        ],
    ),
    (
        "audit",
        &[audit::EVENTS, audit::BY_STREAM, audit::BY_USER, audit::BY_OPERATION],
    ),
];

/// The collections of the projection named `name`.
pub fn collections_of(name: &str) -> Option<&'static [&'static str]> {
    PROJECTIONS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}
