"""Mixed-precision training (Micikevicius et al. 2018, "Mixed precision training").

Layers compute in float16 (GPU) or bfloat16 (CPU, TPU) and keep float32 variables;
every model output is computed in float32 (the logits, a generator's image), so
softmax, losses and exported outputs keep full precision. float16's narrow exponent
needs loss scaling: Keras' `compile()` wraps the optimizer in `LossScaleOptimizer`
when the model's policy is `mixed_float16` and its own `train_step` scales the loss;
bfloat16 has float32's exponent range and needs none.

`train.mixed_precision`: off | auto (float16 on GPU, bfloat16 on CPU/TPU) |
mixed_float16 | mixed_bfloat16.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

from common.errors import UserError


def resolve_policy(setting: str, strategy: tf.distribute.Strategy) -> str | None:
    """The Keras dtype-policy name for `setting` on this strategy's hardware (None: off)."""
    if setting == "off":
        return None
    if setting != "auto":
        return setting
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return "mixed_bfloat16"
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


class MixedPrecision:
    """What `policy()` yields: the policy name, and `apply(model)` for after building."""

    def __init__(self, name: str | None) -> None:
        self.name = name

    def apply(self, model: keras.Model) -> list[str]:
        """float32 outputs, and a check that float16 losses get scaled; returns the
        layers switched to float32."""
        if self.name is None:
            return []
        if self.name == "mixed_float16":
            _check_loss_scaling(model)
        return float32_outputs(model)


@contextlib.contextmanager
def policy(setting: str, strategy: tf.distribute.Strategy) -> Iterator[MixedPrecision]:
    """Build models inside this block to get the mixed policy; the global Keras policy
    is restored on exit (it is process state, so it must not leak into later runs)."""
    name = resolve_policy(setting, strategy)
    previous = keras.config.dtype_policy()
    if name is not None:
        keras.config.set_dtype_policy(name)
    try:
        yield MixedPrecision(name)
    finally:
        keras.config.set_dtype_policy(previous)


def float32_outputs(model: keras.Layer) -> list[str]:
    """Make the layers that produce the outputs of `model` and of each functional
    sub-model (a GAN's generator and critic) compute in float32."""
    changed: list[str] = []
    outputs = getattr(model, "outputs", None)
    if outputs:
        for tensor in keras.tree.flatten(outputs):
            layer = tensor._keras_history.operation
            if isinstance(layer, keras.Model):
                changed += float32_outputs(layer)
            elif layer.dtype_policy.name != "float32":
                layer.dtype_policy = "float32"
                changed.append(layer.name)
        return changed
    for sub in model._flatten_layers(include_self=False, recursive=False):
        if isinstance(sub, keras.Model):
            changed += float32_outputs(sub)
    return changed


def _check_loss_scaling(model: keras.Model) -> None:
    if type(model).train_step is keras.Model.train_step:
        return  # Keras' own step scales the loss with compile's LossScaleOptimizer
    raise UserError(
        f"train.mixed_precision: mixed_float16 needs loss scaling, and "
        f"{type(model).__name__} trains with its own train_step, which does not scale "
        "its losses; use mixed_bfloat16 (GPUs since Ampere, TPUs, CPUs) or off"
    )
