"""What does an explanation or an attack cost? Seconds per image for every attribution
method and attack, on a LeNet-sized and a ResNet-20-sized classifier.

Both models are dlzoo-shaped (raw inputs -> "preprocess" layer -> the registry's
network, nested); their weights are untrained, which does not change the cost. Each
measurement runs once to trace (reported as `first_call_s`: tracing + the work) and
then `--repeats` times on the same batch; the median per image is reported. Methods
and models are measured side by side in one process, so their ratios are comparable
(the LIME/IG ratio, ResNet/LeNet ratio).

Usage:
  python benchmarks/explain.py [--images 16] [--repeats 3] [--lime-samples 1000]
Writes benchmarks/results/explain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, benchmarks/ comes first on sys.path, where this file would shadow
# the `explain` package: the repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from explain.adapter import as_scorer  # noqa: E402
from explain.attacks import fgsm, pgd  # noqa: E402
from explain.config import ExplainConfig  # noqa: E402
from explain.methods import attribute  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "explain.json"
METHODS = ("gradients", "gradxinput", "smoothgrad", "ig", "gradcam", "occlusion", "lime")


def dlzoo_shaped(name: str, input_shape: tuple[int, ...], params: dict) -> keras.Model:
    """The registry's network behind a raw-input Rescaling layer, as the pipeline nests it."""
    from models.catalog import build_model

    core = build_model(name, inputs={"input_shape": input_shape, "num_classes": 10}, params=params)
    inputs = keras.Input(input_shape, name="inputs")
    x = keras.layers.Rescaling(1 / 255, name="preprocess")(inputs)
    return keras.Model(inputs, core(x), name=f"{name}_model")


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return first, runs


def jobs(scorer, x, y, cfg: ExplainConfig) -> dict:
    eps = 8.0  # raw pixel units
    out = {m: (lambda m=m: attribute(m, scorer, x, cfg=cfg)) for m in METHODS}
    out["attack:fgsm"] = lambda: fgsm(scorer, x, y, epsilon=eps, input_range=(0, 255))
    out["attack:pgd10"] = lambda: pgd(scorer, x, y, epsilon=eps, input_range=(0, 255), steps=10)
    out["attack:pgd10_l2"] = lambda: pgd(
        scorer, x, y, epsilon=4 * eps, norm="2", input_range=(0, 255), steps=10
    )
    return out


def measure(label: str, model: keras.Model, shape, args) -> dict:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, *shape)).astype(np.float32)
    scorer = as_scorer(model, input_range=(0.0, 255.0))
    y = scorer.predict(x).argmax(-1)
    cfg = ExplainConfig(lime={"num_samples": args.lime_samples})
    rows = {}
    for name, fn in jobs(scorer, x, y, cfg).items():
        first, runs = timed(fn, args.repeats)
        rows[name] = {
            "per_image_s": statistics.median(runs) / args.images,
            "first_call_s": first,
        }
        print(f"{label:9s} {name:16s} {rows[name]['per_image_s'] * 1e3:9.2f} ms/image", flush=True)
    return {"params": model.count_params(), "input_shape": list(shape), "methods": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lime-samples", type=int, default=1000)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    models = {
        "lenet5": (dlzoo_shaped("lenet5", (32, 32, 1), {"activation": "relu"}), (32, 32, 1)),
        "resnet20": (dlzoo_shaped("resnet20", (32, 32, 3), {}), (32, 32, 3)),
    }
    results = {label: measure(label, m, shape, args) for label, (m, shape) in models.items()}
    ratios = {
        name: results["resnet20"]["methods"][name]["per_image_s"]
        / results["lenet5"]["methods"][name]["per_image_s"]
        for name in results["lenet5"]["methods"]
    }
    report = {
        "benchmark": "explain",
        "settings": {
            **vars(args),
            "ig_steps": 64,
            "smoothgrad_samples": 25,
            "occlusion": "patch 4, stride 2",
            "epsilon": 8.0,
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "models": results,
        "resnet20_over_lenet5": ratios,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
