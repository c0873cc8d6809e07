//! spawn_app() and shared test support.
