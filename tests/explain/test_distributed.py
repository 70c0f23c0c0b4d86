"""Adversarial training under MirroredStrategy computes the global-batch loss: one step
on 2 replicas (2 logical CPUs) gives the same loss and weights as on one device."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from explain.adversarial import adversarial_trainer
    from models.adversarial_training import AdversarialTrainer

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 16, (32, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 4, 32)

    def step(strategy, weights=None):
        with strategy.scope():
            inputs = keras.Input((8, 8, 1))
            h = keras.layers.Conv2D(4, 3, activation="relu")(keras.layers.Rescaling(1 / 16)(inputs))
            model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(h)))
            if weights is not None:
                model.set_weights(weights)
            start = [w.copy() for w in model.get_weights()]
            trainer = adversarial_trainer(model, epsilon=1.0, input_range=(0, 16), ratio=0.3)
            trainer.compile(keras.optimizers.SGD(0.5),
                            keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        logs = trainer.train_on_batch(x, y, return_dict=True)
        return start, logs["loss"], model.get_weights()

    keras.utils.set_random_seed(0)
    start, loss_1, after_1 = step(tf.distribute.get_strategy())
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    _, loss_2, after_2 = step(mirrored, start)
    print("losses", loss_1, loss_2)
    assert abs(loss_1 - loss_2) < 1e-4 * max(1.0, abs(loss_1)), (loss_1, loss_2)
    moved = max(float(np.abs(a - s).max()) for a, s in zip(after_1, start))
    assert moved > 1e-3
    for a, b in zip(after_1, after_2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    print("OK")
    """
)


def test_adversarial_step_under_mirrored_strategy_matches_one_device():
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "OK" in done.stdout, done.stdout + done.stderr[-3000:]
