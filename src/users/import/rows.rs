//! From a CSV row to a write: find the row's group (cached for the import), type the cells by
//! its schema, and validate. An insert is validated as the whole document it creates; an update
//! (a `PATCH` row with `_id`) is validated by its own fields against the group schema with the
//! root `required` list ignored, since the fields it leaves out stay as they are in the store,
//! and also as a whole document, which is inserted under that `_id` when no user has it.
//!
//! A row's `_id` becomes the `_id` of a new user (a `POST` row, or a `PATCH` row no user has)
//! only when it is 1 to [`MAX_ID_CHARS`] characters, none of them whitespace or a control
//! character: the store keeps its own rules on top (an ObjectId collection of the CRUD Service
//! takes 24 hex digits only, and refuses the row otherwise).

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

/// The longest `_id` a row may give a new user, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// A row ready for the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A new user: the whole document, with `__STATE__: PUBLIC`.
    Insert {
        /// Row number.
        row: u64,
        /// The `_id` the row gives it (`POST` rows with `_id`); `None`: the store chooses.
        id: Option<String>,
        /// The document to insert (an object, without `_id`).
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
        /// The whole document to insert under `id` when no user has it, or why the row cannot
        /// create that user.
        or_insert: Result<Value, String>,
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
    /// `POST`: every row is a new user, under the row's `_id` when it has one (a taken `_id` is
    /// reported as a duplicate), else under an id the store chooses.
    Insert,
    /// `PATCH`: a row with `_id` updates that user, or creates it under that `_id` when no user
    /// has it; a row without `_id` is inserted.
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
        // `shift_remove` keeps the other fields in the file's order.
        let id = match doc.shift_remove("_id") {
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
            (Some(id), ImportMode::Upsert) => Write::Update {
                row,
                id,
                set: Value::Object(fields),
                // Decided below, once the fields pass as an update.
                or_insert: Err(String::new()),
            },
            (id, _) => {
                if let Some(Err(problem)) = id.as_deref().map(check_new_id) {
                    return Prepared::Invalid(problem);
                }
                Write::Insert {
                    row,
                    id,
                    doc: whole(fields),
                }
            }
        };
        // Before the schema walks it: a row is a document like any other (SPEC §10).
        if let Err(error) = self.limits.check_document(write.fields()) {
            return Prepared::Invalid(over_limit(&error));
        }
        let violations = match &write {
            Write::Insert { doc, .. } => schemas.full.violations(doc),
            Write::Update { set, .. } => schemas.partial.violations(set),
        };
        if !violations.is_empty() {
            return Prepared::Invalid(self.mismatch(name, violations));
        }
        Prepared::Write(match write {
            Write::Update { row, id, set, .. } => {
                let doc = whole(set.as_object().cloned().unwrap_or_default());
                let violations = schemas.full.violations(&doc);
                let or_insert = match check_new_id(&id) {
                    Err(problem) => Err(problem),
                    Ok(()) if violations.is_empty() => Ok(doc),
                    Ok(()) => Err(self.mismatch(name, violations)),
                };
                Write::Update {
                    row,
                    id,
                    set,
                    or_insert,
                }
            }
            insert => insert,
        })
    }

    /// Why a row does not match the schema of group `name`.
    fn mismatch(&self, name: &str, violations: Vec<String>) -> String {
        format!(
            "does not match the schema of group \"{name}\": {}",
            crate::groups::summarize(violations, self.violations_reported)
        )
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

/// The document a row inserts: its fields, `__STATE__: PUBLIC`.
fn whole(mut fields: Map<String, Value>) -> Value {
    fields.insert("__STATE__".to_owned(), Value::from(DocState::Public.as_str()));
    Value::Object(fields)
}

/// Whether `id` may be the `_id` of a new user (see the module documentation).
pub fn check_new_id(id: &str) -> Result<(), String> {
    let chars = id.chars().count();
    if chars == 0 || chars > MAX_ID_CHARS {
        return Err(format!(
            "_id of a new user must be 1 to {MAX_ID_CHARS} characters, not {chars}"
        ));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("_id of a new user cannot hold whitespace or control characters".to_owned());
    }
    Ok(())
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
