"""Read intermediate layers of trained pipeline models (for CAMs and activation statistics).

A trained dlzoo model is nested: `<name>_model` -> "preprocess" -> the builder's network
(-> a transfer model's "backbone"), so `keras.Model(model.inputs, layer.output)` on an
inner layer fails with "Graph disconnected". `tap` re-traces the outer graph with
`keras.models.clone_model(call_function=...)`, reusing every layer (weights shared,
nothing copied) and swapping each sub-model that holds a requested layer for a
multi-output version of itself, recursively.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras


def tap(model: keras.Model, names: Sequence[str]) -> keras.Model:
    """A functional model: same inputs, outputs `[*layer outputs for names, *model outputs]`.

    Args:
        model: a functional model, possibly with functional sub-models as layers.
        names: layer names, found at any nesting depth.

    Raises:
        ValueError: a name is not a layer of `model` or of its sub-models.
    """
    names = list(names)
    owners: dict[str, keras.Model] = {}
    for name in names:
        if _has_direct(model, name):
            continue
        child = next((c for c in _sub_models(model) if _contains(c, name)), None)
        if child is None:
            raise ValueError(f"model {model.name!r} has no layer {name!r}; {_layer_list(model)}")
        owners[name] = child
    tapped = {id(c): (tap(c, [n for n in names if owners.get(n) is c]), c) for c in owners.values()}
    found: dict[str, keras.KerasTensor] = {}

    def call(layer, *args, **kwargs):
        if id(layer) in tapped:
            sub, child = tapped[id(layer)]
            outs = sub(*args, **kwargs)
            inner = [n for n in names if owners.get(n) is child]
            found.update(zip(inner, outs[: len(inner)]))
            rest = outs[len(inner) :]
            return rest[0] if len(rest) == 1 else rest
        out = layer(*args, **kwargs)
        if layer.name in names and layer.name not in owners:
            found[layer.name] = out
        return out

    clone = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)
    inputs = clone.inputs[0] if len(clone.inputs) == 1 else clone.inputs
    return keras.Model(inputs, [found[n] for n in names] + list(clone.outputs))


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer | None:
    """The layer called `name` at any nesting depth (depth-first), or None."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = find_layer(layer, name)
            if found is not None:
                return found
    return None


def find_sub_model(model: keras.Model, name: str) -> keras.Model:
    """The (possibly nested) sub-model called `name`, e.g. a transfer model's "backbone"."""
    for child in _sub_models(model):
        if child.name == name:
            return child
        try:
            return find_sub_model(child, name)
        except ValueError:
            continue
    raise ValueError(f"model {model.name!r} has no sub-model {name!r}")


def _sub_models(model: keras.Model) -> list[keras.Model]:
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def _has_direct(model: keras.Model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)


def _contains(model: keras.Model, name: str) -> bool:
    return _has_direct(model, name) or any(_contains(c, name) for c in _sub_models(model))


def _layer_list(model: keras.Model) -> str:
    names = [layer.name for layer in model.layers]
    for child in _sub_models(model):
        names += [f"{child.name}/{layer.name}" for layer in child.layers]
    return "layers: " + ", ".join(names[:60]) + (" ..." if len(names) > 60 else "")
