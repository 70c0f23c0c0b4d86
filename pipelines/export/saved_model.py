"""SavedModel export in TensorFlow Serving's layout: `saved_models/<name>/<version>/`.

The `serve` signature (also `serving_default`) takes *raw* inputs (uint8 images of
any height and width, or raw features), runs the normalization and network inside,
and returns the task's outputs (class probabilities and ids for classifiers). The
model is written to a temporary folder, reloaded in a fresh process and compared
with the in-memory model, and only then renamed into place: a crash or a mismatch
never leaves half a model under `saved_models/`.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from common.io import check_writable, write_json
from common.versions import claim_version, publish, remove_stale, temp_name
from pipelines.data.spec import DataSpec

IMAGE_RANK = 3


def run_metadata(run) -> dict[str, Any]:
    """Where an export came from, for its metadata.json: recipe, run folder, the
    resolved config and the run's numeric metrics (every exporter records these)."""
    return {
        "recipe": run.cfg.name,
        "run_dir": str(run.run_dir),
        "config": run.cfg.model_dump(mode="json"),
        "metrics": {k: v for k, v in run.metrics.items() if isinstance(v, (int, float))},
    }


def input_signature(spec: DataSpec) -> tf.TensorSpec:
    """Images: any height/width (resized inside); other inputs: the exact shape."""
    shape = spec.input_shape
    if len(shape) == IMAGE_RANK:
        shape = (None, None, shape[-1])
    return tf.TensorSpec((None, *shape), tf.as_dtype(spec.raw_dtype), name="inputs")


def serving_fn(model: keras.Model, spec: DataSpec, outputs: Callable[[Any], dict]) -> Callable:
    def serve(inputs):
        if isinstance(inputs, dict):  # named inputs (a generator's noise and labels)
            return outputs(model(inputs, training=False))
        if inputs.dtype == tf.string:  # text models vectorize inside (pipelines.tasks.sequence)
            return outputs(model(inputs, training=False))
        x = tf.cast(_checked(inputs, spec), tf.float32)
        if len(spec.input_shape) == IMAGE_RANK:
            x = tf.image.resize(x, spec.input_shape[:2])
        return outputs(model(x, training=False))

    return serve


def _checked(inputs: tf.Tensor, spec: DataSpec) -> tf.Tensor:
    """`inputs` once they match what the model takes, else one clear InvalidArgument
    error (a serving client sees it as its request's error, with this message).

    The signature's declared shape alone is not enforced by every caller (a concrete
    function called directly, TF Serving's REST decoding), hence the graph's own checks.
    """
    want = spec.input_shape
    shape = tf.shape(inputs)
    checks = [
        tf.debugging.assert_rank(
            inputs, len(want) + 1, message=f"inputs must be a batch of shape (n, *{want!r})"
        ),
        tf.debugging.assert_positive(shape[0], message="inputs: the batch is empty"),
    ]
    if len(want) == IMAGE_RANK:
        checks += [
            tf.debugging.assert_equal(
                shape[-1], want[-1], message=f"inputs: images must have {want[-1]} channel(s)"
            ),
            tf.debugging.assert_positive(
                shape[1:3], message="inputs: images must be at least 1x1 pixels"
            ),
        ]
    else:
        checks.append(
            tf.debugging.assert_equal(
                shape[1:], tf.constant(want, tf.int32), message=f"inputs: each must be {want}"
            )
        )
    with tf.control_dependencies(checks):
        return tf.identity(inputs)


def export_model(
    model: keras.Model,
    spec: DataSpec,
    *,
    root: Path,
    outputs: Callable[[Any], dict],
    sample: np.ndarray | dict[str, np.ndarray],
    metadata: dict[str, Any],
    tolerance: float = 1e-5,
    signature: tf.TensorSpec | dict[str, tf.TensorSpec] | None = None,
    extra_formats: Callable[[Path], dict[str, Any]] | None = None,
) -> Path:
    """Write, reload-check and publish one SavedModel version; return its folder.

    Args:
        model: the trained model taking float inputs in the raw range.
        root: `saved_models/<name>`; the version is the next free integer.
        outputs: maps the model's output to the serving outputs dict.
        sample: a raw batch used to compare the reloaded model with `model`.
        metadata: written as `metadata.json` next to the SavedModel.
        signature: override the serving input spec (default from `spec`); a dict
            of named specs makes `serve` take those names (then `sample` is a dict).
        extra_formats: writes other formats into the version folder before it is
            published (pipelines/export/device_formats.py) and returns their metadata.

    Raises:
        UserError: the reloaded model disagrees with the in-memory one.
    """
    root = check_writable(Path(root), "export.dir")
    remove_stale(root)  # what killed exports of this name left behind
    version, claim = claim_version(root)  # atomic: two exports never share a version
    tmp = Path(tempfile.mkdtemp(prefix=temp_name(version), dir=root))
    try:
        fn = serving_fn(model, spec, outputs)
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", fn, input_signature=[signature or input_signature(spec)])
        archive.write_out(str(tmp), verbose=False)
        probe = tf.nest.map_structure(tf.constant, sample)
        expected = {k: np.asarray(v) for k, v in fn(probe).items()}
        formats = {"saved_model": {"bytes": folder_bytes(tmp)}}
        if extra_formats is not None:
            formats.update(extra_formats(tmp))
        write_json(
            tmp / "metadata.json",
            {**metadata, **_describe(spec, expected), "formats": formats,
             "versions": library_versions()},
        )
        check_in_fresh_process(tmp, sample, expected, tolerance)
        return publish(tmp, root, version, claim)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        claim.unlink(missing_ok=True)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def _describe(spec: DataSpec, expected: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        "task": spec.task,
        "class_names": list(spec.class_names),
        "input": {
            "shape": list(spec.input_shape),
            "dtype": spec.raw_dtype,
            "range": list(spec.input_range),
            "any_image_size": len(spec.input_shape) == IMAGE_RANK,
        },
        "outputs": {
            k: {"dtype": str(v.dtype), "shape": [None, *v.shape[1:]]} for k, v in expected.items()
        },
        "signature": "serve (also serving_default)",
    }


def check_in_fresh_process(
    path: Path, sample: Any, expected: dict[str, np.ndarray], tolerance: float
) -> None:
    """Reload `path` in a new Python process and compare its outputs on `sample`.

    The probe file sits beside `path` (inside the export's temp folder's parent, named
    like a temp file), so a killed check leaves nothing in the system temp folder that
    the next export does not remove.
    """
    path = Path(path)
    probe = path.parent / f"{path.name}.probe.npz"
    named = sample if isinstance(sample, dict) else {"": sample}
    try:
        np.savez(probe, **{f"__inputs__{k and ':' + k}": v for k, v in named.items()}, **expected)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.export.check", str(path), str(probe), str(tolerance)],
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        probe.unlink(missing_ok=True)
    if done.returncode != 0:
        raise UserError(
            f"export check failed for {path}: the reloaded SavedModel does "
            f"not match the trained model:\n{done.stdout}{done.stderr[-2000:]}"
        )


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy", "dlzoo"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out
