"""Model registry: name -> builder plus the metadata that travels with the model.

Builders are keyword-only functions returning an *uncompiled* `keras.Model`; they
download nothing. The pipeline passes the arguments named in `DataSpec.builder_inputs`
(`input_shape`, `num_classes`, ...) that a builder's signature asks for; a recipe's
`model.params` sets the rest (the config layer checks them against the signature and
adds the key path to messages). Builders raise `ValueError` naming the argument and
the value received, as keras' own builders do; an unknown name is a `ValueError` too.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common.registry import Registry, keyword_params

if TYPE_CHECKING:  # annotations only: the keras-free manifest imports this module
    import keras

# Builder arguments supplied from the data, never from a recipe.
INJECTED = (
    "input_shape",
    "num_classes",
    "vocab_size",
    "target_vocab_size",
    "sequence_length",
    "class_names",
    "target_sequence_length",
    "memory_size",
    "sentence_length",
    "num_negatives",
)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Callable[..., keras.Model]
    task: str = "classify"  # classify | segment | generative | sequence | ...
    input_size: tuple[int, int] | None = None  # spatial size the pipeline resizes to
    gradcam_layer: str | None = None  # default layer for Grad-CAM / CAM
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model", error=ValueError)


def register_model(name: str, **meta: Any) -> Callable:
    """Register a builder under `name` (a duplicate name raises)."""

    def wrap(fn: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        doc = (fn.__doc__ or "").strip().splitlines()
        MODELS.add(
            name, ModelSpec(name=name, builder=fn, description=doc[0] if doc else "", **meta)
        )
        return fn

    return wrap


def get_spec(name: str) -> ModelSpec:
    return MODELS.get(name)


def build_model(name: str, *, inputs: dict[str, Any], params: dict[str, Any]) -> keras.Model:
    """Call the builder with the data-derived `inputs` it accepts and `params`."""
    spec = get_spec(name)
    accepted = keyword_params(spec.builder)
    injected = {k: v for k, v in inputs.items() if k in accepted}
    return spec.builder(**injected, **params)


def list_models(pattern: str = "*", task: str | None = None) -> list[str]:
    return [n for n, s in MODELS.items() if fnmatch.fnmatch(n, pattern) and task in (None, s.task)]
