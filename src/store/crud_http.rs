//! The CRUD Service adapter of the `Collection` port: one collection path on one CRUD Service.
