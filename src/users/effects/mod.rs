//! Side effects of a user change outside the store, shared by every user use case: the auth
//! user's state, Rönd role bindings, and the expiry timer.

pub mod auth_state;
pub mod expiry;
pub mod roles;

pub use auth_state::{apply_auth_effect, auth_effect, AuthEffect};
pub use expiry::{abort_expiry, parse_expiration, schedule_expiry};
pub use roles::{grant_roles, replace_roles, revoke_roles, rond_subject};
