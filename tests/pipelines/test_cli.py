"""The `dlzoo` command end to end on the digits recipe, and its user-error contract:
one message, exit status 2, no traceback, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from pipelines.cli.main import main
from tests.conftest import learned, seeded

ROOT = Path(__file__).resolve().parents[2]


def dlzoo(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_digits_recipe_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = dlzoo("run", str(ROOT / "recipes" / "lenet5_digits.yaml"),
                 "--set", "train.epochs=6", "--set", f"runs_dir={out / 'runs'}",
                 "--set", f"export.dir={out / 'saved'}", "--set", "train.tensorboard=false",
                 "--set", f"seed={seeded(0)}")
    assert code == 0
    printed = capsys.readouterr().out
    assert "accuracy:" in printed and "export_path:" in printed
    run_dir = next((out / "runs" / "lenet5_digits").iterdir())
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 6 and saved["data"]["image_size"] == [32, 32]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    learned("accuracy", metrics["accuracy"], at_least=0.9)
    report = (run_dir / "report.md").read_text()
    assert "plots/learning_curves.png" in report and "Test accuracy" in report

    # evaluate and export a finished run again, then predict with the newest version
    assert dlzoo("evaluate", str(run_dir)) == 0
    assert json.loads((run_dir / "metrics.json").read_text())["accuracy"] == pytest.approx(
        metrics["accuracy"])
    assert dlzoo("export", str(run_dir), "--name", "again") == 0
    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    capsys.readouterr()
    assert dlzoo("predict", "--model", str(out / "saved" / "again"), str(image)) == 0
    line = capsys.readouterr().out.strip().split("\t")
    assert line[0] == str(image) and line[1] in "0123456789" and 0 < float(line[2]) <= 1


def test_main_job_reaches_its_bar(tmp_path):
    """The demo recipe as shipped (30 epochs): test accuracy >= 0.98 at every seed, the
    issue's bar (seeds 0-4 x oneDNN on/off measured 0.9833-1.0, tests/MARGINS.md)."""
    out = tmp_path / "out"
    assert dlzoo("run", str(ROOT / "recipes" / "lenet5_digits.yaml"),
                 "--set", f"runs_dir={out / 'runs'}", "--set", "export.enabled=false",
                 "--set", "train.tensorboard=false", "--set", "train.verbose=0",
                 "--set", f"seed={seeded(0)}") == 0
    run_dir = next((out / "runs" / "lenet5_digits").iterdir())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    learned("accuracy", metrics["accuracy"], at_least=0.98)


def test_xor_perceptron_fails_mlp_succeeds(tmp_path):
    assert dlzoo("run", str(ROOT / "recipes" / "xor.yaml"), "--set", f"runs_dir={tmp_path}",
                 "--set", "train.epochs=60", "--set", f"seed={seeded(0)}") == 0
    rows = json.loads(next(tmp_path.glob("xor/*/sweep.json")).read_text())
    accuracy = {row["variant"]: row["test accuracy"] for row in rows}
    learned("perceptron accuracy", accuracy["model=perceptron"], at_most=0.75)
    learned("mlp accuracy", accuracy["model=mlp"], at_least=1.0)
    # TensorBoard's HParams dashboard gets one session per variant, with its test accuracy
    from pipelines.report.hparams import read_hparams

    sessions = read_hparams(next(tmp_path.glob("xor/*/hparams")))
    assert sessions["model=perceptron"][0]["model"].startswith("{'name': 'perceptron'")
    assert sessions["model=mlp"][1]["accuracy"] == accuracy["model=mlp"]


@pytest.mark.parametrize("args, expected", [
    (["run", "nope.yaml"], "recipe not found: nope.yaml"),
    (["run", "{recipe}", "--set", "train.epochz=1"], "train.epochz: unknown key"),
    (["run", "{recipe}", "--set", "model.name=resnet9000"], "unknown model 'resnet9000'"),
    (["run", "{recipe}", "--set", "data.source=idx", "--set", "data.params={{path: absent}}"],
     "idx folder not found: absent"),
    (["run", "{recipe}", "--set", "data.val_fraction=0.001"], "too few samples"),
    (["evaluate", "{tmp}"], "not a finished dlzoo run"),
    (["predict", "--model", "{tmp}", "x.png"], "no exported model"),
    (["train", "{recipe}", "--resume"], "no interrupted run"),
    (["run", "{recipe}", "--set", "data.image_size=[-32,32]"], "data.image_size.0"),
    (["run", "{recipe}", "--set", "train.epochs=99999999999999999999"], "train.epochs"),
    (["run", "{recipe}", "--set", "name=" + "x" * 300], "name: String should match"),
    (["run", "{recipe}", "--set", "name=../../x"], "name: String should match"),
    (["run", "{recipe}", "--set", "export.name=/abs"], "export.name: String should match"),
    (["run", "{recipe}", "--set", "runs_dir={tmp}/file"], "runs_dir: cannot write into"),
    (["run", "{recipe}", "--set", "runs_dir={tmp}/file/below"], "runs_dir: cannot write into"),
    (["run", "{recipe}", "--set", "export.enabled=true", "--set", "export.dir={tmp}/file"],
     "export.dir: cannot write into"),
    (["run", "{tmp}/twice.yaml"], "duplicate key 'model'"),
    (["run", "{tmp}/latin1.yaml"], "not a UTF-8 text file"),
])
def test_user_errors_exit_2_with_one_message(tmp_path, capsys, args, expected):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({
        "data": {"source": "digits"}, "model": {"name": "mlp"},
        "runs_dir": str(tmp_path / "runs"), "train": {"epochs": 1}}))
    (tmp_path / "file").write_text("a file where a folder should be\n")
    (tmp_path / "twice.yaml").write_text("data: {source: digits}\nmodel: mlp\nmodel: lenet5\n")
    (tmp_path / "latin1.yaml").write_bytes("description: caf\xe9\n".encode("latin-1"))
    args = [a.format(recipe=recipe, tmp=tmp_path) for a in args]
    assert dlzoo(*args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not list((tmp_path / "runs").glob("*/*"))  # no run folder, not even a config


def test_listing_commands(capsys):
    assert dlzoo("models") == 0
    assert "lenet5" in capsys.readouterr().out
    assert dlzoo("datasets") == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("digits", "mnist1d", "xor", "shapes", "idx", "tfds"))


def test_data_summary(capsys):
    assert dlzoo("data-summary", str(ROOT / "recipes" / "lenet5_digits.yaml")) == 0
    out = capsys.readouterr().out
    assert "train: 1294 examples" in out and "values in [0, 16]" in out


def test_console_script_help_is_quick_and_exit_codes():
    done = subprocess.run([sys.executable, "-m", "pipelines.cli.main", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "data-summary" in done.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys, pipelines.cli.main; "
                            "print('tensorflow' in sys.modules)"], capture_output=True, text=True)
    assert probe.stdout.strip() == "False"
    # `dlzoo models` and a recipe's config errors are answered without TensorFlow (the
    # catalog's manifest, the optimizers' argument tables): in well under 2 s
    probe = subprocess.run([sys.executable, "-c", "import sys; from pipelines.config.load import "
                            f"load_recipe; load_recipe({str(ROOT / 'recipes/lenet5_digits.yaml')!r}"
                            ", ()); import models; print(sorted({'keras', 'tensorflow'} "
                            "& set(sys.modules)))"], capture_output=True, text=True)
    assert probe.stdout.strip() == "[]", probe.stderr
    bad = subprocess.run([sys.executable, "-m", "pipelines.cli.main", "run"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "Missing argument" in bad.stderr


def test_predict_prints_one_line_per_input_even_for_generated_text():
    from pipelines.cli.main import _one_line

    assert _one_line("to be\nor not\tto be") == "to be\\nor not\\tto be"
    assert "\n" not in _one_line("a\\nb\n") and _one_line("a\\b") == "a\\\\b"


def test_commands_print_no_tensorflow_log_lines(tmp_path):
    """TensorFlow's C++ start-up lines are hidden (they bypass TF_CPP_MIN_LOG_LEVEL):
    a config error is the one message on stderr; --verbose shows TensorFlow's lines."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {source: digits}\nmodel: {name: mlp}\ntrain: {epochs: -1}\n")

    def dlzoo_stderr(*args: str) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "pipelines.cli.main", *args],
                              capture_output=True, text=True, env=env, timeout=300)
        return done.returncode, done.stderr

    code, err = dlzoo_stderr("run", str(bad))
    assert code == 2 and err.startswith("dlzoo: error:") and "train.epochs" in err, err
    assert "I0000" not in err and "oneDNN" not in err and "cuda" not in err, err
    code, err = dlzoo_stderr("--help")
    assert code == 0 and err == ""
    code, err = dlzoo_stderr("--verbose", "run", str(bad))
    assert code == 2 and len(err.splitlines()) > 1, err  # TensorFlow's lines, when asked for


def test_compare_two_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    for width in (16, 32):
        assert dlzoo("train", str(ROOT / "recipes" / "lenet5_digits.yaml"),
                     "--set", "train.epochs=2", "--set", f"runs_dir={runs}",
                     "--set", "model.name=mlp", "--set", f"model.params={{width: {width}}}",
                     "--set", "train.tensorboard=false", "--set", "data.augment={}",
                     "--run-dir", str(runs / f"w{width}")) == 0
    out = tmp_path / "cmp"
    assert dlzoo("compare", str(runs / "w16"), str(runs / "w32"), "--out", str(out)) == 0
    table = json.loads((out / "compare.json").read_text())
    assert table["differing_keys"] == ["model.params.width"]
    assert [row["run"] for row in table["rows"]] == ["w16", "w32"]
    assert (out / "curves.png").stat().st_size > 0
    assert "model.params.width" in (out / "compare.md").read_text()
    assert dlzoo("compare", str(runs / "w16"), str(tmp_path)) == 2
    assert "not a dlzoo run folder" in capsys.readouterr().err
