//! `DELETE /users/` (the CRUD's delete-many): every user matching the caller's filter deleted as
//! `DELETE /users/:id` deletes one — auth user, Rönd bindings, store document, expiry timer —
//! page by page, a few users at a time.

use std::collections::HashSet;

use futures::StreamExt;
use serde_json::Value;

use super::delete_read;
use crate::context::CallContext;
use crate::store::{Filter, FindQuery};
use crate::users::{doc_id, UserError, UserResult, UserService};

/// Users read per page.
const PAGE: u32 = 200;

/// Users deleted at the same time.
const CONCURRENCY: usize = 4;

/// Deletes every user matching `filter` (`_q`, `_st` — PUBLIC by default —, field filters, and
/// the caller's `acl_rows`); returns how many. Pages are read again from the start after each
/// one is deleted (deleted users no longer match), at most [`CONCURRENCY`] users at a time. The
/// first user whose delete fails stops the operation once the users in flight are done: the
/// users already deleted stay deleted, that user is left as a failed `DELETE /users/:id` leaves
/// it (its intent open for the recovery worker when a step may have applied), and the error says
/// how many were deleted and which user failed on what.
pub async fn delete_many(svc: &UserService, ctx: &CallContext, filter: &Filter) -> UserResult<u64> {
    let mut done: u64 = 0;
    let mut deleted: HashSet<String> = HashSet::new();
    loop {
        let query = FindQuery {
            filter: filter.clone(),
            sort: Some("_id".to_owned()),
            limit: Some(PAGE),
            ..FindQuery::default()
        };
        let page = svc.store.find(&ctx.internal(), &query).await?;
        // A user still matched after its delete succeeded (a concurrent re-create with the same
        // id, a store that lags) is not deleted twice, and cannot loop this forever.
        let users: Vec<(String, Value)> = page
            .into_iter()
            .filter_map(|user| Some((doc_id(&user)?.to_owned(), user)))
            .filter(|(id, _)| !deleted.contains(id))
            .collect();
        if users.is_empty() {
            return Ok(done);
        }
        let outcomes: Vec<(String, UserResult<()>)> = futures::stream::iter(users)
            .map(|(id, user)| async move {
                let outcome = delete_read(svc, ctx, &id, &user).await;
                (id, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut failed = None;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => {
                    done += 1;
                    deleted.insert(id);
                }
                Err(error) => {
                    failed.get_or_insert((id, error));
                }
            }
        }
        if let Some((user, source)) = failed {
            return Err(UserError::Stopped {
                done,
                verb: "deleted",
                user,
                source: Box::new(source),
            });
        }
    }
}
