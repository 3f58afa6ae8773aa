//! Black-box tests: the real `parley` binary, driven over HTTP.
//!
//! The same suite runs against the embedded deployment (`cargo test`) and
//! the Kafka + MongoDB one (`PARLEY_TEST_BACKEND=kafka`, with the
//! `scale-out` feature, skipping `embedded::`); `scripts/test.sh` runs both.

mod harness;

mod audit;
mod auth;
mod chat;
mod conversations;
mod durability;
mod embedded;
mod friends;
mod fuzz;
mod groups;
mod hardening;
mod hardening_http;
mod messages;
mod notifications;
mod operability;
mod privacy;
mod rebuild;
#[cfg(feature = "scale-out")]
mod scale_out;
mod users;
