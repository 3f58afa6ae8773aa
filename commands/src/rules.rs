//! Small guards shared by the decisions.

use crate::{Actor, CommandError};

/// `Ok` if `condition` holds, else the error.
pub(crate) fn unless(condition: bool, error: impl FnOnce() -> CommandError) -> Result<(), CommandError> {
    if condition {
        Ok(())
    } else {
        Err(error())
    }
}

/// The actor must be `user` or an app admin.
pub(crate) fn acting_for(actor: &Actor, user: &str) -> Result<(), CommandError> {
    unless(actor.acts_for(user), || {
        CommandError::NoPermission(format!("{} may not act for {user}", actor.user_id))
    })
}
