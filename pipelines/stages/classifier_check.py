"""What the explain and attack stages share: they apply to classifiers only, and print
progress when the run does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.errors import UserError

if TYPE_CHECKING:
    from pipelines.run import Run


def check_classifier(run: Run, stage: str) -> None:
    if run.task.name != "classify":
        raise UserError(
            f"the {stage} stage explains and attacks classifiers; this run's task is "
            f"{run.task.name!r}: remove the `{stage}:` section"
        )


def verbose(run: Run) -> bool:
    return run.cfg.train.verbose != 0
