//! `hersys serve`: the HTTP API on 127.0.0.1 and the schedules as timers, until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use domain::app::Wiring;

use crate::Backend;
use crate::invoke;
use crate::schedules::{SCHEDULES, Target};
use crate::setup::Built;

pub async fn run(backend: &Backend, port: u16, schedules: bool, demo: bool) -> anyhow::Result<()> {
    let built = crate::setup::build_creating_store(backend).await?;
    if demo {
        crate::demo::prepare(&built, &backend.data_dir).await?;
    }
    let wiring = built.wiring().clone();
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    if schedules {
        for schedule in SCHEDULES {
            tokio::spawn(fire_every(wiring.clone(), schedule));
        }
    }
    // The token key exists before anyone is told where to reach the server, so `hersys token` finds it.
    let verifier = crate::auth::Verifier::new(&backend.data_dir)?;
    // The one line a person (or a test) needs: where to reach it, the API and the dashboard.
    println!(
        "hersys listening on http://{addr} (store: {}, data: {}); dashboard at http://{addr}/",
        built.describe(),
        backend.data_dir.display()
    );
    if !demo && store_is_empty(&wiring).await {
        // On stderr: stdout's first line is the address (tests and scripts read it).
        eprintln!("{}", empty_store_hint(backend, matches!(built, Built::Embedded(..))));
    }
    platform::logging::flush();
    // The token check inside the request id's layer: its 401 carries an x-request-id and leaves a log line too.
    let routes = api::routes(wiring.app()).layer(axum::middleware::from_fn_with_state(verifier, crate::auth::verify));
    let router = api::with_request_id(routes);
    // The public dashboard and its data, beside the API and outside its authentication.
    let router = router.merge(crate::dashboard::router(&backend.data_dir));
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// What to do with an empty store, as commands to copy: each carries the flags that reach this server's data
/// (`--data-dir` unless it is the default, `--aws` if given). The demo is offered on the embedded store only.
fn empty_store_hint(backend: &Backend, embedded: bool) -> String {
    let data_dir = crate::setup::data_dir_flag(&backend.data_dir);
    let aws = if backend.aws { " --aws" } else { "" };
    let demo = if embedded {
        format!(
            " To look around, start on demo data instead: `hersys serve --demo{data_dir}` (kept apart, in {}).",
            backend.data_dir.join("demo").display()
        )
    } else {
        String::new()
    };
    format!(
        "The store is empty, so the dashboard has nothing to show yet.{demo} To load your own: `hersys import \
         entries|linelist FILE.csv{data_dir}{aws}`, and reports through POST /v1/reports (a token from `hersys token \
         --role health_center --health-center CODE{data_dir}`)."
    )
}

/// Whether no report is stored (one page of one item, not a count of the table).
async fn store_is_empty(wiring: &Wiring) -> bool {
    let first = domain::ports::Segment { index: 0, of: 1 };
    wiring.ports.reports.reports_in_segment(first, None, 1).await.is_ok_and(|page| page.items.is_empty())
}

/// Runs `FullLinkageStateMachine`'s execution `input` (`{"estimate": {...}}`, optionally `"partitions": N`) in this
/// process, as `hersys relink` does.
async fn full_linkage(wiring: &Wiring, input: &serde_json::Value) -> anyhow::Result<()> {
    let input: linkage::full::RunInput =
        serde_json::from_value(input.clone()).context("the schedule's input is not the state machine's")?;
    let (relink, publisher) = (wiring.relink()?, wiring.publisher()?);
    let answer = linkage::full::run_partitioned(&relink, &publisher, input, 3, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(model = %answer["model_version"], links = %answer["links"], "daily linkage run done");
    Ok(())
}

/// Fires one scheduled function with an event whose `time` is the tick's instant, as EventBridge Scheduler would.
/// The first tick of a daily schedule waits a day (the first run of `hersys serve` is the hourly one).
async fn fire_every(wiring: Wiring, schedule: &'static crate::schedules::Schedule) {
    let start = if schedule.period > std::time::Duration::from_secs(3600) {
        tokio::time::Instant::now() + schedule.period
    } else {
        tokio::time::Instant::now()
    };
    let mut ticker = tokio::time::interval_at(start, schedule.period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let detail: serde_json::Value = serde_json::from_str(schedule.detail).unwrap_or_default();
    loop {
        ticker.tick().await;
        let event = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339(), "detail-type": "Scheduled Event", "source": "hersys.local",
            "detail": detail,
        });
        let fired = match schedule.target {
            Target::Function(function) => invoke::scheduled(&wiring, function, event).await.map(drop),
            Target::FullLinkage => full_linkage(&wiring, &detail).await,
        };
        if let Err(e) = fired {
            tracing::error!(target = ?schedule.target, event = schedule.event, error = %e, "scheduled run failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn hint(data_dir: &str, aws: bool) -> String {
        empty_store_hint(&Backend { data_dir: PathBuf::from(data_dir), aws }, !aws)
    }

    #[test]
    fn the_hints_carry_the_data_dir_unless_it_is_the_default() {
        let default = hint(crate::DEFAULT_DATA_DIR, false);
        assert!(default.contains("`hersys serve --demo`"), "{default}");
        assert!(default.contains("`hersys import entries|linelist FILE.csv`"), "{default}");
        assert!(!default.contains("--data-dir"), "{default}");

        let other = hint("/srv/hersys data", false);
        assert!(other.contains("`hersys serve --demo --data-dir '/srv/hersys data'`"), "{other}");
        assert!(other.contains("`hersys import entries|linelist FILE.csv --data-dir '/srv/hersys data'`"), "{other}");
        assert!(other.contains("--health-center CODE --data-dir '/srv/hersys data'`"), "{other}");

        let aws = hint("/srv/keys", true);
        assert!(aws.contains("`hersys import entries|linelist FILE.csv --data-dir /srv/keys --aws`"), "{aws}");
        assert!(!aws.contains("--demo"), "the demo runs on the embedded store only: {aws}");
    }
}
