"""`dlzoo embedding-bias`: gender bias and hard debiasing of a word-vector file.

    dlzoo embedding-bias glove.6B.100d.w2v.txt --recipe recipes/embedding_bias.yaml

The file is in the word2vec text format (`count dim`, then `word v1 ... v_dim` lines);
the settings come from the recipe's `embedding_bias:` section, or the defaults.
Import-light: the analysis loads inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.cli.options import OVERRIDE


@click.command("embedding-bias")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--recipe", type=click.Path(path_type=Path), default=None,
              help="Take the embedding_bias: settings from this recipe (default: the "
              "section's defaults).")
@OVERRIDE
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for report.md, metrics.json, plots (default: "
              "runs/embedding_bias/<timestamp>).")
def embedding_bias(file: Path, recipe: Path | None, overrides: tuple[str, ...],
                   out: Path | None) -> None:
    """Analogy probes, gender direction, DirectBias and hard debiasing of FILE."""
    # heavy (TensorFlow, via the pipelines API): imported when the command runs
    from pipelines import api

    result = api.embedding_bias(file, recipe, list(overrides), out=out)
    m = result.metrics
    click.echo(f"occupations scored: {m['occupations_scored']}; DirectBias "
               f"{m['direct_bias_before']:.4f} -> {m['direct_bias_after']:.2e} after "
               f"hard debiasing")
    click.echo(f"report: {result.run_dir / 'report.md'}")
