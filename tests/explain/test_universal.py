"""Universal adversarial perturbations (explain/universal.py): the budget holds, they
fool held-out images more than random noise of the same norm, bad input is a
UserError, and the attack stage and `dlzoo attack` report them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from common.errors import UserError
from explain.universal import (
    fooling_rate,
    perturbation_norm,
    random_perturbation,
    universal_perturbation,
)
from tests.conftest import learned, seeded

RANGE = (0.0, 16.0)


@pytest.mark.parametrize(
    "norm, epsilon, attacker",
    [("inf", 3.0, "sgd"), ("2", 12.0, "sgd"), ("inf", 3.0, "fgsm"), ("2", 12.0, "pgd")],
)
def test_the_perturbation_stays_within_its_budget(digits_cnn, norm, epsilon, attacker):
    x = digits_cnn.x_train[:120]
    v = universal_perturbation(
        digits_cnn.model, x, epsilon=epsilon, norm=norm, input_range=RANGE,
        attacker=attacker, max_iter=2, attacker_steps=2,
    )
    assert v.shape == x.shape[1:] and v.dtype == np.float32
    assert perturbation_norm(v, norm) <= epsilon * (1 + 1e-5)
    assert perturbation_norm(v, norm) > 0.5 * epsilon  # it used the budget


def test_random_control_has_exactly_the_norm():
    for norm, eps in (("inf", 2.5), ("2", 7.0)):
        r = random_perturbation((8, 8, 1), eps, norm, seed=3)
        assert perturbation_norm(r, norm) == pytest.approx(eps, rel=1e-5)
        np.testing.assert_array_equal(r, random_perturbation((8, 8, 1), eps, norm, seed=3))
    assert set(np.unique(random_perturbation((8, 8, 1), 2.0, "inf"))) == {-2.0, 2.0}


def test_it_fools_held_out_images_more_than_random_noise(digits_cnn):
    v = universal_perturbation(
        digits_cnn.model, digits_cnn.x_train, epsilon=4.0, input_range=RANGE,
        max_iter=5, seed=seeded(0),
    )
    control = random_perturbation(v.shape, 4.0, "inf", seed=seeded(0))
    fooled = fooling_rate(digits_cnn.model, digits_cnn.x_test, v, input_range=RANGE)
    noise = fooling_rate(digits_cnn.model, digits_cnn.x_test, control, input_range=RANGE)
    learned("universal - random fooling rate (test, eps 4)", fooled - noise, at_least=0.15)
    assert fooling_rate(digits_cnn.model, digits_cnn.x_test, 0 * v, input_range=RANGE) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epsilon": 20.0}, "outside the input range"),
        ({"epsilon": 2.0, "norm": "3"}, "unknown norm"),
        ({"epsilon": 2.0, "attacker": "deepfool"}, "unknown attacker 'deepfool'; allowed: sgd"),
        ({"epsilon": 2.0, "max_iter": 0}, "max_iter"),
        ({"epsilon": 2.0, "fooling_target": 0.0}, "fooling_target"),
        ({"epsilon": 2.0, "y": np.zeros(3)}, "3 labels for 10 inputs"),
    ],
)
def test_bad_inputs_are_user_errors(digits_cnn, kwargs, message):
    with pytest.raises(UserError, match=message):
        universal_perturbation(digits_cnn.model, digits_cnn.x_train[:10], input_range=RANGE,
                               **kwargs)


def test_fooling_rate_rejects_a_perturbation_of_another_shape(digits_cnn):
    with pytest.raises(UserError, match=r"shape \(4, 4, 1\); the inputs are \(8, 8, 1\)"):
        fooling_rate(digits_cnn.model, digits_cnn.x_test[:5], np.zeros((4, 4, 1)),
                     input_range=RANGE)
    with pytest.raises(UserError, match="unknown norm"):
        random_perturbation((8, 8, 1), 1.0, "1")


def test_the_recipe_section_is_validated(make_config):
    with pytest.raises(UserError, match="attack.universal.epsilon"):
        make_config(attack={"universal": {"epsilon": 0}})
    with pytest.raises(UserError, match="unknown model 'nope'"):
        make_config(attack={"universal": {"epsilon": 2, "transfer_to": {"name": "nope"}}})
    with pytest.raises(UserError, match="unknown parameter"):
        make_config(attack={"universal": {"epsilon": 2, "transfer_to": {
            "name": "mlp", "params": {"nope": 1}}}})
    cfg = make_config(attack={"universal": {"epsilon": 2, "norm": 2}})
    assert cfg.attack.universal.norm == "2"


def test_the_attack_stage_writes_universal_metrics_and_transfer(tmp_path):
    from pipelines.config.experiment import validate_config
    from pipelines.run import run_all

    from ..conftest import small_recipe

    raw = small_recipe(
        tmp_path,
        model={"name": "cnn", "params": {"blocks": 1, "filters": 8, "head": "flatten"}},
        train={"epochs": 3, "optimizer": {"name": "adam", "learning_rate": 0.003},
               "tensorboard": False, "verbose": 0},
        attack={
            "attacks": ["fgsm"], "epsilons": [0, 2], "num_examples": 80,
            "figure_examples": 2,
            "universal": {"epsilon": 4.0, "max_iter": 2, "train_examples": 300,
                          "transfer_to": {"name": "mlp", "params": {"width": 32}}},
        },
    )
    run = run_all(validate_config(raw, source="test"))
    m = run.metrics
    for key in ("fooling_rate", "random_fooling_rate", "transfer_fooling_rate",
                "transfer_random_fooling_rate", "train_fooling_rate"):
        assert 0 <= m[f"universal_{key}"] <= 1, key
    assert m["universal_norm"] <= 4.0 * (1 + 1e-5) and m["universal_epsilon"] == 4.0
    v = np.load(run.run_dir / "universal_perturbation.npy")
    assert v.shape == (8, 8, 1) and np.abs(v).max() <= 4.0 * (1 + 1e-5)
    assert (run.run_dir / "plots" / "universal_perturbation.png").stat().st_size > 1000
    assert (run.run_dir / "transfer" / "DONE").is_file()
    assert "### Universal adversarial perturbation" in (run.run_dir / "report.md").read_text()


def test_dlzoo_attack_universal(exported, tmp_path, capsys):
    from .test_cli import dlzoo

    recipe = tmp_path / "digits.yaml"
    recipe.write_text(yaml.safe_dump({"data": {"source": "digits"}, "model": {"name": "mlp"}}))
    out = tmp_path / "attacked"
    common = ["attack", "--model", exported, "--attack", "fgsm", "--epsilons", "0",
              "--num-examples", 60]
    code = dlzoo(*common, "--recipe", recipe, "--universal", 3, "--transfer-model", exported,
                 "--out", out)
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["universal_norm"] <= 3.0 * (1 + 1e-5)
    assert "universal_transfer_fooling_rate" in metrics
    assert dlzoo(*common, "--images", "x.png", "--universal", 3) == 2
    assert "--universal needs --recipe" in capsys.readouterr().err
