"""Function approximation: the `function` source, the `regress` task, Telgarsky's exact
sawtooth network, and the universal-approximation and depth-vs-width recipes end to end
on small settings."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from common.errors import UserError
from models.approximators import sawtooth_net, shallow_net, shallow_sawtooth_net
from pipelines.config.load import load_recipe
from pipelines.data.builder import build
from pipelines.data.functions import function, sawtooth
from pipelines.sweep import run_sweep
from pipelines.tasks.assemble import build_model
from tests.conftest import learned, seeded

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def linear_pieces(values: np.ndarray) -> int:
    """Pieces of a piecewise-linear curve sampled on a grid fine enough for its kinks."""
    slopes = np.round(np.diff(values), 9)
    return 1 + int(np.count_nonzero(slopes[1:] != slopes[:-1]))


def test_the_sawtooth_has_2_to_the_k_pieces_and_the_deep_net_writes_it_exactly():
    x = np.linspace(0.0, 1.0, 2**10 + 1)  # every kink k/2^folds is a grid point
    for folds in (1, 3, 6):
        assert linear_pieces(sawtooth(x, folds)) == 2**folds
        net = sawtooth_net(input_shape=(1,), num_classes=1, folds=folds)
        assert net.count_params() == 6 * folds + 1
        out = np.asarray(net(x[:, None].astype(np.float32)))[:, 0]
        np.testing.assert_allclose(out, sawtooth(x, folds), atol=1e-6)
        wide = shallow_sawtooth_net(input_shape=(1,), num_classes=1, folds=folds)
        assert wide.count_params() == 3 * 2**folds + 1  # one ReLU per corner
        out = np.asarray(wide(x[:, None].astype(np.float32)))[:, 0]
        np.testing.assert_allclose(out, sawtooth(x, folds), atol=1e-3)  # float32 sums of +-128
    # the depth-vs-width recipe's shallow net of equal size: 12 ReLUs, 37 parameters
    shallow = shallow_net(input_shape=(1,), num_classes=1, width=12, activation="relu")
    assert shallow.count_params() == 37 == sawtooth_net(
        input_shape=(1,), num_classes=1, folds=6).count_params()


def test_function_source_gives_random_points_and_a_noise_free_test_grid():
    data = function(target="product", n_train=50, n_val=10, grid=11, noise=0.1)
    assert data.task == "regress" and data.class_names == ["f(x)"]
    train, test = data.splits["train"], data.splits["test"]
    assert train.x.shape == (50, 2) and train.y.shape == (50, 1)
    assert test.x.shape == (121, 2) and test.x.min() == -1.0 and test.x.max() == 1.0
    np.testing.assert_allclose(
        test.y[:, 0], np.sin(np.pi * test.x[:, 0]) * np.sin(np.pi * test.x[:, 1]), atol=1e-6)
    with pytest.raises(UserError, match="data.params.*noise >= 0"):
        function(noise=-1.0)


def test_bad_function_target_and_regress_model_on_class_data_are_clear(make_config):
    with pytest.raises(UserError, match="data.params.target"):
        make_config(data={"source": "function", "params": {"target": "cosine"}})
    cfg = make_config(model={"name": "shallow_net", "params": {"width": 4}})
    with pytest.raises(UserError, match="'regress' model but the data source gives 'classify'"):
        build_model(cfg, build(cfg.data, seed=0).spec)


def fitted_error(width: int, seed: int, steps: int = 1600) -> float:
    """Test MSE on a grid of sin(2 pi x) after `steps` full-batch Adam steps with a
    cosine-decayed rate (the recipe's network, optimizer and schedule, on fewer points)."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (256, 1)).astype(np.float32)
    grid = np.linspace(-1, 1, 401, dtype=np.float32)[:, None]
    net = shallow_net(input_shape=(1,), num_classes=1, width=width)
    rate = keras.optimizers.schedules.CosineDecay(0.03, steps, alpha=0.01)
    net.compile(keras.optimizers.Adam(rate), "mse")
    # one epoch of `steps` batches: no per-epoch overhead
    net.fit(np.tile(x, (steps, 1)), np.sin(2 * np.pi * np.tile(x, (steps, 1))),
            batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return float(np.mean((np.asarray(net(grid))[:, 0] - np.sin(2 * np.pi * grid[:, 0])) ** 2))


def test_one_hidden_layer_error_falls_with_width():
    narrow, wide = fitted_error(2, seeded(0)), fitted_error(64, seeded(0))
    learned("sin: grid mse width 2 / width 64", narrow / wide, at_least=100)


def test_depth_vs_width_recipe_end_to_end(tmp_path):
    cfg = load_recipe(RECIPES / "depth_vs_width.yaml").with_overrides({
        "seed": seeded(0), "runs_dir": str(tmp_path / "runs"), "train.verbose": 0,
        "train.epochs": 3, "data.params.n_train": 300, "data.params.n_val": 50,
        "data.params.grid": 1025,
        "sweep": {"variants": [v for v in load_recipe(RECIPES / "depth_vs_width.yaml")
                               .sweep["variants"] if v["label"] != "deep_trained"]},
    })
    runs = dict(run_sweep(cfg))
    assert runs["deep_exact"].metrics["test_max_error"] < 1e-5  # exact, and training kept it
    learned("depth vs width: shallow_12 mse", runs["shallow_12"].metrics["test_mse"],
            at_least=0.01)
    folder = runs["deep_exact"].run_dir.parent
    claim = json.loads((folder / "claim.json").read_text())
    assert claim["supported"] is True, claim
    assert (folder / "plots" / "error_against_parameters.png").exists()
    report = (folder / "report.md").read_text()
    assert "## Approximation error across the sweep" in report
    assert (runs["shallow_12"].run_dir / "plots" / "fit.png").exists()
