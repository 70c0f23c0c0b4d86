"""GAN (Goodfellow et al. 2014, "Generative Adversarial Nets") and DCGAN (Radford, Metz,
Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional GANs").

The discriminator D maximizes E[log D(x)] + E[log(1 - D(G(z)))]; the generator uses
the paper's non-saturating alternative, maximizing E[log D(G(z))], which gives strong
gradients early in training. One D update then one G update per batch (the paper's
k = 1). The networks see images in [-1, 1] (tanh generator output); the model maps
the data's raw range in and out. Conditioned on labels, the same class is the
conditional GAN of `models/cgan.py`.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from models.adversarial import AdversarialModel, bce, penalties
from models.gan_nets import (
    check_image_shape,
    conv_discriminator,
    conv_generator,
    mlp_discriminator,
    mlp_generator,
)
from models.registry import register_model


class GAN(AdversarialModel):
    """Generator and discriminator (logits) trained by the two-player game.

    Args:
        generator: noise (dict with "labels" when conditional) -> images in [-1, 1].
        discriminator: images (dict with "labels" when conditional) -> one logit.
        label_smoothing: one-sided smoothing of the real target (Salimans et al. 2016).
    """

    def __init__(
        self,
        *,
        generator: keras.Model,
        discriminator: keras.Model,
        label_smoothing: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.label_smoothing = label_smoothing

    def train_step(self, data) -> dict[str, Any]:
        real, _, labels = self._unpack(data)
        batch = ops.shape(real)[0]
        d_loss = self._discriminator_step(real, labels)
        g_loss = self._generator_step(batch, labels)
        return self._report(d_loss=d_loss, g_loss=g_loss)

    def test_step(self, data) -> dict[str, Any]:
        real, _, labels = self._unpack(data)
        fake = self.generate_from(self.sample_noise(ops.shape(real)[0]), labels)
        return self._report(
            d_loss=self._d_loss(real, fake, labels, training=False),
            g_loss=self._g_loss(fake, labels, training=False),
        )

    def _judge(self, images, labels, training: bool) -> Any:
        if self.conditional:
            return self.discriminator(
                {"images": images, "labels": ops.cast(labels, "int32")}, training=training
            )
        return self.discriminator(images, training=training)

    def _d_loss(self, real, fake, labels, training: bool) -> Any:
        real_target = 1.0 - self.label_smoothing
        return ops.mean(bce(real_target, self._judge(real, labels, training))) + ops.mean(
            bce(0.0, self._judge(fake, labels, training))
        )

    def _g_loss(self, fake, labels, training: bool) -> Any:
        return ops.mean(bce(1.0, self._judge(fake, labels, training)))  # non-saturating

    def _discriminator_step(self, real, labels) -> Any:
        fake = self.generate_from(self.sample_noise(ops.shape(real)[0]), labels, training=True)
        with tf.GradientTape() as tape:
            loss = self._d_loss(real, fake, labels, training=True)
            total = loss + penalties(self.discriminator)
        self._apply(self.d_optimizer, tape, total, self.discriminator.trainable_variables)
        return loss

    def _generator_step(self, batch, labels) -> Any:
        with tf.GradientTape() as tape:
            fake = self.generate_from(self.sample_noise(batch), labels, training=True)
            loss = self._g_loss(fake, labels, training=True)
            total = loss + penalties(self.generator)
        self._apply(self.g_optimizer, tape, total, self.generator.trainable_variables)
        return loss


@register_model("gan", task="generative")
def gan(
    *,
    input_shape: tuple[int, ...],
    latent_dim: int = 64,
    g_widths: list[int] = [256, 512],  # noqa: B006 (read-only defaults shown in the docs)
    d_widths: list[int] = [512, 256],  # noqa: B006
    dropout: float = 0.3,
    label_smoothing: float = 0.0,
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> GAN:
    """GAN with dense generator and discriminator (Goodfellow et al. 2014).

    Args:
        latent_dim: size of the N(0, I) noise.
        g_widths, d_widths: hidden layer widths of each player.
        dropout: after each discriminator layer (the paper regularizes D with dropout).
        label_smoothing: one-sided; 0.1 softens an over-confident discriminator.
        d_lr_scale: discriminator learning rate = this x train.optimizer.learning_rate.
        seed: seed of the noise draws.
    """
    return GAN(
        generator=mlp_generator(
            latent_dim=latent_dim, output_shape=tuple(input_shape), widths=g_widths
        ),
        discriminator=mlp_discriminator(
            input_shape=tuple(input_shape), widths=d_widths, dropout=dropout
        ),
        label_smoothing=label_smoothing,
        latent_dim=latent_dim,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="gan",
    )


@register_model("dcgan", task="generative")
def dcgan(
    *,
    input_shape: tuple[int, ...],
    latent_dim: int = 100,
    filters: int = 64,
    stages: int = 2,
    dropout: float = 0.0,
    label_smoothing: float = 0.0,
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> GAN:
    """DCGAN (Radford et al. 2015): strided convs, batch norm, ReLU / LeakyReLU, tanh.

    Args:
        filters: width of the discriminator's first conv (doubling per stage) and of
            the generator's last hidden stage.
        stages: stride-2 stages; image sides must be divisible by 2**stages.
        dropout: before the discriminator's output layer (0: the paper's setting).
    """
    shape = tuple(input_shape)
    check_image_shape(shape, stages, "dcgan")
    return GAN(
        generator=conv_generator(
            latent_dim=latent_dim, output_shape=shape, filters=filters, stages=stages
        ),
        discriminator=conv_discriminator(
            input_shape=shape, filters=filters, stages=stages, dropout=dropout
        ),
        label_smoothing=label_smoothing,
        latent_dim=latent_dim,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="dcgan",
    )
