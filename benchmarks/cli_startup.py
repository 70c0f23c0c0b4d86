"""How fast the quick `dlzoo` commands answer, and whether they print anything but their
answer (TensorFlow's start-up lines).

Each command runs in a fresh process, `--repeats` times, interleaved; the median wall time
is reported next to the 2 s target, with the number of stderr lines of the last run.

Usage:
  python benchmarks/cli_startup.py [--repeats 5]

Writes benchmarks/results/cli_startup.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ would shadow the project's packages

from common.machine import cpu  # noqa: E402

TARGET_S = 2.0


def commands(bad_recipe: Path) -> dict[str, list[str]]:
    return {
        "dlzoo --help": ["--help"],
        "dlzoo run --help": ["run", "--help"],
        "dlzoo models": ["models"],
        "dlzoo datasets": ["datasets"],
        "dlzoo run missing.yaml (file error)": ["run", "missing.yaml"],
        "dlzoo run bad.yaml (config error)": ["run", str(bad_recipe)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "bad.yaml"
        bad.write_text("data: {source: digits}\nmodel: {name: mlp}\ntrain: {epochs: -1}\n")
        cases = commands(bad)
        times: dict[str, list[float]] = {name: [] for name in cases}
        stderr_lines: dict[str, int] = {}
        for _ in range(args.repeats):  # interleaved: a busy moment hits every command
            for name, argv in cases.items():
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "pipelines.cli.main", *argv],
                                      capture_output=True, text=True, cwd=tmp)
                times[name].append(time.perf_counter() - start)
                stderr_lines[name] = len(done.stderr.splitlines())
    rows = [{"command": name, "median_s": round(statistics.median(t), 3),
             "min_s": round(min(t), 3), "target_s": TARGET_S,
             "met": statistics.median(t) < TARGET_S, "stderr_lines": stderr_lines[name]}
            for name, t in times.items()]
    out = ROOT / "benchmarks" / "results" / "cli_startup.json"
    out.write_text(json.dumps({"benchmark": "cli_startup", "repeats": args.repeats,
                               "machine": cpu(), "rows": rows}, indent=2) + "\n")
    for row in rows:
        print(f"{row['command']:40s} {row['median_s']:6.2f} s  (target < {TARGET_S} s: "
              f"{'met' if row['met'] else 'not met'}), stderr lines {row['stderr_lines']}")


if __name__ == "__main__":
    main()
