"""`published:` in a recipe: put test accuracy next to a paper's numbers.

For one run, a stage adds the paper's row to the report. For a sweep (over models,
seeds or bAbI tasks), the variants are grouped by the row key (`published.by`, e.g.
`model.name`): dlzoo's mean, spread (std, min, max) and number of runs per row sit
next to the paper's columns, in `published.json`, a table and a bar chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from common import report
from common.errors import UserError
from common.io import write_json
from pipelines.config.experiment import ExperimentConfig
from pipelines.stages.published_numbers import TABLES, Table
from pipelines.stages.registry import STAGES, Stage
from pipelines.tasks.sequence.plots import paper_bars

if TYPE_CHECKING:
    from pipelines.run import Run


def row_key(cfg: ExperimentConfig, path: str) -> str:
    """The config value at `path` (e.g. `data.params.task` -> "3")."""
    node: Any = cfg.model_dump(mode="json")
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise UserError(f"published.by: the config has no key {path!r}")
        node = node[key]
    return str(node)


def _paper_columns(table: Table) -> list[str]:
    return sorted({c for row in table.rows.values() for c in row})


def run_stage(run: Run) -> dict[str, Any]:
    """One run: its test accuracy beside the paper's row."""
    table = TABLES[run.cfg.published.table]
    key = row_key(run.cfg, run.cfg.published.by)
    paper = table.rows.get(key, {})
    ours = run.metrics.get("accuracy")
    row = {"row": table.labels.get(key, key), "dlzoo": ours, **paper}
    note = "" if paper else f"(the paper has no row {key!r})"
    report.section(run.run_dir, "published", "\n".join([
        f"## Published numbers: {table.title}", f"{table.citation}. {note}\n",
        report.table([row], ["row", "dlzoo", *_paper_columns(table)]),
    ]))
    return {"published": {"table": run.cfg.published.table, "row": key, **paper}}


def compare_sweep(cfg: ExperimentConfig, runs: list[tuple[str, Run]], run_dir: Path) -> list[dict]:
    """Group the sweep's runs by row key; mean and spread of test accuracy per row."""

    table = TABLES[cfg.published.table]
    groups: dict[str, list[float]] = {}
    for _, run in runs:
        if isinstance(run.metrics.get("accuracy"), float):
            groups.setdefault(row_key(run.cfg, cfg.published.by), []).append(
                run.metrics["accuracy"]
            )
    columns = _paper_columns(table)
    rows = []
    for key, accs in groups.items():
        values = np.array(accs)
        rows.append({
            "label": table.labels.get(key, key), "dlzoo": float(values.mean()),
            "dlzoo std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()), "max": float(values.max()), "runs": len(values),
            **table.rows.get(key, {}),
        })
    write_json(run_dir / "published.json", {"table": cfg.published.table, "rows": rows})
    figure = paper_bars(rows, [*columns, "dlzoo"], run_dir / "plots" / "published.png",
                        table.title)
    report.section(run_dir, "published", "\n".join([
        f"## dlzoo next to the paper: {table.title}",
        f"{table.citation}. dlzoo: mean test accuracy over the runs of each row "
        f"(std with ddof=1, min, max). {table.note}\n",
        report.table(rows, ["label", *columns, "dlzoo", "dlzoo std", "min", "max", "runs"]),
        report.image("paper versus dlzoo", figure, run_dir),
    ]))
    return rows


STAGES.add(
    "published",
    Stage(name="published", applies=lambda cfg: cfg.published is not None, run=run_stage,
          order=90),
)
