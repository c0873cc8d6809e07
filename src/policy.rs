//! The `PolicyClient` port and its Rönd adapter: role bindings granted and revoked per subject
//! (contracts/peers.md §3).

use async_trait::async_trait;

use crate::context::CallContext;
use crate::downstream::DownstreamError;

/// What a revoke removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevokeOutcome {
    /// Bindings deleted (no subjects left).
    pub deleted_bindings: u64,
    /// Bindings that kept other subjects.
    pub modified_bindings: u64,
}

/// Role bindings.
#[async_trait]
pub trait PolicyClient: Send + Sync {
    /// Creates one binding giving `roles` to `subject`; returns its `bindingId`.
    async fn grant(&self, ctx: &CallContext, subject: &str, roles: &[String]) -> Result<String, DownstreamError>;

    /// Removes `subject` from *all* its bindings.
    async fn revoke(&self, ctx: &CallContext, subject: &str) -> Result<RevokeOutcome, DownstreamError>;

    /// Whether Rönd answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> Result<(), DownstreamError>;
}
