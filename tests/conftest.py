"""Shared test setup: TensorFlow backend, quiet logs, small configs on embedded data.

Tests use embedded data only (scikit-learn digits, generated MNIST-1D, synthetic
sets); no network, no ../shared.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402


def small_recipe(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """A fast digits recipe writing under `tmp_path`; `sections` replace/extend it."""
    raw: dict[str, Any] = {
        "name": "test",
        "seed": 0,
        "runs_dir": str(tmp_path / "runs"),
        "data": {"source": "digits", "batch_size": 64},
        "model": {"name": "mlp", "params": {"width": 64, "depth": 1}},
        "train": {"epochs": 2, "tensorboard": False, "verbose": 0},
        "export": {"enabled": False, "dir": str(tmp_path / "saved_models")},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


@pytest.fixture
def make_config(tmp_path):
    """`make_config(model={...}, train={...})` -> a validated ExperimentConfig."""
    from pipelines.config import validate_config

    def make(**sections: Any):
        return validate_config(small_recipe(tmp_path, **sections), source="test")

    return make
