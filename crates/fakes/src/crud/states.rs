//! The `__STATE__` routes: `POST /:id/state` and `POST /state` (contract §1, §4).

use docquery::State;
use serde_json::Value;

use super::query;
use super::respond::{no_content, ok_json, ApiError, ApiResult};
use super::routes::Req;
use super::store::Collection;
use super::update::bulk_filter;
use super::write;
use super::writes::{body_array, body_json, now_iso, touch, user_id};

/// The `stateTo` of a body or bulk item.
fn state_to(item: &Value, at: &str) -> Result<State, ApiError> {
    let obj = item
        .as_object()
        .ok_or_else(|| ApiError::bad_request(format!("{at} must be object")))?;
    let value = obj
        .get("stateTo")
        .ok_or_else(|| ApiError::bad_request(format!("{at} must have required property 'stateTo'")))?;
    value.as_str().and_then(State::parse).ok_or_else(|| {
        ApiError::bad_request(format!("{at}/stateTo must be equal to one of the allowed values"))
    })
}

/// Moves the stored document `id` to `to`, setting `updaterId`/`updatedAt`.
fn set_state(coll: &mut Collection, id: &str, to: State, user: &str, now: &str) -> Result<(), ApiError> {
    let mut doc = coll.get(id).cloned().ok_or(ApiError::NotFound)?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("__STATE__".into(), Value::String(to.as_str().to_owned()));
    }
    touch(&mut doc, user, now);
    coll.replace(id, doc)
        .map_err(|dup| ApiError::internal(format!("duplicate {}", dup.field)))
}

/// `POST /:id/state`: 204, 404 when id + filter match nothing (any current state), 400 when the
/// transition is not allowed.
pub(crate) fn state_one(req: &Req, id: &str) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::STATE_ONE, Some(id.to_owned()))?;
    let to = state_to(&body_json(req)?, "body")?;
    let (user, now) = (user_id(req), now_iso());
    let mut coll = write(&req.cell.data);
    let ids = q.matcher.select_ids(&coll, Some(1))?;
    let id = ids.first().ok_or(ApiError::NotFound)?;
    let current = coll
        .get(id)
        .and_then(|doc| doc.get("__STATE__"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let from = current.as_deref().and_then(State::parse);
    if !docquery::transition_allowed(from, to) {
        return Err(ApiError::bad_request(format!(
            "transition from {} to {} not allowed.",
            current.as_deref().unwrap_or("undefined"),
            to.as_str()
        )));
    }
    set_state(&mut coll, id, to, &user, &now)?;
    no_content()
}

/// `POST /state`: `[{filter, stateTo}]`; only documents in a valid source state for `stateTo`
/// change. Answers the number changed.
pub(crate) fn state_bulk(req: &Req) -> ApiResult {
    query::parse(req.query, req.headers, query::NONE, None)?;
    let acl = query::acl_rows(req.headers)?;
    let (user, now) = (user_id(req), now_iso());
    let mut items = Vec::new();
    for (i, item) in body_array(req)?.iter().enumerate() {
        let at = format!("body/{i}");
        let to = state_to(item, &at)?;
        let mut matcher = bulk_filter(item.get("filter"), &at, &acl, false)?;
        matcher.set_states(Some(docquery::bulk_sources(to).to_vec()));
        items.push((matcher, to));
    }
    let mut coll = write(&req.cell.data);
    let mut changed = 0usize;
    for (matcher, to) in &items {
        for id in matcher.select_ids(&coll, None)? {
            set_state(&mut coll, &id, *to, &user, &now)?;
            changed += 1;
        }
    }
    ok_json(&changed)
}
