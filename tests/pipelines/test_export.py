"""Export: TF-Serving layout, versions, reload in a fresh process gives the same
numbers, nothing half-written on failure, clear errors for wrong inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import pipelines.export.saved_model as export_module
from common.errors import UserError
from pipelines import run as pipeline
from pipelines.export.predict import ExportedModel, predict_files
from tests.conftest import learned


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
    assert "tensorflow" in meta["versions"]
    learned("exported accuracy", meta["metrics"]["accuracy"], at_least=0.5)
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


def test_serving_signature_refuses_inputs_the_model_cannot_take(trained):
    """What TensorFlow's own clients send goes straight to the graph: it checks."""
    import tensorflow as tf

    loaded = tf.saved_model.load(trained.metrics["export_path"])
    serve = loaded.signatures["serving_default"]
    assert serve(inputs=tf.zeros([2, 8, 8, 1], tf.uint8))["class_ids"].shape == (2,)
    bad = {
        "1 channel": tf.zeros([2, 8, 8, 3], tf.uint8),
        "batch is empty": tf.zeros([0, 8, 8, 1], tf.uint8),
        "at least 1x1": tf.zeros([1, 0, 0, 1], tf.uint8),
    }
    for message, x in bad.items():
        with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match=message):
            serve(inputs=x)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError)):
        serve(inputs=tf.zeros([8, 8, 1], tf.uint8))  # no batch axis


def test_saved_model_cli_lists_the_serving_signature(trained):
    done = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show", "--dir",
         trained.metrics["export_path"], "--tag_set", "serve", "--signature_def",
         "serving_default"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    assert "dtype: DT_UINT8" in done.stdout and "shape: (-1, -1, -1, 1)" in done.stdout
    assert "probabilities" in done.stdout and "class_ids" in done.stdout


def test_predict_refuses_csv_rows_for_an_image_model(trained, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="not CSV rows; give image files"):
        predict_files(ExportedModel(trained.metrics["export_path"]), [rows])


def test_exports_racing_for_one_name_get_distinct_versions(trained, tmp_path):
    """Two `dlzoo export`s of one run at the same moment: both publish, one version each,
    both reload; and what a killed export left behind is removed by the next one."""
    import socket

    root = tmp_path / "saved" / "race"
    root.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs: its leftovers are stale
    host = socket.gethostname()
    (root / f".tmp-7-{host}-{dead.pid}-abc").mkdir()
    (root / ".claim-7").write_text(json.dumps({"pid": dead.pid, "host": host}))
    cmd = [sys.executable, "-m", "pipelines.cli.main", "export", str(trained.run_dir),
           "--name", "race", "--dir", str(tmp_path / "saved")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
    published = sorted(p.name for p in root.iterdir() if p.name.isdigit())
    assert len(published) == 2 and not list(root.glob(".*"))  # leftovers removed too
    for version in published:
        assert ExportedModel(root / version)(np.zeros((1, 8, 8, 1), np.uint8))
        mode = (root / version).stat().st_mode & 0o777
        meta_mode = (root / version / "metadata.json").stat().st_mode & 0o777
        assert mode == 0o755 and meta_mode == 0o644
