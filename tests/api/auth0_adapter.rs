//! Tests: auth0_adapter
