"""The "attack" stage `dlzoo run` does after training when a recipe has an `attack:`
section: accuracy under FGSM/BIM/PGD, the patch, a universal perturbation (and the
second architecture it transfers to), and the undefended twin of an adversarially
trained model for comparison (explain/attack_report.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import report
from common.errors import UserError
from explain.attack_report import attack_inputs
from pipelines.data.arrays import split_arrays
from pipelines.stages.classifier_check import check_classifier, verbose
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run


def run_attack(run: Run) -> dict[str, Any]:
    check_classifier(run, "attack")
    cfg = run.cfg.attack
    x, y, _ = split_arrays(run.bundle, "test", cfg.num_examples)
    models = {"this model": run.model}
    if cfg.compare_undefended:
        models = {"adversarially trained": run.model, "undefended": _undefended_twin(run)}
    patch_data = None
    if cfg.patch is not None:
        px, py, _ = split_arrays(run.bundle, "train", cfg.patch.train_examples)
        patch_data = (px, py)
    universal_data, transfer = None, None
    if cfg.universal is not None:
        universal_data = split_arrays(run.bundle, "train", cfg.universal.train_examples)[:2]
        if cfg.universal.transfer_to is not None:
            transfer = (cfg.universal.transfer_to.name, _transfer_model(run))
    spec = run.bundle.spec
    metrics, markdown = attack_inputs(
        models,
        x,
        y,
        cfg,
        run.run_dir,
        input_range=spec.input_range,
        class_names=spec.class_names,
        seed=run.cfg.seed,
        verbose=verbose(run),
        patch_data=patch_data,
        universal_data=universal_data,
        transfer=transfer,
    )
    report.section(run.run_dir, "attack", markdown)
    return metrics


def _undefended_twin(run: Run):
    """The same recipe trained without `train.adversarial`, in `<run>/undefended/`
    (a nested run: reused while it is finished and its config unchanged)."""
    if run.cfg.train.adversarial is None:
        raise UserError("attack.compare_undefended needs train.adversarial in the recipe")
    twin = run.cfg.with_overrides(
        {"train.adversarial": None, "attack": None, "explain": None, "export.enabled": False}
    )
    print(
        "\n=== attack.compare_undefended: training the same recipe without adversarial examples ==="
    )
    return run.sub_run(twin, run.run_dir / "undefended").model


def _transfer_model(run: Run):
    """`attack.universal.transfer_to` trained with this recipe's data and train settings,
    in `<run>/transfer/` (a nested run, reused while finished and unchanged)."""
    other = run.cfg.attack.universal.transfer_to
    twin = run.cfg.with_overrides(
        {
            "name": f"{run.cfg.name}_transfer",
            "model": {"name": other.name, "params": dict(other.params)},
            **{key: None for key in _STAGE_SECTIONS},
            "export.enabled": False,
            "sweep": {},
        }
    )
    print(f"\n=== attack.universal.transfer_to: training {other.name} on the same data ===")
    return run.sub_run(twin, run.run_dir / "transfer").model


# Sections of stages after training: the transfer model needs none of them.
_STAGE_SECTIONS = ("attack", "explain", "claim", "cam", "activations", "linear_regions")


STAGES.add(
    "attack",
    Stage("attack", applies=lambda cfg: cfg.attack is not None, run=run_attack, order=70),
)
