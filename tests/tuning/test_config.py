"""A bad `tune:` section fails at load, naming the key path; a good one loads."""

from __future__ import annotations

import pytest

from common.errors import UserError
from tests.conftest import small_recipe
from tuning.config import validate_search

BAD = [
    ({"params": {"model.params.depht": {"int": [1, 3]}}}, "tune.params.model.params.depht"),
    ({"params": {"train.optimizr.learning_rate": [0.1]}}, "tune.params.train.optimizr"),
    ({"params": {"data.batch_size": {"choice": []}}}, "tune.params.data.batch_size: choice"),
    ({"params": {"model.params.depth": {"int": [4, 1]}}}, "min 4 > max 1"),
    ({"params": {"train.optimizer.learning_rate": {"float": [0, 1], "log": True}}}, "min > 0"),
    ({"params": {"train.optimizer.name": ["adam", "adamm"]}}, "unknown optimizer 'adamm'"),
    ({"params": {"data.batch_size": {"int": [0, 8]}}}, "tune.params.data.batch_size: 0"),
    ({"params": {"data.batch_size": {"int": [8, 9], "choice": [1]}}}, "exactly one of"),
    ({"params": {"model.name": ["mlp", "nope"]}}, "unknown model 'nope'"),
    ({"space": "cnn", "params": {"model.params.depth": [1]}}, "(model cnn)"),
    ({"space": "nope"}, "unknown search space 'nope'"),
    ({}, "nothing to search"),
    ({"space": "mlp", "tuner": "grid"}, "tune.tuner"),
    ({"space": "mlp", "objective": "val_robust_accuracy"}, "tune.robustness"),
    ({"space": "mlp", "tuner": "hyperband", "cv": 5}, "tune.cv with tuner: hyperband"),
    ({"space": "mlp", "cv": 1}, "tune.cv"),
]


@pytest.mark.parametrize(("tune", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_tune_section_fails_at_load_with_key_path(tmp_path, tune, message):
    with pytest.raises(UserError) as err:
        validate_search(small_recipe(tmp_path, tune=tune), source="recipe")
    assert message in str(err.value)


def test_good_tune_section_loads_and_survives_overrides(tmp_path):
    tune = {
        "space": ["training"],
        "params": {
            "model.params.depth": {"int": [1, 3]},
            "train.optimizer.learning_rate": {"float": [1e-4, 1e-2], "log": True},
            "data.batch_size": [32, 64],
            "model.params.batch_norm": {"boolean": False},
        },
        "tuner": "hyperband",
        "max_epochs": 4,
    }
    cfg = validate_search(small_recipe(tmp_path, tune=tune), source="recipe")
    assert cfg.tune.params["data.batch_size"].values == [32, 64]
    # A trial config drops the section; a dumped config reads back the same.
    assert cfg.with_overrides({"tune": None}).tune is None
    assert cfg.with_overrides({"seed": 1}).tune == cfg.tune


def test_sweep_and_tune_together_is_refused(tmp_path):
    raw = small_recipe(tmp_path, tune={"space": "mlp"}, sweep={"seed": [0, 1]})
    with pytest.raises(UserError, match="cannot both sweep and tune"):
        validate_search(raw, source="recipe")
