//! The workspace's integration tests, in one crate (one test binary): the storage contract run unchanged on the
//! embedded store and on DynamoDB Local, the HTTP API end to end on the real `hersys` binary, and the function
//! handlers on AWS-shaped events.
//!
//! Emulator-backed tests need `./infra/test` (or `source <(./infra/emulators env)`): they fail, never skip, when the
//! emulators' endpoints are not in the environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs each named test on both stores: a module `embedded_store` and a module `dynamodb` of `#[tokio::test]`s, each
/// calling the async test function of the same name in the calling module with that store's setup value:
///
/// ```ignore
/// on_both_stores!(embedded: Server::start(&[], &[]), dynamodb: Server::start_on_dynamodb(); test_a, test_b);
/// ```
///
/// The setup expressions are evaluated inside each test (they may `.await`), with the calling module's items in
/// scope. The DynamoDB side needs the emulators (`./infra/test`): it fails, never skips, without them.
#[cfg(test)]
macro_rules! on_both_stores {
    (embedded: $embedded:expr, dynamodb: $dynamodb:expr; $($name:ident),+ $(,)?) => {
        mod embedded_store {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test] async fn $name() { super::$name($embedded).await })+
        }
        mod dynamodb {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test] async fn $name() { super::$name($dynamodb).await })+
        }
    };
}

pub mod emulators;
pub mod export_fixture;
pub mod faults;
pub mod fixtures;
pub mod state_machines;

#[cfg(test)]
mod adapters;
#[cfg(test)]
mod audit;
#[cfg(test)]
mod cli;
#[cfg(test)]
mod contract;
#[cfg(test)]
mod dashboard;
#[cfg(test)]
mod entries;
#[cfg(test)]
mod follow_ups;
#[cfg(test)]
mod full_runs_on_step_functions;
#[cfg(test)]
mod graphs;
#[cfg(test)]
mod graphs_incremental;
#[cfg(test)]
mod handlers;
#[cfg(test)]
mod http;
#[cfg(test)]
mod import_stall;
#[cfg(test)]
mod linkage;
#[cfg(test)]
mod linkage_partitioned;
#[cfg(test)]
mod linkage_product;
#[cfg(test)]
mod linkage_run;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod processing;
#[cfg(test)]
mod reports;
