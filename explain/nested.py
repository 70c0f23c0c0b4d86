"""Reach a layer inside nested Keras models without "Graph disconnected".

dlzoo classifiers are nested: the outer `<name>_model` holds the "preprocess" layer and
the builder's functional model as a layer, and a transfer-learning model holds its
`backbone` one level further down. The usual Grad-CAM recipe,
`keras.Model(model.inputs, model.get_layer(name).output)`, fails there (tf-explain
#116, tensorflow #44462): the inner layer's output tensor belongs to the inner
model's graph, not the outer one. `tap` rebuilds the forward pass instead: it cuts
each enclosing graph at the sub-model's call (a model up to the sub-model's inputs,
then a model from the sub-model's outputs to the outer outputs) and composes those
with a multi-output version of the innermost model. Nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import keras

Tap = Callable[[object], tuple[object, object]]


def sub_models(model: keras.Model) -> list[keras.Model]:
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def walk(model: keras.Model, prefix: str = "") -> Iterator[tuple[str, keras.layers.Layer]]:
    """Every layer, depth first, with its path (`lenet5/c3_conv`)."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        yield path, layer
        if isinstance(layer, keras.Model):
            yield from walk(layer, prefix=f"{path}/")


def find_path(model: keras.Model, name: str) -> list[keras.Model] | None:
    """The chain of models from `model` down to the one that owns layer `name`.

    `name` may be a plain layer name or a path, from `walk` or partial (`backbone/conv1`).
    """
    head, _, rest = name.partition("/")
    for layer in model.layers:
        if rest and layer.name == head and isinstance(layer, keras.Model):
            found = find_path(layer, rest)
            if found:
                return [model, *found]
        if not rest and layer.name == name:
            return [model]
    for sub in sub_models(model):  # the name may start below this level
        found = find_path(sub, name)
        if found:
            return [model, *found]
    return None


def output_rank(layer: keras.layers.Layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # never called, or called more than once
        return None


def conv_layers(model: keras.Model) -> list[str]:
    """Paths of the convolutional layers (4-D outputs), in graph order."""
    return [
        path
        for path, layer in walk(model)
        if "Conv" in type(layer).__name__ and output_rank(layer) == 4
    ]


def spatial_layers(model: keras.Model) -> list[str]:
    """Paths of every layer (or sub-model) with a 4-D (batch, h, w, c) output."""
    return [path for path, layer in walk(model) if output_rank(layer) == 4]


def _node_in(parent: keras.Model, child: keras.layers.Layer):
    """The call of `child` that belongs to `parent`'s graph."""
    outputs = {id(t) for nodes in parent._nodes_by_depth.values() for n in nodes for t in n.outputs}
    for node in child._inbound_nodes:
        if any(id(t) in outputs for t in node.outputs):
            return node
    raise ValueError(f"{child.name} is not called inside {parent.name}")


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def tap(model: keras.Model, name: str) -> Tap:
    """A callable `x -> (activation of layer name, model output)`.

    Raises:
        ValueError: no layer `name` in `model` or its sub-models.
    """
    path = find_path(model, name)
    if path is None:
        raise ValueError(f"no layer {name!r} in {model.name}")
    return _tap_chain(path, name.rpartition("/")[2])


def _tap_chain(path: list[keras.Model], layer_name: str) -> Tap:
    model = path[0]
    if len(path) == 1:
        # The layer's call in *this* graph: for a sub-model (a transfer model's
        # `backbone`) `layer.output` would be its own internal output tensor.
        target = _node_in(model, model.get_layer(layer_name)).outputs[0]
        both = keras.Model(model.inputs, [target, *model.outputs])
        return lambda x: tuple(both(x, training=False))
    child = path[1]
    node = _node_in(model, child)
    inner = _tap_chain(path[1:], layer_name)
    if _same(list(node.input_tensors), list(model.inputs)):
        pre = None
    else:
        pre = keras.Model(model.inputs, list(node.input_tensors))
    if _same(list(node.outputs), list(model.outputs)):
        post = None
    else:  # the model's own inputs too, for shortcuts that bypass the child
        post = keras.Model([*model.inputs, *node.outputs], model.outputs)

    def run(x):
        h = x if pre is None else pre(x, training=False)
        activation, out = inner(h)
        return activation, out if post is None else post([x, out], training=False)

    return run
