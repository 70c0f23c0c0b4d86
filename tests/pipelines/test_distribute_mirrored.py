"""mirrored on 2 logical CPUs (each scenario in a fresh process, since logical devices
must be configured before TensorFlow starts): LeNet-5 matches the default strategy,
step for step and in test accuracy; GAN, AAE and adversarial training (their own
train_steps) train under it with correctly reduced losses; bad device requests and an
uneven global batch fail before training."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import learned

ROOT = Path(__file__).resolve().parents[2]


def _child(scenario: str, tmp_path: Path) -> dict:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.pipelines.distribute_child", scenario, str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_lenet_under_mirrored_matches_one_device(tmp_path):
    result = _child("lenet", tmp_path)
    step = result["one_step"]
    assert step["replicas"] == 2
    assert step["moved"] > 1e-3  # the step did change the weights...
    assert step["fit_vs_single"] < 1e-5  # ...identically under mirrored (Keras fit)
    assert step["loop_vs_single"] < 1e-5  # and under dlzoo's distributed loop
    accuracy = result["accuracy"]
    learned("default accuracy", accuracy["default"], at_least=0.93)
    learned("|mirrored - default accuracy|", abs(accuracy["mirrored"] - accuracy["default"]),
            at_most=0.01)


def test_custom_train_steps_under_mirrored(tmp_path):
    result = _child("custom_steps", tmp_path)
    adversarial = result["adversarial"]["mirrored"]
    assert adversarial["replicas"] == 2
    # 3 steps from random weights: near ln(10), the untrained 10-class cross-entropy
    assert adversarial["losses"]["loss"] == pytest.approx(2.303, rel=0.25)
    for name in ("gan", "aae"):
        mirrored, default = result[name]["mirrored"], result[name]["default"]
        assert mirrored["replicas"] == 2 and default["replicas"] == 1
        assert set(mirrored["losses"]) == set(default["losses"])
        for key, value in mirrored["losses"].items():
            # losses reduced over the global batch: same scale as on one device (a
            # loss left scaled by 1/replicas would read half)
            assert value == pytest.approx(default["losses"][key], rel=0.25), (name, key)


def test_distribution_mistakes_stop_the_cli_before_training(tmp_path):
    result = _child("bad_inputs", tmp_path)
    expected = {
        "uneven_batch": "batch_size=33 is the global batch.*2 replicas.*32 or 34",
        "more_cpus_later": "logical_cpus=3.*fresh process",
        "missing_gpus": "'gpu:0' does not exist.*CPU:1",
        "tpu_unreachable": "no TPU reachable at 'local'",
    }
    for name, pattern in expected.items():
        case = result[name]
        assert case["code"] == 2, (name, case)
        assert re.search(pattern, case["message"], re.S), (name, case)
        assert case["trained"] == [], name  # stopped before any training
        assert case["run_folders"] == [], name  # and left no run folder behind
        assert "Traceback" not in case["message"]
