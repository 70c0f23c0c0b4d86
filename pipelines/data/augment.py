"""Training-split augmentations, built from Keras preprocessing layers.

Each entry makes a function on a *batch* `(x, y) -> (x, y)`: the builder maps them
over the batched training split with `num_parallel_calls=AUTOTUNE` (batched maps
are vectorised, so they cost far less than per-example ones). Inputs are in the raw
range of the data; normalization happens later, inside the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from common.registry import Registry

if TYPE_CHECKING:
    import keras


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """A batch function `(x, y) -> (x, y)` and the Keras random layers it draws from
    (whose seed generators `pipelines.data.epochs.EpochOrder` sets per epoch)."""

    apply: Callable
    layers: tuple[keras.layers.Layer, ...] = ()

    def __call__(self, x, y):
        return self.apply(x, y)


AUGMENTATIONS: Registry[Callable[..., Augmentation]] = Registry("augmentation")

# Injected by the builder; a recipe sets only the other parameters.
INJECTED = ("input_range", "seed", "num_classes", "input_shape")


def _register(name: str):
    return lambda fn: AUGMENTATIONS.add(name, fn)


def _layers():
    # heavy (Keras): imported when an augmentation is built, not when a recipe is checked
    import keras

    return keras.layers


def _on_images(layer: keras.layers.Layer) -> Augmentation:
    def apply(x, y):
        return layer(x, training=True), y

    return Augmentation(apply, (layer,))


@_register("flip")
def flip(
    *,
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal",
    input_range,
    seed,
    num_classes,
    input_shape,
) -> Augmentation:
    return _on_images(_layers().RandomFlip(mode, seed=seed))


@_register("rotation")
def rotation(
    *,
    factor: float = 0.05,
    fill_mode: str = "constant",
    input_range,
    seed,
    num_classes,
    input_shape,
) -> Augmentation:
    """Rotate by up to `factor` of a full turn."""
    return _on_images(
        _layers().RandomRotation(
            factor, fill_mode=fill_mode, fill_value=input_range[0], seed=seed
        )
    )


@_register("zoom")
def zoom(
    *,
    factor: float = 0.1,
    fill_mode: str = "constant",
    input_range,
    seed,
    num_classes,
    input_shape,
) -> Augmentation:
    return _on_images(
        _layers().RandomZoom(factor, fill_mode=fill_mode, fill_value=input_range[0], seed=seed)
    )


@_register("translation")
def translation(
    *,
    factor: float = 0.1,
    fill_mode: str = "constant",
    input_range,
    seed,
    num_classes,
    input_shape,
) -> Augmentation:
    return _on_images(
        _layers().RandomTranslation(
            factor, factor, fill_mode=fill_mode, fill_value=input_range[0], seed=seed
        )
    )


@_register("contrast")
def contrast(*, factor: float = 0.2, input_range, seed, num_classes, input_shape) -> Augmentation:
    return _on_images(_layers().RandomContrast(factor, value_range=input_range, seed=seed))


@_register("crop")
def crop(*, padding: int = 4, input_range, seed, num_classes, input_shape) -> Augmentation:
    """Pad by `padding` pixels, then crop back to size at a random place (CIFAR style)."""
    # heavy: imported when the augmentation is built, not when a recipe is checked
    import tensorflow as tf

    layer = _layers().RandomCrop(input_shape[0], input_shape[1], seed=seed)

    def apply(x, y):
        padded = tf.pad(
            x,
            [[0, 0], [padding, padding], [padding, padding], [0, 0]],
            constant_values=input_range[0],
        )
        return layer(padded, training=True), y

    return Augmentation(apply, (layer,))


@_register("mixup")
def mixup(*, alpha: float = 0.2, input_range, seed, num_classes, input_shape) -> Augmentation:
    """Zhang et al. 2018: convex mixes of example pairs and of their one-hot labels.

    Labels become soft, so the builder switches every split to one-hot labels.
    """
    layer = _layers().MixUp(alpha=alpha, seed=seed)

    def apply(x, y):
        mixed = layer({"images": x, "labels": y}, training=True)
        return mixed["images"], mixed["labels"]

    return Augmentation(apply, (layer,))


def uses_soft_labels(names) -> bool:
    return "mixup" in names
