"""`dlzoo data-summary`: what a recipe's data looks like before anything trains."""

from __future__ import annotations

import numpy as np

from pipelines.config.experiment import ExperimentConfig
from pipelines.data.builder import build


def data_summary(cfg: ExperimentConfig) -> str:
    """Split sizes, shapes, class balance and one batch's value range."""
    bundle = build(cfg.data, seed=cfg.seed)
    spec = bundle.spec
    lines = [
        f"source: {cfg.data.source}   task: {spec.task}",
        f"input shape: {spec.input_shape}   raw dtype: {spec.raw_dtype}   "
        f"raw range: {spec.input_range}   normalize: {spec.normalize}",
        f"classes ({spec.num_classes}): {', '.join(spec.class_names)}",
    ]
    for name in ("train", "val", "test"):
        ys = [np.asarray(y) for _, y in bundle.split(name)]
        y = np.concatenate(ys) if ys else np.zeros(0)
        if spec.label_mode == "onehot":
            y = y.argmax(-1)
        counts = (
            np.bincount(y.reshape(-1).astype(int), minlength=spec.num_classes)
            if y.size and spec.task == "classify"
            else []
        )
        balance = " ".join(f"{n}:{c}" for n, c in zip(spec.class_names, counts))
        lines.append(
            f"{name:5s}: {spec.sizes.get(name)} examples"
            + (f"   balance {balance}" if balance else "")
        )
    x, _ = next(iter(bundle.train))
    for key, value in (x if isinstance(x, dict) else {"": x}).items():  # named inputs: each
        value = np.asarray(value)
        lines.append(
            f"one training batch{key and ' ' + key}: shape {value.shape}, dtype {value.dtype}, "
            f"values in [{value.min():.4g}, {value.max():.4g}] (raw; normalized in the model)"
        )
    if spec.skipped:
        lines.append(f"skipped corrupt files: {len(spec.skipped)}")
    return "\n".join(lines)
