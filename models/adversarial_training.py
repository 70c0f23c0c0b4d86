"""Adversarial training as a training option (`train.adversarial`).

Goodfellow, Shlens, Szegedy 2015 (arXiv:1412.6572) train on
J~ = a J(x, y) + (1 - a) J(x + eps sign(grad_x J), y) with a = 0.5 and report the
MNIST error under FGSM falling from 89.4% to 17.9%; Madry et al. 2018
(arXiv:1706.06083) use PGD examples instead. `AdversarialTrainer` wraps the assembled
classifier: each `train_step` makes adversarial examples of the batch with the
current weights (FGSM or PGD, in the raw input range, clipped to valid inputs),
concatenates them to the clean batch and weighs the two halves (1 - ratio, ratio).
The loss goes through `compute_loss` with sample weights, so under a tf.distribute
strategy each replica's loss is scaled to the global batch as in Keras' own
`train_step`. `test_step` also reports accuracy on attacked validation data.

`fit`, callbacks, checkpoints work unchanged; `call` is the classifier's, and the
exporter publishes the inner `classifier` (see `inference_model`). The attack itself is
injected (`make_examples`, e.g. `explain.adversarial.example_maker`), so the model
layer knows nothing of the explain package that writes attacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

# (logits_fn, x, class ids, seed generator) -> adversarial x, in the raw input range
ExampleMaker = Callable[..., tf.Tensor]


class AdversarialTrainer(keras.Model):
    """A classifier trained on a mix of clean and adversarial examples."""

    def __init__(
        self,
        classifier: keras.Model,
        *,
        make_examples: ExampleMaker,
        ratio: float = 0.5,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        """
        Args:
            classifier: raw inputs -> logits.
            make_examples: `(logits_fn, x, y, seed_generator) -> x_adv` (FGSM, PGD...).
            ratio: weight of the adversarial half of each batch (0.5 in the paper).
            seed: the seed generator handed to `make_examples` (PGD's random start).
        """
        super().__init__(name=kwargs.pop("name", f"{classifier.name}_adversarial"), **kwargs)
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio must be in [0, 1]; received ratio={ratio}")
        self.classifier = classifier
        self.make_examples = make_examples
        self.ratio = float(ratio)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.adv_accuracy = keras.metrics.SparseCategoricalAccuracy(name="adv_accuracy")
        self.built = classifier.built  # nothing of its own to build

    @property
    def inference_model(self) -> keras.Model:
        """What is exported and explained: the classifier alone."""
        return self.classifier

    def call(self, inputs, training=False):
        return self.classifier(inputs, training=training)

    def _logits(self, x):
        return self.classifier(x, training=False)

    def adversarial_examples(self, x, y):
        """Adversarial examples of `x` against the current weights (no gradient)."""
        x = tf.cast(x, tf.float32)
        y = tf.reshape(tf.cast(_labels(y), tf.int32), [-1])
        return tf.stop_gradient(self.make_examples(self._logits, x, y, self.seed_generator))

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x_adv = self.adversarial_examples(x, y)
        n = tf.shape(x)[0]
        clean_w, adv_w = 2.0 * (1.0 - self.ratio), 2.0 * self.ratio  # mean over 2n
        weights = tf.concat([tf.fill([n], clean_w), tf.fill([n], adv_w)], 0)
        if sample_weight is not None:
            weights *= tf.tile(tf.reshape(tf.cast(sample_weight, tf.float32), [-1]), [2])
        x_mix, y_mix = tf.concat([tf.cast(x, tf.float32), x_adv], 0), tf.concat([y, y], 0)
        with tf.GradientTape() as tape:
            y_pred = self(x_mix, training=True)
            loss = self.compute_loss(x=x_mix, y=y_mix, y_pred=y_pred, sample_weight=weights)
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._update_metrics(loss, y, y_pred[:n], y_pred[n:], sample_weight)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        adv_pred = self._logits(self.adversarial_examples(x, y))
        return self._update_metrics(loss, y, y_pred, adv_pred, sample_weight)

    def _update_metrics(self, loss, y, clean_pred, adv_pred, sample_weight):
        # compute_loss scaled the loss down by the replica count; the tracker wants the
        # global-batch value, as in Keras' own train_step.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss * replicas)
            elif metric is self.adv_accuracy:
                metric.update_state(_labels(y), adv_pred, sample_weight=sample_weight)
            else:
                metric.update_state(y, clean_pred, sample_weight=sample_weight)
        return self.get_metrics_result()


def _labels(y):
    """Class ids from sparse or one-hot (mixup) labels."""
    return tf.argmax(y, axis=-1) if y.shape.rank == 2 else y
