"""One training step on a 2-replica MirroredStrategy (two logical CPUs) against the same
step on one device, in a fresh process (logical devices must be set before TensorFlow
starts): the harness of the custom train_step tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    sys.path.insert(0, os.getcwd())
    {setup}

    def one_step(strategy):
        with strategy.scope():
            model = make_model()
        x, y = batch()
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x)), epochs=1, verbose=0)
        return np.concatenate([np.ravel(w) for w in model.get_weights()])

    single = one_step(tf.distribute.OneDeviceStrategy("/cpu:0"))
    mirrored = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print("max difference", np.abs(single - mirrored).max())
    assert np.allclose(single, mirrored, atol=1e-5)
""")


def assert_two_replica_step_equals_single(setup: str) -> None:
    """`setup`: code defining `make_model()` (compiled) and `batch()` -> (x, y)."""
    script = SCRIPT.format(setup=textwrap.dedent(setup))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
