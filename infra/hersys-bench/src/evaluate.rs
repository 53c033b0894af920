//! `hersys-bench evaluate --links LINKS.csv --truth TRUTH.csv`: how good the links of `hersys link` are against the
//! truth `hersys-bench gen linkage` wrote. Reads `LINKS.csv` and the review band beside it (`LINKS.review.csv`) and
//! prints precision, recall and F1 of the links (not of the review band), overall and by how the report's passport
//! number was typed; the review columns count the reports sent to review and those whose candidate was the true
//! entry. Ids only: the files read hold no personal value, and none is printed.
//!
//! The product's own decisions (`hersys links --out FILE.csv`, after the scheduled runs) are read the same way: that
//! file holds both bands (its `band` column), and names each report by its `case_number`, which is the generator's
//! report id when REPORTS.csv was posted with `case_number` set to it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// A row of `LINKS.csv` or `LINKS.review.csv` (their other columns are not needed here).
#[derive(Deserialize)]
struct LinkRow {
    report_id: String,
    entry_id: String,
}

/// A row of `hersys links --out`: the product's stored decisions, both bands in one file.
#[derive(Deserialize)]
struct ProductRow {
    report_id: String,
    case_number: String,
    entry_id: String,
    band: String,
}

/// A row of `TRUTH.csv`: the report's true entry (empty for a person with no entry record) and how its passport
/// number was typed (`correct`, `formatting`, `missing`, `confusable`, `typo`).
#[derive(Deserialize)]
struct TruthRow {
    report_id: String,
    entry_id: String,
    passport_typing: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Band {
    Link,
    Review,
}

fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        // csv's error can quote the row; say where instead.
        .map(|(i, row)| {
            row.map_err(|_| anyhow::anyhow!("{}: row {} lacks the expected columns", path.display(), i + 1))
        })
        .collect()
}

/// Counts of an evaluation subset.
#[derive(Default, Clone, Copy)]
struct Tally {
    reports: usize,
    /// Reports that have a true entry.
    matchable: usize,
    linked: usize,
    correct: usize,
    review: usize,
    review_correct: usize,
}

impl Tally {
    fn line(&self, label: &str) -> String {
        let precision = if self.linked == 0 { 1.0 } else { self.correct as f64 / self.linked as f64 };
        let recall = if self.matchable == 0 { 1.0 } else { self.correct as f64 / self.matchable as f64 };
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        format!(
            "{label:<28} {:>8} {:>9} {:>8} {:>9.4} {:>7.4} {:>7.4} {:>8} {:>8}\n",
            self.reports, self.matchable, self.linked, precision, recall, f1, self.review, self.review_correct
        )
    }
}

/// Prints the evaluation table of `links` (and the review file beside it) against `truth`.
pub fn run(links: &Path, truth: &Path) -> anyhow::Result<()> {
    let mut decided: HashMap<String, (String, Band)> = HashMap::new();
    if is_product_file(links)? {
        for row in read_rows::<ProductRow>(links)? {
            let band = if row.band == "link" { Band::Link } else { Band::Review };
            let report = if row.case_number.is_empty() { row.report_id } else { row.case_number };
            decided.insert(report, (row.entry_id, band));
        }
    } else {
        let review = publish::linkage::review_band_path(links);
        for (path, band) in [(links, Band::Link), (review.as_path(), Band::Review)] {
            for row in read_rows::<LinkRow>(path)? {
                decided.insert(row.report_id, (row.entry_id, band));
            }
        }
    }
    print!("{}", table(&decided, &read_rows::<TruthRow>(truth)?));
    Ok(())
}

/// Whether `path` is the product's decisions file (`hersys links`), which has a `band` column, rather than
/// `hersys link`'s LINKS.csv.
fn is_product_file(path: &Path) -> anyhow::Result<bool> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("reading the header of {}", path.display()))?;
    Ok(headers.iter().any(|h| h == "band"))
}

/// Precision, recall and F1 overall and on reports whose passport number was missing or mistyped (`missing`,
/// `confusable`, `typo`), each kind of typing on its own line.
fn table(decided: &HashMap<String, (String, Band)>, truth: &[TruthRow]) -> String {
    let mut tallies: HashMap<&'static str, Tally> = HashMap::new();
    for row in truth {
        let typing = row.passport_typing.as_str();
        let mut groups = vec!["all"];
        groups.push(match typing {
            "missing" | "confusable" | "typo" => "passport missing/mistyped",
            _ => "passport correct/formatting",
        });
        groups.push(match typing {
            "missing" => "  passport missing",
            "confusable" => "  passport confusable",
            "typo" => "  passport typo",
            "formatting" => "  passport formatting",
            _ => "  passport correct",
        });
        for g in groups {
            let t = tallies.entry(g).or_default();
            t.reports += 1;
            if !row.entry_id.is_empty() {
                t.matchable += 1;
            }
            match decided.get(&row.report_id) {
                Some((entry, Band::Link)) => {
                    t.linked += 1;
                    if *entry == row.entry_id {
                        t.correct += 1;
                    }
                }
                Some((entry, Band::Review)) => {
                    t.review += 1;
                    if *entry == row.entry_id {
                        t.review_correct += 1;
                    }
                }
                None => {}
            }
        }
    }
    let mut out = format!(
        "{:<28} {:>8} {:>9} {:>8} {:>9} {:>7} {:>7} {:>8} {:>8}\n",
        "subset", "reports", "matchable", "linked", "precision", "recall", "F1", "review", "rev.true"
    );
    for g in [
        "all",
        "passport missing/mistyped",
        "  passport missing",
        "  passport confusable",
        "  passport typo",
        "passport correct/formatting",
        "  passport correct",
        "  passport formatting",
    ] {
        if let Some(t) = tallies.get(g) {
            out.push_str(&t.line(g));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(report: &str, entry: &str, typing: &str) -> TruthRow {
        TruthRow { report_id: report.into(), entry_id: entry.into(), passport_typing: typing.into() }
    }

    #[test]
    fn counts_right_and_wrong_links_and_reviews_by_typing() {
        let decided: HashMap<String, (String, Band)> = [
            ("R1", "E1", Band::Link),   // right
            ("R2", "E9", Band::Link),   // wrong
            ("R3", "E3", Band::Review), // right, in review
        ]
        .into_iter()
        .map(|(r, e, b)| (r.to_owned(), (e.to_owned(), b)))
        .collect();
        let rows = [
            truth("R1", "E1", "correct"),
            truth("R2", "E2", "typo"),
            truth("R3", "E3", "missing"),
            truth("R4", "", "correct"),
        ];
        let out = table(&decided, &rows);
        let line = |label: &str| out.lines().find(|l| l.starts_with(label)).map(str::to_owned).unwrap_or_default();
        // all: 4 reports, 3 matchable, 2 linked, 1 right: precision 0.5, recall 1/3, F1 0.4; 1 review, right
        assert_eq!(
            line("all"),
            format!(
                "{:<28} {:>8} {:>9} {:>8} {:>9.4} {:>7.4} {:>7.4} {:>8} {:>8}",
                "all",
                4,
                3,
                2,
                0.5,
                1.0 / 3.0,
                0.4,
                1,
                1
            )
        );
        assert!(line("  passport typo").contains(" 0.0000 "), "{out}");
        // no confusable or formatting reports: no line for them
        assert!(!out.contains("confusable") && !out.contains("  passport formatting"), "{out}");
    }

    #[test]
    fn the_review_file_is_beside_the_links() {
        assert_eq!(publish::linkage::review_band_path(Path::new("/x/LINKS.csv")), Path::new("/x/LINKS.review.csv"));
    }
}
