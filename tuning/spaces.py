"""Named search spaces: functions `hp -> recipe overrides` ({"key.path": value}).

A space only *samples* (with KerasTuner's `hp.Int`, `hp.Choice`, ...) the arguments
of a registered builder and the training settings; the hypermodel applies them to
the recipe and builds the model through the model registry, so no architecture is
written twice (keras-io's "call existing code" split, never a copied `HyperResNet`).

A recipe names spaces in `tune.space` and may add or narrow parameters in
`tune.params`. Hyperparameter names are `<space>/<argument>`, so results tables
say where each value goes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from common.registry import Registry
from models.catalog import MODELS

Sampler = Callable[[Any], dict[str, Any]]  # keras_tuner.HyperParameters -> overrides


@dataclasses.dataclass(frozen=True)
class Space:
    """A named space.

    Attributes:
        sample: hp -> overrides of the recipe ({"model.params": {...}, ...}).
        models: the registered models it may build (empty: training settings only).
        family: offered by the `family` space (a model-selection choice).
    """

    name: str
    sample: Sampler
    models: tuple[str, ...] = ()
    family: bool = False
    description: str = ""


SPACES: Registry[Space] = Registry("search space")


def register_space(name: str, *, models: tuple[str, ...] = (), family: bool = False):
    """Register `fn(hp) -> overrides` as the space `name`."""

    def wrap(fn: Sampler) -> Sampler:
        doc = (fn.__doc__ or "").strip().splitlines()
        SPACES.add(
            name,
            Space(name, fn, models, family, description=doc[0] if doc else ""),
        )
        return fn

    return wrap


def space_for_model(model: str) -> Space | None:
    """The space that samples exactly this one model's arguments, if any."""
    for _, space in SPACES.items():
        if space.models == (model,):
            return space
    return None


@register_space("training")
def training_space(hp) -> dict[str, Any]:
    """Optimizer, learning rate (log scale), batch size, weight decay, gradient clipping."""
    optimizer: dict[str, Any] = {
        "name": hp.Choice("training/optimizer", ["adam", "nesterov", "rmsprop", "adamw"]),
        "learning_rate": hp.Float(
            "training/learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3
        ),
    }
    weight_decay = hp.Choice("training/weight_decay", [0.0, 1e-5, 1e-4, 1e-3])
    if weight_decay:
        optimizer["weight_decay"] = weight_decay
    clipnorm = hp.Choice("training/clipnorm", [0.0, 1.0, 5.0])
    if clipnorm:  # 0 stands for "no clipping" (Choice values must share one type)
        optimizer["clipnorm"] = clipnorm
    return {
        "train.optimizer": optimizer,
        "data.batch_size": hp.Choice("training/batch_size", [32, 64, 128], default=64),
    }


@register_space("mlp", models=("mlp",), family=True)
def mlp_space(hp) -> dict[str, Any]:
    """MLP depth, width, activation, dropout, batch norm (models/dense.py)."""
    return {
        "model.name": "mlp",
        "model.params": {
            "depth": hp.Int("mlp/depth", 1, 4, default=2),
            "width": hp.Choice("mlp/width", [32, 64, 128, 256], default=128),
            "activation": hp.Choice("mlp/activation", ["relu", "elu", "tanh"]),
            "dropout": hp.Float("mlp/dropout", 0.0, 0.5, step=0.1, default=0.0),
            "batch_norm": hp.Boolean("mlp/batch_norm"),
        },
    }


MAX_CNN_BLOCKS = 3  # 8x8 digits pool to 1x1 after three 2x2 poolings


@register_space("cnn", models=("cnn",), family=True)
def cnn_space(hp) -> dict[str, Any]:
    """CNN (models/cnn.py): blocks, filters/kernel per block, pooling, BN, dropout, residual.

    Also: convolutions per block, pooling type, hidden dense units in the head.
    """
    blocks = hp.Int("cnn/blocks", 1, MAX_CNN_BLOCKS, default=2)
    filters, kernels = [], []
    for i in range(1, MAX_CNN_BLOCKS + 1):
        # Per-block choices exist only for blocks the trial has (conditional
        # hyperparameters: the oracle does not count an unused one as a new point).
        with hp.conditional_scope("cnn/blocks", list(range(i, MAX_CNN_BLOCKS + 1))):
            width = hp.Choice(f"cnn/filters_{i}", [16, 32, 64], default=32)
            kernel = hp.Choice(f"cnn/kernel_{i}", [3, 5], default=3)
        if i <= blocks:
            filters.append(width)
            kernels.append(kernel)
    return {
        "model.name": "cnn",
        "model.params": {
            "blocks": blocks,
            "filters": filters,
            "kernel_size": kernels,
            "convs_per_block": hp.Int("cnn/convs_per_block", 1, 2, default=1),
            "pooling": hp.Choice("cnn/pooling", ["max", "avg"]),
            "pool_every": hp.Choice("cnn/pool_every", [1, 2], default=1),
            "batch_norm": hp.Boolean("cnn/batch_norm"),
            "dropout": hp.Float("cnn/dropout", 0.0, 0.3, step=0.1, default=0.0),
            "residual": hp.Boolean("cnn/residual"),
            "dense_units": hp.Choice("cnn/dense_units", [0, 64, 128], default=0),
        },
    }


@register_space("resnet", models=("resnet20", "resnet32", "resnet56"), family=True)
def resnet_space(hp) -> dict[str, Any]:
    """ResNet depth (20/32/56 layers) and width, shortcut type (models/resnet.py)."""
    depth = hp.Choice("resnet/depth", [20, 32, 56], default=20)
    return {
        "model.name": f"resnet{depth}",
        "model.params": {
            "width": hp.Choice("resnet/width", [8, 16, 32], default=16),
            "shortcut": hp.Choice("resnet/shortcut", ["A", "B"]),
        },
    }


@register_space("recurrent", models=("lstm", "gru"))
def recurrent_space(hp) -> dict[str, Any]:
    """LSTM or GRU classifier: units, stacked layers, bidirectional, dropout (models/recurrent.py).

    For sequence inputs (text, or MNIST-1D with `as_sequence: true`).
    """
    return {
        "model.name": hp.Choice("recurrent/cell", ["lstm", "gru"]),
        "model.params": {
            "units": hp.Choice("recurrent/units", [32, 64, 128], default=64),
            "layers": hp.Int("recurrent/layers", 1, 2, default=1),
            "bidirectional": hp.Boolean("recurrent/bidirectional"),
            "dropout": hp.Float("recurrent/dropout", 0.0, 0.3, step=0.1, default=0.0),
        },
    }


@register_space("family")
def family_space(hp) -> dict[str, Any]:
    """Model selection among the family spaces (mlp, cnn, ...), their arguments conditional.

    A family's hyperparameters are active only in trials that chose that family.
    """
    names = family_names()
    chosen = hp.Choice("family", names)
    out: dict[str, Any] = {}
    for name in names:
        with hp.conditional_scope("family", [name]):
            if name == chosen:
                out = SPACES.get(name).sample(hp)
    return out


def family_names() -> list[str]:
    """Family spaces whose models are all registered (resnet once it exists, ...)."""

    return [
        name
        for name, space in SPACES.items()
        if space.family and all(m in MODELS for m in space.models)
    ]


def space_models(name: str) -> list[str]:
    """The models space `name` may build (every family's for `family`)."""
    if name == "family":
        return [m for family in family_names() for m in SPACES.get(family).models]
    return list(SPACES.get(name).models)


def recipe_sampler(tune) -> Sampler:
    """The sampler of a recipe's `tune:` section: its named spaces, then its own
    `params` (key path -> range; the key path is the hyperparameter's name).

    A `model.name` choice switches family: the recipe's model parameters are
    dropped and, for a model with its own space (mlp, cnn), that space is sampled
    conditionally on the choice.
    """

    def sample(hp) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in tune.space:
            out.update(SPACES.get(name).sample(hp))
        for path, spec in tune.params.items():
            if path == "model.name":
                out.update(_choose_model(hp, spec.values))
            elif spec.kind == "fixed":
                out[path] = spec.values[0]
            else:
                out[path] = _declared(hp, path, spec)
        return out

    return sample


def _choose_model(hp, names: list[str]) -> dict[str, Any]:
    chosen = hp.Choice("model.name", names)
    out: dict[str, Any] = {"model.name": chosen, "model.params": {}}
    for name in names:
        space = space_for_model(name)
        if space is None:
            continue
        with hp.conditional_scope("model.name", [name]):
            if name == chosen:
                out.update(space.sample(hp))
    return out


def _declared(hp, path: str, spec) -> Any:
    """One `tune.params` entry as a KerasTuner hyperparameter named by its path."""
    sampling = "log" if spec.log else "linear"
    if spec.kind == "int":
        step = int(spec.step) if spec.step else None
        return hp.Int(path, int(spec.low), int(spec.high), step=step, sampling=sampling)
    if spec.kind == "float":
        return hp.Float(path, spec.low, spec.high, step=spec.step, sampling=sampling)
    if spec.kind == "boolean":
        return hp.Boolean(path, default=bool(spec.values[0]))
    values = spec.values
    if any(isinstance(v, float) for v in values) and not any(isinstance(v, str) for v in values):
        values = [float(v) for v in values]  # KerasTuner wants one type
    return hp.Choice(path, values)
