"""Fails on any line of the workspace's Rust files longer than rustfmt.toml's max_width (in characters).

rustfmt keeps code within the width but leaves long string literals, comments and macro bodies (json!, tracing)
as they are; this holds those to the same width. Run by infra/test's lint phase.
"""

import pathlib
import re
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
width = int(re.search(r"^max_width\s*=\s*(\d+)", (root / "rustfmt.toml").read_text(), re.M).group(1))
files = subprocess.run(["git", "ls-files", "*.rs"], cwd=root, check=True, capture_output=True, text=True).stdout.split()
long = [
    f"{name}:{number}: {len(line)} characters"
    for name in files
    for number, line in enumerate((root / name).read_text(encoding="utf-8").split("\n"), start=1)
    if len(line) > width
]
for entry in long:
    print(entry, file=sys.stderr)
if long:
    sys.exit(f"{len(long)} lines longer than {width} characters (rustfmt.toml's max_width)")
