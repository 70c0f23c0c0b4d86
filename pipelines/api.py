"""dlzoo from Python: what the `dlzoo` command does, for pipeline scripts and notebooks.

    from pipelines import api

    run = api.run("recipes/lenet5_digits.yaml", overrides={"train.epochs": 5})
    print(run.metrics["accuracy"], run.run_dir)   # run.model is the trained keras.Model
    again = api.load(run.run_dir)                 # a finished run, rebuilt from its folder
    api.export(again, name="digits")              # saved_models/digits/<version>

A recipe is a YAML path, a mapping with the recipe's sections, or an ExperimentConfig;
overrides are `{"key.path": value}` or `["key.path=value", ...]` (the CLI's `--set`).
Mistakes a user can make raise `common.errors.UserError` with one message (the CLI
prints it and exits 2). The `dlzoo` commands run, train, evaluate and export are thin
layers over these functions; `embedding_bias` analyses a word-vector file without
training (`dlzoo embedding-bias`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from common.errors import UserError
from pipelines import run as pipeline
from pipelines.config.experiment import ExperimentConfig, set_path, validate_config
from pipelines.config.load import load_recipe, parse_override
from pipelines.run import Run
from pipelines.stages.embedding_bias import Analysis, analyse_file, bias_settings
from pipelines.sweep import run_sweep

Recipe = str | Path | Mapping[str, Any] | ExperimentConfig
Overrides = Mapping[str, Any] | Iterable[str] | None

__all__ = ["Run", "config", "embedding_bias", "evaluate", "export", "load", "run", "sweep",
           "train"]


def config(recipe: Recipe, overrides: Overrides = None) -> ExperimentConfig:
    """The validated config of `recipe` with `overrides` applied (resolved once, here)."""
    items = _override_items(overrides)
    if isinstance(recipe, ExperimentConfig):
        return recipe.with_overrides(dict(items)) if items else recipe
    if isinstance(recipe, Mapping):
        raw = copy.deepcopy(dict(recipe))
        raw.setdefault("name", "recipe")
        for key, value in items:
            set_path(raw, key, value)
        return validate_config(raw, source=f"recipe {raw['name']!r}")
    # a file: the overrides go through the same `--set` path as the CLI's
    return load_recipe(recipe, [f"{key}={_yaml_value(value)}" for key, value in items])


def run(recipe: Recipe, overrides: Overrides = None, *, run_dir: str | Path | None = None,
        overwrite: bool = False) -> Run:
    """Every stage the recipe names (train, evaluate, explain, attack, export): `dlzoo run`.

    Returns the finished Run: `metrics`, `history`, `run_dir`, the trained `model`.
    A recipe with a `sweep:` section trains several runs: use `sweep`.
    """
    cfg = config(recipe, overrides)
    if cfg.sweep:
        raise UserError(f"recipe {cfg.name!r} has a sweep: section; use api.sweep, which "
                        "returns one run per variant")
    return pipeline.run_all(cfg, _path(run_dir), overwrite=overwrite)


def sweep(recipe: Recipe, overrides: Overrides = None, *,
          run_dir: str | Path | None = None) -> list[tuple[str, Run]]:
    """Each combination of the recipe's `sweep:` values as its own run: (label, Run)."""
    return run_sweep(config(recipe, overrides), _path(run_dir))


def train(recipe: Recipe, overrides: Overrides = None, *, run_dir: str | Path | None = None,
          overwrite: bool = False) -> Run:
    """Train only (`dlzoo train`); an interrupted `run_dir` resumes at its next epoch."""
    return pipeline.train(config(recipe, overrides), _path(run_dir), overwrite=overwrite)


def load(run_dir: str | Path) -> Run:
    """A finished run rebuilt from its folder: config, data, trained model, history,
    metrics."""
    return pipeline.load_run(Path(run_dir))


def evaluate(run: Run) -> dict[str, Any]:
    """Test-split metrics (written to metrics.json and the report, and returned)."""
    return pipeline.evaluate(run)


def export(run: Run, *, name: str | None = None, dir: str | Path | None = None,
           formats: Iterable[str] | None = None, quantize: str | None = None) -> list[Path]:
    """Export as `<dir>/<name>/<version>` (defaults: the recipe's `export` section),
    reload-checked in a fresh process; returns the published folders.

    `formats` adds `tflite` / `onnx` files beside the SavedModel (each parity-checked,
    described in metadata.json); `quantize` (`dynamic`, `int8`) applies to tflite.
    """
    changes = {"export.name": name, "export.dir": None if dir is None else str(dir),
               "export.formats": None if formats is None else list(formats),
               "export.quantize": quantize}
    changes = {key: value for key, value in changes.items() if value is not None}
    if changes:  # validated like the recipe (a name must be one folder name)
        run.cfg = run.cfg.with_overrides(changes)
    return pipeline.export(run)


def embedding_bias(file: str | Path, recipe: Recipe | None = None, overrides: Overrides = None,
                   *, out: str | Path | None = None) -> Analysis:
    """Bolukbasi et al.'s bias scores and hard debiasing of a word2vec text file, without
    training (`dlzoo embedding-bias FILE`): report.md, metrics.json, figures and the
    debiased vectors in `out` (default runs/embedding_bias/<timestamp>).

    The settings are the recipe's `embedding_bias:` section (the defaults without a
    recipe, or when it has none), with `embedding_bias.<key>` overrides.
    """
    items = _override_items(overrides)
    cfg = config(recipe, dict(items)) if recipe is not None else None
    return analyse_file(Path(file), bias_settings(cfg, items), _path(out))


def _override_items(overrides: Overrides) -> list[tuple[str, Any]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    if isinstance(overrides, str):
        raise UserError(f"overrides: a mapping or a list of 'key.path=value' strings, got the "
                        f"string {overrides!r}")
    return [parse_override(item) for item in overrides]


def _yaml_value(value: Any) -> str:
    """`value` as the YAML text `--set` reads back to the same value (1e-05 stays a float)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9)
    return text.removesuffix("\n").removesuffix("\n...")


def _path(run_dir: str | Path | None) -> Path | None:
    return None if run_dir is None else Path(run_dir)
