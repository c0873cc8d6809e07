//! The multipart form of an import, read as it streams: the options up to the `file` part,
//! the file's type from that part, the file's chunks, then the parts after it (a second file or
//! a late option is refused); a part of an unknown name holding a file is refused, a short one
//! is ignored and named if the import fails on the file; the request body is counted against `IMPORT_MAX_FILE_BYTES`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Request};
use axum::http::header;
use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};

use crate::users::import::{FileKind, ImportError, ImportOptions, UploadError, OPTION_FIELDS};

/// Room for the multipart envelope and the option fields, on top of the file.
const FORM_MARGIN_BYTES: usize = 64 * 1024;
/// The longest option value read.
const MAX_OPTION_BYTES: usize = 256;
/// The name of the part holding the file.
pub(super) const FILE_PART: &str = "file";

/// What the form says of the file once its part starts: its options and its type.
pub(super) type FileStart = Result<(ImportOptions, FileKind), ImportError>;

/// Reads the form: the options up to the `file` part, sent on `options` with the file's type
/// when the file starts (or why the form is refused before it); then the file's chunks, sent
/// on `chunks`; then the parts after the file, where a second file part or an option that would
/// have read the file otherwise ends the file with an error instead of its end. Dropping
/// `options` without a word means the form has no file part.
///
/// When the import stops before the file's end (its receiver gone), the rest of the form is
/// still read (it is bounded by the body limit) so that the answer can say an option came too
/// late: the refusal of the parts after the file, if any, and the names of the parts ignored
/// (before the file too) are returned.
pub(super) async fn read_form(
    mut multipart: Multipart,
    over: &AtomicBool,
    max: usize,
    options_tx: oneshot::Sender<FileStart>,
    mut chunks: mpsc::Sender<Result<Bytes, UploadError>>,
) -> FormEnd {
    let mut options = ImportOptions::default();
    let mut options_tx = Some(options_tx);
    let mut end = FormEnd::default();
    let csv;
    // The form is refused before the file: the answer says why, nothing follows.
    let refuse = |tx: &mut Option<oneshot::Sender<_>>, error: ImportError, end: FormEnd| -> FormEnd {
        if let Some(tx) = tx.take() {
            let _ = tx.send(Err(error));
        }
        end
    };
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return end,
            Err(error) => return refuse(&mut options_tx, upload_error(&error, over, max), end),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == FILE_PART {
            let kind = FileKind::detect(field.content_type(), field.file_name())
                .map_err(ImportError::UnsupportedMediaType);
            let Some(tx) = options_tx.take() else {
                return end;
            };
            let refused = kind.is_err();
            csv = matches!(kind, Ok(FileKind::Csv));
            if tx.send(kind.map(|kind| (options, kind))).is_err() || refused {
                return end;
            }
            let mut gone = false;
            loop {
                let chunk = match field.chunk().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    Ok(None) => break,
                    Err(error) => Err(upload_failure(&error, over)),
                };
                let failed = chunk.is_err();
                // Once the import is gone, the file is still read through, to see what follows.
                gone = gone || chunks.send(chunk).await.is_err();
                if failed {
                    return end;
                }
            }
            break;
        }
        let known = OPTION_FIELDS.contains(&name.as_str());
        if !known && field.file_name().is_some() {
            // A file under another name: the form has no file part as the import reads it.
            let unknown = ImportError::BadRequest(unknown_field(&name));
            return refuse(&mut options_tx, unknown, end);
        }
        let value = match option_text(&mut field, &name).await {
            Ok(Ok(value)) => value,
            Ok(Err(_)) if !known => {
                return refuse(
                    &mut options_tx,
                    ImportError::BadRequest(unknown_field(&name)),
                    end,
                )
            }
            Ok(Err(refused)) => return refuse(&mut options_tx, refused, end),
            Err(error) => return refuse(&mut options_tx, upload_error(&error, over, max), end),
        };
        if !known {
            // A short text part the import does not know (a back-office note): ignored, and
            // named if the import fails on the file.
            end.ignore(name);
            continue;
        }
        if let Err(refused) = options.set(&name, &value) {
            return refuse(&mut options_tx, refused, end);
        }
    }
    if let Err(UploadError::Refused(message)) =
        after_file(&mut multipart, &options, csv, over, &mut end).await
    {
        let _ = chunks.send(Err(UploadError::Refused(message.clone()))).await;
        end.late = Some(message);
    }
    end
}

/// What the form said besides the file, for an import that failed on it: a refusal of the parts
/// after the file (an option too late, a second file), and the names of the parts ignored.
#[derive(Debug, Default)]
pub(super) struct FormEnd {
    /// Why the parts after the file are refused.
    pub late: Option<String>,
    /// The parts of unknown names, ignored (at most [`MAX_IGNORED_NAMED`] named).
    pub ignored: Vec<String>,
}

/// The most ignored part names an answer names.
const MAX_IGNORED_NAMED: usize = 5;

impl FormEnd {
    fn ignore(&mut self, name: String) {
        let name: String = name.chars().take(40).collect();
        if self.ignored.len() < MAX_IGNORED_NAMED && !self.ignored.contains(&name) {
            self.ignored.push(name);
        }
    }

    /// `error` (a 400 of the file, or no file part) as the rest of the form explains it: the
    /// refusal of a late part replaces it (the file was read the wrong way), ignored parts are
    /// named after it (one may be what the import missed, such as `userGroup`).
    pub(super) fn explain(self, error: ImportError) -> ImportError {
        if let Some(late) = self.late {
            return ImportError::BadRequest(late);
        }
        if self.ignored.is_empty() {
            return error;
        }
        let names: Vec<String> = self.ignored.iter().map(|n| format!("\"{n}\"")).collect();
        let (fields, are) = match names.len() {
            1 => ("form field", "is not an option and was"),
            _ => ("form fields", "are not options and were"),
        };
        let group = match self.ignored.iter().any(|n| n.eq_ignore_ascii_case("userGroup")) {
            true => "; a user's group is a column of the file, userGroup, not a form field",
            false => "",
        };
        ImportError::BadRequest(format!(
            "{error}; the {fields} {} {are} ignored (the options are {}, sent before the \"{FILE_PART}\" part{group})",
            names.join(", "),
            OPTION_FIELDS.join(", ")
        ))
    }
}

/// Checks the parts after the file: another `file` part is refused (the form takes exactly
/// one), and so is an option whose value differs from the one the file was read with (it comes
/// too late to apply; for a JSON or NDJSON file, not `csv`, only `encoding` and `activate`
/// apply); other parts are ignored, as before the file, and their names kept in `end`.
async fn after_file(
    multipart: &mut Multipart,
    options: &ImportOptions,
    csv: bool,
    over: &AtomicBool,
    end: &mut FormEnd,
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
        let known = OPTION_FIELDS.contains(&name.as_str());
        if !known {
            end.ignore(name.clone());
        }
        if !known || (!csv && !["encoding", "activate"].contains(&name.as_str())) {
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
            let what = match name.as_str() {
                "activate" => "too late to apply",
                _ => "too late to read the file with it",
            };
            return Err(UploadError::Refused(format!(
                "the option {name} comes after the file part, {what}: send the options before the file"
            )));
        }
    }
    Ok(())
}

/// Why a part named `name` (neither `file` nor an option) holding a file, or more than an
/// option's value, is refused.
fn unknown_field(name: &str) -> String {
    let name: String = name.chars().take(40).collect();
    format!(
        "unknown form field \"{name}\": send the file in a part named \"{FILE_PART}\" (and the \
         options {} before it)",
        OPTION_FIELDS.join(", ")
    )
}

/// Refuses a body that is not multipart (415) or announces more than the limit (413), and
/// counts the bytes of the others as they stream: over the limit, the body stops with an error.
pub(super) fn limited_body(
    request: Request,
    max_file: usize,
    over: Arc<AtomicBool>,
) -> Result<Request, ImportError> {
    let headers = request.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    }) {
        return Err(ImportError::UnsupportedMediaType(
            "expected a multipart/form-data body with the file in a part named file".to_owned(),
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
                "the form field {name} is too long: put the file in a part named file"
            ))));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8(bytes)
        .map_err(|_| ImportError::BadRequest(format!("the form field {name} is not UTF-8 text"))))
}

pub(super) fn upload_failure(error: &MultipartError, over: &AtomicBool) -> UploadError {
    if over.load(Ordering::Relaxed) || error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return UploadError::TooLarge;
    }
    UploadError::Broken(error.body_text())
}

pub(super) fn upload_error(error: &MultipartError, over: &AtomicBool, max_file: usize) -> ImportError {
    match upload_failure(error, over) {
        UploadError::TooLarge => ImportError::TooLarge {
            limit: max_file,
            written: 0,
        },
        UploadError::Broken(message) => ImportError::Upload { message, written: 0 },
        UploadError::Refused(message) => ImportError::Form { message, written: 0 },
    }
}
