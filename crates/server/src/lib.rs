//! The Switchboard live-chat server: REST and WebSocket endpoints of protocol v1 over axum,
//! storage in SQLite, and ring-all routing.
//!
//! Map: [`config`] loads settings; [`server`] starts and stops; `http` holds the routes and
//! `session` one WebSocket session; `hub` serialises every state change (one lock, one
//! transaction per change) and pushes events; `routing` decides who rings and offers, and when
//! timers fire; `settings` validates routing settings and rules; `storage` is the
//! SQLite schema and queries.

pub mod articles;
pub mod attachments;
pub mod canned;
mod colleagues;
pub mod config;
mod credentials;
mod customers;
mod edits;
mod escalation;
mod http;
mod hub;
pub mod mail;
mod presence;
mod rating;
pub mod retention;
pub mod routing;
pub mod server;
mod session;
mod settings;
pub mod storage;
mod supervision;
pub mod teams;
mod tickets;
mod visitors;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use config::{Config, ConfigError, Overrides};
pub use server::{Server, ServerError};
