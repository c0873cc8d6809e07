//! The job kinds this service runs: bulk change-password and bulk activation.

pub mod activation;
pub mod change_password;

use std::sync::Arc;

use super::JobHandler;

/// Every job handler, for the runner.
pub fn all() -> Vec<Arc<dyn JobHandler>> {
    let mut handlers: Vec<Arc<dyn JobHandler>> = Vec::new();
    handlers.extend(change_password::handler());
    handlers.extend(activation::handler());
    handlers
}
