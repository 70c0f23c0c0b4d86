"""Recipe validation: every shipped recipe loads; each kind of mistake names its key path."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml

from common.errors import UserError
from pipelines.config.experiment import validate_config
from pipelines.config.load import load_recipe
from tests.conftest import small_recipe

RECIPES = sorted(Path(__file__).resolve().parents[2].joinpath("recipes").glob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_validates(path):
    cfg = load_recipe(path)
    assert cfg.name == path.stem
    if cfg.tune is not None:  # what `dlzoo tune` checks besides the section's shape
        from tuning.config import check_search

        check_search(cfg)
    for _label, overrides in __import__("pipelines.sweep", fromlist=["variants"]).variants(cfg):
        cfg.with_overrides({**overrides, "sweep": {}})  # every sweep variant is valid too


def _error(tmp_path, **sections) -> str:
    with pytest.raises(UserError) as info:
        validate_config(small_recipe(tmp_path, **sections), source="r.yaml")
    return str(info.value)


def test_unknown_key_names_path_and_allowed_keys(tmp_path):
    msg = _error(tmp_path, train={"epochz": 3})
    assert "train.epochz" in msg and "allowed:" in msg and "epochs" in msg


def test_bad_value_names_path(tmp_path):
    msg = _error(tmp_path, train={"epochs": -1})
    assert "train.epochs" in msg and "greater than 0" in msg


def test_bad_literal_lists_allowed_values(tmp_path):
    msg = _error(tmp_path, data={"source": "digits", "normalize": "zscore"})
    assert "data.normalize" in msg and "'standardize'" in msg


@pytest.mark.parametrize(
    "sections, key, known",
    [
        ({"data": {"source": "digitz"}}, "data.source", "mnist1d"),
        ({"model": {"name": "lenet6"}}, "model.name", "lenet5"),
        ({"train": {"optimizer": {"name": "adamm"}}}, "train.optimizer.name", "rmsprop"),
        ({"train": {"schedule": "linear"}}, "train.schedule.name", "cosine"),
        ({"data": {"source": "digits", "augment": {"rotate": {}}}}, "data.augment", "rotation"),
    ],
)
def test_unknown_names_list_the_known_ones(tmp_path, sections, key, known):
    msg = _error(tmp_path, **sections)
    assert key in msg and known in msg


def test_unknown_builder_and_source_parameters(tmp_path):
    msg = _error(tmp_path, model={"name": "mlp", "params": {"depth": 2, "layers": 3}})
    assert "model.params" in msg and "layers" in msg and "width" in msg
    msg = _error(tmp_path, data={"source": "xor", "params": {"noize": 1}})
    assert "data.params" in msg and "noise" in msg
    msg = _error(tmp_path, model={"name": "mlp", "params": {"depth": "deep"}})
    assert "model.params.depth" in msg


def test_optimizer_parameters_checked_against_keras(tmp_path):
    msg = _error(tmp_path, train={"optimizer": {"name": "sgd", "momentun": 0.9}})
    assert "train.optimizer" in msg and "momentum" in msg


def test_all_problems_reported_together(tmp_path):
    msg = _error(tmp_path, train={"epochs": 0, "optimizer": "nope"})
    assert "train.epochs" in msg and "train.optimizer.name" in msg


def test_overrides_are_validated_like_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(small_recipe(tmp_path)))
    cfg = load_recipe(path, ["train.epochs=7", "train.optimizer=sgd", "data.batch_size=16"])
    assert cfg.train.epochs == 7 and cfg.train.optimizer.name == "sgd"
    assert cfg.data.batch_size == 16
    with pytest.raises(UserError, match="train.epochs"):
        load_recipe(path, ["train.epochs=many"])
    with pytest.raises(UserError, match="train.nope"):
        load_recipe(path, ["train.nope=1"])
    with pytest.raises(UserError, match="KEY.PATH=VALUE"):
        load_recipe(path, ["train.epochs"])


def test_missing_and_malformed_recipe_files(tmp_path):
    with pytest.raises(UserError, match="recipe not found"):
        load_recipe(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(UserError, match="not valid YAML"):
        load_recipe(bad)
    bad.write_text("- a list\n")
    with pytest.raises(UserError, match="mapping"):
        load_recipe(bad)


def test_config_is_frozen(make_config):
    cfg = make_config()
    with pytest.raises(pydantic.ValidationError):
        cfg.train.epochs = 5  # type: ignore[misc]
