"""Network in Network (Lin, Chen, Yan 2014, arXiv:1312.4400): "mlpconv" blocks, a
spatial convolution followed by two 1x1 convolutions (a small MLP slid over every
position), and no fully connected layer: the last 1x1 convolution gives one map per
class, averaged over space into the logits (global average pooling).

The layout is the paper's CIFAR-10 network (192-160-96 / 192-192-192 / 192-192-C
channels, max then average pooling, dropout 0.5 between blocks); `width` scales it.
The class maps (`class_maps`) are class activation maps by construction.
"""

from __future__ import annotations

import keras
from keras import layers

from models.blocks import conv_unit
from models.common import Activation, Initializer, min_size_check
from models.registry import register_model

# (spatial kernel, channels of conv / mlp1 / mlp2) per block; block 3's mlp2 is the classes.
_BLOCKS = ((5, (192, 160, 96)), (5, (192, 192, 192)), (3, (192, 192, None)))


@register_model("nin", gradcam_layer="block3_mlp1")
def nin(
    *,
    input_shape: tuple[int, ...] = (32, 32, 3),
    num_classes: int = 10,
    width: float = 1.0,
    dropout: float = 0.5,
    batch_norm: bool = False,
    activation: Activation = "relu",
    kernel_initializer: Initializer = "he_normal",
) -> keras.Model:
    """Network in Network: three mlpconv blocks and a global-average-pooling head.

    Args:
        width: multiplies every block's channels (1.0 = the paper's CIFAR net).
        dropout: after the first two blocks (0.5 in the paper).
        batch_norm: conv -> BN -> activation (not in the paper; eases training).
    """
    min_size_check(input_shape, 4, "nin")
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    for b, (kernel, channels) in enumerate(_BLOCKS, start=1):
        for j, filters in enumerate(channels):
            if filters is None:  # the class maps: linear, one per class
                break
            x = conv_unit(
                x,
                max(1, round(filters * width)),
                kernel if j == 0 else 1,
                name=f"block{b}_conv" if j == 0 else f"block{b}_mlp{j}",
                activation=activation,
                init=kernel_initializer,
                batch_norm=batch_norm,
            )
        if b == 1:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="block1_pool")(x)
        elif b == 2:
            x = layers.AveragePooling2D(3, strides=2, padding="same", name="block2_pool")(x)
        if b < 3 and dropout:
            x = layers.Dropout(dropout, name=f"block{b}_dropout")(x)
    x = layers.Conv2D(num_classes, 1, name="class_maps")(x)
    outputs = layers.GlobalAveragePooling2D(name="logits")(x)
    return keras.Model(inputs, outputs, name="nin")
