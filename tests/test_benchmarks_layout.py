"""Benchmarks run as `python benchmarks/NAME.py`, which puts benchmarks/ first on
sys.path, where explain.py, tuning.py and models.py share names with the project's
packages: each script must still import the packages, not its neighbours."""

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
