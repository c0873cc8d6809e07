//! Keeps the user store indexed on the fields the group schemas declare: after each load of the
//! groups that changes the set, the store is asked (in the background) to index exactly it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::Group;
use crate::store::Collection;

/// Asks the user store to index the declared fields when they change.
pub struct FieldIndexer {
    users: Arc<dyn Collection>,
    /// The set last asked for.
    last: Mutex<Option<Vec<String>>>,
}

impl FieldIndexer {
    /// An indexer of `users`.
    pub fn new(users: Arc<dyn Collection>) -> Self {
        Self {
            users,
            last: Mutex::new(None),
        }
    }

    /// The union of the fields `groups` declare, sorted.
    pub fn declared_fields<'g>(groups: impl IntoIterator<Item = &'g Arc<Group>>) -> Vec<String> {
        let fields: BTreeSet<String> = groups.into_iter().flat_map(|g| g.declared_fields()).collect();
        fields.into_iter().collect()
    }

    /// Asks the store to index `fields` when they differ from the last set asked for; the work
    /// runs in the background and its outcome is logged.
    pub fn sync(self: &Arc<Self>, fields: Vec<String>) {
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.as_ref() == Some(&fields) {
                return;
            }
            *last = Some(fields.clone());
        }
        let indexer = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = indexer.users.index_fields(&fields).await {
                tracing::warn!(error.message = %error, "indexing the fields of the group schemas failed: queries on them scan");
                // The next load of the groups tries again.
                *indexer.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
            }
        });
    }
}
