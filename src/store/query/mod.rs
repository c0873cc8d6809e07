//! Query types of the `Collection` port (`_q`, `_st`, `_p`, `_s`, `_l`, `_sk`, field filters)
//! and their encoding to / parsing from CRUD Service query strings.

use serde_json::Value;

/// The `__STATE__` of a document (contracts/crud-service.md §4): the state machine's own type.
pub use docquery::State as DocState;

/// Parses a wire name (exact, upper case, as the CRUD Service accepts it).
pub fn parse_state(text: &str) -> Result<DocState, QueryParseError> {
    DocState::parse(text).ok_or_else(|| QueryParseError::UnknownState(text.to_owned()))
}

/// `_st`: the states a filter accepts. `None` in [`Filter::state`] means the store default (PUBLIC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateFilter(pub Vec<DocState>);

impl StateFilter {
    /// Parses a comma list such as `PUBLIC,DRAFT` (empty items are an error).
    pub fn parse(text: &str) -> Result<Self, QueryParseError> {
        text.split(',')
            .map(|item| parse_state(item.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The wire form: `PUBLIC,DRAFT`.
    pub fn to_param(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        names.join(",")
    }
}

/// Why an incoming CRUD-style query string was refused; the message tells the caller what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryParseError {
    /// `_q` is not JSON, or is JSON but not an object.
    #[error("_q must be a JSON object: {0}")]
    InvalidQ(String),
    /// `_q` is an object the store would refuse (unknown operator, invalid `$regex`, ...).
    #[error("invalid _q: {0}")]
    InvalidFilter(String),
    /// A state name outside PUBLIC/DRAFT/TRASH/DELETED.
    #[error("_st must be a comma-separated list of PUBLIC, DRAFT, TRASH, DELETED: \"{0}\" is not a state")]
    UnknownState(String),
    /// `_l` is not an integer in 1..=200.
    #[error("_l must be an integer between 1 and {MAX_LIMIT}")]
    InvalidLimit,
    /// `_sk` is not an integer in 0..=i64::MAX (the stores' range).
    #[error("_sk must be an integer between 0 and {MAX_SKIP}")]
    InvalidSkip,
    /// `_useEstimate` is not `true` or `false`.
    #[error("_useEstimate must be true or false")]
    InvalidEstimate,
    /// `_p` and `_rawp` given together (the CRUD Service refuses it too).
    #[error("_p and _rawp cannot be used together: send only one of them")]
    ProjectionConflict,
    /// A parameter that may appear once was repeated.
    #[error("query parameter {0} must appear only once")]
    Repeated(String),
    /// A parameter with an empty name (`?=x`).
    #[error("query parameters must have a name")]
    EmptyName,
    /// A reserved (`_`-prefixed) parameter this route does not take.
    #[error("unknown query parameter {name}: this route accepts {allowed} and field filters")]
    UnknownParameter {
        /// The refused name.
        name: String,
        /// The reserved parameters the route accepts.
        allowed: &'static str,
    },
}

/// The largest `_l` a list accepts (CRUD `CRUD_MAX_LIMIT` default).
pub const MAX_LIMIT: u32 = 200;

/// The filter inputs every filtering route accepts, ANDed together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// `_q`: a MongoDB-style filter.
    pub q: Option<Value>,
    /// `_st`: accepted states; `None` = default (PUBLIC).
    pub state: Option<StateFilter>,
    /// `field=value` equality filters, values as they travel on the wire.
    pub fields: Vec<(String, String)>,
    /// `_id` equality (list, count, patch many, delete many, bulk patch items).
    pub id: Option<String>,
}

impl Filter {
    /// A filter matching every document whatever its `__STATE__` (the service's own reads).
    pub fn any_state() -> Self {
        Self {
            state: Some(StateFilter(DocState::ALL.to_vec())),
            ..Self::default()
        }
    }

    /// Query pairs in a stable order: `_q` (compact JSON), `_st`, `_id`, then the field pairs.
    pub fn to_query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::with_capacity(self.fields.len() + 3);
        if let Some(q) = &self.q {
            pairs.push(("_q".to_owned(), q.to_string()));
        }
        if let Some(state) = &self.state {
            pairs.push(("_st".to_owned(), state.to_param()));
        }
        if let Some(id) = &self.id {
            pairs.push(("_id".to_owned(), id.clone()));
        }
        pairs.extend(self.fields.iter().cloned());
        pairs
    }

    /// The `filter` object of a `PATCH /bulk` item: `_id`, `_st` (comma list), `_q` as a JSON
    /// **string**, and the field entries as strings.
    pub fn to_body_filter(&self) -> serde_json::Map<String, Value> {
        self.to_query_pairs()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    }

    /// Parses the filter parameters of a query string (`_q`, `_st`, `_id`, fields); any other
    /// `_`-prefixed name is refused.
    pub fn from_query_pairs(pairs: &[(String, String)]) -> Result<Self, QueryParseError> {
        let mut filter = Self::default();
        for (name, value) in pairs {
            if !filter.take(name, value)? {
                return Err(unknown(name, FILTER_PARAMS));
            }
        }
        Ok(filter)
    }

    /// Takes one pair if it is a filter input; `Ok(false)` for a reserved name it does not know.
    fn take(&mut self, name: &str, value: &str) -> Result<bool, QueryParseError> {
        match name {
            "" => return Err(QueryParseError::EmptyName),
            // An empty `_q=` is no filter, as in the CRUD Service.
            "_q" if value.is_empty() => {}
            "_q" => set_once(&mut self.q, name, parse_q(value)?)?,
            "_st" => set_once(&mut self.state, name, StateFilter::parse(value)?)?,
            "_id" => set_once(&mut self.id, name, value.to_owned())?,
            _ if name.starts_with('_') => return Ok(false),
            _ => self.fields.push((name.to_owned(), value.to_owned())),
        }
        Ok(true)
    }
}

const FILTER_PARAMS: &str = "_q, _st, _id";
const FIND_PARAMS: &str = "_q, _st, _id, _p, _rawp, _s, _l, _sk";
const COUNT_PARAMS: &str = "_q, _st, _id, _useEstimate";

fn unknown(name: &str, allowed: &'static str) -> QueryParseError {
    QueryParseError::UnknownParameter {
        name: name.to_owned(),
        allowed,
    }
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), QueryParseError> {
    if slot.is_some() {
        return Err(QueryParseError::Repeated(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

/// `_q`: a JSON object that passes the CRUD `_q` rules (`docquery::validate_filter`: known
/// operators, argument shapes, compilable `$regex`), checked here so that both stores refuse the
/// same filters with the same 400, before any call.
fn parse_q(text: &str) -> Result<Value, QueryParseError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => match docquery::validate_filter(&value) {
            Ok(()) => Ok(value),
            Err(e) => Err(QueryParseError::InvalidFilter(e.0)),
        },
        Ok(other) => Err(QueryParseError::InvalidQ(format!("found {}", json_kind(&other)))),
        Err(e) => Err(QueryParseError::InvalidQ(e.to_string())),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A list or export query: a filter plus projection, sort and paging.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindQuery {
    /// What to match.
    pub filter: Filter,
    /// `_p`: the fields to return (`_id` always comes back).
    pub projection: Option<Vec<String>>,
    /// `_rawp`: a raw projection, passed through as JSON text.
    pub raw_projection: Option<String>,
    /// `_s`: sort keys, `-` prefix for descending, as on the wire (`name,-createdAt`).
    pub sort: Option<String>,
    /// `_l`: page size (CRUD default 25, max 200 on lists; no limit on export).
    pub limit: Option<u32>,
    /// `_sk`: documents to skip.
    pub skip: Option<u64>,
}

impl FindQuery {
    /// Query pairs in a stable order: the filter's, then `_p`, `_rawp`, `_s`, `_l`, `_sk`.
    pub fn to_query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = self.filter.to_query_pairs();
        if let Some(projection) = &self.projection {
            pairs.push(("_p".to_owned(), projection.join(",")));
        }
        if let Some(raw) = &self.raw_projection {
            pairs.push(("_rawp".to_owned(), raw.clone()));
        }
        if let Some(sort) = &self.sort {
            pairs.push(("_s".to_owned(), sort.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("_l".to_owned(), limit.to_string()));
        }
        if let Some(skip) = self.skip {
            pairs.push(("_sk".to_owned(), skip.to_string()));
        }
        pairs
    }

    /// Parses the query string of a list request (`GET /users/`, contract §8): the filter
    /// inputs plus `_p`, `_rawp`, `_s` (repeats are joined with `,`), `_l` (1..=200) and `_sk`.
    /// An empty `_q`, `_p` or `_s` is the same as none.
    pub fn from_query_pairs(pairs: &[(String, String)]) -> Result<Self, QueryParseError> {
        let mut query = Self::default();
        let mut sort: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if query.filter.take(name, value)? {
                continue;
            }
            match name.as_str() {
                // An empty `_p=` is no projection (as in the CRUD Service), an empty `_s=` no sort.
                "_p" | "_s" if value.is_empty() => {}
                "_p" => set_once(&mut query.projection, name, split_list(value))?,
                "_rawp" => set_once(&mut query.raw_projection, name, value.clone())?,
                "_s" => sort.push(value),
                "_l" => set_once(&mut query.limit, name, parse_limit(value)?)?,
                "_sk" => set_once(&mut query.skip, name, parse_skip(value)?)?,
                _ => return Err(unknown(name, FIND_PARAMS)),
            }
        }
        if query.projection.is_some() && query.raw_projection.is_some() {
            return Err(QueryParseError::ProjectionConflict);
        }
        if !sort.is_empty() {
            query.sort = Some(sort.join(","));
        }
        Ok(query)
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_limit(text: &str) -> Result<u32, QueryParseError> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(QueryParseError::InvalidLimit),
    }
}

/// The largest `_sk`: MongoDB and SQLite both take a signed 64-bit skip.
pub const MAX_SKIP: u64 = i64::MAX as u64;

fn parse_skip(text: &str) -> Result<u64, QueryParseError> {
    match text.trim().parse::<u64>() {
        Ok(n) if n <= MAX_SKIP => Ok(n),
        _ => Err(QueryParseError::InvalidSkip),
    }
}

/// A count query (`GET /users/count`): a filter and `_useEstimate`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CountQuery {
    /// What to count (ignored by the store when `estimate` is set).
    pub filter: Filter,
    /// `_useEstimate=true`: count the whole collection, fast, ignoring every filter.
    pub estimate: bool,
}

impl CountQuery {
    /// Parses the query string of a count request: the filter inputs plus `_useEstimate`.
    pub fn from_query_pairs(pairs: &[(String, String)]) -> Result<Self, QueryParseError> {
        let mut filter = Filter::default();
        let mut estimate: Option<bool> = None;
        for (name, value) in pairs {
            if filter.take(name, value)? {
                continue;
            }
            if name != "_useEstimate" {
                return Err(unknown(name, COUNT_PARAMS));
            }
            let flag = match value.trim() {
                "true" => true,
                "false" => false,
                _ => return Err(QueryParseError::InvalidEstimate),
            };
            set_once(&mut estimate, name, flag)?;
        }
        Ok(Self {
            filter,
            estimate: estimate.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests;
