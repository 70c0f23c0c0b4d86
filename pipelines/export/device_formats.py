"""LiteRT (TFLite) and ONNX files beside a SavedModel, each checked against the Keras model.

Both converters want static shapes and the plain TensorFlow Lite / ONNX op sets, so they
convert a *fixed-size* serving function: the raw inputs at the model's own input size
(e.g. 32x32x1 uint8 for LeNet-5; the client resizes), cast to float, then the network
and the task's outputs. The any-size `serve` signature of the SavedModel keeps its
resize and input checks (`tf.debugging` asserts do not convert: `tf.BitwiseAnd`).
`metadata.json` states each file's input.

- LiteRT: `tf.lite.TFLiteConverter.from_saved_model` on that function (written as a
  small SavedModel first, which freezes Keras 3's resource variables), optionally with
  post-training quantization: `dynamic` (weights int8) or `int8` (weights and
  activations, calibrated on batches of the training split; float input and output).
  Checked with `ai_edge_litert`'s interpreter (TensorFlow's own `tf.lite.Interpreter`
  is deprecated) on a test batch.
- ONNX: `tf2onnx.convert.from_function` (opset 17), checked with onnxruntime.

Float files must agree with Keras within `FLOAT_TOLERANCE`, else the export fails and
nothing is published; quantized files report their top-1 agreement and accuracy delta.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from pipelines.data.spec import DataSpec

FLOAT_TOLERANCE = 1e-4  # XNNPACK / onnxruntime kernels sum in other orders than TF's
ONNX_OPSET = 17
DEVICE_FORMATS = ("tflite", "onnx")
FILES = {"tflite": "model.tflite", "onnx": "model.onnx"}
PACKAGES = {"tflite": ("ai_edge_litert", "ai-edge-litert"),
            "onnx": ("tf2onnx", "tf2onnx", "onnxruntime", "onnxruntime")}


def require(fmt: str) -> None:
    """Raise one message naming the extra when a format's package is missing."""
    names = PACKAGES[fmt]
    for module, package in zip(names[::2], names[1::2]):
        try:
            importlib.import_module(module)
        except ImportError:
            raise UserError(
                f"export format {fmt!r} needs the package {package!r}, which is not "
                "installed: pip install 'dlzoo[deploy]' (or drop it from export.formats)"
            ) from None


def fixed_signature(spec: DataSpec) -> tf.TensorSpec:
    return tf.TensorSpec((None, *spec.input_shape), tf.as_dtype(spec.raw_dtype), name="inputs")


def fixed_size_fn(model: keras.Model, outputs: Callable[[Any], dict]) -> Callable:
    def serve(inputs):
        return outputs(model(tf.cast(inputs, tf.float32), training=False))

    return serve


def write_device_formats(
    model: keras.Model,
    spec: DataSpec,
    outputs: Callable[[Any], dict],
    folder: Path,
    *,
    formats: Iterable[str],
    quantize: str,
    check: tuple[np.ndarray, np.ndarray | None],
    calibration: Callable[[], Iterable[np.ndarray]] | None,
) -> dict[str, Any]:
    """Write `model.tflite` / `model.onnx` into `folder`; return their metadata.

    Args:
        check: (inputs, labels or None) at the model's input size in the raw range.
        calibration: yields raw input batches of the training split (int8 only).

    Raises:
        UserError: a package is missing, or a float file disagrees with Keras.
    """
    formats = [f for f in formats if f in DEVICE_FORMATS]
    for fmt in formats:
        require(fmt)
    fn = fixed_size_fn(model, outputs)
    x, y = check
    x = x.astype(spec.raw_dtype)
    want = {k: np.asarray(v) for k, v in fn(tf.constant(x)).items()}
    described = {}
    for fmt in formats:
        path = folder / FILES[fmt]
        if fmt == "tflite":
            path.write_bytes(_tflite_bytes(model, fn, spec, quantize, calibration))
            got = _run_tflite(path, x)
            quantized = quantize
        else:
            path.write_bytes(_onnx_bytes(fn, spec))
            got = _run_onnx(path, x)
            quantized = "none"
        described[fmt] = {
            "file": FILES[fmt],
            "bytes": path.stat().st_size,
            "quantize": quantized,
            "input": {"name": "inputs", "shape": [None, *spec.input_shape],
                      "dtype": spec.raw_dtype, "range": list(spec.input_range),
                      "note": "fixed size: resize to this shape before calling"},
            **_agreement(fmt, quantized, got, want, y),
        }
    return described


def _agreement(fmt: str, quantized: str, got: dict, want: dict, labels) -> dict[str, Any]:
    diffs = {k: float(np.max(np.abs(got[k].astype(np.float64) - want[k].astype(np.float64))))
             for k in want if np.issubdtype(want[k].dtype, np.floating)}
    out: dict[str, Any] = {"max_abs_diff": diffs, "checked_on": int(len(next(iter(want.values()))))}
    if "class_ids" in want:
        agree = got["class_ids"].reshape(-1) == want["class_ids"].reshape(-1)
        out["top1_agreement"] = float(np.mean(agree))
        if labels is not None and labels.shape == want["class_ids"].shape:
            out["accuracy"] = float(np.mean(got["class_ids"] == labels))
            out["keras_accuracy"] = float(np.mean(want["class_ids"] == labels))
            out["accuracy_delta"] = out["accuracy"] - out["keras_accuracy"]
    worst = max(diffs.values(), default=0.0)
    if quantized == "none" and worst > FLOAT_TOLERANCE:
        raise UserError(f"export check failed: the {fmt} file differs from the Keras model by "
                        f"{worst:.3g} (> {FLOAT_TOLERANCE}); nothing was published")
    return out


def _tflite_bytes(model: keras.Model, fn, spec: DataSpec, quantize: str,
                  calibration) -> bytes:
    # The converter reads a SavedModel: that freezes Keras 3's resource variables
    # (from_concrete_functions keeps READ_VARIABLE ops the interpreter cannot run).
    tmp = Path(tempfile.mkdtemp(prefix="dlzoo-tflite-"))
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", fn, input_signature=[fixed_signature(spec)])
        archive.write_out(str(tmp), verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp), signature_keys=["serve"])
        if quantize in ("dynamic", "int8"):
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            if calibration is None:
                raise UserError("export.quantize: int8 needs calibration data (a training split)")
            converter.representative_dataset = lambda: (
                {"inputs": batch[i:i + 1].astype(spec.raw_dtype)}
                for batch in calibration() for i in range(len(batch)))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter.convert()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_tflite(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter  # optional extra: checked by require()

    runner = Interpreter(model_path=str(path)).get_signature_runner("serve")
    return {k: np.asarray(v) for k, v in runner(inputs=x).items()}


def _onnx_bytes(fn, spec: DataSpec) -> bytes:
    import tf2onnx  # optional extra: checked by require()

    signature = [fixed_signature(spec)]
    proto, _ = tf2onnx.convert.from_function(
        tf.function(fn, input_signature=signature), input_signature=signature, opset=ONNX_OPSET)
    return proto.SerializeToString()


def _run_onnx(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime  # optional extra: checked by require()

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: x})))
