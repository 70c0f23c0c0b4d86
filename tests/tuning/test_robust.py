"""The robustness-aware objective: accuracy under attack per trial, Pareto front."""

from __future__ import annotations

import csv

from pipelines.config.load import load_recipe
from tests.conftest import learned
from tuning.robust import pareto_front


def test_pareto_front_keeps_exactly_the_non_dominated_points():
    points = [(0.9, 0.2), (0.8, 0.5), (0.7, 0.4), (0.95, 0.1), (0.8, 0.5), (0.6, 0.6)]
    front = pareto_front(points)
    # (0.7, 0.4) is beaten by (0.8, 0.5) on both; ties (the two (0.8, 0.5)) both stay.
    assert front == [3, 0, 1, 4, 5]
    for i in front:
        assert not any(
            c >= points[i][0] and d >= points[i][1] and (c, d) != points[i] for c, d in points
        )


def test_robust_search_logs_attacked_accuracy_and_writes_the_front(tune_recipe):
    from tuning.jobs import run_search

    cfg, path = tune_recipe(
        {
            "params": {
                "model.params.width": [16, 64],
                "train.optimizer.learning_rate": {"float": [3e-3, 3e-2], "log": True},
            },
            "max_trials": 3,
            "max_epochs": 2,
            "robustness": {"attack": "fgsm", "epsilon": 3.0, "max_examples": 128},
        }
    )
    outcome = run_search(cfg, recipe=str(path))
    with open(outcome.run_dir / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for row in rows:  # FGSM at eps 3 (of 16) costs every trained MLP accuracy
        learned(f"trial {row['trial']} val_accuracy - val_robust_accuracy",
                float(row["val_accuracy"]) - float(row["val_robust_accuracy"]), at_least=0.0)
    front_files = sorted((outcome.run_dir / "pareto").glob("trial_*.yaml"))
    points = [(float(r["val_accuracy"]), float(r["val_robust_accuracy"])) for r in rows]
    expected = {rows[i]["trial"] for i in pareto_front(points)}
    assert {p.stem.removeprefix("trial_") for p in front_files} == expected
    for file in front_files:  # each front member has a replayable recipe
        assert load_recipe(file).tune is None
    report = (outcome.run_dir / "report.md").read_text()
    assert "Pareto front" in report and (outcome.run_dir / "plots" / "pareto.png").exists()

    # Results are rewritten after every trial and the front changes as trials finish:
    # a trial that left the front must not keep its replay file. Simulated with a
    # file for a trial not on the front; the same command again rewrites the results.
    stale = outcome.run_dir / "pareto" / "trial_99.yaml"
    stale.write_text(front_files[0].read_text())
    again = run_search(cfg, recipe=str(path))  # nothing left to run: outputs only
    assert not stale.exists()
    assert sorted((again.run_dir / "pareto").glob("trial_*.yaml")) == front_files


def test_robust_accuracy_builds_one_scorer_per_trial(make_config, monkeypatch):
    """The attacked accuracy reuses one scorer (its compiled tf.functions) across a
    trial's epochs instead of retracing a new one every epoch."""
    import explain.adapter
    from pipelines.config.tune import RobustObjective
    from pipelines.data.builder import build
    from pipelines.tasks.assemble import build_model
    from tuning.robust import ROBUST_METRIC, RobustAccuracy

    cfg = make_config()
    bundle = build(cfg.data, seed=0)
    model, _ = build_model(cfg, bundle.spec)
    made, real = [], explain.adapter.KerasScorer.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(explain.adapter.KerasScorer, "__init__", counting_init)
    robust = RobustAccuracy(bundle, RobustObjective(epsilon=2.0, max_examples=32))
    history = model.fit(bundle.train, validation_data=bundle.val, epochs=3, verbose=0,
                        callbacks=[robust])
    assert len(history.history[ROBUST_METRIC]) == 3
    assert len(made) == 1
