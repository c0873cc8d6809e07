//! `POST /import`: a multipart upload whose `file` part (NDJSON or a JSON array) is inserted in
//! order, rows with `_id` under that `_id`, the others under a fresh one; the rows before a
//! duplicate stay written (409). 201 `{"message": "File uploaded successfully"}`.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{json, Value};

use super::respond::{json_response, ApiError, ApiResult};
use super::routes::Req;
use super::store::InsertError;
use super::write;
use super::writes::{body_array, insert_new, now_iso, user_id};

/// The rows of the `file` part of a multipart `body`, as a JSON array (the body `insert` reads).
pub(crate) async fn read_file(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ApiError> {
    let mut request = Request::new(Body::from(body));
    *request.headers_mut() = headers.clone();
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::bad_request("Request is not multipart"))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mime = field.content_type().unwrap_or_default().to_owned();
        let file = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let rows = match mime.as_str() {
            "application/json" => serde_json::from_slice::<Vec<Value>>(&file).map_err(|e| e.to_string()),
            "application/x-ndjson" => file
                .split(|b| *b == b'\n')
                .filter(|line| !line.trim_ascii().is_empty())
                .map(|line| serde_json::from_slice(line).map_err(|e| e.to_string()))
                .collect(),
            _ => {
                let message = format!("Unsupported file type {mime}");
                return Err(ApiError::Status(StatusCode::UNSUPPORTED_MEDIA_TYPE, message));
            }
        };
        let rows = rows.map_err(|e| ApiError::bad_request(format!("error in parsing record: {e}")))?;
        return Ok(Bytes::from(Value::Array(rows).to_string()));
    }
    Err(ApiError::bad_request("Missing file"))
}

/// Inserts the rows (`body` as [`read_file`] made it).
pub(crate) fn insert(req: &Req) -> ApiResult {
    let (user, now) = (user_id(req), now_iso());
    let state = req.cell.default_state;
    let mut docs = Vec::new();
    for (i, row) in body_array(req)?.into_iter().enumerate() {
        let at = format!("file/{i}");
        let doc = match row.get("_id") {
            Some(_) => docquery::imported_document(&row, &at, state, &user, &now),
            None => docquery::new_document(&row, &at, state, &user, &now),
        };
        docs.push(doc.map_err(|e| ApiError::bad_request(format!("(index: {i}) {e}")))?);
    }
    let mut coll = write(&req.cell.data);
    for doc in docs {
        if doc["_id"].is_null() {
            insert_new(req, &mut coll, doc)?;
            continue;
        }
        coll.insert(doc).map_err(|err| match err {
            InsertError::Duplicate(dup) => ApiError::conflict(dup.message(&req.cell.path)),
            InsertError::MissingId => ApiError::internal("document without _id"),
        })?;
    }
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"message": "File uploaded successfully"}),
    ))
}
