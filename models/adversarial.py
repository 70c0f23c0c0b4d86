"""Models that train with their own `train_step`: the keras.io GAN shape, made importable.

`GenerativeModel` is the shared base: functional sub-models passed to the constructor,
`keras.metrics.Mean` trackers created in `__init__` and returned by `metrics` (so
`fit()` resets them each epoch), `call()` defined, and the data's pixel scaling held
inside (the generative task attaches it), so the model takes and returns images in
the data's raw range while its networks see [-1, 1] (GANs) or [0, 1] (autoencoders).
`AdversarialModel` adds one optimizer per player (Goodfellow et al. 2014, "Generative
Adversarial Nets": the discriminator and the generator play a two-player game).

tf.distribute: every step runs once per replica on its share of the global batch, and
Keras' TensorFlow optimizer sums gradients across replicas. So `_apply` divides each
replica's mean loss by the number of replicas (Keras' own rule in `Loss.__call__` and
`compute_loss`): the summed update is the gradient of the mean over the GLOBAL batch.
Trackers receive the unscaled local means; their Mean state is summed across replicas.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers, ops


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A SeedGenerator whose draws differ between tf.distribute replicas.

    Keras' generator keeps one mirrored state variable, so every replica would draw
    the SAME noise (the fakes of a global batch would repeat once per replica); here
    the replica id is folded into each seed.
    """

    def next(self, ordered: bool = True):
        seed = super().next(ordered)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return seed
        replica = ops.cast(context.replica_id_in_sync_group, seed.dtype)
        return seed + ops.stack([replica * 104_729, ops.zeros_like(replica)])


class GenerativeModel(keras.Model):
    """Base of the autoencoders, GANs and AAEs: trackers, scaling, the replica rule.

    Subclasses set `tracker_names` (each becomes a `Mean` tracker and a log key;
    names end in "loss" so `NanGuard` watches them), `model_range` ("tanh" or
    "unit"), `export_names` (sub-models exported as separate SavedModels) and
    `has_prior`; and implement `generate_from` (prior draws -> model-range images).
    """

    tracker_names: tuple[str, ...] = ()
    model_range: str = "tanh"
    export_names: tuple[str, ...] = ("generator",)
    has_prior: bool = True  # decoding prior draws generates images (not a plain AE)

    def __init__(self, *, latent_dim: int, num_classes: int = 0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.num_classes = num_classes  # > 0: generation is conditioned on a label
        self.seed_generator = ReplicaSeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.tracker_names}
        self.preprocess: layers.Layer = layers.Identity(name="preprocess")
        self.postprocess: layers.Layer = layers.Identity(name="postprocess")
        self.built = True  # every sub-model is functional, hence built already

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def attach_scaling(self, preprocess: layers.Layer, postprocess: layers.Layer) -> None:
        """Hold raw -> model range (`preprocess`) and back (`postprocess`) inside."""
        self.preprocess, self.postprocess = preprocess, postprocess

    def sample_noise(self, n, labels=None, seed=None) -> Any:
        """`n` draws from the generator's prior N(0, I) (subclasses change the prior;
        `labels` pick the mixture component of a label-aware prior). `seed` (an int)
        gives fixed draws without touching the training seed generator."""
        seed = self.seed_generator if seed is None else seed
        return keras.random.normal((n, self.latent_dim), seed=seed)

    def sample_labels(self, n, seed=None) -> Any:
        seed = self.seed_generator if seed is None else seed
        return keras.random.randint((n,), 0, self.num_classes, seed=seed)

    def generate_from(self, noise, labels=None, training: bool = False) -> Any:
        """Model-range images from prior draws `noise` (and `labels` if conditional)."""
        if self.conditional:
            return self.generator(
                {"noise": noise, "labels": ops.cast(labels, "int32")}, training=training
            )
        return self.generator(noise, training=training)

    def _unpack(self, data) -> tuple[Any, Any, Any]:
        """(model-range inputs, model-range clean targets, labels) from a batch.

        A batch is `(x, y)` or, for denoising, `((x_noisy, x_clean), y)`; x is raw.
        """
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        noisy, clean = x if isinstance(x, (tuple, list)) else (x, x)
        return self.preprocess(noisy), self.preprocess(clean), y

    def _report(self, **losses) -> dict[str, Any]:
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def _apply(self, optimizer, tape: tf.GradientTape, loss, variables: list) -> None:
        replica_apply(optimizer, tape, loss, variables)


def replica_apply(optimizer, tape: tf.GradientTape, loss, variables: list) -> None:
    """One update of `variables` from `loss` (a replica's mean; see module doc)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    grads = tape.gradient(loss, variables)
    if replicas > 1:
        grads = [None if g is None else g / replicas for g in grads]
    optimizer.apply(grads, variables)


def penalties(model: keras.Model) -> Any:
    """Sum of a sub-model's weight and activity penalties (0 when it has none)."""
    return ops.sum(ops.stack(model.losses)) if model.losses else 0.0


def bce(target: float, logits) -> Any:
    """Per-example binary cross-entropy of logits against a constant target."""
    return keras.losses.binary_crossentropy(ops.full_like(logits, target), logits, from_logits=True)


class AdversarialModel(GenerativeModel):
    """A two-player model: `compile(*, d_optimizer, g_optimizer)`, one update each.

    Subclasses implement `train_step` with one private method per phase; each
    phase returns its (local mean) loss for the trackers.
    """

    tracker_names = ("d_loss", "g_loss")
    optimizer_roles: tuple[str, ...] = ("d_optimizer", "g_optimizer")

    def __init__(self, *, d_lr_scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.d_lr_scale = d_lr_scale  # the task gives the discriminator lr x this

    def compile(self, *, d_optimizer, g_optimizer, **kwargs) -> None:
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self._build_optimizers()

    def _build_optimizers(self) -> None:
        """Create optimizer slots now, so saved weights restore them (BackupAndRestore).

        `super().compile()` leaves Keras' default optimizer unused; building it on
        no variables keeps saved and reloaded weight files alike.
        """
        self.optimizer.build([])
        for role, variables in self.player_variables().items():
            getattr(self, role).build(variables)

    def player_variables(self) -> dict[str, list]:
        """Optimizer role -> the variables it updates."""
        return {
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.generator.trainable_variables,
        }

    def call(self, inputs, training: bool = False):
        """Noise (and labels, for conditional models) -> images in the raw range."""
        return self.postprocess(self.generator(inputs, training=training))
