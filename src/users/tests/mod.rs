//! Unit tests of the user sagas against in-memory fakes of the four ports (no HTTP): the order of
//! the steps and compensations in one call journal, and the end state of every fake.

mod create;
mod fakes;
mod harness;
mod lifecycle;
mod link;
mod outside;
mod recovery;
mod state;
mod update;

use serde_json::{Map, Value};

/// A JSON object as a request body.
fn body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Journal entries as owned strings, to compare with `Harness::journal()`.
fn journal(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|e| (*e).to_owned()).collect()
}
