"""The KerasTuner `HyperModel` of a recipe: a trial is the recipe with sampled overrides.

`build(hp)` samples (tuning/spaces.py), applies the values to the recipe with
`cfg.with_overrides` (so a trial's config is validated like a recipe), and builds and
compiles the model exactly as `dlzoo run` would (`pipelines.tasks.assemble.build_model`: the
registered builder behind the data's normalization). `fit(hp, model, ...)` trains on
the trial's data pipeline (its batch size may be a hyperparameter) and returns the
metrics of the best epoch plus how many epochs ran, when the best one was, and the
time and memory the trial took. With `tune.cv: k` a trial trains k models, one per fold
of train+val (`data.fold`), and its score is the mean of their best epochs' scores, with
the standard error beside it (`<objective>_sem`) and each fold's (`fold_<i>`).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from typing import Any

import keras
import keras_tuner
import numpy as np
import psutil

from pipelines.config.experiment import ExperimentConfig
from pipelines.data.builder import DataBundle, build
from pipelines.tasks.assemble import build_model
from pipelines.train.determinism import seed_everything
from tuning.robust import RobustAccuracy
from tuning.spaces import Start, recipe_sampler


class TrialClock(keras.callbacks.Callback):
    """Counts the epochs a trial trains and its wall-clock time."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epochs += 1

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


class RecipeHyperModel(keras_tuner.HyperModel):
    """Search space and training of one recipe's `tune:` section.

    Args:
        cfg: the recipe (with its `tune` section).
        verbose: Keras `fit` verbosity inside trials.
    """

    def __init__(self, cfg: ExperimentConfig, verbose: int = 0) -> None:
        super().__init__(name=cfg.name, tunable=True)
        if cfg.tune is None:
            raise ValueError("RecipeHyperModel needs a recipe with a `tune:` section")
        self.cfg = cfg
        self.tune = cfg.tune
        self.max_epochs = cfg.tune.max_epochs or cfg.train.epochs
        self.verbose = verbose
        self.start = Start.of(cfg)  # trial 0: the recipe's values (spaces' defaults)
        self._sample = recipe_sampler(cfg.tune, self.start)
        # The last trial's data pipelines, reused while the data section is unchanged;
        # one entry only, so a search over batch sizes does not accumulate pipelines.
        self._data: tuple[str, DataBundle] | None = None
        self._declaring = False

    @contextlib.contextmanager
    def declaring(self):
        """While open, `build` only samples: KerasTuner calls `build` once per
        conditional branch to discover the search space, and sampling is enough for
        that (no data read, no model built: a family space would build them all)."""
        self._declaring = True
        try:
            yield
        finally:
            self._declaring = False

    def overrides(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """The recipe changes of this trial (what best_config.yaml applies)."""
        return self._sample(hp)

    def trial_config(self, hp: keras_tuner.HyperParameters) -> ExperimentConfig:
        """The recipe a trial runs: sampled values applied, no tune section."""
        overrides = {"tune": None, "train.epochs": self.max_epochs, **self.overrides(hp)}
        return self.cfg.with_overrides(overrides)

    def data(self, cfg: ExperimentConfig) -> DataBundle:
        key = json.dumps([cfg.seed, cfg.data.model_dump(mode="json")], sort_keys=True)
        if self._data is None or self._data[0] != key:
            self._data = None  # drop the old pipelines before building new ones
            self._data = (key, build(cfg.data, seed=cfg.seed))
        return self._data[1]

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        if self._declaring:
            self.overrides(hp)
            return None
        cfg = self.trial_config(hp)
        seed_everything(cfg)
        return self._built(cfg, self.data(cfg))

    def _built(self, cfg: ExperimentConfig, bundle: DataBundle) -> keras.Model:
        model, _ = build_model(cfg, bundle.spec)
        # Create the metric, loss and optimizer state now, outside any traced
        # function: Keras otherwise creates it inside the first train step, and
        # TensorFlow keeps those graphs alive after the model is gone (the bulk of
        # the growth per trial, keras-tuner #873). This is what Keras itself does
        # under a distribution strategy (Trainer._symbolic_build). The optimizer
        # slots also let Hyperband's next round load them with the weights.
        model._symbolic_build(data_batch=next(iter(bundle.train)))
        return model

    def fit(self, hp, model, *args, callbacks=None, epochs=None, initial_epoch=0, **kwargs):
        """Train one trial; returns the best epoch's metrics and the trial's costs."""
        if self.tune.cv:
            return self.cross_validate(hp, callbacks, epochs)
        cfg = self.trial_config(hp)
        return self._train(model, cfg, self.data(cfg), callbacks, epochs, initial_epoch)

    def _train(self, model, cfg: ExperimentConfig, bundle: DataBundle, callbacks, epochs,
               initial_epoch: int = 0) -> dict[str, float]:
        """Fit one model on `bundle`; its best epoch's metrics and its costs."""
        clock = TrialClock()
        history = model.fit(
            bundle.train,
            validation_data=bundle.val,
            shuffle=False,  # the tf.data pipeline shuffles (seeded)
            epochs=epochs or self.max_epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=cfg.train.steps_per_epoch,
            callbacks=self._callbacks(bundle, clock) + list(callbacks or []),
            verbose=self.verbose,
        )
        return self.summarize(history, clock)

    def cross_validate(self, hp, callbacks=None, epochs=None) -> dict[str, float]:
        """k models, each trained on k - 1 folds of train+val and scored on the last; the
        mean of each metric, the objective's standard error and each fold's score.

        KerasTuner's own callbacks (its best-epoch checkpoint) follow the first fold's
        model: the weights it keeps are that fold's.
        """
        k, trial = self.tune.cv, self.trial_config(hp)
        folds = []
        for index in range(k):
            cfg = trial.with_overrides({"data.fold": {"k": k, "index": index}})
            seed_everything(cfg)
            bundle = build(cfg.data, seed=cfg.seed)
            folds.append(self._train(self._built(cfg, bundle), cfg, bundle,
                                     callbacks if index == 0 else None, epochs))
            del bundle  # one fold's pipelines in memory at a time
        return cv_summary(folds, self.tune.objective)

    def _callbacks(self, bundle: DataBundle, clock: TrialClock) -> list:
        # Order matters: the robust accuracy is added to the epoch logs before
        # early stopping and KerasTuner's callbacks (best-epoch checkpoint) read them.
        out: list[keras.callbacks.Callback] = []
        if self.tune.robustness is not None:
            out.append(RobustAccuracy(bundle, self.tune.robustness))
        out += [clock, keras.callbacks.TerminateOnNaN()]
        if self.tune.early_stopping is not None:
            out.append(
                keras.callbacks.EarlyStopping(
                    monitor=self.tune.objective,
                    mode=self.tune.resolved_direction,
                    patience=self.tune.early_stopping.patience,
                    min_delta=self.tune.early_stopping.min_delta,
                )
            )
        return out

    def summarize(self, history: keras.callbacks.History, clock: TrialClock) -> dict[str, float]:
        """The best epoch's metrics (by the objective) plus the trial's costs."""

        logs = history.history
        values = np.asarray(logs.get(self.tune.objective, [math.nan]), dtype=float)
        if np.isnan(values).all():
            best = len(values) - 1
        else:
            best = int(np.nanargmax(values) if self.tune.resolved_direction == "max"
                       else np.nanargmin(values))
        metrics = {k: float(v[best]) for k, v in logs.items() if len(v) > best}
        metrics.setdefault(self.tune.objective, math.nan)
        metrics.update(
            epochs=float(clock.epochs),
            best_epoch=float(history.epoch[best] + 1 if history.epoch else 0),
            seconds=clock.seconds,
            rss_mb=psutil.Process().memory_info().rss / 2**20,
            params=float(history.model.count_params()),
        )
        return metrics


def cv_summary(folds: list[dict[str, float]], objective: str) -> dict[str, float]:
    """One trial's metrics from its folds': the mean of each, the objective's standard
    error of the mean and per-fold values; costs are totals (epochs, seconds), the
    replay's epoch count the median best epoch."""
    scores = np.array([fold[objective] for fold in folds], dtype=float)
    out = {key: float(np.mean([fold[key] for fold in folds])) for key in folds[0]}
    out.update(
        {f"{objective}_sem": float(np.std(scores, ddof=1) / np.sqrt(len(scores)))},
        **{f"fold_{i}": float(score) for i, score in enumerate(scores)},
        epochs=float(sum(fold["epochs"] for fold in folds)),
        seconds=float(sum(fold["seconds"] for fold in folds)),
        rss_mb=float(max(fold["rss_mb"] for fold in folds)),
        params=folds[0]["params"],
        best_epoch=float(np.median([fold["best_epoch"] for fold in folds])),
    )
    return out
