//! Parley's HTTP API: axum routes, authentication, tenancy and the reply
//! envelope, over the write side and read models of `infra`.

mod audit_cli;
mod auth;
pub mod cli;
mod deploy;
mod error;
mod extract;
mod gateway;
mod listener;
mod metrics;
mod password;
mod routes;
mod secret;
mod server;
mod startup;
mod state;
mod throttle;

pub use audit_cli::audit;
pub use auth::mint_token;
pub use server::{rebuild, serve, verify, work};
