"""Transfer learning in the pipeline: pretraining a backbone, and a fine-tuning phase.

* `with_pretrained(cfg, sub_run)`: when `model.params.weights` is `pretrain`, train the
  recipe's `pretrain:` run first (this recipe, or `pretrain.recipe`, with `pretrain.set`
  overrides, e.g. other classes and the backbone as the model), then point the weights
  at its folder. The run lands in `<runs_dir>/<name>-pretrain/<config digest>/` and is
  reused while its config is unchanged (sweep variants share one pretraining).
* `backbone_from_run(params, spec)`: a run folder in `model.params.weights` becomes a
  file of its cut backbone's weights, which is all `models.transfer` receives.
* `finetune(run, bundle)`: `train.finetune: {epochs, learning_rate, unfreeze_top}`,
  a second phase after the first `fit`: unfreeze the backbone's top layers (BatchNorm
  stays frozen, hence in inference mode), recompile at the lower rate, and continue
  the same history, checkpoints and report (Keras transfer-learning guide).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.errors import UserError
from common.io import save_weights
from models.introspect import find_sub_model
from models.transfer import cut, set_trainable
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.load import load_recipe
from pipelines.data.spec import DataSpec
from pipelines.stages.nested import config_digest
from pipelines.train.fit import callbacks, check_diverged, epoch_seeds, guard_and_backup
from pipelines.train.history import read_history
from pipelines.train.optimizers import make_optimizer

if TYPE_CHECKING:
    from pipelines.data.builder import DataBundle
    from pipelines.run import Run

SubRun = Callable[..., Any]  # pipelines.run.sub_run: (cfg, folder, *, reuse) -> Run

# Sections a pretraining run does not inherit from the recipe that asks for it.
_NOT_INHERITED = {
    "pretrain": None,
    "sweep": {},
    "claim": None,
    "export.enabled": False,
    "train.finetune": None,
}


def pretrain_config(cfg: ExperimentConfig) -> ExperimentConfig:
    """The pretraining run's config: base recipe + `pretrain.set`, named `<name>-pretrain`."""
    pre = cfg.pretrain
    base = load_recipe(pre.recipe) if pre.recipe else cfg
    overrides: dict[str, Any] = {
        **_NOT_INHERITED,
        "name": f"{cfg.name}-pretrain",
        "runs_dir": cfg.runs_dir,
        **pre.set,
    }
    return base.with_overrides(overrides)


def with_pretrained(cfg: ExperimentConfig, sub_run: SubRun) -> ExperimentConfig:
    """`cfg` with `model.params.weights: pretrain` replaced by a finished pretraining run.

    `sub_run` is the orchestrator's nested-run function (pipelines/stages/nested.py):
    the run lands in `<runs_dir>/<name>-pretrain/<config digest>/` and is reused while
    its config is unchanged (sweep variants share one pretraining).

    Raises:
        UserError: before any training, when `train.finetune` is set on a model without
            a backbone, or `weights: pretrain` has no `pretrain:` section.
    """
    if cfg.train.finetune is not None and cfg.model.name != "transfer":
        raise UserError(
            f"train.finetune: model {cfg.model.name!r} has no pretrained `backbone` to "
            "unfreeze; use model `transfer`"
        )
    if cfg.model.params.get("weights") != "pretrain":
        return cfg
    if cfg.pretrain is None:
        raise UserError(
            "model.params.weights: `pretrain` needs a `pretrain:` section saying how to "
            "train the backbone (e.g. pretrain: {set: {data.classes: [0, 1, 2, 3, 4]}})"
        )
    pre_cfg = pretrain_config(cfg)
    folder = Path(cfg.runs_dir) / pre_cfg.name / config_digest(pre_cfg)
    print(f"pretraining {pre_cfg.model.name} for {cfg.name}", flush=True)
    sub_run(pre_cfg, folder, reuse=cfg.pretrain.reuse)
    return cfg.with_overrides({"model.params.weights": str(folder)})


def backbone_from_run(
    params: dict[str, Any], spec: DataSpec, *, build: Callable[..., Any]
) -> dict[str, Any]:
    """`transfer`'s params with `weights` naming a dlzoo run folder (or its
    model.weights.h5) replaced by a file of the cut backbone's weights, written once
    into that run folder (`backbone.weights.h5`, or `backbone-<feature_layer>...`).

    The run's config says which model and parameters to rebuild (with `build`, the
    caller's `pipelines.tasks.assemble.build_model`); the model catalog itself only
    ever receives a weights path.

    Raises:
        UserError: a folder that is not a finished run, other backbone parameters than
            the run trained, or inputs of another shape than this data's.
    """
    run_dir = _run_folder(params.get("weights"))
    if run_dir is None:
        return params
    cfg = load_recipe(run_dir / "config.yaml")  # another run's config, from its folder
    name, theirs = params.get("backbone"), params.get("backbone_params")
    if name not in (None, cfg.model.name) or (theirs and theirs != cfg.model.params):
        raise UserError(
            f"model.params: the run {run_dir} trained {cfg.model.name!r} with params "
            f"{cfg.model.params}; leave backbone/backbone_params out or make them match"
        )
    their_spec = DataSpec.load(run_dir / "spec.json")
    if tuple(their_spec.input_shape) != tuple(spec.input_shape):
        raise UserError(
            f"model.params.weights: the run {run_dir} was trained on inputs of shape "
            f"{tuple(their_spec.input_shape)}, this data has {tuple(spec.input_shape)}; set "
            f"data.image_size / data.color_mode to match"
        )
    layer = params.get("feature_layer")
    path = run_dir / (f"backbone-{layer}.weights.h5" if layer else "backbone.weights.h5")
    if not path.exists():
        model, _ = build(cfg, their_spec)
        if model.optimizer is not None:  # so the saved optimizer state loads without warnings
            model.optimizer.build(model.trainable_variables)
        model.load_weights(run_dir / "model.weights.h5")
        try:
            net = cut(model.get_layer(cfg.model.name), layer)
        except ValueError as err:
            raise UserError(f"model.params.feature_layer: {err}") from None
        save_weights(net, path)
    return {**params, "backbone": cfg.model.name, "backbone_params": cfg.model.params,
            "weights": str(path)}


def _run_folder(weights: str | None) -> Path | None:
    """The run folder when `weights` names a dlzoo run (or its model.weights.h5)."""
    if weights in (None, "imagenet", "pretrain"):
        return None
    path = Path(weights)
    folder = path.parent if path.name == "model.weights.h5" else path
    if (folder / "config.yaml").is_file() and (folder / "model.weights.h5").is_file():
        return folder
    if path.is_dir():
        raise UserError(
            f"model.params.weights: {weights} is a folder but not a finished dlzoo run "
            "(no config.yaml + model.weights.h5)"
        )
    if not path.is_file():
        raise UserError(f"model.params.weights: file not found: {weights}")
    return None


def finetune(run: Run, bundle: DataBundle) -> dict[str, list[float]]:
    """Second training phase: unfreeze the backbone's top layers, lower rate, continue.

    Raises:
        UserError: the model has no `backbone` sub-model (use the `transfer` model).
    """
    cfg, ft = run.cfg, run.cfg.train.finetune
    try:
        backbone = find_sub_model(run.model, "backbone")
    except ValueError:
        raise UserError(
            "train.finetune: the model has no `backbone` sub-model; use model `transfer`"
        ) from None
    pretrained = cfg.model.params.get("weights") is not None
    n = set_trainable(
        backbone, mode="fine_tune", unfreeze_top=ft.unfreeze_top, pretrained=pretrained
    )
    optimizer = make_optimizer(
        cfg.train.optimizer.name, ft.learning_rate, cfg.train.optimizer.params
    )
    run.task.compile(run.model, optimizer, run.bundle.spec)  # trainable flags take effect
    print(f"\n=== fine-tuning: {n} backbone layers train, learning rate {ft.learning_rate:g} ===")
    return _fit_more(run, bundle, ft.epochs)


def _fit_more(run: Run, bundle: DataBundle, epochs: int) -> dict[str, list[float]]:
    """`epochs` more epochs, appended to the run's history, checkpoints and NaN guard."""
    cfg, run_dir = run.cfg, run.run_dir
    done = len(next(iter(run.history.values()), []))
    # No backup of its own: a kill during this phase resumes phase 1 (already at its
    # last epoch, so nothing reruns) and then runs the fine-tuning phase again.
    train_cfg = cfg.train.model_copy(update={"backup": False})
    guard, guarded = guard_and_backup(train_cfg, run_dir)
    run.model.fit(
        bundle.train,
        validation_data=bundle.val,
        shuffle=False,
        initial_epoch=done,
        epochs=done + epochs,
        steps_per_epoch=cfg.train.steps_per_epoch,
        callbacks=[*epoch_seeds(bundle), *callbacks(train_cfg, run.task, run_dir, guarded)],
        verbose=2 if cfg.train.verbose == "auto" else int(cfg.train.verbose),
    )
    check_diverged(guard, hint="train.finetune.learning_rate")
    best = run_dir / "checkpoints" / "best.weights.h5"
    if cfg.train.checkpoint and best.exists() and not cfg.train.early_stopping:
        run.model.load_weights(best)  # the best epoch of the fine-tuning phase
    return read_history(run_dir / "history.csv")
