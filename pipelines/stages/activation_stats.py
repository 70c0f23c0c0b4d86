"""The `activations:` stage: each hidden layer's activation mean and std on a batch of
training examples, for a fresh initialization (same seed and scheme) and for the
trained network, plotted as in the lecture (Fei-Fei Li's 10-layer tanh MLP slides:
with N(0, 0.01^2) weights the activations shrink to ~0 layer after layer; with Xavier
initialization they keep their spread).

Metrics: `activation_stats` (per state, per layer), and for claims
`act_std_first_init`, `act_std_last_init`, `act_std_last_trained` and the same for
`act_mean_*`.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from common import report
from common.errors import UserError
from models.introspect import find_sub_model, tap
from pipelines.report import vision_plots
from pipelines.stages.registry import STAGES, Stage
from pipelines.tasks.assemble import build_model
from pipelines.train.determinism import seed_everything

if TYPE_CHECKING:
    from pipelines.run import Run


def hidden_layers(model: keras.Model, network: str, pattern: str) -> list[str]:
    """Names matching `pattern` in the builder's network (nested or not), in order."""

    try:
        core = find_sub_model(model, network)
    except ValueError:  # not nested: the builder's network is the model itself
        core = model
    names = [layer.name for layer in core.layers if fnmatch.fnmatch(layer.name, pattern)]
    if not names:
        raise UserError(
            f"activations.layers: no layer of {core.name!r} matches {pattern!r}; layers: "
            + ", ".join(layer.name for layer in core.layers)
        )
    return names


def layer_statistics(model: keras.Model, names: list[str], x: np.ndarray) -> dict[str, Any]:
    """Per-layer mean and std of the activations (all units, all examples), and the values."""

    outputs = tap(model, names)(x, training=False)[: len(names)]
    values = [np.asarray(o, np.float32).reshape(len(x), -1) for o in outputs]
    return {
        "layers": names,
        "mean": [float(v.mean()) for v in values],
        "std": [float(v.std()) for v in values],
        "values": values,
    }


def _examples(run: Run, n: int) -> np.ndarray:
    raw = run.bundle.raw.get("train")
    if raw is not None and not run.bundle.spec.file_based:
        return np.asarray(raw.x[:n], np.float32)
    batches, count = [], 0
    for x, _ in run.bundle.train:
        batches.append(np.asarray(x))
        count += len(batches[-1])
        if count >= n:
            break
    return np.concatenate(batches)[:n]


def _fresh_model(run: Run) -> keras.Model:
    """The same architecture, freshly initialized with the run's seed."""

    seed_everything(run.cfg)
    model, _ = build_model(run.cfg, run.bundle.spec)
    return model


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.activations
    x = _examples(run, cfg.examples)
    names = hidden_layers(run.model, run.cfg.model.name, cfg.layers)
    stats = {
        "at init": layer_statistics(_fresh_model(run), names, x),
        "trained": layer_statistics(run.model, names, x),
    }
    path = vision_plots.activation_statistics(
        {k: {f: v[f] for f in ("layers", "mean", "std")} for k, v in stats.items()},
        {
            k: [layer[:: max(1, layer.size // 20000)] for layer in v["values"]]
            for k, v in stats.items()
        },
        run.run_dir / "plots" / "activation_statistics.png",
        f"{run.cfg.name}: {len(names)} layers, {len(x)} training examples",
    )
    _report(run, stats, len(x), path)
    out: dict[str, Any] = {
        "activation_stats": {
            k: {f: v[f] for f in ("layers", "mean", "std")} for k, v in stats.items()
        }
    }
    for state, key in (("at init", "init"), ("trained", "trained")):
        for f in ("mean", "std"):
            out[f"act_{f}_first_{key}"] = stats[state][f][0]
            out[f"act_{f}_last_{key}"] = stats[state][f][-1]
    return out


def _report(run: Run, stats: dict[str, Any], examples: int, path) -> None:
    names = stats["trained"]["layers"]
    rows = [
        {"layer": name, **{f"{k} {f}": stats[k][f][i] for k in stats for f in ("mean", "std")}}
        for i, name in enumerate(names)
    ]
    report.section(
        run.run_dir,
        "activations",
        "## Activation statistics per layer\n"
        "Mean and standard deviation of each hidden layer's activations on "
        f"{examples} training examples, for a fresh initialization (seed {run.cfg.seed}) "
        "and for the trained network.\n\n"
        + report.table(rows)
        + "\n"
        + report.image("activation statistics", path, run.run_dir),
    )


STAGES.add(
    "activations",
    Stage(
        name="activations",
        applies=lambda cfg: cfg.activations is not None,
        run=run_stage,
        order=40,
    ),
)
