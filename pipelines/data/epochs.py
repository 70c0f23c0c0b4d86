"""Which epoch the training split is in: its shuffle order and its augmentation draws
follow from (seed, epoch), not from how often the pipeline ran in this process.

So a run resumed at epoch 5 (BackupAndRestore) sees exactly the batches the
uninterrupted run saw in epoch 5. `tf.data`'s `shuffle(reshuffle_each_iteration=True)`
and Keras' random layers both draw from state that restarts with the process; here the
shuffle seed is read from a variable when each epoch's iterator starts, and the
augmentation layers' seed generators are set at each epoch's beginning.

Without `start()` (a plain `fit` outside dlzoo's trainer), the epoch counter advances
by itself each time the split is iterated, as tf.data's own reshuffling would.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

# Seed-generator states step by one per draw; epochs get disjoint stretches of them.
DRAWS_PER_EPOCH = 1 << 32


class EpochOrder:
    """The training split's epoch counter and the seed generators of its augmentations."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")
        self.generators: list[tuple[int, keras.random.SeedGenerator]] = []

    def shuffled(self, ds: tf.data.Dataset, buffer: int) -> tf.data.Dataset:
        """`ds` reshuffled every epoch from (seed, epoch); `ds` itself (a cache) is reused."""
        base_seed = np.int64(self.seed) * 1_000_003

        def one_epoch(_):
            epoch = self.epoch.assign_add(1) - 1  # then the next epoch, unless start() says
            # The order must depend on (seed, epoch) only. TF would mix in the global
            # seed, and its tuple test `seeds == (0, 0)` then needs a Python bool of
            # the tensor seed (fails under seed 0): this function's graph has none.
            tf.compat.v1.get_default_graph().seed = None
            return ds.shuffle(buffer, seed=base_seed + epoch, reshuffle_each_iteration=False)

        out = tf.data.Dataset.range(1).flat_map(one_epoch)
        size = int(ds.cardinality())
        if size >= 0:  # flat_map hides it; Keras' progress bar and step counts need it
            out = out.apply(tf.data.experimental.assert_cardinality(size))
        return out

    def track(self, layer_seed: int, layer: keras.layers.Layer) -> keras.layers.Layer:
        """Follow `layer`'s seed generator (Keras random layers keep it in `.generator`)."""
        generator = getattr(layer, "generator", None)
        if isinstance(generator, keras.random.SeedGenerator):
            self.generators.append((int(layer_seed), generator))
        return layer

    def start(self, epoch: int) -> None:
        """Set the order and augmentation draws of `epoch` (before its iterator starts)."""
        self.epoch.assign(int(epoch))
        for layer_seed, generator in self.generators:
            generator.state.assign(
                np.array([layer_seed, int(epoch) * DRAWS_PER_EPOCH], np.int64)
            )


class EpochSeeds(keras.callbacks.Callback):
    """Calls `EpochOrder.start(epoch)` at every epoch's beginning (resumes included)."""

    def __init__(self, order: EpochOrder) -> None:
        super().__init__()
        self.order = order

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.order.start(epoch)
