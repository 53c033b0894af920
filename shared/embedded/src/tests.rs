//! Focused tests of this crate's own pieces and of the trickier store semantics. The full storage contract runs
//! in the workspace's `tests/` crate against this store and the DynamoDB one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, TimeZone, Utc};
use domain::cycle::{Channel, Cycle, CycleId, CycleState, IssuedNumber, NumberState};
use domain::error::{NotifyError, StoreError};
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use domain::keyed_hash::KeyedHash;
use domain::pii::{Email, PhoneNumber};
use domain::ports::{CycleStore, ExportSink, IdempotencyStore, Notifier, OutgoingMessage, Recipient};
use domain::report::ReportId;
use domain::time::Instant;

use crate::{DirExportSink, Outbox, SqliteStores};

fn t0() -> Instant {
    Utc.with_ymd_and_hms(2021, 2, 3, 3, 0, 0).unwrap()
}

fn hash(s: &str) -> KeyedHash {
    KeyedHash::from_stored(format!("pn:{s}"))
}

fn cycle(due: Option<Instant>) -> Cycle {
    Cycle {
        id: CycleId::generate(),
        report_id: ReportId::generate(),
        health_center_code: "131016".into(),
        channel: Channel::Sms,
        language: domain::report::Language::Ja,
        state: CycleState::Active,
        numbers: Vec::new(),
        reminder: None,
        redeemed_generation: None,
        next_due_at: due,
        created_at: t0(),
        ended_at: None,
    }
}

fn number(cycle: &Cycle, h: &str) -> IssuedNumber {
    IssuedNumber {
        hash: hash(h),
        cycle_id: cycle.id.clone(),
        generation: 0,
        state: NumberState::Live,
        issued_at: t0(),
        expires_at: t0() + Duration::hours(1),
        purge_after: t0() + Duration::days(30),
    }
}

fn sms(to: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        to: Recipient::Sms(PhoneNumber::parse("p", to).unwrap()),
        subject: String::new(),
        body: body.into(),
    }
}

#[tokio::test]
async fn advance_cycle_is_all_or_nothing() {
    let s = SqliteStores::open_in_memory().unwrap();
    let (c1, c2) = (cycle(Some(t0())), cycle(None));
    let (a, b) = (number(&c1, "a"), number(&c2, "b"));
    s.create_cycle(&c1, &a).await.unwrap();
    s.create_cycle(&c2, &b).await.unwrap();

    // GIVEN a new number whose hash is taken WHEN advancing THEN nothing of the transaction is written.
    let next = Cycle { redeemed_generation: Some(1), next_due_at: None, ..c1.clone() };
    let expired = IssuedNumber { state: NumberState::Expired, ..a.clone() };
    let taken = IssuedNumber { cycle_id: c1.id.clone(), ..b.clone() };
    assert!(matches!(
        s.advance_cycle(&next, 1, std::slice::from_ref(&expired), Some(&taken)).await,
        Err(StoreError::AlreadyExists)
    ));
    // A changed record that does not exist cancels it too.
    let ghost = number(&c1, "ghost");
    assert!(matches!(
        s.advance_cycle(&next, 1, &[expired.clone(), ghost], None).await,
        Err(StoreError::TransactionCancelled(_))
    ));

    let stored = s.get_cycle(&c1.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.value), (1, c1.clone()));
    assert_eq!(s.get_number(&a.hash, t0()).await.unwrap(), Some(a.clone()));
    assert_eq!(s.due_cycles(t0(), 10).await.unwrap(), vec![c1.id.clone()]);

    // Stale and missing cycles are told apart.
    assert!(matches!(s.advance_cycle(&next, 7, &[], None).await, Err(StoreError::VersionConflict { expected: 7 })));
    assert!(matches!(s.advance_cycle(&cycle(None), 1, &[], None).await, Err(StoreError::NotFound)));

    // WHEN every condition holds THEN all of it is written, and the finished cycle leaves the due index.
    let fresh = number(&c1, "c");
    assert_eq!(s.advance_cycle(&next, 1, std::slice::from_ref(&expired), Some(&fresh)).await.unwrap(), 2);
    assert_eq!(s.get_number(&a.hash, t0()).await.unwrap(), Some(expired));
    assert_eq!(s.get_number(&fresh.hash, t0()).await.unwrap(), Some(fresh));
    assert!(s.due_cycles(t0() + Duration::days(365), 10).await.unwrap().is_empty());
    assert_eq!(s.cycles_of_report(&c1.report_id).await.unwrap()[0].version, 2);
}

#[tokio::test]
async fn create_cycle_writes_nothing_if_the_first_number_is_taken() {
    let s = SqliteStores::open_in_memory().unwrap();
    let c1 = cycle(None);
    s.create_cycle(&c1, &number(&c1, "a")).await.unwrap();
    let c2 = cycle(Some(t0()));
    assert!(matches!(s.create_cycle(&c2, &number(&c2, "a")).await, Err(StoreError::AlreadyExists)));
    assert!(s.get_cycle(&c2.id).await.unwrap().is_none());
}

#[tokio::test]
async fn numbers_past_purge_after_read_as_absent() {
    let s = SqliteStores::open_in_memory().unwrap();
    let c = cycle(None);
    let n = number(&c, "a");
    s.create_cycle(&c, &n).await.unwrap();
    assert!(s.get_number(&n.hash, n.purge_after - Duration::milliseconds(1)).await.unwrap().is_some());
    assert!(s.get_number(&n.hash, n.purge_after).await.unwrap().is_none());
}

#[tokio::test]
async fn due_cycles_are_oldest_first_and_limited() {
    let s = SqliteStores::open_in_memory().unwrap();
    let (late, early, future) =
        (cycle(Some(t0())), cycle(Some(t0() - Duration::minutes(5))), cycle(Some(t0() + Duration::seconds(1))));
    for (i, c) in [&late, &early, &future].into_iter().enumerate() {
        s.create_cycle(c, &number(c, &i.to_string())).await.unwrap();
    }
    assert_eq!(s.due_cycles(t0(), 10).await.unwrap(), vec![early.id.clone(), late.id]);
    assert_eq!(s.due_cycles(t0(), 1).await.unwrap(), vec![early.id]);
}

#[tokio::test]
async fn idempotency_claims_expire_and_complete() {
    let s = SqliteStores::open_in_memory().unwrap();
    let claim = |payload: &str, lock: Instant| IdempotencyRecord {
        key: hash("key"),
        payload_hash: payload.into(),
        state: IdempotencyState::InProgress { lock_expires_at: lock },
        expires_at: t0() + Duration::hours(24),
    };
    let lock = t0() + Duration::seconds(30);
    assert_eq!(s.claim(&claim("p", lock), t0()).await.unwrap(), Claim::Acquired);
    assert_eq!(s.claim(&claim("p", lock), t0()).await.unwrap(), Claim::InProgress);
    assert_eq!(s.claim(&claim("q", lock), t0()).await.unwrap(), Claim::PayloadMismatch);

    // An abandoned lock is taken over once it expires.
    let later = lock + Duration::seconds(1);
    assert_eq!(s.claim(&claim("p", later + Duration::seconds(30)), lock).await.unwrap(), Claim::Acquired);

    s.complete(&hash("key"), "{\"ok\":1}", t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(s.claim(&claim("p", later), later).await.unwrap(), Claim::Completed { response: "{\"ok\":1}".into() });
    assert_eq!(s.claim(&claim("q", later), later).await.unwrap(), Claim::PayloadMismatch);
    // Release leaves a completed answer alone.
    s.release(&hash("key")).await.unwrap();
    assert!(matches!(s.claim(&claim("p", later), later).await.unwrap(), Claim::Completed { .. }));

    // An expired answer is taken over; a released claim may be taken again.
    let after = t0() + Duration::hours(1);
    assert_eq!(s.claim(&claim("q", after + Duration::seconds(30)), after).await.unwrap(), Claim::Acquired);
    s.release(&hash("key")).await.unwrap();
    assert_eq!(s.claim(&claim("q", after + Duration::seconds(30)), after).await.unwrap(), Claim::Acquired);
    assert!(matches!(s.complete(&hash("other"), "x", after).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn the_schema_opens_twice_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/hersys.sqlite3");
    let first = SqliteStores::open(&path).unwrap();
    let c = cycle(Some(t0()));
    first.create_cycle(&c, &number(&c, "a")).await.unwrap();

    // A second opening, while the first is live, neither fails nor loses data; a third after both are gone too.
    let second = SqliteStores::open(&path).unwrap();
    assert_eq!(second.get_cycle(&c.id).await.unwrap().unwrap().value, c);
    drop((first, second));
    let third = SqliteStores::open(&path).unwrap();
    assert_eq!(third.due_cycles(t0(), 10).await.unwrap(), vec![c.id.clone()]);
    let keys = third.all_key_values().unwrap();
    assert!(
        keys.contains(&format!("cycle#{}", c.id.as_str())) && keys.contains(&format!("number#{}", hash("a").as_str()))
    );
}

#[tokio::test]
async fn the_outbox_records_messages_in_order() {
    let outbox = Outbox::open_in_memory().unwrap();
    let d1 = outbox.send(&sms("090-1234-5678", "番号 12345678")).await.unwrap();
    let mail = OutgoingMessage {
        to: Recipient::Email(Email::parse("e", "an@example.jp").unwrap()),
        subject: "Your number".into(),
        body: "12345678".into(),
    };
    let d2 = outbox.send(&mail).await.unwrap();

    let got = outbox.messages().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].channel, got[0].recipient.as_str(), got[0].body.as_str()),
        (Channel::Sms, "+819012345678", "番号 12345678")
    );
    assert_eq!(
        (got[1].channel, got[1].recipient.as_str(), got[1].subject.as_str()),
        (Channel::Email, "an@example.jp", "Your number")
    );
    assert_eq!((d1.accepted_at, d2.accepted_at), (got[0].at, got[1].at));
    assert_ne!(d1.message_id, d2.message_id);
    assert!(got[0].id < got[1].id);
}

#[tokio::test]
async fn opted_out_phones_get_no_sms() {
    let outbox = Outbox::open_in_memory().unwrap();
    let phone = PhoneNumber::parse("p", "090-1234-5678").unwrap();
    assert!(!outbox.is_opted_out(&phone).await.unwrap());
    outbox.opt_out(&phone).unwrap();
    outbox.opt_out(&phone).unwrap();
    assert!(outbox.is_opted_out(&phone).await.unwrap());
    assert!(!outbox.is_opted_out(&PhoneNumber::parse("p", "090-0000-0000").unwrap()).await.unwrap());
    assert!(matches!(outbox.send(&sms("09012345678", "x")).await, Err(NotifyError::OptedOut)));
    assert!(outbox.messages().unwrap().is_empty());
}

#[tokio::test]
async fn another_process_reads_the_outbox_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hersys.sqlite3");
    let server = SqliteStores::open(&path).unwrap();
    server.outbox().send(&sms("09012345678", "hello")).await.unwrap();
    // A separate connection stands in for `hersys outbox` in another process.
    let reader = Outbox::open(&path).unwrap();
    assert_eq!(reader.messages().unwrap().len(), 1);
    server.outbox().send(&sms("09012345678", "again")).await.unwrap();
    assert_eq!(reader.messages().unwrap()[1].body, "again");
}

#[tokio::test]
async fn the_export_sink_replaces_files_whole() {
    let dir = tempfile::tempdir().unwrap();
    let sink = DirExportSink::new(dir.path().join("export"));
    sink.put_object("csv/daily.csv", "text/csv", b"a,b\n".to_vec()).await.unwrap();
    sink.put_object("csv/daily.csv", "text/csv", b"c,d\n".to_vec()).await.unwrap();
    let csv_dir = dir.path().join("export/csv");
    assert_eq!(std::fs::read(csv_dir.join("daily.csv")).unwrap(), b"c,d\n");
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(&csv_dir).unwrap().count(), 1);
}

#[tokio::test]
async fn the_export_sink_refuses_paths_leaving_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let sink = DirExportSink::new(dir.path().join("export"));
    for bad in
        ["../escape.csv", "csv/../../escape.csv", "/etc/escape.csv", "", "csv//x.csv", "./x.csv", "csv/", "a\\..\\x"]
    {
        assert!(sink.put_object(bad, "text/csv", b"x".to_vec()).await.is_err(), "{bad}");
    }
    assert!(!dir.path().join("escape.csv").exists());
    assert!(!dir.path().join("export").exists());
}

#[test]
fn lookups_use_indexes_not_scans() {
    let s = SqliteStores::open_in_memory().unwrap();
    for (query, index) in [
        ("SELECT pk FROM processing_numbers WHERE due_at <= 1 ORDER BY due_at, pk LIMIT 5", "processing_numbers_due"),
        (
            "SELECT version, doc FROM processing_numbers WHERE report_id = 'r' ORDER BY pk",
            "processing_numbers_by_report",
        ),
        ("SELECT pk FROM reports WHERE passport_hash = 'h' ORDER BY pk", "reports_by_passport"),
        ("SELECT doc FROM reports WHERE prefecture = '13' ORDER BY pk", "reports_by_prefecture"),
        ("SELECT doc FROM entries WHERE passport_hash = 'h' ORDER BY pk", "entries_by_passport"),
    ] {
        let plan = s.query_plan(query);
        assert!(plan.starts_with("SEARCH") && plan.contains(index), "{query}: {plan}");
    }
}

fn entry(id: &str, passport: &str) -> domain::entry::EntryRecord {
    use domain::entry::{EntryRecord, EntryTestResult};
    use domain::pii::{PassportNumber, PersonName};
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    EntryRecord {
        entry_id: id.into(),
        passport_number: PassportNumber::parse("p", passport).unwrap(),
        passport_hash: KeyedHash::from_stored(format!("pp:{passport}")),
        nationality: "VNM".into(),
        family_name: PersonName::parse("f", "NGUYEN").unwrap(),
        given_names: None,
        date_of_birth: date("1990-01-01"),
        sex: domain::report::Sex::parse("sex", "F").unwrap(),
        entry_date: date("2021-01-20"),
        port_of_entry: "NRT".into(),
        entry_test_result: EntryTestResult::NotTested,
        test_date: None,
    }
}

#[test]
fn bulk_loads_rebuild_the_index_only_when_large_against_the_table() {
    use crate::PassportIndex::{Auto, Keep, Rebuild};
    assert!(!Auto.rebuilds(1_000, 0), "a small load keeps the index");
    assert!(Auto.rebuilds(1_000_000, 0) && Auto.rebuilds(1_000_000, 4_000_000));
    assert!(!Auto.rebuilds(100_000, 1_000_000), "a table ten times the load keeps its index");
    assert!(!Keep.rebuilds(1_000_000, 0) && Rebuild.rebuilds(1, 1_000_000));
}

#[tokio::test]
async fn a_bulk_load_without_the_index_keeps_the_store_semantics_and_rebuilds_it() {
    use domain::ports::{EntryStore, PutOutcome};
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStores::open(&dir.path().join("hersys.sqlite3")).unwrap();
    s.put_entries(&[entry("E1", "TZ0000001")], chrono::Utc::now()).await.unwrap();
    let passport_plan = "SELECT doc FROM entries WHERE passport_hash = 'h' ORDER BY pk";
    assert!(s.query_plan(passport_plan).contains("entries_by_passport"));

    let bulk = s.begin_entry_import(10, crate::PassportIndex::Rebuild).await.unwrap();
    assert!(bulk.index_dropped());
    assert!(!s.query_plan(passport_plan).contains("entries_by_passport"), "dropped during the load");
    // Created if absent, unchanged if identical, conflict (stored one kept) otherwise: as without the bulk load.
    let mut changed = entry("E1", "TZ0000001");
    changed.port_of_entry = "HND".into();
    let out = s
        .put_entries(
            &[entry("E2", "TZ0000002"), entry("E1", "TZ0000001"), changed, entry("E3", "TZ0000002")],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(out, [PutOutcome::Created, PutOutcome::Unchanged, PutOutcome::Conflict, PutOutcome::Created]);
    // Lookups still answer, by a scan.
    let by_passport = s.entries_by_passport(&KeyedHash::from_stored("pp:TZ0000002".into())).await.unwrap();
    assert_eq!(by_passport.iter().map(|e| e.entry_id.as_str()).collect::<Vec<_>>(), ["E2", "E3"]);

    bulk.finish().await.unwrap();
    assert!(s.query_plan(passport_plan).contains("entries_by_passport"), "built again");
    let by_passport = s.entries_by_passport(&KeyedHash::from_stored("pp:TZ0000002".into())).await.unwrap();
    assert_eq!(by_passport.len(), 2);
    assert_eq!(s.get_entry("E1").await.unwrap().unwrap().port_of_entry, "NRT");
}

#[tokio::test]
async fn a_bulk_load_that_dies_midway_leaves_the_index_to_the_next_opening() {
    use domain::ports::EntryStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hersys.sqlite3");
    let s = SqliteStores::open(&path).unwrap();
    let bulk = s.begin_entry_import(10, crate::PassportIndex::Rebuild).await.unwrap();
    s.put_entries(&[entry("E1", "TZ0000001")], chrono::Utc::now()).await.unwrap();
    assert!(
        !s.query_plan("SELECT doc FROM entries WHERE passport_hash = 'h' ORDER BY pk").contains("entries_by_passport")
    );
    drop((bulk, s));
    let reopened = SqliteStores::open(&path).unwrap();
    assert!(
        reopened
            .query_plan("SELECT doc FROM entries WHERE passport_hash = 'h' ORDER BY pk")
            .contains("entries_by_passport")
    );
    assert_eq!(reopened.entries_by_passport(&KeyedHash::from_stored("pp:TZ0000001".into())).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_small_bulk_load_keeps_the_index() {
    let s = SqliteStores::open_in_memory().unwrap();
    let bulk = s.begin_entry_import(100, crate::PassportIndex::Auto).await.unwrap();
    assert!(!bulk.index_dropped());
    assert!(
        s.query_plan("SELECT doc FROM entries WHERE passport_hash = 'h' ORDER BY pk").contains("entries_by_passport")
    );
    bulk.finish().await.unwrap();
}

/// The audit table is append-only in SQLite itself: its triggers refuse updates and deletes, whoever asks.
#[tokio::test]
async fn the_audit_table_refuses_updates_and_deletes() {
    use domain::audit::AuditEvent;
    use domain::ports::AuditLog;
    let stores = SqliteStores::open_in_memory().unwrap();
    let event = AuditEvent {
        event_id: "e1".into(),
        at: t0(),
        subject: "user-1".into(),
        role: "health_center".into(),
        health_center_code: "131016".into(),
        report_id: ReportId::generate(),
        records_shown: vec!["A-2".into()],
        route: "GET /v1/reports/{id}".into(),
    };
    stores.append_audit(&event).await.unwrap();
    for statement in ["UPDATE audit_events SET doc = '{}'", "DELETE FROM audit_events"] {
        let refused = stores.db.run_blocking(|conn| conn.execute(statement, []).map_err(crate::stores::sql));
        assert!(refused.is_err(), "{statement}");
    }
    assert_eq!(stores.all_audit_events().unwrap(), [event]);
    let plan = stores.query_plan(
        "SELECT doc FROM audit_events WHERE health_center = '131016' AND sk >= 'a' AND sk < 'b' AND sk > ''
         ORDER BY sk",
    );
    assert!(plan.contains("PRIMARY KEY") || plan.contains("USING"), "a key range, not a scan: {plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
}
