//! Read models. A projector turns each stored event into changes of
//! documents; queries read those documents. Both go through the
//! [`DocSource`] trait, which the embedded store and MongoDB implement.

mod batch;
pub mod friends;
mod project;
mod store;
pub mod users;

pub use batch::Batch;
pub use project::{project, ProjectionError};
pub use store::{prefix_end, Change, DocSource, StoreError};
