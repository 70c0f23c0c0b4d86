"""dlzoo's hand-written attacks agree with the Adversarial Robustness Toolbox (ART).

ART's TensorFlowV2Classifier takes the Keras 3 model as it is (TF 2.21 / Keras 3.15,
ART 1.20.1): no wrapping needed. Same trained digits CNN, same inputs and labels:

* FGSM, L-inf and L2 (ART's FastGradientMethod): equal up to float tolerance;
* BIM = L-inf PGD without random init (ART's ProjectedGradientDescent): equal up to
  float tolerance (clip-then-project and project-then-clip agree on a box);
* L2 PGD without random init: close (ART clips before projecting on the L2 ball,
  dlzoo after, so they differ where the range clips), same accuracy within 0.03;
* the universal perturbation: the batched "sgd" variant fools unseen images at least
  as often as ART's UniversalPerturbation (FGSM attacker); dlzoo's per-image loop
  (attacker "fgsm", ART's algorithm) fools fewer than ART's (0.14-0.53 fewer): a
  known disagreement, see the test.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from art.attacks.evasion import (
    FastGradientMethod,
    ProjectedGradientDescent,
    UniversalPerturbation,
)
from art.estimators.classification import TensorFlowV2Classifier

from explain.attacks import fgsm, pgd
from explain.universal import fooling_rate, universal_perturbation
from tests.conftest import learned, seeded

RANGE = (0.0, 16.0)


@pytest.fixture(scope="module")
def classifier(digits_cnn):
    return TensorFlowV2Classifier(
        digits_cnn.model,
        nb_classes=10,
        input_shape=digits_cnn.x_test.shape[1:],
        loss_object=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        clip_values=RANGE,
    )


def accuracy(trained, x) -> float:
    return trained.accuracy(x, trained.y_test[: len(x)])


@pytest.mark.parametrize("norm, eps", [(np.inf, 2.0), (2, 8.0)])
def test_fgsm_equals_art(digits_cnn, classifier, norm, eps):
    x, y = digits_cnn.x_test[:200], digits_cnn.y_test[:200]
    theirs = FastGradientMethod(classifier, norm=norm, eps=eps, batch_size=64).generate(x, y=y)
    ours = fgsm(digits_cnn.model, x, y, epsilon=eps, input_range=RANGE, norm=str(norm))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_bim_equals_art_pgd_without_random_init(digits_cnn, classifier):
    x, y = digits_cnn.x_test[:200], digits_cnn.y_test[:200]
    theirs = ProjectedGradientDescent(
        classifier, norm=np.inf, eps=2.0, eps_step=0.5, max_iter=5, num_random_init=0,
        batch_size=64, verbose=False,
    ).generate(x, y=y)
    ours = pgd(digits_cnn.model, x, y, epsilon=2.0, input_range=RANGE, steps=5,
               step_size=0.5, random_start=False)
    # a gradient coordinate near 0 may take another sign in one of 5 steps: allow 0.1%
    assert np.mean(np.abs(ours - theirs) > 1e-3) < 1e-3
    assert accuracy(digits_cnn, ours) == pytest.approx(accuracy(digits_cnn, theirs), abs=0.01)


def test_l2_pgd_is_close_to_art(digits_cnn, classifier):
    x, y = digits_cnn.x_test[:200], digits_cnn.y_test[:200]
    theirs = ProjectedGradientDescent(
        classifier, norm=2, eps=8.0, eps_step=2.0, max_iter=5, num_random_init=0,
        batch_size=64, verbose=False,
    ).generate(x, y=y)
    ours = pgd(digits_cnn.model, x, y, epsilon=8.0, input_range=RANGE, norm="2", steps=5,
               step_size=2.0, random_start=False)
    delta = np.linalg.norm((ours - theirs).reshape(len(x), -1), axis=1)
    assert np.median(delta) < 0.1 * 8.0
    assert accuracy(digits_cnn, ours) == pytest.approx(accuracy(digits_cnn, theirs), abs=0.03)


def test_universal_perturbation_fools_as_often_as_art(digits_cnn, classifier):
    eps, step, x_train = 4.0, 1.0, digits_cnn.x_train[:400]
    uap = UniversalPerturbation(
        classifier, attacker="fgsm", attacker_params={"eps": step},
        delta=0.2, max_iter=3, eps=eps, norm=np.inf, batch_size=64, verbose=False,
    )
    uap.generate(x_train)
    theirs = uap.noise[0]
    assert np.abs(theirs).max() <= eps + 1e-5
    ours_loop = universal_perturbation(
        digits_cnn.model, x_train, epsilon=eps, input_range=RANGE, attacker="fgsm",
        attacker_eps=step, max_iter=3, seed=seeded(0),
    )
    ours_sgd = universal_perturbation(
        digits_cnn.model, x_train, epsilon=eps, input_range=RANGE, max_iter=3, seed=seeded(0)
    )
    rate = {
        name: fooling_rate(digits_cnn.model, digits_cnn.x_test, v, input_range=RANGE)
        for name, v in (("art", theirs), ("loop", ours_loop), ("sgd", ours_sgd))
    }
    # The batched variant beats ART (sgd - ART: 0.16-0.36 over seeds 0-2, oneDNN on/off).
    learned("sgd - ART universal fooling rate", rate["sgd"] - rate["art"], at_least=0.0)
    # dlzoo's per-image loop does NOT agree with ART's closely: 0.14-0.53 below it over
    # seeds 0-2 (oneDNN on/off). It attacks clip(x + v) where ART attacks x + v unclipped,
    # and shuffles with numpy, not `random`; the loop is very order-dependent. Checked
    # here: it stays in its budget and fools more than no perturbation.
    assert np.abs(ours_loop).max() <= eps + 1e-5 and rate["loop"] > 0
