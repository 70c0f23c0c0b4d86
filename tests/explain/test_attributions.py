"""Attribution methods: shapes and ranges, axioms, nested models, no mutation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from common.errors import UserError
from explain.adapter import as_scorer
from explain.grad_cam import grad_cam
from explain.gradients import gradient_x_input, smoothgrad, vanilla_gradients
from explain.integrated_gradients import integrated_gradients
from explain.methods import attribute, to_map
from explain.occlusion import occlusion
from explain.quality import completeness

from .conftest import nested

RANGE = (0.0, 16.0)


@pytest.mark.parametrize(
    "method, shape_kind",
    [
        ("gradients", "input"),
        ("gradxinput", "input"),
        ("smoothgrad", "input"),
        ("ig", "input"),
        ("gradcam", "map"),
        ("occlusion", "map"),
        ("lime", "map"),
    ],
)
def test_every_method_returns_finite_arrays_of_the_right_shape(digits_cnn, method, shape_kind):
    from explain.config import ExplainConfig

    x = digits_cnn.x_test[:3]
    cfg = ExplainConfig(lime={"num_samples": 60}, smoothgrad={"samples": 4})
    scorer = as_scorer(digits_cnn.model, input_range=RANGE)
    out = attribute(method, scorer, x, cfg=cfg)
    assert out.shape == (x.shape if shape_kind == "input" else x.shape[:3])
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert np.abs(out).max() > 0  # a trained model's evidence is not all zero
    assert to_map(method, out, x.shape[1:]).shape == x.shape[:3]


def test_grad_cam_maps_lie_in_unit_range_at_input_size(digits_cnn):
    maps = grad_cam(digits_cnn.model, digits_cnn.x_test[:8], input_range=RANGE)
    assert maps.shape == (8, 8, 8)
    peaks = maps.max(axis=(1, 2))
    # Each map is scaled to peak 1, or all 0 when the ReLU removes only negative evidence.
    assert maps.min() >= 0 and np.all(np.isclose(peaks, 1) | (peaks == 0)) and peaks.max() == 1


def test_gradients_match_finite_differences(digits_cnn):
    x = digits_cnn.x_test[:1]
    target = int(digits_cnn.model.predict(x, verbose=0).argmax())
    grad = vanilla_gradients(digits_cnn.model, x, target=target, input_range=RANGE)
    i = np.unravel_index(np.abs(grad).argmax(), grad.shape)
    h = 1e-2
    up, down = x.copy(), x.copy()
    up[i] += h
    down[i] -= h
    logits = digits_cnn.model.predict(np.concatenate([up, down]), verbose=0)[:, target]
    assert np.isclose((logits[0] - logits[1]) / (2 * h), grad[i], rtol=0.05)


def test_gradient_x_input_is_gradient_times_input(digits_cnn):
    x = digits_cnn.x_test[:4]
    g = vanilla_gradients(digits_cnn.model, x, input_range=RANGE)
    np.testing.assert_allclose(gradient_x_input(digits_cnn.model, x), g * x, rtol=1e-5, atol=1e-7)


def test_smoothgrad_is_repeatable_by_seed(digits_cnn):
    x = digits_cnn.x_test[:2]
    a = smoothgrad(digits_cnn.model, x, samples=5, seed=3, input_range=RANGE)
    b = smoothgrad(digits_cnn.model, x, samples=5, seed=3, input_range=RANGE)
    c = smoothgrad(digits_cnn.model, x, samples=5, seed=4, input_range=RANGE)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("baseline", ["black", "blur", "mid"])
def test_integrated_gradients_completeness_within_one_percent(digits_cnn, baseline):
    result = completeness(
        digits_cnn.model, digits_cnn.x_test[:16], baseline=baseline, input_range=RANGE
    )
    assert result["steps"] == 64  # the default
    assert result["relative_error_max"] <= 0.01


def test_integrated_gradients_of_a_linear_model_are_exact():
    inputs = keras.Input((5,))
    model = keras.Model(inputs, layers.Dense(3, name="logits")(inputs))
    x = np.random.default_rng(0).uniform(0, 1, (4, 5)).astype(np.float32)
    ig = integrated_gradients(model, x, target=1, steps=2, baseline="black", input_range=(0, 1))
    w = model.get_layer("logits").kernel.numpy()[:, 1]
    np.testing.assert_allclose(ig, x * w, rtol=1e-5, atol=1e-6)


def test_occlusion_marks_the_pixels_a_model_reads():
    """A model that only reads the top-left 2x2 corner: occlusion is zero elsewhere."""
    inputs = keras.Input((8, 8, 1))
    corner = lambda t: tf.reduce_sum(t[:, :2, :2, 0], axis=[1, 2])  # noqa: E731
    logits = layers.Lambda(lambda t: tf.stack([corner(t), tf.zeros_like(corner(t))], -1))(inputs)
    model = keras.Model(inputs, logits)
    x = np.zeros((1, 8, 8, 1), np.float32)
    x[0, :2, :2] = 1.0
    maps = occlusion(model, x, target=0, patch=2, stride=2, fill="low", input_range=(0, 1))
    assert maps[0, :2, :2].min() > 0 and np.abs(maps[0, 2:, 2:]).max() == 0


def test_methods_never_change_the_model(digits_cnn):
    before = [w.copy() for w in digits_cnn.model.get_weights()]
    x = digits_cnn.x_test[:2]
    for method in ("gradients", "ig", "gradcam", "occlusion", "smoothgrad"):
        attribute(method, as_scorer(digits_cnn.model, input_range=RANGE), x)
    for a, b in zip(before, digits_cnn.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _transfer_like(seed: int = 0):
    """outer -> preprocess -> core -> backbone (functional) -> head: two levels."""
    keras.utils.set_random_seed(seed)
    b_in = keras.Input((8, 8, 1))
    b = layers.Conv2D(6, 3, padding="same", activation="relu", name="b_conv1")(b_in)
    b = layers.Conv2D(8, 3, padding="same", activation="relu", name="b_conv2")(b)
    backbone = keras.Model(b_in, b, name="backbone")
    c_in = keras.Input((8, 8, 1))
    h = layers.GlobalAveragePooling2D(name="gap")(backbone(c_in))
    core = keras.Model(c_in, layers.Dense(4, name="logits")(h), name="transfer_core")
    return nested(core, RANGE), backbone, core


def test_grad_cam_inside_a_backbone_two_levels_down_matches_a_direct_computation():
    model, backbone, core = _transfer_like()
    x = np.random.default_rng(1).uniform(0, 16, (3, 8, 8, 1)).astype(np.float32)
    maps = grad_cam(model, x, target=2, layer="b_conv2", input_range=RANGE)
    # Reference: the same forward pass written out by hand.
    with tf.GradientTape() as tape:
        act = backbone(model.get_layer("preprocess")(x))
        tape.watch(act)
        score = core.get_layer("logits")(core.get_layer("gap")(act))[:, 2]
    grads = tape.gradient(score, act)
    cam = tf.nn.relu(tf.reduce_sum(act * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), -1))
    cam = cam.numpy() / np.maximum(cam.numpy().max(axis=(1, 2), keepdims=True), 1e-12)
    np.testing.assert_allclose(maps, cam, atol=1e-5)


def test_tf_explain_grad_cam_fails_on_nested_models_where_ours_works():
    """Why grad_cam does not call tf-explain's activation step (tf-explain #116)."""
    from tf_explain.core.grad_cam import GradCAM

    model, _, _ = _transfer_like()
    x = np.ones((1, 8, 8, 1), np.float32)
    with pytest.raises(ValueError):
        GradCAM.get_gradients_and_filters(model, x, "b_conv2", 0, False)
    assert grad_cam(model, x, layer="backbone/b_conv2", input_range=RANGE).shape == (1, 8, 8)


def test_grad_cam_errors_name_what_to_fix(digits_cnn):
    with pytest.raises(UserError, match="convolutional layers: .*conv1.*conv2"):
        grad_cam(digits_cnn.model, digits_cnn.x_test[:1], layer="nope", input_range=RANGE)
    inputs = keras.Input((8, 8, 1))
    mlp = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(inputs)), name="mlp")
    with pytest.raises(UserError, match="no convolutional layer"):
        grad_cam(mlp, digits_cnn.x_test[:1], input_range=RANGE)


def test_wrong_shape_channels_or_range_are_user_errors(digits_cnn):
    with pytest.raises(UserError, match="resize images to 8x8"):
        vanilla_gradients(digits_cnn.model, np.zeros((1, 9, 9, 1)), input_range=RANGE)
    with pytest.raises(UserError, match="3 channel"):
        vanilla_gradients(digits_cnn.model, np.zeros((1, 8, 8, 3)), input_range=RANGE)
    with pytest.raises(UserError, match=r"raw inputs in \[0, 16\]"):
        vanilla_gradients(digits_cnn.model, np.full((1, 8, 8, 1), 255.0), input_range=RANGE)


def test_grad_cam_on_the_registry_transfer_model_reaches_into_its_backbone():
    """`transfer` nests a lenet5 `backbone` two levels down; its registry layer
    ("backbone") ends in a vector here, so Grad-CAM falls back to the last conv layer
    with a spatial map, inside the backbone."""
    from models.catalog import build_model

    core = build_model(
        "transfer",
        inputs={"input_shape": (32, 32, 1), "num_classes": 3},
        params={"backbone": "lenet5", "backbone_params": {"activation": "relu"}},
    )
    model = nested(core, RANGE)
    scorer = as_scorer(model, input_range=RANGE)
    assert scorer.default_layer() == "transfer/backbone/c3_conv"
    x = np.random.default_rng(0).uniform(0, 16, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(grad_cam(scorer, x), grad_cam(scorer, x, layer="c3_conv"))
    with pytest.raises(UserError, match="'backbone' has no spatial"):
        grad_cam(scorer, x, layer="backbone")
