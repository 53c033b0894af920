"""Fails on development-process words in the repository's files: a numbered stop or ticket, or a sentence that
points at the ticket itself instead of saying what the thing is.

Docs, code, configuration and help texts state how things are; the history of how they came to be is in git, and a
reader cannot open the ticket a sentence points at. "Issue" in the product's own sense (a health centre issues a
processing number; a re-issue) is fine: write "issuing" or "the first number" where the noun would be ambiguous.
Run by infra/test's lint phase.
"""

import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
PATTERN = re.compile(r"\bstops?\s#?\d+\b|\bissues?\s#?\d+\b|\bthe\sissue\b|\bissue's\b", re.IGNORECASE)
# Files that are not prose of ours.
SKIP = {"Cargo.lock"}
TEXT = (".rs", ".md", ".py", ".sh", ".yaml", ".yml", ".json", ".toml", ".js", ".html", ".css", ".txt", ".csv")

files = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout.split()
found = []
for name in files:
    path = root / name
    if name in SKIP or not (name.endswith(TEXT) or name.startswith("infra/") and "." not in pathlib.Path(name).name):
        continue
    if not path.is_file():
        continue
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        continue
    for number, line in enumerate(text.split("\n"), start=1):
        for match in PATTERN.finditer(line):
            found.append(f"{name}:{number}: {match.group(0)!r}")
for entry in found:
    print(entry, file=sys.stderr)
if found:
    sys.exit(f"{len(found)} development-process words (state how things are; the history is in git)")
print(f"check_words: {len(files)} files, no development-process words")
