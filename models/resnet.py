"""ResNet v1 (He, Zhang, Ren, Sun 2016, "Deep residual learning for image recognition",
arXiv:1512.03385) and its plain counterparts for the degradation experiment.

* `resnet20/32/56/110`: the paper's CIFAR-10 networks (section 4.2): a 3x3 stem of 16
  channels, three stages of n basic blocks (16, 32, 64 channels; depth 6n+2), global
  average pooling, one dense layer. Shortcuts use **option A** by default (identity;
  where the shape changes, subsample and zero-pad the new channels: no parameters),
  which gives the paper's 0.27M / 0.46M / 0.85M / 1.7M parameters; `shortcut: B` uses
  1x1 projections there instead.
* `resnet50`: the ImageNet bottleneck network as keras.applications.ResNet50 builds it
  (biases in the convolutions, BN epsilon 1.001e-5, projection shortcuts, stride on
  the first 1x1 conv), hence exactly 25,636,712 parameters at 224x224x3 / 1000 classes.
* `plainnet20/32/56/110`: the same stacks with every shortcut removed (Figure 1 and
  6 of the paper: deeper plain nets train *worse*).

One private builder, driven by a table of stages, makes all of them. Layer names are
keras.applications' (`conv1_conv`, `conv2_block1_1_conv`, `conv4_block3_out`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import keras
from keras import layers

from models.blocks import PadChannels
from models.common import (
    ElementwiseActivation,
    Initializer,
    activation_layer,
    initializer,
    min_size_check,
)
from models.registry import register_model

Shortcut = Literal["A", "B"]


@dataclasses.dataclass(frozen=True)
class _Opts:
    activation: str
    init: str
    shortcut: str  # "A", "B" or "none" (plain network)
    use_bias: bool
    bn_epsilon: float


def _conv_bn(x, filters, kernel, stride, name, opts: _Opts, act: bool = True):
    x = layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=opts.use_bias,
        kernel_initializer=initializer(opts.init),
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(epsilon=opts.bn_epsilon, name=f"{name}_bn")(x)
    return activation_layer(opts.activation, layer_name=f"{name}_act")(x) if act else x


def _shortcut(x, channels: int, stride: int, name: str, opts: _Opts):
    if opts.shortcut == "none":
        return None
    if stride == 1 and x.shape[-1] == channels:
        return x
    if opts.shortcut == "A":
        return PadChannels(channels, stride, name=f"{name}_0_pad")(x)
    return _conv_bn(x, channels, 1, stride, f"{name}_0", opts, act=False)


def _block(x, filters: int, stride: int, *, name: str, bottleneck: bool, opts: _Opts):
    """A basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1 x4) block, shortcut per `opts`."""
    out_channels = 4 * filters if bottleneck else filters
    shortcut = _shortcut(x, out_channels, stride, name, opts)
    if bottleneck:
        y = _conv_bn(x, filters, 1, stride, f"{name}_1", opts)
        y = _conv_bn(y, filters, 3, 1, f"{name}_2", opts)
        y = _conv_bn(y, out_channels, 1, 1, f"{name}_3", opts, act=False)
    else:
        y = _conv_bn(x, filters, 3, stride, f"{name}_1", opts)
        y = _conv_bn(y, filters, 3, 1, f"{name}_2", opts, act=False)
    if shortcut is not None:
        y = layers.Add(name=f"{name}_add")([shortcut, y])
    return activation_layer(opts.activation, layer_name=f"{name}_out")(y)


def _stem(x, width: int, imagenet: bool, opts: _Opts):
    if not imagenet:  # CIFAR: one 3x3 conv
        return _conv_bn(x, width, 3, 1, "conv1", opts)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(
        width,
        7,
        strides=2,
        use_bias=opts.use_bias,
        kernel_initializer=initializer(opts.init),
        name="conv1_conv",
    )(x)
    x = layers.BatchNormalization(epsilon=opts.bn_epsilon, name="conv1_bn")(x)
    x = activation_layer(opts.activation, layer_name="conv1_act")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _resnet(
    name: str,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    blocks: tuple[int, ...],
    width: int,
    bottleneck: bool,
    imagenet_stem: bool,
    opts: _Opts,
) -> keras.Model:
    """Stem, then stage i (named conv{i+2}) of `blocks[i]` blocks with `width * 2**i`
    filters (the first stage keeps the resolution), pooling, logits."""
    min_size_check(input_shape, 32 if imagenet_stem else 2 ** (len(blocks) - 1), name)
    inputs = keras.Input(input_shape, name="inputs")
    x = _stem(inputs, width, imagenet_stem, opts)
    for stage, n in enumerate(blocks):
        for b in range(1, n + 1):
            stride = 2 if stage > 0 and b == 1 else 1
            x = _block(
                x,
                width * 2**stage,
                stride,
                name=f"conv{stage + 2}_block{b}",
                bottleneck=bottleneck,
                opts=opts,
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def _cifar(name: str, n: int, residual: bool) -> Callable[..., keras.Model]:
    kind = "ResNet" if residual else "Plain network (no shortcuts)"

    def builder(
        *,
        input_shape: tuple[int, ...] = (32, 32, 3),
        num_classes: int = 10,
        width: int = 16,
        shortcut: Shortcut = "A",
        activation: ElementwiseActivation = "relu",
        kernel_initializer: Initializer = "he_normal",
    ) -> keras.Model:
        opts = _Opts(activation, kernel_initializer, shortcut if residual else "none", False, 1e-3)
        return _resnet(
            name,
            input_shape=input_shape,
            num_classes=num_classes,
            blocks=(n, n, n),
            width=width,
            bottleneck=False,
            imagenet_stem=False,
            opts=opts,
        )

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"{kind}, {6 * n + 2} layers, CIFAR layout: 3 stages x {n} basic blocks.\n\n"
        "    Args:\n        width: channels of the first stage (16; then 32, 64).\n"
        "        shortcut: A (zero-padding identity, the paper's counts) or B (1x1 "
        "projection where the shape changes); ignored by plain networks.\n"
    )
    return register_model(name, gradcam_layer=f"conv4_block{n}_out")(builder)


resnet20 = _cifar("resnet20", 3, residual=True)
resnet32 = _cifar("resnet32", 5, residual=True)
resnet56 = _cifar("resnet56", 9, residual=True)
resnet110 = _cifar("resnet110", 18, residual=True)
plainnet20 = _cifar("plainnet20", 3, residual=False)
plainnet32 = _cifar("plainnet32", 5, residual=False)
plainnet56 = _cifar("plainnet56", 9, residual=False)
plainnet110 = _cifar("plainnet110", 18, residual=False)


@register_model("resnet50", gradcam_layer="conv5_block3_out")
def resnet50(
    *,
    input_shape: tuple[int, ...] = (224, 224, 3),
    num_classes: int = 1000,
    width: int = 64,
    shortcut: Shortcut = "B",
    activation: ElementwiseActivation = "relu",
    kernel_initializer: Initializer = "glorot_uniform",
) -> keras.Model:
    """ResNet-50 v1: ImageNet stem, bottleneck blocks (3, 4, 6, 3), as keras.applications.

    Args:
        width: bottleneck width of the first stage (64; the block outputs are 4x).
        shortcut: B (projection where the shape changes, as Keras) or A (zero padding).
    """
    return _resnet(
        "resnet50",
        input_shape=input_shape,
        num_classes=num_classes,
        blocks=(3, 4, 6, 3),
        width=width,
        bottleneck=True,
        imagenet_stem=True,
        opts=_Opts(activation, kernel_initializer, shortcut, True, 1.001e-5),
    )
