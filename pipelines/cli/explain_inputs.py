"""What `dlzoo explain` and `dlzoo attack` work on: the model (an exported SavedModel
or a run folder) and the inputs (a recipe's split, or image files via explain.inputs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from common.errors import UserError
from explain.saved_model import SavedModelScorer
from pipelines.config.load import load_recipe
from pipelines.data.arrays import split_arrays
from pipelines.data.builder import build
from pipelines.run import load_run


@dataclasses.dataclass
class LoadedModel:
    """A model to explain or attack, with what the data would otherwise tell."""

    model: Any  # keras.Model or SavedModelScorer
    input_range: tuple[float, float]
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    name: str
    run: Any = None  # the pipelines Run, for a run folder


def load_model(path: Path) -> LoadedModel:
    """A run folder (`runs/<recipe>/<stamp>`, Keras weights) or an exported model."""
    path = Path(path)
    if (path / "model.weights.h5").exists() and (path / "config.yaml").exists():
        run = load_run(path)
        spec = run.bundle.spec
        return LoadedModel(
            run.model, spec.input_range, spec.class_names, spec.input_shape, run.cfg.name, run
        )
    scorer = SavedModelScorer(path)
    if scorer.input_range is None:
        raise UserError(f"{scorer.path}: metadata.json has no input range; re-export the model")
    return LoadedModel(
        scorer, scorer.input_range, scorer.class_names, scorer.input_shape, scorer.name
    )




def recipe_inputs(recipe: str, overrides: tuple[str, ...], limit: int, split: str = "test"):
    """(x, y, masks, bundle) from a recipe's data: the split, resized like training."""
    cfg = load_recipe(recipe, overrides)
    bundle = build(cfg.data, seed=cfg.seed)
    x, y, masks = split_arrays(bundle, split, limit)
    return x, y, masks, bundle
