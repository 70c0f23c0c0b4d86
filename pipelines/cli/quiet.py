"""Keep TensorFlow's start-up chatter out of the commands' output (`dlzoo --verbose` shows it).

TensorFlow 2.21 writes its C++ start-up lines ("oneDNN custom operations are on",
"Could not find cuda drivers", the CPU-feature note) through absl before absl's log is
initialized, so TF_CPP_MIN_LOG_LEVEL does not hide them. No library switch does, so this
module points file descriptor 2 at /dev/null while `tensorflow` itself is imported (an
import hook, so every lazy import in the commands is covered) and restores it right
after; then it lowers TensorFlow's and absl's Python loggers to errors.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys
import warnings


@contextlib.contextmanager
def stderr_silenced():
    """fd 2 to /dev/null (C++ writes go there, not to sys.stderr), then restored."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` with the normal finders, and runs its import silenced."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _SilencedLoader(spec.loader)
        return spec


class _SilencedLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with stderr_silenced():
            self._loader.exec_module(module)
        _quiet_python_loggers()


def _quiet_python_loggers() -> None:
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up and INFO/WARNING logs for this process (before it
    is imported; a no-op for what was printed already)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the C++ logs after start-up
    # Keras' notes about ignored arguments and tf.data hints are for developers
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|tf_keras)(\.|$)")
    if "tensorflow" in sys.modules:
        _quiet_python_loggers()
    elif not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
