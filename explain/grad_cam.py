"""Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: visual explanations from deep networks
via gradient-based localization", arXiv:1610.02391).

The class score's gradient w.r.t. a convolutional layer's activation, averaged over
space, weights that layer's channels; the ReLU of the weighted sum, upsampled to the
input, is the map. tf-explain's `GradCAM.generate_ponderated_output` does the weighted
sum and we use it. Its activation/gradient step we replace:
`GradCAM.get_gradients_and_filters` builds `Model(model.inputs,
model.get_layer(name).output)`, which fails with "Graph disconnected" on nested
models (tf-explain #116) such as every dlzoo classifier, and its layer inference
reads `layer.output_shape`, gone in Keras 3 (tf-explain #192). We take the layer
from the scorer (`explain.nested.tap` for Keras models, the graph for SavedModels),
with the registry's `gradcam_layer` as the default; tf-explain's default "guided"
gradients are not the paper's Grad-CAM, so plain gradients are used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from tf_explain.core.grad_cam import GradCAM

from common.errors import UserError
from explain.adapter import as_scorer


def grad_cam(
    model: Any,
    inputs: np.ndarray,
    *,
    target: Any = None,
    layer: str | None = None,
    batch_size: int = 64,
    **kw: Any,
) -> np.ndarray:
    """Grad-CAM maps of shape (batch, height, width), each scaled to [0, 1].

    Args:
        layer: a convolutional layer's name (or path `lenet5/c3_conv`); default: the
            registry's `gradcam_layer`, else the last convolutional layer.

    Raises:
        UserError: the model has no convolutional layer, or `layer` does not exist
            (the message lists the convolutional layers), or inputs are not images.
    """
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    if not scorer.is_image:
        raise UserError(f"Grad-CAM needs image inputs; {scorer.name} takes {scorer.input_shape}")
    name = scorer.resolve_layer(layer)
    targets = scorer.targets(x, target)
    maps = []
    for i in range(0, len(x), batch_size):
        activation, grads = scorer.layer_gradients(
            tf.constant(x[i : i + batch_size]), tf.constant(targets[i : i + batch_size]), name
        )
        cams = tf.stack(GradCAM.generate_ponderated_output(activation, grads))
        maps.append(_to_input_size(tf.nn.relu(cams), scorer.input_shape[:2]))
    return np.concatenate(maps)


def _to_input_size(cams: tf.Tensor, size: tuple[int, int]) -> np.ndarray:
    resized = tf.image.resize(cams[..., None], size, method="bilinear")[..., 0].numpy()
    peak = resized.reshape(len(resized), -1).max(axis=1)
    scale = np.where(peak > 0, peak, 1.0)[:, None, None]
    return (resized / scale).astype(np.float32)
