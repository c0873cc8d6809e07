//! The `TimerClient` port and its Timer Service adapter: one-shot callbacks at a date
//! (contracts/peers.md §4).

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

use crate::context::CallContext;
use crate::downstream::{read_json, send, Endpoint, Failure};

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
    async fn schedule(&self, ctx: &CallContext, schedule: &Schedule) -> Result<String, Failure>;

    /// Aborts a timer.
    async fn abort(&self, ctx: &CallContext, expiration_id: &str) -> Result<(), Failure>;

    /// Whether the Timer Service answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> Result<(), Failure>;
}

/// Service name in errors, logs and metrics.
const TIMER: &str = "Timer Service";
/// `applicantService` of every schedule.
const APPLICANT: &str = "user-manager-service";

/// The `TimerClient` backed by the Mia-Platform Timer Service.
#[derive(Clone, Debug)]
pub struct TimerServiceClient {
    endpoint: Endpoint,
}

/// `POST /schedule` answer.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleWire {
    expiration_id: String,
}

impl TimerServiceClient {
    /// An adapter for the Timer Service at `base_url` (e.g. `http://timer-service`; a trailing
    /// slash is ignored), sending its calls through `client`.
    pub fn new(client: reqwest::Client, base_url: impl Into<String>) -> Self {
        Self {
            endpoint: Endpoint::new(client, TIMER, base_url),
        }
    }
}

/// `fire_at` in UTC as `2024-01-01T10:00:00.000Z`.
fn start_date(fire_at: time::OffsetDateTime) -> String {
    let at = fire_at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// The `POST /schedule` body: fires at `startDate` (interval 0) with a REST `POST` callback.
fn schedule_body(schedule: &Schedule) -> Value {
    let callback = &schedule.callback;
    let headers: serde_json::Map<String, Value> = callback
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
        .collect();
    serde_json::json!({
        "payload": schedule.payload,
        "startDate": start_date(schedule.fire_at),
        "expirationIntervalMs": 0,
        "applicantService": APPLICANT,
        "outputMode": {
            "type": "rest",
            "method": "post",
            "protocol": callback.protocol,
            "hostname": callback.hostname,
            "port": callback.port,
            "path": callback.path,
            "headers": headers,
        },
    })
}

#[async_trait]
impl TimerClient for TimerServiceClient {
    async fn schedule(&self, ctx: &CallContext, schedule: &Schedule) -> Result<String, Failure> {
        let (call, builder) = self.endpoint.start(ctx, Method::POST, "/schedule", "/schedule");
        let response = send(&call, builder.json(&schedule_body(schedule))).await?;
        read_json::<ScheduleWire>(&call, response)
            .await
            .map(|s| s.expiration_id)
    }

    async fn abort(&self, ctx: &CallContext, expiration_id: &str) -> Result<(), Failure> {
        let (call, builder) = self.endpoint.start(ctx, Method::POST, "/abort", "/abort");
        let body = serde_json::json!({ "expirationId": expiration_id });
        send(&call, builder.json(&body)).await.map(drop)
    }

    async fn check(&self, ctx: &CallContext) -> Result<(), Failure> {
        let (call, builder) = self.endpoint.start(ctx, Method::GET, "/-/healthz", "/-/healthz");
        send(&call, builder).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::start_date;

    #[test]
    fn start_dates_are_utc_with_milliseconds() {
        let at = time::macros::datetime!(2024-01-01 11:00:00.5 +01:00);
        assert_eq!(start_date(at), "2024-01-01T10:00:00.500Z");
    }
}
