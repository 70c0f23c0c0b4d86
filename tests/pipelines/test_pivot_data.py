"""Data for the pivot task: the paper's generated toy (class 1 shifted by z, the test
split at fixed z values), the CSV source's nuisance column, and a small pivot run end to
end through the pipeline (the task's metrics, figures and report)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.errors import UserError
from pipelines.config.data import DataConfig
from pipelines.data.builder import build, load_source
from pipelines.run import run_all


def source(name, /, **params):
    return load_source(DataConfig(source=name, params=params))


def test_pivot_gaussians_shift_class_1_by_z_and_fix_z_in_the_test_split():
    data = source("pivot_gaussians", n=4000, test_n=6000, test_z=[-1.0, 0.0, 1.0])
    assert data.task == "pivot" and data.class_names == ["0", "1"]
    train, test = data.splits["train"], data.splits["test"]
    assert train.x.shape == (4000, 2) and train.y.shape == (4000, 2)
    labels, z = train.y[:, 0], train.y[:, 1]
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert abs(np.std(z) - 1.0) < 0.1
    one = labels == 1  # x2 of class 1 ~ N(1 + z, 1); class 0 does not move with z
    assert abs(np.corrcoef(train.x[one, 1], z[one])[0, 1] - 1 / np.sqrt(2)) < 0.05
    assert abs(np.corrcoef(train.x[~one, 1], z[~one])[0, 1]) < 0.05
    assert sorted(np.unique(test.y[:, 1])) == [-1.0, 0.0, 1.0]
    for value in (-1.0, 0.0, 1.0):
        at = (test.y[:, 1] == value) & (test.y[:, 0] == 1)
        assert at.sum() == 1000 and abs(test.x[at, 1].mean() - (1 + value)) < 0.1
    with pytest.raises(ValueError, match="test_z"):
        source("pivot_gaussians", test_z=[])


def test_csv_nuisance_column_becomes_z_beside_the_label(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,z,label\n1,2,0.5,yes\n3,4,-1,no\n5,6,2,yes\n")
    data = source("csv", path=str(path), nuisance_column="z")
    assert data.task == "pivot"
    assert data.splits["train"].x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.splits["train"].y.tolist() == [[1, 0.5], [0, -1], [1, 2]]
    assert source("csv", path=str(path)).task == "classify"  # without it: z is a feature
    with pytest.raises(UserError, match="no nuisance column 'w'"):
        source("csv", path=str(path), nuisance_column="w")
    with pytest.raises(UserError, match="cannot also be"):
        source("csv", path=str(path), nuisance_column="z", feature_columns=["a", "z"])


def test_pivot_run_end_to_end_on_a_csv_table(tmp_path, make_config):
    rng = np.random.default_rng(0)
    z = rng.normal(size=600)
    y = (np.arange(600) % 2).astype(int)
    x = rng.normal(size=(600, 2)) + np.stack([y, y * (1 + z)], 1)
    rows = [f"{a:.4f},{b:.4f},{c:.4f},{d}" for (a, b), c, d in zip(x, z, y)]
    path = tmp_path / "toy.csv"
    path.write_text("x1,x2,z,label\n" + "\n".join(rows) + "\n")
    cfg = make_config(
        data={"source": "csv", "params": {"path": str(path), "nuisance_column": "z"},
              "normalize": "standardize", "batch_size": 64},
        model={"name": "pivot_mlp", "params": {"widths": [8], "adversary_widths": [8],
                                               "lam": 1.0}},
        train={"epochs": 1, "checkpoint": False, "backup": False},
    )
    bundle = build(cfg.data)
    assert bundle.spec.task == "pivot" and bundle.spec.target_shape == (2,)
    run = run_all(cfg, tmp_path / "run")
    for key in ("test_auc", "ks_mean", "test_adv_loss", "adv_loss_max"):
        assert np.isfinite(run.metrics[key]), key
    assert len(run.metrics["by_z"]) == 3  # a continuous z: its terciles
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert metrics["lam"] == 1.0
    assert (run.run_dir / "plots" / "output_by_z.png").exists()
    assert "Dependence of f(x) on z" in (run.run_dir / "report.md").read_text()


def test_pivot_model_refuses_class_data(make_config):
    from pipelines.tasks.assemble import build_model

    cfg = make_config(model={"name": "pivot_mlp", "params": {}})
    with pytest.raises(UserError, match="pivot"):
        build_model(cfg, build(cfg.data).spec)


def test_pivot_toy_recipe_sweeps_lambda_and_checks_its_claim(tmp_path):
    from pathlib import Path

    from pipelines.config.load import load_recipe
    from pipelines.sweep import run_sweep
    from tests.conftest import seeded

    recipe = Path(__file__).resolve().parents[2] / "recipes" / "pivot_toy.yaml"
    cfg = load_recipe(recipe).with_overrides({
        "seed": seeded(0), "runs_dir": str(tmp_path / "runs"), "train.verbose": 0,
        "train.epochs": 2, "data.params.n": 1000, "data.params.test_n": 1200,
        "sweep": {"model.params.lam": [0.0, 10.0]},
    })
    runs = dict(run_sweep(cfg))
    assert set(runs) == {"lam=0.0", "lam=10.0"}
    folder = runs["lam=0.0"].run_dir.parent
    claim = json.loads((folder / "claim.json").read_text())
    assert claim["supported"] in (True, False) and not claim["problem"], claim
    for name in ("pivot_tradeoff.png", "output_by_z.png"):
        assert (folder / "plots" / name).exists()
    assert "## Pivot: AUC and dependence on z across lambda" in (folder / "report.md").read_text()
