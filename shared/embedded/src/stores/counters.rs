//! The statistics counters (`CounterStore`): the `counters` table, added to atomically and read in one query.

use async_trait::async_trait;
use domain::error::StoreError;
use domain::ports::CounterStore;
use domain::time::Instant;
use rusqlite::params;

use super::{SqliteStores, millis, sql};

/// Counters share the ProcessingNumbers table (`counter#<name>` items; `counters` rows locally).
#[async_trait]
impl CounterStore for SqliteStores {
    async fn add_to_counter(&self, name: &str, delta: u64, purge_after: Instant) -> Result<u64, StoreError> {
        let (name, delta, purge) = (name.to_owned(), i64::try_from(delta).unwrap_or(i64::MAX), millis(purge_after));
        self.db
            .run(move |conn| {
                let value: i64 = conn
                    .prepare_cached(
                        "INSERT INTO counters (name, value, purge_after) VALUES (?1, ?2, ?3)
                         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value,
                             purge_after = max(purge_after, excluded.purge_after)
                         RETURNING value",
                    )
                    .and_then(|mut stmt| stmt.query_row(params![name, delta, purge], |r| r.get(0)))
                    .map_err(sql)?;
                Ok(u64::try_from(value).unwrap_or(0))
            })
            .await
    }

    async fn counters(&self, names: &[String], now: Instant) -> Result<Vec<u64>, StoreError> {
        // One query for all the names (the statistics ask for up to 1,840), passed as one JSON array.
        let (asked, now) =
            (serde_json::to_string(names).map_err(|_| StoreError::Corrupt("counter names".into()))?, millis(now));
        let names = names.to_vec();
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT name, value FROM counters
                         WHERE name IN (SELECT value FROM json_each(?1)) AND purge_after > ?2",
                    )
                    .map_err(sql)?;
                let rows = stmt.query_map(params![asked, now], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)));
                let values: std::collections::HashMap<String, i64> =
                    rows.map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
                Ok(names.iter().map(|name| values.get(name).map_or(0, |v| u64::try_from(*v).unwrap_or(0))).collect())
            })
            .await
    }
}
