//! Logs and metrics: a tracing layer writing Mia-Platform JSON log lines (numeric `level`,
//! `time` in ms, `reqId`, `msg`, dotted fields nested) with secrets redacted, and the
//! process-wide Prometheus recorder.

use std::io::Write;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// Field names whose values are always replaced by `[REDACTED]` (lower-cased comparison).
/// `devResetToken` is deliberately not one: the local provider logs a reset token under it only
/// when no `PASSWORD_RESET_WEBHOOK_URL` is set (development), for the developer to redeem.
const REDACTED_FIELDS: &[&str] = &[
    "password",
    "newpassword",
    "authorization",
    "cookie",
    "set-cookie",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "refresh_token",
    "client-key",
    "secret",
];

/// Installs the global subscriber writing Mia JSON lines to `writer`, at `level` and above
/// (`RUST_LOG`, when set, overrides it). Returns false if a subscriber was already installed.
pub fn init<W>(level: Level, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{},hyper=warn,reqwest=warn",
            level.as_str().to_lowercase()
        ))
    });
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(MiaJsonLayer::new(writer));
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

/// The Prometheus recorder. The `metrics` facade is process-wide by design, so the recorder is
/// installed once and every `Application` in the process (tests run many) shares its handle.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; metrics then go there.
            if metrics::set_global_recorder(recorder).is_ok() {
                register_metrics();
            }
            handle
        })
        .clone()
}

/// Counters without labels: listed at zero from startup (a labelled series appears at its first
/// event, since its label values are not known before).
const UNLABELLED_COUNTERS: [(&str, &str); 4] = [
    (
        "ums_saga_left_open_total",
        "operations whose intent was left open (a step's outcome unknown)",
    ),
    (
        "ums_saga_recovered_total",
        "intents left open and finished by the recovery worker",
    ),
    (
        "ums_saga_recovery_failures_total",
        "recovery attempts of an open intent that failed",
    ),
    (
        "ums_audit_append_failures_total",
        "audit records that could not be appended",
    ),
];

/// Describes the metrics the README lists and registers the unlabelled counters at zero, so
/// `GET /-/metrics` lists them before their first event. `increment(0)` registers without
/// changing a value (the recorder is process-wide).
fn register_metrics() {
    use metrics::{counter, describe_counter, describe_histogram, Unit};
    describe_counter!(
        "ums_http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        "ums_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request durations, by method, route and status"
    );
    describe_counter!(
        "ums_downstream_requests_total",
        "calls to downstream services, by service, method, route and status"
    );
    describe_histogram!(
        "ums_downstream_request_duration_seconds",
        Unit::Seconds,
        "downstream call durations, by service, method, route and status"
    );
    describe_counter!(
        "ums_saga_compensations_total",
        "saga steps undone after a later step failed, by operation and step"
    );
    describe_counter!(
        "ums_saga_compensation_failures_total",
        "saga compensations that failed, by operation and step"
    );
    describe_counter!("ums_reconcile_found_total", "reconciler findings, by kind");
    describe_counter!("ums_reconcile_repaired_total", "reconciler repairs, by kind");
    for (name, help) in UNLABELLED_COUNTERS {
        describe_counter!(name, help);
        counter!(name).increment(0);
    }
}

/// Mia level numbers (pino): trace 10, debug 20, info 30, warn 40, error 50.
fn level_number(level: &Level) -> u8 {
    match *level {
        Level::TRACE => 10,
        Level::DEBUG => 20,
        Level::INFO => 30,
        Level::WARN => 40,
        Level::ERROR => 50,
    }
}

/// A tracing layer that writes one Mia JSON object per event.
pub struct MiaJsonLayer<W> {
    writer: W,
    pid: u32,
    hostname: String,
}

impl<W> MiaJsonLayer<W> {
    /// A layer writing to `writer`.
    pub fn new(writer: W) -> Self {
        Self {
            writer,
            pid: std::process::id(),
            hostname: std::env::var("HOSTNAME").unwrap_or_default(),
        }
    }
}

/// Fields recorded on a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for MiaJsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert("level".into(), level_number(event.metadata().level()).into());
        line.insert("time".into(), now_millis().into());
        line.insert("pid".into(), self.pid.into());
        if !self.hostname.is_empty() {
            line.insert("hostname".into(), self.hostname.clone().into());
        }
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    for (k, v) in fields {
                        insert_dotted(&mut line, k, v.clone());
                    }
                }
            }
        }
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        for (k, v) in fields {
            let key = if k == "message" { "msg".to_owned() } else { k };
            insert_dotted(&mut line, &key, v);
        }
        if !line.contains_key("msg") {
            line.insert("msg".into(), event.metadata().name().into());
        }
        let mut writer = self.writer.make_writer();
        if let Ok(mut bytes) = serde_json::to_vec(&Value::Object(line)) {
            bytes.push(b'\n');
            let _ = writer.write_all(&bytes);
        }
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Inserts `http.response.statusCode` as `{"http":{"response":{"statusCode":..}}}`.
fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut current = map;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        current = next;
    }
}

/// True for field names that carry secrets.
pub fn is_secret_field(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    REDACTED_FIELDS.contains(&last.as_str())
}

/// Starts the `Debug` text of a [`JsonField`], for the visitor to tell it from any other.
const JSON_MARKER: &str = "\u{1}json:";

/// A field value logged as JSON (an array, an object), not as text:
/// `tracing::info!(inserted = ?telemetry::json_field(&names), "...")`.
pub struct JsonField(Value);

/// `value` as a [`JsonField`] (`null` if it does not serialize).
pub fn json_field(value: impl serde::Serialize) -> JsonField {
    JsonField(serde_json::to_value(value).unwrap_or_default())
}

impl std::fmt::Debug for JsonField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{JSON_MARKER}{}", self.0)
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let value = if is_secret_field(field.name()) {
            Value::String("[REDACTED]".into())
        } else {
            value
        };
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        let json = text
            .strip_prefix(JSON_MARKER)
            .and_then(|j| serde_json::from_str(j).ok());
        self.put(field, json.unwrap_or(Value::String(text)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(f: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(MiaJsonLayer::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_follow_the_mia_format_with_span_fields_and_nesting() {
        let lines = capture(|| {
            let span = tracing::info_span!("request", reqId = "r-1");
            let _guard = span.enter();
            tracing::info!(
                http.response.statusCode = 200_u64,
                responseTime = 1.5,
                "request completed"
            );
        });
        let line = &lines[0];
        assert_eq!(line["level"], 30);
        assert!(line["time"].as_u64().unwrap() > 1_600_000_000_000);
        assert_eq!(line["reqId"], "r-1");
        assert_eq!(line["msg"], "request completed");
        assert_eq!(line["http"]["response"]["statusCode"], 200);
        assert_eq!(line["responseTime"], 1.5);
    }

    #[test]
    fn secret_fields_are_redacted() {
        let lines = capture(|| {
            tracing::warn!(
                password = "hunter2",
                authorization = "Bearer abc",
                user = "ann",
                "login failed"
            );
        });
        let text = lines[0].to_string();
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("Bearer abc"));
        assert_eq!(lines[0]["password"], "[REDACTED]");
        assert_eq!(lines[0]["user"], "ann");
        assert_eq!(lines[0]["level"], 40);
    }
}
