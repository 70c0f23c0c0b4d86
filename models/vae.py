"""Variational autoencoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes").

The encoder gives a Gaussian posterior q(z|x) = N(mu, diag(exp(log_var))); a code is
drawn with the reparameterization z = mu + exp(log_var / 2) * eps, eps ~ N(0, I), so the
sampling is differentiable. The loss is the negative ELBO per example: reconstruction
(Bernoulli log-likelihood, summed over pixels) + beta x KL(q(z|x) || N(0, I)) (beta = 1
is the paper; Higgins et al. 2017 vary it). The KL term is tracked separately. Decoding
prior samples N(0, I) generates new images. Pixels are in [0, 1] inside.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from models.adversarial import penalties
from models.autoencoders import DEFAULT_WIDTHS, Arch, Autoencoder, Recon
from models.autoencoders import reconstruction_error as error
from models.gan_nets import encoder_decoder
from models.registry import register_model


class VAE(Autoencoder):
    """Autoencoder whose encoder outputs [mu, log_var] (2 x latent_dim units).

    Args:
        beta: weight of the KL term.
    """

    tracker_names = ("loss", "recon_loss", "kl_loss")
    has_prior = True

    def __init__(self, *, beta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta

    def posterior(self, x, training: bool = False) -> tuple[Any, Any]:
        """(mu, log_var) of q(z|x) for model-range images."""
        h = self.encoder(x, training=training)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def encode(self, x, training: bool = False) -> Any:
        return self.posterior(x, training=training)[0]

    def encoder_outputs(self, h) -> dict[str, Any]:
        return {"codes": h[:, : self.latent_dim], "log_var": h[:, self.latent_dim :]}

    def _loss_terms(self, noisy, clean, training: bool) -> dict[str, Any]:
        mean, log_var = self.posterior(noisy, training=training)
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        recon = self.decoder(mean + ops.exp(0.5 * log_var) * eps, training=training)
        recon_loss = ops.mean(error(clean, recon, self.recon, reduce="sum"))
        kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
        kl_loss = ops.mean(kl)
        total = recon_loss + self.beta * kl_loss + penalties(self.encoder) + penalties(self.decoder)
        return {"loss": total, "recon_loss": recon_loss, "kl_loss": kl_loss}


@register_model("vae", task="autoencoder")
def vae(
    *,
    input_shape: tuple[int, ...],
    arch: Arch = "dense",
    latent_dim: int = 2,
    widths: list[int] = DEFAULT_WIDTHS,
    filters: int = 32,
    stages: int = 2,
    beta: float = 1.0,
    recon: Recon = "bce",
    seed: int = 0,
) -> VAE:
    """VAE with a dense or convolutional encoder/decoder and a N(0, I) prior.

    Args:
        latent_dim: 2 gives the latent map of the report directly (no projection).
        recon: "bce" (Bernoulli likelihood, the paper's for binary-ish pixels) or "mse".
        beta: KL weight.
    """
    nets = encoder_decoder(
        arch=arch,
        input_shape=input_shape,
        code_units=2 * latent_dim,
        latent_dim=latent_dim,
        widths=widths,
        filters=filters,
        stages=stages,
        model="vae",
    )
    return VAE(**nets, beta=beta, recon=recon, latent_dim=latent_dim, seed=seed, name="vae")
