//! Reading users (SPEC §5; contracts/crud-service.md §1, §2, §8): list, count, export and one
//! user, as the user store answers them; the list is enriched with auth-provider fields when
//! `CONFIGURATION_PATH` is set.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::Value;

use crate::config::Enrichment;
use crate::context::{Acl, CallContext};
use crate::store::{ExportStream, Filter, FindQuery};
use crate::users::{auth_user_id, UserError, UserResult, UserService};

/// A page of users: the store's own JSON array when nothing is added to it (passed through
/// without a parse), else the enriched users.
pub enum Listing {
    /// The store's JSON array, untouched.
    Raw(Bytes),
    /// The users with their auth-provider fields.
    Enriched(Vec<Value>),
}

/// The users matching `query`.
pub async fn list(svc: &UserService, ctx: &CallContext, query: &FindQuery) -> UserResult<Listing> {
    let Some(enrichment) = &svc.policy.enrichment else {
        return Ok(Listing::Raw(svc.store.find_raw(ctx, query).await?));
    };
    let mut users = svc.store.find(ctx, query).await?;
    enrich(svc, ctx, enrichment, &mut users).await?;
    Ok(Listing::Enriched(users))
}

/// How many users match `filter`; `estimate` counts the whole collection, fast.
pub async fn count(svc: &UserService, ctx: &CallContext, filter: &Filter, estimate: bool) -> UserResult<u64> {
    Ok(svc.store.count(ctx, filter, estimate).await?)
}

/// Every user matching `query`, streamed as NDJSON.
pub async fn export(svc: &UserService, ctx: &CallContext, query: &FindQuery) -> UserResult<ExportStream> {
    Ok(svc.store.export(ctx, query).await?)
}

/// The user `id` matching `filter`, or `NotFound`.
pub async fn get(svc: &UserService, ctx: &CallContext, id: &str, filter: &Filter) -> UserResult<Value> {
    let user = svc.store.get(ctx, id, filter).await?;
    user.ok_or_else(|| UserError::NotFound(format!("user \"{id}\" not found")))
}

/// The user `id` matching `query`'s filter, with only the fields of its projection (`_p` or
/// `_rawp`), read as the CRUD list reads it (`_id` = `id`, one document); 404 when none.
pub async fn get_projected(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    query: FindQuery,
) -> UserResult<Value> {
    let query = FindQuery {
        filter: Filter {
            id: Some(id.to_owned()),
            ..query.filter
        },
        sort: None,
        limit: Some(1),
        skip: None,
        ..query
    };
    let found = svc.store.find(ctx, &query).await?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| UserError::NotFound(format!("user \"{id}\" not found")))
}

/// Adds the auth-provider fields listed in `enrichment` to each user that has an `authUserId`,
/// with one batched auth-provider lookup for the whole page. A failed lookup fails the request:
/// half-enriched users are never returned.
async fn enrich(
    svc: &UserService,
    ctx: &CallContext,
    enrichment: &Enrichment,
    users: &mut [Value],
) -> UserResult<()> {
    let mut ids: Vec<String> = users.iter().filter_map(auth_user_id).map(str::to_owned).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    // ACL headers are meant for the store only.
    let auth_ctx = CallContext {
        acl: Acl::default(),
        ..ctx.clone()
    };
    let auth_users = svc.auth.get_users(&auth_ctx, &ids).await?;
    let by_id: HashMap<&str, &Value> = auth_users
        .iter()
        .filter_map(|u| Some((u.raw.get(&enrichment.user_id)?.as_str()?, &u.raw)))
        .collect();
    for user in users.iter_mut() {
        let Some(raw) = auth_user_id(user).and_then(|id| by_id.get(id)) else {
            continue;
        };
        let Some(fields) = user.as_object_mut() else {
            continue;
        };
        for name in &enrichment.additional_properties {
            if let Some(value) = raw.get(name) {
                fields.insert(name.clone(), value.clone());
            }
        }
    }
    Ok(())
}
