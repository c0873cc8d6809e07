//! Unit tests of the fault picker.

use super::*;

#[test]
fn off_never_picks_and_counts_requests() {
    let chaos = Chaos::new("t", &RandomFaults::default());
    assert!((0..100).all(|_| chaos.pick("GET", "/users").is_none()));
    assert_eq!(chaos.stats().requests, 100);
}

#[test]
fn same_seed_same_sequence_and_every_kind_appears() {
    let settings = RandomFaults::rate(0.5).with_seed(42);
    let (a, b) = (Chaos::new("a", &settings), Chaos::new("b", &settings));
    let picks_a: Vec<_> = (0..500).map(|_| a.pick("GET", "/users")).collect();
    let picks_b: Vec<_> = (0..500).map(|_| b.pick("GET", "/users")).collect();
    assert_eq!(picks_a, picks_b);
    let stats = a.stats();
    assert!(
        FaultKind::ALL.iter().all(|k| stats.injected_of(*k) > 0),
        "{stats:?}"
    );
    let total: u64 = FaultKind::ALL.iter().map(|k| stats.injected_of(*k)).sum();
    assert!((150..350).contains(&total), "{total}");
}

#[test]
fn forced_kind_and_rate_one() {
    let chaos = Chaos::new("t", &RandomFaults::rate(1.0).with_kinds(&[FaultKind::DropAfter]));
    assert!((0..20).all(|_| matches!(chaos.pick("GET", "/users"), Some((FaultKind::DropAfter, _)))));
    chaos.update(Some(0.0), None, None, None);
    assert!(chaos.pick("GET", "/users").is_none());
    assert_eq!(chaos.stats().injected_of(FaultKind::DropAfter), 20);
    assert_eq!(FaultKind::parse("dropBefore"), Some(FaultKind::DropBefore));
}

#[test]
fn a_forced_fault_hits_only_matching_requests_and_only_as_often_as_asked() {
    let chaos = Chaos::new("test", &RandomFaults::default());
    chaos.force_next("POST", "/users", FaultKind::DropAfter, 1);
    assert!(chaos.pick("GET", "/users/1").is_none(), "another method");
    assert!(chaos.pick("POST", "/jobs/").is_none(), "another path");
    assert!(matches!(
        chaos.pick("POST", "/users/"),
        Some((FaultKind::DropAfter, _))
    ));
    assert!(chaos.pick("POST", "/users/").is_none(), "once only");
    assert_eq!(chaos.stats().injected_of(FaultKind::DropAfter), 1);
}
