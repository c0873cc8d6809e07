//! Tests: store_crud_adapter
