"""dlzoo's distributed training loop: `model.fit` for strategies where Keras' fails.

Keras 3's `fit` under `MultiWorkerMirroredStrategy` stops with `ValueError: Attempt
to convert a value (PerReplica:{...})` (keras-team/keras#20585): its symbolic build
reduces a tuple of per-replica batches, then its step output reduction calls
`strategy.reduce(..., axis=0)` on scalars. This loop is the smallest replacement:
the same `keras.Model`, its own `train_step` / `test_step` (so GANs' and adversarial
training's custom steps run unchanged) under `strategy.run`, the same callbacks in a
`CallbackList` (history, progress bar, BackupAndRestore, checkpoints, early stopping,
CSV, TensorBoard), and the same epoch/step/validation order as `fit`.

Reductions: Keras metrics are `SyncOnRead` variables summed over replicas, so the
trackers' `result()` read in cross-replica context is the global-batch mean; losses
are scaled by 1/replicas inside the replica (Keras' `scale_loss_for_distribution`)
and the optimizer all-reduces gradients by SUM, which together give the gradient of
the global-batch mean loss.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from common.errors import UserError
from pipelines.config.train import TrainConfig
from pipelines.train.distribute.multiworker import worker_callbacks


def fit_function(model: keras.Model, cfg: TrainConfig) -> Callable[..., Any]:
    """`model.fit`, or this module's loop when the strategy needs it (same arguments)."""
    if cfg.strategy.uses_custom_loop:
        return functools.partial(distributed_fit, model)
    return model.fit


def distributed_fit(
    model: keras.Model,
    x: tf.data.Dataset,
    *,
    validation_data: tf.data.Dataset | None = None,
    validation_freq: int | list[int] = 1,
    epochs: int = 1,
    steps_per_epoch: int | None = None,
    callbacks: list | None = None,
    verbose: int = 1,
    shuffle: bool = False,
) -> keras.callbacks.History:
    """Train like `model.fit(x, validation_data=..., epochs=..., ...)` under the strategy
    the model was built in (`model.distribute_strategy`).

    `x` yields GLOBAL batches; each replica gets batch / replicas of them.
    `shuffle` is accepted for `fit` compatibility: the tf.data pipeline shuffles.
    """
    del shuffle
    strategy = model.distribute_strategy
    with strategy.scope():  # variables Keras creates lazily must be mirrored too
        # what fit does first; from the element spec, since drawing a batch would
        # advance the seeded shuffle and change every epoch's order
        model._symbolic_build(data_batch=x.element_spec)

    steps = steps_per_epoch or _num_batches(x)
    cbs = keras.callbacks.CallbackList(
        worker_callbacks(list(callbacks or []), strategy),
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    train_step = _replicated(strategy, model, model.train_step)
    test_step = _replicated(strategy, model, model.test_step)
    batches = _Batches(strategy.experimental_distribute_dataset(x), steps, steps_per_epoch)
    val = None if validation_data is None else strategy.experimental_distribute_dataset(
        validation_data
    )
    model.stop_training, model._initial_epoch = False, None
    cbs.on_train_begin()
    epoch_logs: dict[str, float] = {}
    for epoch in range(model._initial_epoch or 0, epochs):  # BackupAndRestore sets it
        model.reset_metrics()
        cbs.on_epoch_begin(epoch)
        logs: dict[str, float] = {}
        for step, batch in batches.epoch():
            cbs.on_train_batch_begin(step)
            logs = _floats(train_step(batch))
            cbs.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        epoch_logs = dict(logs)  # trackers accumulate over the epoch: last = epoch mean
        if val is not None and _validates(epoch, validation_freq):
            epoch_logs.update(_validate(model, val, test_step, cbs))
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    if isinstance(model.optimizer, keras.optimizers.Optimizer):
        model.optimizer.finalize_variable_values(model.trainable_weights)
    cbs.on_train_end(logs=epoch_logs)
    return model.history


def _validates(epoch: int, freq: int | list[int]) -> bool:
    """Keras' `validation_freq` for the 0-based `epoch`: every `freq`-th, or those listed
    (1-based)."""
    return (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq


def _replicated(strategy: tf.distribute.Strategy, model: keras.Model, step_fn) -> Callable:
    """One compiled step: `step_fn` on every replica, then the global metrics."""

    @tf.function(reduce_retracing=True)
    def step(batch):
        outputs = strategy.run(step_fn, args=(batch,))
        results = dict(model.get_metrics_result())  # SyncOnRead: summed over replicas
        if isinstance(outputs, dict):  # a step may also return values it does not track
            for key, value in outputs.items():
                if key not in results:
                    results[key] = strategy.reduce("MEAN", value, axis=None)
        return results

    return step


def _validate(model: keras.Model, val, test_step, cbs) -> dict[str, float]:
    """`evaluate` on the validation data, reported as `val_<metric>` like fit."""
    model.reset_metrics()
    cbs.on_test_begin()
    logs: dict[str, float] = {}
    for step, batch in enumerate(val):
        cbs.on_test_batch_begin(step)
        logs = _floats(test_step(batch))
        cbs.on_test_batch_end(step, logs)
    cbs.on_test_end(logs)
    return {f"val_{k}": v for k, v in logs.items()}


class _Batches:
    """Distributed batches per epoch: a fresh pass each epoch, or, with a fixed
    `steps_per_epoch`, one iterator carried across epochs and restarted when it ends
    (as `fit` does with `steps_per_epoch`)."""

    def __init__(self, dataset, steps: int, fixed_steps: int | None) -> None:
        self.dataset, self.steps, self.carry = dataset, steps, fixed_steps is not None
        self._iterator = None

    def epoch(self):
        if not self.carry or self._iterator is None:
            self._iterator = iter(self.dataset)
        for step in range(self.steps):
            try:
                batch = next(self._iterator)
            except StopIteration:
                if not self.carry:
                    return
                self._iterator = iter(self.dataset)
                batch = next(self._iterator)
            yield step, batch
        if not self.carry:
            # Keras' EpochIterator opens one more iterator at the end of each epoch;
            # each opening draws the next order from the seeded shuffle, so doing the
            # same keeps every epoch's order equal to `fit`'s.
            self._iterator = iter(self.dataset)


def _num_batches(dataset: tf.data.Dataset) -> int:
    n = int(dataset.cardinality())
    if n < 0:
        raise UserError(
            "the training dataset's length is unknown; set train.steps_per_epoch "
            "for the distributed training loop"
        )
    return n


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    return {key: float(keras.ops.convert_to_numpy(value)) for key, value in logs.items()}
