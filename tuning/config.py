"""What a `tune:` section needs besides its shape (pipelines/config/tune.py): the
built-in spaces it names exist, and every range end and choice, applied to the recipe,
gives a valid recipe. `dlzoo tune` calls `check_search` right after loading, so a bad
path or value fails with `tune.params.<path>` before any training.

A trial is the recipe with the sampled values applied (`cfg.with_overrides`), so each
trial is validated like a recipe.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pydantic

from common.errors import UserError
from pipelines.config.experiment import ExperimentConfig, format_errors, set_path, validate_config
from pipelines.config.load import load_recipe
from pipelines.config.tune import TuneConfig
from tuning.spaces import SPACES, space_models


def load_search(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> ExperimentConfig:
    """`load_recipe` plus `check_search` (what `dlzoo tune` reads)."""
    return check_search(load_recipe(path, overrides))


def validate_search(raw: dict[str, Any], *, source: str) -> ExperimentConfig:
    """`validate_config` plus `check_search`, for a recipe given as a mapping."""
    return check_search(validate_config(raw, source=source))


def check_search(cfg: ExperimentConfig) -> ExperimentConfig:
    """`cfg` itself when its `tune:` section can run; else a UserError naming the key."""
    tune = cfg.tune
    if tune is None:
        raise UserError(f"recipe {cfg.name!r} has no `tune:` section (what to search)")
    problems = [f"  tune.space: {p}" for p in _unknown_spaces(tune)]
    if not problems:
        problems = [f"  {p}" for p in _against_recipe(cfg, tune)]
    if problems:
        raise UserError(f"recipe {cfg.name!r}: invalid config\n" + "\n".join(problems))
    return cfg


def _unknown_spaces(tune: TuneConfig) -> list[str]:
    return [
        f"unknown search space {name!r}; known: {', '.join(SPACES.names())}"
        for name in tune.space
        if name not in SPACES
    ]


def _against_recipe(cfg: ExperimentConfig, tune: TuneConfig) -> list[str]:
    """Apply every candidate value to the recipe once: a bad path or value is named.

    Model parameters are checked against every model family the search may pick (a
    `model.name` choice, or the named spaces' models).
    """
    if cfg.sweep:
        return ["tune: a recipe cannot both sweep and tune; drop `sweep:`"]
    base = cfg.model_dump(mode="json")
    base.pop("tune")
    for path, spec in tune.params.items():
        families = _families(tune) if path.startswith("model.params.") else [None]
        for value in spec.candidates():
            for family in families:
                problem = _try(base, path, value, family)
                if problem:
                    where = f" (model {family})" if family else ""
                    return [
                        f"tune.params.{path}: {value!r} does not fit the recipe{where}: {problem}"
                    ]
    return []


def _families(tune: TuneConfig) -> list[str | None]:
    """The model names a search may build (None: the recipe's own model)."""
    if "model.name" in tune.params:
        return tune.params["model.name"].candidates()
    named = [m for name in tune.space for m in space_models(name)]
    return named or [None]


def _try(base: dict[str, Any], path: str, value: Any, family: str | None) -> str | None:
    """None if the recipe with `path = value` validates, else the first problem."""
    raw = copy.deepcopy(base)
    if path == "model.name" or family:  # another family: the recipe's params do not apply
        raw["model"] = {"name": family or value, "params": {}}
    try:
        set_path(raw, path, value)
        ExperimentConfig.model_validate(raw)
    except UserError as err:
        return str(err)
    except pydantic.ValidationError as err:
        return format_errors(err).strip().replace("\n", ";")
    return None
