//! `hersys serve --demo`: a newcomer's first run shows data worth looking at. In `DATA_DIR/demo` (apart from the
//! developer's own data) it imports Oita's real line list (copied into `infra/hersys-local/demo/`, source noted
//! there), stores generated HER-SYS reports for four pilot prefectures switched to HER-SYS as their source, and
//! generated foreign entrants (entry records, and the outbreak reports of those diagnosed after entry), then runs the
//! scheduled linkage and the export once, as of the line list's last day, so that the dashboard shows the linkage
//! statistics too. Done once; the next `--demo` start reuses it.

use std::path::Path;

use anyhow::Context;
use chrono::{NaiveDate, TimeZone, Utc};
use domain::prefecture::PrefectureCode;

use crate::plural::counted;
use crate::setup::Built;

const OITA_LINELIST: &[u8] = include_bytes!("../demo/440001oitacovid19patients__2021-10-01.csv");
/// Tokyo, Kanagawa, Osaka, Fukuoka: pilot prefectures whose graphs come from HER-SYS reports.
const PILOTS: [u8; 4] = [13, 14, 27, 40];
/// Reports drawn over all prefectures by population; those of the pilots are kept (about a third).
const DRAWN: u64 = 60_000;
/// 2020-01-16 to 2021-09-26, the span of the Oita list.
const DAYS: u64 = 620;
/// Foreign entrants of the demo's linkage (about one in eleven is reported after entry).
const ENTRANTS: u64 = 3_000;

pub async fn prepare(built: &Built, data_dir: &Path) -> anyhow::Result<()> {
    let done = data_dir.join("demo.done");
    if done.exists() {
        return Ok(());
    }
    let Built::Embedded(wiring, stores) = built else {
        anyhow::bail!("--demo runs on the embedded store only (no --aws, no AWS_ENDPOINT_URL)");
    };
    eprintln!("preparing the demo data in {} (once) ...", data_dir.display());
    let linelist = data_dir.join("demo-oita-linelist.csv");
    std::fs::write(&linelist, OITA_LINELIST).with_context(|| format!("writing {}", linelist.display()))?;
    crate::import::line_list::import_linelist(
        &wiring.graph_sources(),
        &linelist,
        crate::patience::Patience { seconds: 0 },
    )
    .await?;

    let generator = synthetic::reports::Generator::new(DAYS)?;
    let pilots: Vec<PrefectureCode> = PILOTS.iter().filter_map(|&n| PrefectureCode::new(n)).collect();
    let reports: Vec<_> = (0..DRAWN).map(|i| generator.report(i)).filter(|r| pilots.contains(&r.prefecture)).collect();
    stores.insert_reports_in_bulk(&reports)?;
    let from = NaiveDate::from_ymd_opt(2020, 1, 16).context("date")?;
    for p in &pilots {
        wiring.graph_sources().set_hersys_from(*p, Some(from)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    // Entrants from June to mid-September 2021; reports of the diagnosed through the API's own operation, so that
    // the exact step links those with a passport number at once.
    let first_entry = NaiveDate::from_ymd_opt(2021, 6, 1).context("date")?;
    let travellers = synthetic::travellers::travellers(ENTRANTS, first_entry, 100);
    let (linkage, cases) = (wiring.linkage(), wiring.cases());
    for chunk in travellers.entries.chunks(domain::entry::MAX_BATCH) {
        linkage.ingest_entries(chunk).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    for report in &travellers.reports {
        cases.create_report(report).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    let now = Utc.with_ymd_and_hms(2021, 10, 1, 3, 0, 0).single().context("time")?;
    let event = serde_json::json!({ "detail-type": "Scheduled Event", "time": now, "detail": {} });
    let linked = linkage::handle(&linkage::Services::new(wiring)?, event).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = export::run(&export::Services::new(wiring)?, now, domain::app::ExportMode::Incremental)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (reports, files) = (counted(reports.len(), "report", "reports"), counted(run.files.len(), "file", "files"));
    std::fs::write(&done, format!("{reports}, {files}\n"))?;
    eprintln!(
        "demo ready: Oita's line list, {reports} generated in 4 pilot prefectures, {} ({} reported, {} linked), \
         {files} exported",
        counted(travellers.entries.len(), "entrant", "entrants"),
        travellers.reports.len(),
        linked["links"]
    );
    Ok(())
}
