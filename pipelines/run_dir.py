"""Run folders: `runs/<recipe>/<timestamp>/`, created so that two runs never share one;
which of them are finished or resumable; what a resume may change."""

from __future__ import annotations

import datetime
from pathlib import Path

from common.errors import UserError
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


FINISHED = "model.weights.h5"  # written when training ends, before evaluation
# What may change when a run resumes: how it is shown, scheduled across devices and
# followed up, and how long it trains. Everything else (seed, data, model, the
# optimizer...) would make the resumed run another experiment.
MAY_CHANGE = ("description", "runs_dir", "train.epochs", "train.verbose", "train.tensorboard",
              "train.strategy", "evaluate", "export", "explain", "attack", "claim", "cam",
              "activations", "published", "sweep", "tune", "data.cache_dir")


def run_state(folder: Path) -> str:
    """"new" (nothing trained yet), "interrupted" (training started, no final weights)
    or "finished" (the final weights are written)."""
    folder = Path(folder)
    if (folder / FINISHED).exists():
        return "finished"
    if (folder / "backup").is_dir() or (folder / "history.csv").exists():
        return "interrupted"
    return "new"


def latest_interrupted(cfg: ExperimentConfig) -> Path:
    """The newest run of `cfg`'s recipe that started training and did not finish.

    Raises:
        UserError: there is none (says whether the latest run finished).
    """
    root = Path(cfg.runs_dir) / cfg.name
    runs = sorted(p for p in root.glob("*") if (p / "config.yaml").is_file())
    interrupted = [p for p in runs if run_state(p) == "interrupted"]
    if interrupted:
        return interrupted[-1]
    latest = f"; the latest run, {runs[-1]}, finished" if runs else ""
    raise UserError(f"--resume: no interrupted run of {cfg.name!r} under {root}{latest}")


def changed_keys(cfg: ExperimentConfig, saved: ExperimentConfig) -> list[str]:
    """The key paths whose values differ between two configs, except MAY_CHANGE."""
    a, b = flat_config(cfg.model_dump(mode="json")), flat_config(saved.model_dump(mode="json"))
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return [k for k in keys if not any(k == p or k.startswith(p + ".") for p in MAY_CHANGE)]


def flat_config(tree: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}: a config as key paths (what --set names)."""
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_config(value, path + "."))
        else:
            out[path] = value
    return out
