"""Training: a model learns past a bar on held-out data; resume, NaN handling,
penalties, optimizers and schedules behave as documented."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from common.errors import UserError
from pipelines import run as pipeline
from pipelines.tasks.assemble import build_model
from pipelines.train.history import read_history
from pipelines.train.optimizers import OPTIMIZERS, SCHEDULES, learning_rate, make_optimizer
from tests.conftest import learned


def test_mlp_learns_digits(make_config):
    cfg = make_config(train={"epochs": 8, "optimizer": {"name": "adam", "learning_rate": 0.01}})
    run = pipeline.run_all(cfg)
    learned("accuracy", run.metrics["accuracy"], at_least=0.93)
    assert len(run.metrics["confusion_matrix"]) == 10
    files = {p.name for p in run.run_dir.rglob("*")}
    assert {"config.yaml", "spec.json", "metrics.json", "history.csv", "report.md",
            "learning_curves.png", "confusion_matrix.png", "best.weights.h5", "DONE"} <= files


def test_same_seed_same_result(make_config):
    cfg = make_config(train={"epochs": 2, "checkpoint": False, "backup": False})
    a, b = pipeline.train(cfg), pipeline.train(cfg)
    assert a.history["loss"] == b.history["loss"]


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_interrupted_run_resumes_where_it_stopped(make_config, monkeypatch):
    cfg = make_config(train={"epochs": 4, "checkpoint": False})
    import pipelines.train.fit as train_module

    original = train_module.callbacks
    monkeypatch.setattr(train_module, "callbacks",
                        lambda *a: original(*a) + [_Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg)
    run_dir = next((cfg.runs_dir and __import__("pathlib").Path(cfg.runs_dir)).glob("*/*"))
    assert (run_dir / "backup").is_dir()
    assert len(read_history(run_dir / "history.csv")["loss"]) == 2
    monkeypatch.setattr(train_module, "callbacks", original)
    resumed = pipeline.train(cfg, run_dir)
    history = resumed.history
    assert len(history["loss"]) == 4  # epochs 3 and 4 only were run again
    assert not (run_dir / "backup").exists()  # removed after a finished run


def test_resumed_run_repeats_the_uninterrupted_history_exactly(make_config, monkeypatch):
    """The data order and the augmentation draws of epoch k come from (seed, k), so
    the epochs after a resume see the batches the uninterrupted run saw."""
    import pipelines.train.fit as train_module

    cfg = make_config(
        data={"source": "digits", "batch_size": 64,
              "augment": {"translation": {"factor": 0.1}, "rotation": {"factor": 0.05}}},
        train={"epochs": 4, "checkpoint": False},
    )
    whole = pipeline.train(cfg).history
    original = train_module.callbacks
    monkeypatch.setattr(train_module, "callbacks", lambda *a: original(*a) + [_Interrupt()])
    run_dir = cfg.runs_dir and __import__("pathlib").Path(cfg.runs_dir) / "resumed"
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg, run_dir)
    monkeypatch.setattr(train_module, "callbacks", original)
    resumed = pipeline.train(cfg, run_dir).history
    assert resumed["loss"] == whole["loss"] and resumed["val_loss"] == whole["val_loss"]


def test_nan_loss_stops_with_message_and_keeps_last_good_weights(make_config):
    # epoch 1 trains normally; from epoch 2 the step schedule multiplies the rate by 1e9
    cfg = make_config(train={"epochs": 4, "optimizer": {"name": "sgd", "learning_rate": 0.05},
                             "schedule": {"name": "step", "drop_every_epochs": 1,
                                          "factor": 1e9}})
    with pytest.raises(UserError, match="diverged.*epoch 2.*last good weights were restored"):
        pipeline.train(cfg)
    run_dir = next(__import__("pathlib").Path(cfg.runs_dir).glob("*/*"))
    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert state["epoch"] == 1 and (run_dir / "backup" / state["weights"]).exists()
    # the diverged epoch is never kept as the best one: best = the last good epoch
    best, good = run_dir / "checkpoints" / "best.weights.h5", run_dir / "backup" / state["weights"]
    assert _h5_arrays(best, "layers") == _h5_arrays(good, "layers")


def _h5_arrays(path, group: str) -> list[bytes]:
    import h5py

    out: list[bytes] = []
    with h5py.File(path, "r") as f:
        f[group].visititems(
            lambda _, v: out.append(v[()].tobytes()) if hasattr(v, "shape") else None
        )
    return out


def test_guard_stops_a_finite_loss_that_grows_by_orders_of_magnitude(tmp_path):
    from pipelines.train.callbacks import DivergenceGuard

    guard = DivergenceGuard(tmp_path / "good.weights.h5")
    guard.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    for loss in (2.3, 1.9, 1.6):
        guard.on_train_batch_end(0, {"loss": loss})
    guard.on_epoch_end(0)
    guard.on_epoch_begin(1)
    guard.on_train_batch_end(0, {"loss": 40.0})  # a bad batch, not a divergence
    assert guard.tripped_at is None
    guard.on_train_batch_end(1, {"loss": 1e25})
    assert guard.tripped_at == (1, 1) and "grew to 1e+25" in guard.reason


def test_weight_penalties_reach_every_kernel(make_config):
    cfg = make_config(model={"name": "mlp", "params": {"depth": 2}}, train={"l2": 0.01})
    spec = pipeline.build(cfg.data).spec
    model, _ = build_model(cfg, spec)
    assert len(model.losses) == 3  # two hidden kernels and the logits kernel
    assert float(sum(model.losses)) > 0


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_builds_and_steps(name):
    opt = make_optimizer(name, 0.01, {})
    var = keras.Variable(np.ones(3, np.float32))
    opt.apply([keras.ops.ones(3)], [var])
    assert np.all(np.asarray(var) < 1.0)


def test_optimizer_argument_tables_match_keras():
    """The config checks optimizer arguments from tables (no Keras import): they must be
    what the Keras classes accept."""
    import inspect

    from pipelines.train.optimizers import _SHARED_ARGS, KERAS_OPTIMIZER_ARGS

    for cls, own in KERAS_OPTIMIZER_ARGS.items():
        params = inspect.signature(getattr(keras.optimizers, cls).__init__).parameters
        keras_args = {n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD
                      or p.kind is p.KEYWORD_ONLY} - {"self", "learning_rate", "name"}
        assert keras_args == {*own, *_SHARED_ARGS}, cls


def test_optimizer_presets_and_params():
    nesterov = make_optimizer("nesterov", 0.1, {})
    assert nesterov.nesterov and nesterov.momentum == 0.9
    assert make_optimizer("amsgrad", 0.1, {}).amsgrad
    assert make_optimizer("sgd", 0.1, {"clipnorm": 1.0}).clipnorm == 1.0
    with pytest.raises(UserError, match=r"train.optimizer.momentum"):
        make_optimizer("sgd", 0.1, {"momentum": "fast"})
    with pytest.raises(UserError, match=r"unknown parameter\(s\) beta_1; allowed: .*nesterov"):
        make_optimizer("sgd", 0.1, {"beta_1": 0.9})


@pytest.mark.parametrize("name", [n for n in SCHEDULES.names() if n != "plateau"])
def test_schedules_start_at_base_rate_and_warm_up(name):
    lr = learning_rate(name, 0.1, {}, epochs=10, steps_per_epoch=10)
    value = lr(0) if callable(lr) else lr
    assert float(value) == pytest.approx(0.1, rel=1e-5)
    warm = learning_rate(name, 0.1, {}, epochs=10, steps_per_epoch=10, warmup_epochs=1)
    assert float(warm(0)) == pytest.approx(0.01, rel=1e-5)
    assert float(warm(9)) == pytest.approx(0.1, rel=1e-5)


def test_cosine_decays_to_zero_and_step_drops():
    cos = learning_rate("cosine", 0.1, {}, epochs=10, steps_per_epoch=10)
    assert float(cos(100)) == pytest.approx(0.0, abs=1e-7)
    step = learning_rate("step", 0.1, {"drop_every_epochs": 2, "factor": 0.5}, epochs=10,
                         steps_per_epoch=10)
    assert float(step(19)) == pytest.approx(0.1) and float(step(20)) == pytest.approx(0.05)


def test_plateau_schedule_adds_the_callback(make_config, tmp_path):
    from pipelines.tasks.base import TASKS
    from pipelines.train.fit import callbacks, guard_and_backup

    cfg = make_config(train={"schedule": {"name": "plateau", "patience": 1}})
    _, guarded = guard_and_backup(cfg.train, tmp_path)
    cbs = callbacks(cfg.train, TASKS.get("classify"), tmp_path, guarded)
    assert any(isinstance(c, keras.callbacks.ReduceLROnPlateau) for c in cbs)


def test_validation_every_validates_those_epochs_and_the_last_quietly(make_config):
    """validation_every 3 over 7 epochs: val metrics at epochs 3, 6 and 7 only, the best
    checkpoint chosen among them, no Keras warning about the missing monitor."""
    cfg = make_config(train={"epochs": 7, "validation_every": 3, "backup": False,
                             "early_stopping": {"patience": 5},
                             "schedule": {"name": "plateau", "patience": 2}})
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = pipeline.train(cfg)
    history = run.history
    validated = [i + 1 for i, v in enumerate(history["val_loss"]) if np.isfinite(v)]
    assert validated == [3, 6, 7] and len(history["loss"]) == 7
    assert not [w for w in caught if "val_loss" in str(w.message)]
    assert (run.run_dir / "checkpoints" / "best.weights.h5").exists()


def test_a_monitor_no_epoch_logs_is_warned_once(make_config):
    cfg = make_config(train={"epochs": 2, "backup": False, "monitor": "val_nothing"})
    with pytest.warns(UserWarning, match="no epoch logged 'val_nothing'"):
        pipeline.train(cfg)


class _Stop(keras.callbacks.Callback):
    """Interrupt after `epoch` (0-based), recording what the backup had committed."""

    def __init__(self, folder, epoch):
        super().__init__()
        self.folder, self.epoch, self.committed = folder, epoch, []

    def on_epoch_end(self, epoch, logs=None):
        state = self.folder / "backup" / "state.json"
        self.committed.append(json.loads(state.read_text())["epoch"] if state.exists() else 0)
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_backup_every_commits_those_epochs_and_resume_repeats_the_rest(make_config, tmp_path,
                                                                        monkeypatch):
    import pipelines.train.fit as train_module

    cfg = make_config(train={"epochs": 5, "checkpoint": False, "backup_every": 2})
    run_dir = tmp_path / "run"
    stop = _Stop(run_dir, epoch=2)  # killed after epoch 3: epoch 2's backup is the last
    original = train_module.callbacks
    monkeypatch.setattr(train_module, "callbacks", lambda *a: original(*a) + [stop])
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg, run_dir)
    assert stop.committed == [0, 2, 2]
    assert len(read_history(run_dir / "history.csv")["loss"]) == 3
    monkeypatch.setattr(train_module, "callbacks", original)
    resumed = pipeline.train(cfg, run_dir).history
    whole = pipeline.train(cfg, tmp_path / "whole").history
    assert resumed["loss"] == whole["loss"]  # epochs 3-5 run again, as the first time


def test_frequency_settings_validate(make_config):
    for key in ("validation_every", "backup_every"):
        with pytest.raises(UserError, match=key):
            make_config(train={"epochs": 2, key: 0})
