"""Distributed search with KerasTuner's chief/worker mode.

KerasTuner runs one oracle (the *chief*) that hands trials to *workers* over gRPC;
every process runs the same program and learns its role from three environment
variables: KERASTUNER_TUNER_ID ("chief", or a worker id such as "tuner0"),
KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT (the chief's address). `dlzoo tune`
follows them, so across machines one starts `dlzoo tune RECIPE` with those variables
set on each machine (README). `dlzoo tune RECIPE --workers N` does it on this
machine: this process serves the oracle on 127.0.0.1 and starts N worker processes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

from common.errors import UserError

ID, IP, PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"


def role() -> str | None:
    """"chief", "worker", or None (no distributed search), from KerasTuner's variables."""
    # KerasTuner internals, only in a distributed search
    from keras_tuner.src.distribute import utils as dist_utils

    try:
        if not dist_utils.has_chief_oracle():
            return None
    except RuntimeError as err:  # IP set without port or id
        raise UserError(f"distributed search: {err}") from None
    return "chief" if dist_utils.is_chief_oracle() else "worker"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def serve(oracle, host: str, port: int):
    """Start KerasTuner's gRPC oracle service for `oracle`; returns the server.

    KerasTuner's own `oracle_chief.start_server` does the same but blocks, polling
    every 20 s for running trials; here the caller knows when its workers are done.
    """
    # only the chief serves the oracle: grpc and KerasTuner internals
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))  # as KerasTuner
    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(oracle), server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise UserError(f"distributed search: cannot listen on {host}:{port}")
    server.start()
    return server


def worker_command(recipe: str, overrides: tuple[str, ...], run_dir: Path) -> list[str]:
    """The same `dlzoo tune` command, for a worker process."""
    sets = [arg for item in overrides for arg in ("--set", item)]
    # Not `python -m pipelines.cli.main`: run as __main__ it would import itself twice.
    main = "from pipelines.cli.main import main; main()"
    return [sys.executable, "-c", main, "tune", recipe, "--run-dir", str(run_dir), *sets]


def run_local_cluster(
    make_tuner: Callable[[], Any], *, workers: int, command: list[str], log_dir: Path
) -> Any:
    """Serve the oracle of `make_tuner()` here and run the search in `workers` processes.

    The workers start first (importing TensorFlow takes them seconds; they wait
    for the oracle to answer). Returns the tuner once every worker has exited (each
    exits when the oracle has no trial left). Worker output: `log_dir/worker<i>.log`.

    Raises:
        UserError: a worker failed (its log is named).
    """
    host, port = "127.0.0.1", free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    procs, server = [], None
    try:
        for i in range(workers):
            env = {**os.environ, ID: f"worker{i}", IP: host, PORT: str(port)}
            log = open(log_dir / f"worker{i}.log", "w")  # noqa: SIM115 (closed below)
            procs.append((subprocess.Popen(command, env=env, stdout=log, stderr=log), log))
        tuner = make_tuner()
        tuner.save()  # the project (oracle state) exists before any trial: resumable
        server = serve(tuner.oracle, host, port)
        print(f"oracle on {host}:{port}; {workers} workers; logs in {log_dir}", flush=True)
        while any(p.poll() is None for p, _ in procs):
            time.sleep(0.2)
    finally:
        for proc, log in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
            log.close()
        if server is not None:
            server.stop(grace=2)
    failed = [i for i, (p, _) in enumerate(procs) if p.returncode != 0]
    if failed:
        raise UserError(
            "distributed search: worker(s) "
            + ", ".join(
                f"{i} (exit {procs[i][0].returncode}, log {log_dir}/worker{i}.log)"
                for i in failed
            )
        )
    return tuner
