//! Wire types of the HTTP API (`../shared/spec/c-api.md`): the reply
//! envelope, request and response bodies, and the validation of inputs.

pub mod audit;
pub mod conversation;
mod envelope;
pub mod friend;
pub mod group;
pub mod limits;
pub mod message;
mod pagination;
pub mod user;
mod validate;

pub use envelope::ApiReply;
pub use pagination::Pagination;
pub use validate::{identifier, FieldError, Validate};
