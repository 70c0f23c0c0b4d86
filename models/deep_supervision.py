"""Deep supervision (Szegedy et al. 2015, GoogLeNet's auxiliary classifiers): train
with `loss + 0.3 * (aux1_loss + aux2_loss)`; at inference only the main head is used.

`DeepSupervised` wraps a network with outputs `[logits, aux1, aux2]`: its `call`
returns the main logits only, so evaluation, export and explanations see an ordinary
classifier, and its `train_step`/`test_step` add the auxiliary losses (logged as
`aux_loss`). The `classify_aux` task (pipelines/tasks/deep_supervision.py) uses it.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


class DeepSupervised(keras.Model):
    """A multi-output classifier trained on its main and (down-weighted) auxiliary heads.

    Args:
        net: functional model with outputs `[main_logits, *aux_logits]`.
        aux_weight: weight of each auxiliary loss (0.3 in the paper).
    """

    def __init__(self, net: keras.Model, aux_weight: float = 0.3, **kwargs) -> None:
        super().__init__(name=kwargs.pop("name", net.name), **kwargs)
        self.net = net
        self.aux_weight = aux_weight
        self.aux_loss_tracker = keras.metrics.Mean(name="aux_loss")
        self._aux_loss_fn = None

    def call(self, inputs, training=False):
        return self.net(inputs, training=training)[0]

    def compile(self, *, loss, **kwargs) -> None:
        super().compile(loss=loss, **kwargs)
        self._aux_loss_fn = keras.losses.get(loss)

    def _head_losses(self, x, y, sample_weight, training: bool):
        main, *aux = self.net(x, training=training)
        # main loss + the model's regularization penalties, as Keras' own step computes it
        loss = self.compute_loss(x=x, y=y, y_pred=main, sample_weight=sample_weight)
        aux_loss = ops.sum(ops.stack([self._aux_loss_fn(y, a, sample_weight) for a in aux]))
        return main, loss, aux_loss

    def _report(self, x, y, main, loss, aux_loss, sample_weight) -> dict:
        for metric in self.metrics:
            if metric.name == "loss":  # the main head's loss: comparable with val_loss
                metric.update_state(loss)
        self.aux_loss_tracker.update_state(aux_loss)
        return self.compute_metrics(x, y, main, sample_weight=sample_weight)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            main, loss, aux_loss = self._head_losses(x, y, sample_weight, training=True)
            total = self.optimizer.scale_loss(loss + self.aux_weight * aux_loss)
        grads = tape.gradient(total, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._report(x, y, main, loss, aux_loss, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        main, loss, aux_loss = self._head_losses(x, y, sample_weight, training=False)
        return self._report(x, y, main, loss, aux_loss, sample_weight)
