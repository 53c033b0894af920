//! Accumulates facts into counters per day and prefecture: flows (new cases, deaths) on their day, and stocks
//! (severe, requiring care, released, to be confirmed) as +1 on the day a status starts and -1 on the day it ends,
//! so that a running sum gives the stock on each day. Memory grows with days × prefectures, not with facts, and a
//! fact can be taken out again with the opposite sign (for an export that only applies what changed).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::facts::{CELLS, CaseFact};
use crate::report::Status;

/// The counters of one prefecture on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cell {
    /// New cases by sex/age cell (last cell: sex or age unknown).
    pub new: [i64; CELLS],
    pub deaths: [i64; CELLS],
    /// Change of the severe stock, by sex/age cell.
    pub severe: [i64; CELLS],
    /// Changes of the stocks requiring inpatient care (hospital, hotel, home), released, and to be confirmed.
    pub care: i64,
    pub released: i64,
    pub to_be_confirmed: i64,
}

impl Default for Cell {
    fn default() -> Self {
        Self { new: [0; CELLS], deaths: [0; CELLS], severe: [0; CELLS], care: 0, released: 0, to_be_confirmed: 0 }
    }
}

impl Cell {
    fn is_empty(&self) -> bool {
        *self == Cell::default()
    }

    fn add(&mut self, other: &Cell) {
        for (mine, theirs) in
            [(&mut self.new, &other.new), (&mut self.deaths, &other.deaths), (&mut self.severe, &other.severe)]
        {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.care += other.care;
        self.released += other.released;
        self.to_be_confirmed += other.to_be_confirmed;
    }
}

/// Counters per day and prefecture for one source of facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// day -> 47 cells, index = prefecture code - 1.
    pub(crate) days: BTreeMap<NaiveDate, Vec<Cell>>,
    facts: u64,
}

/// Which stock a status belongs to.
#[derive(Clone, Copy)]
enum Stock {
    Care { severe: bool },
    Released,
    ToBeConfirmed,
    None,
}

fn stock_of(status: Status) -> Stock {
    match status {
        Status::HomeCare | Status::HotelCare | Status::Hospitalized => Stock::Care { severe: false },
        Status::HospitalizedSevere => Stock::Care { severe: true },
        Status::Released => Stock::Released,
        Status::ToBeConfirmed => Stock::ToBeConfirmed,
        Status::Died => Stock::None,
    }
}

impl Tally {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many facts were added (less those removed).
    pub fn facts(&self) -> u64 {
        self.facts
    }

    /// Adds another tally's counters to this one: the tallies of disjoint sets of facts (the partitions of a full
    /// export) add up to the tally of their union, cell for cell.
    pub fn merge(&mut self, other: &Tally) {
        for (day, cells) in &other.days {
            let mine = self.days.entry(*day).or_insert_with(|| vec![Cell::default(); 47]);
            for (m, t) in mine.iter_mut().zip(cells) {
                m.add(t);
            }
        }
        self.facts += other.facts;
    }

    pub fn add(&mut self, fact: &CaseFact) {
        self.apply(fact, 1);
        self.facts += 1;
    }

    /// Takes out a fact added before (the old version of a changed report).
    pub fn remove(&mut self, fact: &CaseFact) {
        self.apply(fact, -1);
        self.facts = self.facts.saturating_sub(1);
    }

    /// Brings a report's contribution from the fact counted before (`None`: not counted) to its current fact
    /// (`None`: not to be counted, e.g. no longer published). Returns whether anything changed.
    pub fn replace(&mut self, counted: Option<&CaseFact>, current: Option<&CaseFact>) -> bool {
        if counted == current {
            return false;
        }
        if let Some(old) = counted {
            self.remove(old);
        }
        if let Some(new) = current {
            self.add(new);
        }
        true
    }

    fn cell(&mut self, day: NaiveDate, fact: &CaseFact) -> &mut Cell {
        let cells = self.days.entry(day).or_insert_with(|| vec![Cell::default(); 47]);
        // PrefectureCode guarantees 1..=47.
        &mut cells[usize::from(fact.prefecture.number() - 1)]
    }

    fn apply(&mut self, fact: &CaseFact, sign: i64) {
        let k = fact.cell();
        self.cell(fact.published, fact).new[k] += sign;
        if let Some(day) = fact.died_on {
            self.cell(day, fact).deaths[k] += sign;
        }
        let Some(history) = &fact.status_history else { return };
        // Published before any status is known: to be confirmed until the first status (or for good).
        let first = history.first().map(|c| c.effective_date);
        if first.is_none_or(|d| d > fact.published) {
            self.stock(fact, Stock::ToBeConfirmed, fact.published, first, sign);
        }
        for (i, change) in history.iter().enumerate() {
            let until = history.get(i + 1).map(|c| c.effective_date);
            self.stock(fact, stock_of(change.status), change.effective_date, until, sign);
        }
    }

    /// In `stock` from `from` (included) to `until` (excluded; `None`: still).
    fn stock(&mut self, fact: &CaseFact, stock: Stock, from: NaiveDate, until: Option<NaiveDate>, sign: i64) {
        if until == Some(from) || matches!(stock, Stock::None) {
            return;
        }
        let k = fact.cell();
        let bump = |tally: &mut Self, day: NaiveDate, by: i64| {
            let cell = tally.cell(day, fact);
            match stock {
                Stock::Care { severe } => {
                    cell.care += by;
                    if severe {
                        cell.severe[k] += by;
                    }
                }
                Stock::Released => cell.released += by,
                Stock::ToBeConfirmed => cell.to_be_confirmed += by,
                Stock::None => {}
            }
        };
        bump(self, from, sign);
        if let Some(end) = until {
            bump(self, end, -sign);
        }
    }

    /// The first day with anything on it (days emptied by removals do not count).
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.days.iter().find(|(_, cells)| cells.iter().any(|c| !c.is_empty())).map(|(d, _)| *d)
    }

    pub fn last_day(&self) -> Option<NaiveDate> {
        self.days.iter().rev().find(|(_, cells)| cells.iter().any(|c| !c.is_empty())).map(|(d, _)| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphs::{AgeBand, SexBand};
    use crate::prefecture::PrefectureCode;
    use crate::report::StatusChange;
    use proptest::prelude::*;

    fn fact(prefecture: u8, day: u32, status: usize, died: bool) -> CaseFact {
        let d = |n: u32| NaiveDate::from_ymd_opt(2021, 2, 1).unwrap() + chrono::Days::new(u64::from(n));
        let statuses = [Status::HomeCare, Status::Hospitalized, Status::HospitalizedSevere, Status::Released];
        CaseFact {
            prefecture: PrefectureCode::new(prefecture).unwrap(),
            published: d(day),
            sex: Some(if day.is_multiple_of(2) { SexBand::Female } else { SexBand::Male }),
            age: Some(AgeBand::of_age(day % 90)),
            status_history: Some(vec![
                StatusChange { status: statuses[status], effective_date: d(day + 1) },
                StatusChange { status: Status::Released, effective_date: d(day + 10) },
            ]),
            died_on: died.then(|| d(day + 3)),
        }
    }

    proptest! {
        /// However a set of facts is split into partitions, their tallies merged are the tally of the whole.
        #[test]
        fn merged_partitions_equal_the_whole(
            facts in prop::collection::vec((1u8..=47, 0u32..60, 0usize..4, any::<bool>(), 0usize..5), 0..200)
        ) {
            let mut whole = Tally::new();
            let mut parts = vec![Tally::new(); 5];
            for &(prefecture, day, status, died, part) in &facts {
                let f = fact(prefecture, day, status, died);
                whole.add(&f);
                parts[part].add(&f);
            }
            let mut merged = Tally::new();
            for part in &parts {
                merged.merge(part);
            }
            prop_assert_eq!(merged, whole);
        }
    }
}
