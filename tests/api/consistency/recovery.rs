//! Recovery of sagas left open, end to end on the fakes.
