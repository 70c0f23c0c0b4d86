"""`Scorer`: a classifier seen as `logits(x)` on raw-range float inputs, the one
interface every explainer and attack works on (`explain.adapter.as_scorer` makes one
from a Keras model, a wrapper or an exported SavedModel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from models.catalog import MODELS


class Scorer:
    """A classifier seen as `logits(x)` on raw-range float inputs.

    Attributes:
        input_shape: one example's shape (no batch axis).
        input_range: (low, high) of valid raw inputs, or None when unknown.
        class_names: names of the output classes (may be empty).
        name: the model's name, for messages and figures.
    """

    def __init__(
        self,
        *,
        input_shape: tuple[int, ...],
        input_range: tuple[float, float] | None,
        class_names: tuple[str, ...] = (),
        name: str = "model",
    ) -> None:
        self.input_shape = tuple(int(d) for d in input_shape)
        self.input_range = None if input_range is None else tuple(map(float, input_range))
        self.class_names = tuple(class_names)
        self.name = name
        self._compiled: dict[str, Callable] = {}

    # --- what subclasses provide -------------------------------------------------
    def logits(self, x: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def layer_gradients(self, x: tf.Tensor, targets: tf.Tensor, layer: str):
        """(activation of `layer`, d logit[target] / d activation)."""
        raise NotImplementedError

    def conv_layers(self) -> list[str]:
        return []

    def default_layer(self) -> str | None:
        return None

    @property
    def keras_model(self) -> keras.Model | None:
        return None

    # --- shared ------------------------------------------------------------------
    def compiled(self, key: str, build: Callable[[], Callable]) -> Callable:
        """`tf.function(build())`, made once per scorer (shapes may vary)."""
        if key not in self._compiled:
            self._compiled[key] = tf.function(build(), reduce_retracing=True)
        return self._compiled[key]

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def range(self) -> tuple[float, float]:
        if self.input_range is None:
            raise UserError(
                f"{self.name}: the input range is unknown; pass input_range=(low, high)"
            )
        return self.input_range

    def check_inputs(self, x: Any) -> np.ndarray:
        """`x` as float32 of shape (batch, *input_shape), or a UserError saying why not."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.input_shape:
            got = tuple(x.shape[1:])
            hint = ""
            if self.is_image and len(got) == 3:
                if got[-1] != self.input_shape[-1]:
                    hint = f" ({got[-1]} channel(s) given, the model takes {self.input_shape[-1]})"
                else:
                    hint = f" (resize images to {self.input_shape[0]}x{self.input_shape[1]})"
            raise UserError(
                f"{self.name} expects inputs of shape (batch, "
                f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}{hint}"
            )
        if self.input_range is not None and x.size:
            lo, hi = self.input_range
            tol = 1e-3 * (hi - lo)
            if x.min() < lo - tol or x.max() > hi + tol:
                raise UserError(
                    f"{self.name} takes raw inputs in [{lo:g}, {hi:g}]; got values in "
                    f"[{x.min():.4g}, {x.max():.4g}] (give images in the raw range, not "
                    "normalized)"
                )
        return x

    def targets(self, x: np.ndarray, target: Any = None, batch_size: int = 256) -> np.ndarray:
        """Class ids to explain: the prediction (None), one id for all, or one per input."""
        if target is None:
            return self.predict(x, batch_size).argmax(-1)
        t = np.asarray(target, dtype=np.int64)
        t = np.full(len(x), int(t)) if t.ndim == 0 else t.reshape(-1)
        if len(t) != len(x):
            raise UserError(f"{len(t)} targets for {len(x)} inputs")
        n = self.num_classes
        if n and (t.min() < 0 or t.max() >= n):
            raise UserError(f"target class ids must be in 0..{n - 1}, got {t.min()}..{t.max()}")
        return t

    @property
    def num_classes(self) -> int:
        if self.class_names:
            return len(self.class_names)
        return int(self.predict(np.zeros((1, *self.input_shape), np.float32)).shape[-1])

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Logits as numpy, in batches."""
        fn = self.compiled("logits", lambda: self.logits)
        outs = [
            np.asarray(fn(tf.constant(x[i : i + batch_size], tf.float32)))
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)

    def probabilities(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        logits = self.predict(x, batch_size)
        return np.asarray(tf.nn.softmax(logits, axis=-1))

    def resolve_layer(self, layer: str | None) -> str:
        """The Grad-CAM layer: `layer`, or the registry's, or the last conv layer.

        Raises:
            UserError: no convolutional layer at all (an MLP), or an unknown name
                (the message lists the convolutional layers).
        """
        convs = self.conv_layers()
        if not convs:
            raise UserError(
                f"Grad-CAM does not apply to {self.name}: it has no convolutional layer "
                "(e.g. an MLP); use gradients, ig, smoothgrad, occlusion or lime"
            )
        if layer is None:
            return self.default_layer() or convs[-1]
        if not self.has_layer(layer):
            problem = "has no spatial (height x width) output" if self.layer_exists(layer) else ""
            raise UserError(
                f"{f'layer {layer!r} {problem}' if problem else f'no layer {layer!r}'} in "
                f"{self.name}; convolutional layers: {', '.join(convs)}"
            )
        return layer

    def has_layer(self, layer: str) -> bool:
        """Whether Grad-CAM can use `layer` (it exists and has a spatial output)."""
        return layer in self.conv_layers()

    def layer_exists(self, layer: str) -> bool:
        return self.has_layer(layer)


def registry_layer(names: list[str]) -> str | None:
    """The registry's `gradcam_layer` for the first registered model name in `names`."""
    for name in names:
        if name in MODELS:
            return MODELS.get(name).gradcam_layer
    return None
