//! PATCH routes (by id as compare-and-set, many, bulk) and upsert-one, over the docquery update
//! operators (contract §1, §3).

use docquery::{is_noop, split_update, State};
use serde_json::{json, Map, Value};

use super::query::{self, Matcher};
use super::respond::{ok_json, ApiError, ApiResult};
use super::routes::Req;
use super::store::Collection;
use super::write;
use super::writes::{body_array, body_json, insert_new, now_iso, touch, user_id};

/// Checks an update body the way the CRUD schema does; `$setOnInsert` only with `upsert`.
pub(crate) fn check_update(update: &Value, at: &str, upsert: bool, now: &str) -> Result<(), ApiError> {
    docquery::check_update(update, at, upsert, now).map_err(|e| ApiError::bad_request(e.0))
}

/// Whether `update` uses a positional `$set` (`arr.$.replace`, `arr.$.merge`).
fn has_positional(update: &Value) -> bool {
    update
        .get("$set")
        .and_then(Value::as_object)
        .is_some_and(|fields| fields.keys().any(|k| k.contains(".$")))
}

/// `doc` after `update`, with `updaterId`/`updatedAt` set. Positional operators resolve against
/// `filter` (the request's `_q`, field filters and `acl_rows`). An operator failing on this
/// document is a 500, as when MongoDB rejects it.
fn updated(
    doc: &Value,
    update: &Value,
    user: &str,
    now: &str,
    filter: Option<&Value>,
) -> Result<Value, ApiError> {
    let mut doc = doc.clone();
    if !is_noop(update) {
        let result = match filter {
            Some(filter) if has_positional(update) => {
                docquery::apply_update_with_filter(&mut doc, update, now, filter)
            }
            _ => docquery::apply_update(&mut doc, update, now),
        };
        result.map_err(|e| ApiError::internal(e.0))?;
    }
    touch(&mut doc, user, now);
    Ok(doc)
}

/// Applies `update` to the stored document `id`; a unique violation is a 500 (the CRUD Service
/// maps E11000 to 409 only on inserts).
fn patch_stored(
    req: &Req,
    coll: &mut Collection,
    id: &str,
    update: &Value,
    (user, now): (&str, &str),
    filter: Option<&Value>,
) -> Result<Value, ApiError> {
    let doc = coll.get(id).ok_or(ApiError::NotFound)?;
    let new = updated(doc, update, user, now, filter)?;
    coll.replace(id, new.clone())
        .map_err(|dup| ApiError::internal(dup.message(&req.cell.path)))?;
    Ok(new)
}

/// `PATCH /:id`: compare-and-set on id + `_q` + field filters + `acl_rows` + `_st`.
pub(crate) fn patch_one(req: &Req, id: &str) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::ONE, Some(id.to_owned()))?;
    let (user, now) = (user_id(req), now_iso());
    let update = body_json(req)?;
    check_update(&update, "body", false, &now)?;
    let mut coll = write(&req.cell.data);
    let ids = q.matcher.select_ids(&coll, Some(1))?;
    let id = ids.first().ok_or(ApiError::NotFound)?;
    let new = patch_stored(req, &mut coll, id, &update, (&user, &now), q.matcher.filter())?;
    drop(coll);
    ok_json(&q.projection.apply(&new))
}

/// `PATCH /`: the number of updated documents.
pub(crate) fn patch_many(req: &Req) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::MANY, None)?;
    let (user, now) = (user_id(req), now_iso());
    let update = body_json(req)?;
    check_update(&update, "body", false, &now)?;
    let mut coll = write(&req.cell.data);
    let ids = q.matcher.select_ids(&coll, None)?;
    for id in &ids {
        patch_stored(req, &mut coll, id, &update, (&user, &now), q.matcher.filter())?;
    }
    ok_json(&ids.len())
}

/// The `filter` of a bulk item: `_id`, field equalities and, with `full`, `_st` and `_q`.
pub(crate) fn bulk_filter(
    filter: Option<&Value>,
    at: &str,
    acl: &[Value],
    full: bool,
) -> Result<Matcher, ApiError> {
    let obj = filter
        .ok_or_else(|| ApiError::bad_request(format!("{at} must have required property 'filter'")))?
        .as_object()
        .ok_or_else(|| ApiError::bad_request(format!("{at}/filter must be object")))?;
    let mut parts = acl.to_vec();
    let (mut id, mut states) = (None, Some(vec![State::Public]));
    let must_be_string = |k: &str| ApiError::bad_request(format!("{at}/filter/{k} must be string"));
    for (key, value) in obj {
        match key.as_str() {
            "_id" => id = Some(value.as_str().ok_or_else(|| must_be_string("_id"))?.to_owned()),
            "_st" if full => {
                let text = value.as_str().ok_or_else(|| must_be_string("_st"))?;
                states = Some(query::parse_states(text)?);
            }
            "_q" if full => parts.push(match value {
                Value::String(text) => query::parse_filter_json(text, "_q")?,
                other => {
                    query::check_filter(other)?;
                    other.clone()
                }
            }),
            k if k.starts_with('_') || k.contains('$') => {
                return Err(ApiError::bad_request(format!(
                    "{at}/filter must NOT have additional properties. Property \"{k}\" is not defined"
                )))
            }
            k => parts.push(json!({ k: value })),
        }
    }
    Ok(Matcher::new(states, id, parts))
}

/// `PATCH /bulk`: `[{filter, update}]`, each an update-one; the total number updated.
pub(crate) fn patch_bulk(req: &Req) -> ApiResult {
    query::parse(req.query, req.headers, query::NONE, None)?;
    let acl = query::acl_rows(req.headers)?;
    let (user, now) = (user_id(req), now_iso());
    let mut items = Vec::new();
    for (i, item) in body_array(req)?.into_iter().enumerate() {
        let at = format!("body/{i}");
        let obj = item
            .as_object()
            .ok_or_else(|| ApiError::bad_request(format!("{at} must be object")))?;
        let update = obj
            .get("update")
            .ok_or_else(|| ApiError::bad_request(format!("{at} must have required property 'update'")))?;
        check_update(update, &format!("{at}/update"), false, &now)?;
        items.push((bulk_filter(obj.get("filter"), &at, &acl, true)?, update.clone()));
    }
    let mut coll = write(&req.cell.data);
    let (mut modified, mut first_error) = (0usize, None);
    for (matcher, update) in &items {
        // An unordered bulk write: every item runs, the first error is reported at the end.
        let result = matcher
            .select_ids(&coll, Some(1))
            .and_then(|ids| match ids.first() {
                Some(id) => {
                    patch_stored(req, &mut coll, id, update, (&user, &now), matcher.filter()).map(|_| 1)
                }
                None => Ok(0),
            });
        match result {
            Ok(n) => modified += n,
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => ok_json(&modified),
    }
}

/// `POST /upsert-one`: updates the first match, or inserts a document seeded from the filter's
/// equalities with the collection's default state.
pub(crate) fn upsert_one(req: &Req) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::MANY, None)?;
    let (user, now) = (user_id(req), now_iso());
    let update = body_json(req)?;
    check_update(&update, "body", true, &now)?;
    let (main, on_insert) = split_update(&update);
    let mut coll = write(&req.cell.data);
    if let Some(id) = q.matcher.select_ids(&coll, Some(1))?.first() {
        let new = patch_stored(req, &mut coll, id, &main, (&user, &now), q.matcher.filter())?;
        return ok_json(&q.projection.apply(&new));
    }
    let mut seed = Map::new();
    let mut given_id = None;
    for (field, value) in q.matcher.equalities() {
        match field.as_str() {
            "_id" => given_id = value.as_str().map(str::to_owned),
            _ => {
                seed.insert(field.clone(), value.clone());
            }
        }
    }
    let mut doc = json!({ "_id": given_id });
    for part in [json!({ "$set": seed }), main, on_insert] {
        if !is_noop(&part) {
            docquery::apply_update(&mut doc, &part, &now).map_err(|e| ApiError::internal(e.0))?;
        }
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("__STATE__".into(), json!(req.cell.default_state.as_str()));
        obj.insert("creatorId".into(), json!(user));
        obj.insert("createdAt".into(), json!(now));
    }
    touch(&mut doc, &user, &now);
    let to_internal = |err: ApiError| match err {
        ApiError::Status(_, message) => ApiError::internal(message),
        other => other,
    };
    if doc.get("_id").is_some_and(Value::is_string) {
        coll.insert(doc.clone()).map_err(|err| match err {
            super::store::InsertError::Duplicate(dup) => ApiError::internal(dup.message(&req.cell.path)),
            super::store::InsertError::MissingId => ApiError::internal("document without _id"),
        })?;
    } else {
        let id = insert_new(req, &mut coll, doc.clone()).map_err(to_internal)?;
        doc["_id"] = Value::String(id);
    }
    drop(coll);
    ok_json(&q.projection.apply(&doc))
}
