//! The workspace's integration tests, in one crate (one test binary): the storage contract run unchanged on the
//! embedded store and on DynamoDB Local, the HTTP API end to end on the real `hersys` binary, and the function
//! handlers on AWS-shaped events.
//!
//! Emulator-backed tests need `./infra/test` (or `source <(./infra/emulators env)`): they fail, never skip, when the
//! emulators' endpoints are not in the environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod emulators;
pub mod export_fixture;
pub mod fixtures;

#[cfg(test)]
mod contract;
#[cfg(test)]
mod dashboard;
#[cfg(test)]
mod entries;
#[cfg(test)]
mod graphs;
#[cfg(test)]
mod graphs_incremental;
#[cfg(test)]
mod handlers;
#[cfg(test)]
mod http;
#[cfg(test)]
mod linkage;
#[cfg(test)]
mod linkage_run;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod processing;
#[cfg(test)]
mod reports;
