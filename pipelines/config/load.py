"""Recipes from and to YAML: read a file, apply `--set key.path=value` overrides (values
read as YAML) to the raw mapping, validate once; dump the resolved config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from common.errors import UserError
from pipelines.config.experiment import ExperimentConfig, set_path, validate_config


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps
    the last silently, so a recipe could say two things and do one)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_recipe(
    path: str | Path, overrides: list[str] | tuple[str, ...] = ()
) -> ExperimentConfig:
    """Read a recipe YAML, apply `key.path=value` overrides, validate.

    Raises:
        UserError: missing file, bad YAML, unknown key, bad value or unknown name.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"recipe not found: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except UnicodeDecodeError as err:
        where = f"{err.reason} at byte {err.start}"
        raise UserError(f"{path}: not a UTF-8 text file ({where})") from None
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


def dump_config(cfg: ExperimentConfig) -> str:
    """The resolved config as YAML (what the run folder keeps, and `--set` can replay)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
