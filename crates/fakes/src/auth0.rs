//! Stateful in-memory fake of the Mia-Platform Auth0 Client (`shared/contracts/peers.md` §1, §2).
//!
//! The real Auth0 Client is closed source; this fake implements the wire choices the project
//! fixed for it: the `/users` Management facade, `/change-password`, the login routes
//! (`/oauth/token`, `/refreshtoken`, `/userinfo`, `/logout`), the bulk-import job routes, an
//! optional Auth0-style rate limit and fault injection (targeted, and random:
//! [`crate::chaos`]). Every request is recorded (method, path, query, headers) so tests can
//! assert what the service under test sent.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use ums_fakes::auth0::Auth0Fake;
//!
//! let fake = Auth0Fake::builder()
//!     .requests_per_second(2)
//!     .import_delay(Duration::from_millis(50))
//!     .build()
//!     .spawn()
//!     .await;
//! let id = fake.insert_user("ada@example.com", Some("ada"), "s3cret!");
//! assert!(fake.user(&id).is_some());
//! fake.shutdown().await;
//! # }
//! ```

mod gate;
mod import;
mod server;
mod sessions;
mod state;
mod users;
mod util;

pub use server::{Auth0Fake, Auth0FakeBuilder, RunningAuth0Fake};
pub use state::RecordedRequest;
