"""The `dlzoo` command.

User errors (bad recipe, missing file, unknown name...) print one message and exit
with status 2, without a traceback. TensorFlow is imported only by commands that
need it, so `dlzoo --help` answers at once.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click

from common.errors import UserError
from pipelines.cli.distribute_options import strategy_options, strategy_overrides
from pipelines.cli.options import OVERRIDE, OVERWRITE
from pipelines.cli.quiet import quiet_tensorflow


def _load(recipe: str, overrides: tuple[str, ...]):
    if not Path(recipe).is_file():  # answered before the 4 s TensorFlow import below
        raise UserError(f"recipe not found: {recipe}")
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.config.load import load_recipe

    return load_recipe(recipe, overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", is_flag=True,
              help="Show TensorFlow's start-up and INFO/WARNING logs (hidden by default).")
def cli(verbose: bool) -> None:
    """dlzoo: deep-learning lectures as measured TensorFlow / Keras pipelines."""
    if not verbose:
        quiet_tensorflow()


@cli.command()
@click.argument("recipe", type=click.Path())
@OVERRIDE
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write into this folder instead of runs/<recipe>/<timestamp>.",
)
@OVERWRITE
@strategy_options
def run(
    recipe: str,
    overrides: tuple[str, ...],
    run_dir: Path | None,
    overwrite: bool,
    strategy: str | None,
    workers: int | None,
) -> None:
    """Run every stage RECIPE names: train, evaluate, ..., export (and sweeps)."""
    cfg = _load(recipe, strategy_overrides(strategy, workers) + overrides)
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines import api

    if cfg.sweep:
        runs = api.sweep(cfg, run_dir=run_dir)
        click.echo(
            f"\nsweep finished: {len(runs)} variants; report: "
            f"{runs[0][1].run_dir.parent / 'report.md'}"
        )
        return
    _print_summary(api.run(cfg, run_dir=run_dir, overwrite=overwrite))


@cli.command()
@click.argument("recipe", type=click.Path())
@OVERRIDE
@click.option(
    "--resume",
    "resume",
    is_flag=False,
    flag_value="latest",
    default=None,
    metavar="[RUN_DIR]",
    help="Continue an interrupted run (default: the latest unfinished run of this recipe).",
)
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write into this folder (multi_worker on a cluster: the same shared folder on "
    "every worker).",
)
@OVERWRITE
@strategy_options
def train(
    recipe: str,
    overrides: tuple[str, ...],
    resume: str | None,
    run_dir: Path | None,
    overwrite: bool,
    strategy: str | None,
    workers: int | None,
) -> None:
    """Train RECIPE's model (no evaluation or export); resumable."""
    cfg = _load(recipe, strategy_overrides(strategy, workers) + overrides)
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines import api

    run_dir = _resume_dir(cfg, resume) if resume else run_dir
    result = api.train(cfg, run_dir=run_dir, overwrite=overwrite)
    click.echo(f"trained: {result.run_dir}")


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for compare.md, compare.json and curves.png "
              "(default: runs/compare/<timestamp>).")
def compare(run_dirs: tuple[Path, ...], out: Path | None) -> None:
    """Compare runs: the config keys that differ, test metrics, overlaid learning curves."""
    # heavy (matplotlib, the run-folder readers): imported when the command runs
    from pipelines.report.compare import compare as compare_runs

    out = out or Path("runs") / "compare" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    click.echo(f"report: {compare_runs(list(run_dirs), out)}")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def evaluate(run_dir: Path) -> None:
    """Evaluate a trained run on its test split (writes metrics.json, plots, report)."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines import api

    result = api.load(run_dir)
    api.evaluate(result)
    _print_summary(result)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="saved_models/<name> (default: the recipe's).")
@click.option("--dir", "export_dir", default=None, help="Instead of the recipe's export.dir.")
@click.option("--format", "formats", multiple=True,
              type=click.Choice(["saved_model", "tflite", "onnx"]),
              help="Also write model.tflite / model.onnx, parity-checked (repeatable; "
              "default: the recipe's export.formats). Needs pip install 'dlzoo[deploy]'.")
@click.option("--quantize", type=click.Choice(["none", "dynamic", "int8"]), default=None,
              help="tflite post-training quantization (int8 calibrates on the training split).")
def export(run_dir: Path, name: str | None, export_dir: str | None,
           formats: tuple[str, ...], quantize: str | None) -> None:
    """Export a trained run as a SavedModel under saved_models/<name>/<version>."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines import api

    chosen = ["saved_model", *formats] if formats else None
    for path in api.export(api.load(run_dir), name=name, dir=export_dir, formats=chosen,
                           quantize=quantize):
        click.echo(f"exported: {path}")


@cli.command()
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(path_type=Path),
    help="saved_models/<name> (newest version) or a version folder.",
)
@click.option("--text", "texts", multiple=True, help="A text input (text models; repeatable).")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def predict(model_path: Path, texts: tuple[str, ...], files: tuple[Path, ...]) -> None:
    """Print class (or generated text) and confidence for images, CSV rows or texts."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.export.predict import ExportedModel, predict_files, predict_texts

    if not texts and not files:
        raise UserError("predict: give input FILES (images, .csv, .txt) or --text")
    model = ExportedModel(model_path)
    rows = predict_texts(model, list(texts)) if texts else []
    rows += predict_files(model, list(files)) if files else []
    for row in rows:  # one line per input: generated text may hold tabs and newlines
        click.echo(f"{_one_line(row['input'])}\t{_one_line(row['class'])}\t"
                   f"{row['confidence']:.4f}")


def _one_line(text) -> str:
    return str(text).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


@cli.command("models")
@click.option("--task", default=None, help="Only models of this task.")
def models_(task: str | None) -> None:
    """List the registered models."""
    # read from the catalog's manifest, without Keras: answers at once
    from models.manifest import catalog

    for name, entry in catalog().items():
        if task in (None, entry.task):
            click.echo(f"{name:22s} {entry.task:10s} {entry.description}")


@cli.command()
def datasets() -> None:
    """List the data sources."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.data.sources import SOURCES

    for name, entry in SOURCES.items():
        where = "built-in" if entry.offline else "online"
        click.echo(f"{name:14s} {where:9s} {entry.description}")


@cli.command("data-summary")
@click.argument("recipe", type=click.Path())
@OVERRIDE
def data_summary(recipe: str, overrides: tuple[str, ...]) -> None:
    """Split sizes, shapes, class balance and one batch's value range."""
    cfg = _load(recipe, overrides)
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.data.summary import data_summary as summary

    click.echo(summary(cfg))


def _resume_dir(cfg, resume: str) -> Path:
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.run_dir import latest_interrupted, run_state

    if resume == "latest":
        return latest_interrupted(cfg)
    path = Path(resume)
    if not (path / "config.yaml").exists():
        raise UserError(f"--resume {path}: not a dlzoo run folder (no config.yaml)")
    if run_state(path) == "finished":
        raise UserError(f"--resume {path}: the run is finished; evaluate or export it")
    return path


def _print_summary(result) -> None:
    shown = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))}
    for key, value in shown.items():
        click.echo(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    click.echo(f"report: {result.run_dir / 'report.md'}")


# Commands defined next to their packages (keep those modules import-light).
# One line per module, e.g.: from pipelines.cli.explain import explain; cli.add_command(explain)
from pipelines.cli.tune import tune; cli.add_command(tune)  # noqa: E402, E702, I001
from pipelines.cli.generate import generate; cli.add_command(generate)  # noqa: E402, E702, I001
from pipelines.cli.explain import attack, explain; cli.add_command(explain); cli.add_command(attack)  # noqa: E402, E702, I001, E501
from pipelines.cli.embedding_bias import embedding_bias; cli.add_command(embedding_bias)  # noqa: E402, E702, I001, E501


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into exit status 2."""
    try:
        cli.main(args=argv, prog_name="dlzoo", standalone_mode=False)
    except UserError as err:
        click.echo(f"dlzoo: error: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; `dlzoo train RECIPE --resume` continues a training run", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
