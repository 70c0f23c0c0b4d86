"""Adversarial training: the loss it optimizes, and that it buys robustness."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from explain.adversarial import adversarial_trainer
from explain.attacks import fgsm
from explain.robustness import accuracy_under_attack
from tests.conftest import learned, seeded

from .conftest import digits_core, fit, nested

RANGE = (0.0, 16.0)


def test_train_step_loss_is_the_weighted_clean_plus_adversarial_loss(digits_cnn):
    """Goodfellow's J~ = (1 - r) J(x) + r J(x_adv), checked with a zero learning rate."""
    x, y = digits_cnn.x_test[:32], digits_cnn.y_test[:32]
    classifier = keras.models.clone_model(digits_cnn.model, recursive=True)
    classifier.set_weights(digits_cnn.model.get_weights())
    trainer = adversarial_trainer(classifier, epsilon=1.5, input_range=RANGE, ratio=0.3)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    trainer.compile(keras.optimizers.SGD(0.0), ce, metrics=["accuracy"])
    logs = trainer.train_on_batch(x, y, return_dict=True)
    x_adv = fgsm(classifier, x, y, epsilon=1.5, input_range=RANGE)
    expected = 0.7 * float(ce(y, classifier(x))) + 0.3 * float(ce(y, classifier(x_adv)))
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)
    adv_acc = np.mean(classifier.predict(x_adv, verbose=0).argmax(-1) == y)
    assert logs["adv_accuracy"] == pytest.approx(adv_acc)


def test_pgd_examples_made_in_the_step_stay_within_epsilon(digits_cnn):
    trainer = adversarial_trainer(
        digits_cnn.model, attack="pgd", epsilon=1.0, steps=3, input_range=RANGE
    )
    x = tf.constant(digits_cnn.x_test[:16])
    x_adv = trainer.adversarial_examples(x, tf.constant(digits_cnn.y_test[:16])).numpy()
    assert np.abs(x_adv - x.numpy()).max() <= 1.0 + 1e-5 and 0 < np.abs(x_adv - x.numpy()).max()
    assert x_adv.min() >= 0 and x_adv.max() <= 16


def test_fgsm_adversarial_training_cuts_the_attacked_error_several_fold(digits_cnn):
    """Goodfellow et al. 2015: 89.4% -> 17.9% FGSM error on MNIST. Here on digits at
    epsilon 2 (1/8 of the range), against the undefended model of the same recipe."""
    keras.utils.set_random_seed(seeded(0))
    robust = adversarial_trainer(nested(digits_core(), RANGE), epsilon=2.0, input_range=RANGE)
    fit(robust, digits_cnn.x_train, digits_cnn.y_train, epochs=12)
    x, y = digits_cnn.x_test, digits_cnn.y_test
    errors = {
        name: 1 - accuracy_under_attack(model, x, y, attack="fgsm", epsilon=2.0, input_range=RANGE)
        for name, model in (("undefended", digits_cnn.model), ("robust", robust))
    }
    learned("undefended fgsm error", errors["undefended"], at_least=0.5)
    learned("undefended - 2.5 * robust fgsm error",
            errors["undefended"] - 2.5 * errors["robust"], at_least=0.0)
    robust_accuracy = np.mean(robust.predict(x, verbose=0).argmax(-1) == y)
    learned("robust - undefended clean accuracy", robust_accuracy - digits_cnn.accuracy(),
            at_least=-0.02)
