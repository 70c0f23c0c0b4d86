"""The one writer of a run's `metrics.json`: every stage's numbers go through `record`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.io import write_json

FILE = "metrics.json"


def record(run, metrics: dict[str, Any]) -> dict[str, Any]:
    """Merge `metrics` into `run.metrics` and rewrite `metrics.json` atomically."""
    run.metrics.update(metrics)
    write_json(Path(run.run_dir) / FILE, run.metrics)
    return metrics


def read(run_dir: Path) -> dict[str, Any]:
    """A run folder's metrics (empty when it has none yet)."""
    path = Path(run_dir) / FILE
    return json.loads(path.read_text()) if path.exists() else {}
