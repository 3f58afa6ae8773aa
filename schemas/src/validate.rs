//! Field validation of request bodies.

use crate::limits;

/// A request field that breaks a rule; the API answers 1001 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Rules a request body must satisfy beyond its JSON shape.
pub trait Validate {
    fn validate(&self) -> Result<(), FieldError>;
}

pub(crate) fn max_chars(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n > max {
        return Err(FieldError::new(field, format!("at most {max} characters, got {n}")));
    }
    Ok(())
}

/// An identifier: non-empty, at most `max` characters, no whitespace, no
/// control characters and no `:` (it separates the parts of stream keys).
pub fn identifier(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    max_chars(field, value, max)?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':') {
        return Err(FieldError::new(
            field,
            "must not contain whitespace, control characters or ':'",
        ));
    }
    Ok(())
}

pub(crate) fn user_id(field: &str, value: &str) -> Result<(), FieldError> {
    identifier(field, value, limits::USER_ID_MAX)
}

/// The ID of a new user or group: an identifier without `_`, so that the
/// conversation IDs made of it (`si_<a>_<b>`, `n_<a>_<b>`, `n_<groupID>`)
/// each name one conversation. IDs from before the rule keep working
/// wherever an existing user or group is named.
pub(crate) fn new_id(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    identifier(field, value, max)?;
    if value.contains('_') {
        return Err(FieldError::new(
            field,
            "must not contain '_' (it separates the parts of conversation IDs)",
        ));
    }
    Ok(())
}

/// A list of user IDs: 1 to USERS_PER_QUERY_MAX distinct identifiers.
pub(crate) fn user_ids(field: &str, ids: &[String]) -> Result<(), FieldError> {
    identifiers(field, ids, limits::USER_ID_MAX)
}

/// A list of 1 to USERS_PER_QUERY_MAX distinct identifiers.
pub(crate) fn identifiers(field: &str, ids: &[String], max_chars: usize) -> Result<(), FieldError> {
    if ids.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if ids.len() > limits::USERS_PER_QUERY_MAX {
        return Err(FieldError::new(
            field,
            format!(
                "at most {} IDs per call, got {}",
                limits::USERS_PER_QUERY_MAX,
                ids.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        identifier(&format!("{field}[]"), id, max_chars)?;
        if !seen.insert(id) {
            return Err(FieldError::new(field, format!("{id} is listed twice")));
        }
    }
    Ok(())
}

pub(crate) fn optional_max_chars(field: &str, value: &Option<String>, max: usize) -> Result<(), FieldError> {
    value.as_deref().map_or(Ok(()), |v| max_chars(field, v, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_reject_empty_long_spaced_and_colon_values() {
        assert!(identifier("userID", "user_10001", 64).is_ok());
        assert!(identifier("userID", "", 64).is_err());
        assert!(identifier("userID", &"x".repeat(65), 64).is_err());
        assert!(identifier("userID", "a b", 64).is_err());
        assert!(identifier("userID", "a:b", 64).is_err());
        assert!(identifier("userID", "a\u{0}b", 64).is_err());
    }

    #[test]
    fn new_ids_are_identifiers_without_underscores() {
        assert!(new_id("userID", "user10001", 64).is_ok());
        assert!(new_id("userID", "user-10.001@x", 64).is_ok());
        assert_eq!(
            new_id("userID", "a_c", 64),
            Err(FieldError::new(
                "userID",
                "must not contain '_' (it separates the parts of conversation IDs)"
            ))
        );
        assert!(new_id("userID", "a:b", 64).is_err());
        assert!(new_id("userID", "", 64).is_err());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(max_chars("nickname", &"é".repeat(64), 64).is_ok());
        assert_eq!(
            max_chars("nickname", &"é".repeat(65), 64),
            Err(FieldError::new("nickname", "at most 64 characters, got 65"))
        );
    }
}
