"""Named search spaces: functions `hp -> recipe overrides` ({"key.path": value}).

A space only *samples* (with KerasTuner's `hp.Int`, `hp.Choice`, ...) the arguments
of a registered builder and the training settings; the hypermodel applies them to
the recipe and builds the model through the model registry, so no architecture is
written twice (keras-io's "call existing code" split, never a copied `HyperResNet`).

A recipe names spaces in `tune.space` and may add or narrow parameters in
`tune.params`. Hyperparameter names are `<space>/<argument>`, so results tables
say where each value goes.

Every hyperparameter's default (KerasTuner's initial value, which trial 0 runs: see
tuning/tuners.py) is the recipe's own value wherever the space can express it (`Start`),
so a search starts from the recipe and cannot end below it unnoticed; the keys it cannot
express are listed in the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from common.registry import Registry, keyword_params
from models.catalog import MODELS
from pipelines.config.experiment import ExperimentConfig
from pipelines.data.augment import AUGMENTATIONS
from pipelines.run_dir import flat_config


@dataclasses.dataclass
class Start:
    """The recipe a search starts from, as key paths (`model.params` completed with the
    builder's defaults): the defaults of the hyperparameters that can take its values.

    Attributes:
        missed: keys whose recipe value a space cannot express (trial 0 differs there).
    """

    values: dict[str, Any]
    missed: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def of(cls, cfg: ExperimentConfig) -> Start:
        values = flat_config(cfg.model_dump(mode="json"))
        if cfg.model.name in MODELS:
            builder = MODELS.get(cfg.model.name).builder
            for name, param in keyword_params(builder).items():
                if param.default is not param.empty:
                    values.setdefault(f"model.params.{name}", param.default)
        return cls(values)

    def model(self, name: str) -> Start:
        """This start for a space of model `name`: its parameters only when the recipe
        builds that model (a cnn space's defaults say nothing of an mlp recipe)."""
        if self.values.get("model.name") == name:
            return self
        return Start({k: v for k, v in self.values.items() if not k.startswith("model.")},
                     self.missed)

    def choice(self, key: str, allowed: list[Any], fallback: Any = None, index: int | None = None,
               value: Any = None):
        """The recipe's value at `key` (its `index`-th item for a per-block list, or
        `value` when the caller resolved it) if it is one of `allowed`, else `fallback`
        (KerasTuner's: the first value)."""
        value = self._value(key, index) if value is None else value
        if value is not None and value in allowed and _kind(value) == _kind(allowed[0]):
            return type(allowed[0])(value)  # 1 -> 1.0 among float choices
        return self._miss(key, value, fallback)

    def number(self, key: str, low: float, high: float, fallback: Any = None,
               step: float | None = None, index: int | None = None):
        """The recipe's value at `key` if it lies in [low, high] (on the step grid)."""
        value = self._value(key, index)
        steps = (value - low) / step if step and isinstance(value, int | float) else 0.0
        on_grid = step is None or abs(steps - round(steps)) < 1e-9
        if (isinstance(value, int | float) and not isinstance(value, bool)
                and low <= value <= high and on_grid):
            return value
        return self._miss(key, value, fallback)

    def section(self, prefix: str) -> dict[str, dict[str, Any]]:
        """The recipe's entries under `prefix` by name (`data.augment` -> {name: options})."""
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.values.items():
            if key.startswith(prefix + "."):
                name, _, option = key[len(prefix) + 1:].partition(".")
                out.setdefault(name, {})
                if option:
                    out[name][option] = value
        return out

    def flag(self, key: str, fallback: bool = False) -> bool:
        value = self._value(key, None)
        return value if isinstance(value, bool) else self._miss(key, value, fallback)

    def _value(self, key: str, index: int | None) -> Any:
        value = self.values.get(key)
        if index is None:
            return value
        if isinstance(value, list):
            return value[index] if index < len(value) else None
        return value  # one value for every block

    def _miss(self, key: str, value: Any, fallback: Any) -> Any:
        if value is not None and key in self.values:
            self.missed.add(key)
        return fallback


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, int | float) else type(value).__name__


Sampler = Callable[[Any, Start], dict[str, Any]]  # (hp, the recipe) -> overrides


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
def training_space(hp, start: Start) -> dict[str, Any]:
    """Optimizer, learning rate (log scale), batch size, weight decay, gradient clipping."""
    names = ["adam", "nesterov", "rmsprop", "adamw"]
    decays, clips, batches = [0.0, 1e-5, 1e-4, 1e-3], [0.0, 1.0, 5.0], [32, 64, 128]
    optimizer: dict[str, Any] = {
        "name": hp.Choice("training/optimizer", names,
                          default=start.choice("train.optimizer.name", names, "adam")),
        "learning_rate": hp.Float(
            "training/learning_rate", 1e-4, 1e-2, sampling="log",
            default=start.number("train.optimizer.learning_rate", 1e-4, 1e-2, 1e-3)),
    }
    weight_decay = hp.Choice("training/weight_decay", decays,
                             default=start.choice("train.optimizer.weight_decay", decays, 0.0))
    if weight_decay:
        optimizer["weight_decay"] = weight_decay
    clipnorm = hp.Choice("training/clipnorm", clips,
                         default=start.choice("train.optimizer.clipnorm", clips, 0.0))
    if clipnorm:  # 0 stands for "no clipping" (Choice values must share one type)
        optimizer["clipnorm"] = clipnorm
    return {
        "train.optimizer": optimizer,
        "data.batch_size": hp.Choice("training/batch_size", batches,
                                     default=start.choice("data.batch_size", batches, 64)),
    }


@register_space("mlp", models=("mlp",), family=True)
def mlp_space(hp, start: Start) -> dict[str, Any]:
    """MLP depth, width, activation, dropout, batch norm (models/dense.py)."""
    start = start.model("mlp")
    widths, activations = [32, 64, 128, 256], ["relu", "elu", "tanh"]
    return {
        "model.name": "mlp",
        "model.params": {
            "depth": hp.Int("mlp/depth", 1, 4,
                            default=start.number("model.params.depth", 1, 4, 2)),
            "width": hp.Choice("mlp/width", widths,
                               default=start.choice("model.params.width", widths, 128)),
            "activation": hp.Choice(
                "mlp/activation", activations,
                default=start.choice("model.params.activation", activations, "relu")),
            "dropout": hp.Float("mlp/dropout", 0.0, 0.5, step=0.1, default=start.number(
                "model.params.dropout", 0.0, 0.5, 0.0, step=0.1)),
            "batch_norm": hp.Boolean("mlp/batch_norm",
                                     default=start.flag("model.params.batch_norm")),
        },
    }


MAX_CNN_BLOCKS = 3  # 8x8 digits pool to 1x1 after three 2x2 poolings


@register_space("cnn", models=("cnn",), family=True)
def cnn_space(hp, start: Start) -> dict[str, Any]:
    """CNN (models/cnn.py): blocks, filters/kernel per block, pooling, BN, dropout, residual.

    Also: convolutions per block, pooling type, hidden dense units in the head.
    """
    start = start.model("cnn")
    blocks = hp.Int("cnn/blocks", 1, MAX_CNN_BLOCKS,
                    default=start.number("model.params.blocks", 1, MAX_CNN_BLOCKS, 2))
    filters, kernels = [], []
    for i in range(1, MAX_CNN_BLOCKS + 1):
        # Per-block choices exist only for blocks the trial has (conditional
        # hyperparameters: the oracle does not count an unused one as a new point).
        with hp.conditional_scope("cnn/blocks", list(range(i, MAX_CNN_BLOCKS + 1))):
            width = hp.Choice(f"cnn/filters_{i}", [16, 32, 64], default=start.choice(
                "model.params.filters", [16, 32, 64], 32, index=i - 1))
            kernel = hp.Choice(f"cnn/kernel_{i}", [3, 5], default=start.choice(
                "model.params.kernel_size", [3, 5], 3, index=i - 1))
        if i <= blocks:
            filters.append(width)
            kernels.append(kernel)
    return {
        "model.name": "cnn",
        "model.params": {
            "blocks": blocks,
            "filters": filters,
            "kernel_size": kernels,
            "convs_per_block": hp.Int("cnn/convs_per_block", 1, 2, default=start.number(
                "model.params.convs_per_block", 1, 2, 1)),
            "pooling": hp.Choice("cnn/pooling", ["max", "avg"], default=start.choice(
                "model.params.pooling", ["max", "avg"], "max")),
            "pool_every": hp.Choice("cnn/pool_every", [1, 2], default=start.choice(
                "model.params.pool_every", [1, 2], 1)),
            "batch_norm": hp.Boolean("cnn/batch_norm",
                                     default=start.flag("model.params.batch_norm")),
            "dropout": hp.Float("cnn/dropout", 0.0, 0.3, step=0.1, default=start.number(
                "model.params.dropout", 0.0, 0.3, 0.0, step=0.1)),
            "residual": hp.Boolean("cnn/residual", default=start.flag("model.params.residual")),
            "dense_units": hp.Choice("cnn/dense_units", [0, 64, 128], default=start.choice(
                "model.params.dense_units", [0, 64, 128], 0)),
        },
    }


@register_space("lenet", models=("lenet5",), family=True)
def lenet_space(hp, start: Start) -> dict[str, Any]:
    """LeNet-5 (models/lenet.py, 32x32 inputs: the data is resized to it): activation,
    pooling, dropout; with the cnn and mlp spaces in `family`, the main job's model is a
    point of the search."""
    start = start.model("lenet5")
    activations, poolings = ["tanh", "relu", "elu"], ["avg", "max"]
    return {
        "model.name": "lenet5",
        "data.image_size": [32, 32],
        "model.params": {
            "activation": hp.Choice("lenet/activation", activations, default=start.choice(
                "model.params.activation", activations, "tanh")),
            "pooling": hp.Choice("lenet/pooling", poolings, default=start.choice(
                "model.params.pooling", poolings, "avg")),
            "dropout": hp.Float("lenet/dropout", 0.0, 0.5, step=0.1, default=start.number(
                "model.params.dropout", 0.0, 0.5, 0.0, step=0.1)),
        },
    }


@register_space("augmentation")
def augmentation_space(hp, start: Start) -> dict[str, Any]:
    """Training-set augmentation legal for digits (no flips): random shifts, rotations
    and zooms, each off (0) or a factor; the recipe's own `data.augment` is trial 0 (its
    other augmentations and options are kept as they are)."""
    augment = start.section("data.augment")
    for name, factors in (("translation", [0.0, 0.05, 0.1]), ("rotation", [0.0, 0.03, 0.06]),
                          ("zoom", [0.0, 0.05, 0.1])):
        options = augment.pop(name, None)
        recipe = 0.0 if options is None else options.get(
            "factor", keyword_params(AUGMENTATIONS.get(name))["factor"].default)
        factor = hp.Choice(f"augmentation/{name}", factors, default=start.choice(
            f"data.augment.{name}.factor", factors, 0.0, value=recipe))
        if factor:
            augment[name] = {**(options or {}), "factor": factor}
    return {"data.augment": augment}


@register_space("resnet", models=("resnet20", "resnet32", "resnet56"), family=True)
def resnet_space(hp, start: Start) -> dict[str, Any]:
    """ResNet depth (20/32/56 layers) and width, shortcut type (models/resnet.py)."""
    name = str(start.values.get("model.name", ""))
    depths = [20, 32, 56]
    recipe_depth = int(name[6:]) if name.startswith("resnet") and name[6:].isdigit() else None
    start = start.model(name) if recipe_depth in depths else start.model("resnet")
    depth = hp.Choice("resnet/depth", depths,
                      default=recipe_depth if recipe_depth in depths else 20)
    return {
        "model.name": f"resnet{depth}",
        "model.params": {
            "width": hp.Choice("resnet/width", [8, 16, 32], default=start.choice(
                "model.params.width", [8, 16, 32], 16)),
            "shortcut": hp.Choice("resnet/shortcut", ["A", "B"], default=start.choice(
                "model.params.shortcut", ["A", "B"], "A")),
        },
    }


@register_space("recurrent", models=("lstm", "gru"))
def recurrent_space(hp, start: Start) -> dict[str, Any]:
    """LSTM or GRU classifier: units, stacked layers, bidirectional, dropout (models/recurrent.py).

    For sequence inputs (text, or MNIST-1D with `as_sequence: true`).
    """
    cells = ["lstm", "gru"]
    cell = start.choice("model.name", cells, "lstm")
    start = start.model(cell)
    return {
        "model.name": hp.Choice("recurrent/cell", cells, default=cell),
        "model.params": {
            "units": hp.Choice("recurrent/units", [32, 64, 128], default=start.choice(
                "model.params.units", [32, 64, 128], 64)),
            "layers": hp.Int("recurrent/layers", 1, 2,
                             default=start.number("model.params.layers", 1, 2, 1)),
            "bidirectional": hp.Boolean("recurrent/bidirectional",
                                        default=start.flag("model.params.bidirectional")),
            "dropout": hp.Float("recurrent/dropout", 0.0, 0.3, step=0.1, default=start.number(
                "model.params.dropout", 0.0, 0.3, 0.0, step=0.1)),
        },
    }


@register_space("family")
def family_space(hp, start: Start) -> dict[str, Any]:
    """Model selection among the family spaces (mlp, cnn, ...), their arguments conditional.

    A family's hyperparameters are active only in trials that chose that family.
    """
    names = family_names()
    recipe = next((n for n in names if start.values.get("model.name") in space_models(n)),
                  names[0])
    chosen = hp.Choice("family", names, default=recipe)
    out: dict[str, Any] = {}
    for name in names:
        with hp.conditional_scope("family", [name]):
            if name == chosen:
                out = SPACES.get(name).sample(hp, start)
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


def recipe_sampler(tune, start: Start) -> Callable[[Any], dict[str, Any]]:
    """The sampler of a recipe's `tune:` section: its named spaces, then its own
    `params` (key path -> range; the key path is the hyperparameter's name).

    A `model.name` choice switches family: the recipe's model parameters are
    dropped and, for a model with its own space (mlp, cnn), that space is sampled
    conditionally on the choice.
    """

    def sample(hp) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in tune.space:
            out.update(SPACES.get(name).sample(hp, start))
        for path, spec in tune.params.items():
            if path == "model.name":
                out.update(_choose_model(hp, spec.values, start))
            elif spec.kind == "fixed":
                out[path] = spec.values[0]
            else:
                out[path] = _declared(hp, path, spec, start)
        return out

    return sample


def _choose_model(hp, names: list[str], start: Start) -> dict[str, Any]:
    chosen = hp.Choice("model.name", names, default=start.choice("model.name", names, names[0]))
    out: dict[str, Any] = {"model.name": chosen, "model.params": {}}
    for name in names:
        space = space_for_model(name)
        if space is None:
            continue
        with hp.conditional_scope("model.name", [name]):
            if name == chosen:
                out.update(space.sample(hp, start))
    return out


def _declared(hp, path: str, spec, start: Start) -> Any:
    """One `tune.params` entry as a KerasTuner hyperparameter named by its path, its
    default the recipe's value at that path when the range holds it."""
    sampling = "log" if spec.log else "linear"
    if spec.kind == "int":
        step = int(spec.step) if spec.step else None
        default = start.number(path, spec.low, spec.high, None, step=step)
        return hp.Int(path, int(spec.low), int(spec.high), step=step, sampling=sampling,
                      default=None if default is None else int(default))
    if spec.kind == "float":
        return hp.Float(path, spec.low, spec.high, step=spec.step, sampling=sampling,
                        default=start.number(path, spec.low, spec.high, None, step=spec.step))
    if spec.kind == "boolean":
        return hp.Boolean(path, default=start.flag(path, bool(spec.values[0])))
    values = spec.values
    if any(isinstance(v, float) for v in values) and not any(isinstance(v, str) for v in values):
        values = [float(v) for v in values]  # KerasTuner wants one type
    return hp.Choice(path, values, default=start.choice(path, values, values[0]))
