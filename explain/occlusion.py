"""Occlusion sensitivity (Zeiler & Fergus 2014, "Visualizing and understanding
convolutional networks", arXiv:1311.2901).

Slide a patch over the input and record how much the target class probability drops;
each pixel gets the mean drop of the patches covering it. tf-explain's
`OcclusionSensitivity` is replaced: it scores `1 - model output` (right only for
softmax outputs, dlzoo models return logits), tiles without overlap (no stride), fills
with a fixed grey meant for 0..255 images, and prints a Keras progress bar per image
through `model.predict`. Works on images (H, W, C) and on 1-D inputs (L,) or (L, C).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.adapter import as_scorer


def _fill_value(x: np.ndarray, fill: str | float, input_range: tuple[float, float]) -> float:
    if isinstance(fill, (int, float)):
        return float(fill)
    lo, hi = input_range
    return {"mean": float(x.mean()), "low": lo, "mid": (lo + hi) / 2}[fill]


def _windows(length: int, patch: int, stride: int) -> list[int]:
    starts = list(range(0, max(length - patch, 0) + 1, stride))
    if starts[-1] + patch < length:  # cover the border too
        starts.append(length - patch)
    return starts


def occlusion(
    model: Any,
    inputs: np.ndarray,
    *,
    target: Any = None,
    patch: int = 4,
    stride: int | None = None,
    fill: str | float = "mean",
    batch_size: int = 256,
    **kw: Any,
) -> np.ndarray:
    """Probability drop maps: (batch, H, W) for images, (batch, L) for 1-D inputs."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    targets = scorer.targets(x, target)
    spatial = x.shape[1:3] if scorer.is_image else (1, x.shape[1])
    patch_h, patch_w = (min(patch, spatial[0]), min(patch, spatial[1]))
    stride = stride or max(1, patch // 2)
    rows = _windows(spatial[0], patch_h, stride)
    cols = _windows(spatial[1], patch_w, stride)
    boxes = [(r, c) for r in rows for c in cols]
    maps = np.zeros((len(x), *spatial), np.float32)
    chunk = max(1, 4096 // len(boxes))  # images whose occluded copies are scored together
    for i in range(0, len(x), chunk):
        maps[i : i + chunk] = _chunk_maps(
            scorer,
            x[i : i + chunk],
            targets[i : i + chunk],
            boxes,
            (patch_h, patch_w),
            spatial,
            fill,
            batch_size,
        )
    return maps if scorer.is_image else maps[:, 0]


def _chunk_maps(scorer, x, targets, boxes, size, spatial, fill, batch_size) -> np.ndarray:
    """Occlusion maps of a few images, every occluded copy predicted in one go."""
    ph, pw = size
    view = x.reshape(len(x), spatial[0], spatial[1], -1)
    values = np.array([_fill_value(img, fill, scorer.range()) for img in x], np.float32)
    copies = np.repeat(view[None], len(boxes), axis=0)  # (boxes, n, h, w, c)
    for k, (r, c) in enumerate(boxes):
        copies[k, :, r : r + ph, c : c + pw] = values[:, None, None, None]
    batch = np.concatenate([x, copies.reshape(-1, *x.shape[1:])])
    probs = scorer.probabilities(batch, batch_size)
    rows = np.arange(len(x))
    base = probs[: len(x)][rows, targets]
    occluded = probs[len(x) :].reshape(len(boxes), len(x), -1)[:, rows, targets]
    total = np.zeros((len(x), *spatial), np.float32)
    count = np.zeros(spatial, np.float32)
    for k, (r, c) in enumerate(boxes):
        total[:, r : r + ph, c : c + pw] += (base - occluded[k])[:, None, None]
        count[r : r + ph, c : c + pw] += 1
    return total / np.maximum(count, 1)
