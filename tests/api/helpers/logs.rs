//! The captured log lines of the whole test binary: one tracing subscriber, installed by the
//! first app a test starts, writing into a buffer the tests read (and to stdout with `TEST_LOG=1`).

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Every log line the services of this test binary wrote (and stdout too with `TEST_LOG=1`).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(buf)?;
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static LOGS: LazyLock<LogBuffer> = LazyLock::new(|| {
    let buffer = LogBuffer::default();
    user_manager_service::telemetry::init(tracing::Level::TRACE, buffer.clone());
    buffer
});

/// Installs the subscriber (once per test binary) before a service starts.
pub(super) fn install() {
    LazyLock::force(&LOGS);
}

/// The log lines written so far, parsed.
pub fn captured_logs() -> Vec<serde_json::Value> {
    let bytes = LOGS.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The raw log text written so far.
pub fn captured_log_text() -> String {
    String::from_utf8_lossy(&LOGS.0.lock().unwrap()).into_owned()
}
