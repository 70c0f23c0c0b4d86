"""Compile and fit a model inside a tf.distribute strategy scope, with callbacks.

The run keeps the weights with the best validation score (the task's monitor) when
checkpointing is on; an interrupted run resumes exactly from `backup/` (train/backup.py).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import keras

from common.errors import UserError
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.train import TrainConfig
from pipelines.data.builder import DataBundle
from pipelines.data.epochs import EpochSeeds
from pipelines.tasks.base import Task
from pipelines.train.backup import RunBackup
from pipelines.train.callbacks import (
    DivergenceGuard,
    GuardedCheckpoint,
    MonitoredEarlyStopping,
    MonitoredPlateau,
    due,
)
from pipelines.train.distribute.loop import fit_function
from pipelines.train.history import HistoryFile, read_history
from pipelines.train.optimizers import plateau_callback, uses_weight_averaging


def steps_per_epoch(cfg: ExperimentConfig, bundle: DataBundle) -> int:
    if cfg.train.steps_per_epoch:
        return cfg.train.steps_per_epoch
    n = bundle.spec.sizes.get("train", -1)
    return max(1, math.ceil(n / cfg.data.batch_size)) if n > 0 else 100


def validation_epochs(cfg: TrainConfig) -> int | list[int]:
    """Keras' `validation_freq`: every epoch, or every `validation_every`-th and the
    last (1-based), so the run always ends on a validated model."""
    if cfg.validation_every == 1:
        return 1
    return [e + 1 for e in range(cfg.epochs) if due(e, cfg.validation_every, cfg.epochs)]


def guard_and_backup(cfg: TrainConfig, run_dir: Path) -> tuple[DivergenceGuard, list]:
    """The divergence guard and, with `train.backup`, the backup it restores from."""
    backup = (
        RunBackup(run_dir / "backup", history_path=run_dir / "history.csv",
                  every=cfg.backup_every)
        if cfg.backup
        else None
    )
    guard = DivergenceGuard(run_dir / "checkpoints" / "last_good.weights.h5", backup)
    if backup is not None:
        backup.guard = guard
    return guard, [guard] + ([backup] if backup else [])


def callbacks(cfg: TrainConfig, task: Task, run_dir: Path, guarded: list) -> list:
    """Guard and backup first (a resumed backup rewrites the history before it is read),
    then history, the averaged-weights swap (`use_ema`), checkpoint, early stopping,
    plateau schedule, TensorBoard."""
    guard = guarded[0]
    out: list[keras.callbacks.Callback] = [*guarded, HistoryFile(run_dir / "history.csv")]
    if uses_weight_averaging(cfg.optimizer.params):
        # Validation sees the averaged weights; from here to the next epoch's start the
        # model holds them, so the checkpoint below saves them, while the guard and the
        # backup above keep the raw iterates (with the average in the optimizer's state)
        out.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if cfg.checkpoint:
        out.append(
            GuardedCheckpoint(
                str(run_dir / "checkpoints" / "best.weights.h5"),
                guard=guard,
                monitor=cfg.monitor or task.monitor,
                mode="auto" if cfg.monitor else task.mode,
                save_best_only=True,
                save_weights_only=True,
            )
        )
    if cfg.early_stopping:
        es = cfg.early_stopping
        out.append(
            MonitoredEarlyStopping(
                monitor=es.monitor,
                patience=es.patience,
                min_delta=es.min_delta,
                restore_best_weights=True,
                verbose=1,
            )
        )
    if cfg.schedule.name == "plateau":
        out.append(plateau_callback(cfg.schedule.params, MonitoredPlateau))
    if cfg.tensorboard:
        out.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
    return out


def fit(
    model: keras.Model,
    bundle: DataBundle,
    cfg: ExperimentConfig,
    task: Task,
    run_dir: Path,
    extra_callbacks: list | None = None,
) -> dict[str, list[float]]:
    """Fit `model` (compiled) on the bundle; return the full history (resumes included).

    Raises:
        UserError: the loss became NaN/inf (the last good weights are kept).
    """
    guard, guarded = guard_and_backup(cfg.train, run_dir)
    fit_function(model, cfg.train)(  # model.fit, or the multi-worker loop (distribute/loop.py)
        bundle.train,
        validation_data=bundle.val,
        validation_freq=validation_epochs(cfg.train),
        shuffle=False,  # the tf.data pipeline shuffles (seeded)
        epochs=cfg.train.epochs,
        steps_per_epoch=cfg.train.steps_per_epoch,
        # extra callbacks first: they may add metrics (val_fd) that checkpoints monitor
        callbacks=[
            *epoch_seeds(bundle),
            *(extra_callbacks or []),
            *callbacks(cfg.train, task, run_dir, guarded),
        ],
        verbose=_verbosity(cfg.train.verbose),
    )
    check_diverged(guard)
    best = run_dir / "checkpoints" / "best.weights.h5"
    if cfg.train.checkpoint and best.exists() and not cfg.train.early_stopping:
        model.load_weights(best)
    return read_history(run_dir / "history.csv")


def check_diverged(guard: DivergenceGuard, hint: str = "train.optimizer.learning_rate") -> None:
    """Raise the guard's finding, if it tripped, as one clear message."""
    if guard.tripped_at is None:
        return
    epoch, batch = guard.tripped_at
    good = guard.good_weights()
    kept = (
        f"the last good weights were restored ({good})"
        if good
        else "no epoch had finished, so no good weights exist"
    )
    raise UserError(
        f"training diverged: {', '.join(guard.bad_keys)} {guard.reason} at epoch "
        f"{epoch + 1}, batch {batch + 1}; {kept}. Lower {hint} or set "
        "train.optimizer.clipnorm"
    )


def epoch_seeds(bundle: DataBundle) -> list[keras.callbacks.Callback]:
    """The data's per-epoch order and augmentation draws, from (seed, epoch)."""
    return [EpochSeeds(bundle.order)] if bundle.order is not None else []


def _verbosity(setting: Any) -> int:
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)
