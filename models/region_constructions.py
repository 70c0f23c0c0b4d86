"""Hand-built ReLU networks on 2-D inputs whose number of linear regions is known.

* `tangent_lines(k)`: one hidden layer of k units whose lines are tangents to a small
  circle at k angles in [0, pi): no two parallel, no three through one point (a point
  outside a circle has only two tangents), all crossings inside the square (-1, 1)^2:
  an arrangement in general position with 1 + k + k(k-1)/2 regions, the shallow
  maximum (37 for k = 8).
* `folding_network(depth)`: Montufar et al. 2014's construction for n0 = 2 and layers
  of 2 n0 = 4 units. Each of the first depth - 1 layers folds both coordinates of the
  square (0, 1)^2 in two with a tent map t(u) = relu(2u) - relu(4u - 2), so the square
  is covered 4^(depth - 1) times; the last layer's 4 lines in general position cut each
  copy into 1 + 4 + 6 = 11 regions: 11 * 4^(depth - 1) regions in all (44 for two
  layers, where a single layer of the same 8 units makes at most 37).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


def _tangents(count: int, radius: float, centre: float, turn: float) -> tuple[np.ndarray, ...]:
    """(kernel (2, count), bias (count,)) of n.(x - c) - r for tangents at count angles."""
    angles = turn + np.pi * np.arange(count) / count
    normals = np.stack([np.cos(angles), np.sin(angles)])  # (2, count)
    return normals.astype(np.float32), (-radius - centre * normals.sum(0)).astype(np.float32)


def _dense(x, units: int, kernel: np.ndarray, bias: np.ndarray, name: str, activation="relu"):
    layer = layers.Dense(units, activation=activation, name=name)
    y = layer(x)
    layer.set_weights([kernel, bias])
    return y


def tangent_lines(k: int, radius: float | None = None) -> keras.Model:
    """One hidden ReLU layer of `k` lines in general position crossing inside (-1, 1)^2.

    Args:
        radius: of the circle the lines touch; default min(0.15, 0.9 sin(pi / 2k)), so
            the farthest crossing, at radius / sin(pi / 2k), stays inside the square.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1; received k={k}")
    radius = min(0.15, 0.9 * np.sin(np.pi / (2 * k))) if radius is None else radius
    if radius / np.sin(np.pi / (2 * k)) >= 1.0:
        raise ValueError(f"k={k}, radius={radius}: the tangents must cross inside the square")
    inputs = keras.Input((2,), name="inputs")
    kernel, bias = _tangents(k, radius, 0.0, 0.1)
    h = _dense(inputs, k, kernel, bias, "dense1")
    out = _dense(h, 1, np.ones((k, 1), np.float32), np.zeros(1, np.float32), "logits", None)
    return keras.Model(inputs, out, name=f"tangent_lines_{k}")


def folding_network(depth: int) -> keras.Model:
    """`depth` hidden layers of 4 ReLU units with 11 * 4^(depth-1) regions on (0, 1)^2."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1; received depth={depth}")
    inputs = keras.Input((2,), name="inputs")
    # From the inputs, units (2 u1, 4 u1 - 2, 2 u2, 4 u2 - 2); from a folding layer's
    # outputs (a1, b1, a2, b2) the same of the tents t_i = a_i - b_i.
    from_inputs = np.array([[2, 4, 0, 0], [0, 0, 2, 4]], np.float32)
    tent = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], np.float32)  # h -> (t1, t2)
    fold_bias = np.array([0, -2, 0, -2], np.float32)
    x = inputs
    for level in range(1, depth):
        kernel = from_inputs if level == 1 else tent @ from_inputs
        x = _dense(x, 4, kernel, fold_bias, f"dense{level}")
    lines, bias = _tangents(4, 0.1, 0.5, 0.3)  # 4 lines crossing inside (0, 1)^2
    x = _dense(x, 4, lines if depth == 1 else tent @ lines, bias, f"dense{depth}")
    out = _dense(x, 1, np.ones((4, 1), np.float32), np.zeros(1, np.float32), "logits", None)
    return keras.Model(inputs, out, name=f"folding_{depth}")
