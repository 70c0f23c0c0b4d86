"""One differentiable callable per classifier, whatever form it comes in.

Every explainer and attack takes a `model` that may be a trained Keras classifier
(raw inputs -> logits, normalization inside, builder's network nested), an
adversarial-training wrapper, a `Scorer`, or an exported dlzoo SavedModel (a path,
or a `pipelines.export.predict.ExportedModel`). `as_scorer` turns each into a `Scorer`:
`logits(x)` on float inputs in the raw range, gradients through it, a layer's
activation for Grad-CAM, and the input checks that give users clear errors. Compiled
functions are cached on the scorer, so reuse one scorer for many calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from explain import nested
from explain.saved_model import SavedModelScorer
from explain.scorer import Scorer, registry_layer


class KerasScorer(Scorer):
    """A Keras classifier whose output is logits."""

    def __init__(self, model: keras.Model, **kwargs: Any) -> None:
        super().__init__(name=model.name, **kwargs)
        self._model = model
        self._taps: dict[str, nested.Tap] = {}

    @property
    def keras_model(self) -> keras.Model:
        return self._model

    def logits(self, x):
        return self._model(x, training=False)

    def conv_layers(self) -> list[str]:
        return nested.conv_layers(self._model)

    def has_layer(self, layer: str) -> bool:
        return any(
            p == layer or p.endswith(f"/{layer}") for p in nested.spatial_layers(self._model)
        )

    def layer_exists(self, layer: str) -> bool:
        return nested.find_path(self._model, layer) is not None

    def default_layer(self) -> str | None:
        names = [m.name for m in nested.sub_models(self._model)]
        names.append(self._model.name.removesuffix("_model"))
        layer = registry_layer(names)
        if layer and self.has_layer(layer):
            return layer
        # No usable registry layer (a transfer model whose backbone ends in a vector):
        # the last convolutional layer that still has a spatial map.
        wide = [p for p in self.conv_layers() if self._spatial_size(p) > 1]
        return wide[-1] if wide else None

    def _spatial_size(self, path: str) -> int:
        found = nested.find_path(self._model, path)
        layer = found[-1].get_layer(path.rpartition("/")[2])
        return min(layer.output.shape[1:3])

    def layer_gradients(self, x, targets, layer):
        if layer not in self._taps:
            self._taps[layer] = nested.tap(self._model, layer)
        with tf.GradientTape() as tape:
            activation, logits = self._taps[layer](x)
            score = tf.gather(logits, targets, axis=1, batch_dims=1)
        return activation, tape.gradient(score, activation)


def unwrap(model: Any) -> Any:
    """The classifier inside an adversarial-training wrapper (or the model itself)."""
    inner = getattr(model, "classifier", None)
    return inner if isinstance(inner, keras.Model) else model


def as_scorer(
    model: Any,
    *,
    input_range: tuple[float, float] | None = None,
    class_names: tuple[str, ...] | list[str] = (),
) -> Scorer:
    """A `Scorer` for a Keras classifier, a SavedModel path/`ExportedModel`, or a Scorer.

    Args:
        input_range: the raw input range (required by attacks and some baselines);
            exported models carry their own.
    """
    if isinstance(model, Scorer):
        if input_range is not None and model.input_range is None:
            model.input_range = tuple(map(float, input_range))
        return model
    if isinstance(model, (str, Path)) or type(model).__name__ == "ExportedModel":
        path = model.path if not isinstance(model, (str, Path)) else Path(model)
        return SavedModelScorer(path, input_range=input_range)
    if isinstance(model, keras.Model):
        model = unwrap(model)
        return KerasScorer(
            model,
            input_shape=tuple(model.inputs[0].shape[1:]),
            input_range=input_range,
            class_names=tuple(class_names),
        )
    raise TypeError(f"cannot explain a {type(model).__name__}; give a keras.Model or a path")
