"""Compile and fit a model inside a tf.distribute strategy scope, with callbacks.

The run keeps the weights with the best validation score (the task's monitor) when
checkpointing is on; an interrupted run resumes from `backup/` (BackupAndRestore).
"""

from __future__ import annotations

import csv
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
from pipelines.train.callbacks import NanGuard
from pipelines.train.distribute.loop import fit_function
from pipelines.train.optimizers import plateau_callback


def steps_per_epoch(cfg: ExperimentConfig, bundle: DataBundle) -> int:
    if cfg.train.steps_per_epoch:
        return cfg.train.steps_per_epoch
    n = bundle.spec.sizes.get("train", -1)
    return max(1, math.ceil(n / cfg.data.batch_size)) if n > 0 else 100


def callbacks(cfg: TrainConfig, task: Task, run_dir: Path, guard: NanGuard) -> list:
    out: list[keras.callbacks.Callback] = [guard]
    if cfg.backup:
        out.append(keras.callbacks.BackupAndRestore(str(run_dir / "backup")))
    if cfg.checkpoint:
        out.append(
            keras.callbacks.ModelCheckpoint(
                str(run_dir / "checkpoints" / "best.weights.h5"),
                monitor=cfg.monitor or task.monitor,
                mode="auto" if cfg.monitor else task.mode,
                save_best_only=True,
                save_weights_only=True,
            )
        )
    if cfg.early_stopping:
        es = cfg.early_stopping
        out.append(
            keras.callbacks.EarlyStopping(
                monitor=es.monitor,
                patience=es.patience,
                min_delta=es.min_delta,
                restore_best_weights=True,
                verbose=1,
            )
        )
    if cfg.schedule.name == "plateau":
        out.append(plateau_callback(cfg.schedule.params))
    if cfg.tensorboard:
        out.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
    out.append(keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True))
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
    guard = NanGuard(run_dir / "checkpoints" / "last_good.weights.h5")
    fit_function(model, cfg.train)(  # model.fit, or the multi-worker loop (distribute/loop.py)
        bundle.train,
        validation_data=bundle.val,
        shuffle=False,  # the tf.data pipeline shuffles (seeded)
        epochs=cfg.train.epochs,
        steps_per_epoch=cfg.train.steps_per_epoch,
        # extra callbacks first: they may add metrics (val_fd) that checkpoints monitor
        callbacks=[
            *epoch_seeds(bundle),
            *(extra_callbacks or []),
            *callbacks(cfg.train, task, run_dir, guard),
        ],
        verbose=_verbosity(cfg.train.verbose),
    )
    if guard.tripped_at is not None:
        epoch, batch = guard.tripped_at
        kept = (
            "the last good weights were restored"
            if guard.path.exists()
            else "no epoch had finished, so no good weights exist"
        )
        raise UserError(
            f"training diverged: {', '.join(guard.bad_keys)} became NaN/inf at epoch "
            f"{epoch + 1}, batch {batch + 1}; {kept} ({guard.path}). Lower "
            "train.optimizer.learning_rate or set train.optimizer.clipnorm"
        )
    best = run_dir / "checkpoints" / "best.weights.h5"
    if cfg.train.checkpoint and best.exists() and not cfg.train.early_stopping:
        model.load_weights(best)
    return read_history(run_dir / "history.csv")


def epoch_seeds(bundle: DataBundle) -> list[keras.callbacks.Callback]:
    """The data's per-epoch order and augmentation draws, from (seed, epoch)."""
    return [EpochSeeds(bundle.order)] if bundle.order is not None else []


def read_history(path: Path) -> dict[str, list[float]]:
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch"]
    return {k: [float(r[k]) if r[k] not in ("", None) else math.nan for r in rows] for k in keys}


def _verbosity(setting: Any) -> int:
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)
