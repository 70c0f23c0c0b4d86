"""Turn the learning tests' logged values into the margins table (tests/MARGINS.md).

    python -m tests.margins runs/margins.jsonl [--out tests/MARGINS.md]

Each line of the log is one `tests.conftest.learned(...)` call (written when
DLZOO_MARGINS_LOG is set; `make test-robust` sets it and runs every learning test at
seeds 0-4 with oneDNN on and off). The table has one row per test and quantity: the
bar, the minimum (maximum, for an upper bar) over the runs, the margin between them,
and how many runs it saw. Exit status 1 when a bar is not beyond every measured value.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

HEADER = """# Measured margins of the learning tests

Every test that asserts a learned quantity does it through `tests.conftest.learned`,
which logs the value. `make test-robust` runs those tests at seeds 0-4
(`DLZOO_TEST_SEED`), each with oneDNN on and off (`TF_ENABLE_ONEDNN_OPTS=0`, which
stands in for another CPU's kernels), and rewrites this table with
`python -m tests.margins`. A bar sits beyond the worst of the runs; the margin is the
distance between them. To reproduce one row:
`DLZOO_TEST_SEED=3 TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python -m pytest "<test>"`.

"""


def summarize(lines: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for line in lines:
        groups[(line["test"], line["quantity"])].append(line)
    rows = []
    for (test, quantity), runs in sorted(groups.items()):
        values = [r["value"] for r in runs]
        last = runs[-1]
        upper = last["at_most"] is not None and last["at_least"] is None
        worst = max(values) if upper else min(values)
        bar = last["at_most"] if upper else last["at_least"]
        margin = (bar - worst) if upper else (worst - bar)
        rows.append({
            "test": test, "quantity": quantity, "bar": ("<= " if upper else ">= ") + f"{bar:g}",
            "worst": worst, "best": min(values) if upper else max(values),
            "margin": margin, "runs": len(values),
            "configs": len({(r["seed"], r["onednn"]) for r in runs}),
            # a bar at the attainable extreme (XOR solved: accuracy 1.0) has margin 0 by
            # construction; it is met when every run reaches it
            "ok": margin > 0 or (margin == 0 and bar in (0.0, 1.0)),
        })
    return rows


def markdown(rows: list[dict]) -> str:
    out = [HEADER, "| test | quantity | bar | worst of runs | best | margin | runs |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        flag = "" if r["ok"] else " **(bar not met)**"
        if r["ok"] and r["margin"] == 0:
            flag = " (exact: the attainable extreme)"
        out.append(f"| `{r['test']}` | {r['quantity']} | {r['bar']} | {r['worst']:.4g}{flag} | "
                   f"{r['best']:.4g} | {r['margin']:.3g} | {r['runs']} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("MARGINS.md"))
    args = parser.parse_args(argv)
    lines = [json.loads(t) for t in args.log.read_text().splitlines() if t.strip()]
    rows = summarize(lines)
    args.out.write_text(markdown(rows))
    bad = [r for r in rows if not r["ok"]]
    print(f"{len(rows)} quantities from {len(lines)} values; {len(bad)} bar(s) not met; "
          f"wrote {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
