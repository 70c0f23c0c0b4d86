"""The seed, and TensorFlow's op determinism when the recipe asks for it.

`seed` alone makes a run repeatable on one machine in practice on the CPU, but TensorFlow
promises nothing: some kernels (GPU reductions, scatter ops, tf.data's parallel map) may
order their work differently. `deterministic: true` turns on
`tf.config.experimental.enable_op_determinism`, which makes those ops deterministic (or
raises where an op has no deterministic kernel) at a cost in speed (README, Determinism).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from pipelines.config.experiment import ExperimentConfig


def seed_everything(cfg: ExperimentConfig) -> None:
    """Seed Python, NumPy and TensorFlow with `cfg.seed`; with `cfg.deterministic`, also
    switch on op determinism (process-wide; machine.json records it)."""
    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
