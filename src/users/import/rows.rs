//! From a CSV row to a write: find the row's group (cached for the import), type the cells by
//! its schema, and validate. An insert is validated as the whole document it creates; an update
//! (a row with `_id`) is validated by its own fields against the group schema with the root
//! `required` list ignored, since the fields it leaves out stay as they are in the store.

use std::collections::HashMap;
use std::sync::Arc;

use csv::StringRecord;
use serde_json::{Map, Value};

use super::header::{Header, FORBIDDEN};
use super::typing::type_row;
use crate::config::InputLimits;
use crate::context::CallContext;
use crate::groups::{Group, GroupError, GroupRegistry};
use crate::store::DocState;
use crate::store::StoreError;

/// A row ready for the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A new user: the whole document, with `__STATE__: PUBLIC`.
    Insert {
        /// Row number.
        row: u64,
        /// The document to insert (an object).
        doc: Value,
    },
    /// `$set` of the row's fields on the user with `_id` = `id`.
    Update {
        /// Row number.
        row: u64,
        /// The user's `_id`.
        id: String,
        /// The fields to set (an object).
        set: Value,
    },
}

impl Write {
    /// The row number.
    pub fn row(&self) -> u64 {
        match self {
            Self::Insert { row, .. } | Self::Update { row, .. } => *row,
        }
    }

    /// The fields the row writes (an object).
    pub fn fields(&self) -> &Value {
        match self {
            Self::Insert { doc, .. } => doc,
            Self::Update { set, .. } => set,
        }
    }
}

/// What the route asks of the rows: `POST /users/import` inserts, `PATCH` updates by `_id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImportMode {
    /// `POST`: every row is a new user; a row with `_id` is refused (the store chooses ids).
    Insert,
    /// `PATCH`: a row with `_id` updates that user, a row without one is inserted.
    #[default]
    Upsert,
}

/// What became of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Prepared {
    /// Valid: to be written.
    Write(Write),
    /// Invalid: reported with this message.
    Invalid(String),
}

/// The compiled schemas of one group: whole documents, and update fields (`required` ignored).
struct Schemas {
    full: Arc<Group>,
    partial: Group,
}

/// Prepares rows, with the groups they name cached for the whole import (unknown ones too).
pub struct Preparer {
    registry: Arc<GroupRegistry>,
    groups: HashMap<String, Result<Arc<Schemas>, String>>,
    limits: docquery::Limits,
    /// Violations listed per invalid row (`LIMIT_VIOLATIONS_REPORTED`).
    violations_reported: usize,
    /// Whether rows with `_id` are updates.
    pub mode: ImportMode,
}

impl Preparer {
    /// A preparer reading groups from `registry`, building rows within `limits` and listing at
    /// most `violations_reported` schema violations per invalid row.
    pub fn new(registry: Arc<GroupRegistry>, limits: docquery::Limits, violations_reported: usize) -> Self {
        Self {
            registry,
            groups: HashMap::new(),
            limits,
            violations_reported,
            mode: ImportMode::Upsert,
        }
    }

    /// Types and validates one row; `Err` only when the group-config store fails.
    pub async fn prepare(
        &mut self,
        ctx: &CallContext,
        header: &Header,
        row: u64,
        record: &StringRecord,
    ) -> Result<Prepared, StoreError> {
        let name = record.get(header.user_group).unwrap_or_default().trim();
        if name.is_empty() {
            return Ok(Prepared::Invalid("userGroup is required".to_owned()));
        }
        let schemas = match self.schemas(ctx, name).await? {
            Ok(schemas) => schemas,
            Err(message) => return Ok(Prepared::Invalid(message)),
        };
        let mut typed = match type_row(header, record, schemas.full.schema(), &self.limits) {
            Ok(typed) => typed,
            Err(message) => return Ok(Prepared::Invalid(message)),
        };
        // The group as looked up, without the spaces a spreadsheet may leave around it.
        typed.fields.insert("userGroup".to_owned(), Value::from(name));
        Ok(self.finish(&schemas, name, row, typed.id, typed.fields))
    }

    /// Validates one object of a JSON or NDJSON file, its values as they are; `Err` only when
    /// the group-config store fails.
    pub async fn prepare_doc(
        &mut self,
        ctx: &CallContext,
        row: u64,
        mut doc: Map<String, Value>,
    ) -> Result<Prepared, StoreError> {
        let name = match doc.get("userGroup") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Ok(Prepared::Invalid("userGroup is required".to_owned()))
            }
            Some(_) => return Ok(Prepared::Invalid("userGroup must be a string".to_owned())),
        };
        if let Some(field) = FORBIDDEN.iter().find(|field| doc.contains_key(**field)) {
            return Ok(Prepared::Invalid(format!(
                "field {field}: an import never writes {field} (credentials and service fields: {})",
                FORBIDDEN.join(", ")
            )));
        }
        if let Some(key) = doc.keys().find(|key| key.starts_with('$') || key.contains('.')) {
            let key: String = key.chars().take(64).collect();
            return Ok(Prepared::Invalid(format!(
                "field \"{key}\": a field name cannot start with $ or hold a dot (nest objects instead)"
            )));
        }
        let id = match doc.remove("_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if !id.trim().is_empty() => Some(id.trim().to_owned()),
            Some(_) => return Ok(Prepared::Invalid("_id must be a non-empty string".to_owned())),
        };
        let schemas = match self.schemas(ctx, &name).await? {
            Ok(schemas) => schemas,
            Err(message) => return Ok(Prepared::Invalid(message)),
        };
        doc.insert("userGroup".to_owned(), Value::from(name.as_str()));
        Ok(self.finish(&schemas, &name, row, id, doc))
    }

    /// The write of a row of group `name`, validated by its schema.
    fn finish(
        &self,
        schemas: &Schemas,
        name: &str,
        row: u64,
        id: Option<String>,
        fields: Map<String, Value>,
    ) -> Prepared {
        let write = match (id, self.mode) {
            (None, _) => {
                let mut doc = fields;
                doc.insert("__STATE__".to_owned(), Value::from(DocState::Public.as_str()));
                Write::Insert {
                    row,
                    doc: Value::Object(doc),
                }
            }
            (Some(_), ImportMode::Insert) => {
                return Prepared::Invalid(
                    "POST /users/import inserts new users, whose _id the store chooses: \
                     send rows with _id by PATCH /users/import to update those users"
                        .to_owned(),
                )
            }
            (Some(id), ImportMode::Upsert) => Write::Update {
                row,
                id,
                set: Value::Object(fields),
            },
        };
        // Before the schema walks it: a row is a document like any other (SPEC §10).
        if let Err(error) = self.limits.check_document(write.fields()) {
            return Prepared::Invalid(over_limit(&error));
        }
        let violations = match &write {
            Write::Insert { doc, .. } => schemas.full.violations(doc),
            Write::Update { set, .. } => schemas.partial.violations(set),
        };
        if violations.is_empty() {
            return Prepared::Write(write);
        }
        Prepared::Invalid(format!(
            "does not match the schema of group \"{name}\": {}",
            crate::groups::summarize(violations, self.violations_reported)
        ))
    }

    /// The group's schemas, or why the group cannot be used; looked up once per import.
    async fn schemas(
        &mut self,
        ctx: &CallContext,
        name: &str,
    ) -> Result<Result<Arc<Schemas>, String>, StoreError> {
        if let Some(found) = self.groups.get(name) {
            return Ok(found.clone());
        }
        let found = match self.registry.get(ctx, name).await {
            Ok(group) => compile_partial(&group, self.registry.limits())
                .map(|partial| Arc::new(Schemas { full: group, partial })),
            Err(GroupError::Store(error)) => return Err(error),
            Err(other) => Err(other.to_string()),
        };
        self.groups.insert(name.to_owned(), found.clone());
        Ok(found)
    }
}

/// The message of a row over a document limit, naming the limit's variable.
pub fn over_limit(error: &docquery::LimitError) -> String {
    format!(
        "the row is over a limit: {}",
        crate::config::describe_limit(error)
    )
}

/// The group schema without its root `required` list, for update rows (compiled from the
/// configured `crudSchema`, which the service fields are added to again, so that it is no larger
/// than what passed the size limit).
fn compile_partial(group: &Group, limits: &InputLimits) -> Result<Group, String> {
    let mut schema = group.crud_schema().clone();
    if let Some(root) = schema.as_object_mut() {
        root.remove("required");
    }
    Group::compile(group.name.clone(), None, false, &schema, limits)
        .map_err(|reason| format!("userGroup \"{}\" has an invalid crudSchema: {reason}", group.name))
}
