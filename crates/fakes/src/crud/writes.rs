//! Insert and delete routes, plus the helpers shared by every write: body parsing, user id,
//! timestamps and the standard fields.

use docquery::State;
use serde_json::{json, Value};

use super::query;
use super::respond::{no_content, ok_json, ApiError, ApiResult};
use super::routes::Req;
use super::store::{Collection, InsertError};
use super::write;

pub(crate) use docquery::{now_iso, touch};

/// The user id of the request (the configured header), or `"public"`.
pub(crate) fn user_id(req: &Req) -> String {
    let value = req
        .headers
        .get(req.fake.inner.user_id_header.as_str())
        .and_then(|v| v.to_str().ok());
    docquery::writer_id(value).to_owned()
}

/// The JSON body; an empty body is `Null`.
pub(crate) fn body_json(req: &Req) -> Result<Value, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))
}

/// A non-empty JSON array body.
pub(crate) fn body_array(req: &Req) -> Result<Vec<Value>, ApiError> {
    match body_json(req)? {
        Value::Array(items) if items.is_empty() => {
            Err(ApiError::bad_request("body must NOT have fewer than 1 items"))
        }
        Value::Array(items) => Ok(items),
        _ => Err(ApiError::bad_request("body must be array")),
    }
}

/// Builds the document stored by `POST /` from the body (its `_id` is still `null`).
fn new_document(
    body: Value,
    at: &str,
    default_state: State,
    user: &str,
    now: &str,
) -> Result<Value, ApiError> {
    docquery::new_document(&body, at, default_state, user, now).map_err(|e| ApiError::bad_request(e.0))
}

/// Inserts `doc`, giving it a fresh `_id`; a unique violation becomes 409.
pub(crate) fn insert_new(req: &Req, coll: &mut Collection, mut doc: Value) -> Result<String, ApiError> {
    let mut id = req.fake.inner.ids.next();
    while coll.contains(&id) {
        id = req.fake.inner.ids.next();
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("_id".into(), Value::String(id));
    }
    coll.insert(doc).map_err(|err| match err {
        InsertError::Duplicate(dup) => ApiError::conflict(dup.message(&req.cell.path)),
        InsertError::MissingId => ApiError::internal("document without _id"),
    })
}

fn no_filter(req: &Req) -> Result<(), ApiError> {
    query::parse(req.query, req.headers, query::NONE, None).map(|_| ())
}

/// `POST /`.
pub(crate) fn insert_one(req: &Req) -> ApiResult {
    no_filter(req)?;
    let (user, now) = (user_id(req), now_iso());
    let doc = new_document(body_json(req)?, "body", req.cell.default_state, &user, &now)?;
    let mut coll = write(&req.cell.data);
    let id = insert_new(req, &mut coll, doc)?;
    ok_json(&json!({ "_id": id }))
}

/// `POST /validate`: the checks of `POST /`, nothing written.
pub(crate) fn validate(req: &Req) -> ApiResult {
    no_filter(req)?;
    new_document(
        body_json(req)?,
        "body",
        req.cell.default_state,
        "public",
        &now_iso(),
    )?;
    ok_json(&json!({"result": "ok"}))
}

/// `POST /bulk`: an ordered insert; the documents before a duplicate stay written.
pub(crate) fn insert_bulk(req: &Req) -> ApiResult {
    no_filter(req)?;
    let (user, now) = (user_id(req), now_iso());
    let docs = body_array(req)?
        .into_iter()
        .enumerate()
        .map(|(i, body)| new_document(body, &format!("body/{i}"), req.cell.default_state, &user, &now))
        .collect::<Result<Vec<_>, _>>()?;
    let mut coll = write(&req.cell.data);
    let mut ids = Vec::with_capacity(docs.len());
    for doc in docs {
        ids.push(json!({ "_id": insert_new(req, &mut coll, doc)? }));
    }
    ok_json(&ids)
}

/// `DELETE /:id`.
pub(crate) fn delete_one(req: &Req, id: &str) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::ONE, Some(id.to_owned()))?;
    let mut coll = write(&req.cell.data);
    let ids = q.matcher.select_ids(&coll, Some(1))?;
    let id = ids.first().ok_or(ApiError::NotFound)?;
    coll.remove(id);
    no_content()
}

/// `DELETE /`: the number of deleted documents.
pub(crate) fn delete_many(req: &Req) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::MANY, None)?;
    let mut coll = write(&req.cell.data);
    let ids = q.matcher.select_ids(&coll, None)?;
    for id in &ids {
        coll.remove(id);
    }
    ok_json(&ids.len())
}
