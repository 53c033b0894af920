//! Adapters of the domain's ports on the AWS SDK for Rust: DynamoDB stores, SNS and SES v2 notifications, S3
//! exports. No business rules here: each adapter translates one port call into service calls and service answers
//! into the domain's errors.
//!
//! Architecture invariant: no error text built here contains an item value, a key, a recipient or a message body;
//! SDK failures are reduced to the service's error code (see [`sdk_error`]).

pub mod dynamo;
pub mod export;
pub mod notify;
mod sdk_error;
pub mod secrets;
pub mod step_functions;
pub mod tables;
pub mod vault;

pub use dynamo::{DynamoStores, MissingTableName, Table, TableNames};
pub use export::{S3ExportSink, S3ExportState, create_bucket, s3_client};
pub use notify::{AwsNotifier, verify_sender};
pub use secrets::fetch_secret;
pub use step_functions::StepFunctionsStarter;
pub use tables::create_tables;
pub use vault::{KmsVault, create_number_key};
