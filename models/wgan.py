"""Wasserstein GANs: WGAN (Arjovsky, Chintala, Bottou 2017, "Wasserstein GAN") and
WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs").

A critic C (no sigmoid) estimates the Earth-Mover distance
W(P_data, P_G) = max_{|C|_L <= 1} E[C(x)] - E[C(G(z))]; the generator minimizes
-E[C(G(z))]. The critic is trained `d_steps` times per generator step (n_critic = 5 in
both papers; as in the keras.io example, every critic step of a batch reuses its real
images with fresh noise). The Lipschitz constraint is enforced by clipping the
critic's weights to [-c, c] after each update (WGAN, with RMSprop: set
`train.optimizer: rmsprop`, lr 5e-5) or by the gradient penalty
lambda * E[(|grad C(x_hat)|_2 - 1)^2] on random interpolates x_hat (WGAN-GP, Adam
lr 1e-4, beta_1 0.5, beta_2 0.9; no batch norm in the critic, which would make the
per-sample penalty invalid). Images are in [-1, 1] inside (tanh generator).
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import tensorflow as tf
from keras import ops

from models.adversarial import AdversarialModel, penalties
from models.gan_nets import (
    Norm,
    check_image_shape,
    conv_discriminator,
    conv_generator,
    mlp_discriminator,
    mlp_generator,
)
from models.registry import register_model


class WGAN(AdversarialModel):
    """Critic and generator; the critic's weights are clipped to [-clip_value, clip_value].

    The attribute holding the critic is `discriminator` (the optimizer role is
    `d_optimizer`), so the adversarial base and the pipeline treat both alike.
    """

    tracker_names = ("d_loss", "g_loss", "w_distance")

    def __init__(
        self,
        *,
        generator: keras.Model,
        critic: keras.Model,
        d_steps: int = 5,
        clip_value: float | None = 0.01,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, critic
        self.d_steps, self.clip_value = d_steps, clip_value

    def train_step(self, data) -> dict[str, Any]:
        real, _, _ = self._unpack(data)
        batch = ops.shape(real)[0]
        for _ in range(self.d_steps):  # unrolled when fit() traces the step
            losses = self._critic_step(real)
        g_loss = self._generator_step(batch)
        return self._report(g_loss=g_loss, **losses)

    def test_step(self, data) -> dict[str, Any]:
        real, _, _ = self._unpack(data)
        fake = self.generator(self.sample_noise(ops.shape(real)[0]), training=False)
        losses = self._critic_losses(real, fake, training=False)
        g_loss = -ops.mean(self.discriminator(fake, training=False))
        return self._report(g_loss=g_loss, **{k: v for k, v in losses.items() if k != "total"})

    def _critic_losses(self, real, fake, training: bool) -> dict[str, Any]:
        distance = ops.mean(self.discriminator(real, training=training)) - ops.mean(
            self.discriminator(fake, training=training)
        )
        return {"d_loss": -distance, "w_distance": distance, "total": -distance}

    def _critic_step(self, real) -> dict[str, Any]:
        fake = self.generator(self.sample_noise(ops.shape(real)[0]), training=True)
        with tf.GradientTape() as tape:
            losses = self._critic_losses(real, fake, training=True)
            total = losses.pop("total") + penalties(self.discriminator)
        self._apply(self.d_optimizer, tape, total, self.discriminator.trainable_variables)
        if self.clip_value is not None:
            for weight in self.discriminator.trainable_variables:
                weight.assign(ops.clip(weight, -self.clip_value, self.clip_value))
        return losses

    def _generator_step(self, batch) -> Any:
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_noise(batch), training=True)
            loss = -ops.mean(self.discriminator(fake, training=True))
            total = loss + penalties(self.generator)
        self._apply(self.g_optimizer, tape, total, self.generator.trainable_variables)
        return loss


class WGANGP(WGAN):
    """WGAN with the gradient penalty instead of clipping (Gulrajani et al. 2017)."""

    tracker_names = ("d_loss", "g_loss", "gp_loss", "w_distance")

    def __init__(self, *, gp_weight: float = 10.0, **kwargs):
        super().__init__(clip_value=None, **kwargs)
        self.gp_weight = gp_weight

    def _critic_losses(self, real, fake, training: bool) -> dict[str, Any]:
        losses = super()._critic_losses(real, fake, training)
        gp = self.gradient_penalty(real, fake)
        d_loss = losses["d_loss"] + self.gp_weight * gp
        return {**losses, "d_loss": d_loss, "gp_loss": gp, "total": d_loss}

    def gradient_penalty(self, real, fake) -> Any:
        """E[(|grad_x C(x_hat)|_2 - 1)^2], x_hat uniform on segments real -- fake."""
        shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
        eps = keras.random.uniform(shape, seed=self.seed_generator)
        mixed = real + eps * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            scores = self.discriminator(mixed, training=True)
        grads = tape.gradient(scores, mixed)
        axes = tuple(range(1, len(real.shape)))
        norms = ops.sqrt(ops.sum(ops.square(grads), axis=axes) + 1e-12)
        return ops.mean(ops.square(norms - 1.0))


def _players(
    arch: str, shape: tuple, latent_dim: int, widths: tuple, conv: tuple, norm: Norm
) -> dict[str, keras.Model]:
    """Generator and critic for `arch` ("mlp": widths; "conv": (filters, stages))."""
    if arch == "conv":
        filters, stages = conv
        check_image_shape(shape, stages, "wgan")
        return {
            "generator": conv_generator(
                latent_dim=latent_dim, output_shape=shape, filters=filters, stages=stages
            ),
            "critic": conv_discriminator(
                input_shape=shape, filters=filters, stages=stages, norm=norm, name="critic"
            ),
        }
    g_widths, d_widths = widths
    return {
        "generator": mlp_generator(latent_dim=latent_dim, output_shape=shape, widths=g_widths),
        "critic": mlp_discriminator(input_shape=shape, widths=d_widths, norm=norm, name="critic"),
    }


@register_model("wgan", task="generative")
def wgan(
    *,
    input_shape: tuple[int, ...],
    arch: Literal["mlp", "conv"] = "mlp",
    latent_dim: int = 64,
    g_widths: list[int] = [256, 512],  # noqa: B006 (read-only defaults shown in the docs)
    d_widths: list[int] = [512, 256],  # noqa: B006
    filters: int = 64,
    stages: int = 2,
    d_steps: int = 5,
    clip_value: float = 0.01,
    critic_norm: Norm = "none",
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> WGAN:
    """WGAN with weight clipping (Arjovsky et al. 2017); train with RMSprop.

    Args:
        arch: "mlp" (g_widths, d_widths) or "conv" (filters, stages; DCGAN players).
        d_steps: critic updates per generator update (n_critic).
        clip_value: critic weights are clipped to [-clip_value, clip_value].
        critic_norm: normalization inside the critic ("batch" as in the paper's DCGAN).
    """
    players = _players(
        arch, tuple(input_shape), latent_dim, (g_widths, d_widths), (filters, stages), critic_norm
    )
    return WGAN(
        **players,
        d_steps=d_steps,
        clip_value=clip_value,
        latent_dim=latent_dim,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="wgan",
    )


@register_model("wgan_gp", task="generative")
def wgan_gp(
    *,
    input_shape: tuple[int, ...],
    arch: Literal["mlp", "conv"] = "mlp",
    latent_dim: int = 64,
    g_widths: list[int] = [256, 512],  # noqa: B006
    d_widths: list[int] = [512, 256],  # noqa: B006
    filters: int = 64,
    stages: int = 2,
    d_steps: int = 5,
    gp_weight: float = 10.0,
    critic_norm: Literal["layer", "none"] = "none",
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> WGANGP:
    """WGAN-GP (Gulrajani et al. 2017): gradient penalty, `d_steps` critic steps.

    Args:
        gp_weight: lambda, the penalty's weight (10 in the paper).
        critic_norm: "layer" or "none"; batch norm is not allowed with the penalty.
    """
    players = _players(
        arch, tuple(input_shape), latent_dim, (g_widths, d_widths), (filters, stages), critic_norm
    )
    return WGANGP(
        **players,
        d_steps=d_steps,
        gp_weight=gp_weight,
        latent_dim=latent_dim,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="wgan_gp",
    )
