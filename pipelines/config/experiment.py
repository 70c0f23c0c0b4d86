"""The experiment config: one recipe, validated once into frozen pydantic models.

One model per section (data, model, train, evaluate, export, and each stage's), in the
modules beside this one. Unknown keys, bad values and unknown names fail at load with
the key path and the allowed values, as a `UserError` (exit status 2 in the CLI).
Overrides (`--set train.epochs=3`) are applied to the raw mapping *before* validation
(pipelines/config/load.py), so they are checked like the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, Field, StringConstraints, model_validator

from common.config import Strict
from common.errors import UserError
from explain.config import AttackConfig, ExplainConfig
from models.manifest import catalog
from pipelines.config.data import DataConfig
from pipelines.config.embedding_bias import EmbeddingBiasConfig
from pipelines.config.generative import GenerativeConfig
from pipelines.config.learning_rule import LearningRuleConfig
from pipelines.config.linear_regions import LinearRegionsConfig
from pipelines.config.model import ModelConfig
from pipelines.config.sequence import PublishedConfig, SequenceConfig
from pipelines.config.stages import (
    ActivationStatsConfig,
    CamConfig,
    ClaimConfig,
    PretrainConfig,
)
from pipelines.config.train import TrainConfig
from pipelines.config.tune import TuneConfig
from pipelines.config.variance_reduction import VarianceReductionConfig


class EvaluateConfig(Strict):
    enabled: bool = True


# A recipe or export name becomes one folder name (runs/<name>, saved_models/<name>):
# letters, digits, `.`, `_`, `-`, not starting with a dot, so it never escapes its folder.
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


class ExportConfig(Strict):
    enabled: bool = False
    name: Name | None = Field(None, description="saved_models/<name>; default recipe name")
    dir: str = "saved_models"
    tolerance: float = Field(1e-5, gt=0, description="max |reloaded - in-memory|")
    formats: list[Literal["saved_model", "tflite", "onnx"]] = Field(
        default_factory=lambda: ["saved_model"],
        description="beside the SavedModel (always written): a LiteRT / TFLite file and an "
        "ONNX file, each parity-checked (pip install 'dlzoo[deploy]')",
    )
    quantize: Literal["none", "dynamic", "int8"] = Field(
        "none", description="tflite: dynamic-range or full-int8 post-training quantization "
        "(int8 calibrates on the training split)",
    )


class ExperimentConfig(Strict):
    name: Name
    description: str = ""
    seed: int = 0
    deterministic: bool = Field(
        False,
        description="TensorFlow's op determinism besides the seed: bit-identical reruns on "
        "one machine, at a cost in speed (README, Determinism)",
    )
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
    generative: GenerativeConfig | None = None  # samples, judge, Parzen (tasks/generative/)
    claim: ClaimConfig | None = None  # stated claim checked on the metrics (stages/claims.py)
    pretrain: PretrainConfig | None = None  # train a backbone first (tasks/transfer.py)
    activations: ActivationStatsConfig | None = None  # per-layer stats (stages/)
    cam: CamConfig | None = None  # class activation maps stage (stages/cam.py)
    embedding_bias: EmbeddingBiasConfig | None = None  # word-vector bias, debias (stages/)
    learning_rule: LearningRuleConfig | None = None  # Novikoff, lstsq (stages/learning_rule.py)
    linear_regions: LinearRegionsConfig | None = None  # ReLU regions (stages/linear_regions.py)
    variance_reduction: VarianceReductionConfig | None = None  # SVRG vs SGD (stages/)

    @model_validator(mode="before")
    @classmethod
    def _model_input_size(cls, raw: Any) -> Any:
        """A model with a fixed input size (LeNet-5: 32x32) sets `data.image_size` when
        the recipe leaves it out: resolved here, once, so every stage sees the same."""
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            return raw
        model = raw.get("model")
        name = model.get("name") if isinstance(model, dict) else None
        size = catalog()[name].input_size if isinstance(name, str) and name in catalog() else None
        if size and raw["data"].get("image_size") is None:
            raw = {**raw, "data": {**raw["data"], "image_size": list(size)}}
        return raw

    def with_overrides(self, overrides: dict[str, Any]) -> ExperimentConfig:
        """A new validated config with `{"a.b": value}` overrides applied."""
        raw = self.model_dump(mode="json", exclude_unset=False)
        for path, value in overrides.items():
            set_path(raw, path, value)
        return validate_config(raw, source=f"recipe {self.name!r}")


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
            lines.extend(f"  {line}" for line in msg.splitlines())  # names its key paths
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
