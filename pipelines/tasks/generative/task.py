"""The "generative" and "autoencoder" tasks: how dlzoo wraps, compiles, feeds, watches,
evaluates and exports models with their own training step (`models/adversarial.py`).

- assemble: checks the data against the model (image shape, a finite raw range, a
  pixel scaling the generator can invert) and puts the scaling inside the model:
  raw -> [-1, 1] for tanh generators (GANs), raw -> [0, 1] for sigmoid decoders.
- compile: one clone of `train.optimizer` per player; the discriminator's learning
  rate is scaled by the model's `d_lr_scale`.
- prepare_fit: denoising pairs `((noisy, clean), y)` built in tf.data, sample grids,
  and (GANs, AAE) the `val_fd` monitor that checkpoints and early stopping follow.
- evaluate / export: `evaluate.py`, `export.py` beside this module.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import keras

from common.errors import UserError
from models.adversarial import GenerativeModel
from pipelines.data.arrays import split_arrays
from pipelines.data.spec import DataSpec
from pipelines.data.transforms import preprocess_layer
from pipelines.tasks.base import TASKS, Task
from pipelines.tasks.generative import callbacks as gcb
from pipelines.tasks.generative import judge as generative_judge
from pipelines.tasks.generative.callbacks import FrechetMonitor
from pipelines.tasks.generative.corruption import corruption_fn
from pipelines.tasks.generative.evaluate import evaluate_generative
from pipelines.tasks.generative.export import export_generative
from pipelines.tasks.generative.judge import check_compatible, load_or_train

if TYPE_CHECKING:
    from pipelines.data.builder import DataBundle
    from pipelines.run import Run

SCALINGS = ("rescale", "tanh")  # data.normalize values a generative model accepts


def scaling_layers(spec: DataSpec, model_range: str) -> tuple[keras.layers.Layer, ...]:
    """(raw -> model range, model range -> raw) as two Rescaling layers."""
    normalize = "tanh" if model_range == "tanh" else "rescale"
    forward = preprocess_layer(dataclasses.replace(spec, normalize=normalize))
    scale, offset = float(forward.scale), float(forward.offset)
    inverse = keras.layers.Rescaling(1.0 / scale, offset=-offset / scale, name="postprocess")
    for layer in (forward, inverse):  # built: fit() under a strategy wants no unbuilt layer
        layer.build((None, *spec.input_shape))
    return forward, inverse


def check_data(model, spec: DataSpec) -> None:
    """Fail before training when the data cannot be what the model generates."""

    if not isinstance(model, GenerativeModel):
        raise UserError(f"model {model.name!r} is not a generative model (no training step)")
    if spec.normalize not in SCALINGS:
        raise UserError(
            f"data.normalize: {spec.normalize!r} cannot be inverted into pixels by a "
            f"{model.model_range} output; use one of {', '.join(SCALINGS)} (model "
            f"{model.name!r} scales the raw range to its own output range itself)"
        )
    lo, hi = spec.input_range
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise UserError(f"data: generative models need a finite raw range, got {spec.input_range}")
    produced = model.decoder if hasattr(model, "decoder") else model.generator
    shape = tuple(produced.outputs[0].shape[1:])
    if shape != tuple(spec.input_shape):
        raise UserError(
            f"model {model.name!r} generates {shape} but the data gives {spec.input_shape}"
        )
    if model.conditional and (spec.task != "classify" or spec.num_classes < 2):
        raise UserError(
            f"model {model.name!r} is label-conditioned; the data source gives "
            f"{spec.task!r} targets, not class labels"
        )


def assemble(core, spec: DataSpec):
    check_data(core, spec)
    core.attach_scaling(*scaling_layers(spec, core.model_range))
    return core


@keras.saving.register_keras_serializable(package="dlzoo")
class ScaledSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`factor` x another learning rate (a schedule or a constant)."""

    def __init__(self, base: Any, factor: float) -> None:
        self.base, self.factor = base, factor

    def __call__(self, step):
        rate = self.base(step) if callable(self.base) else self.base
        return rate * self.factor

    def get_config(self) -> dict[str, Any]:
        base = self.base
        if callable(base):
            base = keras.saving.serialize_keras_object(base)
        return {"base": base, "factor": self.factor}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScaledSchedule:
        base = config["base"]
        if isinstance(base, dict):
            base = keras.saving.deserialize_keras_object(base)
        return cls(base, config["factor"])


def clone_optimizer(optimizer: keras.optimizers.Optimizer, scale: float = 1.0):
    """A fresh optimizer with `optimizer`'s settings and `scale` x its learning rate."""
    clone = type(optimizer).from_config(optimizer.get_config())
    if scale != 1.0:
        base = clone._learning_rate  # the schedule or float given to the constructor
        schedule = isinstance(base, keras.optimizers.schedules.LearningRateSchedule)
        rate = ScaledSchedule(base, scale) if schedule else float(clone.learning_rate) * scale
        clone = type(optimizer).from_config({**clone.get_config(), "learning_rate": rate})
    return clone


def compile_model(model, optimizer, spec: DataSpec) -> None:
    roles = getattr(model, "optimizer_roles", ())
    if not roles:
        model.compile(optimizer=optimizer)
        return
    model.compile(
        **{
            role: clone_optimizer(optimizer, model.d_lr_scale if role == "d_optimizer" else 1.0)
            for role in roles
        }
    )


def prepare_fit(run: Run) -> tuple[DataBundle, list]:
    """The datasets `fit` sees and the callbacks it adds (see the module doc)."""

    model, bundle, cfg = run.model, run.bundle, run.cfg
    settings = generative_judge.settings(cfg)
    corruption = getattr(model, "corruption", None)
    if corruption:
        fn = corruption_fn(corruption, bundle.spec.input_range, cfg.seed)
        bundle = dataclasses.replace(bundle, train=bundle.train.map(fn), val=bundle.val.map(fn))
    fixed = None if model.has_prior else split_arrays(run.bundle, "val", settings.grid)[0]
    callbacks: list = [
        gcb.SampleGrid(
            run.run_dir / "plots" / "samples",
            input_range=bundle.spec.input_range,
            every=settings.samples_every or max(1, cfg.train.epochs // 5),
            grid=settings.grid,
            class_names=bundle.spec.class_names,
            images=fixed,
            seed=cfg.seed,
        )
    ]
    monitor = _fd_monitor(run, settings) if run.task.monitor == "val_fd" else None
    if monitor is not None:  # first: it adds val_fd to the logs checkpoints read
        callbacks.insert(0, monitor)
    return bundle, callbacks


def _fd_monitor(run: Run, settings) -> Any:
    cfg = run.cfg
    needs = cfg.train.checkpoint and not cfg.train.monitor
    judge = load_or_train(run)
    if judge is None:
        if needs or (cfg.train.early_stopping and cfg.train.early_stopping.monitor == "val_fd"):
            raise UserError(
                "generative.judge: null leaves no val_fd for train.checkpoint / early stopping "
                "to monitor; keep a judge, set train.monitor, or set train.checkpoint: false"
            )
        return None
    check_compatible(judge, run.bundle.spec)
    real, labels, _ = split_arrays(run.bundle, "val", settings.fd_samples)
    return FrechetMonitor(judge, real, labels, samples=settings.fd_samples, seed=cfg.seed,
                          every=settings.fd_every)


def _evaluate(run: Run) -> dict[str, Any]:
    return evaluate_generative(run)


def _export(run: Run) -> list:
    return export_generative(run)


def _outputs(images) -> dict[str, Any]:
    return {"images": images}


def _task(name: str, monitor: str) -> Task:
    return Task(
        name=name,
        assemble=assemble,
        compile=compile_model,
        evaluate=_evaluate,
        serving_outputs=_outputs,
        export=_export,
        prepare_fit=prepare_fit,
        monitor=monitor,
        mode="min",
    )


# GANs and the AAE keep the weights with the best sample quality; autoencoders and
# the VAE the best validation loss (reconstruction, + KL for the VAE).
TASKS.add("generative", _task("generative", "val_fd"))
TASKS.add("autoencoder", _task("autoencoder", "val_loss"))
