"""Hyperparameter and architecture search with KerasTuner, driven by recipes.

`tuning.config` (the `tune:` section) must stay import-light: `pipelines.config.experiment`
imports it. The search itself lives in `tuning.jobs`.
"""
