"""Transfer learning: a pretrained backbone, nested as the sub-model `backbone`, plus a
new classifier head (Yosinski et al. 2014, "How transferable are features in deep
neural networks?"; the Keras transfer-learning guide's recipe).

The backbone is either any `keras.applications` network (`backbone: MobileNetV2`,
weights `imagenet` when online, `null`, or a local Keras weights file) or any
registered dlzoo model cut before its classifier (`cut`), with weights from a file of
that cut network's weights. The pipeline makes such a file from a finished dlzoo run
(`weights: runs/<recipe>/<stamp>` in a recipe, or `pretrain:`; see
pipelines/tasks/transfer.py): this module only ever receives a weights path.

Modes: `feature_extraction` freezes the backbone; `fine_tune` trains its top
`unfreeze_top` layers (all when null). Pretrained BatchNormalization layers are always
frozen, which in Keras 3 also runs them in inference mode: calling the backbone with
`training=False` inside a functional model is NOT enough in Keras 3, since `fit` passes
`training=True` down and overrides it (keras-team/keras#20285). A second, slower
fine-tuning phase is `train.finetune` (pipelines/tasks/transfer.py).

Inputs: [0, 1] (the pipeline's `normalize: rescale`); keras.applications backbones get
them as 0..255 through their own `preprocess_input`, grey images repeated to RGB.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

import keras
from keras import layers

from models.registry import MODELS, build_model, register_model

Mode = Literal["feature_extraction", "fine_tune"]
APPLICATIONS = tuple(n for n in dir(keras.applications) if n[:1].isupper())


@register_model("transfer", gradcam_layer="backbone")
def transfer(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    backbone: str | None = None,
    backbone_params: dict[str, Any] | None = None,
    weights: str | None = None,
    mode: Mode = "feature_extraction",
    unfreeze_top: int | None = None,
    feature_layer: str | None = None,
    dropout: float = 0.2,
    head_units: int = 0,
) -> keras.Model:
    """A pretrained backbone (keras.applications or a dlzoo run) and a new head.

    Args:
        backbone: a keras.applications name (MobileNetV2, ResNet50, ...) or a registered
            dlzoo model; may be left out when `weights` is a dlzoo run.
        backbone_params: builder parameters of a dlzoo backbone.
        weights: null (random), `imagenet` (applications), or a weights file (for a dlzoo
            backbone: the weights of its `cut`, as pipelines/tasks/transfer.py writes them).
        mode: feature_extraction (frozen backbone) or fine_tune.
        unfreeze_top: in fine_tune mode, how many of the backbone's last layers with
            weights train (null: all).
        feature_layer: cut a dlzoo backbone after this layer (default: the input of
            its classifier).
        dropout: before the new classifier.
        head_units: a hidden Dense layer in the head (0: none).
    """
    net = _backbone(backbone, backbone_params or {}, weights, input_shape, feature_layer)
    set_trainable(net, mode=mode, unfreeze_top=unfreeze_top, pretrained=weights is not None)
    inputs = keras.Input(input_shape, name="inputs")
    x = _application_input(inputs, backbone, weights) if backbone in APPLICATIONS else inputs
    x = net(x)
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    if head_units:
        x = layers.Dense(head_units, activation="relu", name="head_dense")(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="transfer")


def set_trainable(
    backbone: keras.Model, *, mode: str, unfreeze_top: int | None, pretrained: bool = True
) -> int:
    """Freeze the backbone, or unfreeze its last `unfreeze_top` layers with weights.

    Pretrained BatchNormalization layers stay frozen (hence in inference mode).
    Returns how many layers train.
    """
    backbone.trainable = mode != "feature_extraction"
    if mode == "feature_extraction":
        return 0
    weighted = [layer for layer in _leaf_layers(backbone) if layer.weights]
    first = 0 if unfreeze_top is None else max(0, len(weighted) - unfreeze_top)
    count = 0
    for i, layer in enumerate(weighted):
        bn = isinstance(layer, layers.BatchNormalization)
        layer.trainable = i >= first and not (bn and pretrained)
        count += layer.trainable
    return count


def _leaf_layers(model: keras.Model) -> list[layers.Layer]:
    out = []
    for layer in model.layers:
        out += _leaf_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return out


def _backbone(name, params, weights, input_shape, feature_layer) -> keras.Model:
    if name in APPLICATIONS:
        if params or feature_layer:
            raise ValueError(
                f"backbone_params / feature_layer are for dlzoo backbones; received "
                f"backbone={name!r} with backbone_params={params}, feature_layer={feature_layer!r}"
            )
        return _from_application(name, weights, input_shape)
    if name is None or name not in MODELS:
        raise ValueError(
            f"backbone must be a keras.applications network ({', '.join(APPLICATIONS[:6])}, "
            f"...) or a dlzoo model ({', '.join(MODELS.names())}); received backbone={name!r}"
        )
    if weights == "imagenet":
        raise ValueError(
            f"weights='imagenet' is for keras.applications; received backbone={name!r}"
        )
    core = build_model(name, inputs={"input_shape": input_shape, "num_classes": 2}, params=params)
    net = cut(core, feature_layer)
    if weights is not None:
        if not Path(weights).is_file():
            raise ValueError(f"weights file not found; received weights={weights!r}")
        net.load_weights(weights)
    return net


def cut(core: keras.Model, feature_layer: str | None) -> keras.Model:
    """`core` up to `feature_layer`, or up to its classifier's input (dropout skipped).

    The pipeline saves this network's weights from a trained run; `transfer` loads them
    into the same cut of a fresh build."""
    if feature_layer is not None:
        try:
            features = core.get_layer(feature_layer).output
        except ValueError:
            names = ", ".join(layer.name for layer in core.layers)
            raise ValueError(
                f"no layer {feature_layer!r} in {core.name!r}; received "
                f"feature_layer={feature_layer!r}; layers: {names}"
            ) from None
    else:
        classifier = [layer for layer in core.layers if layer.weights][-1]
        features = classifier.input
        while isinstance(features._keras_history.operation, layers.Dropout):
            features = features._keras_history.operation.input
    return keras.Model(core.inputs, features, name="backbone")


def _from_application(name: str, weights: str | None, input_shape) -> keras.Model:
    shape = (*input_shape[:-1], 3)  # the applications are RGB networks
    try:
        app = getattr(keras.applications, name)(
            include_top=False, weights=weights, input_shape=shape, pooling=None
        )
    except ValueError as err:  # keras' own message names the sizes it accepts
        raise ValueError(f"backbone={name!r}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a failed download surfaces in many types
        raise ValueError(
            f"could not load weights={weights!r} for backbone={name!r} ({err}); ImageNet "
            "weights need internet once (then ~/.keras/models caches them); use a local "
            "weights file or null"
        ) from None
    return keras.Model(app.inputs, app.outputs[0], name="backbone")


def _application_input(inputs, name: str, weights: str | None):
    """[0, 1] images -> what the application expects: RGB, 0..255, its preprocess_input."""
    x = inputs
    if inputs.shape[-1] == 1:
        x = layers.Concatenate(name="to_rgb")([x, x, x])
    x = layers.Rescaling(255.0, name="to_255")(x)
    module = importlib.import_module(getattr(keras.applications, name).__module__)
    return module.preprocess_input(x)
