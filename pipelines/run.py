"""The pipeline: data -> model -> train -> evaluate -> export (and later stages),
each writing into one run folder `runs/<recipe>/<timestamp>/`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from common import report
from pipelines.config.experiment import ExperimentConfig, dump_config, load_recipe
from pipelines.data.builder import DataBundle, build
from pipelines.data.spec import DataSpec
from pipelines.train.distribute.strategy import strategy_from_config
from common.errors import UserError
from common.io import save_weights, write_json, write_text
from common.registry import Registry
from pipelines.tasks.base import Task, task_for


@dataclasses.dataclass
class Run:
    cfg: ExperimentConfig
    run_dir: Path
    bundle: DataBundle
    model: keras.Model
    task: Task
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Stage:
    """A stage after training, run by `dlzoo run` when the recipe asks for it."""

    name: str
    applies: Callable[[ExperimentConfig], bool]
    run: Callable[[Run], dict[str, Any]]  # returns metrics to merge into metrics.json
    order: int = 50  # stages run by increasing order (explain 60, attack 70, ...)


# Registered by later modules (explain, attack, generative checks, ...), in run order.
STAGES: Registry[Stage] = Registry("stage")


def resolve(cfg: ExperimentConfig) -> ExperimentConfig:
    """Fill in what the model's registry entry implies (its fixed input size)."""
    from models.registry import get_spec

    size = get_spec(cfg.model.name).input_size
    if size and cfg.data.image_size is None:
        return cfg.with_overrides({"data.image_size": list(size)})
    return cfg


def new_run_dir(cfg: ExperimentConfig, parent: Path | None = None) -> Path:
    root = Path(parent) if parent else Path(cfg.runs_dir) / cfg.name
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def build_model(cfg: ExperimentConfig, spec: DataSpec) -> tuple[keras.Model, Task]:
    """The registered builder's network, wrapped and compiled for its task."""
    from models.registry import build_model as build_core
    from models.registry import get_spec
    from pipelines.train.fit import add_weight_penalties, build_optimizer

    model_spec = get_spec(cfg.model.name)
    task = task_for(model_spec.task, spec)
    core = build_core(cfg.model.name, inputs=spec.builder_inputs(), params=cfg.model.params)
    model = task.assemble(core, spec)
    from explain.adversarial_training import wrap  # train.adversarial: mixed into each step

    model = wrap(model, cfg.train.adversarial, spec, seed=cfg.seed)
    add_weight_penalties(model, cfg.train.l1, cfg.train.l2)
    steps = cfg.train.steps_per_epoch or max(
        1, -(-spec.sizes.get("train", 1) // cfg.data.batch_size)
    )
    task.compile(model, build_optimizer(cfg, steps), spec)
    return model, task


def prepare(cfg: ExperimentConfig, run_dir: Path, *, distributed: bool = True) -> Run:
    """Seed, make the strategy, read the data, build the model in the strategy's scope.

    The strategy comes first: logical CPUs and collectives must be set up before
    TensorFlow starts, and reading data starts it. `distributed=False` builds on one
    device (evaluating or exporting a finished run).
    """
    from pipelines.train import precision
    from pipelines.train.distribute.strategy import check_global_batch, single_device

    keras.utils.set_random_seed(cfg.seed)
    strategy = strategy_from_config(cfg.train) if distributed else single_device()
    check_global_batch(cfg.data.batch_size, strategy)
    bundle = build(cfg.data, seed=cfg.seed)
    with strategy.scope(), precision.policy(cfg.train.mixed_precision, strategy) as mixed:
        model, task = build_model(cfg, bundle.spec)
        mixed.apply(model)
    return Run(cfg, run_dir, bundle, model, task)


def train(cfg: ExperimentConfig, run_dir: Path | None = None) -> Run:
    """Train `cfg` into `run_dir` (a new folder unless resuming one)."""
    if cfg.train.strategy.name == "multi_worker":  # N processes: pipelines/multiworker.py
        from pipelines.train.distribute.multiworker import train_multi_worker

        return train_multi_worker(cfg, run_dir)
    return train_in_process(cfg, run_dir)


def train_in_process(cfg: ExperimentConfig, run_dir: Path | None = None) -> Run:
    """Train in this process (one of the workers, under multi_worker)."""
    from pipelines.train.fit import fit
    from pipelines.tasks.transfer import finetune, with_pretrained  # pretrain:, train.finetune

    cfg = with_pretrained(resolve(cfg))
    fresh = run_dir is None
    run_dir = run_dir or new_run_dir(cfg)
    write_text(run_dir / "config.yaml", dump_config(cfg))
    try:
        run = prepare(cfg, run_dir)
    except UserError:
        if fresh:  # bad data or strategy: nothing ran, so leave no run folder behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    run.bundle.spec.save(run_dir / "spec.json")
    report.section(run_dir, "overview", overview_markdown(cfg, run))
    task_fit = run.task.prepare_fit
    bundle, extra = task_fit(run) if task_fit else (run.bundle, [])
    from explain.callbacks import explain_callbacks  # explain.callbacks: maps per epoch

    run.history = fit(run.model, bundle, cfg, run.task, run_dir, [*extra, *explain_callbacks(run)])
    if cfg.train.finetune:
        run.history = finetune(run, bundle)
    save_weights(run.model, run_dir / "model.weights.h5")
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
    cfg = load_recipe(run_dir / "config.yaml")
    run = prepare(cfg, run_dir, distributed=False)
    if run.model.optimizer is not None:  # so saved optimizer slots load without warnings
        run.model.optimizer.build(run.model.trainable_variables)
    run.model.load_weights(weights)
    from pipelines.train.fit import read_history

    run.history = read_history(run_dir / "history.csv")
    metrics_file = run_dir / "metrics.json"
    run.metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    return run


def evaluate(run: Run) -> dict[str, Any]:
    metrics = run.task.evaluate(run)
    run.metrics.update(metrics)
    write_json(run.run_dir / "metrics.json", run.metrics)
    return metrics


def export(run: Run) -> list[Path]:
    """The task's export (or the standard one); returns the published folders."""
    if run.task.export is not None:
        return run.task.export(run)
    return [export_standard(run)]


def export_standard(run: Run) -> Path:
    """The assembled model behind a raw-input `serve` signature."""
    from pipelines.export.saved_model import export_model, run_metadata

    cfg = run.cfg
    sample = next(iter(run.bundle.test))[0].numpy()[:16]
    sample = sample.astype(run.bundle.spec.raw_dtype)
    root = Path(cfg.export.dir) / (cfg.export.name or cfg.name)
    path = export_model(
        getattr(run.model, "inference_model", run.model),  # a training wrapper's classifier
        run.bundle.spec,
        root=root,
        outputs=run.task.serving_outputs,
        sample=sample,
        tolerance=cfg.export.tolerance,
        metadata=run_metadata(run),
    )
    run.metrics["export_path"] = str(path)
    write_json(run.run_dir / "metrics.json", run.metrics)
    report.section(
        run.run_dir,
        "export",
        f"## Export\nSavedModel written to `{path}` "
        "(serving signature `serve`, raw inputs; reload check in a fresh "
        f"process passed at tolerance {cfg.export.tolerance}).\n",
    )
    return path


def run_all(cfg: ExperimentConfig, run_dir: Path | None = None) -> Run:
    """Every stage the recipe names: train, evaluate, then registered stages, export."""
    run = train(cfg, run_dir)
    if cfg.evaluate.enabled:
        evaluate(run)
    import pipelines.catalog  # noqa: F401  (registers every task and stage)

    for _, stage in sorted(STAGES.items(), key=lambda item: item[1].order):
        if stage.applies(run.cfg):
            run.metrics.update(stage.run(run))
            write_json(run.run_dir / "metrics.json", run.metrics)
    if cfg.export.enabled:
        export(run)
    write_text(run.run_dir / "DONE", datetime.datetime.now().isoformat() + "\n")
    return run


def overview_markdown(cfg: ExperimentConfig, run: Run) -> str:
    spec = run.bundle.spec
    sizes = ", ".join(f"{k} {v}" for k, v in spec.sizes.items())
    skipped = (
        (f"\n{len(spec.skipped)} corrupt file(s) skipped: " + ", ".join(spec.skipped[:10]) + "\n")
        if spec.skipped
        else ""
    )
    return "\n".join(
        [
            f"# {cfg.name}",
            cfg.description.strip(),
            "",
            f"Model `{cfg.model.name}` ({run.model.count_params():,} parameters) on data "
            f"source `{cfg.data.source}`: {sizes}; input shape {spec.input_shape}, "
            f"{spec.num_classes} classes, normalization `{spec.normalize}`. Seed {cfg.seed}. "
            "The resolved config is in `config.yaml`.",
            skipped,
        ]
    )


def train_markdown(run: Run) -> str:
    from pipelines.report import plots

    if not run.history:
        return "## Training\n(no history)\n"
    from pipelines.stages.claims import training_marks  # early-stopping point, fine-tune phase

    marks, notes = training_marks(run)
    path = plots.learning_curves(
        {run.cfg.name: run.history}, run.run_dir / "plots" / "learning_curves.png", marks
    )
    last = {k: v[-1] for k, v in run.history.items()}
    summary = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if "loss" in k or "acc" in k)
    return "\n".join(
        [
            "## Training",
            f"{len(next(iter(run.history.values())))} epochs; last epoch: {summary}.",
            *notes,
            "TensorBoard logs: `tensorboard/`; per-epoch history: `history.csv`.\n",
            report.image("learning curves", path, run.run_dir),
        ]
    )


def data_summary(cfg: ExperimentConfig) -> str:
    """Split sizes, shapes, class balance and one batch's value range."""
    cfg = resolve(cfg)
    bundle = build(cfg.data, seed=cfg.seed)
    spec = bundle.spec
    lines = [
        f"source: {cfg.data.source}   task: {spec.task}",
        f"input shape: {spec.input_shape}   raw dtype: {spec.raw_dtype}   "
        f"raw range: {spec.input_range}   normalize: {spec.normalize}",
        f"classes ({spec.num_classes}): {', '.join(spec.class_names)}",
    ]
    for name in ("train", "val", "test"):
        ys = [np.asarray(y) for _, y in bundle.split(name)]
        y = np.concatenate(ys) if ys else np.zeros(0)
        if spec.label_mode == "onehot":
            y = y.argmax(-1)
        counts = (
            np.bincount(y.reshape(-1).astype(int), minlength=spec.num_classes)
            if y.size and spec.task == "classify"
            else []
        )
        balance = " ".join(f"{n}:{c}" for n, c in zip(spec.class_names, counts))
        lines.append(
            f"{name:5s}: {spec.sizes.get(name)} examples"
            + (f"   balance {balance}" if balance else "")
        )
    x, _ = next(iter(bundle.train))
    for key, value in (x if isinstance(x, dict) else {"": x}).items():  # named inputs: each
        value = np.asarray(value)
        lines.append(
            f"one training batch{key and ' ' + key}: shape {value.shape}, dtype {value.dtype}, "
            f"values in [{value.min():.4g}, {value.max():.4g}] (raw; normalized in the model)"
        )
    if spec.skipped:
        lines.append(f"skipped corrupt files: {len(spec.skipped)}")
    return "\n".join(lines)
