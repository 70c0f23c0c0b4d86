"""Every search space builds through the model registry, with its defaults and with
random samples drawn by a KerasTuner oracle (conditional hyperparameters included)."""

from __future__ import annotations

import keras_tuner
import numpy as np
import pytest

from tuning.spaces import SPACES, family_names, space_models


def _check(model, bundle):
    x, _ = next(iter(bundle.val))
    logits = np.asarray(model(x[:4], training=False))
    assert logits.shape == (4, bundle.spec.num_classes)
    assert np.isfinite(logits).all()
    assert model.optimizer is not None  # built and compiled by the pipeline's build_model



def _sequences(tmp_path) -> dict:
    """A small sequence set (300 x 12 steps x 2 features, 3 classes) for the
    recurrent space, which needs (time, features) inputs, not the digits images."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, 12, 2)).astype(np.float32) + y[:, None, None]
    np.savez(tmp_path / "seq.npz", x=x, y=y)
    return {"source": "arrays", "params": {"path": str(tmp_path / "seq.npz")}, "batch_size": 32}


@pytest.mark.parametrize("name", SPACES.names())
def test_space_builds_with_defaults_and_random_samples(tune_recipe, tmp_path, name):
    from tuning.tuners import make_tuner

    data = {"data": _sequences(tmp_path)} if name == "recurrent" else {}
    cfg, _ = tune_recipe({"space": name, "max_trials": 2}, **data)
    tuner = make_tuner(cfg, tmp_path / "search")  # declares every conditional branch
    hypermodel = tuner.hypermodel
    default = keras_tuner.HyperParameters()
    _check(hypermodel.build(default), hypermodel.data(hypermodel.trial_config(default)))
    sample = default
    for i in range(3):  # a random sample other than the defaults (built above)
        sample = tuner.oracle.create_trial(f"t{i}").hyperparameters
        tuner.oracle.ongoing_trials.clear()
        if sample.values != default.values:
            break
    assert sample.values != default.values
    trial_cfg = hypermodel.trial_config(sample)
    assert trial_cfg.tune is None
    assert trial_cfg.model.name in (space_models(name) or [cfg.model.name])
    _check(hypermodel.build(sample), hypermodel.data(trial_cfg))


def test_family_space_activates_each_family(tune_recipe, tmp_path):
    from tuning.tuners import make_tuner

    cfg, _ = tune_recipe({"space": "family"})
    tuner = make_tuner(cfg, tmp_path / "search")
    names = {hp.name for hp in tuner.oracle.get_space().space}
    assert "family" in names
    for family in family_names():  # each family's arguments are declared, conditionally
        assert any(n.startswith(f"{family}/") for n in names), (family, names)


def test_model_name_choice_uses_each_family_space(tune_recipe, tmp_path):
    from tuning.hypermodel import RecipeHyperModel

    cfg, _ = tune_recipe({"params": {"model.name": ["mlp", "cnn"]}})
    hypermodel = RecipeHyperModel(cfg)
    hp = keras_tuner.HyperParameters()
    hp.values["model.name"] = "cnn"
    trial_cfg = hypermodel.trial_config(hp)
    assert trial_cfg.model.name == "cnn"
    assert trial_cfg.model.params["blocks"] == hp.values["cnn/blocks"]
    assert "width" not in trial_cfg.model.params  # the recipe's mlp params were dropped


def test_trial_zero_of_the_family_and_augmentation_spaces_is_the_main_job(tune_recipe):
    """Every hyperparameter's default is the recipe's value: on the main job's LeNet-5
    recipe, the defaults (what trial 0 runs) rebuild that recipe, resize included."""
    from tuning.hypermodel import RecipeHyperModel

    cfg, _ = tune_recipe(
        {"space": ["family", "augmentation", "training"], "max_trials": 1},
        model={"name": "lenet5", "params": {"activation": "relu", "pooling": "max",
                                            "dropout": 0.3}},
        data={"source": "digits", "batch_size": 32,
              "augment": {"rotation": {"factor": 0.06}, "translation": {}}},
        train={"epochs": 2, "optimizer": {"name": "adam", "learning_rate": 0.002}})
    hypermodel = RecipeHyperModel(cfg)
    trial0 = hypermodel.trial_config(keras_tuner.HyperParameters())  # every default
    assert trial0.model == cfg.model and trial0.data.image_size == (32, 32)
    assert trial0.data.augment == {"rotation": {"factor": 0.06}, "translation": {"factor": 0.1}}
    assert trial0.train.optimizer == cfg.train.optimizer and trial0.data.batch_size == 32
    assert not hypermodel.start.missed
