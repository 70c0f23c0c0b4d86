"""The `variance_reduction:` stage: the lecture's "Accelerating the stochastic gradient"
on a convex problem, L2-regularised softmax regression of the run's training split.

SGD with a constant step stalls at a noise floor (the variance of g_i at w* does not
vanish); Polyak-Juditsky averaging lowers the floor; SVRG (Johnson & Zhang 2013)
removes it, so its suboptimality f(w) - f* falls linearly (a straight line on a log
scale). Every method gets the same budget of gradient evaluations of one example
(an SVRG snapshot's full gradient counts n). f* is scipy's L-BFGS on the full
objective, cross-checked with scikit-learn's LogisticRegression (lbfgs, tol 1e-12, the
same penalty: C = 1 / (n lambda), the bias as a penalised input of ones); the lower of
the two is f*.

Metrics: `fstar`, `fstar_check_gap`, `sgd_floor`, `<method>_suboptimality` (at the
end of the budget), `svrg_gain` (SGD's floor / SVRG's final suboptimality),
`svrg_decades_per_pass` and `svrg_log_linear_r2` (a straight-line fit of log10 f - f*
over the passes after the first), `svrg_test_accuracy`, `optimum_test_accuracy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from common import report
from common.errors import UserError
from models.finite_sum import SoftmaxRegression
from models.stochastic_baselines import nesterov, sag, sgd
from models.svrg import Trace, svrg
from pipelines.report.optimization_plots import LABELS, suboptimality_curves
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run


def features(run: Run, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's inputs flattened and mapped to [0, 1] from the source's raw range."""
    raw = run.bundle.raw.get(split)
    if raw is None or run.bundle.spec.task != "classify":
        raise UserError(
            f"variance_reduction: needs an in-memory classification source with a {split!r} "
            f"split (e.g. data.source: digits); got {run.cfg.data.source!r}"
        )
    lo, hi = run.bundle.spec.input_range
    x = (np.asarray(raw.x, np.float64).reshape(len(raw.x), -1) - lo) / ((hi - lo) or 1.0)
    return x, np.asarray(raw.y, np.int64)


def optimum(problem: SoftmaxRegression) -> tuple[np.ndarray, float, float]:
    """(w*, f*, the cross-check's gap): L-BFGS, and scikit-learn on the same objective."""
    w_lbfgs, f_lbfgs = problem.minimum()
    check = LogisticRegression(
        C=1.0 / (problem.n * problem.l2), fit_intercept=False, tol=1e-12, max_iter=20_000
    ).fit(problem.x1, problem.y)
    w_sklearn = check.coef_.T
    f_sklearn = problem.value(w_sklearn)
    best = (w_lbfgs, f_lbfgs) if f_lbfgs <= f_sklearn else (w_sklearn, f_sklearn)
    return best[0], best[1], abs(f_sklearn - f_lbfgs)


def run_methods(problem: SoftmaxRegression, cfg, seed: int) -> dict[str, Trace]:
    """Every configured method from w = 0 with the same evaluation budget."""
    budget = cfg.passes * problem.n
    smooth = problem.smoothness()
    step = cfg.step / smooth
    w0 = np.zeros(problem.shape)
    traces: dict[str, Trace] = {}
    plain, averaged = sgd(problem, w0, step=step, budget=budget, seed=seed)
    traces["sgd"] = plain
    if "averaged_sgd" in cfg.methods:
        traces["averaged_sgd"] = averaged
    traces["svrg"] = svrg(
        problem, w0, step=step, inner_steps=max(1, int(cfg.snapshot_every * problem.n)),
        budget=budget, seed=seed,
    )
    if "sag" in cfg.methods:
        traces["sag"] = sag(problem, w0, step=step, budget=budget, seed=seed)
    if "nesterov" in cfg.methods:
        traces["nesterov"] = nesterov(
            problem, w0, smoothness=problem.full_smoothness(), strong_convexity=problem.l2,
            budget=budget,
        )
    return traces


def log_linear_fit(evaluations: np.ndarray, gap: np.ndarray, n: int) -> tuple[float, float]:
    """(decades of f - f* lost per pass, R^2) of a straight line through log10(f - f*)
    against passes, after the first pass (the start is transient)."""
    passes = np.asarray(evaluations) / n
    keep = (passes >= 1) & (gap > 0)
    if keep.sum() < 3:
        return float("nan"), float("nan")
    logs = np.log10(gap[keep])
    slope, intercept = np.polyfit(passes[keep], logs, 1)
    residual = logs - (slope * passes[keep] + intercept)
    r2 = 1.0 - residual.var() / logs.var() if logs.var() > 0 else float("nan")
    return float(-slope), float(r2)


def accuracy(problem: SoftmaxRegression, w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    x1 = np.hstack([x, np.ones((len(x), 1))])
    return float(np.mean((x1 @ w).argmax(1) == y))


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.variance_reduction
    x, y = features(run, "train")
    problem = SoftmaxRegression(x, y, l2=cfg.l2, num_classes=run.bundle.spec.num_classes)
    w_star, f_star, check_gap = optimum(problem)
    traces = run_methods(problem, cfg, seed=run.cfg.seed)
    curves = {
        m: (np.asarray(t.evaluations), np.asarray(t.values) - f_star) for m, t in traces.items()
    }
    budget = cfg.passes * problem.n
    evaluations, gap = curves["sgd"]
    floor = float(np.median(gap[evaluations >= (1 - cfg.floor_tail) * budget]))
    final = {m: max(float(g[-1]), 0.0) for m, (_, g) in curves.items()}
    decades, r2 = log_linear_fit(*curves["svrg"], problem.n)
    x_test, y_test = features(run, "test")
    out: dict[str, Any] = {
        "fstar": f_star,
        "fstar_check_gap": check_gap,
        "sgd_floor": floor,
        **{f"{m}_suboptimality": v for m, v in final.items()},
        "svrg_gain": floor / max(final["svrg"], 1e-300),
        "svrg_decades_per_pass": decades,
        "svrg_log_linear_r2": r2,
        "svrg_test_accuracy": accuracy(problem, traces["svrg"].w, x_test, y_test),
        "optimum_test_accuracy": accuracy(problem, w_star, x_test, y_test),
    }
    path = suboptimality_curves(
        curves, problem.n, floor, run.run_dir / "plots" / "suboptimality.png",
        f"softmax regression, n = {problem.n}, lambda = {cfg.l2:g}, step {cfg.step:g}/L_max",
    )
    _report(run, problem, cfg, out, final, path)
    return out


def _report(run: Run, problem, cfg, out: dict[str, Any], final: dict[str, float], path) -> None:
    smooth = problem.smoothness()
    rows = [{"method": LABELS[m], "f(w) - f* at the end": v} for m, v in final.items()]
    report.section(
        run.run_dir,
        "variance_reduction",
        "## Averaging and variance reduction (convex problem)\n"
        f"L2-regularised softmax regression on the {problem.n} training examples "
        f"({problem.shape[0] - 1} inputs in [0, 1] plus a bias, {problem.shape[1]} classes, "
        f"lambda = {cfg.l2:g}, so f is {cfg.l2:g}-strongly convex; L_max = {smooth:.3g}). "
        f"Every method starts at w = 0 and spends {cfg.passes} x n gradient evaluations of "
        "one example (SVRG's full gradient at each snapshot counts n, each inner step 2; "
        f"Nesterov's full-gradient steps count n each, with step 1/L, "
        f"L = {problem.full_smoothness():.3g} the smoothness of f itself). SGD, SVRG and "
        f"SAG use the same constant step {cfg.step:g} / L_max = {cfg.step / smooth:.3g}; "
        f"SVRG takes a snapshot every {cfg.snapshot_every:g} n inner steps.\n\n"
        f"f* = {out['fstar']:.12f}, from scipy's L-BFGS (gradient tolerance 1e-12) and "
        "scikit-learn's LogisticRegression (lbfgs, tol 1e-12, C = 1/(n lambda)) on the same "
        f"objective; they agree to {out['fstar_check_gap']:.1e}, the lower one is f*.\n\n"
        + report.table(rows)
        + f"\nSGD's noise floor (median f - f* over the last {cfg.floor_tail:.0%} of the "
        f"budget): {out['sgd_floor']:.3g}; SVRG ends {out['svrg_gain']:.3g} times below it. "
        f"SVRG's log10(f - f*) falls {out['svrg_decades_per_pass']:.3g} decades per pass "
        f"(straight-line fit after the first pass, R^2 = {out['svrg_log_linear_r2']:.3f}). "
        f"Test accuracy: SVRG's final weights {out['svrg_test_accuracy']:.4f}, the optimum "
        f"{out['optimum_test_accuracy']:.4f}.\n\n"
        + report.image("suboptimality against gradient evaluations", path, run.run_dir),
    )


STAGES.add(
    "variance_reduction",
    Stage(
        name="variance_reduction",
        applies=lambda cfg: cfg.variance_reduction is not None,
        run=run_stage,
        order=45,
    ),
)
