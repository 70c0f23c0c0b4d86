"""Callbacks dlzoo adds to Keras' own (checkpoint, early stopping, TensorBoard,
BackupAndRestore, CSV history are Keras'; these cover what Keras lacks)."""

from __future__ import annotations

import math
from pathlib import Path

import keras

from common.io import save_weights


class NanGuard(keras.callbacks.Callback):
    """Stop on a non-finite loss and keep the last weights whose epoch was finite.

    Keras' TerminateOnNaN stops, but leaves the model holding NaN weights; this one
    also saves the weights at the end of every good epoch (`last_good.weights.h5`),
    restores them when it trips, and records where, so the run can say what happened.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.tripped_at: tuple[int, int] | None = None  # (epoch, batch)
        self.bad_keys: list[str] = []
        self._epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.tripped_at = None  # reusable across fit() calls, like EarlyStopping

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None) -> None:
        bad = [
            k for k, v in (logs or {}).items() if k.endswith("loss") and not math.isfinite(float(v))
        ]
        if bad:
            self.tripped_at, self.bad_keys = (self._epoch, batch), bad
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.tripped_at is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_weights(self.model, self.path)

    def on_train_end(self, logs=None) -> None:
        if self.tripped_at is not None and self.path.exists():
            self.model.load_weights(self.path)
