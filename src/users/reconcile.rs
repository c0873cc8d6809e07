//! A reconcile pass: pages of store users and of auth users checked against each other, every
//! inconsistency counted by kind and, in repair mode, repaired where that is safe. Users with an
//! open saga, or touched within the recovery grace, are left to their saga.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::converge::{delete_auth_user, link, owed_patch, repair_user};
use super::create::input::stored_state;
use super::effects::{apply_auth_effect, AuthEffect};
use super::{auth_user_id, store_time_millis, str_field, UserResult, UserService};
use crate::auth::AuthUser;
use crate::context::CallContext;
use crate::jobs::now_millis;
use crate::jobs::pacer::Pacer;
use crate::store::{DocState, Filter};

/// Most ids a finding lists as examples.
const MAX_EXAMPLES: usize = 20;

/// Most open sagas read to know which users to leave alone.
const MAX_OPEN_SAGAS: u32 = 200;

/// Ids one `get_users` call asks for.
const IDS_PER_CALL: usize = 100;

/// A kind of inconsistency between the user store and the auth provider.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Auth users this service created whose store user is gone (repair: delete them; with
    /// `AUTH_HARD_DELETE=false`, where a deleted user's auth user stays blocked, only unblocked
    /// ones are found, and blocked).
    OrphanAuthUsers,
    /// Auth users this service created whose store user exists but is not linked (repair: link).
    UnlinkedAuthUsers,
    /// Auth users this service created whose store user is linked to another one (repair: delete).
    DuplicateAuthUsers,
    /// Store users linked to an auth user that does not exist (repair: unlink, DELETED users only).
    DanglingLinks,
    /// DELETED store users still linked with `AUTH_HARD_DELETE` (repair: delete the auth user, unlink).
    DeletedStillLinked,
    /// Store users of a group that creates auth users, not DELETED, without one (report only: a
    /// postponed creation looks the same; `POST /users/register` gives them one).
    UsersWithoutAuthUser,
    /// Linked pairs whose email or username differ (repair: the store's values to the provider).
    EmailMismatches,
    /// Linked pairs whose `blocked` does not follow the store state (repair: block or unblock).
    BlockedMismatches,
}

/// What a pass found of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// How many were found.
    pub found: u64,
    /// How many were repaired (repair mode).
    pub repaired: u64,
    /// The first ids found (store `_id`, or auth id for auth users), at most 20.
    pub examples: Vec<String>,
}

/// The findings of a pass, by kind.
pub type Findings = BTreeMap<Kind, Finding>;

/// One reconcile pass in progress.
pub struct Pass<'a> {
    svc: &'a UserService,
    ctx: &'a CallContext,
    repair: bool,
    pacer: &'a Pacer,
    grace: Duration,
    /// What was found so far.
    pub findings: Findings,
    /// Users left alone: mid-saga or touched within the grace.
    pub skipped: u64,
}

impl<'a> Pass<'a> {
    /// A pass; `repair` repairs what is safe; provider calls go through `pacer`; users touched
    /// within `grace` are skipped.
    pub fn new(
        svc: &'a UserService,
        ctx: &'a CallContext,
        repair: bool,
        pacer: &'a Pacer,
        grace: Duration,
        findings: Findings,
    ) -> Self {
        Self {
            svc,
            ctx,
            repair,
            pacer,
            grace,
            findings,
            skipped: 0,
        }
    }

    fn found(&mut self, kind: Kind, id: &str) {
        let finding = self.findings.entry(kind).or_default();
        finding.found += 1;
        if finding.examples.len() < MAX_EXAMPLES {
            finding.examples.push(id.to_owned());
        }
        metrics::counter!("ums_reconcile_found_total", "kind" => kind_name(kind)).increment(1);
    }

    fn repaired(&mut self, kind: Kind, id: &str, result: UserResult<()>) {
        match result {
            Ok(()) => {
                self.findings.entry(kind).or_default().repaired += 1;
                metrics::counter!("ums_reconcile_repaired_total", "kind" => kind_name(kind)).increment(1);
            }
            Err(e) => {
                tracing::warn!(kind = kind_name(kind), id, error.message = %e, "reconcile repair failed")
            }
        }
    }

    /// The users with an open saga.
    async fn busy(&self) -> UserResult<HashSet<String>> {
        let Some(journal) = &self.svc.journal else {
            return Ok(HashSet::new());
        };
        let open = journal.all_open(self.ctx, MAX_OPEN_SAGAS).await?;
        Ok(open.into_iter().flat_map(|i| i.user_ids).collect())
    }

    /// Whether the store says `doc` changed within the grace (a saga may still be at work).
    fn recent(&self, doc: &Value) -> bool {
        let since = now_millis() - self.grace.as_millis() as i64;
        ["updatedAt", "createdAt"]
            .iter()
            .any(|field| store_time_millis(doc, field).is_some_and(|at| at >= since))
    }

    /// Checks one page of store users against their auth users.
    pub async fn check_store_page(&mut self, docs: &[Value]) -> UserResult<()> {
        let busy = self.busy().await?;
        let settled: Vec<&Value> = docs
            .iter()
            .filter(|doc| {
                let id = str_field(doc, "_id").unwrap_or_default();
                !busy.contains(id) && !self.recent(doc)
            })
            .collect();
        self.skipped += (docs.len() - settled.len()) as u64;
        let linked: Vec<String> = settled
            .iter()
            .filter_map(|doc| auth_user_id(doc).map(str::to_owned))
            .collect();
        let mut auth = HashMap::with_capacity(linked.len());
        for chunk in linked.chunks(IDS_PER_CALL) {
            self.pacer.ready().await;
            for user in self.svc.auth.get_users(self.ctx, chunk).await? {
                auth.insert(user.id.clone(), user);
            }
        }
        for doc in settled {
            self.check_store_user(doc, &auth).await?;
        }
        Ok(())
    }

    async fn check_store_user(&mut self, doc: &Value, auth: &HashMap<String, AuthUser>) -> UserResult<()> {
        let id = str_field(doc, "_id").unwrap_or_default();
        let state = stored_state(doc);
        let kind = match auth_user_id(doc) {
            Some(auth_id) => match auth.get(auth_id) {
                None => Some((Kind::DanglingLinks, state == DocState::Deleted)),
                Some(_) if state == DocState::Deleted && self.svc.policy.hard_delete => {
                    Some((Kind::DeletedStillLinked, true))
                }
                Some(user) => {
                    let owed = owed_patch(doc, user);
                    if owed.email.is_some() || owed.username.is_some() {
                        Some((Kind::EmailMismatches, true))
                    } else if owed.blocked.is_some() {
                        Some((Kind::BlockedMismatches, true))
                    } else {
                        None
                    }
                }
            },
            None if state != DocState::Deleted && self.creates_auth_users(doc).await => {
                Some((Kind::UsersWithoutAuthUser, false))
            }
            None => None,
        };
        let Some((kind, repairable)) = kind else {
            return Ok(());
        };
        self.found(kind, id);
        if self.repair && repairable {
            self.pacer.ready().await;
            let result = repair_user(self.svc, self.ctx, id).await;
            self.repaired(kind, id, result);
        }
        Ok(())
    }

    async fn creates_auth_users(&self, doc: &Value) -> bool {
        let Some(group) = str_field(doc, "userGroup") else {
            return false;
        };
        match self.svc.groups.get(self.ctx, group).await {
            Ok(group) => !group.auth_user_creation_disabled,
            Err(_) => false,
        }
    }

    /// Checks one page of auth users: those this service created must belong to their store user.
    pub async fn check_auth_page(&mut self, users: &[AuthUser]) -> UserResult<()> {
        let busy = self.busy().await?;
        for user in users {
            let Some(store_id) = self.svc.auth.created_for(user) else {
                continue;
            };
            if busy.contains(&store_id) {
                self.skipped += 1;
                continue;
            }
            let doc = self
                .svc
                .store
                .get(&self.ctx.internal(), &store_id, &Filter::any_state())
                .await?;
            if doc.as_ref().is_some_and(|doc| self.recent(doc)) {
                self.skipped += 1;
                continue;
            }
            self.check_auth_user(user, doc.as_ref()).await;
        }
        Ok(())
    }

    async fn check_auth_user(&mut self, user: &AuthUser, doc: Option<&Value>) {
        let hard_delete = self.svc.policy.hard_delete;
        let kind = match doc {
            // With `AUTH_HARD_DELETE=false` a deleted user's auth user stays, blocked.
            None if !hard_delete && user.blocked => return,
            None => Kind::OrphanAuthUsers,
            Some(doc) => match auth_user_id(doc) {
                Some(linked) if linked == user.id => return,
                Some(_) => Kind::DuplicateAuthUsers,
                None if stored_state(doc) == DocState::Deleted && hard_delete => Kind::OrphanAuthUsers,
                None => Kind::UnlinkedAuthUsers,
            },
        };
        self.found(kind, &user.id);
        if !self.repair {
            return;
        }
        self.pacer.ready().await;
        let result = match (kind, doc) {
            (Kind::UnlinkedAuthUsers, Some(doc)) => link(self.svc, self.ctx, doc, user).await,
            (Kind::OrphanAuthUsers, None) if !hard_delete => {
                let effect = AuthEffect::Block;
                apply_auth_effect(self.svc, self.ctx, &user.id, effect)
                    .await
                    .map_err(Into::into)
            }
            _ => delete_auth_user(self.svc, self.ctx, &user.id).await,
        };
        self.repaired(kind, &user.id, result);
    }
}

/// The metric label of `kind` (its wire name).
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::OrphanAuthUsers => "orphanAuthUsers",
        Kind::UnlinkedAuthUsers => "unlinkedAuthUsers",
        Kind::DuplicateAuthUsers => "duplicateAuthUsers",
        Kind::DanglingLinks => "danglingLinks",
        Kind::DeletedStillLinked => "deletedStillLinked",
        Kind::UsersWithoutAuthUser => "usersWithoutAuthUser",
        Kind::EmailMismatches => "emailMismatches",
        Kind::BlockedMismatches => "blockedMismatches",
    }
}
