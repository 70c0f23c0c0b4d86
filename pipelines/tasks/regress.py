"""Regression: a network with linear outputs fitted by mean-square error; evaluated by
the test split's mean-square, root-mean-square and maximum error and R^2, with the
fitted function drawn against its target (1-D or 2-D inputs), and, across a sweep,
the error against the swept number (a width) on log-log axes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from common import report
from pipelines.data.spec import DataSpec
from pipelines.report import approximation_plots
from pipelines.tasks.base import TASKS, Task, with_preprocessing
from pipelines.tasks.classify import predict_split

if TYPE_CHECKING:
    from pipelines.config.experiment import ExperimentConfig
    from pipelines.run import Run


def regression_metrics(target: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    error = (prediction - target).reshape(len(target), -1)
    variance = float(np.var(target))
    mse = float(np.mean(error**2))
    return {
        "test_mse": mse,
        "test_rmse": float(np.sqrt(mse)),
        "test_max_error": float(np.max(np.abs(error))),
        "test_r2": 1.0 - mse / variance if variance > 0 else float("nan"),
    }


def evaluate_regression(run: Run) -> dict[str, Any]:
    target, prediction = predict_split(run.model, run.bundle, "test")
    metrics = {"test_loss": float(np.mean((prediction - target) ** 2)),
               **regression_metrics(target, prediction)}
    x = run.bundle.raw["test"].x.reshape(len(target), -1)
    title = f"{run.cfg.model.name} {run.cfg.model.params}: test MSE {metrics['test_mse']:.3g}"
    path = run.run_dir / "plots" / "fit.png"
    if x.shape[1] == 1:
        train = run.bundle.raw.get("train")
        points = (train.x.ravel(), train.y.ravel()) if train is not None else None
        approximation_plots.fit_1d(x[:, 0], target[:, 0], prediction[:, 0], points, path, title)
    elif x.shape[1] == 2:
        approximation_plots.fit_2d(x, target[:, 0], prediction[:, 0], path, title)
    else:
        path = None
    report.section(
        run.run_dir,
        "evaluate",
        "## Evaluation (test split)\n"
        f"On {len(target)} test points: mean-square error **{metrics['test_mse']:.4g}** "
        f"(RMSE {metrics['test_rmse']:.4g}), maximum error {metrics['test_max_error']:.4g}, "
        f"R^2 {metrics['test_r2']:.5f}; {run.model.count_params()} parameters.\n\n"
        + (report.image("network against target", path, run.run_dir) if path else ""),
    )
    return metrics


def compile_regressor(model: keras.Model, optimizer, spec: DataSpec) -> None:
    model.compile(optimizer=optimizer, loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError(name="mae")])


def swept_number(cfg: ExperimentConfig) -> str | None:
    """The one swept key whose values are all numbers (a width), if there is one."""
    numeric = [key for key, values in cfg.sweep.items() if key != "variants"
               and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)]
    return numeric[0] if len(numeric) == 1 else None


def compare_sweep(cfg: ExperimentConfig, runs: list[tuple[str, Run]], run_dir: Path) -> str:
    """Test errors against the swept number (else the parameter count), log-log, one
    line per value of the other swept keys (else per model); returns the report section."""
    key = swept_number(cfg)
    short = key.split(".")[-1] if key else ""
    series: dict[str, tuple[list[float], list[float], list[float]]] = {}
    for label, run in runs:
        if key is not None:
            group = ",".join(p for p in label.split(",") if not p.startswith(short + "="))
            x = float(_value_at(run.cfg, key))
        else:
            group, x = run.cfg.model.name, float(run.model.count_params())
        xs, mse, worst = series.setdefault(group or cfg.name, ([], [], []))
        xs.append(x)
        mse.append(run.metrics["test_mse"])
        worst.append(run.metrics["test_max_error"])
    x_label = short or "parameters"
    path = approximation_plots.error_against(
        series, x_label, run_dir / "plots" / f"error_against_{x_label}.png",
        f"{cfg.name}: approximation error on the test grid",
    )
    rows = [{"variant": label, "parameters": run.model.count_params(),
             "test MSE": run.metrics["test_mse"], "max error": run.metrics["test_max_error"]}
            for label, run in runs]
    return ("## Approximation error across the sweep\n"
            + report.table(rows) + "\n"
            + report.image(f"test error against {x_label}", path, run_dir))


def _value_at(cfg: ExperimentConfig, path: str) -> Any:
    node: Any = cfg.model_dump(mode="json")
    for part in path.split("."):
        node = node[part]
    return node


TASKS.add(
    "regress",
    Task(
        name="regress",
        assemble=with_preprocessing,
        compile=compile_regressor,
        evaluate=evaluate_regression,
        serving_outputs=lambda outputs: {"prediction": outputs},
        monitor="val_loss",
        mode="min",
        data_tasks=("regress",),
        compare_sweep=compare_sweep,
    ),
)
