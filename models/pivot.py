"""Learning to pivot (Louppe, Kagan, Cranmer 2017, "Learning to pivot with adversarial
networks", arXiv:1611.01046).

A binary classifier f(x) is trained against an adversary r that predicts a nuisance
parameter z from the classifier's output alone. r is a mixture density network: it
gives p_r(z | f(x)) as a mixture of `components` Gaussians (the paper's toy uses 5),
and its loss L_r is the negative log-likelihood of the true z. The classifier
minimizes L_f - lambda * L_r (L_f its cross-entropy): it keeps its accuracy while
making its output useless for predicting z, i.e. f(X) independent of Z (a pivot).
lambda = 0 is the ordinary, z-dependent classifier (r still trains and measures the
dependence, but does not push back). If f(X) carries nothing about Z, the best r can
do is the prior p(z), so L_r rises towards the entropy of Z (for Z ~ N(0, 1),
0.5 log(2 pi e) = 1.419 nats); the gap below it is a lower bound of I(f(X); Z).

Each batch runs the paper's Algorithm 1: `adversary_steps` updates of r on the
current f (f's output held fixed), then one update of f on L_f - lambda L_r. A batch
is `(x, y)` with y = [class id, z] per example (the `pivot` task's data). The model's
`call` is the classifier's (logits of the two classes), so evaluation, export and
explanations see an ordinary classifier (`inference_model`). Updates go through
`replica_apply`, so under tf.distribute each update is that of the global batch.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import keras
import tensorflow as tf
from keras import layers, ops

from models.adversarial import penalties, replica_apply
from models.registry import register_model


def mdn_nll(params, z, components: int) -> Any:
    """Per-example -log p(z) under the mixture whose (logits, means, log-stds) are
    `params` (n, 3 * components); written by hand: Keras has no MDN loss."""
    logits, means, log_std = ops.split(params, 3, axis=-1)
    log_std = ops.clip(log_std, -7.0, 7.0)  # a collapsing component must not give inf
    z = ops.reshape(ops.cast(z, params.dtype), (-1, 1))
    log_normal = -0.5 * ops.square((z - means) * ops.exp(-log_std)) - log_std
    log_normal = log_normal - 0.5 * math.log(2.0 * math.pi)
    log_weights = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    return -ops.logsumexp(log_weights + log_normal, axis=-1)


class Pivot(keras.Model):
    """A classifier and an MDN adversary on its output; optimizers `c_`, `a_optimizer`."""

    tracker_names = ("clf_loss", "adv_loss", "total_loss")
    optimizer_roles = ("c_optimizer", "a_optimizer")

    def __init__(
        self,
        *,
        classifier: keras.Model,
        adversary: keras.Model,
        lam: float = 0.0,
        adversary_steps: int = 1,
        a_lr_scale: float = 1.0,
        adversary_input: str = "probability",
        **kwargs,
    ):
        """
        Args:
            classifier: x -> logits of the two classes.
            adversary: f(x) of shape (n, 1) -> (n, 3 * components) mixture parameters.
            lam: the trade-off lambda of L_f - lambda * L_r (0: the dependent classifier).
            adversary_steps: updates of r per update of f (the paper's K).
            a_lr_scale: the task gives the adversary lr x this.
            adversary_input: what r reads: "probability" f(x) in [0, 1] (the paper),
                or "logit", its log-odds (a saturated f hides nothing there).
        """
        super().__init__(name=kwargs.pop("name", "pivot"), **kwargs)
        if lam < 0:
            raise ValueError(f"lam must be >= 0; received lam={lam}")
        if adversary_steps < 1:
            raise ValueError(f"adversary_steps must be >= 1; received {adversary_steps}")
        self.classifier, self.adversary = classifier, adversary
        self.lam, self.adversary_steps = float(lam), int(adversary_steps)
        self.a_lr_scale = float(a_lr_scale)
        if adversary_input not in ("probability", "logit"):
            raise ValueError("adversary_input must be 'probability' or 'logit'; received "
                             f"adversary_input={adversary_input!r}")
        self.adversary_input = adversary_input
        self.components = int(adversary.outputs[0].shape[-1]) // 3
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.tracker_names}
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.built = True  # both sub-models are functional, hence built already

    def with_classifier(self, classifier: keras.Model) -> Pivot:
        """The same game with another classifier (the pipeline puts normalization in front)."""
        return Pivot(classifier=classifier, adversary=self.adversary, lam=self.lam,
                     adversary_steps=self.adversary_steps, a_lr_scale=self.a_lr_scale,
                     adversary_input=self.adversary_input, name=self.name)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [*self.trackers.values(), self.accuracy]

    @property
    def inference_model(self) -> keras.Model:
        """What is exported and explained: the classifier alone."""
        return self.classifier

    def compile(self, *, c_optimizer, a_optimizer, **kwargs) -> None:
        super().compile(**kwargs)
        self.c_optimizer, self.a_optimizer = c_optimizer, a_optimizer
        # slots now, so saved weights restore them (BackupAndRestore); the default
        # optimizer of super().compile() stays unused, built on no variables
        self.optimizer.build([])
        c_optimizer.build(self.classifier.trainable_variables)
        a_optimizer.build(self.adversary.trainable_variables)

    def call(self, inputs, training: bool = False):
        return self.classifier(inputs, training=training)

    def score(self, logits) -> Any:
        """f(x) in [0, 1]: the probability of class 1, shape (n, 1)."""
        return ops.softmax(logits, axis=-1)[:, 1:2]

    def adversary_loss(self, logits, z, training: bool = False) -> Any:
        """Mean -log p_r(z | f(x)) over the batch (L_r)."""
        if self.adversary_input == "logit":
            seen = logits[:, 1:2] - logits[:, 0:1]
        else:
            seen = self.score(logits)
        params = self.adversary(seen, training=training)
        return ops.mean(mdn_nll(params, z, self.components))

    def train_step(self, data) -> dict[str, Any]:
        x, labels, z = self._unpack(data)
        for _ in range(self.adversary_steps):  # unrolled: a handful of steps
            self._adversary_step(x, z)
        logits, clf_loss, adv_loss = self._classifier_step(x, labels, z)
        self.accuracy.update_state(labels, logits)
        return self._report(clf_loss, adv_loss)

    def test_step(self, data) -> dict[str, Any]:
        x, labels, z = self._unpack(data)
        logits = self.classifier(x, training=False)
        self.accuracy.update_state(labels, logits)
        return self._report(self._ce(labels, logits), self.adversary_loss(logits, z))

    def _unpack(self, data) -> tuple[Any, Any, Any]:
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        y = ops.cast(y, "float32")
        return x, ops.cast(y[:, 0], "int32"), y[:, 1]

    def _ce(self, labels, logits) -> Any:
        return ops.mean(keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True))

    def _adversary_step(self, x, z) -> Any:
        logits = ops.stop_gradient(self.classifier(x, training=True))
        with tf.GradientTape() as tape:
            loss = self.adversary_loss(logits, z, training=True)
            total = loss + penalties(self.adversary)
        replica_apply(self.a_optimizer, tape, total, self.adversary.trainable_variables)
        return loss

    def _classifier_step(self, x, labels, z) -> tuple[Any, Any, Any]:
        variables = self.classifier.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.classifier(x, training=True)
            clf_loss = self._ce(labels, logits)
            adv_loss = self.adversary_loss(logits, z, training=True)
            total = clf_loss - self.lam * adv_loss + penalties(self.classifier)
        replica_apply(self.c_optimizer, tape, total, variables)
        return logits, clf_loss, adv_loss

    def _report(self, clf_loss, adv_loss) -> dict[str, Any]:
        losses = {"clf_loss": clf_loss, "adv_loss": adv_loss,
                  "total_loss": clf_loss - self.lam * adv_loss}
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}


def _mlp(inputs, widths: list[int], activation: str, prefix: str):
    x = inputs
    for i, width in enumerate(widths, start=1):
        x = layers.Dense(width, activation=activation, name=f"{prefix}_dense{i}")(x)
    return x


@register_model("pivot_mlp", task="pivot")
def pivot_mlp(
    *,
    input_shape: tuple[int, ...],
    num_classes: int = 2,
    widths: list[int] = [20, 20],  # noqa: B006 (read-only default shown in the docs)
    adversary_widths: list[int] = [20, 20],  # noqa: B006
    components: int = 5,
    activation: str = "relu",
    lam: float = 0.0,
    adversary_steps: int = 1,
    a_lr_scale: float = 1.0,
    adversary_input: Literal["probability", "logit"] = "probability",
) -> Pivot:
    """A two-class MLP trained against an MDN adversary on its output (pivot).

    Args:
        widths: the classifier's hidden widths.
        adversary_widths: the MDN's hidden widths.
        components: Gaussians in the adversary's mixture for p(z | f(x)).
        lam: lambda of L_f - lambda * L_r (0: the z-dependent classifier).
        adversary_steps: adversary updates per classifier update.
        a_lr_scale: the adversary's learning rate is train.optimizer's x this.
        adversary_input: "probability" (f(x), the paper) or "logit" (its log-odds).
    """
    if num_classes != 2:
        raise ValueError(f"pivot_mlp is a two-class classifier; received num_classes="
                         f"{num_classes}")
    if components < 1:
        raise ValueError(f"components must be >= 1; received components={components}")
    inputs = keras.Input(input_shape, name="x")
    flat = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    logits = layers.Dense(2, name="logits")(_mlp(flat, widths, activation, "clf"))
    classifier = keras.Model(inputs, logits, name="pivot_mlp")
    score = keras.Input((1,), name="score")  # f(x), or its log-odds
    mixture = layers.Dense(3 * components, name="mixture")(
        _mlp(score, adversary_widths, activation, "adv"))
    adversary = keras.Model(score, mixture, name="pivot_adversary")
    return Pivot(classifier=classifier, adversary=adversary, lam=lam,
                 adversary_steps=adversary_steps, a_lr_scale=a_lr_scale,
                 adversary_input=adversary_input, name="pivot_mlp")
