"""The `pivot` task: a classifier trained against an adversary that predicts a nuisance
z from its output (`models.pivot.Pivot`), on data whose targets are [class id, z]
(`pivot_gaussians`, or a CSV table with `data.params.nuisance_column`).

A task of its own rather than `classify`: the targets carry z, the model has two
optimizers, and the evaluation measures what the method is for, the dependence of
the output on z beside the AUC. Exported like a classifier (the classifier alone).

Dependence of f(x) on z (both reported; the first is what a claim should read):
  * `ks_mean`: the mean two-sample Kolmogorov-Smirnov distance (scipy.stats.ks_2samp)
    between the distributions of f(x) on the test examples at each value of z, over
    every pair of values (for a continuous z: its terciles). It is the paper's Figure 2
    as one number, needs no model of its own, and is 0 for a pivot up to sampling
    noise (about 0.87 sqrt(2 / m) for m examples per group).
  * `adv_gap`: `adv_loss_max` - the adversary's test loss -log p_r(z | f(x)), where
    `adv_loss_max` is the loss of predicting the test z from nothing (under a Gaussian
    fitted to the training z: H(Z) when the test z are drawn like the training ones,
    the paper's maximum of L_r). It depends on how well the adversary is trained, so
    it is the weaker measure.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from common import report
from common.errors import UserError
from models.pivot import Pivot
from pipelines.data.spec import DataSpec
from pipelines.report import pivot_plots
from pipelines.tasks.base import TASKS, Task, with_preprocessing
from pipelines.tasks.classify import classifier_outputs, predict_split
from pipelines.tasks.generative.task import clone_optimizer

if TYPE_CHECKING:
    from pipelines.config.experiment import ExperimentConfig
    from pipelines.run import Run

MAX_VALUES = 5  # a z with at most this many distinct test values is grouped by value


def _assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    if not isinstance(core, Pivot):
        raise UserError(f"model {core.name!r} is not a Pivot model (task pivot)")
    if spec.num_classes != 2 or spec.target_shape != (2,):
        raise UserError(
            f"the pivot task needs two classes and a nuisance z per example; the data gives "
            f"{spec.num_classes} classes and targets of shape {spec.target_shape} (use "
            "source pivot_gaussians, or csv with data.params.nuisance_column)"
        )
    return core.with_classifier(with_preprocessing(core.classifier, spec))


def _compile(model: Pivot, optimizer, spec: DataSpec) -> None:
    model.compile(c_optimizer=clone_optimizer(optimizer),
                  a_optimizer=clone_optimizer(optimizer, model.a_lr_scale))


def z_groups(z: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, mask) of the test examples at each value of z, or in each tercile."""
    values = np.unique(z)
    if len(values) <= MAX_VALUES:
        return [(f"z = {v:g}", z == v) for v in values]
    edges = np.quantile(z, [1 / 3, 2 / 3])
    index = np.digitize(z, edges)
    names = (f"z < {edges[0]:.2g}", f"{edges[0]:.2g} <= z < {edges[1]:.2g}",
             f"z >= {edges[1]:.2g}")
    return [(name, index == i) for i, name in enumerate(names)]


def ks_distances(scores: np.ndarray, groups: list[tuple[str, np.ndarray]]) -> list[float]:
    """The KS distance of f(x) between every pair of z groups."""
    return [float(ks_2samp(scores[a], scores[b]).statistic)
            for (_, a), (_, b) in itertools.combinations(groups, 2)]


def prior_loss(z_train: np.ndarray, z: np.ndarray) -> float:
    """Mean -log N(z; mean, var of `z_train`): predicting z without looking at x (for
    z drawn like the training ones, H(Z) = 0.5 log(2 pi e var))."""
    var = max(float(np.var(z_train)), 1e-12)
    return float(np.mean(0.5 * np.log(2 * math.pi * var)
                         + 0.5 * (z - np.mean(z_train)) ** 2 / var))


def scores_of(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(class ids, z, logits, f(x)) of the test split."""
    y, logits = predict_split(run.model, run.bundle, "test")
    scores = np.asarray(keras.ops.softmax(logits, axis=-1))[:, 1]
    return y[:, 0].astype(int), y[:, 1], logits, scores


def pivot_metrics(run: Run) -> tuple[dict[str, Any], np.ndarray, list]:
    labels, z, logits, scores = scores_of(run)
    groups = z_groups(z)
    ks = ks_distances(scores, groups) if len(groups) > 1 else [float("nan")]
    most = prior_loss(run.bundle.raw["train"].y[:, 1], z)
    adv_loss = float(run.model.adversary_loss(logits, z.astype("float32")))
    by_z = {name: {"examples": int(mask.sum()), "mean_f": float(scores[mask].mean()),
                   "auc": _auc(labels[mask], scores[mask])} for name, mask in groups}
    metrics = {
        "test_auc": _auc(labels, scores),
        "accuracy": float(np.mean((scores > 0.5) == labels)),
        "test_clf_loss": float(np.mean(keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True))),
        "test_adv_loss": adv_loss,
        "adv_loss_max": most,
        "adv_gap": most - adv_loss,
        "ks_mean": float(np.mean(ks)),
        "ks_max": float(np.max(ks)),
        "lam": run.model.lam,
        "by_z": by_z,
    }
    return metrics, scores, groups


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


def evaluate_pivot(run: Run) -> dict[str, Any]:
    metrics, scores, groups = pivot_metrics(run)
    path = pivot_plots.output_by_z(
        scores, groups, run.run_dir / "plots" / "output_by_z.png",
        f"lambda = {run.model.lam:g}: f(x) on the test split by z")
    rows = [{"z": name, **values} for name, values in metrics["by_z"].items()]
    report.section(
        run.run_dir,
        "evaluate",
        "## Evaluation (test split)\n"
        f"lambda = {run.model.lam:g}: test AUC **{metrics['test_auc']:.4f}**, accuracy "
        f"{metrics['accuracy']:.4f}. Dependence of f(x) on z: mean KS distance between "
        f"z groups **{metrics['ks_mean']:.4f}** (max {metrics['ks_max']:.4f}); adversary "
        f"loss {metrics['test_adv_loss']:.4f} nats against {metrics['adv_loss_max']:.4f} when "
        "predicting z from nothing "
        f"(gap {metrics['adv_gap']:.4f}).\n\n"
        + report.table(rows, ["z", "examples", "mean_f", "auc"]) + "\n"
        + report.image("f(x) by z", path, run.run_dir),
    )
    return metrics


def compare_sweep(cfg: ExperimentConfig, runs: list[tuple[str, Run]], run_dir: Path) -> str:
    """AUC and z-dependence against lambda, and f(x) by z for every variant."""
    rows, panels = [], []
    for label, run in runs:
        m = run.metrics
        rows.append({"variant": label, "lambda": m["lam"], "test AUC": m["test_auc"],
                     "mean KS": m["ks_mean"], "adversary loss": m["test_adv_loss"],
                     "its maximum": m["adv_loss_max"]})
        _, z, _, scores = scores_of(run)
        panels.append((f"{label}: AUC {m['test_auc']:.3f}, KS {m['ks_mean']:.3f}", scores,
                       z_groups(z)))
    lams = [r["lambda"] for r in rows]
    curve = pivot_plots.tradeoff(
        lams, [r["test AUC"] for r in rows], [r["mean KS"] for r in rows],
        [r["its maximum"] - r["adversary loss"] for r in rows],
        run_dir / "plots" / "pivot_tradeoff.png", f"{cfg.name}: accuracy against pivotality")
    hist = pivot_plots.sweep_panels(panels, run_dir / "plots" / "output_by_z.png")
    return ("## Pivot: AUC and dependence on z across lambda\n"
            + report.table(rows) + "\n"
            + report.image("AUC and dependence against lambda", curve, run_dir) + "\n"
            + report.image("f(x) by z for every lambda", hist, run_dir))


TASKS.add(
    "pivot",
    Task(
        name="pivot",
        assemble=_assemble,
        compile=_compile,
        evaluate=evaluate_pivot,
        serving_outputs=classifier_outputs,
        monitor="val_total_loss",  # the classifier's objective L_f - lambda L_r
        mode="min",
        data_tasks=("pivot",),
        compare_sweep=compare_sweep,
    ),
)
