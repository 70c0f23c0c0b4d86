"""Where a feature map's cells sit in the input image, and resampling maps onto it.

Resizing an (h, w) map to the image size assumes the map spans the image edge to edge.
It does not: "valid" convolutions crop it, and TensorFlow's "same" padding with an even
input and stride 2 pads the bottom/right only, so the centre of cell i's receptive
field is `a * i + b` with an offset `b` that a resize ignores (allconv_gap's 4x4 class
maps of a 24x24 image are centred on pixels 7, 11, 15, 19, not 2.5 ... 20.5: the CAMs
came out shifted up-left). Keras offers no such mapping, so `cell_centres` composes it
from the layers' kernel, stride and padding, walking back from the map along each
layer's last input (the main path of `Add([shortcut, main])`; a shortcut may be off by
the one-pixel asymmetry of "same" padding, which is TensorFlow's).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

Geometry = tuple[tuple[float, float], tuple[float, float]]  # ((a_y, b_y), (a_x, b_x))
IDENTITY: Geometry = ((1.0, 0.0), (1.0, 0.0))


def cell_centres(tensor: keras.KerasTensor) -> Geometry | None:
    """Geometry of a 4-D tensor of a functional graph relative to its model's input;
    None when a layer on the way maps space in a way this does not model."""
    steps = []
    while True:
        op, node_index, _ = tensor._keras_history
        parents = op._inbound_nodes[node_index].input_tensors
        if not parents:  # an Input
            break
        steps.append((op, parents[-1], tensor))  # Add([shortcut, main]): the main path
        tensor = parents[-1]
    geometry = IDENTITY
    for op, parent, output in reversed(steps):
        geometry = _through(op, parent, output, geometry)
        if geometry is None:
            return None
    return geometry


def _through(op, parent, output, geo: Geometry) -> Geometry | None:
    if isinstance(op, keras.Model):  # a nested functional model: its own graph
        inner = cell_centres(op.outputs[0]) if len(op.outputs[0].shape) == 4 else IDENTITY
        return None if inner is None else _compose(geo, inner)
    sizes = parent.shape[1:3]
    if isinstance(op, layers.ZeroPadding2D):
        (top, _), (left, _) = op.padding
        return _compose(geo, ((1.0, -float(top)), (1.0, -float(left))))
    if hasattr(op, "stride") and hasattr(op, "channels"):  # models.blocks.PadChannels
        return _compose(geo, ((float(op.stride), 0.0), (float(op.stride), 0.0)))
    kernel = getattr(op, "kernel_size", None) or getattr(op, "pool_size", None)
    if kernel is None or isinstance(op, layers.Conv2DTranspose) or len(kernel) != 2:
        return geo if tuple(output.shape[1:3]) == tuple(sizes) else None
    strides = op.strides if op.strides is not None else kernel
    dilation = getattr(op, "dilation_rate", (1, 1))
    axes = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        span = d * (k - 1) + 1
        pad = 0
        if op.padding == "same" and n is not None:
            pad = max((math.ceil(n / s) - 1) * s + span - n, 0) // 2
        axes.append((float(s), (span - 1) / 2 - pad))
    return _compose(geo, tuple(axes))


def _compose(outer: Geometry, inner: Geometry) -> Geometry:
    """Cell i of `inner` (in units of `outer`'s cells) -> input coordinates."""
    return tuple((a1 * a2, a1 * b2 + b1) for (a1, b1), (a2, b2) in zip(outer, inner))


def _spanning(size: tuple[int, int], cells: tuple[int, int]) -> Geometry:
    """The geometry a plain resize assumes: the map spans the image edge to edge."""
    return tuple((n / c, n / c / 2 - 0.5) for n, c in zip(size, cells))


def cell_pixels(cells: np.ndarray, geometry, size: tuple[int, int], grid) -> np.ndarray:
    """(N, 2) cell indices -> (N, 2) integer pixel (row, col) of their centres."""
    geometry = geometry or _spanning(size, grid)
    out = np.stack([a * cells[:, k] + b for k, (a, b) in enumerate(geometry)], -1)
    return np.clip(np.rint(out), 0, np.array(size) - 1).astype(int)


def resample(maps: np.ndarray, size: tuple[int, int], geometry: Geometry | None) -> np.ndarray:
    """(N, h, w) maps -> (N, H, W), each pixel interpolated at its cell coordinate
    (a map spanning the image edge to edge when the geometry is unknown)."""
    geometry = geometry or _spanning(size, maps.shape[1:3])
    out = maps
    for axis, (length, (a, b)) in enumerate(zip(size, geometry), start=1):
        cells = out.shape[axis]
        index = np.clip((np.arange(length) - b) / a if a else np.zeros(length), 0, cells - 1)
        low = np.floor(index).astype(int)
        high = np.minimum(low + 1, cells - 1)
        frac = (index - low).reshape([-1 if k == axis else 1 for k in range(out.ndim)])
        out = np.take(out, low, axis=axis) * (1 - frac) + np.take(out, high, axis=axis) * frac
    return out
