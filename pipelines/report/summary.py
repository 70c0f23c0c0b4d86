"""The run report's first sections: what was trained on what, and how training went."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common import report
from pipelines.report import plots
from pipelines.stages.claims import training_marks

if TYPE_CHECKING:
    from pipelines.run import Run


def overview_markdown(run: Run) -> str:
    cfg, spec = run.cfg, run.bundle.spec
    sizes = ", ".join(f"{k} {v}" for k, v in spec.sizes.items())
    skipped = (
        (f"\n{len(spec.skipped)} corrupt file(s) skipped: " + ", ".join(spec.skipped[:10]) + "\n")
        if spec.skipped
        else ""
    )
    return "\n".join(
        [
            f"# {cfg.name}",
            cfg.description.strip(),
            "",
            f"Model `{cfg.model.name}` ({run.model.count_params():,} parameters) on data "
            f"source `{cfg.data.source}`: {sizes}; input shape {spec.input_shape}, "
            f"{spec.num_classes} classes, normalization `{spec.normalize}`. Seed {cfg.seed}. "
            "The resolved config is in `config.yaml`; what decides the numerics (library "
            "versions, oneDNN, op determinism, CPU and GPU) in `machine.json`.",
            skipped,
        ]
    )


def train_markdown(run: Run) -> str:
    if not run.history:
        return "## Training\n(no history)\n"
    marks, notes = training_marks(run)  # early-stopping point, fine-tune phase
    path = plots.learning_curves(
        {run.cfg.name: run.history}, run.run_dir / "plots" / "learning_curves.png", marks
    )
    last = {k: v[-1] for k, v in run.history.items()}
    summary = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if "loss" in k or "acc" in k)
    return "\n".join(
        [
            "## Training",
            f"{len(next(iter(run.history.values())))} epochs; last epoch: {summary}.",
            *notes,
            "TensorBoard logs: `tensorboard/`; per-epoch history: `history.csv`.\n",
            report.image("learning curves", path, run.run_dir),
        ]
    )
