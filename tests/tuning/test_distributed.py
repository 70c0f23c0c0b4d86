"""KerasTuner's chief/worker mode on 127.0.0.1: a chief oracle here, two worker
processes; every trial runs exactly once and all land in one results table."""

from __future__ import annotations

import csv
import json


def test_two_workers_complete_every_trial_once(tune_recipe):
    from tuning.jobs import run_search

    widths = [8, 16, 32, 64]
    cfg, path = tune_recipe(
        {"params": {"model.params.width": widths}, "max_trials": 4, "max_epochs": 1},
        train={"epochs": 1, "tensorboard": False, "verbose": 0},
    )
    outcome = run_search(cfg, workers=2, recipe=str(path))
    with open(outcome.run_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["trial"] for r in rows) == ["0", "1", "2", "3"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    # The oracle hands out each configuration once: the four widths, no repeats.
    assert sorted(int(r["model.params.width"]) for r in rows) == widths
    trial_files = sorted((outcome.run_dir / "search").glob("trial_*/trial.json"))
    assert [json.loads(p.read_text())["status"] for p in trial_files] == ["COMPLETED"] * 4
    for i in range(2):  # both worker processes ran and left when the oracle was done
        log = (outcome.run_dir / "workers" / f"worker{i}.log").read_text()
        assert log.rstrip().endswith("worker done")
    assert (outcome.run_dir / "best_config.yaml").exists()
