"""matplotlib without a display (Agg backend), and saving a figure atomically.

Every figure module of every layer imports `plt` and `save` from here, so the backend
is chosen once, before pyplot is first imported.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common.io import atomic_write  # noqa: E402

__all__ = ["plt", "save"]


def save(fig, path: Path) -> Path:
    """Write `fig` as a PNG (to a temp file, then renamed) and close it."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return path
