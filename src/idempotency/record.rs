//! The idempotency key, one stored record (`kind: "idempotency"` in the saga collection) and the
//! rule that picks, among the records of one key, the one that counts.

use serde::Deserialize;

/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// A client's idempotency key: 1 to [`MAX_KEY_LENGTH`] visible ASCII characters (`!` to `~`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key(String);

/// Why a key was refused (the caller's message names where it came from).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// Nothing in it.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_KEY_LENGTH`].
    #[error("is {0} characters long: at most {MAX_KEY_LENGTH}")]
    TooLong(usize),
    /// A space, a control character or a byte outside ASCII.
    #[error("must be visible ASCII characters only (no spaces, no control characters)")]
    NotVisibleAscii,
}

impl Key {
    /// Checks a key as received.
    pub fn parse(raw: &[u8]) -> Result<Self, InvalidKey> {
        if raw.is_empty() {
            return Err(InvalidKey::Empty);
        }
        if !raw.iter().all(|byte| (b'!'..=b'~').contains(byte)) {
            return Err(InvalidKey::NotVisibleAscii);
        }
        if raw.len() > MAX_KEY_LENGTH {
            return Err(InvalidKey::TooLong(raw.len()));
        }
        // Visible ASCII is UTF-8.
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordState {
    /// Its request is running (or its replica died running it).
    InProgress,
    /// Its request answered; the answer is recorded.
    Done,
}

impl RecordState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "inProgress",
            Self::Done => "done",
        }
    }
}

/// One stored record, as read back.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Store id: the tie-breaker of [`winner`].
    #[serde(rename = "_id")]
    pub id: String,
    /// The [`super::Fingerprint`] of its request.
    pub request_hash: String,
    /// In progress or done.
    pub state: RecordState,
    /// When it was inserted, epoch milliseconds (the inserting replica's clock).
    pub recorded_at: i64,
    /// The status of the recorded answer (done only).
    #[serde(default)]
    pub response_status: Option<u16>,
    /// The JSON text of the recorded answer, empty for none (done only).
    #[serde(default)]
    pub response_body: Option<String>,
}

impl Record {
    /// Whether the record still counts at `now` (epoch ms): younger than `retention`, and, while
    /// in progress, younger than `in_progress_expiry` (older, its replica died or could not record
    /// the answer). Records from a clock ahead of ours count.
    pub fn is_live(&self, now: i64, retention_ms: i64, in_progress_expiry_ms: i64) -> bool {
        let age = now.saturating_sub(self.recorded_at);
        match self.state {
            RecordState::Done => age < retention_ms,
            RecordState::InProgress => age < retention_ms.min(in_progress_expiry_ms),
        }
    }
}

/// The record that counts among the live records of one key: the oldest by `(recordedAt, _id)`.
///
/// No unique index guards the key, so two first requests may both insert; each then reads the
/// records of the key, and only the one whose record is the smallest goes on. One that read
/// before the other inserted saw itself alone; the other, reading both, sees the first as smaller
/// as long as the replicas' clocks agree better than the time between an insert and a read.
pub fn winner<'a>(records: impl IntoIterator<Item = &'a Record>) -> Option<&'a Record> {
    records
        .into_iter()
        .min_by(|a, b| (a.recorded_at, &a.id).cmp(&(b.recorded_at, &b.id)))
}
