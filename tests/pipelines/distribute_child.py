"""Scenarios run in a fresh process by tests/pipelines/test_distribute_*.py.

Logical CPU devices and collective ops can only be set up before TensorFlow starts,
so each scenario gets its own interpreter:

    python -m tests.pipelines.distribute_child SCENARIO TMP_DIR

and prints one JSON line `RESULT {...}` for the test to check.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from tests.conftest import small_recipe  # noqa: E402

MIRRORED = {"name": "mirrored", "logical_cpus": 2}


def _config(tmp: Path, **sections):
    from pipelines.config.experiment import validate_config

    return validate_config(small_recipe(tmp, **sections), source="distribute test")


def lenet_sections(strategy, *, epochs: int) -> dict:
    """LeNet-5 on digits at 32x32, the main recipe without augmentation."""
    return {
        "data": {"source": "digits", "image_size": [32, 32], "batch_size": 32},
        "model": {"name": "lenet5", "params": {"activation": "relu", "pooling": "max"}},
        "train": {
            "epochs": epochs,
            "optimizer": {"name": "adam", "learning_rate": 0.002},
            "strategy": strategy,
            "tensorboard": False,
            "backup": False,
            "verbose": 0,
        },
    }


def _max_diff(a: list, b: list) -> float:
    import numpy as np

    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def one_step(tmp: Path) -> dict:
    """Weights after one step: mirrored (Keras fit), mirrored (dlzoo's loop) and the
    default strategy, from the same start on the same global batch."""
    import tensorflow as tf

    from pipelines import run as pipeline
    from pipelines.train.distribute.loop import distributed_fit

    mirrored = pipeline.prepare(_config(tmp, **lenet_sections(MIRRORED, epochs=1)), tmp)
    custom = {**MIRRORED, "loop": "custom"}
    looped = pipeline.prepare(_config(tmp, **lenet_sections(custom, epochs=1)), tmp)
    single = pipeline.prepare(_config(tmp, **lenet_sections("default", epochs=1)), tmp)
    start = single.model.get_weights()
    x, y = next(iter(single.bundle.train))
    for run in (mirrored, looped):
        run.model.set_weights(start)
    batch = tf.data.Dataset.from_tensors((x, y))
    for run in (mirrored, single):
        run.model.fit(batch, epochs=1, verbose=0)
    distributed_fit(looped.model, batch, epochs=1, verbose=0)
    after = single.model.get_weights()
    return {
        "replicas": mirrored.model.distribute_strategy.num_replicas_in_sync,
        "moved": _max_diff(start, after),
        "fit_vs_single": _max_diff(mirrored.model.get_weights(), after),
        "loop_vs_single": _max_diff(looped.model.get_weights(), after),
    }


def lenet_accuracy(tmp: Path, epochs: int = 6) -> dict:
    """Test accuracy of LeNet-5 trained under mirrored(2 CPUs) and default."""
    from pipelines import run as pipeline

    out = {}
    for key, strategy in (("mirrored", MIRRORED), ("default", "default")):
        cfg = _config(tmp / key, **lenet_sections(strategy, epochs=epochs))
        out[key] = pipeline.run_all(cfg).metrics["accuracy"]
    return out


def lenet(tmp: Path) -> dict:
    """Both LeNet-5 checks in one process (a process start costs seconds of CPU)."""
    return {"one_step": one_step(tmp / "step"), "accuracy": lenet_accuracy(tmp / "fit")}


def custom_steps(tmp: Path) -> dict:
    """A GAN, the AAE and adversarial training (their own train_steps) for a few steps
    under mirrored(2 CPUs), the first two also under the default strategy: the last
    logged losses."""
    from pipelines import run as pipeline

    train = {"epochs": 1, "steps_per_epoch": 3, "checkpoint": False, "tensorboard": False,
             "verbose": 0}
    cases = {
        "gan": {"data": {"source": "digits", "normalize": "tanh", "batch_size": 32},
                "generative": {"judge": None, "parzen": None},
                "model": {"name": "gan", "params": {"latent_dim": 8, "g_widths": [32],
                                                    "d_widths": [32]}}},
        "aae": {"data": {"source": "digits", "normalize": "rescale", "batch_size": 32},
                "generative": {"judge": None, "parzen": None},
                "model": {"name": "aae", "params": {"latent_dim": 4, "widths": [32],
                                                    "d_widths": [32]}}},
        "adversarial": {"train": {**train, "adversarial": {"attack": "fgsm", "epsilon": 1.0}}},
    }
    out = {}
    for name, sections in cases.items():
        # adversarial training's reference is ln(10): untrained 10-class cross-entropy
        pairs = (("mirrored", MIRRORED),) + ((("default", "default"),) if name != "adversarial"
                                             else ())
        for key, strategy in pairs:
            sections = {**sections, "train": {**sections.get("train", train),
                                              "strategy": strategy}}
            run = pipeline.train(_config(tmp / name / key, **sections))
            out.setdefault(name, {})[key] = {
                "replicas": run.model.distribute_strategy.num_replicas_in_sync,
                "losses": {k: v[-1] for k, v in run.history.items() if k.endswith("loss")},
            }
    return out


def bad_inputs(tmp: Path) -> dict:
    """`dlzoo train` with distribution mistakes: exit status, message, what was written."""
    import contextlib
    import io

    import yaml

    from pipelines.cli.main import main

    recipe = tmp / "recipe.yaml"
    recipe.parent.mkdir(parents=True, exist_ok=True)
    recipe.write_text(yaml.safe_dump(small_recipe(tmp)))
    cases = {  # in this order: logical CPUs are set by the first one
        "uneven_batch": ["--strategy", "mirrored", "--set", "train.strategy.logical_cpus=2",
                         "--set", "data.batch_size=33"],
        "more_cpus_later": ["--strategy", "mirrored", "--set", "train.strategy.logical_cpus=3"],
        "missing_gpus": ["--strategy", "mirrored", "--set", "train.strategy.devices=[gpu:0]"],
        "tpu_unreachable": ["--strategy", "tpu", "--set", "train.strategy.tpu=local"],
    }
    out = {}
    for name, args in cases.items():
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            try:
                main(["train", str(recipe), *args])
                code = 0
            except SystemExit as stop:
                code = stop.code
        trained = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("history.csv"))
        runs = sorted(str(p.relative_to(tmp)) for p in (tmp / "runs").glob("*/*"))
        out[name] = {"code": code, "message": err.getvalue()[-600:], "trained": trained,
                     "run_folders": runs}
    return out


SCENARIOS = {"lenet": lenet, "custom_steps": custom_steps, "bad_inputs": bad_inputs}


if __name__ == "__main__":
    name, tmp = sys.argv[1], Path(sys.argv[2])
    print("RESULT " + json.dumps(SCENARIOS[name](tmp)), flush=True)
