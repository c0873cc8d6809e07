//! The header row: which column holds what. Column names are trimmed; a dotted name
//! (`address.city`) is a path into nested objects. `userGroup` is required; `_id` marks updates.

use std::collections::HashSet;

use super::ImportError;

/// Columns an import never writes: credentials and fields the service or the store manages.
pub const FORBIDDEN: [&str; 8] = [
    "password",
    "authUserId",
    "expirationId",
    "__STATE__",
    "createdAt",
    "updatedAt",
    "creatorId",
    "updaterId",
];

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A user field, at `path` (one segment, or several for a dotted name).
    Field(Vec<String>),
    /// `_id`: a non-empty cell makes the row an update of that user.
    Id,
    /// A column imports never write (see [`FORBIDDEN`]): a non-empty cell makes the row invalid.
    Forbidden,
}

/// One column of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The name as written in the header (trimmed).
    pub name: String,
    /// What the column holds.
    pub kind: ColumnKind,
}

/// The parsed header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The columns, in file order.
    pub columns: Vec<Column>,
    /// Index of the `userGroup` column.
    pub user_group: usize,
}

impl Header {
    /// Parses the header cells; `Err` (400) for an empty or repeated name, a malformed dotted
    /// name, overlapping names (`address` and `address.city`), or no `userGroup` column.
    pub fn parse<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Self, ImportError> {
        let bad = |message: String| Err(ImportError::BadRequest(message));
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        for (index, raw) in cells.into_iter().enumerate() {
            let name = raw.trim();
            if name.is_empty() {
                return bad(format!(
                    "the header names no column {}: every column needs a name",
                    index + 1
                ));
            }
            if !seen.insert(name.to_owned()) {
                return bad(format!("the header names the column {name} twice"));
            }
            columns.push(Column {
                name: name.to_owned(),
                kind: kind_of(name)?,
            });
        }
        let Some(user_group) = columns.iter().position(|c| c.name == "userGroup") else {
            return bad("the header has no userGroup column: every row needs its userGroup".to_owned());
        };
        check_overlaps(&columns)?;
        Ok(Self { columns, user_group })
    }
}

fn kind_of(name: &str) -> Result<ColumnKind, ImportError> {
    if name == "_id" {
        return Ok(ColumnKind::Id);
    }
    let path: Vec<String> = name.split('.').map(str::to_owned).collect();
    if path.iter().any(String::is_empty) {
        return Err(ImportError::BadRequest(format!(
            "column {name}: a dotted name needs a name on each side of every dot"
        )));
    }
    if FORBIDDEN.contains(&path[0].as_str()) {
        return Ok(ColumnKind::Forbidden);
    }
    Ok(ColumnKind::Field(path))
}

/// Refuses a field that is also the parent of another (`address` and `address.city`).
fn check_overlaps(columns: &[Column]) -> Result<(), ImportError> {
    let names: HashSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    for column in columns {
        let mut end = 0;
        while let Some(dot) = column.name[end..].find('.') {
            end += dot;
            let parent = &column.name[..end];
            if names.contains(parent) {
                return Err(ImportError::BadRequest(format!(
                    "columns {parent} and {} overlap: use one or the other",
                    column.name
                )));
            }
            end += 1;
        }
    }
    Ok(())
}
