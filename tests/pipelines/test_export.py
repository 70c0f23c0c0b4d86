"""Export: TF-Serving layout, versions, reload in a fresh process gives the same
numbers, nothing half-written on failure, clear errors for wrong inputs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import pipelines.export.saved_model as export_module
from common.errors import UserError
from pipelines import run as pipeline
from pipelines.export.predict import ExportedModel, predict_files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from pipelines.config.experiment import validate_config
    from tests.conftest import small_recipe

    tmp = tmp_path_factory.mktemp("export")
    cfg = validate_config(small_recipe(
        tmp, model={"name": "lenet5", "params": {"activation": "relu"}},
        data={"source": "digits", "batch_size": 64, "image_size": [32, 32]},
        train={"epochs": 3, "tensorboard": False, "verbose": 0,
               "optimizer": {"name": "adam", "learning_rate": 0.003}},
        export={"enabled": True, "dir": str(tmp / "saved_models"), "name": "digits"}),
        source="test")
    return pipeline.run_all(cfg)


def test_layout_versions_and_metadata(trained):
    root = trained.run_dir.parents[2] / "saved_models" / "digits"
    assert (root / "1" / "saved_model.pb").exists()
    meta = ExportedModel(root).metadata
    assert meta["class_names"] == [str(i) for i in range(10)]
    assert meta["input"]["dtype"] == "uint8" and meta["input"]["shape"] == [32, 32, 1]
    assert "tensorflow" in meta["versions"] and meta["metrics"]["accuracy"] > 0.5
    second = pipeline.export(trained)[0]
    assert second.name == "2" and ExportedModel(root).path == second
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp")]


def test_reloaded_model_in_fresh_process_matches(trained, tmp_path):
    path = trained.metrics["export_path"]
    x8 = np.asarray(trained.bundle.raw["test"].x[:5])  # raw 8x8 uint8 digits, resized inside
    np.save(tmp_path / "x.npy", x8)
    code = (
        "import numpy as np, tensorflow as tf, sys\n"
        f"m = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        f"out = m(inputs=tf.constant(np.load({str(tmp_path / 'x.npy')!r})))\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, out['probabilities'].numpy())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    import tensorflow as tf

    resized = tf.image.resize(tf.cast(x8, tf.float32), (32, 32))
    expected = tf.nn.softmax(trained.model(resized)).numpy()
    assert np.max(np.abs(np.load(tmp_path / "p.npy") - expected)) <= 1e-5


def test_failed_check_leaves_nothing_behind(trained, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise UserError("export check failed (simulated)")

    monkeypatch.setattr(export_module, "check_in_fresh_process", refuse)
    root = tmp_path / "saved"
    with pytest.raises(UserError, match="simulated"):
        export_module.export_model(
            trained.model, trained.bundle.spec, root=root,
            outputs=trained.task.serving_outputs, metadata={},
            sample=np.zeros((2, 32, 32, 1), np.uint8))
    assert list(root.iterdir()) == []


def test_check_detects_a_mismatch(trained, tmp_path):
    path = trained.metrics["export_path"]
    sample = np.zeros((2, 32, 32, 1), np.uint8)
    wrong = {"probabilities": np.zeros((2, 10), np.float32), "class_ids": np.zeros(2, np.int64)}
    with pytest.raises(UserError, match="does not match"):
        export_module.check_in_fresh_process(path, sample, wrong, 1e-5)


def test_wrong_shape_or_dtype_says_what_is_expected(trained):
    model = ExportedModel(trained.metrics["export_path"])
    with pytest.raises(UserError, match=r"expects uint8 inputs of shape \(batch, any, any, 1\)"):
        model(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(UserError, match="expects uint8 pixels 0..255"):
        model(np.full((1, 8, 8, 1), 300.0))
    out = model(np.zeros((1, 8, 8, 1), np.uint8))
    assert out["probabilities"].shape == (1, 10)


def test_predict_image_files(trained, tmp_path):
    split = trained.bundle.raw["test"]
    files = []
    for i in range(6):  # digits are 0..16: scale to 0..255 as a real picture would be
        path = tmp_path / f"{i}.png"
        Image.fromarray((split.x[i, ..., 0] * 16).clip(0, 255).astype(np.uint8)).save(path)
        files.append(path)
    model = ExportedModel(trained.metrics["export_path"])
    rows = predict_files(model, files)
    assert len(rows) == 6 and all(0 <= r["confidence"] <= 1 for r in rows)
    with pytest.raises(UserError, match="no such file"):
        predict_files(model, [tmp_path / "missing.png"])
