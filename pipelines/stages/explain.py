"""The "explain" and "attack" stages `dlzoo run` does after training, when a recipe
has `explain:` / `attack:` sections (registered in `pipelines.stages.registry.STAGES`; this
module is listed in `pipelines/catalog.py`).
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from common import report
from common.errors import UserError
from explain.attack_report import attack_inputs
from explain.explain_report import Inputs, explain_inputs
from pipelines.data.arrays import split_arrays
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run


def _check_task(run: Run, stage: str) -> None:
    if run.task.name != "classify":
        raise UserError(
            f"the {stage} stage explains and attacks classifiers; this run's task is "
            f"{run.task.name!r}: remove the `{stage}:` section"
        )


def _verbose(run: Run) -> bool:
    return run.cfg.train.verbose != 0


def feature_names(run: Run) -> list[str] | None:
    """Column names of a csv source (for LIME on tables), when the recipe reads one."""
    data = run.cfg.data
    if data.source != "csv":
        return None
    columns = data.params.get("feature_columns")
    if columns:
        return list(columns)
    path = data.resolved_data_dir() / data.params["path"]
    try:
        with open(path, newline="") as f:
            header = next(csv.reader(f))
    except (OSError, StopIteration):
        return None
    return [c for c in header if c != data.params.get("label_column", "label")]


def run_explain(run: Run) -> dict[str, Any]:

    _check_task(run, "explain")
    cfg = run.cfg.explain
    limit = max(cfg.num_images, cfg.quality.num_images if cfg.quality else 0)
    x, y, masks = split_arrays(run.bundle, cfg.split, limit)
    training = None
    if len(run.bundle.spec.input_shape) == 1:
        training, _, _ = split_arrays(run.bundle, "train", 5000)
    data = Inputs(x, y, masks, training_data=training, feature_names=feature_names(run))
    spec = run.bundle.spec
    metrics, markdown = explain_inputs(
        run.model,
        data,
        cfg,
        run.run_dir,
        seed=run.cfg.seed,
        verbose=_verbose(run),
        input_range=spec.input_range,
        class_names=spec.class_names,
    )
    report.section(run.run_dir, "explain", markdown)
    return metrics


def run_attack(run: Run) -> dict[str, Any]:

    _check_task(run, "attack")
    cfg = run.cfg.attack
    x, y, _ = split_arrays(run.bundle, "test", cfg.num_examples)
    models = {"this model": run.model}
    if cfg.compare_undefended:
        models = {"adversarially trained": run.model, "undefended": _undefended_twin(run)}
    patch_data = None
    if cfg.patch is not None:
        px, py, _ = split_arrays(run.bundle, "train", cfg.patch.train_examples)
        patch_data = (px, py)
    spec = run.bundle.spec
    metrics, markdown = attack_inputs(
        models,
        x,
        y,
        cfg,
        run.run_dir,
        input_range=spec.input_range,
        class_names=spec.class_names,
        seed=run.cfg.seed,
        verbose=_verbose(run),
        patch_data=patch_data,
    )
    report.section(run.run_dir, "attack", markdown)
    return metrics


def _undefended_twin(run: Run):
    """The same recipe trained without `train.adversarial`, in `<run>/undefended/`
    (a nested run: reused while it is finished and its config unchanged)."""
    if run.cfg.train.adversarial is None:
        raise UserError("attack.compare_undefended needs train.adversarial in the recipe")
    twin = run.cfg.with_overrides(
        {"train.adversarial": None, "attack": None, "explain": None, "export.enabled": False}
    )
    print(
        "\n=== attack.compare_undefended: training the same recipe without adversarial examples ==="
    )
    return run.sub_run(twin, run.run_dir / "undefended").model


STAGES.add(
    "explain",
    Stage("explain", applies=lambda cfg: cfg.explain is not None, run=run_explain, order=60),
)
STAGES.add(
    "attack",
    Stage("attack", applies=lambda cfg: cfg.attack is not None, run=run_attack, order=70),
)
