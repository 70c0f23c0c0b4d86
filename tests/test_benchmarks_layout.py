"""Benchmarks run as `python benchmarks/NAME.py`, which puts benchmarks/ first on
sys.path, where explain.py, tuning.py and models.py share names with the project's
packages: each script must still import the packages, not its neighbours."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_benchmark_starts_as_a_script(script):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "usage" in done.stdout.lower(), done.stderr[-800:]


def test_against_keras_finishes_on_tiny_settings(tmp_path):
    """The plain-Keras comparison trains both sides and writes its JSON (the ratios are
    measurements, not asserted: this machine's load sets them)."""
    out = tmp_path / "against_keras.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "against_keras.py"), "--models", "lenet5",
         "--cases", "plain,dlzoo", "--epochs", "2", "--rounds", "1", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-800:]
    rows = json.loads(out.read_text())["results"]["lenet5"]
    assert set(rows) == {"plain", "dlzoo"}
    assert rows["plain"]["steps_ratio"] == 1.0 and rows["plain"]["wall_ratio"] == 1.0
    for row in rows.values():
        assert row["steps_per_s"] > 0 and row["s_per_epoch"] > 0
        assert len(row["rounds"]) == 1 and len(row["rounds"][0]["epoch_walls"]) == 2
