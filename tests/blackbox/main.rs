//! Black-box tests: the real `parley` binary, driven over HTTP.

mod harness;

mod auth;
mod durability;
mod rebuild;
mod users;
