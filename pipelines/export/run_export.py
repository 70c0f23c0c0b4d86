"""Export a trained run the standard way: the assembled model behind a raw-input
`serve` signature, reload-checked (tasks with their own exporter set `Task.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from common import report
from pipelines.export.saved_model import export_model, run_metadata
from pipelines.report.metrics import record

if TYPE_CHECKING:
    from pipelines.run import Run


def export_standard(run: Run) -> Path:
    """The assembled model (a training wrapper's inner classifier) as a SavedModel."""
    cfg = run.cfg
    sample = next(iter(run.bundle.test))[0].numpy()[:16]
    sample = sample.astype(run.bundle.spec.raw_dtype)
    root = Path(cfg.export.dir) / (cfg.export.name or cfg.name)
    path = export_model(
        getattr(run.model, "inference_model", run.model),  # a training wrapper's classifier
        run.bundle.spec,
        root=root,
        outputs=run.task.serving_outputs,
        sample=sample,
        tolerance=cfg.export.tolerance,
        metadata=run_metadata(run),
    )
    record(run, {"export_path": str(path)})
    report.section(
        run.run_dir,
        "export",
        f"## Export\nSavedModel written to `{path}` "
        "(serving signature `serve`, raw inputs; reload check in a fresh "
        f"process passed at tolerance {cfg.export.tolerance}).\n",
    )
    return path
