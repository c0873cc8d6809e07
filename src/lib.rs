//! user-manager-service: manages the users of an application across a user store and an
//! authentication provider, as a drop-in replacement of the Mia-Platform User Manager Service.

/// Authentication provider port and adapters.
pub mod auth;
/// Per-request context passed to every downstream call.
pub mod context;
/// Shared outbound HTTP: client, error classification, header forwarding.
pub mod downstream;
/// Rönd role bindings.
pub mod policy;
/// Secret strings that never print.
pub mod secret;
/// The `Collection` port and its adapters.
pub mod store;
/// Timer Service.
pub mod timer;
