"""What decides a run's numbers besides its config: library versions, oneDNN, op
determinism, the CPU's instruction sets and the GPU. Written into every run's
`config.yaml` metadata and every benchmark's JSON, so two results can be compared.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The flags that change which kernels oneDNN and Eigen pick (and so the rounding).
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
              "avx512_fp16", "amx_bf16", "amx_int8", "asimd", "sve")


def cpu() -> dict:
    """CPU model, core count and its SIMD flags (Linux /proc/cpuinfo; elsewhere what
    `platform` knows)."""
    model, flags = platform.processor() or platform.machine(), set()
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and value.strip():
                model = value.strip()
            elif key in ("flags", "Features"):
                flags |= set(value.split())
    return {
        "model": model,
        "cores": os.cpu_count(),
        "simd": [f for f in SIMD_FLAGS if f in flags],
    }


def numerics() -> dict:
    """Everything above, plus TensorFlow's settings (imports TensorFlow)."""
    # heavy: TensorFlow and Keras, only when the facts are asked for
    import keras
    import numpy
    import tensorflow as tf  # heavy: only the commands that train or measure call this
    from tensorflow.python.framework import config as tf_config  # no public getter

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "onednn_opts": "on (default)" if onednn is None else onednn,
        "op_determinism": bool(tf_config.is_op_determinism_enabled()),
        "cpu": cpu(),
        "gpus": [
            tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")
        ],
    }
