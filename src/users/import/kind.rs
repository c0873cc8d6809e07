//! The type of an uploaded file, as the CRUD Service chooses it: the part's content type, or,
//! when the part names none (or only `application/octet-stream`), its file name's extension.

/// How the rows of a file are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Comma-separated values, the first row naming the columns (`text/csv`, `.csv`).
    Csv,
    /// One JSON array of objects (`application/json`, `.json`).
    Json,
    /// One JSON object per line (`application/x-ndjson`, `.ndjson`, `.jsonl`).
    Ndjson,
}

impl FileKind {
    /// The kind of a part with `content_type` and `file_name`; `Err` says why it is refused
    /// (an answer 415). A part with neither a content type nor an extension is read as CSV, as
    /// this service always did.
    pub fn detect(content_type: Option<&str>, file_name: Option<&str>) -> Result<Self, String> {
        let essence = content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty() && t != "application/octet-stream");
        if let Some(essence) = essence {
            return match essence.as_str() {
                "text/csv" | "application/csv" | "text/comma-separated-values" => Ok(Self::Csv),
                "application/json" | "text/json" => Ok(Self::Json),
                "application/x-ndjson"
                | "application/ndjson"
                | "application/jsonl"
                | "application/x-jsonlines" => Ok(Self::Ndjson),
                other => Err(unsupported(&format!("content type {other}"))),
            };
        }
        let extension = file_name
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, extension)| extension.to_ascii_lowercase());
        match extension.as_deref() {
            None => Ok(Self::Csv),
            Some("csv") => Ok(Self::Csv),
            Some("json") => Ok(Self::Json),
            Some("ndjson" | "jsonl") => Ok(Self::Ndjson),
            Some(other) => Err(unsupported(&format!("file extension .{other}"))),
        }
    }
}

fn unsupported(what: &str) -> String {
    let what: String = what.chars().take(80).collect();
    format!(
        "the file's {what} is not one the import reads: send text/csv (.csv), application/json \
         (.json, an array of objects) or application/x-ndjson (.ndjson, one object per line); \
         Excel files are not imported"
    )
}

#[cfg(test)]
mod tests {
    use super::FileKind;

    #[test]
    fn the_content_type_wins_over_the_extension() {
        assert_eq!(
            FileKind::detect(Some("application/json"), Some("u.csv")),
            Ok(FileKind::Json)
        );
        assert_eq!(
            FileKind::detect(Some("application/x-ndjson; charset=utf-8"), None),
            Ok(FileKind::Ndjson)
        );
        assert_eq!(
            FileKind::detect(Some("TEXT/CSV"), Some("u.json")),
            Ok(FileKind::Csv)
        );
    }

    #[test]
    fn without_a_content_type_the_extension_decides() {
        assert_eq!(FileKind::detect(None, Some("users.JSON")), Ok(FileKind::Json));
        assert_eq!(
            FileKind::detect(Some("application/octet-stream"), Some("u.jsonl")),
            Ok(FileKind::Ndjson)
        );
        assert_eq!(FileKind::detect(None, Some("u.ndjson")), Ok(FileKind::Ndjson));
        assert_eq!(FileKind::detect(None, None), Ok(FileKind::Csv));
    }

    #[test]
    fn other_types_are_refused() {
        assert!(FileKind::detect(Some("application/vnd.ms-excel"), Some("u.xls")).is_err());
        assert!(FileKind::detect(None, Some("u.xlsx")).is_err());
        assert!(FileKind::detect(Some("image/png"), None).is_err());
    }
}
