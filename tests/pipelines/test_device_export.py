"""LiteRT (TFLite) and ONNX exports beside the SavedModel: each file round-trips with the
parity check, int8 keeps the classes, a missing package names the extra, and every
catalog family that makes sense on a device converts."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from common.errors import UserError
from models.catalog import build_model
from pipelines import api
from pipelines.data.spec import DataSpec
from pipelines.export import device_formats
from pipelines.export.device_formats import FLOAT_TOLERANCE, fixed_signature, write_device_formats
from tests.conftest import learned, small_recipe


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("device")
    raw = small_recipe(tmp, model={"name": "lenet5", "params": {"activation": "relu",
                                                                "pooling": "max"}},
                       train={"epochs": 8, "optimizer": {"name": "adam",
                                                         "learning_rate": 0.002}})
    return api.run(raw, run_dir=tmp / "run"), tmp


def test_tflite_and_onnx_round_trip_with_the_parity_check(digits_run):
    run, tmp = digits_run
    (path,) = api.export(run, name="device", dir=tmp / "saved",
                         formats=["saved_model", "tflite", "onnx"])
    meta = json.loads((path / "metadata.json").read_text())
    for fmt, file in (("tflite", "model.tflite"), ("onnx", "model.onnx")):
        info = meta["formats"][fmt]
        assert (path / file).stat().st_size == info["bytes"] > 100_000  # 61k float weights
        assert max(info["max_abs_diff"].values()) <= FLOAT_TOLERANCE
        assert info["top1_agreement"] == 1.0 and info["checked_on"] >= 256
        assert info["inputs"][0]["shape"] == [None, 32, 32, 1]
        assert info["inputs"][0]["name"] == "inputs" and info["inputs"][0]["dtype"] == "uint8"
    assert meta["formats"]["saved_model"]["bytes"] > 0
    assert "| tflite | model.tflite |" in (run.run_dir / "report.md").read_text()

    # the LiteRT file against the SavedModel's own signature, in this test, on raw uint8
    x = np.random.default_rng(0).integers(0, 17, (4, 32, 32, 1)).astype(np.uint8)
    served = tf.saved_model.load(str(path)).signatures["serving_default"](inputs=tf.constant(x))
    lite = Interpreter(model_path=str(path / "model.tflite")).get_signature_runner("serve")
    np.testing.assert_allclose(lite(inputs=x)["probabilities"], served["probabilities"],
                               atol=FLOAT_TOLERANCE)


def test_int8_quantization_keeps_top1_on_digits(digits_run):
    run, tmp = digits_run
    (path,) = api.export(run, name="int8", dir=tmp / "saved", formats=["tflite"],
                         quantize="int8")
    info = json.loads((path / "metadata.json").read_text())["formats"]["tflite"]
    assert info["quantize"] == "int8" and info["bytes"] < 120_000  # about a quarter
    learned("int8 top-1 agreement", info["top1_agreement"], at_least=0.98)
    learned("int8 accuracy delta", info["accuracy_delta"], at_least=-0.02)


def test_a_missing_converter_names_the_extra(digits_run, monkeypatch):
    run, tmp = digits_run
    real = importlib.import_module

    def without_tf2onnx(name, *args):
        if name == "tf2onnx":
            raise ImportError("No module named 'tf2onnx'")
        return real(name, *args)

    monkeypatch.setattr(device_formats.importlib, "import_module", without_tf2onnx)
    with pytest.raises(UserError, match=r"'onnx' needs the package 'tf2onnx'.*dlzoo\[deploy\]"):
        api.export(run, name="missing", dir=tmp / "saved", formats=["onnx"])
    assert not (tmp / "saved" / "missing").exists() or not any(
        (tmp / "saved" / "missing").glob("[0-9]*"))


# name, params, input shape, task: the families that make sense on a device
FAMILIES = [
    ("mlp", {"width": 16, "depth": 1}, (8, 8, 1), "classify"),
    ("lenet5", {}, (32, 32, 1), "classify"),
    ("cnn", {"filters": 4}, (16, 16, 3), "classify"),
    ("resnet20", {"width": 2}, (16, 16, 3), "classify"),
    ("allconv_gap", {"width": 0.1, "dropout": 0.0}, (16, 16, 1), "classify"),
    ("nin", {"width": 0.1}, (16, 16, 3), "classify"),
    ("unet", {"depth": 2, "width": 4}, (16, 16, 1), "segment"),
    ("fcn", {"depth": 3, "width": 4}, (16, 16, 1), "segment"),
]


@pytest.mark.parametrize("name,params,shape,task", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_catalog_families_convert(tmp_path, name, params, shape, task):
    classes = 3
    model = build_model(name, inputs={"input_shape": shape, "num_classes": classes},
                        params=params)
    # inputs in [0, 1], as the pipeline feeds these networks after its Rescaling: raw
    # 0-255 into an untrained U-Net gave logits so large that float32 rounding reached 1e-4
    spec = DataSpec(task=task, input_shape=shape, raw_dtype="float32", input_range=(0, 1),
                    class_names=tuple("abc"), normalize="rescale")

    def outputs(logits):
        probs = tf.nn.softmax(logits)
        key = "class_ids" if task == "classify" else "mask"
        return {"probabilities": probs, key: tf.argmax(probs, -1)}

    x = np.random.default_rng(0).random((4, *shape), dtype=np.float32)
    info = write_device_formats(model, fixed_signature(spec), outputs, tmp_path,
                                formats=["tflite", "onnx"], quantize="none",
                                check=({"inputs": x}, None), calibration=None)
    for fmt in ("tflite", "onnx"):
        assert max(info[fmt]["max_abs_diff"].values()) <= FLOAT_TOLERANCE, (fmt, info[fmt])


def test_device_formats_of_a_text_model_are_refused_before_training(tmp_path):
    (tmp_path / "s.txt").write_text("".join(f"a {'good' if i % 2 else 'bad'} film\t{i % 2}\n"
                                            for i in range(120)))
    raw = small_recipe(tmp_path, data={"source": "text_lines",
                                       "params": {"path": str(tmp_path / "s.txt")}},
                       model={"name": "gru", "params": {"units": 4, "embedding_dim": 4}},
                       export={"enabled": True, "formats": ["saved_model", "tflite"]})
    with pytest.raises(UserError, match="exports a SavedModel only"):
        api.run(raw, run_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "history.csv").exists()
