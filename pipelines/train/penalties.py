"""`train.l1` / `train.l2`: weight penalties on every kernel, nested models included."""

from __future__ import annotations

import keras


def add_weight_penalties(model: keras.Model, l1: float, l2: float) -> int:
    """Put an L1/L2 penalty on every kernel of `model` (nested models included).

    Keras collects `variable.regularizer` of trainable weights into `model.losses`,
    so setting it after the model is built is enough. Returns how many kernels.
    """
    if not (l1 or l2):
        return 0
    penalty = keras.regularizers.L1L2(l1=l1, l2=l2)
    count = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and getattr(kernel, "trainable", False):
            kernel.regularizer = penalty
            count += 1
    return count
