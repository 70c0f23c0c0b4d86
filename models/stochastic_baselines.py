"""What SVRG (`models/svrg.py`) is measured against, on the same finite sums and
with the same count of gradient evaluations of one f_i:

* `sgd`: plain SGD with a constant step (one evaluation per step), and along the
  way its Polyak-Juditsky (Polyak & Juditsky 1992, Ruppert 1988) running average of
  the iterates, w_bar_t = w_bar_{t-1} + (w_t - w_bar_{t-1}) / t;
* `sag`: stochastic average gradient (Le Roux, Schmidt & Bach 2012): a table of the
  last gradient seen for each example, one new evaluation per step, the step along
  the table's mean;
* `nesterov`: Nesterov's accelerated full-gradient method for a mu-strongly convex,
  L-smooth f (n evaluations per step).

Written in numpy for the same reason as SVRG: the methods need per-example
gradients and honest evaluation counts, which Keras' optimizers do not expose.
"""

from __future__ import annotations

import numpy as np

from models.svrg import FiniteSum, Trace


def _record_points(problem: FiniteSum, record_every: int | None) -> int:
    return record_every or max(1, problem.n // 2)


def sgd(
    problem: FiniteSum,
    w0: np.ndarray,
    *,
    step: float,
    budget: int,
    seed: int = 0,
    record_every: int | None = None,
) -> tuple[Trace, Trace]:
    """(the SGD iterates' trace, the trace of their Polyak-Juditsky average)."""
    if step <= 0:
        raise ValueError(f"sgd: step must be > 0, got {step}")
    rng = np.random.default_rng(seed)
    every = _record_points(problem, record_every)
    w = np.array(w0, dtype=np.float64)
    average = w.copy()
    plain, averaged = Trace([], [], w), Trace([], [], average)
    start = problem.value(w)
    plain.record(0, start)
    averaged.record(0, start)
    for t, i in enumerate(rng.integers(0, problem.n, budget), start=1):
        w -= step * problem.example_gradient(w, int(i))
        average += (w - average) / t
        if t % every == 0 or t == budget:
            plain.record(t, problem.value(w))
            averaged.record(t, problem.value(average))
    plain.w, averaged.w = w, average
    return plain, averaged


def sag(
    problem: FiniteSum,
    w0: np.ndarray,
    *,
    step: float,
    budget: int,
    seed: int = 0,
    record_every: int | None = None,
) -> Trace:
    """SAG: w <- w - step * (1/n) sum_j y_j, where y_i is refreshed to g_i(w) for the
    drawn i; examples not yet seen count as zero and the mean divides by n (the paper's
    simplest variant)."""
    if step <= 0:
        raise ValueError(f"sag: step must be > 0, got {step}")
    rng = np.random.default_rng(seed)
    every = _record_points(problem, record_every)
    w = np.array(w0, dtype=np.float64)
    table = np.zeros((problem.n, *w.shape))
    total = np.zeros_like(w)
    trace = Trace([], [], w)
    trace.record(0, problem.value(w))
    for t, i in enumerate(rng.integers(0, problem.n, budget), start=1):
        fresh = problem.example_gradient(w, int(i))
        total += fresh - table[i]
        table[i] = fresh
        w -= step * total / problem.n
        if t % every == 0 or t == budget:
            trace.record(t, problem.value(w))
    trace.w = w
    return trace


def nesterov(
    problem: FiniteSum,
    w0: np.ndarray,
    *,
    smoothness: float,
    strong_convexity: float,
    budget: int,
) -> Trace:
    """Nesterov's method for strongly convex f: step 1/L, momentum
    (sqrt(kappa) - 1) / (sqrt(kappa) + 1) with kappa = L / mu; each step costs n."""
    if smoothness <= 0 or strong_convexity <= 0:
        raise ValueError(
            f"nesterov: smoothness and strong_convexity must be > 0, got "
            f"{smoothness}, {strong_convexity}"
        )
    root = np.sqrt(smoothness / strong_convexity)
    momentum = (root - 1) / (root + 1)
    w = np.array(w0, dtype=np.float64)
    previous = w.copy()
    trace = Trace([], [], w)
    trace.record(0, problem.value(w))
    spent = 0
    while spent + problem.n <= budget:
        look_ahead = w + momentum * (w - previous)
        previous = w
        w = look_ahead - problem.gradient(look_ahead) / smoothness
        spent += problem.n
        trace.record(spent, problem.value(w))
    trace.w = w
    return trace
