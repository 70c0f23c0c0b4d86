"""Tensor -> tensor helpers shared by the convolutional families, and the two layers
Keras lacks (local response normalization, channel zero-padding for shortcuts).

Every helper names its layers from one `name` prefix, keras-applications style
(`block3_conv2`, `conv2_block1_1_conv`), so explanations can address them.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from models.common import activation_layer, initializer, widen


def conv_unit(
    x,
    filters: int,
    kernel: int | tuple[int, int],
    *,
    name: str,
    activation: str,
    init: str,
    batch_norm: bool = False,
    strides: int = 1,
    padding: str = "same",
    bn_epsilon: float = 1e-3,
):
    """Conv2D (+ BatchNormalization) + activation.

    Without batch norm, Keras activations run inside the conv (so `name` is the
    post-activation output, as in keras.applications' VGG); with batch norm, or for
    maxout, the conv (`name`) is followed by `{name}_bn` and `{name}_act`.
    """
    fused = not batch_norm and activation != "maxout"
    x = layers.Conv2D(
        widen(activation, filters),
        kernel,
        strides=strides,
        padding=padding,
        use_bias=not batch_norm,
        activation=activation if fused else None,
        kernel_initializer=initializer(init),
        name=name,
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(epsilon=bn_epsilon, name=f"{name}_bn")(x)
    if not fused:
        x = activation_layer(activation, layer_name=f"{name}_act")(x)
    return x


def dense_unit(x, units: int, *, name: str, activation: str, init: str, dropout: float = 0.0):
    """Dense + activation (+ dropout): the fully connected layers of AlexNet and VGG."""
    fused = activation != "maxout"
    x = layers.Dense(
        widen(activation, units),
        activation=activation if fused else None,
        kernel_initializer=initializer(init),
        name=name,
    )(x)
    if not fused:
        x = activation_layer(activation, layer_name=f"{name}_act")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def classifier_head(x, num_classes: int, *, dropout: float = 0.0, pooled: bool = False):
    """Global average pooling (unless `pooled`), dropout, logits."""
    if not pooled:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(num_classes, name="logits")(x)


@keras.saving.register_keras_serializable(package="dlzoo")
class LocalResponseNormalization(layers.Layer):
    """Across-channel LRN of AlexNet (Krizhevsky et al. 2012, section 3.3) and GoogLeNet:
    `b = a / (k + alpha * sum_{|j-i|<=n/2} a_j^2) ** beta`, paper values k=2, n=5,
    alpha=1e-4, beta=0.75. Keras has no LRN layer; written with `keras.ops` (the
    windowed channel sum is an average pool over the channel axis)."""

    def __init__(
        self, size: int = 5, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75, **kw
    ) -> None:
        super().__init__(**kw)
        self.size, self.bias, self.alpha, self.beta = size, bias, alpha, beta

    def call(self, x):
        channels = x.shape[-1]
        flat = ops.reshape(ops.square(x), (-1, channels, 1))  # pool along the channels
        half = self.size // 2
        flat = ops.pad(flat, [[0, 0], [half, self.size - 1 - half], [0, 0]])
        window = ops.average_pool(flat, self.size, strides=1, padding="valid") * self.size
        total = ops.reshape(window, ops.shape(x))
        return x / ops.power(self.bias + self.alpha * total, self.beta)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": self.size,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }


@keras.saving.register_keras_serializable(package="dlzoo")
class PadChannels(layers.Layer):
    """Option A shortcut of He et al. 2016 (CIFAR ResNets): subsample by `stride` and
    append zero channels up to `channels`; adds no parameters. Keras' ZeroPadding
    layers pad only spatial axes, so this small layer does the channel axis."""

    def __init__(self, channels: int, stride: int = 1, **kw) -> None:
        super().__init__(**kw)
        self.channels, self.stride = channels, stride

    def call(self, x):
        if self.stride > 1:
            x = x[:, :: self.stride, :: self.stride, :]
        extra = self.channels - x.shape[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])

    def compute_output_shape(self, input_shape):
        def down(n):
            return None if n is None else -(-n // self.stride)

        return (input_shape[0], down(input_shape[1]), down(input_shape[2]), self.channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "channels": self.channels, "stride": self.stride}
