"""Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

Both players see the label y:
min_G max_D E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))].
The generator gets the one-hot label concatenated to its noise (Mirza's way); the
discriminator conditions by projection (Miyato & Koyama 2018), which learns to use
the label far sooner than concatenation (`models/gan_nets.py` has the numbers). The
training step is the GAN's (`models.gan.GAN`), the batch's own labels given to the
fakes, so fake labels follow the data's class balance. After training, G(z, y) draws
an image of the requested class y.
"""

from __future__ import annotations

from typing import Literal

from models.gan import GAN
from models.gan_nets import (
    check_image_shape,
    conv_discriminator,
    conv_generator,
    mlp_discriminator,
    mlp_generator,
)
from models.registry import register_model


@register_model("cgan", task="generative")
def cgan(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    arch: Literal["mlp", "conv"] = "mlp",
    latent_dim: int = 64,
    g_widths: list[int] = [256, 512],  # noqa: B006 (read-only defaults shown in the docs)
    d_widths: list[int] = [512, 256],  # noqa: B006
    filters: int = 64,
    stages: int = 2,
    dropout: float = 0.3,
    label_smoothing: float = 0.0,
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> GAN:
    """Label-conditioned GAN: dense (Mirza 2014) or convolutional (DCGAN-style) players.

    Args:
        arch: "mlp" uses `g_widths`/`d_widths`; "conv" uses `filters`/`stages`.
        dropout: discriminator dropout.
        d_lr_scale: discriminator learning rate = this x train.optimizer.learning_rate.
    """
    if num_classes < 2:
        raise ValueError(
            f"cgan needs a labelled dataset with >= 2 classes; received num_classes={num_classes}"
        )
    shape = tuple(input_shape)
    if arch == "conv":
        check_image_shape(shape, stages, "cgan")
        generator = conv_generator(
            latent_dim=latent_dim,
            output_shape=shape,
            filters=filters,
            stages=stages,
            num_classes=num_classes,
        )
        discriminator = conv_discriminator(
            input_shape=shape,
            filters=filters,
            stages=stages,
            num_classes=num_classes,
            dropout=dropout,
        )
    else:
        generator = mlp_generator(
            latent_dim=latent_dim, output_shape=shape, widths=g_widths, num_classes=num_classes
        )
        discriminator = mlp_discriminator(
            input_shape=shape, widths=d_widths, num_classes=num_classes, dropout=dropout
        )
    return GAN(
        generator=generator,
        discriminator=discriminator,
        label_smoothing=label_smoothing,
        latent_dim=latent_dim,
        num_classes=num_classes,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="cgan",
    )
