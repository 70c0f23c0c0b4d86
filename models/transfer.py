"""Transfer learning: a pretrained backbone, nested as the sub-model `backbone`, plus a
new classifier head (Yosinski et al. 2014, "How transferable are features in deep
neural networks?"; the Keras transfer-learning guide's recipe).

The backbone is either any `keras.applications` network (`backbone: MobileNetV2`,
weights `imagenet` when online, `null`, or a local Keras weights file) or any
registered dlzoo model cut before its classifier, with weights from a finished dlzoo
run (`weights: runs/<recipe>/<stamp>`, the run folder or its `model.weights.h5`; the
run's config says which model and parameters to rebuild). A recipe's `pretrain:`
section trains such a run first and fills in `weights: pretrain` (pipelines/transfer.py).

Modes: `feature_extraction` freezes the backbone; `fine_tune` trains its top
`unfreeze_top` layers (all when null). Pretrained BatchNormalization layers are always
frozen, which in Keras 3 also runs them in inference mode: calling the backbone with
`training=False` inside a functional model is NOT enough in Keras 3, since `fit` passes
`training=True` down and overrides it (keras-team/keras#20285). A second, slower
fine-tuning phase is `train.finetune` (pipelines/transfer.py).

Inputs: [0, 1] (the pipeline's `normalize: rescale`); keras.applications backbones get
them as 0..255 through their own `preprocess_input`, grey images repeated to RGB.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

import keras
from keras import layers

from models.registry import register_model
from common.errors import UserError

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
        weights: null (random), `imagenet`, a weights file, or a dlzoo run folder.
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
    if weights == "pretrain":
        raise UserError(
            "model.params.weights: `pretrain` needs a `pretrain:` section in the recipe "
            "(it trains the backbone first and fills in the run folder)"
        )
    run_dir = _run_folder(weights)
    if run_dir is not None:
        return _from_run(run_dir, name, params, input_shape, feature_layer)
    if name in APPLICATIONS:
        if params or feature_layer:
            raise UserError("model.params: backbone_params/feature_layer are for dlzoo backbones")
        return _from_application(name, weights, input_shape)
    from models.registry import MODELS

    if name is None or name not in MODELS:
        raise UserError(
            f"model.params.backbone: {name!r} is neither a keras.applications network "
            f"({', '.join(APPLICATIONS[:6])}, ...) nor a dlzoo model ({', '.join(MODELS.names())})"
            "; or set model.params.weights to a dlzoo run folder"
        )
    if weights is not None:
        raise UserError(
            f"model.params.weights: {weights!r}: a dlzoo backbone takes weights from a "
            "dlzoo run folder (with config.yaml and model.weights.h5) or null"
        )
    from models.registry import build_model

    core = build_model(name, inputs={"input_shape": input_shape, "num_classes": 2}, params=params)
    return _cut(core, feature_layer)


def _run_folder(weights: str | None) -> Path | None:
    """The run folder when `weights` names a dlzoo run (or its model.weights.h5)."""
    if weights in (None, "imagenet"):
        return None
    path = Path(weights)
    folder = path.parent if path.name == "model.weights.h5" else path
    if (folder / "config.yaml").is_file() and (folder / "model.weights.h5").is_file():
        return folder
    if path.is_dir():
        raise UserError(
            f"model.params.weights: {weights} is a folder but not a finished dlzoo run "
            "(no config.yaml + model.weights.h5)"
        )
    if not path.is_file():
        raise UserError(f"model.params.weights: file not found: {weights}")
    return None


def _from_run(run_dir: Path, name, params, input_shape, feature_layer) -> keras.Model:
    """The trained core network of a dlzoo run, cut before its classifier."""
    from pipelines.config.experiment import load_recipe
    from pipelines.data.spec import DataSpec
    from pipelines.run import build_model

    cfg = load_recipe(run_dir / "config.yaml")
    if name not in (None, cfg.model.name) or (params and params != cfg.model.params):
        raise UserError(
            f"model.params: the run {run_dir} trained {cfg.model.name!r} with params "
            f"{cfg.model.params}; leave backbone/backbone_params out or make them match"
        )
    spec = DataSpec.load(run_dir / "spec.json")
    if tuple(spec.input_shape) != tuple(input_shape):
        raise UserError(
            f"model.params.weights: the run {run_dir} was trained on inputs of shape "
            f"{tuple(spec.input_shape)}, this data has {tuple(input_shape)}; set "
            f"data.image_size / data.color_mode to match"
        )
    model, _ = build_model(cfg, spec)
    if model.optimizer is not None:  # so the saved optimizer state loads without warnings
        model.optimizer.build(model.trainable_variables)
    model.load_weights(run_dir / "model.weights.h5")
    return _cut(model.get_layer(cfg.model.name), feature_layer)


def _cut(core: keras.Model, feature_layer: str | None) -> keras.Model:
    """`core` up to `feature_layer`, or up to its classifier's input (dropout skipped)."""
    if feature_layer is not None:
        try:
            features = core.get_layer(feature_layer).output
        except ValueError:
            names = ", ".join(layer.name for layer in core.layers)
            raise UserError(
                f"model.params.feature_layer: no layer {feature_layer!r} in "
                f"{core.name!r}; layers: {names}"
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
        raise UserError(f"model.params.backbone {name}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a failed download surfaces in many types
        raise UserError(
            f"model.params.weights: could not load {weights!r} weights for {name} ({err}); "
            "ImageNet weights need internet once (then ~/.keras/models caches them); "
            "use a local weights file or null"
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
