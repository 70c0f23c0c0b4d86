"""Where explained and attacked inputs come from: a run's data splits, a recipe's
test split, or image files; and the model: an exported SavedModel or a run folder.
"""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def split_arrays(bundle: Any, split: str, limit: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """Up to `limit` model-ready inputs (raw range, resized), class ids and object
    masks (resized to the input, when the data has them), in the split's order."""
    xs, ys, n = [], [], 0
    for x, y in bundle.split(split):
        xs.append(np.asarray(x, np.float32))
        ys.append(np.asarray(y))
        n += len(xs[-1])
        if n >= limit:
            break
    if not xs:
        raise UserError(f"the {split} split is empty: nothing to explain or attack")
    x, y = np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
    y = y.argmax(-1) if y.ndim == 2 else y
    raw = bundle.raw.get(split)
    masks = None if raw is None else raw.extras.get("mask")
    if masks is not None:
        masks = _resize_masks(np.asarray(masks)[: len(x)], x.shape[1:3])
    return x, y.astype(np.int64), masks


def _resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if masks.shape[1:3] == tuple(size):
        return masks.astype(bool)
    import tensorflow as tf

    resized = tf.image.resize(masks[..., None].astype(np.float32), size, method="nearest")
    return np.asarray(resized)[..., 0] > 0


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
        from pipelines.run import load_run

        run = load_run(path)
        spec = run.bundle.spec
        return LoadedModel(
            run.model, spec.input_range, spec.class_names, spec.input_shape, run.cfg.name, run
        )
    from explain.saved_model import SavedModelScorer

    scorer = SavedModelScorer(path)
    if scorer.input_range is None:
        raise UserError(f"{scorer.path}: metadata.json has no input range; re-export the model")
    return LoadedModel(
        scorer, scorer.input_range, scorer.class_names, scorer.input_shape, scorer.name
    )


def expand_files(items: tuple[str, ...] | list[str]) -> list[Path]:
    """Files, folders (their images) and glob patterns -> image files, sorted."""
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(ch in item for ch in "*?["):
            files += sorted(Path(p) for p in glob.glob(item))
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"no such file: {item}")
    if not files:
        raise UserError(f"no image files in {', '.join(items)}")
    return files


def load_image_files(
    files: list[Path], input_shape: tuple[int, ...], input_range: tuple[float, float], resize: bool
) -> np.ndarray:
    """8-bit image files -> a batch in the model's raw range.

    Pixels 0..255 are mapped onto the model's raw range (0..16 for a digits model).

    Raises:
        UserError: unreadable file, or a size other than the model's without `resize`.
    """
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) != 3:
        raise UserError(f"the model takes inputs of shape {input_shape}, not images")
    h, w, channels = input_shape
    images = []
    for file in files:
        try:
            with Image.open(file) as im:
                im = im.convert("L" if channels == 1 else "RGB")
                if im.size != (w, h):
                    if not resize:
                        raise UserError(
                            f"{file} is {im.size[1]}x{im.size[0]}; the model takes {h}x{w} "
                            "images (pass --resize to resize)"
                        )
                    im = im.resize((w, h), Image.BILINEAR)
                images.append(np.asarray(im, np.float32))
        except (UnidentifiedImageError, OSError) as err:
            raise UserError(f"cannot read image {file}: {err}") from None
    x = np.stack(images)
    x = x[..., None] if channels == 1 else x
    lo, hi = input_range
    return (lo + x / 255.0 * (hi - lo)).astype(np.float32)


def recipe_inputs(recipe: str, overrides: tuple[str, ...], limit: int, split: str = "test"):
    """(x, y, masks, bundle) from a recipe's data: the split, resized like training."""
    from pipelines.config.experiment import load_recipe
    from pipelines.data.builder import build
    from pipelines.run import resolve

    cfg = resolve(load_recipe(recipe, overrides))
    bundle = build(cfg.data, seed=cfg.seed)
    x, y, masks = split_arrays(bundle, split, limit)
    return x, y, masks, bundle
