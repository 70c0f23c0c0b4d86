"""The historical learning rules of a single linear threshold unit, as the algorithms.

* McCulloch & Pitts (1943): a unit with fixed weights and threshold, y = [w.x >= theta];
  AND, OR and NOT are such units (`threshold_unit`, `LOGIC_GATES`). Nothing is learned.
* Rosenblatt (1958), the perceptron rule: online, in example order, update only on a
  mistake (y (w.x + b) <= 0): w <- w + eta y x, b <- b + eta y, labels y in {-1, +1},
  starting from w = 0, b = 0 (Novikoff 1962: at most (R / gamma)^2 updates on data
  separable with margin gamma, R = max |(x, 1)|).
* Widrow & Hoff (1960), Adaline / LMS: a gradient step on the squared error of the
  *linear* output, w <- w + eta mean((y - w.x - b) x) over the batch (batch size 1 is
  the online LMS rule; the whole set per batch is gradient descent on the mean squared
  error, whose fixed point is the least-squares solution).
* Hebb (1949), supervised: every example strengthens the weights by y x, mistake or not.

`LearningRule` wraps a linear unit network (`[preprocess ->] unit (Dense(1)) -> two
logits [-s, s]`, so argmax is the sign of s and the classifier evaluation applies) and
replaces gradient training by the rule in `train_step`. It logs `mistakes` (examples
the unit got wrong, y s <= 0, when it saw them, summed over the epoch: for the
perceptron, the updates made in that epoch; on validation data, those the epoch's
final weights get wrong) and `updates` (all weight updates since training began).
No optimizer is used; `fit`, callbacks and validation work unchanged.
"""

from __future__ import annotations

from typing import Literal

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from models.introspect import find_layer
from models.registry import register_model

Rule = Literal["perceptron", "adaline", "hebb"]
RULES: tuple[str, ...] = ("perceptron", "adaline", "hebb")

# McCulloch-Pitts units: (weights, threshold) with y = 1 iff w.x >= threshold.
LOGIC_GATES: dict[str, tuple[tuple[float, ...], float]] = {
    "AND": ((1.0, 1.0), 2.0),
    "OR": ((1.0, 1.0), 1.0),
    "NOT": ((-1.0,), 0.0),
}


def threshold_unit(weights: tuple[float, ...], threshold: float) -> keras.Model:
    """A McCulloch-Pitts unit: binary inputs -> 1 if w.x >= threshold else 0."""
    inputs = keras.Input((len(weights),), name="inputs")
    unit = layers.Dense(1, name="unit", trainable=False)
    s = unit(inputs)
    unit.set_weights([np.array(weights, np.float32)[:, None], np.array([-threshold], np.float32)])
    outputs = layers.Lambda(lambda v: keras.ops.cast(v >= 0, "float32"), name="step")(s)
    return keras.Model(inputs, outputs, name="mcculloch_pitts")


def truth_table(unit: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """(every binary input, the unit's output for each) in lexicographic order."""
    n = unit.inputs[0].shape[-1]
    x = np.array([[(i >> (n - 1 - j)) & 1 for j in range(n)] for i in range(2**n)], np.float32)
    return x, np.asarray(unit(x)).ravel().astype(int)


def linear_unit(input_shape: tuple[int, ...], name: str) -> keras.Model:
    """x -> s = w.x + b (w, b = 0) -> logits [-s, s]: class 1 iff s > 0."""
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.Flatten(name="flatten")(inputs)
    s = layers.Dense(1, kernel_initializer="zeros", bias_initializer="zeros", name="unit")(x)
    logits = layers.Concatenate(name="logits")([-s, s])
    return keras.Model(inputs, logits, name=name)


class LearningRule(keras.Model):
    """A linear unit trained by a classical rule instead of backpropagation.

    Args:
        net: `[preprocess ->] unit -> logits`, as `linear_unit` builds it (a layer
            named "preprocess", if any, maps raw inputs to the unit's inputs).
        rule: "perceptron", "adaline" or "hebb".
        learning_rate: eta of the rule (the perceptron's count of updates does not
            depend on it when the weights start at 0).
    """

    def __init__(self, net: keras.Model, *, rule: Rule, learning_rate: float = 1.0, **kwargs):
        super().__init__(name=kwargs.pop("name", net.name), **kwargs)
        if rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}; received rule={rule!r}")
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0; received learning_rate={learning_rate}")
        self.net, self.rule, self.learning_rate = net, rule, float(learning_rate)
        self.unit = find_layer(net, "unit")
        self.preprocess = find_layer(net, "preprocess") or layers.Identity(name="preprocess")
        self.mistakes = keras.metrics.Sum(name="mistakes")
        self.updates = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                       name="updates")
        self.built = net.built

    def with_network(self, net: keras.Model) -> LearningRule:
        """The same rule on another network (the pipeline puts normalization in front)."""
        return LearningRule(net, rule=self.rule, learning_rate=self.learning_rate,
                            name=self.name)

    @property
    def inference_model(self) -> keras.Model:
        return self.net

    def call(self, inputs, training=False):
        return self.net(inputs, training=training)

    def features(self, x) -> tf.Tensor:
        """The unit's inputs for raw `x` (normalized, flattened)."""
        v = self.preprocess(tf.cast(x, tf.float32))
        return tf.reshape(v, [tf.shape(v)[0], -1])

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        signs = 2.0 * tf.cast(tf.reshape(y, [-1]), tf.float32) - 1.0  # class 0/1 -> -1/+1
        feats = self.features(x)
        step = {"perceptron": self._perceptron, "adaline": self._adaline, "hebb": self._hebb}
        mistakes, updates = step[self.rule](feats, signs)
        self.mistakes.update_state(mistakes)
        self.updates.assign_add(updates)
        return {**self._report(x, y), "updates": self.updates.value}

    def _report(self, x, y) -> dict:
        """The compiled loss and accuracy of the current weights on the batch."""
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":  # Keras' own train_step updates it; ours does too
                metric.update_state(loss)
        return self.compute_metrics(x, y, y_pred)

    def test_step(self, data):
        """Loss, accuracy, and `mistakes`: examples with y s <= 0 at the current weights."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        signs = 2.0 * tf.cast(tf.reshape(y, [-1]), tf.float32) - 1.0
        s = tf.matmul(self.features(x), self.unit.kernel)[:, 0] + self.unit.bias[0]
        self.mistakes.update_state(tf.reduce_sum(tf.cast(signs * s <= 0.0, tf.float32)))
        return self._report(x, y)

    def _perceptron(self, feats, signs):
        """One online pass in example order; an update only on a mistake."""
        kernel, bias, eta = self.unit.kernel, self.unit.bias, self.learning_rate

        def visit(i, mistakes):
            xi, yi = feats[i], signs[i]
            s = tf.reduce_sum(xi * kernel[:, 0]) + bias[0]
            wrong = yi * s <= 0.0  # wrong side, or on the boundary (always at w = 0)
            step = tf.where(wrong, eta * yi, 0.0)
            with tf.control_dependencies([kernel.assign_add(step * xi[:, None]),
                                          bias.assign_add(step[None])]):
                return i + 1, mistakes + tf.cast(wrong, tf.float32)

        # Keras compiles train_step without AutoGraph: the loop is written as one.
        _, mistakes = tf.while_loop(
            lambda i, _: i < tf.shape(feats)[0], visit, (tf.constant(0), tf.constant(0.0))
        )
        return mistakes, mistakes

    def _adaline(self, feats, signs):
        """Gradient descent on (1/2) mean (y - s)^2 of the linear output s."""
        kernel, bias, eta = self.unit.kernel, self.unit.bias, self.learning_rate
        s = tf.matmul(feats, kernel)[:, 0] + bias[0]
        error = signs - s
        mistakes = tf.reduce_sum(tf.cast(signs * s <= 0.0, tf.float32))
        kernel.assign_add(eta * tf.reduce_mean(error[:, None] * feats, 0)[:, None])
        bias.assign_add(eta * tf.reduce_mean(error)[None])
        return mistakes, tf.constant(1.0)

    def _hebb(self, feats, signs):
        """Every example adds eta y x: the same sum however the examples are ordered."""
        kernel, bias, eta = self.unit.kernel, self.unit.bias, self.learning_rate
        s = tf.matmul(feats, kernel)[:, 0] + bias[0]
        mistakes = tf.reduce_sum(tf.cast(signs * s <= 0.0, tf.float32))
        kernel.assign_add(eta * tf.reduce_sum(signs[:, None] * feats, 0)[:, None])
        bias.assign_add(eta * tf.reduce_sum(signs)[None])
        return mistakes, tf.cast(tf.shape(feats)[0], tf.float32)


def _rule_model(rule: Rule, input_shape, num_classes: int, learning_rate: float) -> LearningRule:
    if num_classes != 2:
        raise ValueError(f"a linear unit separates two classes; received num_classes={num_classes}")
    return LearningRule(linear_unit(input_shape, name=f"{rule}_rule"), rule=rule,
                        learning_rate=learning_rate)


@register_model("perceptron_rule", task="learning_rule")
def perceptron_rule(
    *, input_shape: tuple[int, ...], num_classes: int = 2, learning_rate: float = 1.0
) -> LearningRule:
    """Rosenblatt's perceptron rule (1958): w <- w + y x on each mistake, online."""
    return _rule_model("perceptron", input_shape, num_classes, learning_rate)


@register_model("adaline", task="learning_rule")
def adaline(
    *, input_shape: tuple[int, ...], num_classes: int = 2, learning_rate: float = 0.1
) -> LearningRule:
    """Widrow-Hoff Adaline / LMS (1960): gradient of the squared error of the linear output.

    Args:
        learning_rate: below 2 / (largest eigenvalue of E[(x, 1)(x, 1)^T]) to converge.
    """
    return _rule_model("adaline", input_shape, num_classes, learning_rate)


@register_model("hebb", task="learning_rule")
def hebb(
    *, input_shape: tuple[int, ...], num_classes: int = 2, learning_rate: float = 0.01
) -> LearningRule:
    """Hebb's rule (1949), supervised: w <- w + eta y x on every example."""
    return _rule_model("hebb", input_shape, num_classes, learning_rate)
