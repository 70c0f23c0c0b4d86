"""One way for a run to need another run: pretraining a backbone (`pretrain:`), the
classifier that judges generated images (`generative.judge`), the undefended twin of
an adversarially trained model (`attack.compare_undefended`).

`nested_run` runs the sub-recipe into its own folder and reuses that folder when it
holds a finished run of the same config. The orchestrator (`pipelines.run`) passes
its own run and load functions in, so stages and tasks never import it back; they
call `run.sub_run(cfg, folder)`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config

if TYPE_CHECKING:
    from pipelines.run import Run

DONE = "DONE"  # written last by a finished run: {"finished": ..., "config_digest": ...}


def config_digest(cfg: ExperimentConfig) -> str:
    """A short hash of the config as asked for (before the run resolves it)."""
    return hashlib.sha1(dump_config(cfg).encode()).hexdigest()[:12]


def finished_digest(folder: Path) -> str | None:
    """The config digest a finished run folder recorded, or None if it is not finished."""
    done = Path(folder) / DONE
    if not done.is_file():
        return None
    try:
        return json.loads(done.read_text()).get("config_digest")
    except (ValueError, AttributeError):  # an older DONE (a timestamp only)
        return ""


def nested_run(
    cfg: ExperimentConfig,
    folder: Path,
    *,
    runner: Callable[[ExperimentConfig, Path], Run],
    loader: Callable[[Path], Run],
    reuse: bool = True,
) -> Run:
    """`cfg` run into `folder`, or the finished run already there with the same config.

    An unfinished folder, or one from another config, is removed and run again.
    """
    folder = Path(folder)
    if reuse and finished_digest(folder) == config_digest(cfg):
        print(f"reusing the finished run {folder}", flush=True)
        return loader(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    print(f"\n=== {cfg.name}: running into {folder} ===", flush=True)
    return runner(cfg, folder)
