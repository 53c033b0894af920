//! The adapters on their own against the emulators: DynamoDB Local (table creation) and moto (SNS, SES v2, S3).
//! The storage contract on both stores is `contract.rs`; these check what only the AWS side has.
//!
//! The emulators must be running (`./infra/test` starts them); a missing endpoint fails the test, never skips it.

use aws_adapters::{AwsNotifier, S3ExportSink, Table, TableNames, create_tables, s3_client, verify_sender};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{KeyType, ProjectionType};
use domain::NotifyError;
use domain::pii::{Email, PhoneNumber};
use domain::ports::{ExportSink, Notifier, OutgoingMessage, Recipient};

use crate::emulators::{moto_sent, sdk_config};

fn unique(what: &str) -> String {
    format!("{what}{}", uuid::Uuid::new_v4().simple())
}

/// Name, hash key, range key, projection.
type IndexSpec = (&'static str, &'static str, Option<&'static str>, ProjectionType);

#[tokio::test]
async fn tables_are_created_as_the_storage_layout_says_and_twice_is_harmless() {
    // GIVEN fresh table names on DynamoDB Local
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let names = TableNames::with_prefix(&unique("t"));

    // WHEN the tables are created twice
    create_tables(&client, &names).await.unwrap();
    create_tables(&client, &names).await.unwrap();

    // THEN each table has `pk` as its only key, and exactly the indexes of docs/storage-layout.md
    let expected: [(&str, &[IndexSpec]); 5] = [
        (
            names.get(Table::Reports),
            &[
                ("by_change", "changed_day", Some("changed_at"), ProjectionType::KeysOnly),
                ("by_passport", "passport_hash", None, ProjectionType::KeysOnly),
                ("by_prefecture", "prefecture", Some("pk"), ProjectionType::All),
            ],
        ),
        (
            names.get(Table::Entries),
            &[
                ("by_change", "changed_day", Some("changed_at"), ProjectionType::KeysOnly),
                ("by_passport", "passport_hash", None, ProjectionType::All),
            ],
        ),
        (
            names.get(Table::Cycles),
            &[
                ("by_report", "report_id", Some("pk"), ProjectionType::All),
                ("due", "due_shard", Some("due_at"), ProjectionType::KeysOnly),
            ],
        ),
        (names.get(Table::Idempotency), &[]),
        (names.get(Table::Links), &[("review_queue", "review_hc", Some("pk"), ProjectionType::All)]),
    ];
    for (table, indexes) in expected {
        let described = client.describe_table().table_name(table).send().await.unwrap().table.unwrap();
        assert_eq!(described.table_status().map(|s| s.as_str()), Some("ACTIVE"), "{table}");
        let keys: Vec<_> = described.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().clone())).collect();
        assert_eq!(keys, [("pk", KeyType::Hash)], "{table}");
        let mut found: Vec<_> = described
            .global_secondary_indexes()
            .iter()
            .map(|gsi| {
                let key = |kind: KeyType| {
                    gsi.key_schema().iter().find(|k| *k.key_type() == kind).map(|k| k.attribute_name().to_owned())
                };
                let projection = gsi.projection().and_then(|p| p.projection_type().cloned()).unwrap();
                (gsi.index_name().unwrap().to_owned(), key(KeyType::Hash).unwrap(), key(KeyType::Range), projection)
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let want: Vec<_> = indexes
            .iter()
            .map(|(n, h, r, p)| (n.to_string(), h.to_string(), r.map(str::to_owned), p.clone()))
            .collect();
        assert_eq!(found, want, "{table}");
    }
    for table in [names.get(Table::Cycles), names.get(Table::Idempotency)] {
        let ttl = client.describe_time_to_live().table_name(table).send().await.unwrap();
        assert_eq!(ttl.time_to_live_description.unwrap().attribute_name(), Some("ttl"), "{table}");
    }
}

fn notifier(config: &SdkConfig, from: &str) -> AwsNotifier {
    AwsNotifier::new(aws_sdk_sns::Client::new(config), aws_sdk_sesv2::Client::new(config), from)
}

#[tokio::test]
async fn an_sms_goes_out_through_sns_to_the_e164_number() {
    let config = sdk_config().await;
    let notifier = notifier(&config, "noreply@example.jp");
    let token = unique("sms");
    let message = OutgoingMessage {
        to: Recipient::Sms(PhoneNumber::parse("phone", "090-1234-5678").unwrap()),
        subject: String::new(),
        body: format!("処理番号 12345678 {token}"),
    };

    let before = chrono::Utc::now();
    let delivery = notifier.send(&message).await.unwrap();

    assert!(!delivery.message_id.is_empty());
    assert!(delivery.accepted_at >= before);
    let sent = moto_sent().await;
    assert!(sent.contains("+819012345678"), "SNS got no SMS to the E.164 number");
    assert!(sent.contains(&format!("処理番号 12345678 {token}")), "SNS got another text");
}

#[tokio::test]
async fn an_email_goes_out_through_ses_from_the_verified_sender() {
    let config = sdk_config().await;
    let from = format!("{}@example.jp", unique("hc"));
    verify_sender(&aws_sdk_sesv2::Client::new(&config), &from).await.unwrap();
    verify_sender(&aws_sdk_sesv2::Client::new(&config), &from).await.unwrap(); // again: harmless
    let notifier = notifier(&config, &from);
    let subject = format!("処理番号のお知らせ {}", unique("s"));
    let message = OutgoingMessage {
        to: Recipient::Email(Email::parse("email", "an@example.jp").unwrap()),
        subject: subject.clone(),
        body: "処理番号: 12345678".to_owned(),
    };

    let delivery = notifier.send(&message).await.unwrap();

    assert!(!delivery.message_id.is_empty());
    let sent = moto_sent().await;
    assert!(sent.contains(&subject), "SES got no message with this subject");
    assert!(sent.contains(&from));
}

#[tokio::test]
async fn a_refused_email_is_rejected_without_recipient_or_text_in_the_error() {
    // GIVEN a sender that was never verified
    let config = sdk_config().await;
    let notifier = notifier(&config, &format!("{}@example.jp", unique("unverified")));
    let message = OutgoingMessage {
        to: Recipient::Email(Email::parse("email", "secret.person@example.jp").unwrap()),
        subject: "subject 87654321".to_owned(),
        body: "body 87654321".to_owned(),
    };

    // WHEN sending THEN SES refuses, permanently, and the error names only the operation and the code
    let error = notifier.send(&message).await.unwrap_err();
    let NotifyError::Rejected(text) = &error else { panic!("expected a rejection, got {error:?}") };
    assert!(text.starts_with("SendEmail: "), "{text}");
    for secret in ["secret.person", "87654321", "unverified"] {
        assert!(!error.to_string().contains(secret), "{error}");
    }
}

#[tokio::test]
async fn the_opt_out_list_is_asked_through_sns() {
    let config = sdk_config().await;
    let notifier = notifier(&config, "noreply@example.jp");
    // moto's rule: numbers ending in 99 are opted out.
    let opted_out = PhoneNumber::parse("phone", "090-1234-5699").unwrap();
    let reachable = PhoneNumber::parse("phone", "090-1234-5678").unwrap();

    assert!(notifier.is_opted_out(&opted_out).await.unwrap());
    assert!(!notifier.is_opted_out(&reachable).await.unwrap());
}

#[tokio::test]
async fn an_export_lands_under_the_prefix_with_its_content_type() {
    let config = sdk_config().await;
    let client = s3_client(&config, true);
    let bucket = unique("export-");
    client
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::ApNortheast1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sink = S3ExportSink::new(client.clone(), &bucket, "open-data/");
    let csv = "日付,新規陽性者数\n2021-02-01,10\n".as_bytes().to_vec();

    sink.put_object("csv/newly_confirmed_cases_daily.csv", "text/csv; charset=utf-8", csv.clone()).await.unwrap();
    sink.put_object("csv/newly_confirmed_cases_daily.csv", "text/csv; charset=utf-8", csv.clone()).await.unwrap();

    let object =
        client.get_object().bucket(&bucket).key("open-data/csv/newly_confirmed_cases_daily.csv").send().await.unwrap();
    assert_eq!(object.content_type(), Some("text/csv; charset=utf-8"));
    assert_eq!(object.body.collect().await.unwrap().into_bytes().to_vec(), csv);
    for bad in ["../escape.csv", "/abs.csv", "csv//x.csv", ""] {
        assert!(sink.put_object(bad, "text/csv", Vec::new()).await.is_err(), "{bad}");
    }
}

/// Envelope encryption through the real SDK against moto's KMS: what one process (the health centre's issue) sealed,
/// another (the re-issuer's reminder) opens by asking KMS to decrypt the stored data key; the stored form holds
/// neither the number nor the plaintext data key, and a copy moved to another number's hash does not open.
#[tokio::test]
async fn a_number_sealed_by_one_process_opens_in_another_through_kms() {
    use domain::keyed_hash::KeyedHash;
    use domain::pii::ProcessingNumber;
    use domain::ports::NumberVault;

    let sdk = sdk_config().await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let alias = format!("alias/test-{}", uuid::Uuid::new_v4().simple());
    aws_adapters::create_number_key(&kms, &alias).await.unwrap();
    aws_adapters::create_number_key(&kms, &alias).await.unwrap(); // twice is harmless
    let number = ProcessingNumber::parse("n", "20481632").unwrap();
    let hash = KeyedHash::from_stored("hash-a".into());
    let sealed = aws_adapters::KmsVault::new(kms.clone(), &alias).seal(&number, &hash).await.unwrap();
    let stored = format!("{} {} {}", sealed.key, sealed.nonce, sealed.ciphertext);
    assert!(!stored.contains("20481632") && !stored.contains(&hex_of("20481632")));
    let other_process = aws_adapters::KmsVault::new(kms, &alias);
    assert_eq!(other_process.open(&sealed, &hash).await.unwrap().expose(), "20481632");
    let moved = other_process.open(&sealed, &KeyedHash::from_stored("hash-b".into())).await;
    assert!(moved.is_err(), "a sealed copy opened under another number's hash");
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}
