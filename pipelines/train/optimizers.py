"""Optimizers and learning-rate schedules by name, with their parameters from the recipe.

`optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.9, nesterov: true,
clipnorm: 1.0}`; any argument of the Keras optimizer class is accepted (checked at
load), among them weight averaging: `use_ema: true, ema_momentum: 0.99` (validation,
checkpoints and the final weights then use the averaged weights: train/fit.py).
`momentum`, `nesterov` and `amsgrad` are presets of SGD and Adam, so a sweep can list
the lecture's optimizer family by name.

The config checks a recipe with this module before anything trains, so it names the
Keras classes and their arguments instead of importing Keras (3-4 s): a recipe's mistake
is answered at once. tests/pipelines/test_train.py checks the tables against Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.errors import UserError
from common.registry import Registry, validate_against, validate_params
from pipelines.config.distribute import scaled_learning_rate

if TYPE_CHECKING:  # the config validators import this module: annotations only
    import keras

    from pipelines.config.experiment import ExperimentConfig

# Every Keras optimizer's arguments (keras.optimizers.Optimizer's), then each class's own.
_SHARED_ARGS = {"weight_decay": float | None, "clipnorm": float | None,
                "clipvalue": float | None, "global_clipnorm": float | None, "use_ema": bool,
                "ema_momentum": float, "ema_overwrite_frequency": int | None,
                "loss_scale_factor": float | None, "gradient_accumulation_steps": int | None}
_ADAM_ARGS = {"beta_1": float, "beta_2": float, "epsilon": float, "amsgrad": bool}
KERAS_OPTIMIZER_ARGS: dict[str, dict[str, Any]] = {
    "SGD": {"momentum": float, "nesterov": bool},
    "Adagrad": {"initial_accumulator_value": float, "epsilon": float},
    "Adadelta": {"rho": float, "epsilon": float},
    "RMSprop": {"rho": float, "momentum": float, "epsilon": float, "centered": bool},
    "Adam": _ADAM_ARGS,
    "AdamW": _ADAM_ARGS,
    "Nadam": {"beta_1": float, "beta_2": float, "epsilon": float},
}

OPTIMIZERS: Registry[tuple[str, dict[str, Any]]] = Registry("optimizer")
for _name, _cls, _preset in [
    ("sgd", "SGD", {}),
    ("momentum", "SGD", {"momentum": 0.9}),
    ("nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("adagrad", "Adagrad", {}),
    ("adadelta", "Adadelta", {}),
    ("rmsprop", "RMSprop", {}),
    ("adam", "Adam", {}),
    ("amsgrad", "Adam", {"amsgrad": True}),
    ("adamw", "AdamW", {}),
    ("nadam", "Nadam", {}),
]:
    OPTIMIZERS.add(_name, (_cls, _preset))


def check_optimizer_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    cls, _ = OPTIMIZERS.get(name)
    accepted = {**KERAS_OPTIMIZER_ARGS[cls], **_SHARED_ARGS}
    checked = validate_against(accepted, params, where="train.optimizer", name=cls)
    check_weight_averaging(checked)
    return checked


def check_weight_averaging(params: dict[str, Any]) -> None:
    """Keras' weight averaging (`use_ema`: an exponential moving average of the
    iterates, Polyak averaging with forgetting) checks its values only when the
    optimizer is built, and ignores them silently when `use_ema` is off: both are
    caught at load instead.

    Raises:
        UserError: a non-boolean `use_ema`, `ema_momentum` outside [0, 1), or an
            averaging option without `use_ema: true`.
    """
    use_ema = params.get("use_ema", False)
    if not isinstance(use_ema, bool):
        raise UserError(f"train.optimizer.use_ema: true or false, got {use_ema!r}")
    momentum = params.get("ema_momentum")
    if momentum is not None and not (
        isinstance(momentum, int | float) and not isinstance(momentum, bool) and 0 <= momentum < 1
    ):
        raise UserError(
            f"train.optimizer.ema_momentum: a number in [0, 1) (the average's weight on its "
            f"past; 0.99 averages about the last 100 steps), got {momentum!r}"
        )
    given = [k for k in ("ema_momentum", "ema_overwrite_frequency") if k in params]
    if given and not use_ema:
        raise UserError(
            f"train.optimizer.{given[0]} is set but use_ema is not: add use_ema: true "
            "(Keras would ignore it)"
        )


def uses_weight_averaging(params: dict[str, Any]) -> bool:
    return bool(params.get("use_ema", False))


def make_optimizer(
    name: str, learning_rate: Any, params: dict[str, Any]
) -> keras.optimizers.Optimizer:
    cls, preset = OPTIMIZERS.get(name)
    optimizer = getattr(_keras().optimizers, cls)
    return optimizer(learning_rate=learning_rate,
                     **{**preset, **check_optimizer_params(name, params)})


def _keras():
    # heavy: imported when an optimizer or schedule is built, not when a recipe is checked
    import keras

    return keras


# --- schedules: functions of (base_lr, total_steps, steps_per_epoch, **params) ---
SCHEDULES: Registry[Callable[..., Any]] = Registry("learning-rate schedule")


def _schedule(name: str):
    return lambda fn: SCHEDULES.add(name, fn)


@_schedule("constant")
def constant(base_lr: float, *, total_steps: int, steps_per_epoch: int) -> Any:
    return base_lr


@_schedule("step")
def step(
    base_lr: float,
    *,
    total_steps: int,
    steps_per_epoch: int,
    drop_every_epochs: float = 10,
    factor: float = 0.1,
) -> Any:
    """Multiply the rate by `factor` every `drop_every_epochs` epochs."""
    return _keras().optimizers.schedules.ExponentialDecay(
        base_lr,
        decay_steps=max(1, int(drop_every_epochs * steps_per_epoch)),
        decay_rate=factor,
        staircase=True,
    )


@_schedule("exponential")
def exponential(
    base_lr: float, *, total_steps: int, steps_per_epoch: int, decay_rate: float = 0.9
) -> Any:
    """Multiply the rate by `decay_rate` per epoch, smoothly."""
    return _keras().optimizers.schedules.ExponentialDecay(
        base_lr, decay_steps=steps_per_epoch, decay_rate=decay_rate
    )


@_schedule("cosine")
def cosine(base_lr: float, *, total_steps: int, steps_per_epoch: int, alpha: float = 0.0) -> Any:
    """Cosine decay to `alpha * base_lr` over the whole run (Loshchilov & Hutter 2017)."""
    return _keras().optimizers.schedules.CosineDecay(base_lr, decay_steps=total_steps, alpha=alpha)


@_schedule("plateau")
def plateau(
    base_lr: float,
    *,
    total_steps: int,
    steps_per_epoch: int,
    factor: float = 0.5,
    patience: int = 3,
    monitor: str = "val_loss",
) -> Any:
    """Constant rate, lowered by `factor` when `monitor` stops improving
    (the ReduceLROnPlateau callback; see `plateau_callback`)."""
    return base_lr


def plateau_callback(params: dict[str, Any], cls=None) -> Any:
    """ReduceLROnPlateau from `train.schedule.params` (`cls`: a subclass of it)."""
    return (cls or _keras().callbacks.ReduceLROnPlateau)(
        monitor=params.get("monitor", "val_loss"),
        factor=params.get("factor", 0.5),
        patience=params.get("patience", 3),
        verbose=1,
    )


def check_schedule_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return validate_params(
        SCHEDULES.get(name),
        params,
        where="train.schedule",
        skip=("base_lr", "total_steps", "steps_per_epoch"),
    )


def learning_rate(
    name: str,
    base_lr: float,
    params: dict[str, Any],
    *,
    epochs: int,
    steps_per_epoch: int,
    warmup_epochs: float = 0.0,
) -> Any:
    """A float or a `LearningRateSchedule` for `keras.optimizers.*(learning_rate=...)`."""
    steps_per_epoch = max(1, steps_per_epoch)
    warmup = int(math.ceil(warmup_epochs * steps_per_epoch))
    total = max(1, epochs * steps_per_epoch - warmup)
    schedule = SCHEDULES.get(name)(
        base_lr,
        total_steps=total,
        steps_per_epoch=steps_per_epoch,
        **check_schedule_params(name, params),
    )
    if not warmup:
        return schedule
    # heavy (a Keras schedule class): imported when a schedule is built
    from pipelines.train.warmup import Warmup

    return Warmup(schedule, warmup, base_lr)


def build_optimizer(cfg: ExperimentConfig, steps: int) -> keras.optimizers.Optimizer:
    """`train.optimizer` with `train.schedule` over `steps` per epoch (and lr scaling)."""
    train = cfg.train
    base_lr, warmup_epochs = scaled_learning_rate(train, cfg.data.batch_size)  # Goyal et al.
    lr = learning_rate(
        train.schedule.name,
        base_lr,
        train.schedule.params,
        epochs=train.epochs,
        steps_per_epoch=steps,
        warmup_epochs=warmup_epochs,
    )
    return make_optimizer(train.optimizer.name, lr, train.optimizer.params)
