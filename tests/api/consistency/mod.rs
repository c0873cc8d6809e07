//! Keeping the two systems consistent, black-box on the fakes: the reconcile job (findings by
//! kind, repairs, users it must not touch) and the recovery of sagas left open.

mod reconcile;
mod recovery;
