//! The winner rule, the key rules, and the record lifecycle on an in-memory embedded collection
//! with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::clock::ManualClock;
use crate::store::embedded::EmbeddedDb;

fn record(id: &str, recorded_at: i64, state: RecordState) -> Record {
    Record {
        id: id.to_owned(),
        request_hash: "h".into(),
        state,
        recorded_at,
        response_status: None,
        response_body: None,
    }
}

#[test]
fn the_oldest_record_wins_and_the_id_breaks_ties() {
    let a = record("b0", 100, RecordState::InProgress);
    let b = record("a0", 101, RecordState::Done);
    let c = record("a9", 100, RecordState::InProgress);
    assert_eq!(winner([&a, &b]).map(|r| r.id.as_str()), Some("b0"));
    assert_eq!(winner([&b, &a, &c]).map(|r| r.id.as_str()), Some("a9"));
    assert_eq!(winner([&b]).map(|r| r.id.as_str()), Some("a0"));
    assert!(winner(std::iter::empty::<&Record>()).is_none());
}

#[test]
fn a_record_counts_for_a_day_and_in_progress_for_ten_minutes() {
    let (day, ten_minutes) = (millis(RETENTION), millis(IN_PROGRESS_EXPIRY));
    let done = record("d", 0, RecordState::Done);
    assert!(done.is_live(day - 1, day, ten_minutes));
    assert!(!done.is_live(day, day, ten_minutes));
    let running = record("r", 0, RecordState::InProgress);
    assert!(running.is_live(ten_minutes - 1, day, ten_minutes));
    assert!(!running.is_live(ten_minutes, day, ten_minutes));
    // From a clock ahead of ours.
    assert!(running.is_live(-5_000, day, ten_minutes));
}

#[test]
fn keys_are_1_to_255_visible_ascii_characters() {
    assert_eq!(Key::parse(b"a").map(|k| k.as_str().to_owned()), Ok("a".into()));
    assert!(Key::parse("~!{}[]".as_bytes()).is_ok());
    assert!(Key::parse(&[b'k'; 255]).is_ok());
    assert_eq!(Key::parse(&[b'k'; 256]), Err(InvalidKey::TooLong(256)));
    assert_eq!(Key::parse(b""), Err(InvalidKey::Empty));
    for bad in [&b"a b"[..], b"a\tb", "é".as_bytes(), b"\x7f"] {
        assert_eq!(Key::parse(bad), Err(InvalidKey::NotVisibleAscii), "{bad:?}");
    }
}

struct Setup {
    records: Arc<dyn Collection>,
    clock: Arc<ManualClock>,
    service: Idempotency,
    ctx: CallContext,
}

fn setup() -> Setup {
    let db = EmbeddedDb::in_memory().unwrap();
    let records = db
        .collection("/sagas", &[], &["kind", "userId"], DocState::Draft, "miauserid")
        .unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 10:00:00 UTC)));
    let service = Idempotency::new(records.clone(), clock.clone());
    Setup {
        records,
        clock,
        service,
        ctx: CallContext::background("test"),
    }
}

impl Setup {
    async fn stored(&self) -> Vec<Value> {
        let query = FindQuery {
            filter: Filter::any_state(),
            ..FindQuery::default()
        };
        let mut docs = self.records.find(&self.ctx, &query).await.unwrap();
        // The sweep of `begin` may still run: only records of the test matter.
        docs.retain(|doc| doc["kind"] == KIND);
        docs
    }

    async fn begin(&self, key: &str, body: &str) -> Begin {
        let key = Key::parse(key.as_bytes()).unwrap();
        let fingerprint = Fingerprint::of("POST", "/users/", None, body.as_bytes());
        self.service.begin(&self.ctx, &key, &fingerprint).await.unwrap()
    }

    /// Inserts the record of another replica's request.
    async fn other(&self, key: &str, body: &str, recorded_at: i64) -> String {
        let hash = Fingerprint::of("POST", "/users/", None, body.as_bytes());
        let doc = json!({"kind": KIND, "key": key, "requestHash": hash.as_str(), "state": "inProgress",
            "recordedAt": recorded_at, "__STATE__": "PUBLIC"});
        self.records.insert(&self.ctx, &doc).await.unwrap()
    }

    fn now(&self) -> i64 {
        self.service.now_millis()
    }
}

fn fresh(begin: Begin) -> Ticket {
    match begin {
        Begin::Fresh(ticket) => ticket,
        other => panic!("expected a fresh key, got {other:?}"),
    }
}

#[tokio::test]
async fn a_finished_request_is_replayed_and_another_body_is_a_mismatch() {
    let s = setup();
    let ticket = fresh(s.begin("k1", r#"{"a":1}"#).await);
    assert!(matches!(s.begin("k1", r#"{"a":1}"#).await, Begin::InProgress));
    assert_eq!(s.stored().await.len(), 1, "the loser deletes its own record");

    assert!(ticket.finish(&s.ctx, 200, r#"{"_id":"u1"}"#).await.unwrap());
    let stored = s.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            &stored[0]["state"],
            &stored[0]["responseStatus"],
            &stored[0]["key"]
        ),
        (&json!("done"), &json!(200), &json!("k1"))
    );
    assert!(stored[0].get("a").is_none(), "the body is never stored");

    match s.begin("k1", r#"{ "a" : 1 }"#).await {
        Begin::Replay(recorded) => assert_eq!(
            recorded,
            Recorded {
                status: 200,
                body: r#"{"_id":"u1"}"#.into()
            }
        ),
        other => panic!("expected a replay, got {other:?}"),
    }
    assert!(matches!(s.begin("k1", r#"{"a":2}"#).await, Begin::Mismatch));
    assert_eq!(s.stored().await.len(), 1);
    // Another key is another request.
    fresh(s.begin("k2", r#"{"a":2}"#).await);
}

#[tokio::test]
async fn of_two_first_requests_only_the_oldest_record_goes_on() {
    let s = setup();
    let now = s.now();
    // Another replica inserted a moment earlier and has not decided yet: it wins, we wait.
    s.other("k", "{}", now - 5).await;
    assert!(matches!(s.begin("k", "{}").await, Begin::InProgress));
    assert_eq!(s.stored().await.len(), 1);

    // Another replica inserted after us (it read both and will give way): we go on.
    let s = setup();
    s.other("k", "{}", s.now() + 5).await;
    fresh(s.begin("k", "{}").await);
    assert_eq!(s.stored().await.len(), 2);

    // The earlier one is another request: the key was used for it.
    let s = setup();
    s.other("k", r#"{"x":1}"#, s.now() - 5).await;
    assert!(matches!(s.begin("k", "{}").await, Begin::Mismatch));
}

#[tokio::test]
async fn an_abandoned_key_runs_again() {
    let s = setup();
    fresh(s.begin("k", "{}").await).abandon(&s.ctx).await.unwrap();
    assert!(s.stored().await.is_empty());
    fresh(s.begin("k", "{}").await);
}

#[tokio::test]
async fn a_day_old_answer_and_a_stale_in_progress_record_are_ignored_and_deleted() {
    let s = setup();
    let ticket = fresh(s.begin("k", "{}").await);
    assert!(ticket.finish(&s.ctx, 201, "{}").await.unwrap());
    s.clock.advance(RETENTION - Duration::from_secs(1));
    assert!(matches!(s.begin("k", "{}").await, Begin::Replay(_)));
    s.clock.advance(Duration::from_secs(1));
    let ticket = fresh(s.begin("k", r#"{"other":true}"#).await);
    assert_eq!(s.stored().await.len(), 1, "the expired record is deleted");

    // Its replica died: after IN_PROGRESS_EXPIRY the key is free, and the late finish finds
    // its record gone.
    s.clock.advance(IN_PROGRESS_EXPIRY);
    let next = fresh(s.begin("k", "{}").await);
    assert!(!ticket.finish(&s.ctx, 200, "{}").await.unwrap());
    assert_eq!(s.stored().await.len(), 1);
    assert!(next.finish(&s.ctx, 200, "{}").await.unwrap());
}

#[tokio::test]
async fn a_sweep_deletes_the_expired_records_of_keys_never_sent_again() {
    let s = setup();
    s.other("old", "{}", s.now() - millis(RETENTION) - 1).await;
    s.other("recent", "{}", s.now() - 1).await;
    fresh(s.begin("k", "{}").await);
    for _ in 0..50 {
        if s.stored().await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let keys: Vec<Value> = s
        .stored()
        .await
        .into_iter()
        .map(|doc| doc["key"].clone())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(!keys.contains(&json!("old")), "{keys:?}");
}
