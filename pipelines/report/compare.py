"""`dlzoo compare RUN_DIR...`: the runs side by side, the way Ludwig's
`visualize compare_performance` and TensorBoard's HParams table show them.

One table of the config keys whose values differ between the runs and of their
numeric test metrics, the learning curves of every run overlaid, and a report
(`compare.md`, `compare.json`, `curves.png` in the output folder). Reads only the
run folders' files (config.yaml, metrics.json, history.csv); runs of different
recipes compare too (their differing keys are listed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from common import report
from common.errors import UserError
from common.io import write_json, write_text
from common.plotting import plt, save
from pipelines.run_dir import flat_config
from pipelines.train.history import read_history

IGNORED = ("runs_dir", "description", "export.dir")  # where a run went, not what it was


def load_runs(run_dirs: list[Path]) -> list[dict[str, Any]]:
    runs = []
    for folder in map(Path, run_dirs):
        config = folder / "config.yaml"
        if not config.is_file():
            raise UserError(f"{folder} is not a dlzoo run folder (no config.yaml); compare "
                            "takes folders that `dlzoo run` or `dlzoo train` wrote")
        metrics_file = folder / "metrics.json"
        runs.append({
            "folder": folder,
            "config": flat_config(yaml.safe_load(config.read_text()) or {}),
            "metrics": json.loads(metrics_file.read_text()) if metrics_file.exists() else {},
            "history": read_history(folder / "history.csv"),
        })
    return runs


def labels(folders: list[Path]) -> list[str]:
    """The shortest distinct names: the folder name, or parent/name where names clash."""
    names = [f.name for f in folders]
    if len(set(names)) == len(names):
        return names
    return [f"{f.parent.name}/{f.name}" for f in folders]


def differing_keys(configs: list[dict[str, Any]]) -> list[str]:
    keys = sorted({k for c in configs for k in c})
    return [k for k in keys if not any(k == i or k.startswith(i + ".") for i in IGNORED)
            and len({json.dumps(c.get(k), sort_keys=True) for c in configs}) > 1]


def compare(run_dirs: list[Path], out: Path) -> Path:
    """Write the comparison of `run_dirs` into `out`; return the report's path."""
    if len(run_dirs) < 2:
        raise UserError("compare needs at least two run folders")
    runs = load_runs(run_dirs)
    names = labels([r["folder"] for r in runs])
    keys = differing_keys([r["config"] for r in runs])
    metric_names = sorted({k for r in runs for k, v in r["metrics"].items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)})
    rows = [{"run": name, **{k: _short(r["config"].get(k)) for k in keys},
             **{m: r["metrics"].get(m, "") for m in metric_names}}
            for name, r in zip(names, runs)]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = curves_plot(names, runs, out / "curves.png")
    write_json(out / "compare.json", {"runs": [str(r["folder"]) for r in runs],
                                      "differing_keys": keys, "rows": rows})
    text = ["# Compared runs", "",
            "Config keys that differ (" + (", ".join(f"`{k}`" for k in keys) or "none") + ")"
            " and the test metrics:", "", report.table(rows), "",
            "Runs: " + ", ".join(f"`{r['folder']}`" for r in runs), ""]
    if curves:
        text.append(report.image("learning curves", curves, out))
    return write_text(out / "compare.md", "\n".join(text) + "\n")


def curves_plot(names: list[str], runs: list[dict[str, Any]], path: Path) -> Path | None:
    """Training (dashed) and validation (solid) curves of each history column the runs
    share, one panel per quantity."""
    shared = set.intersection(*(set(r["history"]) for r in runs))
    quantities = sorted(k for k in shared if not k.startswith("val_") and k != "learning_rate")
    if not quantities:
        return None
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.5 * len(quantities), 3.4),
                             squeeze=False)
    for ax, quantity in zip(axes[0], quantities):
        for i, (name, run) in enumerate(zip(names, runs)):
            color = f"C{i % 10}"
            train = run["history"][quantity]
            ax.plot(range(1, len(train) + 1), train, "--", color=color, alpha=0.6)
            val = run["history"].get(f"val_{quantity}")
            if val:
                ax.plot(range(1, len(val) + 1), val, "-", color=color, label=name)
            else:
                ax.lines[-1].set_label(name)
        ax.set(title=quantity, xlabel="epoch")
        ax.legend(fontsize=7)
    return save(fig, path)


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
