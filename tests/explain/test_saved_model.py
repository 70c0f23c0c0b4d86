"""Explanations and attacks on an exported dlzoo SavedModel (uint8 `serve` signature)."""

from __future__ import annotations

import numpy as np

from explain.adapter import as_scorer
from explain.attacks import fgsm, pgd
from explain.grad_cam import grad_cam
from explain.gradients import vanilla_gradients
from explain.integrated_gradients import integrated_gradients
from explain.robustness import accuracy_under_attack, max_perturbation
from tests.conftest import learned

RANGE = (0.0, 16.0)


def test_saved_model_scorer_reads_metadata_and_matches_the_keras_logits(exported, digits_cnn):
    scorer = as_scorer(exported.parent)  # saved_models/<name>: the newest version
    assert scorer.input_shape == (8, 8, 1) and scorer.input_range == RANGE
    assert scorer.class_names[3] == "3"
    x = digits_cnn.x_test[:16]
    np.testing.assert_allclose(scorer.predict(x), digits_cnn.model.predict(x, verbose=0), atol=1e-4)


def test_gradient_methods_through_the_uint8_signature_equal_the_keras_ones(exported, digits_cnn):
    x = digits_cnn.x_test[:6]
    for fn in (vanilla_gradients, integrated_gradients):
        ours = fn(str(exported), x)
        keras_side = fn(digits_cnn.model, x, input_range=RANGE)
        assert np.abs(ours).max() > 0
        np.testing.assert_allclose(ours, keras_side, rtol=1e-3, atol=1e-5)


def test_grad_cam_on_the_saved_model_finds_the_layer_in_the_graph(exported, digits_cnn):
    x = digits_cnn.x_test[:6]
    scorer = as_scorer(exported)
    assert scorer.conv_layers() == ["conv1", "conv2"]
    np.testing.assert_allclose(
        grad_cam(scorer, x, layer="conv1"),
        grad_cam(digits_cnn.model, x, layer="conv1", input_range=RANGE),
        atol=1e-4,
    )


def test_attacks_on_the_saved_model_stay_in_bounds_and_lower_accuracy(exported, digits_cnn):
    x, y = digits_cnn.x_test[:120], digits_cnn.y_test[:120]
    scorer = as_scorer(exported)
    clean = accuracy_under_attack(scorer, x, y, attack="fgsm", epsilon=0, input_range=RANGE)
    x_fgsm = fgsm(scorer, x, y, epsilon=2.0, input_range=RANGE)
    x_pgd = pgd(scorer, x, y, epsilon=2.0, input_range=RANGE, steps=5)
    for x_adv in (x_fgsm, x_pgd):
        assert max_perturbation(x, x_adv) <= 2.0 + 1e-5
        assert x_adv.min() >= 0 and x_adv.max() <= 16
    fgsm_acc = float(np.mean(scorer.predict(x_fgsm).argmax(-1) == y))
    pgd_acc = float(np.mean(scorer.predict(x_pgd).argmax(-1) == y))
    learned("clean accuracy", clean, at_least=0.9)
    learned("clean - fgsm accuracy", clean - fgsm_acc, at_least=0.3)
    learned("fgsm - pgd accuracy", fgsm_acc - pgd_acc, at_least=0.0)
    # The Keras model agrees on what the attack did.
    np.testing.assert_allclose(x_fgsm, fgsm(digits_cnn.model, x, y, epsilon=2.0, input_range=RANGE))
