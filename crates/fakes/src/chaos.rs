//! Random fault injection shared by both fakes: a seeded picker of five fault kinds, the
//! middleware that applies them to data routes and answers the `/-/faults` admin route, and the
//! connection-owning server that can close a connection before any response.
//!
//! Settings: at start ([`RandomFaults`], the binaries' `--fault-rate`, `--fault-delay-ms`,
//! `--fault-seed`, `--fault-kinds`) and at runtime with `PUT /-/faults`
//! `{"rate": 0.1, "delayMs": 1500, "kinds": ["dropAfter"], "seed": 42}` (every field optional,
//! absent ones unchanged, `kinds: []` = all five, rate 0 = off). `GET /-/faults` answers the
//! settings and the injected faults by kind:
//! `{"rate","delayMs","kinds","injected":{"failBefore",...},"requests"}`. Routes under `/-/` are
//! never faulted nor counted.

mod layer;
mod picker;
mod serve;

pub use picker::{Chaos, FaultKind, FaultStats, RandomFaults, FAULT_FLAGS_USAGE};

pub(crate) use layer::layer;
pub(crate) use serve::serve;
