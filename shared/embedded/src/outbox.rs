//! The local stand-in for SNS (SMS) and SES (e-mail): messages are recorded in the `outbox` table of the same
//! SQLite file instead of being sent, so a developer can read them with `hersys outbox`.
//!
//! Unlike the stores, this table holds recipients and texts in the clear, deliberately: it is a developer tool
//! whose whole point is to show what a patient would have received. It never runs in AWS.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use domain::cycle::Channel;
use domain::error::{NotifyError, StoreError};
use domain::pii::PhoneNumber;
use domain::ports::{Delivery, Notifier, OutgoingMessage, Recipient};
use domain::time::Instant;
use rusqlite::{Connection, params};

use crate::db::{Db, describe};

/// One recorded message, recipient shown raw (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub at: Instant,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Implements [`Notifier`] by recording. Cheap to clone.
///
/// Open it with [`Outbox::open`] on the server's file from another process (e.g. `hersys outbox`) while the server
/// runs: the file is in WAL mode, so reading the outbox does not block the server, nor the server the reader.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbox")
    }
}

fn sql(e: rusqlite::Error) -> NotifyError {
    NotifyError::Unavailable(describe(&e))
}

fn opted_out(conn: &Connection, phone: &str) -> Result<bool, NotifyError> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM opted_out_phones WHERE phone = ?1)", [phone], |r| r.get(0))
        .map_err(sql)
}

impl Outbox {
    /// Opens the SQLite file (creating it and the schema if need be): the server's `hersys.sqlite3`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::from_db(Db::open(path)?))
    }

    /// A private in-memory outbox, for tests. For one shared with stores use `SqliteStores::outbox`.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self::from_db(Db::open_in_memory()?))
    }

    pub(crate) fn from_db(db: Db) -> Self {
        Self { db }
    }

    /// Puts a phone on the opt-out list (what a patient's "STOP" reply does at SNS). Idempotent.
    pub fn opt_out(&self, phone: &PhoneNumber) -> Result<(), NotifyError> {
        self.db.run_blocking(|conn| {
            conn.execute("INSERT OR IGNORE INTO opted_out_phones (phone) VALUES (?1)", [phone.expose()])
                .map_err(sql)?;
            Ok(())
        })
    }

    /// Every recorded message, oldest first.
    pub fn messages(&self) -> Result<Vec<OutboxMessage>, NotifyError> {
        self.db.run_blocking(|conn| {
            let mut stmt = conn
                .prepare("SELECT id, accepted_at, channel, recipient, subject, body FROM outbox ORDER BY id")
                .map_err(sql)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .map_err(sql)?;
            rows.map(|row| {
                let (id, at, channel, recipient, subject, body) = row.map_err(sql)?;
                let corrupt = || NotifyError::Unavailable("the outbox holds a malformed row".to_owned());
                let at = DateTime::parse_from_rfc3339(&at).map_err(|_| corrupt())?.with_timezone(&Utc);
                let channel = Channel::parse(&channel).ok_or_else(corrupt)?;
                Ok(OutboxMessage { id, at, channel, recipient, subject, body })
            })
            .collect()
        })
    }
}

#[async_trait]
impl Notifier for Outbox {
    /// Records the message. An SMS to an opted-out phone is refused with `OptedOut` and not recorded, as SNS would
    /// not deliver it.
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, NotifyError> {
        let (channel, recipient) = match &message.to {
            Recipient::Sms(p) => (Channel::Sms, p.expose().to_owned()),
            Recipient::Email(e) => (Channel::Email, e.expose().to_owned()),
        };
        let (subject, body) = (message.subject.clone(), message.body.clone());
        self.db
            .run(move |conn| {
                if channel == Channel::Sms && opted_out(conn, &recipient)? {
                    return Err(NotifyError::OptedOut);
                }
                // Microseconds, so that the instant read back from the stored text equals the one returned here.
                let accepted_at = Utc::now().trunc_subsecs(6);
                conn.execute(
                    "INSERT INTO outbox (accepted_at, channel, recipient, subject, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        accepted_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                        channel.as_str(),
                        recipient,
                        subject,
                        body
                    ],
                )
                .map_err(sql)?;
                Ok(Delivery { message_id: format!("outbox-{}", conn.last_insert_rowid()), accepted_at })
            })
            .await
    }

    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, NotifyError> {
        let phone = phone.expose().to_owned();
        self.db.run(move |conn| opted_out(conn, &phone)).await
    }
}
