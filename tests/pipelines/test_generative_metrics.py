"""The generative quality measures against their definitions and against independent
implementations (scipy's sqrtm, scikit-learn's KernelDensity)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from pipelines.tasks.generative import metrics as gm


def test_frechet_distance_matches_the_closed_form_and_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 4))
    assert gm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([3.0, 0.0, 4.0, 0.0])  # same covariance: distance = |shift|^2
    assert gm.frechet_distance(a, a + shift) == pytest.approx(25.0, rel=1e-6)
    b = rng.normal(size=(2000, 4)) @ rng.normal(size=(4, 4)) + 1.0
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    reference = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(
        c1 + c2 - 2 * np.real(linalg.sqrtm(c1 @ c2))
    )
    assert gm.frechet_distance(a, b) == pytest.approx(reference, rel=1e-6)


def test_frechet_distance_stays_finite_with_dead_features():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(500, 6)), rng.normal(size=(500, 6))
    a[:, :3] = b[:, :3] = 0.0  # ReLU units that never fire: singular covariances
    assert np.isfinite(gm.frechet_distance(a, b)) and gm.frechet_distance(a, b) < 0.2


def test_parzen_log_likelihood_equals_kernel_density():
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(2)
    centers, x = rng.uniform(size=(300, 5)), rng.uniform(size=(40, 5))
    ours = gm.parzen_log_likelihoods(centers, x, [0.1, 0.3], chunk=16)
    for j, sigma in enumerate((0.1, 0.3)):
        kde = KernelDensity(kernel="gaussian", bandwidth=sigma).fit(centers)
        np.testing.assert_allclose(ours[:, j], kde.score_samples(x), atol=1e-4)


def test_parzen_protocol_picks_the_width_of_the_data():
    rng = np.random.default_rng(3)
    data = lambda n: rng.normal(0.5, 0.05, size=(n, 3))  # noqa: E731
    result = gm.parzen_protocol(data(2000), data(300), data(300), sigmas=[0.001, 0.02, 1.0])
    assert result["sigma"] == 0.02 and result["log_likelihood"] > 3.0


def test_class_shares_kl_and_modes():
    data = np.full(10, 0.1)
    collapsed = gm.class_shares(np.array([3] * 90 + [4] * 10), 10)
    assert gm.kl_divergence(data, data) == pytest.approx(0.0, abs=1e-9)
    assert gm.kl_divergence(collapsed, data) > 1.5  # log 10 would be full collapse
    assert gm.modes_covered(collapsed, data) == 2 and gm.modes_covered(data, data) == 10
    acc = gm.label_accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]))
    assert acc["accuracy"] == 0.75 and acc["per_class"] == {0: 1.0, 1: 1.0, 2: 0.5}


def test_pca_baseline_is_exact_on_data_of_that_rank():
    rng = np.random.default_rng(4)
    basis = rng.normal(size=(3, 20))
    train, test = rng.normal(size=(200, 3)) @ basis, rng.normal(size=(50, 3)) @ basis
    assert gm.pca_reconstruction_mse(train, test, 3) < 1e-20
    assert gm.pca_reconstruction_mse(train, test, 2) > 0.1
    points, caption = gm.pca_2d(rng.normal(size=(30, 5)))
    assert points.shape == (30, 2) and "principal" in caption
