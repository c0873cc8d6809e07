//! `GroupRegistry`: the group-config collection read whole, each `crudSchema` compiled once and
//! cached; reloaded when older than the ttl, on an interval and on a miss (rate limited).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::entries::{build_entries, lookup, Entry};
use super::{Group, GroupError};
use crate::config::InputLimits;
use crate::context::CallContext;
use crate::store::StoreError;
use crate::store::{Collection, FindQuery};

/// Page size of the config reads (the CRUD Service maximum).
const PAGE_SIZE: u32 = 200;
/// Safety stop for a store that ignores `_sk`: 200 000 groups.
const MAX_PAGES: u64 = 1000;
/// A miss reloads at most once in this interval; a failed load is not retried sooner either.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// What one load of the collection produced.
#[derive(Default)]
struct Snapshot {
    groups: HashMap<String, Entry>,
    /// None until the first successful load.
    loaded_at: Option<Instant>,
    /// Incremented by every successful load.
    generation: u64,
}

/// Bookkeeping of load attempts, behind a std mutex never held across `.await`.
#[derive(Default)]
struct LoadState {
    /// Load attempts completed (success or failure).
    attempts: u64,
    /// The failure of the latest attempt, when it failed.
    last_failure: Option<(Instant, StoreError)>,
    /// When a miss last triggered a load.
    last_miss_reload: Option<Instant>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// `refresh()`: always load.
    Explicit,
    /// The cache is older than the ttl.
    Stale,
    /// A name was missing from the snapshot of this generation.
    Miss(u64),
}

/// The user groups of the group-config collection, compiled and cached.
pub struct GroupRegistry {
    collection: Arc<dyn Collection>,
    ttl: Duration,
    /// The bounds every `crudSchema` is compiled under.
    limits: InputLimits,
    cache: RwLock<Arc<Snapshot>>,
    /// Single flight: one load at a time; waiters share its outcome.
    flight: tokio::sync::Mutex<()>,
    state: Mutex<LoadState>,
    /// Told the declared fields after each load (embedded mode).
    indexer: Option<Arc<super::FieldIndexer>>,
}

impl GroupRegistry {
    /// A registry over the group-config `collection`; the cache is reloaded when older than `ttl`;
    /// every `crudSchema` is compiled under `limits` (one that is refused makes its group
    /// unusable). Nothing is read until the first `get` or `refresh`.
    pub fn new(collection: Arc<dyn Collection>, ttl: Duration, limits: InputLimits) -> Self {
        Self {
            collection,
            ttl,
            limits,
            cache: RwLock::new(Arc::new(Snapshot::default())),
            flight: tokio::sync::Mutex::new(()),
            state: Mutex::new(LoadState::default()),
            indexer: None,
        }
    }

    /// The registry telling `indexer` the fields its groups declare after each load.
    pub fn with_indexer(mut self, indexer: Arc<super::FieldIndexer>) -> Self {
        self.indexer = Some(indexer);
        self
    }

    /// The group, compiled; refreshes the whole cache when it is older than ttl or when `name`
    /// is missing (a miss triggers at most one reload per second, so a flood of unknown groups
    /// cannot hammer the store). When a reload fails, a group already cached is still served.
    pub async fn get(&self, ctx: &CallContext, name: &str) -> Result<Arc<Group>, GroupError> {
        let mut snapshot = self.snapshot();
        let mut reloaded = false;
        if self.is_stale(&snapshot) {
            match self.reload(ctx, Trigger::Stale).await {
                Ok(fresh) => {
                    reloaded = fresh.generation != snapshot.generation;
                    snapshot = fresh;
                }
                Err(error) if snapshot.groups.contains_key(name) => {
                    tracing::debug!(error = %error, user_group = name, "serving a cached group: reload failed");
                }
                Err(error) => return Err(GroupError::Store(error)),
            }
        }
        if let Some(entry) = snapshot.groups.get(name) {
            return lookup(name, entry);
        }
        if !reloaded {
            snapshot = self.reload(ctx, Trigger::Miss(snapshot.generation)).await?;
        }
        match snapshot.groups.get(name) {
            Some(entry) => lookup(name, entry),
            None => Err(GroupError::Unknown(name.to_owned())),
        }
    }

    /// Every usable group, sorted by name (reloaded first when the cache is stale; a failed
    /// reload serves the cache).
    pub async fn usable(&self, ctx: &CallContext) -> Result<Vec<Arc<Group>>, GroupError> {
        let mut snapshot = self.snapshot();
        if self.is_stale(&snapshot) {
            match self.reload(ctx, Trigger::Stale).await {
                Ok(fresh) => snapshot = fresh,
                Err(error) if snapshot.loaded_at.is_some() => {
                    tracing::debug!(error = %error, "serving the cached groups: reload failed");
                }
                Err(error) => return Err(GroupError::Store(error)),
            }
        }
        let mut groups: Vec<Arc<Group>> = snapshot
            .groups
            .values()
            .filter_map(Entry::usable)
            .cloned()
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// Reloads now (startup, interval task). On failure the previous cache stays in use.
    pub async fn refresh(&self, ctx: &CallContext) -> Result<(), StoreError> {
        self.reload(ctx, Trigger::Explicit).await.map(|_| ())
    }

    /// Groups whose crudSchema does not compile: (userGroup, reason), sorted by name, for
    /// `/-/check-up` warnings.
    pub fn invalid_groups(&self) -> Vec<(String, String)> {
        let snapshot = self.snapshot();
        let mut invalid: Vec<(String, String)> = snapshot
            .groups
            .iter()
            .filter_map(|(name, entry)| match entry {
                Entry::Invalid { reason, .. } => Some((name.clone(), reason.clone())),
                Entry::Usable(_) => None,
            })
            .collect();
        invalid.sort();
        invalid
    }

    /// The bounds the group schemas are compiled under.
    pub fn limits(&self) -> &InputLimits {
        &self.limits
    }

    /// Whether a load has ever succeeded (for `/-/ready`).
    pub fn is_loaded(&self) -> bool {
        self.snapshot().loaded_at.is_some()
    }

    /// Spawns the interval task: `refresh` every `every` (the first after `every`) until
    /// `shutdown` is cancelled; failures are logged and the previous cache kept.
    pub fn spawn_refresher(
        self: &Arc<Self>,
        every: Duration,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let registry = Arc::clone(self);
        tokio::spawn(async move {
            // The first refresh comes after `every`: startup has just loaded.
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let ctx = CallContext::background(format!("group-registry-{}", uuid::Uuid::new_v4()));
                // The failure is logged by `load`.
                let _ = registry.refresh(&ctx).await;
            }
        })
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.cache.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn state(&self) -> MutexGuard<'_, LoadState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stale(&self, snapshot: &Snapshot) -> bool {
        snapshot.loaded_at.is_none_or(|at| at.elapsed() >= self.ttl)
    }

    /// Loads the collection unless `trigger` no longer needs it; one load at a time, and a
    /// caller that waited for another's load gets that load's outcome.
    async fn reload(&self, ctx: &CallContext, trigger: Trigger) -> Result<Arc<Snapshot>, StoreError> {
        let seen = {
            let state = self.state();
            if trigger != Trigger::Explicit {
                if let Some((at, error)) = &state.last_failure {
                    if at.elapsed() < RETRY_INTERVAL {
                        return Err(error.clone());
                    }
                }
            }
            state.attempts
        };
        let _flight = self.flight.lock().await;
        let current = self.snapshot();
        {
            let mut state = self.state();
            if state.attempts != seen {
                return match &state.last_failure {
                    Some((_, error)) => Err(error.clone()),
                    None => Ok(current),
                };
            }
            let needed = match trigger {
                Trigger::Explicit => true,
                Trigger::Stale => self.is_stale(&current),
                Trigger::Miss(generation) if generation != current.generation => false,
                Trigger::Miss(_) => {
                    let allowed = state
                        .last_miss_reload
                        .is_none_or(|at| at.elapsed() >= RETRY_INTERVAL);
                    if allowed {
                        state.last_miss_reload = Some(Instant::now());
                    }
                    allowed
                }
            };
            if !needed {
                return Ok(current);
            }
        }
        let result = self.load(ctx, &current).await;
        let mut state = self.state();
        state.attempts += 1;
        state.last_failure = match &result {
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(error = %error, "group registry: reading the group config failed");
                Some((Instant::now(), error.clone()))
            }
        };
        result
    }

    /// Reads every page, compiles what changed since `previous`, swaps the cache.
    async fn load(&self, ctx: &CallContext, previous: &Snapshot) -> Result<Arc<Snapshot>, StoreError> {
        let docs = self.read_all(ctx).await?;
        let groups = build_entries(docs, &previous.groups, &self.limits);
        let snapshot = Arc::new(Snapshot {
            groups,
            loaded_at: Some(Instant::now()),
            generation: previous.generation + 1,
        });
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&snapshot);
        if let Some(indexer) = &self.indexer {
            let usable = snapshot.groups.values().filter_map(Entry::usable);
            indexer.sync(super::FieldIndexer::declared_fields(usable));
        }
        Ok(snapshot)
    }

    /// Every PUBLIC document of the collection, 200 a page sorted by `_id`, until a short page.
    async fn read_all(&self, ctx: &CallContext) -> Result<Vec<Value>, StoreError> {
        let mut docs = Vec::new();
        for page in 0..MAX_PAGES {
            let query = FindQuery {
                sort: Some("_id".to_owned()),
                limit: Some(PAGE_SIZE),
                skip: Some(page * u64::from(PAGE_SIZE)),
                ..FindQuery::default()
            };
            let batch = self.collection.find(ctx, &query).await?;
            let short = batch.len() < PAGE_SIZE as usize;
            docs.extend(batch);
            if short {
                return Ok(docs);
            }
        }
        tracing::warn!(
            collection = self.collection.path(),
            "group registry: stopped reading the group config after {MAX_PAGES} pages"
        );
        Ok(docs)
    }
}
