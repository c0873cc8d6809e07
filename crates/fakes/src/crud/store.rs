//! In-memory storage of one collection: insertion-ordered documents, their states, and the
//! unique and plain indexes.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use docquery::State;
use serde_json::Value;

use super::index::FieldIndex;

/// A collection with its fixed configuration and its lockable documents.
#[derive(Debug)]
pub(crate) struct CollectionCell {
    /// Endpoint path, e.g. `/users`.
    pub path: String,
    /// State given to inserted documents without `__STATE__`.
    pub default_state: State,
    /// The documents; the lock is never held across an `.await`.
    pub data: RwLock<Collection>,
}

impl CollectionCell {
    /// An empty collection.
    pub fn new(path: String, unique: &[String], indexed: &[String], default_state: State) -> Self {
        Self {
            path,
            default_state,
            data: RwLock::new(Collection::new(unique, indexed)),
        }
    }
}

/// A unique-index violation: the index field and the duplicated value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Duplicate {
    /// Field of the unique index.
    pub field: String,
    /// The value already taken.
    pub value: Value,
}

impl Duplicate {
    /// The MongoDB E11000 message the CRUD Service forwards.
    pub fn message(&self, collection: &str) -> String {
        let name = collection.trim_matches('/').replace('/', ".");
        let index = if self.field == "_id" {
            "_id_".to_owned()
        } else {
            format!("{}_1", self.field)
        };
        format!(
            "E11000 duplicate key error collection: db.{name} index: {index} dup key: {{ {field}: {value} }}",
            field = self.field,
            value = self.value
        )
    }
}

/// The documents of one collection.
#[derive(Debug)]
pub(crate) struct Collection {
    docs: BTreeMap<u64, Entry>,
    /// Documents per state (`None` last), for counts filtered by state only.
    state_counts: [usize; 5],
    seq_by_id: HashMap<String, u64>,
    next_seq: u64,
    indexes: Vec<FieldIndex>,
}

fn doc_id(doc: &Value) -> Option<&str> {
    doc.get("_id").and_then(Value::as_str)
}

impl Collection {
    /// An empty collection with unique indexes on `unique` and plain ones on `indexed`.
    pub fn new(unique: &[String], indexed: &[String]) -> Self {
        let mut indexes: Vec<FieldIndex> = unique.iter().map(|f| FieldIndex::new(f.clone(), true)).collect();
        for field in indexed {
            if !indexes.iter().any(|i| &i.field == field) {
                indexes.push(FieldIndex::new(field.clone(), false));
            }
        }
        Self {
            docs: BTreeMap::new(),
            state_counts: [0; 5],
            seq_by_id: HashMap::new(),
            next_seq: 0,
            indexes,
        }
    }

    /// Number of documents, every state included.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether a document with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.seq_by_id.contains_key(id)
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.entry(id).map(|(_, doc)| doc)
    }

    /// The document with this id and its state.
    pub fn entry(&self, id: &str) -> Option<(Option<State>, &Value)> {
        let entry = self.docs.get(self.seq_by_id.get(id)?)?;
        Some((entry.state, &entry.doc))
    }

    /// All documents in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.docs.values().map(|e| &e.doc)
    }

    /// All documents in insertion order, with their state.
    pub fn entries(&self) -> impl Iterator<Item = (Option<State>, &Value)> {
        self.docs.values().map(|e| (e.state, &e.doc))
    }

    /// How many documents are in one of `states`.
    pub fn count_states(&self, states: &[State]) -> usize {
        let mut seen = [false; 5];
        states
            .iter()
            .filter(|s| !std::mem::replace(&mut seen[state_slot(Some(**s))], true))
            .map(|s| self.state_counts[state_slot(Some(*s))])
            .sum()
    }

    /// Removes every document.
    pub fn clear(&mut self) {
        self.docs.clear();
        self.state_counts = [0; 5];
        self.seq_by_id.clear();
        for index in &mut self.indexes {
            index.clear();
        }
    }

    /// Checks the unique indexes for `doc`, ignoring the document at `except` (being replaced).
    fn check_unique(&self, doc: &Value, except: Option<u64>) -> Result<(), Duplicate> {
        for index in &self.indexes {
            if let Some(value) = index.conflict(doc, except) {
                return Err(Duplicate {
                    field: index.field.clone(),
                    value,
                });
            }
        }
        Ok(())
    }

    /// Inserts `doc` (which must carry a string `_id` not yet used) at the end.
    pub fn insert(&mut self, doc: Value) -> Result<String, InsertError> {
        let id = doc_id(&doc).ok_or(InsertError::MissingId)?.to_owned();
        if self.contains(&id) {
            return Err(InsertError::Duplicate(Duplicate {
                field: "_id".into(),
                value: Value::String(id),
            }));
        }
        self.check_unique(&doc, None).map_err(InsertError::Duplicate)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seq_by_id.insert(id.clone(), seq);
        self.put(seq, doc);
        Ok(id)
    }

    /// Replaces the document `id` with `doc` (same `_id`), keeping its position.
    pub fn replace(&mut self, id: &str, doc: Value) -> Result<(), Duplicate> {
        let Some(&seq) = self.seq_by_id.get(id) else {
            return Ok(());
        };
        self.check_unique(&doc, Some(seq))?;
        self.take(seq);
        self.put(seq, doc);
        Ok(())
    }

    /// Removes the document `id`.
    pub fn remove(&mut self, id: &str) -> Option<Value> {
        let seq = self.seq_by_id.remove(id)?;
        self.take(seq)
    }

    /// Sequence numbers, in insertion order, of the only documents that can match a filter
    /// requiring `field` to equal one of the scalar `values`, when `field` is `_id` or indexed;
    /// `None` if the indexes cannot tell.
    pub fn lookup_any(&self, field: &str, values: &[Value]) -> Option<Vec<u64>> {
        let mut seqs = Vec::with_capacity(values.len());
        if field == "_id" {
            // `_id`s are strings: any other value matches nothing.
            let ids = values.iter().filter_map(Value::as_str);
            seqs.extend(ids.filter_map(|id| self.seq_by_id.get(id).copied()));
        } else {
            let index = self.indexes.iter().find(|i| i.field == field)?;
            index.lookup(values, &mut seqs)?;
        }
        seqs.sort_unstable();
        seqs.dedup();
        Some(seqs)
    }

    /// The insertion sequence number of the document `id`.
    pub fn seq_of(&self, id: &str) -> Option<u64> {
        self.seq_by_id.get(id).copied()
    }

    /// The document stored at `seq` and its state.
    pub fn entry_at(&self, seq: u64) -> Option<(Option<State>, &Value)> {
        self.docs.get(&seq).map(|e| (e.state, &e.doc))
    }
}

impl Collection {
    fn put(&mut self, seq: u64, doc: Value) {
        for index in &mut self.indexes {
            index.add(&doc, seq);
        }
        let state = state_of(&doc);
        self.state_counts[state_slot(state)] += 1;
        self.docs.insert(seq, Entry { state, doc });
    }

    fn take(&mut self, seq: u64) -> Option<Value> {
        let entry = self.docs.remove(&seq)?;
        for index in &mut self.indexes {
            index.remove(&entry.doc, seq);
        }
        let slot = &mut self.state_counts[state_slot(entry.state)];
        *slot = slot.saturating_sub(1);
        Some(entry.doc)
    }
}

/// A stored document with its parsed `__STATE__`.
#[derive(Debug)]
struct Entry {
    state: Option<State>,
    doc: Value,
}

/// The `__STATE__` of a document (`None` when missing or not a state).
pub(crate) fn state_of(doc: &Value) -> Option<State> {
    doc.get("__STATE__")
        .and_then(Value::as_str)
        .and_then(State::parse)
}

fn state_slot(state: Option<State>) -> usize {
    match state {
        Some(State::Public) => 0,
        Some(State::Draft) => 1,
        Some(State::Trash) => 2,
        Some(State::Deleted) => 3,
        None => 4,
    }
}

/// Why [`Collection::insert`] failed.
#[derive(Debug)]
pub(crate) enum InsertError {
    /// The document has no string `_id`.
    MissingId,
    /// A unique index (or `_id`) is already taken.
    Duplicate(Duplicate),
}
