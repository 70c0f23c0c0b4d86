"""`--strategy` and `--workers` for `dlzoo train` and `dlzoo run` (import-light: no TF).

Both become recipe overrides applied before `--set`, so they are validated like the
recipe and recorded in the run's config.yaml:

    dlzoo train RECIPE --strategy mirrored --set train.strategy.logical_cpus=2
    dlzoo run RECIPE --workers 2        # = train.strategy: {name: multi_worker, workers: 2}
"""

from __future__ import annotations

from collections.abc import Callable

import click

from common.errors import UserError
from pipelines.config.distribute import STRATEGY_NAMES


def strategy_options(fn: Callable) -> Callable:
    """Add `--strategy NAME` and `--workers N` to a click command."""
    fn = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Train with multi_worker on N local worker processes (127.0.0.1).",
    )(fn)
    return click.option(
        "--strategy",
        type=click.Choice(STRATEGY_NAMES),
        default=None,
        help="tf.distribute strategy (replaces train.strategy; options via "
        "--set train.strategy.KEY=VALUE, e.g. logical_cpus=2).",
    )(fn)


def strategy_overrides(strategy: str | None, workers: int | None) -> tuple[str, ...]:
    """The `--set`-style overrides for `--strategy` / `--workers`.

    Raises:
        UserError: `--workers` with a strategy other than multi_worker.
    """
    if workers is not None:
        if strategy not in (None, "multi_worker"):
            raise UserError(f"--workers {workers} runs multi_worker; it cannot go with "
                            f"--strategy {strategy}")
        return (f"train.strategy={{name: multi_worker, workers: {workers}}}",)
    return (f"train.strategy={strategy}",) if strategy else ()
