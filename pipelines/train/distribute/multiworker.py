"""Multi-worker training: the worker side (chief writes, others keep scratch copies)
and the local launcher behind `dlzoo train --workers N`.

On a cluster, every machine runs the same `dlzoo train RECIPE --run-dir SHARED_DIR`
with its own TF_CONFIG; here, the launcher starts N such workers on 127.0.0.1, each
with a TF_CONFIG naming free local ports. As tf.distribute expects, every worker runs
every callback (they hold collectives); only the chief's files are kept: the other
workers write into a scratch folder that is deleted when they exit, and read the
chief's `backup/` so a restarted cluster resumes where the chief's last backup left
off. When a worker dies the launcher stops the others and restarts the whole cluster
(up to `train.strategy.max_restarts` times), which is how TensorFlow's fault
tolerance works (the survivors cannot go on without it).
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from common.errors import UserError
from common.io import write_json, write_text
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config
from pipelines.train.backup import RunBackup
from pipelines.train.distribute.strategy import is_chief, read_tf_config
from pipelines.train.history import HistoryFile


def train_multi_worker(
    cfg: ExperimentConfig,
    run_dir: Path | None,
    *,
    train_fn: Callable[[ExperimentConfig, Path], Any],
    load_fn: Callable[[Path], Any],
    new_dir_fn: Callable[[ExperimentConfig], Path],
):
    """Train under multi_worker: as one worker when TF_CONFIG is set, else launch
    `train.strategy.workers` local workers. Returns the trained run rebuilt on one
    device, ready for evaluation and export.

    The orchestrator passes its own functions in (train in this process, load a run,
    make a run folder), so this module does not import it back.
    """
    if read_tf_config(required=False) is not None:
        return load_fn(train_as_worker(cfg, run_dir, train_fn=train_fn))
    if not cfg.train.strategy.workers:
        read_tf_config(required=True)  # raises: says how to give a cluster
    run_dir = Path(run_dir) if run_dir else new_dir_fn(cfg)
    launch(cfg, run_dir)
    return load_fn(run_dir)


def train_as_worker(
    cfg: ExperimentConfig,
    run_dir: Path | None,
    *,
    train_fn: Callable[[ExperimentConfig, Path], Any],
) -> Path:
    """Train as this process's TF_CONFIG task; return the folder it wrote (the run
    folder on the chief, a scratch copy, deleted at exit, on the others)."""
    if run_dir is None:
        raise UserError(
            "multi_worker on a cluster: give every worker the same --run-dir (shared "
            "storage), so they resume from one backup and the chief's files land there"
        )
    run_dir = Path(run_dir)
    if is_chief():
        _report_weights(train_fn(cfg, run_dir).model)
        return run_dir
    scratch = Path(tempfile.mkdtemp(prefix="dlzoo-worker-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    (scratch / "backup").symlink_to((run_dir / "backup").resolve(), target_is_directory=True)
    cfg = cfg.with_overrides({"export.dir": str(scratch / "saved_models")})
    _report_weights(train_fn(cfg, scratch).model)
    return scratch


WEIGHTS_LINE = "dlzoo-worker-weights: "


def _report_weights(model: keras.Model) -> None:
    """Print a digest of the final weights (the launcher checks that workers agree)."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(w.tobytes())
    print(WEIGHTS_LINE + digest.hexdigest(), flush=True)


class WorkerBackup(RunBackup):
    """The run's backup under multi_worker: every worker restores from the chief's
    backup (shared storage), only the chief writes it; the workers check they resumed
    at the same epoch."""

    def on_train_begin(self, logs=None) -> None:
        super().on_train_begin(logs)
        epoch = self.restored_epoch
        if epoch:
            print(f"dlzoo: resuming from the backup at epoch {epoch + 1}", flush=True)
        if not _same_on_every_worker(self.model.distribute_strategy, epoch):
            raise UserError(
                f"multi_worker: the workers found different backups in {self.folder} "
                f"(this one: epoch {epoch}); the run folder must be on storage every "
                "worker sees (NFS, GCS...)"
            )


def worker_callbacks(callbacks: list, strategy: tf.distribute.Strategy) -> list:
    """Under MultiWorkerMirroredStrategy, swap the run's backup (every worker would
    write the same files) for the chief-writes one, and let only the chief write the
    history."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return callbacks
    chief = is_chief()
    out = []
    for cb in callbacks:
        if type(cb) is RunBackup:
            guard = cb.guard
            cb = WorkerBackup(cb.folder, history_path=cb.history_path, chief=chief,
                              every=cb.every)
            cb.guard = guard
        elif isinstance(cb, HistoryFile):
            cb.write = chief
        out.append(cb)
    return out


def _same_on_every_worker(strategy: tf.distribute.Strategy, value: float) -> bool:
    """All-reduce (value, value^2): equal values iff mean(v^2) == mean(v)^2."""
    pair = tf.constant([value, value * value], tf.float64)
    per_replica = strategy.experimental_distribute_values_from_function(lambda _: pair)
    total = strategy.reduce("SUM", per_replica, axis=None).numpy()
    mean, mean_sq = total / strategy.num_replicas_in_sync
    return abs(mean_sq - mean * mean) < 1e-9


# --- the local launcher -------------------------------------------------------------


@dataclasses.dataclass
class _Worker:
    index: int
    process: subprocess.Popen
    log: Path


def launch(cfg: ExperimentConfig, run_dir: Path) -> None:
    """Run `cfg.train.strategy.workers` local worker processes training into `run_dir`;
    restart them all (resuming from the backup) when one dies.

    Raises:
        UserError: a worker stopped on a user error, or the restarts ran out.
    """
    n, restarts = cfg.train.strategy.workers, 0
    write_text(run_dir / "config.yaml", dump_config(cfg))
    while True:
        workers = _start(run_dir, n, attempt=restarts)
        failed = _wait(workers)
        digests = [_weights_digest(w.log) for w in workers]
        _record(run_dir, workers, restarts, failed, digests)
        if failed is None:
            if len(set(digests)) != 1:
                raise UserError(f"multi_worker: the workers ended with different weights "
                                f"({digests}); see {run_dir / 'workers'}")
            return
        code = failed.process.returncode
        if code == UserError.exit_code:
            raise UserError(f"worker {failed.index} stopped: {_last_error(failed.log)}")
        if restarts >= cfg.train.strategy.max_restarts:
            raise UserError(
                f"multi_worker: worker {failed.index} failed ({_describe(code)}) after "
                f"{restarts} restart(s); its log: {failed.log}"
            )
        restarts += 1
        print(
            f"dlzoo: worker {failed.index} {_describe(code)}; restarting all {n} workers "
            f"from the last backup ({restarts}/{cfg.train.strategy.max_restarts})",
            file=sys.stderr,
            flush=True,
        )


def _start(run_dir: Path, n: int, attempt: int) -> list[_Worker]:
    ports = _free_ports(n)
    logs = run_dir / "workers"
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for i in range(n):
        tf_config = {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": i},
        }
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config)}
        log = logs / f"worker-{i}.log"
        with open(log, "a") as out:
            out.write(f"--- attempt {attempt}, TF_CONFIG={env['TF_CONFIG']}\n")
            out.flush()
            cmd = [sys.executable, "-m", "pipelines.cli.worker", str(run_dir)]
            process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        workers.append(_Worker(i, process, log))
    write_json(logs / "pids.json", {w.index: w.process.pid for w in workers})
    return workers


def _wait(workers: list[_Worker]) -> _Worker | None:
    """Wait for every worker; on the first failure stop the rest and return it."""
    try:
        while True:
            codes = [w.process.poll() for w in workers]
            failed = next((w for w, c in zip(workers, codes) if c not in (None, 0)), None)
            if failed is not None:
                _stop(workers)
                return failed
            if all(c == 0 for c in codes):
                return None
            time.sleep(0.2)
    except BaseException:  # Ctrl-C: take the workers down with the launcher
        _stop(workers)
        raise


def _stop(workers: list[_Worker], grace: float = 5.0) -> None:
    for w in workers:
        if w.process.poll() is None:
            w.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for w in workers:
        try:
            w.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.process.kill()
            w.process.wait()


def _record(run_dir: Path, workers: list[_Worker], restarts: int, failed, digests) -> None:
    write_json(
        run_dir / "workers" / "launcher.json",
        {
            "workers": len(workers),
            "restarts": restarts,
            "exit_codes": [w.process.returncode for w in workers],
            "failed_worker": None if failed is None else failed.index,
            "final_weights_sha256": digests,
        },
    )


def _weights_digest(log: Path) -> str | None:
    """The digest the worker printed in this attempt (the log's last one), if any."""
    text = log.read_text(errors="replace").rsplit("--- attempt", 1)[-1]
    found = [ln for ln in text.splitlines() if ln.startswith(WEIGHTS_LINE)]
    return found[-1].removeprefix(WEIGHTS_LINE) if found else None


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _describe(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _last_error(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("dlzoo: error:")]
    return (errors[-1].removeprefix("dlzoo: error: ") if errors else "\n".join(lines[-5:]))
