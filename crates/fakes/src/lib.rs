//! Stateful fakes of the Mia-Platform CRUD Service and Auth0 Client, following
//! `shared/contracts/`. Test support: used by the integration tests, the benchmarks and the demo;
//! never part of the shipped service.

pub mod auth0;
pub mod chaos;
pub mod crud;
