"""What a search leaves in its run folder: results.csv/.md, the score plot,
best_config.yaml (and one replay recipe per Pareto-front trial), the report.

Everything is read back from the KerasTuner oracle (its trial files), so the same
code writes the results of a local, resumed or distributed search.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import keras_tuner
import yaml

from common import report
from common.io import write_text
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config
from pipelines.report.hparams import Session, numeric
from tuning import plots
from tuning.hypermodel import RecipeHyperModel
from tuning.robust import ROBUST_METRIC, pareto_front

COSTS = ("epochs", "best_epoch", "seconds", "rss_mb", "params")


def trial_rows(oracle: keras_tuner.Oracle, objective: str) -> list[dict[str, Any]]:
    """One row per trial in start order: id, status, hyperparameters, score, costs."""
    rows = []
    for trial_id in oracle.start_order:
        trial = oracle.trials[trial_id]
        values = trial.hyperparameters.values
        row: dict[str, Any] = {"trial": trial_id, "status": trial.status}
        if "tuner/epochs" in values:  # Hyperband: the round's epochs, from which trial
            row["round"] = f"{values['tuner/initial_epoch']}->{values['tuner/epochs']}"
            row["from"] = values.get("tuner/trial_id") or ""
        row.update({k: v for k, v in values.items() if not k.startswith("tuner/")})
        row["score"] = trial.score
        folds = sorted((n for n in trial.metrics.metrics if n.startswith("fold_")),
                       key=lambda n: int(n.split("_")[1]))
        for name in (objective, f"{objective}_sem", *folds, "val_accuracy", "val_loss",
                     ROBUST_METRIC, *COSTS):
            if trial.metrics.exists(name) and name not in row:
                row[name] = trial.metrics.get_last_value(name)
        rows.append(row)
    return rows


def columns(rows: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for row in rows:
        out += [k for k in row if k not in out]
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(rows), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def completed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "COMPLETED" and r["score"] is not None]


def ranked(rows: list[dict[str, Any]], direction: str, objective: str) -> list[dict[str, Any]]:
    """Completed trials best first. With cross-validated scores the first is the
    smallest model whose mean is within one standard error of the best mean (the
    one-standard-error rule, Hastie et al., Elements of Statistical Learning 7.10):
    differences inside the error are noise, and the cheaper model is then the safer
    pick."""
    order = sorted(completed(rows), key=lambda r: r["score"], reverse=direction == "max")
    if not order or f"{objective}_sem" not in order[0] or not all("params" in r for r in order):
        return order
    tied = within_one_error(order, order[0], objective)
    winner = min(tied, key=lambda r: r["params"])  # min keeps the better score on equal size
    return [winner] + [r for r in order if r is not winner]


def within_one_error(rows: list[dict[str, Any]], top: dict[str, Any],
                     objective: str) -> list[dict[str, Any]]:
    """The rows whose score lies within `top`'s standard error of `top`'s score."""
    return [r for r in rows if abs(r["score"] - top["score"]) <= top[f"{objective}_sem"]]


def replay_config(
    hypermodel: RecipeHyperModel, trial: keras_tuner.engine.trial.Trial, *, suffix: str
) -> ExperimentConfig:
    """A complete recipe (no tune section) that retrains `trial`'s configuration.

    From scratch, with the recipe's seed, for the epoch count at which the trial
    reached its best score; with `refit_on_val`, on train+validation, without
    checkpoint selection or early stopping (no held-out validation is left to
    select on). It evaluates on the test split, which no trial used, and exports.
    """
    cfg = hypermodel.trial_config(trial.hyperparameters)
    best_epoch = int(trial.metrics.get_last_value("best_epoch") or hypermodel.max_epochs)
    if cfg.train.schedule.name != "constant":
        # a decaying rate is a function of the run's length: the trial's trajectory needs
        # its epoch count, so the replay ends where the trial's schedule ended
        best_epoch = hypermodel.max_epochs
    overrides: dict[str, Any] = {
        "name": f"{hypermodel.cfg.name}_{suffix}",
        "description": (
            f"Replay of trial {trial.trial_id} of the search `{hypermodel.cfg.name}` "
            f"({hypermodel.tune.objective} {trial.score:.4g})."
        ),
        "train.epochs": max(best_epoch, 1),
        "evaluate.enabled": True,
        "export.enabled": True,
        "export.name": f"{hypermodel.cfg.name}_{suffix}",
    }
    if hypermodel.tune.refit_on_val:
        overrides.update(
            {"data.train_on_val": True, "train.checkpoint": False, "train.early_stopping": None}
        )
    return cfg.with_overrides(overrides)


def write_replays(
    hypermodel: RecipeHyperModel, oracle, rows: list[dict[str, Any]], run_dir: Path
) -> dict[str, Any]:
    """best_config.yaml, trial0_config.yaml (the recipe itself, replayed the same way, to
    compare the winner's test accuracy with) and pareto/<trial>.yaml; returns what the
    report needs."""
    tune = hypermodel.tune
    best_rows = ranked(rows, tune.resolved_direction, tune.objective)
    if not best_rows:
        return {}
    best = oracle.trials[best_rows[0]["trial"]]
    cfg = replay_config(hypermodel, best, suffix="best")
    write_text(run_dir / "best_config.yaml", _header(best, cfg) + _recipe_yaml(cfg))
    start = oracle.trials.get(oracle.start_order[0]) if oracle.start_order else None
    if start is not None and start.status == "COMPLETED":  # the recipe, replayed the same way
        start_cfg = replay_config(hypermodel, start, suffix="trial0")
        write_text(run_dir / "trial0_config.yaml",
                   _header(start, start_cfg) + _recipe_yaml(start_cfg))
    out: dict[str, Any] = {"best": best, "best_config": cfg, "front": []}
    if tune.robustness is not None:
        out["front"] = _front(rows)
        # Rewritten after every trial: a trial that has left the front loses its file.
        for old in (run_dir / "pareto").glob("trial_*.yaml"):
            old.unlink()
        for row in out["front"]:
            trial = oracle.trials[row["trial"]]
            front_cfg = replay_config(hypermodel, trial, suffix=f"trial{trial.trial_id}")
            path = run_dir / "pareto" / f"trial_{trial.trial_id}.yaml"
            write_text(path, _header(trial, front_cfg) + _recipe_yaml(front_cfg))
            row["replay"] = path.relative_to(run_dir).as_posix()
    return out


def _front(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = [r for r in completed(rows) if ROBUST_METRIC in r and "val_accuracy" in r]
    points = [(r["val_accuracy"], r[ROBUST_METRIC]) for r in done]
    return [dict(done[i]) for i in pareto_front(points)]  # copies: they get a replay column


def _recipe_yaml(cfg: ExperimentConfig) -> str:
    """The config as a recipe, without the (empty) tune section."""
    raw = yaml.safe_load(dump_config(cfg))
    raw.pop("tune", None)
    return yaml.safe_dump(raw, sort_keys=False)


def _header(trial, cfg: ExperimentConfig) -> str:
    where = "train+validation" if cfg.data.train_on_val else "train"
    return (
        f"# Written by `dlzoo tune`: trial {trial.trial_id}'s hyperparameters, retrained "
        f"from scratch\n# on {where} for {cfg.train.epochs} epochs with seed {cfg.seed}. "
        f"Replay: dlzoo run <this file>\n"
    )


def hparam_sessions(rows: list[dict[str, Any]], objective: str) -> list[Session]:
    """(trial, hyperparameters, score and metrics) of each completed trial, for the
    TensorBoard HParams dashboard."""
    measured = {"trial", "status", "round", "from", "score", objective, "val_accuracy",
                "val_loss", ROBUST_METRIC, *COSTS}
    return [(str(row["trial"]), {k: v for k, v in row.items() if k not in measured},
             numeric({k: v for k, v in row.items() if k in measured - {"trial"}}))
            for row in completed(rows)]


def write_tables(rows: list[dict[str, Any]], run_dir: Path) -> None:
    write_text(run_dir / "results.csv", to_csv(rows))
    write_text(run_dir / "results.md", report.table(rows, columns(rows)))


def score_plot(rows: list[dict[str, Any]], run_dir: Path, tune) -> Path:
    return plots.score_vs_trial(
        [r["score"] if r["status"] == "COMPLETED" else None for r in rows],
        run_dir / "plots" / "score_vs_trial.png",
        objective=tune.objective,
        direction=tune.resolved_direction,
        epochs=[r.get("epochs") for r in rows],
    )


def pareto_plot(front: list[dict[str, Any]], rows: list[dict[str, Any]], run_dir: Path, tune):
    done = [r for r in completed(rows) if ROBUST_METRIC in r]
    index = {r["trial"]: i for i, r in enumerate(done)}
    return plots.pareto(
        [r["val_accuracy"] for r in done],
        [r[ROBUST_METRIC] for r in done],
        [index[r["trial"]] for r in front],
        [r["trial"] for r in done],
        run_dir / "plots" / "pareto.png",
        attack=f"{tune.robustness.attack} eps={tune.robustness.epsilon:g}",
    )
