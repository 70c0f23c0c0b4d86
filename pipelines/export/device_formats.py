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

Float files must agree with Keras within `FLOAT_TOLERANCE` (relative to the largest
output value: a generator's images come out in the raw 0-255 range), else the export
fails and nothing is published; quantized files report their top-1 agreement and
accuracy delta. Models with several named inputs (a conditional generator's `noise` and
`labels`) keep those names in both files.
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


Inputs = dict[str, np.ndarray]  # a batch by input name


def fixed_signature(spec: DataSpec) -> dict[str, tf.TensorSpec]:
    """The standard exporter's one input, raw, at the model's own size."""
    return {"inputs": tf.TensorSpec((None, *spec.input_shape), tf.as_dtype(spec.raw_dtype),
                                    name="inputs")}


def fixed_size_fn(model: keras.Model, outputs: Callable[[Any], dict]) -> Callable:
    """The function both converters read: named raw inputs -> the serving outputs. A
    single `inputs` is cast to float for the network (the standard exporter's models take
    float); named inputs go to the model as they are (its own Input dtypes)."""
    def serve(inputs):
        if list(inputs) == ["inputs"]:
            return outputs(model(tf.cast(inputs["inputs"], tf.float32), training=False))
        return outputs(model(inputs, training=False))

    return serve


def write_device_formats(
    model: keras.Model,
    signature: dict[str, tf.TensorSpec],
    outputs: Callable[[Any], dict],
    folder: Path,
    *,
    formats: Iterable[str],
    quantize: str,
    check: tuple[Inputs, np.ndarray | None],
    calibration: Callable[[], Iterable[Inputs]] | None,
    input_note: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write `model.tflite` / `model.onnx` into `folder`; return their metadata.

    Args:
        signature: the named inputs at fixed shapes (`fixed_signature` for a classifier).
        check: (inputs by name, labels or None): a batch in the raw range.
        calibration: yields input batches by name, as training feeds them (int8 only).
        input_note: what metadata.json says of the inputs beside their shapes.

    Raises:
        UserError: a package is missing, or a float file disagrees with Keras.
    """
    formats = [f for f in formats if f in DEVICE_FORMATS]
    for fmt in formats:
        require(fmt)
    fn = fixed_size_fn(model, outputs)
    inputs, labels = check
    inputs = {k: v.astype(signature[k].dtype.as_numpy_dtype) for k, v in inputs.items()}
    want = {k: np.asarray(v) for k, v in fn(tf.nest.map_structure(tf.constant, inputs)).items()}
    described = {}
    for fmt in formats:
        path = folder / FILES[fmt]
        if fmt == "tflite":
            path.write_bytes(_tflite_bytes(model, fn, signature, quantize, calibration))
            got = _run_tflite(path, inputs)
            quantized = quantize
        else:
            path.write_bytes(_onnx_bytes(fn, signature))
            got = _run_onnx(path, inputs)
            quantized = "none"
        described[fmt] = {
            "file": FILES[fmt],
            "bytes": path.stat().st_size,
            "quantize": quantized,
            "inputs": [{"name": name, "shape": spec.shape.as_list(), "dtype": spec.dtype.name,
                        **(input_note or {})} for name, spec in signature.items()],
            **_agreement(fmt, quantized, got, want, labels),
        }
    return described


def _agreement(fmt: str, quantized: str, got: dict, want: dict, labels) -> dict[str, Any]:
    diffs = {k: float(np.max(np.abs(got[k].astype(np.float64) - want[k].astype(np.float64))))
             for k in want if np.issubdtype(want[k].dtype, np.floating)}
    scale = {k: max(1.0, float(np.max(np.abs(want[k])))) for k in diffs}
    out: dict[str, Any] = {"max_abs_diff": diffs, "checked_on": int(len(next(iter(want.values()))))}
    if "class_ids" in want:
        agree = got["class_ids"].reshape(-1) == want["class_ids"].reshape(-1)
        out["top1_agreement"] = float(np.mean(agree))
        if labels is not None and labels.shape == want["class_ids"].shape:
            out["accuracy"] = float(np.mean(got["class_ids"] == labels))
            out["keras_accuracy"] = float(np.mean(want["class_ids"] == labels))
            out["accuracy_delta"] = out["accuracy"] - out["keras_accuracy"]
    worst = max((diffs[k] / scale[k] for k in diffs), default=0.0)
    if quantized == "none" and worst > FLOAT_TOLERANCE:
        raise UserError(f"export check failed: the {fmt} file differs from the Keras model by "
                        f"{worst:.3g} of its output's scale (> {FLOAT_TOLERANCE}); nothing "
                        "was published")
    return out


def _tflite_bytes(model: keras.Model, fn, signature: dict[str, tf.TensorSpec], quantize: str,
                  calibration) -> bytes:
    # The converter reads a SavedModel: that freezes Keras 3's resource variables
    # (from_concrete_functions keeps READ_VARIABLE ops the interpreter cannot run).
    tmp = Path(tempfile.mkdtemp(prefix="dlzoo-tflite-"))
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", fn, input_signature=[signature])
        archive.write_out(str(tmp), verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp), signature_keys=["serve"])
        if quantize in ("dynamic", "int8"):
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            if calibration is None:
                raise UserError("export.quantize: int8 needs calibration data (a training split)")
            converter.representative_dataset = lambda: (
                {k: v[i:i + 1].astype(signature[k].dtype.as_numpy_dtype)
                 for k, v in batch.items()}
                for batch in calibration() for i in range(len(next(iter(batch.values())))))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter.convert()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_tflite(path: Path, inputs: Inputs) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter  # optional extra: checked by require()

    runner = Interpreter(model_path=str(path)).get_signature_runner("serve")
    return {k: np.asarray(v) for k, v in runner(**inputs).items()}


def _onnx_bytes(fn, signature: dict[str, tf.TensorSpec]) -> bytes:
    import tf2onnx  # optional extra: checked by require()

    # positional arguments named by their specs: the ONNX inputs are then called
    # `inputs` (or `noise`, `labels`), where a dict argument would give `inputs_inputs`
    names = list(signature)
    specs = [signature[name] for name in names]

    def flat(*args):
        return fn(dict(zip(names, args)))

    proto, _ = tf2onnx.convert.from_function(
        tf.function(flat, input_signature=specs), input_signature=specs, opset=ONNX_OPSET)
    return proto.SerializeToString()


def _run_onnx(path: Path, inputs: Inputs) -> dict[str, np.ndarray]:
    import onnxruntime  # optional extra: checked by require()

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feed = {i.name: inputs[i.name.split(":")[0]] for i in session.get_inputs()}
    return dict(zip(names, session.run(None, feed)))
