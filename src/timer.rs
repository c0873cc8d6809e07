//! The `TimerClient` port and its Timer Service adapter: one-shot callbacks at a date
//! (contracts/peers.md §4).

use async_trait::async_trait;
use serde_json::Value;

use crate::context::CallContext;
use crate::downstream::DownstreamError;

/// Where the Timer Service calls back (its `outputMode` of type `rest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// `http` or `https`.
    pub protocol: String,
    /// Host name of this service as the Timer Service reaches it.
    pub hostname: String,
    /// Port.
    pub port: u16,
    /// Path, e.g. `/users/<id>/expire`.
    pub path: String,
    /// Headers to send back (`TIMER_SERVICE_HEADERS` copied from the request).
    pub headers: Vec<(String, String)>,
}

/// A timer to schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Body of the callback.
    pub payload: Value,
    /// When the timer fires.
    pub fire_at: time::OffsetDateTime,
    /// The callback (always `POST`).
    pub callback: Callback,
}

/// One-shot timers.
#[async_trait]
pub trait TimerClient: Send + Sync {
    /// Schedules a timer; returns its `expirationId`.
    async fn schedule(&self, ctx: &CallContext, schedule: &Schedule) -> Result<String, DownstreamError>;

    /// Aborts a timer.
    async fn abort(&self, ctx: &CallContext, expiration_id: &str) -> Result<(), DownstreamError>;

    /// Whether the Timer Service answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> Result<(), DownstreamError>;
}
