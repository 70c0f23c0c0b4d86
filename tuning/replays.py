"""`tune.replay_seeds: N`: the winner against the recipe, retrained as the winner was.

A search picks its winner on validation scores, so the winner's own score is biased
upwards (it is the maximum of noisy numbers). What a user wants to know is whether
deploying `best_config.yaml` beats keeping the recipe. Both replay recipes the search
wrote (`best_config.yaml` and `trial0_config.yaml`, the recipe's own settings
replayed the same way) are run at N seeds, the recipe's seed onwards, into
`<search>/replays/`, and their test scores are compared seed by seed (a paired
difference: both runs of a seed share the data split). Finished replays are reused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from common import report
from common.errors import UserError
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import load_recipe
from pipelines.run import sub_run

REPLAYS = {"best": "best_config.yaml", "trial0": "trial0_config.yaml"}


def test_metric(objective: str) -> str:
    """The test metric a validation objective stands for (`val_accuracy` -> `accuracy`)."""
    return objective.removeprefix("val_")


def compare_replays(cfg: ExperimentConfig, run_dir: Path) -> dict[str, Any] | None:
    """Run both replays at `cfg.tune.replay_seeds` seeds; the comparison (also in
    summary.json's `replays` and the report), or None when trial 0 did not finish."""
    seeds = cfg.tune.replay_seeds
    paths = {name: Path(run_dir) / file for name, file in REPLAYS.items()}
    if not seeds or not all(p.is_file() for p in paths.values()):
        return None
    metric = test_metric(cfg.tune.objective)
    rows = []
    for offset in range(seeds):
        row: dict[str, Any] = {}
        for name, path in paths.items():
            recipe = load_recipe(path)
            seed = recipe.seed + offset
            run = sub_run(recipe.with_overrides({"seed": seed, "export.enabled": False}),
                          Path(run_dir) / "replays" / f"{name}-seed{seed}")
            if metric not in run.metrics:
                raise UserError(
                    f"tune.replay_seeds: the replay's metrics have no {metric!r} (from the "
                    f"objective {cfg.tune.objective!r}); they have: {', '.join(run.metrics)}"
                )
            row["seed"], row[name] = seed, float(run.metrics[metric])
        rows.append(row)
    return summarize(rows, metric, cfg.tune.resolved_direction)


def summarize(rows: list[dict[str, Any]], metric: str, direction: str) -> dict[str, Any]:
    """Means, standard errors and the paired difference best - trial0 over the seeds."""
    out: dict[str, Any] = {"metric": metric, "seeds": [r["seed"] for r in rows], "rows": rows}
    for name in (*REPLAYS, "difference"):
        values = np.array([r[name] for r in rows] if name != "difference"
                          else [r["best"] - r["trial0"] for r in rows])
        out[name] = {"mean": float(values.mean()), "sem": _sem(values)}
    gain = out["difference"]["mean"] * (1 if direction == "max" else -1)
    error = out["difference"]["sem"]
    # a difference inside its own standard error is no evidence either way
    out["verdict"] = ("beats" if gain > error else "is worse than" if gain < -error
                      else "is within one standard error of")
    return out


def _sem(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def section(comparison: dict[str, Any]) -> str:
    """The report's comparison of the two replays."""
    metric, n = comparison["metric"], len(comparison["rows"])
    best, start, diff = (comparison[k] for k in ("best", "trial0", "difference"))
    return (
        f"### The winner against the recipe, over {n} seeds\n\n"
        f"`best_config.yaml` and `trial0_config.yaml` (the recipe's own settings, replayed "
        f"the same way) retrained at seeds {', '.join(map(str, comparison['seeds']))} "
        f"(`replays/`), test {metric}:\n\n"
        + report.table(comparison["rows"], ["seed", "best", "trial0"])
        + f"\nMean {best['mean']:.4f} ± {best['sem']:.4f} (winner) against "
        f"{start['mean']:.4f} ± {start['sem']:.4f} (recipe), paired difference "
        f"{diff['mean']:+.4f} ± {diff['sem']:.4f} (standard errors): the winner "
        f"**{comparison['verdict']}** the recipe on the test split.\n"
    )
