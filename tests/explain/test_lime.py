"""LIME through the lime package: images (grey-scale too), tables, text; repeatability."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from explain.lime_explain import lime_image, lime_tabular, lime_text, stability

RANGE = (0.0, 16.0)


@pytest.mark.parametrize("segmentation", ["quickshift", "slic", "felzenszwalb"])
def test_grey_images_are_explained_with_every_segmentation(digits_cnn, segmentation):
    """(8, 8, 1) inputs: lime wants RGB (lime #661); every superpixel method works."""
    x = digits_cnn.x_test[:2]
    maps, details = lime_image(
        digits_cnn.model,
        x,
        num_samples=80,
        segmentation=segmentation,
        input_range=RANGE,
        return_details=True,
    )
    assert maps.shape == (2, 8, 8) and np.abs(maps).max() > 0
    assert all(len(d["weights"]) >= 2 for d in details)  # more than one superpixel


def test_same_seed_same_explanation_where_a_reused_lime_explainer_drifts(digits_cnn):
    """lime #477/#231: one explainer gives different answers on repeated calls."""
    from lime import lime_image as li

    x = digits_cnn.x_test[:2]
    kw = {"num_samples": 100, "input_range": RANGE}
    np.testing.assert_array_equal(
        lime_image(digits_cnn.model, x, seed=3, **kw), lime_image(digits_cnn.model, x, seed=3, **kw)
    )
    assert not np.array_equal(
        lime_image(digits_cnn.model, x, seed=3, **kw), lime_image(digits_cnn.model, x, seed=4, **kw)
    )
    explainer = li.LimeImageExplainer(random_state=3)

    def proba(batch):
        return keras.ops.softmax(digits_cnn.model(batch[..., :1] * 16.0)).numpy()

    runs = [
        explainer.explain_instance(
            x[0, ..., 0] / 16, proba, labels=(0,), top_labels=None, num_samples=100, random_seed=3
        ).local_exp[0]
        for _ in range(2)
    ]
    assert runs[0] != runs[1]


def test_stability_report_across_seeds(digits_cnn):
    result = stability(
        digits_cnn.model,
        digits_cnn.x_test[:2],
        seeds=[0, 1],
        k=3,
        num_samples=100,
        input_range=RANGE,
    )
    assert result["same_seed_identical"] is True
    assert 0.0 <= result["mean_jaccard"] <= 1.0 and len(result["per_image_jaccard"]) == 2


def test_tabular_lime_finds_the_feature_the_label_depends_on():
    x = np.random.default_rng(0).normal(size=(400, 4)).astype(np.float32)
    inputs = keras.Input((4,))
    dense = layers.Dense(2)
    model = keras.Model(inputs, dense(inputs))
    kernel = np.zeros((4, 2), np.float32)
    kernel[2] = [-3.0, 3.0]  # class 1 iff feature "c" > 0
    dense.set_weights([kernel, np.zeros(2, np.float32)])
    weights, readable = lime_tabular(
        model,
        x[:3],
        training_data=x,
        feature_names=["a", "b", "c", "d"],
        num_samples=500,
        input_range=(-5, 5),
        return_details=True,
    )
    assert weights.shape == (3, 4)
    assert (np.abs(weights).argmax(axis=1) == 2).all()
    assert all("c" in readable[i][0][0] for i in range(3))


def test_text_lime_on_a_model_taking_raw_strings():
    """A tiny string model (TextVectorization inside) where 'good' vs 'bad' decides."""
    vectorize = layers.TextVectorization(max_tokens=20, output_mode="multi_hot")
    vectorize.adapt(["the movie was good really", "a bad plot quite actors"])
    inputs = keras.Input((), dtype="string")
    dense = layers.Dense(2)
    model = keras.Model(inputs, dense(vectorize(inputs)))
    vocab = vectorize.get_vocabulary()
    kernel = np.zeros((len(vocab), 2), np.float32)
    kernel[vocab.index("good")] = [-3.0, 3.0]
    kernel[vocab.index("bad")] = [3.0, -3.0]
    dense.set_weights([kernel, np.zeros(2, np.float32)])
    assert model(tf.constant(["good"])).numpy().argmax() == 1
    explained = lime_text(
        model,
        ["the movie was good really", "a bad plot quite"],
        num_samples=300,
        class_names=["neg", "pos"],
    )
    assert explained[0][0][0] == "good" and explained[0][0][1] > 0
    assert explained[1][0][0] == "bad" and explained[1][0][1] > 0  # evidence for "neg"
