"""Generated two-dimensional classification sets, for drawing decision boundaries and
linear regions over the square [-1, 1]^2 (nothing is downloaded)."""

from __future__ import annotations

import numpy as np

from pipelines.data.source import SourceData, Split, register_source


@register_source("separable")
def separable(
    *,
    n: int = 200,
    margin: float = 0.1,
    offset: float = 0.2,
    seed: int = 0,
    data_dir=None,
    skip_corrupt=False,
) -> SourceData:
    """Linearly separable points in [-1, 1]^2 with a guaranteed margin.

    A line u.x + c = 0 (u a random unit vector, c = `offset`) labels uniform points
    by its side; points closer to it than `margin` are resampled, so the set (every
    split) is separated by that line with geometric margin >= `margin`. The split
    sizes are n (train), n / 4 (val) and n / 2 (test).
    """
    if margin <= 0 or margin >= 1:
        raise ValueError(f"margin must be in (0, 1); received margin={margin}")
    if abs(offset) + margin >= 1:
        raise ValueError(f"|offset| + margin must be < 1; received offset={offset}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])

    def sample(count: int) -> Split:
        points = np.empty((0, 2))
        while len(points) < count:  # rejection: keep only points outside the margin band
            candidates = rng.uniform(-1, 1, size=(4 * count, 2))
            points = np.vstack([points, candidates[np.abs(candidates @ normal + offset) >= margin]])
        x = points[:count].astype(np.float32)
        return Split(x, (x @ normal + offset > 0).astype(np.int64))

    return SourceData(
        splits={"train": sample(n), "val": sample(max(2, n // 4)), "test": sample(max(2, n // 2))},
        class_names=["-1", "+1"],
        input_range=(-1.0, 1.0),
    )


@register_source("circles")
def circles(
    *, n: int = 400, noise: float = 0.05, factor: float = 0.5, seed: int = 0,
    data_dir=None, skip_corrupt=False,
) -> SourceData:
    """scikit-learn's two concentric circles (a curved boundary: many linear pieces)."""
    from sklearn.datasets import make_circles  # heavy: only when the source is read

    def sample(count: int, offset: int) -> Split:
        x, y = make_circles(count, noise=noise, factor=factor, random_state=seed + offset)
        return Split(x.astype(np.float32), y.astype(np.int64))

    return SourceData(
        splits={"train": sample(n, 0), "val": sample(max(4, n // 4), 1),
                "test": sample(max(4, n // 2), 2)},
        class_names=["outer", "inner"],
        input_range=(-1.0, 1.0),
    )
