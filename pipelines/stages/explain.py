"""The "explain" stage `dlzoo run` does after training when a recipe has an `explain:`
section: attributions, LIME and their measured quality (explain/explain_report.py) on
a split of the run's data."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from common import report
from explain.explain_report import Inputs, explain_inputs
from pipelines.data.arrays import split_arrays
from pipelines.stages.classifier_check import check_classifier, verbose
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run


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
    check_classifier(run, "explain")
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
        verbose=verbose(run),
        input_range=spec.input_range,
        class_names=spec.class_names,
    )
    report.section(run.run_dir, "explain", markdown)
    return metrics


STAGES.add(
    "explain",
    Stage("explain", applies=lambda cfg: cfg.explain is not None, run=run_explain, order=60),
)
