//! Picks the export format from the `Accept` header as the CRUD Service does: the entry with the
//! highest `q` wins (the first of equals), then it must be one of the formats below.

/// A format `GET /users/export` can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON user a line (the default, and `*/*`).
    Ndjson,
    /// One JSON array of users.
    Json,
    /// A header row of the columns, then one row a user.
    Csv,
    /// An Excel workbook (`.xlsx`) with one sheet.
    Excel,
}

/// The media types `Accept` may name, for the 406 message.
pub const ACCEPTED: &str = "application/x-ndjson, application/json, text/csv, \
    application/vnd.ms-excel, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet \
    (or */*)";

/// The `Content-Type` of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl ExportFormat {
    /// The format `accept` asks for; `Err` carries the media type no format matches.
    pub fn negotiate(accept: Option<&str>) -> Result<Self, String> {
        let Some(chosen) = accept.and_then(preferred) else {
            return Ok(Self::Ndjson);
        };
        match chosen.to_ascii_lowercase().as_str() {
            "*/*" | "application/x-ndjson" => Ok(Self::Ndjson),
            "application/json" => Ok(Self::Json),
            "text/csv" => Ok(Self::Csv),
            "application/vnd.ms-excel" | XLSX => Ok(Self::Excel),
            _ => Err(chosen),
        }
    }

    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Excel => XLSX,
        }
    }
}

/// The media type of the entry with the highest `q` (the first one on ties); `None` when no
/// entry has a `type/subtype` form (a missing or blank header means the default).
fn preferred(accept: &str) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or_default().trim();
        if !media.contains('/') {
            continue;
        }
        let weight = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(top, _)| weight > top) {
            best = Some((weight, media));
        }
    }
    best.map(|(_, media)| media.to_owned())
}
