"""Shared test setup: TensorFlow backend, quiet logs, small configs on embedded data.

Tests use embedded data only (scikit-learn digits, generated MNIST-1D, synthetic
sets); no network, no ../shared.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import inspect  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

# `DLZOO_TEST_SEED=k` shifts every seed the learning tests use by k (`make test-robust`
# runs them at seeds 0-4, with oneDNN on and off; tests/MARGINS.md has the minima).
TEST_SEED = int(os.environ.get("DLZOO_TEST_SEED", "0"))


def seeded(offset: int = 0) -> int:
    """A seed for a learning test: `offset` shifted by DLZOO_TEST_SEED."""
    return TEST_SEED + offset


def learned(quantity: str, value: float, *, at_least: float | None = None,
            at_most: float | None = None) -> None:
    """Assert a learned quantity against its bar, and log it for the margins table.

    With DLZOO_MARGINS_LOG set, one JSON line per call goes to that file (test, quantity,
    value, bar, seed, oneDNN setting) before the assertion, so a failing value is
    recorded too. `python -m tests.margins LOG` turns the lines into tests/MARGINS.md.
    """
    value = float(value)
    log = os.environ.get("DLZOO_MARGINS_LOG")
    if log:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        line = {"test": test, "quantity": quantity, "value": value, "at_least": at_least,
                "at_most": at_most, "seed": TEST_SEED,
                "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1")}
        with open(log, "a") as f:
            f.write(json.dumps(line) + "\n")
    if at_least is not None:
        assert value >= at_least, f"{quantity} = {value:.4g}, bar >= {at_least}"
    if at_most is not None:
        assert value <= at_most, f"{quantity} = {value:.4g}, bar <= {at_most}"


def pytest_collection_modifyitems(items) -> None:
    """Mark every test that calls `learned(...)` as `learning` (`pytest -m learning`)."""
    for item in items:
        fn = getattr(item, "function", None)
        try:
            source = inspect.getsource(fn) if fn else ""
        except (OSError, TypeError):
            source = ""
        if "learned(" in source:
            item.add_marker(pytest.mark.learning)


def small_recipe(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """A fast digits recipe writing under `tmp_path`; `sections` replace/extend it."""
    raw: dict[str, Any] = {
        "name": "test",
        "seed": seeded(0),
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
    from pipelines.config.experiment import validate_config

    def make(**sections: Any):
        return validate_config(small_recipe(tmp_path, **sections), source="test")

    return make
