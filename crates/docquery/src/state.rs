//! The `__STATE__` machine: the four states, `POST /:id/state` transitions and `POST /state`
//! source states.

#[cfg(test)]
mod tests;

/// The four document states; serialized as their wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// PUBLIC
    Public,
    /// DRAFT
    Draft,
    /// TRASH
    Trash,
    /// DELETED
    Deleted,
}

impl State {
    /// Every state, in the contract's order.
    pub const ALL: [State; 4] = [Self::Public, Self::Draft, Self::Trash, Self::Deleted];

    /// Parses `PUBLIC`/`DRAFT`/`TRASH`/`DELETED`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PUBLIC" => Some(Self::Public),
            "DRAFT" => Some(Self::Draft),
            "TRASH" => Some(Self::Trash),
            "DELETED" => Some(Self::Deleted),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Draft => "DRAFT",
            Self::Trash => "TRASH",
            Self::Deleted => "DELETED",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /:id/state`: whether `from → to` is allowed (same state allowed; a document without a
/// state, `None`, may go anywhere).
///
/// PUBLIC→{PUBLIC,DRAFT,TRASH}, DRAFT→{PUBLIC,DRAFT,TRASH}, TRASH→{DRAFT,TRASH,DELETED},
/// DELETED→{TRASH,DELETED}.
pub fn transition_allowed(from: Option<State>, to: State) -> bool {
    use State::{Deleted, Draft, Public, Trash};
    match from {
        None => true,
        Some(from) if from == to => true,
        Some(Public) | Some(Draft) => matches!(to, Public | Draft | Trash),
        Some(Trash) => matches!(to, Draft | Deleted),
        Some(Deleted) => to == Trash,
    }
}

/// `POST /state`: the source states that may move to `to` (PUBLIC←{DRAFT}, DRAFT←{PUBLIC,TRASH},
/// TRASH←{PUBLIC,DRAFT,DELETED}, DELETED←{TRASH}). Documents already in `to` are not sources.
pub fn bulk_sources(to: State) -> &'static [State] {
    match to {
        State::Public => &[State::Draft],
        State::Draft => &[State::Public, State::Trash],
        State::Trash => &[State::Public, State::Draft, State::Deleted],
        State::Deleted => &[State::Trash],
    }
}
