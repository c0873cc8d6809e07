//! The scenarios of `ums-bench`, one module each.

mod activation;
mod change_password;
mod embedded;
mod import;
mod list;

use crate::Options;

/// Scenario names, in the order `all` runs them.
pub const NAMES: [&str; 5] = ["list", "import", "activation", "change-password", "embedded"];

/// Runs the scenario `name` (one of [`NAMES`]).
pub async fn run(name: &str, opts: &Options) {
    match name {
        "list" => list::run(opts).await,
        "import" => import::run(opts).await,
        "activation" => activation::run(opts).await,
        "change-password" => change_password::run(opts).await,
        "embedded" => embedded::run(opts).await,
        other => eprintln!("unknown scenario {other}"),
    }
}
