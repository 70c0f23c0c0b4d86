"""Resume holds what Keras' BackupAndRestore promises, and more: a run killed at any
point after its first epoch resumes (also between the last epoch and the final save),
a finished run is never silently overwritten, and a changed recipe is refused."""

from __future__ import annotations

import pytest

import pipelines.run as pipeline
from common.errors import UserError
from pipelines.run_dir import latest_interrupted, run_state
from pipelines.train.history import read_history


def test_killed_before_the_final_save_resumes_without_retraining(make_config, monkeypatch):
    cfg = make_config(train={"epochs": 3, "checkpoint": False})
    whole = pipeline.train(cfg).history
    real_save = pipeline.save_weights

    def killed(model, path):
        if path.name == "model.weights.h5":
            raise KeyboardInterrupt  # the process dies after the last epoch
        return real_save(model, path)

    monkeypatch.setattr(pipeline, "save_weights", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg)
    monkeypatch.setattr(pipeline, "save_weights", real_save)
    run_dir = latest_interrupted(cfg)
    assert run_state(run_dir) == "interrupted" and (run_dir / "backup").is_dir()
    resumed = pipeline.train(cfg, run_dir)
    assert resumed.history["loss"] == whole["loss"]  # 3 rows, none repeated or retrained
    assert run_state(run_dir) == "finished" and not (run_dir / "backup").exists()
    assert len(read_history(run_dir / "history.csv")["loss"]) == 3


def test_a_finished_run_is_refused_unless_overwrite(make_config):
    cfg = make_config(train={"epochs": 1, "checkpoint": False})
    run_dir = pipeline.train(cfg).run_dir
    with pytest.raises(UserError, match="holds a finished run.*--overwrite"):
        pipeline.train(cfg, run_dir)
    again = pipeline.train(cfg, run_dir, overwrite=True)
    assert len(again.history["loss"]) == 1


def test_resume_refuses_a_changed_recipe_naming_the_keys(make_config, monkeypatch):
    import pipelines.train.fit as fit_module
    from tests.pipelines.test_train import _Interrupt

    cfg = make_config(train={"epochs": 4, "checkpoint": False})
    original = fit_module.callbacks
    monkeypatch.setattr(fit_module, "callbacks", lambda *a: original(*a) + [_Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg)
    monkeypatch.setattr(fit_module, "callbacks", original)
    run_dir = latest_interrupted(cfg)
    changed = cfg.with_overrides({"model.params.activation": "tanh", "data.image_size": [9, 9]})
    keys = r"data\.image_size, model\.params\.activation"
    with pytest.raises(UserError, match=rf"differs .* in {keys}"):
        pipeline.train(changed, run_dir)
    longer = cfg.with_overrides({"train.epochs": 5})  # may change: train for longer
    assert len(pipeline.train(longer, run_dir).history["loss"]) == 5


def test_resume_finds_no_interrupted_run_and_says_the_latest_finished(make_config):
    cfg = make_config(train={"epochs": 1, "checkpoint": False})
    pipeline.train(cfg)
    with pytest.raises(UserError, match="no interrupted run .* finished"):
        latest_interrupted(cfg)
