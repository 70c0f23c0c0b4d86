"""Tiny searches on the embedded digits (fast: small MLPs, 1-2 epochs per trial)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import small_recipe


@pytest.fixture
def tune_recipe(tmp_path):
    """`tune_recipe(tune={...}, **sections)` -> (validated config, recipe file path)."""
    from pipelines.config.load import load_recipe

    def make(tune: dict[str, Any], **sections: Any):
        raw = small_recipe(tmp_path, tune=tune, **sections)
        path = Path(tmp_path) / "search.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        return load_recipe(path), path

    return make
