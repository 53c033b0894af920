//! The platform: typed configuration from the environment, logging, and the wiring that builds one
//! [`domain::app::Wiring`] per cold start on the AWS adapters (the embedded default's wiring is in `embedded`).
//!
//! Architecture invariant: no business rules here, and nothing here is called per request.

pub mod config;
pub mod emf;
pub mod function_error;
pub mod logging;
pub mod partitioned;
pub mod wiring;

pub use config::{Config, ConfigError};
pub use wiring::{
    AwsResources, WiringError, aws_wiring, aws_wiring_with, create_emulated_resources, run_scheduled, sdk_config,
    settings,
};
