"""`sweep:` in a recipe: train every combination of the listed values, compare them.

Each variant is an ordinary run in a sub-folder of the sweep's run folder; the
sweep's report overlays their learning curves and tabulates their final metrics.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from common import report
from common.errors import UserError
from common.io import file_name, write_json, write_text
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config
from pipelines.report import plots
from pipelines.report.hparams import numeric, write_hparams
from pipelines.run import Run, run_all
from pipelines.run_dir import new_run_dir
from pipelines.stages.claims import check_sweep
from pipelines.stages.published import compare_sweep


def variants(cfg: ExperimentConfig) -> list[tuple[str, dict[str, Any]]]:
    """(label, overrides) for each combination, in the order the recipe lists them."""
    keys = list(cfg.sweep)
    out = []
    for values in itertools.product(*(cfg.sweep[k] for k in keys)):
        parts = [_part(k, v) for k, v in zip(keys, values)]
        overrides = {path: value for _, over in parts for path, value in over.items()}
        out.append((",".join(label for label, _ in parts), overrides))
    return out


def _part(key: str, value: Any) -> tuple[str, dict[str, Any]]:
    """(label, overrides) of one swept value. The key `variants` lists labelled sets of
    overrides changed together: `variants: [{label: l2, train.l2: 1.0e-4}, ...]`."""
    if key != "variants":
        return f"{key.split('.')[-1]}={_short(value)}", {key: value}
    if not isinstance(value, dict) or "label" not in value:
        raise UserError(f"sweep.variants: each entry needs a `label` and overrides, got {value!r}")
    return str(value["label"]), {k: v for k, v in value.items() if k != "label"}


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", value))
    return str(value)


def run_sweep(cfg: ExperimentConfig, run_dir: Path | None = None) -> list[tuple[str, Run]]:
    """Validate every variant first (a bad value fails before any training), then run."""
    configs = [
        (label, cfg.with_overrides({**over, "sweep": {}, "claim": None}))  # claim: checked below
        for label, over in variants(cfg)
    ]
    run_dir = run_dir or new_run_dir(cfg)
    write_text(run_dir / "config.yaml", dump_config(cfg))
    runs: list[tuple[str, Run]] = []
    for i, (label, variant) in enumerate(configs, start=1):
        print(f"\n=== sweep variant {i}/{len(configs)}: {label} ===", flush=True)
        sub = run_dir / f"{i:02d}-{file_name(label)}"
        sub.mkdir(parents=True, exist_ok=True)
        runs.append((label, run_all(variant, sub)))
    summarize(cfg, runs, run_dir)
    write_hparams(run_dir, [(label, dict(over), _final_metrics(run))
                            for (label, over), (_, run) in zip(variants(cfg), runs)])
    for task in {run.task.name: run.task for _, run in runs}.values():
        if task.compare_sweep is not None:  # the task's own comparison (error vs width)
            report.section(run_dir, f"sweep_{task.name}", task.compare_sweep(cfg, runs, run_dir))
    if cfg.published is not None:  # a paper's numbers beside the variants' (mean, spread)

        compare_sweep(cfg, runs, run_dir)
    if cfg.claim is not None:  # the recipe's claim, checked on the variants' metrics

        check_sweep(cfg, runs, run_dir)
    return runs


def summarize(cfg: ExperimentConfig, runs: list[tuple[str, Run]], run_dir: Path) -> list[dict]:
    rows = []
    for label, run in runs:
        row: dict[str, Any] = {
            "variant": label,
            "epochs": len(next(iter(run.history.values()), [])),
        }
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if key in run.history:
                row[f"final {key}"] = run.history[key][-1]
        if "val_accuracy" in run.history:
            row["best val_accuracy"] = max(run.history["val_accuracy"])
        if "accuracy" in run.metrics:
            row["test accuracy"] = run.metrics["accuracy"]
        row["run"] = run.run_dir.name
        rows.append(row)
    write_json(run_dir / "sweep.json", rows)
    curves = plots.learning_curves(
        {label: run.history for label, run in runs}, run_dir / "plots" / "sweep_learning_curves.png"
    )
    report.section(
        run_dir,
        "overview",
        f"# {cfg.name} (sweep)\n{cfg.description.strip()}\n\n"
        f"Sweep over {', '.join(cfg.sweep)}: {len(runs)} variants, seed {cfg.seed}. "
        "Each variant's own report is in its sub-folder.\n",
    )
    report.section(
        run_dir,
        "sweep",
        "## Sweep results\n"
        + report.table(rows)
        + "\n"
        + report.image("learning curves of every variant", curves, run_dir),
    )
    return rows


def _final_metrics(run: Run) -> dict[str, float]:
    """The test metrics and the last epoch's history, for the HParams dashboard."""
    last = {key: values[-1] for key, values in run.history.items() if values}
    return numeric({**{f"final {key}": value for key, value in last.items()}, **run.metrics})


