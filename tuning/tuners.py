"""KerasTuner tuners from a recipe's `tune:` section (random, Hyperband, Bayesian).

The tuners are KerasTuner's own; dlzoo adds what it lacks: a wall-clock budget (no
trial starts after `tune.max_time` seconds), a trial cap for Hyperband, results
written after every trial, and memory released between trials.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import keras
import keras_tuner
from keras_tuner import oracles
from keras_tuner.src.distribute import utils as dist_utils

from pipelines.config.experiment import ExperimentConfig
from tuning.hypermodel import RecipeHyperModel

PROJECT = "search"  # KerasTuner's project folder inside the tune run folder

_ORACLES = {
    "random": oracles.RandomSearchOracle,
    "bayesian": oracles.BayesianOptimizationOracle,
    "hyperband": oracles.HyperbandOracle,
}


def _with_deadline(base: type) -> type:
    """`base` oracle that starts from the recipe and stops handing out trials once
    `deadline` (epoch s) passed.

    Trial 0 runs every hyperparameter's default, which tuning/spaces.py sets to the
    recipe's own value (KerasTuner's random and Bayesian oracles draw even the first
    trial at random, so a search could otherwise end below its starting point unseen).
    KerasTuner budgets trials and epochs but not time. The deadline is not part of
    the saved oracle state: each invocation of `dlzoo tune` gets its own.
    """

    class Oracle(base):
        deadline: float | None = None

        def _random_values(self):
            if not self._tried_so_far:  # the first trial of the search: the recipe
                start = keras_tuner.HyperParameters()
                for hp in self.hyperparameters.space:
                    start.merge([hp])  # active ones take their default value
                values = dict(start.values)
                if not self._duplicate(values):
                    return values
            return super()._random_values()

        def populate_space(self, trial_id):
            if self.deadline is not None and time.time() >= self.deadline:
                return {"status": keras_tuner.engine.trial.TrialStatus.STOPPED, "values": None}
            return super().populate_space(trial_id)

    Oracle.__name__ = Oracle.__qualname__ = f"Timed{base.__name__}"
    return Oracle


def make_oracle(cfg: ExperimentConfig, max_epochs: int) -> keras_tuner.Oracle:
    tune = cfg.tune
    common = {
        "objective": keras_tuner.Objective(tune.objective, tune.resolved_direction),
        "seed": cfg.seed if tune.seed is None else tune.seed,
        "max_consecutive_failed_trials": 3,
    }
    cls = _with_deadline(_ORACLES[tune.tuner])
    if tune.tuner == "hyperband":
        oracle = cls(
            max_epochs=max_epochs,
            factor=tune.factor,
            hyperband_iterations=tune.hyperband_iterations,
            **common,
        )
        oracle.max_trials = tune.max_trials  # Oracle.create_trial honours it; None: no cap
    elif tune.tuner == "bayesian":
        oracle = cls(
            max_trials=tune.max_trials or 10, num_initial_points=tune.num_initial_points, **common
        )
    else:
        oracle = cls(max_trials=tune.max_trials or 10, **common)
    if tune.max_time:
        oracle.deadline = time.time() + tune.max_time
    return oracle


class _Hooks:
    """Mixed into the tuner classes: a callback after each trial; memory release."""

    after_trial: Callable[[keras_tuner.Tuner], None] | None = None

    def _populate_initial_space(self) -> None:
        with self.hypermodel.declaring():  # sample only, build nothing
            super()._populate_initial_space()

    def on_trial_end(self, trial) -> None:
        super().on_trial_end(trial)
        # KerasTuner clears the session before building the next model; doing it
        # here too means no trial's model is alive between trials (keras-tuner
        # #395, #873, #1031: memory growing trial after trial).
        keras.backend.clear_session()
        gc.collect()
        if self.after_trial is not None and not dist_utils.has_chief_oracle():
            self.after_trial(self)


class Tuner(_Hooks, keras_tuner.Tuner):
    """Random search and Bayesian optimization: the generic KerasTuner tuner."""


class HyperbandTuner(_Hooks, keras_tuner.Hyperband):
    """KerasTuner's Hyperband (epochs per round, weights carried between rounds),
    built around an oracle made here."""

    def __init__(self, oracle, hypermodel, **kwargs) -> None:
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


def make_tuner(
    cfg: ExperimentConfig,
    run_dir: Path,
    *,
    overwrite: bool = False,
    verbose: int = 0,
) -> keras_tuner.Tuner:
    """The tuner for `cfg`, its KerasTuner project in `run_dir/search`.

    With `overwrite=False` an existing project is reloaded: finished trials are
    kept, a trial that was running when the search stopped is run again.
    """
    hypermodel = RecipeHyperModel(cfg, verbose=verbose)
    cls = HyperbandTuner if cfg.tune.tuner == "hyperband" else Tuner
    return cls(
        oracle=make_oracle(cfg, hypermodel.max_epochs),
        hypermodel=hypermodel,
        directory=str(run_dir),
        project_name=PROJECT,
        overwrite=overwrite,
        executions_per_trial=cfg.tune.executions_per_trial,
    )

