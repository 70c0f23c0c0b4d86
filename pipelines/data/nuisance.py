"""Data with a nuisance parameter z beside each label, for the `pivot` task: the paper's
generated toy set. A split's `y` holds [class id, z] per example (float32), which is
what the pivot model's training step reads; the CSV source's `nuisance_column` gives
users' own tables the same shape (pipelines/data/files.py)."""

from __future__ import annotations

import numpy as np

from pipelines.data.source import SourceData, Split, register_source

# Louppe, Kagan, Cranmer 2017, section 5.1: class 0 ~ N((0, 0), COV0), class 1 ~
# N((1, 1 + z), I), with z ~ N(0, 1) for training.
COV0 = np.array([[1.0, -0.5], [-0.5, 1.0]])


def with_nuisance(labels: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The pivot task's targets: [class id, z] per example."""
    return np.stack([labels.astype(np.float32), z.astype(np.float32)], axis=1)


def gaussians(rng: np.random.Generator, z: np.ndarray) -> Split:
    """Half class 0, half class 1 (the first len(z) // 2 examples are class 0); class 1
    is shifted by its z. Class 0's z is drawn like class 1's but changes nothing."""
    n0 = len(z) // 2
    x0 = rng.multivariate_normal([0.0, 0.0], COV0, n0)
    x1 = rng.normal(size=(len(z) - n0, 2)) + np.stack([np.ones(len(z) - n0), 1.0 + z[n0:]], 1)
    labels = np.r_[np.zeros(n0), np.ones(len(z) - n0)]
    return Split(np.vstack([x0, x1]).astype(np.float32), with_nuisance(labels, z))


@register_source("pivot_gaussians")
def pivot_gaussians(
    *,
    n: int = 20000,
    test_n: int = 30000,
    test_z: list[float] = [-1.0, 0.0, 1.0],  # noqa: B006 (read-only default shown in docs)
    seed: int = 0,
    data_dir=None,
    skip_corrupt=False,
) -> SourceData:
    """The pivot paper's toy: two 2-D Gaussian classes, class 1 shifted by a nuisance z.

    Train (`n` examples) and validation (n / 4) draw z ~ N(0, 1); the test split
    (`test_n`) puts equal shares of each class at each value of `test_z` (the
    paper's figure: Z = -sigma, 0, +sigma), so the classifier's output can be compared
    across fixed values of z. Each split is half class 0, half class 1.
    """
    if n < 4 or test_n < 2 * len(test_z):
        raise ValueError(f"n must be >= 4 and test_n >= 2 per test_z value; received n={n}, "
                         f"test_n={test_n}")
    if not test_z:
        raise ValueError("test_z must list at least one value of z")
    rng = np.random.default_rng(seed)
    train = gaussians(rng, rng.normal(size=n))
    val = gaussians(rng, rng.normal(size=max(4, n // 4)))
    per = test_n // len(test_z) // 2  # per class and z value
    parts = [gaussians(rng, np.full(2 * per, z, np.float64)) for z in test_z]
    test = Split(np.vstack([p.x for p in parts]), np.vstack([p.y for p in parts]))
    return SourceData(
        splits={"train": train, "val": val, "test": test},
        class_names=["0", "1"],
        input_range=(float(train.x.min()), float(train.x.max())),
        task="pivot",
    )
