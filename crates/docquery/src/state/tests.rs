//! Tests of the `__STATE__` machine.

use crate::{bulk_sources, transition_allowed, State};

use State::{Deleted, Draft, Public, Trash};

#[test]
fn parse_and_names() {
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(State::parse("public"), None);
    assert_eq!(State::parse("ARCHIVED"), None);
    assert_eq!(Trash.as_str(), "TRASH");
}

#[test]
fn full_transition_table() {
    // (from, to, allowed) for all 16 pairs, as in contract §4 (same state allowed).
    let table = [
        (Public, Public, true),
        (Public, Draft, true),
        (Public, Trash, true),
        (Public, Deleted, false),
        (Draft, Public, true),
        (Draft, Draft, true),
        (Draft, Trash, true),
        (Draft, Deleted, false),
        (Trash, Public, false),
        (Trash, Draft, true),
        (Trash, Trash, true),
        (Trash, Deleted, true),
        (Deleted, Public, false),
        (Deleted, Draft, false),
        (Deleted, Trash, true),
        (Deleted, Deleted, true),
    ];
    assert_eq!(table.len(), 16);
    for (from, to, allowed) in table {
        assert_eq!(transition_allowed(Some(from), to), allowed, "{from} -> {to}");
    }
}

#[test]
fn no_state_goes_anywhere() {
    for to in State::ALL {
        assert!(transition_allowed(None, to), "None -> {to}");
    }
}

#[test]
fn bulk_source_states() {
    assert_eq!(bulk_sources(Public), &[Draft]);
    assert_eq!(bulk_sources(Draft), &[Public, Trash]);
    assert_eq!(bulk_sources(Trash), &[Public, Draft, Deleted]);
    assert_eq!(bulk_sources(Deleted), &[Trash]);
    for to in State::ALL {
        assert!(!bulk_sources(to).contains(&to), "{to} is never its own source");
    }
}
