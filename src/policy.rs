//! The `PolicyClient` port and its Rönd adapter: role bindings granted and revoked per subject
//! (contracts/peers.md §3).

use async_trait::async_trait;
use reqwest::Method;

use crate::context::CallContext;
use crate::downstream::{read_json, send, Endpoint, Failure};

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
    async fn grant(&self, ctx: &CallContext, subject: &str, roles: &[String]) -> Result<String, Failure>;

    /// Removes `subject` from *all* its bindings.
    async fn revoke(&self, ctx: &CallContext, subject: &str) -> Result<RevokeOutcome, Failure>;

    /// Whether Rönd answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> Result<(), Failure>;
}

/// Service name in errors, logs and metrics.
const ROND: &str = "Rönd";

/// The `PolicyClient` backed by Rönd's grant/revoke APIs (standalone mode).
#[derive(Clone, Debug)]
pub struct RondClient {
    endpoint: Endpoint,
}

/// `POST /grant/bindings` answer.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrantWire {
    binding_id: String,
}

/// `POST /revoke/bindings` answer; missing counters are 0.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RevokeWire {
    deleted_bindings: u64,
    modified_bindings: u64,
}

impl RondClient {
    /// An adapter for the Rönd at `base_url` (e.g. `http://rond-service`; a trailing slash is
    /// ignored), sending its calls through `client`.
    pub fn new(client: reqwest::Client, base_url: impl Into<String>) -> Self {
        Self {
            endpoint: Endpoint::new(client, ROND, base_url),
        }
    }
}

#[async_trait]
impl PolicyClient for RondClient {
    async fn grant(&self, ctx: &CallContext, subject: &str, roles: &[String]) -> Result<String, Failure> {
        let (call, builder) = self
            .endpoint
            .start(ctx, Method::POST, "/grant/bindings", "/grant/bindings");
        let body = serde_json::json!({ "subjects": [subject], "roles": roles });
        let response = send(&call, builder.json(&body)).await?;
        read_json::<GrantWire>(&call, response)
            .await
            .map(|g| g.binding_id)
    }

    async fn revoke(&self, ctx: &CallContext, subject: &str) -> Result<RevokeOutcome, Failure> {
        let (call, builder) = self
            .endpoint
            .start(ctx, Method::POST, "/revoke/bindings", "/revoke/bindings");
        let body = serde_json::json!({ "subjects": [subject] });
        let response = send(&call, builder.json(&body)).await?;
        let wire: RevokeWire = read_json(&call, response).await?;
        Ok(RevokeOutcome {
            deleted_bindings: wire.deleted_bindings,
            modified_bindings: wire.modified_bindings,
        })
    }

    async fn check(&self, ctx: &CallContext) -> Result<(), Failure> {
        let (call, builder) = self
            .endpoint
            .start(ctx, Method::GET, "/-/rbac-healthz", "/-/rbac-healthz");
        send(&call, builder).await.map(drop)
    }
}
