"""TensorFlow Serving's layout of exported models: `saved_models/<name>/<version>/`,
versions being increasing integers, each a complete SavedModel."""

from __future__ import annotations

from pathlib import Path

from common.errors import UserError


def versions(root: Path) -> list[int]:
    """The published version numbers under `root` (complete SavedModels only), sorted."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        int(p.name) for p in root.iterdir() if p.name.isdigit() and (p / "saved_model.pb").exists()
    )


def resolve_version(path: Path) -> Path:
    """`saved_models/<name>` -> its newest version folder; a version folder as is."""
    path = Path(path)
    if (path / "saved_model.pb").exists():
        return path
    found = versions(path)
    if not found:
        raise UserError(
            f"no exported model at {path} (expected saved_models/<name>/<version>/"
            "saved_model.pb, as written by `dlzoo export`)"
        )
    return path / str(found[-1])
