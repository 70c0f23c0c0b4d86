"""Load an exported dlzoo SavedModel and run it on raw inputs (image files, CSV rows).

`ExportedModel` checks inputs against the model's recorded input spec first, so a
wrong shape or dtype gets a message saying what the model expects instead of a
TensorFlow signature-matching error.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from common.errors import UserError
from common.versions import resolve_version
from pipelines.data.text_sources import read_lines
from pipelines.tasks.segment import mask_rows


class ExportedModel:
    """A dlzoo SavedModel plus its metadata.json."""

    def __init__(self, path: Path) -> None:
        self.path = resolve_version(path)
        meta_file = self.path / "metadata.json"
        self.metadata: dict[str, Any] = (
            json.loads(meta_file.read_text()) if meta_file.exists() else {}
        )
        self._serve = tf.saved_model.load(str(self.path)).signatures["serving_default"]
        spec = self._serve.structured_input_signature[1]["inputs"]
        self.input_shape = tuple(spec.shape)  # (None, ...) as the signature has it
        self.input_dtype = spec.dtype.name

    @property
    def class_names(self) -> list[str]:
        return list(self.metadata.get("class_names", []))

    def check(self, x: np.ndarray) -> np.ndarray:
        """Raise a clear UserError unless `x` fits the signature; return it cast."""
        x = np.asarray(x)
        if self.input_dtype == "string":  # text models: one string per example
            if x.ndim != 1:
                raise UserError(f"model {self.path} expects a list of texts, got shape {x.shape}")
            return x.astype(str)
        want = self.input_shape
        fits = x.ndim == len(want) and all(w is None or w == g for w, g in zip(want, x.shape))
        if not fits:
            shape = "(batch, " + ", ".join("any" if w is None else str(w) for w in want[1:]) + ")"
            raise UserError(
                f"model {self.path} expects {self.input_dtype} inputs of shape "
                f"{shape}, got shape {tuple(x.shape)}"
            )
        if self.input_dtype == "uint8" and x.dtype != np.uint8:
            if np.issubdtype(x.dtype, np.floating) and (x.min() < 0 or x.max() > 255):
                raise UserError(
                    f"model {self.path} expects uint8 pixels 0..255, got "
                    f"{x.dtype} values in [{x.min():.3g}, {x.max():.3g}]"
                )
            if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
                raise UserError(f"model {self.path} expects uint8 inputs, got {x.dtype}")
        return x.astype(self.input_dtype)

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        out = self._serve(inputs=tf.constant(self.check(x)))
        return {k: np.asarray(v) for k, v in out.items()}


def load_images(files: list[Path], channels: int) -> np.ndarray:
    """Decode image files to one uint8 batch (resized to the first image's size)."""

    images = []
    size = None
    for file in files:
        try:
            with Image.open(file) as im:
                im = im.convert("L" if channels == 1 else "RGB")
                size = size or im.size
                images.append(np.asarray(im.resize(size)))
        except FileNotFoundError:
            raise UserError(f"no such file: {file}") from None
        except (UnidentifiedImageError, OSError) as err:
            raise UserError(f"cannot read image {file}: {err}") from None
    batch = np.stack(images)
    return batch[..., None] if channels == 1 else batch


def load_csv(file: Path, n_features: int) -> np.ndarray:
    """CSV rows -> features; columns named `label` (if present) are ignored."""
    with open(file, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise UserError(f"{file} has no data rows")
    columns = [c for c in rows[0] if c != "label"]
    if len(columns) != n_features:
        raise UserError(
            f"{file} has {len(columns)} feature columns; the model expects {n_features}"
        )
    try:
        return np.array([[float(r[c]) for c in columns] for r in rows], np.float32)
    except ValueError as err:
        raise UserError(f"{file}: non-numeric feature value: {err}") from None


def predict_files(model: ExportedModel, files: list[Path]) -> list[dict[str, Any]]:
    """Class and confidence per input row, for image files or CSV files."""
    files = [Path(f) for f in files]
    for file in files:
        if not file.exists():
            raise UserError(f"no such file: {file}")
    names = model.class_names
    rows = []
    if all(f.suffix.lower() == ".txt" for f in files):  # one text per non-empty line

        return predict_texts(model, [t for f in files for t in read_lines(f) if t.strip()])
    if all(f.suffix.lower() == ".csv" for f in files):
        if len(model.input_shape) != 2:
            raise UserError(
                f"model {model.path} takes inputs of shape {model.input_shape[1:]} "
                "(images), not CSV rows; give image files"
            )
        for file in files:
            x = load_csv(file, int(np.prod(model.input_shape[1:])))
            rows += _rows(model(x), names, [f"{file}:{i + 1}" for i in range(len(x))])
        return rows
    if len(model.input_shape) != 4:
        raise UserError(f"model {model.path} takes features, not images; give CSV files")
    x = load_images(files, channels=model.input_shape[-1])
    return _rows(model(x), names, [str(f) for f in files])


def predict_texts(model: ExportedModel, texts: list[str]) -> list[dict[str, Any]]:
    """Class (or generated text: translation, continuation, neighbours) per text."""
    if model.input_dtype != "string":
        raise UserError(f"model {model.path} takes {model.input_dtype} inputs, not text; "
                        "give image or CSV files")
    if not texts:
        raise UserError("no text to predict (give --text or non-empty .txt lines)")
    out = model(np.array(texts))
    if "probabilities" in out:
        return _rows(out, model.class_names, texts)
    return [
        {"input": t, "class": o.decode("utf-8") if isinstance(o, bytes) else str(o),
         "confidence": float(c)}
        for t, o, c in zip(texts, out["text"], out["confidence"])
    ]


def _rows(out: dict[str, np.ndarray], names: list[str], labels: list[str]) -> list[dict]:
    if "mask" in out:  # segmentation models: one row per image (pipelines/tasks/segment.py)

        return mask_rows(out, names, labels)
    probs = out["probabilities"]
    ids = probs.argmax(-1)
    return [
        {"input": label, "class": names[i] if names else str(i), "confidence": float(p[i])}
        for label, i, p in zip(labels, ids, probs)
    ]
