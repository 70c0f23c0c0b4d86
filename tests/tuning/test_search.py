"""A tiny search end to end on digits: results, plot, report, a replayable best
config; and resuming an interrupted search runs only the remaining trials."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from pipelines.config.load import load_recipe
from tests.conftest import learned

TUNE = {
    "params": {
        "model.params.width": [32, 64],
        "train.optimizer.learning_rate": {"float": [3e-3, 3e-2], "log": True},
    },
    "max_trials": 3,
    "max_epochs": 3,
}


def _rows(run_dir):
    with open(run_dir / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_search_writes_results_and_best_config_replays(tune_recipe, tmp_path):
    from pipelines.run import run_all
    from tuning.jobs import run_search

    cfg, path = tune_recipe(TUNE)
    outcome = run_search(cfg, recipe=str(path))
    rows = _rows(outcome.run_dir)
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert all(r["status"] == "COMPLETED" and int(float(r["epochs"])) == 3 for r in rows)
    assert {r["model.params.width"] for r in rows} <= {"32", "64"}
    best = max(rows, key=lambda r: float(r["score"]))
    assert outcome.best["trial"] == best["trial"]
    # a 1-hidden-layer MLP learns digits in 3 epochs
    learned("best trial score", float(best["score"]), at_least=0.85)
    for name in ("results.md", "plots/score_vs_trial.png", "report.md"):
        assert (outcome.run_dir / name).stat().st_size > 0
    text = (outcome.run_dir / "report.md").read_text()
    assert "How the best model is obtained" in text and "train and validation" in text
    from pipelines.report.hparams import read_hparams

    sessions = read_hparams(outcome.run_dir / "hparams")  # TensorBoard's HParams view
    assert sorted(sessions) == ["0", "1", "2"]
    settings, values = sessions[best["trial"]]
    assert settings["model.params.width"] == int(best["model.params.width"])
    assert values["score"] == pytest.approx(float(best["score"]))

    replay = load_recipe(outcome.best_config)
    assert replay.tune is None and replay.data.train_on_val and not replay.train.checkpoint
    assert replay.model.params["width"] == int(best["model.params.width"])
    assert replay.train.epochs == int(float(best["best_epoch"]))
    replay = replay.with_overrides({"export.enabled": False})  # export is the spine's test
    run = run_all(replay)
    # train+val folded: the retrained model saw 1294 + 144 examples, and is scored on test.
    assert run.bundle.spec.sizes["train"] == 1294 + 144
    learned("replayed best config accuracy", run.metrics["accuracy"], at_least=0.85)


def test_interrupted_search_resumes_with_only_the_remaining_trials(tune_recipe, monkeypatch):
    from tuning.hypermodel import RecipeHyperModel
    from tuning.jobs import run_search, tune_dir

    cfg, path = tune_recipe({**TUNE, "max_epochs": 1})
    real_fit, calls = RecipeHyperModel.fit, []

    def interrupted_fit(self, hp, model, *args, **kwargs):
        calls.append(dict(hp.values))
        if len(calls) == 3:  # Ctrl-C during the third trial
            raise KeyboardInterrupt
        return real_fit(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(RecipeHyperModel, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg, recipe=str(path))
    run_dir = tune_dir(cfg)
    first = {r["trial"]: r["score"] for r in _rows(run_dir)}
    assert len(first) == 2  # the two finished trials were saved before the interruption

    calls.clear()
    outcome = run_search(cfg, recipe=str(path))  # the same command again
    assert len(calls) == 1  # only the interrupted trial ran
    rows = _rows(outcome.run_dir)
    assert outcome.run_dir == run_dir
    assert [r["trial"] for r in rows] == ["0", "1", "2"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    assert {r["trial"]: r["score"] for r in rows[:2]} == first  # nothing lost or redone


def test_cross_validated_score_is_the_mean_of_its_folds(tune_recipe):
    """tune.cv: each trial's score is the mean of its k folds' best-epoch scores, with the
    standard error beside it; the report says how sure the winner is."""
    from tuning.jobs import run_search

    cfg, path = tune_recipe({"params": {"model.params.width": [16, 64]}, "max_trials": 2,
                             "max_epochs": 2, "cv": 3})
    outcome = run_search(cfg, recipe=str(path))
    rows = _rows(outcome.run_dir)
    assert len(rows) == 2
    for row in rows:
        folds = [float(row[f"fold_{i}"]) for i in range(3)]
        assert float(row["score"]) == pytest.approx(np.mean(folds), abs=1e-6)
        assert float(row["val_accuracy_sem"]) == pytest.approx(
            np.std(folds, ddof=1) / np.sqrt(3), abs=1e-6)
        assert int(float(row["epochs"])) == 6  # 3 folds x 2 epochs: the cost is the total
    text = (outcome.run_dir / "report.md").read_text()
    assert "means over 3 cross-validation folds" in text and "one-standard-error rule" in text


def test_trial_zero_is_the_recipe_and_a_decaying_schedule_replays_whole(tune_recipe):
    """The search starts from the recipe (every hyperparameter's default is the recipe's
    value), and a replay keeps the trial's schedule length."""
    from tuning.jobs import run_search

    cfg, path = tune_recipe(
        {"space": ["mlp"], "params": {"train.optimizer.learning_rate": {"float": [1e-4, 1e-1],
                                                                       "log": True}},
         "max_trials": 2, "max_epochs": 2},
        model={"name": "mlp", "params": {"width": 32, "depth": 1, "activation": "tanh"}},
        train={"epochs": 2, "tensorboard": False, "verbose": 0,
               "optimizer": {"name": "adam", "learning_rate": 0.004},
               "schedule": {"name": "cosine"}})
    outcome = run_search(cfg, recipe=str(path))
    trial0 = _rows(outcome.run_dir)[0]
    assert (trial0["mlp/width"], trial0["mlp/depth"], trial0["mlp/activation"]) == (
        "32", "1", "tanh")
    assert float(trial0["train.optimizer.learning_rate"]) == pytest.approx(0.004)
    assert trial0["mlp/batch_norm"] == "False"  # the builder's default, as the recipe had it
    replay = load_recipe(outcome.best_config)
    assert replay.train.epochs == 2 and replay.train.schedule.name == "cosine"
    start = load_recipe(outcome.run_dir / "trial0_config.yaml")  # the recipe, replayed alike
    assert start.model.params == {**cfg.model.params, **start.model.params}
    assert start.train.optimizer.learning_rate == pytest.approx(0.004)


def test_one_standard_error_rule_picks_the_smaller_model_inside_the_error():
    from tuning.results import ranked

    rows = [{"trial": t, "status": "COMPLETED", "score": s, "val_accuracy_sem": e, "params": p}
            for t, s, e, p in [("0", 0.95, 0.01, 9000), ("1", 0.945, 0.01, 1000),
                               ("2", 0.90, 0.01, 100)]]
    assert [r["trial"] for r in ranked(rows, "max", "val_accuracy")] == ["1", "0", "2"]
    without_error = [{k: v for k, v in r.items() if k != "val_accuracy_sem"} for r in rows]
    assert [r["trial"] for r in ranked(without_error, "max", "val_accuracy")] == ["0", "1", "2"]


def test_replay_seeds_compare_the_winner_with_the_recipe_seed_by_seed(tune_recipe, capsys):
    """tune.replay_seeds 2: best_config.yaml and trial0_config.yaml each retrained at
    seeds 0 and 1 into replays/, compared in the report and summary.json; running the
    command again reuses the finished replays."""
    import json

    from tuning.jobs import run_search

    cfg, path = tune_recipe({**TUNE, "max_trials": 2, "max_epochs": 2, "replay_seeds": 2})
    outcome = run_search(cfg, recipe=str(path))
    comparison = outcome.replays
    assert comparison["seeds"] == [0, 1] and comparison["metric"] == "accuracy"
    rows = comparison["rows"]
    assert all(0 < r["best"] <= 1 and 0 < r["trial0"] <= 1 for r in rows)
    assert comparison["difference"]["mean"] == pytest.approx(
        np.mean([r["best"] - r["trial0"] for r in rows]))
    for name in ("best-seed0", "best-seed1", "trial0-seed0", "trial0-seed1"):
        replay = load_recipe(outcome.run_dir / "replays" / name / "config.yaml")
        assert replay.seed == int(name[-1]) and not replay.export.enabled
    assert "The winner against the recipe, over 2 seeds" in (
        outcome.run_dir / "report.md").read_text()
    assert json.loads((outcome.run_dir / "summary.json").read_text())["replays"]["rows"] == rows
    capsys.readouterr()
    again = run_search(cfg, recipe=str(path))
    assert again.replays["rows"] == rows
    assert capsys.readouterr().out.count("reusing the finished run") == 4


def test_replay_summary_by_hand():
    from tuning.replays import summarize

    rows = [{"seed": 0, "best": 0.9, "trial0": 0.8}, {"seed": 1, "best": 0.7, "trial0": 0.8}]
    out = summarize(rows, "accuracy", "max")
    assert out["best"]["mean"] == pytest.approx(0.8)
    assert out["best"]["sem"] == pytest.approx(np.std([0.9, 0.7], ddof=1) / np.sqrt(2))
    assert out["difference"]["mean"] == pytest.approx(0.0)
    assert out["verdict"] == "is within one standard error of"
    clear = [{"seed": s, "best": 0.9 + d, "trial0": 0.8} for s, d in enumerate((0, .01, .02))]
    assert summarize(clear, "accuracy", "max")["verdict"] == "beats"
    assert summarize(clear, "loss", "min")["verdict"] == "is worse than"  # higher loss
