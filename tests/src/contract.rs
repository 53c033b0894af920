//! The storage contract: one suite, run unchanged against the embedded SQLite store and DynamoDB Local. Each check
//! is written once as a function of a [`Backend`]; the macro at the bottom instantiates it for both engines.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Duration;
use domain::StoreError;
use domain::audit::{AuditEvent, AuditQuery};
use domain::cycle::{CycleState, NumberState};
use domain::full_run::FullRun;
use domain::graphs::linelist::LineListCase;
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use domain::linkage_records::{
    DecisionWrite, IndexedRecord, KeyLookup, LinkBand, LinkDecision, LinkageState, Review, ReviewStatus,
};
use domain::ports::{
    AuditLog, CounterStore, CycleStore, EntryStore, FullRunLeases, GraphSourceStore, IdempotencyStore, LinkIndex,
    LinkStore, PutOutcome, ReportStore, Segment,
};
use domain::prefecture::PrefectureCode;
use domain::report::ReportId;
use domain::report::{Status, StatusChange};

use crate::fixtures::{self, t0};

type Keys = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<String>> + Send>> + Send + Sync>;

pub struct Backend {
    reports: Arc<dyn ReportStore>,
    entries: Arc<dyn EntryStore>,
    cycles: Arc<dyn CycleStore>,
    counters: Arc<dyn CounterStore>,
    idempotency: Arc<dyn IdempotencyStore>,
    graph_sources: Arc<dyn GraphSourceStore>,
    links: Arc<dyn LinkStore>,
    link_index: Arc<dyn LinkIndex>,
    leases: Arc<dyn FullRunLeases>,
    audit: Arc<dyn AuditLog>,
    /// Every key and index attribute value the backend holds.
    keys: Keys,
}

/// A backend over one store value that implements every port; `keys` lists its key and index values.
fn backend<S>(stores: S, keys: Keys) -> Backend
where
    S: ReportStore
        + EntryStore
        + CycleStore
        + CounterStore
        + IdempotencyStore
        + GraphSourceStore
        + LinkStore
        + LinkIndex
        + FullRunLeases
        + AuditLog
        + 'static,
{
    let shared = Arc::new(stores);
    Backend {
        reports: shared.clone(),
        entries: shared.clone(),
        cycles: shared.clone(),
        counters: shared.clone(),
        idempotency: shared.clone(),
        graph_sources: shared.clone(),
        links: shared.clone(),
        link_index: shared.clone(),
        leases: shared.clone(),
        audit: shared,
        keys,
    }
}

pub async fn sqlite() -> Backend {
    let stores = embedded::SqliteStores::open_in_memory().unwrap();
    let lister = stores.clone();
    backend(
        stores,
        Box::new(move || {
            let s = lister.clone();
            Box::pin(async move { s.all_key_values().unwrap() })
        }),
    )
}

pub async fn dynamo() -> Backend {
    let sdk = crate::emulators::sdk_config().await;
    let tables = crate::emulators::fresh_tables(&sdk).await;
    let stores = aws_adapters::DynamoStores::new(aws_sdk_dynamodb::Client::new(&sdk), tables);
    let lister = stores.clone();
    backend(
        stores,
        Box::new(move || {
            let s = lister.clone();
            Box::pin(async move { s.all_key_values().await.unwrap() })
        }),
    )
}

fn audit_event(health_center: &str, at: domain::time::Instant, id: &str) -> AuditEvent {
    AuditEvent {
        event_id: id.to_owned(),
        at,
        subject: "user-1".to_owned(),
        role: "health_center".to_owned(),
        health_center_code: health_center.to_owned(),
        report_id: ReportId::generate(),
        records_shown: vec!["A-2".to_owned()],
        route: "GET /v1/reports/{id}".to_owned(),
    }
}

/// The audit: an event is appended once (the same key again is refused and the first kept); a health centre's
/// period comes back oldest first, `until` excluded, in pages that follow each other without loss or repeat.
async fn audit_events_are_appended_once_and_read_by_health_centre_and_period_in_pages(b: Backend) {
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    let mut events = Vec::new();
    for (i, minutes) in [0, 1, 1, 5, 59, 60].into_iter().enumerate() {
        let e = audit_event("131016", at(minutes), &format!("e{i}"));
        b.audit.append_audit(&e).await.unwrap();
        events.push(e);
    }
    b.audit.append_audit(&audit_event("440001", at(2), "other")).await.unwrap();
    let mut again = events[3].clone();
    again.records_shown = vec!["X-9".to_owned()];
    assert!(matches!(b.audit.append_audit(&again).await, Err(StoreError::AlreadyExists)));

    let query = |after: Option<String>, limit: usize| AuditQuery {
        health_center_code: "131016".to_owned(),
        from: at(1),
        until: at(60),
        after,
        limit,
    };
    let all = b.audit.audit_events(&query(None, 100)).await.unwrap();
    assert_eq!(all.events, events[1..5].to_vec(), "from included, until excluded, the other centre apart");
    assert_eq!(all.events[2].records_shown, ["A-2"], "the first write is kept");
    let (mut paged, mut after) = (Vec::new(), None);
    for _ in 0..5 {
        let page = b.audit.audit_events(&query(after, 3)).await.unwrap();
        assert!(page.events.len() <= 3);
        paged.extend(page.events);
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(paged, events[1..5].to_vec());
    let elsewhere = AuditQuery { health_center_code: "999999".to_owned(), ..query(None, 10) };
    assert!(b.audit.audit_events(&elsewhere).await.unwrap().events.is_empty());
}

async fn reports_are_created_only_if_absent(b: Backend) {
    let r = fixtures::report();
    b.reports.create_report(&r).await.unwrap();
    assert!(matches!(b.reports.create_report(&r).await, Err(StoreError::AlreadyExists)));
    let got = b.reports.get_report(&r.id).await.unwrap().unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.value, r);
    assert!(b.reports.get_report(&fixtures::report().id).await.unwrap().is_none());
}

async fn reports_are_unique_by_health_centre_and_case_number(b: Backend) {
    let first = fixtures::report_with_case("131016", "2021-0001");
    b.reports.create_report(&first).await.unwrap();
    let again = fixtures::report_with_case("131016", "2021-0001");
    assert!(matches!(b.reports.create_report(&again).await, Err(StoreError::AlreadyExists)));
    assert!(b.reports.get_report(&again.id).await.unwrap().is_none(), "the refused report left nothing behind");
    // The same number at another health centre, and reports without a number, are separate cases.
    b.reports.create_report(&fixtures::report_with_case("440001", "2021-0001")).await.unwrap();
    b.reports.create_report(&fixtures::report()).await.unwrap();
    b.reports.create_report(&fixtures::report()).await.unwrap();
    assert_eq!(b.reports.reports_by_prefecture(PrefectureCode::new(13).unwrap()).await.unwrap().len(), 4);
}

async fn stale_report_versions_are_refused(b: Backend) {
    let mut r = fixtures::report();
    b.reports.create_report(&r).await.unwrap();
    r.status_history.push(StatusChange { status: Status::HomeCare, effective_date: fixtures::date("2021-02-03") });
    assert_eq!(b.reports.update_report(&r, 1).await.unwrap(), 2);

    let mut stale = r.clone();
    stale.status_history.push(StatusChange { status: Status::Died, effective_date: fixtures::date("2021-02-04") });
    let err = b.reports.update_report(&stale, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict { expected: 1 }), "{err:?}");
    // The stale write changed nothing.
    let got = b.reports.get_report(&r.id).await.unwrap().unwrap();
    assert_eq!((got.version, got.value), (2, r));

    let absent = fixtures::report();
    assert!(matches!(b.reports.update_report(&absent, 1).await, Err(StoreError::NotFound)));
}

async fn reports_are_found_by_passport_hash_and_prefecture(b: Backend) {
    let tokyo = fixtures::report_in("13", Some("TZ9081726"));
    let tokyo_no_passport = fixtures::report_in("13", None);
    let oita = fixtures::report_in("44", Some("AB1234567"));
    for r in [&tokyo, &tokyo_no_passport, &oita] {
        b.reports.create_report(r).await.unwrap();
    }
    let hash = tokyo.passport_hash.clone().unwrap();
    assert_eq!(b.reports.reports_by_passport(&hash).await.unwrap(), vec![tokyo.id.clone()]);

    let mut in_tokyo: Vec<_> = b
        .reports
        .reports_by_prefecture(PrefectureCode::new(13).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    in_tokyo.sort();
    let mut want = vec![tokyo.id.clone(), tokyo_no_passport.id.clone()];
    want.sort();
    assert_eq!(in_tokyo, want);
    assert!(b.reports.reports_by_prefecture(PrefectureCode::new(1).unwrap()).await.unwrap().is_empty());
}

async fn entry_batches_report_each_record_and_resending_changes_nothing(b: Backend) {
    let a = fixtures::entry("E-0001", "TZ9081726");
    let c = fixtures::entry("E-0002", "AB1234567");
    assert_eq!(
        b.entries.put_entries(&[a.clone(), c.clone()], chrono::Utc::now()).await.unwrap(),
        vec![PutOutcome::Created, PutOutcome::Created]
    );
    let mut changed = c.clone();
    changed.port_of_entry = "KIX".into();
    assert_eq!(
        b.entries.put_entries(&[a.clone(), changed], chrono::Utc::now()).await.unwrap(),
        vec![PutOutcome::Unchanged, PutOutcome::Conflict]
    );
    assert_eq!(b.entries.get_entry("E-0002").await.unwrap().unwrap(), c, "a conflicting record must not overwrite");
    let found = b.entries.entries_by_passport(&a.passport_hash).await.unwrap();
    assert_eq!(found, vec![a]);
}

/// DynamoDB refuses batches over 25 items; the store must hide that limit.
async fn large_entry_batches_are_stored_whole(b: Backend) {
    let batch: Vec<_> = (0..120).map(|i| fixtures::entry(&format!("E-{i:05}"), &format!("XK{i:07}"))).collect();
    let outcomes = b.entries.put_entries(&batch, chrono::Utc::now()).await.unwrap();
    assert_eq!(outcomes.len(), 120);
    assert!(outcomes.iter().all(|o| *o == PutOutcome::Created));
    assert_eq!(b.entries.get_entry("E-00119").await.unwrap().unwrap(), batch[119]);
}

async fn creating_a_cycle_is_all_or_nothing(b: Backend) {
    let report = fixtures::report();
    let first = fixtures::cycle(&report.id, Some(t0() + Duration::hours(1)));
    let (number, _) = fixtures::number(&first, 0);
    b.cycles.create_cycle(&first, &number).await.unwrap();
    assert_eq!(b.cycles.get_cycle(&first.id).await.unwrap().unwrap().version, 1);

    // A second cycle whose first number collides with a live one: refused, and the cycle is not left behind.
    let second = fixtures::cycle(&report.id, Some(t0()));
    let mut clash = number.clone();
    clash.cycle_id = second.id.clone();
    assert!(matches!(b.cycles.create_cycle(&second, &clash).await, Err(StoreError::AlreadyExists)));
    assert!(b.cycles.get_cycle(&second.id).await.unwrap().is_none());
    assert_eq!(b.cycles.get_number(&number.hash, t0()).await.unwrap().unwrap().cycle_id, first.id);
}

async fn advancing_a_cycle_is_atomic_and_versioned(b: Backend) {
    let report = fixtures::report();
    let cycle = fixtures::cycle(&report.id, Some(t0() + Duration::hours(1)));
    let (n0, _) = fixtures::number(&cycle, 0);
    b.cycles.create_cycle(&cycle, &n0).await.unwrap();

    let (n1, _) = fixtures::number(&cycle, 1);
    let mut expired = n0.clone();
    expired.state = NumberState::Expired;
    let mut next = cycle.clone();
    next.redeemed_generation = Some(1);

    // Stale version: nothing of the three writes happens.
    let err = b.cycles.advance_cycle(&next, 7, &[expired.clone()], Some(&n1)).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict { expected: 7 }), "{err:?}");
    assert!(b.cycles.get_number(&n1.hash, t0()).await.unwrap().is_none());
    assert_eq!(b.cycles.get_number(&n0.hash, t0()).await.unwrap().unwrap().state, NumberState::Live);

    // New number colliding with an existing one: refused whole, the cycle keeps its version.
    let err = b.cycles.advance_cycle(&next, 1, &[expired.clone()], Some(&n0)).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
    assert_eq!(b.cycles.get_cycle(&cycle.id).await.unwrap().unwrap().version, 1);
    assert_eq!(b.cycles.get_number(&n0.hash, t0()).await.unwrap().unwrap().state, NumberState::Live);

    // The real thing.
    assert_eq!(b.cycles.advance_cycle(&next, 1, &[expired], Some(&n1)).await.unwrap(), 2);
    let stored = b.cycles.get_cycle(&cycle.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.value.redeemed_generation), (2, Some(1)));
    assert_eq!(b.cycles.get_number(&n0.hash, t0()).await.unwrap().unwrap().state, NumberState::Expired);
    assert_eq!(b.cycles.get_number(&n1.hash, t0()).await.unwrap().unwrap().generation, 1);
    let of_report = b.cycles.cycles_of_report(&report.id).await.unwrap();
    assert_eq!(of_report.len(), 1);
    assert_eq!(of_report[0].value, next);
}

async fn due_cycles_come_from_the_sparse_index_oldest_first(b: Backend) {
    let report = fixtures::report();
    let mut ids = vec![];
    for minutes in [30, -10, -50, -20] {
        let c = fixtures::cycle(&report.id, Some(t0() + Duration::minutes(minutes)));
        let (n, _) = fixtures::number(&c, 0);
        b.cycles.create_cycle(&c, &n).await.unwrap();
        ids.push(c);
    }
    let finished = fixtures::cycle(&report.id, None);
    let (n, _) = fixtures::number(&finished, 0);
    b.cycles.create_cycle(&finished, &n).await.unwrap();

    let due = b.cycles.due_cycles(t0(), 10).await.unwrap();
    assert_eq!(due, vec![ids[2].id.clone(), ids[3].id.clone(), ids[1].id.clone()]);
    assert_eq!(b.cycles.due_cycles(t0(), 2).await.unwrap().len(), 2);

    // A cycle that ends leaves the index.
    let mut done = ids[2].clone();
    done.state = CycleState::Redeemed;
    done.next_due_at = None;
    b.cycles.advance_cycle(&done, 1, &[], None).await.unwrap();
    assert_eq!(b.cycles.due_cycles(t0(), 10).await.unwrap(), vec![ids[3].id.clone(), ids[1].id.clone()]);
}

async fn purged_numbers_read_as_absent(b: Backend) {
    let report = fixtures::report();
    let c = fixtures::cycle(&report.id, None);
    let (n, _) = fixtures::number(&c, 0);
    b.cycles.create_cycle(&c, &n).await.unwrap();
    assert!(b.cycles.get_number(&n.hash, n.purge_after - Duration::seconds(1)).await.unwrap().is_some());
    assert!(b.cycles.get_number(&n.hash, n.purge_after).await.unwrap().is_none());
}

async fn idempotency_claims_follow_powertools(b: Backend) {
    let h = fixtures::hasher();
    let key = h.opaque("idem", "caller-1:key-1");
    let record = IdempotencyRecord {
        key: key.clone(),
        payload_hash: "p1".into(),
        state: IdempotencyState::InProgress { lock_expires_at: t0() + Duration::seconds(30) },
        expires_at: t0() + Duration::hours(24),
    };
    assert_eq!(b.idempotency.claim(&record, t0()).await.unwrap(), Claim::Acquired);
    assert_eq!(b.idempotency.claim(&record, t0()).await.unwrap(), Claim::InProgress);
    let other = IdempotencyRecord { payload_hash: "p2".into(), ..record.clone() };
    assert_eq!(b.idempotency.claim(&other, t0()).await.unwrap(), Claim::PayloadMismatch);
    // An abandoned lock is taken over once it expires.
    assert_eq!(b.idempotency.claim(&record, t0() + Duration::seconds(31)).await.unwrap(), Claim::Acquired);
    b.idempotency.complete(&key, "{\"ok\":true}", t0() + Duration::hours(24)).await.unwrap();
    assert_eq!(
        b.idempotency.claim(&record, t0() + Duration::minutes(5)).await.unwrap(),
        Claim::Completed { response: "{\"ok\":true}".into() }
    );
    // Expired completed records do not count, whether or not TTL has deleted them.
    assert_eq!(b.idempotency.claim(&record, t0() + Duration::hours(25)).await.unwrap(), Claim::Acquired);
    b.idempotency.release(&key).await.unwrap();
    assert_eq!(b.idempotency.claim(&record, t0() + Duration::hours(25)).await.unwrap(), Claim::Acquired);
}

async fn no_raw_personal_identifier_in_any_key(b: Backend) {
    let r = fixtures::report();
    b.reports.create_report(&r).await.unwrap();
    b.entries.put_entries(&[fixtures::entry("E-0001", fixtures::PASSPORT)], chrono::Utc::now()).await.unwrap();
    let c = fixtures::cycle(&r.id, Some(t0()));
    let (n, plain) = fixtures::number(&c, 0);
    b.cycles.create_cycle(&c, &n).await.unwrap();

    let keys = (b.keys)().await;
    assert!(keys.len() >= 6, "the backend listed too few keys: {keys:?}");
    let secrets =
        [fixtures::PASSPORT, fixtures::PHONE_E164, "9087654321", fixtures::EMAIL, "NGUYEN", "グエン", plain.expose()];
    for key in &keys {
        for secret in secrets {
            assert!(!key.contains(secret), "a key holds personal data");
        }
    }
    assert!(
        keys.iter().any(|k| k == r.passport_hash.as_ref().unwrap().as_str()),
        "the passport is indexed by its keyed hash"
    );
}

async fn counters_add_atomically_and_expire(b: Backend) {
    let name = format!("test#{}", uuid::Uuid::new_v4());
    let until = t0() + Duration::minutes(30);
    // Concurrent increments are all counted: the add is one atomic update, not read-modify-write.
    let adds = (0..20).map(|_| b.counters.add_to_counter(&name, 1, until));
    let values = futures::future::try_join_all(adds).await.unwrap();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<u64>>(), "each add returned a distinct new value");
    assert_eq!(b.counters.add_to_counter(&name, 5, until).await.unwrap(), 25);
    let other = format!("test#{}", uuid::Uuid::new_v4());
    assert_eq!(b.counters.counters(&[name.clone(), other], t0()).await.unwrap(), vec![25, 0]);
    assert_eq!(
        b.counters.counters(&[name], until).await.unwrap(),
        vec![0],
        "past purge_after a counter reads as absent"
    );
}

/// The operator statistics ask for up to 1,840 counters at once: more than one DynamoDB batch (100 keys), answered
/// in the order asked, repeated names included.
async fn counters_are_read_in_batches_in_the_order_asked(b: Backend) {
    let run = uuid::Uuid::new_v4();
    let names: Vec<String> = (0..250).map(|i| format!("test#{run}#{i}")).collect();
    let (until, soon) = (t0() + Duration::days(1), t0() + Duration::minutes(1));
    for (i, name) in names.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        b.counters.add_to_counter(name, i as u64 + 1, until).await.unwrap();
    }
    b.counters.add_to_counter(&names[1], 7, soon).await.unwrap();
    let mut asked = names.clone();
    asked.push(names[3].clone());
    let expected: Vec<u64> = (0..250)
        .map(|i| {
            if i % 3 == 0 {
                i + 1
            } else if i == 1 {
                7
            } else {
                0
            }
        })
        .chain([4])
        .collect();
    assert_eq!(b.counters.counters(&asked, t0()).await.unwrap(), expected);
    let later = b.counters.counters(&asked, soon).await.unwrap();
    assert_eq!((later[1], later[3], later[250]), (0, 4, 4), "only the purged counter reads as absent");
    assert_eq!(b.counters.counters(&[], t0()).await.unwrap(), Vec::<u64>::new());
}

fn linelist_case(prefecture: u8, number: &str, published: &str) -> LineListCase {
    LineListCase {
        prefecture: PrefectureCode::new(prefecture).unwrap(),
        number: number.to_owned(),
        published: fixtures::date(published),
        sex: Some("female".to_owned()),
        age_band: Some(3),
    }
}

async fn linelist_cases_are_replaced_by_prefecture_and_number(b: Backend) {
    let g = &b.graph_sources;
    let cases: Vec<LineListCase> = (1..=30).map(|n| linelist_case(44, &n.to_string(), "2021-01-02")).collect();
    g.put_linelist_cases(&cases).await.unwrap();
    g.put_linelist_cases(&[linelist_case(13, "1", "2021-01-03")]).await.unwrap();
    // The same numbers again, one with a corrected date: replaced, not added.
    let mut again = cases.clone();
    again[4].published = fixtures::date("2021-01-05");
    g.put_linelist_cases(&again).await.unwrap();
    let mut oita = g.linelist_cases(PrefectureCode::new(44).unwrap()).await.unwrap();
    oita.sort_by_key(|c| c.number.parse::<u32>().unwrap());
    assert_eq!(oita.len(), 30);
    assert_eq!(oita[4].published, fixtures::date("2021-01-05"));
    assert_eq!(oita[0], cases[0]);
    assert_eq!(g.linelist_cases(PrefectureCode::new(13).unwrap()).await.unwrap().len(), 1);
    assert!(g.linelist_cases(PrefectureCode::new(1).unwrap()).await.unwrap().is_empty());
}

async fn switch_dates_are_set_replaced_and_cleared(b: Backend) {
    let g = &b.graph_sources;
    let oita = PrefectureCode::new(44).unwrap();
    let tokyo = PrefectureCode::new(13).unwrap();
    assert_eq!(g.hersys_from().await.unwrap(), domain::graphs::Sources::default());
    g.set_hersys_from(oita, Some(fixtures::date("2021-04-01"))).await.unwrap();
    g.set_hersys_from(tokyo, Some(fixtures::date("2021-05-01"))).await.unwrap();
    g.set_hersys_from(oita, Some(fixtures::date("2021-06-01"))).await.unwrap();
    let s = g.hersys_from().await.unwrap();
    assert_eq!(s.hersys_from(oita), Some(fixtures::date("2021-06-01")));
    assert_eq!(s.hersys_from(tokyo), Some(fixtures::date("2021-05-01")));
    g.set_hersys_from(tokyo, None).await.unwrap();
    g.set_hersys_from(tokyo, None).await.unwrap();
    let s = g.hersys_from().await.unwrap();
    assert_eq!(s.hersys_from(tokyo), None);
    assert_eq!(s.hersys_from(oita), Some(fixtures::date("2021-06-01")));
}

async fn reports_are_found_by_write_time(b: Backend) {
    let at = |minutes: i64| t0() + Duration::minutes(minutes);
    let written = |prefecture: &str, minutes: i64| {
        let mut r = fixtures::report_in(prefecture, None);
        r.updated_at = at(minutes);
        r.created_at = r.updated_at;
        r
    };
    let early = written("13", 0);
    let later = written("44", 60);
    let next_day = written("01", 60 * 26);
    let mut updated = written("13", -60 * 24 * 3);
    for r in [&early, &later, &next_day, &updated] {
        b.reports.create_report(r).await.unwrap();
    }
    updated.updated_at = at(60 * 30);
    b.reports.update_report(&updated, 1).await.unwrap();

    let sorted = |mut ids: Vec<ReportId>| {
        ids.sort();
        ids
    };
    let expect = |rs: &[&domain::report::CaseReport]| sorted(rs.iter().map(|r| r.id.clone()).collect());
    let until = at(60 * 48);
    assert_eq!(
        sorted(b.reports.report_ids_changed_since(at(30), until).await.unwrap()),
        expect(&[&later, &next_day, &updated])
    );
    assert_eq!(
        sorted(b.reports.report_ids_changed_since(at(60), until).await.unwrap()),
        expect(&[&later, &next_day, &updated])
    );
    assert_eq!(
        sorted(b.reports.report_ids_changed_since(at(61), until).await.unwrap()),
        expect(&[&next_day, &updated])
    );
    assert_eq!(b.reports.report_ids_changed_since(at(60 * 29), until).await.unwrap(), vec![updated.id.clone()]);
    assert!(b.reports.report_ids_changed_since(at(60 * 31), until).await.unwrap().is_empty());

    // The current versions, absent ids skipped.
    let mut got = b.reports.get_reports(&[updated.id.clone(), ReportId::generate(), early.id.clone()]).await.unwrap();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    let mut want = vec![updated.clone(), early.clone()];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got, want);
    assert!(b.reports.get_reports(&[]).await.unwrap().is_empty());
}

async fn counted_facts_are_recorded_replaced_and_removed(b: Backend) {
    use domain::graphs::CaseFact;
    use domain::graphs::state::CountedFact;
    let g = &b.graph_sources;
    let fact = |published: &str| {
        let mut r = fixtures::report_in("44", None);
        r.publication_date = Some(fixtures::date(published));
        CaseFact::from_report(&r).unwrap()
    };
    let (a, c, never) = (ReportId::generate(), ReportId::generate(), ReportId::generate());
    assert_eq!(g.counted_facts(&[a.clone(), never.clone()]).await.unwrap(), vec![None, None]);
    g.put_counted_facts(&[
        CountedFact { report: a.clone(), fact: Some(fact("2021-02-04")) },
        CountedFact { report: c.clone(), fact: Some(fact("2021-02-05")) },
    ])
    .await
    .unwrap();
    // Recording the same again is harmless; a new fact replaces; `None` removes.
    g.put_counted_facts(&[CountedFact { report: a.clone(), fact: Some(fact("2021-02-04")) }]).await.unwrap();
    g.put_counted_facts(&[CountedFact { report: c.clone(), fact: Some(fact("2021-02-06")) }]).await.unwrap();
    assert_eq!(
        g.counted_facts(&[c.clone(), never.clone(), a.clone()]).await.unwrap(),
        vec![Some(fact("2021-02-06")), None, Some(fact("2021-02-04"))]
    );
    g.put_counted_facts(&[
        CountedFact { report: a.clone(), fact: None },
        CountedFact { report: never.clone(), fact: None },
    ])
    .await
    .unwrap();
    assert_eq!(g.counted_facts(&[a, c]).await.unwrap(), vec![None, Some(fact("2021-02-06"))]);
    // 250 at once: more than one batch of the store's bulk calls.
    let many: Vec<CountedFact> =
        (0..250).map(|_| CountedFact { report: ReportId::generate(), fact: Some(fact("2021-03-01")) }).collect();
    g.put_counted_facts(&many).await.unwrap();
    let ids: Vec<ReportId> = many.iter().map(|c| c.report.clone()).collect();
    assert!(g.counted_facts(&ids).await.unwrap().iter().all(|f| f.as_ref() == Some(&fact("2021-03-01"))));
}

async fn the_linelist_generation_grows_with_each_import(b: Backend) {
    let g = &b.graph_sources;
    assert_eq!(g.linelist_generation().await.unwrap(), 0);
    g.put_linelist_cases(&[linelist_case(44, "1", "2021-01-03")]).await.unwrap();
    let first = g.linelist_generation().await.unwrap();
    g.put_linelist_cases(&[linelist_case(44, "1", "2021-01-03")]).await.unwrap();
    assert!(first >= 1 && g.linelist_generation().await.unwrap() > first);
}

fn decision(report: &ReportId, hc: &str, entry: &str, band: LinkBand) -> LinkDecision {
    LinkDecision {
        report_id: report.clone(),
        health_center_code: hc.to_owned(),
        entry_id: entry.to_owned(),
        score: 7.5,
        band,
        method: "fellegi_sunter:date_of_birth,name".to_owned(),
        agreeing_fields: vec!["date_of_birth".to_owned(), "name".to_owned()],
        decided_at: t0(),
        review: (band == LinkBand::Review).then_some(Review {
            status: ReviewStatus::Pending,
            by: None,
            at: None,
            entry_id: None,
        }),
        candidates: Vec::new(),
        model_version: None,
    }
}

async fn entries_are_all_read(b: Backend) {
    b.entries
        .put_entries(&[fixtures::entry("E-2", "TR1234567"), fixtures::entry("E-1", "TR7654321")], chrono::Utc::now())
        .await
        .unwrap();
    let all = b.entries.all_entries().await.unwrap();
    assert_eq!(all.iter().map(|e| e.entry_id.as_str()).collect::<Vec<_>>(), ["E-1", "E-2"]);
}

/// The segments of a full run's partitions: disjoint, together every entry record, read in pages of at most the
/// limit; and a page's decisions read at once.
async fn entries_are_read_by_segment_and_decisions_by_page(b: Backend) {
    let entries: Vec<_> = (0..23).map(|i| fixtures::entry(&format!("E-{i:02}"), &format!("TR{i:07}"))).collect();
    b.entries.put_entries(&entries, t0()).await.unwrap();
    let mut seen = Vec::new();
    for index in 0..3 {
        let (mut cursor, mut pages) = (None, 0);
        loop {
            let page = b.entries.entries_in_segment(Segment { index, of: 3 }, cursor, 4).await.unwrap();
            assert!(page.items.len() <= 4);
            seen.extend(page.items.into_iter().map(|e| e.entry_id));
            pages += 1;
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert!(pages >= 2, "segment {index} read in pages");
    }
    seen.sort();
    assert_eq!(seen, entries.iter().map(|e| e.entry_id.clone()).collect::<Vec<_>>(), "each entry in one segment");

    let (r1, r2, r3) = (ReportId::generate(), ReportId::generate(), ReportId::generate());
    b.links.put_decision(&decision(&r1, "131016", "E-01", LinkBand::Link)).await.unwrap();
    b.links.put_decision(&decision(&r3, "131016", "E-03", LinkBand::Review)).await.unwrap();
    let mut read: Vec<String> =
        b.links.decisions_of(&[r1, r2, r3]).await.unwrap().into_iter().map(|d| d.entry_id).collect();
    read.sort();
    assert_eq!(read, ["E-01", "E-03"], "a report without a decision is left out");
}

async fn entries_are_found_by_write_time_and_read_by_id(b: Backend) {
    let (t1, t2) = (t0(), t0() + Duration::hours(1));
    b.entries.put_entries(&[fixtures::entry("E-1", "TR1234567")], t1).await.unwrap();
    b.entries
        .put_entries(&[fixtures::entry("E-2", "TR7654321"), fixtures::entry("E-3", "TR7654322")], t2)
        .await
        .unwrap();
    let mut since = b.entries.entry_ids_written_since(t1 + Duration::minutes(1), t2).await.unwrap();
    since.sort();
    assert_eq!(since, ["E-2", "E-3"]);
    assert_eq!(b.entries.entry_ids_written_since(t1, t2).await.unwrap().len(), 3);
    // a re-send (unchanged) keeps the first write time
    b.entries.put_entries(&[fixtures::entry("E-1", "TR1234567")], t2).await.unwrap();
    assert_eq!(b.entries.entry_ids_written_since(t1 + Duration::minutes(1), t2).await.unwrap().len(), 2);
    let ids = ["E-3".to_owned(), "E-9".to_owned(), "E-1".to_owned()];
    let mut read: Vec<String> = b.entries.get_entries(&ids).await.unwrap().into_iter().map(|e| e.entry_id).collect();
    read.sort();
    assert_eq!(read, ["E-1", "E-3"], "a missing id is left out");
}

/// The linkage index: entries by key and day range (at most `limit`), reports by diagnosis day, idempotent filing,
/// and the model and state documents.
async fn the_linkage_index_files_records_by_key_and_day(b: Backend) {
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2021, 1, d).unwrap();
    let (k1, k2) = ("00000000000000aa".to_owned(), "ffffffffffffff01".to_owned());
    let entries = [
        IndexedRecord { id: "E-1".into(), day: day(1), keys: vec![k1.clone(), k2.clone()] },
        IndexedRecord { id: "E-2".into(), day: day(10), keys: vec![k1.clone()] },
        IndexedRecord { id: "E-3".into(), day: day(20), keys: vec![k1.clone()] },
    ];
    b.link_index.put_entry_keys(&entries).await.unwrap();
    b.link_index.put_entry_keys(&entries[..1]).await.unwrap();
    let by = |keys: Vec<String>, from: u32, to: u32, limit: usize| {
        let index = b.link_index.clone();
        let lookups: Vec<KeyLookup> =
            keys.into_iter().map(|key| KeyLookup { key, from: day(from), to: day(to) }).collect();
        async move { index.entries_by_keys(&lookups, limit).await.unwrap() }
    };
    let mut found = by(vec![k1.clone()], 1, 10, 10).await;
    found[0].sort();
    assert_eq!(found, [["E-1", "E-2"]], "the range is inclusive at both ends, a second filing is no second row");
    assert_eq!(by(vec![k1.clone()], 1, 31, 2).await[0].len(), 2, "at most the limit");
    let none = "0123456789abcdef".to_owned();
    assert_eq!(by(vec![k2.clone(), none, k1.clone()], 2, 10, 10).await, [vec![], vec![], vec!["E-2".to_owned()]]);
    // lookups of several ranges at once, one key twice, each answered in its place
    let lookups = [
        KeyLookup { key: k1.clone(), from: day(15), to: day(31) },
        KeyLookup { key: k2.clone(), from: day(1), to: day(1) },
        KeyLookup { key: k1.clone(), from: day(2), to: day(10) },
    ];
    assert_eq!(
        b.link_index.entries_by_keys(&lookups, 10).await.unwrap(),
        [vec!["E-3".to_owned()], vec!["E-1".to_owned()], vec!["E-2".to_owned()]]
    );
    assert!(b.link_index.entries_by_keys(&[], 10).await.unwrap().is_empty());

    let (r1, r2) = (ReportId::generate(), ReportId::generate());
    b.link_index
        .put_report_keys(&[
            IndexedRecord { id: r1.as_str().to_owned(), day: day(5), keys: vec![k1.clone(), k2.clone()] },
            IndexedRecord { id: r2.as_str().to_owned(), day: day(25), keys: vec![k2.clone()] },
        ])
        .await
        .unwrap();
    let mut filed = b.link_index.report_keys_between(day(1), day(24)).await.unwrap();
    filed.sort();
    let mut want = vec![(k1.clone(), day(5), r1.clone()), (k2.clone(), day(5), r1.clone())];
    want.sort();
    assert_eq!(filed, want);
    assert_eq!(b.link_index.report_keys_between(day(25), day(25)).await.unwrap(), [(k2, day(25), r2)]);

    assert!(b.link_index.current_model().await.unwrap().is_none());
    let model = domain::linkage_records::StoredModel {
        version: "v1".into(),
        estimated_at: t0(),
        entries: 3,
        reports: 2,
        candidate_pairs: 4,
        params: linkage_engine::score::ModelParams {
            // as many name frequencies as a model keeps, under keys as large as the keyed hash makes them: the
            // model is one item (at most 400 KB on DynamoDB), and a key must read back to the bit
            name_frequencies: linkage_engine::frequency::NameFrequencies {
                entries: 1_000_000,
                counts: (0..linkage_engine::frequency::MAX_NAMES as u64)
                    .map(|i| (u64::MAX - i * 0x9E37_79B9_7F4A, 1_000_000 - i as u32))
                    .rev()
                    .collect(),
                rest: 7,
            },
            ..{
                // EM drives the m of a level no match shows far below the smallest DynamoDB number (1e-130)
                let mut estimated = linkage_engine::score::Model::initial();
                estimated.m[1][3] = 1e-250;
                estimated.params()
            }
        },
    };
    b.link_index.put_model(&model).await.unwrap();
    assert_eq!(b.link_index.current_model().await.unwrap().unwrap(), model, "the numbers read back exactly");
    let state = LinkageState {
        linked_until: t0(),
        window_days: 120,
        recent_entries: vec!["E-3".into()],
        recent_reports: vec![],
    };
    b.link_index.put_linkage_state(&state).await.unwrap();
    assert_eq!(b.link_index.linkage_state().await.unwrap().unwrap(), state);
}

async fn link_decisions_are_replaced_until_reviewed_and_reviews_are_queued_per_health_centre(b: Backend) {
    let (r1, r2, r3) = (ReportId::generate(), ReportId::generate(), ReportId::generate());
    assert!(b.links.get_decision(&r1).await.unwrap().is_none());
    assert!(b.links.all_decisions().await.unwrap().is_empty());
    // a link is not in any queue; reviews are queued under their health centre only while pending
    assert_eq!(
        b.links.put_decision(&decision(&r1, "131016", "E-1", LinkBand::Link)).await.unwrap(),
        DecisionWrite::Written
    );
    assert_eq!(
        b.links.put_decision(&decision(&r2, "131016", "E-2", LinkBand::Review)).await.unwrap(),
        DecisionWrite::Written
    );
    assert_eq!(
        b.links.put_decision(&decision(&r3, "271004", "E-3", LinkBand::Review)).await.unwrap(),
        DecisionWrite::Written
    );
    let queue = b.links.review_queue("131016").await.unwrap();
    assert_eq!(queue.iter().map(|d| &d.report_id).collect::<Vec<_>>(), [&r2]);
    assert_eq!(b.links.review_queue("271004").await.unwrap().len(), 1);
    assert!(b.links.review_queue("999999").await.unwrap().is_empty());
    assert_eq!(b.links.all_decisions().await.unwrap().len(), 3);

    // an unreviewed decision is replaced; a link cannot be reviewed; an absent one is not found
    let mut moved = decision(&r1, "131016", "E-9", LinkBand::Link);
    moved.score = 20.0;
    assert_eq!(b.links.put_decision(&moved).await.unwrap(), DecisionWrite::Written);
    assert_eq!(b.links.get_decision(&r1).await.unwrap().unwrap(), moved);
    let answer = Review {
        status: ReviewStatus::Confirmed,
        by: Some("user-1".to_owned()),
        at: Some(t0() + Duration::hours(1)),
        entry_id: None,
    };
    assert!(matches!(b.links.record_review(&r1, &answer).await, Err(StoreError::VersionConflict { .. })));
    assert!(matches!(b.links.record_review(&ReportId::generate(), &answer).await, Err(StoreError::NotFound)));

    // a confirmed review leaves the queue and is never replaced nor removed, nor answered twice
    let stored = b.links.record_review(&r2, &answer).await.unwrap();
    assert_eq!(stored.review.as_ref().unwrap(), &answer);
    assert!(b.links.review_queue("131016").await.unwrap().is_empty());
    assert_eq!(
        b.links.put_decision(&decision(&r2, "131016", "E-7", LinkBand::Review)).await.unwrap(),
        DecisionWrite::KeptReviewed
    );
    assert!(!b.links.remove_decision(&r2).await.unwrap());
    let rejected =
        Review { status: ReviewStatus::Rejected, by: Some("user-2".to_owned()), at: Some(t0()), entry_id: None };
    assert!(matches!(b.links.record_review(&r2, &rejected).await, Err(StoreError::VersionConflict { .. })));
    let kept = b.links.get_decision(&r2).await.unwrap().unwrap();
    assert_eq!((kept.entry_id.as_str(), kept.review.unwrap().status), ("E-2", ReviewStatus::Confirmed));

    // a rejection is kept as well; unreviewed decisions can be removed
    b.links.record_review(&r3, &rejected).await.unwrap();
    assert_eq!(
        b.links.put_decision(&decision(&r3, "271004", "E-3", LinkBand::Link)).await.unwrap(),
        DecisionWrite::KeptReviewed
    );
    assert!(b.links.remove_decision(&r1).await.unwrap());
    assert!(!b.links.remove_decision(&r1).await.unwrap());
    assert_eq!(b.links.all_decisions().await.unwrap().len(), 2);
}

/// Decisions written together answer in order, each as it would alone: a reviewed one is kept, the others written
/// (an unreviewed one replaced), and the pending reviews queued.
async fn decisions_written_together_answer_in_order_and_keep_reviewed_ones(b: Backend) {
    let (r1, r2, r3) = (ReportId::generate(), ReportId::generate(), ReportId::generate());
    b.links.put_decision(&decision(&r2, "131016", "E-2", LinkBand::Review)).await.unwrap();
    b.links.put_decision(&decision(&r3, "131016", "E-3", LinkBand::Review)).await.unwrap();
    let answer =
        Review { status: ReviewStatus::Rejected, by: Some("user-1".to_owned()), at: Some(t0()), entry_id: None };
    b.links.record_review(&r2, &answer).await.unwrap();
    let batch = [
        decision(&r1, "131016", "E-1", LinkBand::Link),
        decision(&r2, "131016", "E-8", LinkBand::Link),
        decision(&r3, "271004", "E-9", LinkBand::Review),
    ];
    assert_eq!(
        b.links.put_decisions(&batch).await.unwrap(),
        [DecisionWrite::Written, DecisionWrite::KeptReviewed, DecisionWrite::Written]
    );
    assert_eq!(b.links.get_decision(&r1).await.unwrap().unwrap(), batch[0]);
    assert_eq!(b.links.get_decision(&r2).await.unwrap().unwrap().entry_id, "E-2");
    assert_eq!(b.links.get_decision(&r3).await.unwrap().unwrap(), batch[2]);
    assert!(b.links.review_queue("131016").await.unwrap().is_empty());
    assert_eq!(b.links.review_queue("271004").await.unwrap().len(), 1);
    assert!(b.links.put_decisions(&[]).await.unwrap().is_empty());
}

/// A review keeps its three candidates, best first; confirming the second links that one (with its score and
/// fields), and the answer and the choice survive a later write.
async fn a_reviews_candidates_are_stored_and_confirming_one_links_it(b: Backend) {
    use domain::linkage_records::ReviewCandidate;
    let r = ReportId::generate();
    let candidate = |id: &str, score: f64, field: &str| ReviewCandidate {
        entry_id: id.to_owned(),
        score,
        method: format!("fellegi_sunter:{field}"),
        agreeing_fields: vec![field.to_owned()],
    };
    let mut review = decision(&r, "131016", "D-1", LinkBand::Review);
    review.candidates =
        vec![candidate("D-1", 7.5, "name"), candidate("D-2", 7.4, "sex"), candidate("X-3", 2.5, "none")];
    b.links.put_decision(&review).await.unwrap();
    assert_eq!(b.links.get_decision(&r).await.unwrap().unwrap().candidates, review.candidates);
    assert_eq!(b.links.review_queue("131016").await.unwrap()[0].candidates.len(), 3);

    let answer = Review {
        status: ReviewStatus::Confirmed,
        by: Some("user-1".to_owned()),
        at: Some(t0()),
        entry_id: Some("D-2".to_owned()),
    };
    let stored = b.links.record_review(&r, &answer).await.unwrap();
    assert_eq!(
        (stored.entry_id.as_str(), stored.score, stored.agreeing_fields.as_slice()),
        ("D-2", 7.4, &["sex".to_owned()][..])
    );
    let later = decision(&r, "131016", "D-1", LinkBand::Review);
    assert_eq!(b.links.put_decision(&later).await.unwrap(), DecisionWrite::KeptReviewed);
    let kept = b.links.get_decision(&r).await.unwrap().unwrap();
    assert_eq!(kept, stored);
    assert!(kept.counts_as_link());
}

async fn the_linkage_summary_is_replaced_whole(b: Backend) {
    use domain::linkage_records::LinkageSummary;
    use domain::linkage_statistics::ShareWithInterval;
    assert!(b.links.get_summary().await.unwrap().is_none());
    let mut summary = LinkageSummary {
        computed_at: Some(t0()),
        entries: 10,
        reports: 4,
        links: 2,
        reviews_pending: 1,
        reviews_confirmed: 0,
        reviews_rejected: 0,
        entrants: Vec::new(),
        negative_then_diagnosed_28d: ShareWithInterval {
            count: 1,
            total: 8,
            share: 0.125,
            ci95_low: 0.02,
            ci95_high: 0.47,
        },
        days_entry_to_diagnosis: Vec::new(),
        prefectures: Vec::new(),
        follow_up: domain::linkage_statistics::follow_up::FollowUpSummary {
            under_follow_up: 12,
            days_symptoms_to_diagnosis: vec![domain::linkage_statistics::DaysRow { days: 2, reports: 1 }],
            ..Default::default()
        },
    };
    b.links.put_summary(&summary).await.unwrap();
    assert_eq!(b.links.get_summary().await.unwrap().unwrap(), summary);
    summary.links = 3;
    b.links.put_summary(&summary).await.unwrap();
    assert_eq!(b.links.get_summary().await.unwrap().unwrap().links, 3);
    // a row per entry week, port and nationality: over twenty years, far past one DynamoDB item (400 KB)
    let monday = chrono::NaiveDate::from_ymd_opt(2003, 1, 6).unwrap();
    summary.entrants = (0..30_000u64)
        .map(|i| domain::linkage_statistics::EntrantsRow {
            week_start: monday + chrono::Days::new(7 * (i / 30)),
            port_of_entry: ["NRT", "HND", "KIX", "FUK", "CTS"][(i % 5) as usize].to_owned(),
            nationality: ["CHN", "KOR", "VNM", "PHL", "USA", "THA"][(i / 5 % 6) as usize].to_owned(),
            entrants: 1 + i % 97,
        })
        .collect();
    b.links.put_summary(&summary).await.unwrap();
    assert_eq!(b.links.get_summary().await.unwrap().unwrap(), summary, "a summary of 30,000 rows reads back whole");
    summary.entrants.truncate(2);
    summary.links = 4;
    b.links.put_summary(&summary).await.unwrap();
    assert_eq!(b.links.get_summary().await.unwrap().unwrap(), summary, "replaced whole by a smaller one");
    assert!(b.links.all_decisions().await.unwrap().is_empty(), "the summary is not a decision");
}

/// The leases of the full runs (the graph export's, the re-link's): one holder at a time until it gives the lease
/// up or it expires; a retried claim of the holder succeeds; giving up a lease one does not hold does nothing; the
/// two leases are independent.
async fn a_full_run_lease_is_held_until_released_or_expired(b: Backend) {
    let t = fixtures::t0();
    let hour = chrono::Duration::hours(1);
    let leases = &b.leases;
    let (export, linkage) = (FullRun::Export, FullRun::Linkage);
    assert_eq!(leases.holder(linkage, t).await.unwrap(), None);
    assert!(leases.claim(linkage, "run-a", t, t + hour).await.unwrap());
    assert!(leases.claim(linkage, "run-a", t, t + hour).await.unwrap(), "a retried start");
    assert!(!leases.claim(linkage, "run-b", t, t + hour).await.unwrap());
    assert_eq!(leases.holder(linkage, t).await.unwrap().as_deref(), Some("run-a"));
    assert_eq!(leases.holder(export, t).await.unwrap(), None, "independent of the export's");
    assert!(leases.claim(export, "run-b", t, t + hour).await.unwrap());
    // Expired (a run that died): free for another.
    let later = t + hour + chrono::Duration::seconds(1);
    assert_eq!(leases.holder(linkage, later).await.unwrap(), None);
    assert!(leases.claim(linkage, "run-c", later, later + hour).await.unwrap());
    leases.release(linkage, "run-a").await.unwrap();
    assert_eq!(leases.holder(linkage, later).await.unwrap().as_deref(), Some("run-c"), "not run-a's to give up");
    leases.release(linkage, "run-c").await.unwrap();
    assert_eq!(leases.holder(linkage, later).await.unwrap(), None);
    assert_eq!(leases.holder(export, t).await.unwrap().as_deref(), Some("run-b"));
    leases.release(export, "run-b").await.unwrap();
    assert_eq!(leases.holder(export, t).await.unwrap(), None);
}

on_both_stores!(
    embedded: sqlite().await,
    dynamodb: dynamo().await;
    reports_are_created_only_if_absent,
    reports_are_unique_by_health_centre_and_case_number,
    stale_report_versions_are_refused,
    reports_are_found_by_passport_hash_and_prefecture,
    entry_batches_report_each_record_and_resending_changes_nothing,
    large_entry_batches_are_stored_whole,
    creating_a_cycle_is_all_or_nothing,
    advancing_a_cycle_is_atomic_and_versioned,
    due_cycles_come_from_the_sparse_index_oldest_first,
    purged_numbers_read_as_absent,
    idempotency_claims_follow_powertools,
    counters_add_atomically_and_expire,
    counters_are_read_in_batches_in_the_order_asked,
    no_raw_personal_identifier_in_any_key,
    linelist_cases_are_replaced_by_prefecture_and_number,
    switch_dates_are_set_replaced_and_cleared,
    reports_are_found_by_write_time,
    counted_facts_are_recorded_replaced_and_removed,
    the_linelist_generation_grows_with_each_import,
    entries_are_all_read,
    entries_are_read_by_segment_and_decisions_by_page,
    entries_are_found_by_write_time_and_read_by_id,
    the_linkage_index_files_records_by_key_and_day,
    a_full_run_lease_is_held_until_released_or_expired,
    link_decisions_are_replaced_until_reviewed_and_reviews_are_queued_per_health_centre,
    decisions_written_together_answer_in_order_and_keep_reviewed_ones,
    the_linkage_summary_is_replaced_whole,
    a_reviews_candidates_are_stored_and_confirming_one_links_it,
    audit_events_are_appended_once_and_read_by_health_centre_and_period_in_pages,
);
