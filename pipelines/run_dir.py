"""Run folders: `runs/<recipe>/<timestamp>/`, created so that two runs never share one."""

from __future__ import annotations

import datetime
from pathlib import Path

from pipelines.config.experiment import ExperimentConfig


def new_run_dir(cfg: ExperimentConfig, parent: Path | None = None) -> Path:
    """A new, empty folder under `parent` (default `<runs_dir>/<name>`), named by time."""
    root = Path(parent) if parent else Path(cfg.runs_dir) / cfg.name
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        path = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir()  # atomic: of two runs started in the same second, one gets -2
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"no free run folder name under {root}")
