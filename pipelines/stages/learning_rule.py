"""The `learning_rule` stage, for models of `task: learning_rule` (perceptron, Adaline,
Hebb; `models.learning_rules`): the report a lecturer gives with Rosenblatt's and
Widrow-Hoff's rules.

* Novikoff (1962): the perceptron rule, from w = 0 on data with ||(x, 1)|| <= R that a
  unit vector u separates with margin gamma = min_i y_i u.(x_i, 1), makes at most
  (R / gamma)^2 updates. gamma here is the max-margin separator's in the augmented
  space (x, 1) the rule works in: scikit-learn's hinge-loss `LinearSVC` with no
  intercept (the bias is the last coordinate, regularized like the weights, as in the
  bound) and a large C (hard margin); gamma = min_i y_i w.(x_i, 1) / ||w|| of its w,
  which is a valid margin of a separator whatever the solver's precision, so the bound
  is a true bound. Not separable (XOR): gamma <= 0, no bound.
* Widrow-Hoff: Adaline's fixed point is the least-squares solution of (x, 1) w = y,
  computed with `numpy.linalg.lstsq` and compared with the learned (w, b).
* McCulloch-Pitts: the AND / OR / NOT threshold units' truth tables.

Metrics: `radius`, `margin`, `separable`, `novikoff_bound` (separable data only),
`lstsq_gap` (max |learned - least squares| over w and b), `converged_epoch`
(first epoch with no mistake, 0 if none), `gates_correct` (of 3).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from common import report
from models.catalog import get_spec
from models.learning_rules import LOGIC_GATES, threshold_unit, truth_table
from pipelines.config.learning_rule import LearningRuleConfig
from pipelines.report import foundation_plots
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run

GATE_TRUTH = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NOT": [1, 0]}


def augmented(features: np.ndarray) -> np.ndarray:
    """(x, 1): the bias as a last input fixed at 1, as the rules update it."""
    return np.hstack([features, np.ones((len(features), 1), features.dtype)]).astype(np.float64)


def max_margin(points: np.ndarray, signs: np.ndarray, c: float) -> tuple[float, np.ndarray]:
    """(gamma, unit normal) of the hard-margin separator through the origin of `points`."""
    if len(np.unique(signs)) < 2:
        return float("inf"), np.zeros(points.shape[1])
    svm = LinearSVC(C=c, loss="hinge", fit_intercept=False, dual=True, max_iter=200_000,
                    tol=1e-10, random_state=0)
    with warnings.catch_warnings():  # no hard margin exists on non-separable data (XOR)
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(points, signs)
    w = svm.coef_.ravel()
    w = w / (np.linalg.norm(w) or 1.0)
    return float(np.min(signs * (points @ w))), w


def gates_table() -> tuple[list[dict], int]:
    rows, correct = [], 0
    for gate, (weights, threshold) in LOGIC_GATES.items():
        x, y = truth_table(threshold_unit(weights, threshold))
        correct += int(list(y) == GATE_TRUTH[gate])
        for inputs, out in zip(x.astype(int), y):
            rows.append({"unit": f"{gate}: w={list(weights)}, theta={threshold:g}",
                         "x": " ".join(map(str, inputs)), "y": int(out)})
    return rows, correct


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.learning_rule or LearningRuleConfig()
    raw = run.bundle.raw["train"]
    points = augmented(np.asarray(run.model.features(raw.x)))
    signs = 2.0 * np.asarray(raw.y, np.float64) - 1.0
    kernel, bias = run.model.unit.get_weights()
    learned = np.concatenate([kernel.ravel(), bias]).astype(np.float64)
    radius = float(np.linalg.norm(points, axis=1).max())
    gamma, normal = max_margin(points, signs, cfg.svm_c)
    least_squares = np.linalg.lstsq(points, signs, rcond=None)[0]
    mistakes = run.history.get("mistakes", [])
    out: dict[str, Any] = {
        "radius": radius,
        "margin": gamma,
        "separable": int(gamma > 0),
        "lstsq_gap": float(np.max(np.abs(learned - least_squares))),
        "converged_epoch": next((i + 1 for i, m in enumerate(mistakes) if m == 0), 0),
        "train_examples": len(points),
    }
    if gamma > 0:
        out["novikoff_bound"] = (radius / gamma) ** 2
    gate_rows, out["gates_correct"] = gates_table() if cfg.gates else ([], 0)
    path = None
    if points.shape[1] == 3:  # 2-D inputs: draw the line over the data
        path = foundation_plots.rule_boundary(
            np.asarray(raw.x), np.asarray(raw.y), learned, mistakes,
            run.run_dir / "plots" / "learning_rule.png",
            f"{run.model.rule} rule: {len(points)} training examples, "
            f"{run.history.get('updates', [0])[-1]:g} updates",
            # the separator lives in the unit's (normalized) inputs: drawn over raw x only
            # when the normalization is the identity
            reference=normal if gamma > 0 and run.bundle.spec.normalize == "none" else None,
        )
    _report(run, out, learned, least_squares, gate_rows, path)
    return out


def _report(run, out, learned, least_squares, gate_rows, path) -> None:
    updates = run.history.get("updates", [0])[-1]
    rule = run.model.rule
    svm_c = (run.cfg.learning_rule or LearningRuleConfig()).svm_c
    lines = [
        f"## Learning rule: {rule}",
        f"A linear threshold unit trained by the {rule} rule (no gradient descent on a "
        "loss, no optimizer; `models/learning_rules.py`), from w = 0, b = 0, labels "
        f"-1/+1, on {out['train_examples']} training examples; mistakes per epoch are the "
        "examples it got wrong when it saw them (for the perceptron, its updates).",
        "",
        f"- Updates made in all: **{updates:g}**; first epoch without a mistake: "
        + (f"**{out['converged_epoch']}**" if out["converged_epoch"] else "**none**"),
        f"- R = max ||(x, 1)|| = {out['radius']:.4f}; max-margin separator of the (x, 1) "
        f"(hinge LinearSVC, no intercept, C = {svm_c:g}): "
        f"gamma = {out['margin']:.4f}"
        + (f"; Novikoff bound (R / gamma)^2 = **{out['novikoff_bound']:.1f}** updates"
           if "novikoff_bound" in out else " <= 0: **not linearly separable**, no bound"),
        f"- Least squares (numpy lstsq of (x, 1) w = y): {np.round(least_squares, 5).tolist()}; "
        f"learned (w, b): {np.round(learned, 5).tolist()}; max |difference| = "
        f"**{out['lstsq_gap']:.2e}** (Adaline converges to it; the other rules need not)",
    ]
    if gate_rows:
        lines += ["", "McCulloch-Pitts units (fixed weights, y = 1 iff w.x >= theta), "
                  f"{out['gates_correct']} of 3 realize their gate:", "",
                  report.table(gate_rows)]
    if path is not None:
        lines.append(report.image("decision boundary and mistakes per epoch", path, run.run_dir))
    report.section(run.run_dir, "learning_rule", "\n".join(lines))


STAGES.add(
    "learning_rule",
    Stage(
        name="learning_rule",
        applies=lambda cfg: get_spec(cfg.model.name).task == "learning_rule",
        run=run_stage,
        order=45,
    ),
)
