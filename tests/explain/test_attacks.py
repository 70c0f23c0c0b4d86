"""Attacks: bounds, strength ordering, targeted success, repeatability, errors, patch."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from explain.attacks import bim, fgsm, pgd
from explain.patch import patch_success, train_patch
from explain.robustness import accuracy_under_attack, attack_is_sane, robustness_curve
from tests.conftest import learned, seeded

RANGE = (0.0, 16.0)


@pytest.fixture(scope="module")
def batch(digits_cnn):
    return digits_cnn.x_test[:150], digits_cnn.y_test[:150]


@pytest.mark.parametrize("attack", ["fgsm", "bim", "pgd"])
def test_linf_attacks_stay_within_epsilon_and_the_valid_range(digits_cnn, batch, attack):
    x, y = batch
    fn = {"fgsm": fgsm, "bim": bim, "pgd": pgd}[attack]
    kw = {} if attack == "fgsm" else {"steps": 4}
    x_adv = fn(digits_cnn.model, x, y, epsilon=1.5, input_range=RANGE, **kw)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert np.abs(x_adv - x).max() <= 1.5 + 1e-5
    assert x_adv.min() >= 0 and x_adv.max() <= 16
    assert np.abs(x_adv - x).max() > 1.0  # it did move


def test_l2_pgd_stays_in_the_l2_ball(digits_cnn, batch):
    x, y = batch
    x_adv = pgd(digits_cnn.model, x, y, epsilon=6.0, norm="2", steps=4, input_range=RANGE)
    norms = np.linalg.norm((x_adv - x).reshape(len(x), -1), axis=1)
    assert norms.max() <= 6.0 + 1e-4 and norms.mean() > 3.0


def test_pgd_at_least_as_strong_as_fgsm_and_large_epsilon_breaks_the_model(digits_cnn, batch):
    x, y = batch
    rows = robustness_curve(
        digits_cnn.model,
        x,
        y,
        attacks=["fgsm", "pgd"],
        epsilons=[0, 1, 2, 6],
        input_range=RANGE,
        steps=5,
    )
    sane = attack_is_sane(rows)
    acc = {(r["attack"], r["epsilon"]): r["accuracy"] for r in rows}
    learned("clean accuracy", acc[("fgsm", 0)], at_least=0.9)
    assert sane["within_epsilon"]
    # PGD (random start) is at least as strong as FGSM at every epsilon, up to one image:
    # at seed 3 it was one image weaker at epsilon 1 (0.807 vs 0.800, with 5 or 10 steps)
    worst = min(acc[("fgsm", e)] - acc[("pgd", e)] for e in (1, 2, 6))
    learned("fgsm - pgd accuracy (worst epsilon)", worst, at_least=-1.5 / len(x))
    # an attack lowers accuracy: at epsilon 2 (1/8 of the range) by 0.59-0.67 over seeds 0-3
    # (tests/MARGINS.md); at epsilon 1 the drop ranged 0.14-0.22, too close to any bar
    learned("clean - fgsm@2 accuracy", acc[("fgsm", 0)] - acc[("fgsm", 2)], at_least=0.4)
    learned("pgd@6 accuracy", acc[("pgd", 6)], at_most=0.02)  # undefended: about 0


def test_targeted_attacks_reach_their_targets(digits_cnn, batch):
    x, y = batch
    targets = (y + 1) % 10
    model = digits_cnn.model
    x_adv = pgd(model, x, targets, epsilon=4.0, input_range=RANGE, targeted=True, steps=10)
    hit = np.mean(model.predict(x_adv, verbose=0).argmax(-1) == targets)
    learned("targeted pgd success rate", hit, at_least=0.8)
    resisted = accuracy_under_attack(
        model, x, targets, attack="fgsm", epsilon=4.0, input_range=RANGE, targeted=True
    )
    learned("1 - targeted fgsm success rate", resisted, at_most=0.9)


def test_random_starts_and_restarts_are_repeatable_by_seed(digits_cnn, batch):
    x, y = batch[0][:20], batch[1][:20]
    kw = {"epsilon": 1.0, "input_range": RANGE, "steps": 2, "restarts": 2}
    a = pgd(digits_cnn.model, x, y, seed=5, **kw)
    np.testing.assert_array_equal(a, pgd(digits_cnn.model, x, y, seed=5, **kw))
    assert not np.array_equal(a, pgd(digits_cnn.model, x, y, seed=6, **kw))


def test_bad_attack_inputs_are_user_errors(digits_cnn, batch):
    x, y = batch
    with pytest.raises(UserError, match="outside the input range"):
        fgsm(digits_cnn.model, x, y, epsilon=20.0, input_range=RANGE)
    with pytest.raises(UserError, match="outside the input range"):
        pgd(digits_cnn.model, x, y, epsilon=-1.0, input_range=RANGE)
    with pytest.raises(UserError, match="labels for"):
        fgsm(digits_cnn.model, x, y[:3], epsilon=1.0, input_range=RANGE)
    with pytest.raises(UserError, match="norm"):
        pgd(digits_cnn.model, x, y, epsilon=1.0, input_range=RANGE, norm="1")
    with pytest.raises(UserError, match="channel"):
        fgsm(digits_cnn.model, np.zeros((2, 8, 8, 3)), y[:2], epsilon=1.0, input_range=RANGE)


def test_adversarial_patch_beats_a_random_patch_on_held_out_images(shapes_cnn):
    s = shapes_cnn
    patch = train_patch(
        s.model, s.x_train, target=0, size=0.3, epochs=6, input_range=s.input_range, seed=seeded(0)
    )
    assert patch.shape == (7, 7, 1) and patch.min() >= 0 and patch.max() <= 255
    result = patch_success(s.model, s.x_test, s.y_test, patch, target=0, input_range=s.input_range)
    learned("patch - random patch success rate",
            result["success_rate"] - result["control_success_rate"], at_least=0.2)
    learned("patch success - clean target rate",
            result["success_rate"] - result["clean_target_rate"], at_least=0.3)
