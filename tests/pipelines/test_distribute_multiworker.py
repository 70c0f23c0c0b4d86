"""multi_worker: two worker processes on 127.0.0.1 (`dlzoo train --workers 2`) train
through dlzoo's distributed loop, end with identical weights, match a single process,
and survive a killed worker by restarting from the backup."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from pipelines import run as pipeline
from pipelines.config.experiment import validate_config
from tests.conftest import learned, small_recipe


def _config(tmp_path: Path, strategy, *, epochs: int):
    train = {"epochs": epochs, "optimizer": {"name": "adam", "learning_rate": 0.01},
             "strategy": strategy, "tensorboard": False, "verbose": 2}
    return validate_config(small_recipe(tmp_path, train=train), source="test")


def _launcher(run_dir: Path) -> dict:
    return json.loads((run_dir / "workers" / "launcher.json").read_text())


def test_two_workers_agree_and_match_one_process(tmp_path):
    single = pipeline.run_all(_config(tmp_path / "single", "default", epochs=6))
    cfg = _config(tmp_path / "multi", {"name": "multi_worker", "workers": 2}, epochs=6)
    multi = pipeline.run_all(cfg)
    launcher = _launcher(multi.run_dir)
    assert launcher["restarts"] == 0 and launcher["exit_codes"] == [0, 0]
    digests = launcher["final_weights_sha256"]
    assert digests[0] is not None and digests[0] == digests[1]  # bit-identical weights
    learned("|multi - single accuracy|",
            abs(multi.metrics["accuracy"] - single.metrics["accuracy"]), at_most=0.01)
    learned("multi-worker accuracy", multi.metrics["accuracy"], at_least=0.9)
    # only the chief wrote the run's files; the other worker left only its log
    assert (multi.run_dir / "model.weights.h5").exists() and (multi.run_dir / "DONE").exists()
    assert not (multi.run_dir / "backup").exists()  # deleted once the final weights exist


def _kill_worker_after_first_backup(run_dir: Path, seen: dict) -> None:
    metadata = run_dir / "backup" / "state.json"  # the backup commit (train/backup.py)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if metadata.exists() and (run_dir / "workers" / "pids.json").exists():
            seen["backup_epoch"] = json.loads(metadata.read_text())["epoch"]
            pid = json.loads((run_dir / "workers" / "pids.json").read_text())["1"]
            os.kill(pid, signal.SIGKILL)
            seen["killed"] = pid
            return
        time.sleep(0.05)


def test_killed_worker_restarts_the_cluster_from_the_backup(tmp_path):
    epochs = 6
    cfg = _config(tmp_path, {"name": "multi_worker", "workers": 2}, epochs=epochs)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    seen: dict = {}
    killer = threading.Thread(target=_kill_worker_after_first_backup, args=(run_dir, seen))
    killer.start()
    run = pipeline.train(cfg, run_dir)
    killer.join()
    assert seen.get("killed") and 1 <= seen["backup_epoch"] < epochs
    assert _launcher(run_dir)["restarts"] == 1
    chief_log = (run_dir / "workers" / "worker-0.log").read_text()
    assert "dlzoo: resuming from the backup at epoch" in chief_log.rsplit("--- attempt", 1)[-1]
    with open(run_dir / "history.csv", newline="") as f:
        trained = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert trained == list(range(epochs))  # every epoch once: resumed, not restarted
    learned("final val_accuracy", run.history["val_accuracy"][-1], at_least=0.85)


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "no 'cluster'"),
        ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
         "host:port"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
         "task.index must be 0..1"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "not used"),
    ],
)
def test_malformed_tf_config_is_a_user_error_before_training(
    tmp_path, monkeypatch, tf_config, message
):
    from common.errors import UserError

    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(UserError, match=message):
        pipeline.train(_config(tmp_path, "multi_worker", epochs=1), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing written


def test_multi_worker_without_a_cluster_says_how_to_get_one(tmp_path, monkeypatch):
    from common.errors import UserError

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="TF_CONFIG.*--workers N"):
        pipeline.train(_config(tmp_path, "multi_worker", epochs=1))
