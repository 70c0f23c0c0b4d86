"""The multi-object scene generator: deterministic, tight boxes, no overlaps, distinct colours."""

import numpy as np
import pytest

from pipelines.data.scenes import SCENE_COLOURS, draw_scenes


def test_scenes_are_deterministic_in_the_seed():
    a, b = draw_scenes(20, seed=3), draw_scenes(20, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.objects == b.objects
    assert not np.array_equal(a.images, draw_scenes(20, seed=4).images)


def test_boxes_are_tight_masks_disjoint_and_colours_distinct():
    scenes = draw_scenes(40, size=48, min_objects=2, max_objects=4, seed=0)
    for objects, masks, image in zip(scenes.objects, scenes.masks, scenes.images):
        assert 2 <= len(objects) <= 4
        assert len({o.colour for o in objects}) == len(objects)
        assert masks.sum(axis=0).max() == 1  # no pixel belongs to two objects
        for obj, mask in zip(objects, masks):
            y0, x0, y1, x1 = obj.box
            ys, xs = np.nonzero(mask)
            assert (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1) == (y0, x0, y1, x1)
            # the object is drawn in its colour: brighter than the background inside its mask
            colour = np.array(list(SCENE_COLOURS.values())[obj.colour])
            assert image[mask].mean(axis=0)[colour.argmax()] > 150


def test_large_objects_are_larger_than_small_ones():
    scenes = draw_scenes(60, seed=1)
    area = {0: [], 1: []}
    for objects, masks in zip(scenes.objects, scenes.masks):
        for obj, mask in zip(objects, masks):
            area[obj.scale].append(mask.sum())
    assert min(area[1]) > max(area[0])


def test_impossible_object_counts_are_refused():
    with pytest.raises(ValueError, match="min_objects"):
        draw_scenes(1, min_objects=3, max_objects=7)
