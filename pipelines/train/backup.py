"""Backups a killed run resumes from exactly: weights, epoch and history committed
together, atomically, at the end of every `train.backup_every`-th epoch and of the
last one.

Keras' `BackupAndRestore` writes `latest.weights.h5` in place and its epoch in a second
file: a kill in between leaves weights of one epoch labelled with another (or half a
weights file), and `CSVLogger`'s history.csv is not part of the backup, so a resumed
run repeats or loses rows. Here each epoch's weights go to a new file, then one JSON
file, renamed into place, names that file with the epoch and the history so far: that
rename is the commit. On resume the history file is rewritten from the backup, so it
holds exactly the epochs the weights have seen. The backup is kept when training ends
(`pipelines.run` deletes it once model.weights.h5 is written), so a run killed between
the last epoch and the final save still resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras

from common.io import save_weights, write_text
from pipelines.train.callbacks import due
from pipelines.train.history import write_history

STATE = "state.json"  # {"epoch": int, "weights": file name, "history": [rows]}


class RunBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` with an atomic commit per epoch (see the module doc).

    It stays a `BackupAndRestore`, whose `model._initial_epoch` both `fit` and dlzoo's
    multi-worker loop read. `chief=False` (other multi-worker workers) restores but
    never writes.
    """

    def __init__(self, backup_dir: str | Path, *, history_path: Path, chief: bool = True,
                 every: int = 1) -> None:
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.folder = Path(backup_dir)
        self.history_path = Path(history_path)
        self.chief = chief
        self.every = every  # epochs between commits (train.backup_every); the last too
        self.rows: list[dict[str, Any]] = []
        self.restored_epoch = 0
        self.guard = None  # a DivergenceGuard: an epoch it tripped in is never committed

    def state(self) -> dict[str, Any] | None:
        path = self.folder / STATE
        return json.loads(path.read_text()) if path.is_file() else None

    def latest_weights(self) -> Path | None:
        state = self.state()
        return self.folder / state["weights"] if state else None

    def on_train_begin(self, logs=None) -> None:
        state = self.state()
        if state is None:
            self.rows, self.restored_epoch = [], 0
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.folder / state["weights"])
        self.model._initial_epoch = self.restored_epoch = int(state["epoch"])
        self.rows = list(state["history"])
        if self.chief:  # the history file holds exactly the epochs the weights saw
            write_history(self.history_path, self.rows)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.guard is not None and self.guard.tripped_at is not None:
            return
        self.rows.append({"epoch": epoch, **_numbers(logs)})
        due_now = due(epoch, self.every, self.params.get("epochs")) or self.model.stop_training
        if not self.chief or not due_now:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = f"epoch-{epoch + 1}.weights.h5"
        save_weights(self.model, self.folder / weights)
        state = {"epoch": epoch + 1, "weights": weights, "history": self.rows}
        write_text(self.folder / STATE, json.dumps(state))  # the commit
        for old in self.folder.glob("epoch-*.weights.h5"):
            if old.name != weights:
                old.unlink(missing_ok=True)

    def on_train_batch_end(self, batch, logs=None) -> None:
        pass  # epoch-level backups only (save_freq="epoch")

    def on_train_end(self, logs=None) -> None:
        pass  # kept until the run's final weights are written


def _numbers(logs: dict | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
