"""A recipe's `claim:`: the sentence it sets out to show, checked on this run's numbers.

In a sweep the check sees every variant's metrics (`final_loss['sgd']`); in a single
run, plain numbers (`epochs < budget_epochs`). The report gets a "Claim" section
saying whether this run supports the claim, with every value the check read, and
`claim.json` records the same. Names available per run (`claim_names`):

* every number in metrics.json (`accuracy`, `test_loss`, `mean_iou`, stage metrics
  such as `act_std_last_init`), and `test_accuracy` for `accuracy`;
* from the training history, for each logged key k: `final_k`, `best_k` (min for
  losses, max otherwise), `min_k`, `max_k`;
* `epochs` (run), `budget_epochs` (asked for), `best_epoch` (1-based, lowest
  val_loss), `params` (the model's parameter count).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import report
from common.io import write_json
from pipelines.stages.claim_expr import ClaimError, Variants, evaluate
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
    names["epochs"] = len(next(iter(run.history.values()), []))
    names["budget_epochs"] = run.cfg.train.epochs
    best = best_epoch(run.history)
    if best is not None:
        names["best_epoch"] = best + 1
    names["params"] = run.model.count_params()
    return names


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
