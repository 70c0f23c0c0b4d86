"""Generative runs through the whole pipeline on embedded digits: a dense autoencoder
beats PCA at the same code size, a briefly trained cGAN draws the requested digits
well above chance, exports round-trip (encoder, decoder, generator, `dlzoo generate`),
GAN training resumes and checkpoints on val_fd, and bad data or a diverging game
stop with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from common.errors import UserError
from pipelines import run as pipeline
from pipelines.cli.main import main as cli_main
from pipelines.config.experiment import validate_config
from pipelines.export.device_formats import FLOAT_TOLERANCE
from pipelines.tasks.generative.sampling import generate
from tests.conftest import learned, small_recipe

FAST = {  # small evaluation settings; the recipes use the full ones
    "samples_every": 50,
    "judge": {"epochs": 5},
    "eval_samples": 400,
    "fd_samples": 300,
    "parzen": {"samples": 500, "max_eval": 200},
}


def recipe(tmp_path: Path, model: str, params: dict, *, epochs: int, lr: float = 2e-3, **extra):
    sections = {
        "model": {"name": model, "params": params},
        "data": {"source": "digits", "batch_size": 64, "normalize": "tanh"},
        "train": {"epochs": epochs, "tensorboard": False, "verbose": 0, "backup": False,
                  "optimizer": {"name": "adam", "learning_rate": lr, "beta_1": 0.5}},
        "generative": FAST,
    }
    for key, value in extra.items():
        sections[key] = {**sections.get(key, {}), **value} if isinstance(value, dict) else value
    return validate_config(small_recipe(tmp_path, **sections), source="test")


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ae")
    cfg = recipe(tmp, "dense_ae", {"latent_dim": 4, "widths": [64, 32]}, epochs=25, lr=3e-3,
                 data={"normalize": "rescale"}, generative={**FAST, "judge": None},
                 train={"checkpoint": False},
                 export={"enabled": True, "dir": str(tmp / "saved"), "name": "ae",
                         "formats": ["saved_model", "tflite", "onnx"]})
    return pipeline.run_all(cfg)


def test_dense_autoencoder_beats_pca_at_the_same_code_size(autoencoder):
    m = autoencoder.metrics
    assert m["code_size"] == 4
    # non-linear PCA: the lecture's point
    learned("recon_mse / pca_mse", m["recon_mse"] / m["pca_mse"], at_most=0.9)
    report = (autoencoder.run_dir / "report.md").read_text()
    assert "beats linear PCA" in report and "latent_map.png" in report
    assert (autoencoder.run_dir / "plots" / "reconstructions.png").exists()
    assert sorted(p.name for p in (autoencoder.run_dir / "plots" / "samples").iterdir())


def test_encoder_and_decoder_export_round_trip(autoencoder):
    paths = autoencoder.metrics["export_paths"]
    assert set(paths) == {"encoder", "decoder"}
    x = autoencoder.bundle.raw["test"].x[:8]  # raw uint8 digits
    encoder = tf.saved_model.load(paths["encoder"]).signatures["serving_default"]
    decoder = tf.saved_model.load(paths["decoder"]).signatures["serving_default"]
    codes = encoder(images=tf.constant(x))["codes"]
    images = decoder(codes=codes)["images"].numpy()
    expected = np.asarray(autoencoder.model(x.astype("float32")))
    assert codes.shape == (8, 4) and images.dtype == np.float32
    np.testing.assert_allclose(images, expected, atol=1e-4)  # raw range, 0..16
    assert images.min() >= 0.0 and images.max() <= 16.0 and images.max() > 8.0
    # the LiteRT and ONNX files of both halves, checked at export, and here end to end
    for role in ("encoder", "decoder"):
        formats = json.loads((Path(paths[role]) / "metadata.json").read_text())["formats"]
        for fmt in ("tflite", "onnx"):  # else the export would have failed
            assert formats[fmt]["checked_on"] >= 200 and formats[fmt]["bytes"] > 0, (role, fmt)
    lite_encoder = Interpreter(model_path=f"{paths['encoder']}/model.tflite")
    lite_decoder = Interpreter(model_path=f"{paths['decoder']}/model.tflite")
    lite_codes = lite_encoder.get_signature_runner("serve")(images=x)["codes"]
    lite_images = lite_decoder.get_signature_runner("serve")(codes=lite_codes)["images"]
    np.testing.assert_allclose(lite_images, expected, atol=16 * FLOAT_TOLERANCE)


@pytest.fixture(scope="module")
def cgan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cgan")
    params = {"latent_dim": 16, "g_widths": [64, 128], "d_widths": [128, 64], "dropout": 0.2}
    cfg = recipe(tmp, "cgan", params, epochs=12, data={"classes": [0, 1, 2, 3], "batch_size": 32},
                 export={"enabled": True, "dir": str(tmp / "saved"), "name": "cg",
                         "formats": ["saved_model", "onnx"]})
    return pipeline.run_all(cfg)


def test_cgan_draws_the_requested_class_well_above_chance(cgan):
    m = cgan.metrics
    learned("judge_accuracy", m["judge_accuracy"], at_least=0.9)
    learned("label_accuracy", m["label_accuracy"], at_least=0.6)  # chance: 0.25
    assert np.isfinite(m["frechet_distance"]) and m["parzen"]["window"] == 500
    history = cgan.history
    assert {"d_loss", "g_loss", "val_fd"} <= set(history)
    assert (cgan.run_dir / "checkpoints" / "best.weights.h5").exists()


def test_generator_export_and_generate_command(cgan, tmp_path):
    path = Path(cgan.metrics["export_paths"]["generator"])
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    noise = np.random.default_rng(0).normal(size=(6, 16)).astype("float32")
    labels = np.array([0, 1, 2, 3, 0, 1], np.int32)
    exported = serve(noise=tf.constant(noise), labels=tf.constant(labels))["images"].numpy()
    expected = generate(cgan.model, noise, labels)  # in memory, raw range
    np.testing.assert_allclose(exported, expected, atol=1e-4)
    # the ONNX file takes the same named inputs, noise and labels
    session = onnxruntime.InferenceSession(str(path / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    feed = {i.name: {"noise": noise, "labels": labels}[i.name.split(":")[0]]
            for i in session.get_inputs()}
    np.testing.assert_allclose(session.run(None, feed)[0], expected, atol=16 * FLOAT_TOLERANCE)
    out, npy = tmp_path / "twos.png", tmp_path / "twos.npy"
    cli_main(["generate", str(path.parent), "-n", "9", "--label", "2",
              "--out", str(out), "--npy", str(npy)])
    assert out.exists()
    images = np.load(npy)
    assert images.shape == (9, 8, 8, 1) and 0.0 <= images.min() and images.max() <= 16.0
    with pytest.raises(SystemExit) as bad:
        cli_main(["generate", str(path.parent), "--label", "7"])
    assert bad.value.code == 2  # the model knows 4 classes


def test_gan_resumes_and_keeps_the_best_val_fd_weights(cgan, tmp_path, monkeypatch):
    import keras

    import pipelines.train.fit as train_module

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    judge = {**FAST, "judge": {"run_dir": str(cgan.run_dir / "judge")}}
    cfg = recipe(tmp_path, "gan", {"latent_dim": 8, "g_widths": [32], "d_widths": [32]},
                 epochs=3, generative=judge, train={"backup": True},
                 data={"classes": [0, 1, 2, 3]})  # the judge's classes
    original = train_module.callbacks
    monkeypatch.setattr(train_module, "callbacks", lambda *a: original(*a) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg)
    run_dir = next(Path(cfg.runs_dir).glob("*/*"))
    monkeypatch.setattr(train_module, "callbacks", original)
    resumed = pipeline.train(cfg, run_dir)
    assert len(resumed.history["val_fd"]) == 3 and not (run_dir / "backup").exists()
    assert not (run_dir / "judge").exists()  # the named judge run was reused


def test_diverging_gan_stops_and_names_the_player(tmp_path):
    cfg = recipe(tmp_path, "gan", {"latent_dim": 4, "g_widths": [16], "d_widths": [16]},
                 epochs=2, generative={**FAST, "judge": None},
                 train={"checkpoint": False, "optimizer": {"name": "sgd", "learning_rate": 0.05},
                        "schedule": {"name": "step", "drop_every_epochs": 1, "factor": 1e12}})
    with pytest.raises(UserError, match=r"diverged: .*(d_loss|g_loss).* became NaN/inf"):
        pipeline.train(cfg)


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        ("gan", {"normalize": "standardize"}, "data.normalize"),
        ("dcgan", {"source": "xor", "normalize": "tanh"}, "height, width, channels"),
        ("cgan", {"source": "shapes", "params": {"n": 60, "size": 8, "task": "segment"}},
         "label-conditioned"),
    ],
)
def test_data_the_generator_cannot_produce_fails_before_training(tmp_path, model, data, message):
    cfg = recipe(tmp_path, model, {}, epochs=1, data=data)
    with pytest.raises(UserError, match=message):
        pipeline.train(cfg)
    assert not list(Path(cfg.runs_dir).glob("*/*/history.csv"))


def test_generative_section_is_validated(tmp_path):
    with pytest.raises(UserError, match="generative.judge.model.*not a classifier"):
        recipe(tmp_path, "gan", {}, epochs=1, generative={"judge": {"model": "vae"}})
    with pytest.raises(UserError, match="generative.grid"):
        recipe(tmp_path, "gan", {}, epochs=1, generative={"grid": 1})


def test_sample_grids_default_to_about_five_per_run(tmp_path):
    """Without generative.samples_every, a grid every fifth of the epochs (a grid costs
    more than a small model's epoch: benchmarks/against_keras.py)."""
    cfg = recipe(tmp_path, "dense_ae", {"latent_dim": 2, "widths": [16]}, epochs=10,
                 data={"normalize": "rescale"}, generative={**FAST, "judge": None},
                 train={"checkpoint": False}).with_overrides({"generative.samples_every": None})
    assert cfg.generative.samples_every is None
    run = pipeline.run_all(cfg)
    grids = sorted((run.run_dir / "plots" / "samples").iterdir())
    assert len(grids) == 5, [p.name for p in grids]


def test_fd_every_measures_those_epochs_and_the_last(tmp_path):
    """generative.fd_every 2 over 5 epochs: val_fd at epochs 2, 4 and 5, and the best
    checkpoint is taken among them."""
    cfg = recipe(tmp_path, "gan", {"latent_dim": 8, "g_widths": [32], "d_widths": [32]},
                 epochs=5, generative={**FAST, "fd_every": 2})
    run = pipeline.train(cfg)
    measured = [i + 1 for i, v in enumerate(run.history["val_fd"]) if np.isfinite(v)]
    assert measured == [2, 4, 5]
    assert (run.run_dir / "checkpoints" / "best.weights.h5").exists()
    with pytest.raises(UserError, match="generative.fd_every"):
        recipe(tmp_path, "gan", {}, epochs=1, generative={"fd_every": 0})
