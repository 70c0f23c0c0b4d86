"""Transfer learning in the pipeline: pretraining a backbone, and a fine-tuning phase.

* `with_pretrained(cfg)`: when `model.params.weights` is `pretrain`, train the recipe's
  `pretrain:` run first (this recipe, or `pretrain.recipe`, with `pretrain.set`
  overrides, e.g. other classes and the backbone as the model), then point the weights
  at its folder. The run lands in `<runs_dir>/<name>-pretrain/<config hash>/` and is
  reused while its config is unchanged (sweep variants share one pretraining).
* `finetune(run, bundle)`: `train.finetune: {epochs, learning_rate, unfreeze_top}`,
  a second phase after the first `fit`: unfreeze the backbone's top layers (BatchNorm
  stays frozen, hence in inference mode), recompile at the lower rate, and continue
  the same history, checkpoints and report (Keras transfer-learning guide).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.config.experiment import ExperimentConfig, dump_config, load_recipe
from common.errors import UserError

if TYPE_CHECKING:
    from pipelines.data.builder import DataBundle
    from pipelines.run import Run

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


def with_pretrained(cfg: ExperimentConfig) -> ExperimentConfig:
    """`cfg` with `model.params.weights: pretrain` replaced by a finished pretraining run.

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
    from pipelines.run import run_all

    pre_cfg = pretrain_config(cfg)
    digest = hashlib.sha1(dump_config(pre_cfg).encode()).hexdigest()[:10]
    folder = Path(cfg.runs_dir) / pre_cfg.name / digest
    if not (cfg.pretrain.reuse and (folder / "DONE").exists()):
        if folder.exists():  # an unfinished or stale pretraining: start it again
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        print(f"\n=== pretraining {pre_cfg.model.name} for {cfg.name}: {folder} ===", flush=True)
        run_all(pre_cfg, folder)
    else:
        print(f"reusing the pretraining run {folder}", flush=True)
    return cfg.with_overrides({"model.params.weights": str(folder)})


def finetune(run: Run, bundle: DataBundle) -> dict[str, list[float]]:
    """Second training phase: unfreeze the backbone's top layers, lower rate, continue.

    Raises:
        UserError: the model has no `backbone` sub-model (use the `transfer` model).
    """
    from models.introspect import find_sub_model
    from models.transfer import set_trainable
    from pipelines.train.optimizers import make_optimizer

    cfg, ft = run.cfg, run.cfg.train.finetune
    try:
        backbone = find_sub_model(run.model, "backbone")
    except UserError:
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
    from pipelines.train.callbacks import NanGuard
    from pipelines.train.fit import callbacks, epoch_seeds, read_history

    cfg, run_dir = run.cfg, run.run_dir
    done = len(next(iter(run.history.values()), []))
    guard = NanGuard(run_dir / "checkpoints" / "last_good.weights.h5")
    train_cfg = cfg.train.model_copy(update={"backup": False})  # phase 1's backup is gone
    run.model.fit(
        bundle.train,
        validation_data=bundle.val,
        shuffle=False,
        initial_epoch=done,
        epochs=done + epochs,
        steps_per_epoch=cfg.train.steps_per_epoch,
        callbacks=[*epoch_seeds(bundle), *callbacks(train_cfg, run.task, run_dir, guard)],
        verbose=2 if cfg.train.verbose == "auto" else int(cfg.train.verbose),
    )
    if guard.tripped_at is not None:
        raise UserError(
            f"fine-tuning diverged ({', '.join(guard.bad_keys)} became NaN/inf); lower "
            "train.finetune.learning_rate"
        )
    best = run_dir / "checkpoints" / "best.weights.h5"
    if cfg.train.checkpoint and best.exists() and not cfg.train.early_stopping:
        run.model.load_weights(best)  # the best epoch of the fine-tuning phase
    return read_history(run_dir / "history.csv")
