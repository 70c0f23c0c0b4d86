"""The networks inside the generative models: dense and convolutional generators
(decoders) and discriminators (critics, encoders), optionally label-conditioned, and
`encoder_decoder`, the autoencoders' pair built from them.

Conditioning: the generator gets the one-hot label concatenated to its noise (Mirza
& Osindero 2014, "Conditional Generative Adversarial Nets"); the discriminator is a
projection discriminator (Miyato & Koyama 2018, "cGANs with Projection Discriminator"):
D(x, y) = w . phi(x) + embed(y) . phi(x). On the digits, concatenating the label to
the discriminator's input (Mirza's way) left the label ignored for ~60 epochs; the
projection reached 0.98 label accuracy in 40. Conditional nets take a dict
`{<input>: ..., "labels": ...}`.
The convolutional pair follows Radford et al. 2015 (DCGAN): strided (transposed)
convolutions instead of pooling, batch norm except at the generator output and the
discriminator input, ReLU in the generator, LeakyReLU(0.2) in the discriminator.
"""

from __future__ import annotations

import math
from typing import Literal

import keras
from keras import layers

Norm = Literal["batch", "layer", "none"]


def _inputs(shape, name: str, num_classes: int) -> tuple[dict | keras.KerasTensor, list]:
    """The model input(s) and [data tensor, integer label tensor or None]."""
    data = keras.Input(shape, name=name)
    if not num_classes:
        return data, [data, None]
    labels = keras.Input((), dtype="int32", name="labels")
    return {name: data, "labels": labels}, [data, labels]


def _condition(x, labels, num_classes: int) -> keras.KerasTensor:
    """Concatenate the one-hot label to a code (the generator's conditioning)."""
    onehot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="onehot")(labels)
    return layers.Concatenate(name="condition")([x, onehot])


def _project(outputs, features, labels, num_classes: int, prefix: str) -> keras.KerasTensor:
    """Projection conditioning: add embed(y) . features to the output logit."""
    embed = layers.Embedding(num_classes, features.shape[-1], name=f"{prefix}_label_embed")
    inner = layers.Dot(axes=1, name=f"{prefix}_projection")([embed(labels), features])
    return layers.Add(name=f"{prefix}_conditioned")([outputs, inner])


def _norm(kind: Norm, name: str) -> layers.Layer:
    if kind == "batch":
        return layers.BatchNormalization(name=f"{name}_bn")
    if kind == "layer":
        return layers.LayerNormalization(name=f"{name}_ln")
    return layers.Identity(name=f"{name}_id")


def _act(kind: str, name: str) -> layers.Layer:
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act")
    return layers.Activation(kind, name=f"{name}_act")


def mlp_generator(
    *,
    latent_dim: int,
    output_shape: tuple[int, ...],
    widths: list[int],
    num_classes: int = 0,
    norm: Norm = "none",
    activation: str = "relu",
    output_activation: str = "tanh",
    input_name: str = "noise",
    prefix: str = "g",
    name: str = "generator",
) -> keras.Model:
    """Dense layers of `widths` from the code to `output_shape` (a decoder, too)."""
    inputs, (x, labels) = _inputs((latent_dim,), input_name, num_classes)
    if labels is not None:
        x = _condition(x, labels, num_classes)
    for i, units in enumerate(widths, start=1):
        x = layers.Dense(units, use_bias=norm == "none", name=f"{prefix}_dense{i}")(x)
        x = _act(activation, f"{prefix}_dense{i}")(_norm(norm, f"{prefix}_dense{i}")(x))
    x = layers.Dense(math.prod(output_shape), activation=output_activation, name=f"{prefix}_out")(x)
    outputs = layers.Reshape(output_shape, name="images")(x)
    return keras.Model(inputs, outputs, name=name)


def mlp_discriminator(
    *,
    input_shape: tuple[int, ...],
    widths: list[int],
    units: int = 1,
    num_classes: int = 0,
    dropout: float = 0.0,
    norm: Norm = "none",
    activation: str = "leaky_relu",
    output_activation: str | None = None,
    input_name: str = "images",
    prefix: str = "d",
    name: str = "discriminator",
) -> keras.Model:
    """Flatten, dense layers of `widths`, `units` outputs (logits, a critic score or,
    with `output_activation`, an encoder's code)."""
    inputs, (x, labels) = _inputs(input_shape, input_name, num_classes)
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(widths, start=1):
        x = layers.Dense(width, name=f"{prefix}_dense{i}")(x)
        x = _act(activation, f"{prefix}_dense{i}")(_norm(norm, f"{prefix}_dense{i}")(x))
        if dropout:
            x = layers.Dropout(dropout, name=f"{prefix}_dense{i}_dropout")(x)
    outputs = layers.Dense(units, activation=output_activation, name=f"{prefix}_out")(x)
    if labels is not None:
        outputs = _project(outputs, x, labels, num_classes, prefix)
    return keras.Model(inputs, outputs, name=name)


def check_image_shape(shape: tuple[int, ...], stages: int, model: str) -> None:
    """Conv generators need (H, W, C) images whose sides halve `stages` times."""
    factor = 2**stages
    if len(shape) != 3:
        raise ValueError(
            f"model {model!r} generates images (height, width, channels); received "
            f"input_shape={tuple(shape)} (a dense model such as gan or dense_ae takes vectors)"
        )
    if shape[0] % factor or shape[1] % factor:
        raise ValueError(
            f"model {model!r} with stages={stages} needs image sides divisible by "
            f"{factor}; received input_shape={tuple(shape)}"
        )


def conv_generator(
    *,
    latent_dim: int,
    output_shape: tuple[int, ...],
    filters: int = 64,
    stages: int = 2,
    num_classes: int = 0,
    norm: Norm = "batch",
    output_activation: str = "tanh",
    input_name: str = "noise",
    prefix: str = "g",
    name: str = "generator",
) -> keras.Model:
    """Project the code to (H/2^s, W/2^s) maps, then `stages` stride-2 transposed convs."""
    check_image_shape(output_shape, stages, name)
    h, w, channels = output_shape
    base = filters * 2 ** (stages - 1)
    inputs, (x, labels) = _inputs((latent_dim,), input_name, num_classes)
    if labels is not None:
        x = _condition(x, labels, num_classes)
    size = (h >> stages) * (w >> stages) * base
    x = layers.Dense(size, use_bias=norm == "none", name=f"{prefix}_proj")(x)
    x = _act("relu", f"{prefix}_proj")(_norm(norm, f"{prefix}_proj")(x))
    x = layers.Reshape((h >> stages, w >> stages, base), name=f"{prefix}_reshape")(x)
    for s in range(1, stages):
        up = f"{prefix}_up{s}"
        x = layers.Conv2DTranspose(
            base >> s, 4, strides=2, padding="same", use_bias=norm == "none", name=up
        )(x)
        x = _act("relu", up)(_norm(norm, up)(x))
    outputs = layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation=output_activation, name="images"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def conv_discriminator(
    *,
    input_shape: tuple[int, ...],
    filters: int = 64,
    stages: int = 2,
    units: int = 1,
    num_classes: int = 0,
    norm: Norm = "batch",
    dropout: float = 0.0,
    activation: str = "leaky_relu",
    output_activation: str | None = None,
    input_name: str = "images",
    prefix: str = "d",
    name: str = "discriminator",
) -> keras.Model:
    """`stages` stride-2 convs (no norm on the first), flatten, `units` outputs."""
    check_image_shape(input_shape, stages, name)
    inputs, (x, labels) = _inputs(input_shape, input_name, num_classes)
    for s in range(stages):
        conv = f"{prefix}_conv{s + 1}"
        x = layers.Conv2D(filters << s, 4, strides=2, padding="same", name=conv)(x)
        if s:
            x = _norm(norm, conv)(x)
        x = _act(activation, conv)(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{prefix}_dropout")(x)
    outputs = layers.Dense(units, activation=output_activation, name=f"{prefix}_out")(x)
    if labels is not None:
        outputs = _project(outputs, x, labels, num_classes, prefix)
    return keras.Model(inputs, outputs, name=name)


def encoder_decoder(
    *,
    arch: str,
    input_shape: tuple[int, ...],
    code_units: int,
    latent_dim: int,
    widths: list[int],
    filters: int,
    stages: int,
    code_activation: str | None = None,
    model: str,
) -> dict[str, keras.Model]:
    """Encoder (images -> `code_units`) and decoder (`latent_dim` codes -> images)."""
    shape = tuple(input_shape)
    if arch == "conv":
        check_image_shape(shape, stages, model)
        common = {"filters": filters, "stages": stages, "norm": "none"}
        encoder = conv_discriminator(
            input_shape=shape,
            units=code_units,
            activation="relu",
            prefix="enc",
            output_activation=code_activation,
            name="encoder",
            **common,
        )
        decoder = conv_generator(
            latent_dim=latent_dim,
            output_shape=shape,
            output_activation="sigmoid",
            input_name="codes",
            prefix="dec",
            name="decoder",
            **common,
        )
        return {"encoder": encoder, "decoder": decoder}
    encoder = mlp_discriminator(
        input_shape=shape,
        widths=widths,
        units=code_units,
        activation="relu",
        output_activation=code_activation,
        prefix="enc",
        name="encoder",
    )
    decoder = mlp_generator(
        latent_dim=latent_dim,
        output_shape=shape,
        widths=list(reversed(widths)),
        output_activation="sigmoid",
        input_name="codes",
        prefix="dec",
        name="decoder",
    )
    return {"encoder": encoder, "decoder": decoder}
