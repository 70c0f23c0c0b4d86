"""The `function` source: a known target y = f(x) on an interval or a square, for
regression (the `regress` task): function approximation, universal approximation
(Cybenko 1989) and depth against width (Telgarsky 2016).

Training and validation inputs are uniform random points; the test split is a fine
regular grid, so the test error is the approximation error over the whole domain
(its mean square and its maximum). The targets:

* `sin`: sin(2 pi x) on [-1, 1] (two periods);
* `step`: the unit step 1[x >= 0] on [-1, 1] (discontinuous: the mean-square error
  falls with width, the maximum error cannot, since each unit is continuous);
* `bump`: exp(-4 ||x||^2) on [-1, 1]^2;
* `product`: sin(pi x1) sin(pi x2) on [-1, 1]^2;
* `sawtooth`: Telgarsky's k-fold composed tent map t^k on [0, 1], t(x) = 2 min(x, 1 - x),
  with 2^(k-1) teeth (2^k linear pieces), `folds: k`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from common.errors import UserError
from pipelines.data.source import SourceData, Split, register_source

Target = Literal["sin", "step", "bump", "product", "sawtooth"]


def tent(x: np.ndarray) -> np.ndarray:
    """t(x) = 2 min(x, 1 - x): [0, 1] onto [0, 1], up then down."""
    return 2.0 * np.minimum(x, 1.0 - x)


def sawtooth(x: np.ndarray, folds: int) -> np.ndarray:
    """t composed `folds` times: 2^folds linear pieces on [0, 1]."""
    for _ in range(folds):
        x = tent(x)
    return x


def target_function(target: str, folds: int = 4) -> tuple[Callable, int, tuple[float, float]]:
    """(f: (n, dim) -> (n,), dim, the domain's interval per axis)."""
    targets: dict[str, tuple[Callable, int, tuple[float, float]]] = {
        "sin": (lambda x: np.sin(2 * np.pi * x[:, 0]), 1, (-1.0, 1.0)),
        "step": (lambda x: (x[:, 0] >= 0).astype(np.float64), 1, (-1.0, 1.0)),
        "bump": (lambda x: np.exp(-4.0 * np.sum(x**2, axis=1)), 2, (-1.0, 1.0)),
        "product": (lambda x: np.sin(np.pi * x[:, 0]) * np.sin(np.pi * x[:, 1]), 2, (-1.0, 1.0)),
        "sawtooth": (lambda x: sawtooth(x[:, 0], folds), 1, (0.0, 1.0)),
    }
    return targets[target]


def grid_points(dim: int, lo: float, hi: float, per_axis: int) -> np.ndarray:
    axes = [np.linspace(lo, hi, per_axis)] * dim
    return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="xy")], axis=1)


@register_source("function")
def function(
    *,
    target: Target = "sin",
    n_train: int = 1000,
    n_val: int = 200,
    grid: int | None = None,
    noise: float = 0.0,
    folds: int = 4,
    seed: int = 0,
    data_dir=None,
    skip_corrupt=False,
) -> SourceData:
    """A known target function on random points (train, val) and a fine grid (test).

    Args:
        target: sin, step (1-D on [-1, 1]); bump, product (2-D on [-1, 1]^2); sawtooth
            (1-D on [0, 1], `folds` compositions of the tent map).
        grid: test points per axis (default 2001 in 1-D, 101 in 2-D).
        noise: standard deviation of Gaussian noise on the training and validation
            targets (the test grid is always noise-free).
    """
    if n_train < 1 or n_val < 1 or noise < 0 or folds < 1 or (grid is not None and grid < 2):
        raise UserError(
            "data.params (source function): n_train, n_val and folds must be >= 1, grid >= 2 "
            f"and noise >= 0; got n_train={n_train}, n_val={n_val}, folds={folds}, "
            f"grid={grid}, noise={noise}"
        )
    f, dim, (lo, hi) = target_function(target, folds)
    rng = np.random.default_rng(seed)

    def sample(n: int, x: np.ndarray | None = None, noisy: bool = True) -> Split:
        x = rng.uniform(lo, hi, size=(n, dim)) if x is None else x
        y = f(x) + (rng.normal(0.0, noise, len(x)) if noisy and noise else 0.0)
        return Split(x.astype(np.float32), y.astype(np.float32)[:, None])

    test_x = grid_points(dim, lo, hi, grid or (2001 if dim == 1 else 101))
    return SourceData(
        splits={"train": sample(n_train), "val": sample(n_val),
                "test": sample(len(test_x), test_x, noisy=False)},
        class_names=["f(x)"],  # one output: the task's "classes" are the targets
        input_range=(lo, hi),
        task="regress",
    )
