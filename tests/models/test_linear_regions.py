"""The linear-region counter (models/linear_regions.py) on networks whose count is known,
the bounds' formulas, and the linear_regions recipe and config section."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from common.errors import UserError
from models import linear_regions as lr
from models.dense import mlp
from models.region_constructions import folding_network, tangent_lines
from pipelines.cli.main import main
from pipelines.config.load import load_recipe
from pipelines.stages.linear_regions import hidden_widths
from tests.conftest import learned, seeded

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "linear_regions.yaml"


@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_k_lines_in_general_position_make_one_plus_k_plus_k_choose_2_regions(k):
    net = tangent_lines(k)
    count = lr.count_regions(net, lr.square_grid(-1, 1, 400), ["dense1"])
    assert count == 1 + k + k * (k - 1) // 2
    assert count == lr.arrangement_regions(*net.get_layer("dense1").get_weights(), -1, 1)


@pytest.mark.parametrize(("depth", "regions"), [(1, 11), (2, 44), (3, 176)])
def test_montufar_folding_network_has_its_count(depth, regions):
    net = folding_network(depth)
    grid = lr.square_grid(0, 1, 400)
    assert lr.count_regions(net, grid, lr.hidden_relu_layers(net)) == regions
    assert lr.deep_construction_regions([4] * depth, 2) == regions


def test_the_bounds_of_the_lecture():
    assert lr.shallow_max_regions(8, 2) == 37  # 1 + 8 + 28
    assert lr.deep_construction_regions([4, 4], 2) == 44  # 2^2 * 11
    assert lr.deep_max_regions([8], 2) == 37  # one layer: Serra's bound is Zaslavsky's
    assert lr.deep_max_regions([4, 4], 2) == 121  # 11 * 11
    # j1 = 0, 1, 2 (C(3, j1) = 1, 3, 3); j2 <= min(2, 3 - j1): 7, 7, then 1 + 3
    assert lr.deep_max_regions([3, 3], 2) == 1 * 7 + 3 * 7 + 3 * 4


def test_a_grid_never_overcounts_a_random_layer():
    rng = np.random.default_rng(0)
    net = lr.relu_stack(2, [6])
    coarse, fine = lr.square_grid(-1, 1, 40), lr.square_grid(-1, 1, 300)
    for _ in range(10):
        lr.reinitialize(net, ["dense1"], rng, bias_std=0.5)
        exact = lr.arrangement_regions(*net.get_layer("dense1").get_weights(), -1, 1)
        assert lr.count_regions(net, coarse, ["dense1"]) <= lr.count_regions(
            net, fine, ["dense1"]) <= exact


def test_linear_regions_recipe_supports_its_claim(tmp_path):
    variants = ("[{label: shallow_8, model.params: {width: [8]}}, "
                "{label: deep_4x4, model.params: {width: [4, 4]}}]")
    try:
        main(["run", str(RECIPE), "--set", f"sweep.variants={variants}",
              "--set", "train.epochs=3", "--set", "linear_regions.grid=100",
              "--set", "linear_regions.inits=120", "--set", f"runs_dir={tmp_path}",
              "--set", f"seed={seeded(0)}"])
    except SystemExit as exit_:
        assert not exit_.code
    claim = json.loads(next(tmp_path.glob("linear_regions/*/claim.json")).read_text())
    values = claim["values"]
    assert values["regions_hand_built['deep_4x4']"] == 44
    folders = sorted(tmp_path.glob("linear_regions/*/*/metrics.json"))
    rows = [json.loads(p.read_text()) for p in folders]
    assert len(rows) == 2
    for metrics in rows:  # a grid count never exceeds the true count, hence the bound
        assert metrics["regions_init_max"] <= metrics["regions_upper_bound"]
        assert metrics["regions_trained"] <= metrics["regions_upper_bound"]
    learned("deep 4x4: max regions over 120 inits - 37",
            values["regions_init_max['deep_4x4']"] - 37, at_least=1)
    assert claim["supported"] is True


def test_a_bad_linear_regions_value_is_a_clear_error():
    with pytest.raises(UserError, match="linear_regions.square"):
        load_recipe(RECIPE, ["linear_regions.square=[1, -1]"])
    with pytest.raises(UserError, match="linear_regions.inits"):
        load_recipe(RECIPE, ["linear_regions.inits=0"])
    with pytest.raises(UserError, match="learning_rule.svm_c"):
        load_recipe(ROOT / "recipes" / "learning_rules.yaml", ["learning_rule.svm_c=-1"])


def test_the_stage_refuses_networks_it_cannot_count():
    def run(activation: str, input_shape: tuple[int, ...]):  # the three fields it reads
        return SimpleNamespace(
            model=mlp(input_shape=input_shape, num_classes=2, width=[4, 4],
                      activation=activation),
            cfg=SimpleNamespace(model=SimpleNamespace(name="mlp",
                                                      params={"activation": activation})),
            bundle=SimpleNamespace(spec=SimpleNamespace(input_shape=input_shape)))

    assert hidden_widths(run("relu", (2,))) == (["dense1", "dense2"], [4, 4])
    with pytest.raises(UserError, match="ReLU networks"):
        hidden_widths(run("tanh", (2,)))
    with pytest.raises(UserError, match="needs 2-D inputs"):
        hidden_widths(run("relu", (3,)))
