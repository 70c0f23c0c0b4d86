"""Adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow, Frey 2015,
"Adversarial Autoencoders").

A deterministic encoder q(z|x), a decoder, and a discriminator on CODES. Each batch
runs the paper's two phases, in three updates:
  1. reconstruction: encoder + decoder minimize |dec(enc(x)) - x|^2;
  2. regularization, discriminator: D tells prior samples z ~ p(z) (real) from codes
     enc(x) (fake);
  3. regularization, generator: the encoder updates to fool D,
so the aggregated posterior q(z) is matched to the prior and the decoder turns any
prior sample into a plausible image. Priors: N(0, I), or a mixture of Gaussians whose
means lie on a circle in the first two code dimensions. `supervised: true` is the
paper's section 2.3 (label information in the adversarial regularization): D also
sees the one-hot label, and the prior sample for an image of class k is drawn from
component k, so each class gets its own region of the code space and decoding
component k's samples generates class k. Pixels are in [0, 1] inside.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import keras
import tensorflow as tf
from keras import ops

from models.adversarial import AdversarialModel, bce, penalties
from models.autoencoders import DEFAULT_WIDTHS, Recon
from models.autoencoders import reconstruction_error as error
from models.gan_nets import encoder_decoder, mlp_discriminator
from models.registry import register_model


def mixture_codes(z, component, *, components: int, radius: float, spread: float):
    """Standard normal draws `z` (n, latent_dim) moved onto the mixture prior: component
    k is centred at radius * (cos, sin)(2 pi k / components) in the first two
    dimensions, with std `spread` (Makhzani et al. 2015, Fig. 4). Also what
    `dlzoo generate` draws from an exported decoder's recorded prior."""
    angle = ops.cast(component, "float32") * (2.0 * math.pi / components)
    centers = radius * ops.stack([ops.cos(angle), ops.sin(angle)], axis=-1)
    centers = ops.pad(centers, [[0, 0], [0, ops.shape(z)[-1] - 2]])
    return centers + spread * ops.cast(z, "float32")


class AAE(AdversarialModel):
    """Encoder, decoder, code discriminator; optimizers `ae_`, `d_`, `g_optimizer`."""

    tracker_names = ("recon_loss", "d_loss", "g_loss")
    optimizer_roles = ("ae_optimizer", "d_optimizer", "g_optimizer")
    model_range = "unit"
    export_names = ("encoder", "decoder")

    def __init__(
        self,
        *,
        encoder: keras.Model,
        decoder: keras.Model,
        discriminator: keras.Model,
        prior: str = "gaussian",
        components: int = 10,
        radius: float = 4.0,
        spread: float = 0.5,
        supervised: bool = False,
        recon: str = "mse",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.discriminator = encoder, decoder, discriminator
        self.prior, self.components, self.supervised = prior, components, supervised
        self.radius, self.spread, self.recon = radius, spread, recon

    @property
    def conditional(self) -> bool:
        return self.supervised  # a label picks the prior component to decode

    def compile(self, *, ae_optimizer, d_optimizer, g_optimizer, **kwargs) -> None:
        self.ae_optimizer = ae_optimizer
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    def player_variables(self) -> dict[str, list]:
        return {
            "ae_optimizer": self.encoder.trainable_variables + self.decoder.trainable_variables,
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.encoder.trainable_variables,
        }

    def sample_labels(self, n, seed=None) -> Any:
        seed = self.seed_generator if seed is None else seed
        return keras.random.randint((n,), 0, self.components, seed=seed)

    def sample_noise(self, n, labels=None, seed=None) -> Any:
        """Draws from the prior; for the mixture, `labels` choose the components."""
        z = super().sample_noise(n, seed=seed)
        if self.prior == "gaussian":
            return z
        if labels is None:
            labels = self.sample_labels(n, seed=None if seed is None else seed + 1)
        return mixture_codes(
            z, labels, components=self.components, radius=self.radius, spread=self.spread
        )

    def generate_from(self, noise, labels=None, training: bool = False) -> Any:
        return self.decoder(noise, training=training)

    def encode(self, x, training: bool = False) -> Any:
        return self.encoder(x, training=training)

    def encoder_outputs(self, h) -> dict[str, Any]:
        return {"codes": h}

    def call(self, inputs, training: bool = False):
        """Raw images -> raw-range reconstructions."""
        codes = self.encoder(self.preprocess(inputs), training=training)
        return self.postprocess(self.decoder(codes, training=training))

    def train_step(self, data) -> dict[str, Any]:
        x, clean, labels = self._unpack(data)
        recon_loss = self._reconstruction_step(x, clean)
        d_loss = self._discriminator_step(x, labels)
        g_loss = self._encoder_step(x, labels)
        return self._report(recon_loss=recon_loss, d_loss=d_loss, g_loss=g_loss)

    def test_step(self, data) -> dict[str, Any]:
        x, clean, labels = self._unpack(data)
        codes = self.encoder(x, training=False)
        recon = self.decoder(codes, training=False)
        return self._report(
            recon_loss=ops.mean(error(clean, recon, self.recon)),
            d_loss=self._d_loss(codes, labels, training=False),
            g_loss=ops.mean(bce(1.0, self._discriminate(codes, labels, training=False))),
        )

    def _discriminate(self, codes, labels, training: bool) -> Any:
        if self.supervised:
            labels = ops.cast(labels, "int32")
            return self.discriminator({"codes": codes, "labels": labels}, training=training)
        return self.discriminator(codes, training=training)

    def _d_loss(self, codes, labels, training: bool) -> Any:
        prior = self.sample_noise(ops.shape(codes)[0], labels if self.supervised else None)
        real = bce(1.0, self._discriminate(prior, labels, training))
        fake = bce(0.0, self._discriminate(codes, labels, training))
        return ops.mean(real) + ops.mean(fake)

    def _reconstruction_step(self, x, clean) -> Any:
        variables = self.player_variables()["ae_optimizer"]
        with tf.GradientTape() as tape:
            recon = self.decoder(self.encoder(x, training=True), training=True)
            loss = ops.mean(error(clean, recon, self.recon))
            total = loss + penalties(self.encoder) + penalties(self.decoder)
        self._apply(self.ae_optimizer, tape, total, variables)
        return loss

    def _discriminator_step(self, x, labels) -> Any:
        codes = self.encoder(x, training=True)
        with tf.GradientTape() as tape:
            loss = self._d_loss(codes, labels, training=True)
            total = loss + penalties(self.discriminator)
        self._apply(self.d_optimizer, tape, total, self.discriminator.trainable_variables)
        return loss

    def _encoder_step(self, x, labels) -> Any:
        with tf.GradientTape() as tape:
            codes = self.encoder(x, training=True)
            loss = ops.mean(bce(1.0, self._discriminate(codes, labels, training=True)))
        self._apply(self.g_optimizer, tape, loss, self.encoder.trainable_variables)
        return loss


@register_model("aae", task="generative")
def aae(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    arch: Literal["dense", "conv"] = "dense",
    latent_dim: int = 8,
    widths: list[int] = DEFAULT_WIDTHS,
    filters: int = 32,
    stages: int = 2,
    d_widths: list[int] = [256, 256],  # noqa: B006 (read-only default shown in the docs)
    prior: Literal["gaussian", "mixture"] = "gaussian",
    components: int = 10,
    radius: float = 4.0,
    spread: float = 0.5,
    supervised: bool = False,
    recon: Recon = "mse",
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> AAE:
    """Adversarial autoencoder with a Gaussian or mixture-of-Gaussians code prior.

    Args:
        latent_dim: code size (2 draws the latent map directly).
        d_widths: the code discriminator's hidden widths.
        prior: "gaussian" N(0, I) or "mixture" of `components` Gaussians of std
            `spread` centred on a circle of `radius` (first two code dimensions).
        supervised: give D the label and match class k to component k (mixture prior,
            one component per class; section 2.3 of the paper).
    """
    if supervised and prior != "mixture":
        raise ValueError(
            "supervised=True needs prior='mixture' (one component per class); "
            f"received prior={prior!r}"
        )
    if prior == "mixture" and latent_dim < 2:
        raise ValueError(
            f"the mixture prior needs latent_dim >= 2; received latent_dim={latent_dim}"
        )
    nets = encoder_decoder(
        arch=arch,
        input_shape=input_shape,
        code_units=latent_dim,
        latent_dim=latent_dim,
        widths=widths,
        filters=filters,
        stages=stages,
        model="aae",
    )
    discriminator = mlp_discriminator(
        input_shape=(latent_dim,),
        widths=d_widths,
        num_classes=num_classes if supervised else 0,
        input_name="codes",
    )
    return AAE(
        **nets,
        discriminator=discriminator,
        prior=prior,
        components=num_classes if supervised else components,
        radius=radius,
        spread=spread,
        supervised=supervised,
        recon=recon,
        latent_dim=latent_dim,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="aae",
    )
