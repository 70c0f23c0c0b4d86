"""Autoencoders: the "diabolo" network (Hinton & Salakhutdinov 2006, "Reducing the
Dimensionality of Data with Neural Networks"), convolutional, denoising (Vincent et al.
2008, "Extracting and Composing Robust Features with Denoising Autoencoders") and
sparse (Ng 2011, "Sparse autoencoder" lecture notes: L1 activity penalty or KL to a
target activation rho). The VAE is in `models/vae.py`.

An autoencoder is non-linear PCA: an encoder to a small code, a decoder back, trained
to reconstruct its input. The networks see pixels in [0, 1] (sigmoid decoder output);
the model maps the data's raw range in and out. Denoising: the task corrupts inputs
in the tf.data pipeline (`corruption`) and the target stays the clean image.
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import tensorflow as tf
from keras import ops

from models.adversarial import GenerativeModel, penalties
from models.gan_nets import encoder_decoder
from models.registry import register_model

Recon = Literal["mse", "bce"]


def reconstruction_error(target, recon, kind: str, reduce: str = "mean") -> Any:
    """Per-example error over all non-batch axes: "mse" or "bce" (recon in (0, 1))."""
    if kind == "bce":
        recon = ops.clip(recon, 1e-6, 1.0 - 1e-6)
        err = -(target * ops.log(recon) + (1.0 - target) * ops.log(1.0 - recon))
    else:
        err = ops.square(target - recon)
    axes = tuple(range(1, len(err.shape)))
    return ops.mean(err, axis=axes) if reduce == "mean" else ops.sum(err, axis=axes)


class Autoencoder(GenerativeModel):
    """Encoder and decoder trained on reconstruction (mean per-pixel error).

    Args:
        encoder: images in [0, 1] -> codes.
        decoder: codes -> images in [0, 1].
        recon: "mse" or "bce" per pixel.
        corruption: for denoising, `{"kind": "gaussian"|"masking", "level": float}`;
            applied to the training inputs by the task's tf.data pipeline.
    """

    tracker_names = ("loss", "recon_loss")
    model_range = "unit"
    export_names = ("encoder", "decoder")
    has_prior = False  # codes of a plain autoencoder follow no known distribution

    def __init__(
        self,
        *,
        encoder: keras.Model,
        decoder: keras.Model,
        recon: str = "mse",
        corruption: dict[str, Any] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.recon, self.corruption = recon, corruption

    def call(self, inputs, training: bool = False):
        """Raw images -> raw-range reconstructions."""
        codes = self.encode(self.preprocess(inputs), training=training)
        return self.postprocess(self.decoder(codes, training=training))

    def encode(self, x, training: bool = False) -> Any:
        """Model-range images -> the codes the decoder takes (the mean, for a VAE)."""
        return self.encoder(x, training=training)

    def encoder_outputs(self, h) -> dict[str, Any]:
        """The encoder network's output as named serving outputs."""
        return {"codes": h}

    def generate_from(self, codes, labels=None, training: bool = False) -> Any:
        return self.decoder(codes, training=training)

    def train_step(self, data) -> dict[str, Any]:
        noisy, clean, _ = self._unpack(data)
        with tf.GradientTape() as tape:
            losses = self._loss_terms(noisy, clean, training=True)
        self._apply(self.optimizer, tape, losses["loss"], self.trainable_variables)
        return self._report(**losses)

    def test_step(self, data) -> dict[str, Any]:
        noisy, clean, _ = self._unpack(data)
        return self._report(**self._loss_terms(noisy, clean, training=False))

    def _loss_terms(self, noisy, clean, training: bool) -> dict[str, Any]:
        codes = self.encoder(noisy, training=training)
        recon = self.decoder(codes, training=training)
        recon_loss = ops.mean(reconstruction_error(clean, recon, self.recon))
        extra = self._code_penalty(codes)
        total = recon_loss + sum(extra.values()) + penalties(self.encoder) + penalties(self.decoder)
        return {"loss": total, "recon_loss": recon_loss, **extra}

    def _code_penalty(self, codes) -> dict[str, Any]:
        return {}


class SparseAutoencoder(Autoencoder):
    """Adds a sparsity penalty on the code: L1 of the activations, or the KL
    divergence between a target rate rho and each unit's mean activation (sigmoid
    codes), summed over units."""

    tracker_names = ("loss", "recon_loss", "sparsity_loss")

    def __init__(self, *, sparsity: str = "l1", weight: float = 1e-3, rho: float = 0.05, **kw):
        super().__init__(**kw)
        self.sparsity, self.weight, self.rho = sparsity, weight, rho

    def _code_penalty(self, codes) -> dict[str, Any]:
        if self.sparsity == "kl":
            rate = ops.clip(ops.mean(codes, axis=0), 1e-6, 1.0 - 1e-6)
            rho = self.rho
            kl = rho * ops.log(rho / rate) + (1 - rho) * ops.log((1 - rho) / (1 - rate))
            return {"sparsity_loss": self.weight * ops.sum(kl)}
        return {"sparsity_loss": self.weight * ops.mean(ops.sum(ops.abs(codes), axis=-1))}


Arch = Literal["dense", "conv"]
DEFAULT_WIDTHS = [256, 128]


@register_model("dense_ae", task="autoencoder")
def dense_ae(
    *,
    input_shape: tuple[int, ...],
    latent_dim: int = 16,
    widths: list[int] = DEFAULT_WIDTHS,
    recon: Recon = "mse",
    seed: int = 0,
) -> Autoencoder:
    """Deep "diabolo" autoencoder: dense layers narrowing to `latent_dim`, mirrored back.

    Args:
        latent_dim: code size (PCA is compared at the same number of components).
        widths: encoder hidden widths; the decoder uses them reversed.
        recon: per-pixel reconstruction loss.
    """
    nets = encoder_decoder(
        arch="dense",
        input_shape=input_shape,
        code_units=latent_dim,
        latent_dim=latent_dim,
        widths=widths,
        filters=0,
        stages=0,
        model="dense_ae",
    )
    return Autoencoder(**nets, recon=recon, latent_dim=latent_dim, seed=seed, name="dense_ae")


@register_model("conv_ae", task="autoencoder")
def conv_ae(
    *,
    input_shape: tuple[int, ...],
    latent_dim: int = 16,
    filters: int = 32,
    stages: int = 2,
    recon: Recon = "mse",
    seed: int = 0,
) -> Autoencoder:
    """Convolutional autoencoder: stride-2 convs to a dense code, transposed convs back.

    Args:
        stages: stride-2 stages; image sides must be divisible by 2**stages.
    """
    nets = encoder_decoder(
        arch="conv",
        input_shape=input_shape,
        code_units=latent_dim,
        latent_dim=latent_dim,
        widths=[],
        filters=filters,
        stages=stages,
        model="conv_ae",
    )
    return Autoencoder(**nets, recon=recon, latent_dim=latent_dim, seed=seed, name="conv_ae")


@register_model("denoising_ae", task="autoencoder")
def denoising_ae(
    *,
    input_shape: tuple[int, ...],
    arch: Arch = "dense",
    latent_dim: int = 16,
    widths: list[int] = DEFAULT_WIDTHS,
    filters: int = 32,
    stages: int = 2,
    noise: Literal["gaussian", "masking"] = "gaussian",
    noise_level: float = 0.3,
    recon: Recon = "mse",
    seed: int = 0,
) -> Autoencoder:
    """Denoising autoencoder: reconstruct the clean image from a corrupted one.

    Args:
        noise: "gaussian" adds N(0, (level x pixel span)^2) noise, clipped to the data
            range; "masking" sets a `noise_level` fraction of pixels to the minimum.
        noise_level: standard deviation as a fraction of the pixel span, or the
            masked fraction.
    """
    nets = encoder_decoder(
        arch=arch,
        input_shape=input_shape,
        code_units=latent_dim,
        latent_dim=latent_dim,
        widths=widths,
        filters=filters,
        stages=stages,
        model="denoising_ae",
    )
    return Autoencoder(
        **nets,
        recon=recon,
        corruption={"kind": noise, "level": noise_level},
        latent_dim=latent_dim,
        seed=seed,
        name="denoising_ae",
    )


@register_model("sparse_ae", task="autoencoder")
def sparse_ae(
    *,
    input_shape: tuple[int, ...],
    latent_dim: int = 128,
    widths: list[int] = [256],  # noqa: B006 (read-only default shown in the docs)
    sparsity: Literal["l1", "kl"] = "l1",
    sparsity_weight: float = 1e-3,
    target_rate: float = 0.05,
    recon: Recon = "mse",
    seed: int = 0,
) -> SparseAutoencoder:
    """Sparse autoencoder: a code that may be wider than the input, kept sparse.

    Args:
        latent_dim: code width (overcomplete by default: 128 units for 64-pixel digits).
        sparsity: "l1" (ReLU code, L1 activity penalty) or "kl" (sigmoid code, KL to
            `target_rate`).
        sparsity_weight: the penalty's weight.
    """
    nets = encoder_decoder(
        arch="dense",
        input_shape=input_shape,
        code_units=latent_dim,
        latent_dim=latent_dim,
        widths=widths,
        filters=0,
        stages=0,
        model="sparse_ae",
        code_activation="sigmoid" if sparsity == "kl" else "relu",
    )
    return SparseAutoencoder(
        **nets,
        sparsity=sparsity,
        weight=sparsity_weight,
        rho=target_rate,
        recon=recon,
        latent_dim=latent_dim,
        seed=seed,
        name="sparse_ae",
    )
