"""Class activation maps: they add up to the logits, and after training they point at
the object on the shapes images (the pointing game)."""

from __future__ import annotations

import numpy as np
import pytest

from models.allconv import _class_maps, cams_and_peaks, class_activation_maps
from models.catalog import build_model
from models.feature_geometry import cell_centres
from models.introspect import find_layer
from pipelines import run as pipeline
from pipelines.stages.cam import pointing_rate
from tests.conftest import learned


@pytest.mark.parametrize("name", ["allconv_gap", "resnet20"])
def test_class_maps_average_to_the_logits(name):
    # the CAM axiom: a GAP head's logit is the spatial mean of its class map (+ the bias)
    model = build_model(
        name,
        inputs={"input_shape": (24, 24, 1), "num_classes": 3},
        params={"width": 0.1 if name == "allconv_gap" else 2},
    )
    x = np.random.default_rng(0).random((4, 24, 24, 1), dtype=np.float32)
    maps, logits, _ = _class_maps(model, x)
    bias = 0.0 if name == "allconv_gap" else np.asarray(model.get_layer("logits").bias)
    np.testing.assert_allclose(maps.mean(axis=(1, 2)) + bias, logits, rtol=1e-4, atol=1e-5)
    cams = class_activation_maps(model, x)
    assert cams.shape == (4, 24, 24) and cams.min() == 0.0 and cams.max() == 1.0


def test_cell_centres_follow_strides_and_padding():
    # 24 -> stride-2 "same" (pads bottom/right only) -> 12 -> 6 -> valid 3x3 -> 4 cells,
    # centred on pixels 7, 11, 15, 19 (a resize would put them at 2.5, 8.5, 14.5, 20.5)
    model = build_model(
        "allconv_gap", inputs={"input_shape": (24, 24, 1), "num_classes": 3}, params={"width": 0.1}
    )
    assert cell_centres(find_layer(model, "class_maps").output) == ((4.0, 7.0), (4.0, 7.0))


def test_models_without_a_gap_head_are_refused():
    model = build_model("lenet5", inputs={"input_shape": (32, 32, 1), "num_classes": 3}, params={})
    with pytest.raises(ValueError, match="no class activation maps"):
        class_activation_maps(model, np.zeros((1, 32, 32, 1), np.float32))


def test_trained_allconv_cam_peaks_inside_the_object(make_config):
    cfg = make_config(
        data={"source": "shapes", "params": {"n": 900, "size": 24}, "batch_size": 32},
        model={"name": "allconv_gap", "params": {"width": 0.2, "dropout": 0.0}},
        train={  # 600 images, lr 3e-3, 8 epochs stalled at 0.6 accuracy (seed 0, oneDNN off)
            "epochs": 12,
            "optimizer": {"name": "adam", "learning_rate": 0.001},
            "backup": False,
            "checkpoint": False,
        },
        cam={"images": 6},
    )
    run = pipeline.run_all(cfg)
    learned("accuracy", run.metrics["accuracy"], at_least=0.8)
    learned("cam_pointing", run.metrics["cam_pointing"], at_least=0.8)  # "most images"
    # on the nested pipeline model directly, for the predicted class
    test = run.bundle.raw["test"]
    cams, peaks = cams_and_peaks(run.model, test.x[:50])
    assert cams.shape == (50, 24, 24)
    learned("pointing rate (nested model)", pointing_rate(peaks, test.extras["mask"][:50]),
            at_least=0.8)
    assert (run.run_dir / "plots" / "cam.png").exists()
