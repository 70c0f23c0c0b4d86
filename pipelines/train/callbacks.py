"""Callbacks dlzoo adds to Keras' own (early stopping and TensorBoard are Keras';
backups and history live in backup.py and history.py): what Keras lacks."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import keras

from common.io import save_weights

# A batch loss this many times the first epoch's mean (or 1, whichever is larger) is
# a divergence: training has left the basin it started in (lr far too high).
BLOW_UP = 1e4


class DivergenceGuard(keras.callbacks.Callback):
    """Stop on a non-finite loss, or one that grew by orders of magnitude, and keep the
    last weights whose epoch was sound.

    Keras' TerminateOnNaN stops, but leaves the model holding NaN weights, and nothing
    stops a loss that reaches 1e25 while staying finite. This one restores the last
    good weights when it trips, and records where and why. Those weights are the
    backup's (`pipelines.train.backup.RunBackup`, which saves every epoch anyway) or,
    without a backup, its own copy saved at the end of every good epoch.
    """

    def __init__(self, path: Path, backup=None) -> None:
        super().__init__()
        self.path = Path(path)
        self.backup = backup
        self.tripped_at: tuple[int, int] | None = None  # (epoch, batch)
        self.bad_keys: list[str] = []
        self.reason = ""
        self._epoch = 0
        self._reference: float | None = None
        self._epoch_losses: list[float] = []

    def on_train_begin(self, logs=None) -> None:
        self.tripped_at = None  # reusable across fit() calls, like EarlyStopping
        self.reason = ""

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch = epoch
        self._epoch_losses = []

    def on_train_batch_end(self, batch, logs=None) -> None:
        losses = {k: float(v) for k, v in (logs or {}).items() if k.endswith("loss")}
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        reason = "became NaN/inf"
        if not bad and self._reference is not None and "loss" in losses:
            if abs(losses["loss"]) > BLOW_UP * max(self._reference, 1.0):
                bad, reason = ["loss"], (
                    f"grew to {losses['loss']:.3g}, over {BLOW_UP:g}x the first epoch's "
                    f"{self._reference:.3g}"
                )
        if bad:
            self.tripped_at, self.bad_keys, self.reason = (self._epoch, batch), bad, reason
            self.model.stop_training = True
        elif "loss" in losses:
            self._epoch_losses.append(abs(losses["loss"]))

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.tripped_at is not None:
            return
        if self._reference is None and self._epoch_losses:
            self._reference = sum(self._epoch_losses) / len(self._epoch_losses)
        if self.backup is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_weights(self.model, self.path)

    def good_weights(self) -> Path | None:
        path = self.backup.latest_weights() if self.backup is not None else self.path
        return path if path is not None and path.exists() else None

    def on_train_end(self, logs=None) -> None:
        good = self.good_weights()
        if self.tripped_at is not None and good is not None:
            self.model.load_weights(good)


def due(epoch: int, every: int, epochs: int | None) -> bool:
    """Whether 0-based `epoch` is one of every `every`-th epochs, or the last of `epochs`:
    the one schedule of validation, backups and val_fd (`*_every` settings)."""
    return (epoch + 1) % every == 0 or epoch + 1 == epochs


class MonitoredEpochsOnly:
    """Mixin for Keras callbacks with a `monitor`: act on the epochs that logged it.

    With `train.validation_every` > 1 (or `generative.fd_every` > 1) most epochs have
    no `val_*` metric; Keras' callbacks would warn on each of them. These skip those
    epochs quietly and warn once, at the end, only if the metric never appeared (a
    misspelt monitor)."""

    monitor: str

    def on_train_begin(self, logs=None) -> None:
        self.monitor_seen = False
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.monitor in (logs or {}):
            self.monitor_seen = True
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None) -> None:
        super().on_train_end(logs)
        if not self.monitor_seen:
            warnings.warn(f"{type(self).__name__}: no epoch logged {self.monitor!r}",
                          stacklevel=2)


class GuardedCheckpoint(MonitoredEpochsOnly, keras.callbacks.ModelCheckpoint):
    """`ModelCheckpoint` (best weights on the monitored metric) that never saves the
    epoch in which the divergence guard tripped: its weights are not a result."""

    def __init__(self, *args, guard: DivergenceGuard, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.guard.tripped_at is None:
            super().on_epoch_end(epoch, logs)


class MonitoredEarlyStopping(MonitoredEpochsOnly, keras.callbacks.EarlyStopping):
    """`EarlyStopping` whose patience counts the epochs that logged its monitor."""


class MonitoredPlateau(MonitoredEpochsOnly, keras.callbacks.ReduceLROnPlateau):
    """`ReduceLROnPlateau` whose patience counts the epochs that logged its monitor."""
