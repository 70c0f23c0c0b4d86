"""Generative models with their own training step: every registered one trains a few
steps with finite, reported losses; the WGAN constraints hold (clipped critic weights,
a zero gradient penalty for a critic 1-Lipschitz by construction); builders reject data they
cannot generate; and under a 2-replica MirroredStrategy one step equals the
single-device step on the same global batch (losses scaled per replica)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from models.catalog import build_model, list_models
from pipelines.data.spec import DataSpec
from pipelines.tasks.generative.task import compile_model, scaling_layers
from tests.models.replicas import assert_two_replica_step_equals_single

SHAPE = (8, 8, 1)
MLP = {"g_widths": [16], "d_widths": [16], "latent_dim": 4}
TINY: dict[str, dict] = {
    "gan": MLP,
    "dcgan": {"filters": 4, "latent_dim": 4},
    "cgan": {**MLP, "arch": "conv", "filters": 4},
    "wgan": {**MLP, "d_steps": 2, "clip_value": 0.005},
    "wgan_gp": {**MLP, "d_steps": 2},
    "aae": {"widths": [16], "d_widths": [16], "latent_dim": 2, "prior": "mixture",
            "supervised": True},
    "dense_ae": {"widths": [16], "latent_dim": 4},
    "conv_ae": {"filters": 4, "latent_dim": 4},
    "denoising_ae": {"widths": [16], "latent_dim": 4, "noise": "masking"},
    "sparse_ae": {"widths": [16], "latent_dim": 16, "sparsity": "kl"},
    "vae": {"arch": "conv", "filters": 4, "latent_dim": 2},
    "infogan": {"g_widths": [16], "d_widths": [16], "noise_dim": 4, "q_width": 8},
}
GENERATIVE = list_models(task="generative") + list_models(task="autoencoder")


def digits_spec() -> DataSpec:
    return DataSpec(task="classify", input_shape=SHAPE, raw_dtype="uint8",
                    input_range=(0.0, 16.0), class_names=tuple("0123456789"),
                    normalize="tanh")


def tiny_model(name: str, **overrides):
    keras.utils.set_random_seed(0)
    model = build_model(name, inputs={"input_shape": SHAPE, "num_classes": 10},
                        params={**TINY[name], **overrides})
    model.attach_scaling(*scaling_layers(digits_spec(), model.model_range))
    compile_model(model, keras.optimizers.Adam(1e-3), digits_spec())
    return model


def digits_batch(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images[:n, ..., None].astype("float32"), bunch.target[:n]


def test_every_generative_model_has_tiny_params():
    assert set(GENERATIVE) <= set(TINY), "add tiny params for new generative models"


@pytest.mark.parametrize("name", GENERATIVE)
def test_trains_a_few_steps_with_every_tracker_finite(name):
    model = tiny_model(name)
    x, y = digits_batch()
    logs = model.fit(x, y, batch_size=32, epochs=1, validation_data=(x, y), verbose=0).history
    expected = set(model.tracker_names) | {f"val_{t}" for t in model.tracker_names}
    assert expected <= set(logs)
    assert all(np.isfinite(v[-1]) for v in logs.values())
    outputs = []
    if model.has_prior:  # decoding prior draws (requested labels 0, 1 when conditional)
        outputs.append(model.generate_from(model.sample_noise(2), np.array([0, 1])))
    if hasattr(model, "encoder"):  # raw images in, raw-range reconstructions out
        outputs.append(model(x[:2]))
    for out in map(np.asarray, outputs):
        assert out.shape == (2, *SHAPE) and np.isfinite(out).all()
    if name == "wgan":  # after its updates, every critic weight is within the clip value
        weights = np.concatenate([np.ravel(w) for w in model.discriminator.get_weights()])
        assert np.abs(weights).max() <= model.clip_value + 1e-7


def linear_critic_wgan_gp(norm: float):
    from models.gan_nets import mlp_generator
    from models.wgan import WGANGP

    inputs = keras.Input(SHAPE)
    flat = keras.layers.Flatten()(inputs)
    critic = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, name="w")(flat))
    w = np.random.default_rng(0).normal(size=(64, 1))
    critic.get_layer("w").set_weights([norm * w / np.linalg.norm(w)])
    generator = mlp_generator(latent_dim=4, output_shape=SHAPE, widths=[8])
    return WGANGP(generator=generator, critic=critic, latent_dim=4)


def test_gradient_penalty_vanishes_for_a_unit_norm_linear_critic():
    real = np.random.default_rng(1).uniform(-1, 1, (32, *SHAPE)).astype("float32")
    fake = np.random.default_rng(2).uniform(-1, 1, (32, *SHAPE)).astype("float32")
    assert float(linear_critic_wgan_gp(1.0).gradient_penalty(real, fake)) < 1e-6
    # |grad| = 2 everywhere: the penalty is (2 - 1)^2 = 1, so the check can fail
    assert float(linear_critic_wgan_gp(2.0).gradient_penalty(real, fake)) == pytest.approx(1.0)


def test_builders_reject_shapes_they_cannot_generate():
    with pytest.raises(ValueError, match="divisible by 4"):
        build_model("dcgan", inputs={"input_shape": (10, 10, 1)}, params={})
    with pytest.raises(ValueError, match="height, width, channels"):
        build_model("conv_ae", inputs={"input_shape": (40,)}, params={})
    with pytest.raises(ValueError, match="prior='mixture'"):
        build_model("aae", inputs={"input_shape": SHAPE, "num_classes": 10},
                    params={"supervised": True})


GENERATIVE_SETUP = """
    from tests.models.test_generative_models import tiny_model, digits_batch

    def make_model():
        model = tiny_model("dense_ae")
        model.compile(optimizer=keras.optimizers.SGD(0.5))
        return model

    def batch():
        return digits_batch(64)
"""


def test_two_replica_step_equals_single_device_step():
    assert_two_replica_step_equals_single(GENERATIVE_SETUP)
