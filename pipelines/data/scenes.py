"""Multi-object scenes: the generator behind captioning, visual question answering and detection.

The single-object `shapes` source draws one object per image; the "building systems" tasks
need several, each with a known shape, colour, size, box and mask, so that a caption, a
question's answer or a detection can be checked against the drawing. Colours are distinct
within a scene (as in Sort-of-CLEVR, Santoro et al. 2017), so "the red object" always names one.
Objects do not overlap: every mask is the whole object, and every box is tight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCENE_SHAPES = ("circle", "square", "triangle")
SCENE_COLOURS = {
    "red": (1.0, 0.1, 0.1),
    "green": (0.1, 0.85, 0.1),
    "blue": (0.15, 0.3, 1.0),
    "yellow": (1.0, 0.95, 0.1),
    "magenta": (0.95, 0.1, 0.95),
    "cyan": (0.1, 0.95, 0.95),
}
SCENE_SCALES = ("small", "large")


@dataclass(frozen=True)
class SceneObject:
    shape: int  # index into SCENE_SHAPES
    colour: int  # index into SCENE_COLOURS
    scale: int  # index into SCENE_SCALES
    box: tuple[int, int, int, int]  # y0, x0, y1, x1 in pixels, y1/x1 exclusive (tight)

    @property
    def centre(self) -> tuple[float, float]:
        y0, x0, y1, x1 = self.box
        return (y0 + y1) / 2, (x0 + x1) / 2

    def words(self) -> tuple[str, str, str]:
        return (
            SCENE_SCALES[self.scale],
            list(SCENE_COLOURS)[self.colour],
            SCENE_SHAPES[self.shape],
        )


@dataclass(frozen=True)
class Scenes:
    images: np.ndarray  # (n, size, size, 3) uint8
    objects: list[list[SceneObject]]  # per image, in drawing order
    masks: list[np.ndarray]  # per image: (k, size, size) bool, one per object


def _pixels(shape: int, cy: float, cx: float, radius: float, size: int):
    from skimage.draw import disk, polygon  # heavy: only when scenes are drawn

    if shape == 0:
        return disk((cy, cx), radius, shape=(size, size))
    if shape == 1:
        half = radius * 0.85
        return polygon(
            [cy - half, cy - half, cy + half, cy + half],
            [cx - half, cx + half, cx + half, cx - half],
            (size, size),
        )
    return polygon(
        [cy - radius, cy + radius, cy + radius], [cx, cx - radius, cx + radius], (size, size)
    )


def draw_scenes(
    n: int,
    *,
    size: int = 48,
    min_objects: int = 2,
    max_objects: int = 4,
    noise: float = 0.03,
    seed: int = 0,
) -> Scenes:
    """`n` scenes of `min_objects..max_objects` non-overlapping objects on a dark background.

    Small objects have a radius of 9-12% of the image side, large ones 17-21%: far enough
    apart that "small" and "large" are visible at any position. Deterministic in `seed`.
    """
    if not 1 <= min_objects <= max_objects <= len(SCENE_COLOURS):
        raise ValueError(
            f"scenes: need 1 <= min_objects <= max_objects <= {len(SCENE_COLOURS)} "
            f"(one colour per object), got {min_objects}..{max_objects}"
        )
    if size < 24:
        raise ValueError(f"scenes: size must be at least 24 pixels, got {size}")
    rng = np.random.default_rng(seed)
    palette = np.array(list(SCENE_COLOURS.values()), np.float32)
    images = np.zeros((n, size, size, 3), np.float32)
    all_objects: list[list[SceneObject]] = []
    all_masks: list[np.ndarray] = []
    for i in range(n):
        images[i] = rng.uniform(0.0, 0.15, 3)
        count = int(rng.integers(min_objects, max_objects + 1))
        colours = rng.permutation(len(SCENE_COLOURS))[:count]
        occupied = np.zeros((size, size), bool)
        objects, masks = [], []
        for colour in colours:
            for _ in range(200):  # rejection sampling: retry until the object fits
                scale = int(rng.integers(0, 2))
                radius = size * (rng.uniform(0.17, 0.21) if scale else rng.uniform(0.09, 0.12))
                cy, cx = rng.uniform(radius + 1, size - radius - 1, 2)
                shape = int(rng.integers(0, len(SCENE_SHAPES)))
                rr, cc = _pixels(shape, cy, cx, radius, size)
                mask = np.zeros((size, size), bool)
                mask[rr, cc] = True
                grown = mask | np.roll(mask, 2, 0) | np.roll(mask, -2, 0)
                grown |= np.roll(grown, 2, 1) | np.roll(grown, -2, 1)  # a 2-pixel gap
                if not (grown & occupied).any():
                    break
            else:  # pragma: no cover - only with far more objects than the image holds
                raise ValueError(f"scenes: {count} objects do not fit in {size}x{size}")
            occupied |= mask
            ys, xs = np.nonzero(mask)
            box = (int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1)
            objects.append(SceneObject(shape, int(colour), scale, box))
            masks.append(mask)
            images[i][mask] = palette[colour] * rng.uniform(0.85, 1.0)
        all_objects.append(objects)
        all_masks.append(np.stack(masks))
    images += rng.normal(0, noise, images.shape)
    pixels = (np.clip(images, 0, 1) * 255).round().astype(np.uint8)
    return Scenes(pixels, all_objects, all_masks)
