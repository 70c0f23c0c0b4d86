"""Every registered image model (classify, classify_aux, segment) builds at a tiny size,
takes one training step through its pipeline task with a finite loss, gives outputs of
the right shape, and names its Grad-CAM layer; bad input sizes fail at build time."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest

import pipelines.tasks.catalog  # noqa: F401  (registers every task task_for looks up)
from models.catalog import build_model, get_spec, list_models
from models.introspect import find_layer
from pipelines.data.spec import DataSpec
from pipelines.tasks.base import task_for

# Input shape and parameters that make each model tiny; a model not listed here runs
# at 16x16x3 with its defaults (add a line when that is too big).
TINY: dict[str, tuple[tuple[int, ...], dict]] = {
    "perceptron": ((8, 8, 1), {}),
    "mlp": ((8, 8, 1), {"width": 8, "activation": "maxout"}),
    "lenet5": ((32, 32, 1), {}),
    "alexnet": ((67, 67, 3), {"width": 0.05, "fc_units": 8}),
    "alexnet_small": ((8, 8, 3), {"width": 0.05, "fc_units": 8, "normalization": "batch_norm"}),
    "allconv_gap": ((12, 12, 3), {"width": 0.05, "activation": "maxout"}),
    "nin": ((8, 8, 3), {"width": 0.05}),
    "inception_v1": ((32, 32, 3), {"width": 0.05}),
    "inception_v1_small": ((8, 8, 3), {"width": 0.05, "batch_norm": True}),
    "googlenet": ((65, 65, 3), {"width": 0.05}),
    "googlenet_small": ((12, 12, 3), {"width": 0.05}),
    "resnet50": ((32, 32, 3), {"width": 2}),
    "transfer": ((32, 32, 1), {"backbone": "MobileNetV2", "mode": "fine_tune", "unfreeze_top": 3}),
    "unet": ((16, 16, 1), {"depth": 2, "width": 4}),
    "fcn": ((16, 16, 3), {"depth": 3, "width": 4, "skips": 2}),
}
TINY |= {f"vgg{d}": ((32, 32, 3), {"width": 2, "fc_units": 8}) for d in (11, 13, 16, 19)}
TINY |= {
    f"{kind}{d}": ((8, 8, 3), {"width": 2})
    for kind in ("resnet", "plainnet")
    for d in (20, 32, 56, 110)
}
TASKS = ("classify", "classify_aux", "segment")
SEQUENCE_INPUTS = {"vocab_size", "sequence_length", "target_vocab_size"}  # tested elsewhere


def image_models() -> list[str]:
    return [
        name
        for task in TASKS
        for name in list_models(task=task)
        if not SEQUENCE_INPUTS & set(inspect.signature(get_spec(name).builder).parameters)
    ]


def tiny_spec(task: str, shape: tuple[int, ...], classes: int = 3) -> DataSpec:
    return DataSpec(
        task="segment" if task == "segment" else "classify",
        input_shape=shape,
        raw_dtype="float32",
        input_range=(0.0, 1.0),
        class_names=tuple(str(i) for i in range(classes)),
        normalize="none",
        target_shape=shape[:2] if task == "segment" else (),
    )


@pytest.mark.parametrize("name", image_models())
def test_builds_tiny_and_takes_a_training_step(name):
    model_spec = get_spec(name)
    shape, params = TINY.get(name, ((16, 16, 3), {}))
    spec = tiny_spec(model_spec.task, shape)
    keras.utils.set_random_seed(0)
    core = build_model(name, inputs=spec.builder_inputs(), params=params)
    assert core.name == name
    if model_spec.gradcam_layer:
        assert find_layer(core, model_spec.gradcam_layer) is not None
    task = task_for(model_spec.task, spec)
    model = task.assemble(core, spec)
    task.compile(model, keras.optimizers.SGD(1e-3), spec)
    model.run_eagerly = True  # one step: eager is faster than tracing a graph
    rng = np.random.default_rng(0)
    x = rng.random((4, *shape), dtype=np.float32)
    y = rng.integers(0, 3, (4, *shape[:2]) if model_spec.task == "segment" else (4,))
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"])
    if model_spec.task == "classify_aux":  # GoogLeNet's auxiliary heads are trained too
        assert np.isfinite(logs["aux_loss"]) and logs["aux_loss"] > 0
    # batch statistics: after one step, a deep plain net's BN moving averages are still
    # ~(0, 1) and its inference-mode activations can overflow (that is the point of BN)
    out = np.asarray(model(x, training=True))
    expected = (4, *shape[:2], 3) if model_spec.task == "segment" else (4, 3)
    assert out.shape == expected and np.isfinite(out).all()


@pytest.mark.parametrize(
    ("name", "too_small", "smallest"),
    [
        ("vgg16", (31, 31, 3), 32),
        ("alexnet", (66, 66, 3), 67),
        ("resnet50", (31, 31, 3), 32),
        ("allconv_gap", (8, 8, 1), 9),
        ("googlenet", (64, 64, 3), 65),
    ],
)
def test_too_small_inputs_fail_at_build_naming_the_smallest_size(name, too_small, smallest):
    with pytest.raises(ValueError, match=f"at least {smallest}x{smallest}"):
        build_model(name, inputs={"input_shape": too_small, "num_classes": 3}, params={})


def test_segmentation_size_must_divide_by_two_to_the_depth():
    with pytest.raises(ValueError, match="divisible by 8"):
        build_model(
            "unet",
            inputs={"input_shape": (20, 20, 1), "num_classes": 2},
            params={"depth": 3, "width": 2},
        )


def test_manifest_is_what_the_registry_says():
    """`dlzoo models` and the config checks read models/manifest.json, not the builders."""
    import json

    from models.manifest import MANIFEST, catalog, from_registry

    assert json.loads(MANIFEST.read_text()) == from_registry(), (
        "models/manifest.json is stale: run python -m models.manifest")
    lenet = catalog()["lenet5"]
    assert lenet.input_size == (32, 32) and lenet.task == "classify"
    assert all(hint != "Any" for entry in catalog().values() for hint in entry.params.values())
