"""`python -m pipelines.export.check SAVED_MODEL PROBE.npz TOLERANCE`

Run by the exporter in a fresh process: loads the SavedModel with plain
TensorFlow (as a server would), feeds the probe inputs to `serve` and compares
with the outputs the in-memory model gave. Exit status 1 on any mismatch.
"""

import sys

import numpy as np
import tensorflow as tf


def main(path: str, probe: str, tolerance: str) -> int:
    data = np.load(probe, allow_pickle=True)  # our own probe; text outputs are objects
    loaded = tf.saved_model.load(path)
    feeds = {  # "__inputs__" is the single `inputs`; "__inputs__:<name>" named inputs
        key.partition(":")[2] or "inputs": tf.constant(data[key])
        for key in data.files
        if key.startswith("__inputs__")
    }
    outputs = loaded.signatures["serving_default"](**feeds)
    worst = 0.0
    for key in data.files:
        if key.startswith("__inputs__"):
            continue
        got, want = np.asarray(outputs[key]), data[key]
        if got.shape != want.shape:
            print(f"{key}: shape {got.shape} != {want.shape}")
            return 1
        if want.dtype == object:  # strings (decoded text) must match exactly
            if got.tolist() != want.tolist():
                print(f"{key}: reloaded text differs, e.g. {got.ravel()[:1]} != {want.ravel()[:1]}")
                return 1
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        worst = max(worst, diff)
        if diff > float(tolerance):
            print(f"{key}: max |reloaded - in-memory| = {diff:.3g} > {tolerance}")
            return 1
    print(f"export check passed: max abs difference {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
