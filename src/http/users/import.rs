//! `PATCH /users/import` (SPEC §5; contracts/crud-service.md §8 item 8): the multipart CSV
//! upload of the Composer, streamed into `crate::import`. The route lifts the app-wide body
//! limit and applies its own, `IMPORT_MAX_FILE_BYTES` plus room for the form around the file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use futures::{SinkExt, StreamExt};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::CallContext;
use crate::http::doc::DownstreamFailures;
use crate::http::error::{error_body, ApiError, ErrorBody, ErrorCause};
use crate::http::extract::{ApiJson, Ctx};
use crate::state::AppState;
use crate::users::import::{
    self, ImportError, ImportOptions, ImportReport, ImportSettings, UploadError, OPTION_FIELDS,
};

/// Room for the multipart envelope and the option fields, on top of the file.
const FORM_MARGIN_BYTES: usize = 64 * 1024;
/// The longest option value read.
const MAX_OPTION_BYTES: usize = 256;
/// The name of the part holding the file.
const FILE_PART: &str = "file";

/// `PATCH /users/import`, without the app-wide body limit.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_users))
        // The limit depends on the configuration: `limited_body` applies it.
        .layer(DefaultBodyLimit::disable())
}

/// The multipart form of an import (documentation only: the form is streamed).
#[derive(ToSchema)]
#[expect(dead_code, reason = "OpenAPI documentation of a streamed multipart form")]
struct ImportForm {
    /// Field separator, one character (default `,`; `\t` for tab). Before `file`.
    #[schema(required = false)]
    delimiter: String,
    /// `utf8` (default), `latin1` or `utf16le`; a BOM is skipped. Before `file`.
    #[schema(required = false)]
    encoding: String,
    /// The character escaping a `"` inside a quoted field (default `"`: `""`). Before `file`.
    #[schema(required = false)]
    escape: String,
    /// The CSV file: the first row names the columns (`userGroup` required, `_id` for updates,
    /// dotted names such as `address.city` for nested fields).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Imports users from a CSV file.
///
/// Multipart form: exactly one `file` part and the options `delimiter`, `encoding`, `escape`,
/// which are read only when they come **before** `file` (the file is streamed); an option after
/// the file that would have read it differently, or a second `file` part, stops the import with
/// a 400 once the file is read (the last batch is then not written). The header row names the
/// fields (at most `LIMIT_CSV_COLUMNS` columns; names of at most `LIMIT_FIELD_PATH_BYTES` bytes
/// and `LIMIT_DOCUMENT_DEPTH` dotted segments); each row needs `userGroup`, and its values are
/// typed by that group's schema
/// (numbers, booleans, arrays written `[a, b]`, nested objects from dotted headers such as
/// `address.city`; an empty cell is left out). Rows without `_id` are inserted (state PUBLIC),
/// rows with `_id` get a `$set` of their fields (validated with the schema's `required` ignored),
/// in batches of `USER_IMPORT_BATCH_SIZE`. `password`, `authUserId`, `expirationId`, `__STATE__`
/// and the store's metadata fields are never imported. Rows are numbered from 1 for the first
/// row after the header. A bad row (wrong type, unknown group, email or username already used)
/// is reported in `invalid` and never stops the others; a store failure stops the import with a
/// 502/504 saying at which row and how many rows were written. A row is at most
/// `REQUEST_BODY_LIMIT_BYTES` long and must fit the document limits (`LIMIT_DOCUMENT_DEPTH`,
/// `LIMIT_ARRAY_LENGTH`). A quoted value may span lines only when it then closes properly
/// (its quote followed by the delimiter or the end of a line) in a row of the header's width:
/// otherwise its first line is reported invalid and reading resumes at the next line.
///
/// On a 502 or 504, the import stopped at the failing row (the message says which, and how many rows were written).
#[utoipa::path(patch, path = "/users/import", tag = "users",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "What was inserted, updated, and which rows were not", body = ImportReport),
        (status = 400, description = "Malformed multipart form, bad option, no file part or a second one, \
            a header row that is not text in the encoding, without userGroup or over the limits", body = ErrorBody),
        (status = 413, description = "The file is larger than IMPORT_MAX_FILE_BYTES", body = ErrorBody),
        (status = 415, description = "The body is not multipart/form-data", body = ErrorBody),
        DownstreamFailures))]
async fn import_users(State(state): State<AppState>, Ctx(ctx): Ctx, request: Request) -> Response {
    match import_form(&state, &ctx, request).await {
        Ok(report) => ApiJson(report).into_response(),
        Err(error) => failure(error),
    }
}

/// Reads the options up to the `file` part, then imports the file as it streams in while the
/// rest of the form is checked: the import ends only once the form has ended well.
async fn import_form(
    state: &AppState,
    ctx: &CallContext,
    request: Request,
) -> Result<ImportReport, ImportError> {
    let max = state.config.bulk.import_max_file_bytes;
    let over = Arc::new(AtomicBool::new(false));
    let request = limited_body(request, max, Arc::clone(&over))?;
    let multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| ImportError::BadRequest(rejection.body_text()))?;
    let (options_tx, options_rx) = oneshot::channel();
    let (chunk_tx, chunk_rx) = mpsc::channel(1);
    let form = read_form(multipart, &over, max, options_tx, chunk_tx);
    let import = async {
        let Ok(options) = options_rx.await else {
            return Err(ImportError::BadRequest(
                "the form has no file part: send the CSV in a part named file".to_owned(),
            ));
        };
        let settings = ImportSettings {
            max_file_bytes: max,
            batch_size: state.config.bulk.import_batch_size,
            record_bytes: state.config.body_limit_bytes,
        };
        import::run(&state.users, settings, ctx, options?, chunk_rx).await
    };
    let (import, form) = (std::pin::pin!(import), std::pin::pin!(form));
    match future::select(import, form).await {
        // The import is over (done, or stopped early): the rest of the form is not needed.
        Either::Left((imported, _form)) => imported,
        Either::Right(((), import)) => import.await,
    }
}

/// Reads the form: the options up to the `file` part, sent on `options` when the file starts
/// (or why the form is refused before it); then the file's chunks, sent on `chunks`; then the
/// parts after the file, where a second file part or an option that would have read the file
/// otherwise ends the file with an error instead of its end. Dropping `options` without a word
/// means the form has no file part.
async fn read_form(
    mut multipart: Multipart,
    over: &AtomicBool,
    max: usize,
    options_tx: oneshot::Sender<Result<ImportOptions, ImportError>>,
    mut chunks: mpsc::Sender<Result<Bytes, UploadError>>,
) {
    let mut options = ImportOptions::default();
    let mut options_tx = Some(options_tx);
    let refuse = |tx: &mut Option<oneshot::Sender<_>>, error: ImportError| {
        if let Some(tx) = tx.take() {
            let _ = tx.send(Err(error));
        }
    };
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return,
            Err(error) => return refuse(&mut options_tx, upload_error(&error, over, max)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == FILE_PART {
            let Some(tx) = options_tx.take() else { return };
            if tx.send(Ok(options)).is_err() {
                return;
            }
            loop {
                let chunk = match field.chunk().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    Ok(None) => break,
                    Err(error) => Err(upload_failure(&error, over)),
                };
                let failed = chunk.is_err();
                if chunks.send(chunk).await.is_err() || failed {
                    return;
                }
            }
            break;
        }
        let value = match option_text(&mut field, &name).await {
            Ok(Ok(value)) => value,
            Ok(Err(refused)) => return refuse(&mut options_tx, refused),
            Err(error) => return refuse(&mut options_tx, upload_error(&error, over, max)),
        };
        if OPTION_FIELDS.contains(&name.as_str()) {
            if let Err(refused) = options.set(&name, &value) {
                return refuse(&mut options_tx, refused);
            }
        }
    }
    if let Err(failure) = after_file(&mut multipart, &options, over).await {
        let _ = chunks.send(Err(failure)).await;
    }
}

/// Checks the parts after the file: another `file` part is refused (the form takes exactly
/// one), and so is an option whose value differs from the one the file was read with (it comes
/// too late to apply); other parts are ignored, as before the file.
async fn after_file(
    multipart: &mut Multipart,
    options: &ImportOptions,
    over: &AtomicBool,
) -> Result<(), UploadError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| upload_failure(&e, over))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == FILE_PART {
            return Err(UploadError::Refused(
                "the form has more than one file part: send exactly one file part, named file".to_owned(),
            ));
        }
        if !OPTION_FIELDS.contains(&name.as_str()) {
            while field
                .chunk()
                .await
                .map_err(|e| upload_failure(&e, over))?
                .is_some()
            {}
            continue;
        }
        let value = match option_text(&mut field, &name)
            .await
            .map_err(|e| upload_failure(&e, over))?
        {
            Ok(value) => value,
            Err(refused) => return Err(UploadError::Refused(refused.to_string())),
        };
        let mut late = *options;
        if late.set(&name, &value).is_err() || late != *options {
            return Err(UploadError::Refused(format!(
                "the option {name} comes after the file part, too late to read the file with it: \
                 send the options before the file"
            )));
        }
    }
    Ok(())
}

/// Refuses a body that is not multipart (415) or announces more than the limit (413), and
/// counts the bytes of the others as they stream: over the limit, the body stops with an error.
fn limited_body(request: Request, max_file: usize, over: Arc<AtomicBool>) -> Result<Request, ImportError> {
    let headers = request.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    }) {
        return Err(ImportError::UnsupportedMediaType(
            "expected a multipart/form-data body with the CSV in a part named file".to_owned(),
        ));
    }
    let limit = max_file.saturating_add(FORM_MARGIN_BYTES);
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(ImportError::TooLarge {
            limit: max_file,
            written: 0,
        });
    }
    let (parts, body) = request.into_parts();
    let mut seen = 0usize;
    let counted = body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            over.store(true, Ordering::Relaxed);
            return Err(axum::Error::new("the request body is too large"));
        }
        Ok(chunk)
    });
    Ok(Request::from_parts(parts, Body::from_stream(counted)))
}

/// The text of a small (non-file) part; `Ok(Err)` when it is too long or not UTF-8.
async fn option_text(
    field: &mut Field<'_>,
    name: &str,
) -> Result<Result<String, ImportError>, MultipartError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > MAX_OPTION_BYTES {
            return Ok(Err(ImportError::BadRequest(format!(
                "the form field {name} is too long: put the CSV in a part named file"
            ))));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8(bytes)
        .map_err(|_| ImportError::BadRequest(format!("the form field {name} is not UTF-8 text"))))
}

fn upload_failure(error: &MultipartError, over: &AtomicBool) -> UploadError {
    if over.load(Ordering::Relaxed) || error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return UploadError::TooLarge;
    }
    UploadError::Broken(error.body_text())
}

fn upload_error(error: &MultipartError, over: &AtomicBool, max_file: usize) -> ImportError {
    match upload_failure(error, over) {
        UploadError::TooLarge => ImportError::TooLarge {
            limit: max_file,
            written: 0,
        },
        UploadError::Broken(message) => ImportError::Upload { message, written: 0 },
        UploadError::Refused(message) => ImportError::Form { message, written: 0 },
    }
}

/// The Mia error body; a stopped import keeps its own message (row reached, rows written).
fn failure(error: ImportError) -> Response {
    let ImportError::Stopped { error: cause, .. } = &error else {
        return ApiError::from(error).into_response();
    };
    let status = ApiError::from(cause.clone()).status();
    let message = error.to_string();
    let mut response = (status, axum::Json(error_body(status, message.clone()))).into_response();
    response.extensions_mut().insert(ErrorCause(Arc::new(message)));
    response
}
