"""The Python API (pipelines/api.py): a recipe end to end from a script, then reload and
export; overrides as a mapping or as `--set` strings; user mistakes as UserError."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from common.errors import UserError
from pipelines import api
from tests.conftest import learned, small_recipe


def test_api_runs_a_recipe_reloads_and_exports(tmp_path):
    raw = small_recipe(tmp_path, model={"name": "mlp", "params": {"width": 64, "depth": 1}})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(raw))
    run = api.run(recipe, {"train.epochs": 4, "train.optimizer.learning_rate": 3e-3},
                  run_dir=tmp_path / "run")
    assert run.run_dir == tmp_path / "run" and (run.run_dir / "model.weights.h5").exists()
    assert run.cfg.train.epochs == 4 and run.cfg.train.optimizer.learning_rate == 3e-3
    assert len(run.history["loss"]) == 4
    learned("accuracy", run.metrics["accuracy"], at_least=0.85)

    again = api.load(run.run_dir)
    x = next(iter(again.bundle.test.map(lambda x, y: x)))
    np.testing.assert_allclose(again.model.predict(x, verbose=0),
                               run.model.predict(x, verbose=0), atol=1e-6)
    assert api.evaluate(again)["accuracy"] == pytest.approx(run.metrics["accuracy"])
    (published,) = api.export(again, name="from_api", dir=tmp_path / "saved")
    assert published == tmp_path / "saved" / "from_api" / "1"
    assert json.loads((published / "metadata.json").read_text())["metrics"]


def test_api_config_takes_mappings_strings_and_reports_mistakes(tmp_path):
    raw = small_recipe(tmp_path)
    cfg = api.config(raw, ["train.epochs=3", "data.batch_size=16"])
    assert (cfg.train.epochs, cfg.data.batch_size) == (3, 16)
    assert api.config(cfg, {"seed": 7}).seed == 7
    with pytest.raises(UserError, match="train.epochs"):
        api.config(raw, {"train.epochs": -1})
    with pytest.raises(UserError, match="recipe not found"):
        api.config(tmp_path / "missing.yaml")
    with pytest.raises(UserError, match="a mapping or a list"):
        api.config(raw, "train.epochs=3")
    with pytest.raises(UserError, match="api.sweep"):
        api.run({**raw, "sweep": {"seed": [0, 1]}})
