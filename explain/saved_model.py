"""A dlzoo SavedModel as a differentiable `Scorer`.

The exported `serving_default` signature takes inputs in the raw dtype (uint8 for
images): a gradient cannot flow back through the cast from float. So the scorer
re-imports the traced serving graph with its first float cast (`Cast(inputs)`) fed
by our float tensor and the variable placeholders fed by the loaded variables
(`tf.graph_util.import_graph_def` with an `input_map`): the same ops, resize and
normalization included, now differentiable w.r.t. a float input. Logits are the
input of the graph's Softmax (the exporter applies softmax to the model's logits);
a graph without one falls back to log-probabilities. Grad-CAM reads a layer's
activation from the same graph by its Keras name scope.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import tensorflow as tf

from common.errors import UserError
from common.versions import resolve_version
from explain.scorer import Scorer, registry_layer

_SUFFIX = re.compile(r"_\d+$")  # Keras name scopes add `_1` to a layer called again


class SavedModelScorer(Scorer):
    """An exported classifier (`saved_models/<name>[/<version>]`)."""

    def __init__(self, path: Path, input_range: tuple[float, float] | None = None) -> None:
        self.path = resolve_version(Path(path))
        meta_file = self.path / "metadata.json"
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        self.metadata = meta
        self._loaded = tf.saved_model.load(str(self.path))  # keeps the variables alive
        serve = self._loaded.signatures["serving_default"]
        self._graph, self._graph_def, self._handles = _inner_graph(serve)
        self._names = _graph_names(self._graph)
        shape = meta.get("input", {}).get("shape") or list(self._graph.inputs[0].shape[1:])
        if None in shape:
            raise UserError(f"{self.path}: metadata.json lacks the input shape")
        rng = input_range or meta.get("input", {}).get("range")
        super().__init__(
            input_shape=tuple(shape),
            input_range=tuple(rng) if rng else None,
            class_names=tuple(meta.get("class_names", ())),
            name=f"{self.path.parent.name}/{self.path.name}",
        )

    def _import(self, x, extra: list[str]):
        """Run the serving graph on float `x`; return the logits and `extra` tensors."""
        placeholder = self._graph.inputs[0]
        feeds = {placeholder.name: tf.zeros([1] * placeholder.shape.rank, placeholder.dtype)}
        feeds[self._names["cast"]] = x  # replaces the placeholder when it is float already
        feeds.update(
            {p.name: tf.identity(h) for p, h in zip(self._graph.inputs[1:], self._handles)}
        )
        out = tf.graph_util.import_graph_def(
            self._graph_def,
            input_map=feeds,
            return_elements=[self._names["logits"], *extra],
            name="dlzoo_saved_model",
        )
        logits = out[0] if self._names["softmax"] else tf.math.log(out[0] + 1e-12)
        return logits, out[1:]

    def logits(self, x):
        fn = self.compiled("import", lambda: lambda t: self._import(t, [])[0])
        return fn(x)

    def conv_layers(self) -> list[str]:
        return list(dict.fromkeys(self._names["convs"]))

    def has_layer(self, layer: str) -> bool:
        return self._layer_tensor(layer) is not None

    def default_layer(self) -> str | None:
        config = self.metadata.get("config", {})
        name = config.get("model", {}).get("name")
        layer = registry_layer([name]) if name else None
        return layer if layer and self.has_layer(layer) else None

    def _layer_tensor(self, layer: str) -> str | None:
        """Name of the last 4-D float tensor made inside layer `layer`'s name scope."""
        want = layer.rpartition("/")[2]
        found = None
        for op in self._graph.get_operations():
            parts = [_SUFFIX.sub("", p) for p in op.name.split("/")[:-1]]
            parts += [p for p in op.name.split("/")[:-1]]
            if want in parts and op.outputs and op.outputs[0].shape.rank == 4:
                if op.outputs[0].dtype.is_floating:
                    found = op.outputs[0].name
        return found

    def layer_gradients(self, x, targets, layer):
        tensor = self._layer_tensor(layer)
        if tensor is None:
            raise UserError(
                f"no layer {layer!r} in {self.name}; convolutional layers: "
                f"{', '.join(self.conv_layers()) or '(none)'}"
            )

        def grads(t, ids):
            logits, (activation,) = self._import(t, [tensor])
            score = tf.gather(logits, ids, axis=1, batch_dims=1)
            return activation, tf.gradients(score, activation)[0]

        return self.compiled(f"layer:{tensor}", lambda: grads)(x, targets)


def _inner_graph(serve):
    """The traced serving function's graph, GraphDef and variable handles.

    The signature wraps one call to the traced `serve` function; its graph holds the
    cast, resize, normalization, network and softmax.
    """
    calls = [
        op
        for op in serve.graph.get_operations()
        if op.type in ("StatefulPartitionedCall", "PartitionedCall")
    ]
    if len(calls) != 1:
        raise UserError("not a dlzoo SavedModel: unexpected serving graph layout")
    inner = serve.graph._functions[calls[0].get_attr("f").name]  # noqa: SLF001
    handles = list(serve.captured_inputs)
    if len(inner.graph.inputs) != 1 + len(handles):
        raise UserError("not a dlzoo SavedModel: unexpected serving graph inputs")
    return inner.graph, inner.graph.as_graph_def(), handles


def _graph_names(graph) -> dict:
    """Tensor names the scorer feeds and fetches in the serving graph."""
    placeholder = graph.inputs[0]
    # The exporter checks the inputs first (their checks gate an Identity of them):
    # the cast may read the placeholder through such Identity ops.
    same = {placeholder.name}
    for op in graph.get_operations():
        if op.type == "Identity" and op.inputs and op.inputs[0].name in same:
            same.add(op.outputs[0].name)
    casts = [
        op
        for op in graph.get_operations()
        if op.type == "Cast" and op.inputs and op.inputs[0].name in same
    ]
    if placeholder.dtype.is_floating and not casts:
        cast = placeholder.name
    elif casts:
        cast = casts[0].outputs[0].name
    else:
        raise UserError("not a dlzoo SavedModel: its input is never cast to float")
    softmax = [op for op in graph.get_operations() if op.type == "Softmax"]
    outputs = graph.outputs
    probabilities = next(t for t in outputs if t.dtype.is_floating and t.shape.rank == 2)
    convs = [
        _SUFFIX.sub("", op.name.split("/")[-2])
        for op in graph.get_operations()
        if op.type in ("Conv2D", "DepthwiseConv2dNative") and "/" in op.name
    ]
    return {
        "cast": cast,
        "softmax": bool(softmax),
        "logits": softmax[-1].inputs[0].name if softmax else probabilities.name,
        "convs": convs,
    }
