"""`dlzoo explain` and `dlzoo attack` (added to the `dlzoo` group in pipelines/cli/main.py).

Import-light: TensorFlow and the explain modules load inside the commands.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click
import pydantic

from common.errors import UserError

MODEL = click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(path_type=Path),
    help="saved_models/<name>[/<version>] (exported) or a run folder runs/<recipe>/<stamp>.",
)
IMAGES = click.option(
    "--images", multiple=True, metavar="FILE|DIR|GLOB", help="Image files (repeatable)."
)
RECIPE = click.option("--recipe", default=None, help="Use this recipe's test split as inputs.")
SET = click.option(
    "--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="Override the recipe."
)
OUT = click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder.")
SEED = click.option("--seed", default=0, show_default=True, type=int)
RESIZE = click.option("--resize", is_flag=True, help="Resize image files to the model's input.")


def _config(cls, **values: Any):
    """A config section from CLI values; pydantic errors become one UserError."""

    try:
        return cls(**values)
    except pydantic.ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        raise UserError(f"bad option: {problems}") from None


def _out_dir(out: Path | None, kind: str, name: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = out or Path(kind) / f"{name.replace('/', '-')}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _inputs(loaded, images, recipe, overrides, resize: bool, limit: int):
    """(x, y or None, masks or None, names, bundle or None) from --images / --recipe."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from explain.inputs import expand_files, load_image_files
    from pipelines.cli.explain_inputs import recipe_inputs

    if bool(images) == bool(recipe):
        raise UserError("give exactly one of --images FILES or --recipe RECIPE")
    if recipe:
        x, y, masks, bundle = recipe_inputs(recipe, overrides, limit)
        return x, y, masks, None, bundle
    files = expand_files(images)[:limit]
    x = load_image_files(files, loaded.input_shape, loaded.input_range, resize)
    return x, None, None, [f.name for f in files], None


def _floats(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--epsilons expects numbers separated by commas, got {text!r}") from None


@click.command()
@MODEL
@IMAGES
@RECIPE
@SET
@click.option("--method", default="ig,gradcam,lime", show_default=True, help="Comma-separated.")
@click.option("--target", default=None, type=int, help="Class id to explain (default: prediction).")
@click.option("--layer", default=None, help="Grad-CAM layer (default: the registry's).")
@click.option("--num-images", default=6, show_default=True, type=int)
@click.option("--ig-steps", default=64, show_default=True, type=int)
@click.option("--ig-baseline", default="black", show_default=True)
@click.option("--lime-samples", default=1000, show_default=True, type=int)
@click.option(
    "--segmentation", default="slic", show_default=True, help="quickshift|slic|felzenszwalb"
)
@click.option("--quality/--no-quality", default=True, show_default=True, help="Measure the maps.")
@OUT
@SEED
@RESIZE
def explain(
    model_path,
    images,
    recipe,
    overrides,
    method,
    target,
    layer,
    num_images,
    ig_steps,
    ig_baseline,
    lime_samples,
    segmentation,
    quality,
    out,
    seed,
    resize,
) -> None:
    """Explain a model's predictions: a figure grid (input, one overlay per method,
    predicted class and confidence) and measured quality, in --out."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from common import report
    from common.io import write_json
    from explain.config import ExplainConfig, IGConfig, LimeConfig, QualityConfig
    from explain.explain_report import Inputs, explain_inputs
    from pipelines.cli.explain_inputs import load_model

    cfg = _config(
        ExplainConfig,
        methods=[m for m in method.split(",") if m.strip()],
        num_images=num_images,
        layer=layer,
        ig=_config(IGConfig, steps=ig_steps, baseline=ig_baseline),
        lime=_config(LimeConfig, num_samples=lime_samples, segmentation=segmentation),
        quality=QualityConfig(num_images=max(num_images, 16)) if quality else None,
    )
    loaded = load_model(model_path)
    limit = max(num_images, cfg.quality.num_images if cfg.quality else 0)
    x, y, masks, names, bundle = _inputs(loaded, images, recipe, overrides, resize, limit)
    data = Inputs(x, y, masks, names)
    if target is not None:
        data.y, cfg = x.shape[0] * [target], cfg.model_copy(update={"target": "label"})
    out = _out_dir(out, "explanations", loaded.name)
    metrics, markdown = explain_inputs(
        loaded.model,
        data,
        cfg,
        out,
        seed=seed,
        verbose=True,
        input_range=loaded.input_range,
        class_names=loaded.class_names,
    )
    write_json(out / "metrics.json", {"model": str(model_path), **metrics})
    report.section(out, "explain", markdown)
    _echo_metrics(metrics)
    click.echo(f"figure: {out / 'plots' / 'explanations.png'}\nreport: {out / 'report.md'}")


@click.command()
@MODEL
@IMAGES
@RECIPE
@SET
@click.option(
    "--attack",
    "attacks",
    default="fgsm,pgd",
    show_default=True,
    help="Comma-separated: fgsm, bim, pgd, pgd_l2.",
)
@click.option(
    "--epsilons", default=None, help="Raw input units, e.g. 0,1,2,4 (default: 0-30% of the range)."
)
@click.option("--steps", default=10, show_default=True, type=int)
@click.option("--restarts", default=1, show_default=True, type=int)
@click.option("--targeted", is_flag=True, help="Push each input towards (label + 1) mod classes.")
@click.option("--num-examples", default=500, show_default=True, type=int)
@click.option(
    "--patch-target", default=None, type=int, help="Also optimize a patch (needs --recipe)."
)
@click.option(
    "--universal",
    "universal_eps",
    default=None,
    type=float,
    help="Also a universal perturbation of this budget, raw units (needs --recipe).",
)
@click.option("--universal-norm", default="inf", show_default=True, help="inf or 2.")
@click.option(
    "--transfer-model",
    default=None,
    type=click.Path(path_type=Path),
    help="A second model (exported or run folder) the universal perturbation is tried on.",
)
@OUT
@SEED
@RESIZE
def attack(
    model_path,
    images,
    recipe,
    overrides,
    attacks,
    epsilons,
    steps,
    restarts,
    targeted,
    num_examples,
    patch_target,
    universal_eps,
    universal_norm,
    transfer_model,
    out,
    seed,
    resize,
) -> None:
    """Attack a model: accuracy-vs-epsilon curves, the original/perturbation/adversarial
    figure, attack sanity checks (and an adversarial patch, a universal perturbation),
    in --out.

    With --images the labels are the model's own predictions on them."""
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from common import report
    from common.io import write_json
    from explain.attack_report import attack_inputs
    from explain.config import AttackConfig, PatchConfig, UniversalConfig
    from pipelines.cli.explain_inputs import load_model
    from pipelines.data.arrays import split_arrays

    patch = None
    if patch_target is not None:
        if not recipe:
            raise UserError(
                "--patch-target needs --recipe (the patch trains on its training split)"
            )
        patch = _config(PatchConfig, target=patch_target)
    universal = None
    if universal_eps is not None:
        if not recipe:
            raise UserError("--universal needs --recipe (it is computed on its training split)")
        universal = _config(UniversalConfig, epsilon=universal_eps, norm=universal_norm)
    elif transfer_model is not None:
        raise UserError("--transfer-model needs --universal EPSILON")
    cfg = _config(
        AttackConfig,
        attacks=[a.strip() for a in attacks.split(",") if a.strip()],
        epsilons=_floats(epsilons),
        steps=steps,
        restarts=restarts,
        targeted=targeted,
        num_examples=num_examples,
        patch=patch,
        universal=universal,
    )
    loaded = load_model(model_path)
    x, y, _, _, bundle = _inputs(loaded, images, recipe, overrides, resize, num_examples)
    if y is None:
        from explain.adapter import as_scorer  # heavy (TensorFlow), as above

        y = as_scorer(loaded.model, input_range=loaded.input_range).predict(x).argmax(-1)
    patch_data = split_arrays(bundle, "train", patch.train_examples)[:2] if patch else None
    universal_data, transfer = None, None
    if universal is not None:
        universal_data = split_arrays(bundle, "train", universal.train_examples)[:2]
        if transfer_model is not None:
            transfer = (str(transfer_model), load_model(transfer_model).model)
    out = _out_dir(out, "attacks", loaded.name)
    metrics, markdown = attack_inputs(
        {loaded.name: loaded.model},
        x,
        y,
        cfg,
        out,
        input_range=loaded.input_range,
        class_names=loaded.class_names,
        seed=seed,
        verbose=True,
        patch_data=patch_data,
        universal_data=universal_data,
        transfer=transfer,
    )
    write_json(out / "metrics.json", {"model": str(model_path), **metrics})
    report.section(out, "attack", markdown)
    _echo_metrics(metrics)
    click.echo(f"report: {out / 'report.md'}")


def _echo_metrics(metrics: dict[str, Any]) -> None:
    for key, value in metrics.items():
        if isinstance(value, float):
            click.echo(f"{key}: {value:.4f}")
        elif isinstance(value, (int, bool, str)):
            click.echo(f"{key}: {value}")
