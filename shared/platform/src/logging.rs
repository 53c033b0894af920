//! JSON logs through `tracing`. Span fields are flattened into every line, so the request id of the enclosing
//! span (Lambda's `requestId`, or the local server's `request_id`) is on each line.
//!
//! Personal data never reaches a log: its types redact `Debug` and `Display`, and no layer logs event payloads.

use std::io::Write;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber for the process, writing to stdout (Lambda ships stdout to CloudWatch Logs).
/// Level from `RUST_LOG` (default `info`). Safe to call twice: the second call does nothing.
pub fn init() {
    init_with_writer(std::io::stdout);
}

pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .try_init();
}

/// Plain text logs for a person at a terminal (`hersys` commands other than `serve`).
pub fn init_human() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Flushes stdout; called before a process exits on purpose.
pub fn flush() {
    let _ = std::io::stdout().flush();
}
