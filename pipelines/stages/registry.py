"""The stages `dlzoo run` does after training and evaluation, registered by name.

Each stage module registers itself (`STAGES.add(...)`) and is listed in
`pipelines/stages/catalog.py`; the orchestrator runs those whose `applies(cfg)` holds, by
increasing `order`, and records the metrics each returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.registry import Registry
from pipelines.config.experiment import ExperimentConfig

if TYPE_CHECKING:
    from pipelines.run import Run


@dataclasses.dataclass(frozen=True)
class Stage:
    """A stage after training, run by `dlzoo run` when the recipe asks for it."""

    name: str
    applies: Callable[[ExperimentConfig], bool]
    run: Callable[[Run], dict[str, Any]]  # returns metrics to merge into metrics.json
    order: int = 50  # stages run by increasing order (explain 60, attack 70, ...)


STAGES: Registry[Stage] = Registry("stage")
