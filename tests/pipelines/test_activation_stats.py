"""Per-layer activation statistics: the lecture's vanishing activations under a small
Gaussian initialization, and the `activations:` stage of a run."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from models.catalog import build_model
from pipelines import run as pipeline
from pipelines.stages.activation_stats import hidden_layers, layer_statistics


def deep_tanh(init: str):
    return build_model(
        "mlp",
        inputs={"input_shape": (64,), "num_classes": 10},
        params={"depth": 6, "width": 100, "activation": "tanh", "kernel_initializer": init},
    )


def test_small_gaussian_activations_vanish_and_xavier_keeps_their_spread():
    x = np.random.default_rng(0).standard_normal((256, 64)).astype(np.float32)
    stats = {}
    for init in ("small_gaussian", "glorot_normal"):
        model = deep_tanh(init)
        stats[init] = layer_statistics(model, hidden_layers(model, "mlp", "dense*_act"), x)
    small, xavier = stats["small_gaussian"]["std"], stats["glorot_normal"]["std"]
    assert len(small) == 6
    # each small layer multiplies the spread by ~0.01 * sqrt(100) = 0.1
    assert small[-1] < 1e-3 * small[0] and all(b < a for a, b in zip(small, small[1:]))
    assert xavier[-1] > 0.3 * xavier[0]


def test_activations_stage_writes_statistics_plot_and_metrics(make_config):
    cfg = make_config(
        model={"name": "mlp", "params": {"depth": 3, "width": 16, "activation": "tanh"}},
        train={"epochs": 1, "backup": False},
        activations={"layers": "dense*_act", "examples": 64},
    )
    run = pipeline.run_all(cfg)
    stats = run.metrics["activation_stats"]
    assert stats["at init"]["layers"] == ["dense1_act", "dense2_act", "dense3_act"]
    assert run.metrics["act_std_last_trained"] == stats["trained"]["std"][-1]
    assert (run.run_dir / "plots" / "activation_statistics.png").exists()
    assert "## Activation statistics per layer" in (run.run_dir / "report.md").read_text()
    with pytest.raises(UserError, match="no layer of 'mlp' matches 'conv\\*'"):
        hidden_layers(run.model, "mlp", "conv*")
