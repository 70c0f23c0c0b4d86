"""`dlzoo explain` and `dlzoo attack` on an exported model: outputs and user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from PIL import Image

from pipelines.cli.main import main
from tests.conftest import learned


def dlzoo(*args: str) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture(scope="module")
def pngs(digits_cnn, tmp_path_factory):
    """Three 8x8 digit PNGs (0..255) and one 16x16 image."""
    folder = tmp_path_factory.mktemp("pngs")
    for i in range(3):
        pixels = (digits_cnn.x_test[i, ..., 0] * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"digit{i}.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(folder / "big.png")
    return folder


def test_explain_writes_the_figure_and_metrics(exported, pngs, tmp_path, capsys):
    out = tmp_path / "explained"
    code = dlzoo(
        "explain",
        "--model",
        exported,
        "--images",
        pngs / "digit0.png",
        "--images",
        str(pngs / "digit[12].png"),
        "--method",
        "ig,gradcam,occlusion",
        "--num-images",
        3,
        "--out",
        out,
    )
    assert code == 0, capsys.readouterr().err
    assert (out / "plots" / "explanations.png").stat().st_size > 1000
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["explain_methods"] == "ig,gradcam,occlusion"
    assert metrics["explain_ig_completeness_error_max"] < 0.01
    assert "## Explanations" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--images", "big.png"], "is 16x16; the model takes 8x8 images (pass --resize"),
        (["--images", "digit0.png", "--method", "gradcam", "--layer", "fc"], "conv1, conv2"),
        (["--images", "digit0.png", "--method", "shap"], "unknown explanation method 'shap'"),
        (["--images", "missing.png"], "no such file"),
        ([], "exactly one of --images"),
    ],
)
def test_explain_user_errors_exit_2_with_one_message(
    exported, pngs, tmp_path, capsys, args, message
):
    args = [pngs / a if a.endswith(".png") else a for a in args]
    assert dlzoo("explain", "--model", exported, *args, "--out", tmp_path / "e") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_attack_on_a_recipe_writes_the_robustness_report(exported, tmp_path, capsys):
    recipe = tmp_path / "digits.yaml"
    recipe.write_text(yaml.safe_dump({"data": {"source": "digits"}, "model": {"name": "mlp"}}))
    out = tmp_path / "attacked"
    code = dlzoo(
        "attack",
        "--model",
        exported,
        "--recipe",
        recipe,
        "--epsilons",
        "0,2",
        "--num-examples",
        60,
        "--steps",
        2,
        "--out",
        out,
    )
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["attack_within_epsilon"] is True
    learned("fgsm acc@0 - pgd acc@2",
            metrics["attack_fgsm_acc@0"] - metrics["attack_pgd_acc@2"], at_least=0.0)
    assert (out / "plots" / "adversarial_examples.png").exists()
    assert dlzoo("attack", "--model", exported, "--recipe", recipe, "--epsilons", "0,40") == 2
    assert "outside the input range" in capsys.readouterr().err
