//! From the two sources' tallies to the ministry's series, as typed tables.

use chrono::{Datelike, Days, NaiveDate};

use super::AREAS;
use super::facts::{AgeBand, CELLS, DETAIL};
use super::suppress::suppress;
use super::tally::Tally;
use crate::prefecture::{PrefectureCode, national_population_2020};

/// The published series, in their order (the files', the manifest's and the page's); ids and order as in
/// `docs/export-format.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesId {
    NewDaily,
    NewPer100k,
    NewDetailWeekly,
    CumulativeDaily,
    CumulativeDetailWeekly,
    SevereDaily,
    SevereDetailWeekly,
    DeathsCumulativeDaily,
    DeathsDaily,
    DeathsDetailCumulativeWeekly,
    InpatientDaily,
}

impl SeriesId {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesId::NewDaily => "newly_confirmed_cases_daily",
            SeriesId::NewPer100k => "newly_confirmed_cases_per_100_thousand_population_daily",
            SeriesId::NewDetailWeekly => "newly_confirmed_cases_detail_weekly",
            SeriesId::CumulativeDaily => "confirmed_cases_cumulative_daily",
            SeriesId::CumulativeDetailWeekly => "confirmed_cases_detail_cumulative_weekly",
            SeriesId::SevereDaily => "severe_cases_daily",
            SeriesId::SevereDetailWeekly => "severe_cases_detail_weekly",
            SeriesId::DeathsCumulativeDaily => "deaths_cumulative_daily",
            SeriesId::DeathsDaily => "number_of_deaths_daily",
            SeriesId::DeathsDetailCumulativeWeekly => "deaths_detail_cumulative_weekly",
            SeriesId::InpatientDaily => "requiring_inpatient_care_etc_daily",
        }
    }
}

/// From which day each prefecture's numbers come from HER-SYS reports; before it (or without it), from its line list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// Index = prefecture code - 1.
    pub hersys_from: [Option<NaiveDate>; 47],
}

impl Default for Sources {
    fn default() -> Self {
        Self { hersys_from: [None; 47] }
    }
}

impl Sources {
    pub fn set(&mut self, prefecture: PrefectureCode, from: Option<NaiveDate>) {
        self.hersys_from[usize::from(prefecture.number() - 1)] = from;
    }

    pub fn hersys_from(&self, prefecture: PrefectureCode) -> Option<NaiveDate> {
        self.hersys_from[usize::from(prefecture.number() - 1)]
    }

    fn hersys_on(&self, p: usize, day: NaiveDate) -> bool {
        self.hersys_from[p].is_some_and(|from| day >= from)
    }
}

/// A daily series: `areas[area][column][day]`, area 0 = `ALL`, then prefectures in JIS order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySeries {
    pub id: SeriesId,
    pub dates: Vec<NaiveDate>,
    /// Values are tenths (per-100k rates with one decimal) rather than counts.
    pub tenths: bool,
    pub areas: Vec<Vec<Vec<i64>>>,
}

impl DailySeries {
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.dates.last().copied()
    }

    pub fn columns(&self) -> usize {
        self.areas.first().map_or(0, Vec::len)
    }
}

/// A week, Sunday to Saturday, as the ministry's `2020/05/10~2020/05/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A sex/age series per week: `areas[area][sex][period][age band]`; `None` is a suppressed cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SexAgeSeries {
    pub id: SeriesId,
    pub periods: Vec<Week>,
    pub areas: Vec<[Vec<[Option<u64>; AgeBand::COUNT]>; 2]>,
}

impl SexAgeSeries {
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.periods.last().map(|w| w.to)
    }
}

/// One day of a switched prefecture's two sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscrepancyRow {
    pub date: NaiveDate,
    pub hersys: i64,
    pub linelist: i64,
}

/// New cases per day from both sources of a switched prefecture, over the days both cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub prefecture: PrefectureCode,
    pub rows: Vec<DiscrepancyRow>,
}

/// Everything an export publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSeries {
    pub daily: Vec<DailySeries>,
    pub sex_age: Vec<SexAgeSeries>,
    pub discrepancies: Vec<Discrepancy>,
    pub sources: Sources,
}

impl GraphSeries {
    pub fn daily(&self, id: SeriesId) -> Option<&DailySeries> {
        self.daily.iter().find(|s| s.id == id)
    }

    pub fn sex_age(&self, id: SeriesId) -> Option<&SexAgeSeries> {
        self.sex_age.iter().find(|s| s.id == id)
    }
}

const P: usize = 47;

/// One source laid out densely over the export's days: flows per day, stocks as of each day.
struct Dense {
    new: Vec<[i64; CELLS]>,
    deaths: Vec<[i64; CELLS]>,
    severe: Vec<[i64; CELLS]>,
    /// care, released, to be confirmed.
    stocks: Vec<[i64; 3]>,
}

fn dense(tally: &Tally, start: NaiveDate, days: usize) -> Dense {
    let n = days * P;
    let mut d = Dense {
        new: vec![[0; CELLS]; n],
        deaths: vec![[0; CELLS]; n],
        severe: vec![[0; CELLS]; n],
        stocks: vec![[0; 3]; n],
    };
    let mut severe = vec![[0i64; CELLS]; P];
    let mut stocks = vec![[0i64; 3]; P];
    let apply = |severe: &mut Vec<[i64; CELLS]>, stocks: &mut Vec<[i64; 3]>, cells: &[super::tally::Cell]| {
        for (p, c) in cells.iter().enumerate() {
            for (total, change) in severe[p].iter_mut().zip(&c.severe) {
                *total += change;
            }
            stocks[p][0] += c.care;
            stocks[p][1] += c.released;
            stocks[p][2] += c.to_be_confirmed;
        }
    };
    for (_, cells) in tally.days.range(..start) {
        apply(&mut severe, &mut stocks, cells);
    }
    for t in 0..days {
        let Some(day) = start.checked_add_days(Days::new(t as u64)) else { break };
        if let Some(cells) = tally.days.get(&day) {
            apply(&mut severe, &mut stocks, cells);
            for (p, c) in cells.iter().enumerate() {
                d.new[t * P + p] = c.new;
                d.deaths[t * P + p] = c.deaths;
            }
        }
        d.severe[t * P..(t + 1) * P].copy_from_slice(&severe);
        d.stocks[t * P..(t + 1) * P].copy_from_slice(&stocks);
    }
    d
}

/// Round half up of `num / den` for non-negative values.
fn round_div(num: i64, den: i64) -> i64 {
    if den <= 0 { 0 } else { (2 * num + den) / (2 * den) }
}

/// The first Sunday on or before `day`.
fn sunday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_sunday()))
}

/// Computes every series from the two sources, each prefecture's days before its switch date from its line list
/// and from the switch date on from HER-SYS, over the days from the first with data to the last (at most `as_of`).
// Long: one pass over the days fills every series' cells at once (the hot loop of the export), then each
// series is cut from them; apart, each series would walk the days again.
pub fn build_series(hersys: &Tally, linelist: &Tally, sources: &Sources, as_of: NaiveDate) -> GraphSeries {
    let first = [hersys.first_day(), linelist.first_day()].into_iter().flatten().min();
    let last = [hersys.last_day(), linelist.last_day()].into_iter().flatten().max().map(|d| d.min(as_of));
    let (start, days) = match (first, last) {
        (Some(f), Some(l)) if f <= l => (f, usize::try_from((l - f).num_days()).unwrap_or(0) + 1),
        _ => (as_of, 0),
    };
    let dates: Vec<NaiveDate> = (0..days).filter_map(|t| start.checked_add_days(Days::new(t as u64))).collect();
    let hs = dense(hersys, start, days);
    let ll = dense(linelist, start, days);
    let pick = |t: usize, p: usize| if sources.hersys_on(p, dates[t]) { &hs } else { &ll };

    // Per area (ALL + 47), per day: merged flows and stocks.
    let mut new = vec![vec![[0i64; CELLS]; days]; AREAS];
    let mut deaths = vec![vec![[0i64; CELLS]; days]; AREAS];
    let mut severe = vec![vec![[0i64; CELLS]; days]; AREAS];
    let mut stocks = vec![vec![[0i64; 3]; days]; AREAS];
    for t in 0..days {
        for p in 0..P {
            let src = pick(t, p);
            let i = t * P + p;
            for a in [0, p + 1] {
                for k in 0..CELLS {
                    new[a][t][k] += src.new[i][k];
                    deaths[a][t][k] += src.deaths[i][k];
                    severe[a][t][k] += src.severe[i][k];
                }
                for (total, stock) in stocks[a][t].iter_mut().zip(&src.stocks[i]) {
                    *total += stock;
                }
            }
        }
    }
    let total = |row: &[i64; CELLS]| row.iter().sum::<i64>();
    let cumulative = |v: Vec<i64>| {
        let mut sum = 0;
        v.into_iter()
            .map(|x| {
                sum += x;
                sum
            })
            .collect::<Vec<_>>()
    };
    let per_area = |f: &dyn Fn(usize) -> Vec<Vec<i64>>| (0..AREAS).map(f).collect::<Vec<_>>();
    let daily = |id, tenths, areas| DailySeries { id, dates: dates.clone(), tenths, areas };

    let new_daily = per_area(&|a| vec![new[a].iter().map(total).collect()]);
    let population = |a: usize| -> i64 {
        let pop = if a == 0 {
            national_population_2020()
        } else {
            PrefectureCode::new(a as u8).map_or(0, |p| p.info().population_2020)
        };
        i64::try_from(pop).unwrap_or(0)
    };
    let per_100k =
        per_area(&|a| vec![new_daily[a][0].iter().map(|&c| round_div(c * 1_000_000, population(a))).collect()]);
    let cases_cumulative = per_area(&|a| vec![cumulative(new_daily[a][0].clone())]);
    let severe_daily = per_area(&|a| vec![severe[a].iter().map(total).collect()]);
    let deaths_daily = per_area(&|a| vec![deaths[a].iter().map(total).collect()]);
    let deaths_cumulative = per_area(&|a| vec![cumulative(deaths_daily[a][0].clone())]);
    let inpatient = per_area(&|a| (0..3).map(|j| stocks[a].iter().map(|s| s[j]).collect()).collect());

    // Weeks, Sunday to Saturday: from the week of the first day to the last complete week.
    let mut weeks = Vec::new();
    if let (Some(&first), Some(&last)) = (dates.first(), dates.last()) {
        let mut from = sunday_of(first);
        while let Some(to) = from.checked_add_days(Days::new(6)).filter(|to| *to <= last) {
            weeks.push(Week { from, to });
            let Some(next) = from.checked_add_days(Days::new(7)) else { break };
            from = next;
        }
    }
    let index_of = |day: NaiveDate| usize::try_from((day - start).num_days()).ok().filter(|t| *t < days);
    // Sum of detail cells over each week's days (flows) or the value on its last day (stocks), per area.
    let weekly = |data: &Vec<Vec<[i64; CELLS]>>, how: Weekly| -> Vec<Vec<[i64; DETAIL]>> {
        (0..AREAS)
            .map(|a| {
                let mut running = [0i64; DETAIL];
                let mut t_done = 0usize;
                weeks
                    .iter()
                    .map(|w| {
                        let end = index_of(w.to).map_or(0, |t| t + 1);
                        match how {
                            Weekly::Stock => {
                                let mut out = [0i64; DETAIL];
                                if end > 0 {
                                    out.copy_from_slice(&data[a][end - 1][..DETAIL]);
                                }
                                out
                            }
                            Weekly::Sum | Weekly::Cumulative => {
                                if matches!(how, Weekly::Sum) {
                                    running = [0; DETAIL];
                                }
                                for row in &data[a][t_done.min(end)..end] {
                                    for k in 0..DETAIL {
                                        running[k] += row[k];
                                    }
                                }
                                t_done = end;
                                running
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let sex_age = |id, data: &Vec<Vec<[i64; CELLS]>>, how| SexAgeSeries {
        id,
        periods: weeks.clone(),
        areas: suppress(&weekly(data, how)),
    };

    GraphSeries {
        sex_age: vec![
            sex_age(SeriesId::NewDetailWeekly, &new, Weekly::Sum),
            sex_age(SeriesId::CumulativeDetailWeekly, &new, Weekly::Cumulative),
            sex_age(SeriesId::SevereDetailWeekly, &severe, Weekly::Stock),
            sex_age(SeriesId::DeathsDetailCumulativeWeekly, &deaths, Weekly::Cumulative),
        ],
        daily: vec![
            daily(SeriesId::NewDaily, false, new_daily),
            daily(SeriesId::NewPer100k, true, per_100k),
            daily(SeriesId::CumulativeDaily, false, cases_cumulative),
            daily(SeriesId::SevereDaily, false, severe_daily),
            daily(SeriesId::DeathsCumulativeDaily, false, deaths_cumulative),
            daily(SeriesId::DeathsDaily, false, deaths_daily),
            daily(SeriesId::InpatientDaily, false, inpatient),
        ],
        discrepancies: discrepancy(&hs, &ll, sources, &dates),
        sources: *sources,
    }
}

#[derive(Clone, Copy)]
enum Weekly {
    /// The week's flow.
    Sum,
    /// The flow up to the week's end.
    Cumulative,
    /// The stock on the week's last day.
    Stock,
}

/// For each switched prefecture: both sources' new cases per day over the days from the later of their first days
/// to the earlier of their last days (days on which either source has cases).
fn discrepancy(hs: &Dense, ll: &Dense, sources: &Sources, dates: &[NaiveDate]) -> Vec<Discrepancy> {
    let mut out = Vec::new();
    for prefecture in PrefectureCode::all() {
        if sources.hersys_from(prefecture).is_none() {
            continue;
        }
        let p = usize::from(prefecture.number() - 1);
        let counts = |d: &Dense| (0..dates.len()).map(|t| d.new[t * P + p].iter().sum::<i64>()).collect::<Vec<_>>();
        let (h, l) = (counts(hs), counts(ll));
        let span = |v: &[i64]| v.iter().position(|&c| c != 0).zip(v.iter().rposition(|&c| c != 0));
        let rows = match (span(&h), span(&l)) {
            (Some((h0, h1)), Some((l0, l1))) if h0.max(l0) <= h1.min(l1) => (h0.max(l0)..=h1.min(l1))
                .map(|t| DiscrepancyRow { date: dates[t], hersys: h[t], linelist: l[t] })
                .collect(),
            _ => Vec::new(),
        };
        out.push(Discrepancy { prefecture, rows });
    }
    out
}

#[cfg(test)]
mod tests;
