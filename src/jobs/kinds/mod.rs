//! The job kinds this service runs: bulk change-password, bulk activation and reconcile.

pub mod activation;
pub mod change_password;
pub mod reconcile;

use std::sync::Arc;

use super::JobHandler;
use crate::config::{BulkConfig, ConsistencyConfig};
use crate::users::UserService;

/// Every job handler, for the runner, each with its own dependencies.
pub fn all(
    users: Arc<UserService>,
    bulk: &BulkConfig,
    consistency: &ConsistencyConfig,
) -> Vec<Arc<dyn JobHandler>> {
    let (store, auth) = (users.store.clone(), users.auth.clone());
    vec![
        change_password::handler(auth.clone(), bulk.change_password_rate_per_second),
        activation::handler(store, auth, bulk.job_polling_interval.clone()),
        reconcile::handler(
            users,
            consistency.reconcile_rate_per_second,
            consistency.recovery_grace,
        ),
    ]
}
