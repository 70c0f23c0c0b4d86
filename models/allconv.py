"""The all-convolutional net with a global-average-pooling head, and class activation maps.

Springenberg, Dosovitskiy, Brox, Riedmiller 2015, "Striving for simplicity: the all
convolutional net" (arXiv:1412.6806), model All-CNN-C: 3x3 convolutions only, strided
convolutions instead of max-pooling, a 1x1 convolution to one map per class, global
average pooling into the logits. Because each logit is the spatial mean of its class
map, that map is the class activation map of Zhou et al. 2016 ("Learning deep features
for discriminative localization", arXiv:1512.04150) with no extra computation.

`class_activation_maps` reads CAMs from any trained dlzoo model (the nested pipeline
model included) that ends in `class_maps` -> global average pooling (`allconv_gap`,
`nin`) or in `avg_pool` -> Dense `logits` (the ResNets: Zhou's weighted sum of the last
feature maps).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from models.blocks import conv_unit
from models.common import Activation, Initializer, min_size_check
from models.feature_geometry import cell_centres, cell_pixels, resample
from models.introspect import find_layer, tap
from models.registry import register_model

# (filters, kernel, stride, padding) per block: All-CNN-C
_BLOCKS = (
    ((96, 3, 1, "same"), (96, 3, 1, "same"), (96, 3, 2, "same")),
    ((192, 3, 1, "same"), (192, 3, 1, "same"), (192, 3, 2, "same")),
    ((192, 3, 1, "valid"), (192, 1, 1, "same")),
)


@register_model("allconv_gap", gradcam_layer="block3_conv2")
def allconv_gap(
    *,
    input_shape: tuple[int, ...] = (32, 32, 3),
    num_classes: int = 10,
    width: float = 1.0,
    dropout: float = 0.5,
    batch_norm: bool = False,
    activation: Activation = "relu",
    kernel_initializer: Initializer = "he_normal",
) -> keras.Model:
    """All-CNN-C: strided 3x3 convolutions, 1x1 class maps, global average pooling.

    Args:
        width: multiplies every layer's filters (1.0 = 96/192, the paper).
        dropout: after each downsampling block (0.5 in the paper).
        batch_norm: conv -> BN -> activation (not in the paper; trains faster).
    """
    min_size_check(input_shape, 9, "allconv_gap")  # two stride-2 convs, then a valid 3x3
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    for b, block in enumerate(_BLOCKS, start=1):
        for i, (filters, kernel, stride, padding) in enumerate(block, start=1):
            x = conv_unit(
                x,
                max(1, round(filters * width)),
                kernel,
                strides=stride,
                padding=padding,
                name=f"block{b}_conv{i}",
                activation=activation,
                init=kernel_initializer,
                batch_norm=batch_norm,
            )
        if b < 3 and dropout:
            x = layers.Dropout(dropout, name=f"block{b}_dropout")(x)
    x = layers.Conv2D(num_classes, 1, name="class_maps")(x)
    outputs = layers.GlobalAveragePooling2D(name="logits")(x)
    return keras.Model(inputs, outputs, name="allconv_gap")


def class_activation_maps(
    model: keras.Model, images: np.ndarray, class_ids: np.ndarray | None = None
) -> np.ndarray:
    """Class activation maps at the input resolution, each scaled to [0, 1].

    Args:
        model: a trained model (pipeline model with raw inputs, or a bare builder model)
            containing a `class_maps` layer, or an `avg_pool` layer feeding a Dense `logits`.
        images: a batch (N, H, W, C) in the model's input range.
        class_ids: the class whose map to return per image; default the predicted class.

    Returns:
        float32 array (N, H, W).

    Raises:
        ValueError: the model has neither head.
    """
    return cams_and_peaks(model, images, class_ids)[0]


def cams_and_peaks(
    model: keras.Model, images: np.ndarray, class_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The maps of `class_activation_maps`, and each map's peak as (row, col) pixels:
    the centre of the strongest cell's receptive field (a peak read off the upsampled
    map would land on the flat margin outside the outermost cell centres)."""
    images = np.asarray(images, np.float32)
    maps, logits, map_tensor = _class_maps(model, images)
    ids = np.argmax(logits, -1) if class_ids is None else np.asarray(class_ids).reshape(-1)
    cams = maps[np.arange(len(images)), :, :, ids]  # (N, h, w)
    geometry = cell_centres(map_tensor)
    cells = np.stack(np.unravel_index(cams.reshape(len(cams), -1).argmax(-1), cams.shape[1:]), -1)
    peaks = cell_pixels(cells, geometry, images.shape[1:3], cams.shape[1:3])
    # each cell drawn where its receptive field is centred (not a plain resize)
    cams = resample(cams, images.shape[1:3], geometry)
    low = cams.min(axis=(1, 2), keepdims=True)
    span = cams.max(axis=(1, 2), keepdims=True) - low
    return ((cams - low) / np.where(span > 0, span, 1.0)).astype(np.float32), peaks


def _class_maps(model: keras.Model, images: np.ndarray):
    """(N, h, w, classes) maps, (N, classes) logits, and the maps' tensor in the graph."""
    class_maps = find_layer(model, "class_maps")
    if class_maps is not None:
        maps, logits = tap(model, ["class_maps"])(images, training=False)
        return np.asarray(maps), np.asarray(logits), class_maps.output
    pool, dense = find_layer(model, "avg_pool"), find_layer(model, "logits")
    if pool is None or not isinstance(dense, layers.Dense):
        raise ValueError(
            f"model {model.name!r} has no class activation maps: it needs a `class_maps` "
            "layer (allconv_gap, nin) or `avg_pool` feeding a Dense `logits` (resnets)"
        )
    feature_layer = pool.input._keras_history.operation.name  # what avg_pool averages
    features, logits = tap(model, [feature_layer])(images, training=False)
    weights = np.asarray(dense.kernel)  # (channels, classes): Zhou et al.'s w_k^c
    maps = np.einsum("nhwk,kc->nhwc", np.asarray(features), weights)
    return maps, np.asarray(logits), pool.input
