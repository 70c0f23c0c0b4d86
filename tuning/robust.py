"""The robustness-aware objective: accuracy under attack per epoch, and Pareto fronts.

KerasTuner optimizes one scalar per trial; a robustness-aware search also logs
`val_robust_accuracy` (validation accuracy under an attack from `explain`), and the
report shows the trials' Pareto front of clean vs robust accuracy instead of a
summed score: the user picks the trade-off, each front member has its own replay
recipe.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from explain.adapter import as_scorer
from explain.robustness import accuracy_under_attack
from pipelines.config.tune import RobustObjective
from pipelines.data.builder import DataBundle

ROBUST_METRIC = "val_robust_accuracy"


class RobustAccuracy(keras.callbacks.Callback):
    """Adds `val_robust_accuracy` to each epoch's logs (before the checkpoint and
    early-stopping callbacks read them).

    Args:
        bundle: the trial's data; up to `cfg.max_examples` validation examples are
            attacked, in the raw input range the model takes.
        cfg: attack name, epsilon (raw units) and attack options.
    """

    def __init__(self, bundle: DataBundle, cfg: RobustObjective) -> None:
        super().__init__()
        self._measure = accuracy_under_attack
        self.cfg = cfg
        self.input_range = tuple(bundle.spec.input_range)
        self.x, self.y = _examples(bundle, cfg.max_examples)

    def on_train_begin(self, logs=None) -> None:
        # One scorer per trial: it compiles the attack's and the prediction's
        # tf.functions once; a new one every epoch would retrace them every epoch.

        self._scorer = as_scorer(self.model, input_range=self.input_range)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if logs is None:
            return
        logs[ROBUST_METRIC] = float(
            self._measure(
                self._scorer,
                self.x,
                self.y,
                attack=self.cfg.attack,
                epsilon=self.cfg.epsilon,
                input_range=self.input_range,
                **self.cfg.params,
            )
        )


def _examples(bundle: DataBundle, limit: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys, n = [], [], 0
    for x, y in bundle.val:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y))
        n += len(xs[-1])
        if n >= limit:
            break
    x, y = np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]
    if y.ndim > 1:  # one-hot labels (mixup): the attack wants class ids
        y = y.argmax(-1)
    return x, y.astype(np.int64)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (both maximized).

    A point is dominated when another is >= on both coordinates and > on one.
    Returned in order of decreasing first coordinate.
    """
    front = []
    for i, (a, b) in enumerate(points):
        dominated = any(
            (c >= a and d >= b) and (c > a or d > b)
            for j, (c, d) in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (-points[i][0], -points[i][1]))
