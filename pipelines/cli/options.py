"""Options shared by the `dlzoo` commands that live in several packages.

Kept apart from `pipelines.cli.main` so command modules (pipelines/cli/tune.py, ...) can use them
without importing the command group that imports them (`python -m pipelines.cli.main`
would otherwise import itself twice, the second time half-initialised).
"""

from __future__ import annotations

import click

OVERRIDE = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a recipe value, e.g. --set train.epochs=3 (repeatable).",
)

OVERWRITE = click.option(
    "--overwrite",
    is_flag=True,
    help="With --run-dir: train a finished run's folder again (its results are deleted).",
)
