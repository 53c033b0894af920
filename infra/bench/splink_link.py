"""Splink (DuckDB backend) on the files of `hersys-bench gen linkage`, for the side-by-side table in
docs/benchmarks-linkage.md. Run through infra/bench/splink-linkage, which makes the venv.

Configured as Splink's documentation recommends for person data: cleaned inputs (upper case, accents stripped,
NFKC, separators removed), u by random sampling, the prior from a deterministic rule, m by EM on two blocking
rules, several blocking rules for prediction, a date-of-birth comparison, an array-intersect comparison for
names in any order. Splink has no katakana transliteration: katakana names are compared as they are.
The product's rule "the entry nearest before the diagnosis" is applied afterwards (a generic model does not learn it):
among a report's pairs on or before its diagnosis date, the best probability wins, ties to the latest entry.

usage: python splink_link.py DIR [--threshold 0.99]  (DIR holds ENTRIES.csv, REPORTS.csv, TRUTH.csv)
"""

import argparse
import csv
import sys
import time
import unicodedata

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def clean_name(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).upper()
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    s = s.replace("-", "").replace("'", "").replace(".", "").replace("Đ", "D")
    return " ".join(s.split())


def clean_passport(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).upper()
    return "".join(c for c in s if c.isalnum()) or None


def prepare(dir_: str):
    t = time.time()
    entries, reports = [], []
    with open(f"{dir_}/ENTRIES.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = clean_name(f"{r['family_name']} {r['given_names']}")
            entries.append((r["entry_id"], clean_passport(r["passport_number"]), r["nationality"] or None,
                            name or None, " ".join(sorted(name.split())) or None, r["date_of_birth"] or None,
                            r["sex"] or None, r["entry_date"]))
    with open(f"{dir_}/REPORTS.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = clean_name(r["name"])
            reports.append((r["report_id"], clean_passport(r["passport_number"]), r["nationality"] or None,
                            name or None, " ".join(sorted(name.split())) or None, r["date_of_birth"] or None,
                            r["sex"] or None, r["diagnosis_date"]))
    print(f"prepare (Python cleaning): {time.time() - t:.1f} s", file=sys.stderr)
    return entries, reports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threshold", type=float, default=0.99)
    args = ap.parse_args()
    started = time.time()
    entries, reports = prepare(args.dir)
    con = duckdb.connect()
    cols = "unique_id VARCHAR, passport_number VARCHAR, nationality VARCHAR, name VARCHAR, name_sorted VARCHAR, date_of_birth VARCHAR, sex VARCHAR, day VARCHAR"
    for table, rows in (("entries", entries), ("reports", reports)):
        con.execute(f"CREATE TABLE {table}_raw ({cols})")
        tmp = f"{args.dir}/.splink_{table}.csv"
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        con.execute(f"INSERT INTO {table}_raw SELECT * FROM read_csv('{tmp}', header=false, columns={{"
                    + ", ".join(f"'{c.split()[0]}': 'VARCHAR'" for c in cols.split(", ")) + "})")
        con.execute(f"CREATE TABLE {table} AS SELECT *, string_split(name, ' ') AS name_tokens FROM {table}_raw")
    del entries, reports
    loaded = time.time()

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("passport_number", [1, 2]),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.ArrayIntersectAtSizes("name_tokens", [2, 1]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nationality"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("passport_number"),
            block_on("date_of_birth"),
            block_on("substr(passport_number, 1, 5)", "substr(date_of_birth, 1, 4)"),
            block_on("name_sorted", "substr(date_of_birth, 1, 4)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker([db_api.register("entries"), db_api.register("reports")], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("passport_number", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("passport_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    trained = time.time()
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    predicted = time.time()
    # unique_id_l / _r: the link_only pair; work out which side is the report
    table = pairs.physical_name
    best = con.execute(f"""
        WITH p AS (
          SELECT CASE WHEN source_dataset_l = 'reports' THEN unique_id_l ELSE unique_id_r END AS report_id,
                 CASE WHEN source_dataset_l = 'reports' THEN unique_id_r ELSE unique_id_l END AS entry_id,
                 match_probability
          FROM {table}
        ), q AS (
          SELECT p.*, e.day AS entry_date, r.day AS diagnosis_date FROM p
          JOIN entries e ON e.unique_id = p.entry_id JOIN reports r ON r.unique_id = p.report_id
          WHERE e.day <= r.day
        )
        SELECT report_id, entry_id, match_probability FROM (
          SELECT *, row_number() OVER (PARTITION BY report_id ORDER BY match_probability DESC, entry_date DESC) AS k FROM q
        ) WHERE k = 1
    """).fetchall()
    finished = time.time()
    for t in sorted({0.5, 0.9, 0.999, args.threshold}):
        if t != args.threshold:
            print(f"at threshold {t}:")
            evaluate(f"{args.dir}/TRUTH.csv", {r: e for r, e, p in best if p >= t})
    best = [b for b in best if b[2] >= args.threshold]
    links = {r: e for r, e, _ in best}
    print(f"at threshold {args.threshold} (SPLINK_LINKS.csv):")
    with open(f"{args.dir}/SPLINK_LINKS.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["report_id", "entry_id", "match_probability"])
        w.writerows(best)
    evaluate(f"{args.dir}/TRUTH.csv", links)
    print(f"time: prepare+load {loaded - started:.1f} s, train {trained - loaded:.1f} s, predict {predicted - trained:.1f} s, "
          f"select {finished - predicted:.1f} s, total {finished - started:.1f} s", file=sys.stderr)


def evaluate(truth_path: str, links: dict):
    """The same definitions as `hersys-bench evaluate`."""
    groups = {}
    with open(truth_path, newline="") as f:
        for r in csv.DictReader(f):
            names = ["all", "passport missing/mistyped" if r["passport_typing"] in ("missing", "confusable", "typo") else "passport correct/formatting"]
            for g in names:
                t = groups.setdefault(g, [0, 0, 0, 0])
                t[0] += 1
                t[1] += bool(r["entry_id"])
                if r["report_id"] in links:
                    t[2] += 1
                    t[3] += links[r["report_id"]] == r["entry_id"]
    print(f"{'subset':<28} {'reports':>8} {'matchable':>9} {'linked':>8} {'precision':>9} {'recall':>7} {'F1':>7}")
    for g in ("all", "passport missing/mistyped", "passport correct/formatting"):
        n, m, l, c = groups.get(g, [0, 0, 0, 0])
        p = c / l if l else 1.0
        rc = c / m if m else 1.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        print(f"{g:<28} {n:>8} {m:>9} {l:>8} {p:>9.4f} {rc:>7.4f} {f1:>7.4f}")


if __name__ == "__main__":
    main()
