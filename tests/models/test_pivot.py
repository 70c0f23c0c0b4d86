"""The pivot model (Louppe et al. 2017): its mixture-density loss is the mixture's
negative log-likelihood; it trains a few steps with finite trackers; under a 2-replica
MirroredStrategy one step equals the single-device step on the same global batch; and
with lambda > 0 the adversary's loss rises towards its maximum (z unpredictable from
the output) while at lambda = 0 the adversary reads z off the output."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import norm

from models.catalog import build_model
from models.pivot import mdn_nll
from pipelines.data.nuisance import gaussians
from pipelines.tasks.pivot import prior_loss
from tests.conftest import learned, seeded
from tests.models.replicas import assert_two_replica_step_equals_single

TINY = {"widths": [8], "adversary_widths": [8], "components": 2}


def toy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    split = gaussians(rng, rng.normal(size=n))
    order = rng.permutation(n)
    return split.x[order], split.y[order]


def tiny_pivot(lam: float = 1.0, lr: float = 1e-2, **params):
    keras.utils.set_random_seed(0)
    model = build_model("pivot_mlp", inputs={"input_shape": (2,), "num_classes": 2},
                        params={**TINY, "lam": lam, **params})
    model.compile(c_optimizer=keras.optimizers.Adam(lr), a_optimizer=keras.optimizers.Adam(lr))
    return model


def test_mixture_loss_is_the_negative_log_likelihood():
    z = np.array([-1.0, 0.3, 2.0], np.float32)
    logits, means, log_std = [0.0, 1.0], [0.0, 1.5], [0.0, np.log(0.5)]
    params = np.tile(np.array(logits + means + log_std, np.float32), (3, 1))
    weights = np.exp(logits) / np.exp(logits).sum()
    expected = -np.log(weights[0] * norm.pdf(z, 0.0, 1.0) + weights[1] * norm.pdf(z, 1.5, 0.5))
    np.testing.assert_allclose(np.asarray(mdn_nll(params, z, 2)), expected, rtol=1e-5)


def test_trains_a_few_steps_with_every_tracker_finite():
    model = tiny_pivot(adversary_steps=2, adversary_input="logit")
    x, y = toy(256)
    logs = model.fit(x, y, batch_size=64, epochs=1, validation_data=(x, y), verbose=0).history
    expected = {"clf_loss", "adv_loss", "total_loss", "accuracy"}
    assert expected | {f"val_{k}" for k in expected} <= set(logs)
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert np.asarray(model(x[:4])).shape == (4, 2)
    assert model.inference_model is model.classifier


def test_builder_rejects_what_it_cannot_train():
    with pytest.raises(ValueError, match="two-class"):
        build_model("pivot_mlp", inputs={"input_shape": (2,), "num_classes": 3}, params={})
    with pytest.raises(ValueError, match="lam must be >= 0"):
        build_model("pivot_mlp", inputs={"input_shape": (2,)}, params={"lam": -1.0})
    with pytest.raises(ValueError, match="adversary_input"):
        build_model("pivot_mlp", inputs={"input_shape": (2,)}, params={"adversary_input": "z"})


def test_adversary_loss_rises_towards_its_maximum_when_lambda_is_positive():
    x, y = toy(3000, seed=seeded(0))
    most = prior_loss(y[:, 1], y[:, 1])  # predicting z from nothing: H(Z) of the sample
    gaps = {}
    for lam in (0.0, 10.0):
        model = tiny_pivot(lam=lam, lr=5e-3, widths=[16, 16], adversary_widths=[16],
                           components=3)
        model.fit(x, y, batch_size=100, epochs=8, verbose=0)
        logits = model.classifier(x, training=False)
        gaps[lam] = most - float(model.adversary_loss(logits, y[:, 1]))
    # lambda = 0: the output of a classifier using x2 tells z apart (class 1 moves with z)
    learned("pivot: adversary gain over the prior at lambda=0", gaps[0.0], at_least=0.02)
    learned("pivot: adversary gap at lambda=10 / at lambda=0", gaps[10.0] / gaps[0.0],
            at_most=0.5)


PIVOT_SETUP = """
    from tests.models.test_pivot import tiny_pivot, toy

    def make_model():
        model = tiny_pivot(lam=1.0)
        model.compile(c_optimizer=keras.optimizers.SGD(0.5),
                      a_optimizer=keras.optimizers.SGD(0.5))
        return model

    def batch():
        return toy(64)
"""


def test_two_replica_step_equals_single_device_step():
    assert_two_replica_step_equals_single(PIVOT_SETUP)
