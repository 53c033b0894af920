//! Metrics as CloudWatch Embedded Metric Format: one JSON object per line on stdout, which Lambda ships to
//! CloudWatch Logs and CloudWatch turns into metrics without any API call on the request path.

use std::io::Write;
use std::sync::Mutex;

use domain::ports::Metrics;
use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "HerSys";

pub struct EmfMetrics {
    out: Mutex<Box<dyn Write + Send>>,
}

impl EmfMetrics {
    pub fn stdout() -> Self {
        Self::to_writer(Box::new(std::io::stdout()))
    }

    pub fn to_writer(out: Box<dyn Write + Send>) -> Self {
        Self { out: Mutex::new(out) }
    }
}

/// One EMF document for one metric value.
pub fn document(name: &str, dimensions: &[(&'static str, String)], value: f64, timestamp_ms: i64) -> Value {
    let mut doc = Map::new();
    let dimension_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    doc.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimension_names],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).to_owned(), Value::String(v.clone()));
    }
    doc.insert(name.to_owned(), json!(value));
    Value::Object(doc)
}

impl Metrics for EmfMetrics {
    fn count(&self, name: &'static str, dimensions: &[(&'static str, String)], value: f64) {
        let line = document(name, dimensions, value, chrono::Utc::now().timestamp_millis()).to_string();
        if let Ok(mut out) = self.out.lock() {
            // Metrics must never fail the operation they describe.
            let _ = writeln!(out, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_is_one_emf_document_cloudwatch_accepts() {
        let doc = document("Redeemed", &[("Generation", "2".into())], 1.0, 1_612_137_600_000);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "HerSys");
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Generation"]]));
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0], json!({"Name": "Redeemed", "Unit": "Count"}));
        assert_eq!(doc["_aws"]["Timestamp"], 1_612_137_600_000i64);
        assert_eq!(doc["Generation"], "2");
        assert_eq!(doc["Redeemed"], 1.0);
    }

    #[test]
    fn lines_go_to_the_writer() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let m = EmfMetrics::to_writer(Box::new(buf.clone()));
        m.count("Issued", &[("Channel", "sms".into())], 1.0);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let doc: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(doc["Issued"], 1.0);
    }
}
