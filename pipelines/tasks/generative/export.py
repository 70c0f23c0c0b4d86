"""Export of generative runs: each sub-model a separate SavedModel, reload-checked.

- `saved_models/<name>-generator/<v>` (GANs): `serve(noise[, labels]) -> {"images"}`;
  an InfoGAN's noise holds its codes, [z | one-hot code | continuous codes].
- `saved_models/<name>-encoder/<v>` (autoencoders, VAE, AAE):
  `serve(images) -> {"codes"}` (VAE: the posterior mean, plus "log_var").
- `saved_models/<name>-decoder/<v>`: `serve(codes) -> {"images"}`; for the VAE and the
  AAE it is the generator: feed it draws from the prior recorded in metadata.json.
- `export.formats: [tflite, onnx]` adds `model.tflite` / `model.onnx` to each version,
  with the same named inputs and outputs, checked against Keras on 256 test images or
  prior draws (pipelines/export/device_formats.py).
Inputs: `noise`/`codes` float32 (batch, latent_dim), `labels` int32 (batch,), `images`
in the data's raw dtype and shape. Output images are float32 in the data's RAW pixel
range (0..255, 0..16 for digits), not rounded: `np.rint(...).astype("uint8")` to save.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common import report
from pipelines.data.arrays import split_arrays
from pipelines.export.device_formats import DEVICE_FORMATS, write_device_formats
from pipelines.export.saved_model import export_model, run_metadata
from pipelines.report.metrics import record
from pipelines.tasks.generative import sampling as gs

PROBE = 16  # examples in the reload check
DEVICE_CHECK = 256  # examples the LiteRT / ONNX files are compared on (and calibrate on)


def prior_metadata(model) -> dict[str, Any]:
    """How to draw the codes a generator/decoder expects (read by `dlzoo generate`)."""
    prior = {"kind": "gaussian", "latent_dim": int(model.latent_dim)}
    if getattr(model, "prior", "gaussian") == "mixture":
        prior.update(
            kind="mixture",
            components=int(model.components),
            radius=float(model.radius),
            spread=float(model.spread),
            label_selects_component=bool(model.supervised),
        )
    if hasattr(model, "categories"):  # InfoGAN: [z | one-hot code | U(-1, 1) codes]
        prior.update(kind="infogan", noise_dim=int(model.noise_dim),
                     categories=int(model.categories), continuous=int(model.continuous))
    return prior


def _decoding(model, spec, role: str) -> tuple[keras.Model, dict, dict]:
    """Wrapper (codes[, labels] -> raw images), its signature and a probe batch."""
    name = "noise" if role == "generator" else "codes"
    inputs = {name: keras.Input((model.latent_dim,), name=name)}
    signature = {name: tf.TensorSpec((None, model.latent_dim), tf.float32, name=name)}
    if role == "generator" and model.conditional:
        inputs["labels"] = keras.Input((), dtype="int32", name="labels")
        signature["labels"] = tf.TensorSpec((None,), tf.int32, name="labels")
    net = model.generator if role == "generator" else model.decoder
    feed = inputs[name]
    if "labels" in inputs:
        feed = {"noise": inputs[name], "labels": inputs["labels"]}
    images = model.postprocess(net(feed))
    wrapper = keras.Model(inputs, {"images": images}, name=f"{model.name}_{role}")
    return wrapper, signature, _draws(model, spec, role, PROBE)


def _draws(model, spec, role: str, n: int, seed: int = 123) -> dict[str, np.ndarray]:
    """`n` prior draws a decoder or generator takes (with labels, cycling over the
    classes, for a conditional generator)."""
    name = "noise" if role == "generator" else "codes"
    labels = None
    if role == "generator" and model.conditional:
        labels = (np.arange(n) % spec.num_classes).astype(np.int32)
    draws = {name: gs.prior_draws(model, n, labels, seed=seed).astype(np.float32)}
    return draws if labels is None else {**draws, "labels": labels}


def _encoding(model, spec, test_images: np.ndarray) -> tuple[keras.Model, dict, dict]:
    """Wrapper (raw images -> codes), its signature and a probe batch."""
    images = keras.Input(spec.input_shape, dtype=spec.raw_dtype, name="images")
    outputs = model.encoder_outputs(model.encoder(model.preprocess(images)))
    wrapper = keras.Model({"images": images}, outputs, name=f"{model.name}_encoder")
    signature = {
        "images": tf.TensorSpec((None, *spec.input_shape), tf.as_dtype(spec.raw_dtype), "images")
    }
    return wrapper, signature, {"images": test_images[:PROBE].astype(spec.raw_dtype)}


def export_generative(run) -> list[Path]:
    """Export every sub-model the model names; returns the published folders."""
    model, spec, cfg = run.model, run.bundle.spec, run.cfg
    device = [f for f in cfg.export.formats if f in DEVICE_FORMATS]  # packages: run.py checks
    test_images, _, _ = split_arrays(run.bundle, "test", PROBE)
    paths = {}
    for role in model.export_names:
        if role == "encoder":
            wrapper, signature, sample = _encoding(model, spec, test_images)
            io_spec = spec
        else:
            wrapper, signature, sample = _decoding(model, spec, role)
            io_spec = dataclasses.replace(
                spec,
                input_shape=(int(model.latent_dim),),
                raw_dtype="float32",
                input_range=(float("-inf"), float("inf")),
            )
        paths[role] = export_model(
            wrapper,
            io_spec,
            root=Path(cfg.export.dir) / f"{cfg.export.name or cfg.name}-{role}",
            outputs=lambda out: dict(out),
            sample=sample,
            signature=signature,
            tolerance=cfg.export.tolerance,
            metadata=_metadata(run, role),
            extra_formats=_device_formats(run, role, wrapper, signature, device)
            if device else None,
        )
    record(run, {"export_paths": {k: str(v) for k, v in paths.items()}})
    report.section(run.run_dir, "export", _markdown(paths, cfg.export.tolerance, spec))
    return list(paths.values())


def _device_formats(run, role: str, wrapper, signature, formats: list[str]):
    """Writes `model.tflite` / `model.onnx` of one sub-model into its version folder."""
    def write(folder: Path) -> dict[str, Any]:
        check, calibration = _device_batches(run, role)
        return write_device_formats(
            wrapper, signature, dict, folder, formats=formats, quantize=run.cfg.export.quantize,
            check=(check, None), calibration=lambda: [calibration],
            input_note={"note": "the same named inputs as the SavedModel's serve signature"})

    return write


def _device_batches(run, role: str) -> tuple[dict, dict]:
    """(check, int8 calibration) batches of a sub-model's inputs: test and training
    images for an encoder, two sets of prior draws for a decoder or generator."""
    model, spec = run.model, run.bundle.spec
    if role == "encoder":
        return ({"images": split_arrays(run.bundle, "test", DEVICE_CHECK)[0]},
                {"images": split_arrays(run.bundle, "train", DEVICE_CHECK)[0]})
    return (_draws(model, spec, role, DEVICE_CHECK),
            _draws(model, spec, role, DEVICE_CHECK, seed=7))


def _metadata(run, role: str) -> dict[str, Any]:
    cfg, model, spec = run.cfg, run.model, run.bundle.spec
    return {
        **run_metadata(run),
        "model": cfg.model.name,
        "role": role,
        "prior": prior_metadata(model),
        "conditional": bool(model.conditional and role == "generator"),
        "image_shape": list(spec.input_shape),
        "image_range": list(spec.input_range),
        "image_dtype": "float32 (raw range, not rounded)",
    }


def _markdown(paths: dict[str, Path], tolerance: float, spec) -> str:
    rows = [{"sub-model": role, "SavedModel": f"`{path}`",
             "other formats": ", ".join(sorted(set(_formats(path)) - {"saved_model"}))}
            for role, path in paths.items()]
    return "\n".join(
        [
            "## Export",
            "Each sub-model is a separate SavedModel (signature `serve`, also "
            f"`serving_default`), reload-checked in a fresh process at tolerance {tolerance}. "
            f"Images come out as float32 in the data's raw range {tuple(spec.input_range)}.\n",
            report.table(rows, ["sub-model", "SavedModel", "other formats"]),
            "Sample from a generator or decoder: `dlzoo generate saved_models/<name>-generator "
            "--out samples.png` (add `--label K` for conditional models).",
        ]
    )


def _formats(path: Path) -> dict[str, Any]:
    return json.loads((path / "metadata.json").read_text()).get("formats", {})
