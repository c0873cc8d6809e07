//! Query inputs checked and turned into what the store runs, with the CRUD Service's answers for
//! what it refuses: filters (`_q`, `_st`, `_id`, field filters, `acl_rows`), projections (`_p`,
//! `_rawp`, `acl_read_columns`), sort and paging.

use docquery::{SortKey, State};
use serde_json::{json, Map, Value};

use super::select::Selection;
use super::OpError;
use crate::store::query::MAX_LIMIT;
use crate::store::{DocState, Filter, FindQuery, StateChange};

/// Which inputs of a [`Filter`] a route takes, besides `_q` and the field filters.
#[derive(Clone, Copy, Default)]
pub(super) struct Scope<'a> {
    /// The id in the route path (`/:id`); `filter.id` is then ignored.
    pub path_id: Option<&'a str>,
    /// Whether `filter.id` (`_id=`) applies (list, count, export, patch and delete many).
    pub id_param: bool,
    /// Whether the current state is ignored (`POST /:id/state`).
    pub any_state: bool,
    /// The `acl_rows` header, on reads.
    pub acl_rows: Option<&'a str>,
}

/// The selection of `filter` for a route taking `scope`.
pub(super) fn selection(filter: &Filter, scope: Scope<'_>) -> Result<Selection, OpError> {
    let mut parts = Vec::new();
    if let Some(q) = &filter.q {
        check_filter(q)?;
        parts.push(q.clone());
    }
    if scope.id_param && scope.path_id.is_none() {
        if let Some(id) = &filter.id {
            parts.push(json!({ "_id": id }));
        }
    }
    for (name, value) in &filter.fields {
        parts.push(field_filter(name, value)?);
    }
    parts.extend(acl_rows(scope.acl_rows)?);
    let states = if scope.any_state {
        None
    } else {
        Some(states(filter)?)
    };
    Ok(Selection::new(states, scope.path_id.map(str::to_owned), parts))
}

/// `_st`, PUBLIC by default; an empty list is refused like an empty `_st=`.
fn states(filter: &Filter) -> Result<Vec<State>, OpError> {
    match &filter.state {
        None => Ok(vec![State::Public]),
        Some(list) if list.0.is_empty() => Err(OpError::Rejected(
            "querystring/_st must match pattern \"^(PUBLIC|DRAFT|TRASH|DELETED)(,(PUBLIC|DRAFT|TRASH|DELETED))*$\""
                .to_owned(),
        )),
        Some(list) => Ok(list.0.iter().map(|s| state(*s)).collect()),
    }
}

/// The docquery state of a port state.
pub(super) fn state(state: DocState) -> State {
    match state {
        DocState::Public => State::Public,
        DocState::Draft => State::Draft,
        DocState::Trash => State::Trash,
        DocState::Deleted => State::Deleted,
    }
}

/// Validates a filter object with the CRUD `_q` rules.
fn check_filter(value: &Value) -> Result<(), OpError> {
    docquery::check_filter(value).map_err(|e| OpError::Rejected(e.0))
}

/// The `acl_rows` header: one filter or an array of filters, ANDed.
fn acl_rows(header: Option<&str>) -> Result<Vec<Value>, OpError> {
    match header {
        None => Ok(Vec::new()),
        Some(text) => docquery::parse_acl_rows(text).map_err(|e| OpError::Rejected(e.0)),
    }
}

/// `field=value`: the value coerced as Ajv would for a boolean or number field, the raw string
/// matching too (the store has no schema to tell the field's type).
fn field_filter(field: &str, value: &str) -> Result<Value, OpError> {
    if field.starts_with('_') {
        return Err(OpError::Rejected(format!(
            "querystring must NOT have additional properties. Property \"{field}\" is not defined in validation schema"
        )));
    }
    if field.is_empty() || field.contains('$') {
        return Err(OpError::Rejected(format!("Unknown field: {field}")));
    }
    Ok(docquery::field_filter(field, value))
}

/// The `filter` of a `POST /state` item: `_id` and field equalities, nothing else.
pub(super) fn state_change(item: &StateChange, at: &str) -> Result<Selection, OpError> {
    let mut id = None;
    let mut parts = Vec::new();
    for (key, value) in &item.filter {
        match key.as_str() {
            "_id" => match value {
                Value::String(s) => id = Some(s.clone()),
                _ => return Err(OpError::Rejected(format!("{at}/filter/_id must be string"))),
            },
            k if k.starts_with('_') || k.contains('$') => {
                return Err(OpError::Rejected(format!(
                    "{at}/filter must NOT have additional properties. Property \"{k}\" is not defined"
                )))
            }
            k => parts.push(json!({ k: value })),
        }
    }
    let sources = docquery::bulk_sources(state(item.state_to)).to_vec();
    Ok(Selection::new(Some(sources), id, parts))
}

/// Which fields a returned document keeps.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Projection {
    /// The whole document.
    All,
    /// Only these fields (plus `_id`).
    Include(Vec<String>),
    /// Everything but these fields.
    Exclude(Vec<String>),
    /// Only `_id`: `acl_read_columns` left no requested field.
    IdOnly,
}

impl Projection {
    /// `doc` with the projection applied.
    pub fn apply(&self, doc: Value) -> Value {
        match self {
            Self::All => doc,
            Self::Include(fields) => docquery::project(&doc, fields),
            Self::Exclude(fields) => {
                let mut doc = doc;
                for field in fields {
                    docquery::remove_path(&mut doc, field);
                }
                doc
            }
            Self::IdOnly => {
                let mut out = Map::new();
                if let Some(id) = doc.get("_id") {
                    out.insert("_id".to_owned(), id.clone());
                }
                Value::Object(out)
            }
        }
    }

    /// Narrowed to the `acl_read_columns` list (comma-separated; empty means no restriction).
    pub fn restrict(self, read_columns: Option<&str>) -> Self {
        let readable = docquery::split_list(read_columns.unwrap_or(""));
        if readable.is_empty() {
            return self;
        }
        let narrowed = match self {
            Self::All => readable,
            Self::Include(fields) => fields.into_iter().filter(|f| readable.contains(f)).collect(),
            Self::Exclude(fields) => readable.into_iter().filter(|f| !fields.contains(f)).collect(),
            Self::IdOnly => Vec::new(),
        };
        if narrowed.is_empty() {
            Self::IdOnly
        } else {
            Self::Include(narrowed)
        }
    }
}

/// A list or export query, checked.
pub(super) struct Page {
    /// What matches.
    pub selection: Selection,
    /// What each document keeps.
    pub projection: Projection,
    /// `_s`.
    pub sort: Vec<SortKey>,
    /// `_sk`.
    pub skip: usize,
    /// `_l` (`None`: no limit, export only).
    pub limit: Option<usize>,
}

/// Checks a list (`bounded`: `_l` defaults to 25, at most 200) or export query.
pub(super) fn page(
    query: &FindQuery,
    acl_rows: Option<&str>,
    read_columns: Option<&str>,
    bounded: bool,
) -> Result<Page, OpError> {
    let limit = match query.limit {
        Some(0) => return Err(OpError::Rejected("querystring/_l must be >= 1".to_owned())),
        Some(n) if bounded && n > MAX_LIMIT => {
            return Err(OpError::Rejected(format!(
                "querystring/_l must be <= {MAX_LIMIT}"
            )))
        }
        Some(n) => Some(n as usize),
        None => bounded.then_some(25),
    };
    let projection = match (&query.projection, &query.raw_projection) {
        (Some(_), Some(_)) => {
            return Err(OpError::Rejected(
                "_p and _rawp cannot be used together".to_owned(),
            ))
        }
        (Some(fields), None) => Projection::Include(docquery::split_list(&fields.join(","))),
        (None, Some(raw)) => raw_projection(raw)?,
        (None, None) => Projection::All,
    };
    let sort = match &query.sort {
        Some(spec) => docquery::parse_sort(spec).map_err(|e| OpError::Rejected(e.0))?,
        None => Vec::new(),
    };
    let scope = Scope {
        id_param: true,
        acl_rows,
        ..Scope::default()
    };
    Ok(Page {
        selection: selection(&query.filter, scope)?,
        projection: projection.restrict(read_columns),
        sort,
        skip: usize::try_from(query.skip.unwrap_or(0)).unwrap_or(usize::MAX),
        limit,
    })
}

/// `_rawp`: an inclusion or exclusion projection (`{"a":1}` / `{"a":0}`).
fn raw_projection(raw: &str) -> Result<Projection, OpError> {
    let raw =
        docquery::parse_raw_projection(raw, "the embedded store").map_err(|e| OpError::Rejected(e.0))?;
    Ok(match (raw.include.is_empty(), raw.exclude.is_empty()) {
        (false, _) => Projection::Include(raw.include),
        (true, false) => Projection::Exclude(raw.exclude),
        (true, true) => Projection::All,
    })
}
