//! The one integration-test binary: black-box tests of the service and of its adapters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth0_adapter;
mod binary;
mod composer_flows;
mod damaged_documents;
mod embedded_mode;
mod groups_admin;
mod health_on_fakes;
mod helpers;
mod input_limits;
mod jobs_activation;
mod jobs_change_password;
mod jobs_core;
mod local_auth;
mod openapi_document;
mod operations;
mod rond_timer_adapters;
mod session;
mod store_contract;
mod store_crud_adapter;
mod users_create;
mod users_import;
mod users_lifecycle;
mod users_read;
mod users_update;
