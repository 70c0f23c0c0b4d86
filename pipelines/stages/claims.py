"""A recipe's `claim:`: the sentence it sets out to show, checked on this run's numbers.

In a sweep the check sees every variant's metrics (`final_loss['sgd']`); in a single
run, plain numbers (`epochs < budget_epochs`). The report gets a "Claim" section
saying whether this run supports the claim, with every value the check read, and
`claim.json` records the same. Names available per run (`claim_names`):

* every number in metrics.json (`accuracy`, `test_loss`, `mean_iou`, stage metrics
  such as `act_std_last_init`), and `test_accuracy` for `accuracy`;
* from the training history, for each logged key k: `final_k`, `best_k` (min for
  losses, max otherwise), `min_k`, `max_k`, and `noise_k` (the standard deviation of
  k's epoch-to-epoch changes over the last half of the epochs: how jagged the curve is);
* `epochs` (run), `budget_epochs` (asked for), `best_epoch` (1-based, lowest
  val_loss), `params` (the model's parameter count).
"""

from __future__ import annotations

import ast
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from common import report
from common.errors import UserError
from common.io import write_json
from pipelines.stages.claim_expr import ClaimError, Variants, evaluate, parse
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.config.experiment import ExperimentConfig
    from pipelines.run import Run


def best_epoch(history: dict[str, list[float]], monitor: str = "val_loss") -> int | None:
    """0-based epoch with the best `monitor` value (lowest loss, else highest), or None."""
    values = [v for v in history.get(monitor, []) if not math.isnan(v)]
    if not values:
        return None
    best = min(values) if "loss" in monitor else max(values)
    return history[monitor].index(best)


def training_marks(run: Run) -> tuple[dict[str, int] | None, list[str]]:
    """Epoch marks for the learning-curve plot and sentences for the report: where early
    stopping took its weights from, where a fine-tuning phase began."""
    history, train = run.history, run.cfg.train
    epochs = len(next(iter(history.values()), []))
    marks, notes = None, []
    if train.finetune is not None:
        first = epochs - train.finetune.epochs
        marks = {run.cfg.name: first}
        notes.append(
            f"Epochs 1-{first}: first phase; epochs {first + 1}-{epochs}: "
            f"fine-tuning at learning rate {train.finetune.learning_rate:g} "
            "(dotted line: its start)."
        )
    es = train.early_stopping
    best = best_epoch(history, es.monitor) if es else None
    if es and best is not None:
        marks = {run.cfg.name: best}
        stopped = epochs < train.epochs + (train.finetune.epochs if train.finetune else 0)
        notes.append(
            f"Early stopping on {es.monitor} (patience {es.patience}): "
            + (
                f"stopped after {epochs} epochs; the weights of epoch {best + 1} "
                f"({es.monitor} {history[es.monitor][best]:.4f}, dotted line) were restored."
                if stopped
                else f"did not trigger in {epochs} epochs (best epoch {best + 1}, dotted line)."
            )
        )
    return marks, notes


def claim_names(run: Run) -> dict[str, Any]:
    """The numbers a claim may name, for one run."""
    names: dict[str, Any] = {
        k: v for k, v in run.metrics.items() if isinstance(v, (int, float)) and k != "seed"
    }
    if "accuracy" in names:
        names["test_accuracy"] = names["accuracy"]
    for key, values in run.history.items():
        values = [v for v in values if not math.isnan(v)]
        if not values:
            continue
        names[f"final_{key}"] = values[-1]
        names[f"min_{key}"], names[f"max_{key}"] = min(values), max(values)
        names[f"best_{key}"] = min(values) if "loss" in key else max(values)
        if len(values) >= 4:
            names[f"noise_{key}"] = curve_noise(values)
    names["epochs"] = len(next(iter(run.history.values()), []))
    names["budget_epochs"] = run.cfg.train.epochs
    best = best_epoch(run.history)
    if best is not None:
        names["best_epoch"] = best + 1
    names["params"] = run.model.count_params()
    return names


HISTORY_PREFIXES = ("final_", "min_", "max_", "best_", "noise_")


def curve_noise(values: list[float]) -> float:
    """Standard deviation of the epoch-to-epoch changes over the last half of a curve:
    a slow trend changes it little, jitter from epoch to epoch does."""
    tail = values[len(values) // 2 - 1:] if len(values) >= 4 else values
    changes = [b - a for a, b in zip(tail, tail[1:])]
    return statistics.pstdev(changes) if len(changes) > 1 else 0.0


def history_names(check_text: str) -> list[str]:
    """The names in a claim that read the training history (`final_val_loss`...)."""
    return sorted({
        node.id for node in ast.walk(parse(check_text))
        if isinstance(node, ast.Name) and node.id.startswith(HISTORY_PREFIXES)
        and node.id != "best_epoch"  # a name of its own, not best_<key>
    })


class ClaimNamesCheck(keras.callbacks.Callback):
    """After the first epoch, the history's keys are known: a claim naming one that
    does not exist (`final_val_acc`) stops the run then, not after all the training."""

    def __init__(self, check_text: str) -> None:
        super().__init__()
        self.names = history_names(check_text)
        self.unknown: list[str] = []
        self.known: list[str] = []

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.unknown or epoch > 0 and self.known:
            return
        keys = sorted(logs or {})
        self.known = [p + k for k in keys for p in HISTORY_PREFIXES]
        self.unknown = [n for n in self.names if n not in self.known]
        if self.unknown:
            self.model.stop_training = True


def claim_callbacks(cfg: ExperimentConfig) -> list:
    return [ClaimNamesCheck(cfg.claim.check)] if cfg.claim is not None else []


def raise_unknown_claim_names(callbacks: list) -> None:
    """The UserError of a ClaimNamesCheck that stopped training, if one did."""
    for cb in callbacks:
        if isinstance(cb, ClaimNamesCheck) and cb.unknown:
            keys = sorted({k.split("_", 1)[1] for k in cb.known})
            raise UserError(
                f"claim.check names {', '.join(cb.unknown)}, which the training history "
                f"does not have; it logs {', '.join(keys)} (as final_/min_/max_/best_/noise_<key>)"
            )


def check(cfg: ExperimentConfig, names: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Evaluate the claim, write `claim.json` and the report's "claim" section."""
    claim = cfg.claim
    try:
        value, used = evaluate(claim.check, names)
        supported: bool | None = bool(value)
        problem = ""
    except ClaimError as err:  # evaluate() turns every failure into one
        supported, used, problem = None, {}, str(err)
    verdict = {True: "**supported**", False: "**not supported**", None: "**not checked**"}
    result = {
        "text": claim.text,
        "check": claim.check,
        "supported": supported,
        "values": used,
        "problem": problem,
    }
    write_json(Path(run_dir) / "claim.json", result)
    rows = [{"value": k, "": v} for k, v in used.items()]
    lines = [
        "## Claim",
        f"> {claim.text.strip()}",
        "",
        f"Check: `{' '.join(claim.check.split())}` -> this run's claim is {verdict[supported]}.",
        "",
        (f"The check could not be evaluated: {problem}\n" if problem else report.table(rows)),
    ]
    report.section(run_dir, "claim", "\n".join(lines))
    return result


def check_sweep(cfg: ExperimentConfig, runs: list[tuple[str, Run]], run_dir: Path) -> dict:
    """The claim over a sweep's variants: each name maps variant label -> value."""
    per_run = {label: claim_names(run) for label, run in runs}
    keys = {k for names in per_run.values() for k in names}
    names = {k: Variants(k, {label: n[k] for label, n in per_run.items() if k in n}) for k in keys}
    return check(cfg, names, run_dir)


def _stage_run(run: Run) -> dict[str, Any]:
    result = check(run.cfg, claim_names(run), run.run_dir)
    return {"claim_supported": result["supported"]}


STAGES.add(
    "claim",
    Stage(
        name="claim",
        applies=lambda cfg: cfg.claim is not None and not cfg.sweep,
        run=_stage_run,
        order=95,  # after every other stage, so their metrics can be named
    ),
)
