"""The orchestrator: data -> model -> train -> evaluate -> stages -> export, each step
writing into one run folder `runs/<recipe>/<timestamp>/`.

The config arrives validated and resolved (pipelines/config); each step takes its own
section. A run that needs another run (pretraining, the generative judge, the
undefended twin) goes through `pipelines.stages.nested.nested_run`, which this module
hands to every `Run` as `run.sub_run`, so no stage or task imports this module back.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
from pathlib import Path
from typing import Any

import keras

import pipelines.stages.catalog  # noqa: F401  (registers every stage, explicitly listed)
from common import report
from common.errors import UserError
from common.io import check_writable, save_weights, write_json, write_text
from common.machine import numerics
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import dump_config, load_recipe
from pipelines.data.builder import DataBundle, build
from pipelines.export.device_formats import DEVICE_FORMATS, require
from pipelines.export.run_export import export_standard
from pipelines.report import metrics as run_metrics
from pipelines.report.summary import overview_markdown, train_markdown
from pipelines.run_dir import FINISHED, MAY_CHANGE, changed_keys, new_run_dir, run_state
from pipelines.stages.claims import claim_callbacks, raise_unknown_claim_names
from pipelines.stages.nested import DONE, config_digest, nested_run
from pipelines.stages.registry import STAGES
from pipelines.tasks.assemble import build_model
from pipelines.tasks.base import Task
from pipelines.tasks.transfer import finetune, with_pretrained
from pipelines.train import precision
from pipelines.train.determinism import seed_everything
from pipelines.train.distribute.multiworker import train_multi_worker
from pipelines.train.distribute.strategy import (
    check_global_batch,
    single_device,
    strategy_from_config,
)
from pipelines.train.fit import fit
from pipelines.train.history import read_history


@dataclasses.dataclass
class Run:
    """A run in progress or loaded from its folder."""

    cfg: ExperimentConfig
    run_dir: Path
    bundle: DataBundle
    model: keras.Model
    task: Task
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)

    def sub_run(self, cfg: ExperimentConfig, folder: Path, *, reuse: bool = True) -> Run:
        """Run `cfg` into `folder` (or reuse the finished run there): see stages/nested.py."""
        return sub_run(cfg, folder, reuse=reuse)

    def load_other(self, folder: Path) -> Run:
        """Another finished run, rebuilt from its folder (a judge named by the recipe)."""
        return load_run(folder)


def sub_run(cfg: ExperimentConfig, folder: Path, *, reuse: bool = True) -> Run:
    return nested_run(cfg, folder, runner=run_all, loader=load_run, reuse=reuse)


def prepare(cfg: ExperimentConfig, run_dir: Path, *, distributed: bool = True) -> Run:
    """Seed, make the strategy, read the data, build the model in the strategy's scope.

    The strategy comes first: logical CPUs and collectives must be set up before
    TensorFlow starts, and reading data starts it. `distributed=False` builds on one
    device (evaluating or exporting a finished run).
    """
    seed_everything(cfg)
    strategy = strategy_from_config(cfg.train) if distributed else single_device()
    check_global_batch(cfg.data.batch_size, strategy)
    bundle = build(cfg.data, seed=cfg.seed)
    with strategy.scope(), precision.policy(cfg.train.mixed_precision, strategy) as mixed:
        model, task = build_model(cfg, bundle.spec)
        mixed.apply(model)
    return Run(cfg, run_dir, bundle, model, task)


def train(cfg: ExperimentConfig, run_dir: Path | None = None, *, overwrite: bool = False) -> Run:
    """Train `cfg` into `run_dir`: a new folder, or one to resume (see `open_run_dir`)."""
    if run_dir is not None:
        open_run_dir(cfg, Path(run_dir), overwrite=overwrite)
    if cfg.train.strategy.name == "multi_worker":  # N processes (train/distribute)
        return train_multi_worker(
            cfg, run_dir, train_fn=train_in_process, load_fn=load_run, new_dir_fn=new_run_dir
        )
    return train_in_process(cfg, run_dir)


def open_run_dir(cfg: ExperimentConfig, run_dir: Path, *, overwrite: bool = False) -> None:
    """Check a given run folder before anything trains into it.

    A finished run is refused (its weights would be overwritten) unless `overwrite`,
    which empties the folder; an interrupted one resumes only with the same recipe
    (`pipelines.run_dir.MAY_CHANGE` lists what may differ).

    Raises:
        UserError: a finished run without `overwrite`, or a changed recipe.
    """
    state = run_state(run_dir)
    if state == "finished":
        if not overwrite:
            raise UserError(
                f"{run_dir} holds a finished run ({FINISHED} is written): evaluate or export "
                "it, train into a new folder, or pass --overwrite to train it again"
            )
        shutil.rmtree(run_dir)
    elif state == "interrupted":
        changed = changed_keys(cfg, load_recipe(run_dir / "config.yaml"))
        if changed:
            raise UserError(
                f"--resume {run_dir}: the recipe differs from the run's config.yaml in "
                f"{', '.join(changed)}; resume with the recipe it started with (only "
                f"{', '.join(MAY_CHANGE[2:5])} and the later stages may change), or start "
                "a new run"
            )


def train_in_process(cfg: ExperimentConfig, run_dir: Path | None = None) -> Run:
    """Train in this process (one of the workers, under multi_worker)."""
    check_writable(Path(cfg.runs_dir), "runs_dir")  # before anything trains, not after
    if cfg.export.enabled:
        check_writable(Path(cfg.export.dir), "export.dir")
    cfg = with_pretrained(cfg, sub_run)  # `weights: pretrain` -> a finished backbone run
    fresh = run_dir is None
    run_dir = run_dir or new_run_dir(cfg)
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    write_text(run_dir / "config.yaml", dump_config(cfg))
    seed_everything(cfg)  # before machine.json, which records op determinism
    write_json(run_dir / "machine.json", numerics())
    try:
        run = prepare(cfg, run_dir)
        if cfg.export.enabled:
            check_export_formats(run)
    except UserError:
        if fresh:  # bad data or strategy: nothing ran, so leave no run folder behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    run.bundle.spec.save(run_dir / "spec.json")
    report.section(run_dir, "overview", overview_markdown(run))
    task_fit = run.task.prepare_fit
    bundle, extra = task_fit(run) if task_fit else (run.bundle, [])
    from explain.callbacks import explain_callbacks  # tf-explain: imported only when asked

    watch = claim_callbacks(cfg)  # a claim naming a metric the history lacks: stop early
    run.history = fit(
        run.model, bundle, cfg, run.task, run_dir, [*extra, *explain_callbacks(run), *watch]
    )
    raise_unknown_claim_names(watch)
    if cfg.train.finetune:
        run.history = finetune(run, bundle)
    save_weights(run.model, run_dir / "model.weights.h5")
    shutil.rmtree(run_dir / "backup", ignore_errors=True)  # kept until the final weights exist
    report.section(run_dir, "train", train_markdown(run))
    return run


def load_run(run_dir: Path) -> Run:
    """Rebuild a finished run's model and data from its folder (for evaluate/export)."""
    run_dir = Path(run_dir)
    weights = run_dir / "model.weights.h5"
    if not weights.exists():
        raise UserError(
            f"{run_dir} is not a finished dlzoo run (no model.weights.h5); "
            "train it with `dlzoo train RECIPE`"
        )
    cfg = load_recipe(run_dir / "config.yaml")  # the run's own resolved config, as written
    run = prepare(cfg, run_dir, distributed=False)
    if run.model.optimizer is not None:  # so saved optimizer slots load without warnings
        run.model.optimizer.build(run.model.trainable_variables)
    run.model.load_weights(weights)
    run.history = read_history(run_dir / "history.csv")
    run.metrics = run_metrics.read(run_dir)
    return run


def evaluate(run: Run) -> dict[str, Any]:
    return run_metrics.record(run, run.task.evaluate(run))


def export(run: Run) -> list[Path]:
    """The task's export (or the standard one); returns the published folders."""
    check_export_formats(run)
    if run.task.export is not None:
        return run.task.export(run)
    return [export_standard(run)]


def check_export_formats(run: Run) -> None:
    """LiteRT / ONNX files need the deploy extra, and a task whose inputs convert (not the
    text tasks'). Checked before training and again at export (`dlzoo export` of a
    finished run)."""
    device = [f for f in run.cfg.export.formats if f in DEVICE_FORMATS]
    for fmt in device:  # a missing package is one message, before anything is written
        require(fmt)
    if device and not run.task.device_formats:
        raise UserError(
            f"export.formats {device}: LiteRT and ONNX files are written for the image, "
            f"table and generative tasks; this recipe's model {run.cfg.model.name!r} "
            f"({run.bundle.spec.task}: string inputs and an in-graph vocabulary) exports "
            "a SavedModel only: drop them"
        )


def run_all(
    cfg: ExperimentConfig, run_dir: Path | None = None, *, overwrite: bool = False
) -> Run:
    """Every stage the recipe names: train, evaluate, then registered stages, export."""
    run = train(cfg, run_dir, overwrite=overwrite)
    if cfg.evaluate.enabled:
        evaluate(run)
    for _, stage in sorted(STAGES.items(), key=lambda item: item[1].order):
        if stage.applies(run.cfg):
            run_metrics.record(run, stage.run(run))
    if cfg.export.enabled:
        export(run)
    done = {"finished": datetime.datetime.now().isoformat(), "config_digest": config_digest(cfg)}
    write_text(run.run_dir / DONE, json.dumps(done) + "\n")
    return run

