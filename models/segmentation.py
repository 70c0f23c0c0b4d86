"""Semantic segmentation: per-pixel logits (N, H, W, classes) at the input resolution.

* `fcn`: Long, Shelhamer, Darrell 2015, "Fully convolutional networks for semantic
  segmentation" (arXiv:1411.4038). A convolutional encoder (VGG-style stages), the
  classifier as 1x1 convolutions (`score_fr`), learned transposed-convolution
  upsampling, and skip fusions with scores from earlier poolings (`skips=2` on a
  3-stage encoder is the FCN-8s idea: fuse at strides 4 and 2, then upsample x2).
* `unet`: Ronneberger, Fischer, Brox 2015, "U-Net: convolutional networks for
  biomedical image segmentation" (arXiv:1505.04597). Contracting path of double 3x3
  convolutions and max-pooling, expanding path of 2x2 transposed convolutions whose
  output is concatenated with the contracting path's features at the same scale.
  Convolutions are padded ("same"), so no cropping is needed and the output has the
  input's size (the paper used unpadded ones and cropped the skips).

Both need height and width divisible by 2**depth (stages). Inputs: the pipeline's
normalization; logits out, one channel per class (background is class 0).
"""

from __future__ import annotations

import keras
from keras import layers

from models.blocks import conv_unit
from models.common import Activation, Initializer, initializer, min_size_check
from models.registry import register_model


def _divisible_check(input_shape, factor: int, model: str) -> None:
    min_size_check(input_shape, factor, model)
    h, w = input_shape[0], input_shape[1]
    if (h and h % factor) or (w and w % factor):
        raise ValueError(
            f"model {model!r} needs height and width divisible by {factor} (2**depth); "
            f"received input_shape={tuple(input_shape)} (e.g. {factor * max(1, h // factor)}"
            f"x{factor * max(1, w // factor)} works)"
        )


def _double_conv(x, filters: int, name: str, unit: dict):
    x = conv_unit(x, filters, 3, name=f"{name}_conv1", **unit)
    return conv_unit(x, filters, 3, name=f"{name}_conv2", **unit)


@register_model("unet", task="segment", gradcam_layer="bottleneck_conv2")
def unet(
    *,
    input_shape: tuple[int, ...] = (128, 128, 1),
    num_classes: int = 2,
    depth: int = 4,
    width: int = 64,
    dropout: float = 0.0,
    batch_norm: bool = False,
    activation: Activation = "relu",
    kernel_initializer: Initializer = "he_normal",
) -> keras.Model:
    """U-Net: contracting path, bottleneck, expanding path with skip concatenations.

    Args:
        depth: number of poolings (4 in the paper).
        width: channels of the first level (64 in the paper; doubled at each level).
        dropout: at the end of the contracting path (the paper used 0.5 there).
        batch_norm: conv -> BN -> activation (not in the paper).
    """
    _divisible_check(input_shape, 2**depth, "unet")
    unit = {"activation": activation, "init": kernel_initializer, "batch_norm": batch_norm}
    inputs = keras.Input(input_shape, name="inputs")
    x, skips = inputs, []
    for level in range(1, depth + 1):
        x = _double_conv(x, width * 2 ** (level - 1), f"enc{level}", unit)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    x = _double_conv(x, width * 2**depth, "bottleneck", unit)
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for level in range(depth, 0, -1):
        filters = width * 2 ** (level - 1)
        x = layers.Conv2DTranspose(
            filters,
            2,
            strides=2,
            kernel_initializer=initializer(kernel_initializer),
            name=f"dec{level}_up",
        )(x)
        x = layers.Concatenate(name=f"dec{level}_concat")([skips[level - 1], x])
        x = _double_conv(x, filters, f"dec{level}", unit)
    outputs = layers.Conv2D(num_classes, 1, name="logits")(x)
    return keras.Model(inputs, outputs, name="unet")


@register_model("fcn", task="segment", gradcam_layer="fc7")
def fcn(
    *,
    input_shape: tuple[int, ...] = (128, 128, 3),
    num_classes: int = 2,
    depth: int = 3,
    width: int = 32,
    skips: int = 2,
    dropout: float = 0.0,
    batch_norm: bool = False,
    activation: Activation = "relu",
    kernel_initializer: Initializer = "he_normal",
) -> keras.Model:
    """FCN: conv encoder, 1x1 scoring, transposed-conv upsampling fused with skip scores.

    Args:
        depth: encoder stages, each two 3x3 convs and a 2x2 max-pool (output stride 2**depth).
        width: channels of the first stage (doubled at each stage).
        skips: how many earlier poolings' scores are fused while upsampling (0 = the
            FCN-32s idea: one big upsampling; at most depth - 1).
        dropout: after the fc6/fc7 convolutions (0.5 in the paper).
    """
    if not 0 <= skips < depth:
        raise ValueError(f"skips must be in 0 .. depth - 1 = {depth - 1}; received skips={skips}")
    _divisible_check(input_shape, 2**depth, "fcn")
    unit = {"activation": activation, "init": kernel_initializer, "batch_norm": batch_norm}
    inputs = keras.Input(input_shape, name="inputs")
    x, pools = inputs, []
    for stage in range(1, depth + 1):
        x = _double_conv(x, width * 2 ** (stage - 1), f"block{stage}", unit)
        x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
        pools.append(x)
    for name, kernel in (("fc6", 3), ("fc7", 1)):  # the VGG classifier, made convolutional
        x = conv_unit(x, width * 2**depth, kernel, name=name, **unit)
        if dropout:
            x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = layers.Conv2D(num_classes, 1, name="score_fr")(x)
    for i in range(1, skips + 1):
        x = layers.Conv2DTranspose(num_classes, 4, strides=2, padding="same", name=f"upscore{i}")(x)
        pool = pools[depth - 1 - i]
        score = layers.Conv2D(num_classes, 1, name=f"score_pool{depth - i}")(pool)
        x = layers.Add(name=f"fuse_pool{depth - i}")([x, score])
    factor = 2 ** (depth - skips)
    outputs = layers.Conv2DTranspose(
        num_classes, 2 * factor, strides=factor, padding="same", name="logits"
    )(x)
    return keras.Model(inputs, outputs, name="fcn")
