"""Explanations drawn into TensorBoard after every epoch (`explain.callbacks`).

tf-explain's Keras callbacks are used where they work on Keras 3 and on dlzoo's
nested, logit-output models (tested in tests/explain/test_callbacks.py):
`VanillaGradientsCallback`, `GradientsInputsCallback`, `IntegratedGradientsCallback`.
Grad-CAM, SmoothGrad and occlusion have our own callback, for the reasons given in
those modules: tf-explain's `GradCAMCallback` fails with "Graph disconnected" on
nested models, its SmoothGrad differentiates a softmax cross-entropy of logits, and
its occlusion scores `1 - logit` with a progress bar per image. Each writes under
`<run>/tensorboard/explain/<method>/`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from explain.adapter import as_scorer
from explain.methods import attribute, to_map

TF_EXPLAIN = ("gradients", "gradxinput", "ig")


class AttributionCallback(keras.callbacks.Callback):
    """Logs one dlzoo attribution method's maps as images after each epoch."""

    def __init__(
        self, method: str, images: np.ndarray, target: int, log_dir: Path, cfg, input_range
    ):
        super().__init__()
        self.method, self.images, self.target = method, images, int(target)
        self.cfg, self.input_range = cfg, input_range
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.scorer = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.scorer is None:  # one scorer, so its compiled functions are reused
            self.scorer = as_scorer(self.model, input_range=self.input_range)
        scorer = self.scorer
        maps = to_map(
            self.method,
            attribute(self.method, scorer, self.images, target=self.target, cfg=self.cfg),
            self.images.shape[1:],
        )
        with self.writer.as_default():
            tf.summary.image(self.method, _as_images(maps), step=epoch, max_outputs=len(maps))
        self.writer.flush()


def _as_images(maps: np.ndarray) -> np.ndarray:
    """Maps scaled to [0, 1] per image, (n, h, w, 1) for tf.summary.image."""
    m = np.abs(np.asarray(maps, np.float32)).reshape(len(maps), *maps.shape[1:3])
    peak = m.reshape(len(m), -1).max(axis=1)
    return (m / np.where(peak > 0, peak, 1.0)[:, None, None])[..., None]


def _tf_explain_callback(method: str, images, target: int, log_dir: Path, steps: int):
    # optional and heavy: tf-explain only when a recipe asks for explain.callbacks
    from tf_explain.callbacks.gradients_inputs import GradientsInputsCallback
    from tf_explain.callbacks.integrated_gradients import IntegratedGradientsCallback
    from tf_explain.callbacks.vanilla_gradients import VanillaGradientsCallback

    data = (images, None)
    if method == "ig":
        return IntegratedGradientsCallback(data, target, n_steps=steps, output_dir=log_dir)
    cls = VanillaGradientsCallback if method == "gradients" else GradientsInputsCallback
    return cls(data, target, output_dir=log_dir)


def _first_class_images(run, n: int) -> tuple[np.ndarray, int]:
    """Up to `n` validation images of the first validation image's class."""
    xs, ys = [], []
    for x, y in run.bundle.val:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        if sum(len(v) for v in xs) >= 20 * n:
            break
    x, y = np.concatenate(xs), np.concatenate(ys)
    y = y.argmax(-1) if y.ndim == 2 else y
    target = int(y[0])
    return x[y == target][:n], target


def explain_callbacks(run: Any) -> list[keras.callbacks.Callback]:
    """The callbacks `explain.callbacks` asks for (none when the section is absent)."""
    cfg = run.cfg.explain
    if cfg is None or not cfg.callbacks:
        return []
    if len(run.bundle.spec.input_shape) != 3:
        raise UserError("explain.callbacks draw images: the data must be images")
    images, target = _first_class_images(run, cfg.callback_images)
    root = Path(run.run_dir) / "tensorboard" / "explain"
    out: list[keras.callbacks.Callback] = []
    for method in cfg.callbacks:
        if method in TF_EXPLAIN:
            with warnings.catch_warnings():  # "last layer is not an activation": logits, fine
                warnings.simplefilter("ignore", UserWarning)
                out.append(
                    _tf_explain_callback(method, images, target, root / method, cfg.ig.steps)
                )
        else:
            out.append(
                AttributionCallback(
                    method, images, target, root / method, cfg, run.bundle.spec.input_range
                )
            )
    return out
