"""`deterministic: true`: two runs of one recipe give bit-identical weights, and the run
records that op determinism was on (machine.json), beside what else decides numerics."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import yaml

from tests.conftest import seeded, small_recipe


def weights(path) -> dict[str, np.ndarray]:
    arrays = {}

    def keep(name, obj) -> None:  # visititems stops at the first non-None return
        if isinstance(obj, h5py.Dataset):
            arrays[name] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(keep)
    return arrays


def test_op_determinism_gives_bit_identical_weights(tmp_path):
    raw = small_recipe(tmp_path, seed=seeded(0), deterministic=True,
                       model={"name": "lenet5", "params": {"activation": "relu"}},
                       data={"augment": {"translation": {"factor": 0.1}}})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(raw))
    runs = [tmp_path / "a", tmp_path / "b"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    for run_dir in runs:  # separate processes: op determinism is a process-wide switch
        done = subprocess.run([sys.executable, "-m", "pipelines.cli.main", "run", str(recipe),
                               "--run-dir", str(run_dir)], capture_output=True, text=True,
                              env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    first, second = (weights(run_dir / "model.weights.h5") for run_dir in runs)
    assert first.keys() == second.keys() and len(first) >= 10  # every LeNet-5 variable
    for name in first:
        assert np.array_equal(first[name], second[name]), name
    machine = json.loads((runs[0] / "machine.json").read_text())
    assert machine["op_determinism"] is True
    assert {"tensorflow", "keras", "onednn_opts", "cpu", "gpus"} <= machine.keys()
