//! `POST|PATCH /users/import` (SPEC §5; contracts/crud-service.md §1 and §8 item 8): the
//! multipart upload of a CSV, JSON or NDJSON file, streamed into `crate::users::import`. The
//! route lifts the app-wide body limit and applies its own, `IMPORT_MAX_FILE_BYTES` plus room
//! for the form around the file.

mod activate;
mod form;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::Principal;
use crate::context::CallContext;
use crate::http::doc::DownstreamFailures;
use crate::http::error::{error_body, ApiError, ErrorBody, ErrorCause};
use crate::http::extract::{ApiJson, Ctx};
use crate::state::AppState;
use crate::users::import::{self, ImportError, ImportFile, ImportMode, ImportReport, ImportSettings};

/// The content types of the `file` part the import reads (the multipart `encoding` of the
/// OpenAPI document).
const FILE_TYPES: &str = "text/csv, application/json, application/x-ndjson";

/// `POST` and `PATCH /users/import`, without the app-wide body limit.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_users, insert_users))
        // The limit depends on the configuration: `limited_body` applies it.
        .layer(DefaultBodyLimit::disable())
}

/// The multipart form of an import (documentation only: the form is streamed).
#[derive(ToSchema)]
#[expect(dead_code, reason = "OpenAPI documentation of a streamed multipart form")]
struct ImportForm {
    /// `true`: once the file is imported, start a bulk activation (the job `POST
    /// /jobs/bulk-activation` starts) of the users the import inserted, not of those it updated;
    /// the answer's `activationJobIds` name the job. Activation creates each user's login in the
    /// auth provider without a password: the user then sets one through a password reset
    /// (`POST /users/change-password`). Needs the scope `jobs` too. Default `false`. Before `file`.
    #[schema(required = false)]
    activate: bool,
    /// CSV only: field separator, one character (default `,`; `\t` for tab). Before `file`.
    #[schema(required = false)]
    delimiter: String,
    /// `utf8` (default), `ucs2` = `utf16le`, `latin1` or `ascii` (read as latin1, as the
    /// WHATWG standard maps the label: a byte over 0x7F is its latin1 character, never an
    /// error); a BOM is skipped and wins over this option. Before `file`.
    #[schema(required = false)]
    encoding: String,
    /// CSV only: the character escaping a `"` inside a quoted field (default `"`: `""`).
    /// Before `file`.
    #[schema(required = false)]
    escape: String,
    /// The file, its type chosen by the part's content type or, without one (or with
    /// `application/octet-stream`), by its extension: `text/csv` (`.csv`; also a part with
    /// neither), `application/json` (`.json`: an array of objects) or `application/x-ndjson`
    /// (`.ndjson`, `.jsonl`: one object per line). Anything else (Excel included) is a 415.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Imports users from a CSV, JSON or NDJSON file: rows with `_id` update that user (or create it
/// under that `_id`), the others are inserted.
///
/// Multipart form: exactly one `file` part and the options `activate`, `delimiter`, `encoding`,
/// `escape`, read when they come **before** `file` (the file is streamed); a part of any other
/// name is a 400 naming it. An option after the file that would have read it differently, a part
/// of another name after it, or a second `file` part, is a 400 saying so: when the import already
/// stopped on the file (a header read with the wrong delimiter, say), that 400 replaces the
/// file's error; otherwise it comes once the file is read, and the last batch is then not
/// written. An empty `delimiter` or `escape` is a 400 (`curl -F 'delimiter=;'` sends an empty
/// value: use `--form-string 'delimiter=;'`).
///
/// **Imported users cannot log in**: an import writes users in the store only, never a login
/// (an auth-provider user) nor a password. With `activate=true`, once the file is written the
/// service starts a bulk activation of the users the import inserted (the job of
/// `POST /jobs/bulk-activation`, with `upsert`; one job per 100,000 users) and the answer names
/// it in `activationJobIds` (absent when nothing was inserted); `GET
/// /jobs/bulk-activation/{id}` follows it. Activation creates each user's auth-provider user
/// **without a password** and links it (`authUserId`): the user then sets a password through a
/// password reset, `POST /users/change-password` with its `authUserId` (or the bulk job
/// `POST /jobs/change-password/bulk`): the Auth0 Client sends its change-password email; the
/// local provider (embedded mode) delivers a reset token to `PASSWORD_RESET_WEBHOOK_URL`,
/// redeemed at `POST /users/reset-password`. `activate` needs bulk jobs and a provider with a
/// bulk import (501 otherwise) and, with access control, the scope `jobs` besides `register`
/// (403 otherwise), all checked before any row is written; a job that cannot be created does not
/// fail the import: `activationError` says why.
///
/// CSV: the header row names the fields (at most `LIMIT_CSV_COLUMNS` columns; names of at most
/// `LIMIT_FIELD_PATH_BYTES` bytes and `LIMIT_DOCUMENT_DEPTH` dotted segments); each row needs
/// `userGroup`, and its values are typed by that group's schema (numbers, booleans, arrays
/// written `[a, b]`, nested objects from dotted headers such as `address.city`; an empty cell is
/// left out). A quoted value may span lines only when it then closes properly in a row of the
/// header's width: otherwise its first line is reported invalid and reading resumes at the next.
/// JSON and NDJSON: each element (line) is an object whose values keep their JSON types; a row
/// that is not an object or not JSON is reported alone; a JSON file that is not an array is a
/// 400. Field names cannot start with `$` or hold a dot.
///
/// Rows without `_id` are inserted (state PUBLIC), rows with `_id` get a `$set` of their fields
/// (validated with the schema's `required` ignored); a row whose `_id` no user has is inserted
/// under that `_id` when it is a whole user of its group (the schema's `required` applies) and
/// the `_id` can be a new user's (1 to 128 characters, no whitespace or control characters),
/// else reported invalid; in batches of `USER_IMPORT_BATCH_SIZE`. A row that changes the `email`,
/// `username` or `blocked` of a user linked to an auth user (or its `roles` with Rönd, its
/// `expirationDate` with the Timer Service) is written as `PATCH /users/{id}` writes a user: the
/// auth user, the roles and the expiry timer follow, and the user is reverted when one of them
/// fails; the other updates go in one bulk patch per batch. Imported rows never create auth
/// users. `password`, `authUserId`, `expirationId`, `__STATE__` and the store's metadata fields
/// are never imported. Rows are numbered from 1 (CSV: the first row after the header). A bad row
/// (wrong type, unknown group, email or username already used, an update the auth provider
/// refuses, such as an email another of its users holds) is reported in `invalid` and never
/// stops the others; a failure of the store, or of the auth provider, Rönd or the Timer Service
/// while syncing a row (that user reverted), stops the import with a 502/504 saying at which row
/// and how many rows were written. A row is at most `REQUEST_BODY_LIMIT_BYTES` long and must fit
/// the document limits (`LIMIT_DOCUMENT_DEPTH`, `LIMIT_ARRAY_LENGTH`). The answer is `{inserted,
/// updated, invalid}`, not the CRUD Service's `{"message": "File uploaded successfully"}`.
///
/// On a 502 or 504, the import stopped at the failing row (the message says which, and how many rows were written).
#[utoipa::path(patch, path = "/users/import", tag = "users",
    request_body(content((ImportForm = "multipart/form-data",
        encoding(("file" = (content_type = FILE_TYPES)))))),
    responses(
        (status = 200, description = "What was inserted, updated, and which rows were not", body = ImportReport),
        (status = 400, description = "Malformed multipart form, bad or empty option, an option after the file, a part \
            of an unknown name, no file part or a second one, a CSV header that is not text in the encoding, without userGroup or over the limits, \
            a JSON file that is not an array", body = ErrorBody),
        (status = 413, description = "The file is larger than IMPORT_MAX_FILE_BYTES", body = ErrorBody),
        (status = 415, description = "The body is not multipart/form-data, or the file is not CSV, JSON or NDJSON", body = ErrorBody),
        (status = 501, description = "`activate` without a jobs collection, or with an auth provider without bulk import", body = ErrorBody),
        DownstreamFailures))]
async fn import_users(State(state): State<AppState>, Ctx(ctx): Ctx, request: Request) -> Response {
    answer(&state, &ctx, request, ImportMode::Upsert, StatusCode::OK).await
}

/// Inserts users from a CSV, JSON or NDJSON file: every row is a new user.
///
/// As `PATCH /users/import` (same form, file types, encodings, limits and row reports), except
/// that every row is inserted and the answer is a 201. A row with `_id` is inserted under that
/// `_id` (1 to 128 characters, no whitespace or control characters); an `_id` a user or an
/// earlier row already has is reported in `invalid` like a taken email, and the other rows are
/// imported (the CRUD Service answers 409 for the whole file). **Imported users cannot log in**
/// until activated: `activate=true` starts the bulk activation of the inserted users (answer:
/// `activationJobIds`), which creates their logins without a password; each user then sets one
/// through a password reset (`POST /users/change-password`), as `PATCH /users/import` says.
///
/// On a 502 or 504, the import stopped at the failing row (the message says which, and how many rows were written).
#[utoipa::path(post, path = "/users/import", tag = "users",
    request_body(content((ImportForm = "multipart/form-data",
        encoding(("file" = (content_type = FILE_TYPES)))))),
    responses(
        (status = 201, description = "What was inserted (`updated` is empty), and which rows were not", body = ImportReport),
        (status = 400, description = "Malformed multipart form, bad or empty option, an option after the file, a part \
            of an unknown name, no file part or a second one, a CSV header that is not text in the encoding, without userGroup or over the limits, \
            a JSON file that is not an array", body = ErrorBody),
        (status = 413, description = "The file is larger than IMPORT_MAX_FILE_BYTES", body = ErrorBody),
        (status = 415, description = "The body is not multipart/form-data, or the file is not CSV, JSON or NDJSON", body = ErrorBody),
        (status = 501, description = "`activate` without a jobs collection, or with an auth provider without bulk import", body = ErrorBody),
        DownstreamFailures))]
async fn insert_users(State(state): State<AppState>, Ctx(ctx): Ctx, request: Request) -> Response {
    answer(&state, &ctx, request, ImportMode::Insert, StatusCode::CREATED).await
}

/// Why an import was refused: the import's own error, or a refusal of `activate`.
enum Refusal {
    Import(ImportError),
    Activate(ApiError),
}

impl From<ImportError> for Refusal {
    fn from(error: ImportError) -> Self {
        Self::Import(error)
    }
}

/// Imports the form of `request` in `mode`; with `activate`, starts the bulk activation of the
/// users inserted. The report with `status`, or the refusal.
async fn answer(
    state: &AppState,
    ctx: &CallContext,
    request: Request,
    mode: ImportMode,
    status: StatusCode,
) -> Response {
    let principal = request.extensions().get::<Principal>().cloned();
    match import_form(state, ctx, request, mode, principal.as_ref()).await {
        Ok((mut report, activate)) => {
            if activate {
                activate::start(state, ctx, &mut report).await;
            }
            (status, ApiJson(report)).into_response()
        }
        Err(Refusal::Import(error)) => failure(error),
        Err(Refusal::Activate(error)) => error.into_response(),
    }
}

/// Reads the options up to the `file` part, then imports the file as it streams in while the
/// rest of the form is checked: the import ends only once the form has ended well.
/// The report, and whether the form asked to `activate` the users inserted.
async fn import_form(
    state: &AppState,
    ctx: &CallContext,
    request: Request,
    mode: ImportMode,
    principal: Option<&Principal>,
) -> Result<(ImportReport, bool), Refusal> {
    let max = state.config.bulk.import_max_file_bytes;
    let over = Arc::new(AtomicBool::new(false));
    let request = form::limited_body(request, max, Arc::clone(&over))?;
    let multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| ImportError::BadRequest(rejection.body_text()))?;
    let (options_tx, options_rx) = oneshot::channel();
    let (chunk_tx, chunk_rx) = mpsc::channel(1);
    let form = form::read_form(multipart, &over, max, options_tx, chunk_tx);
    let import = async {
        let Ok(start) = options_rx.await else {
            return Err(Refusal::Import(ImportError::BadRequest(
                "the form has no file part: send the file in a part named file".to_owned(),
            )));
        };
        let (options, kind) = start?;
        if options.activate {
            activate::allowed(state, ctx, principal)
                .await
                .map_err(Refusal::Activate)?;
        }
        let settings = ImportSettings {
            max_file_bytes: max,
            batch_size: state.config.bulk.import_batch_size,
            record_bytes: state.config.body_limit_bytes,
        };
        let what = ImportFile { kind, options, mode };
        let report = import::run(&state.users, settings, ctx, what, chunk_rx).await?;
        Ok((report, options.activate))
    };
    let (import, form) = (std::pin::pin!(import), std::pin::pin!(form));
    let (imported, end) = match future::select(import, form).await {
        // Stopped on the file, maybe read with options that came too late: the form says.
        Either::Left((Err(error), form)) if reads_on(&error) => (Err(error), form.await),
        // The import is over: the rest of the form is not needed.
        Either::Left((imported, _form)) => return imported,
        Either::Right((end, import)) => (import.await, end),
    };
    match imported {
        // Not the file's own error when a late option read it the wrong way; an ignored part
        // may be what the import missed.
        Err(Refusal::Import(error @ ImportError::BadRequest(_))) => Err(end.explain(error).into()),
        other => other,
    }
}

/// Whether the rest of the form is still worth reading after the import stopped with `error`:
/// it did not stop because of the upload itself.
fn reads_on(error: &Refusal) -> bool {
    matches!(error, Refusal::Import(ImportError::BadRequest(_)))
}

/// The Mia error body; a stopped import keeps its own message (row reached, rows written).
fn failure(error: ImportError) -> Response {
    let ImportError::Stopped { .. } = &error else {
        return ApiError::from(error).into_response();
    };
    // The log line gets the whole cause; the body, what a caller may read of it.
    let cause = error.to_string();
    let stopped = ApiError::from(error);
    let status = stopped.status();
    let mut response = (status, axum::Json(error_body(status, stopped.to_string()))).into_response();
    response.extensions_mut().insert(ErrorCause(Arc::new(cause)));
    response
}
