//! The job kinds this service runs: bulk change-password and bulk activation.

pub mod activation;
pub mod change_password;

use std::sync::Arc;

use super::JobHandler;
use crate::auth::AuthProvider;
use crate::config::BulkConfig;
use crate::store::Collection;

/// Every job handler, for the runner, each with its own dependencies.
pub fn all(
    users: Arc<dyn Collection>,
    auth: Arc<dyn AuthProvider>,
    bulk: &BulkConfig,
) -> Vec<Arc<dyn JobHandler>> {
    vec![
        change_password::handler(auth.clone(), bulk.change_password_rate_per_second),
        activation::handler(users, auth, bulk.job_polling_interval),
    ]
}
