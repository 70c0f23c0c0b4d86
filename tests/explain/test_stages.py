"""The explain and attack stages, adversarial training and explanation callbacks inside
`dlzoo run` (the real pipeline: registry model, nested classifier, standard export)."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from tests.conftest import learned


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from pipelines.config.experiment import validate_config
    from pipelines.run import run_all

    from ..conftest import small_recipe

    tmp = tmp_path_factory.mktemp("stages")
    raw = small_recipe(
        tmp,
        model={"name": "cnn", "params": {"blocks": 1, "filters": 16, "head": "flatten"}},
        train={
            "epochs": 4,
            "optimizer": {"name": "adam", "learning_rate": 0.003},
            "tensorboard": False,
            "verbose": 0,
            "adversarial": {"attack": "fgsm", "epsilon": 2.0, "ratio": 0.5},
        },
        explain={
            "methods": ["gradients", "ig", "gradcam", "lime"],
            "num_images": 3,
            "lime": {"num_samples": 60, "stability_seeds": 2},
            "quality": {"num_images": 8, "steps": 4},
            "callbacks": ["gradients", "gradcam"],
            "callback_images": 2,
        },
        attack={"epsilons": [0, 2, 6], "num_examples": 80, "steps": 3, "figure_examples": 2},
        export={"enabled": True},
    )
    # The exporter's fresh-process reload check is the spine's to test (and costs a
    # TensorFlow start-up); here what matters is which model gets exported.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipelines.export.saved_model.check_in_fresh_process", lambda *args: None)
        return run_all(validate_config(raw, source="test"))


def test_run_writes_explanations_quality_and_robustness(finished):
    m = finished.metrics
    assert m["explain_methods"] == "gradients,ig,gradcam,lime"
    assert m["explain_ig_completeness_error_max"] <= 0.01
    assert m["explain_lime_same_seed_identical"] is True
    assert "explain_deletion_auc_random" in m and "explain_sanity_rho_gradcam" in m
    assert m["attack_within_epsilon"] is True
    learned("fgsm acc@0 - acc@2", m["attack_fgsm_acc@0"] - m["attack_fgsm_acc@2"], at_least=0.0)
    report = (finished.run_dir / "report.md").read_text()
    assert "## Explanations" in report and "## Adversarial robustness" in report
    for png in ("explanations", "deletion_insertion", "robustness", "adversarial_examples"):
        assert (finished.run_dir / "plots" / f"{png}.png").stat().st_size > 1000


def test_adversarial_run_exports_its_classifier_and_reloads(finished):
    from explain.adapter import as_scorer
    from models.adversarial_training import AdversarialTrainer
    from pipelines.run import load_run

    assert isinstance(finished.model, AdversarialTrainer)
    assert "val_adv_accuracy" in finished.history
    x = next(iter(finished.bundle.test))[0].numpy()[:16]
    exported = as_scorer(finished.metrics["export_path"])
    np.testing.assert_allclose(
        exported.predict(x), finished.model.classifier.predict(x, verbose=0), atol=1e-4
    )
    again = load_run(finished.run_dir)
    np.testing.assert_allclose(
        again.model.predict(x, verbose=0), finished.model.predict(x, verbose=0), atol=1e-5
    )


def test_explanation_callbacks_logged_every_epoch(finished):
    root = finished.run_dir / "tensorboard" / "explain"
    for method in ("gradients", "gradcam"):
        assert list((root / method).rglob("events.out.tfevents.*")), method


def test_gradcam_named_for_an_mlp_fails_with_a_clear_error():
    import keras

    from explain.adapter import as_scorer
    from explain.config import ExplainConfig
    from explain.explain_report import chosen_methods

    inputs = keras.Input((8, 8, 1))
    mlp = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)), name="mlp")
    scorer = as_scorer(mlp, input_range=(0, 16))
    with pytest.raises(UserError, match="Grad-CAM does not apply"):
        chosen_methods(scorer, ExplainConfig(methods=["ig", "gradcam"]))
    assert chosen_methods(scorer, ExplainConfig()) == (["gradients", "ig", "lime"], ["gradcam"])


def test_recipe_sections_are_validated(make_config):
    with pytest.raises(UserError, match="unknown explanation method 'nope'"):
        make_config(explain={"methods": ["ig", "nope"]})
    with pytest.raises(UserError, match="epsilons"):
        make_config(attack={"epsilons": [-1]})
    with pytest.raises(UserError, match="train.adversarial.epsilon"):
        make_config(train={"adversarial": {"attack": "fgsm"}})
    cfg = make_config(explain={"methods": ["integrated_gradients", "grad_cam"]})
    assert cfg.explain.methods == ["ig", "gradcam"]


def test_adversarial_epsilon_outside_the_data_range_fails_before_training(make_config):
    from pipelines.run import prepare

    cfg = make_config(train={"adversarial": {"epsilon": 40.0}})
    with pytest.raises(UserError, match="outside the input range"):
        prepare(cfg, None)
