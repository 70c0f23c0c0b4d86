"""Networks for function approximation (the `regress` task): Cybenko's one hidden
layer, a deep narrow ReLU net, and Telgarsky's exact sawtooth construction.

* `shallow_net`: one hidden layer of `width` units and a linear output, the network of
  the universal approximation theorem (Cybenko 1989: sigmoid units; Hornik 1991 and
  Leshno et al. 1993: any non-polynomial activation, ReLU included). The theorem says
  some width suffices for any accuracy; it says nothing of how large, nor whether
  training finds the weights ("existence theorem only").
* `deep_net`: `depth` hidden ReLU layers of `width` units.
* `sawtooth_net`: the k-fold composed tent map t^k (2^k linear pieces on [0, 1]) written
  exactly by k layers of 2 ReLUs, t(x) = 2 relu(x) - 4 relu(x - 1/2) (Telgarsky 2016,
  "Benefits of depth in neural networks"): 6k + 1 parameters, where a one-hidden-layer
  ReLU net, whose output has at most width + 1 linear pieces on a line, needs about
  2^k units: `shallow_sawtooth_net` is that shallow construction, 2^k units with a kink
  at each of the sawtooth's corners, 3 * 2^k + 1 parameters.

Outputs are linear (one per target; `num_classes` is the number of targets).
"""

from __future__ import annotations

from typing import Literal

import keras
import numpy as np
from keras import layers

from models.registry import register_model

ShallowActivation = Literal["sigmoid", "tanh", "relu"]


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {name}={value}")


@register_model("shallow_net", task="regress")
def shallow_net(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    width: int = 16,
    activation: ShallowActivation = "sigmoid",
    input_scale: float = 5.0,
) -> keras.Model:
    """One hidden layer of `width` units, linear output: sum_j a_j s(w_j.x + b_j) + c.

    Args:
        input_scale: the hidden weights start N(0, input_scale^2) and the biases
            U(-input_scale, input_scale), whatever the width, so the units' transitions
            (-b_j / w_j) spread over an input domain of about [-1, 1] with slopes that
            can resolve it. Glorot's scale, sqrt(2 / (fan_in + width)), would make every
            unit of a wide layer almost linear there and leave training to undo it.
    """
    _check_positive(width=width)
    if input_scale <= 0:
        raise ValueError(f"input_scale must be > 0, got input_scale={input_scale}")
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(
        width, activation=activation, name="hidden",
        kernel_initializer=keras.initializers.RandomNormal(stddev=input_scale),
        bias_initializer=keras.initializers.RandomUniform(-input_scale, input_scale),
    )(x)
    outputs = layers.Dense(num_classes, name="output")(x)
    return keras.Model(inputs, outputs, name="shallow_net")


@register_model("deep_net", task="regress")
def deep_net(
    *, input_shape: tuple[int, ...], num_classes: int, depth: int = 4, width: int = 8
) -> keras.Model:
    """`depth` hidden ReLU layers of `width` units (He initialization), linear output."""
    _check_positive(depth=depth, width=width)
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    for i in range(1, depth + 1):
        x = layers.Dense(width, activation="relu", kernel_initializer="he_normal",
                         name=f"dense{i}")(x)
    outputs = layers.Dense(num_classes, name="output")(x)
    return keras.Model(inputs, outputs, name="deep_net")


def tent_layer_weights(first: bool) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of one fold: units relu(u) and relu(u - 1/2) of the fold's input
    u, which is x itself (first fold) or t(.) = 2 h1 - 4 h2 of the previous fold."""
    into = np.array([[1.0, 1.0]]) if first else np.array([[2.0, 2.0], [-4.0, -4.0]])
    return into.astype(np.float32), np.array([0.0, -0.5], np.float32)


@register_model("sawtooth_net", task="regress")
def sawtooth_net(
    *, input_shape: tuple[int, ...], num_classes: int, folds: int = 4
) -> keras.Model:
    """Telgarsky's construction: t^folds on [0, 1] exactly, with `folds` layers of 2 ReLUs.

    Its weights are set, not learned, and frozen: at the exact solution the gradient is
    only float32 rounding, which Adam's normalised steps would blow up to full-size
    moves. The input must be 1-D in [0, 1].
    """
    _check_positive(folds=folds)
    if int(np.prod(input_shape)) != 1 or num_classes != 1:
        raise ValueError(
            f"sawtooth_net represents a function of one input with one output; got "
            f"input_shape={tuple(input_shape)}, num_classes={num_classes}"
        )
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    for i in range(1, folds + 1):
        dense = layers.Dense(2, activation="relu", name=f"fold{i}", trainable=False)
        x = dense(x)
        dense.set_weights(list(tent_layer_weights(first=i == 1)))
    output = layers.Dense(1, name="output", trainable=False)
    outputs = output(x)
    output.set_weights([np.array([[2.0], [-4.0]], np.float32), np.zeros(1, np.float32)])
    return keras.Model(inputs, outputs, name="sawtooth_net")


@register_model("shallow_sawtooth_net", task="regress")
def shallow_sawtooth_net(
    *, input_shape: tuple[int, ...], num_classes: int, folds: int = 4
) -> keras.Model:
    """t^folds on [0, 1] exactly with one hidden layer: 2^folds ReLUs relu(x - j / 2^folds),
    one per corner, whose output weights are the slope changes there (+-2^(folds+1), the
    first 2^folds). Weights set and frozen, as in `sawtooth_net`."""
    _check_positive(folds=folds)
    if int(np.prod(input_shape)) != 1 or num_classes != 1:
        raise ValueError(
            f"shallow_sawtooth_net represents a function of one input with one output; got "
            f"input_shape={tuple(input_shape)}, num_classes={num_classes}"
        )
    pieces = 2**folds
    slope_changes = np.where(np.arange(pieces) % 2 == 1, -2.0, 2.0) * pieces
    slope_changes[0] = pieces  # the first piece rises from 0 with slope 2^folds
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    hidden = layers.Dense(pieces, activation="relu", name="hidden", trainable=False)
    output = layers.Dense(1, name="output", trainable=False)
    outputs = output(hidden(x))
    hidden.set_weights([np.ones((1, pieces), np.float32),
                        (-np.arange(pieces) / pieces).astype(np.float32)])
    output.set_weights([slope_changes[:, None].astype(np.float32), np.zeros(1, np.float32)])
    return keras.Model(inputs, outputs, name="shallow_sawtooth_net")
