"""The experiment config: one YAML recipe, validated once into frozen pydantic models.

One model per stage (data, model, train, evaluate, export, ...). Unknown keys, bad
values and unknown names fail at load with the key path and the allowed values, as a
`UserError` (exit status 2 in the CLI). Overrides (`--set train.epochs=3`) are
applied to the raw mapping *before* validation, so they are checked like the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from common.config import Named, Strict
from common.errors import UserError
from common.registry import validate_params
from explain.config import AdversarialTrainingConfig, AttackConfig, ExplainConfig
from models.registry import MODELS
from pipelines.config.distribute import LRScalingConfig, MixedPrecision, StrategyConfig
from pipelines.config.generative import GenerativeConfig
from pipelines.config.model import ModelConfig
from pipelines.config.sequence import PublishedConfig, SequenceConfig
from pipelines.config.stages import (
    ActivationStatsConfig,
    CamConfig,
    ClaimConfig,
    FinetuneConfig,
    PretrainConfig,
)
from pipelines.config.text import TextConfig
from pipelines.config.tune import TuneConfig
from pipelines.data.augment import AUGMENTATIONS
from pipelines.data.augment import INJECTED as AUG_INJECTED
from pipelines.data.sources import INJECTED, SOURCES
from pipelines.train.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    check_optimizer_params,
    check_schedule_params,
)


def _as_value_error(check, *args, **kwargs) -> None:
    """Run a check that raises UserError inside a validator, as a ValueError, so
    pydantic collects every problem of the recipe into one report."""
    try:
        check(*args, **kwargs)
    except UserError as err:
        raise ValueError(str(err)) from None


class DataConfig(Strict):
    source: str = Field(description="data source name; `dlzoo datasets` lists them")
    params: dict[str, Any] = Field(default_factory=dict, description="source options")
    data_dir: str | None = Field(
        None,
        description="where file sources are looked up; "
        "default $DLZOO_DATA_DIR, then the working directory",
    )
    image_size: tuple[int, int] | None = None
    color_mode: Literal["keep", "grayscale", "rgb"] = "keep"
    val_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    classes: list[int] | None = Field(None, description="keep only these class ids")
    per_class: int | None = Field(None, gt=0, description="training examples per class")
    normalize: Literal["rescale", "standardize", "tanh", "none"] = "rescale"
    augment: dict[str, dict[str, Any]] = Field(default_factory=dict)
    batch_size: int = Field(32, gt=0)
    shuffle_buffer: int = Field(10_000, gt=0)
    cache: bool = True
    deterministic: bool = True
    skip_corrupt: bool = False
    train_on_val: bool = Field(
        False,
        description="fold the validation split into training (the refit after a "
        "search); val metrics are then no longer held out",
    )
    text: TextConfig | None = Field(None, description="text vectorization (text sources)")

    @field_validator("source")
    @classmethod
    def _known_source(cls, name: str) -> str:

        _as_value_error(SOURCES.get, name)
        return name

    @field_validator("augment")
    @classmethod
    def _known_augmentations(cls, augment: dict[str, dict[str, Any]]) -> dict:

        for name in augment:
            _as_value_error(AUGMENTATIONS.get, name)
        return augment

    @model_validator(mode="after")
    def _check_params(self) -> DataConfig:

        _as_value_error(
            validate_params,
            SOURCES.get(self.source).fn,
            self.params,
            where="data.params",
            skip=INJECTED,
        )
        for name, params in self.augment.items():
            _as_value_error(
                validate_params,
                AUGMENTATIONS.get(name),
                params or {},
                where=f"data.augment.{name}",
                skip=AUG_INJECTED,
            )
        return self

    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir or os.environ.get("DLZOO_DATA_DIR") or ".")


class OptimizerConfig(Named):
    name: str = "adam"
    learning_rate: float = Field(1e-3, gt=0)

    @field_validator("name")
    @classmethod
    def _known_optimizer(cls, name: str) -> str:

        _as_value_error(OPTIMIZERS.get, name)
        return name

    @model_validator(mode="after")
    def _check_params(self) -> OptimizerConfig:

        _as_value_error(check_optimizer_params, self.name, self.params)
        return self


class ScheduleConfig(Named):
    name: str = "constant"
    warmup_epochs: float = Field(0.0, ge=0, description="linear warmup from ~0")

    @field_validator("name")
    @classmethod
    def _known_schedule(cls, name: str) -> str:

        _as_value_error(SCHEDULES.get, name)
        return name

    @model_validator(mode="after")
    def _check_params(self) -> ScheduleConfig:

        _as_value_error(check_schedule_params, self.name, self.params)
        return self


class EarlyStoppingConfig(Strict):
    monitor: str = "val_loss"
    patience: int = Field(5, ge=0)
    min_delta: float = 0.0


class TrainConfig(Strict):
    epochs: int = Field(10, gt=0)
    optimizer: OptimizerConfig = OptimizerConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    l1: float = Field(0.0, ge=0, description="L1 penalty on every kernel")
    l2: float = Field(0.0, ge=0, description="L2 penalty on every kernel")
    early_stopping: EarlyStoppingConfig | None = None
    checkpoint: bool = Field(True, description="keep the best weights on val metric")
    monitor: str | None = Field(
        None, description="checkpoint metric; default: the task's (val_loss for classifiers)"
    )
    tensorboard: bool = True
    backup: bool = Field(True, description="BackupAndRestore: resume interrupted runs")
    strategy: StrategyConfig = StrategyConfig()
    mixed_precision: MixedPrecision = "off"
    lr_scaling: LRScalingConfig | None = None
    steps_per_epoch: int | None = Field(None, gt=0)
    verbose: Literal["auto", 0, 1, 2] = "auto"
    adversarial: AdversarialTrainingConfig | None = None  # pipelines/train/adversarial.py
    finetune: FinetuneConfig | None = None  # a second, lower-rate phase (pipelines/transfer.py)


class EvaluateConfig(Strict):
    enabled: bool = True


class ExportConfig(Strict):
    enabled: bool = False
    name: str | None = Field(None, description="saved_models/<name>; default recipe name")
    dir: str = "saved_models"
    tolerance: float = Field(1e-5, gt=0, description="max |reloaded - in-memory|")


class ExperimentConfig(Strict):
    name: str
    description: str = ""
    seed: int = 0
    runs_dir: str = "runs"
    data: DataConfig
    model: ModelConfig
    train: TrainConfig = TrainConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    export: ExportConfig = ExportConfig()
    sequence: SequenceConfig | None = None  # decoding/generation settings (sequence tasks)
    published: PublishedConfig | None = None  # paper numbers side by side (sequence.compare)
    sweep: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="key path -> values; `dlzoo run` trains each combination",
    )
    tune: TuneConfig | None = None  # `dlzoo tune`: space, tuner, budget (tuning/config.py)
    explain: ExplainConfig | None = None  # attributions, LIME, quality (explain/)
    attack: AttackConfig | None = None  # robustness curves, patch (explain/)
    generative: GenerativeConfig | None = None  # samples, judge, Parzen (pipelines/generative*)
    claim: ClaimConfig | None = None  # stated claim checked on the metrics (pipelines/claims.py)
    pretrain: PretrainConfig | None = None  # train a backbone first (pipelines/transfer.py)
    activations: ActivationStatsConfig | None = None  # per-layer stats (activation_stats.py)
    cam: CamConfig | None = None  # class activation maps stage (pipelines/cam.py)

    @model_validator(mode="before")
    @classmethod
    def _model_input_size(cls, raw: Any) -> Any:
        """A model with a fixed input size (LeNet-5: 32x32) sets `data.image_size` when
        the recipe leaves it out: resolved here, once, so every stage sees the same."""
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            return raw
        model = raw.get("model")
        name = model.get("name") if isinstance(model, dict) else None
        size = MODELS.get(name).input_size if isinstance(name, str) and name in MODELS else None
        if size and raw["data"].get("image_size") is None:
            raw = {**raw, "data": {**raw["data"], "image_size": list(size)}}
        return raw

    def with_overrides(self, overrides: dict[str, Any]) -> ExperimentConfig:
        """A new validated config with `{"a.b": value}` overrides applied."""
        raw = self.model_dump(mode="json", exclude_unset=False)
        for path, value in overrides.items():
            set_path(raw, path, value)
        return validate_config(raw, source=f"recipe {self.name!r}")


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read a recipe YAML, apply `key.path=value` overrides, validate.

    Raises:
        UserError: missing file, bad YAML, unknown key, bad value or unknown name.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"recipe not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: a recipe must be a mapping of sections, got {type(raw).__name__}")
    raw.setdefault("name", path.stem)
    for item in overrides:
        key, value = parse_override(item)
        set_path(raw, key, value)
    return validate_config(raw, source=str(path))


def parse_override(item: str) -> tuple[str, Any]:
    """`train.epochs=3` -> ("train.epochs", 3); the value is read as YAML."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--set expects KEY.PATH=VALUE, got {item!r}")
    try:
        return key.strip(), yaml.safe_load(text)
    except yaml.YAMLError:
        raise UserError(f"--set {item!r}: value is not valid YAML") from None


def validate_config(raw: dict[str, Any], *, source: str) -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(raw)
    except pydantic.ValidationError as err:
        raise UserError(f"{source}: invalid config\n" + format_errors(err)) from None


def format_errors(err: pydantic.ValidationError, model: type[BaseModel] = ExperimentConfig) -> str:
    """One line per problem: `key.path: what is wrong (allowed: ...)`."""
    lines = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"] if not str(p).startswith("function-")]
        path = ".".join(loc) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "value_error" and ": " in msg and "." in msg.split(": ")[0]:
            lines.append(f"  {msg}")  # already names its own key path
            continue
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            msg = f"unknown key; allowed: {', '.join(allowed)}" if allowed else "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"  {path}: {msg}")
    return "\n".join(lines)


def _allowed_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    """The field names at `loc` inside `model` (follows nested config sections)."""
    for key in loc:
        field = model.model_fields.get(key)
        if field is None:
            return []
        nested = [
            t
            for t in _types_in(field.annotation)
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not nested:
            return []
        model = nested[0]
    return sorted(model.model_fields)


def _types_in(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    return [t for a in args for t in _types_in(a)] if args else [annotation]


def set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = raw
    for key in keys[:-1]:
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif isinstance(child, str):  # `optimizer: adam` -> {name: adam}
            child = node[key] = {"name": child}
        elif not isinstance(child, dict):
            raise UserError(f"--set {path}: {key!r} is a value, not a section")
        node = child
    node[keys[-1]] = value


def dump_config(cfg: ExperimentConfig) -> str:
    """The resolved config as YAML (what the run folder keeps, and `--set` can replay)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
