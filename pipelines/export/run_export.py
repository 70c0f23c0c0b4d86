"""Export a trained run the standard way: the assembled model behind a raw-input
`serve` signature, reload-checked (tasks with their own exporter set `Task.export`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common import report
from pipelines.export.device_formats import DEVICE_FORMATS, fixed_signature, write_device_formats
from pipelines.export.saved_model import export_model, run_metadata
from pipelines.report.metrics import record

if TYPE_CHECKING:
    from pipelines.run import Run


def export_standard(run: Run) -> Path:
    """The assembled model (a training wrapper's inner classifier) as a SavedModel."""
    cfg = run.cfg
    sample = next(iter(run.bundle.test))[0].numpy()[:16]
    sample = sample.astype(run.bundle.spec.raw_dtype)
    root = Path(cfg.export.dir) / (cfg.export.name or cfg.name)
    model = getattr(run.model, "inference_model", run.model)  # a training wrapper's classifier
    device = [f for f in cfg.export.formats if f in DEVICE_FORMATS]  # packages: run.py checks
    path = export_model(
        model,
        run.bundle.spec,
        root=root,
        outputs=run.task.serving_outputs,
        sample=sample,
        tolerance=cfg.export.tolerance,
        metadata=run_metadata(run),
        extra_formats=(lambda folder: write_device_formats(
            model, fixed_signature(run.bundle.spec), run.task.serving_outputs, folder,
            formats=device, quantize=cfg.export.quantize, check=_check_batch(run),
            calibration=lambda: _calibration_batches(run),
            input_note={"range": list(run.bundle.spec.input_range),
                        "note": "fixed size: resize to this shape before calling"}))
        if device else None,
    )
    record(run, {"export_path": str(path)})
    formats = json.loads((path / "metadata.json").read_text())["formats"]
    report.section(run.run_dir, "export", export_markdown(path, cfg.export.tolerance, formats))
    return path


def export_markdown(path: Path, tolerance: float, formats: dict) -> str:
    lines = [
        "## Export",
        f"SavedModel written to `{path}` (serving signature `serve`, raw inputs; reload "
        f"check in a fresh process passed at tolerance {tolerance}).",
        "",
        "| format | file | size | quantization | checked on | max abs diff | top-1 agreement "
        "| accuracy (Keras) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, info in formats.items():
        diff = max(info.get("max_abs_diff", {}).values(), default=None)
        acc = "" if "accuracy" not in info else (
            f"{info['accuracy']:.4f} ({info['keras_accuracy']:.4f})")
        lines.append(
            f"| {name} | {info.get('file', 'saved_model.pb + variables/')} "
            f"| {info['bytes'] / 1024:.0f} KiB | {info.get('quantize', 'none')} "
            f"| {info.get('checked_on', 'reload check')} "
            f"| {'' if diff is None else f'{diff:.2g}'} | {info.get('top1_agreement', '')} "
            f"| {acc} |")
    return "\n".join(lines) + "\n"


def _check_batch(run: Run, limit: int = 512) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Up to `limit` test examples (at the model's input size, raw range) and labels."""
    xs, ys = [], []
    for x, y in run.bundle.test:
        xs.append(x.numpy())
        ys.append(y.numpy())
        if sum(len(b) for b in xs) >= limit:
            break
    x, y = np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
    return {"inputs": x}, (y if run.bundle.spec.label_mode == "sparse" else None)


def _calibration_batches(run: Run, examples: int = 256):
    """int8 calibration: batches of the training split, as training feeds them."""
    seen = 0
    for x, _ in run.bundle.train:
        yield {"inputs": x.numpy()}
        seen += len(x)
        if seen >= examples:
            return
