"""Linear regions of ReLU networks (Pascanu, Montufar, Bengio 2014; Montufar, Pascanu,
Cho, Bengio 2014, "On the number of linear regions of deep neural networks").

A ReLU network is linear on each set of inputs that share one activation pattern
(which hidden units are on); the number of distinct patterns met in an input region
is its number of linear regions. `count_regions` reads the patterns on a grid of
points: a region that contains no grid point is missed, so a grid count can only
undercount (never overcount), and it is exact once every region holds a grid point
(checked against `arrangement_regions` for one hidden layer, and against the
constructions of `models/region_constructions.py` whose counts are known).

Bounds, for n0 inputs and hidden widths n_1..n_L:
* one layer of n units: at most sum_{j=0}^{n0} C(n, j) regions (Zaslavsky 1975, an
  arrangement of n hyperplanes); n0 = 2, n = 8: 37.
* deep: Montufar et al. 2014 (Theorem 4) construct networks with
  (prod_{l<L} floor(n_l / n0)^n0) * sum_{j=0}^{n0} C(n_L, j) regions, a lower bound
  on the maximum; n0 = 2, widths (4, 4): 4 * 11 = 44 > 37 with the same 8 units.
* deep, upper: Serra, Tjandraatmadja, Ramalingam 2018 (Theorem 1):
  sum over (j_1..j_L) in J of prod_l C(n_l, j_l), J = {0 <= j_l <= min(n0, n_1 - j_1,
  ..., n_{l-1} - j_{l-1}, n_l)}; for one layer it is the shallow bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import comb, prod

import keras
import numpy as np

from models.introspect import find_layer, tap


def square_grid(low: float, high: float, points_per_side: int) -> np.ndarray:
    """Cell centres of a points_per_side^2 grid on the open square (low, high)^2.

    Centres, not corners: the boundary of the square is left out, where units of a
    construction may sit exactly at zero.
    """
    step = (high - low) / points_per_side
    axis = low + step * (np.arange(points_per_side) + 0.5)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def hidden_relu_layers(model: keras.Model) -> list[str]:
    """Names of the Dense layers of `model` (nested sub-models too) except "logits"."""
    names: list[str] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += hidden_relu_layers(layer)
        elif isinstance(layer, keras.layers.Dense) and layer.name != "logits":
            names.append(layer.name)
    return names


def pattern_probe(model: keras.Model, layers: Sequence[str]) -> keras.Model:
    """inputs -> the named layers' outputs; it shares the model's weights, so one probe
    serves every re-initialization of the model (building one costs a graph clone)."""
    tapped = tap(model, list(layers))
    return keras.Model(tapped.input, tapped.outputs[: len(layers)])


def activation_patterns(
    model: keras.Model,
    points: np.ndarray,
    layers: Sequence[str],
    *,
    probe: keras.Model | None = None,
    batch_size: int = 65536,
) -> np.ndarray:
    """(points, hidden units) booleans: which units are on (pre-activation > 0).

    `layers` name the hidden Dense layers; their output before or after the ReLU gives
    the same pattern, since relu(z) > 0 exactly when z > 0. `probe`: a
    `pattern_probe(model, layers)` made once, when counting many times.
    """
    probe = probe or pattern_probe(model, layers)
    parts = []
    for start in range(0, len(points), batch_size):
        outs = probe(points[start : start + batch_size], training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        parts.append(np.concatenate([np.asarray(o).reshape(len(o), -1) > 0 for o in outs], 1))
    return np.concatenate(parts)


def pattern_ids(patterns: np.ndarray) -> tuple[np.ndarray, int]:
    """(a region id per point, the number of distinct patterns)."""
    if patterns.shape[1] <= 63:  # one integer per pattern: np.unique on rows is slower
        codes = patterns.astype(np.int64) @ (np.int64(1) << np.arange(patterns.shape[1]))
    else:
        codes = np.packbits(patterns, axis=1)
    _, ids = np.unique(codes, axis=0 if codes.ndim > 1 else None, return_inverse=True)
    ids = ids.ravel()
    return ids, int(ids.max()) + 1


def count_regions(
    model: keras.Model, points: np.ndarray, layers: Sequence[str], *, probe=None
) -> int:
    """Distinct activation patterns at `points` (a lower bound on the regions they span)."""
    return pattern_ids(activation_patterns(model, points, layers, probe=probe))[1]


def arrangement_regions(kernel: np.ndarray, bias: np.ndarray, low: float, high: float) -> int:
    """Exact regions of one ReLU layer on the open square (low, high)^2.

    The units' lines w.x + b = 0 cut the square into 1 + (lines crossing it) +
    (crossings of two lines inside it) pieces (Euler's formula), for lines in general
    position: no two parallel inside, no three through one point. numpy/itertools do
    this directly; no library counts regions of an arrangement.
    """
    w, b = np.asarray(kernel, np.float64).T, np.asarray(bias, np.float64)  # (units, 2)
    corners = np.array([[low, low], [low, high], [high, low], [high, high]])
    values = corners @ w.T + b  # a line crosses the open square iff the corners differ
    crossing = [i for i in range(len(b)) if values[:, i].min() < 0 < values[:, i].max()]
    inside = 0
    for i, j in itertools.combinations(crossing, 2):
        a = np.stack([w[i], w[j]])
        if abs(np.linalg.det(a)) < 1e-12:
            continue  # parallel: no crossing
        p = np.linalg.solve(a, -np.array([b[i], b[j]]))
        inside += int(np.all((p > low) & (p < high)))
    return 1 + len(crossing) + inside


def shallow_max_regions(units: int, n0: int) -> int:
    """sum_{j=0}^{n0} C(units, j): the most regions one layer of `units` can make."""
    return sum(comb(units, j) for j in range(n0 + 1))


def deep_construction_regions(widths: Sequence[int], n0: int) -> int:
    """Montufar et al. 2014, Theorem 4: regions their deep construction attains."""
    *folds, last = widths
    return prod((n // n0) ** n0 for n in folds) * shallow_max_regions(last, n0)


def deep_max_regions(widths: Sequence[int], n0: int) -> int:
    """Serra et al. 2018, Theorem 1: an upper bound on the regions of any such net."""

    def count(level: int, room: list[int]) -> int:
        if level == len(widths):
            return 1
        n = widths[level]
        cap = min([n0, n, *room])
        return sum(comb(n, j) * count(level + 1, [*room, n - j]) for j in range(cap + 1))

    return count(0, [])


def relu_stack(n0: int, widths: Sequence[int], name: str = "relu_stack") -> keras.Model:
    """Input(n0) -> Dense ReLU layers dense1..denseL -> Dense(1) "logits"."""
    inputs = x = keras.Input((n0,), name="inputs")
    for i, units in enumerate(widths, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"dense{i}")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="logits")(x), name=name)


def reinitialize(
    model: keras.Model, layers: Sequence[str], rng: np.random.Generator, bias_std: float
) -> None:
    """Draw new weights for the named Dense layers of a model the caller owns:
    He-normal kernels (std sqrt(2 / fan_in)) and N(0, bias_std^2) biases. Keras'
    initializers leave biases at zero, which puts every first-layer boundary through
    the origin and makes the region counts degenerate."""
    for name in layers:
        layer = find_layer(model, name)
        if layer is None:
            raise ValueError(f"model {model.name!r} has no layer {name!r}")
        fan_in, units = layer.kernel.shape
        layer.kernel.assign(rng.normal(0, np.sqrt(2 / fan_in), (fan_in, units)).astype("float32"))
        layer.bias.assign(rng.normal(0, bias_std, (units,)).astype("float32"))

