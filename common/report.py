"""The run report: `report.md` assembled from one markdown section per stage.

Each stage writes `sections/<NN>-<stage>.md` (so `dlzoo evaluate RUN_DIR` later can
replace its own section), then `write_report` joins them in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.io import write_text

ORDER = [
    "overview",
    "data",
    "train",
    "evaluate",
    "activations",
    "variance_reduction",
    "cam",
    "generate",
    "explain",
    "attack",
    "embedding_bias",
    "tune",
    "sweep",
    "sweep_regress",
    "claim",
    "export",
]


def section(run_dir: Path, stage: str, markdown: str) -> Path:
    rank = ORDER.index(stage) if stage in ORDER else len(ORDER)
    path = write_text(
        Path(run_dir) / "sections" / f"{rank:02d}-{stage}.md", markdown.strip() + "\n"
    )
    write_report(run_dir)
    return path


def write_report(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    parts = [p.read_text() for p in sorted((run_dir / "sections").glob("*.md"))]
    return write_text(run_dir / "report.md", "\n".join(parts))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A markdown table; floats get 4 significant digits."""
    if not rows:
        return "(none)\n"
    columns = list(columns or rows[0])

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def image(title: str, path: Path, run_dir: Path) -> str:
    return f"![{title}]({Path(path).relative_to(run_dir).as_posix()})\n"
