//! Imports ride out a stall of the store: `hersys import entries --aws` through a TCP proxy in front of the real
//! DynamoDB Local that, mid-import, drops every connection for a few seconds (a failover, a paused instance). The
//! import waits and goes on, every row stored; a stall longer than `--retry-for` stops it with the store's message.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::http::{hersys_bench_bin, hersys_bin};

/// Forwards connections to `upstream`; while stalled, refuses new ones and cuts the open ones.
struct Proxy {
    addr: SocketAddr,
    stalled: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stalled = Arc::new(AtomicBool::new(false));
        let (cut, cuts) = watch::channel(0u64);
        let flag = stalled.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let (upstream, mut cuts) = (upstream.clone(), cuts.clone());
                // Only a cut after this connection opened ends it (a clone has not seen the current value).
                cuts.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, stalled, cut }
    }

    fn stall(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
        if on {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}

fn generate(file: &Path, rows: u32) {
    let out = Command::new(hersys_bench_bin())
        .args(["gen", "entries", &rows.to_string(), "--out"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Items in a table (every page of a counting Scan), read directly (not through the proxy); 0 before it exists.
async fn count(client: &aws_sdk_dynamodb::Client, table: &str) -> i32 {
    let scan = client.scan().table_name(table).select(aws_sdk_dynamodb::types::Select::Count);
    let pages = scan.into_paginator().send().collect::<Vec<_>>().await;
    pages.into_iter().map(|page| page.map_or(0, |p| p.count)).sum()
}

/// Starts `hersys import entries FILE --aws` through the proxy, stalls the store once it has stored `after` rows,
/// for `stall`, and returns the exit status, the summary (stdout) and stderr.
async fn import_through_a_stall(rows: u32, after: i32, stall: Duration, retry_for: u64) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.csv");
    generate(&file, rows);
    let ddb = crate::emulators::endpoint("AWS_ENDPOINT_URL_DYNAMODB");
    let proxy = Proxy::start(ddb.trim_start_matches("http://").trim_end_matches('/').to_owned()).await;
    let tables = aws_adapters::TableNames::with_prefix(&format!("st{}", uuid::Uuid::new_v4().simple()));
    let child = Command::new(hersys_bin())
        .args(["import", "entries"])
        .arg(&file)
        .args(["--json", "--aws", "--retry-for", &retry_for.to_string(), "--data-dir"])
        .arg(dir.path())
        .env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{}", proxy.addr))
        .env("AWS_ENDPOINT_URL", crate::emulators::endpoint("AWS_ENDPOINT_URL"))
        .envs(tables.env_vars())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = aws_sdk_dynamodb::Client::new(&crate::emulators::sdk_config().await);
    let table = tables.get(aws_adapters::Table::Entries).to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count(&client, &table).await < after {
        assert!(std::time::Instant::now() < deadline, "the import never got going");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.stall(true);
    tokio::time::sleep(stall).await;
    proxy.stall(false);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let stored = count(&client, &table).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        let written = summary["created"].as_u64().unwrap() + summary["unchanged"].as_u64().unwrap();
        assert_eq!((summary["rows"].as_u64(), written), (Some(u64::from(rows)), u64::from(rows)), "{summary}");
        assert_eq!(stored, i32::try_from(rows).unwrap(), "every row stored, none twice");
    }
    (out.status.success(), stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_waits_out_a_stall_of_the_store_and_stores_every_row() {
    let (ok, stdout, stderr) = import_through_a_stall(6_000, 1_000, Duration::from_secs(6), 300).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("store unavailable: retrying"), "the wait is said: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_longer_than_the_limit_stops_the_import_with_the_stores_message() {
    let (ok, stdout, stderr) = import_through_a_stall(6_000, 1_000, Duration::from_secs(10), 2).await;
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("storage unavailable") && stderr.contains("running it again is safe"), "{stderr}");
}
