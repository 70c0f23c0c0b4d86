"""`history.csv`: one row per epoch (`epoch` and every logged metric), rewritten
atomically at each epoch's end, so a kill never leaves half a row; and read back."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import keras

from common.io import write_text


def write_history(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = sorted({k for row in rows for k in row if k != "epoch"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in rows:
        writer.writerow([row.get("epoch", ""), *(_cell(row.get(k)) for k in keys)])
    write_text(Path(path), out.getvalue())


def read_history(path: Path) -> dict[str, list[float]]:
    """Column name -> per-epoch values (NaN where an epoch did not log it)."""
    rows = read_rows(path)
    keys = sorted({k for row in rows for k in row if k != "epoch"})
    return {k: [float(r.get(k, math.nan)) for r in rows] for k in keys}


def read_rows(path: Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        {k: (int(v) if k == "epoch" else float(v)) for k, v in row.items() if v not in ("", None)}
        for row in rows
    ]


def _cell(value: Any) -> str:
    return "" if value is None else repr(float(value))


class HistoryFile(keras.callbacks.Callback):
    """Keeps `history.csv`: the rows already there (an earlier phase, or what a resumed
    backup restored) plus one per epoch. `write=False` (multi-worker workers other than
    the chief) keeps the rows without writing."""

    def __init__(self, path: Path, *, write: bool = True) -> None:
        super().__init__()
        self.path, self.write = Path(path), write
        self.rows: list[dict[str, Any]] = []

    def on_train_begin(self, logs=None) -> None:
        start = getattr(self.model, "_initial_epoch", 0) or 0  # a restored backup's epoch
        self.rows = [r for r in read_rows(self.path) if not start or r.get("epoch", 0) < start]

    def on_epoch_end(self, epoch, logs=None) -> None:
        row = {"epoch": epoch}
        for key, value in (logs or {}).items():
            try:
                row[key] = float(value)
            except (TypeError, ValueError):
                continue
        self.rows = [r for r in self.rows if r.get("epoch") != epoch] + [row]
        if self.write:
            write_history(self.path, self.rows)
