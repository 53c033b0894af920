//! Processing numbers end to end on both stacks: the embedded store with the local outbox, and DynamoDB Local with
//! SNS and SES v2 on moto, whose record of what it "sent" is read back. Time is driven: the app's clock for the
//! health centre's issue, the sweep's `now` for every minute tick, as EventBridge would give it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use domain::app::{App, RedeemError};
use domain::cycle::{Channel, CycleState, NumberState, Policy};
use domain::error::NotifyError;
use domain::pii::PhoneNumber;
use domain::ports::{Delivery, Notifier, OutgoingMessage};
use domain::report::ReportId;
use domain::time::Instant;

use crate::emulators;
use crate::fixtures::{self, Stack, StackApp, TestClock};

/// A clock the test moves.
/// Wraps the real notifier (outbox, or SNS/SES on moto) and fails on command. On the AWS stack a failure is real:
/// the calls go to the same SDK clients pointed at a closed port, as if the emulator had stopped mid-run; on the
/// embedded stack it is an injected `Unavailable`.
struct Flaky {
    inner: Arc<dyn Notifier>,
    stopped: Option<Arc<dyn Notifier>>,
    failing: AtomicBool,
}

#[async_trait]
impl Notifier for Flaky {
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, NotifyError> {
        if self.failing.load(Ordering::SeqCst) {
            return match &self.stopped {
                Some(dead) => dead.send(message).await,
                None => Err(NotifyError::Unavailable("injected failure".into())),
            };
        }
        self.inner.send(message).await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, NotifyError> {
        match (&self.stopped, self.failing.load(Ordering::SeqCst)) {
            (Some(dead), true) => dead.is_opted_out(phone).await,
            _ => self.inner.is_opted_out(phone).await,
        }
    }
}

/// SNS and SES clients whose endpoint is a closed loopback port: every call fails the way a stopped emulator does.
async fn stopped_service() -> Arc<dyn Notifier> {
    let sdk =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url("http://127.0.0.1:9").load().await;
    Arc::new(aws_adapters::AwsNotifier::new(
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sesv2::Client::new(&sdk),
        "noreply@example.jp",
    ))
}

struct Env {
    app: App,
    clock: Arc<TestClock>,
    flaky: Arc<Flaky>,
    stack: Stack,
    outbox: Option<embedded::Outbox>,
    _dir: Option<tempfile::TempDir>,
    phone: String,
    email: String,
}

/// 10:00 Japan time on a weekday: five hours of re-issues and the reminder stay clear of the default quiet hours.
fn start() -> Instant {
    Utc.with_ymd_and_hms(2021, 2, 4, 1, 0, 0).unwrap()
}

fn unique_phone() -> String {
    // 090-xxxx-xxxx, never ending in 99 (moto's opted-out numbers).
    let n = uuid::Uuid::new_v4().as_u128() % 90_000_000 + 10_000_000;
    let n = if n % 100 == 99 { n - 1 } else { n };
    format!("090{n:08}")
}

async fn env(stack: Stack) -> Env {
    let stopped = match stack {
        Stack::Embedded => None,
        Stack::Aws => Some(stopped_service().await),
    };
    let StackApp { mut wiring, stores, dir, .. } = fixtures::app_on(stack).await;
    let outbox = stores.map(|s| s.outbox());
    let clock = Arc::new(TestClock::new(start()));
    let flaky = Arc::new(Flaky { inner: wiring.ports.notifier.clone(), stopped, failing: AtomicBool::new(false) });
    wiring.ports.clock = clock.clone();
    wiring.ports.notifier = flaky.clone();
    wiring.settings.policy = Policy::default();
    let app = wiring.app();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    Env { app, clock, flaky, stack, outbox, _dir: dir, phone: unique_phone(), email: format!("p{tag}@example.jp") }
}

impl Env {
    async fn report(&self) -> ReportId {
        let mut input = fixtures::report_input();
        input.phone = Some(self.phone.clone());
        input.email = Some(self.email.clone());
        input.case_number = Some(uuid::Uuid::new_v4().simple().to_string());
        self.app.cases.create_report(&input).await.unwrap().value.id
    }

    fn phone_e164(&self) -> String {
        format!("+81{}", &self.phone[1..])
    }

    /// Bodies of the messages sent to this env's patient, oldest first, read from where the service recorded them.
    async fn sent(&self, channel: Channel) -> Vec<String> {
        match self.stack {
            Stack::Embedded => {
                let want = match channel {
                    Channel::Sms => self.phone_e164(),
                    Channel::Email => self.email.clone(),
                };
                self.outbox
                    .as_ref()
                    .unwrap()
                    .messages()
                    .unwrap()
                    .into_iter()
                    .filter(|m| m.recipient == want)
                    .map(|m| m.body)
                    .collect()
            }
            Stack::Aws => {
                let data = emulators::moto_data().await;
                match channel {
                    Channel::Sms => data["sns"]["SMS"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| m["phone_number"] == self.phone_e164().as_str())
                        .map(|m| m["message"].as_str().unwrap().to_owned())
                        .collect(),
                    Channel::Email => data["ses"]["Message"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| m["destinations"]["ToAddresses"][0] == self.email.as_str())
                        .map(|m| m["body"].as_str().unwrap().to_owned())
                        .collect(),
                }
            }
        }
    }

    /// Runs the re-issuer once a minute from `from` to `to`, as EventBridge would.
    async fn tick(&self, from: Instant, to: Instant) {
        let mut now = from;
        while now <= to {
            self.app.cases.run_due_cycles(now).await.unwrap();
            now += Duration::minutes(1);
        }
    }
}

/// The 8-digit number in a message body.
fn number_in(body: &str) -> Option<String> {
    body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 8).map(str::to_owned)
}

async fn five_numbers_then_one_reminder(stack: Stack, channel: Channel) {
    let e = env(stack).await;
    let report = e.report().await;
    let issued = e.app.cases.issue_number(&report, "131016", channel).await.unwrap();
    assert_eq!(issued.cycle.numbers[0].state, NumberState::Live);
    // While live, the number is stored sealed only: the stored cycle holds ciphertext, never the digits.
    let first = number_in(&e.sent(channel).await[0]).expect("the first message carries a number");
    let stored = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0].cycle;
    assert!(stored.numbers[0].sealed.is_some(), "the live number is kept sealed for the reminder");
    assert!(!serde_json::to_string(stored).unwrap().contains(&first), "a plaintext number in the stored cycle");

    e.tick(start(), start() + Duration::hours(6)).await;

    let sent = e.sent(channel).await;
    assert_eq!(sent.len(), 6, "one issue, four re-issues, one reminder: {} messages", sent.len());
    let numbers: Vec<String> =
        sent[..5].iter().map(|b| number_in(b).expect("a number in each of the first five")).collect();
    let mut distinct = numbers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "every message carries a fresh number");
    for (body, number) in sent[..5].iter().zip(&numbers) {
        let link = format!("\nhttps://www.mhlw.go.jp/cocoa/a/?pn={number}\n");
        assert!(body.contains(&link), "every number message carries the app link with its number");
    }
    // The reminder repeats the live (last) number and its link, opened from the sealed copy.
    assert_eq!(number_in(&sent[5]).as_deref(), Some(numbers[4].as_str()), "the reminder carries the live number");
    assert!(sent[5].contains(&format!("\nhttps://www.mhlw.go.jp/cocoa/a/?pn={}\n", numbers[4])));
    assert!(sent[0].contains("(Japan time)"), "English, as the report prefers, stating until when");

    let cycle = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0].cycle;
    assert_eq!(cycle.state, CycleState::Exhausted);
    assert_eq!(cycle.numbers.len(), 5);
    for pair in cycle.numbers.windows(2) {
        let gap = pair[1].sent_at.unwrap() - pair[0].sent_at.unwrap();
        assert!(
            gap >= Duration::minutes(60) && gap <= Duration::minutes(62),
            "re-issued when the previous hour ran out: {gap}"
        );
    }
    let last_sent = cycle.numbers[4].sent_at.unwrap();
    let Some(domain::cycle::Reminder::Sent { at }) = cycle.reminder else {
        panic!("no reminder: {:?}", cycle.reminder)
    };
    assert!(
        at - last_sent >= Duration::minutes(30) && at - last_sent <= Duration::minutes(32),
        "reminder 30 minutes in (next tick)"
    );
    assert_eq!(cycle.next_due_at, None);
    // After expiry nothing decryptable remains: the exhausting write dropped every sealed copy.
    assert!(cycle.numbers.iter().all(|n| n.sealed.is_none()), "a sealed number outlived its expiry");

    let day = domain::time::japan_date(start());
    let stats = e.app.cases.processing_stats(day, day).await.unwrap();
    assert_eq!(
        (stats.totals["issued"], stats.totals["reissued"], stats.totals["reminded"], stats.totals["exhausted"]),
        (1, 4, 1, 1)
    );
}

async fn redeeming_after_the_second_reissue_stops_everything(stack: Stack) {
    let e = env(stack).await;
    let report = e.report().await;
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    // Two expiries: numbers 0, 1, 2 sent.
    e.tick(start(), start() + Duration::minutes(130)).await;
    let sent = e.sent(Channel::Sms).await;
    assert_eq!(sent.len(), 3);
    let (old, live) = (number_in(&sent[1]).unwrap(), number_in(&sent[2]).unwrap());

    e.clock.set(start() + Duration::minutes(135));
    assert!(
        matches!(e.app.cases.redeem_number("app", Some("device-1"), &old).await, Err(RedeemError::Invalid)),
        "an expired number"
    );
    e.app.cases.redeem_number("app", Some("device-1"), &live).await.unwrap();
    assert!(
        matches!(e.app.cases.redeem_number("app", Some("device-1"), &live).await, Err(RedeemError::Invalid)),
        "used once only"
    );

    e.tick(start() + Duration::minutes(131), start() + Duration::hours(7)).await;
    assert_eq!(e.sent(Channel::Sms).await.len(), 3, "no re-issue and no reminder after redemption");
    let view = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0];
    assert_eq!((view.cycle.state, view.cycle.redeemed_generation), (CycleState::Redeemed, Some(2)));
    assert_eq!(view.failed_redemptions[1], 1, "the health centre sees that the expired number was tried");
    let day = domain::time::japan_date(start());
    assert_eq!(e.app.cases.processing_stats(day, day).await.unwrap().totals["redeemed_2"], 1);
}

async fn concurrent_sweeps_send_each_reissue_once(stack: Stack) {
    let e = env(stack).await;
    let mut reports = Vec::new();
    for _ in 0..8 {
        let r = e.report().await;
        e.app.cases.issue_number(&r, "131016", Channel::Sms).await.unwrap();
        reports.push(r);
    }
    assert_eq!(e.sent(Channel::Sms).await.len(), 8);
    // Two invocations for the same minute (EventBridge delivers at least once), at once.
    let at = start() + Duration::minutes(61);
    let (a, b) = tokio::join!(e.app.cases.run_due_cycles(at), e.app.cases.run_due_cycles(at));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.reissued + b.reissued, 8, "each re-issue done once: {a:?} {b:?}");
    assert_eq!(e.sent(Channel::Sms).await.len(), 16, "and each message sent once");
    for r in &reports {
        let cycle = &e.app.cases.cycles_of_report(r, "131016").await.unwrap()[0].cycle;
        assert_eq!(cycle.numbers.len(), 2);
    }
}

async fn service_failures_are_retried_without_loss_or_duplicates(stack: Stack) {
    let e = env(stack).await;
    let report = e.report().await;
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    // The service fails for the first three minutes after the first number expires.
    e.flaky.failing.store(true, Ordering::SeqCst);
    e.tick(start(), start() + Duration::minutes(63)).await;
    assert_eq!(e.sent(Channel::Sms).await.len(), 1);
    let cycle = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0].cycle;
    if e.stack == Stack::Embedded {
        // The injected failure reaches the send: the state records the undelivered message.
        assert_eq!(cycle.current().unwrap().state, NumberState::Undelivered, "the state records the pending message");
    } else {
        // The stopped service already fails the opt-out check: nothing was claimed or sent, the cycle stays due.
        assert_eq!(cycle.current().unwrap().generation, 0);
        assert!(cycle.next_due_at.is_some_and(|at| at <= start() + Duration::minutes(63)));
        let run = e.app.cases.run_due_cycles(start() + Duration::minutes(63)).await.unwrap();
        assert_eq!((run.due, run.failed, run.reissued), (1, 1, 0), "counted as failed, not as sent: {run:?}");
    }
    e.flaky.failing.store(false, Ordering::SeqCst);
    e.tick(start() + Duration::minutes(64), start() + Duration::hours(7)).await;

    let sent = e.sent(Channel::Sms).await;
    assert_eq!(sent.len(), 6, "still one issue, four re-issues and one reminder");
    let cycle = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0].cycle;
    assert_eq!(cycle.state, CycleState::Exhausted);
    let delivered: Vec<u8> = cycle.numbers.iter().filter(|n| n.sent_at.is_some()).map(|n| n.generation).collect();
    assert_eq!(delivered, vec![0, 1, 2, 3, 4], "the count of four is never exceeded");
    if e.stack == Stack::Embedded {
        let day = domain::time::japan_date(start());
        assert!(e.app.cases.processing_stats(day, day).await.unwrap().totals["delivery_failures"] >= 2);
    }
}

async fn a_cancelled_cycle_gets_nothing_more(stack: Stack) {
    let e = env(stack).await;
    let report = e.report().await;
    let issued = e.app.cases.issue_number(&report, "131016", Channel::Email).await.unwrap();
    let first = number_in(&e.sent(Channel::Email).await[0]).unwrap();
    assert!(
        e.app.cases.cancel_cycle(&report, "999999", &issued.cycle.id).await.is_err(),
        "another health centre cannot"
    );
    e.app.cases.cancel_cycle(&report, "131016", &issued.cycle.id).await.unwrap();
    e.tick(start(), start() + Duration::hours(6)).await;
    assert_eq!(e.sent(Channel::Email).await.len(), 1);
    assert!(matches!(e.app.cases.redeem_number("app", None, &first).await, Err(RedeemError::Invalid)));
}

async fn a_manual_issue_supersedes_the_live_number(stack: Stack) {
    let e = env(stack).await;
    let report = e.report().await;
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    e.clock.set(start() + Duration::minutes(10));
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    let sent = e.sent(Channel::Sms).await;
    let (first, second) = (number_in(&sent[0]).unwrap(), number_in(&sent[1]).unwrap());
    assert!(matches!(e.app.cases.redeem_number("app", None, &first).await, Err(RedeemError::Invalid)));
    e.app.cases.redeem_number("app", None, &second).await.unwrap();
    let cycles = e.app.cases.cycles_of_report(&report, "131016").await.unwrap();
    assert_eq!((cycles[0].cycle.state, cycles[1].cycle.state), (CycleState::Redeemed, CycleState::Superseded));
}

async fn failed_redemptions_lock_the_device_out(stack: Stack) {
    let e = env(stack).await;
    for i in 0..10 {
        let guess = format!("{:08}", 10_000_000 + i);
        assert!(matches!(e.app.cases.redeem_number("app", Some("device-9"), &guess).await, Err(RedeemError::Invalid)));
    }
    let locked = e.app.cases.redeem_number("app", Some("device-9"), "12345678").await;
    let Err(RedeemError::Locked { retry_after_seconds }) = locked else { panic!("{locked:?}") };
    // Another device of the same backend is not locked by this one's guesses.
    assert!(matches!(e.app.cases.redeem_number("app", Some("device-10"), "12345678").await, Err(RedeemError::Invalid)));
    // Retry-After is the time until a retry can succeed: a second before, still locked; at that moment, not.
    let locked_at = domain::time::Clock::now(e.clock.as_ref());
    e.clock.set(locked_at + Duration::seconds(retry_after_seconds - 1));
    let early = e.app.cases.redeem_number("app", Some("device-9"), "12345678").await;
    assert!(matches!(early, Err(RedeemError::Locked { .. })), "{early:?}");
    e.clock.set(locked_at + Duration::seconds(retry_after_seconds));
    let retried = e.app.cases.redeem_number("app", Some("device-9"), "12345678").await;
    assert!(matches!(retried, Err(RedeemError::Invalid)), "retried after {retry_after_seconds} s: {retried:?}");
}

/// Opting out mid-cycle needs an opt-out list the test can change: the local outbox's. moto's list is fixed
/// (numbers ending in 99), so on the AWS stack the rule is checked at issue time instead (the test below).
#[tokio::test]
async fn an_opted_out_phone_gets_no_further_number() {
    let e = env(Stack::Embedded).await;
    let report = e.report().await;
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    e.outbox.as_ref().unwrap().opt_out(&PhoneNumber::parse("phone", &e.phone).unwrap()).unwrap();
    e.tick(start(), start() + Duration::hours(6)).await;
    assert_eq!(e.sent(Channel::Sms).await.len(), 1);
    let cycle = &e.app.cases.cycles_of_report(&report, "131016").await.unwrap()[0].cycle;
    assert_eq!(cycle.state, CycleState::OptedOut);
}

async fn an_sms_issue_to_an_opted_out_phone_is_refused_naming_the_channel(stack: Stack) {
    let mut e = env(stack).await;
    match stack {
        Stack::Embedded => e.outbox.as_ref().unwrap().opt_out(&PhoneNumber::parse("phone", &e.phone).unwrap()).unwrap(),
        // moto answers CheckIfPhoneNumberIsOptedOut with true for numbers ending in 99.
        Stack::Aws => e.phone = format!("{}99", &e.phone[..e.phone.len() - 2]),
    }
    let report = e.report().await;
    let refused = e.app.cases.issue_number(&report, "131016", Channel::Sms).await;
    let Err(domain::app::AppError::Impossible(v)) = refused else { panic!("not refused: {refused:?}") };
    assert_eq!(v.0[0].field, "channel");
    assert!(e.sent(Channel::Sms).await.is_empty());
    assert!(e.app.cases.cycles_of_report(&report, "131016").await.unwrap().is_empty(), "no cycle was started");
    e.app.cases.issue_number(&report, "131016", Channel::Email).await.unwrap();
    assert_eq!(e.sent(Channel::Email).await.len(), 1, "e-mail is the way left");
}

async fn five_numbers_then_one_reminder_by_sms(stack: Stack) {
    five_numbers_then_one_reminder(stack, Channel::Sms).await
}

async fn five_numbers_then_one_reminder_by_email(stack: Stack) {
    five_numbers_then_one_reminder(stack, Channel::Email).await
}

/// The number issued through the real `hersys serve` (embedded, or `--aws` on DynamoDB Local with SNS and KMS on
/// moto) reaches the patient with its link, and never the server's log, at debug level.
async fn an_issued_number_reaches_the_patient_and_not_the_log(stack: Stack) {
    use crate::http::{Server, client};
    let server = match stack {
        Stack::Embedded => Server::start(&[], &[]),
        Stack::Aws => Server::start_on_dynamodb(),
    };
    let token = server.health_center_token();
    let created = server.file_sample_report(&token).await;
    let id = created["report_id"].as_str().unwrap();
    let issued = client()
        .post(server.url(&format!("/v1/reports/{id}/processing-numbers")))
        .bearer_auth(&token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&serde_json::json!({"channel": "sms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 201, "{}", server.log_text());
    let texts: Vec<String> = match stack {
        Stack::Embedded => {
            let stores = embedded::SqliteStores::open(&server.data_dir.path().join("hersys.sqlite3")).unwrap();
            stores.outbox().messages().unwrap().into_iter().map(|m| m.body).collect()
        }
        // Every SMS moto holds for the sample report's phone (other tests share it): none may be in this log.
        Stack::Aws => emulators::moto_data().await["sns"]["SMS"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["phone_number"] == fixtures::PHONE_E164)
            .map(|m| m["message"].as_str().unwrap().to_owned())
            .collect(),
    };
    let numbers: Vec<String> = texts.iter().filter_map(|t| number_in(t)).collect();
    assert!(!numbers.is_empty(), "no number message was sent");
    assert!(texts.iter().any(|t| t.contains("https://www.mhlw.go.jp/cocoa/a/?pn=")), "no app link was sent");
    let log = server.log_text();
    assert!(log.contains("processing number issued"), "the server logged the issuing");
    for n in &numbers {
        assert!(!log.contains(n.as_str()), "a processing number reached the log");
    }
}

/// A re-issue that falls in quiet hours waits, and the sweep's answer says why and until when.
#[tokio::test]
async fn a_sweep_says_which_sends_quiet_hours_hold_back_and_until_when() {
    let e = env(Stack::Embedded).await;
    let report = e.report().await;
    // Issued at 20:30 Japan time: it expires unused at 21:30, inside the default quiet hours (21:00-08:00).
    let issued_at = Utc.with_ymd_and_hms(2021, 2, 4, 11, 30, 0).unwrap();
    e.clock.set(issued_at);
    e.app.cases.issue_number(&report, "131016", Channel::Sms).await.unwrap();
    let run = e.app.cases.run_due_cycles(issued_at + Duration::minutes(61)).await.unwrap();
    let morning = Utc.with_ymd_and_hms(2021, 2, 4, 23, 0, 0).unwrap();
    assert_eq!((run.waiting, run.held_for_quiet_hours, run.quiet_hours_end), (1, 1, Some(morning)), "{run:?}");
    assert_eq!(run.reissued, 0);
    let run = e.app.cases.run_due_cycles(morning).await.unwrap();
    assert_eq!((run.reissued, run.held_for_quiet_hours, run.quiet_hours_end), (1, 0, None), "{run:?}");
}

on_both_stores! {
    embedded: Stack::Embedded,
    dynamodb: Stack::Aws;
    an_issued_number_reaches_the_patient_and_not_the_log,
    five_numbers_then_one_reminder_by_sms,
    five_numbers_then_one_reminder_by_email,
    redeeming_after_the_second_reissue_stops_everything,
    concurrent_sweeps_send_each_reissue_once,
    service_failures_are_retried_without_loss_or_duplicates,
    a_cancelled_cycle_gets_nothing_more,
    a_manual_issue_supersedes_the_live_number,
    failed_redemptions_lock_the_device_out,
    an_sms_issue_to_an_opted_out_phone_is_refused_naming_the_channel,
}

/// `hersys invoke reissue` on an event file whose time is `at`, against the data dir a server also uses.
fn invoke_reissue(data_dir: &std::path::Path, at: Instant) -> (serde_json::Value, String) {
    let event = data_dir.join("tick.json");
    let body = serde_json::json!({
        "version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler",
        "time": at.to_rfc3339(), "detail": {}
    });
    std::fs::write(&event, body.to_string()).unwrap();
    let out = crate::http::hersys_embedded()
        .args(["invoke", "reissue", "--event"])
        .arg(&event)
        .arg("--data-dir")
        .arg(data_dir)
        .env("QUIET_HOURS", "00:00-00:00")
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "hersys invoke reissue failed: {log}");
    (serde_json::from_slice(&out.stdout).unwrap(), log)
}

/// The scenario a developer runs by hand: `hersys serve`, a number issued over HTTP (twice with one
/// Idempotency-Key), `hersys invoke reissue` with event times an hour apart, then `hersys outbox`.
#[tokio::test]
async fn through_serve_invoke_and_outbox() {
    use crate::http::{Server, client};
    // Whatever the wall clock says, this scenario is not about quiet hours.
    let server = Server::start(&[], &[("QUIET_HOURS", "00:00-00:00")]);
    let http = client();
    let token = server.health_center_token();
    let created = server.file_sample_report(&token).await;
    let id = created["report_id"].as_str().unwrap().to_owned();
    let issue = || {
        http.post(server.url(&format!("/v1/reports/{id}/processing-numbers")))
            .bearer_auth(&token)
            .header("Idempotency-Key", "issue-1")
            .json(&serde_json::json!({"channel": "sms"}))
    };
    let first = issue().send().await.unwrap();
    assert_eq!(first.status(), 201);
    let cycle: serde_json::Value = first.json().await.unwrap();
    let again = issue().send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["cycle_id"], cycle["cycle_id"]);

    let expires: Instant = cycle["numbers"][0]["expires_at"].as_str().unwrap().parse().unwrap();
    let (mut reissued, mut logs) = (0, String::new());
    for minutes in [1, 62, 123, 184, 215, 245] {
        let (run, log) = invoke_reissue(server.data_dir.path(), expires + Duration::minutes(minutes));
        reissued += run["reissued"].as_u64().unwrap();
        logs.push_str(&log);
    }
    assert_eq!(reissued, 4);

    let out = std::process::Command::new(crate::http::hersys_bin())
        .args(["outbox", "--json", "--data-dir"])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6, "one issue (not two: the retry was replayed), four re-issues, one reminder");
    assert!(lines.iter().all(|m| m["channel"] == "sms" && m["recipient"] == fixtures::PHONE_E164));
    let numbers: std::collections::BTreeSet<String> =
        lines[..5].iter().filter_map(|m| number_in(m["text"].as_str().unwrap())).collect();
    assert_eq!(numbers.len(), 5);
    let reminder = lines[5]["text"].as_str().unwrap();
    assert!(numbers.contains(&number_in(reminder).expect("the reminder carries the live number")));
    // The embedded vault's key: made on the first issue, readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = server.data_dir.path().join(embedded::NUMBER_KEY_FILE);
        assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let view = server.get_json(&format!("/v1/reports/{id}/processing-numbers"), &token).await;
    assert_eq!(view["cycles"][0]["state"], "exhausted");
    assert_eq!(view["cycles"][0]["reminder"]["state"], "sent");
    // The health centre's view never carries a number.
    let text = view.to_string();
    assert!(numbers.iter().all(|n| !text.contains(n.as_str())));
    assert!(logs.contains("re-issue run done"), "the re-issuer logged at debug level");
    let server_log = server.log_holding("request done", 1).await;
    for n in &numbers {
        assert!(!server_log.contains(n.as_str()) && !logs.contains(n.as_str()), "a processing number reached a log");
        assert!(
            !logs.contains(fixtures::PHONE_E164) && !server_log.contains(fixtures::PHONE_E164),
            "a phone number reached a log"
        );
    }
}

/// The statistics cover at most a quarter (92 days): the domain refuses a longer or reversed range naming `from`,
/// and the route answers it as before, a 400 naming `from` and the rule.
#[tokio::test]
async fn the_statistics_range_is_a_quarter_at_most() {
    use crate::http::{Server, client};
    let e = env(Stack::Embedded).await;
    let from = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let quarter = e.app.cases.processing_stats(from, from + Duration::days(91)).await.unwrap();
    assert_eq!(quarter.days.len(), 92);
    for to in [from + Duration::days(92), from - Duration::days(1)] {
        let refused = e.app.cases.processing_stats(from, to).await.unwrap_err();
        let domain::app::AppError::Invalid(v) = refused else { panic!("{refused:?}") };
        assert_eq!(v.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["from"], "{to}");
    }

    let server = Server::start(&[], &[]);
    let res = client()
        .get(server.url("/v1/processing-numbers/stats?from=2021-01-01&to=2021-04-03"))
        .bearer_auth(server.token("operator", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_request", "fields": [
            {"field": "from", "problem": "must be on or before to, at most 92 days before it"}
        ]})
    );
}
