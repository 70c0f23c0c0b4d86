"""Recipe sections of the explain package: `explain:`, `attack:`, `train.adversarial:`.

```yaml
explain:
  methods: [gradients, ig, gradcam, occlusion, lime]
  ig: {steps: 64, baseline: black}
  lime: {num_samples: 1000, segmentation: slic}
  quality: {num_images: 32}
attack:
  attacks: [fgsm, pgd]
  epsilons: [0, 1, 2, 4]          # raw input units (digits: 0..16)
  universal: {epsilon: 3, norm: inf, transfer_to: {name: mlp}}
train:
  adversarial: {attack: fgsm, epsilon: 2.0, ratio: 0.5}
```

Import-light (pydantic and the keras-free model manifest). Epsilons are always in the
model's RAW input units (0..255 pixels, 0..16 for digits); ranges are checked against
the data when the stage runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from common.config import Strict
from common.errors import UserError
from common.registry import validate_against
from models.manifest import catalog

# Attribution methods, by their canonical (CLI) names.
METHODS = ("gradients", "gradxinput", "smoothgrad", "ig", "gradcam", "occlusion", "lime")
ALIASES = {
    "vanilla": "gradients",
    "saliency": "gradients",
    "vanilla_gradients": "gradients",
    "gradients_inputs": "gradxinput",
    "gradient_x_input": "gradxinput",
    "integrated_gradients": "ig",
    "grad_cam": "gradcam",
    "occlusion_sensitivity": "occlusion",
}
# What the per-epoch TensorBoard callbacks can draw (LIME is too slow per epoch).
CALLBACK_METHODS = ("gradients", "gradxinput", "smoothgrad", "ig", "gradcam", "occlusion")
ATTACKS = ("fgsm", "bim", "pgd", "pgd_l2")


def canonical_method(name: str, allowed: tuple[str, ...] = METHODS) -> str:
    """`integrated_gradients` -> `ig`; unknown names raise ValueError listing the allowed."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in allowed:
        raise ValueError(f"unknown explanation method {name!r}; allowed: {', '.join(allowed)}")
    return key


class IGConfig(Strict):
    steps: int = Field(64, ge=2, description="path points (midpoint rule)")
    baseline: Literal["black", "white", "mid", "mean", "blur", "uniform"] = Field(
        "black", description="black = low end of the input range; mean = the image's mean"
    )


class SmoothGradConfig(Strict):
    samples: int = Field(25, ge=1)
    noise: float = Field(0.15, gt=0, le=1, description="noise std as a fraction of the range")


class OcclusionConfig(Strict):
    patch: int = Field(4, ge=1, description="square patch side, in model-input pixels")
    stride: int | None = Field(None, ge=1, description="default: patch // 2")
    fill: Literal["mean", "low", "mid"] = "mean"


class LimeConfig(Strict):
    num_samples: int = Field(1000, ge=10)
    segmentation: Literal["quickshift", "slic", "felzenszwalb"] = "slic"
    segmentation_params: dict[str, Any] = Field(
        default_factory=dict, description="passed to skimage's segmentation function"
    )
    num_features: int = Field(5, ge=1, description="top superpixels / features reported")
    hide_color: float | None = Field(None, description="fill of hidden superpixels; None = mean")
    stability_seeds: int = Field(3, ge=1, description="seeds for the top-feature stability")
    batch_size: int = Field(200, ge=1)


class QualityConfig(Strict):
    num_images: int = Field(32, ge=1, description="test images the checks use")
    completeness: bool = True
    sanity: bool = True
    deletion: bool = True
    pointing: bool | None = Field(None, description="None: when the data has object masks")
    steps: int = Field(16, ge=2, description="points of the deletion/insertion curves")


class ExplainConfig(Strict):
    """The `explain:` stage: attributions, figure, LIME stability, quality checks."""

    methods: list[str] = Field(default_factory=lambda: ["gradients", "ig", "gradcam", "lime"])
    num_images: int = Field(6, ge=1, description="images in the figure grid")
    split: Literal["train", "val", "test"] = "test"
    target: Literal["predicted", "label"] = "predicted"
    layer: str | None = Field(None, description="Grad-CAM layer; default from the registry")
    ig: IGConfig = IGConfig()
    smoothgrad: SmoothGradConfig = SmoothGradConfig()
    occlusion: OcclusionConfig = OcclusionConfig()
    lime: LimeConfig = LimeConfig()
    quality: QualityConfig | None = QualityConfig()
    callbacks: list[str] = Field(
        default_factory=list,
        description="methods drawn into TensorBoard after every epoch (tf-explain callbacks)",
    )
    callback_images: int = Field(4, ge=1)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, names: list[str]) -> list[str]:
        if not names:
            raise ValueError(f"give at least one method; allowed: {', '.join(METHODS)}")
        return list(dict.fromkeys(canonical_method(n) for n in names))

    @field_validator("callbacks")
    @classmethod
    def _known_callbacks(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(canonical_method(n, CALLBACK_METHODS) for n in names))


class PatchConfig(Strict):
    """An adversarial patch (Brown et al. 2017) optimized over training images."""

    size: float = Field(0.3, gt=0, lt=1, description="patch side as a fraction of the image")
    target: int = Field(0, ge=0, description="class the patch pushes towards")
    epochs: int = Field(5, ge=1)
    learning_rate: float = Field(0.05, gt=0, description="Adam step, as a fraction of the range")
    train_examples: int = Field(1000, ge=1)
    test_examples: int = Field(300, ge=1)
    batch_size: int = Field(64, ge=1)


class TransferModelConfig(Strict):
    """A second architecture from the catalog, trained with the run's data and train
    settings (a nested run), that the universal perturbation is transferred to."""

    name: str = Field(description="registered model; `dlzoo models` lists them")
    params: dict[str, Any] = Field(default_factory=dict, description="builder options")

    @model_validator(mode="after")
    def _known_model(self) -> TransferModelConfig:
        models = catalog()
        if self.name not in models:
            raise ValueError(f"unknown model {self.name!r}; known: {', '.join(models)}")
        try:
            validate_against(
                models[self.name].param_hints(), self.params, where="params", name=self.name
            )
        except UserError as err:  # pydantic collects it with the recipe's other problems
            raise ValueError(str(err)) from None
        return self


class UniversalConfig(Strict):
    """A universal adversarial perturbation (Moosavi-Dezfooli et al. 2017), computed on
    training images and scored on the attacked test inputs (explain/universal.py)."""

    epsilon: float = Field(gt=0, description="budget, raw input units (L-inf or L2)")
    norm: Literal["inf", "2"] = "inf"
    attacker: Literal["sgd", "fgsm", "pgd"] = Field(
        "sgd", description="sgd: batched ascent; fgsm/pgd: the paper's per-image loop (ART's)"
    )
    max_iter: int = Field(10, ge=1, description="passes over the training images")
    fooling_target: float = Field(
        0.8, gt=0, le=1, description="stop once this fraction of the training images is fooled"
    )
    step_size: float | None = Field(None, gt=0, description="sgd step; default epsilon / 4")
    attacker_eps: float | None = Field(
        None, gt=0, description="fgsm/pgd per-image step; default epsilon"
    )
    train_examples: int = Field(1000, ge=1)
    transfer_to: TransferModelConfig | None = Field(
        None, description="a second architecture to transfer the perturbation to"
    )

    @field_validator("norm", mode="before")
    @classmethod
    def _norm_name(cls, value: Any) -> str:
        key = str(value).lower().removeprefix("l")
        return "inf" if key in ("inf", "infinity", "np.inf") else key


class AttackConfig(Strict):
    """The `attack:` stage: accuracy-vs-epsilon curves, the lecture's figure, a patch."""

    attacks: list[Literal["fgsm", "bim", "pgd", "pgd_l2"]] = Field(
        default_factory=lambda: ["fgsm", "pgd"]
    )
    epsilons: list[float] | None = Field(
        None, description="raw input units; default 0, 1, 2, 5, 10, 20, 30% of the range"
    )
    l2_scale: float = Field(
        4.0, gt=0, description="pgd_l2 uses epsilon * l2_scale (an L2 ball needs a larger radius)"
    )
    steps: int = Field(10, ge=1, description="BIM/PGD iterations")
    step_size: float | None = Field(None, gt=0, description="default 2.5 * epsilon / steps")
    restarts: int = Field(1, ge=1)
    random_start: bool = True
    targeted: bool = Field(False, description="push each image towards (label + 1) mod classes")
    num_examples: int = Field(500, ge=1, description="test examples attacked")
    figure_examples: int = Field(4, ge=1)
    figure_epsilon: float | None = Field(None, ge=0, description="default: the middle epsilon")
    batch_size: int = Field(256, ge=1)
    patch: PatchConfig | None = None
    universal: UniversalConfig | None = None
    compare_undefended: bool = Field(
        False,
        description="with train.adversarial: also train the same recipe without it and "
        "compare both models on clean and attacked test data",
    )

    @field_validator("epsilons")
    @classmethod
    def _non_negative(cls, values: list[float] | None) -> list[float] | None:
        if values is not None and (not values or min(values) < 0):
            raise ValueError("epsilons must be a non-empty list of values >= 0 (raw units)")
        return sorted(set(values)) if values is not None else None


class AdversarialTrainingConfig(Strict):
    """`train.adversarial`: adversarial examples made in each `train_step` and mixed in."""

    attack: Literal["fgsm", "pgd"] = "fgsm"
    epsilon: float = Field(gt=0, description="raw input units (digits 0..16, pixels 0..255)")
    ratio: float = Field(
        0.5, gt=0, le=1, description="weight of the adversarial half of the loss (Goodfellow: 0.5)"
    )
    steps: int = Field(7, ge=1, description="PGD iterations")
    step_size: float | None = Field(None, gt=0, description="default 2.5 * epsilon / steps")
    random_start: bool = True
