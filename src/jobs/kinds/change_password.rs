//! Placeholder of the `change_password` job kind.

use std::sync::Arc;

use crate::jobs::JobHandler;

/// The handler of this kind (none yet).
pub fn handler() -> Option<Arc<dyn JobHandler>> {
    None
}
