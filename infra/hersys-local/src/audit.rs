//! `hersys audit`: the local audit of views of personal data, oldest first. Events hold ids, roles and
//! routes only, so the listing shows no personal value. In AWS, operators read it through `GET /v1/audit`.

use std::path::Path;

use anyhow::Context;

pub fn run(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let db = crate::setup::existing_store(data_dir)?;
    let stores = embedded::SqliteStores::open(&db).context("opening the local store")?;
    for e in stores.all_audit_events()? {
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if json {
            let line = serde_json::json!({
                "event_id": e.event_id, "at": at, "subject": e.subject, "role": e.role,
                "health_center_code": e.health_center_code, "report_id": e.report_id.as_str(),
                "records_shown": e.records_shown, "route": e.route,
            });
            println!("{line}");
        } else {
            let records = e.records_shown.join(",");
            println!(
                "{at}\t{}\t{}\t{}\t{}\t{}\t{records}",
                e.health_center_code, e.subject, e.role, e.route, e.report_id
            );
        }
    }
    Ok(())
}
