"""The tf.distribute strategy a run trains under, from `train.strategy`."""

from __future__ import annotations

import tensorflow as tf

from pipelines.config import TrainConfig
from pipelines.errors import UserError

STRATEGIES = ("default",)


def strategy_from_config(cfg: TrainConfig) -> tf.distribute.Strategy:
    """Return the strategy named by `cfg.strategy`.

    Raises:
        UserError: an unknown strategy name.
    """
    if cfg.strategy == "default":
        return tf.distribute.get_strategy()
    raise UserError(
        f"train.strategy: unknown strategy {cfg.strategy!r}; known: {', '.join(STRATEGIES)}"
    )
