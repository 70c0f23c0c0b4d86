"""The classifier that judges generated images: features for the Frechet distance,
labels for the class histogram and the conditional label accuracy.

It is a dlzoo classifier trained by the ordinary pipeline on the generative run's own
data (same source, splits and seed; `<run>/judge/` holds its run folder and report),
or a finished classifier run named in `generative.judge.run_dir`. Its features are the
input of its "logits" layer (the penultimate activations).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from pipelines.config.experiment import ExperimentConfig, validate_config
from pipelines.config.generative import GenerativeConfig, JudgeConfig
from pipelines.data.spec import DataSpec


@dataclasses.dataclass
class Judge:
    """A classifier view: raw images -> (penultimate features, class probabilities)."""

    network: keras.Model  # raw images at `input_shape` -> [features, logits]
    input_shape: tuple[int, ...]
    accuracy: float | None
    run_dir: Path

    def embed(self, images: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
        feats, probs = [], []
        for start in range(0, len(images), batch):
            x = tf.convert_to_tensor(np.asarray(images[start : start + batch], np.float32))
            if len(self.input_shape) == 3 and tuple(x.shape[1:3]) != self.input_shape[:2]:
                x = tf.image.resize(x, self.input_shape[:2])  # as the data pipeline resizes
            f, logits = self.network(x, training=False)
            feats.append(np.asarray(f))
            probs.append(np.asarray(tf.nn.softmax(logits)))
        return np.concatenate(feats), np.concatenate(probs)


def settings(cfg: ExperimentConfig) -> GenerativeConfig:
    return cfg.generative or GenerativeConfig()


def judge_config(cfg: ExperimentConfig, judge: JudgeConfig) -> ExperimentConfig:
    """The generative recipe's data with the judge classifier (no augmentation)."""
    data = cfg.data.model_dump(mode="json")
    data.update(normalize="rescale", augment={})
    raw: dict[str, Any] = {
        "name": f"{cfg.name}-judge",
        "description": f"classifier judging the samples of {cfg.name!r}",
        "seed": cfg.seed,
        "runs_dir": cfg.runs_dir,
        "data": data,
        "model": {"name": judge.model, "params": judge.params},
        "train": {
            "epochs": judge.epochs,
            "optimizer": {"name": "adam", "learning_rate": judge.learning_rate},
            "tensorboard": False,
            "backup": False,
            "verbose": cfg.train.verbose,
        },
    }
    return validate_config(raw, source="generative.judge")


def load_or_train(run) -> Judge | None:
    """The run's judge (None when `generative.judge` is null): a finished classifier run
    named in `generative.judge.run_dir`, or a nested run in `<run>/judge/`, trained once
    and reused while finished with the same config."""
    judge = settings(run.cfg).judge
    if judge is None:
        return None
    if judge.run_dir:
        return _view(run.load_other(Path(judge.run_dir)))
    return _view(run.sub_run(judge_config(run.cfg, judge), Path(run.run_dir) / "judge"))


def check_compatible(judge: Judge, spec) -> None:
    """The judge must classify the generative data's classes, in its raw range."""

    theirs = DataSpec.load(judge.run_dir / "spec.json")
    if tuple(theirs.class_names) != tuple(spec.class_names):
        raise UserError(
            f"generative.judge.run_dir: {judge.run_dir} classifies {list(theirs.class_names)}, "
            f"the generative data has classes {list(spec.class_names)}"
        )
    if (
        tuple(theirs.input_range) != tuple(spec.input_range)
        or theirs.input_shape[-1:] != (spec.input_shape[-1:])
    ):
        raise UserError(
            f"generative.judge.run_dir: {judge.run_dir} takes inputs {theirs.input_shape} in "
            f"{theirs.input_range}; the generative data is {spec.input_shape} in {spec.input_range}"
        )


def _view(judge_run) -> Judge:
    outer = judge_run.model
    cores = [layer for layer in outer.layers if isinstance(layer, keras.Model)]
    if not cores:
        raise UserError(f"judge run {judge_run.run_dir}: no nested classifier network found")
    core = cores[0]
    try:
        logits_layer = core.get_layer("logits")
    except ValueError:
        raise UserError(
            f"judge model {core.name!r} has no layer named 'logits'; pick a classifier "
            "whose output layer is named 'logits' (mlp, lenet5, ...)"
        ) from None
    two_heads = keras.Model(core.inputs, [logits_layer.input, core.outputs[0]])
    inputs = keras.Input(judge_run.bundle.spec.input_shape)
    network = keras.Model(inputs, two_heads(outer.get_layer("preprocess")(inputs)))
    return Judge(
        network=network,
        input_shape=tuple(judge_run.bundle.spec.input_shape),
        accuracy=judge_run.metrics.get("accuracy"),
        run_dir=Path(judge_run.run_dir),
    )
