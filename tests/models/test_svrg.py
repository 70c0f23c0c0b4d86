"""SVRG and its baselines (models/svrg.py, models/stochastic_baselines.py) on finite
sums whose minimiser is known: the snapshot logic, the evaluation count, linear
convergence where constant-step SGD stalls."""

from __future__ import annotations

import numpy as np
import pytest

from models.finite_sum import LeastSquares, SoftmaxRegression
from models.stochastic_baselines import sag, sgd
from models.svrg import svrg, variance_reduced_gradient
from tests.conftest import learned, seeded


def least_squares(seed: int, n: int = 200, d: int = 5) -> LeastSquares:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    b = a @ rng.normal(size=d) + 0.5 * rng.normal(size=n)  # noisy: g_i(w*) != 0
    return LeastSquares(a, b, l2=0.1)


def test_variance_reduced_gradient_is_the_full_gradient_at_the_snapshot_and_unbiased():
    problem = least_squares(0)
    rng = np.random.default_rng(1)
    snapshot, w = rng.normal(size=5), rng.normal(size=5)
    mu = problem.gradient(snapshot)
    for i in range(problem.n):  # at w = w~ the two per-example terms cancel exactly
        np.testing.assert_allclose(
            variance_reduced_gradient(problem, snapshot, snapshot, mu, i), mu, atol=1e-12
        )
    mean = np.mean([variance_reduced_gradient(problem, w, snapshot, mu, i)
                    for i in range(problem.n)], axis=0)
    np.testing.assert_allclose(mean, problem.gradient(w), atol=1e-12)  # unbiased at any w
    np.testing.assert_allclose(
        problem.gradient(problem.minimiser()), np.zeros(5), atol=1e-12
    )


def test_a_snapshot_costs_n_evaluations_and_an_inner_step_two():
    problem = least_squares(0)
    trace = svrg(problem, np.zeros(5), step=0.01, inner_steps=30, budget=problem.n + 2 * 30,
                 record_every=10)
    assert trace.evaluations[0] == 0 and trace.evaluations[-1] == problem.n + 60
    with pytest.raises(ValueError, match="budget >= n = 200"):
        svrg(problem, np.zeros(5), step=0.01, inner_steps=30, budget=100)


def test_svrg_converges_linearly_to_the_least_squares_minimiser_where_sgd_stalls():
    problem = least_squares(seeded(0))
    w_star = problem.minimiser()
    f_star = problem.value(w_star)
    smooth = float(np.max(np.sum(problem.a**2, axis=1)) + problem.l2)
    step, budget = 0.2 / smooth, 60 * problem.n
    trace = svrg(problem, np.zeros(5), step=step, inner_steps=2 * problem.n, budget=budget,
                 seed=seeded(1), record_every=problem.n)
    gap = np.asarray(trace.values) - f_star  # recorded once per pass
    # linear: every 10 passes take at least 2 more decades off (measured from pass 5 to
    # pass 25, before f - f* reaches float64's resolution)
    learned("svrg least squares decades per 10 passes", np.log10(gap[5] / gap[25]) / 2,
            at_least=2.0)
    learned("svrg distance to minimiser", np.linalg.norm(trace.w - w_star), at_most=1e-6)
    plain, _ = sgd(problem, np.zeros(5), step=step, budget=budget, seed=seeded(1))
    floor = np.median(np.asarray(plain.values[len(plain.values) // 2:]) - f_star)
    # the bar is 100x below SGD's floor; half SVRG's budget already gives 1000x
    learned("sgd floor / svrg at pass 25 (least squares)", floor / gap[25], at_least=1e3)


def test_on_softmax_regression_svrg_and_sag_go_far_below_sgds_floor():
    rng = np.random.default_rng(seeded(2))
    centres = rng.normal(size=(3, 4))
    y = rng.integers(0, 3, 150)
    x = centres[y] + rng.normal(size=(150, 4))
    problem = SoftmaxRegression(x, y, l2=0.1, num_classes=3)
    _, f_star = problem.minimum()
    step, budget = 0.5 / problem.smoothness(), 40 * problem.n
    plain, averaged = sgd(problem, np.zeros(problem.shape), step=step, budget=budget,
                          seed=seeded(3))
    floor = float(np.median(np.asarray(plain.values[len(plain.values) // 2:]) - f_star))
    reduced = svrg(problem, np.zeros(problem.shape), step=step, inner_steps=2 * problem.n,
                   budget=budget, seed=seeded(3))
    averaged_gap = averaged.values[-1] - f_star
    learned("softmax: sgd floor / svrg final", floor / max(reduced.values[-1] - f_star, 1e-300),
            at_least=100)
    learned("softmax: sgd floor / averaged sgd final", floor / averaged_gap, at_least=2)
    table = sag(problem, np.zeros(problem.shape), step=step, budget=budget, seed=seeded(3))
    learned("softmax: sgd floor / sag final", floor / max(table.values[-1] - f_star, 1e-300),
            at_least=100)
