"""`dlzoo tune RECIPE [--workers N]`: hyperparameter and architecture search.

Import-light (click only): TensorFlow and KerasTuner load inside the command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from common.errors import UserError
from pipelines.cli.options import OVERRIDE


@click.command()
@click.argument("recipe", type=click.Path(), required=False)
@OVERRIDE
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Run trials in N worker processes around a chief oracle on 127.0.0.1 "
    "(default: tune.workers, 0 = in this process).",
)
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Search folder (default runs/<recipe>/tune-<hash>; the same command continues it).",
)
@click.option("--restart", is_flag=True, help="Discard the finished trials and start over.")
@click.option("--spaces", "list_spaces", is_flag=True, help="List the built-in search spaces.")
def tune(
    recipe: str | None,
    overrides: tuple[str, ...],
    workers: int | None,
    run_dir: Path | None,
    restart: bool,
    list_spaces: bool,
) -> None:
    """Search the hyperparameters RECIPE's `tune:` section declares (KerasTuner).

    Writes results.csv/.md, a score-vs-trial plot, best_config.yaml (replay it with
    `dlzoo run`) and report.md. Interrupted? Run the same command again: finished
    trials are kept. Across machines, set KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP
    and KERASTUNER_ORACLE_PORT (see README).
    """
    if list_spaces:
        from tuning.spaces import SPACES  # heavy (TensorFlow, KerasTuner): only when listing

        for name, space in SPACES.items():
            click.echo(f"{name:10s} {space.description}")
        return
    if recipe is None:
        raise UserError("dlzoo tune: give a RECIPE (or --spaces to list the built-in spaces)")
    from tuning.config import load_search  # heavy: TensorFlow and KerasTuner

    cfg = load_search(recipe, overrides)
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from tuning.jobs import run_search

    try:
        outcome = run_search(
            cfg,
            run_dir=run_dir,
            workers=workers,
            restart=restart,
            recipe=recipe,
            overrides=overrides,
        )
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted; finished trials are saved: run the same command to continue",
            err=True,
        )
        sys.exit(130)
    if outcome is None:  # a distributed worker
        click.echo("worker done")
        return
    _print_outcome(outcome, cfg.tune.objective)


def _print_outcome(outcome, objective: str) -> None:
    done = sum(r["status"] == "COMPLETED" for r in outcome.rows)
    click.echo(f"\n{len(outcome.rows)} trials ({done} completed) in {outcome.run_dir}")
    if outcome.best:
        click.echo(f"best: trial {outcome.best['trial']}, {objective} {outcome.best['score']:.4f}")
        click.echo(f"replay: dlzoo run {outcome.best_config}")
    if outcome.replays:
        r = outcome.replays
        click.echo(
            f"replayed at {len(r['seeds'])} seeds, test {r['metric']}: winner "
            f"{r['best']['mean']:.4f} vs recipe {r['trial0']['mean']:.4f} "
            f"(paired difference {r['difference']['mean']:+.4f} ± {r['difference']['sem']:.4f})"
        )
    click.echo(f"report: {outcome.run_dir / 'report.md'}")
