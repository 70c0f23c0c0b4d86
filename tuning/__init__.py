"""Hyperparameter and architecture search with KerasTuner, driven by recipes.

The `tune:` section's shape is `pipelines.config.tune`; `tuning.config.check_search`
checks it against the search spaces and the recipe. The search itself lives in
`tuning.jobs`.
"""
