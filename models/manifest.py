"""The catalog without Keras: each model's task, input size and builder parameters.

`dlzoo models` and the config checks of a recipe (`model.name`, `model.params`, the
judge's) need only what the registry says about each builder, not the builders: reading
it from `manifest.json` answers them without the 3-4 s import of TensorFlow. The file is
generated from the registry (`python -m models.manifest`) and a test fails, saying that
command, when a builder changes and the file was not regenerated.

Type hints are stored as their source text (`inspect.formatannotation`) and evaluated
here with the builtins and `typing`; a hint naming anything else (a Keras class) is
stored as `Any`, which the builder still checks when it runs.
"""

from __future__ import annotations

import argparse
import builtins
import collections.abc
import dataclasses
import functools
import inspect
import json
import sys
import typing
from pathlib import Path
from typing import Any

from common.registry import keyword_params
from models.registry import INJECTED

MANIFEST = Path(__file__).with_name("manifest.json")

# What a stored hint may name: the builtins, `typing`'s names, `collections.abc`'s.
_HINT_NAMES = {**vars(builtins), **vars(collections.abc), **vars(typing), "typing": typing,
               "NoneType": type(None)}


@dataclasses.dataclass(frozen=True)
class CatalogEntry:
    name: str
    task: str
    input_size: tuple[int, int] | None
    gradcam_layer: str | None
    description: str
    params: dict[str, str]  # recipe-settable parameter -> its type hint's source text

    def param_hints(self) -> dict[str, Any]:
        """{parameter: type hint} for `common.registry.validate_against`."""
        return {name: _evaluate(hint) for name, hint in self.params.items()}


@functools.cache
def catalog() -> dict[str, CatalogEntry]:
    """Every registered model by name, read from manifest.json (no Keras import)."""
    raw = json.loads(MANIFEST.read_text())
    return {
        name: CatalogEntry(name=name, task=e["task"], gradcam_layer=e["gradcam_layer"],
                           input_size=tuple(e["input_size"]) if e["input_size"] else None,
                           description=e["description"], params=e["params"])
        for name, e in sorted(raw.items())
    }


def _evaluate(hint: str) -> Any:
    try:
        return eval(hint, {"__builtins__": {}}, _HINT_NAMES)  # noqa: S307 (our own file)
    except Exception:  # a class outside builtins/typing: left to the builder to check
        return Any


def _hint_text(hint: Any) -> str:
    text = "Any" if hint is inspect.Parameter.empty else inspect.formatannotation(hint)
    return text if _evaluate(text) == hint else "Any"


def from_registry() -> dict[str, dict[str, Any]]:
    """The manifest's content, computed from the registered builders."""
    # heavy (Keras): importing the catalog registers every builder
    from models.catalog import MODELS

    manifest = {}
    for name, spec in MODELS.items():
        hints = inspect.get_annotations(spec.builder, eval_str=True)
        params = keyword_params(spec.builder, INJECTED)
        manifest[name] = {
            "task": spec.task,
            "input_size": list(spec.input_size) if spec.input_size else None,
            "gradcam_layer": spec.gradcam_layer,
            "description": spec.description,
            "params": {p: _hint_text(hints.get(p, inspect.Parameter.empty)) for p in params},
        }
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate models/manifest.json.")
    parser.add_argument("--check", action="store_true",
                        help="Only say whether the file is up to date (exit 1 if not).")
    args = parser.parse_args(argv)
    text = json.dumps(from_registry(), indent=1, sort_keys=True) + "\n"
    if args.check:
        fresh = MANIFEST.exists() and MANIFEST.read_text() == text
        print("models/manifest.json is " + ("up to date" if fresh else
              "stale: run python -m models.manifest"))
        return 0 if fresh else 1
    MANIFEST.write_text(text)
    print(f"wrote {MANIFEST} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
