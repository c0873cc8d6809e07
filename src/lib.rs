//! user-manager-service: manages the users of an application across a user store and an
//! authentication provider, as a drop-in replacement of the Mia-Platform User Manager Service.

/// The audit trail: records of administrative writes and refused logins, and where they go.
pub mod audit;
/// Authentication provider port and adapters.
pub mod auth;
/// Access control (`AUTHZ_MODE=scopes`): scopes, access tokens, OAuth2 clients.
pub mod authz;
/// What "now" is for expiry decisions: the system clock, or a manual one in tests.
pub mod clock;
/// Environment configuration, validated before the port opens.
pub mod config;
/// Per-request context passed to every downstream call.
pub mod context;
/// Shared outbound HTTP: client, error classification, header forwarding.
pub mod downstream;
/// A failed call and what is known of its outcome.
pub mod failure;
/// User groups: the group-config registry and user-document validation.
pub mod groups;
/// The HTTP boundary: router, layers, extractors, routes.
pub mod http;
/// Idempotency keys: records of requests and their answers, replayed instead of run twice.
pub mod idempotency;
/// Bulk jobs: job store with leases, runner.
pub mod jobs;
/// The saga journal and its recovery worker.
pub mod journal;
/// Rönd role bindings.
pub mod policy;
/// Owner-only files and directories for secrets (SQLite store, signing key).
pub mod private_fs;
/// Secret strings that never print.
pub mod secret;
/// Application: build the ports, bind, serve, shut down gracefully.
pub mod startup;
/// What the HTTP handlers hold: the services built at startup.
pub mod state;
/// The `Collection` port and its adapters.
pub mod store;
/// JSON logs in the Mia format, and metrics.
pub mod telemetry;
/// Timer Service.
pub mod timer;
/// User lifecycle orchestration.
pub mod users;
