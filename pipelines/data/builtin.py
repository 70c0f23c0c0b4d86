"""Built-in offline datasets: nothing is downloaded, so tests and demos run anywhere."""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from pipelines.data.source import SourceData, Split, register_source


@register_source("digits")
def digits(*, data_dir=None, skip_corrupt=False) -> SourceData:
    """scikit-learn's 1,797 handwritten digits, 8x8 grey, values 0..16."""
    from sklearn.datasets import load_digits  # heavy: only when the source is read

    bunch = load_digits()
    x = bunch.images.astype(np.uint8)[..., None]
    y = bunch.target.astype(np.int64)
    return SourceData(
        splits={"train": Split(x, y)},
        class_names=[str(c) for c in range(10)],
        input_range=(0.0, 16.0),
    )


@register_source("xor")
def xor(
    *, n_per_corner: int = 50, noise: float = 0.1, seed: int = 0, data_dir=None, skip_corrupt=False
) -> SourceData:
    """The XOR problem: points around the four corners of the unit square."""
    rng = np.random.default_rng(seed)

    def sample(n: int) -> Split:
        corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
        which = np.repeat(np.arange(4), n)
        x = corners[which] + rng.normal(0, noise, size=(4 * n, 2)).astype(np.float32)
        y = (corners[which, 0] != corners[which, 1]).astype(np.int64)
        return Split(x.astype(np.float32), y)

    return SourceData(
        splits={"train": sample(n_per_corner), "test": sample(n_per_corner)},
        class_names=["0", "1"],
        input_range=(-1.0, 2.0),
    )


@functools.lru_cache(maxsize=2)
def _mnist1d(seed: int) -> dict:
    # make_dataset generates offline; mnist1d's get_dataset() tries the network first.
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    return make_dataset(args)


@register_source("mnist1d")
def mnist1d(
    *, as_sequence: bool = False, seed: int = 42, data_dir=None, skip_corrupt=False
) -> SourceData:
    """MNIST-1D (Greydanus 2020), generated offline: 4,000 train / 1,000 test, length 40."""
    d = _mnist1d(seed)
    shape = (-1, 40, 1) if as_sequence else (-1, 40)
    x, x_test = (d[k].astype(np.float32).reshape(shape) for k in ("x", "x_test"))
    lo, hi = float(min(x.min(), x_test.min())), float(max(x.max(), x_test.max()))
    return SourceData(
        splits={
            "train": Split(x, d["y"].astype(np.int64)),
            "test": Split(x_test, d["y_test"].astype(np.int64)),
        },
        class_names=[str(c) for c in range(10)],
        input_range=(lo, hi),
    )


SHAPE_NAMES = ["circle", "square", "triangle"]


@register_source("shapes")
def shapes(
    *,
    n: int = 1200,
    size: int = 32,
    channels: Literal[1, 3] = 1,
    task: Literal["classify", "segment"] = "classify",
    noise: float = 0.05,
    seed: int = 0,
    data_dir=None,
    skip_corrupt=False,
) -> SourceData:
    """Synthetic circles/squares/triangles on a noisy background, with object masks.

    For `task: classify` y is the shape id; for `task: segment` y is the per-pixel
    mask (0 background, 1 + shape id inside the object). The binary object masks are
    kept as `extras["mask"]` either way, for checking where explanations point.
    """
    from skimage.draw import disk, polygon  # heavy: only when the source is read

    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size, channels), np.float32)
    masks = np.zeros((n, size, size), np.uint8)
    labels = rng.integers(0, len(SHAPE_NAMES), n)
    for i, label in enumerate(labels):
        radius = rng.uniform(0.15, 0.3) * size
        cy, cx = rng.uniform(radius + 1, size - radius - 1, 2)
        if label == 0:
            rr, cc = disk((cy, cx), radius, shape=(size, size))
        elif label == 1:
            half = radius * 0.85
            rr, cc = polygon(
                [cy - half, cy - half, cy + half, cy + half],
                [cx - half, cx + half, cx + half, cx - half],
                (size, size),
            )
        else:
            rr, cc = polygon(
                [cy - radius, cy + radius, cy + radius],
                [cx, cx - radius, cx + radius],
                (size, size),
            )
        masks[i, rr, cc] = 1
        colour = rng.uniform(0.6, 1.0, channels)
        background = rng.uniform(0.0, 0.3, channels)
        images[i] = background
        images[i, rr, cc] = colour
    images += rng.normal(0, noise, images.shape)
    x = (np.clip(images, 0, 1) * 255).round().astype(np.uint8)
    y = labels.astype(np.int64)
    if task == "segment":
        y = (masks * (labels[:, None, None] + 1)).astype(np.int64)
        names = ["background", *SHAPE_NAMES]
    else:
        names = list(SHAPE_NAMES)
    return SourceData(
        splits={"train": Split(x, y, extras={"mask": masks})},
        class_names=names,
        input_range=(0.0, 255.0),
        task=task,
    )
