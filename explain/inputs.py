"""Image files as explained and attacked inputs: files, folders and globs expanded,
decoded and mapped onto the model's raw input range."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from common.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def expand_files(items: tuple[str, ...] | list[str]) -> list[Path]:
    """Files, folders (their images) and glob patterns -> image files, sorted."""
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(ch in item for ch in "*?["):
            files += sorted(Path(p) for p in glob.glob(item))
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"no such file: {item}")
    if not files:
        raise UserError(f"no image files in {', '.join(items)}")
    return files


def load_image_files(
    files: list[Path], input_shape: tuple[int, ...], input_range: tuple[float, float], resize: bool
) -> np.ndarray:
    """8-bit image files -> a batch in the model's raw range.

    Pixels 0..255 are mapped onto the model's raw range (0..16 for a digits model).

    Raises:
        UserError: unreadable file, or a size other than the model's without `resize`.
    """

    if len(input_shape) != 3:
        raise UserError(f"the model takes inputs of shape {input_shape}, not images")
    h, w, channels = input_shape
    images = []
    for file in files:
        try:
            with Image.open(file) as im:
                im = im.convert("L" if channels == 1 else "RGB")
                if im.size != (w, h):
                    if not resize:
                        raise UserError(
                            f"{file} is {im.size[1]}x{im.size[0]}; the model takes {h}x{w} "
                            "images (pass --resize to resize)"
                        )
                    im = im.resize((w, h), Image.BILINEAR)
                images.append(np.asarray(im, np.float32))
        except (UnidentifiedImageError, OSError) as err:
            raise UserError(f"cannot read image {file}: {err}") from None
    x = np.stack(images)
    x = x[..., None] if channels == 1 else x
    lo, hi = input_range
    return (lo + x / 255.0 * (hi - lo)).astype(np.float32)
