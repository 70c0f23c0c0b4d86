"""`dlzoo tune RECIPE`: run (or continue) a recipe's search and write its results.

The run folder is keyed by the recipe, `runs/<name>/tune-<hash>/`, where the hash
covers everything that defines the search except its budget (trials, time, workers):
running the same command again, or with a larger budget, continues the same search
(KerasTuner's `overwrite=False` reloads the oracle; finished trials are not run again,
a trial that was running when the search stopped is run again).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import keras_tuner

from common import report
from common.errors import UserError
from common.io import write_json, write_text
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config
from pipelines.report.hparams import write_hparams
from tuning import distributed, replays, results, summary
from tuning.tuners import PROJECT, make_tuner

# what a search may change and still be the same search: its budget, and the replays
# run after it
BUDGET_KEYS = ("max_trials", "max_time", "workers", "replay_seeds")


@dataclasses.dataclass
class SearchOutcome:
    run_dir: Path
    rows: list[dict[str, Any]]
    best: dict[str, Any] | None  # the best completed trial's row
    best_config: Path | None
    replays: dict[str, Any] | None = None  # tune.replay_seeds: tuning/replays.py


def search_key(cfg: ExperimentConfig) -> str:
    raw = cfg.model_dump(mode="json")
    raw.pop("description", None)
    for key in BUDGET_KEYS:
        raw["tune"].pop(key, None)
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:8]


def tune_dir(cfg: ExperimentConfig, run_dir: Path | None = None) -> Path:
    return Path(run_dir) if run_dir else Path(cfg.runs_dir) / cfg.name / f"tune-{search_key(cfg)}"


def run_search(
    cfg: ExperimentConfig,
    *,
    run_dir: Path | None = None,
    workers: int | None = None,
    restart: bool = False,
    recipe: str | None = None,
    overrides: tuple[str, ...] = (),
) -> SearchOutcome | None:
    """Search `cfg.tune`'s space; returns None in a distributed worker process.

    Raises:
        UserError: no `tune:` section, `--workers` without a recipe file, a worker failed.
    """

    if cfg.tune is None:
        raise UserError(f"recipe {cfg.name!r} has no `tune:` section; see README")
    run_dir = tune_dir(cfg, run_dir)
    fit_verbose, display = _verbosity(cfg)
    role = distributed.role()
    if role == "worker":  # runs trials the chief hands out; the chief writes results
        tuner = make_tuner(cfg, run_dir, verbose=fit_verbose)
        tuner.search(verbose=display)
        return None
    if restart and (run_dir / PROJECT).exists():
        shutil.rmtree(run_dir / PROJECT)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / "config.yaml", dump_config(cfg))
    n = cfg.tune.workers if workers is None else workers
    if role is None and n > 0:
        if recipe is None:
            raise UserError("--workers needs the recipe file (workers run `dlzoo tune RECIPE`)")
        tuner = distributed.run_local_cluster(
            lambda: make_tuner(cfg, run_dir, verbose=fit_verbose),
            workers=n,
            command=distributed.worker_command(recipe, overrides, run_dir),
            log_dir=run_dir / "workers",
        )
    else:  # in-process (or the chief of a multi-machine search: serves until done)
        tuner = make_tuner(cfg, run_dir, verbose=fit_verbose)
        tuner.after_trial = lambda t: write_outputs(
            cfg, run_dir, t.oracle, t.hypermodel, plot=False
        )
        tuner.search(verbose=display)
    outcome = write_outputs(cfg, run_dir, tuner.oracle, tuner.hypermodel)
    comparison = replays.compare_replays(cfg, run_dir)  # once the replay recipes exist
    if comparison is None:
        return outcome
    return write_outputs(cfg, run_dir, tuner.oracle, tuner.hypermodel, replayed=comparison)


def _verbosity(cfg: ExperimentConfig) -> tuple[int, int]:
    """(fit verbosity inside trials, KerasTuner's trial display) from train.verbose."""

    setting = cfg.train.verbose
    if setting == "auto":
        return (1 if sys.stdout.isatty() else 2), 1
    return int(setting), int(setting != 0)


def write_outputs(
    cfg: ExperimentConfig, run_dir: Path, oracle, hypermodel, *, plot: bool = True,
    replayed: dict[str, Any] | None = None,
) -> SearchOutcome:
    """Tables, plots, replay recipes and report from the oracle's trials (idempotent);
    with `replayed`, the comparison of the replays (tuning/replays.py) too.

    After each trial the plots are skipped (they cost more than a small trial).
    """
    tune = cfg.tune
    rows = results.trial_rows(oracle, tune.objective)
    results.write_tables(rows, run_dir)
    ranked = results.ranked(rows, tune.resolved_direction, tune.objective)
    replay_files = results.write_replays(hypermodel, oracle, rows, run_dir)
    sizes = _sizes(hypermodel, oracle)
    report.section(run_dir, "overview", summary.overview(cfg, oracle, hypermodel.max_epochs, sizes))
    figure = run_dir / "plots" / "score_vs_trial.png"
    if rows and plot:  # after the last trial: the figure and TensorBoard's HParams view
        results.score_plot(rows, run_dir, tune)
        write_hparams(run_dir, results.hparam_sessions(rows, tune.objective))
    plot_md = report.image("score against trial", figure, run_dir) if figure.exists() else ""
    parts = [summary.results(rows, ranked, cfg, plot_md)
             + summary.starting_point(rows, hypermodel.start.missed)]
    if replay_files:
        parts.append(summary.best_model(ranked[0], replay_files["best_config"], cfg))
    if replayed is not None:
        parts.append(replays.section(replayed))
    if replay_files.get("front"):
        figure = run_dir / "plots" / "pareto.png"
        if plot:
            results.pareto_plot(replay_files["front"], rows, run_dir, tune)
        image = report.image("Pareto front", figure, run_dir) if figure.exists() else ""
        parts.append(summary.front(replay_files["front"], cfg, image))
    report.section(run_dir, "tune", "\n\n".join(parts))
    best = ranked[0] if ranked else None
    write_json(run_dir / "summary.json", {"best": best, "trials": len(rows), "rows": rows,
                                          **({"replays": replayed} if replayed else {})})
    return SearchOutcome(
        run_dir, rows, best, run_dir / "best_config.yaml" if replay_files else None, replayed
    )


def _sizes(hypermodel, oracle) -> dict[str, int]:
    """Split sizes of the data the trials used (the first trial's, else the default)."""

    trials = [oracle.trials[t] for t in oracle.start_order]
    hp = trials[0].hyperparameters if trials else keras_tuner.HyperParameters()
    return dict(hypermodel.data(hypermodel.trial_config(hp)).spec.sizes)
