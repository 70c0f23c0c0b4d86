"""A split of a built bundle as numpy arrays, for stages that work on arrays (explain,
attack, CAMs, generative evaluation) rather than on `tf.data` batches."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from common.errors import UserError
from pipelines.data.bundle import DataBundle


def split_arrays(
    bundle: DataBundle, split: str, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Up to `limit` inputs (raw range, resized as for training), their labels (class
    ids when the bundle carries one-hot labels) and the object masks resized to the
    input (when the data has them), in the split's order.

    Raises:
        UserError: the split is empty.
    """
    xs, ys, n = [], [], 0
    for x, y in bundle.split(split):
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        n += len(xs[-1])
        if limit is not None and n >= limit:
            break
    if not xs:
        raise UserError(f"the {split} split is empty")
    x, y = np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
    if bundle.spec.label_mode == "onehot":
        y = y.argmax(-1)
    raw = bundle.raw.get(split)
    masks = None if raw is None else raw.extras.get("mask")
    if masks is not None:
        masks = _resize_masks(np.asarray(masks)[: len(x)], x.shape[1:3])
    return x, y, masks


def _resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if masks.shape[1:3] == tuple(size):
        return masks.astype(bool)
    resized = tf.image.resize(masks[..., None].astype(np.float32), size, method="nearest")
    return np.asarray(resized)[..., 0] > 0
