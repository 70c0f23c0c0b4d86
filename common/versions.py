"""TensorFlow Serving's layout of exported models: `saved_models/<name>/<version>/`,
versions being increasing integers, each a complete SavedModel."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
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


# A version number is claimed by creating `.claim-<v>` exclusively (O_EXCL is atomic on
# local and NFSv3+ file systems), so two exports to one name never pick the same
# number; the claim is removed once `<v>/` is renamed into place. What a killed
# export leaves (`.claim-*`, `.tmp-*`) is removed by the next export of that name.
CLAIM, TMP = ".claim-", ".tmp-"
STALE_AFTER_S = 24 * 3600  # a claim from another machine: only its age tells


def claim_version(root: Path) -> tuple[int, Path]:
    """The next free version under `root` and its claim file."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    claimed = [int(p.name[len(CLAIM) :]) for p in root.glob(CLAIM + "*")
               if p.name[len(CLAIM) :].isdigit()]
    version = max([*versions(root), *claimed, *_folders(root)], default=0) + 1
    while True:
        claim = root / f"{CLAIM}{version}"
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            version += 1
            continue
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname()}, f)
        if (root / str(version)).exists():  # published meanwhile by an older dlzoo
            claim.unlink()
            version += 1
            continue
        return version, claim


def publish(tmp: Path, root: Path, version: int, claim: Path) -> Path:
    """Rename the finished `tmp` folder to `root/<version>` (atomic), with the file modes
    a serving process running as another user can read (0755 folders, 0644 files)."""
    for folder, _, files in os.walk(tmp):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    final = Path(root) / str(version)
    os.rename(tmp, final)
    claim.unlink(missing_ok=True)
    return final


def remove_stale(root: Path) -> list[Path]:
    """Remove the claims and temp folders of exports that were killed; return them."""
    removed = []
    for path in sorted(Path(root).glob(".*")):
        if path.name.startswith(CLAIM) and _stale(path, _claim_owner(path)):
            path.unlink(missing_ok=True)
            removed.append(path)
        elif path.name.startswith(TMP) and _stale(path, _tmp_owner(path)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def temp_name(version: int) -> str:
    """The prefix of an export's temp folder: version, host and pid say whose it is."""
    return f"{TMP}{version}-{socket.gethostname()}-{os.getpid()}-"


def _folders(root: Path) -> list[int]:
    return [int(p.name) for p in root.iterdir() if p.name.isdigit()]


def _claim_owner(path: Path) -> tuple[str, int] | None:
    try:
        meta = json.loads(path.read_text())
        return meta["host"], int(meta["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _tmp_owner(path: Path) -> tuple[str, int] | None:
    parts = path.name[len(TMP):].split("-")  # <version>-<host>-<pid>-<random>
    if len(parts) >= 4 and parts[-2].isdigit():
        return "-".join(parts[1:-2]), int(parts[-2])
    return None


def _stale(path: Path, owner: tuple[str, int] | None) -> bool:
    if owner is not None and owner[0] == socket.gethostname():
        return not _alive(owner[1])
    try:
        return time.time() - path.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
