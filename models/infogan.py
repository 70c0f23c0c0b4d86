"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by
Information Maximizing Generative Adversarial Nets", arXiv:1606.03657).

The generator's input is noise z ~ N(0, I) next to latent codes c: one categorical
code (one-hot over `categories` values, uniform) and `continuous` codes ~ U[-1, 1].
The game adds lambda * I(c; G(z, c)) to the GAN objective, maximized through its
variational lower bound: a head Q on the discriminator's trunk predicts the codes of
fake images, and both players minimize
  L_info = lambda_cat * CE(c_cat, Q_cat(G(z, c))) + lambda_cont * 1/2 |c_cont - Q_mu|^2
(the continuous posterior a fixed-variance Gaussian, which the paper found enough).
D and Q share every layer but Q's own hidden layer and outputs, so Q costs almost
nothing; the D update minimizes d_loss + L_info over D's and Q's weights, the G update
g_loss + L_info over G's. Nothing in training sees a label: after training, the
categorical code alone picks the kind of digit (the paper: ~5% error on MNIST).

The codes travel INSIDE the generator's noise vector, [z | one-hot c | c_cont] of
`latent_dim` = noise_dim + categories + continuous, so sampling, grids, the val_fd
monitor and the exported generator (`serve(noise)`) work as for an unconditional GAN;
`sample_noise(n, labels=...)` fixes the categorical code, `compose` builds any vector.
"""

from __future__ import annotations

from typing import Any, Literal

import keras
import tensorflow as tf
from keras import layers, ops

from models.adversarial import AdversarialModel, bce, penalties
from models.gan_nets import (
    Norm,
    check_image_shape,
    conv_discriminator,
    conv_generator,
    mlp_discriminator,
    mlp_generator,
)
from models.registry import register_model


def compose(z, category, continuous, *, categories: int) -> Any:
    """The generator's input [z | one-hot(category) | continuous] (also what
    `dlzoo generate` draws from an exported InfoGAN's recorded prior)."""
    onehot = ops.one_hot(ops.cast(category, "int32"), categories)
    return ops.concatenate(
        [ops.cast(z, "float32"), onehot, ops.cast(continuous, "float32")], axis=-1
    )


class InfoGAN(AdversarialModel):
    """A GAN whose discriminator also outputs Q's code posterior.

    Args:
        generator: [z | one-hot c | c_cont] -> images in [-1, 1].
        discriminator: images -> {"logits": (n, 1), "q_cat": (n, categories) logits,
            "q_cont": (n, continuous) means}.
        noise_dim, categories, continuous: the layout of the generator's input.
        lambda_cat, lambda_cont: weights of the two information terms.
    """

    tracker_names = ("d_loss", "g_loss", "info_cat_loss", "info_cont_loss")

    def __init__(
        self,
        *,
        generator: keras.Model,
        discriminator: keras.Model,
        noise_dim: int,
        categories: int = 10,
        continuous: int = 2,
        lambda_cat: float = 1.0,
        lambda_cont: float = 0.5,
        **kwargs,
    ):
        super().__init__(latent_dim=noise_dim + categories + continuous, **kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.noise_dim, self.categories, self.continuous = noise_dim, categories, continuous
        self.lambda_cat, self.lambda_cont = lambda_cat, lambda_cont

    def sample_noise(self, n, labels=None, seed=None) -> Any:
        """[z | one-hot c | c_cont] draws; `labels` (if given) fix the categorical code."""
        seeds = [self.seed_generator] * 3 if seed is None else [seed, seed + 1, seed + 2]
        z = keras.random.normal((n, self.noise_dim), seed=seeds[0])
        if labels is None:
            labels = keras.random.randint((n,), 0, self.categories, seed=seeds[1])
        cont = keras.random.uniform((n, self.continuous), -1.0, 1.0, seed=seeds[2])
        return compose(z, labels, cont, categories=self.categories)

    def split(self, noise) -> tuple[Any, Any, Any]:
        """(z, one-hot categorical code, continuous codes) of generator inputs."""
        k = self.noise_dim + self.categories
        return noise[:, : self.noise_dim], noise[:, self.noise_dim : k], noise[:, k:]

    def generate_from(self, noise, labels=None, training: bool = False) -> Any:
        return self.generator(noise, training=training)  # the codes are inside `noise`

    def infer_codes(self, images, training: bool = False) -> dict[str, Any]:
        """Q's posterior of model-range images: categorical logits and continuous means."""
        out = self.discriminator(images, training=training)
        return {"q_cat": out["q_cat"], "q_cont": out["q_cont"]}

    def train_step(self, data) -> dict[str, Any]:
        real, _, _ = self._unpack(data)
        batch = ops.shape(real)[0]
        d_loss = self._discriminator_step(real)
        g_loss, cat, cont = self._generator_step(batch)
        return self._report(d_loss=d_loss, g_loss=g_loss, info_cat_loss=cat, info_cont_loss=cont)

    def test_step(self, data) -> dict[str, Any]:
        real, _, _ = self._unpack(data)
        noise = self.sample_noise(ops.shape(real)[0])
        fake = self.generate_from(noise)
        out_real = self.discriminator(real, training=False)
        out_fake = self.discriminator(fake, training=False)
        cat, cont = self._info(noise, out_fake)
        d_loss = self._d_loss(out_real, out_fake)
        g_loss = ops.mean(bce(1.0, out_fake["logits"]))
        return self._report(d_loss=d_loss, g_loss=g_loss, info_cat_loss=cat, info_cont_loss=cont)

    def _d_loss(self, out_real, out_fake) -> Any:
        return ops.mean(bce(1.0, out_real["logits"])) + ops.mean(bce(0.0, out_fake["logits"]))

    def _info(self, noise, outputs) -> tuple[Any, Any]:
        """(categorical cross-entropy, fixed-variance Gaussian NLL) of Q on the codes."""
        _, onehot, cont = self.split(noise)
        cat = keras.losses.categorical_crossentropy(onehot, outputs["q_cat"], from_logits=True)
        nll = 0.5 * ops.sum(ops.square(cont - outputs["q_cont"]), axis=-1)
        return ops.mean(cat), ops.mean(nll)

    def _info_loss(self, cat, cont) -> Any:
        return self.lambda_cat * cat + self.lambda_cont * cont

    def _discriminator_step(self, real) -> Any:
        noise = self.sample_noise(ops.shape(real)[0])
        fake = self.generate_from(noise, training=True)
        with tf.GradientTape() as tape:
            out_real = self.discriminator(real, training=True)
            out_fake = self.discriminator(fake, training=True)
            loss = self._d_loss(out_real, out_fake)
            total = loss + self._info_loss(*self._info(noise, out_fake))
            total = total + penalties(self.discriminator)
        self._apply(self.d_optimizer, tape, total, self.discriminator.trainable_variables)
        return loss

    def _generator_step(self, batch) -> tuple[Any, Any, Any]:
        noise = self.sample_noise(batch)
        with tf.GradientTape() as tape:
            out = self.discriminator(self.generate_from(noise, training=True), training=True)
            loss = ops.mean(bce(1.0, out["logits"]))  # non-saturating
            cat, cont = self._info(noise, out)
            total = loss + self._info_loss(cat, cont) + penalties(self.generator)
        self._apply(self.g_optimizer, tape, total, self.generator.trainable_variables)
        return loss, cat, cont


def _with_q_head(trunk: keras.Model, *, categories: int, continuous: int, q_width: int):
    """The discriminator with Q: Q's own hidden layer on the features D's logit reads."""
    features = trunk.get_layer("d_out").input
    q = layers.Dense(q_width, name="q_dense")(features)
    q = layers.LeakyReLU(negative_slope=0.2, name="q_dense_act")(q)
    outputs = {
        "logits": trunk.output,
        "q_cat": layers.Dense(categories, name="q_cat")(q),
        "q_cont": layers.Dense(continuous, name="q_cont")(q),
    }
    return keras.Model(trunk.input, outputs, name="discriminator")


@register_model("infogan", task="generative")
def infogan(
    *,
    input_shape: tuple[int, ...],
    arch: Literal["mlp", "conv"] = "mlp",
    noise_dim: int = 32,
    categories: int = 10,
    continuous: int = 2,
    lambda_cat: float = 1.0,
    lambda_cont: float = 0.5,
    g_widths: list[int] = [256, 512],  # noqa: B006 (read-only defaults shown in the docs)
    d_widths: list[int] = [512, 256],  # noqa: B006
    g_norm: Norm = "batch",
    filters: int = 64,
    stages: int = 2,
    q_width: int = 128,
    dropout: float = 0.0,
    d_lr_scale: float = 1.0,
    seed: int = 0,
) -> InfoGAN:
    """InfoGAN with a categorical and continuous codes (Chen et al. 2016).

    Args:
        arch: "mlp" uses `g_widths`/`d_widths`; "conv" (DCGAN-style) `filters`/`stages`.
        noise_dim: size of the incompressible N(0, I) noise z.
        categories: values of the categorical code (10: the digits, if it finds them).
        continuous: number of U[-1, 1] codes.
        lambda_cat, lambda_cont: information weights (the paper: 1 for discrete codes,
            smaller for continuous ones).
        g_norm: normalization in the dense generator (the paper uses batch norm).
        q_width: units of Q's hidden layer on the discriminator's features.
        dropout: discriminator dropout.
        d_lr_scale: discriminator (and Q) learning rate = this x train.optimizer's.
    """
    for name, value, low in (("categories", categories, 2), ("continuous", continuous, 1),
                             ("noise_dim", noise_dim, 1)):
        if value < low:
            raise ValueError(f"infogan needs {name} >= {low}; received {name}={value}")
    shape, latent = tuple(input_shape), noise_dim + categories + continuous
    if arch == "conv":
        check_image_shape(shape, stages, "infogan")
        generator = conv_generator(
            latent_dim=latent, output_shape=shape, filters=filters, stages=stages
        )
        trunk = conv_discriminator(
            input_shape=shape, filters=filters, stages=stages, dropout=dropout
        )
    else:
        generator = mlp_generator(
            latent_dim=latent, output_shape=shape, widths=g_widths, norm=g_norm
        )
        trunk = mlp_discriminator(input_shape=shape, widths=d_widths, dropout=dropout)
    discriminator = _with_q_head(
        trunk, categories=categories, continuous=continuous, q_width=q_width
    )
    return InfoGAN(
        generator=generator,
        discriminator=discriminator,
        noise_dim=noise_dim,
        categories=categories,
        continuous=continuous,
        lambda_cat=lambda_cat,
        lambda_cont=lambda_cont,
        d_lr_scale=d_lr_scale,
        seed=seed,
        name="infogan",
    )
