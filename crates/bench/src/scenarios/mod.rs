//! The scenarios of `ums-bench`, one module each.

mod activation;
mod change_password;
mod chaos;
mod embedded;
mod export;
mod import;
mod list;
mod proxy;
mod scale;

use crate::Options;

/// Scenario names, in the order `all` runs them.
pub const NAMES: [&str; 5] = ["list", "import", "activation", "change-password", "embedded"];

/// Scenarios only run when named (not part of `all`).
pub const EXTRA: [&str; 4] = ["chaos", "export", "scale", "proxy"];

/// Runs the scenario `name` (one of [`NAMES`] or [`EXTRA`]); false when it failed its check
/// (only `chaos` has one: an inconsistency left).
pub async fn run(name: &str, opts: &Options) -> bool {
    match name {
        "list" => list::run(opts).await,
        "import" => import::run(opts).await,
        "activation" => activation::run(opts).await,
        "change-password" => change_password::run(opts).await,
        "embedded" => embedded::run(opts).await,
        "export" => export::run(opts).await,
        "scale" => scale::run(opts).await,
        "proxy" => proxy::run(opts).await,
        "chaos" => return chaos::run(opts).await,
        other => eprintln!("unknown scenario {other}"),
    }
    true
}
