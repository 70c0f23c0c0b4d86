"""SVRG, stochastic variance-reduced gradient (Johnson & Zhang 2013), in numpy.

For a finite sum f(w) = (1/n) sum_i f_i(w) (`models/finite_sum.py`): keep a snapshot
w~ and its full gradient mu = grad f(w~); for m inner steps draw i and move along the
variance-reduced gradient

    v = g_i(w) - g_i(w~) + mu,

which is unbiased (its mean over i is grad f(w)) and whose variance vanishes as w and
w~ approach the minimiser, so a constant step converges linearly where plain SGD's
constant step stalls at a noise floor. After m steps the last iterate becomes the next
snapshot (the paper's "option I", the one its experiments use).

Cost, counted honestly in gradient evaluations of one f_i: n per snapshot, 2 per inner
step. Keras' optimizers see a mini-batch mean only, never g_i at a second point, so the
method is written out here.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np


class FiniteSum(Protocol):
    n: int

    def value(self, w: np.ndarray) -> float: ...
    def gradient(self, w: np.ndarray) -> np.ndarray: ...
    def example_gradient(self, w: np.ndarray, i: int) -> np.ndarray: ...


@dataclasses.dataclass
class Trace:
    """f at the iterate every `record_every` gradient evaluations (and at the start)."""

    evaluations: list[int]
    values: list[float]
    w: np.ndarray  # the final iterate (the averaged one for averaged SGD)

    def record(self, evaluations: int, value: float) -> None:
        self.evaluations.append(int(evaluations))
        self.values.append(float(value))


def variance_reduced_gradient(
    problem: FiniteSum, w: np.ndarray, snapshot: np.ndarray, mu: np.ndarray, i: int
) -> np.ndarray:
    """g_i(w) - g_i(w~) + mu: SVRG's step direction for example i."""
    return problem.example_gradient(w, i) - problem.example_gradient(snapshot, i) + mu


def svrg(
    problem: FiniteSum,
    w0: np.ndarray,
    *,
    step: float,
    inner_steps: int,
    budget: int,
    seed: int = 0,
    record_every: int | None = None,
) -> Trace:
    """Run SVRG until `budget` gradient evaluations are spent.

    Args:
        step: the constant step eta (Johnson & Zhang use about 0.1 / L_max).
        inner_steps: m, the inner steps per snapshot (the paper: 2n for convex problems).
        budget: gradient evaluations of one f_i; a snapshot's full gradient costs n.
        record_every: evaluations between two recorded values of f (default n / 2).
    """
    if step <= 0 or inner_steps < 1 or budget < problem.n:
        raise ValueError(
            f"svrg: step > 0, inner_steps >= 1 and budget >= n = {problem.n} are needed; "
            f"got step={step}, inner_steps={inner_steps}, budget={budget}"
        )
    rng = np.random.default_rng(seed)
    every = record_every or max(1, problem.n // 2)
    w = np.array(w0, dtype=np.float64)
    trace = Trace([], [], w)
    trace.record(0, problem.value(w))
    spent, next_record = 0, every
    while spent + problem.n <= budget:
        snapshot = w.copy()
        mu = problem.gradient(snapshot)
        spent += problem.n
        for i in rng.integers(0, problem.n, inner_steps):
            if spent + 2 > budget:
                break
            w -= step * variance_reduced_gradient(problem, w, snapshot, mu, int(i))
            spent += 2
            if spent >= next_record:
                trace.record(spent, problem.value(w))
                next_record += every
    trace.w = w
    if trace.evaluations[-1] != spent:
        trace.record(spent, problem.value(w))
    return trace
