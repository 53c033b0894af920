#!/usr/bin/env python3
"""Precision and recall of `hersys link` at other link thresholds and margins, from one run.

    hersys link ... --out LINKS.csv --link-threshold 2 --margin 10
    infra/bench/threshold_sweep.py DIR [--links LINKS.csv] [--link 10,11,12,...] [--margin 3,4,5,...]

A run at a low link threshold and a wide margin writes every decision at or above the review threshold with its
runner-up (another person within the margin); a decision links at threshold L and margin M when its score is at
least L and its runner-up, if any, is more than M bits below it. Prints, per (L, M): precision and recall over all
reports, and recall on the reports without a passport number (TRUTH.csv passport_typing `missing`). Reads
LINKS.csv, LINKS.review.csv and TRUTH.csv of DIR; ids and scores only.
"""
import argparse
import csv
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--links", default="LINKS.csv")
    ap.add_argument("--link", default="9,10,11,12,13,14,15,16,17,18")
    ap.add_argument("--margin", default="3,4,5,6")
    a = ap.parse_args()
    truth, typing = {}, {}
    with open(os.path.join(a.dir, "TRUTH.csv")) as f:
        for row in csv.DictReader(f):
            truth[row["report_id"]] = row["entry_id"]
            typing[row["report_id"]] = row["passport_typing"]
    decisions = []  # (report, entry, score, runner_up or None)
    links = os.path.join(a.dir, a.links)
    review = links[: -len(".csv")] + ".review.csv"
    for path, has_runner in ((links, False), (review, True)):
        with open(path) as f:
            for row in csv.DictReader(f):
                ru = row.get("runner_up_score") if has_runner else ""
                decisions.append((row["report_id"], row["entry_id"], float(row["score"]), float(ru) if ru else None))
    matchable = sum(1 for e in truth.values() if e)
    missing = sum(1 for r, e in truth.items() if e and typing[r] == "missing")
    print(f"{'link':>5} {'margin':>6} {'links':>7} {'precision':>9} {'recall':>7} {'recall_missing':>14} {'false':>6}")
    for link in [float(x) for x in a.link.split(",")]:
        for margin in [float(x) for x in a.margin.split(",")]:
            n = good = good_missing = 0
            for r, e, s, ru in decisions:
                if s >= link and (ru is None or ru <= s - margin):
                    n += 1
                    if truth.get(r) == e:
                        good += 1
                        if typing[r] == "missing":
                            good_missing += 1
            p = good / n if n else 1.0
            print(f"{link:5.1f} {margin:6.1f} {n:7d} {p:9.4f} {good / matchable:7.4f} {good_missing / missing:14.4f} "
                  f"{n - good:6d}")


if __name__ == "__main__":
    main()
