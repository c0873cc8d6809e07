//! Tests: rond_timer_adapters
